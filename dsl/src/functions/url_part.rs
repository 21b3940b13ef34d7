//! `url_part`: pieces of a URL, parsed by the WHATWG rules (the `url` crate), as browsers,
//! curl and node do.

use std::sync::{Arc, OnceLock};

use arrow::array::StringArray;
use arrow::datatypes::DataType;

use super::{Accepts::*, Example, Function, Returns, Udf, Variadic, arg, strings, udf};

/// The parts `url_part` knows, checked when the hunt is resolved.
pub const PARTS: &[&str] = &["scheme", "host", "port", "path", "query", "fragment", "user"];

pub static URL_PART: Function = Function {
    name: "url_part",
    args: &[arg("url", Text), arg("part", Text)],
    variadic: Variadic::No,
    returns: Returns::Text,
    doc: "A part of a URL: `scheme`, `host`, `port` (explicit or the scheme's default), `path`, `query`, `fragment` or `user`. Null when the text is not a URL or has no such part.",
    examples: &[
        Example { call: r#"url_part("http://sfrclak.com:8000/6202033?x=1", "host")"#, result: "sfrclak.com" },
        Example { call: r#"url_part("http://sfrclak.com:8000/6202033?x=1", "port")"#, result: "8000" },
        Example { call: r#"url_part("http://sfrclak.com:8000/6202033?x=1", "path")"#, result: "/6202033" },
        Example { call: r#"url_part("https://registry.example.invalid/axios", "port")"#, result: "443" },
        Example { call: r#"url_part("not a url", "host")"#, result: "NULL" },
    ],
    literal_args: &[1],
    lower: |a| {
        static UDF: OnceLock<Udf> = OnceLock::new();
        UDF.get_or_init(|| {
            udf("spoor_url_part", vec![DataType::Utf8, DataType::Utf8], DataType::Utf8, |args| {
                let urls = strings(&args[0])?;
                let parts = strings(&args[1])?;
                let out: StringArray = urls.iter().zip(parts.iter()).map(|(u, p)| part(u?.trim(), p?)).collect();
                Ok(Arc::new(out))
            })
        })
        .call(a)
    },
};

fn part(text: &str, part: &str) -> Option<String> {
    let url = url::Url::parse(text).ok()?;
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    match part {
        "scheme" => Some(url.scheme().to_string()),
        "host" => url.host_str().map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string()),
        "port" => url.port_or_known_default().map(|p| p.to_string()),
        "path" => non_empty(url.path()),
        "query" => url.query().map(str::to_string),
        "fragment" => url.fragment().map(str::to_string),
        "user" => non_empty(url.username()),
        _ => None,
    }
}
