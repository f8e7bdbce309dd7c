//! Strict tier: the least-privilege policies the docs publish are enough, and each part is needed.
//!
//! The policies are read from the docs at test time (never copied here) and attached to the roles
//! the examples run as: the bake account's Terraform role gets the share's policy
//! (`docs/resources/ami_share.md`) and the grant statement for `share_kms_keys`
//! (`docs/guides/kms-keys.md`) and the right to assume the importer roles (`docs/index.md`); each
//! target's `ami-importer` role (or, in `examples/lifecycle-controls`, the target's Terraform role)
//! gets the copy's policy (`docs/resources/encrypted_ami_copy.md`) and the trust policy from
//! `docs/index.md`. The strict stand-in evaluates them as IAM does. `examples/cross-account`,
//! `examples/fan-out` and `examples/lifecycle-controls` must apply, plan empty and destroy to
//! nothing; with one needed action or resource taken out, the apply must fail with an error that
//! names the action.
//!
//! Placeholders in the docs: the bake account is 111111111111 and the target 222222222222 (the
//! harness's accounts A and B, so they stand as written); the key ARNs are replaced by the keys
//! made here.

use std::path::Path;

use acceptance_tests::copies::{create_key, kms, shared_source};
use acceptance_tests::iam::policies_in_markdown;
use acceptance_tests::strict::TERRAFORM_ROLE;
use acceptance_tests::{
    flat, is_strict, until_consistent, workspace_root, StandIn, Terraform, Workdir, ACCOUNT_A,
    ACCOUNT_B, ACCOUNT_C,
};
use serde_json::{json, Value};

/// The key ARNs the docs' examples use, for the bake account's key and a target account's key.
const DOC_BAKE_KEY: &str =
    "arn:aws:kms:eu-west-1:111111111111:key/1111aaaa-1111-aaaa-1111-aaaa1111aaaa";
const DOC_TARGET_KEY: &str =
    "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const IMPORTER_ROLE: &str = "ami-importer";

/// The documented policies, as parsed JSON, before their placeholders are replaced.
struct Documented {
    /// ami_share.md's IAM permissions: the bake credentials.
    share: Value,
    /// kms-keys.md's statements for share_kms_keys (CreateCopyGrants, ManageCopyGrants).
    grants: Value,
    /// index.md: what the bake credentials need to assume the importer roles.
    assume: Value,
    /// index.md: the importer role's trust policy.
    trust: Value,
    /// encrypted_ami_copy.md's IAM permissions: the importer role.
    copy: Value,
}

impl Documented {
    fn read() -> Self {
        let root = workspace_root();
        Self {
            share: only_policy(
                &root.join("docs/resources/ami_share.md"),
                "ReadImagesAndSnapshots",
            ),
            grants: only_policy(&root.join("docs/guides/kms-keys.md"), "CreateCopyGrants"),
            assume: only_policy(&root.join("docs/index.md"), "AssumeImporterRoles"),
            trust: only_policy(
                &root.join("docs/index.md"),
                "BakeAccountAssumesImporterRole",
            ),
            copy: only_policy(
                &root.join("docs/resources/encrypted_ami_copy.md"),
                "CopyAndManageImages",
            ),
        }
    }
}

/// The one ```json policy of `page` having a statement with `sid`.
fn only_policy(page: &Path, sid: &str) -> Value {
    let text = std::fs::read_to_string(page).unwrap_or_else(|err| panic!("{page:?}: {err}"));
    let found: Vec<Value> = policies_in_markdown(&text, &page.display().to_string())
        .into_iter()
        .filter(|p| statements(p).iter().any(|s| s["Sid"] == sid))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{page:?}: one policy with statement {sid:?}: {found:#?}"
    );
    found.into_iter().next().unwrap_or_default()
}

fn statements(policy: &Value) -> Vec<Value> {
    match &policy["Statement"] {
        Value::Array(list) => list.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => Vec::new(),
    }
}

/// One policy made of the statements of `policies`.
fn merged(policies: &[&Value]) -> Value {
    let all: Vec<Value> = policies.iter().flat_map(|p| statements(p)).collect();
    json!({ "Version": "2012-10-17", "Statement": all })
}

/// `policy` as text with each `(placeholder, value)` replaced.
fn localized(policy: &Value, replacements: &[(&str, &str)]) -> String {
    let mut text = policy.to_string();
    for (placeholder, value) in replacements {
        text = text.replace(placeholder, value);
    }
    text
}

