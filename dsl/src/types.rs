//! The types a hunt's values have. Few on purpose: every column maps to one, and the checker
//! can say "a time cannot be compared with a string" instead of the engine failing later.

use arrow::datatypes::DataType;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Type {
    Text,
    Int,
    Float,
    Bool,
    /// UTC instant (µs).
    Time,
    /// A span of time (µs).
    Duration,
    /// An IP address, stored as canonical text.
    Ip,
    /// Decoded bytes (`base64_decode`, `xor_decode`); read as text where text is needed.
    Bytes,
    List(Box<Type>),
    /// Names to text: a record's fields that no column holds (`winlog.event_data`), read as
    /// `winlog.event_data.PipeName` or `get(winlog.event_data, "PipeName")`.
    Map,
    /// The `null` literal, which fits anywhere.
    Null,
}

impl Type {
    /// The type of a stored column. Text columns named `*.ip` (and lists named `*_ip`) hold
    /// addresses.
    pub fn of_column(name: &str, data_type: &DataType) -> Option<Type> {
        let is_ip = name.ends_with(".ip") || name.ends_with("_ip");
        Some(match data_type {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View if is_ip => Type::Ip,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Type::Text,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => Type::Int,
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => Type::Int,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => Type::Float,
            DataType::Decimal128(..) | DataType::Decimal256(..) => Type::Float,
            DataType::Boolean => Type::Bool,
            DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => Type::Time,
            DataType::Duration(_) => Type::Duration,
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => Type::Bytes,
            DataType::List(f) | DataType::LargeList(f) => {
                let inner = Type::of_column(if is_ip { "x.ip" } else { "x" }, f.data_type())?;
                Type::List(Box::new(inner))
            }
            DataType::Dictionary(_, values) => Type::of_column(name, values)?,
            DataType::Map(..) => Type::Map,
            DataType::Null => Type::Null,
            _ => return None,
        })
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Float | Type::Null)
    }

    pub fn is_textual(&self) -> bool {
        matches!(self, Type::Text | Type::Ip | Type::Bytes | Type::Null)
    }

    /// The type both values fit in, where there is one: a float for an integer and a float,
    /// text for an address and text.
    pub fn common(&self, other: &Type) -> Option<Type> {
        use Type::*;
        match (self, other) {
            (Null, t) | (t, Null) => Some(t.clone()),
            (a, b) if a == b => Some(a.clone()),
            (Int | Float, Int | Float) => Some(Float),
            (Text | Ip, Text | Ip) => Some(Text),
            _ => None,
        }
    }

    /// Whether values of the two types can be compared with `==` and `<`.
    pub fn comparable(&self, other: &Type) -> bool {
        use Type::*;
        match (self, other) {
            (Null, _) | (_, Null) => true,
            (a, b) if a == b => true,
            (Int | Float, Int | Float) => true,
            (Text | Ip | Bytes, Text | Ip | Bytes) => true,
            _ => false,
        }
    }
}

impl std::fmt::Display for Type {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Type::Text => f.write_str("string"),
            Type::Int => f.write_str("integer"),
            Type::Float => f.write_str("float"),
            Type::Bool => f.write_str("bool"),
            Type::Time => f.write_str("time"),
            Type::Duration => f.write_str("duration"),
            Type::Ip => f.write_str("IP address"),
            Type::Bytes => f.write_str("bytes"),
            Type::List(t) => write!(f, "list of {t}"),
            Type::Map => f.write_str("map of strings"),
            Type::Null => f.write_str("null"),
        }
    }
}
