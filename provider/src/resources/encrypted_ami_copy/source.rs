//! Whether this account can copy the source: it must see the AMI, read every
//! snapshot behind it, and the snapshots must not use an AWS-managed key.
//!
//! The first two are facts a share in the *same* apply changes (the bake
//! account's `imagecopier_ami_share` runs before the copy). The plan cannot
//! tell that case from a forgotten share, because each provider
//! configuration is its own process, and a warning on every copy of a
//! correct configuration is noise a reviewer learns to ignore. So at plan
//! time they are only logged, and at apply time they are errors, raised
//! before CopyImage after a bounded wait for the grant to become visible. An
//! AWS-managed key is final: no share fixes it, so it fails the plan.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::aws::backoff::{next_poll_delay, FIRST_POLL_DELAY};
use crate::aws::image::find_image_by_id;
use crate::aws::kms::describe_key;
use crate::aws::snapshot::find_snapshots_by_ids;
use crate::aws::{AwsClients, Optional};
use crate::log;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};

/// How long apply waits for a grant made moments ago (by a share earlier in
/// the same apply) to become visible to this account.
pub(super) const SHARE_VISIBLE_WAIT: Duration = Duration::from_secs(60);

/// What stands in the way of copying the source.
#[derive(Debug, Default)]
pub(super) struct SourceProblems {
    /// Problems a share can still fix (not visible, snapshots unreadable).
    pub unshared: Vec<(String, String)>,
    /// Problems nothing in Terraform can fix, and failed lookups.
    pub fatal: Vec<(String, String)>,
    /// How many snapshots the source has, once it was seen.
    pub snapshots: usize,
}

impl SourceProblems {
    /// Nothing in the way.
    pub(super) fn is_empty(&self) -> bool {
        self.unshared.is_empty() && self.fatal.is_empty()
    }

    /// Plan-time diagnostics: errors for what no share can fix. What a
    /// share can still fix is logged, not reported (see the module comment).
    pub(super) fn for_plan(self, source: &str) -> Diagnostics {
        let path = AttrPath::root("source_ami_id");
        let mut diags = Diagnostics::new();
        for (summary, detail) in self.unshared {
            log::info(
                "source AMI not copyable yet (a share in this apply may grant it); the apply waits for it, and stops before copying if it does not come",
                &[("source_ami_id", source), ("problem", &summary), ("detail", &detail)],
            );
        }
        for (summary, detail) in self.fatal {
            diags.push(Diagnostic::error(summary, detail).at(path.clone()));
        }
        diags
    }

    /// Apply-time diagnostics: every problem is an error.
    pub(super) fn for_apply(self) -> Diagnostics {
        let path = AttrPath::root("source_ami_id");
        let mut diags = Diagnostics::new();
        for (summary, detail) in self.unshared.into_iter().chain(self.fatal) {
            diags.push(Diagnostic::error(summary, detail).at(path.clone()));
        }
        diags
    }
}

/// Plan time: `source_region` must be a region this account can use, or
/// every look at the source there fails, and the apply would wait for a
/// share that cannot help, then blame `source_ami_id`.
pub(super) async fn check_source_region(
    clients: &AwsClients,
    region: &str,
) -> Result<(), Diagnostics> {
    crate::resources::reach::check_region(clients, region, "source_region").await
}

/// Checks the source once. A source this account owns needs no share.
pub(super) async fn check_source(
    clients: &AwsClients,
    source: &str,
    region: &str,
) -> SourceProblems {
    let mut problems = SourceProblems::default();
    let account = &clients.account_id;
    // The source lives in its own region; keys are checked from ours, where
    // the copy's account asks KMS.
    let in_source_region = clients.in_region(region);
    let image = match find_image_by_id(&in_source_region, source).await.optional() {
        Ok(Some(image)) => image,
        Ok(None) => {
            problems.unshared.push((
                "Source AMI not visible".to_owned(),
                format!(
                    "EC2 AMI {source} in {region} is not visible to account {account}: it does not exist, or the \
                     bake account has not shared it with this account. Share it with imagecopier_ami_share \
                     (account_ids including \"{account}\")."
                ),
            ));
            return problems;
        }
        Err(err) => {
            problems.fatal.push((
                "Checking the source AMI".to_owned(),
                format!("reading EC2 AMI {source}: {err}"),
            ));
            return problems;
        }
    };
    problems.snapshots = image.snapshot_ids.len();
    if image.owner_id == *account || image.snapshot_ids.is_empty() {
        return problems;
    }
    let unreadable = |detail: String| {
        (
            "Source AMI snapshots not shared".to_owned(),
            format!(
                "The snapshots of EC2 AMI {source} ({}) are not readable by account {account}{detail}, so CopyImage \
                 would fail. Share them with imagecopier_ami_share (share_snapshots = true).",
                image.snapshot_ids.join(", ")
            ),
        )
    };
    match find_snapshots_by_ids(&in_source_region, &image.snapshot_ids).await {
        Ok(snapshots) if snapshots.len() < image.snapshot_ids.len() => {
            problems.unshared.push(unreadable(String::new()));
        }
        Ok(snapshots) => {
            for (snapshot, key_id) in snapshots
                .iter()
                .filter(|s| s.encrypted)
                .filter_map(|s| Some((s, s.kms_key_id.as_deref()?)))
                .filter(|(_, key)| key.contains(&format!(":{region}:")))
            {
                // Only an answer proves the key AWS-managed; no answer
                // (another account's key policy) proves nothing.
                if let Ok(key) = describe_key(clients, key_id).await {
                    if key.aws_managed && region == clients.region {
                        problems.fatal.push((
                            "Source encrypted with an AWS-managed key".to_owned(),
                            format!(
                                "Snapshot {} of {source} is encrypted with the AWS-managed key {}, which AWS does \
                                 not let other accounts use. Re-encrypt the source with a customer-managed key and \
                                 share that key.",
                                snapshot.id, key.arn
                            ),
                        ));
                    }
                }
            }
        }
        Err(err) if err.code() == Some("InvalidSnapshot.NotFound") => {
            problems.unshared.push(unreadable(format!(" ({err})")));
        }
        Err(err) => problems.fatal.push((
            "Checking the source AMI".to_owned(),
            format!("reading its snapshots: {err}"),
        )),
    }
    problems
}

/// Apply time: waits (at most [`SHARE_VISIBLE_WAIT`], the deadline, or a
/// stop) for an unshared source to become copyable; errors if it does not.
/// The source's snapshot count, which the copy takes slots for.
pub(super) async fn wait_source_copyable(
    clients: &AwsClients,
    source: &str,
    region: &str,
    deadline: Instant,
    stop: &CancellationToken,
) -> Result<usize, Diagnostics> {
    let give_up = deadline.min(Instant::now() + SHARE_VISIBLE_WAIT);
    let mut delay = FIRST_POLL_DELAY;
    loop {
        let problems = check_source(clients, source, region).await;
        if problems.is_empty() {
            return Ok(problems.snapshots);
        }
        if !problems.fatal.is_empty() || Instant::now() >= give_up || stop.is_cancelled() {
            return Err(problems.for_apply());
        }
        log::info(
            "source AMI not copyable yet; waiting for the share to become visible",
            &[("source_ami_id", source)],
        );
        let pause = delay.min(give_up.saturating_duration_since(Instant::now()));
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = stop.cancelled() => {}
        }
        delay = next_poll_delay(delay);
    }
}
