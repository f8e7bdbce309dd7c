//! Typed models: how resources read and write values without string lookups.
//!
//! A resource's model is a plain struct whose fields are [`Field<T>`]s:
//! known, null, or unknown until apply. Conversions are written once per
//! model with [`ObjectReader`] and [`ObjectWriter`]; resource logic then only
//! touches typed fields.

use std::collections::{BTreeMap, BTreeSet};

use super::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use super::value::Value;

/// An attribute value as Terraform sees it at plan time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Field<T> {
    /// A concrete value.
    Known(T),
    /// Not set.
    #[default]
    Null,
    /// Known only after apply (computed, or derived from another resource).
    Unknown,
}

impl<T> Field<T> {
    /// The value, when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Field::Known(value) => Some(value),
            Field::Null | Field::Unknown => None,
        }
    }

    /// True for [`Field::Unknown`].
    pub fn is_unknown(&self) -> bool {
        matches!(self, Field::Unknown)
    }

    /// True for [`Field::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Field::Null)
    }

    /// The check of a known value: [`Diagnostic::invalid`] at `path` when
    /// `rule` refuses it. Unknown and null values pass; Terraform
    /// validates again once it knows them.
    pub fn check(
        &self,
        path: AttrPath,
        rule: impl FnOnce(&T) -> Result<(), String>,
    ) -> Diagnostics {
        match self.known().map(rule) {
            Some(Err(reason)) => Diagnostic::invalid(path, &reason).into(),
            _ => Diagnostics::new(),
        }
    }

    /// The value, or `fallback` when null; `None` when unknown.
    pub fn or_default_when_null(&self, fallback: T) -> Option<T>
    where
        T: Clone,
    {
        match self {
            Field::Known(value) => Some(value.clone()),
            Field::Null => Some(fallback),
            Field::Unknown => None,
        }
    }
}

impl<T> From<Option<T>> for Field<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Field::Null, Field::Known)
    }
}

/// Reads a Rust value out of a Terraform value of the matching type.
pub trait FromValue: Sized {
    /// Converts `value`, found at `path`, or explains what was wrong there.
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic>;
}

/// Writes a Rust value as a Terraform value.
pub trait IntoValue {
    /// The Terraform value.
    fn to_value(&self) -> Value;
}

fn mismatch(path: &AttrPath, expected: &str, found: &Value) -> Diagnostic {
    let found = match found {
        Value::Null => "null",
        Value::Unknown => "an unknown value",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::List(_) | Value::Tuple(_) => "a list",
        Value::Set(_) => "a set",
        Value::Map(_) => "a map",
        Value::Object(_) => "an object",
    };
    Diagnostic::error(
        "Unexpected value type",
        format!("Expected {expected} at {path}, found {found}. This is a bug in the provider."),
    )
    .at(path.clone())
}

impl<T: FromValue> FromValue for Field<T> {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        match value {
            Value::Null => Ok(Field::Null),
            Value::Unknown => Ok(Field::Unknown),
            other => T::from_value(other, path).map(Field::Known),
        }
    }
}

impl<T: IntoValue> IntoValue for Field<T> {
    fn to_value(&self) -> Value {
        match self {
            Field::Known(value) => value.to_value(),
            Field::Null => Value::Null,
            Field::Unknown => Value::Unknown,
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        match value {
            Value::String(s) => Ok(s.clone()),
            other => Err(mismatch(path, "a string", other)),
        }
    }
}

impl IntoValue for String {
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
}

impl FromValue for bool {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        match value {
            Value::Bool(b) => Ok(*b),
            other => Err(mismatch(path, "a bool", other)),
        }
    }
}

impl IntoValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

impl FromValue for i64 {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        match value {
            Value::Number(_) => value.as_i64().ok_or_else(|| {
                Diagnostic::error("Invalid number", format!("{path} must be a whole number."))
                    .at(path.clone())
            }),
            other => Err(mismatch(path, "a number", other)),
        }
    }
}

impl IntoValue for i64 {
    fn to_value(&self) -> Value {
        Value::from(*self)
    }
}

/// Lists (and nested blocks in list mode). Elements may themselves be
/// unknown; such a list is read as unknown as a whole, which is how
/// validation treats a partially known collection.
impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        match value {
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| T::from_value(item, &path.clone().index(i as i64)))
                .collect(),
            other => Err(mismatch(path, "a list", other)),
        }
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(IntoValue::to_value).collect())
    }
}

impl<T: FromValue + Ord> FromValue for BTreeSet<T> {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        match value {
            Value::Set(items) | Value::List(items) => {
                items.iter().map(|item| T::from_value(item, path)).collect()
            }
            other => Err(mismatch(path, "a set", other)),
        }
    }
}

impl<T: IntoValue> IntoValue for BTreeSet<T> {
    fn to_value(&self) -> Value {
        Value::Set(self.iter().map(IntoValue::to_value).collect())
    }
}

impl<T: FromValue> FromValue for BTreeMap<String, T> {
    fn from_value(value: &Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        match value {
            Value::Map(items) | Value::Object(items) => items
                .iter()
                .map(|(key, item)| Ok((key.clone(), T::from_value(item, &path.clone().key(key))?)))
                .collect(),
            other => Err(mismatch(path, "a map", other)),
        }
    }
}

impl<T: IntoValue> IntoValue for BTreeMap<String, T> {
    fn to_value(&self) -> Value {
        Value::Map(
            self.iter()
                .map(|(k, v)| (k.clone(), v.to_value()))
                .collect(),
        )
    }
}

