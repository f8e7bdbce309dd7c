//! Planning: defaults known at plan time (region, name, key ARN, tags_all),
//! what forces replacement, and the checks that can fail a plan before any
//! change is made. Nothing here mutates AWS.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::aws::kms::{describe_key, ebs_default_key_id};
use crate::aws::AwsClients;
use crate::log;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::managed::Planned;
use crate::protocol::typed::Field;
use crate::resources::reach;
use crate::shared::Shared;

use super::controls;
use super::model::{CopyModel, Tags};
use super::naming::check_default_name;
use super::rules::{default_name, same_key_locally, AVAILABLE, DEREGISTERED, DISABLED};
use super::source::{check_source, check_source_region};
use super::tag_rules::{merge_tags, over_tag_limit};

/// KMS's error code for a key or alias that does not exist.
const KEY_NOT_FOUND_CODE: &str = "NotFoundException";

/// Plans a create (`prior` is `None`) or an update.
pub(super) async fn plan(
    shared: &Shared,
    prior: Option<&CopyModel>,
    mut p: CopyModel,
    config: &CopyModel,
) -> Result<Planned<CopyModel>, Diagnostics> {
    // Before ConfigureProvider has values (a provider fed by another
    // resource), or while region or role are unknown, plan with what is
    // known and check nothing. A role that cannot be assumed fails here.
    p.region = reach::planned_region(shared, &config.region, prior.map(|p| &p.region));
    let clients = reach::plan_clients(shared, &p.region, &config.assume_role).await?;
    let account = reach::planned_account(shared, &config.assume_role);
    if config.source_region.is_null() {
        p.source_region = match prior {
            Some(prior) if prior.source_region.known().is_some() => prior.source_region.clone(),
            _ => p.region.clone(),
        };
    }
    let key_changed = prior.is_none_or(|prior| prior.kms_key_id != config.kms_key_id);
    let key_arn = if key_changed {
        resolve_key(clients.as_ref(), &config.kms_key_id).await?
    } else {
        prior
            .map(|prior| prior.kms_key_arn.clone())
            .unwrap_or(Field::Unknown)
    };
    let mut requires_replace = match prior {
        Some(prior) => replaced(prior, &p, config, key_changed, &key_arn, &account),
        None => Vec::new(),
    };
    let replacing = !requires_replace.is_empty();
    if config.name.is_null() {
        p.name = planned_name(prior, replacing, &p, config, clients.as_deref()).await;
    }
    let name = AttrPath::root("name");
    if prior.is_some_and(|prior| p.name != prior.name) && !requires_replace.contains(&name) {
        requires_replace.push(name);
    }
    plan_settings(shared, prior, &mut p, config, replacing)?;

    let mut warnings = Diagnostics::new();
    if let (Some(prior), Some(clients), true) = (prior, &clients, replacing) {
        warnings.extend(super::guard::destroy_preview(clients, prior).await);
    }
    match prior {
        Some(prior) if requires_replace.is_empty() => {
            warnings.extend(plan_in_place(prior, &mut p, clients.as_deref()).await);
        }
        _ => {
            p.forget_aws_values();
            p.owner_id = account;
            p.kms_key_arn = key_arn;
            warnings.extend(check_new_source(&p, clients.as_deref()).await?);
        }
    }
    if warnings.has_errors() {
        return Err(warnings);
    }
    Ok(Planned {
        state: p,
        requires_replace,
        warnings,
    })
}

/// What an update replaces, beside a changed name: source_ami_id,
/// source_region and a configured name; a move to another region or
/// account; another key; a copy that failed or lost its AMI. (A default
/// name is decided after this, once it is known whether this replaces.)
fn replaced(
    prior: &CopyModel,
    p: &CopyModel,
    config: &CopyModel,
    key_changed: bool,
    key_arn: &Field<String>,
    account: &Field<String>,
) -> Vec<AttrPath> {
    let mut requires_replace = p.replaced_attributes(prior);
    requires_replace.extend(reach::moved(
        &prior.region,
        &p.region,
        &prior.owner_id,
        account,
    ));
    if key_changed && !same_key(prior, &config.kms_key_id, key_arn) {
        requires_replace.push(AttrPath::root("kms_key_id"));
    }
    // A copy that failed is useless, and one whose AMI is gone with
    // snapshots left can only be made anew; the replacement's delete
    // removes what remains of the old one.
    if prior
        .state
        .known()
        .is_some_and(|s| s == "failed" || s == DEREGISTERED)
    {
        requires_replace.push(AttrPath::root("state"));
    }
    requires_replace
}

/// The name when none is configured: the prior one unless this replaces;
/// for a new copy its default name, unless another AMI holds it.
async fn planned_name(
    prior: Option<&CopyModel>,
    replacing: bool,
    p: &CopyModel,
    config: &CopyModel,
    clients: Option<&AwsClients>,
) -> Field<String> {
    match prior {
        Some(prior) if !replacing => prior.name.clone(),
        _ => match (planned_default_name(p, config), clients) {
            (Field::Known(name), Some(clients)) => {
                let source = p.source_ami_id.known().cloned().unwrap_or_default();
                check_default_name(clients, name, &source).await
            }
            (name, _) => name,
        },
    }
}

