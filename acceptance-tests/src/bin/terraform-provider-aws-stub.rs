//! A test-only stand-in for `hashicorp/aws`, serving just enough of `aws_ami_copy` for
//! Terraform to accept a state that holds one, so the end-to-end test of
//! `moved { from = aws_ami_copy.x  to = imagecopier_encrypted_ami_copy.x }` runs without the
//! real aws provider (no registry here). Terraform refuses to plan a state whose provider it
//! cannot start, even when every resource of it is moved away, so the test points
//! `dev_overrides` for `hashicorp/aws` at this binary. It reads state back unchanged and refuses
//! every change: it exists only to be moved away from.

use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use terraform_provider_imagecopier::protocol::diagnostics::{Diagnostic, Diagnostics};
use terraform_provider_imagecopier::protocol::json;
use terraform_provider_imagecopier::protocol::resource::{
    ApplyRequest, ApplyResponse, Found, ImportRequest, ImportResponse, ListRequest, Listed,
    MoveRequest, PlanRequest, PlanResponse, ProviderService, ReadResponse, Resource,
};
use terraform_provider_imagecopier::protocol::schema::{Attribute, Block, Schema};
use terraform_provider_imagecopier::protocol::value::{Type, Value};

/// `aws_ami_copy`'s attributes as the aws provider (v5/v6) stores them, all computed: the stub
/// only reads state.
fn schema() -> Schema {
    let device = Type::object([
        ("delete_on_termination", Type::Bool),
        ("device_name", Type::String),
        ("encrypted", Type::Bool),
        ("iops", Type::Number),
        ("outpost_arn", Type::String),
        ("snapshot_id", Type::String),
        ("throughput", Type::Number),
        ("volume_size", Type::Number),
        ("volume_type", Type::String),
    ]);
    let ephemeral = Type::object([
        ("device_name", Type::String),
        ("virtual_name", Type::String),
    ]);
    let timeouts = Type::object([
        ("create", Type::String),
        ("update", Type::String),
        ("delete", Type::String),
    ]);
    let strings = [
        "id",
        "arn",
        "architecture",
        "deprecation_time",
        "description",
        "destination_outpost_arn",
        "kms_key_id",
        "name",
        "owner_id",
        "platform_details",
        "region",
        "root_device_name",
        "source_ami_id",
        "source_ami_region",
        "virtualization_type",
    ];
    let mut block = Block::new("aws_ami_copy, as stored (test stub).");
    for name in strings {
        block = block.attribute(Attribute::computed(name, Type::String, "stored"));
    }
    for (name, ty) in [
        ("ebs_block_device", Type::set(device)),
        ("ephemeral_block_device", Type::set(ephemeral)),
        ("ena_support", Type::Bool),
        ("encrypted", Type::Bool),
        ("tags", Type::map(Type::String)),
        ("tags_all", Type::map(Type::String)),
        ("timeouts", timeouts),
    ] {
        block = block.attribute(Attribute::computed(name, ty, "stored"));
    }
    Schema::new(0, block)
}

fn refused() -> Diagnostics {
    Diagnostic::error(
        "Test stub",
        "This stand-in for hashicorp/aws only holds aws_ami_copy state to be moved away.",
    )
    .into()
}

struct AwsAmiCopy;

#[async_trait]
impl Resource for AwsAmiCopy {
    fn type_name(&self) -> &'static str {
        "aws_ami_copy"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    async fn upgrade(&self, _version: i64, raw: &[u8]) -> Result<Value, Diagnostics> {
        json::decode(raw, &schema().block.value_type())
            .map_err(|err| Diagnostic::error("Test stub", err.to_string()).into())
    }

    async fn read(&self, state: Value, private: Vec<u8>) -> ReadResponse {
        ReadResponse {
            new_state: state,
            private,
            ..ReadResponse::default()
        }
    }

    async fn plan(&self, _request: PlanRequest) -> PlanResponse {
        PlanResponse {
            diagnostics: refused(),
            ..PlanResponse::default()
        }
    }

    async fn apply(&self, _request: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            diagnostics: refused(),
            ..ApplyResponse::default()
        }
    }

    async fn import(&self, _request: ImportRequest) -> ImportResponse {
        ImportResponse {
            diagnostics: refused(),
            ..ImportResponse::default()
        }
    }

    fn identity_schema(&self) -> Option<Schema> {
        None
    }

    async fn move_from(&self, _request: MoveRequest) -> Result<Found, Diagnostics> {
        Err(refused())
    }

    fn list_schema(&self) -> Option<Schema> {
        None
    }

    async fn list(&self, _request: ListRequest) -> Result<Vec<Listed>, Diagnostics> {
        Err(refused())
    }
}

struct AwsStub;

#[async_trait]
impl ProviderService for AwsStub {
    fn schema(&self) -> Schema {
        Schema::new(0, Block::new("hashicorp/aws test stub."))
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(AwsAmiCopy)]
    }

    async fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    async fn configure(&self, _config: &Value, _terraform_version: &str) -> Diagnostics {
        Diagnostics::new()
    }

    fn stop(&self) {}
}

fn main() -> ExitCode {
    terraform_provider_imagecopier::serve(AwsStub)
}
