//! `moved { from = aws_ami_copy.x  to = imagecopier_encrypted_ami_copy.x }`:
//! taking over a copy the aws provider made, without copying it again.
//!
//! Terraform hands over the aws provider's stored state as JSON. What it
//! knows maps onto our attributes here; everything AWS decides is read
//! afresh by the refresh that follows, so the next plan shows only what
//! really differs (typically the `Encrypted` and `CopiedFromAMI` tags
//! `aws_ami_copy` never wrote).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::protocol::diagnostics::{Diagnostic, Diagnostics};
use crate::protocol::resource::MoveRequest;
use crate::protocol::typed::Field;

use super::model::{CopyModel, Tags};

/// The one resource type a copy can be moved from.
pub(super) const AWS_AMI_COPY: &str = "aws_ami_copy";

/// Whether `request` is a move this resource takes; other sources get
/// Terraform's "not supported" answer.
pub(super) fn accepts(request: &MoveRequest) -> bool {
    request.source_type_name == AWS_AMI_COPY
        && request.source_provider_address.ends_with("/hashicorp/aws")
}

/// The copy's state from `aws_ami_copy`'s state (schema version 0, the only
/// one it has had).
pub(super) fn from_aws_ami_copy(request: &MoveRequest) -> Result<CopyModel, Diagnostics> {
    if request.source_schema_version != 0 {
        return Err(refused(format!(
            "The aws_ami_copy state has schema version {}; this provider reads version 0. Move it with an aws \
             provider version whose aws_ami_copy writes version 0, or import the copy by id instead.",
            request.source_schema_version
        )));
    }
    let state: Json = serde_json::from_slice(&request.source_state_json)
        .map_err(|err| refused(format!("The aws_ami_copy state is not JSON: {err}.")))?;
    let text = |key: &str| {
        state
            .get(key)
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let id = text("id").ok_or_else(|| refused("The aws_ami_copy state has no id.".to_owned()))?;
    if state.get("encrypted").and_then(Json::as_bool) != Some(true) {
        return Err(refused(format!(
            "{id} is not encrypted (aws_ami_copy.encrypted is false). imagecopier_encrypted_ami_copy manages \
             encrypted copies only: keep this one under aws_ami_copy, or let the imagecopier resource make an \
             encrypted copy and remove the old one."
        )));
    }
    // aws provider v6 records the region per resource; v5 acts in the
    // provider's, which is not known here: Terraform moves state before it
    // configures any provider. Left null, the refresh that follows the move
    // fills it in from the configured provider, as for state written before
    // `region` existed.
    let region = text("region");
    let key = text("kms_key_id");
    let optional = |value: Option<String>| value.map_or(Field::Null, Field::Known);
    Ok(CopyModel {
        id: Field::Known(id),
        region: optional(region.clone()),
        source_ami_id: optional(text("source_ami_id")),
        source_region: optional(text("source_ami_region").or(region)),
        name: optional(text("name")),
        description: optional(text("description")),
        kms_key_id: optional(key.clone()),
        kms_key_arn: optional(key),
        tags: tags(&state, "tags").map_or(Field::Null, Field::Known),
        tags_all: Field::Known(tags(&state, "tags_all").unwrap_or_default()),
        snapshot_ids: Field::Known(snapshots(&state)),
        owner_id: optional(text("owner_id")),
        architecture: optional(text("architecture")),
        root_device_name: optional(text("root_device_name")),
        virtualization_type: optional(text("virtualization_type")),
        platform_details: optional(text("platform_details")),
        deprecation_time: optional(text("deprecation_time")),
        ..CopyModel::default()
    })
}

/// A tag map of the state; `None` when absent or empty (null in our state,
/// as an unset `tags` is).
fn tags(state: &Json, key: &str) -> Option<Tags> {
    let map: BTreeMap<String, String> = state
        .get(key)?
        .as_object()?
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect();
    Some(map).filter(|m| !m.is_empty())
}

/// The snapshots behind the copy: the root device's first, then the rest
/// by device name (the refresh replaces this with EC2's own order).
fn snapshots(state: &Json) -> Vec<String> {
    let root = state
        .get("root_device_name")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let mut devices: Vec<(bool, String, String)> = state
        .get("ebs_block_device")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|device| {
            let name = device.get("device_name")?.as_str()?.to_owned();
            let snapshot = device
                .get("snapshot_id")?
                .as_str()
                .filter(|s| !s.is_empty())?
                .to_owned();
            Some((name != root, name, snapshot))
        })
        .collect();
    devices.sort();
    devices
        .into_iter()
        .map(|(_, _, snapshot)| snapshot)
        .collect()
}

