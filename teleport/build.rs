//! Compiles Teleport's protos in-process with protox: no system `protoc`.
//!
//! Besides the Rust types and gRPC stubs, the compiled descriptors are
//! written to `OUT_DIR/teleport_descriptor_set.bin` with their comments and
//! custom (gogoproto) options: [`joinery_teleport::proto::descriptor_pool`]
//! reads them, and Joinery derives the Terraform schemas and `tctl`'s YAML
//! from them.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "teleport/legacy/types/wrappers/wrappers.proto",
        "teleport/legacy/types/types.proto",
        "teleport/legacy/types/user.proto",
        "teleport/legacy/types/authority.proto",
        "teleport/legacy/client/proto/certs.proto",
        "teleport/legacy/client/proto/authservice.proto",
        "teleport/legacy/client/proto/joinservice.proto",
        "teleport/header/v1/metadata.proto",
        "teleport/machineid/v1/bot.proto",
        "teleport/machineid/v1/bot_service.proto",
        "teleport/join/v1/joinservice.proto",
        "teleport/users/v1/users_service.proto",
        "teleport/trust/v1/trust_service.proto",
    ];
    let mut compiler = protox::Compiler::new(["proto"])?;
    compiler.include_source_info(true).include_imports(true).open_files(files)?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("teleport_descriptor_set.bin"), compiler.encode_file_descriptor_set())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .generate_default_stubs(true)
        .compile_fds(compiler.file_descriptor_set())?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
