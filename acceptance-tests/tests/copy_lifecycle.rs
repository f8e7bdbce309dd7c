//! End-to-end tests of the copy's lifecycle under what users do to it: re-creating it many times,
//! interrupting a re-creation, a snapshot that something else holds at destroy, a copy
//! deregistered by hand, tags edited by hand on one snapshot, and an API storm. Each checks the
//! promise: nothing orphaned, nothing duplicated, the next apply converges.

use std::time::{Duration, Instant};

use acceptance_tests::copies::*;
use acceptance_tests::{
    flat, image_tag, needs_admin, snapshot_ids, until_consistent, Admin, Ec2, Fault, StandIn,
    Workdir, ACCOUNT_A, ACCOUNT_B, ACCOUNT_C, PLAN_HAS_CHANGES, REGION,
};
use aws_sdk_ec2::types::{BlockDeviceMapping, EbsBlockDevice};

const REPLACE: &str = "-replace=imagecopier_encrypted_ami_copy.app";
const APPLY: &[&str] = &["apply", "-auto-approve", "-input=false", "-no-color"];

/// `terraform apply -replace=<the copy>`, asserting success.
fn apply_replace(wd: &Workdir) -> acceptance_tests::RunOutput {
    let mut args = APPLY.to_vec();
    args.push(REPLACE);
    wd.run(&args).assert_success()
}

fn state_id(wd: &Workdir) -> String {
    wd.resource_values(ADDRESS)["id"]
        .as_str()
        .expect("id in state")
        .to_string()
}

#[test]
fn replace_many_times() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    // Each re-creation of the same copy makes exactly one new copy with one CopyImage call: an
    // earlier attempt's ClientToken is never replayed (EC2 would answer with the old, long
    // deregistered AMI and the create would first wait for it to vanish).
    let (standin, wd, _source, _key, first) = applied_copy("");
    let ec2 = standin.ec2(ACCOUNT_B);
    assert_owns_only(&ec2, &first, "after the first apply");
    let mut seen = vec![first];
    let mut times = Vec::new();
    for round in 1..=10 {
        standin.clear_calls();
        let started = Instant::now();
        let output = apply_replace(&wd);
        times.push(started.elapsed().as_secs_f64());
        let id = state_id(&wd);
        assert!(!seen.contains(&id), "round {round}: {id} again\n{output}");
        assert_eq!(
            standin.calls()[ACCOUNT_B].get("CopyImage"),
            Some(&1),
            "round {round}: one CopyImage per re-creation\n{output}"
        );
        assert!(!output.combined().contains("is gone"), "{output}");
        assert_owns_only(&ec2, &id, &format!("after re-creation {round}"));
        seen.push(id);
    }
    let shown: Vec<String> = times.iter().map(|t| format!("{t:.1}")).collect();
    println!(
        "replace_many_times: apply -replace took {} s",
        shown.join(", ")
    );
    wd.assert_plan_empty();
}

