use std::collections::BTreeMap;

use super::*;
use crate::protocol::msgpack::tests::{cat, float, num, s};

#[test]
fn decodes_every_form_terraform_may_send() -> Result<(), CodecError> {
    let refined_prefix = cat(&[&[0xc7, 7, 12, 0x81, 0x02], &s("ami-")]);
    let cases: Vec<(Type, Vec<u8>, Value)> = vec![
        (Type::String, vec![], Value::Null),
        (Type::object([("a", Type::String)]), vec![], Value::Null),
        (Type::String, vec![0xc0], Value::Null),
        // cty's fixext1 unknown, a zero-length ext 8, and any other payload.
        (Type::String, vec![0xd4, 0x00, 0x00], Value::Unknown),
        (Type::String, vec![0xc7, 0x00, 0x00], Value::Unknown),
        (Type::Number, vec![0xd6, 0x00, 1, 2, 3, 4], Value::Unknown),
        // Refined unknowns (extension 12): refinements are dropped.
        (Type::String, refined_prefix.clone(), Value::Unknown),
        (Type::Bool, vec![0xd5, 12, 0x81, 0x01], Value::Unknown),
        (
            Type::list(Type::String),
            vec![0xc7, 3, 12, 0x81, 0x05, 0x01],
            Value::Unknown,
        ),
        (
            Type::list(Type::String),
            cat(&[&[0x92], &refined_prefix, &s("x")]),
            Value::List(vec![Value::Unknown, Value::from("x")]),
        ),
        (Type::Number, vec![0xd0, 0xff], Value::from(-1)),
        (
            Type::Number,
            vec![0xcf, 0, 0, 0, 0, 0, 0, 0, 7],
            Value::from(7),
        ),
        (Type::Number, vec![0xca, 0x3f, 0xc0, 0, 0], float(1.5)),
        (
            Type::Number,
            vec![0xcb, 0x40, 0x08, 0, 0, 0, 0, 0, 0],
            Value::from(3),
        ),
        (
            Type::Number,
            s("123456789012345678901234567890"),
            num("123456789012345678901234567890"),
        ),
        (Type::Number, s("42"), Value::from(42)),
        // Strings may arrive as bin, as the type of a dynamic value does.
        (Type::String, vec![0xc4, 2, b'o', b'k'], Value::from("ok")),
        (
            Type::Dynamic,
            cat(&[&[0x92], &s("\"bool\""), &[0xc3]]),
            Value::from(true),
        ),
        (Type::Dynamic, vec![0xd4, 0, 0], Value::Unknown),
        // Absent attributes are null.
        (
            Type::object([("a", Type::String), ("b", Type::Bool)]),
            cat(&[&[0x81], &s("b"), &[0xc3]]),
            Value::object([("a", Value::Null), ("b", Value::from(true))]),
        ),
        (
            Type::object([("a", Type::String)]),
            vec![0x80],
            Value::object([("a", Value::Null)]),
        ),
    ];
    for (ty, bytes, want) in cases {
        assert_eq!(decode(&bytes, &ty)?, want, "{ty} from {bytes:02x?}");
    }
    Ok(())
}

#[test]
fn decodes_a_provider_configuration() -> Result<(), CodecError> {
    let assume_role = Type::object([
        ("role_arn", Type::String),
        ("session_name", Type::String),
        ("duration_seconds", Type::Number),
    ]);
    let ty = Type::object([
        ("region", Type::String),
        ("profile", Type::String),
        ("skip_checks", Type::Bool),
        ("assume_role", Type::list(assume_role)),
        (
            "endpoints",
            Type::object([("ec2", Type::String), ("sts", Type::String)]),
        ),
        ("tags", Type::map(Type::String)),
    ]);
    let bytes = cat(&[
        &[0x85],
        &s("region"),
        &s("eu-west-1"),
        &s("assume_role"),
        &[0x91, 0x83],
        &s("role_arn"),
        &s("arn:aws:iam::2222:role/copier"),
        &s("session_name"),
        &[0xd4, 0, 0],
        &s("duration_seconds"),
        &[0xcd, 0x0e, 0x10],
        &s("endpoints"),
        &[0x81],
        &s("ec2"),
        &s("http://127.0.0.1:4566"),
        &s("skip_checks"),
        &[0xc3],
        &s("tags"),
        &[0x80],
    ]);
    let want = Value::object([
        ("region", Value::from("eu-west-1")),
        ("profile", Value::Null),
        ("skip_checks", Value::from(true)),
        (
            "assume_role",
            Value::List(vec![Value::object([
                ("role_arn", Value::from("arn:aws:iam::2222:role/copier")),
                ("session_name", Value::Unknown),
                ("duration_seconds", Value::from(3600)),
            ])]),
        ),
        (
            "endpoints",
            Value::object([
                ("ec2", Value::from("http://127.0.0.1:4566")),
                ("sts", Value::Null),
            ]),
        ),
        ("tags", Value::Map(BTreeMap::new())),
    ]);
    let value = decode(&bytes, &ty)?;
    assert_eq!(value, want);
    assert!(!value.is_wholly_known());
    let role = value
        .get_attr("assume_role")
        .and_then(Value::as_elements)
        .and_then(|roles| roles.first());
    assert_eq!(
        role.and_then(|r| r.get_attr("role_arn"))
            .and_then(Value::as_str),
        Some("arn:aws:iam::2222:role/copier")
    );
    Ok(())
}

