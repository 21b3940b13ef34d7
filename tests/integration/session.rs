//! The query side of a store: date-partition pruning and raw NDJSON registered in place.

use crate::common;

use common::{corpus, ingest_files};
use spoor::core::session;

#[test]
fn a_date_filter_prunes_other_days_from_the_scan() {
    // The Zeek conn logs of two campaigns, years apart: two date partitions.
    let t = ingest_files(&[
        corpus("dns/zeek/apt29_day1_SCRANTON_conn.json"),
        corpus("dns/zeek/lsass_campaign01_metasploit_conn.log"),
    ]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let ctx = session::context(&t.store).await.unwrap();
        let sql = r#"EXPLAIN SELECT "destination.ip" FROM network WHERE date = DATE '2023-08-16'"#;
        let plan = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&plan).unwrap().to_string();
        assert!(text.contains("date=2023-08-16"), "{text}");
        assert!(!text.contains("date=2020-04-30"), "the other day's files are not scanned:\n{text}");
        let count = ctx
            .sql("SELECT count(*) FROM network WHERE date = DATE '2023-08-16'")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&count).unwrap().to_string();
        assert!(text.contains("| 112 "), "{text}");
    });
}

#[test]
fn raw_ndjson_can_be_queried_in_place() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let ctx = datafusion::prelude::SessionContext::new_with_config(session::config());
        let path = corpus("dns/zeek/apt29_day1_SCRANTON_dns.json");
        session::register_ndjson(&ctx, "raw_dns", path.to_str().unwrap()).await.unwrap();
        let batches = ctx
            .sql("SELECT count(*) FROM raw_dns WHERE rcode_name = 'NXDOMAIN'")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string();
        assert!(!text.contains("| 0 "), "{text}");
    });
}

#[test]
fn datafusion_settings_come_from_the_environment_over_spoors() {
    let variables = |name: &str| match name {
        "DATAFUSION_EXECUTION_TARGET_PARTITIONS" => Some("3".to_string()),
        "DATAFUSION_EXECUTION_PARQUET_PUSHDOWN_FILTERS" => Some("false".to_string()),
        _ => None,
    };
    assert!(session::config().options().execution.parquet.pushdown_filters);
    let config = session::with_variables(session::config(), variables).unwrap();
    assert_eq!(config.options().execution.target_partitions, 3);
    assert!(!config.options().execution.parquet.pushdown_filters, "spoor's own setting is overridden");
    assert!(config.options().catalog.information_schema, "spoor's other settings stay");

    let wrong = |name: &str| (name == "DATAFUSION_EXECUTION_TARGET_PARTITIONS").then(|| "many".to_string());
    let err = session::with_variables(session::config(), wrong).unwrap_err().to_string();
    assert!(err.starts_with("DATAFUSION_EXECUTION_TARGET_PARTITIONS=many: "), "{err}");
}
