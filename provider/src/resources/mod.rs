//! The provider's resource and data source types, one folder each.

mod ami_share;
mod encrypted_ami_copy;
mod identity;
mod image_data;
mod reach;
mod string_set;
mod test_wait;

use std::sync::Arc;

use crate::protocol::data::Data;
use crate::protocol::managed::Managed;
use crate::protocol::resource::{DataSource, Resource};
use crate::shared::Shared;

/// Environment variable that turns on resources meant only for this
/// project's own tests. They are never in the schema otherwise.
pub const TEST_RESOURCES_ENV: &str = "IMAGECOPIER_TEST_RESOURCES";

/// Every resource type the provider serves.
pub fn all(shared: &Arc<Shared>) -> Vec<Arc<dyn Resource>> {
    let mut resources: Vec<Arc<dyn Resource>> = Vec::new();
    resources.push(Arc::new(Managed(ami_share::AmiShare::new(shared.clone()))));
    resources.push(Arc::new(Managed(
        encrypted_ami_copy::EncryptedAmiCopy::new(shared.clone()),
    )));
    if std::env::var(TEST_RESOURCES_ENV).as_deref() == Ok("1") {
        resources.push(Arc::new(Managed(test_wait::TestWait::new(shared.clone()))));
    }
    resources
}

/// Every data source the provider serves.
pub fn data_sources(shared: &Arc<Shared>) -> Vec<Arc<dyn DataSource>> {
    vec![Arc::new(Data(image_data::ImageData::new(shared.clone())))]
}
