//! Create: adopt the copy a previous run started, or start one
//! (`start.rs`); then wait, and record it (`finish.rs`).
//!
//! The copy's name is deterministic and unique per account and region, so
//! looking it up first finds a copy that an earlier, interrupted run started
//! even if Terraform never saved its state (Terraform killed outright). The
//! ClientToken covers the remaining race, a copy started but not yet visible.
//! A stop or timeout returns the copy as `pending` with a warning (recorded
//! untainted); a failed copy is removed entirely before the error returns.

use std::ops::ControlFlow;
use std::sync::Arc;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::aws::copy::CopyRequest;
use crate::aws::image::find_own_image_by_name;
use crate::aws::kms::describe_key;
use crate::aws::wait::{wait_image_available, WaitOutcome};
use crate::aws::{AwsClients, AwsError};
use crate::log;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::managed::Applied;
use crate::protocol::typed::Field;
use crate::resources::reach;
use crate::shared::Shared;

use super::aws_state::failed_copy;
use super::finish::{finish, pending};
use super::mark;
use super::model::{CopyModel, Tags};
use super::naming::settle_name;
use super::rules::{client_token, new_attempt, summary};
use super::start::{start_or_adopt, NotStarted, Started};
use super::tag_rules::merge_tags;
use super::timeouts;

/// Copy attempts before giving up: a new one is started only each time the
/// copy the previous one started is found gone before it became available.
const MAX_COPY_ATTEMPTS: u32 = 5;

/// Creates the copy; see the module documentation.
pub(super) async fn create(shared: &Shared, mut planned: CopyModel) -> Applied<CopyModel> {
    let clients = match reach::clients_for(shared, &planned.region, &planned.assume_role).await {
        Ok(clients) => clients,
        Err(diags) => return Applied::failed(diags),
    };
    let held = match settle_name(&clients, &mut planned).await {
        Ok(held) => held,
        Err(err) => {
            return Applied::failed(Diagnostic::error(
                summary("creating", &planned),
                err.context("choosing the copy's name").to_string(),
            ))
        }
    };
    let mut applied = copy(shared, clients, planned).await;
    if let Some(warning) = held {
        applied.diagnostics.push(warning);
    }
    applied
}

/// Copies (or adopts) and waits, once the name is settled.
async fn copy(shared: &Shared, clients: Arc<AwsClients>, planned: CopyModel) -> Applied<CopyModel> {
    let creating = summary("creating", &planned);
    let Some(request) = copy_request(shared, &planned) else {
        return Applied::failed(Diagnostic::error(
            creating,
            "source_ami_id, source_region and name must be known at apply. This is a bug.",
        ));
    };
    if let Err(diags) = check_new_key(&clients, &planned).await {
        return Applied::failed(diags);
    }
    let run = Run {
        what: format!(
            "copying EC2 AMI ({}) to account {}",
            request.source_image_id, clients.account_id
        ),
        shared,
        clients: &clients,
        creating,
        tags_all: request.tags.clone(),
        stop: shared.stop_token(),
        deadline: Instant::now()
            + timeouts::create(&planned.timeouts, &planned.completion_duration_minutes),
    };
    run.attempts(request, planned).await
}

/// The CopyImage request the plan describes (its ClientToken is each
/// attempt's); `None` when the source or the name is not known.
fn copy_request(shared: &Shared, planned: &CopyModel) -> Option<CopyRequest> {
    let (Some(source), Some(region), Some(name)) = (
        planned.source_ami_id.known().cloned(),
        planned.source_region.known().cloned(),
        planned.name.known().cloned(),
    ) else {
        return None;
    };
    let tags_all = planned.tags_all.known().cloned().unwrap_or_else(|| {
        let known = |f: &Field<Tags>| f.known().cloned().unwrap_or_default();
        merge_tags(
            &shared.default_tags(),
            &known(&planned.source_tags),
            &known(&planned.tags),
            &source,
        )
    });
    Some(CopyRequest {
        source_image_id: source,
        source_region: region,
        name,
        description: planned.description.known().cloned(),
        kms_key_id: planned.kms_key_id.known().cloned(),
        client_token: String::new(),
        image_only_tags: mark::initial(&tags_all),
        tags: tags_all,
        completion_duration_minutes: planned.completion_duration_minutes.known().copied(),
    })
}

/// A key the plan could not find (one this apply was to make) must exist
/// now: say so at kms_key_id before anything is copied.
async fn check_new_key(clients: &AwsClients, planned: &CopyModel) -> Result<(), Diagnostics> {
    let (Field::Unknown, Some(key)) = (&planned.kms_key_arn, planned.kms_key_id.known()) else {
        return Ok(());
    };
    let detail = match describe_key(clients, key).await {
        Ok(facts) if facts.usable() && facts.symmetric() => return Ok(()),
        Ok(facts) => format!(
            "kms_key_id {key:?} ({}) is {} ({}); the copy would fail. Nothing was copied.",
            facts.arn, facts.state, facts.spec
        ),
        Err(err) => format!(
            "kms_key_id {key:?} cannot be used by account {}: {err}. Nothing was copied.",
            clients.account_id
        ),
    };
    Err(Diagnostic::error("KMS key not usable", detail)
        .at(AttrPath::root("kms_key_id"))
        .into())
}

/// What every attempt of one create shares: where it copies, how its
/// failures are worded, and until when it may wait.
struct Run<'a> {
    shared: &'a Shared,
    clients: &'a AwsClients,
    /// The diagnostics' summary, `creating EC2 AMI copy (<name>)`.
    creating: String,
    /// The errors' context, `copying EC2 AMI (<source>) to account <id>`.
    what: String,
    tags_all: Tags,
    stop: CancellationToken,
    deadline: Instant,
}

