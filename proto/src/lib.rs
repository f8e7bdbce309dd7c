//! Generated protobuf and gRPC types for the Terraform plugin protocol 6 and
//! the go-plugin side services. Only the provider's protocol layer uses them.

#![allow(missing_docs, missing_debug_implementations, clippy::all)]

/// Terraform plugin protocol 6 messages and the `Provider` service.
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin's controller, stdio and broker services.
pub mod plugin {
    tonic::include_proto!("plugin");
}
