//! The provider itself, through real Terraform: loading, schema, configuration (assume role,
//! account allow/deny lists, unknown values), validation, and stopping (Ctrl-C to the process
//! group, StopProvider, Terraform dying).

use std::path::Path;
use std::time::{Duration, Instant};

use acceptance_tests::{
    needs_admin, Admin, StandIn, Terraform, Workdir, ACCOUNT_A, ACCOUNT_B, ACCOUNT_C,
};

/// Serves the test-only `imagecopier_test_wait` resource (see provider/src/resources/mod.rs).
const TEST_RESOURCES: (&str, &str) = ("IMAGECOPIER_TEST_RESOURCES", "1");

/// A workdir acting as account A at `standin`, with the test-only resources served.
fn workdir(terraform: &Terraform, standin: &StandIn) -> Workdir {
    Workdir::new(terraform)
        .with_standin(standin, ACCOUNT_A)
        .with_env(TEST_RESOURCES.0, TEST_RESOURCES.1)
}

fn schema_check(terraform: Terraform) {
    let wd = Workdir::new(&terraform);
    // The harness declares the provider in versions.tf; nothing else is needed.
    wd.write_main("");
    let schema = wd.providers_schema();
    let provider = &schema["provider_schemas"]["registry.terraform.io/imagecopier/imagecopier"];
    let block = &provider["provider"]["block"];
    for name in [
        "region",
        "profile",
        "access_key",
        "secret_key",
        "token",
        "allowed_account_ids",
    ] {
        let attribute = &block["attributes"][name];
        assert!(
            attribute.is_object(),
            "{}: provider attribute {name} missing: {block}",
            terraform.label()
        );
        let description = attribute["description"].as_str().unwrap_or_default();
        assert!(!description.is_empty(), "{name} has no description");
    }
    for name in ["access_key", "secret_key", "token"] {
        assert_eq!(
            block["attributes"][name]["sensitive"], true,
            "{name} must be sensitive"
        );
    }
    assert_eq!(block["block_types"]["assume_role"]["max_items"], 1);
    assert_eq!(
        block["block_types"]["assume_role"]["block"]["attributes"]["role_arn"]["required"],
        true
    );
    assert!(block["block_types"]["endpoints"].is_object());
    assert!(block["block_types"]["default_tags"].is_object());
    // The data source, for every Terraform.
    let image = &provider["data_source_schemas"]["imagecopier_image"]["block"]["attributes"];
    assert_eq!(
        image["owners"]["required"],
        true,
        "{}: {provider}",
        terraform.label()
    );
    assert_eq!(image["id"]["computed"], true);
}

/// What Terraform 1.14+ learns besides the schemas: each resource's identity (1.12+) and list
/// block schema (1.14+). Terraform 1.0 never asks (its `schema_check` passes without them).
fn identity_and_list_check(terraform: Terraform) {
    let wd = Workdir::new(&terraform);
    wd.write_main("");
    let schema = wd.providers_schema();
    let provider = &schema["provider_schemas"]["registry.terraform.io/imagecopier/imagecopier"];
    for resource in ["imagecopier_ami_share", "imagecopier_encrypted_ami_copy"] {
        let identity = &provider["resource_identity_schemas"][resource];
        assert_eq!(identity["version"], 0, "{resource}: {provider}");
        let attributes = &identity["attributes"];
        assert_eq!(attributes["id"]["required_for_import"], true, "{identity}");
        for optional in ["account_id", "region"] {
            assert_eq!(
                attributes[optional]["optional_for_import"], true,
                "{identity}"
            );
        }
        let list = &provider["list_resource_schemas"][resource]["block"]["attributes"];
        assert!(
            list["region"].is_object(),
            "{resource} lists by region: {provider}"
        );
    }
}

#[test]
fn identity_and_list_schemas_terraform_1_15() {
    identity_and_list_check(Terraform::v1_15());
}

#[test]
fn schema_terraform_1_15() {
    schema_check(Terraform::v1_15());
}

#[test]
fn schema_terraform_1_0() {
    schema_check(Terraform::v1_0());
}

#[test]
fn schema_terraform_1_11() {
    schema_check(Terraform::v1_11());
}