/// Removes `action` from every statement of `policy` (a statement left with no action goes, as IAM
/// refuses an empty one); whether any statement had it.
fn without_action(policy: &mut Value, action: &str) -> bool {
    let mut removed = false;
    if let Value::Array(list) = &mut policy["Statement"] {
        for statement in list.iter_mut() {
            match &mut statement["Action"] {
                Value::Array(actions) => {
                    let before = actions.len();
                    actions.retain(|a| a != action);
                    removed |= actions.len() != before;
                }
                Value::String(one) if one == action => {
                    statement["Action"] = json!([]);
                    removed = true;
                }
                _ => {}
            }
        }
        list.retain(|s| s["Action"] != json!([]));
    }
    removed
}

/// The cross-account example's accounts in the strict stand-in, with the roles given the
/// (possibly edited) documented policies, and a workdir holding the example.
struct Example {
    standin: StandIn,
    wd: Workdir,
    target_keys: [String; 2],
    source_ami: String,
}

fn example_on(docs: &Documented) -> Example {
    example_with(docs, "cross-account", "seed.auto.tfvars", |ami| {
        format!("source_ami_id = \"{ami}\"\n")
    })
}

/// [`example_on`] for `examples/<name>`, its variables written to `vars_file` by `tfvars` from the
/// source AMI's id.
fn example_with(
    docs: &Documented,
    name: &str,
    vars_file: &str,
    tfvars: impl Fn(&str) -> String,
) -> Example {
    let standin = StandIn::start();
    let accounts = standin
        .strict()
        .expect("strict tier: the stand-in runs with --strict")
        .clone();
    let bake_key = create_key(&standin, ACCOUNT_A, "alias/bake");
    let ami = standin.ec2(ACCOUNT_A).seed_encrypted_ami_with_disks(
        &[("Name", "app-server"), ("Team", "platform")],
        &bake_key,
        2,
    );
    let target_keys = [ACCOUNT_B, ACCOUNT_C].map(|a| create_key(&standin, a, "alias/ami"));

    // The roles exist before any workdir names their accounts, so the harness leaves them be.
    let bake_policy = merged(&[&docs.share, &docs.grants, &docs.assume]);
    let trust_bake = own_account_trust(ACCOUNT_A);
    accounts.make_role(
        ACCOUNT_A,
        TERRAFORM_ROLE,
        &trust_bake.to_string(),
        &localized(&bake_policy, &[(DOC_BAKE_KEY, &bake_key)]),
    );
    for (account, key) in [ACCOUNT_B, ACCOUNT_C].iter().zip(&target_keys) {
        accounts.make_role(
            account,
            IMPORTER_ROLE,
            &localized(&docs.trust, &[]),
            &localized(
                &docs.copy,
                &[
                    (DOC_TARGET_KEY, key),
                    (DOC_BAKE_KEY, &bake_key),
                    ("222222222222", account),
                ],
            ),
        );
    }

    let wd = Workdir::new(&Terraform::default()).with_standin(&standin, ACCOUNT_A);
    let copied = wd.copy_tf_files(&workspace_root().join("examples").join(name));
    assert!(copied.contains(&"main.tf".to_string()), "{copied:?}");
    wd.write(vars_file, &tfvars(&ami.image_id));
    Example {
        standin,
        wd,
        target_keys,
        source_ami: ami.image_id,
    }
}

/// A trust policy letting the principals of `account` that its own policies allow assume the role:
/// what a Terraform role in that account trusts.
fn own_account_trust(account: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
                        "Action": "sts:AssumeRole" }],
    })
}

/// Prints why a strict-only test does nothing in the default tier; true when it should return.
fn skipped_outside_strict() -> bool {
    if is_strict() {
        return false;
    }
    println!("documented policies are enforced only by the strict stand-in (IMAGECOPIER_ACC_BACKEND=strict)");
    true
}

