//! The query side: a DataFusion `SessionContext` with every table of a store registered.
//!
//! Each table is a listing table over `<store>/<table>/date=*/part-*.parquet` (a directory, or
//! an object store registered with the session's runtime) with `date` as a partition column, so a filter on `date` skips whole directories and a filter on `@timestamp`
//! is pruned with the Parquet row-group statistics.

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int64Type, SchemaRef, TimestampMicrosecondType};
use chrono::{DateTime, Utc};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::datasource::physical_plan::parquet::transform_schema_to_view;
use datafusion::execution::context::SessionContext;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::prelude::{JsonReadOptions, SessionConfig};

use crate::error::{Error, Result};
use crate::schema::Table;
use crate::store::Store;

/// Stack for every thread that plans or runs a query. DataFusion's optimizer and expression
/// evaluation recurse over the plan and its expressions; the language bounds how deep those get
/// (`spoor_dsl::resolve::MAX_QUERY_DEPTH`, `MAX_EXPRESSION_NODES`), and this is room for them
/// with a wide margin. It is address space, not memory: pages are used only as deep as a query
/// goes.
pub const QUERY_STACK_BYTES: usize = 64 * 1024 * 1024;

/// The runtime queries run on: worker threads with [`QUERY_STACK_BYTES`] of stack.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(QUERY_STACK_BYTES).build()
}

/// The partition column added to every table by the directory layout.
pub const DATE_PARTITION: &str = "date";

pub fn config() -> SessionConfig {
    SessionConfig::new()
        .with_information_schema(true)
        // Column names are ECS names like `process.name`: keep them as they are.
        .set_bool("datafusion.sql_parser.enable_ident_normalization", false)
        .set_bool("datafusion.execution.parquet.pushdown_filters", true)
}

/// DataFusion's own settings from the environment, over spoor's: `DATAFUSION_` and the key in
/// capitals with `_` for `.` (`DATAFUSION_EXECUTION_TARGET_PARTITIONS=4`), as DataFusion's CLI
/// reads them, to tune a machine without a rebuild. A value the setting cannot take is an error.
pub fn with_environment(config: SessionConfig) -> Result<SessionConfig> {
    with_variables(config, |name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
}

/// As [`with_environment`], with the variables from `variable`.
pub fn with_variables(mut config: SessionConfig, variable: impl Fn(&str) -> Option<String>) -> Result<SessionConfig> {
    let keys: Vec<String> = config.options().entries().into_iter().map(|e| e.key).collect();
    for key in keys {
        let name = key.to_uppercase().replace('.', "_");
        if let Some(value) = variable(&name) {
            config.options_mut().set(&key, &value).map_err(|e| Error::User(format!("{name}={value}: {e}")))?;
        }
    }
    Ok(config)
}

/// A session over every table that has data in the store.
pub async fn context(store: &Store) -> Result<SessionContext> {
    context_with(store, Limits::default()).await
}

/// What a session's queries may use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Bytes that operators may hold at once. Sorts, aggregations and joins that can spill to
    /// disk (the OS temporary directory) do so beyond it; others fail with a clear error
    /// instead of the process being killed for running out of memory.
    pub memory: Option<usize>,
    /// How long one hunt may run (planning included) before it is stopped.
    pub time: Option<std::time::Duration>,
}

impl Limits {
    /// A size such as `512MiB`, `2GiB`, `1GB`, `800M` or a number of bytes.
    pub fn parse_size(text: &str) -> std::result::Result<usize, String> {
        let t = text.trim();
        let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let number: f64 = number.parse().map_err(|_| format!("`{text}`: expected a size such as 512MiB or 2GiB"))?;
        let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1.0,
            "k" | "kb" => 1e3,
            "kib" => 1024.0,
            "m" | "mb" => 1e6,
            "mib" => 1024.0 * 1024.0,
            "g" | "gb" => 1e9,
            "gib" => 1024.0 * 1024.0 * 1024.0,
            _ => return Err(format!("`{text}`: unknown unit `{unit}` (B, KB, KiB, MB, MiB, GB, GiB)")),
        };
        let bytes = number * scale;
        if !(1.0..=usize::MAX as f64).contains(&bytes) {
            return Err(format!("`{text}`: expected a size such as 512MiB or 2GiB"));
        }
        Ok(bytes as usize)
    }
}

