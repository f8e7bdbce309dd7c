//! `imagecopier_image`: the newest AMI visible to the caller by owner, name
//! pattern and tags. `model.rs` declares the attributes; `search.rs` checks
//! the arguments and turns them into one DescribeImages search.

mod model;
mod search;

use std::sync::Arc;

use async_trait::async_trait;

use crate::protocol::data::ReadOnly;
use crate::protocol::declare::Declared;
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::schema::Schema;
use crate::shared::Shared;

use model::ImageModel;

/// The data source.
#[derive(Debug)]
pub(crate) struct ImageData {
    shared: Arc<Shared>,
}

impl ImageData {
    /// A data source bound to the provider's shared state.
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

#[async_trait]
impl ReadOnly for ImageData {
    type Model = ImageModel;

    fn type_name(&self) -> &'static str {
        "imagecopier_image"
    }

    fn schema(&self) -> Schema {
        Schema::new(0, ImageModel::block())
    }

    async fn validate(&self, config: &ImageModel) -> Diagnostics {
        search::validate(config)
    }

    async fn read(&self, config: ImageModel) -> Result<ImageModel, Diagnostics> {
        search::read(&self.shared, config).await
    }
}
