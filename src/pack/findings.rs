//! A hunt's rows as findings: who and what is involved (entities) and where in the raw logs the
//! evidence is (file and line), with a deterministic id so that a re-run recognizes a finding it
//! has already reported.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::PackHunt;

/// Where a finding's evidence sits in the raw logs.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// let finding = spoor::pack::render::all_findings(&runs)[0];
/// let at = &finding.evidence[0];
/// assert!(at.path.ends_with("empire_launcher_vbs.json") && at.line == Some(107));
/// assert_eq!(at.to_string(), format!("{}:107", at.path));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Evidence {
    /// The log file.
    pub path: String,
    /// The record's line (or record number) in it.
    pub line: Option<i64>,
}

/// A hunt's row as a finding: who and what is involved, and where the evidence is.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// let finding = spoor::pack::render::all_findings(&runs)[0];
/// assert_eq!((&*finding.hunt, &*finding.severity), ("example.script-host-powershell", "high"));
/// assert_eq!(finding.author.as_deref(), Some("spoor's examples"));
/// assert_eq!(finding.entities["user"], "pgustavo");
/// assert_eq!(finding.fields.get("process.parent.name").unwrap(), "wscript.exe");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// Hunt id and evidence, hashed: the same evidence found again gives the same id.
    pub id: String,
    // What a finding says of its hunt is the hunt's, shared by all its findings: a Sigma rule
    // can make tens of thousands.
    /// The hunt's id.
    pub hunt: Arc<str>,
    /// The hunt's title.
    pub title: Arc<str>,
    /// critical, high, medium, low or info.
    pub severity: Arc<str>,
    /// How sure a match is to be malicious (low, medium, high).
    pub confidence: Option<Arc<str>>,
    /// ATT&CK technique ids.
    pub attack: Arc<[String]>,
    /// Who wrote the hunt, where it says (a Sigma rule's author, which the rule's licence asks
    /// every match to show).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Arc<str>>,
    /// The row's time, where it has one.
    #[serde(rename = "@timestamp")]
    pub timestamp: Option<String>,
    /// host, user, package, domain, ip, ci_job, project, file: the first value of each found.
    pub entities: Entities,
    /// The row's columns the entities were read from (for renderings that show the rest).
    #[serde(skip)]
    pub entity_columns: Vec<String>,
    /// Where the evidence is in the raw logs.
    pub evidence: Vec<Evidence>,
    /// The row as the hunt gave it.
    pub fields: Fields,
    /// The processes the row names, from the install down to the payload (a chain's steps in
    /// the hunt's column order, each step's parent first); empty unless there are two or more.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub process_tree: Vec<ProcessNode>,
}

/// A finding's entities (`host`, `user`, `package`, ...): each kind's value, in kind order, as a
/// map reads them and as JSON writes them (an object). Kept as a short list: a finding names one
/// to three, and a tree map's node costs half a kilobyte, in each of the tens of thousands of
/// findings a pack of Sigma rules can make.
///
/// ```
/// use spoor::pack::Entities;
/// let entities: Entities = [("user", "pgustavo"), ("host", "ws5")].into_iter().collect();
/// assert_eq!(entities["host"], "ws5");
/// assert_eq!(entities.get("ip"), None);
/// assert_eq!(entities.keys().collect::<Vec<_>>(), ["host", "user"]);
/// assert_eq!(serde_json::to_string(&entities).unwrap(), r#"{"host":"ws5","user":"pgustavo"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entities(Vec<(String, String)>);

