//! The real `hashicorp/aws` provider (5.100.0) beside ours, against the same stand-in: what it
//! made moves, imports and is replaced into our resources as the migration guide says, with no
//! copy made again and no grant ever missing. Each test skips, saying why, where the machine has
//! no aws provider (see `acceptance_tests::aws_provider`).

use acceptance_tests::aws_provider::{mirror_or_skip, provider_block, required_providers};
use acceptance_tests::copies::*;
use acceptance_tests::{
    flat, needs_admin, snapshot_ids, Admin, StandIn, Workdir, ACCOUNT_A, ACCOUNT_B, REGION,
};

/// The configuration a user of aws provider v5 has: one encrypted `aws_ami_copy`.
fn aws_ami_copy_config(standin: &StandIn, source: &str, key_arn: &str) -> String {
    format!(
        r#"{}{}
resource "aws_ami_copy" "app" {{
  name              = "legacy-copy"
  source_ami_id     = "{source}"
  source_ami_region = "{REGION}"
  encrypted         = true
  kms_key_id        = "{key_arn}"
  tags              = {{ team = "images" }}
}}
"#,
        required_providers(),
        provider_block(standin, ACCOUNT_B, None)
    )
}

/// A copy made by the real aws provider in ACCOUNT_B: the workdir holding its state, and its id.
fn made_by_aws_ami_copy(
    standin: &StandIn,
    mirror: &std::path::Path,
    source: &str,
    key_arn: &str,
) -> (Workdir, String) {
    let wd = workdir(standin, ACCOUNT_B)
        .with_aws_provider(mirror, &aws_ami_copy_config(standin, source, key_arn));
    wd.apply();
    let state = wd.resource_values("aws_ami_copy.app");
    let id = state["id"].as_str().expect("the copy's id").to_owned();
    // The v5 shape: no per-resource region, which is what broke the move.
    assert!(state.get("region").is_none(), "{state}");
    (wd, id)
}

#[test]
fn moved_from_a_real_v5_aws_ami_copy() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let Some(mirror) = mirror_or_skip("moved_from_a_real_v5_aws_ami_copy") else {
        return;
    };
    let standin = StandIn::start();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    let key_arn = create_key(&standin, ACCOUNT_B, "alias/ami");
    let (wd, id) = made_by_aws_ami_copy(&standin, &mirror, &source.image_id, &key_arn);

    wd.write_main(&example("migrate-from-aws-ami-copy/main.tf"));
    wd.write(
        "terraform.tfvars",
        &format!(
            "source_ami_id = \"{}\"\nkms_key_id    = \"{key_arn}\"\n",
            source.image_id
        ),
    );
    let plan = wd.plan();
    let text = flat(&plan.stdout);
    assert!(text.contains("(moved from aws_ami_copy.app)"), "{plan}");
    assert!(!text.contains("must be replaced"), "{plan}");
    assert!(
        text.contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    // Only what the guide says changes: the two fact tags, on the AMI and its snapshots, and
    // the snapshots gaining the AMI's tags, which aws_ami_copy never put on them; the plan says
    // which snapshots those are.
    assert!(
        text.contains(&format!("+ \"CopiedFromAMI\" = \"{}\"", source.image_id)),
        "{plan}"
    );
    let ec2 = standin.ec2(ACCOUNT_B);
    let image = ec2.describe_image(&id).expect("the copy");
    for snapshot in snapshot_ids(&image) {
        assert!(
            text.contains(&snapshot) && text.contains("team"),
            "the plan names the snapshot {snapshot} that lacks the tag: {plan}"
        );
    }
    apply_adding_only_tags(&standin, &wd);
    assert_eq!(
        wd.state_list(),
        vec!["imagecopier_encrypted_ami_copy.app".to_owned()]
    );
    let values = wd.resource_values("imagecopier_encrypted_ami_copy.app");
    assert_eq!(values["id"], id.as_str());
    assert_eq!(values["region"], REGION, "the refresh filled the region in");
    assert_owns_only(&ec2, &id, "after the move");
    wd.assert_plan_empty();
}

