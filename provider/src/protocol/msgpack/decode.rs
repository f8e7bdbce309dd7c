//! Reading msgpack into values, directed by the expected type.

use std::collections::BTreeMap;

use rmp::Marker;

use crate::protocol::diagnostics::PathStep;
use crate::protocol::value::{CodecError, Number, Type, Value};

use super::marker::{describe, ext_payload_len, is_text, ExtLen};

/// Deeper than any real schema; stops hostile input (dynamic values nest
/// without bound) from exhausting the stack.
const MAX_DEPTH: usize = 256;

/// Decodes msgpack `bytes` as a value of type `ty`.
///
/// Empty input is null: Terraform sends an empty `DynamicValue` where there is
/// no state. Any extension value is unknown, whatever its code or payload
/// (code 0 is a plain unknown, code 12 carries refinements, which we drop).
/// An object attribute missing from the input is null; one the type does not
/// have is an error. Bytes left over after the value are an error.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut decoder = Decoder {
        input: bytes,
        pos: 0,
        path: Vec::new(),
        depth: 0,
    };
    let value = decoder.value(ty)?;
    if decoder.pos != bytes.len() {
        let extra = bytes.len() - decoder.pos;
        return Err(decoder.error(format!("unexpected data after the value ({extra} bytes)")));
    }
    Ok(value)
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    path: Vec<PathStep>,
    /// Nesting depth; more than the path length, as dynamic values nest too.
    depth: usize,
}

impl<'a> Decoder<'a> {
    fn value(&mut self, ty: &Type) -> Result<Value, CodecError> {
        if self.depth > MAX_DEPTH {
            return Err(self.error("value nested too deeply"));
        }
        let marker = self.peek()?;
        if let Some(len) = ext_payload_len(marker) {
            self.pos += 1;
            let len = self.ext_len(len)?;
            self.take(len.saturating_add(1))?; // the extension type byte, then its payload
            return Ok(Value::Unknown);
        }
        if marker == Marker::Null {
            self.pos += 1;
            return Ok(Value::Null);
        }
        match ty {
            Type::Dynamic => {
                let len = self.array_len()?;
                if len != 2 {
                    return Err(self.error(format!(
                        "a dynamic value is a [type, value] pair, found {len} elements"
                    )));
                }
                let type_json = self.text("the type of a dynamic value")?;
                let actual = Type::from_json_bytes(type_json.as_bytes())
                    .map_err(|e| self.error(e.message()))?;
                // The pair adds no step to the attribute path, but it does nest.
                self.depth += 1;
                let value = self.value(&actual);
                self.depth -= 1;
                value
            }
            Type::Bool => match self.next()? {
                Marker::True => Ok(Value::Bool(true)),
                Marker::False => Ok(Value::Bool(false)),
                other => Err(self.expected("bool", other)),
            },
            Type::Number => self.number().map(Value::Number),
            Type::String => self.text("string").map(|s| Value::String(s.to_owned())),
            Type::List(element) => self.elements(element).map(Value::List),
            Type::Set(element) => self.elements(element).map(Value::Set),
            Type::Tuple(elements) => {
                let len = self.array_len()?;
                if len != elements.len() {
                    return Err(self.error(format!(
                        "expected a tuple of {} elements, found {len}",
                        elements.len()
                    )));
                }
                let mut items = Vec::with_capacity(len);
                for (i, element) in elements.iter().enumerate() {
                    items.push(self.nested(PathStep::Index(i as i64), |d| d.value(element))?);
                }
                Ok(Value::Tuple(items))
            }
            Type::Map(element) => {
                let len = self.map_len()?;
                let mut entries = BTreeMap::new();
                for _ in 0..len {
                    let key = self.text("string map key")?.to_owned();
                    let item = self.nested(PathStep::Key(key.clone()), |d| d.value(element))?;
                    if entries.insert(key.clone(), item).is_some() {
                        return Err(self.error(format!("duplicate map key {key:?}")));
                    }
                }
                Ok(Value::Map(entries))
            }
            Type::Object(types) => {
                let len = self.map_len()?;
                let mut attributes = BTreeMap::new();
                for _ in 0..len {
                    let name = self.text("attribute name")?.to_owned();
                    let Some(attribute_type) = types.get(&name) else {
                        return Err(self.error(format!("unexpected attribute {name:?}")));
                    };
                    let item = self.nested(PathStep::Attribute(name.clone()), |d| {
                        d.value(attribute_type)
                    })?;
                    if attributes.insert(name.clone(), item).is_some() {
                        return Err(self.error(format!("duplicate attribute {name:?}")));
                    }
                }
                for name in types.keys() {
                    attributes.entry(name.clone()).or_insert(Value::Null);
                }
                Ok(Value::Object(attributes))
            }
        }
    }

    fn elements(&mut self, element: &Type) -> Result<Vec<Value>, CodecError> {
        let len = self.array_len()?;
        // Capacity from the input is capped by what the input could hold.
        let mut items = Vec::with_capacity(len.min(self.input.len() - self.pos));
        for i in 0..len {
            items.push(self.nested(PathStep::Index(i as i64), |d| d.value(element))?);
        }
        Ok(items)
    }

