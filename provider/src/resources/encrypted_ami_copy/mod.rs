//! `imagecopier_encrypted_ami_copy`: an encrypted copy of a shared AMI in
//! this provider's account, with the source's tags carried across, that is
//! never orphaned nor duplicated by an interrupted apply.
//!
//! Files: `schema.rs` (attributes), `model.rs` (typed model), `rules.rs`
//! (pure rules), `source.rs` (can this account copy the source), `plan.rs`,
//! `create.rs`, `update.rs` (update in place), `remove.rs` (delete, and a
//! failed copy's clean-up), `read.rs` (read and import).

mod create;
mod model;
mod plan;
mod read;
mod remove;
mod rules;
mod schema;
mod source;
#[cfg(test)]
mod tests;
mod update;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::duration::parse_duration;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::managed::{Applied, ManagedResource, Planned};
use crate::protocol::schema::Schema;
use crate::protocol::typed::Field;
use crate::provider::Shared;

pub use model::CopyModel;

/// The resource.
#[derive(Debug)]
pub struct EncryptedAmiCopy {
    shared: Arc<Shared>,
}

impl EncryptedAmiCopy {
    /// A resource bound to the provider's shared state.
    pub fn new(shared: Arc<Shared>) -> Self {
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
        schema::schema()
    }

    async fn validate(&self, config: &CopyModel) -> Diagnostics {
        validate(config)
    }

    async fn plan(
        &self,
        prior: Option<&CopyModel>,
        proposed: CopyModel,
        config: &CopyModel,
    ) -> Result<Planned<CopyModel>, Diagnostics> {
        plan::plan(&self.shared, prior, proposed, config).await
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

    async fn delete(&self, prior: CopyModel) -> Result<(), Diagnostics> {
        remove::delete(&self.shared, prior).await
    }

    async fn read(&self, state: CopyModel) -> Result<Option<CopyModel>, Diagnostics> {
        read::read(&self.shared, state).await
    }

    async fn import(&self, id: &str) -> Result<CopyModel, Diagnostics> {
        read::import(&self.shared, id).await
    }
}

/// Static checks of the configuration; unknown values are skipped.
pub fn validate(config: &CopyModel) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let mut check =
        |attribute: &str, field: &Field<String>, rule: fn(&str) -> Result<(), String>| {
            if let Some(value) = field.known() {
                if let Err(reason) = rule(value) {
                    let path = AttrPath::root(attribute);
                    diags.push(
                        Diagnostic::error(
                            format!("Invalid {attribute}"),
                            format!("{attribute} {reason}."),
                        )
                        .at(path),
                    );
                }
            }
        };
    check("source_ami_id", &config.source_ami_id, rules::ami_id);
    check(
        "source_region",
        &config.source_region,
        crate::validate::region,
    );
    check("name", &config.name, rules::ami_name);
    check("kms_key_id", &config.kms_key_id, |v| {
        rules::key_form(v).map(|_| ())
    });
    if let Some(tags) = config.source_tags.known() {
        diags.extend(rules::validate_tags("source_tags", tags));
    }
    if let Some(tags) = config.tags.known() {
        diags.extend(rules::validate_tags("tags", tags));
    }
    if let Some(timeouts) = config.timeouts.known() {
        for (name, value) in [("create", &timeouts.create), ("delete", &timeouts.delete)] {
            if let Some(text) = value.known() {
                if parse_duration(text).is_none() {
                    let path = AttrPath::root("timeouts").attr(name);
                    diags.push(
                        Diagnostic::error(
                            "Invalid timeout",
                            format!("timeouts.{name} must be a duration such as \"60m\" or \"1h30m\", got {text:?}."),
                        )
                        .at(path),
                    );
                }
            }
        }
    }
    diags
}

/// The `timeouts.create` or `timeouts.delete` duration, or its default.
fn timeout(model: &CopyModel, create: bool) -> Duration {
    let configured = model
        .timeouts
        .known()
        .and_then(|t| {
            if create {
                t.create.known()
            } else {
                t.delete.known()
            }
        })
        .and_then(|text| parse_duration(text));
    let default = if create {
        rules::DEFAULT_CREATE_TIMEOUT
    } else {
        rules::DEFAULT_DELETE_TIMEOUT
    };
    configured
        .or_else(|| parse_duration(default))
        .unwrap_or(Duration::from_secs(3600))
}
