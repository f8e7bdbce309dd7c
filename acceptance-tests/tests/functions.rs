//! `provider::imagecopier::key_policy_statements` (Terraform 1.8+): the key policy statements
//! that let accounts, organizations and OUs copy AMIs encrypted with a customer managed key,
//! called by real Terraform, and put to work in a key policy against the stand-in's KMS.

use acceptance_tests::copies::*;
use acceptance_tests::{
    flat, needs_admin, Admin, StandIn, Terraform, Workdir, ACCOUNT_A, ACCOUNT_B,
};
use aws_sdk_ec2::types::{
    CreateVolumePermission, CreateVolumePermissionModifications, LaunchPermission,
    LaunchPermissionModifications,
};
use serde_json::{json, Value};

const ORG: &str = "arn:aws:organizations::111111111111:organization/o-exampleorgid";
const OU: &str = "arn:aws:organizations::111111111111:ou/o-exampleorgid/ou-ab12-cd34ef56";

/// The statements Terraform computes for these arguments (HCL expressions).
fn statements(wd: &Workdir, accounts: &str, organizations: &str, units: &str) -> Value {
    wd.write_main(&format!(
        r#"
output "statements" {{
  value = jsondecode(provider::imagecopier::key_policy_statements({accounts}, {organizations}, {units}))
}}
"#
    ));
    wd.apply();
    wd.output_json()["statements"]["value"].clone()
}

fn check_calls(terraform: Terraform) {
    let wd = Workdir::new(&terraform);
    let out = statements(&wd, r#"["222222222222"]"#, "null", "null");
    let list = out
        .as_array()
        .unwrap_or_else(|| panic!("{}: {out}", terraform.label()));
    assert_eq!(list.len(), 2, "{out}");
    assert_eq!(
        list[0]["Principal"]["AWS"],
        json!(["arn:aws:iam::222222222222:root"])
    );
    assert_eq!(list[1]["Action"], "kms:CreateGrant");

    let out = statements(&wd, "[]", &format!(r#"["{ORG}"]"#), &format!(r#"["{OU}"]"#));
    let text = out.to_string();
    assert!(
        text.contains("aws:PrincipalOrgID") && text.contains("o-exampleorgid"),
        "{out}"
    );
    assert!(
        text.contains("o-exampleorgid/*/ou-ab12-cd34ef56/*"),
        "{out}"
    );

    // The partition, the variadic fourth argument: accounts in AWS China; a typo is refused.
    let out = statements(&wd, r#"["222222222222"]"#, "null", r#"null, "aws-cn""#);
    assert_eq!(
        out[0]["Principal"]["AWS"],
        json!(["arn:aws-cn:iam::222222222222:root"]),
        "{out}"
    );
    wd.write_main(
        "output \"x\" {\n  value = provider::imagecopier::key_policy_statements([\"222222222222\"], [], [], \"aws-china\")\n}\n",
    );
    let plan = wd.try_plan();
    assert!(!plan.success(), "{plan}");
    assert!(
        flat(&plan.stderr).contains("must be an AWS partition"),
        "{}: {plan}",
        terraform.label()
    );

    // A malformed OU is refused at plan, naming the argument.
    wd.write_main(
        "output \"x\" {\n  value = provider::imagecopier::key_policy_statements([], [], [\"ou-nope\"])\n}\n",
    );
    let plan = wd.try_plan();
    assert!(!plan.success(), "{plan}");
    let text = flat(&plan.stderr);
    assert!(
        text.contains("organizational unit ARN") && text.contains("ou-nope"),
        "{}: {plan}",
        terraform.label()
    );
}

#[test]
fn key_policy_statements_terraform_1_15() {
    check_calls(Terraform::v1_15());
}

#[test]
fn the_function_example_applies() {
    let example = acceptance_tests::workspace_root()
        .join("examples/functions/key_policy_statements/function.tf");
    let wd = Workdir::new(&Terraform::default());
    wd.write_main(&std::fs::read_to_string(example).expect("the example"));
    wd.write(
        "terraform.tfvars",
        &format!("copy_account_ids = [\"{ACCOUNT_B}\"]\norganization_arns = [\"{ORG}\"]\n"),
    );
    wd.apply();
    let out = &wd.output_json()["copy_statements"]["value"];
    assert_eq!(
        out.as_array().map(Vec::len),
        Some(4),
        "accounts and organization, 2 each: {out}"
    );
    assert_eq!(
        out[0]["Principal"]["AWS"],
        json!([format!("arn:aws:iam::{ACCOUNT_B}:root")])
    );
}

#[test]
fn key_policy_statements_terraform_1_11() {
    check_calls(Terraform::v1_11());
}

#[test]
fn an_org_member_copies_once_the_statements_are_in_the_key_policy() {
    if needs_admin(&[Admin::Organizations]) {
        return;
    }
    // The bake account shares the AMI with its organization and its key through the function's
    // statements; ACCOUNT_B is a member. Snapshots cannot be shared with an organization, so
    // they go to the account, as AWS requires for a copy.
    let standin = StandIn::start();
    standin.set_organization(ACCOUNT_B, ORG, &[OU]);
    let created = kms(&standin, ACCOUNT_A, "CreateKey", json!({}));
    let key = created["KeyMetadata"]["Arn"]
        .as_str()
        .expect("key ARN")
        .to_string();
    let source = standin.ec2(ACCOUNT_A).seed_encrypted_ami(SOURCE_TAGS, &key);
    let bake_ec2 = standin.ec2(ACCOUNT_A);
    let launch = LaunchPermissionModifications::builder()
        .add(LaunchPermission::builder().organization_arn(ORG).build())
        .build();
    bake_ec2
        .block_on(
            bake_ec2
                .client()
                .modify_image_attribute()
                .image_id(&source.image_id)
                .launch_permission(launch)
                .send(),
        )
        .expect("sharing the AMI with the organization");
    for snapshot in &source.snapshot_ids {
        let volume = CreateVolumePermissionModifications::builder()
            .add(CreateVolumePermission::builder().user_id(ACCOUNT_B).build())
            .build();
        bake_ec2
            .block_on(
                bake_ec2
                    .client()
                    .modify_snapshot_attribute()
                    .snapshot_id(snapshot)
                    .create_volume_permission(volume)
                    .send(),
            )
            .expect("sharing the snapshot with the account");
    }

    // Before: the default key policy trusts only the bake account.
    let wd = workdir(&standin, ACCOUNT_B);
    create_key(&standin, ACCOUNT_B, "alias/ami");
    // The key is not shared yet: the create timeout bounds how long the apply waits for it.
    wd.write_main(&copy_config(
        &source.image_id,
        "alias/ami",
        &unshared_timeout(),
    ));
    let refused = wd.try_apply();
    assert!(
        flat(&refused.stderr).contains("Source KMS key not usable by this account"),
        "{refused}"
    );

    let bake = workdir(&standin, ACCOUNT_A);
    let extra = statements(&bake, "[]", &format!(r#"["{ORG}"]"#), "[]");
    let mut all = vec![json!({
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": { "AWS": format!("arn:aws:iam::{ACCOUNT_A}:root") },
        "Action": "kms:*",
        "Resource": "*"
    })];
    all.extend(extra.as_array().cloned().unwrap_or_default());
    let policy = json!({ "Version": "2012-10-17", "Statement": all }).to_string();
    kms(
        &standin,
        ACCOUNT_A,
        "PutKeyPolicy",
        json!({ "KeyId": key, "PolicyName": "default", "Policy": policy }),
    );
    wd.apply();
    assert_eq!(wd.resource_values(ADDRESS)["state"], "available");
    wd.assert_plan_empty();
}
