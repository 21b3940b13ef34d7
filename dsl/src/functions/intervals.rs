//! For `beacon`: how regular a key's connections are, from the times (and sizes) gathered per
//! key, so no sort of the whole table by key and time is needed.
//!
//! The measures and the score follow RITA's beacon analysis (Active Countermeasures): a timer
//! gives intervals symmetric around their median (Bowley's quartile skewness near 0) and tightly
//! grouped (a small median absolute deviation about the median, MADM), and it keeps calling
//! through the whole observation (connections in most of its hours); a beacon's requests are
//! also alike in size (symmetric, tightly grouped, and small). Each of these is a part score in
//! 0..1, and `score` is their mean:
//!
//! | part | score |
//! |---|---|
//! | interval skew | 1 − \|skew\| |
//! | interval MADM | 1 − MADM / 30 s, at least 0 |
//! | coverage | hours with a connection / hours observed |
//! | size skew | 1 − \|skew of sizes\| |
//! | size MADM | 1 − MADM / 32 bytes, at least 0 |
//! | smallness | 1 − most common size / 65,535, at least 0 |
//!
//! The intervals are the gaps longer than a second between consecutive connections: a burst (a
//! browser's parallel fetches, a retry) is one call, and would otherwise look like a perfect
//! timer. The standard deviation (and `jitter`) are of all the gaps, as before RITA's measures.
//! The three size parts count only where the input has sizes (`source.bytes`). Quartiles and
//! medians are taken as RITA takes them: the element at index round(q × (n − 1)) of the sorted
//! values; the skew is 0 where the quartiles make it unreliable (Q2 equal to Q1 or Q3).

use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ArrayRef, AsArray, Float64Builder, StructArray};
use arrow::datatypes::{DataType, Field, Fields, Int64Type};
use datafusion::logical_expr::Expr;

use super::{Udf, udf};

/// The measures, in the order of the struct the kernel returns.
pub const MEASURES: [&str; 9] =
    ["stddev", "median", "skew", "madm", "coverage", "bytes", "bytes_skew", "bytes_madm", "score"];

/// Intervals' MADM at which their part of the score reaches 0 (RITA's cut-off).
const MADM_CUTOFF_SECONDS: f64 = 30.0;
/// Sizes' MADM at which their part reaches 0 (RITA's cut-off).
const SIZE_MADM_CUTOFF_BYTES: f64 = 32.0;
const HOUR_MICROS: i64 = 3_600_000_000;
/// Connections this close to the previous one belong to the same call.
const BURST_MICROS: i64 = 1_000_000;

/// `times`: a key's microsecond timestamps (any order); `sizes`: its bytes sent per connection
/// (a null list where the input has none); `start` and `end`: the observation, in microseconds.
/// A struct of [`MEASURES`], each null where it cannot be computed (fewer than two times).
pub fn beacon_measures(times: Expr, sizes: Expr, start: Expr, end: Expr) -> Expr {
    static UDF: OnceLock<Udf> = OnceLock::new();
    UDF.get_or_init(|| {
        let list = DataType::List(Arc::new(Field::new("item", DataType::Int64, true)));
        let inputs = vec![list.clone(), list, DataType::Int64, DataType::Int64];
        udf("spoor_beacon_measures", inputs, DataType::Struct(fields()), |args| {
            let times = args[0].as_list::<i32>();
            let sizes = args[1].as_list::<i32>();
            let start = args[2].as_primitive::<Int64Type>();
            let end = args[3].as_primitive::<Int64Type>();
            let mut columns: Vec<Float64Builder> = MEASURES.iter().map(|_| Float64Builder::new()).collect();
            let (mut t, mut s) = (Vec::new(), Vec::new());
            for row in 0..times.len() {
                t.clear();
                s.clear();
                if times.is_valid(row) {
                    t.extend(times.value(row).as_primitive::<Int64Type>().iter().flatten());
                }
                if sizes.is_valid(row) {
                    s.extend(sizes.value(row).as_primitive::<Int64Type>().iter().flatten());
                }
                let observed = (start.is_valid(row) && end.is_valid(row)).then(|| (start.value(row), end.value(row)));
                let m = Measures::of(&mut t, &mut s, observed);
                let values =
                    [m.stddev, m.median, m.skew, m.madm, m.coverage, m.bytes, m.bytes_skew, m.bytes_madm, m.score];
                for (column, value) in columns.iter_mut().zip(values) {
                    column.append_option(value);
                }
            }
            let arrays: Vec<ArrayRef> = columns.iter_mut().map(|c| Arc::new(c.finish()) as ArrayRef).collect();
            Ok(Arc::new(StructArray::new(fields(), arrays, None)))
        })
    })
    .call(vec![times, sizes, start, end])
}

