//! One Windows event log record, whatever shape it was exported in, and the readers of each shape.
//!
//! Hunters hold Windows events in many shapes; each reader here turns one into a [`Record`]: the
//! envelope (`System`: provider, channel, event id, computer, time, record number) and the event
//! data as name → text pairs in the source's order. [`super::tables`] maps records to rows.
//! - evtx_dump / SigmaHQ JSON and the `evtx` crate: `Event.System`, `Event.EventData` or
//!   `Event.UserData`, attributes under `#attributes`;
//! - Winlogbeat / Elastic Agent: `winlog.event_id`, `winlog.event_data`;
//! - Azure Sentinel / Log Analytics `WindowsEvent` (EventData as an object or a JSON string) and
//!   `Event` (EventData as XML text);
//! - flat JSON, where the data fields sit beside the envelope (NXLog, Logstash, the Mordor
//!   datasets, Sentinel `SecurityEvent`);
//! - rendered XML `<Event>` elements (wevtutil, Splunk XmlWinEventLog, Sysmon for Linux).

use std::borrow::Cow;
use std::cell::Cell;

use chrono::{DateTime, Utc};
use quick_xml::events::Event as Xml;
use serde_json::{Map, Value as Json};

use crate::formats::util;

/// A Windows event: its envelope and its data. The data may borrow from the text it was read
/// from (`'a`); a record kept past its text is a `Record<'static>`.
#[derive(Debug, Default)]
pub struct Record<'a> {
    pub event_id: i64,
    pub provider: Option<String>,
    pub channel: Option<String>,
    pub computer: Option<String>,
    pub record_id: Option<i64>,
    pub time: Option<DateTime<Utc>>,
    /// The SID the event was logged under (`System/Security/@UserID`).
    pub user_id: Option<String>,
    pub data: Fields<'a>,
}

/// Event data by name. Reading a field marks it as used: the fields never read are the ones no
/// column holds, and go to `winlog.event_data` (see [`Fields::unused`]). Names and values are
/// borrowed where the reader could (EVTX's JSON text, most of whose strings need no unescaping):
/// a row copies each value once, into its column.
#[derive(Debug, Default)]
pub struct Fields<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    used: Vec<Cell<bool>>,
}

impl<'a> Fields<'a> {
    pub fn push(&mut self, name: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) {
        let name = name.into();
        // SigmaHQ and most exporters write field names without spaces (`Threat Name` → `ThreatName`).
        let name = if name.contains(' ') { Cow::Owned(name.replace(' ', "")) } else { name };
        self.pairs.push((name, value.into()));
        self.used.push(Cell::new(false));
    }

    /// Replaces a field's value, or adds the field.
    pub fn set(&mut self, name: &str, value: String) {
        match self.pairs.iter_mut().find(|(n, _)| n == name) {
            Some(pair) => pair.1 = Cow::Owned(value),
            None => self.push(name.to_string(), value),
        }
    }

    /// A field's value, unless it is absent, empty or Windows' placeholder `-`.
    pub fn get(&self, name: &str) -> Option<&str> {
        let index = self.pairs.iter().position(|(n, _)| n == name)?;
        self.used[index].set(true);
        let value = self.pairs[index].1.as_ref();
        let trimmed = value.trim();
        (!trimmed.is_empty() && trimmed != "-").then_some(value)
    }

    /// [`Fields::get`], owned.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }

    /// The first of several names that has a value.
    pub fn any(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|n| self.text(n))
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(util::parse_int)
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (n.as_ref(), v.as_ref()))
    }

    /// The fields no column took, with a value worth keeping.
    pub fn unused(self) -> Vec<(String, String)> {
        self.pairs
            .into_iter()
            .zip(self.used)
            .filter(|((_, v), used)| !used.get() && !v.trim().is_empty() && v.trim() != "-")
            .map(|((n, v), _)| (n.into_owned(), v.into_owned()))
            .collect()
    }

    /// The same fields, owning their text.
    pub fn into_owned(self) -> Fields<'static> {
        let pairs = self.pairs.into_iter().map(|(n, v)| (Cow::Owned(n.into_owned()), Cow::Owned(v.into_owned())));
        Fields { pairs: pairs.collect(), used: self.used }
    }
}

