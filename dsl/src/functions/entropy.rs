//! `entropy`: random-looking names (DGA domains, packed payloads) score high.

use std::sync::{Arc, OnceLock};

use arrow::array::Float64Array;
use arrow::datatypes::DataType;

use super::{Accepts::*, Example, Function, Returns, Udf, Variadic, arg, binaries, udf};

pub static ENTROPY: Function = Function {
    name: "entropy",
    args: &[arg("text", Text)],
    variadic: Variadic::No,
    returns: Returns::Float,
    doc: "Shannon entropy in bits per byte (0 for one repeated byte, up to 8). Null for null, 0 for empty text.",
    examples: &[
        Example { call: r#"entropy("aaaa")"#, result: "0.0" },
        Example { call: r#"entropy("abab")"#, result: "1.0" },
        Example { call: r#"round(entropy("sfrclak"), 3)"#, result: "2.807" },
    ],
    literal_args: &[],
    lower: |a| {
        static UDF: OnceLock<Udf> = OnceLock::new();
        UDF.get_or_init(|| {
            udf("spoor_entropy", vec![DataType::Binary], DataType::Float64, |args| {
                let data = binaries(&args[0])?;
                let out: Float64Array = data.iter().map(|d| d.map(shannon)).collect();
                Ok(Arc::new(out))
            })
        })
        .call(a)
    },
};

fn shannon(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0usize; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    let h: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum();
    // One repeated byte sums to -0.0: report it as 0.
    if h > 0.0 { h } else { 0.0 }
}