fn fields() -> Fields {
    MEASURES.iter().map(|m| Field::new(*m, DataType::Float64, true)).collect()
}

/// A null list of sizes, for an input without them.
pub fn no_sizes() -> Expr {
    let list = DataType::List(Arc::new(Field::new("item", DataType::Int64, true)));
    datafusion::logical_expr::lit(
        datafusion::scalar::ScalarValue::try_from(&list).unwrap_or(datafusion::scalar::ScalarValue::Null),
    )
}

#[derive(Debug, Default, PartialEq)]
struct Measures {
    stddev: Option<f64>,
    median: Option<f64>,
    skew: Option<f64>,
    madm: Option<f64>,
    coverage: Option<f64>,
    bytes: Option<f64>,
    bytes_skew: Option<f64>,
    bytes_madm: Option<f64>,
    score: Option<f64>,
}

/// The element at quantile `q` of sorted values, as RITA picks it.
fn quantile(sorted: &[i64], q: f64) -> i64 {
    sorted[(q * (sorted.len() - 1) as f64 + 0.5).floor() as usize]
}

/// Bowley's skewness by quartiles, and the median absolute deviation about the median, of
/// sorted values (at least one).
fn shape(sorted: &[i64]) -> (f64, i64, i64) {
    let (low, mid, high) = (quantile(sorted, 0.25), quantile(sorted, 0.5), quantile(sorted, 0.75));
    let skew = if high != low && mid != low && mid != high {
        (low + high - 2 * mid) as f64 / (high - low) as f64
    } else {
        0.0
    };
    let mut deviations: Vec<i64> = sorted.iter().map(|v| (v - mid).abs()).collect();
    deviations.sort_unstable();
    (skew, quantile(&deviations, 0.5), mid)
}

/// The most common value of sorted values, the smallest of those tied.
fn mode(sorted: &[i64]) -> i64 {
    let mut best = (sorted[0], 0);
    let mut run = (sorted[0], 0);
    for &v in sorted {
        run = if v == run.0 { (v, run.1 + 1) } else { (v, 1) };
        if run.1 > best.1 {
            best = run;
        }
    }
    best.0
}