/// The settings planned from configuration alone (`enabled`, `tags_all`,
/// `description`), and the checks of `deprecation_time` and the tag limit.
fn plan_settings(
    shared: &Shared,
    prior: Option<&CopyModel>,
    p: &mut CopyModel,
    config: &CopyModel,
    replacing: bool,
) -> Result<(), Diagnostics> {
    if config.enabled.is_null() {
        p.enabled = Field::Known(true);
    }
    check_deprecation(prior, config)?;
    p.tags_all = planned_tags_all(shared, p);
    check_tag_limit(shared, p)?;
    // Not configured: what EC2 gives the copy, known only after the create.
    if config.description.is_null() {
        p.description = match prior {
            Some(prior) if !replacing => prior.description.clone(),
            _ => Field::Unknown,
        };
    }
    Ok(())
}

/// An update in place: prior values kept, a pending copy's facts left to
/// the apply that waits for it, and the tag drift warning.
async fn plan_in_place(
    prior: &CopyModel,
    p: &mut CopyModel,
    clients: Option<&AwsClients>,
) -> Diagnostics {
    // A key changed to another form of the same key keeps its ARN.
    p.keep_prior_values(prior);
    // An interrupted apply left the copy pending: this update waits
    // for it, and the plan shows that it will.
    if prior.state.known().is_some_and(|s| !settled(s)) {
        p.forget_aws_values();
        p.id = prior.id.clone();
        p.kms_key_arn = Field::Unknown;
    }
    let mut warnings = Diagnostics::new();
    if let Some(clients) = clients {
        warnings.extend(super::drift::warning(clients, prior, p).await);
    }
    // `enabled` decides between the two settled states.
    p.state = match p.enabled.known() {
        Some(true) => Field::Known(AVAILABLE.to_owned()),
        Some(false) => Field::Known(DISABLED.to_owned()),
        None => Field::Unknown,
    };
    warnings
}

/// A new copy's source: its region must be one this account can copy from
/// (an error), and an unshared source is only logged (a share in this
/// apply may fix it).
async fn check_new_source(
    p: &CopyModel,
    clients: Option<&AwsClients>,
) -> Result<Diagnostics, Diagnostics> {
    let (Some(clients), Some(source), Some(region)) =
        (clients, p.source_ami_id.known(), p.source_region.known())
    else {
        return Ok(Diagnostics::new());
    };
    check_source_region(clients, region).await?;
    Ok(check_source(clients, source, region).await.for_plan(source))
}

/// Whether a copy in state `state` is done: available, or disabled on purpose.
fn settled(state: &str) -> bool {
    state == AVAILABLE || state == DISABLED
}

/// A new or changed `deprecation_time` must be one EC2 accepts now: in the
/// future and at most 10 years ahead. An unchanged one is not checked
/// again: it may rightly have passed since.
fn check_deprecation(prior: Option<&CopyModel>, config: &CopyModel) -> Result<(), Diagnostics> {
    let Some(text) = config.deprecation_time.known() else {
        return Ok(());
    };
    if prior.is_some_and(|prior| prior.deprecation_time.known() == Some(text)) {
        return Ok(());
    }
    let at = controls::parse_time(text).map_err(|reason| invalid_deprecation(text, &reason))?;
    controls::deprecation_window(at, OffsetDateTime::now_utc())
        .map_err(|reason| invalid_deprecation(text, &reason))
}

fn invalid_deprecation(text: &str, reason: &str) -> Diagnostics {
    Diagnostic::error(
        "Invalid deprecation_time",
        format!("deprecation_time {text:?} {reason}."),
    )
    .at(AttrPath::root("deprecation_time"))
    .into()
}

/// Whether the configured key is the prior key: by form when possible,
/// else by the ARN DescribeKey found; unknown means a different key.
fn same_key(prior: &CopyModel, configured: &Field<String>, key_arn: &Field<String>) -> bool {
    let local = match (prior.kms_key_id.known(), configured.known()) {
        (Some(a), Some(b)) => same_key_locally(a, b),
        _ => None,
    };
    match (local, key_arn.known(), prior.kms_key_arn.known()) {
        (Some(same), _, _) => same,
        (None, Some(now), Some(before)) => now == before,
        _ => false,
    }
}

fn planned_default_name(p: &CopyModel, config: &CopyModel) -> Field<String> {
    let key = match &config.kms_key_id {
        Field::Known(key) => Some(key.as_str()),
        Field::Null => None,
        Field::Unknown => return Field::Unknown,
    };
    match (p.source_ami_id.known(), p.source_region.known()) {
        (Some(source), Some(region)) => Field::Known(default_name(source, region, key)),
        _ => Field::Unknown,
    }
}

