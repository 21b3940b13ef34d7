//! spoor's scalar functions on their way to a cluster, where a plan is sent as bytes: each is
//! named, and those that carry state (a regex test's pattern and case, an extraction's group,
//! a literal set's tests) carry it along. A cluster's codec calls [`encode`] and [`decode`]; its
//! executors know the stateless ones by name ([`named`]).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, ScalarUDF};
use datafusion::scalar::ScalarValue;
use serde::{Deserialize, Serialize};

use crate::functions;

/// What travels with a function's name.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Travelling {
    /// A function without state: its name says it all.
    Named,
    Regex {
        pattern: String,
        nocase: bool,
    },
    Extract {
        pattern: String,
        group: functions::extract::Group,
        all: bool,
    },
    LiteralHit(crate::literal_set::TravellingHit),
}

/// The bytes that bring `udf` back on the other side, for a function of spoor's; `None` for
/// DataFusion's own, which its codec carries.
pub fn encode(udf: &ScalarUDF) -> Option<Vec<u8>> {
    let travelling = if let Some((pattern, nocase)) = functions::matches::travelling(udf) {
        Travelling::Regex { pattern, nocase }
    } else if let Some((pattern, group, all)) = functions::extract::travelling(udf) {
        Travelling::Extract { pattern, group, all }
    } else if let Some(hit) = crate::literal_set::travelling(udf) {
        Travelling::LiteralHit(hit)
    } else if NAMED.contains_key(udf.name()) {
        Travelling::Named
    } else {
        return None;
    };
    serde_json::to_vec(&travelling).ok()
}

/// The function [`encode`] wrote as `bytes`, or why it cannot be made again.
pub fn decode(name: &str, bytes: &[u8]) -> Result<Arc<ScalarUDF>, String> {
    let travelling: Travelling =
        serde_json::from_slice(bytes).map_err(|e| format!("function `{name}`: not one spoor sent ({e})"))?;
    Ok(match travelling {
        Travelling::Named => {
            NAMED.get(name).cloned().ok_or_else(|| format!("function `{name}`: unknown to this spoor"))?
        }
        Travelling::Regex { pattern, nocase } => Arc::new(functions::matches::arrived(&pattern, nocase)),
        Travelling::Extract { pattern, group, all } => Arc::new(functions::extract::arrived(pattern, group, all)),
        Travelling::LiteralHit(hit) => Arc::new(crate::literal_set::arrived(hit).map_err(|e| e.to_string())?),
    })
}

/// spoor's functions that carry no state, by name: what an executor's function registry adds to
/// DataFusion's.
pub fn named() -> Vec<Arc<ScalarUDF>> {
    NAMED.values().cloned().collect()
}

/// Every function of the language lowered once, over null arguments, and the UDFs of spoor's
/// that the lowering calls collected (those with state are left to [`encode`]); and those the
/// lowering of stages and types calls directly.
static NAMED: LazyLock<HashMap<String, Arc<ScalarUDF>>> = LazyLock::new(|| {
    let mut found: Vec<Expr> =
        functions::all().map(|f| (f.lower)(vec![Expr::Literal(ScalarValue::Null, None); f.args.len()])).collect();
    let null = || Expr::Literal(ScalarValue::Null, None);
    // Those the lowering of stages and types calls, not a function of the language.
    found.push(functions::beacon_measures(null(), null(), null(), null()));
    found.push(functions::bytes_to_text(null()));
    found.push(functions::domain_suffixes(null()));
    found.push(functions::cidr_match(null(), null()));
    let mut named = HashMap::new();
    for expr in found {
        let _ = expr.apply(|e| {
            if let Expr::ScalarFunction(call) = e
                && call.func.name().starts_with("spoor_")
                && functions::matches::travelling(&call.func).is_none()
                && functions::extract::travelling(&call.func).is_none()
            {
                named.insert(call.func.name().to_string(), Arc::clone(&call.func));
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }
    named
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_of_spoor_travels_and_comes_back_the_same() {
        let names: Vec<String> = named().iter().map(|f| f.name().to_string()).collect();
        for expected in [
            "spoor_entropy",
            "spoor_cidr_match",
            "spoor_registered_domain",
            "spoor_beacon_measures",
            "spoor_bytes_to_text",
            "spoor_domain_suffixes",
        ] {
            assert!(names.iter().any(|n| n == expected), "{expected} not among {names:?}");
        }
        for udf in named() {
            let bytes = encode(&udf).unwrap();
            assert_eq!(decode(udf.name(), &bytes).unwrap().name(), udf.name());
        }
        let regex = functions::matches::arrived("enc(odedcommand)?", true);
        let back = decode(regex.name(), &encode(&regex).unwrap()).unwrap();
        assert_eq!(functions::matches::travelling(&back), Some(("enc(odedcommand)?".to_string(), true)));
        assert!(decode("spoor_nothing", br#"{"kind":"named"}"#).unwrap_err().contains("unknown"));
        assert!(encode(&datafusion::functions::string::lower()).is_none(), "DataFusion's own travel by themselves");
    }
}
