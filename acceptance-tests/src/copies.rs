//! Fixtures for tests of `imagecopier_encrypted_ami_copy`: a bake AMI in ACCOUNT_A shared with
//! the copy accounts (as the bake account would share it, through the SDK), KMS keys in the copy
//! accounts, and a copy configuration applied in ACCOUNT_B.

use std::thread;
use std::time::{Duration, Instant};

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    CreateVolumePermission, CreateVolumePermissionModifications, LaunchPermission,
    LaunchPermissionModifications, Tag,
};
use serde_json::{json, Value};

use crate::{
    eventually, image_tag, snapshot_ids, Ec2, SeededAmi, StandIn, Terraform, Workdir, ACCOUNT_A,
    ACCOUNT_B, ACCOUNT_C, REGION,
};

/// The copy resource every configuration here declares.
pub const ADDRESS: &str = "imagecopier_encrypted_ami_copy.app";
/// The tags of the bake AMI, as `copy_config` carries them.
pub const SOURCE_TAGS: &[(&str, &str)] = &[("Name", "app-source"), ("team", "images")];

/// A bake AMI shared with `targets`, snapshots included.
pub fn shared_source(standin: &StandIn, targets: &[&str]) -> SeededAmi {
    shared_source_with_disks(standin, targets, 1)
}

/// [`shared_source`] with `disks` snapshots behind the AMI.
pub fn shared_source_with_disks(standin: &StandIn, targets: &[&str], disks: usize) -> SeededAmi {
    let ami = standin
        .ec2(ACCOUNT_A)
        .seed_ami_with_disks(SOURCE_TAGS, disks);
    share_ami(standin, &ami, targets);
    ami
}

/// Shares ACCOUNT_A's `ami` with `targets` as the bake account would through the SDK: launch
/// permission and createVolumePermission on each snapshot.
pub fn share_ami(standin: &StandIn, ami: &SeededAmi, targets: &[&str]) {
    let bake = standin.ec2(ACCOUNT_A);
    let c = bake.client();
    for target in targets {
        let launch = LaunchPermissionModifications::builder()
            .add(LaunchPermission::builder().user_id(*target).build())
            .build();
        bake.block_on(
            c.modify_image_attribute()
                .image_id(&ami.image_id)
                .launch_permission(launch)
                .send(),
        )
        .expect("sharing the AMI");
        for snapshot in &ami.snapshot_ids {
            let volume = CreateVolumePermissionModifications::builder()
                .add(CreateVolumePermission::builder().user_id(*target).build())
                .build();
            bake.block_on(
                c.modify_snapshot_attribute()
                    .snapshot_id(snapshot)
                    .create_volume_permission(volume)
                    .send(),
            )
            .expect("sharing the snapshot");
        }
        let target_view = standin.ec2(target);
        eventually(&format!("{} shared with {target}", ami.image_id), || {
            target_view.describe_image(&ami.image_id)
        });
    }
}

/// The three-account layout of a one-apply configuration: a bake AMI in ACCOUNT_A (not shared:
/// the configuration's share does that), a key `alias/ami` in ACCOUNT_B and ACCOUNT_C, and a
/// workdir acting as ACCOUNT_A. Returns (stand-in, workdir, source, key ARN in B, key ARN in C).
pub fn bake_and_two_targets() -> (StandIn, Workdir, SeededAmi, String, String) {
    let standin = StandIn::start();
    let source = standin.seed_ami(ACCOUNT_A, SOURCE_TAGS);
    let key_b = create_key(&standin, ACCOUNT_B, "alias/ami");
    let key_c = create_key(&standin, ACCOUNT_C, "alias/ami");
    let wd = workdir(&standin, ACCOUNT_A);
    (standin, wd, source, key_b, key_c)
}

