//! The trait data sources implement, in terms of their own model structs,
//! and its adapter onto the dynamic [`DataSource`] trait.

use async_trait::async_trait;

use super::diagnostics::Diagnostics;
use super::managed::{model, Model};
use super::resource::DataSource;
use super::schema::Schema;
use super::typed::IntoValue;
use super::value::Value;

/// A data source written against its model `Self::Model`.
#[async_trait]
pub trait ReadOnly: Send + Sync + 'static {
    /// The model struct: the arguments and what the read fills in.
    type Model: Model;

    /// The data source type name, e.g. `imagecopier_image`.
    fn type_name(&self) -> &'static str;

    /// The schema.
    fn schema(&self) -> Schema;

    /// Static checks; values may be unknown.
    async fn validate(&self, _config: &Self::Model) -> Diagnostics {
        Diagnostics::new()
    }

    /// Reads: the configuration with its computed attributes filled in.
    async fn read(&self, config: Self::Model) -> Result<Self::Model, Diagnostics>;
}

/// Adapts a [`ReadOnly`] data source onto [`DataSource`].
#[derive(Debug)]
pub struct Data<D>(pub D);

#[async_trait]
impl<D: ReadOnly> DataSource for Data<D> {
    fn type_name(&self) -> &'static str {
        self.0.type_name()
    }

    fn schema(&self) -> Schema {
        self.0.schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        match model::<D::Model>(&config.collapse_partial()) {
            Ok(config) => self.0.validate(&config).await,
            Err(diags) => diags,
        }
    }

    async fn read(&self, config: Value) -> Result<Value, Diagnostics> {
        let config = model::<D::Model>(&config)?;
        Ok(self.0.read(config).await?.to_value())
    }
}
