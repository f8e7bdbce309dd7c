//! `region` and `assume_role` on a resource: where it acts.
//!
//! Terraform cannot `for_each` provider configurations, so a central
//! repository that distributes an AMI to dozens of accounts would need a
//! provider block per account. Instead a resource may name its own region
//! and a role to assume with the provider's credentials, as the aws
//! provider's v6 `region` argument does for regions. Both resources use
//! this module the same way: static checks, the planned region and
//! account, what forces replacement, and the clients an operation uses.

use std::sync::Arc;

use crate::aws::region::{region_status, RegionStatus};
use crate::aws::{AssumeRole, AwsClients, ErrorKind, Target};
use crate::duration::parse_duration;
use crate::log;
use crate::protocol::declare::model;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::typed::Field;
use crate::shared::Shared;
use crate::validate;

/// Description of the `region` argument, the same on every resource.
pub(crate) const REGION_DESCRIPTION: &str =
    "The region this resource acts in, as the aws provider's `region` argument. Default: the provider's \
     region. Changing it replaces the resource.";

/// Description of the `assume_role` block, the same on every resource.
pub(crate) const ASSUME_ROLE_DESCRIPTION: &str =
    "A role to assume, with the provider configuration's own credentials, so this resource acts in the role's \
     account: one provider block can then reach every target account with `for_each`. The session is assumed \
     once per role per provider process (Terraform starts one for a plan and another for an apply) and shared \
     by every resource naming it with the same settings. The account is known at plan \
     from `role_arn`; the provider's `allowed_account_ids` and `forbidden_account_ids` apply to it. Changing \
     the role to another account replaces the resource; another role in the same account, or another \
     session_name, external_id or duration, is an in-place change.";

model! {
    /// A resource's `assume_role` block.
    pub(crate) struct RoleModel("The role to act as.") {
        role_arn: String [required]
            "ARN of the role to assume, e.g. `arn:aws:iam::222222222222:role/ami-importer`. Its account is where \
             this resource acts.",
        session_name: String [optional]
            "Session name shown in CloudTrail. Default: `terraform-provider-imagecopier`.",
        external_id: String [optional] "External ID the role's trust policy requires, if any.",
        duration: String [optional]
            "How long each role session lasts, such as `1h` (15m to 12h; a role assumed with credentials that \
             are themselves a role session, role chaining, is limited by AWS to 1h). Sessions are renewed before \
             they expire. Default: 1h.",
    }
}

/// Static checks of `region` and `assume_role`, naming the attribute.
pub(crate) fn validate(region: &Field<String>, role: &Field<RoleModel>) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let mut check =
        |path: AttrPath, field: &Field<String>, rule: fn(&str) -> Result<(), String>| {
            diags.extend(field.check(path, |value| rule(value)));
        };
    check(AttrPath::root("region"), region, validate::region);
    if let Some(role) = role.known() {
        let at = |name: &str| AttrPath::root("assume_role").attr(name);
        check(at("role_arn"), &role.role_arn, validate::role_arn);
        check(at("duration"), &role.duration, validate::session_duration);
        check(
            at("session_name"),
            &role.session_name,
            validate::session_name,
        );
        check(at("external_id"), &role.external_id, validate::external_id);
    }
    diags
}

/// The AWS layer's role, or `None` without a block; `Err(())` while any of
/// it is unknown.
fn role_of(role: &Field<RoleModel>) -> Result<Option<AssumeRole>, ()> {
    let block = match role {
        Field::Null => return Ok(None),
        Field::Unknown => return Err(()),
        Field::Known(block) => block,
    };
    let text = |field: &Field<String>| match field {
        Field::Known(value) => Ok(Some(value.clone()).filter(|v| !v.is_empty())),
        Field::Null => Ok(None),
        Field::Unknown => Err(()),
    };
    Ok(Some(AssumeRole {
        role_arn: text(&block.role_arn)?.unwrap_or_default(),
        session_name: text(&block.session_name)?,
        external_id: text(&block.external_id)?,
        duration: text(&block.duration)?.as_deref().and_then(parse_duration),
    }))
}

/// Where a model acts, or `None` while any of it is unknown.
pub(crate) fn target_of(region: &Field<String>, role: &Field<RoleModel>) -> Option<Target> {
    let region = match region {
        Field::Known(region) => Some(region.clone()),
        Field::Null => None,
        Field::Unknown => return None,
    };
    Some(Target {
        region,
        role: role_of(role).ok()?,
    })
}

