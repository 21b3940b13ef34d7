//! Credentials, region and endpoint from the AWS CLI's shared files, for `s3://` stores:
//! `object_store` reads only the environment, while the people who run spoor keep their keys
//! in `~/.aws/credentials` and pick them with `AWS_PROFILE`.
//!
//! As the AWS CLI: the environment wins over the files; the profile is `AWS_PROFILE` (else
//! `default`); keys come from `AWS_SHARED_CREDENTIALS_FILE` (`~/.aws/credentials`) and then
//! `AWS_CONFIG_FILE` (`~/.aws/config`, where a profile's section is `[profile name]`), the
//! region and endpoint from the config file. A profile that gets its keys another way (single
//! sign-on, a role to assume, a credential process) is refused with what to do instead.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// What a profile says, by the names the AWS CLI gives its settings.
#[derive(Debug, Default, PartialEq)]
pub struct Profile {
    pub name: String,
    pub settings: HashMap<String, String>,
}

/// Settings that mean the keys are obtained by the AWS CLI itself, which spoor does not do.
const OBTAINED_ELSEWHERE: [&str; 5] =
    ["sso_session", "sso_start_url", "role_arn", "credential_process", "web_identity_token_file"];

/// The profile the environment names, from the shared files; `None` when neither file has it
/// and no profile was asked for (`AWS_PROFILE` unset): then the environment alone is used.
pub fn profile(variable: impl Fn(&str) -> Option<String>) -> Result<Option<Profile>> {
    let asked = variable("AWS_PROFILE");
    let name = asked.clone().unwrap_or_else(|| "default".to_string());
    let home = variable("HOME").map(PathBuf::from);
    let file = |variable_name: &str, default: &str| {
        variable(variable_name).map(PathBuf::from).or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)))
    };
    let mut found = false;
    let mut settings = HashMap::new();
    // The credentials file's section is the bare name; the config file's is `profile name`,
    // except for `default`. The credentials file wins for keys.
    for (path, section) in [
        (file("AWS_SHARED_CREDENTIALS_FILE", "credentials"), name.clone()),
        (file("AWS_CONFIG_FILE", "config"), if name == "default" { name.clone() } else { format!("profile {name}") }),
    ] {
        let Some(path) = path else { continue };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::User(format!("{}: {e}", path.display()))),
        };
        if let Some(values) = section_of(&text, &section) {
            found = true;
            for (key, value) in values {
                settings.entry(key).or_insert(value);
            }
        }
    }
    if !found {
        return match asked {
            Some(name) => Err(Error::User(format!(
                "AWS_PROFILE is `{name}`, and neither ~/.aws/credentials nor ~/.aws/config (or the files \
                 AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE name) has that profile"
            ))),
            None => Ok(None),
        };
    }
    let has_keys = settings.contains_key("aws_access_key_id");
    if let Some(other) = OBTAINED_ELSEWHERE.iter().find(|k| settings.contains_key(**k)).filter(|_| !has_keys) {
        return Err(Error::User(format!(
            "AWS profile `{name}` gets its keys through `{other}`, which spoor does not do itself: export them \
             with `aws configure export-credentials --profile {name} --format env` (then `eval` its output)"
        )));
    }
    Ok(Some(Profile { name, settings }))
}

/// The `key = value` lines of `[section]` in an INI file as the AWS CLI writes them; indented
/// lines (nested settings such as `s3 =` followed by its own keys) are left out.
fn section_of(text: &str, section: &str) -> Option<Vec<(String, String)>> {
    let mut current: Option<&str> = None;
    let mut values = None;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.trim());
            if current == Some(section) {
                values.get_or_insert_with(Vec::new);
            }
            continue;
        }
        if current == Some(section)
            && let Some((key, value)) = line.split_once('=')
            && let Some(values) = values.as_mut()
        {
            values.push((key.trim().to_lowercase(), value.trim().to_string()));
        }
    }
    values
}

