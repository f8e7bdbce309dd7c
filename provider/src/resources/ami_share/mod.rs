//! `imagecopier_ami_share`: shares an AMI and every EBS snapshot behind it
//! with a set of accounts, organizations and OUs, as one declarative set.
//!
//! Layout: [`schema`] and [`model`] describe the resource; [`validate`] holds
//! the static checks, [`plan`] the plan-time ones; [`grants`] is the set
//! logic (pure, unit-tested); [`crud`] and [`aws_state`] do the AWS calls
//! through `crate::aws`.

mod aws_state;
mod crud;
mod grants;
mod model;
mod plan;
mod schema;
mod validate;

use std::sync::Arc;

use async_trait::async_trait;

use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::managed::{Applied, ManagedResource, Planned};
use crate::protocol::schema::Schema;
use crate::provider::Shared;

pub use model::AmiShareModel;

/// The resource.
#[derive(Debug)]
pub struct AmiShare {
    shared: Arc<Shared>,
}

impl AmiShare {
    /// A resource bound to the provider's shared state.
    pub fn new(shared: Arc<Shared>) -> Self {
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
        schema::schema()
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
        match self.shared.clients() {
            Ok(clients) => crud::converge(&clients, None, planned).await,
            Err(diags) => Applied::failed(diags),
        }
    }

    async fn update(
        &self,
        prior: AmiShareModel,
        planned: AmiShareModel,
        _config: AmiShareModel,
    ) -> Applied<AmiShareModel> {
        match self.shared.clients() {
            Ok(clients) => crud::converge(&clients, Some(&prior), planned).await,
            Err(diags) => Applied::partial(prior, diags),
        }
    }

    async fn delete(&self, prior: AmiShareModel) -> Result<(), Diagnostics> {
        crud::delete(&*self.shared.clients()?, &prior).await
    }

    async fn read(&self, state: AmiShareModel) -> Result<Option<AmiShareModel>, Diagnostics> {
        crud::read(&*self.shared.clients()?, &state).await
    }

    async fn import(&self, id: &str) -> Result<AmiShareModel, Diagnostics> {
        crud::import(&*self.shared.clients()?, id).await
    }
}