/// Two provider configurations in one run: the default acts in account A with its own
/// credentials; `target` assumes a role in account B. Both are configured (a resource uses
/// each), and each checked its identity with STS in its own account.
fn assume_role_check(terraform: Terraform) {
    let standin = StandIn::start();
    let wd = workdir(&terraform, &standin);
    let marker = wd.path().join("marker");
    wd.write_main(&format!(
        r#"
provider "imagecopier" {{
  allowed_account_ids = ["{a}"]
}}

provider "imagecopier" {{
  alias = "target"
  assume_role {{
    role_arn     = "arn:aws:iam::{b}:role/ami-consumer"
    session_name = "acceptance"
    duration     = "30m"
  }}
  allowed_account_ids = ["{b}"]
}}

resource "imagecopier_test_wait" "bake" {{
  seconds     = 0
  marker_file = "{marker}-bake"
}}

resource "imagecopier_test_wait" "target" {{
  provider    = imagecopier.target
  seconds     = 0
  marker_file = "{marker}-target"
}}
"#,
        a = ACCOUNT_A,
        b = ACCOUNT_B,
        marker = marker.display(),
    ));
    wd.apply();
    let calls = standin.calls();
    let count = |account: &str, action: &str| {
        calls
            .get(account)
            .and_then(|a| a.get(action))
            .copied()
            .unwrap_or(0)
    };
    assert!(
        count(ACCOUNT_A, "AssumeRole") >= 1,
        "role assumed with A's credentials: {calls:?}"
    );
    assert!(
        count(ACCOUNT_B, "GetCallerIdentity") >= 1,
        "identity checked in B: {calls:?}"
    );
    assert!(
        count(ACCOUNT_A, "GetCallerIdentity") >= 1,
        "identity checked in A: {calls:?}"
    );
    wd.assert_plan_empty();
}

#[test]
fn assume_role_terraform_1_15() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    assume_role_check(Terraform::v1_15());
}

#[test]
fn assume_role_terraform_1_0() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    assume_role_check(Terraform::v1_0());
}

#[test]
fn assume_role_terraform_1_11() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    assume_role_check(Terraform::v1_11());
}

fn single_resource(provider_body: &str, marker: &Path) -> String {
    format!(
        r#"
provider "imagecopier" {{
{provider_body}
}}

resource "imagecopier_test_wait" "this" {{
  seconds     = 0
  marker_file = "{marker}"
}}
"#,
        marker = marker.display(),
    )
}

