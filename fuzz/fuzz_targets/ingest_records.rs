//! Every format's record parser, then the table builders: the first byte picks the format, the
//! rest is the file's text. Line formats get it line by line, document formats whole, as ingest
//! does; whatever a parser accepts must also convert into its table's Arrow columns.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spoor_core::event::{Origin, TableBuilder};
use spoor_core::formats::{Format, Parser, ParserOptions, mapping::Mapping};

const MAPPING: &str = r#"
table = "process"
[timestamp]
field = "ts"
format = "auto"
[columns]
"host.name" = "agent.hostname"
"process.pid" = "proc.pid"
"process.command_line" = "proc.cmd"
"#;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let format = Format::ALL[selector as usize % Format::ALL.len()];
    let options = ParserOptions {
        ci_job: Some("fuzz".into()),
        file_time: chrono::DateTime::from_timestamp(1_774_000_000, 0),
        directory: Some("fuzz".into()),
        mapping: Some(Mapping::parse(MAPPING).expect("the fuzz mapping is valid")),
    };
    let now = chrono::Utc::now();
    let origin = Origin { format: format.name(), path: "fuzz", line: 1 };
    let mut builders = std::collections::HashMap::new();
    let mut store = |event: &spoor_core::event::Event| {
        let builder = builders.entry(event.table).or_insert_with(|| TableBuilder::new(event.table, now));
        builder.append(event, event.timestamp.unwrap_or(0), &origin);
    };
    match format.parser(&options).expect("every format has a parser with these options") {
        Parser::Lines(mut parser) => {
            for line in text.lines() {
                let mut events = Vec::new();
                if parser.parse(line, &mut events).is_ok() {
                    events.iter().for_each(&mut store);
                }
            }
        }
        Parser::Document(mut parser) => {
            let mut entries = Vec::new();
            if parser.parse(text, &mut entries).is_ok() {
                entries.iter().filter_map(|e| e.event.as_ref().ok()).for_each(&mut store);
            }
        }
    }
    for (table, builder) in builders.iter_mut() {
        assert_eq!(builder.finish().schema(), table.schema());
    }
});
