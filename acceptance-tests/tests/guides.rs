//! The guides' steps, run as a user runs them: the HCL is taken from the guide itself
//! (docs/guides/*.md), so a guide that stops working fails here.
//!
//! - accounts.md: add a target account to the cross-account example, remove one in the two
//!   documented steps, and see the error a too-early removal gives;
//! - scan-gating.md: a share whose AMI has not passed its scan fails the plan with nothing shared,
//!   and goes ahead once the scan tag says `passed`;
//! - resources/encrypted_ami_copy.md, "Handing a copy to another configuration": a `removed`
//!   block lets one state go of a copy without destroying it, and an `import` block takes it up
//!   in another, which then plans no replacement and changes nothing.

use std::time::Duration;

use acceptance_tests::copies::{applied_copy, copy_config, workdir, ADDRESS};
use acceptance_tests::copies::{create_key, kms};
use acceptance_tests::{
    flat, image_tag, needs_admin, workspace_root, Admin, StandIn, Terraform, Workdir, ACCOUNT_A,
    ACCOUNT_B, ACCOUNT_C, PLAN_NO_CHANGES,
};
use aws_sdk_ec2::types::Tag;

const ACCOUNT_D: &str = "444444444444";

/// The fenced blocks of `lang` in `markdown`, in order.
fn fenced(markdown: &str, lang: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut current, fence) {
            (None, Some(info)) if info.trim() == lang => current = Some(String::new()),
            (Some(block), Some(_)) => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), None) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

/// The one block of `blocks` that contains `needle`; `what` names it in the panic.
#[track_caller]
fn block_with<'a>(blocks: &'a [String], needle: &str, what: &str) -> &'a str {
    blocks
        .iter()
        .find(|b| b.contains(needle))
        .unwrap_or_else(|| panic!("no block with {needle:?}: {what}"))
}

fn guide(name: &str) -> String {
    doc(&format!("guides/{name}"))
}

