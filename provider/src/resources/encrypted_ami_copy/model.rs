//! The resource's typed model and its conversion from and to Terraform values.

use std::collections::BTreeMap;

use crate::protocol::diagnostics::{AttrPath, Diagnostic};
use crate::protocol::typed::{Field, FromValue, IntoValue, ObjectReader, ObjectWriter};
use crate::protocol::value::Value;

/// Tag maps as the model holds them.
pub type Tags = BTreeMap<String, String>;

/// `imagecopier_encrypted_ami_copy` as Terraform sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CopyModel {
    /// The copy's AMI id.
    pub id: Field<String>,
    /// The AMI copied from.
    pub source_ami_id: Field<String>,
    /// Its region; defaults to the provider's.
    pub source_region: Field<String>,
    /// The copy's name; deterministic default.
    pub name: Field<String>,
    /// The copy's description.
    pub description: Field<String>,
    /// The KMS key as the configuration names it.
    pub kms_key_id: Field<String>,
    /// The KMS key's ARN.
    pub kms_key_arn: Field<String>,
    /// Tags carried over from the source account.
    pub source_tags: Field<Tags>,
    /// Extra tags.
    pub tags: Field<Tags>,
    /// Every tag on the copy and its snapshots.
    pub tags_all: Field<Tags>,
    /// The copy's snapshots.
    pub snapshot_ids: Field<Vec<String>>,
    /// The copy's state.
    pub state: Field<String>,
    /// The account owning the copy.
    pub owner_id: Field<String>,
    /// When the copy was created.
    pub creation_date: Field<String>,
    /// CPU architecture.
    pub architecture: Field<String>,
    /// Root device name.
    pub root_device_name: Field<String>,
    /// Virtualization type.
    pub virtualization_type: Field<String>,
    /// Platform details.
    pub platform_details: Field<String>,
    /// The timeouts block.
    pub timeouts: Field<Timeouts>,
}

/// The `timeouts` block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeouts {
    /// How long create (and an update finishing an interrupted copy) may wait.
    pub create: Field<String>,
    /// How long delete may wait for snapshots to go.
    pub delete: Field<String>,
}

impl FromValue for Timeouts {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        let r = ObjectReader::new(value, path)?;
        Ok(Self {
            create: r.get("create")?,
            delete: r.get("delete")?,
        })
    }
}

impl IntoValue for Timeouts {
    fn to_value(&self) -> Value {
        ObjectWriter::new()
            .set("create", &self.create)
            .set("delete", &self.delete)
            .build()
    }
}

impl FromValue for CopyModel {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        let r = ObjectReader::new(value, path)?;
        Ok(Self {
            id: r.get("id")?,
            source_ami_id: r.get("source_ami_id")?,
            source_region: r.get("source_region")?,
            name: r.get("name")?,
            description: r.get("description")?,
            kms_key_id: r.get("kms_key_id")?,
            kms_key_arn: r.get("kms_key_arn")?,
            source_tags: r.get("source_tags")?,
            tags: r.get("tags")?,
            tags_all: r.get("tags_all")?,
            snapshot_ids: r.get("snapshot_ids")?,
            state: r.get("state")?,
            owner_id: r.get("owner_id")?,
            creation_date: r.get("creation_date")?,
            architecture: r.get("architecture")?,
            root_device_name: r.get("root_device_name")?,
            virtualization_type: r.get("virtualization_type")?,
            platform_details: r.get("platform_details")?,
            timeouts: r.get("timeouts")?,
        })
    }
}

impl IntoValue for CopyModel {
    fn to_value(&self) -> Value {
        ObjectWriter::new()
            .set("id", &self.id)
            .set("source_ami_id", &self.source_ami_id)
            .set("source_region", &self.source_region)
            .set("name", &self.name)
            .set("description", &self.description)
            .set("kms_key_id", &self.kms_key_id)
            .set("kms_key_arn", &self.kms_key_arn)
            .set("source_tags", &self.source_tags)
            .set("tags", &self.tags)
            .set("tags_all", &self.tags_all)
            .set("snapshot_ids", &self.snapshot_ids)
            .set("state", &self.state)
            .set("owner_id", &self.owner_id)
            .set("creation_date", &self.creation_date)
            .set("architecture", &self.architecture)
            .set("root_device_name", &self.root_device_name)
            .set("virtualization_type", &self.virtualization_type)
            .set("platform_details", &self.platform_details)
            .set("timeouts", &self.timeouts)
            .build()
    }
}

impl CopyModel {
    /// Sets every value AWS decides to unknown, as a plan for a new copy does.
    pub fn forget_aws_values(&mut self) {
        for field in [
            &mut self.id,
            &mut self.state,
            &mut self.owner_id,
            &mut self.creation_date,
            &mut self.architecture,
            &mut self.root_device_name,
            &mut self.virtualization_type,
            &mut self.platform_details,
        ] {
            *field = Field::Unknown;
        }
        self.snapshot_ids = Field::Unknown;
    }

    /// Copies the values AWS decides from `prior`, for an in-place update.
    pub fn keep_aws_values(&mut self, prior: &CopyModel) {
        self.id = prior.id.clone();
        self.state = prior.state.clone();
        self.owner_id = prior.owner_id.clone();
        self.creation_date = prior.creation_date.clone();
        self.architecture = prior.architecture.clone();
        self.root_device_name = prior.root_device_name.clone();
        self.virtualization_type = prior.virtualization_type.clone();
        self.platform_details = prior.platform_details.clone();
        self.snapshot_ids = prior.snapshot_ids.clone();
        self.kms_key_arn = prior.kms_key_arn.clone();
    }
}
