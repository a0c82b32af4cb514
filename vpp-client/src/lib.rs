//! VPP binary-API client (issue 6): framing, handshake, message table, typed SRv6 messages.