/// Starts `apply -replace` of a 40 s copy and returns once the new copy is pending in AWS.
fn interrupted_replace(
    standin: &StandIn,
    wd: &Workdir,
    old: &str,
) -> (acceptance_tests::RunningProcess, String) {
    standin.set_copy_duration(40.0);
    let mut args = APPLY.to_vec();
    args.push(REPLACE);
    let apply = wd.spawn(&args);
    let ec2 = standin.ec2(ACCOUNT_B);
    let deadline = Instant::now() + Duration::from_secs(120);
    let new = loop {
        let pending = ec2.owned_images().into_iter().find(|i| {
            i.state().map(|s| s.as_str()) == Some("pending") && i.image_id() != Some(old)
        });
        if let Some(id) = pending.and_then(|i| i.image_id().map(str::to_string)) {
            break id;
        }
        assert!(
            Instant::now() < deadline,
            "the re-creation never started: {}",
            apply.stderr_so_far()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // Let the provider reach its wait loop.
    std::thread::sleep(Duration::from_secs(2));
    (apply, new)
}

/// A copy the wait saw pending, then missing from its looks by id (answered with nothing, as a
/// read lagging a write does), while a lookup by its name still lists it (issue 31): the wait
/// goes on, and one copy is made. The wait used to call such a copy gone and start another.
#[test]
fn a_copy_missing_from_a_look_but_listed_by_name_is_waited_for() {
    if needs_admin(&[Admin::CopyControl, Admin::Faults, Admin::CallCounts]) {
        return;
    }
    let (standin, mut wd, _source, _key) = configured_copy("");
    standin.set_copy_duration(15.0);
    standin.clear_calls();
    wd.set_env("TF_LOG_PROVIDER", "WARN");
    let mut apply = wd.spawn_apply();
    let ec2 = standin.ec2(ACCOUNT_B);
    let (copy, _) =
        wait_for_copy_state(&ec2, "pending", Duration::from_secs(120)).expect("the copy started");
    let looked = || !standin.copy_looks(ACCOUNT_B, REGION).is_empty();
    until_consistent(looked);
    assert!(looked(), "the wait looked at the copy");
    standin.inject_fault(
        &Fault::empty_answer("DescribeImages")
            .account(ACCOUNT_B)
            .param("Filter.1.Name", "image-id")
            .count(3),
    );
    let output = apply.wait_with_timeout(Duration::from_secs(180));
    assert!(output.success(), "{output}");
    let fired: u64 = standin.faults_fired().iter().map(|(_, _, n)| n).sum();
    assert!(
        fired >= 1,
        "the looks came back empty: {:?}",
        standin.faults_fired()
    );
    assert_eq!(
        standin.calls()[ACCOUNT_B].get("CopyImage"),
        Some(&1),
        "copied again: {output}"
    );
    assert_owns_only(&ec2, &copy, "one copy");
    assert!(
        flat(&output.stderr).contains("not visible by its id, but is listed by its name"),
        "the provider says why it waits on: {output}"
    );
    wd.assert_plan_empty();
}

#[test]
fn interrupted_replace_sigint() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let (standin, wd, _source, _key, old) = applied_copy("");
    standin.clear_calls();
    let (mut apply, new) = interrupted_replace(&standin, &wd, &old);
    apply.send_sigint_to_group();
    let output = apply.wait_with_timeout(Duration::from_secs(90));
    assert!(!output.timed_out, "{output}");
    // The new copy, which exists and is pending, is what state records: never the old id.
    let values = wd.resource_values(ADDRESS);
    assert_eq!(values["id"], new.as_str(), "{output}");
    assert_eq!(values["state"], "pending", "{output}");
    let ec2 = standin.ec2(ACCOUNT_B);
    assert!(ec2.describe_image(&old).is_none(), "the old copy is gone");
    let next = wd.apply();
    assert_owns_only(&ec2, &new, "after the next apply");
    assert_eq!(
        standin.calls()[ACCOUNT_B].get("CopyImage"),
        Some(&1),
        "copied twice: {next}"
    );
    wd.assert_plan_empty();
}

#[test]
fn interrupted_replace_sigkill() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let (standin, wd, _source, _key, old) = applied_copy("");
    standin.clear_calls();
    let (mut apply, new) = interrupted_replace(&standin, &wd, &old);
    apply.sigkill_leader();
    let output = apply.wait_with_timeout(Duration::from_secs(30));
    assert_eq!(output.signal, Some(9), "{output}");
    // The destroy half of the replacement was saved; the create was not.
    assert!(
        wd.state_list().is_empty(),
        "{:?}\n{output}",
        wd.state_list()
    );
    let next = wd.apply();
    let ec2 = standin.ec2(ACCOUNT_B);
    assert_eq!(
        state_id(&wd),
        new,
        "the interrupted copy was not adopted: {next}"
    );
    assert_owns_only(&ec2, &new, "after the next apply");
    assert_eq!(
        standin.calls()[ACCOUNT_B].get("CopyImage"),
        Some(&1),
        "copied twice: {next}"
    );
    // Adoption is said, not hidden behind "Creation complete after 0s".
    let text = flat(&next.combined());
    assert!(
        text.contains("Adopted an existing EC2 AMI copy")
            && text.contains(&new)
            && text.contains("interrupted before it could record it in state"),
        "{next}"
    );
    wd.assert_plan_empty();
}

