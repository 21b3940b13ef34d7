//! `cidr_match`: is an address inside a network.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use arrow::array::BooleanArray;
use arrow::datatypes::DataType;
use ipnet::IpNet;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::ColumnarValue;

use super::{Accepts::*, Example, Function, Returns, Udf, Variadic, arg, columnar_udf, strings};

pub static CIDR_MATCH: Function = Function {
    name: "cidr_match",
    args: &[arg("ip", Ip), arg("network", Text)],
    variadic: Variadic::No,
    returns: Returns::Bool,
    doc: "Whether the IP address lies in the network (`10.0.0.0/8`, `2001:db8::/32`; a bare address matches itself). False when either is not an address. `ip in (\"10.0.0.0/8\", ...)` is the same test over several networks.",
    examples: &[
        Example { call: r#"cidr_match("198.51.100.73", "198.51.100.0/24")"#, result: "true" },
        Example { call: r#"cidr_match("2001:db8::1", "2001:db8::/32")"#, result: "true" },
        Example { call: r#"cidr_match("10.1.2.3", "192.168.0.0/16")"#, result: "false" },
        Example { call: r#"cidr_match("not an ip", "10.0.0.0/8")"#, result: "false" },
    ],
    literal_args: &[],
    lower: |a| {
        static UDF: OnceLock<Udf> = OnceLock::new();
        UDF.get_or_init(|| {
            columnar_udf("spoor_cidr_match", vec![DataType::Utf8, DataType::Utf8], DataType::Boolean, |args| {
                // The network is nearly always a literal (`ip in ("10.0.0.0/8", ...)`): parsed
                // once, not once a row.
                if let [
                    ips,
                    ColumnarValue::Scalar(
                        ScalarValue::Utf8(network) | ScalarValue::LargeUtf8(network) | ScalarValue::Utf8View(network),
                    ),
                ] = args
                {
                    let ips = strings(&ips.to_array(1)?)?;
                    let out: BooleanArray = match network.as_deref().map(parse_network) {
                        None => ips.iter().map(|_| None).collect(),
                        Some(net) => ips.iter().map(|ip| ip.map(|ip| is_in(net.as_ref(), ip))).collect(),
                    };
                    return Ok(ColumnarValue::Array(Arc::new(out)));
                }
                let arrays = ColumnarValue::values_to_arrays(args)?;
                let ips = strings(&arrays[0])?;
                let nets = strings(&arrays[1])?;
                let out: BooleanArray = ips
                    .iter()
                    .zip(nets.iter())
                    .map(|(ip, net)| match (ip, net) {
                        (Some(ip), Some(net)) => Some(is_in(parse_network(net).as_ref(), ip)),
                        _ => None,
                    })
                    .collect();
                Ok(ColumnarValue::Array(Arc::new(out)))
            })
        })
        .call(a)
    },
};

pub fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>().ok().or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Whether `ip` is an address in `network`; false when either is not one.
fn is_in(network: Option<&IpNet>, ip: &str) -> bool {
    match (network, ip.trim().parse::<IpAddr>()) {
        (Some(net), Ok(ip)) => net.contains(&ip),
        _ => false,
    }
}
