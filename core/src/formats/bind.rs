//! BIND 9 query logs (`category queries`), as named writes them:
//!
//! ```text
//! 31-Mar-2026 00:41:02.950 queries: info: client @0x7f8b4c0a1b20 10.20.0.7#51544 (sfrclak.com): query: sfrclak.com IN A +E(0)K (10.0.0.53)
//! ```
//! with or without the `@0x…` client object (added in 9.11), the category and severity, a view
//! (`view internal: `), and behind a syslog prefix (`Mar 31 00:41:02 ns1 named[812]: client …`).
//! The time is taken as UTC (`print-time` with a local zone cannot be told apart); a syslog
//! prefix has no year, so the year of the file's modification time is used.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Utc};
use regex::Regex;

use super::{LineParser, Verdict};
use crate::event::Event;
use crate::schema::Table;

static QUERY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"client (?:@0x[0-9a-fA-F]+ )?(?P<ip>[0-9A-Fa-f:.]+)#(?P<port>\d+)(?: \([^)]*\))?: (?:view [^:]+: )?query: (?P<name>\S+) (?P<class>[A-Z0-9]+) (?P<type>[A-Z0-9]+) (?P<flags>\S*) ?\((?P<server>[^)]+)\)",
    )
    .expect("the query pattern is valid")
});
static BIND_TIME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{2}-[A-Za-z]{3}-\d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?)").expect("valid"));
static ISO_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)").expect("valid")
});
static SYSLOG_TIME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2})").expect("valid"));

pub fn is_query_line(line: &str) -> bool {
    line.contains(" query: ") && QUERY.is_match(line)
}

#[derive(Clone)]
pub struct QueryLog {
    file_time: Option<DateTime<Utc>>,
}

impl QueryLog {
    pub fn new(file_time: Option<DateTime<Utc>>) -> Self {
        QueryLog { file_time }
    }

    fn time(&self, line: &str) -> Option<DateTime<Utc>> {
        if let Some(c) = BIND_TIME.captures(line) {
            let t = NaiveDateTime::parse_from_str(&c[1], "%d-%b-%Y %H:%M:%S%.f").ok()?;
            return Some(Utc.from_utc_datetime(&t));
        }
        if let Some(c) = ISO_TIME.captures(line) {
            return super::util::parse_time(&c[1]);
        }
        if let Some(c) = SYSLOG_TIME.captures(line) {
            let year = self.file_time.map(|t| t.year())?;
            let t = NaiveDateTime::parse_from_str(&format!("{year} {}", &c[1]), "%Y %b %e %H:%M:%S").ok()?;
            return Some(Utc.from_utc_datetime(&t));
        }
        None
    }
}

impl LineParser for QueryLog {
    fn fork(&self) -> Option<Box<dyn LineParser>> {
        Some(Box::new(self.clone()))
    }

    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
        let Some(c) = QUERY.captures(line) else {
            return Ok(Verdict::Skipped("BIND log line that is not a query"));
        };
        let time = self.time(line).ok_or("no timestamp at the start of the line")?;
        let mut e = Event::new(Table::Dns).at(Some(time));
        let flags = &c["flags"];
        e.text("event.action", Some("query"))
            .text("event.code", Some("query"))
            .ip("source.ip", c.name("ip").map(|m| m.as_str()))
            .int("source.port", c["port"].parse().ok())
            .ip("destination.ip", c.name("server").map(|m| m.as_str()))
            .int("destination.port", Some(53))
            .lower("dns.question.name", c.name("name").map(|m| m.as_str().trim_end_matches('.')))
            .text("dns.question.type", Some(c["type"].to_string()))
            .text("network.transport", Some(if flags.contains('T') { "tcp" } else { "udp" }));
        out.push(e);
        Ok(Verdict::Stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Event<'_> {
        let mut out = Vec::new();
        let year_2026 = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).single();
        assert_eq!(QueryLog::new(year_2026).parse(line, &mut out), Ok(Verdict::Stored), "{line}");
        out.pop().unwrap()
    }

    #[test]
    fn reads_the_shapes_named_writes() {
        let e = parse(
            "31-Mar-2026 00:41:02.950 queries: info: client @0x7f8b4c0a1b20 10.20.0.7#51544 (sfrclak.com): query: sfrclak.com IN A +E(0)K (10.0.0.53)",
        );
        assert_eq!(e.get_text("dns.question.name"), Some("sfrclak.com"));
        assert_eq!(e.get_text("source.ip"), Some("10.20.0.7"));
        assert_eq!(e.get_text("network.transport"), Some("udp"));
        assert_eq!(e.timestamp, Some(1_774_917_662_950_000));

        let e = parse(
            "31-Mar-2026 00:41:03 client 2001:db8::5#40000: view internal: query: WWW.Example.COM IN AAAA +T (2001:db8::53)",
        );
        assert_eq!(e.get_text("dns.question.name"), Some("www.example.com"));
        assert_eq!(e.get_text("dns.question.type"), Some("AAAA"));
        assert_eq!(e.get_text("network.transport"), Some("tcp"));

        let e = parse(
            "Mar 31 00:41:04 ns1 named[812]: client @0x7f00 10.20.0.8#5353 (a.b.sfrclak.com): query: a.b.sfrclak.com IN TXT - (10.0.0.53)",
        );
        assert_eq!(e.get_text("dns.question.name"), Some("a.b.sfrclak.com"));
        assert_eq!(e.timestamp, Some(1_774_917_664_000_000));
    }

    #[test]
    fn other_lines_are_skipped() {
        let mut out = Vec::new();
        let verdict = QueryLog::new(None)
            .parse("31-Mar-2026 00:00:00.000 general: info: zone example.com/IN: loaded serial 7", &mut out);
        assert_eq!(verdict, Ok(Verdict::Skipped("BIND log line that is not a query")));
    }
}
