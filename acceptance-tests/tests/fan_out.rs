//! Fan-out from one provider block: `examples/fan-out` (one bake provider, one share, one copy
//! block with `for_each` over (account, region) targets, each copy with its own `region` and
//! `assume_role`), the copy quota at scale, a role that cannot be assumed, and an interrupted
//! fan-out apply.
//!
//! Accounts: bake = ACCOUNT_A (Terraform's credentials), targets B, C and D reached by assuming
//! `ami-importer` in each. The source lives in eu-west-1; copies in us-east-1 are cross-region.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use acceptance_tests::copies::{create_key_in, describe_snapshot, owned_snapshots, workdir};
use acceptance_tests::{
    flat, image_tag, needs_admin, snapshot_ids, workspace_root, Admin, Fault, SeededAmi, StandIn,
    Workdir, ACCOUNT_A, ACCOUNT_B, ACCOUNT_C, PLAN_HAS_CHANGES, REGION,
};
use serde_json::{json, Value};

const EXAMPLE_DIR: &str = "examples/fan-out";
const OTHER_REGION: &str = "us-east-1";
const ACCOUNT_D: &str = "444444444444";
const COPIES: &str = "imagecopier_encrypted_ami_copy.app";
const SOURCE_TAGS: &[(&str, &str)] = &[("Name", "app-source"), ("team", "images")];

/// An (account, region) a copy goes to.
type Place = (&'static str, &'static str);

/// The stand-in, a two-disk bake AMI in ACCOUNT_A (not shared: the configuration's share does
/// it), a key `alias/ami` in every target account and region, and a workdir acting as ACCOUNT_A
/// (with the example's files when `example`).
struct World {
    standin: StandIn,
    wd: Workdir,
    source: SeededAmi,
    keys: BTreeMap<Place, String>,
}

fn world(places: &[Place], copy_seconds: f64, example: bool) -> World {
    let standin = StandIn::start();
    standin.set_copy_duration(copy_seconds);
    let source = standin.ec2(ACCOUNT_A).seed_ami_with_disks(SOURCE_TAGS, 2);
    let keys = places
        .iter()
        .map(|&(account, region)| {
            let key = create_key_in(&standin, account, region, "alias/ami");
            ((account, region), key)
        })
        .collect();
    let wd = workdir(&standin, ACCOUNT_A);
    if example {
        wd.copy_tf_files(&workspace_root().join(EXAMPLE_DIR));
    }
    World {
        standin,
        wd,
        source,
        keys,
    }
}

fn key_of((account, region): Place) -> String {
    format!("{account}/{region}")
}

fn address((account, region): Place) -> String {
    format!("{COPIES}[\"{account}/{region}\"]")
}

impl World {
    /// Writes `terraform.tfvars.json` with a target per place, each with the key `alias/ami`.
    fn target(&self, places: &[Place]) {
        let targets: serde_json::Map<String, Value> = places
            .iter()
            .map(|&(account, region)| {
                let target =
                    json!({ "account_id": account, "region": region, "kms_key_id": "alias/ami" });
                (key_of((account, region)), target)
            })
            .collect();
        let vars = json!({
            "ami_id": self.source.image_id,
            "targets": targets,
            "tags": { "Stage": "PROD" },
        });
        self.wd.write("terraform.tfvars.json", &vars.to_string());
    }

    /// The copy of `place` as state holds it: its id.
    fn copy_id(&self, place: Place) -> String {
        let values = self.wd.resource_values(&address(place));
        assert_eq!(values["owner_id"], place.0, "{values}");
        assert_eq!(values["region"], place.1, "{values}");
        assert_eq!(values["state"], "available", "{values}");
        values["id"].as_str().expect("id").to_string()
    }

