//! `imagecopier_test_wait`: a test-only resource whose create waits.
//!
//! It exists so that the acceptance tests can prove the plugin's stop
//! behaviour (Ctrl-C to the process group, StopProvider) with a long
//! operation that needs no AWS. It is only served when
//! `IMAGECOPIER_TEST_RESOURCES=1` is in the provider's environment.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::protocol::declare::{model, Declared};
use crate::protocol::diagnostics::{Diagnostic, Diagnostics};
use crate::protocol::managed::{Applied, ManagedResource, Planned};
use crate::protocol::schema::Schema;
use crate::protocol::typed::Field;
use crate::shared::Shared;

model! {
    /// The resource's model.
    pub(crate) struct TestWaitModel("Test-only: waits during create. Not part of the provider's public interface.") {
        id: String [computed, aws] "Set when the wait completed.",
        seconds: i64 [required, replace] "How long create waits.",
        marker_file: String [required, replace] "File recording the wait's progress.",
    }
}

/// The resource.
#[derive(Debug)]
pub(super) struct TestWait {
    shared: Arc<Shared>,
}

impl TestWait {
    /// A resource bound to the provider's shared state.
    pub(super) fn new(shared: Arc<Shared>) -> Self {
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
        Schema::new(0, TestWaitModel::block())
    }

    async fn plan(
        &self,
        prior: Option<&TestWaitModel>,
        mut proposed: TestWaitModel,
        _config: &TestWaitModel,
    ) -> Result<Planned<TestWaitModel>, Diagnostics> {
        let requires_replace = match prior {
            None => {
                proposed.forget_aws_values();
                Vec::new()
            }
            Some(prior) => {
                proposed.keep_prior_values(prior);
                proposed.replaced_attributes(prior)
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

    async fn delete(&self, _prior: TestWaitModel) -> Result<Diagnostics, Diagnostics> {
        Ok(Diagnostics::new())
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
