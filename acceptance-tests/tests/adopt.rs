//! Taking over AMIs made without this provider, with Terraform 1.12+ features: `import` blocks
//! by resource identity, `terraform query` with `-generate-config-out` (1.14+), and `moved` from
//! the aws provider's `aws_ami_copy` (1.8+).

use std::thread;
use std::time::{Duration, Instant};

use acceptance_tests::copies::*;
use acceptance_tests::{
    flat, needs_admin, Admin, Ec2, StandIn, Workdir, ACCOUNT_A, ACCOUNT_B, ACCOUNT_C, REGION,
};
use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};

/// The AMI id the import examples show, replaced by a real one.
const PLACEHOLDER_ID: &str = "ami-0123456789abcdef0";

/// The configuration an import of the copy records (see `encrypted_ami_copy::import`).
fn imported_copy_config(source: &str, name: &str, key_arn: &str) -> String {
    format!(
        r#"
resource "imagecopier_encrypted_ami_copy" "app" {{
  source_ami_id = "{source}"
  name          = "{name}"
  description   = "app copy"
  kms_key_id    = "{key_arn}"
  tags          = {{ Name = "app-source", team = "images", Stage = "PROD" }}
}}
"#
    )
}

/// The identity Terraform keeps for `address` (`terraform show -json`), as JSON.
fn state_identity(wd: &Workdir, address: &str) -> serde_json::Value {
    let shown = wd.show_json();
    let resources = shown["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    resources
        .into_iter()
        .find(|r| r["address"] == address)
        .map(|r| r["identity"].clone())
        .unwrap_or_else(|| panic!("{address} not in state: {shown}"))
}

#[test]
fn import_blocks_by_identity() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let (standin, wd, source, key_arn, id) = applied_copy(r#"description = "app copy""#);
    // Every apply and read returns the identity, so state made by apply already has it.
    let identity = state_identity(&wd, ADDRESS);
    assert_eq!(identity["id"], id.as_str(), "{identity}");
    assert_eq!(identity["account_id"], ACCOUNT_B);
    assert_eq!(identity["region"], REGION);
    let name = wd.resource_values(ADDRESS)["name"]
        .as_str()
        .expect("name")
        .to_string();

    // Another account's identity is refused, naming what works, and nothing is imported.
    let wd2 = workdir(&standin, ACCOUNT_B);
    let config = imported_copy_config(&source.image_id, &name, &key_arn);
    wd2.write_main(&format!(
        "{config}\nimport {{\n  to = {ADDRESS}\n  identity = {{ id = \"{id}\", account_id = \"{ACCOUNT_C}\" }}\n}}\n"
    ));
    let refused = wd2.try_plan();
    assert!(!refused.success(), "{refused}");
    let text = flat(&refused.stderr);
    assert!(
        text.contains(&format!("names account {ACCOUNT_C}")) && text.contains(ACCOUNT_B),
        "{refused}"
    );

    // The page's example, with this copy's id.
    let import = example("resources/imagecopier_encrypted_ami_copy/import-by-identity.tf")
        .replace(PLACEHOLDER_ID, &id);
    assert!(
        import.contains(REGION),
        "the example names {REGION}: {import}"
    );
    wd2.write_main(&format!("{config}\n{import}"));
    let plan = wd2.plan();
    assert!(
        plan.stdout
            .contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    standin.clear_calls();
    wd2.apply();
    assert!(
        standin.mutating_calls(ACCOUNT_B).is_empty(),
        "the import changed AWS: {:?}",
        standin.mutating_calls(ACCOUNT_B)
    );
    assert_eq!(state_identity(&wd2, ADDRESS), identity);
    wd2.assert_plan_empty();

    // The share, imported by its identity in the bake account (only the id is required).
    let bake = workdir(&standin, ACCOUNT_A);
    let import = example("resources/imagecopier_ami_share/import-by-identity.tf")
        .replace(PLACEHOLDER_ID, &source.image_id);
    bake.write_main(&format!(
        r#"
{import}
resource "imagecopier_ami_share" "app" {{
  image_id    = "{image}"
  account_ids = ["{ACCOUNT_B}"]
}}
"#,
        image = source.image_id
    ));
    bake.apply();
    let share = state_identity(&bake, "imagecopier_ami_share.app");
    assert_eq!(share["id"], source.image_id.as_str());
    assert_eq!(share["account_id"], ACCOUNT_A);
    assert_eq!(share["region"], REGION);
    bake.assert_plan_empty();
}

/// What a Lambda copier does: CopyImage with Encrypted and the target's key, then tags, outside
/// Terraform. `copied_from_tag` adds the `CopiedFromAMI` tag some copiers write. Returns the id
/// once available.
fn scripted_copy(
    ec2: &Ec2,
    source: &str,
    key_arn: &str,
    name: &str,
    copied_from_tag: bool,
) -> String {
    let mut tags = vec![Tag::builder().key("team").value("images").build()];
    if copied_from_tag {
        tags.push(Tag::builder().key("CopiedFromAMI").value(source).build());
    }
    let spec = |kind: ResourceType| {
        TagSpecification::builder()
            .resource_type(kind)
            .set_tags(Some(tags.clone()))
            .build()
    };
    let copied = ec2
        .block_on(
            ec2.client()
                .copy_image()
                .source_image_id(source)
                .source_region(REGION)
                .name(name)
                .encrypted(true)
                .kms_key_id(key_arn)
                .tag_specifications(spec(ResourceType::Image))
                .tag_specifications(spec(ResourceType::Snapshot))
                .send(),
        )
        .expect("CopyImage");
    let id = copied.image_id().expect("an image id").to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let available = ec2.owned_images().iter().any(|i| {
            i.image_id() == Some(id.as_str()) && i.state().map(|s| s.as_str()) == Some("available")
        });
        if available {
            return id;
        }
        thread::sleep(Duration::from_millis(100));
    }
    panic!("the scripted copy {id} never became available");
}

/// `terraform query -generate-config-out`, asserting success; returns (stdout, generated file).
fn query(wd: &Workdir, list: &str) -> (String, String) {
    wd.write("search.tfquery.hcl", list);
    let out = wd
        .run(&["query", "-no-color", "-generate-config-out=generated.tf"])
        .assert_success();
    let generated = std::fs::read_to_string(wd.path().join("generated.tf"))
        .unwrap_or_else(|err| panic!("generated.tf: {err}: {out}"));
    (out.stdout, generated)
}

#[test]
fn query_adopts_scripted_copies_and_a_share() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    let key_arn = create_key(&standin, ACCOUNT_B, "alias/ami");
    let target = standin.ec2(ACCOUNT_B);
    let tagged = scripted_copy(&target, &source.image_id, &key_arn, "lambda-copy-1", true);
    let untagged = scripted_copy(&target, &source.image_id, &key_arn, "lambda-copy-2", false);
    // B's own bake, unencrypted and not a copy: not listed.
    let not_a_copy = target.seed_ami(&[("team", "images")]).image_id;

    let wd = workdir(&standin, ACCOUNT_B);
    wd.write_main("provider \"imagecopier\" {}\n");
    // Without include_resource Terraform keeps only identities: one search, no call per copy.
    wd.write(
        "search.tfquery.hcl",
        "list \"imagecopier_encrypted_ami_copy\" \"ids\" {\n  provider = imagecopier\n}\n",
    );
    standin.clear_calls();
    let ids_only = wd.run(&["query", "-no-color"]).assert_success();
    for id in [&tagged, &untagged] {
        assert!(ids_only.stdout.contains(id.as_str()), "{ids_only}");
    }
    let calls = standin.calls().get(ACCOUNT_B).cloned().unwrap_or_default();
    assert_eq!(calls.get("DescribeImages"), Some(&1), "{calls:?}");
    for per_copy in ["DescribeSnapshots", "DescribeKey"] {
        assert!(!calls.contains_key(per_copy), "{calls:?}");
    }
    let (listed, generated) = query(
        &wd,
        &example("list-resources/imagecopier_encrypted_ami_copy/copies.tfquery.hcl"),
    );
    for id in [&tagged, &untagged] {
        assert!(listed.contains(id.as_str()), "{id} not listed: {listed}");
        assert!(
            generated.contains(id.as_str()),
            "{id} not generated: {generated}"
        );
    }
    assert!(!listed.contains(&not_a_copy), "{listed}");
    assert!(
        generated
            .matches("resource \"imagecopier_encrypted_ami_copy\"")
            .count()
            == 2,
        "{generated}"
    );
    // The generated configuration imports both as found. What differs is only what this
    // provider writes on every copy and the copier did not: the Encrypted tag on both, and
    // CopiedFromAMI on the one without it.
    let plan = wd.plan();
    assert!(
        plan.stdout
            .contains("2 to import, 0 to add, 2 to change, 0 to destroy"),
        "{plan}\n{generated}"
    );
    assert!(!plan.stdout.contains("must be replaced"), "{plan}");
    let actions = plan
        .stdout
        .split("Terraform will perform the following actions:")
        .nth(1)
        .unwrap_or_default();
    let mut added: Vec<&str> = actions
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("+ ") || l.starts_with("- ") || l.starts_with("-/+"))
        .collect();
    added.sort_unstable();
    let copied_from = format!("+ \"CopiedFromAMI\" = \"{}\"", source.image_id);
    assert_eq!(
        added,
        vec![
            copied_from.as_str(),
            "+ \"Encrypted\"     = \"true\"",
            "+ \"Encrypted\"     = \"true\"",
        ],
        "{plan}"
    );
    apply_adding_only_tags(&standin, &wd);
    wd.assert_plan_empty();

    // The bake account lists the AMI it shared by hand.
    let bake = workdir(&standin, ACCOUNT_A);
    bake.write_main("provider \"imagecopier\" {}\n");
    let (listed, generated) = query(
        &bake,
        &example("list-resources/imagecopier_ami_share/shares.tfquery.hcl"),
    );
    assert!(listed.contains(&source.image_id), "{listed}");
    assert!(generated.contains(ACCOUNT_B), "{generated}");
    bake.apply();
    bake.assert_plan_empty();
}

