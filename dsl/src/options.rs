//! Where and when a hunt runs: the run's `now` and the window of events it reads, and the
//! duration literals (`30m`, `24h`) every front end reads `--since` and `--timeout` with.

use chrono::{DateTime, Utc};

/// Where and when a hunt runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// What `now()` means (fixed for the whole run, so every stage agrees).
    pub now: DateTime<Utc>,
    /// Only events in `[start, end)` are read from spoor's tables (`--since`, a job's window).
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// A positive duration written as in the language (`30m`, `24h`, `7d`, `1h30m`), in
/// microseconds; the error says what is wrong with the text.
pub fn parse_duration(text: &str) -> std::result::Result<i64, String> {
    let micros = crate::parser::parse_expression(text.trim()).ok().and_then(|e| match e.kind {
        crate::ast::ExprKind::Literal(crate::ast::Literal::Duration(d)) if d > 0 => Some(d),
        _ => None,
    });
    micros.ok_or_else(|| format!("`{text}`: expected a duration such as 30m, 24h or 7d"))
}

impl RunOptions {
    pub fn now() -> RunOptions {
        RunOptions { now: Utc::now(), window: None }
    }

    /// Now, reading only the last `since` (a duration such as `30m`, `24h`, `7d`) when given;
    /// the error says what is wrong with the text.
    pub fn since(since: Option<&str>) -> std::result::Result<RunOptions, String> {
        let now = Utc::now();
        let Some(text) = since else { return Ok(RunOptions { now, window: None }) };
        let micros = parse_duration(text)?;
        Ok(RunOptions { now, window: Some((now - chrono::Duration::microseconds(micros), now)) })
    }

    pub fn now_micros(&self) -> i64 {
        self.now.timestamp_micros()
    }

    /// Without a window, `window_start()` is the epoch and `window_end()` is now.
    pub fn window_start_micros(&self) -> i64 {
        self.window.map_or(0, |(s, _)| s.timestamp_micros())
    }

    pub fn window_end_micros(&self) -> i64 {
        self.window.map_or(self.now_micros(), |(_, e)| e.timestamp_micros())
    }
}
