//! Conversions between protobuf messages and the protocol layer's own types.

use tfplugin_proto::tfplugin6 as pb;

use super::diagnostics::{AttrPath, Diagnostic, Diagnostics, PathStep, Severity};
use super::function::{Parameter, Signature};
use super::msgpack;
use super::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use super::value::{Type, Value};

/// Our schema as Terraform reads it. Descriptions are Markdown, like the
/// registry docs generated from them.
pub(super) fn schema_to_proto(schema: &Schema) -> pb::Schema {
    pb::Schema {
        version: schema.version,
        block: Some(block_to_proto(&schema.block)),
    }
}

/// An identity schema as Terraform reads it: the block's required
/// attributes are required for import, its optional ones optional.
pub(super) fn identity_schema_to_proto(schema: &Schema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: schema.version,
        identity_attributes: schema
            .block
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.clone(),
                r#type: a.ty.to_json().to_string().into_bytes(),
                required_for_import: a.required,
                optional_for_import: a.optional,
                description: a.description.clone(),
            })
            .collect(),
    }
}

/// An identity for Terraform; `None` for a null one (no object, or a type
/// without identity).
pub(super) fn identity_to_proto(
    identity: &Value,
    ty: &Type,
) -> Result<Option<pb::ResourceIdentityData>, Diagnostics> {
    if identity.is_null() {
        return Ok(None);
    }
    Ok(Some(pb::ResourceIdentityData {
        identity_data: Some(encode(identity, ty, "resource identity")?),
    }))
}

/// An identity Terraform sent; `Null` when absent.
pub(super) fn identity_from_proto(
    identity: Option<&pb::ResourceIdentityData>,
    ty: &Type,
) -> Result<Value, Diagnostics> {
    decode(
        identity.and_then(|i| i.identity_data.as_ref()),
        ty,
        "resource identity",
    )
}

/// A function's signature as Terraform reads it.
pub(super) fn function_to_proto(signature: &Signature) -> pb::Function {
    let parameter = |p: &Parameter| pb::function::Parameter {
        name: p.name.to_owned(),
        r#type: p.ty.to_json().to_string().into_bytes(),
        allow_null_value: p.allow_null,
        allow_unknown_values: false,
        description: p.description.to_owned(),
        description_kind: pb::StringKind::Markdown as i32,
    };
    pb::Function {
        parameters: signature.parameters.iter().map(parameter).collect(),
        variadic_parameter: signature.variadic.as_ref().map(parameter),
        r#return: Some(pb::function::Return {
            r#type: signature.returns.to_json().to_string().into_bytes(),
        }),
        summary: signature.summary.to_owned(),
        description: signature.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: String::new(),
    }
}

fn block_to_proto(block: &Block) -> pb::schema::Block {
    pb::schema::Block {
        version: 0,
        attributes: block.attributes.iter().map(attribute_to_proto).collect(),
        block_types: block.blocks.iter().map(nested_to_proto).collect(),
        description: block.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: block.deprecated,
    }
}

fn attribute_to_proto(attribute: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: attribute.name.clone(),
        r#type: attribute.ty.to_json().to_string().into_bytes(),
        description: attribute.description.clone(),
        required: attribute.required,
        optional: attribute.optional,
        computed: attribute.computed,
        sensitive: attribute.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: attribute.deprecated,
    }
}

fn nested_to_proto(nested: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    let nesting = match nested.nesting {
        Nesting::Single => NestingMode::Single,
        Nesting::List => NestingMode::List,
        Nesting::Set => NestingMode::Set,
        Nesting::Map => NestingMode::Map,
        Nesting::Group => NestingMode::Group,
    };
    pb::schema::NestedBlock {
        type_name: nested.type_name.clone(),
        block: Some(block_to_proto(&nested.block)),
        nesting: nesting as i32,
        min_items: nested.min_items,
        max_items: nested.max_items,
    }
}

/// Diagnostics as Terraform shows them.
pub(super) fn diagnostics_to_proto(diagnostics: &Diagnostics) -> Vec<pb::Diagnostic> {
    diagnostics.0.iter().map(diagnostic_to_proto).collect()
}

fn diagnostic_to_proto(diagnostic: &Diagnostic) -> pb::Diagnostic {
    let severity = match diagnostic.severity {
        Severity::Error => pb::diagnostic::Severity::Error,
        Severity::Warning => pb::diagnostic::Severity::Warning,
    };
    pb::Diagnostic {
        severity: severity as i32,
        summary: diagnostic.summary.clone(),
        detail: diagnostic.detail.clone(),
        attribute: diagnostic.path.as_ref().map(path_to_proto),
    }
}

/// An attribute path on the wire.
pub(super) fn path_to_proto(path: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    let steps = path
        .0
        .iter()
        .map(|step| pb::attribute_path::Step {
            selector: Some(match step {
                PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                PathStep::Index(index) => Selector::ElementKeyInt(*index),
            }),
        })
        .collect();
    pb::AttributePath { steps }
}

/// Decodes a value Terraform sent; an absent or empty value is null.
pub(super) fn decode(
    value: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
) -> Result<Value, Diagnostics> {
    let Some(value) = value else {
        return Ok(Value::Null);
    };
    let decoded = if !value.msgpack.is_empty() {
        msgpack::decode(&value.msgpack, ty)
    } else if !value.json.is_empty() {
        super::json::decode(&value.json, ty)
    } else {
        return Ok(Value::Null);
    };
    decoded.map_err(|err| {
        Diagnostic::error(
            format!("Invalid {what} received from Terraform"),
            format!("The provider could not decode the {what}: {err}. This is a bug in the provider or a Terraform version mismatch."),
        )
        .into()
    })
}

/// Encodes a value for Terraform.
pub(super) fn encode(
    value: &Value,
    ty: &Type,
    what: &str,
) -> Result<pb::DynamicValue, Diagnostics> {
    msgpack::encode(value, ty)
        .map(|msgpack| pb::DynamicValue { msgpack, json: Vec::new() })
        .map_err(|err| {
            Diagnostic::error(
                format!("Invalid {what} produced by the provider"),
                format!("The provider could not encode the {what}: {err}. This is a bug in the provider."),
            )
            .into()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_every_step_kind() {
        use pb::attribute_path::step::Selector;
        let path = AttrPath::root("tags").key("Name");
        let proto = path_to_proto(&path.clone().index(3));
        let selectors: Vec<_> = proto.steps.into_iter().filter_map(|s| s.selector).collect();
        assert_eq!(
            selectors,
            vec![
                Selector::AttributeName("tags".into()),
                Selector::ElementKeyString("Name".into()),
                Selector::ElementKeyInt(3)
            ]
        );
    }

    #[test]
    fn diagnostics_keep_severity_and_path() {
        let diags: Diagnostics = Diagnostic::warning("careful", "detail")
            .at(AttrPath::root("x"))
            .into();
        let proto = diagnostics_to_proto(&diags);
        assert_eq!(proto[0].severity, pb::diagnostic::Severity::Warning as i32);
        assert_eq!(proto[0].summary, "careful");
        assert!(proto[0].attribute.is_some());
    }

    #[test]
    fn absent_and_empty_values_are_null() -> Result<(), Diagnostics> {
        assert_eq!(decode(None, &Type::String, "state")?, Value::Null);
        let empty = pb::DynamicValue::default();
        assert_eq!(decode(Some(&empty), &Type::String, "state")?, Value::Null);
        Ok(())
    }
}
