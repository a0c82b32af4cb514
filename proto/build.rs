//! Compile `sidra/v1/sidra.proto` without a system `protoc`: `protox` (a protobuf compiler in
//! Rust) parses it into a FileDescriptorSet, `tonic-prost-build` generates the messages and the
//! tonic services from that set into OUT_DIR, and the encoded set is kept there too for server
//! reflection.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "sidra/v1/sidra.proto";
    println!("cargo:rerun-if-changed={proto}");
    let mut compiler = protox::Compiler::new(["."])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files([proto])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("sidra_v1_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    tonic_prost_build::configure()
        .build_transport(false)
        // JSON output (sidractl --json): field names as in the .proto, enums by name.
        .type_attribute(".", "#[derive(serde::Serialize)]")
        .type_attribute(
            ".sidra.v1.RouteEvent.event",
            "#[serde(rename_all = \"snake_case\")]",
        )
        .field_attribute(
            ".sidra.v1.NeighborStatus.state",
            "#[serde(serialize_with = \"crate::v1::serialize_session_state\")]",
        )
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}
