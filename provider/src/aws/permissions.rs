//! Launch permissions on AMIs and createVolumePermission on snapshots.
//!
//! Throttling (`RequestLimitExceeded`) is retried by the SDK's standard retry
//! policy, which every client gets from [`super::connect`]: the SDK's error
//! classifier counts `RequestLimitExceeded` as throttling and backs off.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{
    CreateVolumePermission, CreateVolumePermissionModifications, LaunchPermission,
    LaunchPermissionModifications, PermissionGroup, SnapshotAttributeName,
};

use super::clients::AwsClients;
use super::errors::AwsError;
use super::snapshot::SNAPSHOT_NOT_FOUND_CODE;

/// Most principals changed in one ModifyImageAttribute or
/// ModifySnapshotAttribute call. AWS documents 500 for snapshots; we use the
/// same bound for AMIs so one call never carries an unbounded list.
pub const MAX_PRINCIPALS_PER_CALL: usize = 500;

/// Who may launch an AMI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchGrants {
    /// Account ids.
    pub accounts: BTreeSet<String>,
    /// Organization ARNs.
    pub organizations: BTreeSet<String>,
    /// Organizational unit ARNs.
    pub organizational_units: BTreeSet<String>,
    /// Whether the group `all` (everyone) may launch it.
    pub public: bool,
}

impl LaunchGrants {
    /// True when nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
            && self.organizations.is_empty()
            && self.organizational_units.is_empty()
            && !self.public
    }

    fn count(&self) -> usize {
        self.accounts.len()
            + self.organizations.len()
            + self.organizational_units.len()
            + usize::from(self.public)
    }
}

/// Who may create volumes from a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeGrants {
    /// Account ids.
    pub accounts: BTreeSet<String>,
    /// Whether the group `all` (everyone) may.
    pub public: bool,
}

/// Add or remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Grant.
    Add,
    /// Revoke.
    Remove,
}

/// Reads an AMI's launch permissions.
pub async fn read_launch_grants(
    clients: &AwsClients,
    image_id: &str,
) -> Result<LaunchGrants, AwsError> {
    let output = clients
        .ec2
        .describe_image_attribute()
        .image_id(image_id)
        .attribute(aws_sdk_ec2::types::ImageAttributeName::LaunchPermission)
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("calling EC2 DescribeImageAttribute", err))?;
    let mut grants = LaunchGrants::default();
    for permission in output.launch_permissions() {
        if let Some(account) = permission.user_id() {
            grants.accounts.insert(account.to_owned());
        }
        if let Some(org) = permission.organization_arn() {
            grants.organizations.insert(org.to_owned());
        }
        if let Some(ou) = permission.organizational_unit_arn() {
            grants.organizational_units.insert(ou.to_owned());
        }
        if permission.group() == Some(&PermissionGroup::All) {
            grants.public = true;
        }
    }
    Ok(grants)
}

/// Grants or revokes launch permissions, in calls of at most
/// [`MAX_PRINCIPALS_PER_CALL`] principals. Does nothing for an empty set.
pub async fn modify_launch_grants(
    clients: &AwsClients,
    image_id: &str,
    change: Change,
    grants: &LaunchGrants,
) -> Result<(), AwsError> {
    if grants.count() == 0 {
        return Ok(());
    }
    let mut permissions: Vec<LaunchPermission> = Vec::with_capacity(grants.count());
    permissions.extend(
        grants
            .accounts
            .iter()
            .map(|a| LaunchPermission::builder().user_id(a).build()),
    );
    permissions.extend(
        grants
            .organizations
            .iter()
            .map(|o| LaunchPermission::builder().organization_arn(o).build()),
    );
    permissions.extend(grants.organizational_units.iter().map(|o| {
        LaunchPermission::builder()
            .organizational_unit_arn(o)
            .build()
    }));
    if grants.public {
        permissions.push(
            LaunchPermission::builder()
                .group(PermissionGroup::All)
                .build(),
        );
    }
    for chunk in permissions.chunks(MAX_PRINCIPALS_PER_CALL) {
        let modifications = match change {
            Change::Add => LaunchPermissionModifications::builder().set_add(Some(chunk.to_vec())),
            Change::Remove => {
                LaunchPermissionModifications::builder().set_remove(Some(chunk.to_vec()))
            }
        }
        .build();
        clients
            .ec2_write()
            .modify_image_attribute()
            .image_id(image_id)
            .launch_permission(modifications)
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("calling EC2 ModifyImageAttribute", err))?;
    }
    Ok(())
}

/// Reads a snapshot's createVolumePermission.
pub async fn read_volume_grants(
    clients: &AwsClients,
    snapshot_id: &str,
) -> Result<VolumeGrants, AwsError> {
    let output = clients
        .ec2
        .describe_snapshot_attribute()
        .snapshot_id(snapshot_id)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .map_err(|err| {
            let err = AwsError::from_sdk("calling EC2 DescribeSnapshotAttribute", err);
            // A deleted snapshot is the typed NotFound every finder gives.
            match err.code() {
                Some(SNAPSHOT_NOT_FOUND_CODE) => AwsError::not_found(
                    "calling EC2 DescribeSnapshotAttribute",
                    Some(SNAPSHOT_NOT_FOUND_CODE),
                    &format!("EBS snapshot ({snapshot_id})"),
                ),
                _ => err.context(format_args!("reading EBS snapshot ({snapshot_id})")),
            }
        })?;
    let mut grants = VolumeGrants::default();
    for permission in output.create_volume_permissions() {
        if let Some(account) = permission.user_id() {
            grants.accounts.insert(account.to_owned());
        }
        if permission.group() == Some(&PermissionGroup::All) {
            grants.public = true;
        }
    }
    Ok(grants)
}

/// Grants or revokes createVolumePermission on one snapshot. One call only
/// adds or only removes (AWS refuses both at once), with at most
/// [`MAX_PRINCIPALS_PER_CALL`] principals. Only removal can name the group
/// `all`: making a snapshot public is not something this provider does.
pub async fn modify_volume_grants(
    clients: &AwsClients,
    snapshot_id: &str,
    change: Change,
    accounts: &BTreeSet<String>,
    remove_public: bool,
) -> Result<(), AwsError> {
    let mut permissions: Vec<CreateVolumePermission> = accounts
        .iter()
        .map(|a| CreateVolumePermission::builder().user_id(a).build())
        .collect();
    if remove_public && change == Change::Remove {
        permissions.push(
            CreateVolumePermission::builder()
                .group(PermissionGroup::All)
                .build(),
        );
    }
    for chunk in permissions.chunks(MAX_PRINCIPALS_PER_CALL) {
        let modifications = match change {
            Change::Add => {
                CreateVolumePermissionModifications::builder().set_add(Some(chunk.to_vec()))
            }
            Change::Remove => {
                CreateVolumePermissionModifications::builder().set_remove(Some(chunk.to_vec()))
            }
        }
        .build();
        clients
            .ec2_write()
            .modify_snapshot_attribute()
            .snapshot_id(snapshot_id)
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .create_volume_permission(modifications)
            .send()
            .await
            .map_err(|err| {
                AwsError::from_sdk("calling EC2 ModifySnapshotAttribute", err)
                    .context(format_args!("EBS snapshot ({snapshot_id})"))
            })?;
    }
    Ok(())
}
