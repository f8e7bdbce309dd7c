//! Terraform's JSON encoding of values, the form of `RawState.json` in
//! `UpgradeResourceState` (and a fallback form of `DynamicValue`).
//!
//! State JSON was written under the schema of whatever provider version saved
//! it, so decoding is forgiving where cty's is: attributes the current type
//! lacks are skipped, missing ones are null, and primitives convert the way
//! Terraform converts them (`"5"` reads as the number 5, `true` as the string
//! `"true"`). Numbers are read through `f64` when they are neither `i64` nor
//! `u64`, so a state number with more precision than a float loses it.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::diagnostics::PathStep;
use super::value::{CodecError, Number, Type, Value};

/// Decodes JSON `bytes` as a value of type `ty`. Empty input is null.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let json: Json = serde_json::from_slice(bytes)
        .map_err(|e| CodecError::at(&[], format!("invalid JSON: {e}")))?;
    from_json(&json, ty, &mut Vec::new())
}

/// Encodes `value` as JSON under `ty`. Unknown values have no JSON form, so
/// they are an error; every attribute of an object type is written.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = String::new();
    write(value, ty, &mut Vec::new(), &mut out)?;
    Ok(out.into_bytes())
}

fn from_json(json: &Json, ty: &Type, path: &mut Vec<PathStep>) -> Result<Value, CodecError> {
    let expected =
        |what: &str| CodecError::at(path, format!("expected {what}, found {}", describe(json)));
    Ok(match (ty, json) {
        (_, Json::Null) => Value::Null,
        (Type::Dynamic, Json::Object(pair)) => {
            if let Some(key) = pair.keys().find(|k| *k != "type" && *k != "value") {
                return Err(CodecError::at(
                    path,
                    format!("unexpected key {key:?} in a dynamic value"),
                ));
            }
            let (Some(type_json), Some(value)) = (pair.get("type"), pair.get("value")) else {
                return Err(CodecError::at(
                    path,
                    "a dynamic value needs both \"type\" and \"value\"",
                ));
            };
            let actual =
                Type::from_json(type_json).map_err(|e| CodecError::at(path, e.message()))?;
            from_json(value, &actual, path)?
        }
        (Type::Bool, Json::Bool(b)) => Value::Bool(*b),
        (Type::Bool, Json::String(s)) if s == "true" || s == "false" => Value::Bool(s == "true"),
        (Type::Number, Json::Number(n)) => {
            Value::Number(number(n).ok_or_else(|| expected("a finite number"))?)
        }
        (Type::Number, Json::String(s)) => {
            let parsed = Number::parse(s)
                .ok_or_else(|| CodecError::at(path, format!("invalid number {s:?}")))?;
            Value::Number(parsed)
        }
        (Type::String, Json::String(s)) => Value::String(s.clone()),
        (Type::String, Json::Number(n)) => Value::String(n.to_string()),
        (Type::String, Json::Bool(b)) => Value::String(b.to_string()),
        (Type::List(element), Json::Array(items)) => Value::List(elements(items, element, path)?),
        (Type::Set(element), Json::Array(items)) => Value::Set(elements(items, element, path)?),
        (Type::Tuple(types), Json::Array(items)) => {
            if items.len() != types.len() {
                let message = format!(
                    "expected a tuple of {} elements, found {}",
                    types.len(),
                    items.len()
                );
                return Err(CodecError::at(path, message));
            }
            let mut values = Vec::with_capacity(items.len());
            for (i, (item, element)) in items.iter().zip(types).enumerate() {
                values.push(nested(path, PathStep::Index(i as i64), |p| {
                    from_json(item, element, p)
                })?);
            }
            Value::Tuple(values)
        }
        (Type::Map(element), Json::Object(entries)) => {
            let mut values = BTreeMap::new();
            for (key, item) in entries {
                let value = nested(path, PathStep::Key(key.clone()), |p| {
                    from_json(item, element, p)
                })?;
                values.insert(key.clone(), value);
            }
            Value::Map(values)
        }
        (Type::Object(types), Json::Object(attributes)) => {
            // Attributes not in `types` are skipped on purpose: they are ones
            // a newer provider version removed, and must not block upgrade.
            let mut values = BTreeMap::new();
            for (name, attribute_type) in types {
                let value = match attributes.get(name) {
                    Some(item) => nested(path, PathStep::Attribute(name.clone()), |p| {
                        from_json(item, attribute_type, p)
                    })?,
                    None => Value::Null,
                };
                values.insert(name.clone(), value);
            }
            Value::Object(values)
        }
        (ty, _) => return Err(expected(&ty.to_string())),
    })
}

