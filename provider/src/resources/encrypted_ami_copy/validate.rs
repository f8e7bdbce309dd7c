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
            if let Some(value) = field.known() {
                if let Err(reason) = rule(value) {
                    let path = AttrPath::root(attribute);
                    diags.push(
                        Diagnostic::error(
                            format!("Invalid {attribute}"),
                            format!("{attribute} {reason}."),
                        )
                        .at(path),
                    );
                }
            }
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
    if let Some(minutes) = config.completion_duration_minutes.known() {
        if let Err(reason) = controls::completion_duration(*minutes) {
            diags.push(
                Diagnostic::error(
                    "Invalid completion_duration_minutes",
                    format!("completion_duration_minutes {reason}."),
                )
                .at(AttrPath::root("completion_duration_minutes")),
            );
        }
    }
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