#[test]
fn decode_errors_name_the_path() {
    let roles = Type::object([(
        "assume_role",
        Type::list(Type::object([("role_arn", Type::String)])),
    )]);
    let nested = Type::object([("a", Type::object([("b", Type::String)]))]);
    let mut too_deep = Vec::new();
    for _ in 0..300 {
        too_deep.extend(cat(&[&[0x92], &s("\"dynamic\"")]));
    }
    too_deep.push(0xc0);
    let cases: Vec<(Type, Vec<u8>, &str)> = vec![
        (
            roles.clone(),
            cat(&[
                &[0x81],
                &s("assume_role"),
                &[0x91, 0x81],
                &s("role_arn"),
                &[0x07],
            ]),
            "at assume_role[0].role_arn: expected string, found integer",
        ),
        (
            roles,
            cat(&[&[0x81], &s("assume_role"), &s("x")]),
            "at assume_role: expected array, found string",
        ),
        (
            nested.clone(),
            cat(&[&[0x81], &s("a"), &[0x81], &s("c"), &[0xc0]]),
            "at a: unexpected attribute \"c\"",
        ),
        (
            nested,
            cat(&[&[0x82], &s("a"), &[0xc0], &s("a"), &[0xc0]]),
            "at the root value: duplicate attribute \"a\"",
        ),
        (
            Type::map(Type::Number),
            cat(&[&[0x81], &s("k"), &s("x")]),
            "at [\"k\"]: invalid number \"x\"",
        ),
        (
            Type::map(Type::Number),
            cat(&[&[0x81], &[0x01], &[0x01]]),
            "at the root value: expected string map key, found integer",
        ),
        (
            Type::list(Type::Bool),
            vec![0x92, 0xc3, 0xa1, b'x'],
            "at [1]: expected bool, found string",
        ),
        (
            Type::Tuple(vec![Type::Bool]),
            vec![0x92, 0xc3, 0xc3],
            "at the root value: expected a tuple of 1 elements, found 2",
        ),
        (
            Type::String,
            vec![0xa5, b'a'],
            "at the root value: unexpected end of input",
        ),
        (
            Type::String,
            vec![0xa1, 0xff],
            "at the root value: string is not valid UTF-8",
        ),
        (
            Type::String,
            vec![0xc0, 0xc0],
            "at the root value: unexpected data after the value (1 bytes)",
        ),
        (
            Type::String,
            vec![0xc1],
            "at the root value: expected string, found reserved byte 0xc1",
        ),
        (
            Type::Number,
            vec![0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0],
            "at the root value: number NaN is not finite",
        ),
        (
            Type::Dynamic,
            cat(&[&[0x92], &s("\"text\""), &[0xc0]]),
            "at the root value: invalid type constraint \"text\"",
        ),
        (
            Type::Dynamic,
            vec![0x91, 0xc0],
            "at the root value: a dynamic value is a [type, value] pair, found 1 elements",
        ),
        (
            Type::Dynamic,
            too_deep,
            "at the root value: value nested too deeply",
        ),
    ];
    for (ty, bytes, want) in cases {
        match decode(&bytes, &ty) {
            Ok(value) => panic!("{bytes:02x?} as {ty} should fail, decoded {value:?}"),
            Err(err) => assert_eq!(err.to_string(), want),
        }
    }
}
