//! End-to-end tests of `imagecopier_ami_share`: real Terraform drives the provider against the
//! AWS stand-in. Account A owns the AMIs; B, C (and D, which exists only as an id) are targets.

use std::collections::BTreeSet;

use acceptance_tests::copies::{assert_owns_nothing, copy_config, create_key, unshared_timeout};
use acceptance_tests::{
    eventually, flat, needs_admin, until_consistent, Admin, SeededAmi, StandIn, Terraform, Workdir,
    ACCOUNT_A, ACCOUNT_B, ACCOUNT_C, PLAN_HAS_CHANGES, REGION,
};
use aws_sdk_ec2::types::{
    ArchitectureValues, BlockDeviceMapping, CreateVolumePermission,
    CreateVolumePermissionModifications, EbsBlockDevice, LaunchPermission,
    LaunchPermissionModifications, SnapshotAttributeName,
};

const ACCOUNT_D: &str = "444444444444";
const ADDRESS: &str = "imagecopier_ami_share.app";
const PROVIDER: &str = "provider \"imagecopier\" {}\n";

/// A workdir acting as account A against `standin`.
fn workdir(standin: &StandIn) -> Workdir {
    Workdir::new(&Terraform::default()).with_standin(standin, ACCOUNT_A)
}

/// A stand-in where account A owns an AMI tagged `tags`, and a workdir that has applied a share
/// of it with `targets`.
fn applied_share(tags: &[(&str, &str)], targets: &[&str]) -> (StandIn, SeededAmi, Workdir) {
    let standin = StandIn::start();
    let ami = standin.seed_ami(ACCOUNT_A, tags);
    let wd = workdir(&standin);
    wd.write_main(&config(&ami.image_id, &accounts(targets)));
    wd.apply();
    (standin, ami, wd)
}

/// The share resource for `ami` with `extra` arguments.
fn config(ami: &str, extra: &str) -> String {
    format!("{PROVIDER}resource \"imagecopier_ami_share\" \"app\" {{\n  image_id = \"{ami}\"\n{extra}\n}}\n")
}