/// The snapshot `snapshot_id` as its owner sees it; `None` when DescribeSnapshots does not show
/// it (deleted, or new and not visible yet).
pub fn describe_snapshot(ec2: &Ec2, snapshot_id: &str) -> Option<aws_sdk_ec2::types::Snapshot> {
    let result = ec2.block_on(
        ec2.client()
            .describe_snapshots()
            .snapshot_ids(snapshot_id)
            .send(),
    );
    match result {
        Ok(out) => out.snapshots().first().cloned(),
        Err(err) if err.code() == Some("InvalidSnapshot.NotFound") => None,
        Err(err) => panic!("DescribeSnapshots {snapshot_id}: {err:?}"),
    }
}

/// Calls KMS (a JSON protocol) at the stand-in as `account`; the stand-in reads the account from
/// the access key in the credential scope and does not check signatures.
pub fn kms(standin: &StandIn, account: &str, action: &str, body: Value) -> Value {
    kms_in(standin, account, REGION, action, body)
}

/// [`kms`] in `region`.
pub fn kms_in(standin: &StandIn, account: &str, region: &str, action: &str, body: Value) -> Value {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={account}/20260101/{region}/kms/aws4_request, SignedHeaders=host, Signature=00"
    );
    let mut response = ureq::post(standin.endpoint())
        .header("Content-Type", "application/x-amz-json-1.1")
        .header("X-Amz-Target", &format!("TrentService.{action}"))
        .header("Authorization", &auth)
        .send(body.to_string())
        .unwrap_or_else(|err| panic!("KMS {action}: {err}"));
    let text = response.body_mut().read_to_string().expect("KMS answer");
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("KMS {action}: {err}: {text}"))
}

/// A Recycle Bin retention rule in `account` (stand-in region) keeping `resource_type`
/// (`EC2_IMAGE`, `EBS_SNAPSHOT`) for `days`: tag-level when `tags` are given, else
/// Region-level. Returns its identifier.
pub fn create_retention_rule(
    standin: &StandIn,
    account: &str,
    resource_type: &str,
    days: u32,
    tags: &[(&str, &str)],
) -> String {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={account}/20260101/{REGION}/rbin/aws4_request, SignedHeaders=host, Signature=00"
    );
    let mut body = json!({
        "ResourceType": resource_type,
        "RetentionPeriod": { "RetentionPeriodValue": days, "RetentionPeriodUnit": "DAYS" },
    });
    if !tags.is_empty() {
        body["ResourceTags"] = tags
            .iter()
            .map(|(k, v)| json!({ "ResourceTagKey": k, "ResourceTagValue": v }))
            .collect();
    }
    let mut response = ureq::post(&format!("{}/rules", standin.endpoint()))
        .header("Content-Type", "application/json")
        .header("Authorization", &auth)
        .send(body.to_string())
        .unwrap_or_else(|err| panic!("Recycle Bin CreateRule: {err}"));
    let text = response
        .body_mut()
        .read_to_string()
        .expect("CreateRule answer");
    let rule: Value =
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("CreateRule: {err}: {text}"));
    rule["Identifier"]
        .as_str()
        .expect("rule identifier")
        .to_string()
}

/// A customer-managed key in `account` with alias `alias`; returns its ARN.
pub fn create_key(standin: &StandIn, account: &str, alias: &str) -> String {
    create_key_in(standin, account, REGION, alias)
}

