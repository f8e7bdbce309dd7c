//! The AWS layer: everything that knows the AWS SDK.
//!
//! [`connect`] turns the provider block's [`ProviderSettings`] into configured
//! EC2, KMS and STS clients ([`AwsClients`]); every failure is an [`AwsError`].
//! Layers above see these types only, never raw SDK configuration.

pub mod backoff;
mod best_effort;
pub mod bulk;
mod clients;
mod config;
pub mod copy;
pub mod copy_slots;
mod denied;
pub mod deregister;
mod errors;
mod identity;
pub mod image;
pub mod image_controls;
pub mod image_search;
pub mod in_use;
pub mod kms;
pub mod kms_grants;
mod memo;
mod pace;
pub mod permissions;
mod reach;
pub mod recycle_bin;
pub mod region;
pub mod snapshot;
pub mod tags;
pub mod wait;
pub mod watcher;

pub use clients::{connect, AwsClients};
pub use config::{
    AssumeRole, Endpoints, ProviderSettings, ASSUME_ROLE_DURATION_RANGE,
    DEFAULT_CONCURRENT_SNAPSHOT_COPIES, DEFAULT_MAX_RETRIES, DEFAULT_SESSION_NAME,
};
pub use errors::{error_code, is_throttling, AwsError, ErrorKind, Optional};
pub use identity::{check_account, partition_from_arn};
pub use reach::Target;