    /// Checks `place` holds exactly one AMI, `image_id`: a copy of the source, encrypted with that
    /// place's key on every snapshot, tagged, and with no snapshot beside its own.
    fn assert_copy_in(&self, place: Place, image_id: &str) {
        let (account, region) = place;
        let ec2 = self.standin.ec2_in(account, region);
        let images = ec2.owned_images();
        let ids: Vec<&str> = images.iter().filter_map(|i| i.image_id()).collect();
        assert_eq!(ids, [image_id], "AMIs in {account}/{region}");
        let image = &images[0];
        assert_eq!(image.state().map(|s| s.as_str()), Some("available"));
        assert_eq!(image.source_image_id(), Some(self.source.image_id.as_str()));
        assert_eq!(
            image.source_image_region(),
            Some(REGION),
            "copied from the bake region"
        );
        for (key, value) in [
            ("Name", "app-source"),
            ("team", "images"),
            ("Stage", "PROD"),
            ("Encrypted", "true"),
            ("CopiedFromAMI", self.source.image_id.as_str()),
        ] {
            assert_eq!(
                image_tag(image, key),
                Some(value),
                "tag {key} in {account}/{region}"
            );
        }
        let snapshots = snapshot_ids(image);
        assert_eq!(snapshots.len(), 2, "both disks copied");
        for snapshot_id in &snapshots {
            let snapshot = describe_snapshot(&ec2, snapshot_id).expect("the copy's snapshot");
            assert_eq!(snapshot.encrypted(), Some(true));
            assert_eq!(
                snapshot.kms_key_id(),
                Some(self.keys[&place].as_str()),
                "encrypted with the key of {account}/{region}"
            );
        }
        let mut owned = owned_snapshots(&ec2);
        owned.sort();
        let mut expected = snapshots.clone();
        expected.sort();
        assert_eq!(owned, expected, "no orphan snapshot in {account}/{region}");
    }

    /// Panics unless `place` holds no AMI and no snapshot.
    fn assert_empty(&self, (account, region): Place) {
        let ec2 = self.standin.ec2_in(account, region);
        let images: Vec<String> = ec2
            .owned_images()
            .iter()
            .filter_map(|i| i.image_id().map(str::to_string))
            .collect();
        assert!(
            images.is_empty(),
            "AMIs left in {account}/{region}: {images:?}"
        );
        let snapshots = owned_snapshots(&ec2);
        assert!(
            snapshots.is_empty(),
            "snapshots left in {account}/{region}: {snapshots:?}"
        );
    }

    /// The AssumeRole calls the bake account made since the counts were last cleared.
    fn assume_role_calls(&self) -> u64 {
        self.standin
            .calls()
            .get(ACCOUNT_A)
            .and_then(|calls| calls.get("AssumeRole").copied())
            .unwrap_or(0)
    }
}

/// Every account and region of the fan-out tests, for the census.
const ALL_PLACES: [Place; 8] = [
    (ACCOUNT_B, REGION),
    (ACCOUNT_B, OTHER_REGION),
    (ACCOUNT_C, REGION),
    (ACCOUNT_C, OTHER_REGION),
    (ACCOUNT_D, REGION),
    (ACCOUNT_D, OTHER_REGION),
    (ACCOUNT_A, REGION),
    (ACCOUNT_A, OTHER_REGION),
];

/// Each resource a saved plan changes, with its actions.
fn changed_resources(plan: &Value) -> BTreeMap<String, Vec<String>> {
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|change| {
            let actions: Vec<String> = change["change"]["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            let address = change["address"].as_str()?.to_string();
            (actions != ["no-op"]).then_some((address, actions))
        })
        .collect()
}