/// As [`context`], within `limits`.
pub async fn context_with(store: &Store, limits: Limits) -> Result<SessionContext> {
    context_on(store, limits, async |state| Ok(SessionContext::new_with_state(state))).await
}

/// As [`context_with`], with the session made from spoor's session state by `connect`: where it
/// runs its queries (in this process, or on a cluster) is `connect`'s to say.
pub async fn context_on(
    store: &Store,
    limits: Limits,
    connect: impl AsyncFnOnce(SessionState) -> Result<SessionContext>,
) -> Result<SessionContext> {
    let mut config = with_environment(config())?;
    if let Some(bytes) = limits.memory {
        // A sort keeps this much back for merging what it spilled (10 MB by default): a tenth of
        // the limit, so sorts spill under small limits instead of failing outright.
        let reserve = (bytes / 10).min(10 * 1024 * 1024);
        config = config.set_usize("datafusion.execution.sort_spill_reservation_bytes", reserve);
    }
    // Filters are pushed into the Parquet decoder per table (`register_table`), not for all.
    let pushdown = config.options().execution.parquet.pushdown_filters;
    config.options_mut().execution.parquet.pushdown_filters = false;
    let mut tables = Vec::new();
    let mut sizes = TableSizes::default();
    for table in Table::ALL {
        let files = store.stored_files(table)?;
        if files.is_empty() {
            continue;
        }
        let bytes = files.iter().map(|f| f.size).sum();
        sizes.bytes.insert(table.name().to_string(), bytes);
        tables.push(table);
    }
    let config = config.with_extension(Arc::new(sizes.clone()));
    let ctx = connect(state(config, runtime_env(limits.memory)?)).await?;
    store.location().register_with(&ctx.runtime_env());
    for table in tables {
        let small = sizes.is_small(table.name());
        register_table(&ctx, store, table, pushdown && !small).await?;
    }
    Ok(ctx)
}

/// spoor's runtime: the object stores the environment's credentials open (`s3://`, `gs://`,
/// `az://`), and at most `memory` bytes held by a query's operators, beyond which sorts, joins
/// and aggregations spill (unbounded without it, as DataFusion's default). Sessions, and a
/// cluster's scheduler and executors, run with it.
pub fn runtime_env(memory: Option<usize>) -> Result<Arc<datafusion::execution::runtime_env::RuntimeEnv>> {
    let mut runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        .with_object_store_registry(Arc::new(crate::location::ObjectStores::default()));
    if let Some(bytes) = memory {
        // Fair to every spilling operator, so one large sort cannot starve the others.
        runtime = runtime.with_memory_pool(Arc::new(datafusion::execution::memory_pool::FairSpillPool::new(bytes)));
    }
    Ok(runtime.build_arc()?)
}

/// spoor's session state: DataFusion's defaults with spoor's optimizer rules and query planner
/// (which knows spoor's own operators). A cluster's scheduler plans with it too.
pub fn state(config: SessionConfig, runtime: Arc<datafusion::execution::runtime_env::RuntimeEnv>) -> SessionState {
    SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_optimizer_rules(optimizer_rules())
        .with_query_planner(Arc::new(crate::planner::Planner))
        .build()
}

/// DataFusion's optimizer rules, less the two that move field access (`get_field`) towards the
/// scan. spoor's map columns have dotted names (`winlog.event_data`), and with them those rules
/// build a plan whose schema holds the column both qualified and unqualified, which DataFusion
/// 55 then refuses as ambiguous (`windows | where winlog.event_data.A == "x" | stats count() by
/// winlog.event_data.B`). A map is read whole from Parquet either way, so nothing is lost.
fn optimizer_rules() -> Vec<Arc<dyn datafusion::optimizer::OptimizerRule + Send + Sync>> {
    const LEFT_OUT: [&str; 2] = ["extract_leaf_expressions", "push_down_leaf_projections"];
    datafusion::optimizer::Optimizer::new().rules.into_iter().filter(|rule| !LEFT_OUT.contains(&rule.name())).collect()
}

/// A store table of at most this many bytes of Parquet is small: its scans decode whole files
/// rather than filter rows inside the decoder, and a hunt's `let` that reads only small tables
/// is computed once for all its uses (`spoor_dsl::lower::shared`). On the benchmark fleet
/// (docs/performance.md) that is `audit` (144 KB) and `ci` (380 KB), whose hunts are mostly
/// fixed costs; the tables of events are larger.
pub const SMALL_TABLE_BYTES: u64 = 1 << 20;