#[test]
fn the_cross_account_example_runs_on_the_documented_policies() {
    if skipped_outside_strict() {
        return;
    }
    let docs = Documented::read();
    let example = example_on(&docs);
    let wd = &example.wd;
    wd.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .assert_success();
    let outputs = wd.output_json();
    for stage in ["prod", "staging"] {
        let copy = outputs["copy_ids"]["value"][stage].as_str().unwrap_or("");
        assert!(copy.starts_with("ami-"), "{stage}: {outputs:#}");
    }
    wd.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])
        .assert_success();
    wd.run(&["destroy", "-auto-approve", "-input=false", "-no-color"])
        .assert_success();
    for (account, key) in [ACCOUNT_B, ACCOUNT_C].iter().zip(&example.target_keys) {
        let ec2 = example.standin.ec2(account);
        assert!(ec2.owned_images().is_empty(), "{account} still owns copies");
        let grants = kms(
            &example.standin,
            account,
            "ListGrants",
            json!({ "KeyId": key }),
        );
        assert!(
            grants["Grants"].as_array().is_none_or(Vec::is_empty),
            "{account}: grants left on its key: {grants:#}"
        );
    }
}

/// Applies the example with `edit` made to the documented policies; the apply must fail with an
/// error naming `action`, having copied nothing.
fn fails_without(edit: impl FnOnce(&mut Documented), action: &str) {
    let mut docs = Documented::read();
    edit(&mut docs);
    let example = example_on(&docs);
    let out = example
        .wd
        .run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(
        !out.success(),
        "the apply succeeded without {action}: {out}"
    );
    assert!(
        flat(&out.stderr).contains(action),
        "the error does not name {action}: {out}"
    );
    for account in [ACCOUNT_B, ACCOUNT_C] {
        let left = example.standin.ec2(account).owned_images();
        assert!(
            left.is_empty(),
            "a refused apply left copies in {account}: {left:?}"
        );
    }
    // Whatever the refused apply did make is in the state: destroy takes it all away.
    example
        .wd
        .run(&["destroy", "-auto-approve", "-input=false", "-no-color"])
        .assert_success();
    let bake = example.standin.ec2(ACCOUNT_A);
    until_consistent(|| bake.launch_permissions(&example.source_ami).0.is_empty());
    let (accounts, _) = bake.launch_permissions(&example.source_ami);
    assert!(
        accounts.is_empty(),
        "launch permissions left after destroy: {accounts:?}"
    );
}

#[test]
fn the_share_fails_naming_modify_snapshot_attribute_without_it() {
    if skipped_outside_strict() {
        return;
    }
    let edit = |d: &mut Documented| {
        assert!(without_action(&mut d.share, "ec2:ModifySnapshotAttribute"));
    };
    fails_without(edit, "ec2:ModifySnapshotAttribute");
}

#[test]
fn the_copy_fails_naming_copy_image_without_it() {
    if skipped_outside_strict() {
        return;
    }
    let edit = |d: &mut Documented| assert!(without_action(&mut d.copy, "ec2:CopyImage"));
    fails_without(edit, "ec2:CopyImage");
}

#[test]
fn the_grants_fail_naming_create_grant_without_it() {
    if skipped_outside_strict() {
        return;
    }
    // Both the share's ShareKmsKeys statement and kms-keys.md's narrower one allow it.
    let edit = |d: &mut Documented| {
        assert!(without_action(&mut d.share, "kms:CreateGrant"));
        assert!(without_action(&mut d.grants, "kms:CreateGrant"));
    };
    fails_without(edit, "kms:CreateGrant");
}

/// Snapshot ARNs have no account field (Service Authorization Reference, Amazon EC2, resource
/// types: `arn:${Partition}:ec2:${Region}::snapshot/${SnapshotId}`), so a resource naming the
/// account matches no snapshot. `ami_share.md` once published exactly that; this keeps the test
/// able to catch it.
#[test]
fn a_snapshot_arn_with_an_account_is_caught() {
    if skipped_outside_strict() {
        return;
    }
    let with_account = |docs: &mut Documented| {
        let text = docs.share.to_string().replace(
            "arn:aws:ec2:*::snapshot/*",
            "arn:aws:ec2:*:111111111111:snapshot/*",
        );
        assert_ne!(
            text,
            docs.share.to_string(),
            "the doc's snapshot ARN changed"
        );
        docs.share = serde_json::from_str(&text).unwrap_or_default();
    };
    fails_without(with_account, "ec2:ModifySnapshotAttribute");
}