#[test]
fn fan_out_example_three_accounts_two_regions() {
    if needs_admin(&[Admin::CopyControl, Admin::CallCounts]) {
        return;
    }
    let six: Vec<Place> = [ACCOUNT_B, ACCOUNT_C, ACCOUNT_D]
        .into_iter()
        .flat_map(|account| [(account, REGION), (account, OTHER_REGION)])
        .collect();
    let w = world(&six, 1.0, true);
    w.target(&six);

    // The plan a reviewer reads: each copy's account and region are known before apply.
    let plan = w.wd.saved_plan();
    for place in &six {
        let change = acceptance_tests::plan_json::resource_change(&plan, &address(*place));
        assert_eq!(change["after"]["owner_id"], place.0, "{change}");
        assert_eq!(change["after"]["region"], place.1, "{change}");
    }

    w.standin.clear_calls();
    w.wd.apply();
    let ids: BTreeMap<Place, String> = six.iter().map(|&p| (p, w.copy_id(p))).collect();
    for (place, id) in &ids {
        w.assert_copy_in(*place, id);
    }
    // The bake account holds only the source, in its region only.
    assert_eq!(w.standin.ec2(ACCOUNT_A).owned_images().len(), 1);
    w.assert_empty((ACCOUNT_A, OTHER_REGION));

    // One session per role per provider process: a plan (one process) assumes each of the
    // three roles once, however many copies and regions use it.
    w.standin.clear_calls();
    w.wd.assert_plan_empty();
    assert_eq!(w.assume_role_calls(), 3, "{:?}", w.standin.calls());

    // A target leaves: only its copy goes (the share keeps C, still a target in eu-west-1).
    let left = (ACCOUNT_C, OTHER_REGION);
    let rest: Vec<Place> = six.iter().copied().filter(|&p| p != left).collect();
    w.target(&rest);
    assert_eq!(
        changed_resources(&w.wd.saved_plan()),
        BTreeMap::from([(address(left), vec!["delete".to_string()])]),
        "only the copy that left changes"
    );
    w.wd.apply();
    w.assert_empty(left);
    for place in &rest {
        assert_eq!(&w.copy_id(*place), &ids[place], "{place:?} kept its copy");
    }
    // It comes back: only its copy is made.
    w.target(&six);
    assert_eq!(
        changed_resources(&w.wd.saved_plan()),
        BTreeMap::from([(address(left), vec!["create".to_string()])]),
        "only the copy that came back changes"
    );
    w.wd.apply();
    w.assert_copy_in(left, &w.copy_id(left));
    w.wd.assert_plan_empty();

    w.wd.destroy();
    for place in ALL_PLACES.iter().filter(|p| p.0 != ACCOUNT_A) {
        w.assert_empty(*place);
    }
    let (users, public) = w
        .standin
        .ec2(ACCOUNT_A)
        .launch_permissions(&w.source.image_id);
    assert!(
        users.is_empty() && !public,
        "the share is revoked: {users:?}"
    );
}

/// A share of `src` with ACCOUNT_B and 25 copies of it there, each by assuming a role in B;
/// `provider` is the provider block's body.
fn twenty_five_copies(src: &str, provider: &str) -> String {
    format!(
        r#"
provider "imagecopier" {{
  {provider}
}}
resource "imagecopier_ami_share" "app" {{
  image_id    = "{src}"
  account_ids = ["{ACCOUNT_B}"]
}}
resource "imagecopier_encrypted_ami_copy" "app" {{
  count = 25
  name  = "quota-${{count.index}}"
  assume_role {{
    role_arn = "arn:aws:iam::{ACCOUNT_B}:role/ami-importer"
  }}
  source_ami_id = imagecopier_ami_share.app.image_id
  kms_key_id    = "alias/ami"
}}
"#
    )
}

/// `terraform apply` with room for all 25 copies at once (Terraform's default parallelism, 10,
/// alone would keep at most 20 snapshot copies in flight), asserting it succeeds with no error.
fn apply_all_at_once(wd: &Workdir) -> acceptance_tests::RunOutput {
    let apply = wd.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-parallelism=30",
    ]);
    assert!(apply.success(), "{apply}");
    assert!(
        !apply.stdout.contains("Error"),
        "no error reaches the user: {apply}"
    );
    apply
}

