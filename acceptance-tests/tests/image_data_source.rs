//! `data "imagecopier_image"`: the newest AMI the caller can see, by owner, name pattern and
//! tags, as an account repository finds the bake account's latest shared AMI without the aws
//! provider.

use std::thread;
use std::time::Duration;

use acceptance_tests::copies::{create_key, share_ami, workdir};
use acceptance_tests::{
    flat, needs_admin, workspace_root, Admin, SeededAmi, StandIn, ACCOUNT_A, ACCOUNT_B, ACCOUNT_C,
};

/// Seeds `prefix`-named AMIs in ACCOUNT_A one after the other, shared with ACCOUNT_B. EC2 dates
/// AMIs to the second, so they are a second apart to have distinct creation dates.
fn shared_amis(standin: &StandIn, prefix: &str, count: usize) -> Vec<SeededAmi> {
    (0..count)
        .map(|i| {
            if i > 0 {
                thread::sleep(Duration::from_millis(1100));
            }
            let ami = standin
                .ec2(ACCOUNT_A)
                .seed_named_ami(prefix, &[("team", "images")], 1);
            share_ami(standin, &ami, &[ACCOUNT_B]);
            ami
        })
        .collect()
}

fn lookup(arguments: &str) -> String {
    format!(
        r#"
data "imagecopier_image" "app" {{
  {arguments}
}}

output "id" {{
  value = data.imagecopier_image.app.id
}}

output "name" {{
  value = data.imagecopier_image.app.name
}}

output "owner_id" {{
  value = data.imagecopier_image.app.owner_id
}}
"#
    )
}

