//! sidra's gRPC API, `sidra.v1`: the messages and the tonic client and server stubs generated
//! from `proto/sidra/v1/sidra.proto` at build time (into OUT_DIR; nothing generated is kept in
//! git), and the encoded FileDescriptorSet for server reflection.

/// `package sidra.v1`.
pub mod v1 {
    #![allow(clippy::all, clippy::unwrap_used, clippy::expect_used, missing_docs)]
    tonic::include_proto!("sidra.v1");

    /// `NeighborStatus.state` in JSON: the enum's name in the .proto
    /// (`SESSION_STATE_ESTABLISHED`), as protobuf's JSON mapping has it.
    pub(crate) fn serialize_session_state<S: serde::Serializer>(
        v: &i32,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match SessionState::try_from(*v) {
            Ok(state) => s.serialize_str(state.as_str_name()),
            Err(_) => s.serialize_i32(*v),
        }
    }
}

/// The encoded FileDescriptorSet of `sidra.v1` (for `tonic-reflection`).
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("sidra_v1_descriptor");
