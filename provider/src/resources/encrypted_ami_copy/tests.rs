//! Table-driven tests of the resource's pure rules.

use std::collections::BTreeMap;

use super::model::{CopyModel, Tags};
use super::rules::*;
use super::tag_rules::*;
use super::timeouts::Timeouts;
use crate::protocol::diagnostics::AttrPath;
use crate::protocol::typed::Field;

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_ARN: &str = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ALIAS_ARN: &str = "arn:aws:kms:eu-west-1:222222222222:alias/ami";

#[test]
fn tags_all_layers_default_source_tags_then_facts() {
    let cases = [
        (
            tags(&[]),
            tags(&[]),
            tags(&[]),
            tags(&[("Encrypted", "true"), ("CopiedFromAMI", "ami-1")]),
        ),
        (
            tags(&[("Owner", "platform"), ("Team", "a")]),
            tags(&[("Team", "b"), ("App", "web")]),
            tags(&[("App", "api")]),
            tags(&[
                ("Owner", "platform"),
                ("Team", "b"),
                ("App", "api"),
                ("Encrypted", "true"),
                ("CopiedFromAMI", "ami-1"),
            ]),
        ),
        // The facts win over anything a source carried (a copy of a copy).
        (
            tags(&[]),
            tags(&[
                ("Encrypted", "false"),
                ("CopiedFromAMI", "ami-0"),
                ("aws:x", "1"),
            ]),
            tags(&[]),
            tags(&[("Encrypted", "true"), ("CopiedFromAMI", "ami-1")]),
        ),
    ];
    for (default_tags, source_tags, extra, want) in cases {
        assert_eq!(
            merge_tags(&default_tags, &source_tags, &extra, "ami-1"),
            want,
            "{source_tags:?} {extra:?}"
        );
    }
}

#[test]
fn tag_validation_names_the_attribute_and_key() {
    let long = "v".repeat(257);
    let cases: [(&str, Tags, Option<AttrPath>); 7] = [
        ("tags", tags(&[("Stage", "PROD")]), None),
        ("tags", tags(&[("Note", &long[..256])]), None),
        (
            "tags",
            tags(&[("Note", &long)]),
            Some(AttrPath::root("tags").key("Note")),
        ),
        (
            "tags",
            tags(&[("aws:cloudformation", "x")]),
            Some(AttrPath::root("tags").key("aws:cloudformation")),
        ),
        (
            "tags",
            tags(&[("Encrypted", "false")]),
            Some(AttrPath::root("tags").key("Encrypted")),
        ),
        (
            "tags",
            tags(&[("CopiedFromAMI", "x")]),
            Some(AttrPath::root("tags").key("CopiedFromAMI")),
        ),
        (
            "source_tags",
            tags(&[("AWS:x", "1")]),
            Some(AttrPath::root("source_tags").key("AWS:x")),
        ),
    ];
    for (attribute, map, want) in cases {
        let diags = validate_tags(attribute, &map);
        assert_eq!(
            diags.0.first().and_then(|d| d.path.clone()),
            want,
            "{attribute} {map:?}"
        );
    }
    // In source_tags the facts are data, not an error.
    assert!(validate_tags("source_tags", &tags(&[("Encrypted", "true")])).is_empty());
}

#[test]
fn the_tag_limit_names_the_attribute_that_crosses_it() {
    let numbered = |prefix: &str, n: usize| -> Tags {
        (0..n)
            .map(|i| (format!("{prefix}{i}"), "x".to_owned()))
            .collect()
    };
    let none = Tags::new();
    // 48 keys plus the two facts is exactly the limit.
    let cases = [
        (numbered("d", 48), none.clone(), none.clone(), None),
        (
            numbered("d", 40),
            numbered("s", 9),
            none.clone(),
            Some(("source_tags", 51)),
        ),
        (numbered("d", 40), numbered("s", 7), numbered("t", 1), None),
        (
            numbered("d", 40),
            numbered("s", 7),
            numbered("t", 2),
            Some(("tags", 51)),
        ),
        // Keys tags and source_tags share count once, aws: keys and the facts not again.
        (numbered("d", 40), numbered("s", 8), numbered("s", 8), None),
        (
            none.clone(),
            numbered("s", 48),
            tags(&[("aws:x", "1"), ("Encrypted", "true")]),
            None,
        ),
    ];
    for (default_tags, source_tags, extra, want) in cases {
        assert_eq!(
            over_tag_limit(&default_tags, &source_tags, &extra),
            want,
            "{} {} {}",
            default_tags.len(),
            source_tags.len(),
            extra.len()
        );
    }
}

