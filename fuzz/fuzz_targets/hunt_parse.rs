//! The language's parser, with error recovery, on any text: diagnostics, never a panic, and every
//! span inside the source.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let (_, diagnostics) = spoor_dsl::parser::parse_recovering(source);
    for diagnostic in diagnostics.iter() {
        let span = diagnostic.span;
        assert!(span.start <= span.end && span.end <= source.len(), "span {span:?} outside the source");
    }
    let _ = spoor_dsl::render::pretty(&diagnostics, source, "fuzz.hunt", false);
});
