//! What a pull-request reviewer reads, from Terraform's machine-readable plan: tag drift shows
//! the value found next to the value to be written, and `exclusive = true` names every grant it
//! will remove before it removes any. (A correct configuration planning without any warning is
//! checked by `encrypted_ami_copy::cross_account`.)

use acceptance_tests::copies::{applied_copy, tag_snapshot, ADDRESS};
use acceptance_tests::plan_json::resource_change;
use acceptance_tests::{
    needs_admin, snapshot_ids, Admin, StandIn, Terraform, Workdir, ACCOUNT_A, ACCOUNT_B, ACCOUNT_C,
};

#[test]
fn tag_drift_shows_the_value_found() {
    let (standin, wd, _source, _key, id) = applied_copy("");
    let ec2 = standin.ec2(ACCOUNT_B);
    // Someone edits a tag on the AMI and adds one to a single snapshot.
    tag_snapshot(&ec2, &id, "team", "edited-by-hand");
    let snapshot_id = snapshot_ids(&ec2.describe_image(&id).expect("copy"))[0].clone();
    tag_snapshot(&ec2, &snapshot_id, "AddedByHand", "yes");

    let plan = wd.saved_plan();
    let change = resource_change(&plan, ADDRESS);
    assert_eq!(
        change["actions"],
        serde_json::json!(["update"]),
        "{change:#}"
    );
    let (before, after) = (&change["before"]["tags_all"], &change["after"]["tags_all"]);
    assert_eq!(before["team"], "edited-by-hand", "{change:#}");
    assert_eq!(after["team"], "images", "{change:#}");
    assert_eq!(before["AddedByHand"], "yes", "{change:#}");
    assert!(after.get("AddedByHand").is_none(), "{change:#}");

    wd.run(&["apply", "-input=false", "-no-color", "review.tfplan"])
        .assert_success();
    wd.assert_plan_empty();
}

/// A workdir acting as the bake account.
fn bake_workdir(standin: &StandIn) -> Workdir {
    Workdir::new(&Terraform::default()).with_standin(standin, ACCOUNT_A)
}

fn share(image_id: &str, exclusive: bool) -> String {
    format!(
        "resource \"imagecopier_ami_share\" \"app\" {{\n  image_id    = \"{image_id}\"\n  account_ids = [\"{ACCOUNT_B}\"]\n  exclusive   = {exclusive}\n}}\n"
    )
}

/// Makes `image_id` public (with `public`) and shares it with `account`, as someone outside
/// Terraform would.
fn grant_outside_terraform(standin: &StandIn, image_id: &str, public: bool, account: &str) {
    let ec2 = standin.ec2(ACCOUNT_A);
    ec2.change_launch_permission(image_id, account, true);
    if public {
        ec2.allow_public_images();
        ec2.change_launch_permission(image_id, "all", true);
    }
}

/// Who may launch `image_id`: (accounts, public).
fn launch_permissions(standin: &StandIn, image_id: &str) -> (Vec<String>, bool) {
    let (accounts, public) = standin.ec2(ACCOUNT_A).launch_permissions(image_id);
    (accounts.into_iter().collect(), public)
}

#[test]
fn exclusive_names_what_it_removes() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let ami = standin.seed_ami(ACCOUNT_A, &[("Name", "app")]);
    let image_id = ami.image_id.as_str();
    grant_outside_terraform(&standin, image_id, true, ACCOUNT_C);

    // Created exclusive: the plan's one warning lists public access first, then the account.
    let wd = bake_workdir(&standin);
    wd.write_main(&share(image_id, true));
    standin.clear_calls();
    let review = wd.plan_json();
    assert!(review.output.success(), "{}", review.output);
    let warnings = review.of("warning");
    let [warning] = warnings.as_slice() else {
        panic!("expected one warning: {:#?}", review.diagnostics);
    };
    assert!(
        warning.code.trim_start().starts_with("exclusive"),
        "{warning:#?}"
    );
    let public_at = warning
        .detail
        .find("public launch permission")
        .expect("public access named");
    let account_at = warning
        .detail
        .find(&format!(
            "launch permission on {image_id} for account {ACCOUNT_C}"
        ))
        .expect("the account named");
    assert!(
        public_at < account_at,
        "public access comes first: {warning:#?}"
    );
    assert!(
        standin.mutating_calls(ACCOUNT_A).is_empty(),
        "the plan changed nothing"
    );
    let plan = wd.saved_plan();
    assert_eq!(
        resource_change(&plan, "imagecopier_ami_share.app")["after"]["public"],
        false
    );
    wd.run(&["apply", "-input=false", "-no-color", "review.tfplan"])
        .assert_success();
    assert_eq!(
        launch_permissions(&standin, image_id),
        (vec![ACCOUNT_B.to_owned()], false)
    );
    wd.assert_plan_empty();

    // Turning exclusive on for a share that was not: the same warning, for the grant made since.
    wd.write_main(&share(image_id, false));
    wd.apply();
    grant_outside_terraform(&standin, image_id, false, ACCOUNT_C);
    wd.assert_plan_empty(); // not exclusive: other grants are left alone
    wd.write_main(&share(image_id, true));
    let review = wd.plan_json();
    let warnings = review.of("warning");
    let [warning] = warnings.as_slice() else {
        panic!("expected one warning: {:#?}", review.diagnostics);
    };
    assert!(
        warning.detail.contains(&format!("for account {ACCOUNT_C}")),
        "{warning:#?}"
    );
    assert!(!warning.detail.contains("public"), "{warning:#?}");

    // A correct exclusive share with nothing outside it plans without a warning.
    wd.apply();
    let review = wd.plan_json();
    assert!(review.diagnostics.is_empty(), "{:#?}", review.diagnostics);
}
