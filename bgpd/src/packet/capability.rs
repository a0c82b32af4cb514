//! Capabilities (RFC 5492 and the IANA registry). STUB: being written.
