use super::*;

fn role_block() -> Block {
    Block::new("Role to assume.")
        .attribute(Attribute::required(
            "role_arn",
            Type::String,
            "ARN of the role.",
        ))
        .attribute(Attribute::optional(
            "session_name",
            Type::String,
            "Session name.",
        ))
}

#[test]
fn builders_set_the_flags() {
    let cases = [
        (
            Attribute::required("a", Type::String, "d"),
            (true, false, false),
        ),
        (
            Attribute::optional("a", Type::String, "d"),
            (false, true, false),
        ),
        (
            Attribute::computed("a", Type::String, "d"),
            (false, false, true),
        ),
        (
            Attribute::optional_computed("a", Type::String, "d"),
            (false, true, true),
        ),
    ];
    for (attribute, (required, optional, computed)) in cases {
        assert_eq!(
            (attribute.required, attribute.optional, attribute.computed),
            (required, optional, computed),
            "{attribute:?}"
        );
        assert!(!attribute.sensitive && !attribute.deprecated);
    }
    let secret = Attribute::optional("token", Type::String, "A token.")
        .sensitive()
        .deprecated();
    assert!(secret.sensitive && secret.deprecated);
    let limited = NestedBlock::list("target", role_block())
        .min_items(1)
        .max_items(10);
    assert_eq!(
        (limited.nesting, limited.min_items, limited.max_items),
        (Nesting::List, 1, 10)
    );
    assert!(Block::new("old").deprecated().deprecated);
}

#[test]
fn value_type_follows_each_nesting_mode() {
    let object = role_block().value_type();
    assert_eq!(
        object,
        Type::object([("role_arn", Type::String), ("session_name", Type::String)])
    );
    let cases = [
        (NestedBlock::single("b", role_block()), object.clone()),
        (NestedBlock::group("b", role_block()), object.clone()),
        (
            NestedBlock::list("b", role_block()),
            Type::list(object.clone()),
        ),
        (
            NestedBlock::set("b", role_block()),
            Type::set(object.clone()),
        ),
        (
            NestedBlock::map("b", role_block()),
            Type::map(object.clone()),
        ),
    ];
    for (nested, want) in cases {
        let nesting = nested.nesting;
        let block = Block::new("top")
            .attribute(Attribute::computed("id", Type::String, "ID."))
            .block(nested);
        assert_eq!(
            block.value_type(),
            Type::object([("id", Type::String), ("b", want.clone())]),
            "{nesting:?}"
        );
    }
}

#[test]
fn lookups_find_attributes_and_blocks() {
    let block = Block::new("top")
        .attribute(Attribute::required(
            "image_id",
            Type::String,
            "The AMI to share.",
        ))
        .block(NestedBlock::single("assume_role", role_block()));
    assert_eq!(
        block.get_attribute("image_id").map(|a| a.required),
        Some(true)
    );
    assert!(block.get_attribute("assume_role").is_none());
    let nested = block.get_block("assume_role").map(|b| &b.block);
    assert!(nested.and_then(|b| b.get_attribute("role_arn")).is_some());
    assert!(block.get_block("image_id").is_none());
}

#[test]
fn missing_descriptions_lists_every_undocumented_part() {
    let documented = Block::new("top").block(NestedBlock::list("assume_role", role_block()));
    assert_eq!(documented.missing_descriptions(), Vec::<String>::new());

    let undocumented = Block::new("")
        .attribute(Attribute::required("image_id", Type::String, " "))
        .attribute(Attribute::computed("id", Type::String, "ID."))
        .block(NestedBlock::single(
            "assume_role",
            Block::new("").attribute(Attribute::optional("role_arn", Type::String, "")),
        ));
    assert_eq!(
        undocumented.missing_descriptions(),
        ["", "image_id", "assume_role", "assume_role.role_arn"]
    );
}
