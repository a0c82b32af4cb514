//! UPDATE message (RFC 4271 §4.3) with RFC 7606 revised error handling.
//!
//! ```text
//! +-----------------------------------------------------+
//! |   Withdrawn Routes Length (2 octets)                |
//! +-----------------------------------------------------+
//! |   Withdrawn Routes (variable)                       |
//! +-----------------------------------------------------+
//! |   Total Path Attribute Length (2 octets)            |
//! +-----------------------------------------------------+
//! |   Path Attributes (variable)                        |
//! +-----------------------------------------------------+
//! |   Network Layer Reachability Information (variable) |
//! +-----------------------------------------------------+
//! ```

use bytes::{BufMut, BytesMut};

use super::attribute::{
    self, AsPath, AttrValue, MpNlri, MpReach, MpUnreach, PathAttribute, attr_type,
};
use super::error::{AttributeError, ErrorAction, code};
use super::family::Family;
use super::nlri::{Nlri, decode_ipv4_prefixes, encode_nlri};
use super::prefix_sid::PrefixSid;
use super::{DecodeContext, EncodeContext, MessageError};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateMessage {
    /// IPv4 unicast withdrawn routes (the Withdrawn Routes field).
    pub withdrawn: Vec<Nlri>,
    /// Path attributes in wire order, MP_REACH_NLRI / MP_UNREACH_NLRI included.
    pub attributes: Vec<PathAttribute>,
    /// IPv4 unicast NLRI (the trailing NLRI field).
    pub nlri: Vec<Nlri>,
    /// Problems found while decoding that did not end the session (RFC 7606).
    pub errors: Vec<AttributeError>,
}

impl UpdateMessage {
    /// The strongest action the decode problems call for, if any.
    pub fn action(&self) -> Option<ErrorAction> {
        self.errors.iter().map(|e| e.action).max()
    }

    /// Are the routes of this UPDATE to be withdrawn rather than announced?
    pub fn is_treat_as_withdraw(&self) -> bool {
        self.action()
            .is_some_and(|a| a >= ErrorAction::TreatAsWithdraw)
    }

    pub fn attr(&self, code: u8) -> Option<&PathAttribute> {
        self.attributes.iter().find(|a| a.type_code() == code)
    }

    pub fn mp_reach(&self) -> Option<&MpReach> {
        self.attributes.iter().find_map(|a| match &a.value {
            AttrValue::MpReach(m) => Some(&**m),
            _ => None,
        })
    }

    pub fn mp_unreach(&self) -> Option<&MpUnreach> {
        self.attributes.iter().find_map(|a| match &a.value {
            AttrValue::MpUnreach(m) => Some(&**m),
            _ => None,
        })
    }

    pub fn prefix_sid(&self) -> Option<&PrefixSid> {
        self.attributes.iter().find_map(|a| match &a.value {
            AttrValue::PrefixSid(p) => Some(p),
            _ => None,
        })
    }

    pub fn as_path(&self) -> Option<&AsPath> {
        self.attributes.iter().find_map(|a| match &a.value {
            AttrValue::AsPath(p) => Some(p),
            _ => None,
        })
    }

    /// Routes announced by this UPDATE, with their family: none when it is treated as withdraw.
    pub fn announced(&self) -> Vec<(Family, &Nlri)> {
        if self.is_treat_as_withdraw() {
            return Vec::new();
        }
        self.reachable()
    }

    fn reachable(&self) -> Vec<(Family, &Nlri)> {
        let mut v: Vec<(Family, &Nlri)> = self
            .nlri
            .iter()
            .map(|n| (Family::IPV4_UNICAST, n))
            .collect();
        if let Some(m) = self.mp_reach() {
            v.extend(m.nlri.prefixes().iter().map(|n| (m.family, n)));
        }
        v
    }

    /// Routes withdrawn by this UPDATE: the withdrawn fields, plus every announced route when
    /// the UPDATE is treated as withdraw (RFC 7606 §2).
    pub fn withdrawals(&self) -> Vec<(Family, &Nlri)> {
        let mut v: Vec<(Family, &Nlri)> = self
            .withdrawn
            .iter()
            .map(|n| (Family::IPV4_UNICAST, n))
            .collect();
        if let Some(m) = self.mp_unreach() {
            v.extend(m.nlri.prefixes().iter().map(|n| (m.family, n)));
        }
        if self.is_treat_as_withdraw() {
            v.extend(self.reachable());
        }
        v
    }

    /// RFC 4724 §2: the End-of-RIB marker of a family, if this UPDATE is one.
    pub fn end_of_rib(&self) -> Option<Family> {
        if !self.withdrawn.is_empty() || !self.nlri.is_empty() {
            return None;
        }
        match self.attributes.as_slice() {
            [] => Some(Family::IPV4_UNICAST),
            [a] => match &a.value {
                AttrValue::MpUnreach(m) if m.nlri.is_empty() => Some(m.family),
                _ => None,
            },
            _ => None,
        }
    }

