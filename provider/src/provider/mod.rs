//! The provider: its configuration and the state its resources share.

mod config;
mod default_tags;
mod schema;

use std::sync::Arc;

use async_trait::async_trait;

use crate::aws::{ErrorKind, ProviderSettings};
use crate::log;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::function::Function;
use crate::protocol::resource::{DataSource, ProviderService, Resource};
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
    data_sources: Vec<Arc<dyn DataSource>>,
}

impl ImageCopierProvider {
    /// A provider waiting to be configured.
    pub fn new() -> Self {
        let shared = Arc::new(Shared::new());
        Self {
            resources: crate::resources::all(&shared),
            data_sources: crate::resources::data_sources(&shared),
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

/// The provider argument a configure failure is about, when one is, so
/// Terraform points at the line to fix.
fn setting_at_fault(settings: &ProviderSettings, kind: ErrorKind) -> Option<AttrPath> {
    match kind {
        ErrorKind::AccountNotAllowed if settings.allowed_account_ids.is_empty() => {
            Some(AttrPath::root("forbidden_account_ids"))
        }
        ErrorKind::AccountNotAllowed => Some(AttrPath::root("allowed_account_ids")),
        ErrorKind::AssumeRole => Some(AttrPath::root("assume_role").index(0).attr("role_arn")),
        _ => None,
    }
}

#[async_trait]
impl ProviderService for ImageCopierProvider {
    fn schema(&self) -> Schema {
        schema::provider_schema()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        self.resources.clone()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        self.data_sources.clone()
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        crate::functions::all()
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
                let diagnostic =
                    Diagnostic::error("Configuring the imagecopier provider", err.to_string());
                diags.push(match setting_at_fault(&settings, err.kind()) {
                    Some(path) => diagnostic.at(path),
                    None => diagnostic,
                });
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

    fn abandon(&self) {
        log::warn(
            "Terraform is gone; cancelling operations in flight, leaving what they started for a rerun",
            &[],
        );
        self.shared.abandon();
    }
}