/// The clients an apply, read or destroy of an object at `region` and
/// `role` uses. A role that cannot be assumed is named at
/// `assume_role.role_arn`.
pub(crate) async fn clients_for(
    shared: &Shared,
    region: &Field<String>,
    role: &Field<RoleModel>,
) -> Result<Arc<AwsClients>, Diagnostics> {
    let base = shared.clients()?;
    let Some(target) = target_of(region, role) else {
        return Err(Diagnostic::error(
            "Region or role not known",
            "region and assume_role must be known when the resource is applied. This is a bug.",
        )
        .into());
    };
    reach(&base, &target).await
}

/// The clients a list block (`terraform query`) lists with, in its
/// `config.region` or the provider's: a region that is not one, or that the
/// account cannot use, is an error naming the argument rather than an empty
/// list ("nothing to adopt") or a raw endpoint error.
pub(crate) async fn list_clients(
    shared: &Shared,
    region: &Field<String>,
) -> Result<Arc<AwsClients>, Diagnostics> {
    if let Some(value) = region.known() {
        validate::region(value).map_err(|reason| invalid_list_config("region", &reason))?;
        // Asked in the provider's own region: a misspelt one has no endpoint.
        let base = shared.clients()?;
        check_region(&base, value, "config.region").await?;
    }
    clients_for(shared, region, &Field::Null).await
}

/// A list block's `config.<attribute>` refused for `reason`.
pub(crate) fn invalid_list_config(attribute: &str, reason: &str) -> Diagnostics {
    Diagnostic::invalid(AttrPath::root("config").attr(attribute), reason).into()
}

/// The clients a plan checks with: `None` before the provider is configured
/// or while the target is unknown (the plan then checks nothing); an error,
/// at `region` for a region the provider's account cannot use, or at
/// `assume_role.role_arn` when the role cannot be assumed, so the plan fails
/// before anything changes.
pub(crate) async fn plan_clients(
    shared: &Shared,
    region: &Field<String>,
    role: &Field<RoleModel>,
) -> Result<Option<Arc<AwsClients>>, Diagnostics> {
    let (Ok(base), Some(target)) = (shared.clients(), target_of(region, role)) else {
        return Ok(None);
    };
    if let Some(region) = &target.region {
        check_region(&base, region, "region").await?;
    }
    if let Some(role) = &target.role {
        check_role_for(&base, role)?;
    }
    reach(&base, &target).await.map(Some)
}

/// Plan time: what STS would refuse about assuming `role` with the
/// provider's credentials `base`. A role in another partition cannot be
/// assumed from this one; and when the provider's credentials are a role
/// session already, assuming another role is role chaining, which STS
/// limits to one hour (IAM User Guide, "Roles terms and concepts").
fn check_role_for(base: &AwsClients, role: &AssumeRole) -> Result<(), Diagnostics> {
    let at = |name: &str| AttrPath::root("assume_role").attr(name);
    let partition = role.role_arn.split(':').nth(1).unwrap_or_default();
    if !partition.is_empty() && partition != base.partition {
        return Err(Diagnostic::error(
            "Invalid assume_role.role_arn",
            format!(
                "assume_role.role_arn {:?} is in partition {partition}, but the provider's credentials are in \
                 partition {}: a role can only be assumed from its own partition.",
                role.role_arn, base.partition
            ),
        )
        .at(at("role_arn"))
        .into());
    }
    let chained = base.caller_arn.contains(":assumed-role/");
    if let (true, Some(duration)) = (chained, role.duration) {
        if duration > CHAINED_SESSION_MAX {
            return Err(Diagnostic::error(
                "Invalid assume_role.duration",
                format!(
                    "assume_role.duration is {}s, but the provider's credentials are already a role session ({}), \
                     so assuming {:?} is role chaining, which AWS limits to 1h. Set duration to 1h or less.",
                    duration.as_secs(),
                    base.caller_arn,
                    role.role_arn
                ),
            )
            .at(at("duration"))
            .into());
        }
    }
    Ok(())
}

/// The longest session STS gives a chained role.
const CHAINED_SESSION_MAX: std::time::Duration = std::time::Duration::from_secs(3600);

