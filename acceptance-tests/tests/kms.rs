//! Copies of an AMI the bake account encrypted with its own customer managed key (CMK): the
//! target account must be allowed to use that key (the EBS User Guide's list: DescribeKey,
//! CreateGrant, Decrypt, ReEncrypt*, GenerateDataKey*), by the key's policy or a grant. The
//! stand-in enforces it as AWS documents; the copy checks it before CopyImage.

use acceptance_tests::copies::*;
use acceptance_tests::{flat, needs_admin, Admin, SeededAmi, StandIn, ACCOUNT_A, ACCOUNT_B};
use serde_json::{json, Value};

/// What a copy needs on the source key.
const COPY_ACTIONS: &[&str] = &[
    "kms:DescribeKey",
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
];

/// A key in the bake account with `extra` statements besides the default one (the account
/// itself may do everything).
fn bake_key(standin: &StandIn, extra: &[Value]) -> String {
    let mut statements = vec![json!({
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": { "AWS": format!("arn:aws:iam::{ACCOUNT_A}:root") },
        "Action": "kms:*",
        "Resource": "*"
    })];
    statements.extend_from_slice(extra);
    let policy = json!({ "Version": "2012-10-17", "Statement": statements }).to_string();
    let created = kms(standin, ACCOUNT_A, "CreateKey", json!({ "Policy": policy }));
    created["KeyMetadata"]["Arn"]
        .as_str()
        .expect("key ARN")
        .to_string()
}

/// A bake AMI encrypted with `key_arn`, shared with ACCOUNT_B (launch and volume permission).
fn cmk_source(standin: &StandIn, key_arn: &str) -> SeededAmi {
    let ami = standin
        .ec2(ACCOUNT_A)
        .seed_encrypted_ami(SOURCE_TAGS, key_arn);
    share_ami(standin, &ami, &[ACCOUNT_B]);
    ami
}

/// A copy of `source` into ACCOUNT_B with B's own key `alias/ami`, configured.
fn copy_into_b(standin: &StandIn, source: &SeededAmi) -> acceptance_tests::Workdir {
    create_key(standin, ACCOUNT_B, "alias/ami");
    let wd = workdir(standin, ACCOUNT_B);
    // Where the key is not shared, the create timeout bounds how long the apply waits for it.
    wd.write_main(&copy_config(
        &source.image_id,
        "alias/ami",
        &unshared_timeout(),
    ));
    wd
}

#[test]
fn an_unshared_source_key_stops_the_copy_before_copyimage() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let key = bake_key(&standin, &[]);
    let source = cmk_source(&standin, &key);
    let wd = copy_into_b(&standin, &source);
    // A share in the same apply could still grant the key, so the plan stays quiet.
    let plan = wd.plan();
    assert!(!flat(&plan.stderr).contains("Warning"), "{plan}");
    standin.clear_calls();
    let apply = wd.try_apply();
    assert!(!apply.success(), "{apply}");
    let text = flat(&apply.stderr);
    assert!(
        text.contains("Source KMS key not usable by this account"),
        "{apply}"
    );
    assert!(
        text.contains("source_ami_id"),
        "the error names the attribute: {apply}"
    );
    assert!(
        text.contains(&key) && text.contains("kms:CreateGrant"),
        "names the key and the permissions: {apply}"
    );
    assert!(
        text.contains("set share_kms_keys = true on the imagecopier_ami_share"),
        "names the fix: {apply}"
    );
    assert!(
        standin.mutating_calls(ACCOUNT_B).is_empty(),
        "something was made: {:?}",
        standin.mutating_calls(ACCOUNT_B)
    );
    assert!(standin.ec2(ACCOUNT_B).owned_images().is_empty());
}

/// Three snapshots encrypted with one unusable key: one error for the key, naming them all.
#[test]
fn one_error_per_source_key_not_per_snapshot() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let key = bake_key(&standin, &[]);
    let source = standin
        .ec2(ACCOUNT_A)
        .seed_encrypted_ami_with_disks(SOURCE_TAGS, &key, 3);
    share_ami(&standin, &source, &[ACCOUNT_B]);
    let wd = copy_into_b(&standin, &source);
    standin.clear_calls();
    let apply = wd.try_apply();
    assert!(!apply.success(), "{apply}");
    let text = flat(&apply.stderr);
    assert_eq!(
        text.matches("Source KMS key not usable by this account")
            .count(),
        1,
        "{apply}"
    );
    for snapshot in &source.snapshot_ids {
        assert!(
            text.contains(snapshot.as_str()),
            "names {snapshot}: {apply}"
        );
    }
    assert!(standin.mutating_calls(ACCOUNT_B).is_empty());
}

