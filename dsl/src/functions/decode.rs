//! `base64_decode` and `hex_decode`. DataFusion's `decode` fails the whole query on one malformed
//! value; attacker-controlled command lines are full of those, so these give null instead.

use std::sync::{Arc, OnceLock};

use arrow::array::BinaryArray;
use arrow::datatypes::DataType;
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use datafusion::logical_expr::Expr;

use super::{Accepts::*, Example, Function, Returns, Udf, Variadic, arg, strings, udf};

pub static BASE64_DECODE: Function = Function {
    name: "base64_decode",
    args: &[arg("text", Text)],
    variadic: Variadic::No,
    returns: Returns::Bytes,
    doc: "The bytes a base64 text encodes (standard or URL-safe alphabet, padding optional, whitespace ignored); null when it is not base64. Bytes read as text wherever text is expected.",
    examples: &[
        Example { call: r#"base64_decode("bm9kZSBzZXR1cC5qcw==")"#, result: "node setup.js" },
        Example { call: r#"base64_decode("bm9kZSBzZXR1cC5qcw")"#, result: "node setup.js" },
        Example { call: r#"base64_decode("not base64!")"#, result: "NULL" },
    ],
    literal_args: &[],
    lower: |mut a| call(&BASE64, "spoor_base64_decode", base64, a.remove(0)),
};

pub static HEX_DECODE: Function = Function {
    name: "hex_decode",
    args: &[arg("text", Text)],
    variadic: Variadic::No,
    returns: Returns::Bytes,
    doc: "The bytes a hexadecimal text encodes (`0x` prefix allowed); null when it is not hex.",
    examples: &[
        Example { call: r#"hex_decode("6375726c")"#, result: "curl" },
        Example { call: r#"hex_decode("0x6375726C")"#, result: "curl" },
        Example { call: r#"hex_decode("xyz")"#, result: "NULL" },
    ],
    literal_args: &[],
    lower: |mut a| call(&HEX, "spoor_hex_decode", hex, a.remove(0)),
};

static BASE64: OnceLock<Udf> = OnceLock::new();
static HEX: OnceLock<Udf> = OnceLock::new();

/// The decoding UDF `name`, made once in `cell`: text in, `decode`'s bytes (or null) out.
fn call(cell: &'static OnceLock<Udf>, name: &'static str, decode: fn(&str) -> Option<Vec<u8>>, e: Expr) -> Expr {
    let udf = cell.get_or_init(|| {
        udf(name, vec![DataType::Utf8], DataType::Binary, move |args| {
            let text = strings(&args[0])?;
            let out: BinaryArray = text.iter().map(|t| t.and_then(decode)).collect();
            Ok(Arc::new(out))
        })
    });
    udf.call(vec![e])
}

fn base64(text: &str) -> Option<Vec<u8>> {
    const CONFIG: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CONFIG);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CONFIG);
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(&compact).or_else(|_| URL_SAFE.decode(&compact)).ok()
}

fn hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
    ::hex::decode(digits).ok()
}