#[test]
fn descriptions_have_at_most_255_characters() {
    assert!(description(&"é".repeat(255)).is_ok());
    assert!(description(&"d".repeat(256)).is_err());
    assert!(description("").is_ok());
}

#[test]
fn resource_validation_catches_bad_forms() {
    let base = CopyModel {
        source_ami_id: Field::Known("ami-0123456789abcdef0".into()),
        ..CopyModel::default()
    };
    let cases: [(CopyModel, Option<AttrPath>); 8] = [
        (base.clone(), None),
        (
            CopyModel {
                description: Field::Known("d".repeat(256)),
                ..base.clone()
            },
            Some(AttrPath::root("description")),
        ),
        (
            CopyModel {
                source_ami_id: Field::Known("ami-xyz".into()),
                ..base.clone()
            },
            Some(AttrPath::root("source_ami_id")),
        ),
        (
            CopyModel {
                source_ami_id: Field::Unknown,
                ..base.clone()
            },
            None,
        ),
        (
            CopyModel {
                source_region: Field::Known("eu_west_1".into()),
                ..base.clone()
            },
            Some(AttrPath::root("source_region")),
        ),
        (
            CopyModel {
                kms_key_id: Field::Known("my-key".into()),
                ..base.clone()
            },
            Some(AttrPath::root("kms_key_id")),
        ),
        (
            CopyModel {
                name: Field::Known("a".into()),
                ..base.clone()
            },
            Some(AttrPath::root("name")),
        ),
        (
            CopyModel {
                timeouts: Field::Known(Timeouts {
                    create: Field::Known("soon".into()),
                    delete: Field::Null,
                }),
                ..base.clone()
            },
            Some(AttrPath::root("timeouts").attr("create")),
        ),
    ];
    for (model, want) in cases {
        let diags = super::validate::validate(&model);
        assert_eq!(
            diags.0.first().and_then(|d| d.path.clone()),
            want,
            "{model:?}"
        );
    }
}

#[test]
fn key_forms_parse() {
    let cases = [
        (KEY_ID, true),
        (KEY_ARN, true),
        ("alias/ami", true),
        (ALIAS_ARN, true),
        ("mrk-1234567890abcdef1234567890abcdef", true),
        ("alias/", false),
        ("arn:aws:kms:eu-west-1:2222:key/x", false),
        ("arn:aws:s3:::bucket", false),
        ("ami", false),
    ];
    for (value, ok) in cases {
        assert_eq!(key_form(value).is_ok(), ok, "{value}");
    }
}

#[test]
fn key_forms_compare_without_aws_where_they_can() {
    let cases = [
        (KEY_ID, KEY_ID, Some(true)),
        (KEY_ID, KEY_ARN, Some(true)),
        ("alias/ami", ALIAS_ARN, Some(true)),
        ("alias/ami", "alias/other", Some(false)),
        (
            KEY_ARN,
            "arn:aws:kms:eu-west-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            Some(false),
        ),
        ("alias/ami", KEY_ARN, None),
        (KEY_ID, "alias/ami", None),
    ];
    for (a, b, want) in cases {
        assert_eq!(same_key_locally(a, b), want, "{a} vs {b}");
        assert_eq!(same_key_locally(b, a), want, "{b} vs {a}");
    }
}