#[test]
fn a_key_policy_statement_lets_the_copy_through() {
    let standin = StandIn::start();
    let key = bake_key(
        &standin,
        &[json!({
            "Sid": "Allow the copy account",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{ACCOUNT_B}:root") },
            "Action": COPY_ACTIONS,
            "Resource": "*"
        })],
    );
    let source = cmk_source(&standin, &key);
    let wd = copy_into_b(&standin, &source);
    wd.apply();
    let values = wd.resource_values(ADDRESS);
    assert_eq!(values["state"], "available", "{values}");
    let key_b = values["kms_key_arn"].as_str().unwrap_or_default();
    assert!(
        key_b.contains(ACCOUNT_B),
        "encrypted with B's own key: {values}"
    );
    wd.assert_plan_empty();
}

#[test]
fn a_grant_lets_the_copy_through() {
    let standin = StandIn::start();
    let key = bake_key(&standin, &[]);
    let operations = [
        "DescribeKey",
        "CreateGrant",
        "Decrypt",
        "ReEncryptFrom",
        "ReEncryptTo",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
    ];
    kms(
        &standin,
        ACCOUNT_A,
        "CreateGrant",
        json!({
            "KeyId": key,
            "GranteePrincipal": format!("arn:aws:iam::{ACCOUNT_B}:root"),
            "Operations": operations,
            "Name": "copy-account"
        }),
    );
    let source = cmk_source(&standin, &key);
    let wd = copy_into_b(&standin, &source);
    wd.apply();
    assert_eq!(wd.resource_values(ADDRESS)["state"], "available");
    wd.assert_plan_empty();
}

#[test]
fn the_destination_key_must_be_symmetric_and_in_the_copy_region() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    let signing = kms(
        &standin,
        ACCOUNT_B,
        "CreateKey",
        json!({ "KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY" }),
    );
    let signing_arn = signing["KeyMetadata"]["Arn"]
        .as_str()
        .expect("ARN")
        .to_string();
    let elsewhere = create_key_in(&standin, ACCOUNT_B, "us-east-1", "alias/east");
    let wd = workdir(&standin, ACCOUNT_B);
    for (key, expected) in [
        (signing_arn.as_str(), "symmetric encryption keys"),
        (elsewhere.as_str(), "is in region us-east-1"),
    ] {
        wd.write_main(&copy_config(&source.image_id, key, ""));
        standin.clear_calls();
        let plan = wd.try_plan();
        assert!(!plan.success(), "{plan}");
        let text = flat(&plan.stderr);
        assert!(
            text.contains(expected) && text.contains("kms_key_id"),
            "{plan}"
        );
        assert!(standin.mutating_calls(ACCOUNT_B).is_empty());
    }
}

/// A destination key that does not exist at plan may be made by this same apply (an
/// aws_kms_alias with a configured name), so the plan leaves it to the apply; the apply checks
/// it again and, when it still does not exist, stops at kms_key_id before copying anything.
#[test]
fn a_destination_key_missing_at_apply_stops_the_copy_before_copyimage() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    let wd = workdir(&standin, ACCOUNT_B);
    wd.write_main(&copy_config(&source.image_id, "alias/made-later", ""));
    let plan = wd.plan();
    assert!(flat(&plan.stdout).contains("1 to add"), "{plan}");
    standin.clear_calls();
    let apply = wd.try_apply();
    assert!(!apply.success(), "{apply}");
    let text = flat(&apply.stderr);
    assert!(
        text.contains("KMS key not usable")
            && text.contains("kms_key_id")
            && text.contains("Nothing was copied"),
        "{apply}"
    );
    assert!(
        standin.mutating_calls(ACCOUNT_B).is_empty(),
        "{:?}",
        standin.mutating_calls(ACCOUNT_B)
    );
    assert!(wd.state_list().is_empty());
}
