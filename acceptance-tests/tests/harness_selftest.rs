//! Tests of the harness itself: the stand-in, the EC2 helpers and the Terraform runner. None of
//! them needs the provider, so a harness defect shows up here rather than as a confusing failure
//! in a provider test.

use std::time::Duration;

use acceptance_tests::{
    image_tag, needs_admin, Admin, Fault, StandIn, Terraform, Workdir, ACCOUNT_A, ACCOUNT_B,
    PLAN_HAS_CHANGES, PLAN_NO_CHANGES,
};
use aws_sdk_ec2::error::ProvideErrorMetadata;

/// A provisioner that outlives any sensible test, for timeout and interrupt tests.
const SLOW_RESOURCE: &str = r#"
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "sleep 120"
  }
}
"#;

#[test]
fn standin_seed_ami_is_visible_with_snapshots() {
    let standin = StandIn::start();
    let ami = standin.seed_ami(ACCOUNT_A, &[("Name", "source"), ("team", "images")]);

    assert!(ami.image_id.starts_with("ami-"), "{ami:?}");
    assert!(!ami.snapshot_ids.is_empty(), "no snapshots: {ami:?}");
    let image = standin
        .ec2(ACCOUNT_A)
        .describe_image(&ami.image_id)
        .expect("the seeded AMI is visible to its owner");
    assert_eq!(image.owner_id(), Some(ACCOUNT_A));
    assert_eq!(image.state().map(|s| s.as_str()), Some("available"));
    assert_eq!(image_tag(&image, "team"), Some("images"));
    for snapshot_id in &ami.snapshot_ids {
        assert!(snapshot_id.starts_with("snap-"), "{snapshot_id}");
    }
    let owned_by_b = standin.ec2(ACCOUNT_B).owned_images();
    assert!(
        owned_by_b
            .iter()
            .all(|i| i.image_id() != Some(&ami.image_id)),
        "account B owns A's AMI: {owned_by_b:?}"
    );
}