/// Reads the attributes of an object value by name, once, in a model's
/// conversion function.
#[derive(Debug)]
pub struct ObjectReader<'a> {
    attributes: &'a BTreeMap<String, Value>,
    path: AttrPath,
}

impl<'a> ObjectReader<'a> {
    /// Starts reading `value`, which must be an object.
    pub fn new(value: &'a Value, path: &AttrPath) -> Result<Self, Diagnostic> {
        match value {
            Value::Object(attributes) => Ok(Self {
                attributes,
                path: path.clone(),
            }),
            other => Err(mismatch(path, "an object", other)),
        }
    }

    /// The attribute `name`, converted; an absent attribute reads as null.
    pub fn get<T: FromValue>(&self, name: &str) -> Result<T, Diagnostic> {
        let path = self.path.clone().attr(name);
        T::from_value(self.attributes.get(name).unwrap_or(&Value::Null), &path)
    }

    /// Like [`ObjectReader::get`], but a value that is only partly known (a
    /// set with one unknown element, an object with an unknown attribute)
    /// reads as [`Field::Unknown`] as a whole. For values that are only read,
    /// such as the provider block; never for state the provider plans, which
    /// must keep the configuration's exact shape.
    pub fn get_or_unknown<T: FromValue>(&self, name: &str) -> Result<Field<T>, Diagnostic> {
        match self.attributes.get(name) {
            Some(value) if !value.is_wholly_known() => Ok(Field::Unknown),
            _ => self.get(name),
        }
    }

    /// The path of attribute `name`, for diagnostics about it.
    pub fn path_of(&self, name: &str) -> AttrPath {
        self.path.clone().attr(name)
    }
}

/// Builds an object value attribute by attribute.
#[derive(Debug, Default)]
pub struct ObjectWriter(BTreeMap<String, Value>);

impl ObjectWriter {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets attribute `name`.
    pub fn set(mut self, name: &str, value: &impl IntoValue) -> Self {
        self.0.insert(name.to_owned(), value.to_value());
        self
    }

    /// The finished object.
    pub fn build(self) -> Value {
        Value::Object(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn fields_tell_known_null_and_unknown_apart() -> Result<(), Diagnostic> {
        let value = object(&[
            ("a", Value::String("x".into())),
            ("b", Value::Null),
            ("c", Value::Unknown),
        ]);
        let reader = ObjectReader::new(&value, &AttrPath::default())?;
        assert_eq!(reader.get::<Field<String>>("a")?, Field::Known("x".into()));
        assert_eq!(reader.get::<Field<String>>("b")?, Field::Null);
        assert_eq!(reader.get::<Field<String>>("c")?, Field::Unknown);
        assert_eq!(reader.get::<Field<String>>("absent")?, Field::Null);
        Ok(())
    }

    #[test]
    fn collections_round_trip() -> Result<(), Diagnostic> {
        let set: BTreeSet<String> = ["b".to_owned(), "a".to_owned()].into();
        let map: BTreeMap<String, String> = [("k".to_owned(), "v".to_owned())].into();
        let value = ObjectWriter::new()
            .set("set", &Field::Known(set.clone()))
            .set("map", &Field::Known(map.clone()))
            .set("gone", &Field::<String>::Null)
            .build();
        let reader = ObjectReader::new(&value, &AttrPath::default())?;
        assert_eq!(
            reader.get::<Field<BTreeSet<String>>>("set")?,
            Field::Known(set)
        );
        assert_eq!(
            reader.get::<Field<BTreeMap<String, String>>>("map")?,
            Field::Known(map)
        );
        assert!(reader.get::<Field<String>>("gone")?.is_null());
        Ok(())
    }

    #[test]
    fn partly_known_values_read_as_unknown_only_when_asked() -> Result<(), Diagnostic> {
        let value = object(&[(
            "ids",
            Value::Set(vec![Value::String("111111111111".into()), Value::Unknown]),
        )]);
        let reader = ObjectReader::new(&value, &AttrPath::default())?;
        assert!(reader
            .get_or_unknown::<BTreeSet<String>>("ids")?
            .is_unknown());
        assert!(reader.get::<Field<BTreeSet<String>>>("ids").is_err());
        Ok(())
    }

    #[test]
    fn a_wrong_type_names_the_path() {
        let value = object(&[(
            "tags",
            Value::Map([("Name".to_owned(), Value::Bool(true))].into()),
        )]);
        let reader = ObjectReader::new(&value, &AttrPath::default()).expect("an object");
        let err = reader
            .get::<Field<BTreeMap<String, String>>>("tags")
            .expect_err("a bool is not a string");
        assert_eq!(err.path, Some(AttrPath::root("tags").key("Name")));
    }

    /// The one wording of a refused value, and only a known value is checked.
    #[test]
    fn check_refuses_a_known_value_by_its_path() {
        let rule = |v: &String| match v.as_str() {
            "bad" => Err("must not be bad".to_owned()),
            _ => Ok(()),
        };
        let path = AttrPath::root("assume_role").attr("role_arn");
        let refused = Field::Known("bad".to_owned()).check(path.clone(), rule);
        assert_eq!(
            refused.0,
            vec![Diagnostic::error(
                "Invalid assume_role.role_arn",
                "assume_role.role_arn must not be bad."
            )
            .at(path)]
        );
        for passes in [Field::Known("good".to_owned()), Field::Null, Field::Unknown] {
            assert!(
                passes.check(AttrPath::root("x"), rule).is_empty(),
                "{passes:?}"
            );
        }
    }
}