/// Panics unless ACCOUNT_B owns the 25 copies, all available.
fn assert_twenty_five_available(standin: &StandIn) {
    let images = standin.ec2(ACCOUNT_B).owned_images();
    assert_eq!(images.len(), 25);
    assert!(images
        .iter()
        .all(|i| i.state().map(|s| s.as_str()) == Some("available")));
}

/// How long the copy of [`a_long_copy_is_polled_by_its_progress`] takes.
const LONG_COPY_SECONDS: f64 = 120.0;

/// A long copy is polled as its snapshots' progress says (issue 31): once a second at its start
/// and near its end, sparsely between. The watcher used to look once a second throughout, about
/// 120 DescribeImages for this copy; an hour-long copy cost 3,600 an hour per account-region.
#[test]
fn a_long_copy_is_polled_by_its_progress() {
    if needs_admin(&[Admin::CopyControl, Admin::CallCounts]) {
        return;
    }
    let place = (ACCOUNT_B, REGION);
    let w = world(&[place], LONG_COPY_SECONDS, true);
    w.target(&[place]);
    w.standin.clear_calls();
    w.wd.apply();
    let copy = w.copy_id(place);

    let calls: Vec<Value> = w
        .standin
        .call_log()
        .into_iter()
        .filter(|c| c["account"] == ACCOUNT_B && c["region"] == REGION)
        .collect();
    let at = |action: &str| -> Vec<f64> {
        calls
            .iter()
            .filter(|c| c["action"] == action)
            .filter_map(|c| c["t"].as_f64())
            .collect()
    };
    let copied = at("CopyImage");
    assert_eq!(copied.len(), 1, "one copy: {calls:?}");
    let polls: Vec<f64> = w
        .standin
        .copy_looks(ACCOUNT_B, REGION)
        .iter()
        .filter_map(|c| c["t"].as_f64())
        .collect();
    let gaps: Vec<f64> = polls.windows(2).map(|w| w[1] - w[0]).collect();
    println!(
        "{} polls for a {LONG_COPY_SECONDS} s copy; last poll {:.1} s after CopyImage; gaps {gaps:.1?}",
        polls.len(),
        polls.last().copied().unwrap_or_default() - copied[0],
    );
    // Once a second would be about 120 looks; by progress it is the first 30 s, a handful of
    // sparse looks, and the last seconds.
    assert!(
        polls.len() <= 60,
        "{} polls for one {LONG_COPY_SECONDS} s copy: {gaps:.1?}",
        polls.len()
    );
    assert!(
        gaps.iter().any(|gap| *gap >= 5.0),
        "the looks spread out while the end was far: {gaps:.1?}"
    );
    assert!(
        !at("DescribeSnapshots").is_empty(),
        "the pace came from the snapshots' progress"
    );
    assert!(
        gaps.iter().all(|gap| *gap >= 0.5),
        "never more than one look a second: {gaps:.1?}"
    );
    w.assert_copy_in(place, &copy);
    w.wd.destroy();
    w.assert_empty(place);
}

