//! Linux syslog, as lines or as Azure Sentinel's `Syslog` table rows (the message in
//! `SyslogMessage`): what security tools write there.
//! - Sysmon for Linux's XML `<Event>`: read as Windows Sysmon events are ([`super::windows`]).
//! - Audit records: auoms's (Microsoft's audit agent) `type=AUOMS_EXECVE audit(...)`, one whole
//!   event in one record, and records audisp's syslog plugin forwards, read by
//!   [`super::auditd::syslog_record`]: each a row of `auditd`, a successful exec a process start.
//!
//! Any other message is skipped with its reason: syslog carries everything, and most of it is
//! no security event spoor has a table for.

use serde_json::Value as Json;

use super::windows::{record, tables};
use super::{LineParser, Verdict, auditd, util};
use crate::event::Event;

/// Syslog lines, or Sentinel `Syslog` JSON rows.
#[derive(Default, Clone)]
pub struct LinuxSyslog;

impl LineParser for LinuxSyslog {
    fn fork(&self) -> Option<Box<dyn LineParser>> {
        Some(Box::new(self.clone()))
    }

    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
        let (message, host, time) = if line.trim_start().starts_with('{') {
            let v: Json = serde_json::from_str(line).map_err(|e| util::json_error(&e))?;
            let Some(message) = util::text(&v, "SyslogMessage") else {
                return Err("no SyslogMessage".into());
            };
            let host = util::text_any(&v, &["HostName", "Computer"]).map(|h| h.into_owned());
            let time = util::time(&v, "EventTime").or_else(|| util::time(&v, "TimeGenerated"));
            (message.into_owned(), host, time)
        } else {
            (line.to_string(), None, None)
        };
        if let Some(start) = message.find("<Event>").or_else(|| message.find("<Event ")) {
            let mut record = record::from_xml(&message[start..], false)?;
            record.computer = record.computer.or(host);
            record.time = record.time.or(time);
            out.push(tables::to_event(record)?);
            return Ok(Verdict::Stored);
        }
        match auditd::syslog_record(&message, host.as_deref(), time) {
            Some(events) => {
                out.extend(events?);
                Ok(Verdict::Stored)
            }
            None => Ok(Verdict::Skipped("syslog message that is neither a Sysmon <Event> nor an audit record")),
        }
    }
}
