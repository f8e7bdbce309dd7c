use super::*;
use crate::protocol::value::Number;

/// A msgpack fixstr, so expected bytes can be written by hand.
pub(super) fn s(text: &str) -> Vec<u8> {
    assert!(text.len() < 32, "fixstr holds at most 31 bytes");
    let mut out = vec![0xa0 | text.len() as u8];
    out.extend_from_slice(text.as_bytes());
    out
}

pub(super) fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

pub(super) fn num(text: &str) -> Value {
    Value::Number(Number::parse(text).expect("valid number"))
}

pub(super) fn float(value: f64) -> Value {
    Value::Number(Number::from_f64(value).expect("finite"))
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

#[test]
fn every_type_round_trips() -> Result<(), CodecError> {
    let object_type = Type::object([
        ("a", Type::String),
        ("b", Type::list(Type::Number)),
        ("c", Type::Bool),
    ]);
    let cases = [
        (Type::String, Value::from("ami-0123")),
        (Type::String, Value::from("")),
        (Type::String, Value::from("ünïcödé ✓")),
        (Type::Number, Value::from(0)),
        (Type::Number, Value::from(-1)),
        (Type::Number, Value::from(i64::MIN)),
        (Type::Number, Value::from(i64::MAX)),
        (Type::Number, Value::Number(Number::from_u64(u64::MAX))),
        (Type::Number, float(2.5)),
        (Type::Number, num("0.1")),
        (Type::Number, num("123456789012345678901234567890.125")),
        (Type::Bool, Value::from(true)),
        (Type::Bool, Value::from(false)),
        (Type::list(Type::String), Value::List(vec![])),
        (
            Type::list(Type::String),
            Value::List(vec![Value::from("a"), Value::Null, Value::Unknown]),
        ),
        (
            Type::set(Type::Number),
            Value::Set(vec![Value::from(1), Value::Unknown, Value::Null]),
        ),
        (Type::map(Type::String), map(&[])),
        (
            Type::map(Type::String),
            map(&[
                ("Name", Value::from("web")),
                ("env", Value::Null),
                ("x", Value::Unknown),
            ]),
        ),
        (
            object_type.clone(),
            Value::object([
                ("a", Value::from("x")),
                ("b", Value::List(vec![Value::Unknown])),
                ("c", Value::Null),
            ]),
        ),
        (
            object_type.clone(),
            Value::object([
                ("a", Value::Unknown),
                ("b", Value::Unknown),
                ("c", Value::Unknown),
            ]),
        ),
        (
            Type::list(object_type.clone()),
            Value::List(vec![Value::object([
                ("a", Value::Null),
                ("b", Value::Null),
                ("c", Value::from(true)),
            ])]),
        ),
        (
            Type::Tuple(vec![Type::String, Type::Number]),
            Value::Tuple(vec![Value::from("a"), Value::Unknown]),
        ),
        (Type::Tuple(vec![]), Value::Tuple(vec![])),
        (Type::Dynamic, Value::from("hi")),
        (
            Type::Dynamic,
            Value::List(vec![Value::from(1), Value::from(2)]),
        ),
        (
            Type::Dynamic,
            Value::object([("k", map(&[("x", Value::from(true))]))]),
        ),
        (
            Type::map(Type::Dynamic),
            map(&[
                ("a", Value::from(1)),
                ("b", Value::from("s")),
                ("c", Value::Null),
            ]),
        ),
    ];
    for (ty, value) in cases {
        let bytes = encode(&value, &ty)?;
        assert_eq!(
            decode(&bytes, &ty)?,
            value,
            "{ty} {value:?} as {bytes:02x?}"
        );
    }
    // Null and unknown round-trip under every type.
    for ty in [
        Type::String,
        Type::Dynamic,
        Type::set(Type::Bool),
        object_type,
        Type::Tuple(vec![Type::Number]),
    ] {
        for value in [Value::Null, Value::Unknown] {
            assert_eq!(decode(&encode(&value, &ty)?, &ty)?, value, "{ty} {value:?}");
        }
    }
    Ok(())
}

#[test]
fn encodes_the_bytes_terraform_uses() -> Result<(), CodecError> {
    let ab = Type::object([("a", Type::String), ("b", Type::Number)]);
    let cases: Vec<(Type, Value, Vec<u8>)> = vec![
        (Type::String, Value::Null, vec![0xc0]),
        (ab.clone(), Value::Null, vec![0xc0]),
        (Type::String, Value::Unknown, vec![0xd4, 0x00, 0x00]),
        (ab.clone(), Value::Unknown, vec![0xd4, 0x00, 0x00]),
        (Type::String, Value::from("hi"), cat(&[&s("hi")])),
        (Type::Bool, Value::from(true), vec![0xc3]),
        (Type::Number, Value::from(1), vec![0x01]),
        (Type::Number, Value::from(-1), vec![0xff]),
        (Type::Number, Value::from(300), vec![0xcd, 0x01, 0x2c]),
        (
            Type::Number,
            float(2.5),
            vec![0xcb, 0x40, 0x04, 0, 0, 0, 0, 0, 0],
        ),
        // Numbers neither i64 nor f64 hold exactly travel as decimal text.
        (Type::Number, num("0.1"), s("0.1")),
        (
            Type::Number,
            Value::Number(Number::from_u64(u64::MAX)),
            s("18446744073709551615"),
        ),
        // Every attribute of the type is written; a missing one is nil.
        (
            ab.clone(),
            Value::object([("a", Value::from("x"))]),
            cat(&[&[0x82], &s("a"), &s("x"), &s("b"), &[0xc0]]),
        ),
        (
            Type::list(Type::String),
            Value::List(vec![Value::Unknown, Value::Null]),
            vec![0x92, 0xd4, 0, 0, 0xc0],
        ),
        (
            Type::map(Type::Bool),
            map(&[("k", Value::from(false))]),
            cat(&[&[0x81], &s("k"), &[0xc2]]),
        ),
        // A dynamic value is [type JSON as bin, value].
        (
            Type::Dynamic,
            Value::from("hi"),
            cat(&[&[0x92, 0xc4, 8], b"\"string\"", &s("hi")]),
        ),
    ];
    for (ty, value, want) in cases {
        assert_eq!(encode(&value, &ty)?, want, "{ty} {value:?}");
    }
    Ok(())
}

#[test]
fn encode_errors_name_the_path() {
    let ty = Type::object([
        ("tags", Type::map(Type::String)),
        ("ids", Type::list(Type::String)),
    ]);
    let cases = [
        (Value::object([("tags", map(&[("Name", Value::from(1))]))]), "at tags[\"Name\"]: cannot encode a number as string"),
        (Value::object([("ids", Value::Set(vec![]))]), "at ids: cannot encode a set as list(string)"),
        (Value::object([("other", Value::Null)]), "at the root value: unexpected attribute \"other\""),
        (Value::from("x"), "at the root value: cannot encode a string as object({ids=list(string), tags=map(string)})"),
    ];
    for (value, want) in cases {
        match encode(&value, &ty) {
            Ok(bytes) => panic!("{value:?} should not encode, got {bytes:02x?}"),
            Err(err) => assert_eq!(err.to_string(), want),
        }
    }
    let tuple = encode(&Value::Tuple(vec![]), &Type::Tuple(vec![Type::String]));
    assert_eq!(
        tuple.map_err(|e| e.to_string()),
        Err("at the root value: tuple has 0 elements, its type 1".to_owned())
    );
}
