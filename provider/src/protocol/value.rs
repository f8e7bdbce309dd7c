//! Terraform values as the protocol layer sees them: untyped trees that the
//! codecs read and write against a [`Type`].
//!
//! A [`Value`] does not carry its type; the schema does. That keeps values
//! cheap to build in the typed-model layer, at the price that a value under a
//! `dynamic` type must have its type inferred when it is encoded
//! ([`Value::infer_type`]).

mod codec_error;
mod number;
mod partial;
mod ty;

use std::collections::BTreeMap;

pub use codec_error::CodecError;
pub use number::Number;
pub use ty::Type;

/// A Terraform value: null, unknown (not yet decided at plan time), or known.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// No value. A null of any type; the type comes from the schema.
    #[default]
    Null,
    /// Decided only during apply. Refinements Terraform may attach are
    /// dropped: treating a refined unknown as wholly unknown is always safe.
    Unknown,
    /// A known bool.
    Bool(bool),
    /// A known number.
    Number(Number),
    /// A known string.
    String(String),
    /// A known list.
    List(Vec<Value>),
    /// A known set; element order carries no meaning (see [`Value::equivalent`]).
    Set(Vec<Value>),
    /// A known map.
    Map(BTreeMap<String, Value>),
    /// A known object (also how blocks are represented).
    Object(BTreeMap<String, Value>),
    /// A known tuple.
    Tuple(Vec<Value>),
}

impl Value {
    /// An object from `(name, value)` pairs.
    pub fn object<I, K>(attributes: I) -> Self
    where
        I: IntoIterator<Item = (K, Value)>,
        K: Into<String>,
    {
        Self::Object(attributes.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// An object of type `ty` whose attributes are all null, as Terraform
    /// synthesises for an absent `Group` block; `Null` for non-object types.
    pub fn object_of_nulls(ty: &Type) -> Self {
        match ty {
            Type::Object(attributes) => {
                Self::Object(attributes.keys().map(|k| (k.clone(), Self::Null)).collect())
            }
            _ => Self::Null,
        }
    }

    /// True for a null value.
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// True for an unknown value (only the value itself, not its contents).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown)
    }

    /// True when no unknown value appears anywhere inside this one.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Self::Unknown => false,
            Self::List(items) | Self::Set(items) | Self::Tuple(items) => {
                items.iter().all(Self::is_wholly_known)
            }
            Self::Map(entries) | Self::Object(entries) => {
                entries.values().all(Self::is_wholly_known)
            }
            Self::Null | Self::Bool(_) | Self::Number(_) | Self::String(_) => true,
        }
    }

    /// The string, when this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, when this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, when this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Self::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The integer, when this is a known number that is an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The attributes, when this is a known object.
    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Self::Object(attributes) => Some(attributes),
            _ => None,
        }
    }

    /// The entries, when this is a known map.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Self::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The elements, when this is a known list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self {
            Self::List(items) | Self::Set(items) | Self::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// Attribute `name` of a known object; `None` when this is not an object
    /// or has no such attribute.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        self.as_object().and_then(|attributes| attributes.get(name))
    }

    /// Equality as Terraform means it: like `==`, except that sets, at any
    /// depth, are compared without regard to element order.
    pub fn equivalent(&self, other: &Value) -> bool {
        match (self, other) {
            (Self::Set(a), Self::Set(b)) => Self::set_eq(a, b),
            (Self::List(a), Self::List(b)) | (Self::Tuple(a), Self::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.equivalent(y))
            }
            (Self::Map(a), Self::Map(b)) | (Self::Object(a), Self::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka == kb && va.equivalent(vb))
            }
            _ => self == other,
        }
    }

    /// Whether two sets' elements are the same, in any order (a multiset
    /// comparison, so duplicates must match in number too).
    pub fn set_eq(a: &[Value], b: &[Value]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        // Values are neither `Ord` nor `Hash` (numbers may be floats), and
        // sets in a schema are small, so a quadratic match is the simple way.
        let mut used = vec![false; b.len()];
        a.iter().all(|x| {
            let found = b
                .iter()
                .enumerate()
                .position(|(i, y)| !used[i] && x.equivalent(y));
            found.map(|i| used[i] = true).is_some()
        })
    }

    /// The most specific type this value has on its own, used to label values
    /// under a `dynamic` type on the wire. Nulls and unknowns are `dynamic`;
    /// a collection takes its element type from its first element that says
    /// more than `dynamic`.
    pub fn infer_type(&self) -> Type {
        let element = |items: &mut dyn Iterator<Item = &Value>| {
            items
                .map(Self::infer_type)
                .find(|t| *t != Type::Dynamic)
                .unwrap_or(Type::Dynamic)
        };
        match self {
            Self::Null | Self::Unknown => Type::Dynamic,
            Self::Bool(_) => Type::Bool,
            Self::Number(_) => Type::Number,
            Self::String(_) => Type::String,
            Self::List(items) => Type::list(element(&mut items.iter())),
            Self::Set(items) => Type::set(element(&mut items.iter())),
            Self::Map(entries) => Type::map(element(&mut entries.values())),
            Self::Object(attributes) => {
                Type::object(attributes.iter().map(|(k, v)| (k.clone(), v.infer_type())))
            }
            Self::Tuple(items) => Type::Tuple(items.iter().map(Self::infer_type).collect()),
        }
    }

    /// A short name for the kind of value, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Unknown => "unknown",
            Self::Bool(_) => "bool",
            Self::Number(_) => "number",
            Self::String(_) => "string",
            Self::List(_) => "list",
            Self::Set(_) => "set",
            Self::Map(_) => "map",
            Self::Object(_) => "object",
            Self::Tuple(_) => "tuple",
        }
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Self::String(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Self::Number(Number::from(value))
    }
}

impl From<Number> for Value {
    fn from(value: Number) -> Self {
        Self::Number(value)
    }
}

/// `None` is null, which is how optional model fields map to Terraform.
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Into::into)
    }
}

#[cfg(test)]
mod tests;