impl Record<'_> {
    /// The same record, owning its text: to keep past the text it was read from.
    pub fn into_owned(self) -> Record<'static> {
        Record {
            event_id: self.event_id,
            provider: self.provider,
            channel: self.channel,
            computer: self.computer,
            record_id: self.record_id,
            time: self.time,
            user_id: self.user_id,
            data: self.data.into_owned(),
        }
    }
}

/// JSON text of a value as event data: strings as they are, numbers and booleans printed,
/// `{"#text": ...}` as its text, anything else as compact JSON. `None` for null.
fn json_text(value: &Json) -> Option<String> {
    match value {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Object(o) if o.contains_key("#text") => json_text(&o["#text"]),
        Json::Array(items) if items.iter().all(|i| i.is_string() || i.is_number()) => {
            Some(items.iter().filter_map(json_text).collect::<Vec<_>>().join("\n"))
        }
        other => Some(other.to_string()),
    }
}

/// Reads a record from any of the JSON shapes; `Err` says what is missing.
pub fn from_json(v: &Json) -> Result<Record<'static>, String> {
    if let Some(event) = util::field(v, "Event").filter(|e| e.get("System").is_some()) {
        return from_evtx_json(event);
    }
    if let Some(winlog) = v.get("winlog").filter(|w| w.is_object()) {
        return from_winlogbeat(v, winlog);
    }
    from_flat(v)
}

/// `{"Event": {"System": {...}, "EventData": {...}}}`: what the `evtx` crate and evtx_dump write.
pub fn from_evtx_json(event: &Json) -> Result<Record<'static>, String> {
    let system = &event["System"];
    let attribute = |element: &str, name: &str| util::text(system, &format!("{element}.#attributes.{name}"));
    // `EventID` is a number, or an object when it has a `Qualifiers` attribute.
    let event_id = system
        .get("EventID")
        .and_then(json_text)
        .and_then(|id| util::parse_int(&id))
        .ok_or("no System.EventID in the event")?;
    let mut record = Record {
        event_id,
        provider: attribute("Provider", "Name").or_else(|| attribute("Provider", "EventSourceName")).map(Into::into),
        channel: util::text(system, "Channel").map(Into::into),
        computer: util::text(system, "Computer").map(Into::into),
        record_id: util::int(system, "EventRecordID"),
        time: attribute("TimeCreated", "SystemTime").and_then(|t| util::parse_time(&t)),
        user_id: attribute("Security", "UserID").map(Into::into),
        data: Fields::default(),
    };
    if let Some(Json::Object(data)) = event.get("EventData") {
        push_object(&mut record.data, data);
    } else if let Some(Json::Object(user_data)) = event.get("UserData") {
        push_user_data(&mut record.data, user_data);
    }
    Ok(record)
}

/// `UserData` holds one element of the provider's own, whose children are the fields.
fn push_user_data(fields: &mut Fields<'static>, user_data: &Map<String, Json>) {
    for (_, inner) in user_data.iter().filter(|(k, _)| !k.starts_with('#')) {
        match inner {
            Json::Object(inner) => push_object(fields, inner),
            other => {
                if let Some(text) = json_text(other) {
                    fields.push("UserData", text);
                }
            }
        }
    }
}

