//! spoor on Apache Ballista, DataFusion's own distributed engine: the same compiled plan that
//! runs in-process runs on a cluster instead.
//!
//! ```text
//! client: hunt ─► spoor's session state ─► connect() ─► logical plan ─► scheduler
//! scheduler (spoor cluster scheduler): spoor's planner ─► stages ─► executors
//! executor (spoor cluster executor): reads the store (directory or object store) ─► rows
//! ```
//! Every process plans and reads with what spoor adds to DataFusion: its query planner and
//! optimizer rules ([`spoor_core::session::state`]) and an object-store registry that opens
//! `s3://`, `gs://` and `az://` buckets from the environment's credentials
//! ([`spoor_core::location::ObjectStores`]), so a plan that names its files by URL finds them.

pub mod codec;

use std::net::SocketAddr;
use std::sync::Arc;

use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use datafusion::execution::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};

/// The scheduler's port when none is given, as Ballista's own.
pub const SCHEDULER_PORT: u16 = 50050;
/// An executor's ports when none are given: Arrow Flight (results), then gRPC.
pub const EXECUTOR_PORT: u16 = 50051;

/// How often an executor tells the scheduler it is alive, and how often the scheduler looks for
/// the silent ones. Ballista's defaults (60 s, 15 s, and 180 s before an executor is given up)
/// suit long batch jobs; a hunt whose executor died would wait minutes for its tasks to be
/// given to another.
const HEARTBEAT_SECONDS: u64 = 5;
/// An executor silent this long is given up: its tasks go to the others, and a job with no
/// executor left fails instead of waiting.
const EXECUTOR_TIMEOUT_SECONDS: u64 = 20;

/// The largest message between client, scheduler and executors. A plan travels whole, and
/// the plan of a shared scan carries the tests of every rule over one table: the SigmaHQ
/// Windows rules make messages past Ballista's default of 16 MiB.
const MAX_MESSAGE_BYTES: u32 = 256 * 1024 * 1024;

/// A cluster failure, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("{doing}: {source}")]
pub struct Error {
    doing: String,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

fn failed(doing: impl Into<String>) -> impl FnOnce(ballista_core::error::BallistaError) -> Error {
    let doing = doing.into();
    move |e| Error { doing, source: Box::new(e) }
}

/// A scheduler's address, `df://host:port` (the port defaults to [`SCHEDULER_PORT`]; `http://`
/// is taken too), as `(host, port)`.
pub fn parse_address(address: &str) -> Result<(String, u16), String> {
    let url = url::Url::parse(address)
        .map_err(|e| format!("`{address}`: not a scheduler address such as df://scheduler:50050 ({e})"))?;
    if !matches!(url.scheme(), "df" | "http") {
        return Err(format!("`{address}`: a scheduler address starts with df:// (df://scheduler:50050)"));
    }
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| format!("`{address}`: no host"))?;
    Ok((host.to_string(), url.port().unwrap_or(SCHEDULER_PORT)))
}

/// Makes a session whose queries run on the cluster whose scheduler is at `address`, from the
/// session state spoor plans with.
pub async fn connect(address: &str, state: SessionState) -> Result<SessionContext, Error> {
    let (host, port) = parse_address(address).map_err(|e| Error { doing: "connecting".into(), source: e.into() })?;
    let url = format!("df://{host}:{port}");
    // Said here, plainly, rather than as a transport error when the first query is sent.
    let reached =
        tokio::time::timeout(std::time::Duration::from_secs(10), tokio::net::TcpStream::connect((host.as_str(), port)));
    match reached.await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(unreachable(&url, e.to_string())),
        Err(_) => return Err(unreachable(&url, "no answer in 10 s".into())),
    }
    // Planned by the cluster's planner, as one plan (`Remote`: no `let` computed here first).
    let config = distributable(state.config().clone())
        .with_extension(Arc::new(spoor_core::planner::Remote))
        .with_ballista_logical_extension_codec(Arc::new(codec::Logical::default()))
        .with_ballista_physical_extension_codec(Arc::new(codec::Physical::default()));
    let state = datafusion::execution::SessionStateBuilder::new_from_existing(state)
        .with_config(config)
        .with_optimizer_rule(Arc::new(codec::KeepFirstAsAggregates))
        .with_optimizer_rule(Arc::new(codec::PinNames))
        .build();
    let state = state
        .upgrade_for_ballista(url.clone())
        .map_err(|e| Error { doing: format!("connecting to the scheduler at {url}"), source: Box::new(e) })?;
    Ok(SessionContext::new_with_state(state))
}