fn doc(name: &str) -> String {
    let path = workspace_root().join("docs").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Applies a one-hunk unified diff from a guide to `text`: the hunk's context and `-` lines must
/// appear in `text` as they are, and become its context and `+` lines.
#[track_caller]
fn apply_diff(text: &str, diff: &str) -> String {
    let (mut old, mut new) = (String::new(), String::new());
    for line in diff.lines() {
        match line.split_at(line.len().min(1)) {
            ("-", rest) => old.push_str(&format!("{rest}\n")),
            ("+", rest) => new.push_str(&format!("{rest}\n")),
            (_, _) => {
                let context = line.strip_prefix(' ').unwrap_or(line);
                old.push_str(&format!("{context}\n"));
                new.push_str(&format!("{context}\n"));
            }
        }
    }
    assert!(
        text.contains(&old),
        "the guide's diff does not apply:\n{old}\nto:\n{text}"
    );
    text.replacen(&old, &new, 1)
}

/// `text` without the block that starts at the first line beginning with `header` and ends at
/// the next line that is `}`; the block must be there.
#[track_caller]
fn remove_block(text: &str, header: &str) -> String {
    let start = text
        .find(header)
        .unwrap_or_else(|| panic!("no {header:?} in:\n{text}"));
    remove_block_at(text, start)
}

#[track_caller]
fn remove_block_at(text: &str, start: usize) -> String {
    let end = start + text[start..].find("\n}\n").expect("the block's end") + 3;
    format!("{}{}", &text[..start], &text[end..])
}

/// `main.tf` without the provider block with `alias = "<alias>"`.
#[track_caller]
fn remove_provider(main: &str, alias: &str) -> String {
    let at = main
        .find(&format!("alias  = \"{alias}\""))
        .unwrap_or_else(|| panic!("no provider alias {alias}"));
    let start = main[..at]
        .rfind("provider \"imagecopier\" {")
        .expect("provider block");
    remove_block_at(main, start)
}

fn read(wd: &Workdir, name: &str) -> String {
    std::fs::read_to_string(wd.path().join(name)).expect(name)
}

/// Accounts with launch permission on `image_id`, in order.
fn launch_accounts(standin: &StandIn, image_id: &str) -> Vec<String> {
    standin
        .ec2(ACCOUNT_A)
        .launch_permissions(image_id)
        .0
        .into_iter()
        .collect()
}

/// Accounts holding the share's own grant on `key`, in order.
fn key_grantees(standin: &StandIn, key: &str, image_id: &str) -> Vec<String> {
    let listed = kms(
        standin,
        ACCOUNT_A,
        "ListGrants",
        serde_json::json!({ "KeyId": key }),
    );
    let mut accounts: Vec<String> = listed["Grants"]
        .as_array()
        .expect("grants")
        .iter()
        .filter(|g| g["Name"] == format!("imagecopier-share-{image_id}"))
        .filter_map(|g| g["GranteePrincipal"].as_str())
        .map(|p| {
            p.trim_start_matches("arn:aws:iam::")
                .trim_end_matches(":root")
                .to_owned()
        })
        .collect();
    accounts.sort();
    accounts
}

#[test]
fn accounts_guide_adds_and_removes_an_account() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let text = guide("accounts.md");
    let blocks = fenced(&text, "terraform");
    let diffs = fenced(&text, "diff");
    let standin = StandIn::start();
    // Baked with the bake account's own key, which the example's share grants (share_kms_keys).
    let bake_key = kms(
        &standin,
        ACCOUNT_A,
        "CreateKey",
        serde_json::json!({ "Description": "bake" }),
    )["KeyMetadata"]["Arn"]
        .as_str()
        .expect("key ARN")
        .to_owned();
    let source = standin
        .ec2(ACCOUNT_A)
        .seed_encrypted_ami(&[("Team", "platform")], &bake_key);
    for account in [ACCOUNT_B, ACCOUNT_C, ACCOUNT_D] {
        create_key(&standin, account, "alias/ami");
    }
    let wd = Workdir::new(&Terraform::default())
        .with_standin(&standin, ACCOUNT_A)
        .with_timeout(Duration::from_secs(600));
    wd.copy_tf_files(&workspace_root().join("examples/cross-account"));
    wd.write(
        "terraform.tfvars",
        &format!("source_ami_id = \"{}\"\n", source.image_id),
    );
    wd.apply();

    // Adding dev: its variables, its provider configuration, the grant, its copy.
    let variables = block_with(
        &blocks,
        "variable \"dev_account_id\"",
        "the guide declares the dev variables",
    );
    let provider = block_with(
        &blocks,
        "alias  = \"dev\"",
        "the guide's dev provider block",
    );
    let copy = block_with(
        &blocks,
        "resource \"imagecopier_encrypted_ami_copy\" \"dev\"",
        "the guide's dev copy",
    );
    let add_grant = diffs
        .iter()
        .find(|d| d.contains("+  account_ids") && d.contains("dev_account_id"))
        .expect("the guide's account_ids diff");
    wd.write(
        "variables.tf",
        &format!("{}\n{variables}", read(&wd, "variables.tf")),
    );
    let main = apply_diff(&read(&wd, "main.tf"), add_grant);
    wd.write("main.tf", &format!("{main}\n{provider}\n{copy}"));
    let plan = wd.plan();
    assert!(
        plan.stdout
            .contains("imagecopier_ami_share.app will be updated in-place")
            && plan
                .stdout
                .contains("imagecopier_encrypted_ami_copy.dev will be created")
            && plan
                .stdout
                .contains("Plan: 1 to add, 1 to change, 0 to destroy."),
        "{plan}"
    );
    wd.apply();
    let dev = standin.ec2(ACCOUNT_D).owned_images();
    assert_eq!(dev.len(), 1, "{dev:?}");
    assert_eq!(
        image_tag(&dev[0], "CopiedFromAMI"),
        Some(source.image_id.as_str())
    );
    assert_eq!(
        launch_accounts(&standin, &source.image_id),
        [ACCOUNT_B, ACCOUNT_C, ACCOUNT_D]
    );
    assert_eq!(
        key_grantees(&standin, &bake_key, &source.image_id),
        [ACCOUNT_B, ACCOUNT_C, ACCOUNT_D]
    );

    // Removing staging together with its provider configuration: refused, nothing changes.
    let remove_grant = diffs
        .iter()
        .find(|d| {
            d.contains("-  account_ids")
                && d.contains("+  account_ids")
                && d.contains("= [var.prod_account_id, var.dev_account_id]")
        })
        .expect("the guide's removal diff");
    let before = (read(&wd, "main.tf"), read(&wd, "outputs.tf"));
    let step1_main = remove_block(
        &apply_diff(&before.0, remove_grant),
        "resource \"imagecopier_encrypted_ami_copy\" \"staging\"",
    );
    let step1_outputs: String = before
        .1
        .lines()
        .filter(|l| !l.contains("imagecopier_encrypted_ami_copy.staging"))
        .map(|l| format!("{l}\n"))
        .collect();
    wd.write("main.tf", &remove_provider(&step1_main, "staging"));
    wd.write("outputs.tf", &step1_outputs);
    standin.clear_calls();
    let early = wd.try_plan().assert_failure();
    let text = flat(&early.combined());
    assert!(
        text.contains("Provider configuration not present"),
        "{early}"
    );
    assert!(
        text.contains("imagecopier_encrypted_ami_copy.staging (orphan)"),
        "{early}"
    );
    for account in [ACCOUNT_A, ACCOUNT_B, ACCOUNT_C, ACCOUNT_D] {
        assert!(standin.mutating_calls(account).is_empty());
    }

    // Step 1: the copy and the grant go, the provider configuration stays.
    wd.write("main.tf", &step1_main);
    let plan = wd.plan();
    assert!(
        plan.stdout
            .contains("imagecopier_encrypted_ami_copy.staging will be destroyed")
            && plan
                .stdout
                .contains("Plan: 0 to add, 1 to change, 1 to destroy."),
        "{plan}"
    );
    wd.apply();
    assert!(standin.ec2(ACCOUNT_C).owned_images().is_empty());
    assert_eq!(
        launch_accounts(&standin, &source.image_id),
        [ACCOUNT_B, ACCOUNT_D]
    );
    assert_eq!(
        key_grantees(&standin, &bake_key, &source.image_id),
        [ACCOUNT_B, ACCOUNT_D],
        "staging's grant on the key is retired"
    );

    // Step 2: the provider configuration and the staging variables go; nothing to do.
    wd.write("main.tf", &remove_provider(&step1_main, "staging"));
    let variables = remove_block(
        &remove_block(
            &read(&wd, "variables.tf"),
            "variable \"staging_account_id\"",
        ),
        "variable \"staging_kms_key_id\"",
    );
    wd.write("variables.tf", &variables);
    assert_eq!(wd.plan_detailed_exitcode(), PLAN_NO_CHANGES);
    wd.destroy();
}