/// [`create_key`] in `region`.
pub fn create_key_in(standin: &StandIn, account: &str, region: &str, alias: &str) -> String {
    let kms = |action: &str, body: Value| kms_in(standin, account, region, action, body);
    let created = kms("CreateKey", json!({ "Description": "ami copies" }));
    let arn = created["KeyMetadata"]["Arn"]
        .as_str()
        .expect("key ARN")
        .to_string();
    let key_id = created["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("key id")
        .to_string();
    kms(
        "CreateAlias",
        json!({ "AliasName": alias, "TargetKeyId": key_id }),
    );
    arn
}

/// A workdir acting as `account`; the harness declares the provider's source address in
/// `versions.tf`, so `main.tf` can hold exactly what an example or a user would write.
pub fn workdir(standin: &StandIn, account: &str) -> Workdir {
    Workdir::new(&Terraform::default())
        .with_standin(standin, account)
        .with_timeout(Duration::from_secs(240))
}

/// `timeouts` for a copy whose source is not shared, or shared moments before: the apply waits for
/// a share (or a KMS grant) to take effect until the create timeout, at most 5 minutes, before it
/// fails; a minute keeps such tests short. In the strict tier two lags more, since a copy started
/// after the wait is itself invisible for up to a lag.
pub fn unshared_timeout() -> String {
    let seconds = 60 + 2 * crate::standin::lag().as_secs();
    format!("timeouts {{\n    create = \"{seconds}s\"\n  }}")
}

/// A copy of `source` with `kms_key_id`, the source's tags, `Stage = PROD`, and `extra` arguments.
pub fn copy_config(source: &str, kms_key_id: &str, extra: &str) -> String {
    format!(
        r#"
resource "imagecopier_encrypted_ami_copy" "app" {{
  source_ami_id = "{source}"
  kms_key_id    = "{kms_key_id}"
  source_tags   = {{ Name = "app-source", team = "images" }}
  tags          = {{ Stage = "PROD" }}
  {extra}
}}
"#
    )
}

/// The value of tag `key` on snapshot `snapshot_id`, as its owner sees it.
pub fn snapshot_tag(ec2: &Ec2, snapshot_id: &str, key: &str) -> Option<String> {
    let snapshot = describe_snapshot(ec2, snapshot_id)?;
    snapshot
        .tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value().map(str::to_string))
}

/// Sets tag `key` to `value` on snapshot `snapshot_id`, as a person editing it by hand would.
pub fn tag_snapshot(ec2: &Ec2, snapshot_id: &str, key: &str, value: &str) {
    ec2.block_on(
        ec2.client()
            .create_tags()
            .resources(snapshot_id)
            .tags(Tag::builder().key(key).value(value).build())
            .send(),
    )
    .expect("CreateTags");
    // Tests tag AMIs with this too; each kind is read its own way.
    let current = || match snapshot_id.starts_with("ami-") {
        true => ec2
            .describe_image(snapshot_id)
            .and_then(|image| image_tag(&image, key).map(str::to_owned)),
        false => snapshot_tag(ec2, snapshot_id, key),
    };
    eventually(&format!("tag {key} on {snapshot_id}"), || {
        (current().as_deref() == Some(value)).then_some(())
    });
}

/// Panics unless the account of `ec2` owns no AMI and no snapshot: nothing left behind.
#[track_caller]
pub fn assert_owns_nothing(ec2: &Ec2) {
    let images = ec2.owned_images();
    assert!(images.is_empty(), "AMIs left: {images:?}");
    let snapshots = owned_snapshots(ec2);
    assert!(snapshots.is_empty(), "snapshots left: {snapshots:?}");
}

/// Panics unless the account of `ec2` owns exactly the AMI `id` and its snapshots: no other AMI,
/// no other snapshot (`context` says when, in the message).
#[track_caller]
pub fn assert_owns_only(ec2: &Ec2, id: &str, context: &str) {
    let images = ec2.owned_images();
    let ids: Vec<&str> = images.iter().filter_map(|i| i.image_id()).collect();
    assert_eq!(ids, vec![id], "owned AMIs {context}");
    let mut expected = snapshot_ids(&images[0]);
    let mut owned = owned_snapshots(ec2);
    expected.sort();
    owned.sort();
    assert_eq!(
        owned, expected,
        "owned snapshots {context}: orphans or losses"
    );
}

/// The ids of every snapshot the account of `ec2` owns.
pub fn owned_snapshots(ec2: &Ec2) -> Vec<String> {
    let out = ec2
        .block_on(ec2.client().describe_snapshots().owner_ids("self").send())
        .expect("DescribeSnapshots");
    out.snapshots()
        .iter()
        .filter_map(|s| s.snapshot_id().map(str::to_string))
        .collect()
}

