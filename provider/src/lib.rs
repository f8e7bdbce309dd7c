//! terraform-provider-imagecopier: shares AMIs from a bake account and makes
//! encrypted copies in target accounts, as Terraform resources.
//!
//! Three layers that do not leak into each other (see ARCHITECTURE.md):
//! [`protocol`] speaks Terraform's plugin protocol, [`resources`] holds the
//! typed resource logic, and [`aws`] talks to EC2, STS and KMS.

pub mod aws;
pub mod duration;
pub mod functions;
pub mod log;
pub mod protocol;
pub mod provider;
pub mod resources;
pub mod shared;
pub mod validate;

pub use protocol::server::serve;
pub use provider::ImageCopierProvider;
