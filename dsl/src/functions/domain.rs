//! Domain names, public-suffix aware (the `psl` crate compiles in the Public Suffix List), so
//! `a.b.evil.co.uk` has the registered domain `evil.co.uk`, not `co.uk`.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ListBuilder, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::logical_expr::Expr;

use super::{Accepts::*, Example, Function, Returns, Udf, Variadic, arg, strings, udf};

pub static REGISTERED_DOMAIN: Function = Function {
    name: "registered_domain",
    args: &[arg("name", Text)],
    variadic: Variadic::No,
    returns: Returns::Text,
    doc: "The registered domain of a host name: the public suffix and one label before it. Lowercased, trailing dot removed; null for names without one (bare suffixes, IP addresses).",
    examples: &[
        Example { call: r#"registered_domain("Cdn.SFRCLAK.com.")"#, result: "sfrclak.com" },
        Example { call: r#"registered_domain("a.b.evil.co.uk")"#, result: "evil.co.uk" },
        Example { call: r#"registered_domain("co.uk")"#, result: "NULL" },
        Example { call: r#"registered_domain("192.168.1.4")"#, result: "NULL" },
    ],
    literal_args: &[],
    lower: |a| unary_text("spoor_registered_domain", &REGISTERED, a, psl::domain_str),
};

pub static PUBLIC_SUFFIX: Function = Function {
    name: "public_suffix",
    args: &[arg("name", Text)],
    variadic: Variadic::No,
    returns: Returns::Text,
    doc: "The public suffix (`com`, `co.uk`, `github.io`) of a host name, lowercased.",
    examples: &[
        Example { call: r#"public_suffix("a.b.evil.co.uk")"#, result: "co.uk" },
        Example { call: r#"public_suffix("x.github.io")"#, result: "github.io" },
    ],
    literal_args: &[],
    lower: |a| unary_text("spoor_public_suffix", &SUFFIX, a, psl::suffix_str),
};

pub static DOMAIN_LABELS: Function = Function {
    name: "domain_labels",
    args: &[arg("name", Text)],
    variadic: Variadic::No,
    returns: Returns::TextList,
    doc: "The labels of a host name before its registered domain, left to right (the subdomain parts). Empty for the registered domain itself.",
    examples: &[
        Example { call: r#"domain_labels("x1.cdn.sfrclak.com")"#, result: "[x1, cdn]" },
        Example { call: r#"domain_labels("sfrclak.com")"#, result: "[]" },
    ],
    literal_args: &[],
    lower: |a| {
        list("spoor_domain_labels", &LABELS, a, |n| {
            let registered = psl::domain_str(n)?;
            let prefix = n.strip_suffix(registered)?.trim_end_matches('.');
            Some(if prefix.is_empty() { Vec::new() } else { prefix.split('.').collect() })
        })
    },
};

static REGISTERED: OnceLock<Udf> = OnceLock::new();
static SUFFIX: OnceLock<Udf> = OnceLock::new();
static LABELS: OnceLock<Udf> = OnceLock::new();
static SUFFIXES: OnceLock<Udf> = OnceLock::new();

/// `a.b.c` → [`a.b.c`, `b.c`, `c`], lowercased: a domain lookup joins each of these against the
/// list, which is a hash join however long the list.
pub fn suffixes(e: Expr) -> Expr {
    list("spoor_domain_suffixes", &SUFFIXES, vec![e], |n| {
        let mut out = vec![n];
        let mut rest = n;
        while let Some((_, tail)) = rest.split_once('.') {
            if !tail.is_empty() {
                out.push(tail);
            }
            rest = tail;
        }
        Some(out)
    })
}

/// Trimmed, without its trailing dot, lowercased: a copy only where lowercasing changes it, as
/// these functions run on every DNS question of a hunt.
fn normalize(name: &str) -> Cow<'_, str> {
    let name = name.trim().trim_end_matches('.');
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// An IP address where a host name could be (a lookup of an address, a URL's host): it has no
/// domain, though the Public Suffix List's default rule would make `1.4` one of `192.168.1.4`.
fn is_address(name: &str) -> bool {
    let name = name.trim().trim_end_matches('.');
    let bare = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')).unwrap_or(name);
    bare.parse::<std::net::IpAddr>().is_ok()
}

fn unary_text(name: &'static str, cell: &'static OnceLock<Udf>, args: Vec<Expr>, f: fn(&str) -> Option<&str>) -> Expr {
    cell.get_or_init(|| {
        udf(name, vec![DataType::Utf8], DataType::Utf8, move |a| {
            let names = strings(&a[0])?;
            let mut out = StringBuilder::with_capacity(names.len(), names.values().len());
            for name in names.iter() {
                let normalized = name.filter(|n| !is_address(n)).map(normalize);
                out.append_option(normalized.as_deref().and_then(f));
            }
            Ok(Arc::new(out.finish()))
        })
    })
    .call(args)
}

fn list(name: &'static str, cell: &'static OnceLock<Udf>, args: Vec<Expr>, f: fn(&str) -> Option<Vec<&str>>) -> Expr {
    cell.get_or_init(|| {
        let item = Arc::new(arrow::datatypes::Field::new("item", DataType::Utf8, true));
        udf(name, vec![DataType::Utf8], DataType::List(item), move |a| {
            let names = strings(&a[0])?;
            let mut out = ListBuilder::new(StringBuilder::new());
            for n in names.iter() {
                let normalized = n.filter(|n| !is_address(n)).map(normalize);
                match normalized.as_deref().and_then(f) {
                    Some(items) => {
                        for i in items {
                            out.values().append_value(i);
                        }
                        out.append(true);
                    }
                    None => out.append(false),
                }
            }
            Ok(Arc::new(out.finish()))
        })
    })
    .call(args)
}