fn unreachable(url: &str, why: String) -> Error {
    Error {
        doing: format!("reaching the cluster's scheduler at {url}"),
        source: format!("{why}; is `spoor cluster scheduler` running there, and is --cluster right?").into(),
    }
}

/// DataFusion settings from the environment (`DATAFUSION_...`) that a scheduler or executor
/// would run every query with: refused at start when one is wrong, not ignored.
pub fn check_environment() -> Result<(), Error> {
    spoor_core::session::with_environment(spoor_core::session::config())
        .map(drop)
        .map_err(|e| Error { doing: "reading DataFusion's settings from the environment".into(), source: Box::new(e) })
}

/// What a scheduler and its executors run queries with: spoor's session configuration (with the
/// environment's DataFusion settings) and runtime.
fn session_config() -> SessionConfig {
    // Checked when the process started (`check_environment`).
    let config = spoor_core::session::with_environment(spoor_core::session::config())
        .unwrap_or_else(|_| spoor_core::session::config());
    distributable(config.upgrade_for_ballista())
}

/// Without dynamic filters: a filter that a sort or join computes while it runs and hands to the
/// scans below it, which a plan cut into stages on several machines cannot share (DataFusion 55's
/// top-k operator fails an assertion when its filter arrives without it).
///
/// And without Ballista's adaptive planner, whose stage bookkeeping loses track of some of
/// spoor's plans in Ballista 55 (a job waits forever after "Error updating task metrics").
///
/// And with stages reading each other's output as Arrow IPC blocks, never over Arrow Flight,
/// which unpacks dictionaries: the operators of the next stage would meet columns of another
/// type than their plan says (the client puts a query's final rows back in their types itself,
/// `spoor_core::from_cluster`).
fn distributable(config: SessionConfig) -> SessionConfig {
    let mut config = config
        .with_ballista_adaptive_query_planner(false)
        .with_ballista_shuffle_reader_remote_prefer_flight(false)
        // Also the scheduler's limit for its messages to the executors (tasks, with their plans).
        .with_ballista_grpc_client_max_message_size(MAX_MESSAGE_BYTES as usize);
    config.options_mut().optimizer.enable_dynamic_filter_pushdown = false;
    config.options_mut().optimizer.enable_topk_dynamic_filter_pushdown = false;
    config.options_mut().optimizer.enable_join_dynamic_filter_pushdown = false;
    config.options_mut().optimizer.enable_aggregate_dynamic_filter_pushdown = false;
    config
}

/// Runs a scheduler on `address` until the process ends. With `proxy_results`, clients fetch a
/// hunt's results through it, and so need to reach only the scheduler, not the executors
/// (which may sit in a container network or behind NAT).
pub async fn run_scheduler(address: SocketAddr, proxy_results: bool) -> Result<(), Error> {
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::SchedulerConfig;
    check_environment()?;
    let config = SchedulerConfig {
        bind_host: address.ip().to_string(),
        bind_port: address.port(),
        external_host: address.ip().to_string(),
        enable_embedded_flight_proxy: proxy_results,
        grpc_server_max_decoding_message_size: MAX_MESSAGE_BYTES,
        grpc_server_max_encoding_message_size: MAX_MESSAGE_BYTES,
        grpc_client_max_message_size: MAX_MESSAGE_BYTES,
        executor_timeout_seconds: EXECUTOR_TIMEOUT_SECONDS,
        expire_dead_executor_interval_seconds: HEARTBEAT_SECONDS,
        no_executors_grace_period_seconds: EXECUTOR_TIMEOUT_SECONDS,
        override_session_builder: Some(Arc::new(|config: SessionConfig| {
            let runtime = spoor_core::session::runtime_env(None)
                .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
            // Whatever configuration the job brought, its plans go to the executors through
            // the cluster's codec, which knows DataFusion's operators and `KeepFirst`, not the
            // ones spoor's planner puts in after DataFusion's planning.
            let config = config.with_extension(Arc::new(spoor_core::planner::Staged));
            Ok(spoor_core::session::state(config, runtime))
        })),
        override_config_producer: Some(Arc::new(session_config)),
        override_logical_codec: Some(Arc::new(codec::Logical::default())),
        override_physical_codec: Some(Arc::new(codec::Physical::default())),
        ..Default::default()
    };
    let cluster = BallistaCluster::new_from_config(&config).await.map_err(failed("starting the scheduler"))?;
    ballista_scheduler::scheduler_process::start_server(cluster, address, Arc::new(config))
        .await
        .map_err(failed(format!("running the scheduler on {address}")))
}

