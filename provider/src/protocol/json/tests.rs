use super::*;

fn num(text: &str) -> Value {
    Value::Number(Number::parse(text).expect("valid number"))
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

fn decode_str(json: &str, ty: &Type) -> Result<Value, CodecError> {
    decode(json.as_bytes(), ty)
}

#[test]
fn known_values_round_trip() -> Result<(), CodecError> {
    let object_type = Type::object([
        ("a", Type::String),
        ("b", Type::set(Type::Number)),
        ("c", Type::map(Type::Bool)),
    ]);
    let cases = [
        (
            Type::String,
            Value::from("quote \" backslash \\ newline \n ünï ✓"),
        ),
        (Type::Number, Value::from(i64::MIN)),
        (Type::Number, Value::Number(Number::from_u64(u64::MAX))),
        (
            Type::Number,
            Value::Number(Number::from_f64(-2.5).expect("finite")),
        ),
        (Type::Bool, Value::from(false)),
        (
            Type::list(Type::String),
            Value::List(vec![Value::from("a"), Value::Null]),
        ),
        (Type::set(Type::Number), Value::Set(vec![])),
        (
            Type::map(Type::String),
            map(&[("Name", Value::from("web")), ("x", Value::Null)]),
        ),
        (
            object_type.clone(),
            Value::object([
                ("a", Value::from("x")),
                ("b", Value::Set(vec![Value::from(1)])),
                ("c", map(&[])),
            ]),
        ),
        (
            Type::list(object_type),
            Value::List(vec![Value::object([
                ("a", Value::Null),
                ("b", Value::Null),
                ("c", Value::Null),
            ])]),
        ),
        (
            Type::Tuple(vec![Type::String, Type::Bool]),
            Value::Tuple(vec![Value::from("s"), Value::from(true)]),
        ),
        (
            Type::Dynamic,
            Value::List(vec![Value::from(1), Value::from(2)]),
        ),
        (Type::Dynamic, Value::Null),
        (Type::String, Value::Null),
    ];
    for (ty, value) in cases {
        let bytes = encode(&value, &ty)?;
        assert_eq!(
            decode(&bytes, &ty)?,
            value,
            "{ty} via {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    Ok(())
}

#[test]
fn encodes_terraform_json() -> Result<(), CodecError> {
    let ab = Type::object([("a", Type::String), ("b", Type::Number)]);
    let cases = [
        (
            ab.clone(),
            Value::object([("a", Value::from("x"))]),
            r#"{"a":"x","b":null}"#,
        ),
        (ab, Value::Null, "null"),
        (
            Type::Dynamic,
            Value::from("hi"),
            r#"{"value":"hi","type":"string"}"#,
        ),
        (
            Type::Number,
            num("123456789012345678901234567890.5"),
            "123456789012345678901234567890.5",
        ),
        (Type::Number, num("1e400"), "1e400"),
        (Type::String, Value::from("a\"b"), r#""a\"b""#),
        (
            Type::map(Type::Bool),
            map(&[("k", Value::from(true))]),
            r#"{"k":true}"#,
        ),
    ];
    for (ty, value, want) in cases {
        assert_eq!(
            String::from_utf8_lossy(&encode(&value, &ty)?),
            want,
            "{ty} {value:?}"
        );
    }
    Ok(())
}

#[test]
fn decodes_old_state_with_removed_and_added_attributes() -> Result<(), CodecError> {
    // State saved by a version that had `legacy` (since removed) and lacked
    // `encrypted` (since added); `copies` is a list block.
    let state = r#"{
        "id": "ami-0abc",
        "legacy": {"anything": [1, 2]},
        "copies": [{"account_id": "222222222222", "image_id": "ami-0def", "old_field": true}],
        "tags": {"Name": "web"},
        "timeouts": null
    }"#;
    let copy = Type::object([
        ("account_id", Type::String),
        ("image_id", Type::String),
        ("kms_key_id", Type::String),
    ]);
    let ty = Type::object([
        ("id", Type::String),
        ("encrypted", Type::Bool),
        ("copies", Type::list(copy)),
        ("tags", Type::map(Type::String)),
        ("timeouts", Type::object([("create", Type::String)])),
    ]);
    let want = Value::object([
        ("id", Value::from("ami-0abc")),
        ("encrypted", Value::Null),
        (
            "copies",
            Value::List(vec![Value::object([
                ("account_id", Value::from("222222222222")),
                ("image_id", Value::from("ami-0def")),
                ("kms_key_id", Value::Null),
            ])]),
        ),
        ("tags", map(&[("Name", Value::from("web"))])),
        ("timeouts", Value::Null),
    ]);
    assert_eq!(decode_str(state, &ty)?, want);
    Ok(())
}

#[test]
fn decodes_primitives_the_way_terraform_converts_them() -> Result<(), CodecError> {
    let cases = [
        ("\"5\"", Type::Number, Value::from(5)),
        ("\"0.1\"", Type::Number, num("0.1")),
        (
            "1.5",
            Type::Number,
            Value::Number(Number::from_f64(1.5).expect("finite")),
        ),
        ("3.0", Type::Number, Value::from(3)),
        (
            "18446744073709551615",
            Type::Number,
            Value::Number(Number::from_u64(u64::MAX)),
        ),
        ("true", Type::String, Value::from("true")),
        ("12", Type::String, Value::from("12")),
        ("\"false\"", Type::Bool, Value::from(false)),
        (
            r#"{"type":"number","value":7}"#,
            Type::Dynamic,
            Value::from(7),
        ),
        (
            r#"{"value":["a"],"type":["list","string"]}"#,
            Type::Dynamic,
            Value::List(vec![Value::from("a")]),
        ),
        ("", Type::String, Value::Null),
        ("null", Type::object([("a", Type::String)]), Value::Null),
    ];
    for (json, ty, want) in cases {
        assert_eq!(decode_str(json, &ty)?, want, "{json} as {ty}");
    }
    Ok(())
}

#[test]
fn decode_errors_name_the_path() {
    let ty = Type::object([(
        "copies",
        Type::list(Type::object([("image_id", Type::String)])),
    )]);
    let cases = [
        (
            r#"{"copies":[{"image_id":["x"]}]}"#,
            ty.clone(),
            "at copies[0].image_id: expected string, found array",
        ),
        (
            r#"{"copies":{"image_id":"x"}}"#,
            ty.clone(),
            "at copies: expected list(object({image_id=string})), found object",
        ),
        (
            r#"{"copies":"#,
            ty,
            "at the root value: invalid JSON: EOF while parsing a value at line 1 column 10",
        ),
        (
            r#"{"n":"five"}"#,
            Type::map(Type::Number),
            "at [\"n\"]: invalid number \"five\"",
        ),
        (
            r#""yes""#,
            Type::Bool,
            "at the root value: expected bool, found string",
        ),
        (
            "[1,2]",
            Type::Tuple(vec![Type::Number]),
            "at the root value: expected a tuple of 1 elements, found 2",
        ),
        (
            r#"{"value":1}"#,
            Type::Dynamic,
            "at the root value: a dynamic value needs both \"type\" and \"value\"",
        ),
        (
            r#"{"type":"number","value":1,"x":0}"#,
            Type::Dynamic,
            "at the root value: unexpected key \"x\" in a dynamic value",
        ),
        (
            r#"{"type":"num","value":1}"#,
            Type::Dynamic,
            "at the root value: invalid type constraint \"num\"",
        ),
    ];
    for (json, ty, want) in cases {
        match decode_str(json, &ty) {
            Ok(value) => panic!("{json} as {ty} should fail, decoded {value:?}"),
            Err(err) => assert_eq!(err.to_string(), want),
        }
    }
}

#[test]
fn encode_refuses_unknowns_and_mismatches() {
    let ty = Type::object([("ids", Type::list(Type::String))]);
    let cases = [
        (
            Value::object([("ids", Value::List(vec![Value::from("a"), Value::Unknown]))]),
            "at ids[1]: unknown values cannot be encoded as JSON",
        ),
        (
            Value::Unknown,
            "at the root value: unknown values cannot be encoded as JSON",
        ),
        (
            Value::object([("ids", Value::from(true))]),
            "at ids: cannot encode a bool as list(string)",
        ),
        (
            Value::object([("gone", Value::Null)]),
            "at the root value: unexpected attribute \"gone\"",
        ),
    ];
    for (value, want) in cases {
        match encode(&value, &ty) {
            Ok(bytes) => panic!(
                "{value:?} should not encode, got {}",
                String::from_utf8_lossy(&bytes)
            ),
            Err(err) => assert_eq!(err.to_string(), want),
        }
    }
}
