//! Nothing shared, owned twice or orphaned: two applies of one configuration with different
//! states, a share destroyed after its AMI was deregistered or after an interrupted destroy, and
//! a pending copy deregistered by hand before anything recorded its snapshots. Each ends with a
//! census of what the accounts hold.

use std::collections::BTreeSet;
use std::thread;
use std::time::Duration;

use acceptance_tests::copies::*;
use acceptance_tests::{
    flat, needs_admin, Admin, Fault, SeededAmi, StandIn, Workdir, ACCOUNT_A, ACCOUNT_B, ACCOUNT_C,
};
use serde_json::{json, Value};

/// The copy ids a workdir's state holds.
fn state_ids(wd: &Workdir) -> BTreeSet<String> {
    if wd.state_list().is_empty() {
        return BTreeSet::new();
    }
    BTreeSet::from([wd.resource_values(ADDRESS)["id"]
        .as_str()
        .expect("id")
        .to_owned()])
}

/// Two applies of the same copy configuration, each with its own state, started `stagger`
/// apart while the copy takes 15 s. Either each state owns its own copy, or one apply fails
/// saying another run owns the copy and records nothing; never one copy in two states.
fn two_states(stagger: Duration) {
    let (standin, first, source, _key) = configured_copy("");
    let second = workdir(&standin, ACCOUNT_B);
    second.write_main(&copy_config(&source.image_id, "alias/ami", ""));
    standin.set_copy_duration(15.0);
    let mut one = first.spawn_apply();
    thread::sleep(stagger);
    let mut two = second.spawn_apply();
    let one = one.wait_with_timeout(Duration::from_secs(240));
    let two = two.wait_with_timeout(Duration::from_secs(240));
    assert!(!one.timed_out && !two.timed_out, "{one}\n{two}");
    let (a, b) = (state_ids(&first), state_ids(&second));
    assert!(
        a.is_disjoint(&b),
        "one copy in two states: {a:?} / {b:?}\n{one}\n{two}"
    );
    for (run, ids) in [(&one, &a), (&two, &b)] {
        if !run.success() {
            let text = flat(&run.combined());
            assert!(
                text.contains("is being created by another Terraform run right now"),
                "a failed apply says why: {run}"
            );
            assert!(ids.is_empty(), "a refused apply records nothing: {ids:?}");
        }
    }
    assert!(one.success() || two.success(), "{one}\n{two}");
    // Every AMI the account owns is in exactly one state: nothing orphaned.
    let ec2 = standin.ec2(ACCOUNT_B);
    let owned: BTreeSet<String> = ec2
        .owned_images()
        .iter()
        .filter_map(|i| i.image_id().map(str::to_owned))
        .collect();
    let recorded: BTreeSet<String> = a.union(&b).cloned().collect();
    assert_eq!(owned, recorded, "{one}\n{two}");
    standin.set_copy_duration(0.5);
    first.destroy();
    second.destroy();
    assert_owns_nothing(&ec2);
}

#[test]
fn two_states_applied_together_never_own_one_copy() {
    if needs_admin(&[Admin::CopyControl]) {
        return;
    }
    two_states(Duration::ZERO);
}

#[test]
fn two_states_applied_apart_never_own_one_copy() {
    if needs_admin(&[Admin::CopyControl]) {
        return;
    }
    two_states(Duration::from_millis(2500));
}

/// A bake AMI in ACCOUNT_A encrypted with its own customer managed key, shared with B and C by a
/// share with `share_kms_keys`; returns (workdir, AMI, key ARN).
fn cmk_share(standin: &StandIn) -> (Workdir, SeededAmi, String) {
    let created = kms(
        standin,
        ACCOUNT_A,
        "CreateKey",
        json!({ "Description": "bake" }),
    );
    let key = created["KeyMetadata"]["Arn"]
        .as_str()
        .expect("key ARN")
        .to_owned();
    let ami = standin
        .ec2(ACCOUNT_A)
        .seed_encrypted_ami(&[("Name", "app")], &key);
    let wd = workdir(standin, ACCOUNT_A);
    wd.write_main(&format!(
        r#"
resource "imagecopier_ami_share" "app" {{
  image_id       = "{}"
  account_ids    = ["{ACCOUNT_B}", "{ACCOUNT_C}"]
  share_kms_keys = true
}}
"#,
        ami.image_id
    ));
    wd.apply();
    (wd, ami, key)
}