fn refused(detail: String) -> Diagnostics {
    Diagnostic::error("Cannot move aws_ami_copy", detail).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(state: Json) -> MoveRequest {
        MoveRequest {
            source_provider_address: "registry.terraform.io/hashicorp/aws".into(),
            source_type_name: AWS_AMI_COPY.into(),
            source_schema_version: 0,
            source_state_json: state.to_string().into_bytes(),
        }
    }

    fn aws_state() -> Json {
        json!({
            "id": "ami-0123456789abcdef0",
            "region": "eu-west-1",
            "name": "app-copy",
            "description": "",
            "source_ami_id": "ami-11111111",
            "source_ami_region": "eu-west-1",
            "encrypted": true,
            "kms_key_id": "arn:aws:kms:eu-west-1:222222222222:key/k",
            "tags": {"team": "images"},
            "tags_all": {"team": "images", "env": "prod"},
            "root_device_name": "/dev/xvda",
            "owner_id": "222222222222",
            "ebs_block_device": [
                {"device_name": "/dev/sdb", "snapshot_id": "snap-b"},
                {"device_name": "/dev/xvda", "snapshot_id": "snap-root"}
            ]
        })
    }

    #[test]
    fn maps_what_aws_ami_copy_knows() -> Result<(), Diagnostics> {
        let model = from_aws_ami_copy(&request(aws_state()))?;
        assert_eq!(
            model.id.known().map(String::as_str),
            Some("ami-0123456789abcdef0")
        );
        assert_eq!(model.region.known().map(String::as_str), Some("eu-west-1"));
        assert_eq!(
            model.source_ami_id.known().map(String::as_str),
            Some("ami-11111111")
        );
        assert_eq!(model.name.known().map(String::as_str), Some("app-copy"));
        assert!(model.description.is_null(), "an empty description is unset");
        assert_eq!(
            model.kms_key_arn.known().map(String::as_str),
            Some("arn:aws:kms:eu-west-1:222222222222:key/k")
        );
        assert_eq!(model.tags.known().map(|t| t.len()), Some(1));
        assert_eq!(model.tags_all.known().map(|t| t.len()), Some(2));
        assert_eq!(
            model.snapshot_ids.known().cloned(),
            Some(vec!["snap-root".to_owned(), "snap-b".to_owned()])
        );
        Ok(())
    }

    /// aws provider v5 has no per-resource region, and Terraform moves state
    /// before configuring the provider: the region is left for the refresh.
    #[test]
    fn a_v5_state_needs_no_configured_provider() -> Result<(), Diagnostics> {
        let mut v5 = aws_state();
        v5.as_object_mut().map(|o| o.remove("region"));
        let model = from_aws_ami_copy(&request(v5))?;
        assert!(model.region.is_null(), "{:?}", model.region);
        assert_eq!(
            model.source_region.known().map(String::as_str),
            Some("eu-west-1")
        );
        assert_eq!(
            model.id.known().map(String::as_str),
            Some("ami-0123456789abcdef0")
        );
        Ok(())
    }

    #[test]
    fn refuses_what_it_cannot_take_over() {
        let mut unencrypted = aws_state();
        unencrypted["encrypted"] = json!(false);
        let err = from_aws_ami_copy(&request(unencrypted)).expect_err("refused");
        assert!(err.0[0].detail.contains("not encrypted"), "{err:?}");
        let mut newer = request(aws_state());
        newer.source_schema_version = 1;
        assert!(from_aws_ami_copy(&newer).is_err());
        let mut other = request(aws_state());
        other.source_type_name = "aws_ami".into();
        assert!(!accepts(&other));
        assert!(accepts(&request(aws_state())));
    }
}
