//! What an audit event's action means, whatever its source calls it: the activities of
//! `audit_activities.toml` (data, documented there), and the matching of an action name to one.

use std::sync::OnceLock;

use serde::Deserialize;

/// One activity: its name (`audit.activity`), ECS category and type, and the words an action
/// name holds when it is this activity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    pub name: String,
    pub category: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The account field the event's new value is (`email`: it fills `user.changes.email`).
    pub changes: Option<String>,
    pub doc: String,
    when: Vec<Vec<String>>,
    #[serde(default)]
    unless: Vec<Vec<String>>,
}

#[derive(Deserialize)]
struct File {
    activity: Vec<Activity>,
}

/// Every activity, in matching order.
pub fn all() -> &'static [Activity] {
    static ACTIVITIES: OnceLock<Vec<Activity>> = OnceLock::new();
    ACTIVITIES.get_or_init(|| {
        // The file is part of the build and a test parses it: it cannot fail here.
        toml::from_str::<File>(include_str!("audit_activities.toml")).map(|f| f.activity).unwrap_or_default()
    })
}

/// The activity an action name is, if spoor recognizes it.
pub fn recognize(action: &str) -> Option<&'static Activity> {
    let words = words(action);
    all().iter().find(|a| {
        let holds = |set: &Vec<String>| set.iter().all(|w| words.iter().any(|x| inflected(x, w)));
        a.when.iter().any(holds) && !a.unless.iter().any(holds)
    })
}

/// `word` as written or with a common ending: `update` matches `updated`, `members` `member`.
fn inflected(word: &str, base: &str) -> bool {
    word.strip_prefix(base).is_some_and(|rest| matches!(rest, "" | "d" | "ed" | "s"))
}

/// The words of a name, lowercased: split at punctuation, spaces and lower-to-upper changes.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        let starts_word = c.is_uppercase() && previous_lower;
        if (!c.is_alphanumeric() || starts_word) && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity(action: &str) -> Option<&'static str> {
        recognize(action).map(|a| a.name.as_str())
    }

    #[test]
    fn the_data_file_parses() {
        assert!(all().len() >= 20, "activities: {}", all().len());
        for a in all() {
            assert!(!a.when.is_empty(), "{} has no `when`", a.name);
            assert!(["iam", "authentication", "configuration", "package"].contains(&a.category.as_str()), "{}", a.name);
        }
    }

    #[test]
    fn each_source_spelling_of_an_email_change_is_one() {
        for action in [
            "billing.change_email",
            "user.add_email",
            "user.account.update_primary_email",
            "npm.email_change",
            "recovery_email_edit",
            "user_email_address_updated",
            "EmailChanged",
            "CHANGE_EMAIL",
        ] {
            assert_eq!(activity(action), Some("email_change"), "{action}");
        }
        assert_eq!(activity("user_email_verification_sent"), None);
    }

    #[test]
    fn other_activities_across_sources() {
        let cases = [
            ("two_factor_authentication.disabled", "mfa_disable"),
            ("org.disable_two_factor_requirement", "mfa_disable"),
            ("user.mfa.factor.deactivate", "mfa_disable"),
            ("system.mfa.factor.deactivate", "mfa_disable"),
            ("user.mfa.factor.reset_all", "mfa_disable"),
            ("2sv_disable", "mfa_disable"),
            ("npm.tfa_disable", "mfa_disable"),
            ("2sv_enroll", "mfa_enable"),
            ("personal_access_token.create", "token_create"),
            ("npm.token_create", "token_create"),
            ("system.api_token.create", "token_create"),
            ("oauth_access.create", "token_create"),
            ("personal_access_token.destroy", "token_delete"),
            ("public_key.create", "key_add"),
            ("packages.package_version_published", "package_publish"),
            ("npm.publish", "package_publish"),
            ("npm.unpublish", "package_unpublish"),
            ("org.add_member", "member_add"),
            ("group.user_membership.add", "member_add"),
            ("org.remove_member", "member_remove"),
            ("user.session.start", "login"),
            ("login_success", "login"),
            ("password_edit", "password_change"),
            ("user.account.reset_password", "password_reset"),
            ("user.lifecycle.deactivate", "user_disable"),
            ("RENAME_USER", "user_rename"),
            ("user_create", "user_create"),
            ("lockout", "lockout"),
        ];
        for (action, expected) in cases {
            assert_eq!(activity(action), Some(expected), "{action}");
        }
        for unknown in ["repo.create", "workflows.completed_workflow_run", "app.generic.unauth_app_access_attempt"] {
            assert_eq!(activity(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn names_split_into_words() {
        assert_eq!(words("user.account.update_primary_email"), ["user", "account", "update", "primary", "email"]);
        assert_eq!(words("EmailChanged"), ["email", "changed"]);
        assert_eq!(words("CHANGE_USER_PRIMARY_EMAIL"), ["change", "user", "primary", "email"]);
        assert_eq!(words("2sv-disable"), ["2sv", "disable"]);
    }
}