impl Entities {
    /// The value of one kind of entity.
    ///
    /// ```
    /// let entities: spoor::pack::Entities = [("host", "ws5")].into_iter().collect();
    /// assert_eq!(entities.get("host").map(String::as_str), Some("ws5"));
    /// ```
    pub fn get(&self, kind: &str) -> Option<&String> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(kind)).ok().map(|at| &self.0[at].1)
    }

    /// Sets the value of a kind of entity, in its place.
    ///
    /// ```
    /// let mut entities = spoor::pack::Entities::default();
    /// entities.insert("user".into(), "pgustavo".into());
    /// entities.insert("host".into(), "ws5".into());
    /// assert_eq!(entities.iter().next(), Some((&"host".to_string(), &"ws5".to_string())));
    /// ```
    pub fn insert(&mut self, kind: String, value: String) {
        match self.0.binary_search_by(|(k, _)| k.cmp(&kind)) {
            Ok(at) => self.0[at].1 = value,
            Err(at) => self.0.insert(at, (kind, value)),
        }
    }

    /// (kind, value), in kind order.
    ///
    /// ```
    /// let entities: spoor::pack::Entities = [("user", "u"), ("host", "h")].into_iter().collect();
    /// let pairs: Vec<String> = entities.iter().map(|(k, v)| format!("{k}={v}")).collect();
    /// assert_eq!(pairs, ["host=h", "user=u"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.into_iter()
    }

    /// The kinds, in order.
    ///
    /// ```
    /// let entities: spoor::pack::Entities = [("user", "u"), ("host", "h")].into_iter().collect();
    /// assert_eq!(entities.keys().collect::<Vec<_>>(), ["host", "user"]);
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    /// The values, in kind order.
    ///
    /// ```
    /// let entities: spoor::pack::Entities = [("user", "u"), ("host", "h")].into_iter().collect();
    /// assert_eq!(entities.values().collect::<Vec<_>>(), ["h", "u"]);
    /// ```
    pub fn values(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(_, v)| v)
    }

    /// How many kinds have a value.
    ///
    /// ```
    /// let entities: spoor::pack::Entities = [("host", "h")].into_iter().collect();
    /// assert_eq!(entities.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no kind has a value.
    ///
    /// ```
    /// assert!(spoor::pack::Entities::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Entities {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut out = Entities::default();
        for (k, v) in pairs {
            out.insert(k.into(), v.into());
        }
        out
    }
}

impl std::ops::Index<&str> for Entities {
    type Output = String;

    fn index(&self, kind: &str) -> &String {
        self.get(kind).unwrap_or_else(|| panic!("no `{kind}` entity"))
    }
}

impl<'a> IntoIterator for &'a Entities {
    type Item = (&'a String, &'a String);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (String, String)>, fn(&'a (String, String)) -> Self::Item>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl Serialize for Entities {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Entities {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<String, String>::deserialize(deserializer).map(|map| map.into_iter().collect())
    }
}

/// One process of a finding's process tree.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// let finding = spoor::pack::render::all_findings(&runs)[0];
/// let steps: Vec<&str> = finding.process_tree.iter().map(|n| n.step.as_str()).collect();
/// assert_eq!(steps, ["parent", ""]); // wscript.exe, then the PowerShell it started
/// assert_eq!(finding.process_tree[0].name.as_deref(), Some("wscript.exe"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessNode {
    /// The chain step or role it plays (`install`, `shell`, `payload`, `parent`, or empty).
    pub step: String,
    /// The program's name.
    pub name: Option<String>,
    /// Its command line.
    pub command_line: Option<String>,
}

/// A finding's row: the hunt's columns that have a value, by name, as JSON values (keys in name
/// order). Read from the hunt's result when asked, not held as JSON: a pack of Sigma rules makes
/// tens of thousands of findings, whose rows the run holds as batches already.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// let finding = spoor::pack::render::all_findings(&runs)[0];
/// let row = finding.fields.to_map();
/// assert_eq!(finding.fields.get("process.name"), Some(row["process.name"].clone()));
/// // As JSON, and back, it is the same map.
/// let back: spoor::pack::Fields = serde_json::from_value(serde_json::to_value(&finding.fields).unwrap()).unwrap();
/// assert_eq!(back.to_map(), row);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Fields(Row);

