//! Compiles Teleport's protos in-process with protox: no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "teleport/legacy/types/wrappers/wrappers.proto",
        "teleport/legacy/types/types.proto",
        "teleport/legacy/client/proto/certs.proto",
        "teleport/legacy/client/proto/authservice.proto",
        "teleport/legacy/client/proto/joinservice.proto",
        "teleport/header/v1/metadata.proto",
        "teleport/machineid/v1/bot.proto",
        "teleport/machineid/v1/bot_service.proto",
        "teleport/join/v1/joinservice.proto",
    ];
    let fds = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .generate_default_stubs(true)
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
