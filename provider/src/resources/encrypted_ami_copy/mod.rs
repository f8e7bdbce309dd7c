//! `imagecopier_encrypted_ami_copy`: an encrypted copy of a shared AMI in
//! this provider's account, with the source's tags carried across, that is
//! never orphaned nor duplicated by an interrupted apply.
//!
//! Layout, the same for every resource: `model.rs` declares the attributes;
//! `validate.rs` holds the static checks, `plan.rs` the plan-time ones;
//! `rules.rs` and `tag_rules.rs` are the pure logic (names, tokens, key
//! forms; tag maps), `timeouts.rs` the `timeouts` block as `Duration`s;
//! `create.rs` (with `start.rs` and `finish.rs`), `read.rs` (and import),
//! `update.rs` and `delete.rs` are the operations, and `aws_state.rs` holds
//! what they share for reading and changing a copy through `crate::aws`, so
//! that none of them imports another. `source.rs` answers the one question
//! only a copy asks: can this account copy the source? This file only
//! delegates; the order of the files is ARCHITECTURE.md's.

mod aws_state;
mod controls;
mod create;
mod delete;
mod drift;
mod finish;
mod guard;
mod mark;
mod model;
mod moved;
mod naming;
mod plan;
mod query;
mod read;
mod rules;
mod source;
mod start;
mod tag_rules;
mod timeouts;
mod update;
mod validate;

use std::sync::Arc;

use async_trait::async_trait;

use crate::protocol::declare::Declared;
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::managed::{Applied, ManagedResource, Planned};
use crate::protocol::resource::MoveRequest;
use crate::protocol::schema::Schema;
use crate::protocol::value::Value;
use crate::resources::identity;
use crate::shared::Shared;

pub(super) use model::CopyModel;

/// The resource.
#[derive(Debug)]
pub(super) struct EncryptedAmiCopy {
    shared: Arc<Shared>,
}

impl EncryptedAmiCopy {
    /// A resource bound to the provider's shared state.
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

#[async_trait]
impl ManagedResource for EncryptedAmiCopy {
    type Model = CopyModel;

    fn type_name(&self) -> &'static str {
        "imagecopier_encrypted_ami_copy"
    }

    fn schema(&self) -> Schema {
        Schema::new(0, CopyModel::block())
    }

    async fn validate(&self, config: &CopyModel) -> Diagnostics {
        validate::validate(config)
    }

    async fn plan(
        &self,
        prior: Option<&CopyModel>,
        proposed: CopyModel,
        config: &CopyModel,
    ) -> Result<Planned<CopyModel>, Diagnostics> {
        plan::plan(&self.shared, prior, proposed, config).await
    }

    async fn plan_destroy(&self, prior: &CopyModel) -> Diagnostics {
        match crate::resources::reach::clients_for(&self.shared, &prior.region, &prior.assume_role)
            .await
        {
            Ok(clients) => guard::destroy_preview(&clients, prior).await,
            Err(_) => Diagnostics::new(),
        }
    }

    async fn create(&self, planned: CopyModel, _config: CopyModel) -> Applied<CopyModel> {
        create::create(&self.shared, planned).await
    }

    async fn update(
        &self,
        prior: CopyModel,
        planned: CopyModel,
        _config: CopyModel,
    ) -> Applied<CopyModel> {
        update::update(&self.shared, prior, planned).await
    }

    async fn delete(&self, prior: CopyModel) -> Result<Diagnostics, Diagnostics> {
        delete::delete(&self.shared, prior).await
    }

    async fn read(&self, state: CopyModel) -> Result<Option<CopyModel>, Diagnostics> {
        read::read(&self.shared, state).await
    }

    async fn import(&self, id: &str) -> Result<CopyModel, Diagnostics> {
        let clients = self.shared.clients()?;
        read::import(&self.shared, &clients, id).await
    }

    fn identity_schema(&self) -> Option<Schema> {
        Some(identity::schema())
    }

    fn identity(&self, state: &CopyModel) -> Option<Value> {
        identity::of(&state.owner_id, &state.region, &state.id)
    }

    fn list_schema(&self) -> Option<Schema> {
        Some(query::schema())
    }

    async fn list(
        &self,
        config: &Value,
        limit: usize,
        full: bool,
    ) -> Result<Vec<(String, CopyModel)>, Diagnostics> {
        query::list(&self.shared, config, limit, full).await
    }

    async fn import_identity(&self, identity: &Value) -> Result<CopyModel, Diagnostics> {
        let (clients, id) = identity::import_target(&self.shared, identity).await?;
        read::import(&self.shared, &clients, &id).await
    }

    async fn move_from(&self, request: &MoveRequest) -> Option<Result<CopyModel, Diagnostics>> {
        moved::accepts(request).then(|| moved::from_aws_ami_copy(request))
    }
}
