//! Whether this account can copy the source: it must see the AMI, read every
//! snapshot behind it, be allowed to use the snapshots' KMS key (another
//! account's customer managed key needs its key policy or a grant), and the
//! snapshots must not use an AWS-managed key.
//!
//! The first two are facts a share in the *same* apply changes (the bake
//! account's `imagecopier_ami_share` runs before the copy). The plan cannot
//! tell that case from a forgotten share, because each provider
//! configuration is its own process, and a warning on every copy of a
//! correct configuration is noise a reviewer learns to ignore. So at plan
//! time they are only logged, and at apply time they are errors, raised
//! before CopyImage after a bounded wait for the grant to become visible. An
//! AWS-managed key is final: no share fixes it, so it fails the plan.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Mutex as AsyncMutex;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::aws::backoff::{next_poll_delay, FIRST_POLL_DELAY};
use crate::aws::image::find_image_by_id;
use crate::aws::kms::describe_key;
use crate::aws::snapshot::find_snapshots_by_ids;
use crate::aws::{AwsClients, Optional};
use crate::log;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::resources::reach::region_unusable;

/// How long apply waits (within the create timeout) for a share or a KMS
/// grant made moments ago, by a share earlier in the same apply, to take
/// effect for this account. The KMS Developer Guide ("Eventual consistency",
/// "Using a grant token") says a new grant usually works within seconds and
/// may take up to about five minutes; launch and createVolumePermission are
/// eventually consistent too.
pub(super) const SHARE_VISIBLE_WAIT: Duration = Duration::from_secs(300);
/// How often a wait for a share says, at WARN, what it still waits for.
const SHARE_WAIT_REPORT: Duration = Duration::from_secs(60);

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

/// How long a clean check of a source is taken as still true in this
/// process. Terraform plans every resource again at apply, in the process
/// that then applies it: the copy's own check before CopyImage, moments
/// later, would repeat that plan's two or three calls for nothing. A share
/// revoked in between makes CopyImage fail with EC2's own error.
const CLEAN_CHECK_REUSE: Duration = Duration::from_secs(120);

/// Sources checked in this process: (account, source region, AMI) to when
/// a check found the source copyable, and its snapshot count. Checks of one
/// source run one at a time, so copies asking at once make one check.
static CLEAN_CHECKS: LazyLock<Mutex<HashMap<CheckedSource, CleanSlot>>> =
    LazyLock::new(Mutex::default);

/// One source's last clean check, locked while a check runs.
type CleanSlot = Arc<AsyncMutex<Option<Clean>>>;

/// An account, a source region and a source AMI.
type CheckedSource = (String, String, String);
/// When a check found the source copyable, and its snapshot count.
type Clean = (Instant, usize);

/// Checks the source, or reuses a clean check this process made within
/// [`CLEAN_CHECK_REUSE`]. A source this account owns needs no share.
pub(super) async fn check_source(
    clients: &AwsClients,
    source: &str,
    region: &str,
) -> SourceProblems {
    let key = (
        clients.account_id.clone(),
        region.to_owned(),
        source.to_owned(),
    );
    let slot = CLEAN_CHECKS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(key)
        .or_default()
        .clone();
    let mut clean = slot.lock().await;
    if let Some((at, snapshots)) = *clean {
        if at.elapsed() < CLEAN_CHECK_REUSE {
            return SourceProblems {
                snapshots,
                ..SourceProblems::default()
            };
        }
    }
    let problems = check_source_now(clients, source, region).await;
    if problems.is_empty() {
        *clean = Some((Instant::now(), problems.snapshots));
    }
    problems
}