#[derive(Clone)]
enum Row {
    /// A row of a batch of the hunt's result.
    InBatch(Arc<RecordBatch>, usize),
    /// Read back from JSON (a job's saved state).
    Map(Map<String, Value>),
}

impl Fields {
    /// The row's columns that have a value, by name.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// # let pack = spoor::testing::example_pack()?;
    /// let runs = store.run_pack(&pack, &Default::default()).await?;
    /// let row = spoor::pack::render::all_findings(&runs)[0].fields.to_map();
    /// assert_eq!(row["process.parent.name"], "wscript.exe");
    /// assert!(row.values().all(|v| !v.is_null()));
    /// # Ok(()) }
    /// ```
    pub fn to_map(&self) -> Map<String, Value> {
        match &self.0 {
            // The same conversion succeeded when the finding was made from this row.
            Row::InBatch(batch, row) => json_rows(&[batch.slice(*row, 1)]).ok().and_then(|mut rows| rows.pop()),
            Row::Map(map) => Some(map.clone()),
        }
        .unwrap_or_default()
    }

    /// One column's value; None where the row has no value in it (or no such column).
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// # let pack = spoor::testing::example_pack()?;
    /// let runs = store.run_pack(&pack, &Default::default()).await?;
    /// let fields = &spoor::pack::render::all_findings(&runs)[0].fields;
    /// assert_eq!(fields.get("process.name").unwrap(), "powershell.exe");
    /// assert_eq!(fields.get("no.such.column"), None);
    /// # Ok(()) }
    /// ```
    pub fn get(&self, name: &str) -> Option<Value> {
        match &self.0 {
            Row::InBatch(batch, row) => {
                let column = batch.schema().index_of(name).ok()?;
                let one = batch.project(&[column]).ok()?.slice(*row, 1);
                json_rows(&[one]).ok()?.pop()?.remove(name)
            }
            Row::Map(map) => map.get(name).filter(|v| !v.is_null()).cloned(),
        }
    }
}

impl From<Map<String, Value>> for Fields {
    fn from(map: Map<String, Value>) -> Self {
        Fields(Row::Map(map))
    }
}

impl std::fmt::Debug for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_map().fmt(f)
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Map::deserialize(deserializer).map(Fields::from)
    }
}

impl Finding {
    /// The finding for people: severity, hunt and title, then entities, process tree and
    /// evidence, indented.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// # let pack = spoor::testing::example_pack()?;
    /// let runs = store.run_pack(&pack, &Default::default()).await?;
    /// let finding = spoor::pack::render::all_findings(&runs)[0];
    /// let text = finding.to_text();
    /// assert!(text.starts_with("HIGH example.script-host-powershell: A Windows script host starts PowerShell\n"));
    /// assert!(text.contains("  host: workstation5.theshire.local\n"));
    /// # Ok(()) }
    /// ```
    pub fn to_text(&self) -> String {
        let mut out = format!("{} {}: {}\n", self.severity.to_uppercase(), self.hunt, self.title);
        for (k, v) in &self.entities {
            out.push_str(&format!("  {k}: {v}\n"));
        }
        if let Some(tree) = self.process_tree_text() {
            for line in tree.lines() {
                out.push_str(&format!("  {line}\n"));
            }
        }
        for e in &self.evidence {
            out.push_str(&format!("  at {e}\n"));
        }
        out
    }

