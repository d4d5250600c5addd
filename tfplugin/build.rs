//! Compiles the Terraform plugin protocol (tfplugin6, protocol 6.10) and the
//! go-plugin controller service with `protox`, so no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["tfplugin6.proto", "grpc_controller.proto"];
    for proto in &protos {
        println!("cargo:rerun-if-changed=proto/{proto}");
    }
    let fds = protox::compile(protos, ["proto"])?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .generate_default_stubs(true)
        .compile_fds(fds)?;
    Ok(())
}