/// 25 copies of a two-disk AMI into one account and region in one apply, Terraform running them
/// all at once: 50 snapshot copies against EC2's quota of 20 in flight. The provider queues them
/// in its own slots, so EC2 never refuses one and the user sees no error.
#[test]
fn twenty_five_copies_wait_for_copy_slots() {
    if needs_admin(&[Admin::CopyQuota, Admin::CallCounts]) {
        return;
    }
    let place = (ACCOUNT_B, REGION);
    let w = world(&[place], 8.0, false);
    w.wd.write_main(&twenty_five_copies(&w.source.image_id, ""));
    let quota = w.standin.copy_quota();
    assert_eq!(
        quota["limit"], 20,
        "the stand-in enforces EC2's quota: {quota}"
    );
    let mut w = w;
    w.wd.set_env("TF_LOG_PROVIDER", "INFO");
    w.standin.clear_calls();
    let apply = apply_all_at_once(&w.wd);

    let quota = w.standin.copy_quota();
    let key = format!("{ACCOUNT_B}/{REGION}");
    assert!(quota["peak"][&key].as_u64().unwrap_or(99) <= 20, "{quota}");
    assert_eq!(
        quota["refused"][&key], 0,
        "EC2 never refused a copy: {quota}"
    );
    assert_twenty_five_available(&w.standin);
    assert!(
        apply.stderr.contains("waiting for a snapshot-copy slot"),
        "the wait is in the provider's log"
    );

    // All copies in flight in B/eu-west-1 are watched by one poll: DescribeImages with the
    // image-id filter, one a second (never two within half a second, even with the stand-in
    // busy and late to log a call), several copies per look.
    let polls: Vec<(f64, u64)> = w
        .standin
        .copy_looks(ACCOUNT_B, REGION)
        .iter()
        .filter_map(|c| Some((c["t"].as_f64()?, c["filter_values"]["image-id"].as_u64()?)))
        .collect();
    assert!(polls.len() >= 3, "the wait polled: {polls:?}");
    let gaps: Vec<f64> = polls.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(
        gaps.iter().all(|gap| *gap >= 0.5),
        "at most one poll a second per account-region: {gaps:?}"
    );
    assert!(
        polls.iter().any(|(_, ids)| *ids >= 2),
        "one look covers several copies: {polls:?}"
    );
    // Terraform's apply runs a plan walk and an apply walk, each with its own provider process.
    assert!(
        w.assume_role_calls() <= 2,
        "one session per process for all 25 copies: {:?}",
        w.standin.calls()
    );
    w.wd.destroy();
    w.assert_empty(place);
}

/// Copies EC2 refuses for the quota (here because the provider's limit is set above it, as it
/// would be with copies started outside Terraform) are waited out, not fatal: the apply ends with
/// every copy made and no error.
#[test]
fn copies_refused_for_the_quota_are_waited_out() {
    if needs_admin(&[Admin::CopyQuota]) {
        return;
    }
    let place = (ACCOUNT_B, REGION);
    let w = world(&[place], 8.0, false);
    w.wd.write_main(&twenty_five_copies(
        &w.source.image_id,
        "max_concurrent_snapshot_copies = 50",
    ));
    apply_all_at_once(&w.wd);
    let quota = w.standin.copy_quota();
    let key = format!("{ACCOUNT_B}/{REGION}");
    assert!(
        quota["refused"][&key].as_u64().unwrap_or(0) > 0,
        "EC2 refused copies: {quota}"
    );
    assert_twenty_five_available(&w.standin);
    w.wd.destroy();
    w.assert_empty(place);
}

#[test]
fn a_role_that_cannot_be_assumed_fails_the_plan() {
    if needs_admin(&[Admin::CopyControl, Admin::CallCounts, Admin::Faults]) {
        return;
    }
    let places = [(ACCOUNT_B, REGION), (ACCOUNT_C, OTHER_REGION)];
    let w = world(&places, 0.5, true);
    w.target(&places);
    let refused = format!("arn:aws:iam::{ACCOUNT_C}:role/ami-importer");
    w.standin
        .inject_fault(&Fault::error("AssumeRole", "AccessDenied", 403).param("RoleArn", &refused));
    w.standin.clear_calls();
    let review = w.wd.plan_json();
    let error = review.only_error();
    assert_eq!(
        error.address,
        address((ACCOUNT_C, OTHER_REGION)),
        "{error:?}"
    );
    assert!(error.code.trim_start().starts_with("role_arn"), "{error:?}");
    let detail = flat(&error.detail);
    assert!(detail.contains(&refused), "{detail}");
    assert!(detail.contains("AccessDenied"), "{detail}");

    let apply = w.wd.try_apply();
    assert!(!apply.success(), "{apply}");
    for account in [ACCOUNT_A, ACCOUNT_B, ACCOUNT_C] {
        let mut mutations = w.standin.mutating_calls(account);
        mutations.remove("AssumeRole");
        assert!(mutations.is_empty(), "{account} changed: {mutations:?}");
    }
    assert!(w.wd.state_list().is_empty());
    for place in places {
        w.assert_empty(place);
    }
}

