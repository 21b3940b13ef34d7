//! What travels between spoor's processes besides DataFusion's and Ballista's own: spoor's
//! functions with their state ([`spoor_dsl::travel`]) and in-memory tables (IOC lists, tables an
//! embedder registered), as Arrow IPC. Everything else goes to Ballista's codecs.
//!
//! spoor's one operator of its own, `KeepFirst`, does not travel: a cluster session replaces it
//! by its equivalent as an aggregate ([`KeepFirstAsAggregates`]), which DataFusion distributes.

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::MemTable;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan, ScalarUDF};
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

/// spoor's functions, or DataFusion's through `fallback`.
fn encode_udf(udf: &ScalarUDF, buf: &mut Vec<u8>, fallback: impl FnOnce(&mut Vec<u8>) -> Result<()>) -> Result<()> {
    match spoor_dsl::travel::encode(udf) {
        Some(bytes) => {
            buf.extend(bytes);
            Ok(())
        }
        // One of spoor's that cannot travel would arrive as an unknown name: say so here.
        None if udf.name().starts_with("spoor_") => Err(DataFusionError::NotImplemented(format!(
            "spoor's function `{}` cannot be sent to a cluster",
            udf.name()
        ))),
        None => fallback(buf),
    }
}

fn decode_udf(name: &str, buf: &[u8], fallback: impl FnOnce() -> Result<Arc<ScalarUDF>>) -> Result<Arc<ScalarUDF>> {
    if name.starts_with("spoor_") {
        spoor_dsl::travel::decode(name, buf).map_err(DataFusionError::Plan)
    } else {
        fallback()
    }
}

/// The codec of logical plans: what the client sends the scheduler.
#[derive(Debug, Default)]
pub struct Logical {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for Logical {
    fn try_decode(&self, buf: &[u8], inputs: &[LogicalPlan], ctx: &TaskContext) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        match buf.strip_prefix(MEMORY_TABLE) {
            Some(ipc) => {
                let reader = StreamReader::try_new(ipc, None)?;
                let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
                Ok(Arc::new(MemTable::try_new(schema, vec![batches])?))
            }
            None => self.ballista.try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let Some(memory) = node.downcast_ref::<MemTable>() else {
            return self.ballista.try_encode_table_provider(table_ref, node, buf);
        };
        buf.extend_from_slice(MEMORY_TABLE);
        let mut writer = StreamWriter::try_new(&mut *buf, &memory.schema())?;
        for partition in &memory.batches {
            // Its lock is never held across an await: taken here without a runtime.
            let batches = futures::executor::block_on(partition.read());
            for batch in batches.iter() {
                writer.write(batch)?;
            }
        }
        writer.finish()?;
        Ok(())
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn datafusion::datasource::file_format::FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn datafusion::datasource::file_format::FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf, || self.ballista.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf, |buf| self.ballista.try_encode_udf(node, buf))
    }
}

/// Marks an in-memory table's bytes (Arrow IPC follows).
const MEMORY_TABLE: &[u8] = b"spoor-memory-table\n";

/// The codec of physical plans: what the scheduler sends executors.
#[derive(Debug, Default)]
pub struct Physical {
    ballista: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for Physical {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.ballista.try_decode(buf, inputs, ctx, converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.ballista.try_encode(node, buf, converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf, || self.ballista.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf, |buf| self.ballista.try_encode_udf(node, buf))
    }
}

/// Replaces spoor's `KeepFirst` by an aggregate in a plan bound for a cluster.
#[derive(Debug, Default)]
pub struct KeepFirstAsAggregates;

impl OptimizerRule for KeepFirstAsAggregates {
    fn name(&self) -> &str {
        "spoor_keep_first_as_aggregates"
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, _: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        let mut found = false;
        plan.apply(|node| {
            found |= matches!(node, LogicalPlan::Extension(e) if e.node.name() == "KeepFirst");
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        })?;
        if !found {
            return Ok(Transformed::no(plan));
        }
        Ok(Transformed::yes(spoor_core::keep_first::KeepFirst::as_aggregates(plan)?))
    }
}

/// Gives every computed column of every projection its name explicitly (`CAST(host.name AS
/// Utf8) AS "host.name"`), so the names a plan's rows carry do not change on the way: a plan
/// rebuilt from its serialized form qualifies its columns by table, and an unnamed expression's
/// name is made from its columns' (`process.host.name`).
///
/// So does a column passed through under another qualifier than its input's: DataFusion's
/// optimizer leaves `dns.@timestamp AS @timestamp` as a bare `@timestamp` that still outputs
/// the unqualified name, while a rebuilt projection would name it `dns.@timestamp` again, and
/// an aggregate above it would then name its `min(@timestamp)` otherwise.
#[derive(Debug, Default)]
pub struct PinNames;

impl OptimizerRule for PinNames {
    fn name(&self) -> &str {
        "spoor_pin_names"
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, _: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        use datafusion::logical_expr::Expr;
        plan.transform_up(|node| {
            let LogicalPlan::Projection(projection) = node else { return Ok(Transformed::no(node)) };
            let schema = Arc::clone(&projection.schema);
            let input = projection.input.schema();
            // Whether the rebuilt projection would name output `i` otherwise.
            let renamed = |i: usize, e: &Expr| match e {
                Expr::Alias(_) => false,
                Expr::Column(column) => {
                    let (qualifier, field) = schema.qualified_field(i);
                    let rebuilt = input.qualified_field_from_column(column).ok().map(|(q, f)| (q.cloned(), f.name()));
                    rebuilt != Some((qualifier.cloned(), field.name()))
                }
                _ => true,
            };
            let mut pinned_any = false;
            let exprs: Vec<Expr> = projection
                .expr
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    if !renamed(i, e) {
                        return e.clone();
                    }
                    pinned_any = true;
                    let (qualifier, field) = schema.qualified_field(i);
                    e.clone().alias_qualified(qualifier.cloned(), field.name())
                })
                .collect();
            if !pinned_any {
                return Ok(Transformed::no(LogicalPlan::Projection(projection)));
            }
            let pinned = datafusion::logical_expr::Projection::try_new_with_schema(exprs, projection.input, schema)?;
            Ok(Transformed::yes(LogicalPlan::Projection(pinned)))
        })
    }
}