/// [`from_evtx_json`] for the JSON text the `evtx` crate renders, read straight into a record
/// instead of through a JSON tree: the envelope's few fields by name, `EventData` field by field
/// (a tree only for a nested value, which is rare); `UserData`, rarer, as a tree. Reading EVTX
/// spends most of its time here, once per record.
pub fn from_evtx_json_bytes(bytes: &[u8]) -> Result<Record<'_>, String> {
    use serde::Deserialize;
    use std::borrow::Cow;

    #[derive(Deserialize)]
    struct Document<'a> {
        #[serde(rename = "Event", borrow)]
        event: EventJson<'a>,
    }
    #[derive(Deserialize)]
    struct EventJson<'a> {
        #[serde(rename = "System", borrow)]
        system: System<'a>,
        #[serde(rename = "EventData", default, borrow)]
        event_data: Option<EventData<'a>>,
        #[serde(rename = "UserData", default)]
        user_data: Option<Map<String, Json>>,
    }
    #[derive(Deserialize)]
    struct System<'a> {
        #[serde(rename = "Provider", default, borrow)]
        provider: Option<Attributes<'a>>,
        #[serde(rename = "EventID", default)]
        event_id: Option<Json>,
        #[serde(rename = "Channel", default, borrow)]
        channel: Option<Cow<'a, str>>,
        #[serde(rename = "Computer", default, borrow)]
        computer: Option<Cow<'a, str>>,
        #[serde(rename = "EventRecordID", default)]
        record_id: Option<Json>,
        #[serde(rename = "TimeCreated", default, borrow)]
        time_created: Option<Attributes<'a>>,
        #[serde(rename = "Security", default, borrow)]
        security: Option<Attributes<'a>>,
    }
    #[derive(Deserialize, Default)]
    struct Attributes<'a> {
        #[serde(rename = "#attributes", default, borrow)]
        attributes: Option<Named<'a>>,
    }
    /// The attributes read of `Provider`, `TimeCreated` and `Security`.
    #[derive(Deserialize, Default)]
    struct Named<'a> {
        #[serde(rename = "Name", default, borrow)]
        name: Option<Cow<'a, str>>,
        #[serde(rename = "EventSourceName", default, borrow)]
        event_source_name: Option<Cow<'a, str>>,
        #[serde(rename = "SystemTime", default, borrow)]
        system_time: Option<Cow<'a, str>>,
        #[serde(rename = "UserID", default, borrow)]
        user_id: Option<Cow<'a, str>>,
    }

    let Ok(document) = serde_json::from_slice::<Document>(bytes) else {
        // A shape this reader does not expect (an attribute as a number, an element as text):
        // the tree reader takes any.
        let tree: Json = serde_json::from_slice(bytes).map_err(|e| util::json_error(&e))?;
        return from_evtx_json(tree.get("Event").ok_or("the record has no <Event> element")?);
    };
    let system = document.event.system;
    fn attribute(a: Option<Attributes<'_>>) -> Option<Named<'_>> {
        a.and_then(|a| a.attributes)
    }
    let provider = attribute(system.provider).and_then(|n| n.name.or(n.event_source_name));
    let owned = |text: Option<Cow<str>>| text.map(Cow::into_owned);
    let mut record = Record {
        event_id: system
            .event_id
            .as_ref()
            .and_then(json_text)
            .and_then(|id| util::parse_int(&id))
            .ok_or("no System.EventID in the event")?,
        provider: owned(provider),
        channel: owned(system.channel),
        computer: owned(system.computer),
        record_id: system.record_id.as_ref().and_then(json_text).and_then(|id| util::parse_int(&id)),
        time: attribute(system.time_created).and_then(|n| n.system_time).and_then(|t| util::parse_time(&t)),
        user_id: owned(attribute(system.security).and_then(|n| n.user_id)),
        data: Fields::default(),
    };
    if let Some(EventData(data)) = document.event.event_data {
        record.data = data;
    } else if let Some(user_data) = document.event.user_data {
        let mut data = Fields::default();
        push_user_data(&mut data, &user_data);
        record.data = data;
    }
    Ok(record)
}

/// `EventData` read field by field into [`Fields`], as [`push_object`] reads a JSON object:
/// names and string values borrowed from the JSON text where they have no escapes.
struct EventData<'a>(Fields<'a>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for EventData<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = EventData<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an EventData object")
            }
            fn visit_unit<E>(self) -> Result<EventData<'de>, E> {
                Ok(EventData(Fields::default()))
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<EventData<'de>, M::Error> {
                let mut fields = Fields::default();
                while let Some(key) = map.next_key::<DataText>()? {
                    let text = map.next_value::<DataText>()?;
                    // JSON keys are strings: `One(Some(..))`, borrowed like the values.
                    let DataText::One(Some(name)) = key else { continue };
                    if name.starts_with('#') || name == "xmlns" {
                        continue;
                    }
                    match (name.as_ref(), text) {
                        // Unnamed `<Data>` elements, as Winlogbeat names them.
                        ("Data", DataText::List(items)) => {
                            for (i, item) in items.into_iter().enumerate() {
                                fields.push(format!("param{}", i + 1), item);
                            }
                        }
                        ("Data", DataText::One(Some(text))) => fields.push("param1", text),
                        (_, DataText::One(Some(text))) => fields.push(name, text),
                        (_, DataText::List(items)) => fields.push(name, items.join("\n")),
                        (_, DataText::One(None)) => {}
                    }
                }
                Ok(EventData(fields))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// A data field's value as text ([`json_text`]); an array of strings and numbers as a list.