impl Run<'_> {
    /// Starts (or adopts) a copy and waits for it, starting another each
    /// time the one started vanishes. Only the first attempt checks the
    /// source: later attempts replace a copy that was started, so the
    /// source was copyable.
    async fn attempts(
        &self,
        mut request: CopyRequest,
        mut planned: CopyModel,
    ) -> Applied<CopyModel> {
        let mut known_snapshots = None;
        for _ in 0..MAX_COPY_ATTEMPTS {
            request.client_token = client_token(
                &self.clients.account_id,
                &self.clients.region,
                &request.source_image_id,
                &request.source_region,
                &request.name,
                request.kms_key_id.as_deref(),
                &new_attempt(),
            );
            let started = match start_or_adopt(self.clients, &request, known_snapshots, self.deadline, &self.stop)
                .await
            {
                Ok(Some(started)) => started,
                Ok(None) => {
                    return Applied::failed(Diagnostic::error(
                        &self.creating,
                        format!("{}: stopped before the copy started (Terraform interrupted, or the create timeout passed); nothing was created", self.what),
                    ))
                }
                Err(NotStarted::Aws(err)) => return self.failed(err),
                Err(NotStarted::Source(diags)) => return Applied::failed(diags),
            };
            match self.wait(started, &mut planned).await {
                ControlFlow::Break(applied) => return applied,
                ControlFlow::Continue(snapshots) => known_snapshots = Some(snapshots),
            }
        }
        self.failed(crate::aws::copy::failure(
            "calling EC2 CopyImage",
            "CopyKeptVanishing",
            &format!(
                "{MAX_COPY_ATTEMPTS} copies in a row disappeared before they became available"
            ),
        ))
    }

    /// Whether the copy `started`, which the wait calls gone (not visible by
    /// its id for minutes, or seen and then missing), is still listed, in
    /// progress or finished, under its name: reads by id and by name may
    /// lag differently, and a copy called gone is copied again. Then the
    /// wait goes on, within the same deadline.
    async fn listed_by_name(&self, started: &Started, planned: &CopyModel) -> bool {
        let Some(name) = planned.name.known() else {
            return false;
        };
        match find_own_image_by_name(self.clients, name).await {
            Ok(Some(image))
                if image.id == started.image_id
                    && matches!(image.state.as_str(), "pending" | "available") =>
            {
                log::warn(
                    "the copy is not visible by its id, but is listed by its name; waiting on",
                    &[("image_id", &image.id), ("state", &image.state)],
                );
                true
            }
            _ => false,
        }
    }

    /// Waits for `started` and records how it ended; `Continue` with its
    /// snapshot count when it vanished before it became available
    /// (deregistered by someone else, or never visible): start another.
    /// The copy's slots are held until this returns.
    async fn wait(
        &self,
        started: Started,
        planned: &mut CopyModel,
    ) -> ControlFlow<Applied<CopyModel>, usize> {
        log::info(
            "waiting for EC2 AMI copy",
            &[
                ("image_id", &started.image_id),
                ("adopted", &started.adopted.to_string()),
            ],
        );
        let waited = loop {
            let waited = wait_image_available(
                self.clients,
                &started.image_id,
                Some(mark::renewed()),
                self.deadline,
                &self.stop,
            )
            .await;
            let gone = matches!(waited, Ok(WaitOutcome::Gone));
            if !gone || !self.listed_by_name(&started, planned).await {
                break waited;
            }
        };
        let (last, diagnostic) = match waited {
            Ok(WaitOutcome::Available(facts)) => {
                let (clients, tags_all) = (self.clients, &self.tags_all);
                let applied = finish(
                    std::mem::take(planned),
                    clients,
                    facts,
                    tags_all,
                    started.adopted,
                    &self.what,
                );
                return ControlFlow::Break(applied.await);
            }
            Ok(WaitOutcome::Gone) => {
                log::warn(
                    "the copy started is gone before it became available; starting a new one",
                    &[("image_id", &started.image_id)],
                );
                return ControlFlow::Continue(started.snapshots);
            }
            Ok(WaitOutcome::Failed(facts)) => {
                return ControlFlow::Break(
                    failed_copy(self.clients, planned, facts, &self.what).await,
                )
            }
            Ok(WaitOutcome::Stopped(last) | WaitOutcome::TimedOut(last)) => {
                (last, self.still_pending(&started))
            }
            Err(err) => (
                None,
                Diagnostic::error(&self.creating, err.context(&self.what).to_string()),
            ),
        };
        planned.id = Field::Known(started.image_id.clone());
        let planned = std::mem::take(planned);
        let applied = pending(
            self.shared,
            planned,
            self.clients,
            last,
            &self.tags_all,
            diagnostic,
        );
        ControlFlow::Break(applied.await)
    }

    /// The warning for a copy still running when the wait stopped.
    fn still_pending(&self, started: &Started) -> Diagnostic {
        Diagnostic::warning(
            "EC2 AMI copy still in progress",
            format!(
                "{}: the copy {} is still pending (Terraform stopped the provider, or timeouts.create \
                 passed). It is recorded in state as pending; the next apply waits for it, without copying again.",
                self.what, started.image_id
            ),
        )
    }

    fn failed(&self, err: AwsError) -> Applied<CopyModel> {
        Applied::failed(Diagnostic::error(
            &self.creating,
            err.context(&self.what).to_string(),
        ))
    }
}
