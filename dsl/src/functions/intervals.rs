//! For `beacon`: the population standard deviation of the gaps between a key's event times,
//! from the times gathered per key, so no sort of the whole table by key and time is needed.

use std::sync::{Arc, OnceLock};

use arrow::array::{Array, AsArray, Float64Array};
use arrow::datatypes::{DataType, Field, Int64Type};
use datafusion::logical_expr::Expr;

use super::{Udf, udf};

/// `times`: a list of microsecond timestamps (any order). Null for fewer than two.
pub fn gap_stddev_seconds(times: Expr) -> Expr {
    static UDF: OnceLock<Udf> = OnceLock::new();
    UDF.get_or_init(|| {
        let list = DataType::List(Arc::new(Field::new("item", DataType::Int64, true)));
        udf("spoor_gap_stddev_seconds", vec![list], DataType::Float64, |args| {
            let lists = args[0].as_list::<i32>();
            let mut out = Float64Array::builder(lists.len());
            let mut times: Vec<i64> = Vec::new();
            for i in 0..lists.len() {
                if lists.is_null(i) {
                    out.append_null();
                    continue;
                }
                let values = lists.value(i);
                let values = values.as_primitive::<Int64Type>();
                times.clear();
                times.extend(values.iter().flatten());
                out.append_option(stddev(&mut times));
            }
            Ok(Arc::new(out.finish()))
        })
    })
    .call(vec![times])
}

fn stddev(times: &mut [i64]) -> Option<f64> {
    if times.len() < 2 {
        return None;
    }
    times.sort_unstable();
    let gaps = times.windows(2).map(|w| (w[1] - w[0]) as f64 / 1e6);
    let n = (times.len() - 1) as f64;
    let mean = gaps.clone().sum::<f64>() / n;
    let variance = gaps.map(|g| (g - mean) * (g - mean)).sum::<f64>() / n;
    Some(variance.sqrt())
}

#[cfg(test)]
mod tests {
    use super::stddev;

    #[test]
    fn gaps_of_a_metronome_do_not_vary() {
        assert_eq!(stddev(&mut [3_000_000, 1_000_000, 2_000_000]), Some(0.0));
        assert_eq!(stddev(&mut [5]), None);
        // Gaps 1 s and 3 s: mean 2, population stddev 1.
        assert_eq!(stddev(&mut [0, 1_000_000, 4_000_000]), Some(1.0));
    }
}