/// Strings are borrowed from the JSON text unless they had escapes to undo.
enum DataText<'a> {
    One(Option<Cow<'a, str>>),
    List(Vec<String>),
}

impl<'de> serde::Deserialize<'de> for DataText<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Strings, the common case, without a JSON tree; anything else as `json_text` reads it.
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = DataText<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an event data value")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<DataText<'de>, E> {
                Ok(DataText::One(Some(Cow::Borrowed(text))))
            }
            fn visit_str<E>(self, text: &str) -> Result<DataText<'de>, E> {
                Ok(DataText::One(Some(Cow::Owned(text.to_string()))))
            }
            fn visit_string<E>(self, text: String) -> Result<DataText<'de>, E> {
                Ok(DataText::One(Some(Cow::Owned(text))))
            }
            fn visit_u64<E>(self, n: u64) -> Result<DataText<'de>, E> {
                Ok(DataText::One(Some(Cow::Owned(n.to_string()))))
            }
            fn visit_i64<E>(self, n: i64) -> Result<DataText<'de>, E> {
                Ok(DataText::One(Some(Cow::Owned(n.to_string()))))
            }
            fn visit_f64<E>(self, n: f64) -> Result<DataText<'de>, E> {
                Ok(DataText::One(json_text(&Json::from(n)).map(Cow::Owned)))
            }
            fn visit_bool<E>(self, b: bool) -> Result<DataText<'de>, E> {
                Ok(DataText::One(Some(Cow::Owned(b.to_string()))))
            }
            fn visit_unit<E>(self) -> Result<DataText<'de>, E> {
                Ok(DataText::One(None))
            }
            fn visit_none<E>(self) -> Result<DataText<'de>, E> {
                Ok(DataText::One(None))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<DataText<'de>, A::Error> {
                use serde::Deserialize;
                let items = Vec::<Json>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
                Ok(tree_text(Json::Array(items)))
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<DataText<'de>, M::Error> {
                use serde::Deserialize;
                let object = Map::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(tree_text(Json::Object(object)))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// [`DataText`] of a value read as a JSON tree (an array or an object).
fn tree_text<'a>(value: Json) -> DataText<'a> {
    match value {
        Json::Array(items) if items.iter().all(|i| i.is_string() || i.is_number()) => {
            DataText::List(items.iter().filter_map(json_text).collect())
        }
        other => DataText::One(json_text(&other).map(Cow::Owned)),
    }
}

/// Event data fields of an object. Unnamed `<Data>` elements (an array under `Data`) become
/// `param1`, `param2`, ... as Winlogbeat names them.
fn push_object(fields: &mut Fields<'static>, data: &Map<String, Json>) {
    for (name, value) in data {
        if name.starts_with('#') || name == "xmlns" {
            continue;
        }
        match (name.as_str(), value) {
            ("Data", Json::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(text) = json_text(item) {
                        fields.push(format!("param{}", i + 1), text);
                    }
                }
            }
            ("Data", Json::String(_) | Json::Number(_)) => fields.push("param1", json_text(value).unwrap_or_default()),
            _ => {
                if let Some(text) = json_text(value) {
                    fields.push(name.clone(), text);
                }
            }
        }
    }
}

