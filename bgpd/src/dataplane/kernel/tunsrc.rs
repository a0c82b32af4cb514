//! The kernel's seg6 tunnel source (`ip sr tunsrc`): SEG6_CMD_SET_TUNSRC / GET_TUNSRC of the
//! `SEG6` generic netlink family. Every `encap seg6` route without its own source uses it.

use std::net::Ipv6Addr;

use netlink_packet_core::{DecodeError, DefaultNla, Emitable, NlasIterator, ParseableParametrized};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};

use super::nl::{EIO, Netlink, NlError, message};

const SEG6_CMD_SET_TUNSRC: u8 = 3;
const SEG6_CMD_GET_TUNSRC: u8 = 4;
const SEG6_ATTR_DST: u16 = 1;

/// A SEG6 family message: a command and its optional address.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seg6Msg {
    cmd: u8,
    dst: Option<Ipv6Addr>,
}

impl GenlFamily for Seg6Msg {
    fn family_name() -> &'static str {
        "SEG6"
    }
    fn command(&self) -> u8 {
        self.cmd
    }
    fn version(&self) -> u8 {
        1
    }
}

impl Emitable for Seg6Msg {
    fn buffer_len(&self) -> usize {
        self.nla().map_or(0, |n| [n].as_slice().buffer_len())
    }
    fn emit(&self, buffer: &mut [u8]) {
        if let Some(n) = self.nla() {
            [n].as_slice().emit(buffer);
        }
    }
}

impl Seg6Msg {
    fn nla(&self) -> Option<DefaultNla> {
        self.dst
            .map(|a| DefaultNla::new(SEG6_ATTR_DST, a.octets().to_vec()))
    }
}

impl ParseableParametrized<[u8], GenlHeader> for Seg6Msg {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let mut dst = None;
        for nla in NlasIterator::new(buf) {
            let nla = nla?;
            let v = nla.value();
            if nla.kind() == SEG6_ATTR_DST && v.len() == 16 {
                let mut o = [0u8; 16];
                o.copy_from_slice(v);
                dst = Some(Ipv6Addr::from(o));
            }
        }
        Ok(Seg6Msg {
            cmd: header.cmd,
            dst,
        })
    }
}

/// The SEG6 generic netlink family on its own socket.
pub(super) struct TunSrc {
    nl: Netlink,
    family: u16,
}

impl TunSrc {
    /// `Err` if the kernel has no SEG6 family (no IPv6 segment routing).
    pub fn open() -> Result<TunSrc, NlError> {
        let mut nl = Netlink::open(netlink_sys::protocols::NETLINK_GENERIC)
            .map_err(|e| NlError::other(e.raw_os_error().unwrap_or(EIO), e.to_string()))?;
        let req = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(
                Seg6Msg::family_name().to_string(),
            )],
        });
        let replies = nl.request(message(req, 0))?;
        let family = replies
            .iter()
            .flat_map(|r| r.payload.nlas.iter())
            .find_map(|a| match a {
                GenlCtrlAttrs::FamilyId(id) => Some(*id),
                _ => None,
            })
            .ok_or_else(|| NlError::other(EIO, "the SEG6 family has no id"))?;
        Ok(TunSrc { nl, family })
    }

    fn msg(&self, cmd: u8, dst: Option<Ipv6Addr>) -> GenlMessage<Seg6Msg> {
        let mut m = GenlMessage::from_payload(Seg6Msg { cmd, dst });
        m.set_resolved_family_id(self.family);
        m
    }

    pub fn set(&mut self, addr: Ipv6Addr) -> Result<(), NlError> {
        let m = self.msg(SEG6_CMD_SET_TUNSRC, Some(addr));
        let mut r = self.nl.batch(vec![message(m, 0)]);
        r.pop().unwrap_or(Ok(()))
    }

    /// The current source (`None` when unset, `::`).
    pub fn get(&mut self) -> Result<Option<Ipv6Addr>, NlError> {
        let m = self.msg(SEG6_CMD_GET_TUNSRC, None);
        let replies = self.nl.request(message(m, 0))?;
        Ok(replies
            .iter()
            .find_map(|r| r.payload.dst)
            .filter(|a| !a.is_unspecified()))
    }
}