/// The state the aws provider (v6) writes for an `aws_ami_copy` of `source` made as `id`, with
/// its snapshot, as Terraform stores it (state format 4).
fn aws_ami_copy_state(id: &str, snapshot: &str, source: &str, key_arn: &str) -> String {
    let attributes = serde_json::json!({
        "id": id,
        "arn": format!("arn:aws:ec2:{REGION}::image/{id}"),
        "architecture": "x86_64",
        "deprecation_time": "",
        "description": "",
        "destination_outpost_arn": null,
        "ebs_block_device": [{
            "delete_on_termination": true,
            "device_name": "/dev/xvda",
            "encrypted": true,
            "iops": 0,
            "outpost_arn": "",
            "snapshot_id": snapshot,
            "throughput": 0,
            "volume_size": 8,
            "volume_type": "gp3"
        }],
        "ena_support": false,
        "encrypted": true,
        "ephemeral_block_device": [],
        "kms_key_id": key_arn,
        "name": "legacy-copy",
        "owner_id": ACCOUNT_B,
        "platform_details": "Linux/UNIX",
        "region": REGION,
        "root_device_name": "/dev/xvda",
        "source_ami_id": source,
        "source_ami_region": REGION,
        "tags": { "team": "images" },
        "tags_all": { "team": "images" },
        "timeouts": null,
        "virtualization_type": "hvm"
    });
    serde_json::json!({
        "version": 4,
        "terraform_version": "1.9.8",
        "serial": 3,
        "lineage": "0b6c3f5e-2f7e-4c55-9d8e-3a1d1c0f0a01",
        "outputs": {},
        "resources": [{
            "mode": "managed",
            "type": "aws_ami_copy",
            "name": "app",
            "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
            "instances": [{
                "schema_version": 0,
                "attributes": attributes,
                "sensitive_attributes": [],
                "private": "eyJzY2hlbWFfdmVyc2lvbiI6IjAifQ=="
            }]
        }],
        "check_results": null
    })
    .to_string()
}