/// The share's own KMS grants on `key` (named for `ami`), by grantee principal.
fn share_grants(standin: &StandIn, key: &str, ami: &str) -> Vec<String> {
    let view: Value =
        serde_json::from_str(&standin.admin("GET", "/_standin/kms_grants", None)).expect("JSON");
    let name = format!("imagecopier-share-{ami}");
    view["grants"]
        .as_array()
        .expect("grants")
        .iter()
        .filter(|g| g["key_arn"] == key && g["name"] == name.as_str())
        .map(|g| {
            g["grantee_principal"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// Who holds createVolumePermission on `snapshot` in ACCOUNT_A (`None` once it is deleted).
fn volume_grantees(standin: &StandIn, snapshot: &str) -> Option<Vec<String>> {
    let ec2 = standin.ec2(ACCOUNT_A);
    let answer = ec2
        .block_on(
            ec2.client()
                .describe_snapshot_attribute()
                .snapshot_id(snapshot)
                .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
                .send(),
        )
        .ok()?;
    Some(
        answer
            .create_volume_permissions()
            .iter()
            .filter_map(|p| {
                p.user_id()
                    .or(p.group().map(|g| g.as_str()))
                    .map(str::to_owned)
            })
            .collect(),
    )
}

/// The census after a share's destroy: no grant of any kind left, on what still exists.
#[track_caller]
fn assert_nothing_granted(standin: &StandIn, ami: &SeededAmi, key: &str, context: &str) {
    let ec2 = standin.ec2(ACCOUNT_A);
    if ec2.describe_image(&ami.image_id).is_some() {
        let launch = ec2.launch_permissions(&ami.image_id);
        assert!(
            launch.0.is_empty() && !launch.1,
            "launch permissions {context}: {launch:?}"
        );
    }
    for snapshot in &ami.snapshot_ids {
        let holders = volume_grantees(standin, snapshot).unwrap_or_default();
        assert!(
            holders.is_empty(),
            "{snapshot} still shared {context}: {holders:?}"
        );
    }
    let grants = share_grants(standin, key, &ami.image_id);
    assert!(grants.is_empty(), "KMS grants left {context}: {grants:?}");
}

/// Deregisters the bake AMI outside Terraform, deleting its snapshots too when `delete`.
fn deregister(standin: &StandIn, ami: &SeededAmi, delete: bool) {
    let ec2 = standin.ec2(ACCOUNT_A);
    ec2.block_on(
        ec2.client()
            .deregister_image()
            .image_id(&ami.image_id)
            .send(),
    )
    .expect("DeregisterImage");
    if delete {
        for snapshot in &ami.snapshot_ids {
            ec2.block_on(ec2.client().delete_snapshot().snapshot_id(snapshot).send())
                .expect("DeleteSnapshot");
        }
    }
}

#[test]
fn destroy_after_the_source_is_deregistered_snapshots_kept() {
    if needs_admin(&[Admin::Inspection]) {
        return;
    }
    let standin = StandIn::start();
    let (wd, ami, key) = cmk_share(&standin);
    deregister(&standin, &ami, false);
    // The share stays in state with what it still holds, and the plan says why it cannot be
    // applied as it is.
    let plan = wd.plan();
    assert!(
        flat(&plan.combined()).contains("AMI no longer exists"),
        "{plan}"
    );
    wd.refresh();
    let held: BTreeSet<String> = serde_json::from_value(
        wd.resource_values("imagecopier_ami_share.app")["permissions"].clone(),
    )
    .expect("permissions");
    for snapshot in &ami.snapshot_ids {
        for account in [ACCOUNT_B, ACCOUNT_C] {
            assert!(
                held.contains(&format!("{account} {snapshot}")),
                "state records what {snapshot} still grants {account}: {held:?}"
            );
        }
    }
    let destroyed = wd.destroy();
    assert!(
        flat(&destroyed.combined()).contains("AMI already gone"),
        "{destroyed}"
    );
    assert!(wd.state_list().is_empty());
    assert_nothing_granted(&standin, &ami, &key, "after the destroy");
}

#[test]
fn destroy_after_the_source_is_deregistered_snapshots_deleted() {
    if needs_admin(&[Admin::Inspection]) {
        return;
    }
    let standin = StandIn::start();
    let (wd, ami, key) = cmk_share(&standin);
    deregister(&standin, &ami, true);
    wd.destroy();
    assert!(wd.state_list().is_empty());
    assert_nothing_granted(&standin, &ami, &key, "after the destroy");
}

/// A destroy killed after it revoked the launch permissions but before the snapshots', then a
/// second destroy: it exits 0 only having revoked everything, KMS grants included.
#[test]
fn destroy_killed_half_way_then_destroy_revokes_everything() {
    if needs_admin(&[Admin::Faults]) {
        return;
    }
    let standin = StandIn::start();
    let (wd, ami, key) = cmk_share(&standin);
    standin.inject_fault(&Fault::latency("ModifySnapshotAttribute", 60.0).account(ACCOUNT_A));
    let mut destroy = wd.spawn_destroy();
    let ec2 = standin.ec2(ACCOUNT_A);
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !ec2.launch_permissions(&ami.image_id).0.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the destroy never revoked the launch permissions: {}",
            destroy.stderr_so_far()
        );
        thread::sleep(Duration::from_millis(100));
    }
    destroy.sigkill_leader();
    let killed = destroy.wait_with_timeout(Duration::from_secs(30));
    assert_eq!(killed.signal, Some(9), "{killed}");
    standin.clear_faults();
    for snapshot in &ami.snapshot_ids {
        let holders = volume_grantees(&standin, snapshot).unwrap_or_default();
        assert!(
            !holders.is_empty(),
            "the kill came before the snapshots were unshared"
        );
    }
    wd.destroy();
    assert!(wd.state_list().is_empty());
    assert_nothing_granted(&standin, &ami, &key, "after the second destroy");
}

/// A copy interrupted before its first status look, recorded pending; its AMI is then
/// deregistered by hand (snapshots kept). Nothing it made outlives the next apply and a destroy.
#[test]
fn interrupted_pending_copy_deregistered_by_hand_leaves_no_snapshot() {
    if needs_admin(&[Admin::CopyControl, Admin::Faults]) {
        return;
    }
    let standin = StandIn::start();
    let source = shared_source_with_disks(&standin, &[ACCOUNT_B], 2);
    create_key(&standin, ACCOUNT_B, "alias/ami");
    let wd = workdir(&standin, ACCOUNT_B);
    wd.write_main(&copy_config(&source.image_id, "alias/ami", ""));
    standin.set_copy_duration(60.0);
    let mut apply = wd.spawn_apply();
    let ec2 = standin.ec2(ACCOUNT_B);
    let (pending, _) =
        wait_for_copy_state(&ec2, "pending", Duration::from_secs(120)).expect("copy started");
    // Hold up the provider's first status look (it comes a second after CopyImage), so the stop
    // lands before the provider has seen the copy's snapshots.
    standin.inject_fault(&Fault::latency("DescribeImages", 3.0).account(ACCOUNT_B));
    apply.send_sigint_to_group();
    let stopped = apply.wait_with_timeout(Duration::from_secs(90));
    assert!(!stopped.timed_out, "{stopped}");
    assert_eq!(
        wd.resource_values(ADDRESS)["id"],
        pending.as_str(),
        "{stopped}"
    );
    // State records the snapshots EC2 named, even if the stop came before any status look.
    let mut snapshots = owned_snapshots(&ec2);
    snapshots.sort();
    assert_eq!(
        snapshots.len(),
        2,
        "the copy's two snapshots: {snapshots:?}"
    );
    let mut recorded: Vec<String> =
        serde_json::from_value(wd.resource_values(ADDRESS)["snapshot_ids"].clone())
            .expect("snapshot ids");
    recorded.sort();
    assert_eq!(recorded, snapshots, "{stopped}");
    ec2.block_on(ec2.client().deregister_image().image_id(&pending).send())
        .expect("DeregisterImage");
    standin.clear_faults();
    standin.set_copy_duration(0.5);
    // The next apply replaces the copy whose AMI is gone; then destroy: no snapshot survives.
    wd.apply();
    wd.destroy();
    assert_owns_nothing(&ec2);
}