/// SIGINT in the middle of a fan-out apply, copies pending in several accounts and regions:
/// the next apply converges with exactly one copy in each, and destroy leaves nothing anywhere.
#[test]
fn interrupted_fan_out_converges() {
    if needs_admin(&[Admin::CopyControl]) {
        return;
    }
    let places = [
        (ACCOUNT_B, REGION),
        (ACCOUNT_B, OTHER_REGION),
        (ACCOUNT_C, REGION),
        (ACCOUNT_C, OTHER_REGION),
    ];
    let w = world(&places, 10.0, true);
    w.target(&places);
    let mut apply = w.wd.spawn_apply();
    let deadline = Instant::now() + Duration::from_secs(120);
    let pending = |w: &World| {
        places
            .iter()
            .filter(|(account, region)| {
                w.standin
                    .ec2_in(account, region)
                    .owned_images()
                    .iter()
                    .any(|i| i.state().map(|s| s.as_str()) == Some("pending"))
            })
            .count()
    };
    while pending(&w) < 2 && Instant::now() < deadline && apply.is_running() {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(pending(&w) >= 2, "copies were in flight when interrupted");
    apply.send_sigint_to_group();
    apply.wait_with_timeout(Duration::from_secs(120));

    w.wd.apply();
    for place in places {
        let id = w.copy_id(place);
        w.assert_copy_in(place, &id);
    }
    let plan = w.wd.plan_detailed_exitcode();
    assert_ne!(plan, PLAN_HAS_CHANGES, "converged");
    w.wd.destroy();
    for place in ALL_PLACES.iter().filter(|p| p.0 != ACCOUNT_A) {
        w.assert_empty(*place);
    }
}

/// A hundred target accounts in two Regions each: every role is assumed once per provider
/// process. The SDK's shared identity cache held 64 credential providers and evicted beyond, so
/// from 64 accounts on the roles' sessions evicted each other and were assumed again and again.
#[test]
fn a_hundred_accounts_assume_each_role_once() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let accounts: Vec<String> = (0..100)
        .map(|i| format!("{}", 500_000_000_000u64 + i))
        .collect();
    let standin = StandIn::start();
    let source = standin.ec2(ACCOUNT_A).seed_ami_with_disks(SOURCE_TAGS, 2);
    let mut targets = serde_json::Map::new();
    for account in &accounts {
        for region in [REGION, OTHER_REGION] {
            create_key_in(&standin, account, region, "alias/ami");
            targets.insert(
                format!("{account}/{region}"),
                json!({ "account_id": account, "region": region, "kms_key_id": "alias/ami" }),
            );
        }
    }
    let wd = workdir(&standin, ACCOUNT_A).with_timeout(Duration::from_secs(600));
    wd.copy_tf_files(&workspace_root().join(EXAMPLE_DIR));
    let mut allowed = accounts.clone();
    allowed.push(ACCOUNT_A.to_owned());
    let vars = json!({
        "ami_id": source.image_id,
        "allowed_account_ids": allowed,
        "targets": targets,
        "tags": { "Stage": "PROD" },
    });
    wd.write("terraform.tfvars.json", &vars.to_string());
    standin.clear_calls();
    let plan = wd.plan();
    assert!(
        flat(&plan.stdout).contains("201 to add"),
        "a share and 200 copies: {plan}"
    );
    let assumed = standin
        .calls()
        .get(ACCOUNT_A)
        .and_then(|calls| calls.get("AssumeRole").copied())
        .unwrap_or(0);
    // A plan configures one provider process that plans every resource.
    assert_eq!(assumed, 100, "each of the 100 roles once");
}
