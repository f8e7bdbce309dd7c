//! The protocol layer: everything that knows Terraform's plugin protocol.
//!
//! Invariant: protobuf types never leave this module. Resources see typed
//! models ([`typed`]), the provider sees [`resource::ProviderService`].

pub mod data;
pub mod declare;
pub mod diagnostics;
pub mod function;
pub mod json;
pub mod managed;
pub mod msgpack;
pub mod resource;
pub mod schema;
pub mod server;
pub mod typed;
pub mod value;

mod catalog;
mod conn;
mod convert;
mod grpc;
mod listing;
mod plugin_services;
mod tls;