/// DataFusion's functions, Ballista's and spoor's, by name: what an executor knows.
fn functions() -> ballista_core::registry::BallistaFunctionRegistry {
    // Every function a default session has (nested ones such as `string_to_array` included),
    // as the client's session has them.
    let state = datafusion::execution::SessionStateBuilder::new().with_default_features().build();
    let mut registry = ballista_core::registry::BallistaFunctionRegistry::from(&state);
    for udf in spoor_dsl::travel::named() {
        registry.scalar_functions.insert(udf.name().to_string(), udf);
    }
    registry
}

/// Where an executor listens and which scheduler it joins.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// `df://host:port`.
    pub scheduler: String,
    /// The address it tells the scheduler and the other executors (`127.0.0.1` by default): an
    /// IP address or a host name they resolve.
    pub host: String,
    /// The address it listens on: `host` when that is an IP address, else every interface.
    pub bind: Option<std::net::IpAddr>,
    /// Its Arrow Flight port; its gRPC port is the next one.
    pub port: u16,
    /// Tasks it runs at once (the machine's cores by default).
    pub slots: usize,
    /// Memory its tasks' operators may hold, in bytes, before they spill (unbounded if None).
    pub memory: Option<usize>,
}

impl Default for ExecutorOptions {
    fn default() -> ExecutorOptions {
        ExecutorOptions {
            scheduler: format!("df://localhost:{SCHEDULER_PORT}"),
            host: "127.0.0.1".into(),
            bind: None,
            port: EXECUTOR_PORT,
            slots: std::thread::available_parallelism().map_or(2, |n| n.get()),
            memory: None,
        }
    }
}

/// Runs an executor until the process ends.
pub async fn run_executor(options: ExecutorOptions) -> Result<(), Error> {
    use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
    check_environment()?;
    let (scheduler_host, scheduler_port) = parse_address(&options.scheduler)
        .map_err(|e| Error { doing: "starting an executor".into(), source: e.into() })?;
    let work_dir = std::env::temp_dir().join(format!("spoor-executor-{}", options.port));
    let bind = options.bind.or_else(|| options.host.parse().ok());
    let bind = bind.unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    // One runtime for all its tasks (Ballista would make one per task): the memory limit is
    // the process's, shared by every task it runs.
    let shared = spoor_core::session::runtime_env(options.memory)
        .map_err(|e| Error { doing: "starting an executor".into(), source: Box::new(e) })?;
    let config = ExecutorProcessConfig {
        bind_host: bind.to_string(),
        external_host: Some(options.host.clone()),
        port: options.port,
        grpc_port: options.port + 1,
        scheduler_host,
        scheduler_port,
        vcores: options.slots,
        executor_heartbeat_interval_seconds: HEARTBEAT_SECONDS,
        grpc_max_decoding_message_size: MAX_MESSAGE_BYTES,
        grpc_max_encoding_message_size: MAX_MESSAGE_BYTES,
        work_dir: Some(work_dir.display().to_string()),
        override_config_producer: Some(Arc::new(session_config)),
        override_runtime_producer: Some(Arc::new(move |_: &SessionConfig| Ok(Arc::clone(&shared)))),
        override_logical_codec: Some(Arc::new(codec::Logical::default())),
        override_physical_codec: Some(Arc::new(codec::Physical::default())),
        override_function_registry: Some(Arc::new(functions())),
        ..Default::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(failed(format!("running an executor on {}:{}", options.host, options.port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_addresses() {
        assert_eq!(parse_address("df://scheduler:50050").unwrap(), ("scheduler".into(), 50050));
        assert_eq!(parse_address("df://10.0.0.5").unwrap(), ("10.0.0.5".into(), SCHEDULER_PORT));
        assert!(parse_address("scheduler:50050").unwrap_err().contains("df://"));
        assert!(parse_address("s3://bucket").unwrap_err().contains("starts with df://"));
    }
}
