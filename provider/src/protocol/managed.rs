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
    ApplyRequest, ApplyResponse, Found, ImportRequest, ImportResponse, ListRequest, Listed,
    MoveRequest, PlanRequest, PlanResponse, ReadResponse, Resource,
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

    /// The identity schema (Terraform 1.12+); `None`: the type has none.
    fn identity_schema(&self) -> Option<Schema> {
        None
    }

    /// The identity of the object `state` describes, an object of the
    /// identity schema's type; `None` while part of it is not known.
    fn identity(&self, _state: &Self::Model) -> Option<Value> {
        None
    }

    /// Imports an existing object by identity (an `import` block's
    /// `identity`), a value of the identity schema's type.
    async fn import_identity(&self, _identity: &Value) -> Result<Self::Model, Diagnostics> {
        Err(Diagnostic::error(
            "Import by identity is not supported",
            format!("{} is imported by id.", self.type_name()),
        )
        .into())
    }

    /// Takes over an object from another resource type's state (a `moved`
    /// block). `None`: this type accepts no moves.
    async fn move_from(&self, _request: &MoveRequest) -> Option<Result<Self::Model, Diagnostics>> {
        None
    }

    /// The schema of a `list` block's `config` (Terraform 1.14+); `None`:
    /// the type cannot be listed.
    fn list_schema(&self) -> Option<Schema> {
        None
    }

    /// What a `list` block finds: each object's display name and state, at
    /// most `limit` of them. `config` is of the list schema's type. Without
    /// `full`, Terraform keeps only the identity, so a state holding just
    /// what the identity needs will do (and may save calls).
    async fn list(
        &self,
        _config: &Value,
        _limit: usize,
        _full: bool,
    ) -> Result<Vec<(String, Self::Model)>, Diagnostics> {
        Ok(Vec::new())
    }

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

/// `value` read as the model `M`.
pub(super) fn model<M: Model>(value: &Value) -> Result<M, Diagnostics> {
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
        match model::<R::Model>(&config.collapse_partial()) {
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
                identity: self.identity_of(&state),
                new_state: state.to_value(),
                private,
                diagnostics: Diagnostics::new(),
            },
            // Gone: Terraform drops it from state and plans to create it again.
            Ok(None) => ReadResponse {
                new_state: Value::Null,
                private: Vec::new(),
                identity: Value::Null,
                diagnostics: Diagnostics::new(),
            },
            Err(diagnostics) => ReadResponse {
                new_state: Value::Null,
                private,
                identity: Value::Null,
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
            let proposed = model::<R::Model>(&request.proposed_new_state.collapse_partial())?;
            let config = model::<R::Model>(&request.config.collapse_partial())?;
            self.0.plan(prior.as_ref(), proposed, &config).await
        }
        .await;
        match result {
            Ok(planned) => PlanResponse {
                // An update keeps the object, so it keeps its identity; a
                // create or replacement has none until apply.
                planned_identity: if request.prior_state.is_null()
                    || !planned.requires_replace.is_empty()
                {
                    Value::Null
                } else if !request.prior_identity.is_null() {
                    request.prior_identity
                } else {
                    self.identity_of(&planned.state)
                },
                planned_state: planned
                    .state
                    .to_value()
                    .restore_partial(&request.proposed_new_state),
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
                    identity: Value::Null,
                    diagnostics: warnings,
                },
                Err(diagnostics) => ApplyResponse {
                    identity: self.identity_of_value(&request.prior_state),
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
                    identity: self.identity_of_value(&request.prior_state),
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
            identity: self.identity_of_value(&new_state),
            new_state,
            private,
            diagnostics: applied.diagnostics,
        }
    }

    async fn import(&self, request: ImportRequest) -> ImportResponse {
        let imported = match &request {
            ImportRequest::Id(id) => self.0.import(id).await,
            ImportRequest::Identity(identity) => self.0.import_identity(identity).await,
        };
        match imported {
            Ok(state) => ImportResponse {
                found: vec![self.found(state)],
                diagnostics: Diagnostics::new(),
            },
            Err(diagnostics) => ImportResponse {
                found: Vec::new(),
                diagnostics,
            },
        }
    }

    fn identity_schema(&self) -> Option<Schema> {
        self.0.identity_schema()
    }

    async fn move_from(&self, request: MoveRequest) -> Result<Found, Diagnostics> {
        match self.0.move_from(&request).await {
            Some(moved) => Ok(self.found(moved?)),
            None => Err(Diagnostic::error(
                "Moving resources is not supported",
                format!(
                    "{} cannot be moved into {}: it accepts no resources from other types. Import the object instead.",
                    request.source_type_name,
                    self.0.type_name()
                ),
            )
            .into()),
        }
    }

    fn list_schema(&self) -> Option<Schema> {
        self.0.list_schema()
    }

    async fn list(&self, request: ListRequest) -> Result<Vec<Listed>, Diagnostics> {
        let listed = self
            .0
            .list(&request.config, request.limit, request.include_object)
            .await?;
        Ok(listed
            .into_iter()
            .take(request.limit)
            .map(|(display_name, state)| {
                let mut found = self.found(state);
                if !request.include_object {
                    found.state = Value::Null;
                }
                Listed {
                    found,
                    display_name,
                }
            })
            .collect())
    }
}

impl<R: ManagedResource> Managed<R> {
    fn identity_of(&self, state: &R::Model) -> Value {
        self.0.identity(state).unwrap_or(Value::Null)
    }

    /// The identity of a state value; `Null` for a null or unreadable one.
    fn identity_of_value(&self, state: &Value) -> Value {
        if state.is_null() {
            return Value::Null;
        }
        model::<R::Model>(state).map_or(Value::Null, |state| self.identity_of(&state))
    }

    fn found(&self, state: R::Model) -> Found {
        Found {
            identity: self.identity_of(&state),
            state: state.to_value(),
        }
    }
}
