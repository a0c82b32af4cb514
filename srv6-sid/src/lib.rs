//! SRv6 SIDs for sidra: pure types and functions, no I/O.
//!
//! - [`SidStructure`]: bit lengths of block, node, function and argument
//!   (RFC 8986 §3.1, RFC 9252 §3.2.1).
//! - [`Locator`]: a locator prefix with its structure; composes SIDs
//!   (LOC:FUNCT:ARG) and takes them apart.
//! - [`Behavior`]: SRv6 Endpoint Behavior codepoints (IANA registry of
//!   RFC 8986 §10.2, uSID flavors of RFC 9800) and the [`ServiceKind`] under
//!   which a headend treats End.DT4 and uDT4 (and the other pairs) alike.
//! - [`FunctionAllocator`]: deterministic, lowest-first allocation of the
//!   function values of one locator.
//! - [`Transposition`], [`transpose`], [`untranspose`]: RFC 9252 §4, the
//!   part of the SID carried in the MPLS label field of a VPN NLRI.
//!
//! ```text
//!  0                                                                127
//!  +-------------+-----------+---------------+-------------+---------+
//!  |    block    |   node    |   function    |  argument   |  zeros  |
//!  +-------------+-----------+---------------+-------------+---------+
//!  |<------- locator ------->|<-- transposed into the label (FRR) -->|
//!                             (when the function is 20 bits or less)
//! ```
//!
//! Receiving a transposed SID (values from FRR 8.4, a VPNv4 route whose
//! label field is 0x010003):
//!
//! ```
//! use std::net::Ipv6Addr;
//!
//! use srv6_sid::{Transposition, untranspose};
//!
//! let sid_in_tlv: Ipv6Addr = "fc00:0:2:1::".parse()?;
//! let transposition = Transposition::new(64, 16)?;
//! let sid = untranspose(sid_in_tlv, 0x010003, transposition)?;
//! assert_eq!(sid, "fc00:0:2:1:100::".parse::<Ipv6Addr>()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Allocating and advertising a SID:
//!
//! ```
//! use srv6_sid::{Behavior, FunctionAllocator, Locator, SidStructure, Transposition, transpose};
//!
//! let locator = Locator::new("fc00:0:2::/64".parse()?, SidStructure::DEFAULT)?;
//! let mut functions = FunctionAllocator::new(locator);
//! let function = functions.allocate()?;
//! let sid = locator.sid(function, 0)?;
//! assert_eq!(sid.to_string(), "fc00:0:2:0:1::");
//!
//! let transposition = Transposition::for_function(&locator.structure());
//! let (sid_in_tlv, label_field) = transpose(sid, transposition)?;
//! assert_eq!(sid_in_tlv.to_string(), "fc00:0:2::");
//! assert_eq!(label_field, 0x000101);
//! assert_eq!(Behavior::EndDt4.to_u16(), 19);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod allocator;
mod behavior;
mod bits;
mod error;
mod locator;
mod structure;
mod transposition;

pub use allocator::FunctionAllocator;
pub use behavior::{Behavior, ServiceKind};
pub use error::SidError;
pub use locator::Locator;
pub use structure::SidStructure;
pub use transposition::{
    MPLS_LABEL_BITS, MPLS_LABEL_FIELD_MAX, MPLS_LABEL_IMPLICIT_NULL, MPLS_LABEL_UNRESERVED_MIN,
    Transposition, label_value, transpose, untranspose,
};
