//! End-to-end tests of the copy's lifecycle controls (issue 15): deregistration protection with
//! and without cooldown, deprecation, time-based copies, `enabled`, `skip_destroy`, and the
//! in-use guard. Each control is set at create, changed in place, changed by hand (which the next
//! plan shows), and taken through destroy; every test ends with a census of the account.

use acceptance_tests::clock::rfc3339_from_now;
use acceptance_tests::copies::*;
use acceptance_tests::iam::{documented_actions, merge_calls, missing_actions};
use acceptance_tests::plan_json::resource_change;
use acceptance_tests::silent::SilentEndpoint;
use acceptance_tests::{
    flat, needs_admin, snapshot_ids, workspace_root, Admin, Ec2, Fault, StandIn, Workdir, ACCOUNT_B,
};
use aws_sdk_ec2::types::{InstanceType, RequestLaunchTemplateData};
use serde_json::{json, Value};

const DAY: i64 = 86_400;

/// Now plus `offset` seconds, with the seconds dropped: a time EC2 keeps as it is (it rounds
/// seconds to the nearest minute).
fn whole_minute(offset: i64) -> String {
    format!("{}:00Z", &rfc3339_from_now(offset)[..16])
}

/// What DescribeImages says of `image_id` to its owner, disabled copies included.
fn image(ec2: &Ec2, image_id: &str) -> aws_sdk_ec2::types::Image {
    let out = ec2
        .block_on(
            ec2.client()
                .describe_images()
                .image_ids(image_id)
                .include_disabled(true)
                .send(),
        )
        .expect("DescribeImages");
    out.images().first().cloned().expect("the copy exists")
}

fn protection(ec2: &Ec2, image_id: &str) -> String {
    image(ec2, image_id)
        .deregistration_protection()
        .unwrap_or_default()
        .to_string()
}

