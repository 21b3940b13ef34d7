//! `package_name` and `package_names`: the package a dependency spec names, without its range
//! (`plain-crypto-js@^4.2.1` → `plain-crypto-js`, `@babel/core@7.0.0` → `@babel/core`), so two
//! versions' dependency lists compare by package, not by range.

use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ListArray, StringArray};
use arrow::datatypes::{DataType, Field};

use super::{Accepts::*, Example, Function, Returns, Udf, Variadic, arg, strings, udf};

pub static PACKAGE_NAME: Function = Function {
    name: "package_name",
    args: &[arg("spec", Text)],
    variadic: Variadic::No,
    returns: Returns::Text,
    doc: "The package a `name@range` dependency spec names (scoped names keep their leading `@`).",
    examples: &[
        Example { call: r#"package_name("plain-crypto-js@^4.2.1")"#, result: "plain-crypto-js" },
        Example { call: r#"package_name("@babel/core@7.0.0")"#, result: "@babel/core" },
        Example { call: r#"package_name("left-pad")"#, result: "left-pad" },
    ],
    literal_args: &[],
    lower: |a| {
        static UDF: OnceLock<Udf> = OnceLock::new();
        UDF.get_or_init(|| {
            udf("spoor_package_name", vec![DataType::Utf8], DataType::Utf8, |args| {
                let specs = strings(&args[0])?;
                let out: StringArray = specs.iter().map(|s| s.map(name_of)).collect();
                Ok(Arc::new(out))
            })
        })
        .call(a)
    },
};

pub static PACKAGE_NAMES: Function = Function {
    name: "package_names",
    args: &[arg("specs", TextList)],
    variadic: Variadic::No,
    returns: Returns::TextList,
    doc: "`package_name` of every spec in a list (such as `package.dependencies`).",
    examples: &[Example {
        call: r#"package_names(split("axios@^1.14.0,@types/node@20", ","))"#,
        result: "[axios, @types/node]",
    }],
    literal_args: &[],
    lower: |a| {
        static UDF: OnceLock<Udf> = OnceLock::new();
        UDF.get_or_init(|| {
            let list = DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
            udf("spoor_package_names", vec![list.clone()], list, |args| {
                let lists = args[0].as_any().downcast_ref::<ListArray>().cloned().unwrap_or_else(|| {
                    ListArray::new_null(Arc::new(Field::new("item", DataType::Utf8, true)), args[0].len())
                });
                let values = strings(lists.values())?;
                let names: StringArray = values.iter().map(|s| s.map(name_of)).collect();
                let out = ListArray::try_new(
                    Arc::new(Field::new("item", DataType::Utf8, true)),
                    lists.offsets().clone(),
                    Arc::new(names),
                    lists.nulls().cloned(),
                )?;
                Ok(Arc::new(out))
            })
        })
        .call(a)
    },
};

fn name_of(spec: &str) -> &str {
    let spec = spec.trim();
    // The version separator is the first `@` after the name's own leading one.
    match spec.char_indices().skip(1).find(|(_, c)| *c == '@') {
        Some((at, _)) => &spec[..at],
        None => spec,
    }
}
