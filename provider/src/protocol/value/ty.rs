//! Terraform types and their JSON form (the `type` field of schema
//! attributes, and the type half of a dynamic value).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

use super::CodecError;

/// A Terraform type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// A Unicode string.
    String,
    /// An arbitrary-precision number.
    Number,
    /// `true` or `false`.
    Bool,
    /// Any type, decided at run time; values travel with their type.
    Dynamic,
    /// An ordered sequence of one element type.
    List(Box<Type>),
    /// An unordered collection of distinct values of one element type.
    Set(Box<Type>),
    /// String keys to values of one element type.
    Map(Box<Type>),
    /// Named attributes, each with its own type.
    Object(BTreeMap<String, Type>),
    /// A fixed-length sequence, each position with its own type.
    Tuple(Vec<Type>),
}

impl Type {
    /// An object type from `(name, type)` pairs.
    pub fn object<I, K>(attributes: I) -> Self
    where
        I: IntoIterator<Item = (K, Type)>,
        K: Into<String>,
    {
        Self::Object(attributes.into_iter().map(|(k, t)| (k.into(), t)).collect())
    }

    /// `list(element)`.
    pub fn list(element: Type) -> Self {
        Self::List(Box::new(element))
    }

    /// `set(element)`.
    pub fn set(element: Type) -> Self {
        Self::Set(Box::new(element))
    }

    /// `map(element)`.
    pub fn map(element: Type) -> Self {
        Self::Map(Box::new(element))
    }

    /// The type of attribute `name`, when this is an object type that has it.
    pub fn attribute_type(&self, name: &str) -> Option<&Type> {
        match self {
            Self::Object(attributes) => attributes.get(name),
            _ => None,
        }
    }

    /// Terraform's JSON form: `"string"`, `["list","string"]`,
    /// `["object",{"a":"number"}]`, `["tuple",["bool"]]`, `"dynamic"`.
    pub fn to_json(&self) -> Json {
        let kind = |name: &str, arg: Json| Json::Array(vec![Json::from(name), arg]);
        match self {
            Self::String => Json::from("string"),
            Self::Number => Json::from("number"),
            Self::Bool => Json::from("bool"),
            Self::Dynamic => Json::from("dynamic"),
            Self::List(element) => kind("list", element.to_json()),
            Self::Set(element) => kind("set", element.to_json()),
            Self::Map(element) => kind("map", element.to_json()),
            Self::Object(attributes) => {
                let attrs = attributes.iter().map(|(k, t)| (k.clone(), t.to_json()));
                kind("object", Json::Object(attrs.collect()))
            }
            Self::Tuple(elements) => kind("tuple", elements.iter().map(Type::to_json).collect()),
        }
    }

    /// Reads Terraform's JSON form of a type (see [`Type::to_json`]).
    pub fn from_json(json: &Json) -> Result<Self, CodecError> {
        let invalid = || CodecError::at(&[], format!("invalid type constraint {json}"));
        match json {
            Json::String(name) => match name.as_str() {
                "string" => Ok(Self::String),
                "number" => Ok(Self::Number),
                "bool" => Ok(Self::Bool),
                "dynamic" => Ok(Self::Dynamic),
                _ => Err(invalid()),
            },
            Json::Array(pair) => {
                let [Json::String(kind), arg] = pair.as_slice() else {
                    return Err(invalid());
                };
                match (kind.as_str(), arg) {
                    ("list", element) => Ok(Self::list(Self::from_json(element)?)),
                    ("set", element) => Ok(Self::set(Self::from_json(element)?)),
                    ("map", element) => Ok(Self::map(Self::from_json(element)?)),
                    ("object", Json::Object(attributes)) => attributes
                        .iter()
                        .map(|(name, ty)| Ok((name.clone(), Self::from_json(ty)?)))
                        .collect::<Result<_, CodecError>>()
                        .map(Self::Object),
                    ("tuple", Json::Array(elements)) => elements
                        .iter()
                        .map(Self::from_json)
                        .collect::<Result<_, _>>()
                        .map(Self::Tuple),
                    _ => Err(invalid()),
                }
            }
            _ => Err(invalid()),
        }
    }

    /// Reads a type from JSON text, as found inside dynamic values.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let json: Json = serde_json::from_slice(bytes)
            .map_err(|e| CodecError::at(&[], format!("invalid type constraint JSON: {e}")))?;
        Self::from_json(&json)
    }
}

/// Terraform's type-constraint syntax: `list(object({a=string}))`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String => f.write_str("string"),
            Self::Number => f.write_str("number"),
            Self::Bool => f.write_str("bool"),
            Self::Dynamic => f.write_str("any"),
            Self::List(element) => write!(f, "list({element})"),
            Self::Set(element) => write!(f, "set({element})"),
            Self::Map(element) => write!(f, "map({element})"),
            Self::Object(attributes) => {
                f.write_str("object({")?;
                for (i, (name, ty)) in attributes.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{name}={ty}")?;
                }
                f.write_str("})")
            }
            Self::Tuple(elements) => {
                f.write_str("tuple([")?;
                for (i, ty) in elements.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{ty}")?;
                }
                f.write_str("])")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cases() -> Vec<(Type, Json)> {
        vec![
            (Type::String, json!("string")),
            (Type::Number, json!("number")),
            (Type::Bool, json!("bool")),
            (Type::Dynamic, json!("dynamic")),
            (Type::list(Type::String), json!(["list", "string"])),
            (Type::set(Type::Number), json!(["set", "number"])),
            (Type::map(Type::Bool), json!(["map", "bool"])),
            (
                Type::object([("a", Type::String), ("b", Type::list(Type::Number))]),
                json!(["object", {"a": "string", "b": ["list", "number"]}]),
            ),
            (
                Type::object(Vec::<(String, Type)>::new()),
                json!(["object", {}]),
            ),
            (
                Type::Tuple(vec![Type::String, Type::Dynamic]),
                json!(["tuple", ["string", "dynamic"]]),
            ),
            (
                Type::set(Type::object([("n", Type::map(Type::String))])),
                json!(["set", ["object", {"n": ["map", "string"]}]]),
            ),
        ]
    }

    #[test]
    fn type_json_round_trips() -> Result<(), CodecError> {
        for (ty, json) in cases() {
            assert_eq!(ty.to_json(), json, "to_json of {ty}");
            assert_eq!(Type::from_json(&json)?, ty, "from_json of {json}");
            assert_eq!(Type::from_json_bytes(json.to_string().as_bytes())?, ty);
        }
        Ok(())
    }

    #[test]
    fn invalid_type_json_is_an_error() {
        let bad = [
            json!("str"),
            json!(["list"]),
            json!(["list", "string", "x"]),
            json!(["object", ["a"]]),
            json!(["tuple", "string"]),
            json!(["thing", "string"]),
            json!(7),
            json!(null),
        ];
        for json in bad {
            let err = Type::from_json(&json).expect_err("should be rejected");
            assert!(err.message().contains("invalid type constraint"), "{err}");
        }
        assert!(Type::from_json_bytes(b"not json").is_err());
    }

    #[test]
    fn display_uses_constraint_syntax() {
        let ty = Type::list(Type::object([
            ("a", Type::String),
            ("b", Type::Tuple(vec![Type::Bool, Type::Dynamic])),
        ]));
        assert_eq!(
            ty.to_string(),
            "list(object({a=string, b=tuple([bool, any])}))"
        );
    }
}