    fn number(&mut self) -> Result<Number, CodecError> {
        let marker = self.next()?;
        let number = match marker {
            Marker::FixPos(n) => Number::from(i64::from(n)),
            Marker::FixNeg(n) => Number::from(i64::from(n)),
            Marker::U8 => Number::from(i64::from(self.fixed::<1>()?[0])),
            Marker::U16 => Number::from(i64::from(u16::from_be_bytes(self.fixed()?))),
            Marker::U32 => Number::from(i64::from(u32::from_be_bytes(self.fixed()?))),
            Marker::U64 => Number::from_u64(u64::from_be_bytes(self.fixed()?)),
            Marker::I8 => Number::from(i64::from(i8::from_be_bytes(self.fixed()?))),
            Marker::I16 => Number::from(i64::from(i16::from_be_bytes(self.fixed()?))),
            Marker::I32 => Number::from(i64::from(i32::from_be_bytes(self.fixed()?))),
            Marker::I64 => Number::from(i64::from_be_bytes(self.fixed()?)),
            Marker::F32 | Marker::F64 => {
                let float = match marker {
                    Marker::F32 => f64::from(f32::from_be_bytes(self.fixed()?)),
                    _ => f64::from_be_bytes(self.fixed()?),
                };
                Number::from_f64(float)
                    .ok_or_else(|| self.error(format!("number {float} is not finite")))?
            }
            _ if is_text(marker) => {
                // cty writes numbers that neither int nor float holds exactly as decimal text.
                self.pos -= 1;
                let text = self.text("number")?;
                Number::parse(text).ok_or_else(|| self.error(format!("invalid number {text:?}")))?
            }
            other => return Err(self.expected("number", other)),
        };
        Ok(number)
    }

    /// A msgpack str, or bin holding UTF-8: cty's msgpack library reads both
    /// as strings, and writes the type of a dynamic value as bin.
    fn text(&mut self, what: &str) -> Result<&'a str, CodecError> {
        let len = match self.next()? {
            Marker::FixStr(n) => usize::from(n),
            Marker::Str8 | Marker::Bin8 => usize::from(self.fixed::<1>()?[0]),
            Marker::Str16 | Marker::Bin16 => usize::from(u16::from_be_bytes(self.fixed()?)),
            Marker::Str32 | Marker::Bin32 => {
                let len = u32::from_be_bytes(self.fixed()?);
                self.usize(len)?
            }
            other => return Err(self.expected(what, other)),
        };
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map_err(|_| self.error(format!("{what} is not valid UTF-8")))
    }

    fn array_len(&mut self) -> Result<usize, CodecError> {
        match self.next()? {
            Marker::FixArray(n) => Ok(usize::from(n)),
            Marker::Array16 => Ok(usize::from(u16::from_be_bytes(self.fixed()?))),
            Marker::Array32 => {
                let len = u32::from_be_bytes(self.fixed()?);
                self.usize(len)
            }
            other => Err(self.expected("array", other)),
        }
    }

    fn map_len(&mut self) -> Result<usize, CodecError> {
        match self.next()? {
            Marker::FixMap(n) => Ok(usize::from(n)),
            Marker::Map16 => Ok(usize::from(u16::from_be_bytes(self.fixed()?))),
            Marker::Map32 => {
                let len = u32::from_be_bytes(self.fixed()?);
                self.usize(len)
            }
            other => Err(self.expected("map", other)),
        }
    }

    /// The length that follows an extension marker: fixed for fixext,
    /// read from the input for ext 8/16/32.
    fn ext_len(&mut self, len: ExtLen) -> Result<usize, CodecError> {
        let len = match len {
            ExtLen::Fixed(n) => return Ok(n),
            ExtLen::Prefixed(1) => u32::from(self.fixed::<1>()?[0]),
            ExtLen::Prefixed(2) => u32::from(u16::from_be_bytes(self.fixed()?)),
            ExtLen::Prefixed(_) => u32::from_be_bytes(self.fixed()?),
        };
        self.usize(len)
    }

    fn usize(&self, len: u32) -> Result<usize, CodecError> {
        usize::try_from(len).map_err(|_| self.error("length does not fit in memory"))
    }

    fn nested(
        &mut self,
        step: PathStep,
        f: impl FnOnce(&mut Self) -> Result<Value, CodecError>,
    ) -> Result<Value, CodecError> {
        self.path.push(step);
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        self.path.pop();
        result
    }

    fn peek(&self) -> Result<Marker, CodecError> {
        match self.input.get(self.pos) {
            Some(byte) => Ok(Marker::from_u8(*byte)),
            None => Err(self.error("unexpected end of input")),
        }
    }

    fn next(&mut self) -> Result<Marker, CodecError> {
        let marker = self.peek()?;
        self.pos += 1;
        Ok(marker)
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], CodecError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|end| *end <= self.input.len());
        let Some(end) = end else {
            return Err(self.error("unexpected end of input"));
        };
        let bytes = &self.input[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let bytes = self.take(N)?;
        bytes
            .try_into()
            .map_err(|_| self.error("unexpected end of input"))
    }

    fn expected(&self, what: &str, found: Marker) -> CodecError {
        self.error(format!("expected {what}, found {}", describe(found)))
    }

    fn error(&self, message: impl Into<String>) -> CodecError {
        CodecError::at(&self.path, message)
    }
}

#[cfg(test)]
mod tests;
