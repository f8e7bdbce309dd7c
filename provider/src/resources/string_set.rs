//! A set of strings from configuration that may be known while some of its
//! elements are not, shared by every model with such an argument.

use std::collections::BTreeSet;

use crate::protocol::declare::AttributeType;
use crate::protocol::diagnostics::{AttrPath, Diagnostic};
use crate::protocol::typed::{FromValue, IntoValue};
use crate::protocol::value::{Type, Value};

/// A set of strings from configuration, kept as Terraform sent it.
///
/// A set can be known while some of its elements are not (an account id from
/// another resource). Such a set must reach the plan unchanged, so the raw
/// value is kept and [`StringSet::known`] says whether it can be used yet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StringSet(Value);

impl StringSet {
    /// A fully known set.
    pub(crate) fn from_set(set: &BTreeSet<String>) -> Self {
        Self(set.to_value())
    }

    /// The elements, when every one of them is known.
    pub(crate) fn known(&self) -> Option<BTreeSet<String>> {
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

impl AttributeType for StringSet {
    fn ty() -> Type {
        Type::set(Type::String)
    }
}
