//! Findings as HTML, for notebooks: a table of a run's findings, and one finding as a block.
//!
//! ```
//! # #[tokio::main] async fn main() -> spoor::Result<()> {
//! # let store = spoor::testing::sample_store()?;
//! # let pack = spoor::testing::example_pack()?;
//! let runs = store.run_pack(&pack, &Default::default()).await?;
//! let found: Vec<_> = spoor::pack::render::all_findings(&runs).into_iter().cloned().collect();
//! assert!(spoor::pack::render::html::findings(&found, 0, 50).starts_with("<table>"));
//! # Ok(()) }
//! ```

use crate::pack::Finding;
use crate::render::escape_html as escape;

/// The first `limit` findings as a table (severity, hunt, time, entities, process tree,
/// evidence), with how many there are and how many hunts were skipped for want of data.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// let findings: Vec<spoor::pack::Finding> = spoor::pack::render::all_findings(&runs).into_iter().cloned().collect();
/// let html = spoor::pack::render::html::findings(&findings, 0, 1);
/// assert!(html.ends_with("<p>2 findings, the first 1 shown; 0 hunts skipped (no data)</p>"));
/// # Ok(()) }
/// ```
pub fn findings(findings: &[Finding], skipped: usize, limit: usize) -> String {
    let mut html = String::from(
        "<table><thead><tr><th>severity</th><th>hunt</th><th>@timestamp</th><th>entities</th>\
         <th>process tree</th><th>evidence</th></tr></thead><tbody>",
    );
    for f in findings.iter().take(limit) {
        html.push_str(&format!(
            "<tr><td>{}</td><td title=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&f.severity),
            escape(&match &f.author {
                Some(author) => format!("{} (by {author})", f.title),
                None => f.title.to_string(),
            }),
            escape(&f.hunt),
            escape(f.timestamp.as_deref().unwrap_or_default()),
            entities(f),
            tree(f),
            evidence(f),
        ));
    }
    let n = findings.len();
    html.push_str(&format!(
        "</tbody></table><p>{n} finding{}{}; {skipped} hunt{} skipped (no data)</p>",
        if n == 1 { "" } else { "s" },
        if n > limit { format!(", the first {limit} shown") } else { String::new() },
        if skipped == 1 { "" } else { "s" },
    ));
    html
}

/// One finding: severity, hunt and title, then its entities, process tree and evidence.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// let finding = spoor::pack::render::all_findings(&runs)[0];
/// assert!(spoor::pack::render::html::finding(finding).starts_with("<div><p><b>HIGH</b> example.script-host-powershell"));
/// # Ok(()) }
/// ```
pub fn finding(f: &Finding) -> String {
    format!(
        "<div><p><b>{}</b> {} — {}{}</p>{}{}<p>{}</p></div>",
        escape(&f.severity.to_uppercase()),
        escape(&f.hunt),
        escape(&f.title),
        f.author.as_ref().map(|a| format!(" (by {})", escape(a))).unwrap_or_default(),
        entities(f),
        tree(f),
        evidence(f)
    )
}

fn entities(f: &Finding) -> String {
    f.entities.iter().map(|(k, v)| format!("{}: <code>{}</code><br>", escape(k), escape(v))).collect()
}

fn tree(f: &Finding) -> String {
    f.process_tree_text()
        .map(|t| format!("<pre style=\"text-align:left;margin:0\">{}</pre>", escape(t.trim_end())))
        .unwrap_or_default()
}

fn evidence(f: &Finding) -> String {
    f.evidence.iter().map(|e| format!("{}<br>", escape(&e.to_string()))).collect()
}