#[test]
fn names_and_tokens_are_deterministic_and_distinct() {
    let name = default_name("ami-0123456789abcdef0", "eu-west-1", Some("alias/ami"));
    assert_eq!(
        name,
        default_name("ami-0123456789abcdef0", "eu-west-1", Some("alias/ami"))
    );
    assert!(
        name.starts_with("ami-0123456789abcdef0-encrypted-"),
        "{name}"
    );
    assert!(ami_name(&name).is_ok(), "{name}");
    let others = [
        default_name("ami-0123456789abcdef0", "eu-west-2", Some("alias/ami")),
        default_name("ami-0123456789abcdef0", "eu-west-1", None),
        default_name("ami-0123456789abcdef1", "eu-west-1", Some("alias/ami")),
    ];
    assert!(others.iter().all(|o| *o != name), "{others:?}");

    let token = |account: &str, attempt: &str| {
        client_token(
            account,
            "eu-west-1",
            "ami-1",
            "eu-west-1",
            &name,
            None,
            attempt,
        )
    };
    let (first, second) = (new_attempt(), new_attempt());
    assert_ne!(first, second, "each copy attempt gets its own value");
    assert_eq!(token("222222222222", &first), token("222222222222", &first));
    assert_eq!(token("222222222222", &first).len(), 64);
    assert!(token("222222222222", &first).is_ascii());
    assert_ne!(token("222222222222", &first), token("333333333333", &first));
    // A re-creation of the same copy never replays an earlier attempt's token.
    assert_ne!(
        token("222222222222", &first),
        token("222222222222", &second)
    );
}

#[test]
fn found_tags_show_every_difference_from_what_was_applied() {
    let applied = tags(&[("App", "web"), ("Encrypted", "true")]);
    let ids = vec!["snap-1".to_owned(), "snap-2".to_owned()];
    // (AMI, second snapshot, what the state shows); the first snapshot is as applied.
    let cases = [
        (applied.clone(), applied.clone(), applied.clone()),
        // Edited on one snapshot: the value found, so the plan shows "api" -> "web".
        (
            applied.clone(),
            tags(&[("App", "api"), ("Encrypted", "true")]),
            tags(&[("App", "api"), ("Encrypted", "true")]),
        ),
        // Missing from one snapshot: absent, so the plan adds it.
        (
            applied.clone(),
            tags(&[("Encrypted", "true")]),
            tags(&[("Encrypted", "true")]),
        ),
        // Extra on one snapshot only: present, so the plan removes it.
        (
            applied.clone(),
            tags(&[("App", "web"), ("Encrypted", "true"), ("Extra", "x")]),
            tags(&[("App", "web"), ("Encrypted", "true"), ("Extra", "x")]),
        ),
        // Edited on the AMI only.
        (
            tags(&[("App", "edited"), ("Encrypted", "true")]),
            applied.clone(),
            tags(&[("App", "edited"), ("Encrypted", "true")]),
        ),
        // Edited everywhere alike.
        (
            tags(&[("App", "edited"), ("Encrypted", "true")]),
            tags(&[("App", "edited"), ("Encrypted", "true")]),
            tags(&[("App", "edited"), ("Encrypted", "true")]),
        ),
    ];
    for (image, second, want) in cases {
        let snapshots: BTreeMap<String, Tags> = [
            ("snap-1".to_owned(), applied.clone()),
            ("snap-2".to_owned(), second.clone()),
        ]
        .into();
        assert_eq!(
            found_tags(&image, &ids, &snapshots, Some(&applied)),
            want,
            "AMI {image:?}, snapshot {second:?}"
        );
    }
    // A snapshot that no longer exists does not count.
    let one: BTreeMap<String, Tags> = [("snap-1".to_owned(), applied.clone())].into();
    assert_eq!(found_tags(&applied, &ids, &one, Some(&applied)), applied);
}

#[test]
fn every_attribute_is_described() {
    assert_eq!(
        <CopyModel as crate::protocol::declare::Declared>::block().missing_descriptions(),
        Vec::<String>::new()
    );
}

