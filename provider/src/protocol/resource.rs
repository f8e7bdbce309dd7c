//! What the gRPC adapter needs from the provider and its resources.
//!
//! These traits speak in [`Value`]s and [`Schema`]s, never in protobuf types:
//! the adapter (`grpc.rs`) is the only code that sees the wire. Resources do
//! not implement [`Resource`] by hand; they implement the typed trait in
//! `typed.rs`, which adapts to this one.

use std::sync::Arc;

use async_trait::async_trait;

use super::diagnostics::{AttrPath, Diagnostics};
use super::function::Function;
use super::schema::Schema;
use super::value::Value;

/// The provider as the protocol layer sees it.
#[async_trait]
pub trait ProviderService: Send + Sync + 'static {
    /// Schema of the `provider` block.
    fn schema(&self) -> Schema;

    /// Every managed resource type this provider offers.
    fn resources(&self) -> Vec<Arc<dyn Resource>>;

    /// Every data source this provider offers.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }

    /// Every provider-defined function (Terraform 1.8+).
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }

    /// Static checks of the provider block (values may be unknown).
    async fn validate(&self, config: &Value) -> Diagnostics;

    /// Sets the provider up for the calls that follow.
    async fn configure(&self, config: &Value, terraform_version: &str) -> Diagnostics;

    /// Terraform asked us to stop: operations in flight should return soon.
    fn stop(&self);

    /// Terraform is gone without asking (killed): operations in flight
    /// should return soon, knowing nobody will record what they return.
    fn abandon(&self) {
        self.stop();
    }
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
    /// The identity stored with the prior state (Terraform 1.12+); `Null`
    /// when creating or when Terraform keeps none.
    pub prior_identity: Value,
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
    /// The identity the object keeps (updates only); `Null` when not known yet.
    pub planned_identity: Value,
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
    /// The object's identity; `Null` when it is gone.
    pub identity: Value,
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
    /// The object's identity; `Null` when it is gone.
    pub identity: Value,
    /// Problems met while reading.
    pub diagnostics: Diagnostics,
}

/// What an import names: an id (`terraform import`, an `import` block's
/// `id`) or an identity (an `import` block's `identity`, Terraform 1.12+).
#[derive(Debug, Clone)]
pub enum ImportRequest {
    /// The id as written.
    Id(String),
    /// An object of the resource's identity type.
    Identity(Value),
}

/// One object found by an import, a move or a list.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Its state.
    pub state: Value,
    /// Its identity; `Null` for a resource without identity.
    pub identity: Value,
}

/// The outcome of importing an existing object.
#[derive(Debug, Clone, Default)]
pub struct ImportResponse {
    /// The imported objects (one for our resources).
    pub found: Vec<Found>,
    /// Problems met while importing.
    pub diagnostics: Diagnostics,
}

/// A `moved` block from another resource type (MoveResourceState).
#[derive(Debug, Clone)]
pub struct MoveRequest {
    /// The source's provider, e.g. `registry.terraform.io/hashicorp/aws`.
    pub source_provider_address: String,
    /// The source's resource type, e.g. `aws_ami_copy`.
    pub source_type_name: String,
    /// The schema version the source state was written with.
    pub source_schema_version: i64,
    /// The source state as JSON, in the source's schema.
    pub source_state_json: Vec<u8>,
}

/// A `list` block's request (`terraform query`, Terraform 1.14+).
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// The `config` block, of the type's list schema.
    pub config: Value,
    /// Whether each result carries the full object (`include_resource`,
    /// and always for `-generate-config-out`).
    pub include_object: bool,
    /// At most this many results.
    pub limit: usize,
}

/// One object a list found.
#[derive(Debug, Clone, Default)]
pub struct Listed {
    /// Its identity and (when asked for) its state.
    pub found: Found,
    /// A short human name, shown by `terraform query`.
    pub display_name: String,
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

    /// Imports an existing object by id or identity.
    async fn import(&self, request: ImportRequest) -> ImportResponse;

    /// The identity schema (Terraform 1.12+), if the type has one.
    fn identity_schema(&self) -> Option<Schema> {
        None
    }

    /// Takes over an object from another resource type's state.
    async fn move_from(&self, request: MoveRequest) -> Result<Found, Diagnostics>;

    /// The schema of a `list` block's `config` (Terraform 1.14+), if the
    /// type can be listed.
    fn list_schema(&self) -> Option<Schema> {
        None
    }

    /// The objects a `list` block finds.
    async fn list(&self, request: ListRequest) -> Result<Vec<Listed>, Diagnostics>;
}

/// One data source type, at the level of dynamic values.
#[async_trait]
pub trait DataSource: Send + Sync {
    /// The data source type name, e.g. `imagecopier_image`.
    fn type_name(&self) -> &'static str;

    /// Its schema.
    fn schema(&self) -> Schema;

    /// Static checks of a configuration (values may be unknown).
    async fn validate(&self, config: &Value) -> Diagnostics;

    /// Reads it: the configuration with every computed value filled in.
    async fn read(&self, config: Value) -> Result<Value, Diagnostics>;
}

impl std::fmt::Debug for dyn DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.type_name())
    }
}

impl std::fmt::Debug for dyn Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.type_name())
    }
}