fn elements(
    items: &[Json],
    element: &Type,
    path: &mut Vec<PathStep>,
) -> Result<Vec<Value>, CodecError> {
    let mut values = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        values.push(nested(path, PathStep::Index(i as i64), |p| {
            from_json(item, element, p)
        })?);
    }
    Ok(values)
}

fn number(n: &serde_json::Number) -> Option<Number> {
    if let Some(int) = n.as_i64() {
        return Some(Number::from(int));
    }
    if let Some(unsigned) = n.as_u64() {
        return Some(Number::from_u64(unsigned));
    }
    Number::from_f64(n.as_f64()?)
}

fn write(
    value: &Value,
    ty: &Type,
    path: &mut Vec<PathStep>,
    out: &mut String,
) -> Result<(), CodecError> {
    match (value, ty) {
        (Value::Unknown, _) => {
            return Err(CodecError::at(
                path,
                "unknown values cannot be encoded as JSON",
            ))
        }
        (Value::Null, _) => out.push_str("null"),
        (_, Type::Dynamic) => {
            let actual = value.infer_type();
            out.push_str("{\"value\":");
            write(value, &actual, path, out)?;
            out.push_str(",\"type\":");
            out.push_str(&actual.to_json().to_string());
            out.push('}');
        }
        (Value::Bool(b), Type::Bool) => out.push_str(if *b { "true" } else { "false" }),
        // `Number`'s text is valid JSON number syntax, exact even for big values.
        (Value::Number(n), Type::Number) => out.push_str(&n.to_string()),
        (Value::String(s), Type::String) => string(s, out),
        (Value::List(items), Type::List(element)) | (Value::Set(items), Type::Set(element)) => {
            let types = std::iter::repeat(element.as_ref());
            array(items, types, path, out)?;
        }
        (Value::Tuple(items), Type::Tuple(types)) => {
            if items.len() != types.len() {
                let message = format!(
                    "tuple has {} elements, its type {}",
                    items.len(),
                    types.len()
                );
                return Err(CodecError::at(path, message));
            }
            array(items, types.iter(), path, out)?;
        }
        (Value::Map(entries), Type::Map(element)) => {
            let entries = entries
                .iter()
                .map(|(k, v)| (k, Some(v), element.as_ref(), PathStep::Key(k.clone())));
            object(entries, path, out)?;
        }
        (Value::Object(attributes), Type::Object(types)) => {
            if let Some(extra) = attributes.keys().find(|name| !types.contains_key(*name)) {
                return Err(CodecError::at(
                    path,
                    format!("unexpected attribute {extra:?}"),
                ));
            }
            let entries = types
                .iter()
                .map(|(k, t)| (k, attributes.get(k), t, PathStep::Attribute(k.clone())));
            object(entries, path, out)?;
        }
        (value, ty) => {
            return Err(CodecError::at(
                path,
                format!("cannot encode a {} as {ty}", value.kind()),
            ))
        }
    }
    Ok(())
}

fn array<'t>(
    items: &[Value],
    types: impl Iterator<Item = &'t Type>,
    path: &mut Vec<PathStep>,
    out: &mut String,
) -> Result<(), CodecError> {
    out.push('[');
    for (i, (item, ty)) in items.iter().zip(types).enumerate() {
        if i > 0 {
            out.push(',');
        }
        nested(path, PathStep::Index(i as i64), |p| write(item, ty, p, out))?;
    }
    out.push(']');
    Ok(())
}

/// Writes a JSON object; a `None` value (an attribute the value lacks) is null.
fn object<'v>(
    entries: impl Iterator<Item = (&'v String, Option<&'v Value>, &'v Type, PathStep)>,
    path: &mut Vec<PathStep>,
    out: &mut String,
) -> Result<(), CodecError> {
    out.push('{');
    for (i, (key, value, ty, step)) in entries.enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(key, out);
        out.push(':');
        nested(path, step, |p| {
            write(value.unwrap_or(&Value::Null), ty, p, out)
        })?;
    }
    out.push('}');
    Ok(())
}

fn string(s: &str, out: &mut String) {
    // A `Json::String` always serialises; its `Display` is the escaped literal.
    out.push_str(&Json::from(s).to_string());
}

fn nested<T>(
    path: &mut Vec<PathStep>,
    step: PathStep,
    f: impl FnOnce(&mut Vec<PathStep>) -> Result<T, CodecError>,
) -> Result<T, CodecError> {
    path.push(step);
    let result = f(path);
    path.pop();
    result
}

fn describe(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests;