#[test]
fn moved_from_aws_ami_copy() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    let key_arn = create_key(&standin, ACCOUNT_B, "alias/ami");
    let target = standin.ec2(ACCOUNT_B);
    let id = scripted_copy(&target, &source.image_id, &key_arn, "legacy-copy", false);
    let image = target
        .owned_images()
        .into_iter()
        .find(|i| i.image_id() == Some(id.as_str()))
        .expect("the copy");
    let snapshot = acceptance_tests::snapshot_ids(&image)[0].clone();

    // Terraform must start the provider a state names, even to move its resources away, so a
    // test-only stand-in for hashicorp/aws serves aws_ami_copy (no registry is reachable here).
    let wd = workdir(&standin, ACCOUNT_B);
    let stub = wd.path().join("aws-stub");
    std::fs::create_dir(&stub).expect("stub dir");
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_terraform-provider-aws-stub"),
        stub.join("terraform-provider-aws"),
    )
    .expect("linking the stub");
    let wd = wd.with_dev_override("hashicorp/aws", &stub);
    wd.write(
        "terraform.tfstate",
        &aws_ami_copy_state(&id, &snapshot, &source.image_id, &key_arn),
    );
    wd.write_main(&example("migrate-from-aws-ami-copy/main.tf"));
    wd.write(
        "terraform.tfvars",
        &format!(
            "source_ami_id = \"{}\"\nkms_key_id    = \"{key_arn}\"\n",
            source.image_id
        ),
    );
    let plan = wd.plan();
    assert!(
        plan.stdout.contains("(moved from aws_ami_copy.app)"),
        "{plan}"
    );
    // Only what aws_ami_copy never wrote differs: the fact tags.
    assert!(
        plan.stdout
            .contains(&format!("+ \"CopiedFromAMI\" = \"{}\"", source.image_id))
            && plan.stdout.contains("+ \"Encrypted\"     = \"true\""),
        "{plan}"
    );
    assert!(!plan.stdout.contains("must be replaced"), "{plan}");
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    apply_adding_only_tags(&standin, &wd);
    assert_eq!(wd.state_list(), vec![ADDRESS.to_string()]);
    assert_eq!(state_identity(&wd, ADDRESS)["id"], id.as_str());
    wd.assert_plan_empty();
}