fn accounts(list: &[&str]) -> String {
    let quoted: Vec<String> = list.iter().map(|a| format!("\"{a}\"")).collect();
    format!("  account_ids = [{}]\n", quoted.join(", "))
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Launch-permission accounts and whether the AMI is public, as its owner sees them.
fn launch_accounts(standin: &StandIn, ami: &str) -> (BTreeSet<String>, bool) {
    standin.ec2(ACCOUNT_A).launch_permissions(ami)
}

/// Accounts with createVolumePermission on `snapshot`.
fn volume_accounts(standin: &StandIn, snapshot: &str) -> BTreeSet<String> {
    let ec2 = standin.ec2(ACCOUNT_A);
    let out = ec2
        .block_on(
            ec2.client()
                .describe_snapshot_attribute()
                .snapshot_id(snapshot)
                .attribute(SnapshotAttributeName::CreateVolumePermission)
                .send(),
        )
        .expect("DescribeSnapshotAttribute");
    out.create_volume_permissions()
        .iter()
        .filter_map(|p| p.user_id())
        .map(str::to_owned)
        .collect()
}

/// Grants (`add`) or revokes launch permission for `account` outside Terraform.
fn launch_outside(standin: &StandIn, ami: &str, account: &str, add: bool) {
    standin
        .ec2(ACCOUNT_A)
        .change_launch_permission(ami, account, add);
}

/// Grants or revokes createVolumePermission for `account` outside Terraform.
fn volume_outside(standin: &StandIn, snapshot: &str, account: &str, add: bool) {
    let perm = CreateVolumePermission::builder().user_id(account).build();
    let mods = if add {
        CreateVolumePermissionModifications::builder().add(perm)
    } else {
        CreateVolumePermissionModifications::builder().remove(perm)
    };
    let ec2 = standin.ec2(ACCOUNT_A);
    ec2.block_on(
        ec2.client()
            .modify_snapshot_attribute()
            .snapshot_id(snapshot)
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .create_volume_permission(mods.build())
            .send(),
    )
    .expect("ModifySnapshotAttribute");
    // As a person would, until the change shows (EC2 is eventually consistent).
    eventually(
        &format!("createVolumePermission of {account} on {snapshot}"),
        || (volume_accounts(standin, snapshot).contains(account) == add).then_some(()),
    );
}

/// Launch and createVolumePermission are exactly `want`, once what was just written shows (reads
/// may lag behind writes), or at the latest after `CONSISTENCY_WAIT`.
fn assert_shared_exactly(standin: &StandIn, ami: &SeededAmi, want: &[&str]) {
    let settled = || {
        let (users, public) = launch_accounts(standin, &ami.image_id);
        let volumes_match = ami
            .snapshot_ids
            .iter()
            .all(|snapshot| volume_accounts(standin, snapshot) == set(want));
        (users == set(want) && !public && volumes_match).then_some(())
    };
    until_consistent(|| settled().is_some());
    let (users, public) = launch_accounts(standin, &ami.image_id);
    assert_eq!(users, set(want), "launch permission");
    assert!(!public);
    for snapshot in &ami.snapshot_ids {
        assert_eq!(
            volume_accounts(standin, snapshot),
            set(want),
            "createVolumePermission on {snapshot}"
        );
    }
}

#[test]
fn basic() {
    let (standin, ami, wd) = applied_share(
        &[("Name", "app"), ("Team", "images")],
        &[ACCOUNT_B, ACCOUNT_C],
    );

    assert_shared_exactly(&standin, &ami, &[ACCOUNT_B, ACCOUNT_C]);
    for target in [ACCOUNT_B, ACCOUNT_C] {
        assert!(
            standin.ec2(target).describe_image(&ami.image_id).is_some(),
            "{target} cannot see the shared AMI"
        );
    }
    let values = wd.resource_values(ADDRESS);
    assert_eq!(values["id"], ami.image_id.as_str());
    assert_eq!(values["image_name"], ami.name.as_str());
    assert_eq!(values["image_tags"]["Team"], "images");
    assert_eq!(values["share_snapshots"], true);
    assert_eq!(values["exclusive"], false);
    assert_eq!(values["public"], false);
    assert_eq!(values["encrypted"], false);
    assert_eq!(
        values["snapshot_ids"].as_array().map(Vec::len),
        Some(ami.snapshot_ids.len())
    );
    wd.assert_plan_empty();
}

#[test]
fn unknown_inputs_plan_cleanly() {
    let standin = StandIn::start();
    let ami = standin.seed_ami(ACCOUNT_A, &[]);
    let wd = workdir(&standin);
    wd.write_main(&format!(
        "{PROVIDER}resource \"terraform_data\" \"ids\" {{\n  input = {{ ami = \"{}\", account = \"{ACCOUNT_B}\" }}\n}}\n\
         resource \"imagecopier_ami_share\" \"app\" {{\n  image_id = terraform_data.ids.output.ami\n  \
         account_ids = [terraform_data.ids.output.account, \"{ACCOUNT_C}\"]\n}}\n",
        ami.image_id
    ));
    let plan = wd.plan();
    assert!(plan.stdout.contains("(known after apply)"), "{plan}");
    wd.apply();
    assert_shared_exactly(&standin, &ami, &[ACCOUNT_B, ACCOUNT_C]);
    wd.assert_plan_empty();
}

#[test]
fn update_in_place() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let (standin, ami, wd) = applied_share(&[], &[ACCOUNT_B, ACCOUNT_C]);

    wd.write_main(&config(&ami.image_id, &accounts(&[ACCOUNT_C, ACCOUNT_D])));
    let plan = wd.plan();
    assert!(plan.stdout.contains("will be updated in-place"), "{plan}");
    assert!(!plan.stdout.contains("must be replaced"), "{plan}");
    assert!(
        plan.stdout.contains(&format!("- \"{ACCOUNT_B}\"")),
        "{plan}"
    );
    assert!(
        plan.stdout.contains(&format!("+ \"{ACCOUNT_D}\"")),
        "{plan}"
    );
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    standin.clear_calls();
    wd.apply();
    assert_shared_exactly(&standin, &ami, &[ACCOUNT_C, ACCOUNT_D]);
    // One set diff: one call per permission kind and direction (plus one per snapshot).
    let calls = standin.mutating_calls(ACCOUNT_A);
    assert_eq!(calls.get("ModifyImageAttribute"), Some(&2), "{calls:?}");
    wd.assert_plan_empty();
}

