//! `imagecopier_ami_share`: shares an AMI and every EBS snapshot behind it
//! with a set of accounts, organizations and OUs, as one declarative set.
//!
//! Layout, the same for every resource: [`model`] declares the attributes;
//! [`validate`] holds the static checks, [`plan`] the plan-time ones;
//! [`rules`] is the set logic (pure, unit-tested); [`create`] (which is
//! also update: both converge the grants), [`read`] (and import) and
//! [`delete`] are the operations, and [`aws_state`] holds what they share
//! for reading and changing grants through `crate::aws`.

mod aws_state;
mod create;
mod delete;
mod exclusive;
mod key_grants;
mod listed;
mod model;
mod plan;
mod query;
mod read;
mod recorded;
mod rules;
mod validate;

use std::sync::Arc;

use async_trait::async_trait;

use crate::protocol::declare::Declared;
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::managed::{Applied, ManagedResource, Planned};
use crate::protocol::schema::Schema;
use crate::protocol::typed::Field;
use crate::protocol::value::Value;
use crate::resources::{identity, reach};
use crate::shared::Shared;

pub(super) use model::AmiShareModel;

/// The resource.
#[derive(Debug)]
pub(super) struct AmiShare {
    shared: Arc<Shared>,
}

impl AmiShare {
    /// A resource bound to the provider's shared state.
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

#[async_trait]
impl ManagedResource for AmiShare {
    type Model = AmiShareModel;

    fn type_name(&self) -> &'static str {
        "imagecopier_ami_share"
    }

    fn schema(&self) -> Schema {
        Schema::new(0, AmiShareModel::block())
    }

    async fn validate(&self, config: &AmiShareModel) -> Diagnostics {
        validate::validate(config)
    }

    async fn plan(
        &self,
        prior: Option<&AmiShareModel>,
        proposed: AmiShareModel,
        config: &AmiShareModel,
    ) -> Result<Planned<AmiShareModel>, Diagnostics> {
        plan::plan(&self.shared, prior, proposed, config).await
    }

    async fn create(
        &self,
        planned: AmiShareModel,
        _config: AmiShareModel,
    ) -> Applied<AmiShareModel> {
        match reach::clients_for(&self.shared, &planned.region, &planned.assume_role).await {
            Ok(clients) => create::converge(&clients, None, planned).await,
            Err(diags) => Applied::failed(diags),
        }
    }

    async fn update(
        &self,
        prior: AmiShareModel,
        planned: AmiShareModel,
        _config: AmiShareModel,
    ) -> Applied<AmiShareModel> {
        match reach::clients_for(&self.shared, &planned.region, &planned.assume_role).await {
            Ok(clients) => create::converge(&clients, Some(&prior), planned).await,
            Err(diags) => Applied::partial(prior, diags),
        }
    }

    async fn delete(&self, prior: AmiShareModel) -> Result<Diagnostics, Diagnostics> {
        let clients = reach::clients_for(&self.shared, &prior.region, &prior.assume_role).await?;
        delete::delete(&clients, &prior).await
    }

    async fn read(&self, state: AmiShareModel) -> Result<Option<AmiShareModel>, Diagnostics> {
        let clients = reach::clients_for(&self.shared, &state.region, &state.assume_role).await?;
        let mut found = read::read(&clients, &state).await?;
        // State written before `region` existed: the share is where the
        // provider acted then.
        if let Some(found) = found.as_mut().filter(|f| f.region.known().is_none()) {
            found.region = Field::Known(clients.region.clone());
        }
        Ok(found)
    }

    async fn import(&self, id: &str) -> Result<AmiShareModel, Diagnostics> {
        let clients = self.shared.clients()?;
        read::import(&clients, id).await
    }

    fn identity_schema(&self) -> Option<Schema> {
        Some(identity::schema())
    }

    /// The share acts in the AMI owner's account, which is the account the
    /// resource acts in: known from the role ARN or the provider.
    fn identity(&self, state: &AmiShareModel) -> Option<Value> {
        let account = reach::planned_account(&self.shared, &state.assume_role);
        identity::of(&account, &state.region, &state.image_id)
    }

    fn list_schema(&self) -> Option<Schema> {
        Some(query::schema())
    }

    /// Whether an AMI is shared takes its grants, so a list reads them either way.
    async fn list(
        &self,
        config: &Value,
        limit: usize,
        _full: bool,
    ) -> Result<Vec<(String, AmiShareModel)>, Diagnostics> {
        query::list(&self.shared, config, limit).await
    }

    async fn import_identity(&self, identity: &Value) -> Result<AmiShareModel, Diagnostics> {
        let (clients, id) = identity::import_target(&self.shared, identity).await?;
        read::import(&clients, &id).await
    }
}
