//! Stages with more to them than one builder call: stacking, lookups, beaconing.

use arrow::datatypes::DataType;
use datafusion::common::{Column, JoinType};
use datafusion::error::Result;
use datafusion::functions::core::expr_fn::nullif;
use datafusion::functions::string::expr_fn::lower;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, cast, lit};

use super::{Direct, Lowerer, col};
use crate::ast::LookupMode;
use crate::functions;
use crate::ir::Rel;

impl Lowerer<'_> {
    /// Values by how many distinct `across` values saw them (`spread`), then by row count.
    pub(super) fn stack(
        &self,
        input: LogicalPlanBuilder,
        rare: bool,
        fields: &[String],
        across: Option<&str>,
        limit: Option<u64>,
    ) -> Result<LogicalPlanBuilder> {
        let groups: Vec<Expr> = fields.iter().map(|f| col(f)).collect();
        let spread = match across {
            Some(a) => agg::count_distinct(col(a)),
            None => agg::count(lit(1)),
        };
        let aggregated = input.grouped(groups, [agg::count(lit(1)).alias("count"), spread.alias("spread")])?;
        // rare: least seen first; top: most seen first.
        let mut keys = vec![col("spread").sort(rare, false), col("count").sort(rare, false)];
        keys.extend(fields.iter().map(|f| col(f).sort(true, false)));
        let mut out = aggregated.ordered(keys)?;
        if let Some(n) = limit {
            out = out.limit(0, Some(usize::try_from(n).unwrap_or(usize::MAX)))?;
        }
        let mut columns: Vec<Expr> = fields.iter().map(|f| col(f)).collect();
        columns.extend([col("count"), col("spread")]);
        out.projected(columns)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn lookup(
        &self,
        input: LogicalPlanBuilder,
        list: LogicalPlanBuilder,
        list_rel: &Rel,
        alias: &str,
        field: &str,
        column: &str,
        mode: LookupMode,
        join: JoinType,
        rel: &Rel,
    ) -> Result<LogicalPlanBuilder> {
        let renamed = |n: &str| format!("{alias}.{n}");
        let list = list.projected(list_rel.fields.iter().map(|f| col(&f.name).alias(renamed(&f.name))))?.build()?;
        let key = renamed(column);
        let joined = match mode {
            LookupMode::Exact => {
                input.join(list, join, (vec![Column::from_name(field)], vec![Column::from_name(key)]), None)?
            }
            LookupMode::Nocase => {
                input.join_with_expr_keys(list, join, (vec![lower(col(field))], vec![lower(col(&key))]), None)?
            }
            LookupMode::Domain => {
                // Every parent domain of the name (`a.b.c`, `b.c`, `c`), one row each, joined on
                // equality: a hash join, however long the list.
                const SUFFIX: &str = "__spoor_domain";
                let expanded = input
                    .projected(
                        self.output(rel)
                            .into_iter()
                            .filter(|f| !f.name.starts_with(&format!("{alias}.")))
                            .map(|f| col(&f.name))
                            .chain([functions::domain_suffixes(col(field)).alias(SUFFIX)]),
                    )?
                    .unnest_column(Column::from_name(SUFFIX))?;
                let trimmed = datafusion::functions::string::expr_fn::rtrim(vec![lower(col(&key)), lit(".")]);
                expanded.join_with_expr_keys(list, JoinType::Inner, (vec![col(SUFFIX)], vec![trimmed]), None)?
            }
            LookupMode::Cidr => {
                let contains = functions::cidr_match(col(field), col(&key));
                input.join_on(list, JoinType::Inner, [contains])?
            }
        };
        joined.projected(self.output(rel).into_iter().map(|f| col(&f.name)))
    }

    /// Per key: connections, first and last time, and the mean, standard deviation and jitter
    /// (stddev / mean) of the seconds between consecutive events. The mean gap is the span over
    /// the gaps' number; the deviation comes from each key's times gathered in the aggregation,
    /// so the whole table is never sorted by key and time.
    pub(super) fn beacon(&self, input: LogicalPlanBuilder, by: &[String]) -> Result<LogicalPlanBuilder> {
        const TIMES: &str = "__spoor_times";
        let keys: Vec<Expr> = by.iter().map(|b| col(b)).collect();
        let ts = col("@timestamp");
        let micros = |e: Expr| cast(e, DataType::Int64);
        let aggregated = input.grouped(
            keys,
            [
                agg::count(lit(1)).alias("beacon.count"),
                agg::min(ts.clone()).alias("beacon.first"),
                agg::max(ts.clone()).alias("beacon.last"),
                agg::array_agg(micros(ts)).alias(TIMES),
            ],
        )?;
        let span_seconds =
            cast(micros(col("beacon.last")) - micros(col("beacon.first")), DataType::Float64) / lit(1_000_000.0);
        let gaps = cast(col("beacon.count") - lit(1i64), DataType::Float64);
        let interval = span_seconds / nullif(gaps, lit(0.0));
        let mut measured: Vec<Expr> = by.iter().map(|b| col(b)).collect();
        measured.extend([
            col("beacon.count"),
            col("beacon.first"),
            col("beacon.last"),
            interval.alias("beacon.interval"),
            functions::gap_stddev_seconds(col(TIMES)).alias("beacon.stddev"),
        ]);
        let mut out: Vec<Expr> = by.iter().map(|b| col(b)).collect();
        out.extend(["beacon.count", "beacon.first", "beacon.last", "beacon.interval", "beacon.stddev"].map(col));
        out.push((col("beacon.stddev") / nullif(col("beacon.interval"), lit(0.0))).alias("beacon.jitter"));
        aggregated.projected(measured)?.projected(out)
    }
}