    /// The finding as an ECS alert document, so a SIEM indexes it as it is: `event.*` (kind
    /// alert, id, severity), `rule.*` (the hunt), `threat.technique.id`, the entities under
    /// their ECS names, and spoor's own detail (evidence, row, process tree) under `spoor.*`.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// # let pack = spoor::testing::example_pack()?;
    /// let runs = store.run_pack(&pack, &Default::default()).await?;
    /// let finding = spoor::pack::render::all_findings(&runs)[0];
    /// let doc = finding.to_ecs();
    /// assert_eq!(doc["event"]["kind"], "alert");
    /// assert_eq!(doc["host"]["name"], "workstation5.theshire.local");
    /// assert_eq!(doc["threat"]["technique"]["id"][0], "T1059.001");
    /// # Ok(()) }
    /// ```
    pub fn to_ecs(&self) -> Value {
        let mut doc = serde_json::json!({
            "@timestamp": self.timestamp,
            "event": {
                "kind": "alert",
                "id": self.id,
                "module": "spoor",
                "dataset": "spoor.finding",
                "severity": ecs_severity(&self.severity),
            },
            "rule": { "id": self.hunt, "name": self.title, "ruleset": "spoor" },
            "spoor": {
                "finding": {
                    "id": self.id,
                    "severity": self.severity,
                    "confidence": self.confidence,
                    "evidence": self.evidence,
                    "fields": self.fields,
                    "process_tree": self.process_tree,
                }
            },
        });
        if let Some(author) = &self.author {
            doc["rule"]["author"] = serde_json::json!([author]);
        }
        if !self.attack.is_empty() {
            doc["threat"] = serde_json::json!({ "framework": "MITRE ATT&CK", "technique": { "id": self.attack } });
        }
        for (entity, value) in &self.entities {
            let path: &[&str] = match entity.as_str() {
                "host" => &["host", "name"],
                "user" => &["user", "name"],
                "domain" => &["destination", "domain"],
                "ip" => &["destination", "ip"],
                "file" => &["file", "path"],
                "ci_job" => &["ci", "job", "id"],
                "project" => &["package", "project"],
                "package" => {
                    let (name, version) = split_package(value);
                    doc["package"] = serde_json::json!({ "name": name, "version": version });
                    continue;
                }
                _ => continue,
            };
            set(&mut doc, path, Value::String(value.clone()));
        }
        if let Some(first) = self.evidence.first() {
            set(&mut doc, &["log", "file", "path"], Value::String(first.path.clone()));
        }
        doc
    }

    /// The process tree as indented text, one process per line, or None without one.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// # let pack = spoor::testing::example_pack()?;
    /// let runs = store.run_pack(&pack, &Default::default()).await?;
    /// let finding = spoor::pack::render::all_findings(&runs)[0];
    /// let tree = finding.process_tree_text().unwrap();
    /// assert!(tree.starts_with("wscript.exe  [parent]\n└─ "));
    /// # Ok(()) }
    /// ```
    pub fn process_tree_text(&self) -> Option<String> {
        if self.process_tree.is_empty() {
            return None;
        }
        let mut out = String::new();
        for (depth, node) in self.process_tree.iter().enumerate() {
            let what = node.command_line.as_deref().or(node.name.as_deref()).unwrap_or("?");
            let branch = if depth == 0 { String::new() } else { format!("{}└─ ", "   ".repeat(depth - 1)) };
            let step = if node.step.is_empty() { String::new() } else { format!("  [{}]", node.step) };
            out.push_str(&format!("{branch}{what}{step}\n"));
        }
        Some(out)
    }
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.path),
            None => f.write_str(&self.path),
        }
    }
}

/// ECS `event.severity` is a number; these follow Elastic's own alert levels.
fn ecs_severity(severity: &str) -> u8 {
    match severity {
        "critical" => 99,
        "high" => 73,
        "medium" => 47,
        "low" => 21,
        _ => 1,
    }
}

/// `name@version` (a scoped name keeps its leading `@`).
fn split_package(value: &str) -> (&str, Option<&str>) {
    match value.rfind('@').filter(|at| *at > 0) {
        Some(at) => (&value[..at], Some(&value[at + 1..])),
        None => (value, None),
    }
}

fn set(doc: &mut Value, path: &[&str], value: Value) {
    let mut at = doc;
    for key in &path[..path.len() - 1] {
        if !at.get(*key).is_some_and(Value::is_object) {
            at[*key] = Value::Object(Map::new());
        }
        at = &mut at[*key];
    }
    at[path[path.len() - 1]] = value;
}

