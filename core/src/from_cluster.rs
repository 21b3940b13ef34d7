//! The rows a cluster sends back, in the types its plan declares.
//!
//! Ballista's executors send a query's results over Arrow Flight with dictionaries unpacked (a
//! `Dictionary(Int32, Utf8)` column, as spoor stores `host.name`, arrives as plain `Utf8`)
//! while the plan still declares the dictionary. Whatever reads those batches by the plan's
//! schema (a `let` computed once, a Sigma shared scan, a notebook's Arrow table, a Parquet
//! writer) would then meet a type other than the one it was promised. [`FromClusterExec`], on
//! top of a plan that runs on a cluster, casts each column back to its declared type; columns
//! already in it are passed through untouched.

use std::fmt;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, internal_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt;

/// `input`'s rows, each column cast to the type `input` declares for it.
#[derive(Debug)]
pub struct FromClusterExec {
    input: Arc<dyn ExecutionPlan>,
}

impl FromClusterExec {
    pub fn new(input: Arc<dyn ExecutionPlan>) -> FromClusterExec {
        FromClusterExec { input }
    }
}

/// `batch` in `schema`'s types.
fn conformed(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if batch.schema().fields() == schema.fields() {
        return Ok(batch);
    }
    if batch.num_columns() != schema.fields().len() {
        return internal_err!(
            "the cluster sent {} columns where the plan declares {}",
            batch.num_columns(),
            schema.fields().len()
        );
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| {
            if column.data_type() == field.data_type() {
                Ok(Arc::clone(column))
            } else {
                arrow::compute::cast(column, field.data_type())
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

impl DisplayAs for FromClusterExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "FromClusterExec")
    }
}

impl ExecutionPlan for FromClusterExec {
    fn name(&self) -> &str {
        "FromClusterExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn apply_expressions(
        &self,
        _: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return internal_err!("FromClusterExec takes one input, not {}", children.len());
        }
        Ok(Arc::new(FromClusterExec::new(children.remove(0))))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let schema = self.input.schema();
        let rows = self.input.execute(partition, context)?;
        let declared = Arc::clone(&schema);
        let conformed = rows.map(move |batch| batch.and_then(|batch| conformed(batch, &declared)));
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, conformed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, DictionaryArray, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Int32Type, Schema};

    #[test]
    fn unpacked_dictionaries_are_packed_again_and_the_rest_is_untouched() {
        let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let declared = Arc::new(Schema::new(vec![
            Field::new("host.name", dictionary.clone(), true),
            Field::new("n", DataType::Int64, false),
        ]));
        let sent = Arc::new(Schema::new(vec![
            Field::new("host.name", DataType::Utf8, true),
            Field::new("n", DataType::Int64, false),
        ]));
        let hosts = StringArray::from(vec![Some("ci-01"), None, Some("ci-01")]);
        let counts = Arc::new(Int64Array::from(vec![1, 2, 3]));
        let batch = RecordBatch::try_new(sent, vec![Arc::new(hosts), counts.clone()]).unwrap();

        let out = conformed(batch, &declared).unwrap();
        assert_eq!(out.schema(), declared);
        let hosts = out.column(0).as_any().downcast_ref::<DictionaryArray<Int32Type>>().unwrap();
        let values = hosts.downcast_dict::<StringArray>().unwrap();
        assert_eq!(values.into_iter().collect::<Vec<_>>(), vec![Some("ci-01"), None, Some("ci-01")]);
        assert!(Arc::ptr_eq(out.column(1), &(counts as Arc<dyn Array>)), "a column already right is not copied");

        let short = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)])),
            vec![Arc::new(Int64Array::from(vec![1]))],
        )
        .unwrap();
        assert!(conformed(short, &declared).unwrap_err().to_string().contains("1 columns where the plan declares 2"));
    }
}
