//! Generated gRPC code (see `build.rs`).

/// The Terraform plugin protocol, version 6.10.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin's controller service (`plugin.GRPCController`).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod controller {
    tonic::include_proto!("plugin");
}