#[test]
fn disappears() {
    let (standin, ami, wd) = applied_share(&[], &[ACCOUNT_B, ACCOUNT_C]);

    // A revoked snapshot permission is drift: B can no longer copy the AMI.
    volume_outside(&standin, &ami.snapshot_ids[0], ACCOUNT_B, false);
    assert_eq!(wd.plan_detailed_exitcode(), PLAN_HAS_CHANGES);
    wd.apply();
    assert_shared_exactly(&standin, &ami, &[ACCOUNT_B, ACCOUNT_C]);
    wd.assert_plan_empty();

    // So is a revoked launch permission.
    launch_outside(&standin, &ami.image_id, ACCOUNT_C, false);
    assert_eq!(wd.plan_detailed_exitcode(), PLAN_HAS_CHANGES);
    wd.apply();
    assert_shared_exactly(&standin, &ami, &[ACCOUNT_B, ACCOUNT_C]);
    wd.assert_plan_empty();
}

/// More accounts than the first read lists at once (four): drift in any of them is told
/// apart from the others, each grant read against its own account's listing.
#[test]
fn drift_in_one_of_many_accounts() {
    let many = [
        ACCOUNT_B,
        ACCOUNT_C,
        ACCOUNT_D,
        "555555555555",
        "666666666666",
        "777777777777",
        "888888888888",
    ];
    let (standin, ami, wd) = applied_share(&[], &many);
    volume_outside(&standin, &ami.snapshot_ids[0], many[5], false);
    launch_outside(&standin, &ami.image_id, many[6], false);

    let plan = wd.saved_plan();
    let refreshed = plan["prior_state"]["values"]["root_module"]["resources"]
        .as_array()
        .and_then(|resources| resources.iter().find(|r| r["address"] == ADDRESS))
        .map(|share| share["values"]["account_ids"].clone())
        .expect("the share in the refreshed state");
    let held: BTreeSet<String> = serde_json::from_value(refreshed).expect("account ids");
    assert_eq!(
        held,
        set(&many[..5]),
        "the refresh finds exactly the two accounts whose grants were revoked missing"
    );
    wd.apply();
    assert_shared_exactly(&standin, &ami, &many);
    wd.assert_plan_empty();
}

#[test]
fn exclusive() {
    let (standin, ami, wd) = applied_share(&[], &[ACCOUNT_B]);

    // Someone else shares with C (fully) and makes the AMI public (switching off block public
    // access first, which AWS turns on in new accounts).
    standin.ec2(ACCOUNT_A).allow_public_images();
    launch_outside(&standin, &ami.image_id, ACCOUNT_C, true);
    volume_outside(&standin, &ami.snapshot_ids[0], ACCOUNT_C, true);
    launch_outside(&standin, &ami.image_id, "all", true);
    // Not exclusive: other grants are none of our business.
    wd.assert_plan_empty();
    assert_eq!(
        launch_accounts(&standin, &ami.image_id).0,
        set(&[ACCOUNT_B, ACCOUNT_C])
    );

    wd.write_main(&config(
        &ami.image_id,
        &format!("{}  exclusive = true\n", accounts(&[ACCOUNT_B])),
    ));
    let plan = wd.plan();
    // Turning exclusive on shows as that change and as public access going; extra accounts
    // were not managed before, so they show as drift from the next refresh on.
    assert!(plan.stdout.contains("exclusive"), "{plan}");
    assert!(plan.stdout.contains("public"), "{plan}");
    wd.apply();
    assert_shared_exactly(&standin, &ami, &[ACCOUNT_B]);
    wd.assert_plan_empty();

    // An extra grant now shows as drift and is removed.
    launch_outside(&standin, &ami.image_id, ACCOUNT_D, true);
    assert_eq!(wd.plan_detailed_exitcode(), PLAN_HAS_CHANGES);
    wd.apply();
    assert_shared_exactly(&standin, &ami, &[ACCOUNT_B]);
    wd.assert_plan_empty();
}