fn from_winlogbeat(v: &Json, winlog: &Json) -> Result<Record<'static>, String> {
    let event_id = util::int(winlog, "event_id").or_else(|| util::int(v, "event.code")).ok_or("no winlog.event_id")?;
    let mut record = Record {
        event_id,
        provider: util::text(winlog, "provider_name").map(Into::into),
        channel: util::text(winlog, "channel").map(Into::into),
        computer: util::text_any(winlog, &["computer_name"])
            .or_else(|| util::text_any(v, &["host.name", "host.hostname"]))
            .map(Into::into),
        record_id: util::int(winlog, "record_id"),
        time: util::time(v, "@timestamp"),
        user_id: util::text(winlog, "user.identifier").map(Into::into),
        data: Fields::default(),
    };
    if let Some(Json::Object(data)) = winlog.get("event_data") {
        push_object(&mut record.data, data);
    } else if let Some(Json::Object(data)) = winlog.get("user_data") {
        push_object(&mut record.data, data);
    }
    Ok(record)
}

/// Envelope keys of the flat shapes (NXLog, Logstash, Sentinel), which are not event data.
/// NXLog's `EventType` (`INFO`, `AUDIT_SUCCESS`) is not among them: Sysmon's registry events
/// have a data field of that name (`SetValue`), which flat exports write in its place.
/// `ProcessID` and `ThreadID` in NXLog's capitalisation are the logging process's (Sysmon's own
/// data says `ProcessId`); `Message` is the rendered text of the data that is kept.
const FLAT_ENVELOPE: &[&str] = &[
    "EventID",
    "EventId",
    "event_id",
    "SourceName",
    "ProviderName",
    "Provider",
    "Source",
    "ProviderGuid",
    "Channel",
    "EventLog",
    "Hostname",
    "Computer",
    "host",
    "@timestamp",
    "@version",
    "TimeCreated",
    "TimeGenerated",
    "EventTime",
    "EventReceivedTime",
    "RecordNumber",
    "EventRecordID",
    "EventRecordId",
    "Version",
    "Level",
    "Task",
    "Opcode",
    "Keywords",
    "Severity",
    "SeverityValue",
    "OpcodeValue",
    "Category",
    "SourceModuleName",
    "SourceModuleType",
    "ProcessID",
    "ThreadID",
    "ExecutionProcessID",
    "ExecutionThreadID",
    "UserID",
    "AccountType",
    "Domain",
    "AccountName",
    "tags",
    "port",
    "Message",
    "EventData",
    "TenantId",
    "Type",
    "_ResourceId",
    "SourceSystem",
    "MG",
    "ManagementGroupName",
    "EventOriginId",
    "EventLevel",
    "EventLevelName",
    "EventCategory",
    "RenderedDescription",
    "ParameterXml",
    "AzureDeploymentID",
    "Role",
    "Activity",
    "TimeCollected",
    "SystemUserId",
    "SystemProcessId",
    "SystemThreadId",
    "Correlation",
    "EventSourceName",
    "SourceComputerId",
    "InstanceId",
    "EventData_dynamic",
    // evtx_dump's `System` flattened with `_` (`Provider_Name`, `Execution_ProcessID`).
    "Provider_Name",
    "Provider_Guid",
    "Provider_EventSourceName",
    "Execution_ProcessID",
    "Execution_ThreadID",
    "Security_UserID",
];

