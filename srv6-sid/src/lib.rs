//! SRv6 SIDs. STUB: being written.
