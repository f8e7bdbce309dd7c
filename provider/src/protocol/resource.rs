//! What the gRPC adapter needs from the provider and its resources.
//!
//! These traits speak in [`Value`]s and [`Schema`]s, never in protobuf types:
//! the adapter (`grpc.rs`) is the only code that sees the wire. Resources do
//! not implement [`Resource`] by hand; they implement the typed trait in
//! `typed.rs`, which adapts to this one.

use std::sync::Arc;

use async_trait::async_trait;

use super::diagnostics::{AttrPath, Diagnostics};
use super::schema::Schema;
use super::value::Value;

/// The provider as the protocol layer sees it.
#[async_trait]
pub trait ProviderService: Send + Sync + 'static {
    /// Schema of the `provider` block.
    fn schema(&self) -> Schema;

    /// Every managed resource type this provider offers.
    fn resources(&self) -> Vec<Arc<dyn Resource>>;

    /// Static checks of the provider block (values may be unknown).
    async fn validate(&self, config: &Value) -> Diagnostics;

    /// Sets the provider up for the calls that follow.
    async fn configure(&self, config: &Value, terraform_version: &str) -> Diagnostics;

    /// Terraform asked us to stop: operations in flight should return soon.
    fn stop(&self);
}

/// A planned change, as Terraform proposes it.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// State before the change; `Null` when creating.
    pub prior_state: Value,
    /// Terraform's merge of configuration and prior state; `Null` when destroying.
    pub proposed_new_state: Value,
    /// The configuration as written; `Null` when destroying.
    pub config: Value,
    /// Provider-private data saved with the prior state.
    pub prior_private: Vec<u8>,
}

/// The provider's plan.
#[derive(Debug, Clone, Default)]
pub struct PlanResponse {
    /// The state the provider expects after apply; unknown where not yet known.
    pub planned_state: Value,
    /// Attributes whose change forces replacement.
    pub requires_replace: Vec<AttrPath>,
    /// Private data handed to apply.
    pub planned_private: Vec<u8>,
    /// Problems found while planning.
    pub diagnostics: Diagnostics,
}

/// A change to carry out.
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    /// State before the change; `Null` when creating.
    pub prior_state: Value,
    /// The planned state; `Null` when destroying.
    pub planned_state: Value,
    /// The configuration; `Null` when destroying.
    pub config: Value,
    /// Private data from plan.
    pub planned_private: Vec<u8>,
}

/// The outcome of apply. A non-null state is saved even when there are
/// errors, so that work already done in AWS is never forgotten.
#[derive(Debug, Clone, Default)]
pub struct ApplyResponse {
    /// State after the change; `Null` when the object is gone.
    pub new_state: Value,
    /// Private data saved with the state.
    pub private: Vec<u8>,
    /// Problems met while applying.
    pub diagnostics: Diagnostics,
}

/// The outcome of a refresh.
#[derive(Debug, Clone, Default)]
pub struct ReadResponse {
    /// The current state; `Null` when the object no longer exists.
    pub new_state: Value,
    /// Private data saved with the state.
    pub private: Vec<u8>,
    /// Problems met while reading.
    pub diagnostics: Diagnostics,
}

/// The outcome of importing an existing object.
#[derive(Debug, Clone, Default)]
pub struct ImportResponse {
    /// States of the imported objects (one for our resources).
    pub states: Vec<Value>,
    /// Problems met while importing.
    pub diagnostics: Diagnostics,
}

/// One managed resource type, at the level of dynamic values.
#[async_trait]
pub trait Resource: Send + Sync {
    /// The resource type name, e.g. `imagecopier_ami_share`.
    fn type_name(&self) -> &'static str;

    /// The resource's schema.
    fn schema(&self) -> Schema;

    /// Static checks of a configuration (values may be unknown).
    async fn validate(&self, config: &Value) -> Diagnostics;

    /// Turns stored state of any earlier schema version into the current one.
    async fn upgrade(&self, version: i64, json: &[u8]) -> Result<Value, Diagnostics>;

    /// Refreshes state from AWS.
    async fn read(&self, state: Value, private: Vec<u8>) -> ReadResponse;

    /// Plans a create, update or destroy.
    async fn plan(&self, request: PlanRequest) -> PlanResponse;

    /// Carries out a planned change.
    async fn apply(&self, request: ApplyRequest) -> ApplyResponse;

    /// Imports an existing object by id.
    async fn import(&self, id: &str) -> ImportResponse;
}

impl std::fmt::Debug for dyn Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.type_name())
    }
}