/// The AMI deregistered outside Terraform, its snapshots kept (and still shared): the share
/// stays in state with what it still holds, the plan says the AMI is gone, an apply as it stands
/// fails saying so, and removing the share revokes what is left.
#[test]
fn disappears_source() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let (standin, ami, wd) = applied_share(&[], &[ACCOUNT_B]);

    let ec2 = standin.ec2(ACCOUNT_A);
    ec2.block_on(
        ec2.client()
            .deregister_image()
            .image_id(&ami.image_id)
            .send(),
    )
    .expect("DeregisterImage");
    wd.refresh();
    assert_eq!(wd.state_list(), vec![ADDRESS.to_owned()]);
    let values = wd.resource_values(ADDRESS);
    let held: BTreeSet<String> =
        serde_json::from_value(values["permissions"].clone()).expect("permissions");
    let snapshot = &ami.snapshot_ids[0];
    assert_eq!(held, set(&[&format!("{ACCOUNT_B} {snapshot}")]), "{values}");
    // A plan that still asks for the share says clearly that the AMI is gone...
    let plan = wd.plan();
    let text = flat(&plan.combined());
    assert!(text.contains("AMI no longer exists"), "{plan}");
    assert!(text.contains("image_id"), "{plan}");
    // ...and so does the apply, which changes nothing.
    standin.clear_calls();
    let applied = wd.try_apply();
    assert!(!applied.success(), "{applied}");
    assert!(
        flat(&applied.combined()).contains("no longer exists"),
        "{applied}"
    );
    assert!(standin.mutating_calls(ACCOUNT_A).is_empty());
    // Without the resource in configuration, the apply revokes what the share still held.
    wd.write_main(PROVIDER);
    wd.apply();
    assert!(wd.state_list().is_empty());
    assert_eq!(volume_accounts(&standin, snapshot), set(&[]));
    wd.assert_plan_empty();
}

#[test]
fn import() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let ami = standin.seed_ami(ACCOUNT_A, &[("Name", "app")]);
    // B can copy the AMI; C only has launch permission, so it cannot and is not imported.
    launch_outside(&standin, &ami.image_id, ACCOUNT_B, true);
    volume_outside(&standin, &ami.snapshot_ids[0], ACCOUNT_B, true);
    launch_outside(&standin, &ami.image_id, ACCOUNT_C, true);

    let wd = workdir(&standin);
    wd.write_main(&config(&ami.image_id, &accounts(&[ACCOUNT_B])));
    wd.import(ADDRESS, &ami.image_id);
    let values = wd.resource_values(ADDRESS);
    assert_eq!(values["account_ids"], serde_json::json!([ACCOUNT_B]));
    assert_eq!(values["image_tags"]["Name"], "app");
    wd.assert_plan_empty();

    // The same through an import block.
    let wd = workdir(&standin);
    wd.write_main(&format!(
        "{}import {{\n  to = {ADDRESS}\n  id = \"{}\"\n}}\n",
        config(&ami.image_id, &accounts(&[ACCOUNT_B])),
        ami.image_id
    ));
    let plan = wd.plan();
    assert!(
        plan.stdout
            .contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    wd.apply();
    wd.assert_plan_empty();

    let bad = workdir(&standin);
    bad.write_main(&config(&ami.image_id, &accounts(&[ACCOUNT_B])));
    let out = bad.try_import(ADDRESS, "snap-12345678");
    assert!(
        !out.success() && out.combined().contains("imported by AMI ID"),
        "{out}"
    );
}