/// Terraform killed outright while a copy runs, and the copy finishes before anyone applies
/// again (the common case: copies take minutes, a rerun comes later). The copy still carries the
/// mark its create puts on every AMI it starts and removes once it has recorded it, so the next
/// apply takes it over: no second copy, no orphan, and the mark is gone.
#[test]
fn interrupted_sigkill_copy_finished_before_the_rerun() {
    if needs_admin(&[Admin::CopyControl, Admin::CallCounts]) {
        return;
    }
    let (standin, wd, _source, _key) = configured_copy("");
    standin.set_copy_duration(8.0);
    let mut apply = wd.spawn_apply();
    let ec2 = standin.ec2(ACCOUNT_B);
    let (orphan, _) =
        wait_for_copy_state(&ec2, "pending", Duration::from_secs(60)).expect("copy started");
    apply.sigkill_leader();
    let output = apply.wait_with_timeout(Duration::from_secs(30));
    assert_eq!(output.signal, Some(9), "{output}");
    assert!(wd.state_list().is_empty(), "{:?}", wd.state_list());
    wait_for_copy_state(&ec2, "available", Duration::from_secs(60)).expect("copy finished");
    let image = ec2.describe_image(&orphan).expect("the finished copy");
    assert!(
        image_tag(&image, "imagecopier:creating").is_some(),
        "a create that never finished leaves its mark: {image:?}"
    );

    standin.clear_calls();
    let next = wd.apply();
    assert_eq!(
        state_id(&wd),
        orphan,
        "the finished copy is taken over: {next}"
    );
    assert_eq!(
        standin.calls()[ACCOUNT_B].get("CopyImage"),
        None,
        "nothing copied again"
    );
    let text = flat(&next.combined());
    assert!(text.contains("Adopted an existing EC2 AMI copy"), "{next}");
    let owned: Vec<String> = ec2
        .owned_images()
        .iter()
        .filter_map(|i| i.image_id().map(str::to_owned))
        .collect();
    assert_eq!(
        owned,
        std::slice::from_ref(&orphan),
        "one copy, nothing else"
    );
    let image = ec2.describe_image(&orphan).expect("the copy");
    assert_eq!(
        image_tag(&image, "imagecopier:creating"),
        None,
        "the mark is gone"
    );
    wd.assert_plan_empty();
}

/// A copy recorded in state carries no mark, so a `create_before_destroy` replacement under the
/// same default name never takes it for abandoned (rotation.rs runs the replacement itself).
#[test]
fn a_recorded_copy_carries_no_creation_mark() {
    let (standin, _wd, _source, _key, id) = applied_copy("");
    // The apply removed the mark; reads may show it for a moment (EC2 tags are eventually
    // consistent), then never again.
    let ec2 = standin.ec2(ACCOUNT_B);
    let marked = || image_tag(&ec2.describe_image(&id)?, "imagecopier:creating").map(str::to_owned);
    until_consistent(|| marked().is_none());
    let image = ec2.describe_image(&id).expect("the copy");
    assert_eq!(image_tag(&image, "imagecopier:creating"), None, "{image:?}");
}

/// Registers, in account B, another AMI that uses `snapshot_id`, as a user making a launchable
/// image from the copy's root volume would; returns its id.
fn register_from_snapshot(ec2: &Ec2, snapshot_id: &str) -> String {
    let mapping = BlockDeviceMapping::builder()
        .device_name("/dev/sda1")
        .ebs(EbsBlockDevice::builder().snapshot_id(snapshot_id).build())
        .build();
    ec2.block_on(
        ec2.client()
            .register_image()
            .name("made-by-hand-from-the-copy")
            .root_device_name("/dev/sda1")
            .block_device_mappings(mapping)
            .send(),
    )
    .expect("RegisterImage")
    .image_id()
    .expect("image id")
    .to_string()
}

