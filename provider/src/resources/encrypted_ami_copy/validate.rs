//! Static checks of the configuration, each naming its attribute; unknown
//! values are skipped (they are checked again once Terraform knows them).

use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::typed::Field;

use super::model::CopyModel;
use super::{controls, rules, tag_rules, timeouts};

/// Static checks of the configuration; unknown values are skipped.
pub(super) fn validate(config: &CopyModel) -> Diagnostics {
    let mut diags = crate::resources::reach::validate(&config.region, &config.assume_role);
    let mut check =
        |attribute: &str, field: &Field<String>, rule: fn(&str) -> Result<(), String>| {
            diags.extend(field.check(AttrPath::root(attribute), |value| rule(value)));
        };
    check(
        "source_ami_id",
        &config.source_ami_id,
        crate::validate::ami_id,
    );
    check(
        "source_region",
        &config.source_region,
        crate::validate::region,
    );
    check("name", &config.name, rules::ami_name);
    check("description", &config.description, rules::description);
    check("kms_key_id", &config.kms_key_id, |v| {
        rules::key_form(v).map(|_| ())
    });
    check("deprecation_time", &config.deprecation_time, |v| {
        controls::parse_time(v).map(|_| ())
    });
    diags.extend(
        config
            .completion_duration_minutes
            .check(AttrPath::root("completion_duration_minutes"), |minutes| {
                controls::completion_duration(*minutes)
            }),
    );
    // A cooldown belongs to protection that is on: with protection off it
    // would silently do nothing, which is not what the line asks for.
    if let Some(block) = config.deregistration_protection.known() {
        if block.enabled.known() == Some(&false) && block.with_cooldown.known() == Some(&true) {
            diags.push(
                Diagnostic::error(
                    "Invalid deregistration_protection.with_cooldown",
                    "deregistration_protection.with_cooldown = true has no effect while enabled = false: a cooldown \
                     is a delay before protection comes off. Set enabled = true, or remove with_cooldown.",
                )
                .at(AttrPath::root("deregistration_protection").attr("with_cooldown")),
            );
        }
    }
    if let Some(tags) = config.source_tags.known() {
        diags.extend(tag_rules::validate_tags("source_tags", tags));
    }
    if let Some(tags) = config.tags.known() {
        diags.extend(tag_rules::validate_tags("tags", tags));
    }
    diags.extend(timeouts::check(&config.timeouts));
    diags
}

#[cfg(test)]
mod tests {
    use super::super::timeouts::Timeouts;
    use super::*;
    use crate::protocol::typed::Field;

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
            let diags = validate(&model);
            assert_eq!(
                diags.0.first().and_then(|d| d.path.clone()),
                want,
                "{model:?}"
            );
        }
    }
}
