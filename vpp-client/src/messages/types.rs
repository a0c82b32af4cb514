//! Shared SRv6 API types: enums of `sr_types.api` and `sr.api`, and the SID list.

use std::net::Ipv6Addr;

use bytes::{BufMut, BytesMut};

use crate::error::{DecodeError, Error};
use crate::wire::{Reader, put_ip6};

/// Maximum SIDs in one `srv6_sid_list` (`sids[16]`, always 16 slots on the wire).
pub const MAX_SIDS: usize = 16;
/// Size of `vl_api_srv6_sid_list_t`.
pub const SID_LIST_LEN: usize = 261;
/// Size of `vl_api_srv6_sid_list_with_sl_index_t`.
pub const SID_LIST_WITH_SL_INDEX_LEN: usize = 265;

/// `vl_api_sr_behavior_t` (u8). These are VPP's API values, **not** the IANA endpoint behavior
/// codepoints BGP carries (End.DT6 is 8 here and 18 in BGP). There is no End.DT46 in VPP: use
/// one End.DT4 and one End.DT6 SID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrBehavior {
    /// End (1).
    End,
    /// End.X (2): cross-connect to a next hop on an interface.
    X,
    /// End.T (3): lookup in a table (the table id goes in `sw_if_index`).
    T,
    /// End.DX2 (5).
    DX2,
    /// End.DX6 (6).
    DX6,
    /// End.DX4 (7).
    DX4,
    /// End.DT6 (8): decapsulate, IPv6 lookup in a VRF (table id in `sw_if_index`).
    DT6,
    /// End.DT4 (9): decapsulate, IPv4 lookup in a VRF (table id in `sw_if_index`).
    DT4,
    /// uN with the performance variant (11; VPP >= 25.02 only).
    EndUnPerf,
    /// uN (12; VPP >= 25.02 only).
    EndUn,
    /// uA (13; VPP >= 25.02 only).
    UA,
    /// Any other value (e.g. `D_FIRST` 4, `LAST` 10, plugin behaviors).
    Other(u8),
}

impl SrBehavior {
    /// The API value.
    pub fn to_u8(self) -> u8 {
        match self {
            Self::End => 1,
            Self::X => 2,
            Self::T => 3,
            Self::DX2 => 5,
            Self::DX6 => 6,
            Self::DX4 => 7,
            Self::DT6 => 8,
            Self::DT4 => 9,
            Self::EndUnPerf => 11,
            Self::EndUn => 12,
            Self::UA => 13,
            Self::Other(v) => v,
        }
    }

    /// From the API value.
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::End,
            2 => Self::X,
            3 => Self::T,
            5 => Self::DX2,
            6 => Self::DX6,
            7 => Self::DX4,
            8 => Self::DT6,
            9 => Self::DT4,
            11 => Self::EndUnPerf,
            12 => Self::EndUn,
            13 => Self::UA,
            v => Self::Other(v),
        }
    }

    /// True for behaviors whose `sw_if_index` field carries a VRF table id (End.T, End.DT4,
    /// End.DT6). Such a table must exist before the SID is added: VPP accepts a DT SID pointing
    /// at a missing table and then crashes on the next `sr_localsids_dump`.
    pub fn uses_table(self) -> bool {
        matches!(self, Self::T | Self::DT4 | Self::DT6)
    }
}

/// `vl_api_sr_steer_t` (u8): the traffic type of a steering entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SteerType {
    /// L2 (2): traffic of an interface.
    L2,
    /// IPv4 (4).
    Ipv4,
    /// IPv6 (6).
    Ipv6,
}

impl SteerType {
    /// The API value.
    pub fn to_u8(self) -> u8 {
        match self {
            Self::L2 => 2,
            Self::Ipv4 => 4,
            Self::Ipv6 => 6,
        }
    }

    /// From the API value.
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            2 => Some(Self::L2),
            4 => Some(Self::Ipv4),
            6 => Some(Self::Ipv6),
            _ => None,
        }
    }
}

/// `vl_api_sr_policy_type_t` (u8). `sr_policy_add` v1 only knows default and spray (`is_spray`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PolicyType {
    /// Default (0): weighted ECMP over the SID lists.
    #[default]
    Default,
    /// Spray (1): every packet on every SID list.
    Spray,
    /// TEF (2; v2 messages only).
    Tef,
    /// Any other value.
    Other(u8),
}

impl PolicyType {
    /// The API value.
    pub fn to_u8(self) -> u8 {
        match self {
            Self::Default => 0,
            Self::Spray => 1,
            Self::Tef => 2,
            Self::Other(v) => v,
        }
    }