/// `builder` with what the profile says, where the environment said nothing.
pub fn apply(
    mut builder: object_store::aws::AmazonS3Builder,
    variable: impl Fn(&str) -> Option<String>,
) -> Result<object_store::aws::AmazonS3Builder> {
    use object_store::aws::AmazonS3ConfigKey as Key;
    let Some(profile) = profile(&variable)? else { return Ok(builder) };
    let settings = [
        ("aws_access_key_id", "AWS_ACCESS_KEY_ID", Key::AccessKeyId),
        ("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", Key::SecretAccessKey),
        ("aws_session_token", "AWS_SESSION_TOKEN", Key::Token),
        ("region", "AWS_REGION", Key::Region),
        ("endpoint_url", "AWS_ENDPOINT_URL", Key::Endpoint),
    ];
    // Keys from the environment come as a pair: a profile's never complete them.
    let keys_in_environment = variable("AWS_ACCESS_KEY_ID").is_some();
    for (setting, environment, key) in settings {
        let Some(value) = profile.settings.get(setting) else { continue };
        let is_key = matches!(key, Key::AccessKeyId | Key::SecretAccessKey | Key::Token);
        let set_by_environment = if is_key {
            keys_in_environment
        } else {
            variable(environment).is_some() || (setting == "region" && variable("AWS_DEFAULT_REGION").is_some())
        };
        if set_by_environment {
            continue;
        }
        // An endpoint written in the profile as http:// is meant: object_store wants it said.
        if key == Key::Endpoint && value.starts_with("http://") {
            builder = builder.with_allow_http(true);
        }
        builder = builder.with_config(key, value);
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(credentials: &str, config: &str) -> (tempfile::TempDir, impl Fn(&str) -> Option<String> + Clone) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".aws")).unwrap();
        std::fs::write(dir.path().join(".aws/credentials"), credentials).unwrap();
        std::fs::write(dir.path().join(".aws/config"), config).unwrap();
        let home = dir.path().display().to_string();
        (dir, move |name: &str| (name == "HOME").then(|| home.clone()))
    }

    const CREDENTIALS: &str = "[default]\naws_access_key_id = AKIDEFAULT\naws_secret_access_key = s1\n\n\
        # the lake's\n[lake]\naws_access_key_id=AKILAKE\naws_secret_access_key = s2\n";
    const CONFIG: &str = "[default]\nregion = eu-west-1\n\n[profile lake]\nregion = us-east-2\n\
        endpoint_url = http://minio.internal:9000\ns3 =\n  addressing_style = path\n\n\
        [profile sso]\nsso_session = corp\nregion = us-east-1\n";

    #[test]
    fn the_profile_named_by_the_environment_is_read_from_both_files() {
        let (_dir, home) = files(CREDENTIALS, CONFIG);
        let with = |profile: Option<&'static str>| {
            let home = home.clone();
            move |name: &str| if name == "AWS_PROFILE" { profile.map(str::to_string) } else { home(name) }
        };
        let lake = profile(with(Some("lake"))).unwrap().unwrap();
        assert_eq!(lake.settings["aws_access_key_id"], "AKILAKE");
        assert_eq!(lake.settings["region"], "us-east-2");
        assert_eq!(lake.settings["endpoint_url"], "http://minio.internal:9000");
        assert!(!lake.settings.contains_key("addressing_style"), "nested settings are left out");
        let default = profile(with(None)).unwrap().unwrap();
        assert_eq!((default.name.as_str(), default.settings["region"].as_str()), ("default", "eu-west-1"));

        let missing = profile(with(Some("nope"))).unwrap_err().to_string();
        assert!(missing.contains("`nope`"), "{missing}");
        let sso = profile(with(Some("sso"))).unwrap_err().to_string();
        assert!(sso.contains("sso_session") && sso.contains("export-credentials --profile sso"), "{sso}");
    }

    #[test]
    fn no_files_and_no_profile_asked_for_leaves_the_environment_alone() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().display().to_string();
        assert_eq!(profile(|name: &str| (name == "HOME").then(|| home.clone())).unwrap(), None);
    }

    #[test]
    fn the_environment_wins_over_the_profile() {
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey as Key};
        let (_dir, home) = files(CREDENTIALS, CONFIG);
        let variable = move |name: &str| match name {
            "AWS_PROFILE" => Some("lake".to_string()),
            "AWS_REGION" => Some("ap-south-1".to_string()),
            "AWS_ACCESS_KEY_ID" => Some("AKIENV".to_string()),
            _ => home(name),
        };
        let builder = apply(AmazonS3Builder::new(), variable).unwrap();
        assert_eq!(builder.get_config_value(&Key::Region), None, "left to the environment's AWS_REGION");
        assert_eq!(builder.get_config_value(&Key::AccessKeyId), None, "keys from the environment come as a pair");
        assert_eq!(builder.get_config_value(&Key::Endpoint).as_deref(), Some("http://minio.internal:9000"));
    }
}