#[test]
fn destroy() {
    let (standin, ami, wd) = applied_share(&[], &[ACCOUNT_B]);
    launch_outside(&standin, &ami.image_id, ACCOUNT_C, true);
    volume_outside(&standin, &ami.snapshot_ids[0], ACCOUNT_C, true);

    wd.destroy();
    // B (managed) is gone, C (granted by someone else) is untouched.
    assert_shared_exactly(&standin, &ami, &[ACCOUNT_C]);
    assert!(wd.state_list().is_empty());
}

/// An AMI whose snapshot is encrypted with the account's AWS-managed EBS key.
fn seed_ami_with_managed_key(standin: &StandIn) -> String {
    let ec2 = standin.ec2(ACCOUNT_A);
    let c = ec2.client();
    let image_id = ec2.block_on(async {
        let key = c
            .get_ebs_default_kms_key_id()
            .send()
            .await
            .expect("GetEbsDefaultKmsKeyId");
        let volume = c
            .create_volume()
            .availability_zone(format!("{REGION}a"))
            .size(8)
            .encrypted(true)
            .kms_key_id(key.kms_key_id().unwrap_or_default())
            .send()
            .await
            .expect("CreateVolume");
        let snapshot = c
            .create_snapshot()
            .volume_id(volume.volume_id().unwrap_or_default())
            .send()
            .await
            .expect("CreateSnapshot");
        let image = c
            .register_image()
            .name("managed-key")
            .architecture(ArchitectureValues::X8664)
            .root_device_name("/dev/xvda")
            .block_device_mappings(
                BlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(
                        EbsBlockDevice::builder()
                            .snapshot_id(snapshot.snapshot_id().unwrap_or_default())
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("RegisterImage");
        image.image_id().unwrap_or_default().to_owned()
    });
    // Reads lag writes in the strict tier; the share and the copy read it at once.
    eventually(&format!("the seeded {image_id}"), || {
        ec2.describe_image(&image_id)
    });
    image_id
}

/// A copy into B of an AMI that A encrypted with its AWS-managed key and shared the one way AWS lets
/// it, by launch permission (issue 28, item 9): B cannot read the snapshots, and the apply's error
/// says that an `aws/ebs` key is a cause no share can fix, where it only advised a share. Nothing is
/// copied.
#[test]
fn a_copy_of_an_ami_under_aws_ebs_says_no_share_can_fix_it() {
    let standin = StandIn::start();
    let ami = seed_ami_with_managed_key(&standin);
    standin
        .ec2(ACCOUNT_A)
        .change_launch_permission(&ami, ACCOUNT_B, true);
    create_key(&standin, ACCOUNT_B, "alias/ami");
    let wd = acceptance_tests::copies::workdir(&standin, ACCOUNT_B);
    wd.write_main(&copy_config(&ami, "alias/ami", &unshared_timeout()));
    let out = wd.try_apply();
    assert!(!out.success(), "{out}");
    let text = flat(&out.combined());
    assert!(
        text.contains("Source AMI snapshots not shared")
            && text.contains("aws/ebs")
            && text.contains("no share can make them readable"),
        "{out}"
    );
    assert_owns_nothing(&standin.ec2(ACCOUNT_B));
}

#[test]
fn bad_input() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let ami = standin.seed_ami(ACCOUNT_A, &[]).image_id;
    let foreign = standin.seed_ami(ACCOUNT_B, &[]).image_id;
    // B shares its AMI with A, so A sees it and only the owner check can refuse it.
    let b = standin.ec2(ACCOUNT_B);
    b.block_on(
        b.client()
            .modify_image_attribute()
            .image_id(&foreign)
            .launch_permission(
                LaunchPermissionModifications::builder()
                    .add(LaunchPermission::builder().user_id(ACCOUNT_A).build())
                    .build(),
            )
            .send(),
    )
    .expect("ModifyImageAttribute as B");
    let managed_key = seed_ami_with_managed_key(&standin);
    let org = "arn:aws:organizations::111111111111:organization/o-exampleorgid";
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "malformed image id",
            config("ami-xyz", &accounts(&[ACCOUNT_B])),
            "image_id",
            "must be an AMI ID",
        ),
        (
            "short account id",
            config(&ami, &accounts(&["2222"])),
            "account_ids",
            "12-digit",
        ),
        (
            "bad organization ARN",
            config(&ami, "  organization_arns = [\"o-exampleorgid\"]"),
            "organization_arns",
            "organization ARN",
        ),
        (
            "organization ARN in the OU set",
            config(&ami, &format!("  organizational_unit_arns = [\"{org}\"]")),
            "organizational_unit_arns",
            "organizational unit ARN",
        ),
        (
            "nothing to share",
            config(&ami, "  account_ids = []"),
            "account_ids",
            "at least one principal",
        ),
        (
            "AMI not found",
            config("ami-0123456789abcdef0", &accounts(&[ACCOUNT_B])),
            "image_id",
            "does not exist",
        ),
        (
            "AMI of another account",
            config(&foreign, &accounts(&[ACCOUNT_C])),
            "image_id",
            "owned by account",
        ),
        (
            "AWS-managed key",
            config(&managed_key, &accounts(&[ACCOUNT_B])),
            "image_id",
            "AWS-managed KMS key",
        ),
    ];
    for (name, hcl, attribute, message) in cases {
        let wd = workdir(&standin);
        wd.write_main(&hcl);
        standin.clear_calls();
        let out = wd.try_apply();
        let text = out.combined();
        assert!(!out.success(), "{name}: {out}");
        assert!(text.contains(message), "{name}: wanted {message:?}: {out}");
        assert!(
            text.contains(attribute),
            "{name}: wanted {attribute:?}: {out}"
        );
        let mutations = standin.mutating_calls(ACCOUNT_A);
        assert!(mutations.is_empty(), "{name}: mutating calls {mutations:?}");
    }
}