/// Bytes of Parquet each store table held when the session was made, kept in the session's
/// configuration (`SessionConfig::get_extension`) for the hunt compiler.
#[derive(Debug, Clone, Default)]
pub struct TableSizes {
    bytes: std::collections::HashMap<String, u64>,
}

impl TableSizes {
    pub fn bytes(&self, table: &str) -> Option<u64> {
        self.bytes.get(table).copied()
    }

    /// At most [`SMALL_TABLE_BYTES`]; a table of unknown size is not small.
    pub fn is_small(&self, table: &str) -> bool {
        self.bytes(table).is_some_and(|bytes| bytes <= SMALL_TABLE_BYTES)
    }
}

/// The Arrow schema a table is read with: the stored one, except that the `dns` table reads its
/// text as string views (`Utf8View`), which point into Parquet's decoded pages and dictionaries
/// instead of copying each value out. DNS hunts scan, group and compare names and addresses
/// over millions of rows, and there this made the benchmark fleet's beaconing query 17 % faster
/// and its IOC-suffix query 11 % (docs/performance.md, session 34) at the same peak memory.
/// Not for every table: a view keeps its whole page alive, and where rows are held (the
/// process table's chains, their keys in hash tables) that cost 150 MiB more for a 4 % gain,
/// and SigmaHQ's rules over EVTX ran up to 11 % slower.
fn read_schema(table: Table) -> SchemaRef {
    let stored = table.schema();
    if table == Table::Dns { Arc::new(transform_schema_to_view(&stored)) } else { stored }
}

/// `pushdown`: filters are evaluated inside the Parquet decoder, which then decodes the other
/// columns only for the rows that pass. On a large table that skips most of the decoding; on a
/// small one, decoding every row and filtering after is faster.
async fn register_table(ctx: &SessionContext, store: &Store, table: Table, pushdown: bool) -> Result<()> {
    let url = ListingTableUrl::parse(store.location().url_of_directory(table.name())?)?;
    let mut parquet = ctx.state().default_table_options().parquet;
    parquet.global.pushdown_filters = pushdown;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default().with_options(parquet)))
        .with_file_extension(".parquet")
        .with_table_partition_cols(vec![(DATE_PARTITION.to_string(), DataType::Date32)]);
    let config = ListingTableConfig::new(url).with_listing_options(options).with_schema(read_schema(table));
    // Statistics of each file (row counts, min/max for pruning and join planning) are read from
    // its footer once per session, not once per scan: a pack scans the same tables many times.
    // DataFusion checks each entry against the file's size and time before using it.
    let statistics = ctx.runtime_env().cache_manager.get_file_statistic_cache();
    let provider = ListingTable::try_new(config)?.with_cache(statistics);
    ctx.register_table(table.name(), Arc::new(provider))?;
    Ok(())
}

/// Registers newline-delimited JSON files in place as a table (schema inferred).
pub async fn register_ndjson(ctx: &SessionContext, name: &str, path: &str) -> Result<()> {
    let extension = std::path::Path::new(path).extension().and_then(|e| e.to_str()).unwrap_or("json");
    let options = JsonReadOptions::default().file_extension(extension);
    ctx.register_json(name, path, options).await?;
    Ok(())
}

/// Rows and time range of one table.
#[derive(Debug, Clone)]
pub struct TableStats {
    pub table: Table,
    pub rows: i64,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    pub files: usize,
}

pub async fn table_stats(ctx: &SessionContext, store: &Store, table: Table) -> Result<TableStats> {
    let sql = format!(r#"SELECT count(*), min("@timestamp"), max("@timestamp") FROM "{}""#, table.name());
    let batches = ctx.sql(&sql).await?.collect().await?;
    let batch = batches.first().ok_or_else(|| Error::Internal("aggregate query returned no batch".into()))?;
    let micros = |i: usize| {
        let column = batch.column(i).as_primitive::<TimestampMicrosecondType>();
        (!column.is_null(0)).then(|| DateTime::<Utc>::from_timestamp_micros(column.value(0))).flatten()
    };
    Ok(TableStats {
        table,
        rows: batch.column(0).as_primitive::<Int64Type>().value(0),
        first: micros(1),
        last: micros(2),
        files: store.stored_files(table)?.len(),
    })
}
