//! Provider-defined functions (Terraform 1.8+), called as
//! `provider::imagecopier::NAME(...)`. They sit beside the resources: they
//! use the protocol layer's types and the shared checks, never AWS, since
//! Terraform calls them without configuring the provider.

mod key_policy;

use std::sync::Arc;

use crate::protocol::function::Function;

/// Every function the provider serves.
pub fn all() -> Vec<Arc<dyn Function>> {
    vec![Arc::new(key_policy::KeyPolicyStatements)]
}