#[test]
fn scan_gating_guide_refuses_an_unscanned_ami() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let text = guide("scan-gating.md");
    let config = fenced(&text, "terraform")
        .into_iter()
        .find(|b| b.contains("postcondition"))
        .expect("the guide's gated share");
    let standin = StandIn::start();
    let ami = standin.seed_ami(ACCOUNT_A, &[("Name", "app"), ("ScanStatus", "failed")]);
    let wd = Workdir::new(&Terraform::default()).with_standin(&standin, ACCOUNT_A);
    wd.write_main(&format!("provider \"imagecopier\" {{}}\n{config}"));
    wd.write(
        "terraform.tfvars",
        &format!("source_ami_id = \"{}\"\n", ami.image_id),
    );
    let message = format!(
        "AMI {} is not shared: its ScanStatus tag is not \"passed\".",
        ami.image_id
    );

    standin.clear_calls();
    let failed = wd.try_plan().assert_failure();
    let text = flat(&failed.combined());
    assert!(text.contains("Resource postcondition failed"), "{failed}");
    assert!(text.contains(&message), "{failed}");
    wd.try_apply().assert_failure();
    assert!(standin.mutating_calls(ACCOUNT_A).is_empty());
    assert!(launch_accounts(&standin, &ami.image_id).is_empty());

    // The scanner passes it: the same configuration shares it.
    let ec2 = standin.ec2(ACCOUNT_A);
    ec2.block_on(
        ec2.client()
            .create_tags()
            .resources(&ami.image_id)
            .tags(Tag::builder().key("ScanStatus").value("passed").build())
            .send(),
    )
    .expect("CreateTags");
    wd.apply();
    assert_eq!(
        launch_accounts(&standin, &ami.image_id),
        [ACCOUNT_B, ACCOUNT_C]
    );
}

#[test]
fn a_copy_is_handed_to_another_configuration() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let page = doc("resources/encrypted_ami_copy.md");
    let blocks = fenced(&page, "terraform");
    let removed = block_with(&blocks, "removed {", "the page's removed block");
    let import = block_with(&blocks, "import {", "the page's import block");
    let (standin, old, source, _key, id) = applied_copy("");

    // The old configuration lets go of the copy: nothing is destroyed.
    old.write_main(removed);
    standin.clear_calls();
    let plan = old.plan();
    assert!(
        plan.stdout
            .contains("will no longer be managed by Terraform"),
        "{plan}"
    );
    old.apply();
    assert!(old.state_list().is_empty(), "{:?}", old.state_list());
    assert!(standin.mutating_calls(ACCOUNT_B).is_empty());
    assert!(standin.ec2(ACCOUNT_B).describe_image(&id).is_some());

    // The new one takes it up with the page's import block and its own configuration.
    let new = workdir(&standin, ACCOUNT_B);
    let config = copy_config(&source.image_id, "alias/ami", "");
    new.write_main(&format!(
        "{config}\n{}",
        import.replace("ami-0123456789abcdef0", &id)
    ));
    let plan = new.plan();
    assert!(
        plan.stdout.contains("Plan: 1 to import") && !plan.stdout.contains("must be replaced"),
        "{plan}"
    );
    new.apply();
    assert_eq!(new.resource_values(ADDRESS)["id"], id.as_str());
    // Only state changes (the key's form, tags split into source_tags): nothing in AWS.
    let mutating = standin.mutating_calls(ACCOUNT_B);
    assert!(mutating.is_empty(), "{mutating:?}");
    new.write_main(&config);
    new.assert_plan_empty();
}
