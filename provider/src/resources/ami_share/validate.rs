//! Static checks of the configuration: formats, and that something is shared.
//!
//! Values that are still unknown are skipped; they are checked again when
//! Terraform knows them (at apply time plan is run once more).

use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};

use super::model::{set_of, AmiShareModel, StringSet};
use crate::protocol::typed::Field;
use crate::validate::ami_id;

/// Checks one identifier's format; `Err` holds the reason.
type FormatCheck = fn(&str) -> Result<(), String>;

/// Every static problem with `config`, each naming its attribute.
pub(super) fn validate(config: &AmiShareModel) -> Diagnostics {
    let mut diags = crate::resources::reach::validate(&config.region, &config.assume_role);
    diags.extend(
        config
            .image_id
            .check(AttrPath::root("image_id"), |id| ami_id(id)),
    );
    let checks: [(&str, &Field<StringSet>, FormatCheck); 3] = [
        ("account_ids", &config.account_ids, account_id),
        (
            "organization_arns",
            &config.organization_arns,
            organization_arn,
        ),
        (
            "organizational_unit_arns",
            &config.organizational_unit_arns,
            organizational_unit_arn,
        ),
    ];
    let mut all_empty = true;
    for (name, field, check) in checks {
        match set_of(field) {
            Some(values) => {
                all_empty &= values.is_empty();
                for value in &values {
                    if let Err(reason) = check(value) {
                        diags.push(Diagnostic::invalid(AttrPath::root(name), &reason));
                    }
                }
            }
            None => all_empty = false,
        }
    }
    if all_empty {
        diags.push(
            Diagnostic::error(
                "Nothing to share",
                "imagecopier_ami_share needs at least one principal: set account_ids, organization_arns \
                 or organizational_unit_arns to a non-empty set. (To stop sharing, remove the resource.)",
            )
            .at(AttrPath::root("account_ids")),
        );
    }
    diags
}

/// A 12-digit account id.
pub(super) fn account_id(value: &str) -> Result<(), String> {
    crate::validate::account_id(value)
}

/// `arn:<partition>:organizations::<account>:organization/o-...`.
pub(super) fn organization_arn(value: &str) -> Result<(), String> {
    crate::validate::organization_arn(value)
}

/// `arn:<partition>:organizations::<account>:ou/o-.../ou-...`.
pub(super) fn organizational_unit_arn(value: &str) -> Result<(), String> {
    crate::validate::organizational_unit_arn(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::value::Value;

    #[test]
    fn formats() {
        type Check = fn(&str) -> Result<(), String>;
        let cases: &[(Check, &str, bool)] = &[
            (ami_id, "ami-12345678", true),
            (ami_id, "ami-0123456789abcdef0", true),
            (ami_id, "ami-0123456789ABCDEF0", false),
            (ami_id, "ami-1234567", false),
            (ami_id, "ami-0123456789abcdef", false),
            (ami_id, "snap-12345678", false),
            (ami_id, "", false),
            (account_id, "222222222222", true),
            (account_id, "2222", false),
            (
                organization_arn,
                "arn:aws:organizations::111111111111:organization/o-exampleorgid",
                true,
            ),
            (
                organization_arn,
                "arn:aws:organizations::111111111111:organization/o-short",
                false,
            ),
            (
                organization_arn,
                "arn:aws:organizations:eu-west-1:111111111111:organization/o-exampleorgid",
                false,
            ),
            (
                organization_arn,
                "arn:aws:organizations::111111111111:ou/o-exampleorgid/ou-ab12-cd34ef56",
                false,
            ),
            (
                organizational_unit_arn,
                "arn:aws:organizations::111111111111:ou/o-exampleorgid/ou-ab12-cd34ef56",
                true,
            ),
            (
                organizational_unit_arn,
                "arn:aws-cn:organizations::111111111111:ou/o-exampleorgid/ou-ab12-cd34ef56",
                true,
            ),
            (
                organizational_unit_arn,
                "arn:aws:organizations::111111111111:ou/o-exampleorgid/ou-ab12",
                false,
            ),
            (
                organizational_unit_arn,
                "arn:aws:organizations::111111111111:organization/o-exampleorgid",
                false,
            ),
            (
                organizational_unit_arn,
                "arn:aws:organizations::1111:ou/o-exampleorgid/ou-ab12-cd34ef56",
                false,
            ),
        ];
        for (check, value, ok) in cases {
            assert_eq!(check(value).is_ok(), *ok, "{value:?}");
        }
    }

    fn strings(items: &[Value]) -> Field<StringSet> {
        use crate::protocol::typed::FromValue;
        Field::from_value(&Value::Set(items.to_vec()), &AttrPath::root("x")).expect("a set")
    }

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    #[test]
    fn configurations() {
        let base = AmiShareModel {
            image_id: Field::Known("ami-12345678".into()),
            account_ids: strings(&[s("222222222222")]),
            ..AmiShareModel::default()
        };
        let cases: Vec<(&str, AmiShareModel, Vec<&str>)> = vec![
            ("valid", base.clone(), vec![]),
            (
                "bad image id",
                AmiShareModel {
                    image_id: Field::Known("ami-xyz".into()),
                    ..base.clone()
                },
                vec!["image_id"],
            ),
            (
                "unknown image id",
                AmiShareModel {
                    image_id: Field::Unknown,
                    ..base.clone()
                },
                vec![],
            ),
            (
                "bad account",
                AmiShareModel {
                    account_ids: strings(&[s("2222"), s("333333333333")]),
                    ..base.clone()
                },
                vec!["account_ids"],
            ),
            (
                "partly unknown accounts",
                AmiShareModel {
                    account_ids: strings(&[s("2222"), Value::Unknown]),
                    ..base.clone()
                },
                vec![],
            ),
            (
                "nothing shared",
                AmiShareModel {
                    account_ids: Field::Null,
                    ..base.clone()
                },
                vec!["account_ids"],
            ),
            (
                "empty sets",
                AmiShareModel {
                    account_ids: strings(&[]),
                    ..base.clone()
                },
                vec!["account_ids"],
            ),
            (
                "only an organization",
                AmiShareModel {
                    account_ids: strings(&[]),
                    organization_arns: strings(&[s(
                        "arn:aws:organizations::111111111111:organization/o-exampleorgid",
                    )]),
                    ..base.clone()
                },
                vec![],
            ),
            (
                "bad ou",
                AmiShareModel {
                    organizational_unit_arns: strings(&[s("ou-1")]),
                    ..base.clone()
                },
                vec!["organizational_unit_arns"],
            ),
        ];
        for (name, config, want) in cases {
            let got: Vec<String> = validate(&config)
                .0
                .iter()
                .filter_map(|d| d.path.as_ref().map(ToString::to_string))
                .collect();
            assert_eq!(got, want, "{name}");
        }
    }
}
