//! New AMI versions, the everyday job (docs/guides/new-ami-versions.md): with the example's
//! `create_before_destroy`, every target account owns an available copy at every moment of the
//! rotation, which a watcher checks while the apply runs; without it, Terraform's default order
//! leaves a gap, which the same watcher sees. And a replacement under `create_before_destroy`
//! never takes over, and so never loses, the copy it replaces.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use acceptance_tests::copies::{applied_copy, copy_config, create_key, ADDRESS};
use acceptance_tests::{
    flat, image_tag, needs_admin, workspace_root, Admin, Ec2, SeededAmi, StandIn, Terraform,
    Workdir, ACCOUNT_A, ACCOUNT_B, ACCOUNT_C,
};

/// How long each copy takes in the stand-in during a rotation: long enough that a gap in
/// availability spans many of the watcher's looks.
const COPY_SECONDS: f64 = 5.0;
/// How often the watcher looks at the target accounts.
const WATCH_INTERVAL: Duration = Duration::from_millis(100);

/// A moment when a target account had no available copy: (account, what it owned).
type Gap = (String, Vec<(String, String)>);

/// Looks at every target account until stopped, recording each moment one of them owns no
/// available AMI.
struct Watcher {
    stop: Arc<AtomicBool>,
    gaps: Arc<Mutex<Vec<Gap>>>,
    looks: Arc<Mutex<u64>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Watcher {
    fn start(standin: &StandIn, accounts: &[&str]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let gaps = Arc::new(Mutex::new(Vec::new()));
        let looks = Arc::new(Mutex::new(0));
        let clients: Vec<Ec2> = accounts
            .iter()
            .map(|a| Ec2::new(standin.endpoint(), a))
            .collect();
        let thread = {
            let (stop, gaps, looks) = (stop.clone(), gaps.clone(), looks.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    for ec2 in &clients {
                        let owned: Vec<(String, String)> = ec2
                            .owned_images()
                            .iter()
                            .map(|i| {
                                let id = i.image_id().unwrap_or_default().to_owned();
                                let state = i.state().map(|s| s.as_str().to_owned());
                                (id, state.unwrap_or_default())
                            })
                            .collect();
                        if !owned.iter().any(|(_, state)| state == "available") {
                            let gap = (ec2.account().to_owned(), owned);
                            gaps.lock().expect("gaps").push(gap);
                        }
                    }
                    *looks.lock().expect("looks") += 1;
                    thread::sleep(WATCH_INTERVAL);
                }
            })
        };
        Self {
            stop,
            gaps,
            looks,
            thread: Some(thread),
        }
    }

    /// Stops watching; returns (looks taken, gaps seen).
    fn finish(mut self) -> (u64, Vec<Gap>) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the watcher thread");
        }
        let looks = *self.looks.lock().expect("looks");
        let gaps = self.gaps.lock().expect("gaps").clone();
        (looks, gaps)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A bake AMI of release `release`, tagged as the example's source.
fn bake(standin: &StandIn, release: &str) -> SeededAmi {
    standin.seed_ami(ACCOUNT_A, &[("Team", "platform"), ("Release", release)])
}

/// The example in a workdir acting as the bake account, its keys made, `source` as the AMI.
fn example_workdir(standin: &StandIn, source: &str) -> Workdir {
    create_key(standin, ACCOUNT_B, "alias/ami");
    create_key(standin, ACCOUNT_C, "alias/ami");
    let wd = Workdir::new(&Terraform::default())
        .with_standin(standin, ACCOUNT_A)
        .with_timeout(Duration::from_secs(600));
    wd.copy_tf_files(&workspace_root().join("examples/cross-account"));
    wd.write(
        "terraform.tfvars",
        &format!("source_ami_id = \"{source}\"\n"),
    );
    wd
}

