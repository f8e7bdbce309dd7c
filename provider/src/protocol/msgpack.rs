//! MessagePack encoding of dynamic values, as Terraform puts them in
//! `DynamicValue.msgpack` (cty's convention, documented in Terraform's
//! `docs/plugin-protocol/object-wire-format.md`).
//!
//! The encoding is driven by the type: the same bytes mean different things
//! under different types, and objects are maps keyed by attribute name.
//! Null is msgpack nil; unknown is a msgpack extension value.

mod decode;
mod marker;

use std::fmt::Display;

use super::diagnostics::PathStep;
use super::value::{CodecError, Type, Value};

pub use decode::decode;

/// How cty writes an unrefined unknown: fixext1, extension type 0, one zero
/// byte of ignored payload. We never write refinements (extension type 12);
/// they are optional and we keep none.
const UNKNOWN: [u8; 3] = [0xd4, 0x00, 0x00];

/// Encodes `value` as msgpack under `ty`.
///
/// Every attribute of an object type is written, `nil` where the value has
/// none, because Terraform expects one entry per attribute. Values that do
/// not fit the type (a string where a list is expected, an attribute the
/// object type lacks) are errors naming the path.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut encoder = Encoder {
        out: Vec::new(),
        path: Vec::new(),
    };
    encoder.value(value, ty)?;
    Ok(encoder.out)
}

struct Encoder {
    out: Vec<u8>,
    path: Vec<PathStep>,
}

impl Encoder {
    fn value(&mut self, value: &Value, ty: &Type) -> Result<(), CodecError> {
        match (value, ty) {
            (Value::Unknown, _) => self.out.extend_from_slice(&UNKNOWN),
            (Value::Null, _) => self.emit(rmp::encode::write_nil)?,
            (_, Type::Dynamic) => {
                // A dynamic value travels as [type JSON, value under that type].
                let actual = value.infer_type();
                self.emit(|out| rmp::encode::write_array_len(out, 2))?;
                let type_json = actual.to_json().to_string();
                self.emit(|out| rmp::encode::write_bin(out, type_json.as_bytes()))?;
                self.value(value, &actual)?;
            }
            (Value::Bool(b), Type::Bool) => self.emit(|out| rmp::encode::write_bool(out, *b))?,
            (Value::Number(n), Type::Number) => {
                // Like cty: an integer if it is one, a float if it arrived as
                // one, and the exact decimal text otherwise.
                if let Some(int) = n.as_i64() {
                    self.emit(|out| rmp::encode::write_sint(out, int))?;
                } else if let Some(float) = n.as_float() {
                    self.emit(|out| rmp::encode::write_f64(out, float))?;
                } else {
                    self.emit(|out| rmp::encode::write_str(out, &n.to_string()))?;
                }
            }
            (Value::String(s), Type::String) => self.emit(|out| rmp::encode::write_str(out, s))?,
            (Value::List(items), Type::List(element)) | (Value::Set(items), Type::Set(element)) => {
                self.array_len(items.len())?;
                for (i, item) in items.iter().enumerate() {
                    self.nested(PathStep::Index(i as i64), |e| e.value(item, element))?;
                }
            }
            (Value::Tuple(items), Type::Tuple(elements)) => {
                if items.len() != elements.len() {
                    let message = format!(
                        "tuple has {} elements, its type {}",
                        items.len(),
                        elements.len()
                    );
                    return Err(CodecError::at(&self.path, message));
                }
                self.array_len(items.len())?;
                for (i, (item, element)) in items.iter().zip(elements).enumerate() {
                    self.nested(PathStep::Index(i as i64), |e| e.value(item, element))?;
                }
            }
            (Value::Map(entries), Type::Map(element)) => {
                self.map_len(entries.len())?;
                for (key, item) in entries {
                    self.emit(|out| rmp::encode::write_str(out, key))?;
                    self.nested(PathStep::Key(key.clone()), |e| e.value(item, element))?;
                }
            }
            (Value::Object(attributes), Type::Object(types)) => {
                if let Some(extra) = attributes.keys().find(|name| !types.contains_key(*name)) {
                    return Err(CodecError::at(
                        &self.path,
                        format!("unexpected attribute {extra:?}"),
                    ));
                }
                self.map_len(types.len())?;
                for (name, attribute_type) in types {
                    self.emit(|out| rmp::encode::write_str(out, name))?;
                    let item = attributes.get(name).unwrap_or(&Value::Null);
                    self.nested(PathStep::Attribute(name.clone()), |e| {
                        e.value(item, attribute_type)
                    })?;
                }
            }
            (value, ty) => {
                return Err(CodecError::at(
                    &self.path,
                    format!("cannot encode a {} as {ty}", value.kind()),
                ));
            }
        }
        Ok(())
    }

    fn nested(
        &mut self,
        step: PathStep,
        f: impl FnOnce(&mut Self) -> Result<(), CodecError>,
    ) -> Result<(), CodecError> {
        self.path.push(step);
        let result = f(self);
        self.path.pop();
        result
    }

    fn array_len(&mut self, len: usize) -> Result<(), CodecError> {
        let len = self.len32(len)?;
        self.emit(|out| rmp::encode::write_array_len(out, len))
    }

    fn map_len(&mut self, len: usize) -> Result<(), CodecError> {
        let len = self.len32(len)?;
        self.emit(|out| rmp::encode::write_map_len(out, len))
    }

    fn len32(&self, len: usize) -> Result<u32, CodecError> {
        u32::try_from(len).map_err(|_| CodecError::at(&self.path, "too many elements for msgpack"))
    }

    /// Writing into a `Vec` cannot fail, but rmp's signatures say it might.
    fn emit<T, E: Display>(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<T, E>,
    ) -> Result<(), CodecError> {
        write(&mut self.out)
            .map(drop)
            .map_err(|e| CodecError::at(&self.path, format!("writing msgpack: {e}")))
    }
}

#[cfg(test)]
mod tests;
