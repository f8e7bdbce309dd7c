//! The state the provider shares with its resources: the AWS clients that
//! ConfigureProvider made, the provider's `default_tags`, and the stop token
//! that StopProvider cancels.
//!
//! It lives below both the provider block (which fills it in) and the
//! resources (which read it), so neither has to import the other.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use tokio_util::sync::CancellationToken;

use crate::aws::AwsClients;
use crate::protocol::diagnostics::{Diagnostic, Diagnostics};

/// What ConfigureProvider left behind.
#[derive(Debug, Clone)]
enum Connection {
    /// ConfigureProvider has not run yet.
    NotConfigured,
    /// The configuration held values known only after apply.
    Deferred,
    /// Ready to call AWS.
    Ready(Arc<AwsClients>),
}

/// State the provider shares with its resources.
#[derive(Debug)]
pub struct Shared {
    connection: RwLock<Connection>,
    default_tags: RwLock<BTreeMap<String, String>>,
    stop: CancellationToken,
    /// Terraform is gone (killed): nobody records what operations return.
    abandoned: AtomicBool,
}

impl Shared {
    /// Not configured yet, with nothing cancelled.
    pub(crate) fn new() -> Self {
        Self {
            connection: RwLock::new(Connection::NotConfigured),
            default_tags: RwLock::new(BTreeMap::new()),
            stop: CancellationToken::new(),
            abandoned: AtomicBool::new(false),
        }
    }

    /// The AWS clients, or a diagnostic saying why there are none yet.
    pub fn clients(&self) -> Result<Arc<AwsClients>, Diagnostics> {
        let connection = self
            .connection
            .read()
            .map(|c| c.clone())
            .unwrap_or(Connection::NotConfigured);
        match connection {
            Connection::Ready(clients) => Ok(clients),
            Connection::Deferred => Err(Diagnostic::error(
                "Provider configuration not yet known",
                "The imagecopier provider's configuration depends on values that are only known after apply, \
                 so it cannot call AWS yet. Apply the resources it depends on first (for example with -target).",
            )
            .into()),
            Connection::NotConfigured => Err(Diagnostic::error(
                "Provider not configured",
                "The imagecopier provider was used before Terraform configured it. This is a bug.",
            )
            .into()),
        }
    }

    /// The provider's `default_tags`.
    pub fn default_tags(&self) -> BTreeMap<String, String> {
        self.default_tags
            .read()
            .map(|t| t.clone())
            .unwrap_or_default()
    }

    /// ConfigureProvider found values known only after apply.
    pub(crate) fn set_deferred(&self) {
        if let Ok(mut connection) = self.connection.write() {
            *connection = Connection::Deferred;
        }
    }

    /// ConfigureProvider connected: resources may call AWS through `clients`.
    pub(crate) fn set_ready(&self, clients: AwsClients) {
        if let Ok(mut connection) = self.connection.write() {
            *connection = Connection::Ready(Arc::new(clients));
        }
    }

    /// The provider block's `default_tags`, for every resource to merge.
    pub(crate) fn set_default_tags(&self, tags: BTreeMap<String, String>) {
        if let Ok(mut current) = self.default_tags.write() {
            *current = tags;
        }
    }

    /// StopProvider: cancels [`Shared::stop_token`] for every operation in flight.
    pub(crate) fn stop(&self) {
        self.stop.cancel();
    }

    /// Terraform died without stopping us: cancels [`Shared::stop_token`] as
    /// a stop does, and operations learn that what they return is lost.
    pub(crate) fn abandon(&self) {
        self.abandoned.store(true, Ordering::SeqCst);
        self.stop.cancel();
    }

    /// Whether Terraform is gone (see [`Shared::abandon`]): what an operation
    /// returns will never reach a state, so it must leave AWS as a rerun can
    /// take over (a copy stays marked as being created).
    pub fn is_abandoned(&self) -> bool {
        self.abandoned.load(Ordering::SeqCst)
    }

    /// Cancelled when Terraform calls StopProvider; long operations select on it.
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }
}