/// The copy's planned change in a saved plan: its actions and the `after` values.
fn planned(wd: &Workdir) -> (Vec<String>, Value) {
    let plan = wd.saved_plan();
    let change = resource_change(&plan, ADDRESS);
    let actions = change["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a.as_str().unwrap_or_default().to_string())
        .collect();
    (actions, change["after"].clone())
}

/// The copy's config with `lines` added; the source is shared with ACCOUNT_B.
fn write(wd: &Workdir, source: &str, lines: &str) {
    wd.write_main(&copy_config(source, "alias/ami", lines));
}

#[test]
fn deregistration_protection_is_set_repaired_and_turned_off_by_destroy() {
    let (standin, wd, source, _key, id) =
        applied_copy("deregistration_protection {\n    enabled = true\n  }");
    let ec2 = standin.ec2(ACCOUNT_B);
    assert_eq!(protection(&ec2, &id), "enabled-without-cooldown");
    wd.assert_plan_empty();

    // Turned off by hand: the plan shows it, in place, and apply turns it back on.
    ec2.block_on(
        ec2.client()
            .disable_image_deregistration_protection()
            .image_id(&id)
            .send(),
    )
    .expect("DisableImageDeregistrationProtection");
    let (actions, after) = planned(&wd);
    assert_eq!(
        actions,
        vec!["update"],
        "protection drift is an in-place update"
    );
    assert_eq!(after["deregistration_protection"]["enabled"], true);
    wd.apply();
    assert_eq!(protection(&ec2, &id), "enabled-without-cooldown");
    wd.assert_plan_empty();

    // EC2 refuses to deregister it while protected...
    let refused = ec2.block_on(ec2.client().deregister_image().image_id(&id).send());
    assert!(refused.is_err(), "a protected AMI cannot be deregistered");

    // ...and destroy turns protection off first, then removes the copy and its snapshots.
    write(
        &wd,
        &source.image_id,
        "deregistration_protection {\n    enabled = true\n  }",
    );
    let output = wd.destroy();
    assert_owns_nothing(&ec2);
    assert!(!output.combined().contains("Error"), "{output}");
}

#[test]
fn destroy_with_a_cooldown_fails_at_once_and_goes_through_after_it() {
    if needs_admin(&[Admin::Clock]) {
        return;
    }
    let (standin, wd, _source, _key, id) = applied_copy(
        "deregistration_protection {\n    enabled       = true\n    with_cooldown = true\n  }",
    );
    let ec2 = standin.ec2(ACCOUNT_B);
    assert_eq!(protection(&ec2, &id), "enabled-with-cooldown");
    wd.assert_plan_empty();

    let preview = wd
        .run(&["plan", "-destroy", "-no-color", "-input=false"])
        .assert_success();
    assert!(
        flat(&preview.combined()).contains("destroy will turn it off and then fail"),
        "the destroy plan warns of the cooldown\n{preview}"
    );
    let output = wd.try_destroy().assert_failure();
    let text = flat(&output.combined());
    assert!(
        text.contains("24-hour cooldown") && text.contains("refuses to deregister it until"),
        "the error says when destroy can go ahead\n{output}"
    );
    assert_eq!(
        wd.state_list(),
        vec![ADDRESS.to_string()],
        "the copy stays in state"
    );
    assert_owns_only(&ec2, &id, "");
    assert!(
        !protection(&ec2, &id).starts_with("enabled"),
        "destroy turned protection off, which starts the cooldown"
    );

    // Still within the cooldown: refused again, nothing changed.
    standin.advance_clock(12.0 * 3600.0);
    wd.try_destroy().assert_failure();
    assert_owns_only(&ec2, &id, "");

    standin.advance_clock(12.0 * 3600.0 + 60.0);
    wd.destroy();
    assert_owns_nothing(&ec2);
    assert!(wd.state_list().is_empty());
}

#[test]
fn deprecation_is_set_rounded_without_a_diff_changed_and_repaired() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    // Seconds EC2 rounds away: the configured text stays, and the plan stays empty.
    let first = format!("{}:40Z", &rfc3339_from_now(2 * DAY)[..16]);
    let (standin, wd, source, _key, id) = applied_copy(&format!("deprecation_time = \"{first}\""));
    let ec2 = standin.ec2(ACCOUNT_B);
    let reported = image(&ec2, &id)
        .deprecation_time()
        .unwrap_or_default()
        .to_string();
    assert!(
        reported.ends_with(":00.000Z") && !reported.starts_with(&first[..16]),
        "EC2 rounds {first} up to the next minute: {reported}"
    );
    wd.assert_plan_empty();
    assert_eq!(
        wd.resource_values(ADDRESS)["deprecation_time"],
        first.as_str()
    );

    // Changed in place: no new copy.
    let second = whole_minute(30 * DAY);
    write(
        &wd,
        &source.image_id,
        &format!("deprecation_time = \"{second}\""),
    );
    standin.clear_calls();
    let (actions, _) = planned(&wd);
    assert_eq!(actions, vec!["update"]);
    wd.apply();
    assert_eq!(standin.mutating_calls(ACCOUNT_B).get("CopyImage"), None);
    assert_eq!(
        image(&ec2, &id)
            .deprecation_time()
            .map(|t| t[..16].to_string()),
        Some(second[..16].to_string())
    );
    wd.assert_plan_empty();

    // Cancelled by hand: the plan shows it, and apply schedules it again.
    ec2.block_on(
        ec2.client()
            .disable_image_deprecation()
            .image_id(&id)
            .send(),
    )
    .expect("DisableImageDeprecation");
    let (actions, after) = planned(&wd);
    assert_eq!(actions, vec!["update"]);
    assert_eq!(after["deprecation_time"], second.as_str());
    wd.apply();
    assert!(image(&ec2, &id).deprecation_time().is_some());

    // Removed from the configuration: cancelled.
    write(&wd, &source.image_id, "");
    wd.apply();
    assert_eq!(image(&ec2, &id).deprecation_time(), None);
    wd.assert_plan_empty();
    wd.destroy();
    assert_owns_nothing(&ec2);
}

#[test]
fn a_time_based_copy_is_sent_and_a_later_change_copies_nothing() {
    if needs_admin(&[Admin::CopyControl, Admin::CallCounts]) {
        return;
    }
    let (standin, wd, source, _key, id) = applied_copy("completion_duration_minutes = 30");
    let copies = standin.copies();
    let sent: Vec<&Value> = copies
        .iter()
        .map(|c| &c["completion_duration_minutes"])
        .collect();
    assert_eq!(
        sent,
        vec![&Value::from(30)],
        "CopyImage asked for a 30-minute copy"
    );
    wd.assert_plan_empty();

    write(&wd, &source.image_id, "completion_duration_minutes = 45");
    let (actions, _) = planned(&wd);
    assert_eq!(actions, vec!["update"], "it shapes only the creation");
    standin.clear_calls();
    wd.apply();
    assert_eq!(standin.mutating_calls(ACCOUNT_B).get("CopyImage"), None);
    assert_eq!(wd.resource_values(ADDRESS)["id"], id.as_str());
    wd.assert_plan_empty();
}