/// The registry example, with the AMI id replaced by a seeded one; the accounts are the ones the
/// example names.
#[test]
fn example_applies_and_imports() {
    let standin = StandIn::start();
    let ami = standin.seed_ami(ACCOUNT_A, &[("Team", "images")]);
    let dir = acceptance_tests::workspace_root().join("examples/resources/imagecopier_ami_share");
    let example = std::fs::read_to_string(dir.join("resource.tf")).expect("resource.tf");
    let placeholder = "ami-0123456789abcdef0";
    assert!(example.contains(placeholder));
    let wd = workdir(&standin);
    wd.write("provider.tf", PROVIDER);
    wd.write_main(&example.replace(placeholder, &ami.image_id));
    wd.apply();
    assert_shared_exactly(&standin, &ami, &[ACCOUNT_B, ACCOUNT_C]);
    assert_eq!(
        wd.output_json()["app_image_tags"]["value"]["Team"],
        "images"
    );
    wd.assert_plan_empty();

    // import.sh, run in a fresh directory against the same AMI.
    let script = std::fs::read_to_string(dir.join("import.sh")).expect("import.sh");
    let line = script
        .lines()
        .find(|l| l.starts_with("terraform import"))
        .expect("a terraform import line");
    let args: Vec<String> = line
        .replace(placeholder, &ami.image_id)
        .split_whitespace()
        .skip(1)
        .map(str::to_owned)
        .collect();
    let fresh = workdir(&standin);
    fresh.write("provider.tf", PROVIDER);
    fresh.write_main(&example.replace(placeholder, &ami.image_id));
    let mut argv: Vec<&str> = args.iter().map(String::as_str).collect();
    argv.insert(1, "-no-color");
    fresh.run(&argv).assert_success();
    fresh.assert_plan_empty();
}
