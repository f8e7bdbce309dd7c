//! Maps and sets that are only partly known when Terraform asks: `{ Stage = each.key }` while it
//! validates a `for_each` resource, or a tag taken from a resource created in the same apply.
//! Both are ordinary configuration; the provider must plan them as "known after apply", never
//! fail them as a type error.

use acceptance_tests::copies::*;
use acceptance_tests::{flat, image_tag, StandIn, ACCOUNT_A, ACCOUNT_B, ACCOUNT_C};

#[test]
fn for_each_copies_with_tags_from_each_key_and_another_resource() {
    let standin = StandIn::start();
    let source = shared_source(&standin, &[ACCOUNT_B]);
    create_key(&standin, ACCOUNT_B, "alias/ami");
    let wd = workdir(&standin, ACCOUNT_B);
    wd.write_main(&format!(
        r#"
resource "terraform_data" "build" {{
  input = "build-7"
}}
resource "imagecopier_encrypted_ami_copy" "app" {{
  for_each      = toset(["blue", "green"])
  source_ami_id = "{}"
  kms_key_id    = "alias/ami"
  name          = "app-${{each.key}}"
  source_tags   = {{ Name = "app-${{each.key}}" }}
  tags          = {{ Stage = each.key, Build = terraform_data.build.output }}
}}
"#,
        source.image_id
    ));
    let plan = wd.plan();
    let text = flat(&plan.stdout);
    assert!(text.contains("Plan: 3 to add"), "{plan}");
    assert!(
        text.contains(r#""Build" = (known after apply)"#),
        "the tag from another resource is planned as unknown: {plan}"
    );
    assert!(text.contains(r#""Stage" = "blue""#), "{plan}");
    wd.apply();
    let images = standin.ec2(ACCOUNT_B).owned_images();
    assert_eq!(images.len(), 2, "{images:?}");
    for image in &images {
        assert_eq!(image_tag(image, "Build"), Some("build-7"));
        let stage = image_tag(image, "Stage").expect("Stage tag");
        assert_eq!(
            image_tag(image, "Name"),
            Some(format!("app-{stage}").as_str())
        );
    }
    wd.assert_plan_empty();
}

#[test]
fn a_share_with_an_account_known_only_at_apply() {
    let standin = StandIn::start();
    let ami = standin.seed_ami(ACCOUNT_A, SOURCE_TAGS);
    let wd = workdir(&standin, ACCOUNT_A);
    wd.write_main(&format!(
        r#"
resource "terraform_data" "account" {{
  input = "{ACCOUNT_C}"
}}
resource "imagecopier_ami_share" "app" {{
  for_each    = toset(["one"])
  image_id    = "{}"
  account_ids = ["{ACCOUNT_B}", terraform_data.account.output]
}}
"#,
        ami.image_id
    ));
    let plan = wd.plan();
    assert!(flat(&plan.stdout).contains("Plan: 2 to add"), "{plan}");
    wd.apply();
    let (accounts, _) = standin.ec2(ACCOUNT_A).launch_permissions(&ami.image_id);
    assert_eq!(
        accounts.into_iter().collect::<Vec<_>>(),
        [ACCOUNT_B, ACCOUNT_C]
    );
    wd.assert_plan_empty();
}
