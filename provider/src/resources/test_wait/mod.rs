//! `imagecopier_test_wait`: a test-only resource whose create waits.
//!
//! It exists so that the acceptance tests can prove the plugin's stop
//! behaviour (Ctrl-C to the process group, StopProvider) with a long
//! operation that needs no AWS. It is only served when
//! `IMAGECOPIER_TEST_RESOURCES=1` is in the provider's environment.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::managed::{Applied, ManagedResource, Planned};
use crate::protocol::schema::{Attribute, Block, Schema};
use crate::protocol::typed::{Field, FromValue, IntoValue, ObjectReader, ObjectWriter};
use crate::protocol::value::{Type, Value};
use crate::provider::Shared;

/// The resource's model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestWaitModel {
    /// Set once the wait finished.
    pub id: Field<String>,
    /// How long create waits.
    pub seconds: Field<i64>,
    /// File that records the operation's progress for the test to read.
    pub marker_file: Field<String>,
}

impl FromValue for TestWaitModel {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        let r = ObjectReader::new(value, path)?;
        Ok(Self {
            id: r.get("id")?,
            seconds: r.get("seconds")?,
            marker_file: r.get("marker_file")?,
        })
    }
}

impl IntoValue for TestWaitModel {
    fn to_value(&self) -> Value {
        ObjectWriter::new()
            .set("id", &self.id)
            .set("seconds", &self.seconds)
            .set("marker_file", &self.marker_file)
            .build()
    }
}

/// The resource.
#[derive(Debug)]
pub struct TestWait {
    shared: Arc<Shared>,
}

impl TestWait {
    /// A resource bound to the provider's shared state.
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

fn mark(model: &TestWaitModel, text: &str) {
    if let Some(path) = model.marker_file.known() {
        // The test reads this file; failing to write it fails that test.
        let _ = std::fs::write(path, text);
    }
}

#[async_trait]
impl ManagedResource for TestWait {
    type Model = TestWaitModel;

    fn type_name(&self) -> &'static str {
        "imagecopier_test_wait"
    }

    fn schema(&self) -> Schema {
        let block = Block::new(
            "Test-only: waits during create. Not part of the provider's public interface.",
        )
        .attribute(Attribute::computed(
            "id",
            Type::String,
            "Set when the wait completed.",
        ))
        .attribute(Attribute::required(
            "seconds",
            Type::Number,
            "How long create waits.",
        ))
        .attribute(Attribute::required(
            "marker_file",
            Type::String,
            "File recording the wait's progress.",
        ));
        Schema { version: 0, block }
    }

    async fn plan(
        &self,
        prior: Option<&TestWaitModel>,
        mut proposed: TestWaitModel,
        _config: &TestWaitModel,
    ) -> Result<Planned<TestWaitModel>, Diagnostics> {
        let requires_replace = match prior {
            None => {
                proposed.id = Field::Unknown;
                Vec::new()
            }
            Some(prior) => {
                proposed.id = prior.id.clone();
                vec![AttrPath::root("seconds"), AttrPath::root("marker_file")]
            }
        };
        Ok(Planned {
            state: proposed,
            requires_replace,
            warnings: Diagnostics::new(),
        })
    }

    async fn create(
        &self,
        mut planned: TestWaitModel,
        _config: TestWaitModel,
    ) -> Applied<TestWaitModel> {
        let seconds = planned.seconds.known().copied().unwrap_or(0).max(0);
        let started = Instant::now();
        mark(&planned, &format!("started pid={}\n", std::process::id()));
        let stop = self.shared.stop_token();
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(seconds.unsigned_abs())) => {
                mark(&planned, "finished\n");
                planned.id = Field::Known(format!("waited-{seconds}s"));
                Applied::ok(planned)
            }
            () = stop.cancelled() => {
                let elapsed = started.elapsed().as_secs_f64();
                mark(&planned, &format!("stopped after {elapsed:.1}s\n"));
                Applied::failed(Diagnostic::error(
                    "Operation stopped",
                    format!("Terraform asked the provider to stop (StopProvider) after {elapsed:.1}s of a {seconds}s wait."),
                ))
            }
        }
    }

    async fn update(
        &self,
        _prior: TestWaitModel,
        planned: TestWaitModel,
        _config: TestWaitModel,
    ) -> Applied<TestWaitModel> {
        Applied::ok(planned)
    }

    async fn delete(&self, _prior: TestWaitModel) -> Result<(), Diagnostics> {
        Ok(())
    }

    async fn read(&self, state: TestWaitModel) -> Result<Option<TestWaitModel>, Diagnostics> {
        Ok(Some(state))
    }

    async fn import(&self, _id: &str) -> Result<TestWaitModel, Diagnostics> {
        Err(Diagnostic::error(
            "Import not supported",
            "imagecopier_test_wait cannot be imported.",
        )
        .into())
    }
}