/// Checks the copy `image_id` in `account`: encrypted with `key_arn`, tagged on AMI and snapshots
/// with `Name = name`, `team = images`, `Stage = PROD` and the two facts.
pub fn assert_copy(
    standin: &StandIn,
    account: &str,
    image_id: &str,
    (source, name): (&str, &str),
    key_arn: &str,
) {
    let ec2 = standin.ec2(account);
    let image = ec2.describe_image(image_id).expect("the copy exists");
    assert_eq!(image.state().map(|s| s.as_str()), Some("available"));
    assert_eq!(image.owner_id(), Some(account));
    let wanted = [
        ("Name", name),
        ("team", "images"),
        ("Stage", "PROD"),
        ("Encrypted", "true"),
        ("CopiedFromAMI", source),
    ];
    for (key, value) in wanted {
        assert_eq!(
            image_tag(&image, key),
            Some(value),
            "AMI tag {key}: {image:?}"
        );
    }
    let snapshots = snapshot_ids(&image);
    assert!(!snapshots.is_empty());
    for snapshot_id in &snapshots {
        let snapshot = &describe_snapshot(&ec2, snapshot_id).expect("the copy's snapshot");
        assert_eq!(snapshot.encrypted(), Some(true), "{snapshot:?}");
        assert_eq!(snapshot.kms_key_id(), Some(key_arn), "{snapshot:?}");
        for (key, value) in wanted {
            assert_eq!(
                snapshot_tag(&ec2, snapshot_id, key).as_deref(),
                Some(value),
                "snapshot tag {key}"
            );
        }
    }
}

/// A copy into ACCOUNT_B of a source shared with it, configured (with `extra` arguments) but not
/// applied; returns (stand-in, workdir, source, key ARN).
pub fn configured_copy(extra: &str) -> (StandIn, Workdir, SeededAmi, String) {
    let standin = StandIn::start();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    let key_arn = create_key(&standin, ACCOUNT_B, "alias/ami");
    let wd = workdir(&standin, ACCOUNT_B);
    wd.write_main(&copy_config(&source.image_id, "alias/ami", extra));
    (standin, wd, source, key_arn)
}

/// One apply of a copy into ACCOUNT_B; returns (stand-in, workdir, source, key ARN, copy id).
pub fn applied_copy(extra: &str) -> (StandIn, Workdir, SeededAmi, String, String) {
    let (standin, wd, source, key_arn) = configured_copy(extra);
    wd.apply();
    let id = wd.resource_values(ADDRESS)["id"]
        .as_str()
        .expect("id")
        .to_string();
    (standin, wd, source, key_arn, id)
}

/// Waits until account B owns a copy in `state`; returns its id.
pub fn wait_for_copy_state(ec2: &Ec2, state: &str, timeout: Duration) -> Option<(String, Instant)> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let found = ec2
            .owned_images()
            .into_iter()
            .find(|i| i.state().map(|s| s.as_str()) == Some(state))
            .and_then(|i| i.image_id().map(str::to_string));
        if let Some(id) = found {
            return Some((id, Instant::now()));
        }
        thread::sleep(Duration::from_millis(100));
    }
    None
}

/// An example file of this repository (`examples/<path>`).
pub fn example(path: &str) -> String {
    let path = crate::workspace_root().join("examples").join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Applies, asserting that ACCOUNT_B saw no change but tags added: taking over a copy (a move,
/// an import, an adoption by `terraform query`) never re-copies or alters it.
#[track_caller]
pub fn apply_adding_only_tags(standin: &StandIn, wd: &Workdir) {
    standin.clear_calls();
    wd.apply();
    let mutating = standin.mutating_calls(ACCOUNT_B);
    assert_eq!(
        mutating.keys().collect::<Vec<_>>(),
        vec!["CreateTags"],
        "taking over may only add tags: {mutating:?}"
    );
}
