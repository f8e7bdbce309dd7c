//! The provider: its configuration and the state its resources share.

mod config;
mod schema;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::aws::AwsClients;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::log;
use crate::protocol::resource::{ProviderService, Resource};
use crate::protocol::schema::Schema;
use crate::protocol::typed::FromValue;
use crate::protocol::value::Value;

pub use config::ProviderConfig;

/// What ConfigureProvider left behind.
#[derive(Debug, Clone)]
enum Connection {
    /// ConfigureProvider has not run yet.
    NotConfigured,
    /// The configuration held values known only after apply.
    Deferred,
    /// Ready to call AWS.
    Ready(Arc<AwsClients>),
}

/// State the provider shares with its resources.
#[derive(Debug)]
pub struct Shared {
    connection: RwLock<Connection>,
    default_tags: RwLock<BTreeMap<String, String>>,
    stop: CancellationToken,
}

impl Shared {
    fn new() -> Self {
        Self {
            connection: RwLock::new(Connection::NotConfigured),
            default_tags: RwLock::new(BTreeMap::new()),
            stop: CancellationToken::new(),
        }
    }

    /// The AWS clients, or a diagnostic saying why there are none yet.
    pub fn clients(&self) -> Result<Arc<AwsClients>, Diagnostics> {
        let connection = self
            .connection
            .read()
            .map(|c| c.clone())
            .unwrap_or(Connection::NotConfigured);
        match connection {
            Connection::Ready(clients) => Ok(clients),
            Connection::Deferred => Err(Diagnostic::error(
                "Provider configuration not yet known",
                "The imagecopier provider's configuration depends on values that are only known after apply, \
                 so it cannot call AWS yet. Apply the resources it depends on first (for example with -target).",
            )
            .into()),
            Connection::NotConfigured => Err(Diagnostic::error(
                "Provider not configured",
                "The imagecopier provider was used before Terraform configured it. This is a bug.",
            )
            .into()),
        }
    }

    /// The provider's `default_tags`.
    pub fn default_tags(&self) -> BTreeMap<String, String> {
        self.default_tags
            .read()
            .map(|t| t.clone())
            .unwrap_or_default()
    }

    /// Cancelled when Terraform calls StopProvider; long operations select on it.
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }
}

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
        if let Ok(mut tags) = self.shared.default_tags.write() {
            *tags = config.default_tags();
        }
        let Some(settings) = config.settings() else {
            log::info(
                "provider configuration has unknown values; deferring AWS setup",
                &[],
            );
            if let Ok(mut connection) = self.shared.connection.write() {
                *connection = Connection::Deferred;
            }
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
                if let Ok(mut connection) = self.shared.connection.write() {
                    *connection = Connection::Ready(Arc::new(clients));
                }
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
        self.shared.stop.cancel();
    }
}
