//! What the provider serves, converted once for the wire: each resource and
//! data source type with its schema in protobuf form and the value types
//! its messages decode with (state, identity, list configuration).

use std::collections::HashMap;
use std::sync::Arc;

use tfplugin_proto::tfplugin6 as pb;

use super::convert::{
    function_to_proto, identity_from_proto, identity_schema_to_proto, identity_to_proto,
    schema_to_proto,
};
use super::diagnostics::{Diagnostic, Diagnostics};
use super::function::Function;
use super::resource::{DataSource, ProviderService, Resource};
use super::value::{Type, Value};

/// A managed resource type.
pub(super) struct ResourceEntry {
    pub(super) resource: Arc<dyn Resource>,
    pub(super) schema: pb::Schema,
    pub(super) ty: Type,
    /// Its identity schema and type (Terraform 1.12+), if it has one.
    pub(super) identity: Option<(pb::ResourceIdentitySchema, Type)>,
    /// Its list block's `config` schema and type (Terraform 1.14+), if it
    /// can be listed.
    pub(super) list: Option<(pb::Schema, Type)>,
}

impl ResourceEntry {
    /// The identity Terraform sent, decoded; `Null` when it sent none or
    /// the type has no identity (older Terraform never sends one).
    pub(super) fn identity_from(
        &self,
        identity: Option<&pb::ResourceIdentityData>,
    ) -> Result<Value, Diagnostics> {
        match &self.identity {
            Some((_, ty)) => identity_from_proto(identity, ty),
            None => Ok(Value::Null),
        }
    }

    /// An identity for the wire; `None` when null or the type has none.
    pub(super) fn identity_to(
        &self,
        identity: &Value,
    ) -> Result<Option<pb::ResourceIdentityData>, Diagnostics> {
        match &self.identity {
            Some((_, ty)) => identity_to_proto(identity, ty),
            None => Ok(None),
        }
    }
}

/// A data source type.
pub(super) struct DataEntry {
    pub(super) source: Arc<dyn DataSource>,
    pub(super) schema: pb::Schema,
    pub(super) ty: Type,
}

/// A provider-defined function.
pub(super) struct FunctionEntry {
    pub(super) function: Arc<dyn Function>,
    pub(super) proto: pb::Function,
    /// The parameters' types, to decode the arguments with.
    pub(super) parameters: Vec<Type>,
    /// The variadic parameter's type, for the arguments past `parameters`.
    pub(super) variadic: Option<Type>,
    pub(super) returns: Type,
}

/// Every type the provider serves, by name.
pub(super) struct Catalog {
    pub(super) resources: HashMap<&'static str, ResourceEntry>,
    pub(super) data_sources: HashMap<&'static str, DataEntry>,
    pub(super) functions: HashMap<&'static str, FunctionEntry>,
}

impl Catalog {
    pub(super) fn of<P: ProviderService>(provider: &P) -> Self {
        let resources = provider
            .resources()
            .into_iter()
            .map(|resource| {
                let schema = resource.schema();
                let identity = resource
                    .identity_schema()
                    .map(|s| (identity_schema_to_proto(&s), s.block.value_type()));
                let list = resource
                    .list_schema()
                    .map(|s| (schema_to_proto(&s), s.block.value_type()));
                let entry = ResourceEntry {
                    ty: schema.block.value_type(),
                    schema: schema_to_proto(&schema),
                    identity,
                    list,
                    resource: resource.clone(),
                };
                (resource.type_name(), entry)
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|source| {
                let schema = source.schema();
                let entry = DataEntry {
                    ty: schema.block.value_type(),
                    schema: schema_to_proto(&schema),
                    source: source.clone(),
                };
                (source.type_name(), entry)
            })
            .collect();
        let functions = provider
            .functions()
            .into_iter()
            .map(|function| {
                let signature = function.signature();
                let entry = FunctionEntry {
                    proto: function_to_proto(&signature),
                    parameters: signature.parameters.iter().map(|p| p.ty.clone()).collect(),
                    variadic: signature.variadic.as_ref().map(|p| p.ty.clone()),
                    returns: signature.returns.clone(),
                    function: function.clone(),
                };
                (function.name(), entry)
            })
            .collect();
        Self {
            resources,
            data_sources,
            functions,
        }
    }

    pub(super) fn resource(&self, type_name: &str) -> Result<&ResourceEntry, Diagnostics> {
        self.resources.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown resource type",
                format!("The imagecopier provider has no resource type {type_name:?}."),
            )
            .into()
        })
    }

    pub(super) fn data_source(&self, type_name: &str) -> Result<&DataEntry, Diagnostics> {
        self.data_sources.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown data source",
                format!("The imagecopier provider has no data source {type_name:?}."),
            )
            .into()
        })
    }

    /// The functions' signatures, by name.
    pub(super) fn function_signatures(&self) -> HashMap<String, pb::Function> {
        self.functions
            .iter()
            .map(|(name, entry)| ((*name).to_owned(), entry.proto.clone()))
            .collect()
    }

    /// The list schema and type of `type_name`, which must be listable.
    pub(super) fn list(
        &self,
        type_name: &str,
    ) -> Result<(&ResourceEntry, &(pb::Schema, Type)), Diagnostics> {
        let entry = self.resource(type_name)?;
        match &entry.list {
            Some(list) => Ok((entry, list)),
            None => Err(Diagnostic::error(
                "Unknown list resource",
                format!("The imagecopier provider cannot list {type_name:?}."),
            )
            .into()),
        }
    }
}
