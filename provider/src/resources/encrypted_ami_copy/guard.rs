//! What destroy checks before it changes anything: launch templates that
//! still launch the copy (refused unless `force_destroy`), instances
//! launched from it (a warning), and deregistration protection (turned off,
//! or a cooldown that makes destroy fail at once, saying until when); and
//! what it reports after: Recycle Bin rules that keep what it removed.

use std::collections::BTreeMap;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::aws::image::Image;
use crate::aws::image_controls::{set_protection, Protection};
use crate::aws::in_use::{
    instances_using, launch_templates_using, launch_templates_using_at_plan, TemplateUse,
};
use crate::aws::recycle_bin::{Retained, Rule};
use crate::aws::AwsClients;
use crate::protocol::diagnostics::{Diagnostic, Diagnostics};

use super::model::CopyModel;

/// How long EC2 keeps refusing DeregisterImage after protection enabled
/// with cooldown is turned off ("Protect an Amazon EC2 AMI from
/// deregistration").
const COOLDOWN: time::Duration = time::Duration::hours(24);

/// Refuses, naming each one, while a launch template's default or latest
/// version launches `image_id`: an Auto Scaling group launching from the
/// template would fail once the copy is gone. A failed check refuses too:
/// the guard is only worth having if it cannot be skipped by accident.
pub(super) async fn refuse_in_use(
    clients: &AwsClients,
    image_id: &str,
    summary: &str,
) -> Result<(), Diagnostics> {
    let users = launch_templates_using(clients, image_id).await.map_err(|err| {
        Diagnostics::from(Diagnostic::error(
            summary,
            format!(
                "Could not check whether a launch template launches {image_id}, so it was not destroyed: {err}. \
                 Allow ec2:DescribeLaunchTemplateVersions, or set force_destroy = true to destroy without the check."
            ),
        ))
    })?;
    if users.is_empty() {
        return Ok(());
    }
    Err(Diagnostic::error(
        summary,
        format!(
            "{image_id} is still launched by:\n{}\nAn Auto Scaling group or anyone launching from these would fail once \
             the copy is gone, so nothing was changed. Point each template's default and latest versions at another \
             AMI, then destroy again; or set force_destroy = true to destroy it regardless.",
            bulleted(&users)
        ),
    )
    .into())
}

/// The template versions, one per line, as both the refusal and the plan
/// warning list them.
fn bulleted(users: &[TemplateUse]) -> String {
    let lines: Vec<String> = users.iter().map(|u| format!("  - {u}")).collect();
    lines.join("\n")
}

/// A warning when instances launched from `image_id` exist: deregistering
/// does not affect them, but users may want to know. Best effort (see
/// `aws::best_effort`): a count that fails is only logged.
pub(super) async fn instances_warning(clients: &AwsClients, image_id: &str) -> Diagnostics {
    let count = clients.best_effort(
        "the instances launched from the copy",
        instances_using(clients, image_id),
    );
    match count.await {
        None | Some(0) => Diagnostics::new(),
        Some(count) => Diagnostics::from(Diagnostic::warning(
            "Instances still use the destroyed copy",
            format!(
                "{count} instance(s) launched from {image_id} exist (pending, running, stopping or stopped). \
                 Deregistering the AMI does not affect them, but no new instance can be launched from it."
            ),
        )),
    }
}

/// Turns deregistration protection off. With a cooldown (enabled with
/// cooldown, or one still running) EC2 will refuse deregistration for up
/// to 24 hours, so destroy stops here, saying until when, with the copy
/// still in state.
pub(super) async fn unprotect(
    clients: &AwsClients,
    facts: &Image,
    summary: &str,
) -> Result<(), Diagnostics> {
    let id = &facts.id;
    let until = match Protection::of(facts) {
        Protection::Off => return Ok(()),
        Protection::On { with_cooldown } => {
            set_protection(clients, id, None).await.map_err(|err| {
                Diagnostics::from(Diagnostic::error(
                    summary,
                    err.context(format!("turning off deregistration protection of {id}"))
                        .to_string(),
                ))
            })?;
            if !with_cooldown {
                return Ok(());
            }
            let until = OffsetDateTime::now_utc() + COOLDOWN;
            until.format(&Rfc3339).unwrap_or_default()
        }
        Protection::CoolingDown { until } => until,
    };
    Err(Diagnostic::error(
        summary,
        format!(
            "{id} had deregistration protection with a 24-hour cooldown. Protection is now off, but EC2 refuses to \
             deregister it until {until}. Destroy again after that; until then the copy stays in state, unchanged. \
             (To keep the copy instead, set skip_destroy = true and apply.)"
        ),
    )
    .into())
}