async fn reach(base: &AwsClients, target: &Target) -> Result<Arc<AwsClients>, Diagnostics> {
    base.reach(target).await.map(Arc::new).map_err(|err| {
        let role = target.role.as_ref().map_or("", |r| r.role_arn.as_str());
        let summary = match err.kind() {
            ErrorKind::AccountNotAllowed => "Account not allowed",
            ErrorKind::AssumeRole | ErrorKind::Credentials => "Cannot assume IAM role",
            _ => "Cannot reach the resource's account",
        };
        let diagnostic = Diagnostic::error(summary, err.to_string());
        Diagnostics::from(if role.is_empty() {
            diagnostic
        } else {
            diagnostic.at(AttrPath::root("assume_role").attr("role_arn"))
        })
    })
}

/// Plan time: `region` (the `attribute` named) must be a region the account
/// of `clients` can use; a misspelt or not-enabled region would otherwise
/// surface later as a failed call about something else (a key not found).
/// When EC2 cannot say (DescribeRegions refused), the check is skipped: the
/// calls there still fail with AWS's reason. An endpoint override naming
/// another Region is refused first: calls for `region` would go there.
pub(crate) async fn check_region(
    clients: &AwsClients,
    region: &str,
    attribute: &str,
) -> Result<(), Diagnostics> {
    if region == clients.region {
        return Ok(()); // the provider already works there
    }
    if let Some((service, url)) = clients.endpoint_elsewhere(region) {
        return Err(Diagnostic::error(
            format!("Invalid {attribute}"),
            format!(
                "{attribute} is {region:?}, but the provider's {service} endpoint {url:?} serves another Region \
                 (AWS endpoints, VPC endpoints included, are regional), and it would be used for {region:?} too. \
                 Use a provider configuration (an alias) whose region is {region:?} with endpoints of that Region, \
                 or remove the endpoint override."
            ),
        )
        .at(AttrPath::root(attribute))
        .into());
    }
    match region_unusable(clients, region, attribute).await {
        None => Ok(()),
        Some(problem) => Err(Diagnostic::error(format!("Invalid {attribute}"), problem)
            .at(AttrPath::root(attribute))
            .into()),
    }
}

/// Why `region` (named `attribute` in the message) cannot be used by the
/// account of `clients`, if EC2 DescribeRegions says it cannot: not a
/// region of the partition, or not enabled. `None` when it can, or when
/// EC2 cannot say (logged). Also for the provider's own region, on the
/// error paths where a typo there shows as "not found".
pub(crate) async fn region_unusable(
    clients: &AwsClients,
    region: &str,
    attribute: &str,
) -> Option<String> {
    match region_status(clients, region).await {
        Ok(RegionStatus::Enabled) => None,
        Ok(RegionStatus::Unknown) => Some(format!(
            "{attribute} {region:?} is not an AWS region in partition {}: EC2 DescribeRegions does not list it. \
             Check the spelling (for example \"eu-west-1\").",
            clients.partition
        )),
        Ok(RegionStatus::NotEnabled(status)) => Some(format!(
            "{attribute} {region:?} is not enabled for account {} (opt-in status {status}), so nothing there \
             can be read or made. Enable the region for the account, or choose another.",
            clients.account_id
        )),
        Err(err) => {
            log::warn(
                "cannot list regions; a region is not checked",
                &[(attribute, region), ("error", &err.to_string())],
            );
            None
        }
    }
}

/// The planned `region`: as configured, else the provider's region (as the
/// aws provider v6 defaults it), else what state holds; unknown before the
/// provider is configured.
pub(crate) fn planned_region(
    shared: &Shared,
    config: &Field<String>,
    prior: Option<&Field<String>>,
) -> Field<String> {
    if !config.is_null() {
        return config.clone();
    }
    match (shared.clients(), prior) {
        (Ok(clients), _) => Field::Known(clients.region.clone()),
        (Err(_), Some(prior)) if prior.known().is_some() => prior.clone(),
        _ => Field::Unknown,
    }
}

/// The account the resource acts in: the role's (known whenever its ARN
/// is), else the provider's.
pub(crate) fn planned_account(shared: &Shared, role: &Field<RoleModel>) -> Field<String> {
    match role {
        Field::Known(block) => match &block.role_arn {
            Field::Known(arn) => validate::role_account(arn)
                .map_or(Field::Unknown, |account| Field::Known(account.to_owned())),
            _ => Field::Unknown,
        },
        Field::Unknown => Field::Unknown,
        Field::Null => match shared.clients() {
            Ok(clients) => Field::Known(clients.account_id.clone()),
            Err(_) => Field::Unknown,
        },
    }
}

