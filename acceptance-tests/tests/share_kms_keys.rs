//! `share_kms_keys`: the share grants the bake account's customer managed key to each of its
//! accounts, so their copies of a CMK-encrypted AMI go through; the grants are state (planned,
//! drift-detected, retired when an account leaves, revoked on destroy) and grants the share did
//! not make are never touched. The stand-in enforces key access as AWS documents it, so a missing
//! or wrong grant fails the copy.

use std::collections::BTreeSet;

use acceptance_tests::copies::*;
use acceptance_tests::{
    flat, needs_admin, Admin, StandIn, Workdir, ACCOUNT_A, ACCOUNT_B, ACCOUNT_C,
};
use serde_json::{json, Value};

const SHARE: &str = "imagecopier_ami_share.app";
/// Someone else's grant on the bake key, which the share must leave alone.
const FOREIGN_GRANT: &str = "security-team-audit";
/// What a copy needs from the source key, and nothing else.
const OPERATIONS: [&str; 6] = [
    "CreateGrant",
    "Decrypt",
    "DescribeKey",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
];

/// A bake key in ACCOUNT_A with the default policy (only A may use it), carrying a grant of
/// someone else's; returns its ARN.
fn bake_key(standin: &StandIn) -> String {
    let created = kms(
        standin,
        ACCOUNT_A,
        "CreateKey",
        json!({ "Description": "bake" }),
    );
    let arn = created["KeyMetadata"]["Arn"]
        .as_str()
        .expect("key ARN")
        .to_string();
    kms(
        standin,
        ACCOUNT_A,
        "CreateGrant",
        json!({
            "KeyId": arn,
            "GranteePrincipal": format!("arn:aws:iam::{ACCOUNT_C}:root"),
            "Operations": ["DescribeKey"],
            "Name": FOREIGN_GRANT
        }),
    );
    arn
}

/// The grants on `key` as (name, grantee account, operations), from the stand-in's own view.
fn grants(standin: &StandIn, key: &str) -> Vec<(String, String, BTreeSet<String>)> {
    let view: Value =
        serde_json::from_str(&standin.admin("GET", "/_standin/kms_grants", None)).expect("JSON");
    view["grants"]
        .as_array()
        .expect("grants")
        .iter()
        .filter(|g| g["key_arn"] == key)
        .map(|g| {
            let principal = g["grantee_principal"].as_str().unwrap_or_default();
            let account = principal
                .trim_start_matches("arn:aws:iam::")
                .trim_end_matches(":root");
            let operations = g["operations"]
                .as_array()
                .expect("operations")
                .iter()
                .map(|op| op.as_str().unwrap_or_default().to_owned())
                .collect();
            (
                g["name"].as_str().unwrap_or_default().to_owned(),
                account.to_owned(),
                operations,
            )
        })
        .collect()
}

/// The accounts the share's own grants on `key` are for; each grant must have exactly the
/// operations a copy needs.
fn granted_accounts(standin: &StandIn, key: &str, ami: &str) -> Vec<String> {
    let name = format!("imagecopier-share-{ami}");
    let wanted: BTreeSet<String> = OPERATIONS.iter().map(|s| (*s).to_owned()).collect();
    let mut accounts = Vec::new();
    for (grant_name, account, operations) in grants(standin, key) {
        if grant_name == name {
            assert_eq!(operations, wanted, "grant for {account}");
            accounts.push(account);
        }
    }
    accounts.sort();
    accounts
}

/// The foreign grant is still there, unchanged.
fn assert_foreign_grant_kept(standin: &StandIn, key: &str) {
    let kept: Vec<_> = grants(standin, key)
        .into_iter()
        .filter(|(name, _, _)| name == FOREIGN_GRANT)
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].1, ACCOUNT_C);
}

fn entry(account: &str, key: &str) -> String {
    format!("{account} {key}")
}

fn state_grants(wd: &Workdir) -> BTreeSet<String> {
    wd.resource_values(SHARE)["kms_grants"]
        .as_array()
        .expect("kms_grants")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

fn providers() -> String {
    format!(
        r#"
provider "imagecopier" {{}}
provider "imagecopier" {{
  alias      = "b"
  access_key = "{ACCOUNT_B}"
  secret_key = "test"
}}
provider "imagecopier" {{
  alias      = "c"
  access_key = "{ACCOUNT_C}"
  secret_key = "test"
}}
"#
    )
}

fn share(ami: &str, accounts: &[&str], share_kms_keys: bool) -> String {
    let list: Vec<String> = accounts.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        r#"
resource "imagecopier_ami_share" "app" {{
  image_id       = "{ami}"
  account_ids    = [{}]
  share_kms_keys = {share_kms_keys}
}}
"#,
        list.join(", ")
    )
}