/// Points the example at `source`, plans as the guide says (a saved plan), and applies that
/// plan with the watcher running; returns (plan output, looks, gaps).
fn rotate(standin: &StandIn, wd: &Workdir, source: &str) -> (String, u64, Vec<Gap>) {
    wd.write(
        "terraform.tfvars",
        &format!("source_ami_id = \"{source}\"\n"),
    );
    let plan = wd
        .run(&["plan", "-input=false", "-no-color", "-out=rotate.tfplan"])
        .assert_success();
    let watcher = Watcher::start(standin, &[ACCOUNT_B, ACCOUNT_C]);
    let started = Instant::now();
    wd.run(&["apply", "-input=false", "-no-color", "rotate.tfplan"])
        .assert_success();
    let (looks, gaps) = watcher.finish();
    println!(
        "rotation to {source}: apply took {:.1}s, {looks} looks at the target accounts, {} without an available copy",
        started.elapsed().as_secs_f64(),
        gaps.len()
    );
    (plan.stdout, looks, gaps)
}

/// Panics unless each target account owns exactly one AMI, available and copied from `source`.
#[track_caller]
fn assert_only_copy_of(standin: &StandIn, source: &str) {
    for account in [ACCOUNT_B, ACCOUNT_C] {
        let owned = standin.ec2(account).owned_images();
        assert_eq!(owned.len(), 1, "{account} owns {owned:?}");
        let image = &owned[0];
        assert_eq!(image.state().map(|s| s.as_str()), Some("available"));
        assert_eq!(image_tag(image, "CopiedFromAMI"), Some(source), "{image:?}");
    }
}

