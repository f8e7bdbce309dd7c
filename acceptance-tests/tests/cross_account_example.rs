//! The main job's example, `examples/cross-account`: the walkthrough newcomers run (`scripts/demo`)
//! works end to end, and the least-privilege IAM policies in the resource docs cover every AWS
//! action the provider really calls while that example is applied, drifts, is repaired and is
//! destroyed.
//!
//! Accounts: bake = ACCOUNT_A (its own credentials), prod = ACCOUNT_B and staging = ACCOUNT_C
//! (reached with assume_role), as in the example's variable defaults.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use acceptance_tests::iam::{
    actions_in_markdown, documented_actions, merge_calls, missing_actions, Calls,
};
use acceptance_tests::{
    flat, needs_admin, venv_python, workspace_root, Admin, StandIn, Terraform, Workdir, ACCOUNT_A,
    ACCOUNT_B, ACCOUNT_C, PLAN_HAS_CHANGES, REGION,
};

/// The whole demo, including a no-op `cargo build` that may have to wait for the cargo lock
/// while other tests build.
const DEMO_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const POLL_INTERVAL: Duration = Duration::from_millis(200);

const EXAMPLE_DIR: &str = "examples/cross-account";
const SEED_TFVARS: &str = "seed.tfvars";

// ---------------------------------------------------------------------------------------------
// (a) scripts/demo end to end
// ---------------------------------------------------------------------------------------------