/// `examples/fan-out` (one share, a copy per target through each copy's own `assume_role`) on the
/// same documented policies, two target accounts in one Region.
#[test]
fn the_fan_out_example_runs_on_the_documented_policies() {
    if skipped_outside_strict() {
        return;
    }
    let docs = Documented::read();
    let example = example_with(&docs, "fan-out", "seed.auto.tfvars.json", |ami| {
        let target = |account: &str| json!({ "account_id": account, "region": "eu-west-1", "kms_key_id": "alias/ami" });
        json!({
            "ami_id": ami,
            "allowed_account_ids": [ACCOUNT_A, ACCOUNT_B, ACCOUNT_C],
            "targets": { "prod/eu-west-1": target(ACCOUNT_B), "staging/eu-west-1": target(ACCOUNT_C) },
        })
        .to_string()
    });
    let wd = &example.wd;
    wd.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .assert_success();
    for account in [ACCOUNT_B, ACCOUNT_C] {
        let owned = example.standin.ec2(account).owned_images();
        assert_eq!(owned.len(), 1, "{account}: one copy: {owned:?}");
    }
    wd.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])
        .assert_success();
    wd.run(&["destroy", "-auto-approve", "-input=false", "-no-color"])
        .assert_success();
    for account in [ACCOUNT_B, ACCOUNT_C] {
        let ec2 = example.standin.ec2(account);
        until_consistent(|| ec2.owned_images().is_empty());
        assert!(ec2.owned_images().is_empty(), "{account} still owns copies");
    }
}

/// `examples/lifecycle-controls` in a target account whose Terraform role holds exactly the copy's
/// documented policy: deregistration protection, deprecation and a time-based copy are set, and
/// destroy (which turns protection off and checks launch templates) goes through.
#[test]
fn the_lifecycle_example_runs_on_the_documented_policy() {
    if skipped_outside_strict() {
        return;
    }
    let docs = Documented::read();
    let standin = StandIn::start();
    let accounts = standin
        .strict()
        .expect("strict tier: the stand-in runs with --strict")
        .clone();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    let key = create_key(&standin, ACCOUNT_B, "alias/ami");
    let trust = own_account_trust(ACCOUNT_B);
    accounts.make_role(
        ACCOUNT_B,
        TERRAFORM_ROLE,
        &trust.to_string(),
        &localized(&docs.copy, &[(DOC_TARGET_KEY, &key)]),
    );
    let wd = Workdir::new(&Terraform::default()).with_standin(&standin, ACCOUNT_B);
    let copied = wd.copy_tf_files(&workspace_root().join("examples/lifecycle-controls"));
    assert!(copied.contains(&"main.tf".to_string()), "{copied:?}");
    // A whole minute 90 days ahead: EC2 rounds deprecation times to the minute.
    let at = acceptance_tests::clock::unix_now() + 90 * 24 * 3600;
    let deprecation = acceptance_tests::clock::rfc3339(at - at % 60);
    wd.write(
        "terraform.tfvars.json",
        &json!({ "source_ami_id": source.image_id, "deprecation_time": deprecation }).to_string(),
    );
    wd.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .assert_success();
    wd.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])
        .assert_success();
    wd.run(&["destroy", "-auto-approve", "-input=false", "-no-color"])
        .assert_success();
    let ec2 = standin.ec2(ACCOUNT_B);
    until_consistent(|| ec2.owned_images().is_empty());
    assert!(ec2.owned_images().is_empty(), "the copy is still there");
}

/// `data "imagecopier_image"` in a target account whose Terraform role holds only the data
/// source's documented policy (`docs/data-sources/image.md`) finds the AMI shared with it.
#[test]
fn the_image_data_source_runs_on_its_documented_policy() {
    if skipped_outside_strict() {
        return;
    }
    let page = workspace_root().join("docs/data-sources/image.md");
    let policy = only_policy(&page, "FindImages");
    let standin = StandIn::start();
    let accounts = standin
        .strict()
        .expect("strict tier: the stand-in runs with --strict")
        .clone();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    let trust = own_account_trust(ACCOUNT_B);
    accounts.make_role(
        ACCOUNT_B,
        TERRAFORM_ROLE,
        &trust.to_string(),
        &localized(&policy, &[]),
    );
    let wd = Workdir::new(&Terraform::default()).with_standin(&standin, ACCOUNT_B);
    wd.write_main(&format!(
        "provider \"imagecopier\" {{}}\n\ndata \"imagecopier_image\" \"app\" {{\n  owners       = [\"{ACCOUNT_A}\"]\n  name_pattern = \"{}\"\n}}\n\noutput \"id\" {{\n  value = data.imagecopier_image.app.id\n}}\n",
        source.name
    ));
    wd.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .assert_success();
    assert_eq!(wd.output_json()["id"]["value"], source.image_id.as_str());
}
