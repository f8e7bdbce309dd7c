//! The trait resources implement, in terms of their own model structs, and
//! its adapter onto the dynamic [`Resource`] trait.
//!
//! The adapter owns the protocol's bookkeeping so every resource gets it
//! right the same way: decoding into the model, destroy plans, dispatching
//! apply to create/update/delete, keeping partial state on failed creates,
//! and treating a vanished object as removed.

use async_trait::async_trait;

use super::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use super::json;
use super::resource::{
    ApplyRequest, ApplyResponse, ImportResponse, PlanRequest, PlanResponse, ReadResponse, Resource,
};
use super::schema::Schema;
use super::typed::{FromValue, IntoValue};
use super::value::Value;

/// A resource model: a struct that converts from and to the resource's
/// object value.
pub trait Model: FromValue + IntoValue + Clone + Send + Sync + 'static {}

impl<T: FromValue + IntoValue + Clone + Send + Sync + 'static> Model for T {}

/// A plan computed by a resource.
#[derive(Debug, Clone)]
pub struct Planned<M> {
    /// The state expected after apply.
    pub state: M,
    /// Attributes whose change replaces the object.
    pub requires_replace: Vec<AttrPath>,
    /// Warnings to show with the plan.
    pub warnings: Diagnostics,
}

/// The outcome of a create or update.
#[derive(Debug, Clone)]
pub struct Applied<M> {
    /// What exists now. `None` only when nothing was created at all; after
    /// a partial failure this still records what exists, so that Terraform
    /// keeps track of it (and destroys or repairs it later).
    pub state: Option<M>,
    /// Errors and warnings.
    pub diagnostics: Diagnostics,
}

impl<M> Applied<M> {
    /// Complete success.
    pub fn ok(state: M) -> Self {
        Self {
            state: Some(state),
            diagnostics: Diagnostics::new(),
        }
    }

    /// Failure with nothing to record.
    pub fn failed(diagnostics: impl Into<Diagnostics>) -> Self {
        Self {
            state: None,
            diagnostics: diagnostics.into(),
        }
    }

    /// Failure after something was created: keep it in state.
    pub fn partial(state: M, diagnostics: impl Into<Diagnostics>) -> Self {
        Self {
            state: Some(state),
            diagnostics: diagnostics.into(),
        }
    }
}

/// A managed resource type written against its model `Self::Model`.
#[async_trait]
pub trait ManagedResource: Send + Sync + 'static {
    /// The model struct.
    type Model: Model;

    /// The resource type name, e.g. `imagecopier_ami_share`.
    fn type_name(&self) -> &'static str;

    /// The schema; its version is the current state version.
    fn schema(&self) -> Schema;

    /// Static checks; values may be unknown.
    async fn validate(&self, _config: &Self::Model) -> Diagnostics {
        Diagnostics::new()
    }

    /// Plans a create (`prior` is `None`) or an update.
    async fn plan(
        &self,
        prior: Option<&Self::Model>,
        proposed: Self::Model,
        config: &Self::Model,
    ) -> Result<Planned<Self::Model>, Diagnostics>;

    /// Checks before a destroy; warnings only, by default none.
    async fn plan_destroy(&self, _prior: &Self::Model) -> Diagnostics {
        Diagnostics::new()
    }

    /// Creates the object.
    async fn create(&self, planned: Self::Model, config: Self::Model) -> Applied<Self::Model>;

    /// Updates the object in place.
    async fn update(
        &self,
        prior: Self::Model,
        planned: Self::Model,
        config: Self::Model,
    ) -> Applied<Self::Model>;

    /// Deletes the object; an object that is already gone counts as deleted.
    /// `Ok` carries warnings about a delete that happened.
    async fn delete(&self, prior: Self::Model) -> Result<Diagnostics, Diagnostics>;

    /// Refreshes; `Ok(None)` when the object no longer exists.
    async fn read(&self, state: Self::Model) -> Result<Option<Self::Model>, Diagnostics>;

    /// Imports an existing object by id.
    async fn import(&self, id: &str) -> Result<Self::Model, Diagnostics>;

    /// Upgrades stored state of an older schema version. The default reads
    /// state of the current version and refuses anything newer.
    async fn upgrade(&self, version: i64, raw_json: &[u8]) -> Result<Self::Model, Diagnostics> {
        let schema = self.schema();
        if version > schema.version {
            return Err(Diagnostic::error(
                "State from a newer provider",
                format!(
                    "This state was written by a newer version of the provider (schema version {version}, this \
                     provider knows {}). Upgrade the provider.",
                    schema.version
                ),
            )
            .into());
        }
        let value = json::decode(raw_json, &schema.block.value_type()).map_err(|err| {
            Diagnostics::from(Diagnostic::error(
                "Invalid stored state",
                format!("The stored state could not be read: {err}"),
            ))
        })?;
        Self::Model::from_value(&value, &AttrPath::default()).map_err(Diagnostics::from)
    }
}