    /// The End-of-RIB marker for `family` (RFC 4724 §2).
    pub fn end_of_rib_marker(family: Family) -> Self {
        if family == Family::IPV4_UNICAST {
            return UpdateMessage::default();
        }
        UpdateMessage {
            attributes: vec![PathAttribute::new(AttrValue::MpUnreach(Box::new(
                MpUnreach {
                    family,
                    nlri: MpNlri::Prefixes(Vec::new()),
                },
            )))],
            ..Default::default()
        }
    }
}

fn malformed_list(reason: String) -> MessageError {
    MessageError::update(code::MALFORMED_ATTRIBUTE_LIST, Vec::new(), reason)
}

/// Decode an UPDATE body (after the 19-octet header).
pub fn decode_update(body: &[u8], cx: &DecodeContext) -> Result<UpdateMessage, MessageError> {
    // RFC 4271 §6.3: "If the Withdrawn Routes Length or Total Attribute Length is too large
    // (i.e., if Withdrawn Routes Length + Total Attribute Length + 23 exceeds the message
    // Length), then the Error Subcode MUST be set to Malformed Attribute List."
    let Some((wl, rest)) = body.split_first_chunk::<2>() else {
        return Err(malformed_list(format!(
            "UPDATE body of {} bytes",
            body.len()
        )));
    };
    let wl = usize::from(u16::from_be_bytes(*wl));
    if rest.len() < wl + 2 {
        return Err(malformed_list(format!(
            "withdrawn routes length {wl} exceeds the message ({} bytes left)",
            rest.len()
        )));
    }
    let (withdrawn_bytes, rest) = rest.split_at(wl);
    let (al, rest) = rest.split_at(2);
    let al = usize::from(u16::from_be_bytes([al[0], al[1]]));
    if rest.len() < al {
        return Err(malformed_list(format!(
            "total path attribute length {al} exceeds the message ({} bytes left)",
            rest.len()
        )));
    }
    let (attr_bytes, nlri_bytes) = rest.split_at(al);

    let v4_add_path = cx.add_path.contains(Family::IPV4_UNICAST);
    let invalid_network = |what: &str, e: super::nlri::NlriError| {
        // RFC 7606 §5.3: an NLRI field that cannot be parsed rules out treat-as-withdraw; the
        // session is reset.
        MessageError::update(
            code::INVALID_NETWORK_FIELD,
            Vec::new(),
            format!("{what}: {}", e.0),
        )
    };
    let mut withdrawn = Vec::new();
    decode_ipv4_prefixes(withdrawn_bytes, v4_add_path, &mut withdrawn)
        .map_err(|e| invalid_network("withdrawn routes", e))?;
    let decoded =
        attribute::decode_attributes(attr_bytes, cx.four_octet_as, &|f| cx.add_path.contains(f))?;
    let mut nlri = Vec::new();
    decode_ipv4_prefixes(nlri_bytes, v4_add_path, &mut nlri)
        .map_err(|e| invalid_network("NLRI", e))?;

    let mut m = UpdateMessage {
        withdrawn,
        attributes: decoded.attributes,
        nlri,
        errors: decoded.errors,
    };
    check_mandatory(&mut m);
    Ok(m)
}

/// RFC 7606 §3(d): "If any of the well-known mandatory attributes are not present in an
/// UPDATE message, then 'treat-as-withdraw' MUST be used." They are ORIGIN and AS_PATH for
/// any reachable NLRI, and NEXT_HOP for NLRI in the UPDATE's own NLRI field (RFC 4760 §3).
fn check_mandatory(m: &mut UpdateMessage) {
    let has_mp_nlri = m.mp_reach().is_some_and(|r| !r.nlri.is_empty());
    if m.nlri.is_empty() && !has_mp_nlri {
        return;
    }
    let need: &[u8] = if m.nlri.is_empty() {
        &[attr_type::ORIGIN, attr_type::AS_PATH]
    } else {
        &[attr_type::ORIGIN, attr_type::AS_PATH, attr_type::NEXT_HOP]
    };
    for &code in need {
        let present = m.attr(code).is_some();
        let already_reported = m.errors.iter().any(|e| e.attribute == Some(code));
        if !present && !already_reported {
            m.errors.push(AttributeError::new(
                Some(code),
                ErrorAction::TreatAsWithdraw,
                format!(
                    "missing well-known attribute {}",
                    attribute::attr_name(code)
                ),
            ));
        }
    }
}

/// Encode an UPDATE body.
pub fn encode_update(m: &UpdateMessage, cx: &EncodeContext, out: &mut BytesMut) {
    let v4_add_path = cx.add_path.contains(Family::IPV4_UNICAST);
    let at = out.len();
    out.put_u16(0);
    for n in &m.withdrawn {
        encode_nlri(n, v4_add_path, out);
    }
    patch_u16(out, at);
    let at = out.len();
    out.put_u16(0);
    for a in &m.attributes {
        attribute::encode_attribute(a, cx, out);
    }
    patch_u16(out, at);
    for n in &m.nlri {
        encode_nlri(n, v4_add_path, out);
    }
}

fn patch_u16(out: &mut BytesMut, at: usize) {
    let len = u16::try_from(out.len() - at - 2)
        .unwrap_or(u16::MAX)
        .to_be_bytes();
    out[at] = len[0];
    out[at + 1] = len[1];
}