#[test]
fn demo_runs_end_to_end_and_shows_the_drift() {
    let root = workspace_root();
    let logs = tempfile::Builder::new()
        .prefix("demo-test-")
        .tempdir()
        .unwrap_or_else(|err| panic!("creating a temporary directory: {err}"));
    let mut command = Command::new(root.join("scripts/demo"));
    command.current_dir(&root);
    // The demo reads the same variable as the other acceptance tests (TF_ACC_TERRAFORM_PATH),
    // from the environment it inherits, so it drives the same Terraform.
    let (status, stdout, stderr) = run_bounded(command, logs.path(), DEMO_TIMEOUT);
    let transcript = format!(
        "scripts/demo ended with {status:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    );
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "the demo failed\n{transcript}"
    );
    let key_b = format!("Encrypted=true, key arn:aws:kms:{REGION}:{ACCOUNT_B}:key/");
    let key_c = format!("Encrypted=true, key arn:aws:kms:{REGION}:{ACCOUNT_C}:key/");
    let expected = [
        // Every step ran, in order, with its heading.
        "terraform plan: what a pull request reviewer would see",
        "-out=demo.tfplan",
        "terraform apply demo.tfplan: share, then copy into prod and staging",
        "Apply complete! Resources: 3 added, 0 changed, 0 destroyed.",
        // Encryption as AWS reports it, each copy with its own account's key.
        "What AWS says about each copy, in its own account",
        key_b.as_str(),
        key_c.as_str(),
        "Drift: two changes made outside Terraform",
        "revoked createVolumePermission",
        "edited-by-hand",
        // The drift is caught: the plan names what drifted, and exits 2.
        "imagecopier_ami_share.app will be updated in-place",
        "imagecopier_encrypted_ami_copy.staging will be updated in-place",
        "Drift detected: plan -detailed-exitcode exited 2.",
        // Repaired from the saved plan, then an empty plan.
        "terraform apply repair.tfplan: repair the drift",
        "Apply complete! Resources: 0 added, 2 changed, 0 destroyed.",
        "No drift: plan -detailed-exitcode exited 0.",
        "Destroy complete! Resources: 3 destroyed.",
        "nothing left: no copies, no snapshots, no permissions, no key grants",
        "Demo complete",
    ];
    let mut from = 0;
    for needle in expected {
        match stdout[from..].find(needle) {
            Some(at) => from += at + needle.len(),
            None => panic!("the demo's output lacks {needle:?} (in order)\n{transcript}"),
        }
    }
    // The only warning is Terraform's own about dev_overrides, which the demo explains, but for
    // the drift step's: the provider warns of nothing in a correct configuration, and names the
    // object whose tag was edited when there is drift.
    let mut drift_warnings = 0;
    for block in stdout.split("\nWarnings:\n\n").skip(1) {
        let mut listed: Vec<&str> = block.lines().take_while(|l| l.starts_with("- ")).collect();
        if listed.contains(&"- Tags differ on the copy's AMI or snapshots") {
            drift_warnings += 1;
            listed.retain(|l| *l != "- Tags differ on the copy's AMI or snapshots");
        }
        assert!(
            listed.is_empty() || listed == ["- Provider development overrides are in effect"],
            "an unexpected warning: {listed:?}\n{transcript}"
        );
    }
    // Shown by the drift step's plan, and again by the apply of that saved plan.
    assert!(
        (1..=2).contains(&drift_warnings),
        "the drift step names the object whose tag was edited ({drift_warnings} times)\n{transcript}"
    );
    assert!(
        stdout.contains("The one warning is Terraform's own"),
        "{transcript}"
    );
    // The drift plan shows both drifts: the prod account back in the share, and the Team tag
    // written back, with the value found on the copy shown next to the one restored.
    let drift_plan = section(&stdout, "drift detected", "Drift detected:");
    let text = flat(drift_plan);
    assert!(
        drift_plan.contains(&format!("+ \"{ACCOUNT_B}\""))
            && text.contains(r#"~ "Team" = "edited-by-hand" -> "platform""#),
        "the drift plan does not show the revoked account and the edited tag\n{transcript}"
    );
    assert!(
        !stdout.contains("must be replaced") && !stdout.contains("forces replacement"),
        "drift repair must not replace anything\n{transcript}"
    );
}

/// The text between the heading containing `heading` and the next occurrence of `end`.
fn section<'a>(text: &'a str, heading: &str, end: &str) -> &'a str {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in {text}"));
    let rest = &text[start..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// Runs `command` as the leader of a new process group, output to files in `dir` (nobody reads a
/// pipe while it runs). After `timeout` the whole group gets SIGTERM (the demo's trap then stops
/// its stand-in), and SIGKILL ten seconds later. Returns the status (`None` if killed) and output.
fn run_bounded(
    mut command: Command,
    dir: &Path,
    timeout: Duration,
) -> (Option<ExitStatus>, String, String) {
    use std::os::unix::process::CommandExt;
    let create = |name: &str| {
        File::create(dir.join(name)).unwrap_or_else(|err| panic!("creating {name}: {err}"))
    };
    command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(create("stdout"))
        .stderr(create("stderr"));
    let mut child = command
        .spawn()
        .unwrap_or_else(|err| panic!("starting {command:?}: {err}"));
    let deadline = Instant::now() + timeout;
    let mut status = None;
    let mut terminated_at = None;
    loop {
        if let Some(done) = child.try_wait().unwrap_or(None) {
            if terminated_at.is_none() {
                status = Some(done);
            }
            break;
        }
        let now = Instant::now();
        match terminated_at {
            None if now >= deadline => {
                signal_group(child.id(), "TERM");
                terminated_at = Some(now);
            }
            Some(at) if now >= at + Duration::from_secs(10) => {
                signal_group(child.id(), "KILL");
                let _ = child.wait();
                break;
            }
            _ => {}
        }
        thread::sleep(POLL_INTERVAL);
    }
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let mut stderr = read("stderr");
    if terminated_at.is_some() {
        stderr.push_str(&format!("\n(killed after the {timeout:?} limit)"));
    }
    (status, read("stdout"), stderr)
}

fn signal_group(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([format!("-{signal}"), "--".to_string(), format!("-{pid}")])
        .status();
}

// ---------------------------------------------------------------------------------------------
// (b) the documented IAM policies cover what the provider calls
// ---------------------------------------------------------------------------------------------

#[test]
fn documented_iam_policies_cover_every_call_of_the_example() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let root = workspace_root();
    let standin = StandIn::start();
    let wd = Workdir::new(&Terraform::default()).with_standin(&standin, ACCOUNT_A);
    copy_example(&root.join(EXAMPLE_DIR), &wd);
    let tfvars = wd.path().join(SEED_TFVARS);
    seeder(&standin, &["seed", "--tfvars", &tfvars.to_string_lossy()]);
    // Only the provider's calls count, not the seeding's.
    standin.clear_calls();

    let var_file = format!("-var-file={SEED_TFVARS}");
    let run = |verb: &[&str]| {
        let mut args = verb.to_vec();
        args.extend(["-input=false", "-no-color", var_file.as_str()]);
        wd.run(&args)
    };
    run(&["apply", "-auto-approve"]).assert_success();
    let outputs = wd.output_json();
    for stage in ["prod", "staging"] {
        let copy = outputs["copy_ids"]["value"][stage].as_str().unwrap_or("");
        assert!(copy.starts_with("ami-"), "{stage} copy id: {outputs:#}");
        let tags = &outputs["tags_all"]["value"][stage];
        assert_eq!(tags["Team"], "platform", "{stage} tags: {outputs:#}");
        assert_eq!(tags["Stage"], stage, "{stage} tags: {outputs:#}");
        let snapshots = outputs["copy_snapshot_ids"]["value"][stage].as_array();
        assert_eq!(snapshots.map(Vec::len), Some(2), "{outputs:#}");
    }
    run(&["plan", "-detailed-exitcode"]).assert_success();
    let mut calls = standin.calls();

    // Drift made outside Terraform (not counted), then the provider's repair and the destroy.
    let copies = outputs["copy_ids"]["value"].to_string();
    seeder(&standin, &["drift", "--copies", &copies]);
    standin.clear_calls();
    let drift = run(&["plan", "-detailed-exitcode"]);
    assert_eq!(
        drift.code,
        Some(PLAN_HAS_CHANGES),
        "drift not detected: {drift}"
    );
    run(&["apply", "-auto-approve"]).assert_success();
    run(&["plan", "-detailed-exitcode"]).assert_success();
    run(&["destroy", "-auto-approve"]).assert_success();
    merge_calls(&mut calls, standin.calls());
    seeder(&standin, &["check"]);

    // The test must see the real work, or it would pass vacuously.
    for (account, action) in [
        (ACCOUNT_A, "ModifySnapshotAttribute"),
        (ACCOUNT_A, "AssumeRole"),
        (ACCOUNT_B, "CopyImage"),
        (ACCOUNT_C, "CopyImage"),
        (ACCOUNT_C, "CreateTags"),
        (ACCOUNT_B, "DeregisterImage"),
    ] {
        assert!(
            calls.get(account).is_some_and(|a| a.contains_key(action)),
            "expected {action} in {account}: {calls:#?}"
        );
    }
    let unexpected: Vec<&String> = calls
        .keys()
        .filter(|a| ![ACCOUNT_A, ACCOUNT_B, ACCOUNT_C].contains(&a.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "calls from other accounts: {calls:#?}"
    );

    let index = read(&root.join("docs/index.md"));
    assert!(
        index.contains("sts:AssumeRole"),
        "docs/index.md must tell the caller it needs sts:AssumeRole on the target roles"
    );
    let share_policy = documented_actions(&root.join("docs/resources/ami_share.md"));
    let copy_policy = documented_actions(&root.join("docs/resources/encrypted_ami_copy.md"));
    let mut problems = missing_actions(
        "docs/resources/ami_share.md",
        &share_policy,
        ACCOUNT_A,
        &calls,
    );
    for target in [ACCOUNT_B, ACCOUNT_C] {
        problems.extend(missing_actions(
            "docs/resources/encrypted_ami_copy.md",
            &copy_policy,
            target,
            &calls,
        ));
    }
    assert!(
        problems.is_empty(),
        "the documented IAM policies miss actions the provider calls:\n{}\nall calls: {calls:#?}",
        problems.join("\n")
    );
}

/// The policy check itself can fail: an action absent from the policy is reported, wildcards
/// match, and the exempt STS calls are not reported.
#[test]
fn policy_check_reports_undocumented_actions() {
    let policy = BTreeSet::from(["ec2:DescribeImages", "kms:ReEncrypt*"].map(String::from));
    let account_calls: BTreeMap<String, u64> = [
        ("DescribeImages", 3),
        ("ReEncrypt", 1),
        ("CopyImage", 1),
        ("DescribeKey", 1),
        ("GetCallerIdentity", 2),
        ("AssumeRole", 1),
    ]
    .into_iter()
    .map(|(action, count)| (action.to_string(), count))
    .collect();
    let calls = Calls::from([(ACCOUNT_B.to_string(), account_calls)]);
    let problems = missing_actions("policy.md", &policy, ACCOUNT_B, &calls);
    assert_eq!(
        problems,
        vec![
            format!("policy.md: ec2:CopyImage (called 1 times in {ACCOUNT_B})"),
            format!("policy.md: kms:DescribeKey (called 1 times in {ACCOUNT_B})"),
        ]
    );
    let doc = "text\n```json\n{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"ec2:A\"},\n\
               {\"Effect\": \"Deny\", \"Action\": [\"ec2:B\"]},\n\
               {\"Effect\": \"Allow\", \"Action\": [\"kms:C\", \"kms:D*\"]}]}\n```\n";
    let parsed = actions_in_markdown(doc, "doc.md");
    let expected = BTreeSet::from(["ec2:A", "kms:C", "kms:D*"].map(String::from));
    assert_eq!(parsed, expected);
}

/// Copies the example's Terraform files into the workdir (not its README or any state).
fn copy_example(example: &Path, wd: &Workdir) {
    let copied = wd.copy_tf_files(example);
    assert!(
        copied.len() >= 3,
        "expected main.tf, variables.tf and outputs.tf in {}: {copied:?}",
        example.display()
    );
}

/// Runs `scripts/demo_seed.py` against `standin` with the example's account ids; panics with
/// its output unless it succeeds.
fn seeder(standin: &StandIn, args: &[&str]) {
    let script: PathBuf = workspace_root().join("scripts/demo_seed.py");
    let mut command = Command::new(venv_python());
    command
        .arg(script)
        .args(args)
        .args(["--endpoint", standin.endpoint(), "--region", REGION])
        .args([
            "--bake",
            ACCOUNT_A,
            "--prod",
            ACCOUNT_B,
            "--staging",
            ACCOUNT_C,
        ]);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            command.env_remove(&key);
        }
    }
    command
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("temporary directory: {err}"));
    let (status, stdout, stderr) = run_bounded(command, dir.path(), Duration::from_secs(120));
    assert!(
        status.is_some_and(|s| s.success()),
        "demo_seed.py {args:?} failed: {status:?}\n{stdout}\n{stderr}\n{}",
        standin.logs()
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// (c) the provider page's Example Usage, as a reader would paste it
// ---------------------------------------------------------------------------------------------

/// The AMI id docs/index.md's example uses as a placeholder.
const DOCS_PLACEHOLDER_AMI: &str = "ami-0123456789abcdef0";

/// The first ```terraform block under `## Example Usage` in `page`.
fn example_usage(page: &str) -> String {
    let section = page
        .split_once("## Example Usage")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no Example Usage section"));
    let block = section
        .split_once("```terraform\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .unwrap_or_else(|| panic!("no terraform block under Example Usage"));
    block.to_owned()
}

#[test]
fn provider_page_example_usage_applies() {
    let page = read(&workspace_root().join("docs/index.md"));
    let example = example_usage(&page);
    // The page's account ids are the stand-in's accounts, so only the AMI id is replaced.
    for account in [ACCOUNT_A, ACCOUNT_B, ACCOUNT_C] {
        assert!(example.contains(account), "{account} in\n{example}");
    }
    assert!(example.contains(DOCS_PLACEHOLDER_AMI), "{example}");

    let standin = StandIn::start();
    let seeded = tempfile::tempdir().unwrap_or_else(|err| panic!("temporary directory: {err}"));
    let tfvars = seeded.path().join("seed.tfvars");
    seeder(&standin, &["seed", "--tfvars", &tfvars.to_string_lossy()]);
    let ami = read(&tfvars)
        .lines()
        .find_map(|l| match l.split_once('=') {
            Some((name, value)) if name.trim() == "source_ami_id" => {
                Some(value.trim().trim_matches('"').to_owned())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no source_ami_id in {}", tfvars.display()));

    let wd = Workdir::new(&Terraform::default()).with_standin(&standin, ACCOUNT_A);
    wd.write_main(&example.replace(DOCS_PLACEHOLDER_AMI, &ami));
    wd.apply();
    for (stage, account) in [("staging", ACCOUNT_B), ("prod", ACCOUNT_C)] {
        let copy = wd.resource_values(&format!("imagecopier_encrypted_ami_copy.{stage}"));
        assert_eq!(copy["owner_id"], account, "{copy:#}");
        assert_eq!(copy["state"], "available", "{copy:#}");
        assert_eq!(copy["tags_all"]["Stage"], stage, "{copy:#}");
        assert_eq!(copy["tags_all"]["CopiedFromAMI"], ami.as_str(), "{copy:#}");
    }
    wd.assert_plan_empty();
    wd.destroy();
    assert!(wd.state_list().is_empty());
}