    /// From the API value.
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Default,
            1 => Self::Spray,
            2 => Self::Tef,
            v => Self::Other(v),
        }
    }
}

/// A segment list (`vl_api_srv6_sid_list_t`) with its weight.
///
/// ```text
/// +----------+-------------+----------------------------------------+
/// | num_sids | weight      | sids[16] (16 x 16 bytes, unused = ::)  |
/// | u8 @0    | u32 @1 (BE) | ip6 @5                                 |
/// +----------+-------------+----------------------------------------+   261 bytes
/// ```
///
/// VPP uses this `weight`, not the top-level `weight` of `sr_policy_add`/`sr_policy_mod`
/// (ignored by the handler), and stores 0 as 0 (only `0xffffffff` means "default 1"): send 1.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SidList {
    /// The weight (use 1 for plain ECMP).
    pub weight: u32,
    /// The segments, first to last (1 to 16).
    pub sids: Vec<Ipv6Addr>,
}

impl SidList {
    /// A list with weight 1.
    pub fn new(sids: Vec<Ipv6Addr>) -> Self {
        Self { weight: 1, sids }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.sids.is_empty() || self.sids.len() > MAX_SIDS {
            return Err(Error::InvalidArgument(format!(
                "a SID list needs 1 to {MAX_SIDS} SIDs, got {}",
                self.sids.len()
            )));
        }
        Ok(())
    }

    /// Encodes the 261-byte struct. `sids` may be empty here (for `sr_policy_mod` operations
    /// that carry no list); callers validate where a list is required.
    pub(crate) fn encode(&self, buf: &mut BytesMut) -> Result<(), Error> {
        if self.sids.len() > MAX_SIDS {
            return Err(Error::InvalidArgument(format!(
                "a SID list holds at most {MAX_SIDS} SIDs, got {}",
                self.sids.len()
            )));
        }
        buf.put_u8(self.sids.len() as u8);
        buf.put_u32(self.weight);
        for s in &self.sids {
            put_ip6(buf, *s);
        }
        buf.put_bytes(0, 16 * (MAX_SIDS - self.sids.len()));
        Ok(())
    }

    /// Decodes one list; with `with_sl_index`, the 265-byte variant and its `sl_index`.
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        with_sl_index: bool,
    ) -> Result<(Self, Option<u32>), DecodeError> {
        let num = r.u8("sid_list.num_sids")? as usize;
        let weight = r.u32("sid_list.weight")?;
        let sl_index = if with_sl_index {
            Some(r.u32("sid_list.sl_index")?)
        } else {
            None
        };
        if num > MAX_SIDS {
            return Err(r.invalid("sid_list.num_sids", format!("{num} > {MAX_SIDS}")));
        }
        let mut sids = Vec::with_capacity(num);
        for i in 0..MAX_SIDS {
            let s = r.ip6("sid_list.sids")?;
            if i < num {
                sids.push(s);
            }
        }
        Ok((Self { weight, sids }, sl_index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_list_layout_and_roundtrip() {
        let l = SidList {
            weight: 5,
            sids: vec!["fc00:0:5::1".parse().unwrap()],
        };
        let mut b = BytesMut::new();
        l.encode(&mut b).unwrap();
        assert_eq!(b.len(), SID_LIST_LEN);
        assert_eq!(b[0], 1);
        assert_eq!(&b[1..5], &5u32.to_be_bytes());
        assert_eq!(b[5], 0xfc);
        assert!(b[21..].iter().all(|&x| x == 0));
        let mut r = Reader::new("t", &b, 0);
        let (back, idx) = SidList::decode(&mut r, false).unwrap();
        r.finish().unwrap();
        assert_eq!((back, idx), (l, None));

        let too_long = SidList::new(vec![Ipv6Addr::LOCALHOST; 17]);
        assert!(too_long.encode(&mut BytesMut::new()).is_err());
        assert!(SidList::new(vec![]).validate().is_err());
    }

    #[test]
    fn enums_roundtrip() {
        for v in 0..=20u8 {
            assert_eq!(SrBehavior::from_u8(v).to_u8(), v);
            assert_eq!(PolicyType::from_u8(v).to_u8(), v);
            if let Some(s) = SteerType::from_u8(v) {
                assert_eq!(s.to_u8(), v);
            }
        }
        assert_eq!(SrBehavior::DT4.to_u8(), 9);
        assert_eq!(SrBehavior::DT6.to_u8(), 8);
        assert!(SrBehavior::DT4.uses_table() && !SrBehavior::End.uses_table());
    }
}
