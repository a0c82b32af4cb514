//! The SRv6 service SID of a route: the SID Information of its Prefix-SID, un-transposed with
//! the label of its NLRI (RFC 9252 §4).

use std::net::Ipv6Addr;

use srv6_sid::{Transposition, untranspose};

use super::nlri::Nlri;
use super::prefix_sid::{PrefixSid, SidStructureTlv};

/// The SID a headend encapsulates to, with what the advertisement said about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceSid {
    /// The effective SID: transposed bits restored from the label.
    pub sid: Ipv6Addr,
    /// The endpoint behavior codepoint as on the wire.
    pub behavior: u16,
    pub structure: Option<SidStructureTlv>,
}

/// The SRv6 L3 Service SID of `nlri` under `psid`, if the attribute carries one.
///
/// RFC 9252 §4: when the SID Structure has a non-zero Transposition Length, the bits at the
/// Transposition Offset come from the high-order bits of the NLRI's 20-bit label (TC and S
/// bits ignored). A transposed SID on a route without a label cannot be completed; that is an
/// error the caller reports (the route has no usable SID).
pub fn service_sid(psid: &PrefixSid, nlri: &Nlri) -> Result<Option<ServiceSid>, String> {
    let Some(info) = psid.l3_service_sid() else {
        return Ok(None);
    };
    let structure = info.structure().copied();
    let sid = match structure {
        Some(st) if st.transposition_len > 0 => {
            let t = Transposition::new(st.transposition_offset, st.transposition_len)
                .map_err(|e| e.to_string())?;
            let Some(vpn) = nlri.vpn else {
                return Err(format!(
                    "SID {} is transposed ({}@{}) but the route carries no label",
                    info.sid, st.transposition_len, st.transposition_offset
                ));
            };
            untranspose(info.sid, vpn.label, t).map_err(|e| e.to_string())?
        }
        _ => info.sid,
    };
    Ok(Some(ServiceSid {
        sid,
        behavior: info.behavior,
        structure,
    }))
}