#[test]
fn destroy_snapshot_in_use() {
    let (standin, wd, _source, _key, id) = applied_copy("");
    let ec2 = standin.ec2(ACCOUNT_B);
    let image = ec2.describe_image(&id).expect("copy");
    let held = snapshot_ids(&image)[0].clone();
    let blocker = register_from_snapshot(&ec2, &held);

    let failed = wd.try_destroy().assert_failure();
    let text = failed.combined();
    assert!(
        text.contains(&held) && text.contains(&blocker) && text.contains("InvalidSnapshot.InUse"),
        "the error names the snapshot and what holds it: {failed}"
    );
    // The copy is its AMI and its snapshots: while one remains, it stays in state, and a plan
    // shows the copy must be made anew.
    assert_eq!(wd.state_list(), vec![ADDRESS.to_string()], "{failed}");
    let plan = wd.plan();
    assert!(
        plan.stdout.contains("must be replaced") && plan.stdout.contains("\"deregistered\""),
        "{plan}"
    );
    wd.refresh();
    let values = wd.resource_values(ADDRESS);
    assert_eq!(values["state"], "deregistered", "{values}");
    assert_eq!(
        values["snapshot_ids"],
        serde_json::json!([held]),
        "{values}"
    );

    // Still held: destroy fails again, saying the same.
    let again = wd.try_destroy().assert_failure();
    assert!(again.combined().contains(&blocker), "{again}");

    // The blocker goes (its snapshot stays, as DeregisterImage leaves it); destroy finishes.
    ec2.block_on(ec2.client().deregister_image().image_id(&blocker).send())
        .expect("DeregisterImage");
    wd.destroy();
    assert!(wd.state_list().is_empty());
    assert_owns_nothing(&ec2);
}

#[test]
fn disappears_leaving_snapshots() {
    // Deregistered by hand, without its snapshots: the plan replaces the copy (showing why), and
    // the apply deletes the old snapshots it still owns before making the new copy.
    let (standin, wd, _source, _key, id) = applied_copy("");
    let ec2 = standin.ec2(ACCOUNT_B);
    let old_snapshots = snapshot_ids(&ec2.describe_image(&id).expect("copy"));
    ec2.block_on(ec2.client().deregister_image().image_id(&id).send())
        .expect("DeregisterImage");
    let plan = wd.plan();
    assert!(
        plan.stdout.contains("must be replaced") && plan.stdout.contains("\"deregistered\""),
        "{plan}"
    );
    let output = wd.apply();
    let new = state_id(&wd);
    assert_ne!(new, id);
    assert_owns_only(&ec2, &new, "after the recreating apply");
    let owned = owned_snapshots(&ec2);
    assert!(
        old_snapshots.iter().all(|s| !owned.contains(s)),
        "old snapshots orphaned: {old_snapshots:?}\n{output}"
    );
    wd.assert_plan_empty();
}

