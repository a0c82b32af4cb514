//! Conformance harness. STUB: being written.
