//! The typed model of `imagecopier_ami_share` and its conversions.

use std::collections::{BTreeMap, BTreeSet};

use crate::protocol::diagnostics::{AttrPath, Diagnostic};
use crate::protocol::typed::{Field, FromValue, IntoValue, ObjectReader, ObjectWriter};
use crate::protocol::value::Value;

/// A set of strings from configuration, kept as Terraform sent it.
///
/// A set can be known while some of its elements are not (an account id from
/// another resource). Such a set must reach the plan unchanged, so the raw
/// value is kept and [`StringSet::known`] says whether it can be used yet.
#[derive(Debug, Clone, PartialEq)]
pub struct StringSet(Value);

impl StringSet {
    /// A fully known set.
    pub fn from_set(set: &BTreeSet<String>) -> Self {
        Self(set.to_value())
    }

    /// The elements, when every one of them is known.
    pub fn known(&self) -> Option<BTreeSet<String>> {
        match &self.0 {
            Value::Set(items) | Value::List(items) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }
}

impl FromValue for StringSet {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        match value {
            Value::Set(_) | Value::List(_) => Ok(Self(value.clone())),
            _ => Err(Diagnostic::error(
                "Unexpected value type",
                format!("Expected a set of strings at {path}. This is a bug in the provider."),
            )
            .at(path.clone())),
        }
    }
}

impl IntoValue for StringSet {
    fn to_value(&self) -> Value {
        self.0.clone()
    }
}

/// What a set attribute holds, for logic that needs plain values.
pub fn set_of(field: &Field<StringSet>) -> Option<BTreeSet<String>> {
    match field {
        Field::Known(set) => set.known(),
        Field::Null => Some(BTreeSet::new()),
        Field::Unknown => None,
    }
}

/// A set value for state, written the way the prior value was: an empty
/// set stays null when it was null, so an omitted argument shows no diff.
pub fn set_like(prior: &Field<StringSet>, set: &BTreeSet<String>) -> Field<StringSet> {
    if set.is_empty() && !matches!(prior, Field::Known(_)) {
        Field::Null
    } else {
        Field::Known(StringSet::from_set(set))
    }
}

/// The resource's model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AmiShareModel {
    /// The AMI id.
    pub id: Field<String>,
    /// The AMI to share.
    pub image_id: Field<String>,
    /// Accounts with launch (and snapshot) permission.
    pub account_ids: Field<StringSet>,
    /// Organizations with launch permission.
    pub organization_arns: Field<StringSet>,
    /// Organizational units with launch permission.
    pub organizational_unit_arns: Field<StringSet>,
    /// Whether snapshots are shared with the accounts.
    pub share_snapshots: Field<bool>,
    /// Whether grants not in configuration are removed.
    pub exclusive: Field<bool>,
    /// The AMI's EBS snapshots.
    pub snapshot_ids: Field<BTreeSet<String>>,
    /// The AMI's name.
    pub image_name: Field<String>,
    /// The owner's user tags on the AMI.
    pub image_tags: Field<BTreeMap<String, String>>,
    /// Whether the snapshots are encrypted.
    pub encrypted: Field<bool>,
    /// The snapshots' KMS keys.
    pub kms_key_ids: Field<BTreeSet<String>>,
    /// Whether anyone may launch the AMI or use its snapshots.
    pub public: Field<bool>,
}

impl AmiShareModel {
    /// `share_snapshots` with its default applied; `None` while unknown.
    pub fn shares_snapshots(&self) -> Option<bool> {
        self.share_snapshots.or_default_when_null(true)
    }

    /// `exclusive` with its default applied; `None` while unknown.
    pub fn is_exclusive(&self) -> Option<bool> {
        self.exclusive.or_default_when_null(false)
    }
}

impl FromValue for AmiShareModel {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        let r = ObjectReader::new(value, path)?;
        Ok(Self {
            id: r.get("id")?,
            image_id: r.get("image_id")?,
            account_ids: r.get("account_ids")?,
            organization_arns: r.get("organization_arns")?,
            organizational_unit_arns: r.get("organizational_unit_arns")?,
            share_snapshots: r.get("share_snapshots")?,
            exclusive: r.get("exclusive")?,
            snapshot_ids: r.get("snapshot_ids")?,
            image_name: r.get("image_name")?,
            image_tags: r.get("image_tags")?,
            encrypted: r.get("encrypted")?,
            kms_key_ids: r.get("kms_key_ids")?,
            public: r.get("public")?,
        })
    }
}

impl IntoValue for AmiShareModel {
    fn to_value(&self) -> Value {
        ObjectWriter::new()
            .set("id", &self.id)
            .set("image_id", &self.image_id)
            .set("account_ids", &self.account_ids)
            .set("organization_arns", &self.organization_arns)
            .set("organizational_unit_arns", &self.organizational_unit_arns)
            .set("share_snapshots", &self.share_snapshots)
            .set("exclusive", &self.exclusive)
            .set("snapshot_ids", &self.snapshot_ids)
            .set("image_name", &self.image_name)
            .set("image_tags", &self.image_tags)
            .set("encrypted", &self.encrypted)
            .set("kms_key_ids", &self.kms_key_ids)
            .set("public", &self.public)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn partially_unknown_sets_round_trip_and_read_as_unknown() {
        let raw = Value::Set(vec![Value::String("111111111111".into()), Value::Unknown]);
        let field: Field<StringSet> =
            Field::from_value(&raw, &AttrPath::root("account_ids")).expect("a set");
        assert_eq!(set_of(&field), None);
        assert_eq!(field.to_value(), raw);
    }

    #[test]
    fn set_like_keeps_the_prior_representation() {
        let empty = BTreeSet::new();
        let cases = [
            (Field::Null, &empty, Field::Null),
            (
                Field::Known(StringSet::from_set(&empty)),
                &empty,
                Field::Known(StringSet::from_set(&empty)),
            ),
        ];
        for (prior, new, want) in cases {
            assert_eq!(set_like(&prior, new), want);
        }
        let one = set(&["222222222222"]);
        assert_eq!(
            set_like(&Field::Null, &one),
            Field::Known(StringSet::from_set(&one))
        );
        assert_eq!(set_of(&Field::Null), Some(BTreeSet::new()));
    }
}
