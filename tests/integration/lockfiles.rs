//! Lockfile inventory on real lockfiles (tests/data/corpus/lockfile and ci/npm-cli): each kind
//! and version, with aliases, nesting, bundling, install-script flags and entry lines.

use crate::common;

use common::{corpus, ingest_files, one_row, query};
use spoor::core::Format;

const COLUMNS: &str = r#""package.manager", "package.lockfile_version", "package.name", "package.version", "package.alias",
    "package.install_script", "package.dev", "package.optional", "package.bundled", "package.path", "log.file.line""#;

#[test]
fn npm_v2_packages_map() {
    let t = ingest_files(&[corpus("lockfile/npm/goof_package-lock.v2.json")]);
    assert_eq!(t.summary.files[0].format, Some(Format::NpmLock));
    assert_eq!(t.summary.files[0].stored, 692);
    let row = one_row(
        &t.store,
        &format!(r#"SELECT {COLUMNS}, "package.project" FROM package WHERE "package.install_script""#),
    );
    assert_eq!(
        row,
        [
            "npm",
            "2",
            "kerberos",
            "0.0.24",
            "NULL",
            "true",
            "false",
            "true",
            "false",
            "node_modules/kerberos",
            "2318",
            "goof"
        ]
    );
    let row = one_row(
        &t.store,
        r#"SELECT "package.version", "log.file.line" FROM package WHERE "package.path" = 'node_modules/asn1.js/node_modules/bn.js'"#,
    );
    assert_eq!(row, ["4.12.0", "144"]);
}

#[test]
fn npm_v3_aliases_and_bundles() {
    let t = ingest_files(&[
        corpus("lockfile/npm/aliases_package-lock.v3.json"),
        corpus("lockfile/npm/bundled-deps_package-lock.v2.json"),
    ]);
    let row = one_row(
        &t.store,
        r#"SELECT "package.name", "package.version", "package.alias", "log.file.line" FROM package WHERE "package.path" = 'node_modules/pkg'"#,
    );
    assert_eq!(row, ["@yao-pkg/pkg", "6.5.0", "pkg", "797"]);
    let bundled =
        query(&t.store, r#"SELECT count(*) FROM package WHERE "package.bundled" AND "package.lockfile_version" = '3'"#);
    assert_ne!(bundled[0][0], "0");
}

#[test]
fn npm_v1_nested_dependencies() {
    let t = ingest_files(&[corpus("lockfile/npm/goof_package-lock.v1.json")]);
    assert_eq!(t.summary.files[0].rejected, 0);
    let nested =
        query(&t.store, r#"SELECT count(*) FROM package WHERE "package.path" LIKE 'node_modules/%/node_modules/%'"#);
    assert_ne!(nested[0][0], "0");
    let rows = query(&t.store, r#"SELECT DISTINCT "package.lockfile_version", "package.install_script" FROM package"#);
    assert_eq!(rows, [["1", "NULL"]], "v1 records no install scripts: unknown, not false");
}

#[test]
fn yarn_v1_and_berry() {
    let t = ingest_files(&[corpus("lockfile/yarn/goof_yarn1.lock"), corpus("lockfile/yarn/goof_yarn-berry.lock")]);
    assert_eq!(t.summary.files.iter().map(|f| f.format).collect::<Vec<_>>(), [Some(Format::YarnLock); 2]);
    let rows = query(
        &t.store,
        r#"SELECT "package.lockfile_version", "package.version", "package.resolved", "package.integrity", "log.file.line"
           FROM package WHERE "package.name" = 'express' ORDER BY 1"#,
    );
    assert_eq!(
        rows,
        [
            [
                "1",
                "4.12.4",
                "https://registry.example.invalid/express/-/express-4.12.4.tgz#8fec2510255bc6b2e58107c48239c0fa307c1aa2",
                "sha1-j+wlECVbxrLlgQfEgjnA+jB8GqI=",
                "1132"
            ],
            ["berry-4", "4.12.4", "express@npm:4.12.4", &rows[1][3], "1559"],
        ]
    );
}

#[test]
fn pnpm_v5_v6_v9() {
    let t = ingest_files(&[
        corpus("lockfile/pnpm/goof_pnpm-lock.v5.yaml"),
        corpus("lockfile/pnpm/goof_pnpm-lock.v6.yaml"),
        corpus("lockfile/pnpm/aliases_pnpm-lock.v9.yaml"),
    ]);
    let row = one_row(
        &t.store,
        &format!(
            r#"SELECT {COLUMNS} FROM package WHERE "package.name" = 'aws-sign2' AND "package.version" = '0.5.0' AND "package.lockfile_version" = '5.4'"#
        ),
    );
    assert_eq!(
        row,
        ["pnpm", "5.4", "aws-sign2", "0.5.0", "NULL", "true", "false", "true", "NULL", "/aws-sign2/0.5.0", "206"]
    );
    let row = one_row(
        &t.store,
        r#"SELECT "package.version", "package.dev" FROM package WHERE "package.name" = 'JSONStream' AND "package.lockfile_version" = '6.0'"#,
    );
    assert_eq!(row, ["1.3.5", "true"]);
    let row = one_row(
        &t.store,
        r#"SELECT "package.version", "package.install_script", "package.resolved", "log.file.line" FROM package WHERE "package.name" = '@yao-pkg/pkg'"#,
    );
    assert_eq!(row, ["6.6.0", "NULL", "https://registry.example.invalid/@yao-pkg/pkg/-/pkg-6.6.0.tgz", "62"]);
}

#[test]
fn the_three_clients_agree_on_the_same_project() {
    let t = ingest_files(&[
        corpus("ci/npm-cli/package-lock.json"),
        corpus("ci/npm-cli/yarn.lock"),
        corpus("ci/npm-cli/pnpm-lock.yaml"),
    ]);
    let rows = query(
        &t.store,
        r#"SELECT "package.manager", "package.version" FROM package WHERE "package.name" = 'axios' ORDER BY 1"#,
    );
    assert_eq!(rows, [["npm", "1.14.0"], ["pnpm", "1.14.0"], ["yarn", "1.14.0"]]);
    let row = one_row(
        &t.store,
        r#"SELECT "package.install_script", "package.project" FROM package WHERE "package.name" = 'esbuild' AND "package.manager" = 'npm'"#,
    );
    assert_eq!(row[0], "true");
    let counts = query(&t.store, r#"SELECT "package.manager", count(*) FROM package GROUP BY 1 ORDER BY 1"#);
    assert_eq!(counts, [["npm", "53"], ["pnpm", "53"], ["yarn", "53"]]);
}

#[test]
fn a_broken_lockfile_is_one_reject_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("package-lock.json");
    std::fs::write(&path, "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n").unwrap();
    let t = ingest_files(&[path]);
    let f = &t.summary.files[0];
    assert_eq!((f.read, f.rejected), (1, 1));
    let reason = f.reject_reasons.keys().next().unwrap();
    assert!(reason.starts_with("not valid JSON: EOF while parsing an object at line 4"), "{reason}");
}