/// Adapts a [`ManagedResource`] onto the dynamic [`Resource`] trait.
#[derive(Debug)]
pub struct Managed<R>(pub R);

fn model<M: Model>(value: &Value) -> Result<M, Diagnostics> {
    M::from_value(value, &AttrPath::default()).map_err(Diagnostics::from)
}

#[async_trait]
impl<R: ManagedResource> Resource for Managed<R> {
    fn type_name(&self) -> &'static str {
        self.0.type_name()
    }

    fn schema(&self) -> Schema {
        self.0.schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        match model::<R::Model>(config) {
            Ok(config) => self.0.validate(&config).await,
            Err(diags) => diags,
        }
    }

    async fn upgrade(&self, version: i64, json: &[u8]) -> Result<Value, Diagnostics> {
        Ok(self.0.upgrade(version, json).await?.to_value())
    }

    async fn read(&self, state: Value, private: Vec<u8>) -> ReadResponse {
        let result = async {
            let state = model::<R::Model>(&state)?;
            self.0.read(state).await
        }
        .await;
        match result {
            Ok(Some(state)) => ReadResponse {
                new_state: state.to_value(),
                private,
                diagnostics: Diagnostics::new(),
            },
            // Gone: Terraform drops it from state and plans to create it again.
            Ok(None) => ReadResponse {
                new_state: Value::Null,
                private: Vec::new(),
                diagnostics: Diagnostics::new(),
            },
            Err(diagnostics) => ReadResponse {
                new_state: Value::Null,
                private,
                diagnostics,
            },
        }
    }

    async fn plan(&self, request: PlanRequest) -> PlanResponse {
        if request.proposed_new_state.is_null() {
            let diagnostics = match model::<R::Model>(&request.prior_state) {
                Ok(prior) => self.0.plan_destroy(&prior).await,
                Err(diags) => diags,
            };
            return PlanResponse {
                planned_state: Value::Null,
                diagnostics,
                ..Default::default()
            };
        }
        let result = async {
            let prior = if request.prior_state.is_null() {
                None
            } else {
                Some(model::<R::Model>(&request.prior_state)?)
            };
            let proposed = model::<R::Model>(&request.proposed_new_state)?;
            let config = model::<R::Model>(&request.config)?;
            self.0.plan(prior.as_ref(), proposed, &config).await
        }
        .await;
        match result {
            Ok(planned) => PlanResponse {
                planned_state: planned.state.to_value(),
                requires_replace: planned.requires_replace,
                planned_private: request.prior_private,
                diagnostics: planned.warnings,
            },
            Err(diagnostics) => PlanResponse {
                diagnostics,
                ..Default::default()
            },
        }
    }

    async fn apply(&self, request: ApplyRequest) -> ApplyResponse {
        let private = request.planned_private;
        if request.planned_state.is_null() {
            // Destroy. On failure the prior state stays, so nothing is forgotten.
            let result = async {
                let prior = model::<R::Model>(&request.prior_state)?;
                self.0.delete(prior).await
            }
            .await;
            return match result {
                Ok(warnings) => ApplyResponse {
                    new_state: Value::Null,
                    private: Vec::new(),
                    diagnostics: warnings,
                },
                Err(diagnostics) => ApplyResponse {
                    new_state: request.prior_state,
                    private,
                    diagnostics,
                },
            };
        }
        let creating = request.prior_state.is_null();
        let decoded = async {
            let planned = model::<R::Model>(&request.planned_state)?;
            let config = model::<R::Model>(&request.config)?;
            let prior = if creating {
                None
            } else {
                Some(model::<R::Model>(&request.prior_state)?)
            };
            Ok::<_, Diagnostics>((planned, config, prior))
        }
        .await;
        let (planned, config, prior) = match decoded {
            Ok(parts) => parts,
            Err(diagnostics) => {
                return ApplyResponse {
                    new_state: request.prior_state,
                    private,
                    diagnostics,
                }
            }
        };
        let applied = match prior {
            None => self.0.create(planned, config).await,
            Some(prior) => self.0.update(prior, planned, config).await,
        };
        let new_state = match applied.state {
            Some(state) => state.to_value(),
            // Nothing exists after a failed create; a failed update keeps the prior state.
            None if creating => Value::Null,
            None => request.prior_state,
        };
        ApplyResponse {
            new_state,
            private,
            diagnostics: applied.diagnostics,
        }
    }

    async fn import(&self, id: &str) -> ImportResponse {
        match self.0.import(id).await {
            Ok(state) => ImportResponse {
                states: vec![state.to_value()],
                diagnostics: Diagnostics::new(),
            },
            Err(diagnostics) => ImportResponse {
                states: Vec::new(),
                diagnostics,
            },
        }
    }
}
