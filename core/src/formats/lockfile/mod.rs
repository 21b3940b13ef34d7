//! Lockfiles: package inventory for the `package` table, one row per installed package entry.
//! A lockfile has no event time: rows take the file's modification time.

pub mod npm;
pub mod pnpm;
pub mod yarn;

use chrono::{DateTime, Utc};
use yaml_rust2::parser::{Event as YamlEvent, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::{Yaml, YamlLoader};

pub(crate) use super::util::Lines;
use crate::event::Event;
use crate::schema::Table;

/// Loads YAML documents, refusing aliases (`*name`). No lockfile uses them, and expanding them
/// copies the anchored node each time: eleven lines of nested aliases ("billion laughs") expand
/// to billions of nodes.
pub(crate) fn load_yaml(text: &str) -> Result<Vec<Yaml>, String> {
    struct NoAliases {
        loader: YamlLoader,
        first_alias: Option<Marker>,
    }
    impl MarkedEventReceiver for NoAliases {
        fn on_event(&mut self, event: YamlEvent, mark: Marker) {
            match event {
                YamlEvent::Alias(_) => {
                    self.first_alias.get_or_insert(mark);
                    let null = YamlEvent::Scalar("~".into(), TScalarStyle::Plain, 0, None);
                    self.loader.on_event(null, mark);
                }
                event => self.loader.on_event(event, mark),
            }
        }
    }
    let mut receiver = NoAliases { loader: YamlLoader::default(), first_alias: None };
    Parser::new_from_str(text).load(&mut receiver, true).map_err(|e| format!("not valid YAML: {e}"))?;
    if let Some(mark) = receiver.first_alias {
        return Err(format!(
            "YAML alias on line {}: lockfiles do not use aliases, and expanding them can take unbounded memory",
            mark.line()
        ));
    }
    Ok(receiver.loader.documents().to_vec())
}

/// What every lockfile parser needs besides the text.
#[derive(Debug, Clone)]
pub struct LockContext {
    pub file_time: Option<DateTime<Utc>>,
    /// The lockfile's directory name: the project's name when the lockfile does not give one.
    pub directory: Option<String>,
}

/// One package entry, as every lockfile kind describes it.
#[derive(Debug, Default)]
pub(crate) struct Package {
    pub name: String,
    pub version: String,
    pub alias: Option<String>,
    pub resolved: Option<String>,
    pub integrity: Option<String>,
    pub install_script: Option<bool>,
    pub dev: Option<bool>,
    pub optional: Option<bool>,
    pub bundled: Option<bool>,
    pub path: Option<String>,
}

impl Package {
    pub fn into_event<'r>(
        self,
        ctx: &LockContext,
        manager: &str,
        lockfile_version: &str,
        project: Option<&str>,
    ) -> Result<Event<'r>, String> {
        if self.name.is_empty() || self.version.is_empty() {
            return Err(format!("package entry without a name or version (name `{}`)", self.name));
        }
        let mut e = Event::new(Table::Package).at(ctx.file_time);
        e.text("event.action", Some("inventory"))
            .text("package.manager", Some(manager.to_owned()))
            .text("package.lockfile_version", Some(lockfile_version.to_owned()))
            .text("package.project", project.map(str::to_owned).or_else(|| ctx.directory.clone()))
            .text("package.name", Some(self.name))
            .text("package.version", Some(self.version))
            .text("package.alias", self.alias)
            .text("package.resolved", self.resolved)
            .text("package.integrity", self.integrity)
            .bool("package.install_script", self.install_script)
            .bool("package.dev", self.dev)
            .bool("package.optional", self.optional)
            .bool("package.bundled", self.bundled)
            .text("package.path", self.path);
        Ok(e)
    }
}

/// `name@range`, `@scope/name@range`, `alias@npm:real@range` → the name the spec installs.
pub(crate) fn name_of_spec(spec: &str) -> &str {
    super::util::split_name_version(spec.trim().trim_matches('"')).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_names() {
        assert_eq!(name_of_spec("lodash@^4.17.0"), "lodash");
        assert_eq!(name_of_spec("\"@babel/core@^7.0.0\""), "@babel/core");
        assert_eq!(name_of_spec("pkg@npm:@yao-pkg/pkg@^6"), "pkg");
    }

    #[test]
    fn specs_found_by_fuzzing_do_not_panic() {
        // fuzz/artifacts/ingest_records/crash-907d25fa…: a yarn berry entry with an empty key.
        assert_eq!(name_of_spec(""), "");
        assert_eq!(name_of_spec("\"\""), "");
        assert_eq!(name_of_spec("@"), "@");
        assert_eq!(name_of_spec("é@1.0.0"), "é");
    }

    #[test]
    fn lines_are_found_after_a_position() {
        let lines = Lines::new("a\nb: {\nc\nb: {\n");
        assert_eq!(lines.find("b: {", 0).0, 2);
        assert_eq!(lines.find("b: {", 5).0, 4);
        assert_eq!(lines.find("a", 0).0, 1);
    }
}