/// A warning when Recycle Bin retention rules keep the deregistered AMI or
/// its deleted snapshots (tagged `tags`): they are still billed and can be
/// restored until the rule lets them go. Best effort: rules that cannot be
/// read (no `rbin:ListRules` or `rbin:GetRule`, no route to Recycle Bin)
/// are only logged.
pub(super) async fn retention_warning(
    clients: &AwsClients,
    image_id: &str,
    snapshot_ids: &[String],
    tags: &BTreeMap<String, String>,
) -> Diagnostics {
    let mut kept = Vec::new();
    for (kind, what) in [
        (Retained::Image, format!("the AMI {image_id}")),
        (
            Retained::Snapshot,
            format!("the snapshots {}", snapshot_ids.join(", ")),
        ),
    ] {
        if kind == Retained::Snapshot && snapshot_ids.is_empty() {
            continue;
        }
        let rules = clients.best_effort(
            "the Recycle Bin retention rules that keep what a destroy removes",
            clients.rules_keeping(kind, tags),
        );
        match rules.await {
            None => return Diagnostics::new(),
            Some(rules) if rules.is_empty() => {}
            Some(rules) => kept.push(format!("{what} for {}", retention(&rules))),
        }
    }
    if kept.is_empty() {
        return Diagnostics::new();
    }
    Diagnostic::warning(
        "Recycle Bin keeps what was destroyed",
        format!(
            "Recycle Bin retention rules in account {} region {} keep {}. Until the retention ends they are still billed \
             and can be restored. To keep later copies out, exclude them from the rule by tag, or change the rule.",
            clients.account_id,
            clients.region,
            kept.join("; ")
        ),
    )
    .into()
}

/// "7 days (rule abc)", each rule that keeps it.
fn retention(rules: &[Rule]) -> String {
    let each: Vec<String> = rules
        .iter()
        .map(|r| format!("{} (rule {})", r.retention, r.id))
        .collect();
    each.join(" and ")
}

/// Warnings for a plan that destroys (or replaces) the copy, so a reviewer
/// sees before apply what would stop the destroy: a launch template that
/// launches the copy now, a deregistration-protection cooldown, or
/// `skip_destroy` keeping it. Best effort: a failed check is only logged
/// (the destroy itself checks again, without a budget, and refuses).
pub(super) async fn destroy_preview(clients: &AwsClients, prior: &CopyModel) -> Diagnostics {
    let Some(id) = prior.id.known() else {
        return Diagnostics::new();
    };
    let mut warnings = Diagnostics::new();
    if prior.skip_destroy.known() == Some(&true) {
        warnings.push(Diagnostic::warning(
            "The copy will be kept",
            format!("skip_destroy = true: destroying removes {id} from state only; the AMI and its snapshots stay."),
        ));
        return warnings;
    }
    if prior.force_destroy.known() != Some(&true) {
        let users = clients.best_effort(
            "the launch templates that launch the copy",
            launch_templates_using_at_plan(clients, id),
        );
        match users.await {
            Some(users) if !users.is_empty() => {
                warnings.push(Diagnostic::warning(
                    "A launch template launches the copy to be destroyed",
                    format!(
                        "{id} is launched by:\n{}\nUnless this apply points them at another AMI before the copy is \
                         destroyed (create_before_destroy, with the template's image taken from this resource), the \
                         destroy will be refused. force_destroy = true destroys it regardless.",
                        bulleted(&users)
                    ),
                ));
            }
            _ => {}
        }
    }
    let cooldown = prior.deregistration_protection.known().is_some_and(|p| {
        p.enabled.known() == Some(&true) && p.with_cooldown.known() == Some(&true)
    });
    if cooldown {
        warnings.push(Diagnostic::warning(
            "Deregistration protection with cooldown",
            format!(
                "{id} has deregistration protection with a 24-hour cooldown: destroy will turn it off and then fail, \
                 and can go ahead only 24 hours later."
            ),
        ));
    }
    warnings
}