#[test]
fn snapshot_tag_drift() {
    let (standin, wd, _source, _key, id) = applied_copy("");
    let ec2 = standin.ec2(ACCOUNT_B);
    let snapshot_id = snapshot_ids(&ec2.describe_image(&id).expect("copy"))[0].clone();

    // A tag only one snapshot has: the plan shows it going, apply removes it.
    tag_snapshot(&ec2, &snapshot_id, "AddedByHand", "yes");
    assert_eq!(wd.plan_detailed_exitcode(), PLAN_HAS_CHANGES);
    let plan = wd.plan();
    assert!(
        flat(&plan.stdout).contains(r#"- "AddedByHand" = "yes" -> null"#),
        "the extra snapshot tag is not in the plan: {plan}"
    );
    wd.apply();
    until_consistent(|| snapshot_tag(&ec2, &snapshot_id, "AddedByHand").is_none());
    assert_eq!(snapshot_tag(&ec2, &snapshot_id, "AddedByHand"), None);
    wd.assert_plan_empty();

    // An edited value shows what was found, not only what will be written.
    tag_snapshot(&ec2, &snapshot_id, "team", "edited-by-hand");
    let plan = wd.plan();
    assert!(
        flat(&plan.stdout).contains(r#"~ "team" = "edited-by-hand" -> "images""#),
        "the plan does not show the value found: {plan}"
    );
    wd.apply();
    until_consistent(|| snapshot_tag(&ec2, &snapshot_id, "team").as_deref() == Some("images"));
    assert_eq!(
        snapshot_tag(&ec2, &snapshot_id, "team").as_deref(),
        Some("images")
    );
    wd.assert_plan_empty();
}

#[test]
fn api_storm() {
    if needs_admin(&[Admin::CopyControl, Admin::CallCounts, Admin::Faults]) {
        return;
    }
    // STS throttles 30% of calls, EC2 30%, and 5% of every call fails with HTTP 500: the bake
    // account's share and two copies made through assumed roles converge in one apply.
    let (standin, wd, source, _, _) = bake_and_two_targets();
    let src = &source.image_id;
    wd.write_main(&format!(
        r#"
provider "imagecopier" {{
  assume_role {{ role_arn = "arn:aws:iam::{ACCOUNT_A}:role/ami-publisher" }}
}}
provider "imagecopier" {{
  alias = "b"
  assume_role {{ role_arn = "arn:aws:iam::{ACCOUNT_B}:role/ami-importer" }}
}}
provider "imagecopier" {{
  alias = "c"
  assume_role {{ role_arn = "arn:aws:iam::{ACCOUNT_C}:role/ami-importer" }}
}}
resource "imagecopier_ami_share" "app" {{
  image_id    = "{src}"
  account_ids = ["{ACCOUNT_B}", "{ACCOUNT_C}"]
}}
resource "imagecopier_encrypted_ami_copy" "b" {{
  provider      = imagecopier.b
  source_ami_id = imagecopier_ami_share.app.image_id
  kms_key_id    = "alias/ami"
  source_tags   = imagecopier_ami_share.app.image_tags
}}
resource "imagecopier_encrypted_ami_copy" "c" {{
  provider      = imagecopier.c
  source_ami_id = imagecopier_ami_share.app.image_id
  kms_key_id    = "alias/ami"
  source_tags   = imagecopier_ami_share.app.image_tags
}}
"#
    ));
    standin.set_copy_duration(2.0);
    // The first calls of each STS action are throttled for certain, so the storm surely reaches
    // the credentials path; after that the rates decide.
    for action in ["AssumeRole", "GetCallerIdentity"] {
        standin.inject_fault(&Fault::error(action, "Throttling", 400).count(2));
    }
    standin.inject_fault(&Fault::error("*", "InternalError", 500).rate(0.05));
    for action in ["AssumeRole", "GetCallerIdentity"] {
        standin.inject_fault(&Fault::error(action, "Throttling", 400).rate(0.3));
    }
    for action in [
        "DescribeImages",
        "DescribeImageAttribute",
        "DescribeSnapshots",
        "DescribeSnapshotAttribute",
        "ModifyImageAttribute",
        "ModifySnapshotAttribute",
        "GetEbsDefaultKmsKeyId",
        "CopyImage",
        "CreateTags",
    ] {
        standin.inject_fault(&Fault::error(action, "RequestLimitExceeded", 503).rate(0.3));
    }
    let output = wd.apply();
    let fired = standin.faults_fired();
    standin.clear_faults();
    let calls = standin.calls();
    println!("api_storm: calls per account during the apply: {calls:?}");
    println!("api_storm: faults fired (action, code, calls): {fired:?}");
    assert!(
        fired[..2].iter().all(|(_, _, n)| *n == 2),
        "the certain STS throttles did not all fire: {fired:?}"
    );
    for account in [ACCOUNT_B, ACCOUNT_C] {
        let ec2 = standin.ec2(account);
        let images = ec2.owned_images();
        assert_eq!(images.len(), 1, "{account}: {images:?}\n{output}");
        assert_eq!(
            images[0].state().map(|s| s.as_str()),
            Some("available"),
            "{account}"
        );
        let id = images[0].image_id().expect("id").to_string();
        assert_owns_only(&ec2, &id, account);
    }
    let sts_calls: u64 = calls
        .values()
        .map(|c| c.get("AssumeRole").copied().unwrap_or(0))
        .sum();
    assert!(sts_calls >= 3, "the storm never reached STS: {calls:?}");
    wd.assert_plan_empty();
}

/// Another configuration's copy holds the default name, so this one is named beside it; an
/// `apply -replace` of it under `create_before_destroy` then finds its own old copy holding that
/// name too, and names the new copy beside that one, instead of failing with
/// InvalidAMIName.Duplicate and the advice to leave `name` unset (which it was).
#[test]
fn replace_beside_another_configuration_s_copy() {
    let (standin, other, source, _key, theirs) = applied_copy("");
    let wd = workdir(&standin, ACCOUNT_B);
    wd.write_main(&copy_config(
        &source.image_id,
        "alias/ami",
        "lifecycle {\n    create_before_destroy = true\n  }",
    ));
    wd.apply();
    let mut old = state_id(&wd);
    assert_ne!(old, theirs);
    for round in 0..2 {
        let replaced = apply_replace(&wd);
        let new = state_id(&wd);
        assert_ne!(new, old, "round {round}: a new copy: {replaced}");
        let ec2 = standin.ec2(ACCOUNT_B);
        let owned: Vec<String> = ec2
            .owned_images()
            .iter()
            .filter_map(|i| i.image_id().map(str::to_owned))
            .collect();
        assert_eq!(owned.len(), 2, "theirs and ours only: {owned:?}");
        assert!(owned.contains(&theirs) && owned.contains(&new), "{owned:?}");
        wd.assert_plan_empty();
        old = new;
    }
    other.assert_plan_empty();
}

/// A long copy's provider log says what was asked and how far it is: the CopyImage call with
/// its account, Region, source, key and ClientToken; every 30 s the account, Region, state and
/// each snapshot's progress; and a failing RPC is named.
#[test]
fn logs_say_what_a_copy_is_doing() {
    if needs_admin(&[Admin::CopyControl]) {
        return;
    }
    let (standin, mut wd, source, _key) = configured_copy("");
    wd.set_env("TF_LOG_PROVIDER", "INFO");
    standin.set_copy_duration(33.0);
    let applied = wd.apply();
    let log = flat(&applied.stderr);
    for wanted in [
        "calling EC2 CopyImage",
        &format!("source_image_id={}", source.image_id),
        "kms_key_id=alias/ami",
        "client_token=",
        "EC2 CopyImage started a copy",
    ] {
        assert!(
            log.contains(wanted),
            "no {wanted:?} in the log:\n{}",
            applied.stderr
        );
    }
    let progress = log
        .split("waiting for EC2 AMI copy")
        .skip(1)
        .find(|line| line.contains("snapshot_progress="))
        .unwrap_or_else(|| panic!("no progress line:\n{}", applied.stderr));
    assert!(
        progress.contains(&format!("account_id={ACCOUNT_B}")) && progress.contains("region="),
        "the progress line says where: {progress}"
    );
    // A plan that fails names the RPC in the provider's log.
    wd.write_main(&copy_config(
        &source.image_id,
        "alias/ami",
        "deprecation_time = \"2000-01-01T00:00:00Z\"",
    ));
    let failed = wd.try_plan();
    assert!(!failed.success(), "{failed}");
    assert!(
        flat(&failed.stderr).contains("rpc=PlanResourceChange"),
        "{}",
        failed.stderr
    );
}
