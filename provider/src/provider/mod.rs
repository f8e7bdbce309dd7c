//! The provider: its configuration and the state its resources share.

mod config;
mod schema;

use std::sync::Arc;

use async_trait::async_trait;

use crate::log;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::resource::{ProviderService, Resource};
use crate::protocol::schema::Schema;
use crate::protocol::typed::FromValue;
use crate::protocol::value::Value;
use crate::shared::Shared;

pub use config::ProviderConfig;

/// The imagecopier provider.
#[derive(Debug)]
pub struct ImageCopierProvider {
    shared: Arc<Shared>,
    resources: Vec<Arc<dyn Resource>>,
}

impl ImageCopierProvider {
    /// A provider waiting to be configured.
    pub fn new() -> Self {
        let shared = Arc::new(Shared::new());
        Self {
            resources: crate::resources::all(&shared),
            shared,
        }
    }
}

impl Default for ImageCopierProvider {
    fn default() -> Self {
        Self::new()
    }
}

fn decode_config(config: &Value) -> Result<ProviderConfig, Diagnostics> {
    ProviderConfig::from_value(config, &AttrPath::default()).map_err(Diagnostics::from)
}

#[async_trait]
impl ProviderService for ImageCopierProvider {
    fn schema(&self) -> Schema {
        schema::provider_schema()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        self.resources.clone()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        match decode_config(config) {
            Ok(config) => config.validate(),
            Err(diags) => diags,
        }
    }

    async fn configure(&self, config: &Value, terraform_version: &str) -> Diagnostics {
        let config = match decode_config(config) {
            Ok(config) => config,
            Err(diags) => return diags,
        };
        let diags = config.validate();
        if diags.has_errors() {
            return diags;
        }
        self.shared.set_default_tags(config.default_tags());
        let Some(settings) = config.settings() else {
            log::info(
                "provider configuration has unknown values; deferring AWS setup",
                &[],
            );
            self.shared.set_deferred();
            return diags;
        };
        match crate::aws::connect(&settings).await {
            Ok(clients) => {
                log::info(
                    "configured AWS clients",
                    &[
                        ("account_id", &clients.account_id),
                        ("region", &clients.region),
                        ("terraform_version", terraform_version),
                    ],
                );
                self.shared.set_ready(clients);
                diags
            }
            Err(err) => {
                let mut diags = diags;
                diags.push(Diagnostic::error(
                    "Configuring the imagecopier provider",
                    err.to_string(),
                ));
                diags
            }
        }
    }

    fn stop(&self) {
        log::info(
            "StopProvider received; cancelling operations in flight",
            &[],
        );
        self.shared.stop();
    }
}
