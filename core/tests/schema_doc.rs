//! `docs/schema.md` is generated from `schema.rs`; this test fails when they drift apart.
//! Regenerate with `SPOOR_BLESS=1 cargo test -p spoor-core --test schema_doc`.

#[test]
fn docs_schema_md_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schema.md");
    let generated = spoor_core::schema::markdown();
    if std::env::var_os("SPOOR_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/schema.md is out of date with core/src/schema.rs; run \
         `SPOOR_BLESS=1 cargo test -p spoor-core --test schema_doc` and commit the result"
    );
}