/// `main.tf`: the three provider blocks and the share of `ami` with `accounts`.
fn write_share(wd: &Workdir, ami: &str, accounts: &[&str], share_kms_keys: bool) {
    wd.write_main(&format!(
        "{}{}",
        providers(),
        share(ami, accounts, share_kms_keys)
    ));
}

/// The bake account revokes the share's grant for `account` on `key`, outside Terraform.
fn revoke_by_hand(standin: &StandIn, key: &str, ami: &str, account: &str) {
    let listed = kms(
        standin,
        ACCOUNT_A,
        "ListGrants",
        json!({ "KeyId": key, "GranteePrincipal": format!("arn:aws:iam::{account}:root") }),
    );
    let ours = listed["Grants"]
        .as_array()
        .expect("grants")
        .iter()
        .find(|g| g["Name"] == format!("imagecopier-share-{ami}"))
        .unwrap_or_else(|| panic!("no grant of the share for {account}: {listed}"));
    kms(
        standin,
        ACCOUNT_A,
        "RevokeGrant",
        json!({ "KeyId": key, "GrantId": ours["GrantId"] }),
    );
}

fn copy_in(name: &str) -> String {
    format!(
        r#"
resource "imagecopier_encrypted_ami_copy" "{name}" {{
  provider      = imagecopier.{name}
  source_ami_id = imagecopier_ami_share.app.image_id
  kms_key_id    = "alias/ami"
  source_tags   = imagecopier_ami_share.app.image_tags
}}
"#
    )
}

/// The bake AMI encrypted with the bake key, not shared yet, and a key `alias/ami` in B and C.
fn setup() -> (StandIn, String, String, Workdir) {
    let standin = StandIn::start();
    let key = bake_key(&standin);
    let ami = standin
        .ec2(ACCOUNT_A)
        .seed_encrypted_ami(SOURCE_TAGS, &key)
        .image_id;
    create_key(&standin, ACCOUNT_B, "alias/ami");
    create_key(&standin, ACCOUNT_C, "alias/ami");
    let wd = workdir(&standin, ACCOUNT_A);
    (standin, key, ami, wd)
}

#[test]
fn a_cmk_source_is_copied_into_two_accounts_and_a_revoked_grant_comes_back() {
    if needs_admin(&[Admin::Inspection, Admin::CallCounts]) {
        return;
    }
    let (standin, key, ami, wd) = setup();
    wd.write_main(&format!(
        "{}{}{}{}",
        providers(),
        share(&ami, &[ACCOUNT_B, ACCOUNT_C], true),
        copy_in("b"),
        copy_in("c")
    ));
    // The plan names every grant, for the reviewer, and warns of nothing.
    let review = wd.plan_json();
    assert!(review.diagnostics.is_empty(), "{:#?}", review.diagnostics);
    let plan = wd.plan();
    for account in [ACCOUNT_B, ACCOUNT_C] {
        assert!(
            plan.stdout
                .contains(&format!("\"{}\"", entry(account, &key))),
            "{plan}"
        );
    }
    wd.apply();
    for (address, account) in [
        ("imagecopier_encrypted_ami_copy.b", ACCOUNT_B),
        ("imagecopier_encrypted_ami_copy.c", ACCOUNT_C),
    ] {
        let values = wd.resource_values(address);
        assert_eq!(values["state"], "available", "{values}");
        assert_eq!(standin.ec2(account).owned_images().len(), 1);
    }
    assert_eq!(
        granted_accounts(&standin, &key, &ami),
        [ACCOUNT_B, ACCOUNT_C]
    );
    assert_eq!(
        state_grants(&wd),
        BTreeSet::from([entry(ACCOUNT_B, &key), entry(ACCOUNT_C, &key)])
    );
    assert_foreign_grant_kept(&standin, &key);
    wd.assert_plan_empty();

    // Someone revokes B's grant by hand: the plan shows it, the apply makes it again.
    revoke_by_hand(&standin, &key, &ami, ACCOUNT_B);
    assert_eq!(granted_accounts(&standin, &key, &ami), [ACCOUNT_C]);
    let drift = wd.plan();
    let text = flat(&drift.stdout);
    assert!(
        text.contains(&format!("{SHARE} will be updated in-place"))
            && drift
                .stdout
                .contains(&format!("+ \"{}\"", entry(ACCOUNT_B, &key))),
        "the revoked grant is not in the plan: {drift}"
    );
    assert!(!text.contains("must be replaced"), "{drift}");
    wd.apply();
    assert_eq!(
        granted_accounts(&standin, &key, &ami),
        [ACCOUNT_B, ACCOUNT_C]
    );
    wd.assert_plan_empty();

    // Destroy: copies, shares and the share's grants are gone; the foreign grant stays.
    wd.destroy();
    assert!(granted_accounts(&standin, &key, &ami).is_empty());
    assert_foreign_grant_kept(&standin, &key);
    let calls = standin.calls();
    assert!(
        calls[ACCOUNT_A].contains_key("RevokeGrant"),
        "destroy revokes: {calls:?}"
    );
}