#[test]
fn import_of_a_real_aws_ami_copy() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let Some(mirror) = mirror_or_skip("import_of_a_real_aws_ami_copy") else {
        return;
    };
    let standin = StandIn::start();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    let key_arn = create_key(&standin, ACCOUNT_B, "alias/ami");
    let (wd, id) = made_by_aws_ami_copy(&standin, &mirror, &source.image_id, &key_arn);

    // The aws provider lets go of it (`removed`, not destroyed) and ours imports it.
    wd.write_main(&format!(
        r#"{}{}
removed {{
  from = aws_ami_copy.app
  lifecycle {{
    destroy = false
  }}
}}

import {{
  to = imagecopier_encrypted_ami_copy.app
  id = "{id}"
}}

resource "imagecopier_encrypted_ami_copy" "app" {{
  source_ami_id = "{}"
  name          = "legacy-copy"
  kms_key_id    = "{key_arn}"
  tags          = {{ team = "images" }}
}}
"#,
        required_providers(),
        provider_block(&standin, ACCOUNT_B, None),
        source.image_id
    ));
    let plan = wd.plan();
    let text = flat(&plan.stdout);
    assert!(text.contains("1 to import"), "{plan}");
    assert!(
        !text.contains("to destroy") || text.contains("0 to destroy"),
        "{plan}"
    );
    apply_adding_only_tags(&standin, &wd);
    assert_eq!(
        wd.state_list(),
        vec!["imagecopier_encrypted_ami_copy.app".to_owned()]
    );
    assert_owns_only(&standin.ec2(ACCOUNT_B), &id, "after the import");
    wd.assert_plan_empty();
}

/// The bake account's aws-provider way (a launch permission per account, a createVolumePermission
/// per snapshot per account) replaced by one share: `removed` without destroying, then an import,
/// and at no point is a grant missing.
#[test]
fn aws_permission_resources_replaced_by_one_share() {
    // "No grant revoked or made again" is counted from the stand-in's calls. (Under the strict
    // tier's consistency lag it could not run anyway: hashicorp/aws 5.100.0's
    // aws_ami_launch_permission reads the permission right after creating it and fails with
    // "empty result" when EC2 does not show it yet.)
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let Some(mirror) = mirror_or_skip("aws_permission_resources_replaced_by_one_share") else {
        return;
    };
    let standin = StandIn::start();
    let bake = standin.seed_ami(ACCOUNT_A, &[("Name", "app")]);
    let snapshot = bake.snapshot_ids[0].clone();
    let aws_way = format!(
        r#"{}{}
resource "aws_ami_launch_permission" "b" {{
  image_id   = "{ami}"
  account_id = "{ACCOUNT_B}"
}}

resource "aws_snapshot_create_volume_permission" "b" {{
  snapshot_id = "{snapshot}"
  account_id  = "{ACCOUNT_B}"
}}
"#,
        required_providers(),
        provider_block(&standin, ACCOUNT_A, None),
        ami = bake.image_id,
    );
    let wd = workdir(&standin, ACCOUNT_A).with_aws_provider(&mirror, &aws_way);
    wd.apply();
    let ec2 = standin.ec2(ACCOUNT_A);
    let shared_with_b = || {
        let launch = ec2.launch_permissions(&bake.image_id).0;
        let volume = describe_volume_accounts(&standin, &snapshot);
        launch.contains(ACCOUNT_B) && volume.contains(&ACCOUNT_B.to_owned())
    };
    assert!(shared_with_b(), "the aws provider shared the AMI with B");

    wd.write_main(&format!(
        r#"{}{}
removed {{
  from = aws_ami_launch_permission.b
  lifecycle {{
    destroy = false
  }}
}}

removed {{
  from = aws_snapshot_create_volume_permission.b
  lifecycle {{
    destroy = false
  }}
}}

import {{
  to = imagecopier_ami_share.app
  id = "{ami}"
}}

resource "imagecopier_ami_share" "app" {{
  image_id    = "{ami}"
  account_ids = ["{ACCOUNT_B}"]
}}
"#,
        required_providers(),
        provider_block(&standin, ACCOUNT_A, None),
        ami = bake.image_id,
    ));
    let plan = wd.plan();
    assert!(shared_with_b(), "planning changed nothing");
    assert!(flat(&plan.stdout).contains("1 to import"), "{plan}");
    standin.clear_calls();
    wd.apply();
    assert!(shared_with_b(), "B can still copy the AMI");
    let mutating = standin.mutating_calls(ACCOUNT_A);
    assert!(
        mutating.is_empty(),
        "no grant revoked or made again: {mutating:?}"
    );
    assert_eq!(
        wd.state_list(),
        vec!["imagecopier_ami_share.app".to_owned()]
    );
    wd.assert_plan_empty();
}