#[test]
fn newest_shared_ami_by_owner_and_name_pattern() {
    let standin = StandIn::start();
    let apps = shared_amis(&standin, "app", 3);
    // Newer than every app AMI, but another name: the pattern leaves it out.
    thread::sleep(Duration::from_millis(1100));
    let other = standin
        .ec2(ACCOUNT_A)
        .seed_named_ami("other", &[("team", "images")], 1);
    share_ami(&standin, &other, &[ACCOUNT_B]);
    // B's own AMI with a matching name: not owned by A, so not an answer.
    thread::sleep(Duration::from_millis(1100));
    standin.ec2(ACCOUNT_B).seed_named_ami("app", &[], 1);

    let wd = workdir(&standin, ACCOUNT_B);
    wd.write_main(&lookup(&format!(
        r#"owners = ["{ACCOUNT_A}"]
  name_pattern = "app-*""#
    )));
    wd.apply();
    let outputs = wd.output_json();
    assert_eq!(
        outputs["id"]["value"],
        apps[2].image_id.as_str(),
        "{outputs}"
    );
    assert_eq!(outputs["name"]["value"], apps[2].name.as_str());
    assert_eq!(outputs["owner_id"]["value"], ACCOUNT_A);

    // Without the pattern, the newest of A's shared AMIs is the other one.
    wd.write_main(&lookup(&format!(r#"owners = ["{ACCOUNT_A}"]"#)));
    wd.apply();
    assert_eq!(wd.output_json()["id"]["value"], other.image_id.as_str());

    // Owned by B itself.
    wd.write_main(&lookup(
        r#"owners = ["self"]
  name_pattern = "app-*""#,
    ));
    wd.apply();
    let own = wd.output_json()["id"]["value"].clone();
    assert!(
        apps.iter().all(|a| own != a.image_id.as_str()),
        "self must mean B's own AMI, got {own}"
    );
}

#[test]
fn deprecated_amis_only_when_asked() {
    if needs_admin(&[Admin::Clock]) {
        return;
    }
    let standin = StandIn::start();
    let apps = shared_amis(&standin, "app", 2);
    let bake = standin.ec2(ACCOUNT_A);
    let soon = acceptance_tests::clock::unix_now() + 120;
    bake.block_on(
        bake.client()
            .enable_image_deprecation()
            .image_id(&apps[1].image_id)
            .deprecate_at(aws_sdk_ec2::primitives::DateTime::from_secs(soon))
            .send(),
    )
    .expect("EnableImageDeprecation");
    standin.advance_clock(300.0);
    let wd = workdir(&standin, ACCOUNT_B);
    let base = format!(
        r#"owners = ["{ACCOUNT_A}"]
  name_pattern = "app-*""#
    );
    wd.write_main(&lookup(&base));
    wd.apply();
    assert_eq!(
        wd.output_json()["id"]["value"],
        apps[0].image_id.as_str(),
        "the deprecated newest AMI is left out"
    );
    wd.write_main(&lookup(&format!("{base}\n  include_deprecated = true")));
    wd.apply();
    assert_eq!(wd.output_json()["id"]["value"], apps[1].image_id.as_str());
}

#[test]
fn no_match_fails_clearly_and_bad_owners_are_named() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    shared_amis(&standin, "app", 1);
    let wd = workdir(&standin, ACCOUNT_B);
    wd.write_main(&lookup(&format!(
        r#"owners = ["{ACCOUNT_A}"]
  name_pattern = "nothing-*""#
    )));
    let plan = wd.try_plan();
    assert!(!plan.success(), "{plan}");
    let text = flat(&plan.stderr);
    assert!(text.contains("No AMI matches"), "{plan}");
    assert!(
        text.contains(&format!("owned by {ACCOUNT_A}")) && text.contains("nothing-*"),
        "the error names the search: {plan}"
    );
    // C shared nothing with B.
    wd.write_main(&lookup(&format!(r#"owners = ["{ACCOUNT_C}"]"#)));
    let plan = wd.try_plan();
    assert!(flat(&plan.stderr).contains("No AMI matches"), "{plan}");
    // A malformed owner is refused at validate, naming the attribute, before any search.
    standin.clear_calls();
    wd.write_main(&lookup(r#"owners = ["self", "1234"]"#));
    let plan = wd.try_plan();
    let text = flat(&plan.stderr);
    assert!(
        text.contains("Invalid owners") && text.contains("\"1234\"") && text.contains("12-digit"),
        "{plan}"
    );
    let searched = standin
        .calls()
        .get(ACCOUNT_B)
        .is_some_and(|calls| calls.contains_key("DescribeImages"));
    assert!(
        !searched,
        "a refused configuration searched: {:?}",
        standin.calls()
    );
}

/// examples/data-sources/imagecopier_image applied in ACCOUNT_B (with its key `alias/ami`),
/// following ACCOUNT_A's app AMIs.
fn applied_example(standin: &StandIn) -> acceptance_tests::Workdir {
    create_key(standin, ACCOUNT_B, "alias/ami");
    let example = workspace_root().join("examples/data-sources/imagecopier_image/data-source.tf");
    let wd = workdir(standin, ACCOUNT_B);
    wd.write_main(&std::fs::read_to_string(&example).expect("the example"));
    wd.write(
        "terraform.tfvars",
        &format!("bake_account_id = \"{ACCOUNT_A}\"\n"),
    );
    wd.apply();
    wd
}

#[test]
fn example_follows_the_newest_shared_ami() {
    // examples/data-sources/imagecopier_image: the copy follows the bake account's newest
    // app AMI; a newer share replaces it, the new copy made before the old one goes.
    let standin = StandIn::start();
    let apps = shared_amis(&standin, "app", 2);
    let wd = applied_example(&standin);
    let outputs = wd.output_json();
    assert_eq!(outputs["source_ami_id"]["value"], apps[1].image_id.as_str());
    let first_copy = outputs["copy_id"]["value"]
        .as_str()
        .expect("copy_id")
        .to_string();
    wd.assert_plan_empty();

    thread::sleep(Duration::from_millis(1100));
    let newer = standin
        .ec2(ACCOUNT_A)
        .seed_named_ami("app", &[("team", "images")], 1);
    share_ami(&standin, &newer, &[ACCOUNT_B]);
    let plan = wd.plan();
    assert!(
        plan.stdout.contains("must be replaced")
            && plan.stdout.contains("create replacement and then destroy"),
        "{plan}"
    );
    wd.apply();
    let outputs = wd.output_json();
    assert_eq!(outputs["source_ami_id"]["value"], newer.image_id.as_str());
    let second_copy = outputs["copy_id"]["value"]
        .as_str()
        .expect("copy_id")
        .to_string();
    assert_ne!(second_copy, first_copy);
    let owned: Vec<String> = standin
        .ec2(ACCOUNT_B)
        .owned_images()
        .iter()
        .filter_map(|i| i.image_id().map(str::to_owned))
        .collect();
    assert_eq!(owned, vec![second_copy], "the old copy is gone");
    wd.assert_plan_empty();
}

/// The account repository's sequence the accounts guide documents: the bake account stops
/// sharing, then the account's configuration is destroyed. The data source finds nothing, so a
/// plain `terraform destroy` (which plans with the configuration first) fails, saying so and
/// naming the way out; `terraform destroy -refresh=false` then removes the copy and its
/// snapshots without reading the data source.
#[test]
fn account_repo_destroys_after_the_share_is_revoked() {
    let standin = StandIn::start();
    let apps = shared_amis(&standin, "app", 1);
    let wd = applied_example(&standin);
    // The bake account stops sharing.
    let bake = standin.ec2(ACCOUNT_A);
    bake.change_launch_permission(&apps[0].image_id, ACCOUNT_B, false);
    let refused = wd.try_destroy();
    assert!(!refused.success(), "{refused}");
    let text = flat(&refused.combined());
    assert!(
        text.contains("No AMI matches") && text.contains("terraform destroy -refresh=false"),
        "the error names the way out: {refused}"
    );
    assert!(
        wd.state_list()
            .contains(&"imagecopier_encrypted_ami_copy.app".to_owned()),
        "nothing was destroyed yet"
    );
    wd.run(&["destroy", "-auto-approve", "-refresh=false", "-no-color"])
        .assert_success();
    assert!(
        !wd.state_list()
            .contains(&"imagecopier_encrypted_ami_copy.app".to_owned()),
        "{:?}",
        wd.state_list()
    );
    let target = standin.ec2(ACCOUNT_B);
    assert!(target.owned_images().is_empty(), "the copy is gone");
    assert!(
        acceptance_tests::copies::owned_snapshots(&target).is_empty(),
        "its snapshots are gone"
    );
}