#[test]
fn an_account_leaving_the_share_has_its_grant_retired() {
    if needs_admin(&[Admin::Inspection, Admin::CallCounts]) {
        return;
    }
    let (standin, key, ami, wd) = setup();
    write_share(&wd, &ami, &[ACCOUNT_B, ACCOUNT_C], true);
    wd.apply();
    assert_eq!(
        granted_accounts(&standin, &key, &ami),
        [ACCOUNT_B, ACCOUNT_C]
    );

    // C leaves: its grant is retired, B's stays.
    write_share(&wd, &ami, &[ACCOUNT_B], true);
    let plan = wd.plan();
    assert!(
        plan.stdout
            .contains(&format!("- \"{}\"", entry(ACCOUNT_C, &key))),
        "{plan}"
    );
    standin.clear_calls();
    wd.apply();
    assert_eq!(granted_accounts(&standin, &key, &ami), [ACCOUNT_B]);
    assert!(
        standin.calls()[ACCOUNT_A].contains_key("RetireGrant"),
        "{:?}",
        standin.calls()
    );
    assert_foreign_grant_kept(&standin, &key);
    wd.assert_plan_empty();

    // Switched off: B's grant goes too, the launch permission stays.
    write_share(&wd, &ami, &[ACCOUNT_B], false);
    wd.apply();
    assert!(granted_accounts(&standin, &key, &ami).is_empty());
    assert!(state_grants(&wd).is_empty());
    assert_foreign_grant_kept(&standin, &key);
    wd.assert_plan_empty();
}

#[test]
fn state_from_before_share_kms_keys_plans_no_change() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let (standin, _key, ami, wd) = setup();
    wd.write_main(
        &format!("{}{}", providers(), share(&ami, &[ACCOUNT_B], false))
            .replace("  share_kms_keys = false\n", ""),
    );
    wd.apply();
    // Drop the two attributes from state, as an earlier provider version wrote it.
    let path = wd.path().join("terraform.tfstate");
    let mut state: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("state")).expect("JSON");
    for resource in state["resources"].as_array_mut().expect("resources") {
        if resource["type"] == "imagecopier_ami_share" {
            let attributes = resource["instances"][0]["attributes"]
                .as_object_mut()
                .expect("attributes");
            attributes.remove("share_kms_keys");
            attributes.remove("kms_grants");
        }
    }
    std::fs::write(&path, state.to_string()).expect("writing state");
    standin.clear_calls();
    wd.assert_plan_empty();
    assert!(standin.mutating_calls(ACCOUNT_A).is_empty());
}

#[test]
fn import_finds_the_share_s_own_grants() {
    if needs_admin(&[Admin::Inspection]) {
        return;
    }
    let (standin, key, ami, wd) = setup();
    write_share(&wd, &ami, &[ACCOUNT_B, ACCOUNT_C], true);
    wd.apply();
    wd.run(&["state", "rm", SHARE]).assert_success();
    wd.import(SHARE, &ami);
    assert_eq!(wd.resource_values(SHARE)["share_kms_keys"], true);
    assert_eq!(
        state_grants(&wd),
        BTreeSet::from([entry(ACCOUNT_B, &key), entry(ACCOUNT_C, &key)])
    );
    wd.assert_plan_empty();

    // A grant missing for one account: import cannot tell the share made them, so it records
    // share_kms_keys = false, and the configuration's true plans the grants back.
    revoke_by_hand(&standin, &key, &ami, ACCOUNT_C);
    wd.run(&["state", "rm", SHARE]).assert_success();
    wd.import(SHARE, &ami);
    assert_eq!(wd.resource_values(SHARE)["share_kms_keys"], false);
    wd.apply();
    assert_eq!(
        granted_accounts(&standin, &key, &ami),
        [ACCOUNT_B, ACCOUNT_C]
    );
    wd.assert_plan_empty();
}