#[test]
fn unshared_source_is_quiet_at_plan_and_fails_at_apply() {
    use super::source::SourceProblems;
    use crate::protocol::diagnostics::Severity;

    let problems = || SourceProblems {
        unshared: vec![("Source AMI not visible".into(), "not shared".into())],
        fatal: vec![(
            "Source encrypted with an AWS-managed key".into(),
            "aws/ebs".into(),
        )],
        snapshots: 1,
    };
    let plan = problems().for_plan("ami-12345678");
    let severities: Vec<_> = plan
        .0
        .iter()
        .map(|d| (d.summary.as_str(), d.severity))
        .collect();
    assert_eq!(
        severities,
        [("Source encrypted with an AWS-managed key", Severity::Error)]
    );
    let apply = problems().for_apply();
    assert!(apply.0.iter().all(|d| d.severity == Severity::Error));
    assert_eq!(apply.0.len(), 2);
    for d in plan.0.iter().chain(&apply.0) {
        assert_eq!(d.path, Some(AttrPath::root("source_ami_id")));
    }
    assert!(SourceProblems::default().is_empty());
}

#[test]
fn only_what_an_interrupted_create_left_is_taken_over() {
    use super::naming::adoptable;
    use crate::aws::image::Image;

    let image = |state: &str, source: &str, tagged: Option<&str>| Image {
        id: "ami-1".into(),
        state: state.into(),
        source_image_id: source.into(),
        tags: tagged
            .map(|s| [("CopiedFromAMI".to_owned(), s.to_owned())].into())
            .unwrap_or_default(),
        ..Image::default()
    };
    let cases = [
        // Unmarked, even while pending: a copy recorded in some state (an
        // interrupted apply records its pending copy and unmarks it), which
        // may be another state's.
        (image("pending", "ami-src", None), false),
        (image("pending", "", Some("ami-src")), false),
        // What a finished copy holds may be the copy being replaced.
        (image("available", "ami-src", None), false),
        (image("failed", "ami-src", None), false),
        (image("pending", "ami-other", None), false),
    ];
    for (holder, want) in cases {
        assert_eq!(adoptable(&holder, "ami-src"), want, "{holder:?}");
    }
    // Finished, but still marked by the create that started it: that create never recorded it.
    let marked = |state: &str, source: &str| {
        let mut holder = image(state, source, None);
        holder
            .tags
            .insert(super::rules::TAG_CREATING.to_owned(), "0f".into());
        holder
    };
    assert!(adoptable(&marked("available", "ami-src"), "ami-src"));
    assert!(adoptable(&marked("pending", "ami-src"), "ami-src"));
    assert!(!adoptable(&marked("available", "ami-other"), "ami-src"));
    assert!(
        !adoptable(&marked("failed", "ami-src"), "ami-src"),
        "a failed copy is not the copy wanted"
    );
}

#[test]
fn the_name_beside_a_holder_differs_from_the_default() {
    let default = default_name("ami-1", "eu-west-1", None);
    let beside = name_beside("ami-1", "eu-west-1", None, "ami-holder");
    assert_ne!(default, beside);
    assert!(beside.starts_with("ami-1-encrypted-"), "{beside}");
    assert!(ami_name(&beside).is_ok());
    assert_ne!(beside, name_beside("ami-1", "eu-west-1", None, "ami-other"));
    assert_eq!(
        beside,
        name_beside("ami-1", "eu-west-1", None, "ami-holder")
    );
}

#[test]
fn adoption_keeps_every_tag_any_object_carries() {
    let image = tags(&[("App", "web"), ("CopiedBy", "lambda"), ("team", "ami")]);
    let ids = vec!["snap-1".to_owned(), "snap-2".to_owned()];
    let snapshots = BTreeMap::from([
        ("snap-1".to_owned(), tags(&[("CopiedBy", "lambda")])),
        (
            "snap-2".to_owned(),
            tags(&[
                ("CopiedBy", "lambda"),
                ("Backup", "daily"),
                ("team", "other"),
            ]),
        ),
    ]);
    assert_eq!(
        adopted_tags(&image, &ids, &snapshots),
        tags(&[
            ("App", "web"),
            ("Backup", "daily"),
            ("CopiedBy", "lambda"),
            ("team", "ami")
        ]),
        "the AMI's App kept, a snapshot's Backup kept, the AMI's value wins"
    );
}