/// Where a hunt's result names processes: per node, the column prefix before `name` and
/// `command_line` (`install.process.`, `process.parent.`, …), in column order, parents first.
fn process_columns(schema: &arrow::datatypes::Schema) -> Vec<(String, String)> {
    let mut steps: Vec<String> = Vec::new();
    for field in schema.fields() {
        let name = field.name();
        let Some(at) = name.rfind("process.") else { continue };
        if name.ends_with("process.name") || name.ends_with("process.command_line") || name.contains("process.parent.")
        {
            let step = name[..at].to_string();
            if !steps.contains(&step) {
                steps.push(step);
            }
        }
    }
    let has = |prefix: &str| {
        schema
            .fields()
            .iter()
            .any(|f| f.name().strip_prefix(prefix).is_some_and(|rest| rest == "name" || rest == "command_line"))
    };
    let mut nodes = Vec::new();
    for step in steps {
        let label = step.trim_end_matches('.').to_string();
        for (prefix, label) in
            [(format!("{step}process.parent."), "parent".to_string()), (format!("{step}process."), label)]
        {
            if has(&prefix) {
                nodes.push((prefix, label));
            }
        }
    }
    nodes
}

fn process_tree(columns: &[(String, String)], row: &Map<String, Value>) -> Vec<ProcessNode> {
    if columns.len() < 2 {
        return Vec::new();
    }
    let get = |k: String| row.get(&k).filter(|v| !v.is_null()).map(text);
    let nodes: Vec<ProcessNode> = columns
        .iter()
        .map(|(prefix, step)| ProcessNode {
            step: step.clone(),
            name: get(format!("{prefix}name")),
            command_line: get(format!("{prefix}command_line")),
        })
        .filter(|n| n.name.is_some() || n.command_line.is_some())
        .collect();
    // One process is a row, not a tree.
    if nodes.len() < 2 { Vec::new() } else { nodes }
}

/// Entity name → the columns that carry it (a step prefix such as `install.` may precede them).
const ENTITIES: &[(&str, &[&str])] = &[
    ("host", &["host", "host.name"]),
    ("user", &["user", "user.name"]),
    ("package", &["package", "package.name"]),
    ("domain", &["domain", "dns.question.name", "destination.domain"]),
    ("ip", &["ip", "destination.ip"]),
    ("ci_job", &["ci.job.id"]),
    ("project", &["package.project"]),
    ("file", &["file.path"]),
];

