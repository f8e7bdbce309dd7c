//! Resource identity (Terraform 1.12+), the same for both resource types:
//! an AMI is identified for good by its account, its region and its id.
//!
//! Identity is what `import` blocks may name instead of an id, what
//! `terraform query` reports for each object it lists, and what Terraform
//! stores beside the state to tell one object from another. It is derived
//! from state, never stored separately, so it cannot drift from it.

use std::sync::Arc;

use crate::aws::AwsClients;
use crate::protocol::declare::{model, Declared};
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::schema::Schema;
use crate::protocol::typed::{Field, FromValue, IntoValue};
use crate::protocol::value::Value;
use crate::resources::reach;
use crate::shared::Shared;
use crate::validate;

model! {
    /// What identifies a share or a copy.
    pub(crate) struct AmiIdentity("The AMI's account, region and id.") {
        account_id: String [optional]
            "The 12-digit account that owns the AMI. Default on import: the provider's account, which is the \
             only one an import can act in.",
        region: String [optional]
            "The region the AMI is in. Default on import: the provider's region.",
        id: String [required] "The AMI id (`ami-...`).",
    }
}

/// The identity schema both resource types declare (version 0).
pub(crate) fn schema() -> Schema {
    Schema::new(0, AmiIdentity::block())
}

/// The identity of the AMI `id` owned by `account` in `region`; `None`
/// while any of them is not known (a create not yet applied).
pub(crate) fn of(
    account: &Field<String>,
    region: &Field<String>,
    id: &Field<String>,
) -> Option<Value> {
    let known = |field: &Field<String>| field.known().filter(|v| !v.is_empty()).cloned();
    let identity = AmiIdentity {
        account_id: Field::Known(known(account)?),
        region: Field::Known(known(region)?),
        id: Field::Known(known(id)?),
    };
    Some(identity.to_value())
}

/// Where an import by identity acts: the clients for the identity's
/// region, and the AMI id. An account other than the provider's is refused
/// (an import cannot know a role to assume), naming the way that works.
pub(crate) async fn import_target(
    shared: &Shared,
    identity: &Value,
) -> Result<(Arc<AwsClients>, String), Diagnostics> {
    let identity =
        AmiIdentity::from_value(identity, &AttrPath::default()).map_err(Diagnostics::from)?;
    let id = identity.id.known().cloned().unwrap_or_default();
    if let Err(reason) = validate::ami_id(&id) {
        return Err(invalid(format!("The identity's id {reason}.")));
    }
    let base = shared.clients()?;
    if let Some(account) = identity.account_id.known() {
        if let Err(reason) = validate::account_id(account) {
            return Err(invalid(format!("The identity's account_id {reason}.")));
        }
        if *account != base.account_id {
            return Err(invalid(format!(
                "The identity names account {account}, but this provider configuration acts in account {}. \
                 Import with a provider configuration for account {account} (for example one whose provider \
                 block assumes a role there), then add `assume_role` to the resource if it should act through \
                 another configuration.",
                base.account_id
            )));
        }
    }
    let region = identity.region.clone();
    if let Some(region) = region.known() {
        if let Err(reason) = validate::region(region) {
            return Err(invalid(format!("The identity's region {reason}.")));
        }
        reach::check_region(&base, region, "region").await?;
    }
    let clients = reach::clients_for(shared, &region, &Field::Null).await?;
    Ok((clients, id))
}

fn invalid(detail: String) -> Diagnostics {
    Diagnostic::error("Invalid import identity", detail).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_needs_every_part_known() {
        let known = |s: &str| Field::Known(s.to_owned());
        let full = of(
            &known("111111111111"),
            &known("eu-west-1"),
            &known("ami-12345678"),
        );
        let value = full.expect("a known identity");
        let object = value.as_object().expect("an object");
        assert_eq!(object["account_id"], Value::String("111111111111".into()));
        assert_eq!(object["region"], Value::String("eu-west-1".into()));
        assert_eq!(object["id"], Value::String("ami-12345678".into()));
        assert_eq!(of(&known("1"), &known("eu-west-1"), &Field::Unknown), None);
        assert_eq!(of(&known("1"), &Field::Null, &known("ami-12345678")), None);
        assert_eq!(
            of(&known(""), &known("eu-west-1"), &known("ami-12345678")),
            None
        );
    }

    #[test]
    fn schema_requires_only_the_id_for_import() {
        let schema = schema();
        let flags: Vec<(String, bool, bool)> = schema
            .block
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.required, a.optional))
            .collect();
        assert_eq!(
            flags,
            vec![
                ("account_id".to_owned(), false, true),
                ("region".to_owned(), false, true),
                ("id".to_owned(), true, false),
            ]
        );
        assert_eq!(
            AmiIdentity::block().missing_descriptions(),
            Vec::<String>::new()
        );
    }
}
