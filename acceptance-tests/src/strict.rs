//! Accounts as the strict stand-in needs them: roles made through the IAM API, and the AWS
//! profiles each Terraform run acts through.
//!
//! In strict mode only principals that exist may call, and AssumeRole succeeds only for a role
//! whose trust policy allows the caller. So the harness does what a platform team does before a
//! first run: in every account a test touches it makes the role Terraform runs as
//! ([`TERRAFORM_ROLE`]) and the roles the tests and examples name for the provider to assume, each
//! trusting the accounts of the run and allowed everything (tests of least-privilege policies make
//! their roles themselves, with [`StrictAccounts::make_role`], before the harness would). It talks to
//! IAM's public API as each account's root, never to an admin route.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde_json::json;

/// The role each Terraform run acts as, through a profile with `role_arn` + `source_profile`.
pub const TERRAFORM_ROLE: &str = "imagecopier-acc-terraform";

/// The IAM user whose access key the source profile holds. Not the root: STS refuses AssumeRole
/// with an account's root credentials (found by the strict stand-in: "Roles may not be assumed by
/// root accounts."), so real set-ups start from a user or a role, and so do the tests.
pub const TERRAFORM_USER: &str = "imagecopier-acc";

/// The roles tests and examples name in `assume_role` (the examples' defaults among them): made
/// in every account a test touches, allowed everything.
const NAMED_ROLES: &[&str] = &[
    "ami-importer",
    "ami-publisher",
    "ami-consumer",
    "terraform",
    "terraform-bake",
];

/// IAM's API version (IAM API Reference, "Common parameters").
const IAM_VERSION: &str = "2010-05-08";

/// What the harness has made in one strict stand-in, shared by every workdir pointing at it.
#[derive(Debug)]
pub struct StrictAccounts {
    endpoint: String,
    /// One HTTP agent for every IAM call (answers are checked, not turned into errors).
    agent: ureq::Agent,
    made: Mutex<Made>,
}

#[derive(Debug, Default)]
struct Made {
    /// Accounts the run has touched; every harness-made role trusts all of them.
    accounts: BTreeSet<String>,
    /// `(account, role name)` of every role that exists, whoever made it.
    roles: BTreeSet<(String, String)>,
    /// The roles the harness made with its own trust policy, kept trusting every account.
    ours: BTreeSet<(String, String)>,
    /// Role names a configuration makes itself; the harness never makes them.
    left_to_configs: BTreeSet<String>,
    /// Per account, the access key id and secret of [`TERRAFORM_USER`].
    keys: BTreeMap<String, (String, String)>,
}