/// What a plan must replace because the object would act elsewhere: the
/// region, or the account. A prior value that is unknown or null (state
/// written before these arguments existed) moves nothing; a planned value
/// not known yet replaces, as the framework's RequiresReplace does, since a
/// final plan at apply may not turn an update into a replacement.
pub(crate) fn moved(
    prior_region: &Field<String>,
    planned_region: &Field<String>,
    prior_account: &Field<String>,
    planned_account: &Field<String>,
) -> Vec<AttrPath> {
    let differs = |prior: &Field<String>, planned: &Field<String>| match (prior.known(), planned) {
        (None, _) => false,
        (Some(_), Field::Unknown) => true,
        (Some(prior), planned) => planned.known() != Some(prior),
    };
    let mut paths = Vec::new();
    if differs(prior_region, planned_region) {
        paths.push(AttrPath::root("region"));
    }
    if differs(prior_account, planned_account) {
        paths.push(AttrPath::root("assume_role"));
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(arn: &str) -> Field<RoleModel> {
        Field::Known(RoleModel {
            role_arn: Field::Known(arn.to_owned()),
            ..RoleModel::default()
        })
    }

    #[test]
    fn bad_arguments_are_named() {
        let diags = validate(
            &Field::Known("eu-wst".into()),
            &role("arn:aws:iam::1:role/x"),
        );
        let paths: Vec<String> = diags.0.iter().map(|d| format!("{:?}", d.path)).collect();
        assert_eq!(diags.0.len(), 2, "{paths:?}");
        assert!(
            diags.0[0].detail.starts_with("region "),
            "{}",
            diags.0[0].detail
        );
        assert_eq!(diags.0[0].path, Some(AttrPath::root("region")));
        assert_eq!(
            diags.0[1].path,
            Some(AttrPath::root("assume_role").attr("role_arn"))
        );
        let good = validate(
            &Field::Null,
            &role("arn:aws:iam::222222222222:role/ami-importer"),
        );
        assert!(good.is_empty());
        let long = Field::Known(RoleModel {
            role_arn: Field::Known("arn:aws:iam::222222222222:role/r".into()),
            duration: Field::Known("13h".into()),
            ..RoleModel::default()
        });
        let diags = validate(&Field::Null, &long);
        assert_eq!(diags.0.len(), 1);
        assert_eq!(
            diags.0[0].path,
            Some(AttrPath::root("assume_role").attr("duration"))
        );
    }

    #[test]
    fn the_target_is_known_only_when_all_of_it_is() {
        assert_eq!(
            target_of(&Field::Null, &Field::Null),
            Some(Target::default())
        );
        assert_eq!(target_of(&Field::Unknown, &Field::Null), None);
        assert_eq!(target_of(&Field::Null, &Field::Unknown), None);
        let partly = Field::Known(RoleModel {
            role_arn: Field::Unknown,
            ..RoleModel::default()
        });
        assert_eq!(target_of(&Field::Null, &partly), None);
        let target = target_of(
            &Field::Known("us-east-1".into()),
            &role("arn:aws:iam::222222222222:role/r"),
        );
        let target = target.expect("known");
        assert_eq!(target.region.as_deref(), Some("us-east-1"));
        assert_eq!(
            target.role.map(|r| r.role_arn),
            Some("arn:aws:iam::222222222222:role/r".to_owned())
        );
    }

    #[test]
    fn moving_region_or_account_replaces() {
        let k = |s: &str| Field::Known(s.to_owned());
        assert!(moved(&k("eu-west-1"), &k("eu-west-1"), &k("1"), &k("1")).is_empty());
        assert_eq!(
            moved(&k("eu-west-1"), &k("us-east-1"), &k("1"), &k("1")),
            vec![AttrPath::root("region")]
        );
        assert_eq!(
            moved(&k("a"), &k("a"), &k("1"), &k("2")),
            vec![AttrPath::root("assume_role")]
        );
        assert!(
            moved(&Field::Null, &k("us-east-1"), &Field::Null, &k("2")).is_empty(),
            "state from before region existed moves nothing"
        );
        assert_eq!(
            moved(&k("a"), &Field::Unknown, &k("1"), &Field::Unknown),
            vec![AttrPath::root("region"), AttrPath::root("assume_role")],
            "not known yet: may move"
        );
    }
}