#[test]
fn a_copy_disabled_by_hand_shows_in_the_plan_and_can_stay_disabled() {
    let (standin, wd, source, _key, id) = applied_copy("");
    let ec2 = standin.ec2(ACCOUNT_B);
    ec2.block_on(ec2.client().disable_image().image_id(&id).send())
        .expect("DisableImage");

    // Not lost (no replacement), not silently re-enabled: an in-place change in the plan.
    let (actions, after) = planned(&wd);
    assert_eq!(
        actions,
        vec!["update"],
        "a disabled copy is updated, never replaced"
    );
    assert_eq!(after["enabled"], true);
    assert_eq!(after["state"], "available");
    wd.apply();
    assert_eq!(
        image(&ec2, &id).state().map(|s| s.as_str()),
        Some("available")
    );
    wd.assert_plan_empty();

    // Disabled on purpose: stays so, plans empty, and destroys cleanly.
    write(&wd, &source.image_id, "enabled = false");
    wd.apply();
    assert_eq!(
        image(&ec2, &id).state().map(|s| s.as_str()),
        Some("disabled")
    );
    assert_eq!(wd.resource_values(ADDRESS)["state"], "disabled");
    wd.assert_plan_empty();
    wd.destroy();
    assert_owns_nothing(&ec2);
}

#[test]
fn skip_destroy_leaves_exactly_the_copy_and_its_snapshots() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let (standin, wd, _source, _key, id) = applied_copy("skip_destroy = true");
    let ec2 = standin.ec2(ACCOUNT_B);
    let snapshots = snapshot_ids(&image(&ec2, &id));
    standin.clear_calls();
    let output = wd.destroy();
    let text = flat(&output.combined());
    assert!(text.contains("kept (skip_destroy)"), "{output}");
    assert!(text.contains(&id), "the warning names the AMI\n{output}");
    for snapshot in &snapshots {
        assert!(
            text.contains(snapshot.as_str()),
            "the warning names {snapshot}\n{output}"
        );
    }
    assert!(wd.state_list().is_empty(), "removed from state");
    assert_eq!(
        standin.mutating_calls(ACCOUNT_B),
        Default::default(),
        "nothing changed in AWS"
    );
    assert_owns_only(&ec2, &id, "");
}

/// A launch template in ACCOUNT_B launching `image_id`; returns its id.
fn launch_template(ec2: &Ec2, name: &str, image_id: &str) -> String {
    let data = RequestLaunchTemplateData::builder()
        .image_id(image_id)
        .instance_type(InstanceType::T3Micro)
        .build();
    let out = ec2
        .block_on(
            ec2.client()
                .create_launch_template()
                .launch_template_name(name)
                .launch_template_data(data)
                .send(),
        )
        .expect("CreateLaunchTemplate");
    out.launch_template()
        .and_then(|t| t.launch_template_id())
        .expect("template id")
        .to_string()
}

/// A new version of template `id` launching `image_id`, made the default when `default`.
fn new_version(ec2: &Ec2, id: &str, image_id: &str, default: bool) -> i64 {
    let data = RequestLaunchTemplateData::builder()
        .image_id(image_id)
        .build();
    let out = ec2
        .block_on(
            ec2.client()
                .create_launch_template_version()
                .launch_template_id(id)
                .source_version("$Latest")
                .launch_template_data(data)
                .send(),
        )
        .expect("CreateLaunchTemplateVersion");
    let version = out
        .launch_template_version()
        .and_then(|v| v.version_number())
        .expect("version number");
    if default {
        ec2.block_on(
            ec2.client()
                .modify_launch_template()
                .launch_template_id(id)
                .default_version(version.to_string())
                .send(),
        )
        .expect("ModifyLaunchTemplate");
    }
    version
}