fn column<'r>(row: &'r Map<String, Value>, names: &[&str]) -> Option<(&'r str, &'r Value)> {
    // An exact name wins over a prefixed one; among prefixed ones, the first column.
    for name in names {
        if let Some((k, v)) = row.get_key_value(*name).filter(|(_, v)| !v.is_null()) {
            return Some((k.as_str(), v));
        }
    }
    row.iter()
        .find(|(k, v)| {
            // `log.file.path` is where the evidence is, not a file the event touched.
            !v.is_null() && names.iter().any(|n| k.ends_with(&format!(".{n}")) && !k.ends_with(&format!("log.{n}")))
        })
        .map(|(k, v)| (k.as_str(), v))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The row's entities, and the columns they were read from.
fn entities(row: &Map<String, Value>) -> (Entities, Vec<String>) {
    let mut out = Entities::default();
    let mut columns = Vec::new();
    for (entity, names) in ENTITIES {
        let Some((name, value)) = column(row, names) else { continue };
        let mut value = text(value);
        columns.push(name.to_string());
        if *entity == "package" && name.ends_with("package.name") {
            let version = format!("{}version", name.trim_end_matches("name"));
            if let Some(v) = row.get(&version).filter(|v| !v.is_null()) {
                value = format!("{value}@{}", text(v));
                columns.push(version);
            }
        }
        out.insert(entity.to_string(), value);
    }
    (out, columns)
}

fn evidence(row: &Map<String, Value>) -> Vec<Evidence> {
    let mut out: Vec<Evidence> = row
        .iter()
        .filter_map(|(k, v)| {
            let prefix = k.strip_suffix("log.file.path")?;
            let path = v.as_str()?.to_string();
            let line = row.get(&format!("{prefix}log.file.line")).and_then(Value::as_i64);
            Some(Evidence { path, line })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// FNV-1a, 64 bits: stable across runs and platforms (std's hasher is not).
fn fnv(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// One finding per row of the hunt's result.
pub(crate) fn findings(hunt: &PackHunt, batches: &[RecordBatch]) -> crate::Result<Vec<Finding>> {
    let mut out = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    let header = HuntHeader::of(hunt);
    let processes = batches.first().map(|b| process_columns(&b.schema())).unwrap_or_default();
    for batch in batches {
        let shared = Arc::new(batch.clone());
        // A slice of rows as JSON at a time: a hunt's rows may be one batch of tens of
        // thousands, whose JSON maps would otherwise all be held at once.
        for start in (0..batch.num_rows()).step_by(JSON_ROWS) {
            let rows = json_rows(&[batch.slice(start, JSON_ROWS.min(batch.num_rows() - start))])?;
            for (n, row) in rows.into_iter().enumerate() {
                out.push(finding(&header, &processes, row, Fields(Row::InBatch(Arc::clone(&shared), start + n))));
            }
        }
    }
    Ok(out)
}

/// How many rows [`findings`] reads as JSON at a time.
const JSON_ROWS: usize = 256;

/// The finding of one row (`row` as JSON, read once here; `fields` the same row, kept).
/// What every finding of a hunt says of it.
struct HuntHeader {
    hunt: Arc<str>,
    title: Arc<str>,
    severity: Arc<str>,
    confidence: Option<Arc<str>>,
    attack: Arc<[String]>,
    author: Option<Arc<str>>,
}

impl HuntHeader {
    fn of(hunt: &PackHunt) -> HuntHeader {
        HuntHeader {
            hunt: hunt.id().into(),
            title: hunt.meta.title.as_deref().unwrap_or_default().into(),
            severity: hunt.severity().into(),
            confidence: hunt.meta.confidence.as_deref().map(Into::into),
            attack: hunt.meta.attack.clone().into(),
            author: hunt.meta.author.as_deref().map(Into::into),
        }
    }
}

fn finding(hunt: &HuntHeader, processes: &[(String, String)], row: Map<String, Value>, fields: Fields) -> Finding {
    let evidence = evidence(&row);
    let keys: Vec<String> = if evidence.is_empty() {
        row.iter().map(|(k, v)| format!("{k}={}", text(v))).collect()
    } else {
        evidence.iter().map(|e| format!("{}:{}", e.path, e.line.unwrap_or(0))).collect()
    };
    let (entities, entity_columns) = entities(&row);
    let mut parts: Vec<&str> = vec![&hunt.hunt];
    parts.extend(keys.iter().map(String::as_str));
    Finding {
        id: fnv(&parts),
        hunt: Arc::clone(&hunt.hunt),
        title: Arc::clone(&hunt.title),
        severity: Arc::clone(&hunt.severity),
        confidence: hunt.confidence.clone(),
        attack: Arc::clone(&hunt.attack),
        author: hunt.author.clone(),
        timestamp: row.get("@timestamp").and_then(Value::as_str).map(str::to_string),
        entities,
        entity_columns,
        evidence,
        process_tree: process_tree(processes, &row),
        fields,
    }
}

/// Rows as JSON objects (null columns left out; keys in name order), a batch at a time, so the
/// text of all rows is never held at once.
fn json_rows(batches: &[RecordBatch]) -> crate::Result<Vec<Map<String, Value>>> {
    let mut rows = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    let mut buffer = Vec::new();
    for batch in batches {
        buffer.clear();
        let mut writer = arrow::json::LineDelimitedWriter::new(&mut buffer);
        writer.write(batch)?;
        writer.finish()?;
        for line in buffer.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            match serde_json::from_slice::<Value>(line) {
                Ok(Value::Object(m)) => rows.push(m),
                Ok(_) => {
                    return Err(crate::Error::Internal("arrow's JSON writer wrote a row that is not an object".into()));
                }
                Err(e) => {
                    return Err(crate::Error::Internal(format!(
                        "arrow's JSON writer wrote a row serde_json cannot read: {e}"
                    )));
                }
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, StringArray};
    use std::sync::Arc;

    fn hunt() -> PackHunt {
        PackHunt {
            path: "h.hunt".into(),
            text: String::new(),
            meta: Default::default(),
            tables: vec![],
            params: vec![],
            fixture: None,
        }
    }

    fn batch(columns: &[(&str, &str)]) -> RecordBatch {
        let arrays: Vec<(&str, ArrayRef)> =
            columns.iter().map(|(n, v)| (*n, Arc::new(StringArray::from(vec![*v])) as ArrayRef)).collect();
        RecordBatch::try_from_iter(arrays).unwrap()
    }

    #[test]
    fn a_chain_becomes_a_process_tree_in_step_order() {
        let b = batch(&[
            ("install.process.command_line", "npm install"),
            ("shell.process.command_line", "sh -c curl x | sh"),
            ("payload.process.name", "curl"),
            ("payload.process.command_line", "curl -o /tmp/ld.py x"),
            ("payload.log.file.path", "edr/host.ndjson"),
        ]);
        let f = &findings(&hunt(), &[b]).unwrap()[0];
        let steps: Vec<&str> = f.process_tree.iter().map(|n| n.step.as_str()).collect();
        assert_eq!(steps, ["install", "shell", "payload"]);
        assert_eq!(f.process_tree[2].name.as_deref(), Some("curl"));
        assert_eq!(f.entities.get("file"), None, "log.file.path is evidence, not an entity");
        assert_eq!(
            f.process_tree_text().unwrap(),
            "npm install  [install]\n└─ sh -c curl x | sh  [shell]\n   └─ curl -o /tmp/ld.py x  [payload]\n"
        );
    }

    #[test]
    fn an_ecs_document_puts_entities_under_their_ecs_names() {
        let b = batch(&[
            ("host.name", "ci-runner-3"),
            ("package.name", "@scope/plain-crypto-js"),
            ("package.version", "4.2.1"),
            ("log.file.path", "ci/build.log"),
            ("log.file.line", "7"),
        ]);
        let mut f = findings(&hunt(), &[b]).unwrap().remove(0);
        f.attack = ["T1195.002".to_string()].into();
        let doc = f.to_ecs();
        assert_eq!(doc["host"]["name"], "ci-runner-3");
        assert_eq!(doc["package"]["name"], "@scope/plain-crypto-js");
        assert_eq!(doc["package"]["version"], "4.2.1");
        assert_eq!(doc["event"]["kind"], "alert");
        assert_eq!(doc["event"]["id"], f.id.as_str());
        assert_eq!(doc["threat"]["technique"]["id"][0], "T1195.002");
        assert_eq!(doc["log"]["file"]["path"], "ci/build.log");
        let back: Finding = serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
        assert_eq!(back.id, f.id);
    }

    #[test]
    fn a_parent_comes_before_its_child_and_one_process_is_no_tree() {
        let b = batch(&[("process.command_line", "sh -c x"), ("process.parent.name", "node")]);
        let f = &findings(&hunt(), &[b]).unwrap()[0];
        let names: Vec<_> = f.process_tree.iter().map(|n| (n.step.as_str(), n.name.as_deref())).collect();
        assert_eq!(names, [("parent", Some("node")), ("", None)]);
        let single = batch(&[("process.name", "curl"), ("host.name", "h")]);
        assert!(findings(&hunt(), &[single]).unwrap()[0].process_tree.is_empty());
    }
}
