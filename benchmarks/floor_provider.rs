//! A benchmark-only provider: the real provider's schemas, protocol layer and validation,
//! with every AWS call taken out. Refresh hands the stored state back unchanged and a plan
//! of an existing object plans it as it is, so a steady-state `terraform plan` of the
//! refresh benchmark's configuration costs Terraform core, the gRPC protocol and our value
//! encoding exactly what it costs with the real provider, and nothing else.
//!
//! `benchmarks/refresh.py` plans the same configuration and state with it beside the real
//! provider: the difference is what the provider's own reads cost, and what is left is the
//! floor any provider with these schemas pays on this machine. It only serves steady-state
//! plans of state the real provider wrote; it refuses creates and applies.
//!
//! Built by `cargo build --release --example floor-provider` (an example target of the
//! provider package, so it shares the release build's dependencies and is never shipped).

use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use terraform_provider_imagecopier::protocol::diagnostics::{Diagnostic, Diagnostics};
use terraform_provider_imagecopier::protocol::resource::{
    ApplyRequest, ApplyResponse, Found, ImportRequest, ImportResponse, ListRequest, Listed,
    MoveRequest, PlanRequest, PlanResponse, ProviderService, ReadResponse, Resource,
};
use terraform_provider_imagecopier::protocol::schema::Schema;
use terraform_provider_imagecopier::protocol::value::Value;
use terraform_provider_imagecopier::ImageCopierProvider;

fn refused(what: &str) -> Diagnostics {
    Diagnostic::error(
        "Benchmark floor provider",
        format!("The floor provider only serves steady-state plans; it does not {what}."),
    )
    .into()
}

/// One of the real provider's resource types, without its AWS side.
struct Floor(Arc<dyn Resource>);

#[async_trait]
impl Resource for Floor {
    fn type_name(&self) -> &'static str {
        self.0.type_name()
    }

    fn schema(&self) -> Schema {
        self.0.schema()
    }

    /// The real checks: they make no call and run on every plan.
    async fn validate(&self, config: &Value) -> Diagnostics {
        self.0.validate(config).await
    }

    /// The real decoding of stored state (pure: no call).
    async fn upgrade(&self, version: i64, json: &[u8]) -> Result<Value, Diagnostics> {
        self.0.upgrade(version, json).await
    }

    /// What a refresh returns when nothing changed in AWS, at no cost.
    async fn read(&self, state: Value, private: Vec<u8>) -> ReadResponse {
        ReadResponse {
            new_state: state,
            private,
            ..ReadResponse::default()
        }
    }

    /// An existing object planned as it is (the steady state); anything else is refused.
    async fn plan(&self, request: PlanRequest) -> PlanResponse {
        if request.prior_state.is_null() || request.proposed_new_state.is_null() {
            return PlanResponse {
                diagnostics: refused("plan creates or destroys"),
                ..PlanResponse::default()
            };
        }
        PlanResponse {
            planned_state: request.prior_state,
            planned_private: request.prior_private,
            planned_identity: request.prior_identity,
            ..PlanResponse::default()
        }
    }

    async fn apply(&self, _request: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            diagnostics: refused("apply"),
            ..ApplyResponse::default()
        }
    }

    async fn import(&self, _request: ImportRequest) -> ImportResponse {
        ImportResponse {
            diagnostics: refused("import"),
            ..ImportResponse::default()
        }
    }

    fn identity_schema(&self) -> Option<Schema> {
        self.0.identity_schema()
    }

    async fn move_from(&self, _request: MoveRequest) -> Result<Found, Diagnostics> {
        Err(refused("move"))
    }

    fn list_schema(&self) -> Option<Schema> {
        self.0.list_schema()
    }

    async fn list(&self, _request: ListRequest) -> Result<Vec<Listed>, Diagnostics> {
        Err(refused("list"))
    }
}

/// The real provider's schema and configuration checks; configuring makes no client.
struct FloorProvider(ImageCopierProvider);

#[async_trait]
impl ProviderService for FloorProvider {
    fn schema(&self) -> Schema {
        self.0.schema()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        self.0
            .resources()
            .into_iter()
            .map(|inner| Arc::new(Floor(inner)) as Arc<dyn Resource>)
            .collect()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        self.0.validate(config).await
    }

    async fn configure(&self, _config: &Value, _terraform_version: &str) -> Diagnostics {
        Diagnostics::new()
    }

    fn stop(&self) {}
}

fn main() -> ExitCode {
    terraform_provider_imagecopier::serve(FloorProvider(ImageCopierProvider::new()))
}