#[test]
fn destroy_refuses_while_a_launch_template_launches_the_copy() {
    let (standin, wd, source, _key, id) = applied_copy("");
    let ec2 = standin.ec2(ACCOUNT_B);
    let template = launch_template(&ec2, "web", &id);
    let other = standin.seed_ami(ACCOUNT_B, &[("Name", "other")]).image_id;

    // The plan already says so, for a destroy and for a replacement (another source).
    let named = format!("launch template web ({template}) version 1 (default)");
    let destroy_plan = wd
        .run(&["plan", "-destroy", "-no-color", "-input=false"])
        .assert_success();
    let newer = shared_source(&standin, &[ACCOUNT_B]);
    write(&wd, &newer.image_id, "");
    let replace_plan = wd
        .run(&["plan", "-no-color", "-input=false"])
        .assert_success();
    write(&wd, &source.image_id, "");
    for (what, plan) in [("destroy", destroy_plan), ("replacement", replace_plan)] {
        let text = flat(&plan.combined());
        assert!(
            text.contains("A launch template launches the copy to be destroyed")
                && text.contains(&named),
            "the {what} plan warns\n{plan}"
        );
    }

    let output = wd.try_destroy().assert_failure();
    let text = flat(&output.combined());
    assert!(
        text.contains(&named),
        "the template and version are named\n{output}"
    );
    assert!(text.contains("force_destroy"), "{output}");
    assert_eq!(wd.state_list(), vec![ADDRESS.to_string()]);
    assert!(ec2.describe_image(&id).is_some(), "nothing was changed");

    // The latest version moves on, the default still launches the copy: still refused.
    let latest = new_version(&ec2, &template, &other, false);
    let output = wd.try_destroy().assert_failure();
    assert!(
        flat(&output.combined()).contains("version 1 (default)"),
        "{output}"
    );
    assert!(!flat(&output.combined()).contains(&format!("version {latest}")));

    // Both move on: destroy goes ahead, and says how many instances still run from the copy.
    let out = ec2
        .block_on(
            ec2.client()
                .run_instances()
                .image_id(&id)
                .min_count(1)
                .max_count(1)
                .send(),
        )
        .expect("RunInstances");
    assert_eq!(out.instances().len(), 1);
    ec2.block_on(
        ec2.client()
            .modify_launch_template()
            .launch_template_id(&template)
            .default_version(latest.to_string())
            .send(),
    )
    .expect("ModifyLaunchTemplate");
    let output = wd.destroy();
    assert!(
        flat(&output.combined()).contains("1 instance(s) launched from"),
        "{output}"
    );
    let images: Vec<String> = ec2
        .owned_images()
        .iter()
        .filter_map(|i| i.image_id().map(str::to_string))
        .collect();
    assert_eq!(images, vec![other], "only the copy went");
}

#[test]
fn force_destroy_destroys_a_copy_a_launch_template_launches() {
    let (standin, wd, source, _key, id) = applied_copy("force_destroy = true");
    let ec2 = standin.ec2(ACCOUNT_B);
    launch_template(&ec2, "web", &id);
    write(&wd, &source.image_id, "force_destroy = true");
    wd.destroy();
    assert_owns_nothing(&ec2);
}

#[test]
fn a_control_that_fails_at_create_is_set_by_the_next_apply_without_copying_again() {
    if needs_admin(&[Admin::Faults, Admin::CallCounts]) {
        return;
    }
    let (standin, wd, _source, _key) =
        configured_copy("deregistration_protection {\n    enabled = true\n  }");
    let ec2 = standin.ec2(ACCOUNT_B);
    standin.inject_fault(
        &Fault::error(
            "EnableImageDeregistrationProtection",
            "UnauthorizedOperation",
            403,
        )
        .account(ACCOUNT_B)
        .count(1),
    );
    let output = wd.try_apply().assert_failure();
    assert!(
        flat(&output.combined()).contains("EnableImageDeregistrationProtection"),
        "{output}"
    );
    assert!(wd.state_list().is_empty(), "not recorded, so not tainted");
    let kept: Vec<String> = ec2
        .owned_images()
        .iter()
        .filter_map(|i| i.image_id().map(str::to_string))
        .collect();
    assert_eq!(kept.len(), 1, "the copy is kept for the next apply");

    standin.clear_calls();
    let output = wd.apply();
    assert!(
        flat(&output.combined()).contains("Adopted an existing EC2 AMI copy"),
        "{output}"
    );
    assert_eq!(standin.mutating_calls(ACCOUNT_B).get("CopyImage"), None);
    assert_eq!(wd.resource_values(ADDRESS)["id"], kept[0].as_str());
    assert_eq!(protection(&ec2, &kept[0]), "enabled-without-cooldown");
    wd.assert_plan_empty();
}

