//! The documented IAM policies against what the provider calls: the actions each ```json policy
//! block of a docs page allows, and every call the stand-in counted that they do not allow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

/// Calls that need no IAM permission or whose permission belongs to another identity.
///
/// - `sts:GetCallerIdentity`: every identity may call it; no policy can deny it.
/// - `sts:AssumeRole`: made with the bake account's credentials into each target's
///   `ami-consumer` role. That permission belongs to the calling identity (and the role's trust
///   policy), not to either resource's policy; `docs/index.md` documents it, checked below.
pub const NOT_IN_RESOURCE_POLICIES: &[&str] = &["sts:GetCallerIdentity", "sts:AssumeRole"];

/// STS API actions, as the stand-in names calls.
pub const STS_ACTIONS: &[&str] = &[
    "AssumeRole",
    "AssumeRoleWithWebIdentity",
    "GetCallerIdentity",
    "GetSessionToken",
];
/// KMS API actions the provider might call (a KMS action missing here would be checked as
/// `ec2:...` and fail the test, never pass it silently).
pub const KMS_ACTIONS: &[&str] = &[
    "CreateGrant",
    "Decrypt",
    "DescribeKey",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GetKeyPolicy",
    "ListAliases",
    "ListGrants",
    "ListKeys",
    "ReEncrypt",
    "RetireGrant",
    "RevokeGrant",
];

/// Recycle Bin API actions the provider might call.
pub const RBIN_ACTIONS: &[&str] = &["GetRule", "ListRules"];

/// Calls per account and API action, as [`crate::StandIn::calls`] reports them.
pub type Calls = BTreeMap<String, BTreeMap<String, u64>>;

/// Adds the counts of `more` to `into`.
pub fn merge_calls(into: &mut Calls, more: Calls) {
    for (account, actions) in more {
        let entry = into.entry(account).or_default();
        for (action, count) in actions {
            *entry.entry(action).or_default() += count;
        }
    }
}

/// The IAM action (`service:Action`) for a call the stand-in reports by API action name.
pub fn iam_action(call: &str) -> String {
    let service = if STS_ACTIONS.contains(&call) {
        "sts"
    } else if KMS_ACTIONS.contains(&call) {
        "kms"
    } else if RBIN_ACTIONS.contains(&call) {
        "rbin"
    } else {
        "ec2"
    };
    format!("{service}:{call}")
}

/// Every action `account` called that `policy` does not allow, as `file: action (...)` lines.
pub fn missing_actions(
    file: &str,
    policy: &BTreeSet<String>,
    account: &str,
    calls: &Calls,
) -> Vec<String> {
    let Some(actions) = calls.get(account) else {
        return Vec::new();
    };
    actions
        .iter()
        .map(|(call, count)| (iam_action(call), count))
        .filter(|(action, _)| !NOT_IN_RESOURCE_POLICIES.contains(&action.as_str()))
        .filter(|(action, _)| !policy.iter().any(|allowed| matches(allowed, action)))
        .map(|(action, count)| format!("{file}: {action} (called {count} times in {account})"))
        .collect()
}

/// IAM's action matching: case-insensitive, `*` matches any run of characters.
pub fn matches(pattern: &str, action: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let action = action.to_ascii_lowercase();
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = action.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// The actions allowed by the ```json policy blocks of a markdown file.
pub fn documented_actions(path: &Path) -> BTreeSet<String> {
    let actions = actions_in_markdown(&read(path), &path.display().to_string());
    assert!(
        !actions.is_empty(),
        "{} has no IAM policy in a ```json block",
        path.display()
    );
    actions
}

pub fn actions_in_markdown(markdown: &str, name: &str) -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    for policy in policies_in_markdown(markdown, name) {
        collect_allowed(&policy, &mut actions);
    }
    actions
}

/// Every ```json block of a markdown file, parsed; panics on one that is not JSON.
pub fn policies_in_markdown(markdown: &str, name: &str) -> Vec<Value> {
    let mut policies = Vec::new();
    // The text of the ```json block being read, if inside one.
    let mut block: Option<String> = None;
    for line in markdown.lines() {
        let fence = line.trim();
        match block.take() {
            None => {
                if fence == "```json" {
                    block = Some(String::new());
                }
            }
            Some(text) if fence == "```" => {
                let policy: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|err| panic!("{name}: a ```json block is not JSON: {err}"));
                policies.push(policy);
            }
            Some(mut text) => {
                text.push_str(line);
                text.push('\n');
                block = Some(text);
            }
        }
    }
    policies
}

fn collect_allowed(policy: &Value, actions: &mut BTreeSet<String>) {
    let statements = match &policy["Statement"] {
        Value::Array(list) => list.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => Vec::new(),
    };
    for statement in statements.iter().filter(|s| s["Effect"] == "Allow") {
        match &statement["Action"] {
            Value::String(action) => {
                actions.insert(action.clone());
            }
            Value::Array(list) => {
                actions.extend(list.iter().filter_map(Value::as_str).map(String::from));
            }
            _ => {}
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()))
}
