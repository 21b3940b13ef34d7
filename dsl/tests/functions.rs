//! Every function's documented examples, run by the engine: the reference cannot drift from
//! the code. `docs/functions.md` is generated from the same declarations.

use arrow::array::Array;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;
use spoor_dsl::catalog::Catalog;
use spoor_dsl::ir::{Field, Rel, RelKind};
use spoor_dsl::{RunOptions, functions};

/// Evaluates one expression with no input rows' fields, as the engine prints it.
async fn evaluate(ctx: &SessionContext, text: &str) -> String {
    let source = format!("process | extend x = {text}");
    let hunt = spoor_dsl::check(&source, &Catalog::standard(), &Default::default())
        .unwrap_or_else(|d| panic!("{text}: {d}"))
        .hunt;
    let RelKind::Project { items, .. } = &hunt.query.kind else { panic!("{text}: not a projection") };
    let (_, expr) = items.iter().find(|(n, _)| n == "x").expect("x");
    let value = spoor_dsl::lower::lower(
        &spoor_dsl::ir::Hunt {
            meta: Default::default(),
            query: Rel {
                kind: RelKind::Project { input: Box::new(empty()), items: vec![("x".into(), expr.clone())] },
                fields: vec![Field { name: "x".into(), ty: expr.ty.clone() }],
            },
        },
        &Default::default(),
        &RunOptions::now(),
    );
    let plan = value.unwrap_or_else(|e| panic!("{text}: {e}"));
    let frame = ctx.execute_logical_plan(plan).await.unwrap_or_else(|e| panic!("{text}: {e}"));
    let batches = frame.collect().await.unwrap_or_else(|e| panic!("{text}: {e}"));
    let column = batches[0].column(0);
    if let Some(binary) = column.as_any().downcast_ref::<arrow::array::BinaryArray>() {
        return if binary.is_null(0) { "NULL".into() } else { String::from_utf8_lossy(binary.value(0)).into_owned() };
    }
    let formatter =
        ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default().with_null("NULL")).expect("formatter");
    formatter.value(0).to_string()
}

/// One row, no columns: the input of a constant expression.
fn empty() -> Rel {
    Rel {
        kind: RelKind::Values { values: vec![spoor_dsl::ir::Value::Null], ty: spoor_dsl::types::Type::Text },
        fields: vec![],
    }
}

#[tokio::test]
async fn every_example_gives_its_documented_result() {
    let ctx = SessionContext::new();
    let mut failures = Vec::new();
    let mut count = 0;
    for f in functions::all() {
        assert!(!f.examples.is_empty(), "{} has no example", f.name);
        for e in f.examples {
            count += 1;
            let got = evaluate(&ctx, e.call).await;
            if got != e.result {
                failures.push(format!("{}: expected {}, got {got}", e.call, e.result));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {count} examples differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn docs_functions_md_matches_the_declarations() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/functions.md");
    let expected = functions::markdown();
    if std::env::var_os("SPOOR_BLESS").is_some() {
        std::fs::write(path, &expected).expect("write docs/functions.md");
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/functions.md is stale: run `SPOOR_BLESS=1 cargo test --test functions` (or `spoor functions --markdown`)"
    );
}