#[test]
fn destroy_deletes_what_deregistration_left_behind() {
    if needs_admin(&[Admin::SnapshotDeleteResult, Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let source = shared_source_with_disks(&standin, &[ACCOUNT_B], 2);
    create_key(&standin, ACCOUNT_B, "alias/ami");
    let mut wd = workdir(&standin, ACCOUNT_B);
    write(&wd, &source.image_id, "");
    wd.apply();
    let id = wd.resource_values(ADDRESS)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let ec2 = standin.ec2(ACCOUNT_B);
    let snapshots = snapshot_ids(&image(&ec2, &id));
    assert_eq!(snapshots.len(), 2, "{snapshots:?}");
    standin.set_snapshot_delete_result(&snapshots[0], "internal-error");
    standin.clear_calls();
    wd.set_env("TF_LOG_PROVIDER", "INFO");
    let output = wd.destroy();
    assert_owns_nothing(&ec2);
    assert_eq!(
        standin.mutating_calls(ACCOUNT_B).get("DeleteSnapshot"),
        Some(&1),
        "only the snapshot EC2 reported not deleted is deleted again"
    );
    assert!(
        output
            .stderr
            .contains("DeregisterImage did not delete a snapshot")
            && output.stderr.contains("internal-error"),
        "the return code is logged\n{output}"
    );
    assert!(
        !output.combined().contains("Recycle Bin"),
        "no rule, no warning\n{output}"
    );
}

#[test]
fn destroy_reports_the_recycle_bin_rules_that_keep_the_copy() {
    let (standin, wd, _source, _key, id) = applied_copy("");
    let ec2 = standin.ec2(ACCOUNT_B);
    let snapshots = snapshot_ids(&image(&ec2, &id));
    let images_rule = create_retention_rule(&standin, ACCOUNT_B, "EC2_IMAGE", 7, &[]);
    let prod_rule = create_retention_rule(
        &standin,
        ACCOUNT_B,
        "EBS_SNAPSHOT",
        30,
        &[("Stage", "PROD")],
    );
    let dev_rule =
        create_retention_rule(&standin, ACCOUNT_B, "EBS_SNAPSHOT", 90, &[("Stage", "DEV")]);
    let output = wd.destroy();
    assert_owns_nothing(&ec2);
    let text = flat(&output.combined());
    assert!(
        text.contains("Recycle Bin keeps what was destroyed"),
        "{output}"
    );
    assert!(
        text.contains(&format!("the AMI {id} for 7 days (rule {images_rule})")),
        "the Region-level rule keeps the AMI\n{output}"
    );
    assert!(
        text.contains(&format!(
            "the snapshots {} for 30 days (rule {prod_rule})",
            snapshots.join(", ")
        )),
        "the Stage = PROD rule keeps the snapshots\n{output}"
    );
    assert!(
        !text.contains(&dev_rule),
        "a rule for other tags is not named\n{output}"
    );
}

/// Recycle Bin out of reach, as in a private network with VPC endpoints for EC2, STS and KMS only
/// (issue 31): the destroy goes through and says at WARN what it could not check, once. The
/// endpoint accepts connections and never answers; without a budget on the check the destroy
/// would wait on it until Terraform's command timeout (a refused connection cost 202 s of
/// retries per copy).
#[test]
fn destroy_with_recycle_bin_out_of_reach_says_what_it_did_not_check() {
    let (standin, mut wd, _source, _key, _id) = applied_copy("");
    let silent = SilentEndpoint::start();
    wd.set_env("AWS_ENDPOINT_URL_RBIN", &silent.url());
    wd.set_env("TF_LOG_PROVIDER", "WARN");
    let output = wd.destroy();
    assert_owns_nothing(&standin.ec2(ACCOUNT_B));
    assert!(silent.connections() >= 1, "Recycle Bin was tried\n{output}");
    let log = flat(&output.stderr);
    let warning =
        "could not check the Recycle Bin retention rules that keep what a destroy removes";
    assert_eq!(
        log.matches(warning).count(),
        1,
        "one WARN line for the AMI and its snapshots\n{output}"
    );
    assert!(
        log.contains("no answer within 8 s"),
        "it says why\n{output}"
    );
    assert!(
        !output.stdout.contains("Error"),
        "the destroy itself is not affected\n{output}"
    );
}

/// `examples/lifecycle-controls` as a user runs it: protected, deprecated in 90 days, a one-hour
/// time-based copy; destroy refused while a launch template launches it, then done once the
/// template is gone. The resource page shows the example as it is, and the copy's documented
/// IAM policy allows every call the provider made.
#[test]
fn the_lifecycle_example_applies_guards_its_copy_and_destroys() {
    if needs_admin(&[Admin::CallCounts, Admin::CopyControl]) {
        return;
    }
    let root = workspace_root();
    let standin = StandIn::start();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    create_key(&standin, ACCOUNT_B, "alias/ami");
    let wd = workdir(&standin, ACCOUNT_B);
    let example = root.join("examples/lifecycle-controls");
    let copied = wd.copy_tf_files(&example);
    assert_eq!(
        copied.len(),
        4,
        "main.tf, variables.tf, outputs.tf, versions.tf: {copied:?}"
    );
    let deprecation = whole_minute(90 * DAY);
    wd.write(
        "terraform.tfvars.json",
        &json!({ "source_ami_id": source.image_id, "deprecation_time": deprecation }).to_string(),
    );
    standin.clear_calls();
    wd.apply();
    let id = wd.output_json()["copy_id"]["value"]
        .as_str()
        .expect("copy_id output")
        .to_string();
    let ec2 = standin.ec2(ACCOUNT_B);
    assert_eq!(protection(&ec2, &id), "enabled-without-cooldown");
    let deprecated = image(&ec2, &id)
        .deprecation_time()
        .unwrap_or_default()
        .to_string();
    assert_eq!(&deprecated[..16], &deprecation[..16], "{deprecated}");
    let sent: Vec<Value> = standin
        .copies()
        .iter()
        .map(|c| c["completion_duration_minutes"].clone())
        .collect();
    assert_eq!(sent, vec![Value::from(60)]);
    wd.assert_plan_empty();

    // Only the provider's calls count, not the test's own launch template calls.
    let mut calls = standin.calls();
    let template = launch_template(&ec2, "web", &id);
    standin.clear_calls();
    let refused = wd.try_destroy().assert_failure();
    merge_calls(&mut calls, standin.calls());
    assert!(
        flat(&refused.combined()).contains(&format!("({template}) version 1")),
        "{refused}"
    );
    assert_owns_only(&ec2, &id, "");
    ec2.block_on(
        ec2.client()
            .delete_launch_template()
            .launch_template_id(&template)
            .send(),
    )
    .expect("DeleteLaunchTemplate");
    standin.clear_calls();
    wd.destroy();
    assert_owns_nothing(&ec2);
    merge_calls(&mut calls, standin.calls());

    for action in [
        "EnableImageDeregistrationProtection",
        "DisableImageDeregistrationProtection",
        "EnableImageDeprecation",
        "DescribeLaunchTemplateVersions",
        "DescribeInstances",
        "ListRules",
        "DeregisterImage",
    ] {
        assert!(
            calls[ACCOUNT_B].contains_key(action),
            "the example must make {action}: {calls:#?}"
        );
    }
    let page_path = root.join("docs/resources/encrypted_ami_copy.md");
    let policy = documented_actions(&page_path);
    let problems = missing_actions(
        "docs/resources/encrypted_ami_copy.md",
        &policy,
        ACCOUNT_B,
        &calls,
    );
    assert!(
        problems.is_empty(),
        "undocumented actions:\n{}",
        problems.join("\n")
    );
    let page = std::fs::read_to_string(&page_path).expect("the resource page");
    let main = std::fs::read_to_string(example.join("main.tf")).expect("main.tf");
    assert!(
        page.contains(&format!("```terraform\n{main}```")),
        "the resource page shows examples/lifecycle-controls/main.tf as it is"
    );
}