#[test]
fn standin_reset_forgets_resources() {
    if needs_admin(&[Admin::Reset, Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let ami = standin.seed_ami(ACCOUNT_A, &[]);
    let ec2 = standin.ec2(ACCOUNT_A);
    assert!(ec2.describe_image(&ami.image_id).is_some());

    standin.reset();

    // Calls first: the describe below is counted afresh.
    assert!(standin.calls().is_empty(), "{:?}", standin.calls());
    assert!(ec2.describe_image(&ami.image_id).is_none());
}

#[test]
fn standin_counts_calls_per_account() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let (a, b) = (standin.ec2(ACCOUNT_A), standin.ec2(ACCOUNT_B));
    a.owned_images();
    a.owned_images();
    b.block_on(
        b.client()
            .create_volume()
            .availability_zone("eu-west-1a")
            .size(1)
            .send(),
    )
    .expect("CreateVolume");

    let calls = standin.calls();
    assert_eq!(
        calls[ACCOUNT_A].get("DescribeImages"),
        Some(&2),
        "{calls:?}"
    );
    assert_eq!(calls[ACCOUNT_B].get("CreateVolume"), Some(&1), "{calls:?}");
    assert!(standin.mutating_calls(ACCOUNT_A).is_empty(), "{calls:?}");
    assert_eq!(
        standin
            .mutating_calls(ACCOUNT_B)
            .into_iter()
            .collect::<Vec<_>>(),
        vec![("CreateVolume".to_string(), 1)]
    );

    standin.clear_calls();
    assert!(standin.calls().values().all(|c| c.is_empty()));
}

#[test]
fn standin_injected_fault_reaches_the_sdk_once() {
    if needs_admin(&[Admin::Faults]) {
        return;
    }
    let standin = StandIn::start();
    let fault = Fault::error("DescribeImages", "UnauthorizedOperation", 403)
        .account(ACCOUNT_A)
        .count(1);
    standin.inject_fault(&fault);
    let ec2 = standin.ec2(ACCOUNT_A);
    // The error code, or None when the call succeeds.
    let describe = || {
        let result = ec2.block_on(ec2.client().describe_images().owners("self").send());
        result
            .err()
            .map(|err| err.code().unwrap_or("no code").to_string())
    };

    assert_eq!(describe().as_deref(), Some("UnauthorizedOperation"));
    assert_eq!(describe(), None, "a count-1 fault fires once");

    standin.inject_fault(&fault);
    standin.clear_faults();
    assert_eq!(describe(), None, "cleared faults do not fire");
}

#[test]
fn terraform_1_15_reports_its_version() {
    assert_eq!(Terraform::v1_15().version(), "1.15.5");
}

#[test]
fn terraform_1_0_reports_its_version() {
    assert_eq!(Terraform::v1_0().version(), "1.0.3");
}

#[test]
fn builtin_config_applies_and_plans_with_terraform_1_15() {
    let wd = Workdir::without_provider(&Terraform::v1_15());
    wd.write_main(
        r#"
variable "greeting" {}
resource "terraform_data" "x" { input = var.greeting }
output "x" { value = terraform_data.x.output }
"#,
    );
    // TF_VAR_ proves the per-workdir environment reaches Terraform.
    let mut wd = wd.with_env("TF_VAR_greeting", "hello");
    assert_eq!(wd.plan_detailed_exitcode(), PLAN_HAS_CHANGES);

    wd.apply();

    assert_eq!(wd.output_json()["x"]["value"], "hello");
    assert_eq!(wd.state_list(), vec!["terraform_data.x".to_string()]);
    assert_eq!(wd.resource_values("terraform_data.x")["input"], "hello");
    wd.assert_plan_empty();
    wd.set_env("TF_VAR_greeting", "bye");
    assert_eq!(wd.plan_detailed_exitcode(), PLAN_HAS_CHANGES);
    wd.destroy();
    assert!(wd.state_list().is_empty());
}

#[test]
fn builtin_config_applies_with_terraform_1_0() {
    let wd = Workdir::without_provider(&Terraform::v1_0());
    wd.write_main(r#"output "x" { value = 1 }"#);

    wd.apply();

    assert_eq!(wd.output_json()["x"]["value"], 1);
    assert_eq!(wd.plan_detailed_exitcode(), PLAN_NO_CHANGES);
}

#[test]
fn invalid_config_fails_with_diagnostics() {
    let wd = Workdir::without_provider(&Terraform::default());
    wd.write_main(r#"output "x" { value = no_such_function(1) }"#);

    let output = wd.try_apply().assert_failure();

    assert!(output.combined().contains("no_such_function"), "{output}");
}

#[test]
fn command_past_its_timeout_is_killed() {
    let wd = Workdir::without_provider(&Terraform::v1_15()).with_timeout(Duration::from_secs(5));
    wd.write_main(SLOW_RESOURCE);

    let output = wd.try_apply();

    assert!(output.timed_out, "{output}");
    assert!(!output.success());
    // Killed by the harness (the group got SIGKILL), not left to finish its 120 s sleep.
    assert_eq!(output.signal, Some(9), "{output}");
    eprintln!(
        "command past its timeout: killed after {:.1}s",
        output.elapsed.as_secs_f64()
    );
}

#[test]
fn sigint_to_the_process_group_interrupts_apply() {
    let wd = Workdir::without_provider(&Terraform::v1_15());
    wd.write_main(SLOW_RESOURCE);
    let mut apply = wd.spawn_apply();
    assert!(
        apply.wait_for_output("Provisioning with 'local-exec'", Duration::from_secs(60)),
        "apply never reached the provisioner: {}{}",
        apply.stdout_so_far(),
        apply.stderr_so_far()
    );

    apply.send_sigint_to_group();
    let output = apply.wait_with_timeout(Duration::from_secs(60));

    assert!(!output.timed_out, "Terraform ignored SIGINT: {output}");
    assert!(!output.success(), "{output}");
    assert!(output.combined().contains("Interrupt received"), "{output}");
}

/// In strict mode AWS has no admin routes, and neither has the stand-in: a test that reaches one
/// without declaring it with `needs_admin` fails with a message saying what to do, rather than
/// quietly leaning on a convenience a real account lacks.
#[test]
fn an_undeclared_admin_route_fails_loudly_in_strict() {
    if !acceptance_tests::is_strict() {
        println!("only the strict stand-in refuses admin routes (IMAGECOPIER_ACC_BACKEND=strict)");
        return;
    }
    let standin = StandIn::start();
    let reached = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| standin.calls()));
    let message = reached
        .err()
        .and_then(|panic| panic.downcast_ref::<String>().cloned())
        .expect("GET /_standin/calls panics in strict mode");
    assert!(
        message.contains("GET /_standin/calls") && message.contains("needs_admin"),
        "{message}"
    );
}