impl StrictAccounts {
    pub(crate) fn new(endpoint: &str) -> Self {
        Self {
            endpoint: endpoint.to_string(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .proxy(None)
                .build()
                .into(),
            made: Mutex::new(Made::default()),
        }
    }

    /// Makes sure every account named in `text` (a configuration, a variable file or a command
    /// line: any run of exactly 12 digits) has the run's roles, and that each role named by ARN
    /// (`arn:aws:iam::<account>:role/<name>`) exists.
    pub fn prepare_for(&self, text: &str) {
        // A configuration that makes a role itself (the aws provider's aws_iam_role) must find
        // no role of that name made by the harness: one made already goes.
        for name in roles_made_in(text) {
            self.leave_to_configs(&name);
        }
        let accounts = account_ids_in(text);
        let named = role_arns_in(text);
        self.prepare(&accounts, &named);
    }

    /// Makes sure `account` has the run's roles.
    pub fn prepare_account(&self, account: &str) {
        self.prepare(&[account.to_string()], &[]);
    }

    /// A role `name` in `account` with `trust_policy` and an inline policy `policy` (JSON
    /// documents), made as that account's root. The harness then leaves its policies alone.
    pub fn make_role(&self, account: &str, name: &str, trust_policy: &str, policy: &str) {
        self.iam(
            account,
            &[
                ("Action", "CreateRole"),
                ("RoleName", name),
                ("AssumeRolePolicyDocument", trust_policy),
            ],
        );
        self.iam(
            account,
            &[
                ("Action", "PutRolePolicy"),
                ("RoleName", name),
                ("PolicyName", "inline"),
                ("PolicyDocument", policy),
            ],
        );
        let mut made = self.lock();
        made.roles.insert((account.to_string(), name.to_string()));
    }

    /// The AWS config file making profile `imagecopier-acc-<account>` act as [`TERRAFORM_ROLE`]
    /// of each account, through `source_profile` + `role_arn` from the user's profile in
    /// [`StrictAccounts::credentials`].
    pub fn profiles(&self) -> String {
        let made = self.lock();
        let mut text = String::new();
        for account in made.keys.keys() {
            text.push_str(&format!(
                "[profile {name}]\nrole_arn = arn:aws:iam::{account}:role/{TERRAFORM_ROLE}\nsource_profile = {user}\nrole_session_name = imagecopier-acc\n\n",
                name = profile(account),
                user = user_profile(account),
            ));
        }
        text
    }

    /// The shared credentials file holding each account's [`TERRAFORM_USER`] key. A file rather
    /// than `credential_process`: the aws provider 5.100.0 (its SDK v1 session) cannot assume a
    /// role from a source profile whose credentials come from a process ("source profile ... has
    /// no shared credentials"), and tests run it beside ours.
    pub fn credentials(&self) -> String {
        let made = self.lock();
        let mut text = String::new();
        for (account, (key, secret)) in &made.keys {
            text.push_str(&format!(
                "[{user}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n\n",
                user = user_profile(account),
            ));
        }
        text
    }

    fn prepare(&self, accounts: &[String], named: &[(String, String)]) {
        let mut made = self.lock();
        let new: Vec<String> = accounts
            .iter()
            .filter(|a| !made.accounts.contains(*a))
            .cloned()
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect();
        made.accounts.extend(new.iter().cloned());
        let trust = trust_policy(&made.accounts);
        // A new account must be able to assume the roles made before it was seen.
        if !new.is_empty() {
            for (account, name) in made.ours.clone() {
                self.iam(
                    &account,
                    &[
                        ("Action", "UpdateAssumeRolePolicy"),
                        ("RoleName", &name),
                        ("PolicyDocument", &trust),
                    ],
                );
            }
        }
        let mut wanted: Vec<(String, String)> = Vec::new();
        for account in &new {
            wanted.push((account.clone(), TERRAFORM_ROLE.to_string()));
            wanted.extend(NAMED_ROLES.iter().map(|n| (account.clone(), n.to_string())));
        }
        wanted.extend(named.iter().cloned());
        for account in &new {
            let key = self.make_user(account);
            made.keys.insert(account.clone(), key);
        }
        for (account, name) in wanted {
            let exists = made.roles.contains(&(account.clone(), name.clone()));
            if exists || made.left_to_configs.contains(&name) {
                continue;
            }
            self.iam(
                &account,
                &[
                    ("Action", "CreateRole"),
                    ("RoleName", &name),
                    ("AssumeRolePolicyDocument", &trust),
                ],
            );
            self.iam(
                &account,
                &[
                    ("Action", "PutRolePolicy"),
                    ("RoleName", &name),
                    ("PolicyName", "imagecopier-acc-everything"),
                    ("PolicyDocument", ALLOW_EVERYTHING),
                ],
            );
            made.roles.insert((account.clone(), name.clone()));
            made.ours.insert((account, name));
        }
    }

    /// Deletes every role `name` the harness made and never makes one again.
    fn leave_to_configs(&self, name: &str) {
        let mut made = self.lock();
        if !made.left_to_configs.insert(name.to_string()) {
            return;
        }
        let ours: Vec<(String, String)> = made
            .ours
            .iter()
            .filter(|(_, n)| n == name)
            .cloned()
            .collect();
        for (account, role) in ours {
            self.iam(
                &account,
                &[
                    ("Action", "DeleteRolePolicy"),
                    ("RoleName", &role),
                    ("PolicyName", "imagecopier-acc-everything"),
                ],
            );
            self.iam(&account, &[("Action", "DeleteRole"), ("RoleName", &role)]);
            made.ours.remove(&(account.clone(), role.clone()));
            made.roles.remove(&(account, role));
        }
    }

    /// [`TERRAFORM_USER`] in `account`, allowed only to assume roles, and its new access key.
    fn make_user(&self, account: &str) -> (String, String) {
        self.iam(
            account,
            &[("Action", "CreateUser"), ("UserName", TERRAFORM_USER)],
        );
        self.iam(
            account,
            &[
                ("Action", "PutUserPolicy"),
                ("UserName", TERRAFORM_USER),
                ("PolicyName", "assume-roles"),
                ("PolicyDocument", ALLOW_ASSUME_ROLE),
            ],
        );
        let answer = self.iam(
            account,
            &[("Action", "CreateAccessKey"), ("UserName", TERRAFORM_USER)],
        );
        let field = |name: &str| {
            let open = format!("<{name}>");
            let start = answer
                .find(&open)
                .unwrap_or_else(|| panic!("no {name} in CreateAccessKey's answer: {answer}"))
                + open.len();
            let end = answer[start..]
                .find('<')
                .map_or(answer.len(), |end| start + end);
            answer[start..end].trim().to_string()
        };
        (field("AccessKeyId"), field("SecretAccessKey"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Made> {
        self.made.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One IAM query-API call as `account`'s root (the strict stand-in does not check a root
    /// key's signature, as it cannot know the secret); the answer's body. Panics unless IAM
    /// answers 2xx.
    fn iam(&self, account: &str, params: &[(&str, &str)]) -> String {
        let mut body = format!("Version={IAM_VERSION}");
        for (key, value) in params {
            body.push_str(&format!("&{key}={}", form_encode(value)));
        }
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={account}/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00"
        );
        let mut response = self
            .agent
            .post(&self.endpoint)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", &auth)
            .send(body)
            .unwrap_or_else(|err| panic!("IAM {params:?} as {account}: {err}"));
        let status = response.status();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        assert!(
            status.is_success(),
            "IAM {params:?} as {account} answered {status}: {text}"
        );
        text
    }
}

/// The profile a workdir acting as `account` uses in strict mode.
pub fn profile(account: &str) -> String {
    format!("imagecopier-acc-{account}")
}

fn user_profile(account: &str) -> String {
    format!("imagecopier-acc-user-{account}")
}

const ALLOW_ASSUME_ROLE: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}"#;

const ALLOW_EVERYTHING: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#;

/// A trust policy letting any principal of `accounts` that its own policies allow assume the role
/// (IAM User Guide, "Cross account resource access": the account root as principal delegates to
/// the account's IAM).
fn trust_policy(accounts: &BTreeSet<String>) -> String {
    let principals: Vec<String> = accounts
        .iter()
        .map(|a| format!("arn:aws:iam::{a}:root"))
        .collect();
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": principals },
            "Action": "sts:AssumeRole",
        }],
    })
    .to_string()
}