#[test]
fn new_ami_version_keeps_an_available_copy_in_every_account() {
    if needs_admin(&[Admin::CopyControl]) {
        return;
    }
    let standin = StandIn::start();
    let v1 = bake(&standin, "1");
    let wd = example_workdir(&standin, &v1.image_id);
    wd.apply();
    assert_only_copy_of(&standin, &v1.image_id);

    // The recommended configuration: create_before_destroy on the copies.
    let main = std::fs::read_to_string(wd.path().join("main.tf")).expect("main.tf");
    assert_eq!(
        main.matches("create_before_destroy = true").count(),
        2,
        "the example's copies use create_before_destroy"
    );
    let v2 = bake(&standin, "2");
    standin.set_copy_duration(COPY_SECONDS);
    let (plan, looks, gaps) = rotate(&standin, &wd, &v2.image_id);
    for address in [
        "imagecopier_ami_share.app",
        "imagecopier_encrypted_ami_copy.prod",
        "imagecopier_encrypted_ami_copy.staging",
    ] {
        assert!(
            plan.contains(&format!("# {address} must be replaced")),
            "{plan}"
        );
    }
    assert!(
        plan.contains("+/- create replacement and then destroy"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 3 to add, 0 to change, 3 to destroy."),
        "{plan}"
    );
    assert!(looks > 10, "the watcher looked {looks} times");
    assert!(
        gaps.is_empty(),
        "an account had no available copy: {gaps:?}"
    );
    assert_only_copy_of(&standin, &v2.image_id);
    wd.assert_plan_empty();

    // The control: Terraform's default order (destroy first) leaves each account without a
    // copy while the new one is made, and the watcher sees it.
    let default_order = main.replace(
        "create_before_destroy = true",
        "create_before_destroy = false",
    );
    wd.write("main.tf", &default_order);
    let v3 = bake(&standin, "3");
    let (plan, _, gaps) = rotate(&standin, &wd, &v3.image_id);
    assert!(
        plan.contains("-/+ destroy and then create replacement"),
        "{plan}"
    );
    for account in [ACCOUNT_B, ACCOUNT_C] {
        assert!(
            gaps.iter().any(|(a, _)| a == account),
            "the watcher saw no gap in {account} with the default order: {gaps:?}"
        );
    }
    assert_only_copy_of(&standin, &v3.image_id);
    wd.destroy();
}

/// `terraform apply -replace` of a copy with create_before_destroy keeps the default name's
/// inputs, so the old copy still holds that name while the new one is made: the new copy gets a
/// name of its own, the old one is deleted, and the account never loses its copy.
#[test]
fn replace_with_create_before_destroy_keeps_a_copy() {
    let lifecycle = "lifecycle {\n    create_before_destroy = true\n  }";
    let (standin, wd, source, _key, first) = applied_copy(lifecycle);
    let ec2 = standin.ec2(ACCOUNT_B);
    let mut previous = (first, wd.resource_values(ADDRESS)["name"].to_string());
    for round in 1..=2 {
        let plan = wd
            .run(&[
                "plan",
                "-input=false",
                "-no-color",
                &format!("-replace={ADDRESS}"),
            ])
            .assert_success();
        assert!(
            plan.stdout
                .contains("+/- create replacement and then destroy"),
            "{plan}"
        );
        let applied = wd
            .run(&[
                "apply",
                "-auto-approve",
                "-input=false",
                "-no-color",
                &format!("-replace={ADDRESS}"),
            ])
            .assert_success();
        // In round 1 the old copy holds the default name: the warning names it, and it is deleted
        // next. In round 2 the old copy has a name of its own, and the default name is free again.
        let text = flat(&applied.combined());
        let warned =
            text.contains("Default name held by another AMI") && text.contains(&previous.0);
        assert_eq!(warned, round == 1, "round {round}: {applied}");
        let values = wd.resource_values(ADDRESS);
        let id = values["id"].as_str().expect("id").to_owned();
        assert_ne!(id, previous.0, "round {round}: the copy was not replaced");
        let owned = ec2.owned_images();
        assert_eq!(owned.len(), 1, "round {round}: {owned:?}");
        assert_eq!(owned[0].image_id(), Some(id.as_str()), "round {round}");
        assert_eq!(owned[0].state().map(|s| s.as_str()), Some("available"));
        assert_eq!(
            image_tag(&owned[0], "CopiedFromAMI"),
            Some(source.image_id.as_str())
        );
        let name = values["name"].to_string();
        assert_ne!(
            name, previous.1,
            "round {round}: two copies cannot share a name"
        );
        wd.assert_plan_empty();
        previous = (id, name);
    }
}

/// A configured name that does not change with the source cannot be created beside the copy it
/// replaces: the create stops before copying, naming the AMI that holds the name, and the old
/// copy stays, still in state.
#[test]
fn fixed_name_with_create_before_destroy_is_refused_before_copying() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let v1 = acceptance_tests::copies::shared_source(&standin, &[ACCOUNT_B]);
    create_key(&standin, ACCOUNT_B, "alias/ami");
    let wd = acceptance_tests::copies::workdir(&standin, ACCOUNT_B);
    let extra = "name = \"app-encrypted\"\n  lifecycle {\n    create_before_destroy = true\n  }";
    wd.write_main(&copy_config(&v1.image_id, "alias/ami", extra));
    wd.apply();
    let old = wd.resource_values(ADDRESS)["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let v2 = acceptance_tests::copies::shared_source(&standin, &[ACCOUNT_B]);
    wd.write_main(&copy_config(&v2.image_id, "alias/ami", extra));
    standin.clear_calls();
    let out = wd.try_apply().assert_failure();
    // Terraform wraps the detail; compare with the line breaks flattened.
    let text = flat(&out.combined());
    assert!(
        text.contains(&format!("is already used in this account by {old}")),
        "{out}"
    );
    assert!(text.contains("Nothing was copied"), "{out}");
    assert!(
        !standin.mutating_calls(ACCOUNT_B).contains_key("CopyImage"),
        "{out}"
    );
    let owned = standin.ec2(ACCOUNT_B).owned_images();
    assert_eq!(owned.len(), 1, "{owned:?}");
    assert_eq!(owned[0].image_id(), Some(old.as_str()));
    assert_eq!(wd.resource_values(ADDRESS)["id"], old.as_str());
}