async fn check_source_now(clients: &AwsClients, source: &str, region: &str) -> SourceProblems {
    let mut problems = SourceProblems::default();
    let account = &clients.account_id;
    // The source lives in its own region; keys are checked from ours, where
    // the copy's account asks KMS.
    let in_source_region = clients.in_region(region);
    let image = match find_image_by_id(&in_source_region, source).await.optional() {
        Ok(Some(image)) => image,
        Ok(None) => {
            // A misspelt or not-enabled region (the provider's, when the
            // source is in the copy's own) shows as an AMI not visible: no
            // share can fix that, so it fails the plan.
            let named = match region == clients.region {
                true => "region",
                false => "source_region",
            };
            if let Some(problem) = region_unusable(clients, region, named).await {
                problems.fatal.push((format!("Invalid {named}"), problem));
                return problems;
            }
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
    // An encrypted AMI's snapshots may be under the bake account's
    // AWS-managed key, which AWS lets no other account use and no share can
    // change; the key is not visible from here, so the error names both.
    let managed_key_hint = match image.encrypted {
        true => format!(
            " If they are encrypted with account {}'s AWS-managed key (aws/ebs), no share can make them \
             readable: AWS lets no other account use that key (imagecopier_ami_share refuses such an AMI at \
             plan). Re-encrypt the source with a customer managed key and share that key.",
            image.owner_id
        ),
        false => String::new(),
    };
    let unreadable = |detail: String| {
        (
            "Source AMI snapshots not shared".to_owned(),
            format!(
                "The snapshots of EC2 AMI {source} ({}) are not readable by account {account}{detail}, so CopyImage \
                 would fail. Share them with imagecopier_ami_share (share_snapshots = true).{managed_key_hint}",
                image.snapshot_ids.join(", ")
            ),
        )
    };
    match find_snapshots_by_ids(&in_source_region, &image.snapshot_ids).await {
        Ok(snapshots) if snapshots.len() < image.snapshot_ids.len() => {
            problems.unshared.push(unreadable(String::new()));
        }
        Ok(snapshots) => {
            // One check, and at most one problem, per key: an AMI's snapshots
            // usually share one key, and four errors for it say no more.
            let mut by_key: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for snapshot in snapshots.iter().filter(|s| s.encrypted) {
                if let Some(key_id) = snapshot.kms_key_id.as_deref() {
                    by_key.entry(key_id).or_default().push(&snapshot.id);
                }
            }
            for (key_id, ids) in by_key {
                let named = match ids.as_slice() {
                    [one] => format!("Snapshot {one} of {source} is"),
                    many => format!("Snapshots {} of {source} are", many.join(", ")),
                };
                if let Some(problem) =
                    key_problem(&in_source_region, account, source, &named, key_id).await
                {
                    problem.file(&mut problems);
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

/// What the key of one source snapshot stands in the way of, if anything.
enum KeyProblem {
    /// No share fixes it.
    Fatal(String, String),
    /// A key policy or grant, possibly made in this very apply, fixes it.
    Unshared(String, String),
}

impl KeyProblem {
    fn file(self, problems: &mut SourceProblems) {
        match self {
            Self::Fatal(summary, detail) => problems.fatal.push((summary, detail)),
            Self::Unshared(summary, detail) => problems.unshared.push((summary, detail)),
        }
    }
}

/// The KMS permissions the EBS User Guide lists for copying a snapshot
/// encrypted with another account's key.
pub(super) const SOURCE_KEY_PERMISSIONS: &str =
    "kms:DescribeKey, kms:CreateGrant, kms:Decrypt, kms:ReEncrypt*, \
     kms:GenerateDataKey and kms:GenerateDataKeyWithoutPlaintext";

/// Whether this account can use `key_id`, the key of `snapshot`, for a copy:
/// DescribeKey by its ARN in the source's region, with this account's
/// credentials. An AWS-managed key is final (its policy cannot be changed to
/// trust another account); another account's key this account may not
/// describe needs a key policy statement or a grant, which the bake account
/// may make in this same apply.
async fn key_problem(
    clients: &AwsClients,
    account: &str,
    source: &str,
    snapshots: &str,
    key_id: &str,
) -> Option<KeyProblem> {
    let key_account = key_id.split(':').nth(4).unwrap_or_default();
    match describe_key(clients, key_id).await {
        Ok(key) if key.aws_managed => Some(KeyProblem::Fatal(
            "Source encrypted with an AWS-managed key".to_owned(),
            format!(
                "{snapshots} encrypted with the AWS-managed key {}, which AWS does not let \
                 other accounts use. Re-encrypt the source with a customer managed key and share that key.",
                key.arn
            ),
        )),
        Ok(_) => None,
        Err(err) if err.code() == Some("AccessDeniedException") && key_account != account => {
            Some(KeyProblem::Unshared(
                "Source KMS key not usable by this account".to_owned(),
                format!(
                    "{snapshots} encrypted with KMS key {key_id} of account {key_account}, \
                     which account {account} may not use: KMS refused DescribeKey ({err}). A copy needs \
                     {SOURCE_KEY_PERMISSIONS} on that key. In account {key_account}, set share_kms_keys = true \
                     on the imagecopier_ami_share of {source} (it grants those operations to each of its \
                     accounts), or add a statement allowing them to arn:aws:iam::{account}:root to the key's \
                     policy (provider::imagecopier::key_policy_statements writes it); account {account} also \
                     needs an IAM policy allowing them on the key. An AWS-managed key (aws/ebs) cannot be shared at all: re-encrypt the source \
                     with a customer managed key."
                ),
            ))
        }
        // Any other answer proves nothing either way; CopyImage reports
        // what really stops it.
        Err(err) => {
            log::info(
                "cannot describe the source's KMS key; not checked before CopyImage",
                &[("source_ami_id", source), ("kms_key_id", key_id), ("error", &err.to_string())],
            );
            None
        }
    }
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
    let started = Instant::now();
    let give_up = deadline.min(started + SHARE_VISIBLE_WAIT);
    let mut delay = FIRST_POLL_DELAY;
    let mut next_report = started;
    loop {
        let problems = check_source(clients, source, region).await;
        if problems.is_empty() {
            return Ok(problems.snapshots);
        }
        if !problems.fatal.is_empty() || Instant::now() >= give_up || stop.is_cancelled() {
            return Err(problems.for_apply());
        }
        if Instant::now() >= next_report {
            next_report += SHARE_WAIT_REPORT;
            let missing: Vec<&str> = problems.unshared.iter().map(|(s, _)| s.as_str()).collect();
            let left = format!(
                "{}s",
                give_up.saturating_duration_since(Instant::now()).as_secs()
            );
            log::warn(
                "source AMI not copyable yet; waiting for a share or KMS grant to take effect \
                 (AWS is eventually consistent), then stopping before anything is copied",
                &[
                    ("source_ami_id", source),
                    ("missing", &missing.join("; ")),
                    ("gives_up_in", &left),
                ],
            );
        }
        let pause = delay.min(give_up.saturating_duration_since(Instant::now()));
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = stop.cancelled() => {}
        }
        delay = next_poll_delay(delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unshared_source_is_quiet_at_plan_and_fails_at_apply() {
        use crate::protocol::diagnostics::Severity;
        let problems = || SourceProblems {
            unshared: vec![("Source AMI not visible".into(), "not shared".into())],
            fatal: vec![(
                "Source encrypted with an AWS-managed key".into(),
                "aws/ebs".into(),
            )],
            snapshots: 1,
        };
        let plan = problems().for_plan("ami-12345678");
        let severities: Vec<_> = plan
            .0
            .iter()
            .map(|d| (d.summary.as_str(), d.severity))
            .collect();
        assert_eq!(
            severities,
            [("Source encrypted with an AWS-managed key", Severity::Error)]
        );
        let apply = problems().for_apply();
        assert!(apply.0.iter().all(|d| d.severity == Severity::Error));
        assert_eq!(apply.0.len(), 2);
        for d in plan.0.iter().chain(&apply.0) {
            assert_eq!(d.path, Some(AttrPath::root("source_ami_id")));
        }
        assert!(SourceProblems::default().is_empty());
    }
}
