//! `xor_decode`: droppers (SILKBELL's setup.js among them) hide strings by XOR with a key.

use std::sync::{Arc, OnceLock};

use arrow::array::BinaryArray;
use arrow::datatypes::DataType;

use super::{Accepts::*, Example, Function, Returns, Udf, Variadic, arg, binaries, udf};

pub static XOR_DECODE: Function = Function {
    name: "xor_decode",
    args: &[arg("data", Text), arg("key", Text)],
    variadic: Variadic::No,
    returns: Returns::Bytes,
    doc: "Each byte of `data` XORed with the key's bytes in turn (the key repeats). Null when the key is empty. Chain it after a decoder: `xor_decode(base64_decode(x), \"key\")`.",
    examples: &[
        Example { call: r#"xor_decode(hex_decode("0b01091b"), "hi")"#, result: "char" },
        Example { call: r#"xor_decode(base64_decode("GxsfHw=="), "s")"#, result: "hhll" },
        Example { call: r#"xor_decode("abc", "")"#, result: "NULL" },
    ],
    literal_args: &[],
    lower: |a| {
        static UDF: OnceLock<Udf> = OnceLock::new();
        UDF.get_or_init(|| {
            udf("spoor_xor_decode", vec![DataType::Binary, DataType::Binary], DataType::Binary, |args| {
                let data = binaries(&args[0])?;
                let key = binaries(&args[1])?;
                let out: BinaryArray = data
                    .iter()
                    .zip(key.iter())
                    .map(|(d, k)| match (d, k) {
                        (Some(d), Some(k)) if !k.is_empty() => {
                            Some(d.iter().zip(k.iter().cycle()).map(|(b, k)| b ^ k).collect::<Vec<u8>>())
                        }
                        _ => None,
                    })
                    .collect();
                Ok(Arc::new(out))
            })
        })
        .call(a)
    },
};
