//! Functions that DataFusion already implements: declared here for the checker and the
//! reference, lowered to DataFusion's own.

use datafusion::functions::core::expr_fn as core;
use datafusion::functions::datetime::expr_fn as datetime;
use datafusion::functions::string::expr_fn as string;
use datafusion::functions::unicode::expr_fn as unicode;
use datafusion::functions_nested::expr_fn as nested;
use datafusion::logical_expr::{Expr, lit};
use datafusion::scalar::ScalarValue;

use super::{Accepts::*, Example, Function, Returns, Variadic, arg, optional};

fn first(mut args: Vec<Expr>) -> Expr {
    args.swap_remove(0)
}

/// `condition, value, ..., [else]` as one CASE.
fn case_when(args: Vec<Expr>) -> Expr {
    let mut args = args.into_iter();
    let mut branches = Vec::new();
    let mut otherwise = None;
    while let Some(first) = args.next() {
        match args.next() {
            Some(value) => branches.push((Box::new(first), Box::new(value))),
            None => otherwise = Some(Box::new(first)),
        }
    }
    Expr::Case(datafusion::logical_expr::Case::new(None, branches, otherwise))
}

pub static FUNCTIONS: &[Function] = &[
    Function {
        name: "lower",
        args: &[arg("text", Text)],
        variadic: Variadic::No,
        returns: Returns::Text,
        doc: "The text in lower case.",
        examples: &[Example { call: r#"lower("PowerShell.EXE")"#, result: "powershell.exe" }],
        literal_args: &[],
        lower: |a| string::lower(first(a)),
    },
    Function {
        name: "upper",
        args: &[arg("text", Text)],
        variadic: Variadic::No,
        returns: Returns::Text,
        doc: "The text in upper case.",
        examples: &[Example { call: r#"upper("cmd.exe")"#, result: "CMD.EXE" }],
        literal_args: &[],
        lower: |a| string::upper(first(a)),
    },
    Function {
        name: "length",
        args: &[arg("text", Text)],
        variadic: Variadic::No,
        returns: Returns::Int,
        doc: "The number of characters.",
        examples: &[Example { call: r#"length("sfrclak.com")"#, result: "11" }],
        literal_args: &[],
        lower: |a| unicode::character_length(first(a)),
    },
    Function {
        name: "substring",
        args: &[arg("text", Text), arg("start", Int), optional("length", Int)],
        variadic: Variadic::No,
        returns: Returns::Text,
        doc: "Part of the text from the 1-based `start`, of `length` characters (default: to the end).",
        examples: &[
            Example { call: r#"substring("plain-crypto-js", 7, 6)"#, result: "crypto" },
            Example { call: r#"substring("plain-crypto-js", 14)"#, result: "js" },
        ],
        literal_args: &[],
        lower: |mut a| {
            if a.len() == 3 {
                let len = a.pop().unwrap_or(lit(0));
                let start = a.pop().unwrap_or(lit(1));
                unicode::substring(first(a), start, len)
            } else {
                let start = a.pop().unwrap_or(lit(1));
                unicode::substr(first(a), start)
            }
        },
    },
    Function {
        name: "split",
        args: &[arg("text", Text), arg("separator", Text)],
        variadic: Variadic::No,
        returns: Returns::TextList,
        doc: "The pieces of the text between separators, as a list.",
        examples: &[Example { call: r#"split("a/b/c", "/")"#, result: "[a, b, c]" }],
        literal_args: &[],
        lower: |mut a| {
            let sep = a.pop().unwrap_or(lit(","));
            nested::string_to_array(first(a), sep, lit(ScalarValue::Utf8(None)))
        },
    },
    Function {
        name: "split_part",
        args: &[arg("text", Text), arg("separator", Text), arg("index", Int)],
        variadic: Variadic::No,
        returns: Returns::Text,
        doc: "The `index`-th piece (1-based; negative counts from the end) of the text split at the separator; \
              null when there is no such piece, as when the separator does not occur and `index` is not 1 \
              or -1, so `coalesce` can follow it. `coalesce(split_part(...), \"\")` gives an empty text instead.",
        examples: &[
            Example {
                call: r#"split_part("node_modules/plain-crypto-js/setup.js", "/", 2)"#,
                result: "plain-crypto-js",
            },
            Example { call: r#"split_part("a.b.c", ".", -1)"#, result: "c" },
            Example { call: r#"split_part("a..c", ".", 2)"#, result: "" },
            Example { call: r#"split_part("powershell -nop", "$ser=", 2)"#, result: "NULL" },
            Example { call: r#"coalesce(split_part("powershell -nop", "$ser=", 2), "none")"#, result: "none" },
        ],
        literal_args: &[],
        lower: |mut a| {
            // DataFusion's own split_part gives "" for a missing piece; a list's element is null.
            let index = a.pop().unwrap_or(lit(1));
            let sep = a.pop().unwrap_or(lit(","));
            let pieces = nested::string_to_array(first(a), sep, lit(ScalarValue::Utf8(None)));
            nested::array_element(pieces, index)
        },
    },
    Function {
        name: "list_contains",
        args: &[arg("list", List), arg("value", Any)],
        variadic: Variadic::No,
        returns: Returns::Bool,
        doc: "Whether the list holds the value.",
        examples: &[
            Example { call: r#"list_contains(split("a,b", ","), "b")"#, result: "true" },
            Example { call: r#"list_contains(split("a,b", ","), "c")"#, result: "false" },
        ],
        literal_args: &[],
        lower: |mut a| {
            let value = a.pop().unwrap_or(lit(ScalarValue::Null));
            nested::array_has(first(a), value)
        },
    },
    Function {
        name: "list_except",
        args: &[arg("list", List), arg("other", List)],
        variadic: Variadic::No,
        returns: Returns::FirstArgument,
        doc: "The distinct elements of the first list that the second does not hold: what a new version added.",
        examples: &[Example {
            call: r#"list_except(split("axios,plain-crypto-js", ","), split("axios", ","))"#,
            result: "[plain-crypto-js]",
        }],
        literal_args: &[],
        lower: |mut a| {
            let other = a.pop().unwrap_or(lit(ScalarValue::Null));
            nested::array_except(first(a), other)
        },
    },
    Function {
        name: "list_length",
        args: &[arg("list", List)],
        variadic: Variadic::No,
        returns: Returns::Int,
        doc: "The number of elements (0 for an empty list, null for null).",
        examples: &[Example { call: r#"list_length(split("a,b,c", ","))"#, result: "3" }],
        literal_args: &[],
        lower: |a| datafusion::logical_expr::cast(nested::cardinality(first(a)), arrow::datatypes::DataType::Int64),
    },
    Function {
        name: "join",
        args: &[arg("list", TextList), arg("separator", Text)],
        variadic: Variadic::No,
        returns: Returns::Text,
        doc: "The list's elements as one text, with the separator between them; null elements are left out.",
        examples: &[
            Example { call: r#"join(split("a,b,c", ","), " ")"#, result: "a b c" },
            Example { call: r#"join(split("a", ","), "-")"#, result: "a" },
        ],
        literal_args: &[],
        lower: |mut a| {
            let separator = a.pop().unwrap_or(lit(","));
            nested::array_to_string(first(a), separator)
        },
    },
    Function {
        name: "map_values",
        args: &[arg("map", Map)],
        variadic: Variadic::No,
        returns: Returns::TextList,
        doc: "Every value a map holds, as a list (in the map's order): `join(map_values(zeek.fields), \"\\n\")` \
              is all the fields no column took, as one text to search.",
        examples: &[Example { call: "list_length(map_values(null))", result: "NULL" }],
        literal_args: &[],
        lower: |a| match first(a) {
            // A bare null has no map type for DataFusion to read values from.
            null @ Expr::Literal(ScalarValue::Null, _) => {
                let item = arrow::datatypes::Field::new_list_field(arrow::datatypes::DataType::Utf8, true);
                datafusion::logical_expr::cast(null, arrow::datatypes::DataType::List(std::sync::Arc::new(item)))
            }
            map => nested::map_values(map),
        },
    },
    Function {
        name: "concat",
        args: &[arg("value", Any)],
        variadic: Variadic::Last,
        returns: Returns::Text,
        doc: "The values as text, joined together; null arguments are skipped.",
        examples: &[
            Example { call: r#"concat("plain-crypto-js", "@", "4.2.1")"#, result: "plain-crypto-js@4.2.1" },
            Example { call: r#"concat("sfrclak.com", ":", 8000)"#, result: "sfrclak.com:8000" },
        ],
        literal_args: &[],
        lower: |a| {
            string::concat(
                a.into_iter().map(|e| datafusion::logical_expr::cast(e, arrow::datatypes::DataType::Utf8)).collect(),
            )
        },
    },
    Function {
        name: "replace",
        args: &[arg("text", Text), arg("from", Text), arg("to", Text)],
        variadic: Variadic::No,
        returns: Returns::Text,
        doc: "The text with every occurrence of `from` replaced by `to`.",
        examples: &[Example {
            call: r#"replace("C:\\ProgramData\\wt.exe", "\\", "/")"#,
            result: "C:/ProgramData/wt.exe",
        }],
        literal_args: &[],
        lower: |mut a| {
            let to = a.pop().unwrap_or(lit(""));
            let from = a.pop().unwrap_or(lit(""));
            string::replace(first(a), from, to)
        },
    },
    Function {
        name: "trim",
        args: &[arg("text", Text)],
        variadic: Variadic::No,
        returns: Returns::Text,
        doc: "The text without leading and trailing whitespace (spaces, tabs, line breaks).",
        examples: &[Example { call: "trim(\"  curl\\n\")", result: "curl" }],
        literal_args: &[],
        lower: |a| string::btrim(vec![first(a), lit(" \t\r\n")]),
    },
    Function {
        name: "get",
        args: &[arg("map", Map), arg("name", Text)],
        variadic: Variadic::No,
        returns: Returns::Text,
        doc: "The value a map holds under `name`, or null. `winlog.event_data.PipeName` is short for \
              `get(winlog.event_data, \"PipeName\")`; the call form reads names that are not identifiers.",
        examples: &[Example { call: r#"get(null, "PipeName")"#, result: "NULL" }],
        literal_args: &[1],
        lower: |a| datafusion::functions::core::get_field().call(a),
    },
    Function {
        name: "if",
        args: &[arg("condition", Bool), arg("then", Any), optional("else", Any)],
        variadic: Variadic::No,
        returns: Returns::Common,
        doc: "`then` where the condition is true, else `else` (null when left out); a null condition counts \
              as false. `then` and `else` must have one type (integers and floats mix, giving a float).",
        examples: &[
            Example { call: r#"if(283 > 100, "bulk", "small")"#, result: "bulk" },
            Example { call: r#"if(null, "yes", "no")"#, result: "no" },
            Example { call: r#"if(1 > 2, "yes")"#, result: "NULL" },
        ],
        literal_args: &[],
        lower: |a| case_when(a),
    },
    Function {
        name: "case",
        args: &[arg("condition", Bool), arg("value", Any), optional("else", Any)],
        variadic: Variadic::Pairs,
        returns: Returns::Common,
        doc: "The value after the first condition that is true, else the last argument if there is an odd \
              number of them, else null. As KQL's and SPL's `case`; spoor has no `case when` syntax so \
              that conditionals read as one kind of call.",
        examples: &[
            Example { call: r#"case(443 == 80, "http", 443 == 443, "https", "other")"#, result: "https" },
            Example { call: r#"case(53 == 80, "http", 53 == 443, "https", "other")"#, result: "other" },
            Example { call: r#"case(53 == 80, "http")"#, result: "NULL" },
        ],
        literal_args: &[],
        lower: |a| case_when(a),
    },
    Function {
        name: "nullif",
        args: &[arg("value", Any), arg("other", Any)],
        variadic: Variadic::No,
        returns: Returns::Common,
        doc: "Null where the two are equal, else the first: turns placeholders such as `-` or `\"\"` into \
              null, so `coalesce` can pass them over.",
        examples: &[
            Example { call: r#"nullif("-", "-")"#, result: "NULL" },
            Example { call: r#"coalesce(nullif("", ""), "unknown")"#, result: "unknown" },
        ],
        literal_args: &[],
        lower: |mut a| {
            let other = a.pop().unwrap_or(lit(ScalarValue::Null));
            core::nullif(first(a), other)
        },
    },
    Function {
        name: "coalesce",
        args: &[arg("value", Any)],
        variadic: Variadic::Last,
        returns: Returns::Common,
        doc: "The first argument that is not null. The arguments must have one type.",
        examples: &[Example { call: r#"coalesce(null, "unknown")"#, result: "unknown" }],
        literal_args: &[],
        lower: core::coalesce,
    },
    Function {
        name: "round",
        args: &[arg("number", Number), optional("digits", Int)],
        variadic: Variadic::No,
        returns: Returns::Float,
        doc: "The number rounded to `digits` decimal places (default 0).",
        examples: &[Example { call: "round(2.80735, 2)", result: "2.81" }],
        literal_args: &[],
        lower: datafusion::functions::math::expr_fn::round,
    },
    Function {
        name: "bin",
        args: &[arg("time", Time), arg("size", Duration)],
        variadic: Variadic::No,
        returns: Returns::Time,
        doc: "The start of the time bucket of the given size (counted from 1970-01-01T00:00:00Z) the time falls in; for `stats ... by bin(@timestamp, 1h)`.",
        examples: &[Example { call: "bin(2026-03-31T00:21:42Z, 1h)", result: "2026-03-31T00:00:00Z" }],
        literal_args: &[1],
        lower: |mut a| {
            // Durations are microseconds in plans; date_bin takes an interval.
            let micros = match a.pop() {
                Some(Expr::Literal(ScalarValue::Int64(Some(us)), _)) => us,
                _ => 3_600_000_000,
            };
            let size = lit(ScalarValue::new_interval_mdn(0, 0, micros.saturating_mul(1000)));
            datetime::date_bin(size, first(a), lit(ScalarValue::TimestampMicrosecond(Some(0), Some("UTC".into()))))
        },
    },
    Function {
        name: "time_part",
        args: &[arg("time", Time), arg("part", Text)],
        variadic: Variadic::No,
        returns: Returns::Int,
        doc: "A part of the time (UTC) as a number: `year`, `month`, `week` (the ISO week), `day` (of the month), `dow` (day of the week, Sunday 0), `hour`, `minute` or `second`.",
        examples: &[
            Example { call: r#"time_part(2026-03-31T00:21:42Z, "minute")"#, result: "21" },
            Example { call: r#"time_part(2026-03-31T00:21:42Z, "week")"#, result: "14" },
        ],
        literal_args: &[1],
        lower: |mut a| {
            let part = a.pop().unwrap_or(lit("hour"));
            datafusion::logical_expr::cast(datetime::date_part(part, first(a)), arrow::datatypes::DataType::Int64)
        },
    },
];

/// The parts `time_part` takes.
pub const TIME_PARTS: &[&str] = &["year", "month", "week", "day", "dow", "hour", "minute", "second"];