/// Flat shapes: the data beside the envelope, or in `EventData` as an object, a JSON string
/// (Sentinel `WindowsEvent`) or XML text (Sentinel `Event`).
fn from_flat(v: &Json) -> Result<Record<'static>, String> {
    let object = v.as_object().ok_or("not a JSON object")?;
    let event_id = ["EventID", "EventId", "event_id"].iter().find_map(|k| util::int(v, k)).ok_or("no EventID")?;
    let time = ["@timestamp", "TimeCreated", "TimeGenerated", "UtcTime"].iter().find_map(|k| util::time(v, k));
    let mut record = Record {
        event_id,
        provider: util::text_any(
            v,
            &[
                "ProviderName",
                "Provider_Name",
                "Provider",
                "SourceName",
                "EventSourceName",
                "Provider_EventSourceName",
                "Source",
            ],
        )
        .map(Into::into),
        channel: util::text_any(v, &["Channel", "EventLog"]).map(Into::into),
        computer: util::text_any(v, &["Hostname", "Computer", "host.name"]).map(Into::into),
        record_id: util::int(v, "RecordNumber")
            .or_else(|| util::int(v, "EventRecordID"))
            .or_else(|| util::int(v, "EventRecordId")),
        time,
        user_id: util::text_any(v, &["UserID", "Security_UserID"]).map(Into::into),
        data: Fields::default(),
    };
    match object.get("EventData") {
        Some(Json::Object(data)) => push_object(&mut record.data, data),
        Some(Json::String(text)) if text.trim_start().starts_with('{') => {
            let data: Json = serde_json::from_str(text).map_err(|e| format!("EventData is not valid JSON: {e}"))?;
            if let Json::Object(data) = data {
                push_object(&mut record.data, &data);
            }
        }
        Some(Json::String(text)) if text.trim_start().starts_with('<') => {
            let parsed = from_xml(text, true)?;
            record.data = parsed.data;
        }
        _ => {}
    }
    // Sentinel keeps unnamed event data as a JSON array in a string.
    if let Some(Json::String(items)) = object.get("EventData_dynamic")
        && let Ok(Json::Array(items)) = serde_json::from_str::<Json>(items)
    {
        push_object(&mut record.data, &Map::from_iter([("Data".to_string(), Json::Array(items))]));
    }
    // NXLog names the provider `SourceName`; where the provider has its own key, a `SourceName`
    // is the event's data (Defender's `Real-Time Protection`).
    let named_provider = ["ProviderName", "Provider_Name", "Provider"].iter().any(|k| object.contains_key(*k));
    for (name, value) in object {
        let data_named_like_envelope = named_provider && matches!(name.as_str(), "SourceName" | "Source");
        if FLAT_ENVELOPE.contains(&name.as_str()) && !data_named_like_envelope {
            continue;
        }
        if let Some(text) = json_text(value) {
            record.data.push(name.clone(), text);
        }
    }
    Ok(record)
}