/// The accounts with createVolumePermission on `snapshot` (in ACCOUNT_A).
fn describe_volume_accounts(standin: &StandIn, snapshot: &str) -> Vec<String> {
    let ec2 = standin.ec2(ACCOUNT_A);
    let answer = ec2
        .block_on(
            ec2.client()
                .describe_snapshot_attribute()
                .snapshot_id(snapshot)
                .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
                .send(),
        )
        .expect("DescribeSnapshotAttribute");
    answer
        .create_volume_permissions()
        .iter()
        .filter_map(|p| p.user_id().map(str::to_owned))
        .collect()
}

/// `examples/aws-provider-interop`: the real aws provider makes what a copy needs and uses (the
/// bake key whose policy holds `key_policy_statements`, the account's key for copies, the
/// importer role with the documented copy policy, a launch template launching the copy) in one
/// configuration with ours; it applies, plans empty and destroys to nothing.
#[test]
fn a_mixed_configuration_applies_plans_empty_and_destroys() {
    let Some(mirror) = mirror_or_skip("a_mixed_configuration_applies_plans_empty_and_destroys")
    else {
        return;
    };
    let standin = StandIn::start();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    let wd = workdir(&standin, ACCOUNT_B);
    // The example's aws provider blocks, pointed at the stand-in (an override file, as a user
    // would point them at a local endpoint).
    wd.write(
        "stand_in_override.tf",
        &format!(
            "{}{}",
            provider_block(&standin, ACCOUNT_B, None),
            provider_block(&standin, ACCOUNT_A, Some("bake"))
        ),
    );
    wd.write(
        "terraform.tfvars",
        &format!(
            "account_id      = \"{ACCOUNT_B}\"\nbake_account_id = \"{ACCOUNT_A}\"\nsource_ami_id   = \"{}\"\n",
            source.image_id
        ),
    );
    let wd = wd.with_aws_provider(&mirror, &example("aws-provider-interop/main.tf"));
    wd.apply();
    let copy = wd.resource_values("imagecopier_encrypted_ami_copy.app");
    let id = copy["id"].as_str().expect("the copy").to_owned();
    let template = wd.resource_values("aws_launch_template.app");
    assert_eq!(template["image_id"], id.as_str(), "{template}");
    let key = wd.resource_values("aws_kms_key.copies");
    assert_eq!(
        copy["kms_key_arn"], key["arn"],
        "encrypted with the account's key"
    );
    let bake_key = wd.resource_values("aws_kms_key.bake");
    let policy = bake_key["policy"].as_str().expect("the bake key's policy");
    assert!(
        policy.contains("ImageCopierAccountsUseKey")
            && policy.contains(&format!("arn:aws:iam::{ACCOUNT_B}:root")),
        "{policy}"
    );
    wd.assert_plan_empty();
    wd.destroy();
    assert_owns_nothing(&standin.ec2(ACCOUNT_B));
}
