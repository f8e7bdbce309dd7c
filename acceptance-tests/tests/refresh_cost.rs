//! A steady-state plan's AWS calls grow with accounts and regions, not with resources: the
//! refresh lists once per account and region (copies by their `CopiedFromAMI` tag, shares per
//! target account) and serves every resource's read from that. Drift in one resource among many
//! still shows, in that resource only.

use std::collections::BTreeMap;

use acceptance_tests::copies::{create_key, tag_snapshot, workdir};
use acceptance_tests::{
    needs_admin, Admin, SeededAmi, StandIn, Workdir, ACCOUNT_A, ACCOUNT_B, PLAN_HAS_CHANGES,
};
use serde_json::Value;

const SOURCE_TAGS: &[(&str, &str)] = &[("team", "images")];

/// `n` bake AMIs in ACCOUNT_A, each shared with ACCOUNT_B by its own share and copied there by
/// its own copy (the second provider block acts as B).
fn pairs(sources: &[SeededAmi]) -> String {
    pairs_referring(sources, false)
}

/// The same pairs; `through_local`: each copy refers to its share through one local value, as
/// docs/index.md ("Plans of hundreds of resources") advises for large configurations.
fn pairs_referring(sources: &[SeededAmi], through_local: bool) -> String {
    let (shares, share) = match through_local {
        true => (
            "  shares  = [for s in imagecopier_ami_share.app : { image_id = s.image_id, image_tags = s.image_tags }]\n",
            "local.shares[count.index]",
        ),
        false => ("", "imagecopier_ami_share.app[count.index]"),
    };
    let ids: Vec<String> = sources
        .iter()
        .map(|s| format!("\"{}\"", s.image_id))
        .collect();
    format!(
        r#"
provider "imagecopier" {{}}
provider "imagecopier" {{
  alias      = "b"
  access_key = "{ACCOUNT_B}"
  secret_key = "test"
}}
locals {{
  sources = [{}]
{shares}}}
resource "imagecopier_ami_share" "app" {{
  count       = length(local.sources)
  image_id    = local.sources[count.index]
  account_ids = ["{ACCOUNT_B}"]
}}
resource "imagecopier_encrypted_ami_copy" "app" {{
  count         = length(local.sources)
  provider      = imagecopier.b
  source_ami_id = {share}.image_id
  kms_key_id    = "alias/ami"
  source_tags   = {share}.image_tags
}}
"#,
        ids.join(", ")
    )
}

/// The read calls a steady-state plan makes, per account and action.
fn plan_calls(standin: &StandIn, wd: &Workdir) -> BTreeMap<String, BTreeMap<String, u64>> {
    standin.clear_calls();
    wd.assert_plan_empty();
    let mut calls = standin.calls();
    for actions in calls.values_mut() {
        // Who the provider is, once per provider process, not part of the refresh.
        actions.remove("GetCallerIdentity");
    }
    calls.retain(|_, actions| !actions.is_empty());
    calls
}

fn total(calls: &BTreeMap<String, BTreeMap<String, u64>>) -> u64 {
    calls.values().flat_map(|a| a.values()).sum()
}

fn changed(plan: &Value) -> Vec<String> {
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["change"]["actions"] != serde_json::json!(["no-op"]))
        .filter_map(|c| c["address"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn plan_calls_do_not_grow_with_resources() {
    if needs_admin(&[Admin::CopyControl]) {
        return;
    }
    let standin = StandIn::start();
    standin.set_copy_duration(0.2);
    create_key(&standin, ACCOUNT_B, "alias/ami");
    let bake = standin.ec2(ACCOUNT_A);
    let sources: Vec<SeededAmi> = (0..8).map(|_| bake.seed_ami(SOURCE_TAGS)).collect();
    let wd = workdir(&standin, ACCOUNT_A);

    wd.write_main(&pairs(&sources[..2]));
    wd.apply();
    let two = plan_calls(&standin, &wd);
    wd.write_main(&pairs(&sources));
    wd.apply();
    let eight = plan_calls(&standin, &wd);
    assert_eq!(
        eight, two,
        "a plan of 8 pairs makes the calls a plan of 2 makes"
    );
    // Per target account and per copy account-region a listing, not a read per resource: at
    // most a handful of calls, where reading each resource would take 7 per pair.
    assert!(total(&eight) <= 8, "{eight:?}");

    // Drift in one resource among eight still shows, in that resource only.
    let ec2_b = standin.ec2(ACCOUNT_B);
    bake.change_launch_permission(&sources[5].image_id, ACCOUNT_B, false);
    let copy_3 = wd.resource_values("imagecopier_encrypted_ami_copy.app[3]");
    let snapshot = copy_3["snapshot_ids"][0]
        .as_str()
        .expect("a snapshot")
        .to_string();
    tag_snapshot(&ec2_b, &snapshot, "team", "edited-by-hand");
    let plan = wd.saved_plan();
    assert_eq!(
        changed(&plan),
        [
            "imagecopier_ami_share.app[5]",
            "imagecopier_encrypted_ami_copy.app[3]"
        ],
        "exactly the two resources that drifted"
    );
    assert_eq!(wd.plan_detailed_exitcode(), PLAN_HAS_CHANGES);
    wd.apply();
    wd.assert_plan_empty();
    let (users, _) = bake.launch_permissions(&sources[5].image_id);
    assert!(users.contains(ACCOUNT_B), "the revoked grant is back");

    // Referring to the shares through one local is the same configuration to the provider:
    // nothing to change, and the same calls.
    wd.write_main(&pairs_referring(&sources, true));
    assert_eq!(
        plan_calls(&standin, &wd),
        two,
        "through a local: an empty plan with the same calls"
    );
    wd.destroy();
}
