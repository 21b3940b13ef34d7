//! `docs/hunts.md`: the pack's reference table, generated from the hunts' own metadata.

use super::Pack;

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The pack's reference (docs/hunts.md): every hunt by family with its header, and what was measured of the pack.
///
/// ```
/// let pack = spoor::testing::example_pack()?;
/// let reference = spoor::pack::markdown(&pack);
/// assert!(reference.contains("| `example.script-host-powershell` |") || reference.contains("example.script-host-powershell"));
/// # Ok::<(), spoor::Error>(())
/// ```
pub fn markdown(pack: &Pack) -> String {
    let mut out = String::from(
        "# The hunt pack\n\n<!-- Generated from the hunts' headers by `spoor pack docs`; a test fails when they differ. -->\n\n\
         `spoor pack run --pack hunts/ --store <dir>` runs every hunt below; `spoor test hunts/` runs each one's \
         fixtures (`<hunt>.slt` beside it: events that must match and near misses that must not).\n\n\
         | hunt | severity | confidence | ATT&CK | tables | what it catches |\n|---|---|---|---|---|---|\n",
    );
    for h in &pack.hunts {
        let path = h.path.strip_prefix(&pack.root).unwrap_or(&h.path).display().to_string();
        out.push_str(&format!(
            "| [`{}`](../hunts/{}) | {} | {} | {} | {} | {} |\n",
            h.id(),
            path.replace('\\', "/"),
            h.severity(),
            h.meta.confidence.as_deref().unwrap_or("-"),
            h.meta.attack.join(", "),
            h.tables.join(", "),
            cell(h.meta.title.as_deref().unwrap_or_default()),
        ));
    }
    if let Some(measured) = &pack.measured {
        out.push_str(&format!("\n{}\n", measured.trim()));
    }
    for h in &pack.hunts {
        out.push_str(&format!("\n## `{}`\n\n{}\n", h.id(), cell(h.meta.title.as_deref().unwrap_or_default())));
        if let Some(d) = &h.meta.description {
            out.push_str(&format!("\n{}\n", d.trim()));
        }
        if !h.meta.false_positives.is_empty() {
            out.push_str("\nKnown false positives:\n");
            for fp in &h.meta.false_positives {
                out.push_str(&format!("- {}\n", fp.trim()));
            }
        }
        if !h.meta.references.is_empty() {
            out.push_str("\nReferences:\n");
            for r in &h.meta.references {
                out.push_str(&format!("- {}\n", r.trim()));
            }
        }
    }
    out
}