/// Reads a rendered `<Event>` element (or, with `data_only`, any XML holding `<Data Name=..>`
/// elements, as Sentinel's `Event` table keeps them).
pub fn from_xml(xml: &str, data_only: bool) -> Result<Record<'static>, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    // Sysmon for Linux writes command lines with a bare `&` (`0>&1`): read it as text.
    reader.config_mut().allow_dangling_amp = true;
    let mut record = Record::default();
    let mut event_id = None;
    let mut path: Vec<String> = Vec::new();
    // The field whose text is being read, and its text so far.
    let mut field: Option<(String, String)> = None;
    let mut unnamed = 0;
    let mut system_text = String::new();
    loop {
        let event =
            reader.read_event().map_err(|e| format!("malformed event XML at byte {}: {e}", reader.error_position()))?;
        match event {
            Xml::Start(ref tag) | Xml::Empty(ref tag) => {
                let name = String::from_utf8_lossy(tag.local_name().as_ref()).into_owned();
                let attr = |key: &[u8]| {
                    tag.attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == key)
                        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
                };
                let parent = path.last().map(String::as_str);
                let in_user_data = path.len() >= 2 && path[path.len() - 2] == "UserData";
                match (parent, name.as_str()) {
                    (Some("System"), "Provider") => {
                        record.provider = attr(b"Name").or_else(|| attr(b"EventSourceName"))
                    }
                    (Some("System"), "TimeCreated") => {
                        record.time = attr(b"SystemTime").and_then(|t| util::parse_time(&t))
                    }
                    (Some("System"), "Security") => record.user_id = attr(b"UserID"),
                    (_, "Data") if !in_user_data => {
                        let key = attr(b"Name").unwrap_or_else(|| {
                            unnamed += 1;
                            format!("param{unnamed}")
                        });
                        field = Some((key, String::new()));
                    }
                    _ if in_user_data => field = Some((name.clone(), String::new())),
                    _ => {}
                }
                system_text.clear();
                if matches!(event, Xml::Empty(_)) {
                    if let Some((key, value)) = field.take() {
                        record.data.push(key, value);
                    }
                } else {
                    path.push(name);
                }
            }
            Xml::Text(text) => {
                let text = text.xml_content().map_err(|e| format!("malformed event XML text: {e}"))?;
                match &mut field {
                    Some((_, value)) => value.push_str(&text),
                    None => system_text.push_str(&text),
                }
            }
            Xml::CData(text) => {
                if let Some((_, value)) = &mut field {
                    value.push_str(&String::from_utf8_lossy(&text));
                }
            }
            Xml::GeneralRef(reference) => {
                // `&amp;` and friends arrive as separate references.
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => {
                        let name = String::from_utf8_lossy(&reference).into_owned();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .map(str::to_string)
                            .unwrap_or_else(|| format!("&{name};"))
                    }
                };
                match &mut field {
                    Some((_, value)) => value.push_str(&resolved),
                    None => system_text.push_str(&resolved),
                }
            }
            Xml::End(_) => {
                let name = path.pop().unwrap_or_default();
                if let Some((key, value)) = field.take() {
                    record.data.push(key, value);
                } else if path.last().map(String::as_str) == Some("System") {
                    let text = std::mem::take(&mut system_text);
                    match name.as_str() {
                        "EventID" => event_id = util::parse_int(&text),
                        "EventRecordID" => record.record_id = util::parse_int(&text),
                        "Channel" => record.channel = Some(text),
                        "Computer" => record.computer = Some(text),
                        _ => {}
                    }
                }
            }
            Xml::Eof => break,
            _ => {}
        }
    }
    if !data_only {
        record.event_id = event_id.ok_or("no <EventID> in the event")?;
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_events_keep_envelope_and_data() {
        let xml = r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Sysmon" Guid="{5770385f}"/><EventID>1</EventID><TimeCreated SystemTime="2026-03-31T00:44:59.870Z"/><EventRecordID>77</EventRecordID><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>h</Computer><Security UserID="S-1-5-18"/></System><EventData><Data Name="CommandLine">a &amp;&amp; b &lt;c&gt; &#x41; 0>&1</Data><Data Name="Threat Name">x</Data><Data>loose</Data></EventData></Event>"#;
        let r = from_xml(xml, false).unwrap();
        assert_eq!(r.event_id, 1);
        assert_eq!(r.provider.as_deref(), Some("Microsoft-Windows-Sysmon"));
        assert_eq!(r.channel.as_deref(), Some("Microsoft-Windows-Sysmon/Operational"));
        assert_eq!(r.record_id, Some(77));
        assert_eq!(r.user_id.as_deref(), Some("S-1-5-18"));
        assert_eq!(r.data.get("CommandLine"), Some("a && b <c> A 0>&1"));
        assert_eq!(r.data.get("ThreatName"), Some("x"), "spaces leave field names");
        assert_eq!(r.data.get("param1"), Some("loose"));
    }

    #[test]
    fn user_data_children_are_fields() {
        let xml = r#"<Event><System><EventID>1102</EventID><Channel>Security</Channel></System><UserData><LogFileCleared xmlns="x"><SubjectUserName>wardog</SubjectUserName></LogFileCleared></UserData></Event>"#;
        let r = from_xml(xml, false).unwrap();
        assert_eq!(r.data.get("SubjectUserName"), Some("wardog"));
    }

    #[test]
    fn sentinel_event_data_as_json_or_xml_text() {
        let windows_event = serde_json::json!({"TimeGenerated": "2021-12-12T10:00:00Z", "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "ws1", "EventData": "{\"Image\":\"C:\\\\x.exe\"}"});
        let r = from_json(&windows_event).unwrap();
        assert_eq!(r.data.get("Image"), Some("C:\\x.exe"));
        assert!(r.time.is_some());
        let event = serde_json::json!({"TimeGenerated": "2021-12-12T10:00:00Z", "EventID": 7045, "Source": "Service Control Manager", "EventLog": "System", "EventData": "<DataItem type=\"System.XmlData\"><EventData xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><Data Name=\"ServiceName\">evil</Data></EventData></DataItem>"});
        let r = from_json(&event).unwrap();
        assert_eq!(r.data.get("ServiceName"), Some("evil"));
        assert_eq!(r.provider.as_deref(), Some("Service Control Manager"));
    }

    #[test]
    fn unused_fields_are_what_no_column_read() {
        let mut f = Fields::default();
        f.push("Image", "x");
        f.push("PipeName", "\\p");
        f.push("Empty", "-");
        assert_eq!(f.get("Image"), Some("x"));
        assert_eq!(f.unused(), vec![("PipeName".to_string(), "\\p".to_string())]);
    }
}