#[test]
fn state_from_terraform_1_11_gains_identity_on_upgrade() {
    // Terraform 1.11 knows no identity: the provider's identity fields never reach it, and a copy
    // and a share go through apply, drift-free plan and import as before. Then the team
    // upgrades Terraform: the first 1.15 plan is empty and the refresh records the identity.
    let standin = StandIn::start();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    create_key(&standin, ACCOUNT_B, "alias/ami");
    let older = Workdir::new(&acceptance_tests::Terraform::v1_11())
        .with_standin(&standin, ACCOUNT_B)
        .with_timeout(Duration::from_secs(240));
    older.write_main(&copy_config(&source.image_id, "alias/ami", ""));
    older.apply();
    older.assert_plan_empty();
    let id = older.resource_values(ADDRESS)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let before = older.show_json();
    assert!(
        before.to_string().find("\"identity\"").is_none(),
        "Terraform 1.11 stored an identity: {before}"
    );

    let newer = workdir(&standin, ACCOUNT_B);
    newer.write_main(&copy_config(&source.image_id, "alias/ami", ""));
    std::fs::copy(
        older.path().join("terraform.tfstate"),
        newer.path().join("terraform.tfstate"),
    )
    .expect("carrying the state over");
    newer.assert_plan_empty();
    newer
        .run(&["apply", "-refresh-only", "-auto-approve", "-no-color"])
        .assert_success();
    let identity = state_identity(&newer, ADDRESS);
    assert_eq!(identity["id"], id.as_str(), "{identity}");
    assert_eq!(identity["account_id"], ACCOUNT_B);
    newer.assert_plan_empty();
}

/// A Lambda copier tagged the AMI `App = web, CopiedBy = lambda` and its snapshots only
/// `CopiedBy`. Adopting it with `terraform query -generate-config-out` keeps every tag: the
/// generated `tags` hold `App`, the apply removes nothing and brings the snapshots up to the
/// AMI's tags, and the plan names the snapshots that lack `App` before it does.
#[test]
fn query_adoption_keeps_the_tags_only_the_ami_has() {
    if needs_admin(&[Admin::CallCounts]) {
        return;
    }
    let standin = StandIn::start();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    let key_arn = create_key(&standin, ACCOUNT_B, "alias/ami");
    let ec2 = standin.ec2(ACCOUNT_B);
    let copied = ec2
        .block_on(
            ec2.client()
                .copy_image()
                .source_image_id(&source.image_id)
                .source_region(REGION)
                .name("lambda-copy")
                .encrypted(true)
                .kms_key_id(&key_arn)
                .tag_specifications(
                    TagSpecification::builder()
                        .resource_type(ResourceType::Image)
                        .tags(Tag::builder().key("App").value("web").build())
                        .tags(Tag::builder().key("CopiedBy").value("lambda").build())
                        .build(),
                )
                .tag_specifications(
                    TagSpecification::builder()
                        .resource_type(ResourceType::Snapshot)
                        .tags(Tag::builder().key("CopiedBy").value("lambda").build())
                        .build(),
                )
                .send(),
        )
        .expect("CopyImage");
    let id = copied.image_id().expect("an image id").to_owned();
    let (_, _) = wait_for_copy_state(&ec2, "available", Duration::from_secs(60)).expect("copied");

    let wd = workdir(&standin, ACCOUNT_B);
    wd.write_main("provider \"imagecopier\" {}\n");
    let (listed, generated) = query(
        &wd,
        "list \"imagecopier_encrypted_ami_copy\" \"found\" {\n  provider         = imagecopier\n  \
         include_resource = true\n  config {\n    tags = { CopiedBy = \"lambda\" }\n  }\n}\n",
    );
    assert!(listed.contains(&id), "{listed}");
    let flat_generated = flat(&generated);
    assert!(
        flat_generated.contains("App = \"web\"")
            && flat_generated.contains("CopiedBy = \"lambda\""),
        "{generated}"
    );
    let plan = wd.plan();
    let text = flat(&plan.combined());
    let image = ec2.describe_image(&id).expect("the copy");
    for snapshot in acceptance_tests::snapshot_ids(&image) {
        assert!(
            text.contains(&format!("snapshot {snapshot} lacks \"App\"")),
            "the plan names the snapshot: {plan}"
        );
    }
    apply_adding_only_tags(&standin, &wd);
    let image = ec2.describe_image(&id).expect("the copy");
    assert_eq!(acceptance_tests::image_tag(&image, "App"), Some("web"));
    for snapshot in acceptance_tests::snapshot_ids(&image) {
        assert_eq!(snapshot_tag(&ec2, &snapshot, "App").as_deref(), Some("web"));
    }
    wd.assert_plan_empty();
}
