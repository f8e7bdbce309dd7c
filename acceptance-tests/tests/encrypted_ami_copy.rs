//! End-to-end tests of `imagecopier_encrypted_ami_copy`: real Terraform drives the provider
//! against the AWS stand-in. The bake account is ACCOUNT_A; copies are made in ACCOUNT_B (and
//! ACCOUNT_C). Sharing is done through the SDK in test setup, as the bake account would.

use std::thread;
use std::time::{Duration, Instant};

use acceptance_tests::copies::*;
use acceptance_tests::{
    image_tag, needs_admin, snapshot_ids, Admin, Fault, StandIn, Workdir, ACCOUNT_A, ACCOUNT_B,
    ACCOUNT_C, PLAN_HAS_CHANGES, REGION,
};

#[test]
fn cross_account() {
    // The bake account's share and both copies in one configuration and one apply: the plan is
    // clean although the source is not shared yet, and the copies' create waits for the share.
    let (standin, wd, source, key_b, key_c) = bake_and_two_targets();
    let src = &source.image_id;
    wd.write_main(&format!(
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
resource "imagecopier_ami_share" "app" {{
  image_id    = "{src}"
  account_ids = ["{ACCOUNT_B}", "{ACCOUNT_C}"]
}}
resource "imagecopier_encrypted_ami_copy" "b" {{
  provider      = imagecopier.b
  source_ami_id = imagecopier_ami_share.app.image_id
  kms_key_id    = "alias/ami"
  source_tags   = imagecopier_ami_share.app.image_tags
  tags          = {{ Stage = "PROD" }}
}}
resource "imagecopier_encrypted_ami_copy" "c" {{
  provider      = imagecopier.c
  source_ami_id = imagecopier_ami_share.app.image_id
  kms_key_id    = "{key_c}"
  source_tags   = imagecopier_ami_share.app.image_tags
  tags          = {{ Stage = "PROD" }}
}}
"#
    ));
    let plan = wd.plan();
    // tags_all and kms_key_arn are known at plan time.
    assert!(plan.stdout.contains(r#""CopiedFromAMI" = "#), "{plan}");
    assert!(
        plan.stdout.contains(r#""team"          = "images""#)
            || plan.stdout.contains(r#""team" = "images""#),
        "{plan}"
    );
    assert!(plan.stdout.contains(&format!(r#""{key_b}""#)), "{plan}");
    let review = wd.plan_json();
    assert!(review.output.success(), "{}", review.output);
    assert!(
        review.diagnostics.is_empty(),
        "a correct configuration plans without warnings: {:#?}",
        review.diagnostics
    );
    wd.apply();
    for (address, account, key) in [
        ("imagecopier_encrypted_ami_copy.b", ACCOUNT_B, &key_b),
        ("imagecopier_encrypted_ami_copy.c", ACCOUNT_C, &key_c),
    ] {
        let values = wd.resource_values(address);
        let id = values["id"].as_str().expect("id");
        assert_eq!(values["kms_key_arn"], key.as_str());
        assert_eq!(values["state"], "available");
        assert_copy(&standin, account, id, (src, "app-source"), key);
        assert_eq!(standin.ec2(account).owned_images().len(), 1);
    }
    wd.assert_plan_empty();
}

/// A source nobody shares: the plan cannot tell it from one a share in the same apply is about to
/// fix, so it says nothing; the apply stops before CopyImage with the reason, naming the
/// attribute, after waiting a bounded time for a share to appear.
#[test]
fn unshared_source() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let source = standin.seed_ami(ACCOUNT_A, SOURCE_TAGS);
    create_key(&standin, ACCOUNT_B, "alias/ami");
    let wd = workdir(&standin, ACCOUNT_B);
    // Nothing will share it: the create timeout bounds how long the apply waits for a share.
    wd.write_main(&copy_config(
        &source.image_id,
        "alias/ami",
        &unshared_timeout(),
    ));
    let review = wd.plan_json();
    assert!(review.output.success(), "{}", review.output);
    assert!(review.diagnostics.is_empty(), "{:#?}", review.diagnostics);
    standin.clear_calls();
    let started = Instant::now();
    let apply = wd.try_apply().assert_failure();
    let waited = started.elapsed();
    let out = apply.combined();
    assert!(out.contains("Source AMI not visible"), "{out}");
    assert!(out.contains("source_ami_id"), "{out}");
    assert!(out.contains(ACCOUNT_B), "{out}");
    let mutations = standin.mutating_calls(ACCOUNT_B);
    assert!(mutations.is_empty(), "no change may be made: {mutations:?}");
    assert!(standin.ec2(ACCOUNT_B).owned_images().is_empty());
    eprintln!("unshared source refused after {waited:?}");
    assert!(wd.state_list().is_empty(), "{:?}", wd.state_list());
}

#[test]
fn tags() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let (standin, wd, source, key_arn, id) = applied_copy("");
    // The bake account retags its AMI; the new value reaches the copy through source_tags.
    wd.write_main(
        &copy_config(&source.image_id, "alias/ami", "")
            .replace(r#"team = "images""#, r#"team = "platform", Release = "2""#),
    );
    let plan = wd.plan();
    assert!(
        plan.stdout.contains("updated in-place") && !plan.stdout.contains("must be replaced"),
        "{plan}"
    );
    assert!(plan.stdout.contains("Release"), "{plan}");
    standin.clear_calls();
    wd.apply();
    let ec2 = standin.ec2(ACCOUNT_B);
    let image = ec2.describe_image(&id).expect("same copy");
    assert_eq!(image_tag(&image, "team"), Some("platform"));
    for snapshot_id in snapshot_ids(&image) {
        assert_eq!(
            snapshot_tag(&ec2, &snapshot_id, "team").as_deref(),
            Some("platform")
        );
        assert_eq!(
            snapshot_tag(&ec2, &snapshot_id, "Release").as_deref(),
            Some("2")
        );
    }
    assert!(!standin.mutating_calls(ACCOUNT_B).contains_key("CopyImage"));
    let _ = key_arn;
    wd.assert_plan_empty();
}

#[test]
fn disappears() {
    let (standin, wd, _source, _key, id) = applied_copy("");
    let ec2 = standin.ec2(ACCOUNT_B);
    ec2.block_on(
        ec2.client()
            .deregister_image()
            .image_id(&id)
            .delete_associated_snapshots(true)
            .send(),
    )
    .expect("DeregisterImage");
    assert_eq!(wd.plan_detailed_exitcode(), PLAN_HAS_CHANGES);
    let plan = wd.plan();
    assert!(plan.stdout.contains("will be created"), "{plan}");
    wd.apply();
    let new_id = wd.resource_values(ADDRESS)["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_ne!(new_id, id);
    assert_eq!(ec2.owned_images().len(), 1);
    wd.assert_plan_empty();
}

#[test]
fn import() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let (standin, wd, source, key_arn, id) = applied_copy(r#"description = "app copy""#);
    let values = wd.resource_values(ADDRESS);
    let name = values["name"].as_str().expect("name").to_string();
    let wd2 = workdir(&standin, ACCOUNT_B);
    // The form an import records: every non-fact tag in `tags`, the key as its ARN.
    wd2.write_main(&format!(
        r#"
resource "imagecopier_encrypted_ami_copy" "app" {{
  source_ami_id = "{}"
  name          = "{name}"
  description   = "app copy"
  kms_key_id    = "{key_arn}"
  tags          = {{ Name = "app-source", team = "images", Stage = "PROD" }}
}}
"#,
        source.image_id
    ));
    wd2.import(ADDRESS, &id);
    let imported = wd2.resource_values(ADDRESS);
    assert_eq!(imported["source_ami_id"], source.image_id.as_str());
    assert_eq!(imported["source_region"], REGION);
    assert_eq!(imported["kms_key_arn"], key_arn.as_str());
    wd2.assert_plan_empty();
    // The original configuration (alias, source_tags split) plans no replacement and its apply
    // changes nothing in AWS.
    wd2.write_main(&copy_config(
        &source.image_id,
        "alias/ami",
        r#"description = "app copy""#,
    ));
    let plan = wd2.plan();
    assert!(!plan.stdout.contains("must be replaced"), "{plan}");
    standin.clear_calls();
    wd2.apply();
    let mutating = standin.mutating_calls(ACCOUNT_B);
    assert!(
        mutating.is_empty(),
        "apply after import changed AWS: {mutating:?}"
    );
    wd2.assert_plan_empty();
}

#[test]
fn deprecated_source() {
    if needs_admin(&[Admin::Clock]) {
        return;
    }
    // The bake account deprecated the AMI it shares: EC2 leaves it out of the target's listings
    // (DescribeImages without ids), yet it is still the source, and the copy is made.
    let (standin, wd, source, key_arn) = configured_copy("");
    let bake = standin.ec2(ACCOUNT_A);
    let soon = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        + 120;
    bake.block_on(
        bake.client()
            .enable_image_deprecation()
            .image_id(&source.image_id)
            .deprecate_at(aws_sdk_ec2::primitives::DateTime::from_secs(soon as i64))
            .send(),
    )
    .expect("EnableImageDeprecation");
    standin.advance_clock(300.0);
    let target = standin.ec2(ACCOUNT_B);
    let listed = target
        .block_on(
            target
                .client()
                .describe_images()
                .executable_users("self")
                .send(),
        )
        .expect("DescribeImages");
    assert!(
        listed.images().is_empty(),
        "the deprecated source is still listed: {listed:?}"
    );
    wd.apply();
    let id = wd.resource_values(ADDRESS)["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_copy(
        &standin,
        ACCOUNT_B,
        &id,
        (&source.image_id, "app-source"),
        &key_arn,
    );
    wd.assert_plan_empty();
}

#[test]
fn destroy() {
    let (standin, wd, _source, _key, _id) = applied_copy("");
    let ec2 = standin.ec2(ACCOUNT_B);
    assert!(!owned_snapshots(&ec2).is_empty());
    wd.destroy();
    assert_owns_nothing(&ec2);
}

#[test]
fn pending() {
    if needs_admin(&[Admin::CopyControl]) {
        return;
    }
    let (standin, wd, _, _) = configured_copy("");
    standin.set_copy_duration(20.0);
    let ec2 = standin.ec2(ACCOUNT_B);
    let mut apply = wd.spawn_apply();
    let (_, pending_seen) =
        wait_for_copy_state(&ec2, "pending", Duration::from_secs(60)).expect("copy started");
    let (_, available_seen) =
        wait_for_copy_state(&ec2, "available", Duration::from_secs(60)).expect("copy finished");
    let output = apply
        .wait_with_timeout(Duration::from_secs(120))
        .assert_success();
    let finished = Instant::now();
    let lag = finished.duration_since(available_seen);
    println!(
        "pending: copy pending for {:.1}s; apply finished {:.1}s after the stand-in reported it available",
        available_seen.duration_since(pending_seen).as_secs_f64(),
        lag.as_secs_f64()
    );
    // How soon the wait notices is a figure (printed above, and in benchmarks/), not a test.
    assert!(output.stdout.contains("Creation complete"), "{output}");
    assert_eq!(wd.resource_values(ADDRESS)["state"], "available");
    wd.assert_plan_empty();
}

/// Starts an apply of a 40 s copy and returns once the copy is pending in AWS.
fn interrupted_apply(
    standin: &StandIn,
    wd: &Workdir,
) -> (acceptance_tests::RunningProcess, String) {
    standin.set_copy_duration(40.0);
    let apply = wd.spawn_apply();
    let (id, _) = wait_for_copy_state(&standin.ec2(ACCOUNT_B), "pending", Duration::from_secs(60))
        .expect("copy started");
    // Let the provider reach its wait loop.
    thread::sleep(Duration::from_secs(2));
    (apply, id)
}

/// After an interruption: the next apply converges to exactly one copy and no stray snapshots.
fn assert_converges(standin: &StandIn, wd: &Workdir, first_id: &str) {
    let started = Instant::now();
    let output = wd.apply();
    println!(
        "interrupted: the next apply took {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let ec2 = standin.ec2(ACCOUNT_B);
    let images = ec2.owned_images();
    assert_eq!(images.len(), 1, "{images:?}\n{output}");
    assert_eq!(
        images[0].image_id(),
        Some(first_id),
        "the copy was not adopted: {output}"
    );
    let mut expected = snapshot_ids(&images[0]);
    let mut owned = owned_snapshots(&ec2);
    expected.sort();
    owned.sort();
    assert_eq!(owned, expected, "orphan snapshots");
    assert!(!standin.mutating_calls(ACCOUNT_B).is_empty());
    assert_eq!(
        standin.calls()[ACCOUNT_B].get("CopyImage"),
        Some(&1),
        "copied twice"
    );
    wd.assert_plan_empty();
}

#[test]
fn interrupted() {
    if needs_admin(&[Admin::CopyControl]) {
        return;
    }
    let (standin, wd, _, _) = configured_copy("");

    // Ctrl-C to the whole process group: Terraform stops the provider, which records the copy.
    let (mut apply, id) = interrupted_apply(&standin, &wd);
    let sent = Instant::now();
    apply.send_sigint_to_group();
    let output = apply.wait_with_timeout(Duration::from_secs(60));
    println!(
        "interrupted: terraform exited {:.1}s after SIGINT",
        sent.elapsed().as_secs_f64()
    );
    // The copy takes 40 s; within the bounded wait Terraform exited on its own, by the stop.
    assert!(!output.timed_out, "{output}");
    let values = wd.resource_values(ADDRESS);
    assert_eq!(values["id"], id.as_str(), "{output}");
    assert_eq!(values["state"], "pending");
    let plan = wd.plan();
    assert!(
        plan.stdout.contains("updated in-place") && !plan.stdout.contains("tainted"),
        "{plan}"
    );
    assert_converges(&standin, &wd, &id);
}

#[test]
fn interrupted_sigkill() {
    if needs_admin(&[Admin::CopyControl]) {
        return;
    }
    let (standin, wd, _, _) = configured_copy("");

    // SIGKILL to Terraform alone: no state is saved, and the provider is orphaned.
    let (mut apply, id) = interrupted_apply(&standin, &wd);
    apply.sigkill_leader();
    let output = apply.wait_with_timeout(Duration::from_secs(30));
    assert_eq!(output.signal, Some(9), "{output}");
    assert!(wd.state_list().is_empty(), "state was saved after all");
    assert_converges(&standin, &wd, &id);
}

#[test]
fn throttled() {
    if needs_admin(&[Admin::CopyControl, Admin::CallCounts, Admin::Faults]) {
        return;
    }
    let (standin, wd, _, _) = configured_copy("");
    standin.set_copy_duration(3.0);
    // The copy quota refuses the first attempts; EC2 throttles a share of every other call.
    standin.inject_fault(
        &Fault::error("CopyImage", "ResourceLimitExceeded", 400)
            .account(ACCOUNT_B)
            .count(2),
    );
    for action in [
        "CopyImage",
        "DescribeImages",
        "DescribeSnapshots",
        "CreateTags",
    ] {
        standin.inject_fault(
            &Fault::error(action, "RequestLimitExceeded", 503)
                .account(ACCOUNT_B)
                .rate(0.3),
        );
    }
    wd.apply();
    standin.clear_faults();
    assert_eq!(standin.ec2(ACCOUNT_B).owned_images().len(), 1);
    let calls = standin.calls();
    assert!(calls[ACCOUNT_B]["CopyImage"] >= 3, "{calls:?}");
    wd.assert_plan_empty();
}

#[test]
fn examples_apply() {
    let standin = StandIn::start();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    create_key(&standin, ACCOUNT_B, "alias/ami");
    let dir = acceptance_tests::workspace_root()
        .join("examples/resources/imagecopier_encrypted_ami_copy");
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
    };
    let wd = workdir(&standin, ACCOUNT_B);
    wd.write_main(&read("resource.tf"));
    wd.write(
        "terraform.tfvars",
        &format!("source_ami_id = \"{}\"\n", source.image_id),
    );
    wd.apply();
    let id = wd.output_json()["copy_id"]["value"]
        .as_str()
        .expect("copy_id")
        .to_string();
    assert_copy(
        &standin,
        ACCOUNT_B,
        &id,
        // The example writes its source_tags out: Name = "app".
        (&source.image_id, "app"),
        wd.resource_values(ADDRESS)["kms_key_arn"]
            .as_str()
            .unwrap_or_default(),
    );
    wd.assert_plan_empty();

    // import.sh, run against the copy just made, in a fresh state.
    let import = read("import.sh");
    let line = import
        .lines()
        .find(|l| l.starts_with("terraform import"))
        .expect("an import line");
    let args: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(args[2], ADDRESS);
    let wd2 = workdir(&standin, ACCOUNT_B);
    wd2.write_main(&read("resource.tf"));
    wd2.write(
        "terraform.tfvars",
        &format!("source_ami_id = \"{}\"\n", source.image_id),
    );
    wd2.import(args[2], &id);
    assert_eq!(
        wd2.resource_values(ADDRESS)["source_ami_id"],
        source.image_id.as_str()
    );
}
