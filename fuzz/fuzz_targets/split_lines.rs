//! The bounded line splitter: every byte of input is accounted for in exactly one line (text,
//! too long, or not UTF-8), and no line lent out is longer than the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spoor_core::input::{Line, Lines};

fuzz_target!(|data: &[u8]| {
    let Some((&limit, rest)) = data.split_first() else { return };
    let max_len = 1 + limit as usize % 64;
    // A small buffer so lines cross buffer boundaries, as they do in big files.
    let reader = std::io::BufReader::with_capacity(16, rest);
    let mut lines = Lines::new(reader, max_len);
    let mut count = 0u64;
    while let Some(item) = lines.next_line() {
        let (number, line) = item.expect("reading from memory cannot fail");
        count += 1;
        assert_eq!(number, count);
        match line {
            Line::Text(t) => assert!(t.len() <= max_len),
            Line::TooLong { len, head } => assert!(len > max_len && head.len() <= max_len),
            Line::NotUtf8 { raw, .. } => assert!(raw.len() <= max_len),
        }
    }
    let newlines = rest.iter().filter(|&&b| b == b'\n').count() as u64;
    let unterminated = u64::from(!rest.is_empty() && !rest.ends_with(b"\n"));
    assert_eq!(count, newlines + unterminated);
});