#[test]
fn allowed_account_ids_refuses_another_account() {
    let standin = StandIn::start();
    let wd = workdir(&Terraform::default(), &standin);
    let marker = wd.path().join("marker");
    wd.write_main(&single_resource(
        &format!(r#"  allowed_account_ids = ["{ACCOUNT_C}"]"#),
        &marker,
    ));
    let out = wd.try_plan().assert_failure();
    let text = out.combined();
    assert!(
        text.contains(ACCOUNT_A) && text.contains("not allowed"),
        "{text}"
    );
    assert!(
        !marker.exists(),
        "nothing may run against a refused account"
    );

    wd.write_main(&single_resource(
        &format!(r#"  forbidden_account_ids = ["{ACCOUNT_A}"]"#),
        &marker,
    ));
    let text = wd.try_plan().assert_failure().combined();
    assert!(
        text.contains(ACCOUNT_A) && text.contains("not allowed"),
        "{text}"
    );
}

/// Invalid provider arguments are refused at validation, naming the attribute, before any call
/// reaches AWS.
#[test]
fn invalid_provider_configuration_is_refused_before_any_call() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let wd = workdir(&Terraform::default(), &standin);
    let marker = wd.path().join("marker");
    let cases = [
        (r#"  region = "eu-west""#, "region"),
        (
            r#"  allowed_account_ids = ["12345"]"#,
            "allowed_account_ids",
        ),
        (
            r#"  assume_role { role_arn = "arn:aws:iam::222222222222:user/bob" }"#,
            "role_arn",
        ),
        (
            r#"  assume_role {
    role_arn = "arn:aws:iam::222222222222:role/x"
    duration = "5m"
  }"#,
            "duration",
        ),
        (r#"  endpoints { ec2 = "localhost:1234" }"#, "ec2"),
        (r#"  access_key = "111111111111""#, "secret_key"),
        (
            r#"  allowed_account_ids   = ["111111111111"]
  forbidden_account_ids = ["222222222222"]"#,
            "forbidden_account_ids",
        ),
    ];
    for (body, attribute) in cases {
        wd.write_main(&single_resource(body, &marker));
        let text = wd.try_plan().assert_failure().combined();
        assert!(
            text.contains(attribute),
            "diagnostic must name {attribute}:\n{text}"
        );
    }
    let calls = standin.calls();
    assert!(calls.is_empty(), "validation must not call AWS: {calls:?}");
}

/// A provider whose configuration depends on a value known only after apply still plans.
#[test]
fn unknown_provider_configuration_plans_cleanly() {
    let standin = StandIn::start();
    let wd = workdir(&Terraform::v1_15(), &standin);
    let marker = wd.path().join("marker");
    wd.write_main(&format!(
        r#"
resource "terraform_data" "region" {{
  input = "eu-west-1"
}}

provider "imagecopier" {{
  region = terraform_data.region.output
}}

resource "imagecopier_test_wait" "this" {{
  seconds     = 0
  marker_file = "{marker}"
}}
"#,
        marker = marker.display(),
    ));
    let out = wd.plan();
    assert!(
        out.stdout
            .contains("imagecopier_test_wait.this will be created"),
        "{}",
        out.combined()
    );
    wd.apply();
    assert!(marker.exists(), "apply ran with the configuration known");
}

fn wait_for_marker(marker: &Path, prefix: &str, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(marker) {
            if text.starts_with(prefix) {
                return Some(text);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

fn long_wait(wd: &Workdir, marker: &Path) {
    wd.write_main(&single_resource("", marker).replace("seconds     = 0", "seconds     = 600"));
}

/// A terminal Ctrl-C reaches Terraform and the provider alike. The provider must survive it,
/// answer Terraform's StopProvider, and return from the operation promptly with a diagnostic.
fn interrupt_check(terraform: Terraform) {
    let standin = StandIn::start();
    let wd = workdir(&terraform, &standin);
    let marker = wd.path().join("marker");
    long_wait(&wd, &marker);
    let mut apply = wd.spawn_apply();
    let started = wait_for_marker(&marker, "started", Duration::from_secs(120));
    assert!(
        started.is_some(),
        "the wait never started:\n{}",
        apply.stderr_so_far()
    );
    let interrupted = Instant::now();
    apply.send_sigint_to_group();
    let out = apply.wait_with_timeout(Duration::from_secs(60));
    let took = interrupted.elapsed();
    let text = out.combined();
    let stopped = wait_for_marker(&marker, "stopped", Duration::from_secs(5));
    assert!(
        stopped.is_some(),
        "the provider did not stop its operation:\n{text}"
    );
    assert!(
        text.contains("Operation stopped"),
        "the provider's own diagnostic reached Terraform:\n{text}"
    );
    assert!(
        !text.contains("plugin crashed") && !text.contains("connection refused"),
        "{text}"
    );
    // Bounded by the 60 s wait above, far below the resource's own wait: it stopped early.
    assert!(
        !out.timed_out,
        "Terraform did not exit after Ctrl-C:\n{text}"
    );
    eprintln!(
        "{}: Ctrl-C to exit: {:.2}s",
        terraform.label(),
        took.as_secs_f64()
    );
}

#[test]
fn interrupt_process_group_terraform_1_15() {
    interrupt_check(Terraform::v1_15());
}

#[test]
fn interrupt_process_group_terraform_1_0() {
    interrupt_check(Terraform::v1_0());
}

/// When Terraform dies outright, the provider notices it has been orphaned and exits instead of
/// lingering.
#[test]
fn provider_exits_when_terraform_is_killed() {
    let standin = StandIn::start();
    let wd = workdir(&Terraform::v1_0(), &standin);
    let marker = wd.path().join("marker");
    long_wait(&wd, &marker);
    let mut apply = wd.spawn_apply();
    let started = wait_for_marker(&marker, "started", Duration::from_secs(120)).unwrap_or_default();
    let pid: u32 = started
        .trim()
        .strip_prefix("started pid=")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("marker has no pid: {started:?}"));
    let proc_dir = format!("/proc/{pid}");
    assert!(Path::new(&proc_dir).exists(), "provider {pid} runs");
    // Only Terraform dies, as with an OOM kill or a crash; the provider is left orphaned.
    // Terraform 1.0 re-executes itself (panicwrap), so the provider's parent can be an inner
    // Terraform process: kill that one and the one the harness started.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let parent = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().nth(1))
        .unwrap_or_default()
        .to_owned();
    let victims: std::collections::BTreeSet<String> = [parent, apply.pid().to_string()].into();
    for victim in victims {
        let killed = std::process::Command::new("kill")
            .args(["-KILL", &victim])
            .status()
            .is_ok_and(|s| s.success());
        assert!(killed, "could not kill terraform process {victim}");
    }
    let _ = apply.wait_with_timeout(Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(20);
    while Path::new(&proc_dir).exists() && Instant::now() < deadline {
        // A zombie is gone for our purpose: it no longer runs anything.
        let state = std::fs::read_to_string(format!("{proc_dir}/stat")).unwrap_or_default();
        if state.split_whitespace().nth(2) == Some("Z") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let state = std::fs::read_to_string(format!("{proc_dir}/stat")).unwrap_or_default();
    assert!(
        state.is_empty() || state.split_whitespace().nth(2) == Some("Z"),
        "provider {pid} still running after Terraform was killed: {state}"
    );
    // The operation in flight does not get to run its own stop path here: when Terraform's
    // connection drops, the request future is dropped with it. Resources therefore must not rely
    // on finishing after a kill (the encrypted copy adopts its in-progress copy on the next apply).
}
