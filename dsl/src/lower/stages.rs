//! Stages with more to them than one builder call: stacking, lookups, beaconing.

use arrow::datatypes::DataType;
use datafusion::common::{Column, JoinType};
use datafusion::error::Result;
use datafusion::functions::core::expr_fn::nullif;
use datafusion::functions::string::expr_fn::lower;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, cast, lit};

use super::{Direct, Lowerer, col, over};
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
        input_rel: &Rel,
        list_rel: &Rel,
        alias: &str,
        field: &str,
        column: &str,
        mode: LookupMode,
        join: JoinType,
        rel: &Rel,
    ) -> Result<LogicalPlanBuilder> {
        let renamed = |n: &str| format!("{alias}.{n}");
        let input = self.rel(input_rel)?;
        let list =
            self.rel(list_rel)?.projected(list_rel.fields.iter().map(|f| col(&f.name).alias(renamed(&f.name))))?;
        let key = renamed(column);
        // The list is the join's build side (DataFusion hashes the left input): it is the
        // small one, and a match set built from it can be pushed into the table's scan.
        let probe = join.swap();
        let joined = match mode {
            LookupMode::Exact => {
                list.join(input.build()?, probe, (vec![Column::from_name(key)], vec![Column::from_name(field)]), None)?
            }
            LookupMode::Nocase => list.join_with_expr_keys(
                input.build()?,
                probe,
                (vec![lower(col(&key))], vec![lower(col(field))]),
                None,
            )?,
            LookupMode::Domain => self.domain_lookup(input, list, &key, field, input_rel, alias, rel)?,
            LookupMode::Cidr => {
                let contains = functions::cidr_match(col(field), col(&key));
                list.join_on(input.build()?, JoinType::Inner, [contains])?
            }
        };
        joined.projected(self.output(rel).into_iter().map(|f| col(&f.name)))
    }

    /// Rows whose `field` is a listed domain or a subdomain of one: every parent domain of the
    /// name (`a.b.c`, `b.c`, `c`) joined on equality to the list, a hash join however long
    /// the list. Where the input is a plain read of a table, the parents are computed once per
    /// distinct name, and the names that matched are then joined back to the table's rows.
    #[allow(clippy::too_many_arguments)]
    fn domain_lookup(
        &self,
        input: LogicalPlanBuilder,
        list: LogicalPlanBuilder,
        key: &str,
        field: &str,
        input_rel: &Rel,
        alias: &str,
        rel: &Rel,
    ) -> Result<LogicalPlanBuilder> {
        const SUFFIX: &str = "__spoor_domain";
        const NAME: &str = "__spoor_name";
        let listed = datafusion::functions::string::expr_fn::rtrim(vec![lower(col(key)), lit(".")]);
        if input_rel.is_plain_read() {
            let input = input.build()?;
            let names = LogicalPlanBuilder::from(input.clone())
                .aggregate([col(field).alias(NAME)], Vec::<Expr>::new())?
                .projected([col(NAME), functions::domain_suffixes(col(NAME)).alias(SUFFIX)])?
                .unnest_column(Column::from_name(SUFFIX))?
                .build()?;
            let matched = list.join_with_expr_keys(names, JoinType::Inner, (vec![listed], vec![col(SUFFIX)]), None)?;
            return matched.join(
                input,
                JoinType::Inner,
                (vec![Column::from_name(NAME)], vec![Column::from_name(field)]),
                None,
            );
        }
        let expanded = input
            .projected(
                self.output(rel)
                    .into_iter()
                    .filter(|f| !f.name.starts_with(&format!("{alias}.")))
                    .map(|f| col(&f.name))
                    .chain([functions::domain_suffixes(col(field)).alias(SUFFIX)]),
            )?
            .unnest_column(Column::from_name(SUFFIX))?
            .build()?;
        list.join_with_expr_keys(expanded, JoinType::Inner, (vec![listed], vec![col(SUFFIX)]), None)
    }

    /// Per key: connections, first and last time, the mean interval (the span over the number of
    /// gaps), and the measures of regularity `functions::beacon_measures` computes from each
    /// key's times (and sizes, `with_sizes`) gathered in the aggregation, so the whole table is
    /// never sorted by key and time. The observation is the run's window, or else the span of
    /// the beacon's whole input (the earliest first and latest last of all keys).
    pub(super) fn beacon(
        &self,
        input: LogicalPlanBuilder,
        by: &[String],
        with_sizes: bool,
    ) -> Result<LogicalPlanBuilder> {
        const TIMES: &str = "__spoor_times";
        const SIZES: &str = "__spoor_sizes";
        const MEASURES: &str = "__spoor_measures";
        const START: &str = "__spoor_start";
        const END: &str = "__spoor_end";
        let ts = col("@timestamp");
        let micros = |e: Expr| cast(e, DataType::Int64);
        let mut gathered = vec![
            agg::count(lit(1)).alias("beacon.count"),
            agg::min(ts.clone()).alias("beacon.first"),
            agg::max(ts.clone()).alias("beacon.last"),
            agg::array_agg(micros(ts)).alias(TIMES),
        ];
        if with_sizes {
            gathered.push(agg::array_agg(col(crate::ir::BEACON_SIZE)).alias(SIZES));
        }
        let aggregated = input.grouped(by.iter().map(|b| col(b)), gathered)?;
        let observed = match self.options.window {
            Some((start, end)) => {
                let mut columns: Vec<Expr> = self.beacon_gathered(by, with_sizes);
                columns.extend([lit(start.timestamp_micros()).alias(START), lit(end.timestamp_micros()).alias(END)]);
                aggregated.projected(columns)?
            }
            None => {
                let start = over(agg::min(micros(col("beacon.first"))), &[], None)?;
                let end = over(agg::max(micros(col("beacon.last"))), &[], None)?;
                let plan = aggregated.build()?;
                let start = datafusion::logical_expr::expr_rewriter::normalize_col(start, &plan)?;
                let end = datafusion::logical_expr::expr_rewriter::normalize_col(end, &plan)?;
                let (start_name, end_name) = (start.schema_name().to_string(), end.schema_name().to_string());
                let windowed = LogicalPlanBuilder::window_plan(plan, [start, end])?;
                let mut columns: Vec<Expr> = self.beacon_gathered(by, with_sizes);
                columns.extend([
                    Expr::Column(Column::from_name(start_name)).alias(START),
                    Expr::Column(Column::from_name(end_name)).alias(END),
                ]);
                LogicalPlanBuilder::from(windowed).projected(columns)?
            }
        };
        let span_seconds =
            cast(micros(col("beacon.last")) - micros(col("beacon.first")), DataType::Float64) / lit(1_000_000.0);
        let gaps = cast(col("beacon.count") - lit(1i64), DataType::Float64);
        let interval = span_seconds / nullif(gaps, lit(0.0));
        let sizes = if with_sizes { col(SIZES) } else { functions::no_sizes() };
        let mut measured: Vec<Expr> = by.iter().map(|b| col(b)).collect();
        measured.extend([
            col("beacon.count"),
            col("beacon.first"),
            col("beacon.last"),
            interval.alias("beacon.interval"),
            functions::beacon_measures(col(TIMES), sizes, col(START), col(END)).alias(MEASURES),
        ]);
        let measure = |name: &str| datafusion::functions::core::expr_fn::get_field(col(MEASURES), name);
        let mut out: Vec<Expr> = by.iter().map(|b| col(b)).collect();
        out.extend(["beacon.count", "beacon.first", "beacon.last", "beacon.interval"].map(col));
        out.push(measure("stddev").alias("beacon.stddev"));
        out.push((measure("stddev") / nullif(col("beacon.interval"), lit(0.0))).alias("beacon.jitter"));
        out.extend(
            functions::BEACON_MEASURES
                .iter()
                .filter(|m| **m != "stddev")
                .map(|m| measure(m).alias(format!("beacon.{m}"))),
        );
        observed.projected(measured)?.projected(out)
    }

    /// The keys and what the aggregation gathered for them.
    fn beacon_gathered(&self, by: &[String], with_sizes: bool) -> Vec<Expr> {
        let mut columns: Vec<Expr> = by.iter().map(|b| col(b)).collect();
        columns.extend(["beacon.count", "beacon.first", "beacon.last", "__spoor_times"].map(col));
        if with_sizes {
            columns.push(col("__spoor_sizes"));
        }
        columns
    }
}