fn planned_tags_all(shared: &Shared, p: &CopyModel) -> Field<Tags> {
    match (
        known_tags(&p.source_tags),
        known_tags(&p.tags),
        p.source_ami_id.known(),
    ) {
        (Some(source_tags), Some(tags), Some(source)) => Field::Known(merge_tags(
            &shared.default_tags(),
            &source_tags,
            &tags,
            source,
        )),
        _ => Field::Unknown,
    }
}

/// A tag map attribute as plain tags: null is none, unknown is `None`.
fn known_tags(field: &Field<Tags>) -> Option<Tags> {
    match field {
        Field::Known(tags) => Some(tags.clone()),
        Field::Null => Some(Tags::new()),
        Field::Unknown => None,
    }
}

/// EC2 refuses a CopyImage (or a retag) with more tags than it allows, and
/// only after the plan was approved; the plan names the attribute instead.
fn check_tag_limit(shared: &Shared, p: &CopyModel) -> Result<(), Diagnostics> {
    let (Some(source_tags), Some(tags)) = (known_tags(&p.source_tags), known_tags(&p.tags)) else {
        return Ok(());
    };
    let default_tags = shared.default_tags();
    let Some((attribute, total)) = over_tag_limit(&default_tags, &source_tags, &tags) else {
        return Ok(());
    };
    Err(Diagnostic::error(
        "Too many tags",
        format!(
            "The copy would carry {total} tags: the provider's default_tags ({}), source_tags ({}) and tags ({}), \
             each key counted once, plus Encrypted and CopiedFromAMI, which this resource adds. EC2 allows {} \
             tags on an AMI and on each snapshot. Remove some from {attribute}.",
            default_tags.len(),
            source_tags.len(),
            tags.len(),
            crate::validate::MAX_TAGS_PER_RESOURCE
        ),
    )
    .at(AttrPath::root(attribute))
    .into())
}

/// The key's ARN at plan time. A named key must exist and be enabled (else
/// the copy would fail only after a long wait); the default EBS key is
/// looked up on a best-effort basis and left unknown if that fails.
async fn resolve_key(
    clients: Option<&Arc<AwsClients>>,
    configured: &Field<String>,
) -> Result<Field<String>, Diagnostics> {
    let Some(clients) = clients else {
        return Ok(Field::Unknown);
    };
    match configured {
        Field::Unknown => Ok(Field::Unknown),
        Field::Known(key) => named_key_arn(clients, key)
            .await
            .map_err(|diagnostic| diagnostic.at(AttrPath::root("kms_key_id")).into()),
        Field::Null => {
            let default_key = match ebs_default_key_id(clients).await {
                Ok(key) => key,
                Err(_) => return Ok(Field::Unknown),
            };
            Ok(describe_key(clients, &default_key)
                .await
                .map(|facts| Field::Known(facts.arn))
                .unwrap_or(Field::Unknown))
        }
    }
}

/// The ARN of the configured key `key`, or why a copy could not use it.
async fn named_key_arn(clients: &AwsClients, key: &str) -> Result<Field<String>, Diagnostic> {
    // A key ARN (or alias ARN) names its region; EBS encrypts a copy
    // only with a key in the copy's own region.
    if let Some(region) = key.strip_prefix("arn:").and_then(|r| r.split(':').nth(2)) {
        if !region.is_empty() && region != clients.region {
            return Err(Diagnostic::error(
                "KMS key in another region",
                format!(
                    "kms_key_id {key:?} is in region {region}, but this copy is made in {}: EBS encrypts \
                     with a key in the copy's own region. Use a key (or a multi-Region replica) in {}.",
                    clients.region, clients.region
                ),
            ));
        }
    }
    let facts = match describe_key(clients, key).await {
        // A key or alias this same apply makes (an aws_kms_alias
        // with a configured name) does not exist yet at plan: like
        // an unshared source, it is left to the apply, which checks
        // it again before copying anything.
        Err(err) if err.code() == Some(KEY_NOT_FOUND_CODE) => {
            log::info(
                "kms_key_id not found at plan; a key or alias made in this apply may create it, and the apply checks it again before copying",
                &[("kms_key_id", key)],
            );
            return Ok(Field::Unknown);
        }
        other => other,
    };
    let facts = facts.map_err(|err| {
        Diagnostic::error(
            "KMS key not usable",
            format!(
                "kms_key_id {key:?} cannot be used by account {}: {err}",
                clients.account_id
            ),
        )
    })?;
    if !facts.usable() {
        return Err(Diagnostic::error(
            "KMS key not usable",
            format!("kms_key_id {key:?} ({}) is {}; the copy would fail. Enable the key or choose another.", facts.arn, facts.state),
        ));
    }
    if !facts.symmetric() {
        return Err(Diagnostic::error(
            "KMS key not usable",
            format!(
                "kms_key_id {key:?} ({}) is a {} key; EBS encrypts only with symmetric encryption keys \
                 (SYMMETRIC_DEFAULT). Choose a symmetric key.",
                facts.arn, facts.spec
            ),
        ));
    }
    Ok(Field::Known(facts.arn))
}
