use super::*;

fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}

fn set(items: Vec<Value>) -> Value {
    Value::Set(items)
}

#[test]
fn wholly_known_looks_at_every_depth() {
    let cases = [
        (Value::Null, true),
        (Value::Unknown, false),
        (Value::from("x"), true),
        (list(vec![Value::from(1), Value::Null]), true),
        (list(vec![Value::from(1), Value::Unknown]), false),
        (set(vec![Value::Unknown]), false),
        (Value::Tuple(vec![Value::from(true), Value::Unknown]), false),
        (
            Value::Map(BTreeMap::from([("k".to_owned(), Value::Unknown)])),
            false,
        ),
        (
            Value::object([("a", Value::object([("b", list(vec![Value::Unknown]))]))]),
            false,
        ),
        (
            Value::object([("a", Value::object([("b", list(vec![Value::from("ok")]))]))]),
            true,
        ),
    ];
    for (value, want) in cases {
        assert_eq!(value.is_wholly_known(), want, "{value:?}");
    }
}

#[test]
fn accessors_return_only_their_own_kind() {
    let object = Value::object([
        ("name", Value::from("web")),
        ("count", Value::from(3)),
        ("on", Value::from(true)),
    ]);
    assert_eq!(object.get_attr("name").and_then(Value::as_str), Some("web"));
    assert_eq!(object.get_attr("count").and_then(Value::as_i64), Some(3));
    assert_eq!(object.get_attr("on").and_then(Value::as_bool), Some(true));
    assert_eq!(object.get_attr("missing"), None);
    assert_eq!(object.as_object().map(BTreeMap::len), Some(3));
    assert_eq!(Value::from("web").get_attr("name"), None);
    assert_eq!(Value::from(3).as_str(), None);
    assert_eq!(Value::from("3").as_i64(), None);
    assert_eq!(Value::Unknown.as_bool(), None);
    assert_eq!(Value::Map(BTreeMap::new()).as_object(), None);
    assert_eq!(
        set(vec![Value::Null]).as_elements().map(<[Value]>::len),
        Some(1)
    );
    assert!(Value::Null.is_null() && !Value::Null.is_unknown());
    assert!(Value::Unknown.is_unknown() && !Value::Unknown.is_null());
    assert_eq!(Value::default(), Value::Null);
}

#[test]
fn conversions_build_the_expected_variants() {
    assert_eq!(Value::from("a"), Value::String("a".to_owned()));
    assert_eq!(
        Value::from(String::from("a")),
        Value::String("a".to_owned())
    );
    assert_eq!(Value::from(false), Value::Bool(false));
    assert_eq!(Value::from(-7), Value::Number(Number::from(-7)));
    assert_eq!(Value::from(None::<&str>), Value::Null);
    assert_eq!(Value::from(Some("a")), Value::from("a"));
}

#[test]
fn equivalent_ignores_set_order_at_any_depth() {
    let a = Value::object([(
        "s",
        set(vec![
            Value::from("x"),
            set(vec![Value::from(1), Value::from(2)]),
        ]),
    )]);
    let b = Value::object([(
        "s",
        set(vec![
            set(vec![Value::from(2), Value::from(1)]),
            Value::from("x"),
        ]),
    )]);
    assert!(a.equivalent(&b));
    assert_ne!(a, b, "derived equality stays order-sensitive");

    let cases = [
        // Lists keep their order.
        (
            list(vec![Value::from(1), Value::from(2)]),
            list(vec![Value::from(2), Value::from(1)]),
            false,
        ),
        // Duplicates count.
        (
            set(vec![Value::from(1), Value::from(1)]),
            set(vec![Value::from(1), Value::from(2)]),
            false,
        ),
        (set(vec![]), set(vec![]), true),
        (set(vec![Value::from(1)]), set(vec![]), false),
        (Value::Null, Value::Unknown, false),
        (
            Value::object([("a", Value::Null)]),
            Value::object([("b", Value::Null)]),
            false,
        ),
        (
            Value::Map(BTreeMap::new()),
            Value::Object(BTreeMap::new()),
            false,
        ),
    ];
    for (x, y, want) in cases {
        assert_eq!(x.equivalent(&y), want, "{x:?} vs {y:?}");
    }
}

#[test]
fn infer_type_describes_the_value() {
    let cases = [
        (Value::Null, Type::Dynamic),
        (Value::from("s"), Type::String),
        (
            list(vec![Value::Null, Value::from(1)]),
            Type::list(Type::Number),
        ),
        (list(vec![]), Type::list(Type::Dynamic)),
        (set(vec![Value::from(true)]), Type::set(Type::Bool)),
        (
            Value::Map(BTreeMap::from([("k".to_owned(), Value::from("v"))])),
            Type::map(Type::String),
        ),
        (
            Value::object([("a", Value::from(1)), ("b", Value::Unknown)]),
            Type::object([("a", Type::Number), ("b", Type::Dynamic)]),
        ),
        (
            Value::Tuple(vec![Value::from("s"), Value::from(1)]),
            Type::Tuple(vec![Type::String, Type::Number]),
        ),
    ];
    for (value, want) in cases {
        assert_eq!(value.infer_type(), want, "{value:?}");
    }
}

#[test]
fn object_of_nulls_has_every_attribute() {
    let ty = Type::object([("a", Type::String), ("b", Type::list(Type::Number))]);
    assert_eq!(
        Value::object_of_nulls(&ty),
        Value::object([("a", Value::Null), ("b", Value::Null)])
    );
    assert_eq!(Value::object_of_nulls(&Type::String), Value::Null);
}