impl Measures {
    fn of(times: &mut [i64], sizes: &mut [i64], observed: Option<(i64, i64)>) -> Measures {
        if times.len() < 2 {
            return Measures::default();
        }
        times.sort_unstable();
        let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let seconds = |micros: f64| micros / 1e6;
        let n = gaps.len() as f64;
        let mean = gaps.iter().map(|&g| g as f64).sum::<f64>() / n;
        let variance = gaps.iter().map(|&g| (g as f64 - mean).powi(2)).sum::<f64>() / n;
        // A burst (a browser's parallel fetches, a retry) is one call, not a timer's intervals.
        let mut intervals: Vec<i64> = gaps.into_iter().filter(|&g| g > BURST_MICROS).collect();
        intervals.sort_unstable();

        let hour = |t: i64| t.div_euclid(HOUR_MICROS);
        let mut hours: Vec<i64> = times.iter().map(|&t| hour(t)).collect();
        hours.dedup();
        let (start, end) = observed.unwrap_or((times[0], times[times.len() - 1]));
        let observed_hours = (hour(end.max(times[times.len() - 1])) - hour(start.min(times[0])) + 1).max(1);
        let coverage = (hours.len() as f64 / observed_hours as f64).min(1.0);

        let mut m =
            Measures { stddev: Some(seconds(variance.sqrt())), coverage: Some(coverage), ..Measures::default() };
        if intervals.is_empty() {
            return m;
        }
        let (skew, madm, median) = shape(&intervals);
        let madm = seconds(madm as f64);
        let mut parts = vec![1.0 - skew.abs(), (1.0 - madm / MADM_CUTOFF_SECONDS).max(0.0), coverage];
        (m.median, m.skew, m.madm) = (Some(seconds(median as f64)), Some(skew), Some(madm));
        if !sizes.is_empty() {
            sizes.sort_unstable();
            let (size_skew, size_madm, size_median) = shape(sizes);
            parts.extend([
                1.0 - size_skew.abs(),
                (1.0 - size_madm as f64 / SIZE_MADM_CUTOFF_BYTES).max(0.0),
                (1.0 - mode(sizes) as f64 / 65_535.0).max(0.0),
            ]);
            m.bytes = Some(size_median as f64);
            m.bytes_skew = Some(size_skew);
            m.bytes_madm = Some(size_madm as f64);
        }
        m.score = Some(parts.iter().sum::<f64>() / parts.len() as f64);
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    fn times(gaps: &[i64]) -> Vec<i64> {
        let mut t = vec![0];
        for g in gaps {
            t.push(t[t.len() - 1] + g * S);
        }
        t
    }

    #[test]
    fn a_metronome_scores_one() {
        let mut t = times(&[60; 59]);
        let m = Measures::of(&mut t, &mut [], None);
        assert_eq!(
            (m.stddev, m.median, m.skew, m.madm, m.coverage),
            (Some(0.0), Some(60.0), Some(0.0), Some(0.0), Some(1.0))
        );
        assert_eq!(m.score, Some(1.0));
    }

    #[test]
    fn skew_and_madm_by_quartiles() {
        // Gaps sorted [2, 2, 4, 6, 20]: Q1 (index 1) 2, Q2 4, Q3 (index 3) 6; Bowley
        // (2 + 6 − 8) / 4 = 0; deviations from 4 sorted [0, 2, 2, 2, 16]: MADM 2.
        let m = Measures::of(&mut times(&[6, 2, 20, 4, 2]), &mut [], None);
        assert_eq!((m.median, m.skew, m.madm), (Some(4.0), Some(0.0), Some(2.0)));
        // Sorted [2, 4, 4, 10, 18]: Q1 = Q2, so the skew is unreliable and taken as 0.
        let m = Measures::of(&mut times(&[18, 4, 2, 10, 4]), &mut [], None);
        assert_eq!(m.skew, Some(0.0));
        // Sorted [2, 4, 8, 10, 12]: (4 + 10 − 16) / 6 = −1/3.
        let m = Measures::of(&mut times(&[12, 2, 10, 4, 8]), &mut [], None);
        assert!((m.skew.unwrap() + 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn coverage_counts_hours_with_connections_over_hours_observed() {
        // Connections in hours 0 and 2 of an observation of hours 0..=3.
        let mut t = vec![0, 60 * S, 2 * 3600 * S];
        let m = Measures::of(&mut t, &mut [], Some((0, 3 * 3600 * S + 1)));
        assert_eq!(m.coverage, Some(0.5));
        // Without an observation, the key's own span: hours 0..=2, two with connections.
        let m = Measures::of(&mut t, &mut [], None);
        assert!((m.coverage.unwrap() - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn sizes_add_three_parts_and_too_few_times_give_nothing() {
        let mut t = times(&[60; 10]);
        let m = Measures::of(&mut t, &mut [512; 11], None);
        assert_eq!((m.bytes, m.bytes_skew, m.bytes_madm), (Some(512.0), Some(0.0), Some(0.0)));
        let smallness = 1.0 - 512.0 / 65_535.0;
        assert!((m.score.unwrap() - (5.0 + smallness) / 6.0).abs() < 1e-12);
        assert_eq!(Measures::of(&mut [5], &mut [], None), Measures::default());
        // Bursts of connections within a second are one call each: intervals 100 s and 300 s
        // (of two, the median is the upper one, as RITA picks it).
        let mut t = vec![0, 200_000, 100 * S + 200_000, 100 * S + 700_000, 400 * S + 700_000];
        let m = Measures::of(&mut t, &mut [], None);
        assert_eq!((m.median, m.madm), (Some(300.0), Some(200.0)));
        let m = Measures::of(&mut [0, 300_000, 600_000], &mut [], None);
        assert_eq!((m.median, m.score, m.coverage), (None, None, Some(1.0)));
        assert_eq!(mode(&[1, 2, 2, 3, 3]), 2);
    }
}