/// The literal names of the `aws_iam_role` resources in `text` (`name = "..."` in their blocks).
fn roles_made_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("resource \"aws_iam_role\"") {
        let block = &text[at..];
        let block = &block[..block.find("\n}").unwrap_or(block.len())];
        for line in block.lines() {
            let Some(value) = line.trim().strip_prefix("name").map(str::trim_start) else {
                continue;
            };
            if let Some(quoted) = value.strip_prefix('=').map(str::trim) {
                let name = quoted.trim_matches('"');
                if quoted.starts_with('"') && !name.contains('$') {
                    found.push(name.to_string());
                }
            }
        }
    }
    found
}

/// Every run of exactly 12 ASCII digits in `text`.
fn account_ids_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            if run.len() == 12 {
                found.push(run.clone());
            }
            run.clear();
        }
    }
    found
}

/// `(account, name)` of each literal `arn:aws:iam::<account>:role/<name>` in `text` (names built
/// by interpolation are skipped; the named roles cover the examples' defaults).
fn role_arns_in(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("arn:aws:iam::") {
        let rest = &text[at + "arn:aws:iam::".len()..];
        let Some((account, after)) = rest.split_once(":role/") else {
            continue;
        };
        if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c))
            .collect();
        let interpolated = after[name.len()..].starts_with('$');
        if !name.is_empty() && !interpolated {
            found.push((account.to_string(), name));
        }
    }
    found
}

/// `value` encoded for an `application/x-www-form-urlencoded` body.
fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_accounts_and_literal_role_arns() {
        let text = "role_arn = \"arn:aws:iam::222222222222:role/ami-importer\"\n\
                    x = \"arn:aws:iam::333333333333:role/${var.name}\" y = 1234567890123";
        assert_eq!(
            account_ids_in(text),
            vec!["222222222222".to_string(), "333333333333".to_string()]
        );
        assert_eq!(
            role_arns_in(text),
            vec![("222222222222".to_string(), "ami-importer".to_string())]
        );
    }

    #[test]
    fn form_encoding_keeps_unreserved_characters() {
        assert_eq!(form_encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(form_encode("{\"a\": 1}"), "%7B%22a%22%3A%201%7D");
    }
}
