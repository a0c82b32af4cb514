//! The local side of the SRv6 service: this node's SIDs and the routes that advertise its pods
//! behind them (pure: configuration in, SIDs and routes out).
//!
//! Each service gets, from its locator, one End.DT4 and one End.DT6 SID (or one End.DT46 SID),
//! allocated in configuration order from the lowest function value, so the same configuration
//! always gives the same SIDs: a restarted node advertises what the others already encapsulate
//! to.

use std::net::Ipv6Addr;

use ipnet::IpNet;
use srv6_sid::{FunctionAllocator, Locator, Transposition, transpose};

use crate::config::{ServiceBehavior, ServiceConfig, ServiceMode, Srv6Config};
use crate::dataplane::{LocalBehavior, LocalSid};
use crate::packet::Family;
use crate::packet::attribute::{AsPath, AttrValue, PathAttribute};
use crate::packet::nlri::{Nlri, VpnLabel};
use crate::packet::prefix_sid::{PrefixSid, SidStructureTlv};
use crate::rib::PathAttrs;

/// The SIDs of one service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSids {
    pub dt4: Option<LocalSid>,
    pub dt6: Option<LocalSid>,
    pub dt46: Option<LocalSid>,
}

impl ServiceSids {
    /// The SID that decapsulates `prefix`'s family.
    pub fn for_prefix(&self, prefix: &IpNet) -> Option<LocalSid> {
        let own = match prefix {
            IpNet::V4(_) => self.dt4,
            IpNet::V6(_) => self.dt6,
        };
        own.or(self.dt46)
    }

    pub fn all(&self) -> impl Iterator<Item = LocalSid> + '_ {
        [self.dt4, self.dt6, self.dt46].into_iter().flatten()
    }
}

/// Allocate every service's SIDs (configuration order, lowest function first).
pub fn allocate(cfg: &Srv6Config) -> Result<Vec<ServiceSids>, String> {
    let mut allocators: Vec<FunctionAllocator> = cfg
        .locators
        .iter()
        .map(|l| FunctionAllocator::new(l.locator))
        .collect();
    let mut out = Vec::new();
    for s in &cfg.services {
        let Some(alloc) = allocators.get_mut(s.locator) else {
            return Err(format!("service {:?}: no locator {}", s.name, s.locator));
        };
        let mut sid = |behavior: LocalBehavior| -> Result<LocalSid, String> {
            let f = alloc
                .allocate()
                .map_err(|e| format!("service {:?}: {e}", s.name))?;
            let sid = alloc
                .locator()
                .sid(f, 0)
                .map_err(|e| format!("service {:?}: {e}", s.name))?;
            Ok(LocalSid {
                sid,
                behavior,
                table: s.table,
            })
        };
        out.push(match s.behavior {
            ServiceBehavior::Dt4Dt6 => ServiceSids {
                dt4: Some(sid(LocalBehavior::EndDt4)?),
                dt6: Some(sid(LocalBehavior::EndDt6)?),
                dt46: None,
            },
            ServiceBehavior::Dt46 => ServiceSids {
                dt4: None,
                dt6: None,
                dt46: Some(sid(LocalBehavior::EndDt46)?),
            },
        });
    }
    Ok(out)
}

/// RFC 9252 §3.2.1: the SID Structure sub-sub-TLV of a locator's SIDs.
fn structure_tlv(locator: &Locator, t: Transposition) -> SidStructureTlv {
    let st = locator.structure();
    SidStructureTlv {
        block_len: st.block_len,
        node_len: st.node_len,
        function_len: st.function_len,
        argument_len: st.argument_len,
        transposition_len: t.length,
        transposition_offset: t.offset,
    }
}

/// The route that advertises one pod CIDR of a service.
///
/// * `global` (RFC 9252 §5.3/§5.4): IPv4/IPv6 unicast with the Prefix-SID; the next hop is set
///   per peer on export (an IPv6 next hop for IPv4 where RFC 8950 was negotiated).
/// * `vpn` (RFC 9252 §5.1/§5.2): VPNv4/VPNv6 with the service's RD and export route targets;
///   with transposition the function bits travel in the label (as FRR 8.4 sends them), else the
///   label is Implicit NULL and the SID is whole.
pub fn pod_route(
    service: &ServiceConfig,
    locator: &Locator,
    sids: &ServiceSids,
    prefix: IpNet,
) -> Result<(Family, Nlri, PathAttrs), String> {
    let Some(sid) = sids.for_prefix(&prefix) else {
        return Err(format!(
            "service {:?} has no SID for {prefix}",
            service.name
        ));
    };
    let mut attrs = vec![
        PathAttribute::new(AttrValue::Origin(0)),
        PathAttribute::new(AttrValue::AsPath(AsPath::default())),
    ];
    let (family, nlri, advertised_sid, t) = match service.mode {
        ServiceMode::Global => {
            let family = match prefix {
                IpNet::V4(_) => Family::IPV4_UNICAST,
                IpNet::V6(_) => Family::IPV6_UNICAST,
            };
            (family, Nlri::new(prefix), sid.sid, Transposition::NONE)
        }
        ServiceMode::Vpn => {
            let family = match prefix {
                IpNet::V4(_) => Family::IPV4_VPN,
                IpNet::V6(_) => Family::IPV6_VPN,
            };
            let t = if service.transposition {
                Transposition::for_function(&locator.structure())
            } else {
                Transposition::NONE
            };
            let (stripped, label) = transpose(sid.sid, t).map_err(|e| e.to_string())?;
            let Some(rd) = service.rd else {
                return Err(format!("service {:?}: vpn mode needs an rd", service.name));
            };
            let nlri = Nlri {
                path_id: None,
                prefix,
                vpn: Some(VpnLabel { label, rd }),
            };
            if !service.export_route_targets.is_empty() {
                attrs.push(PathAttribute::new(AttrValue::ExtendedCommunities(
                    service.export_route_targets.clone(),
                )));
            }
            (family, nlri, stripped, t)
        }
    };
    attrs.push(PathAttribute::new(AttrValue::PrefixSid(
        PrefixSid::srv6_l3_service(
            advertised_sid,
            sid.behavior.codepoint(),
            Some(structure_tlv(locator, t)),
        ),
    )));
    Ok((family, nlri, PathAttrs::new(attrs, None)))
}

/// The route that advertises a locator to the fabric (plain IPv6 unicast, no Prefix-SID).
pub fn locator_route(locator: &Locator) -> (Family, Nlri, PathAttrs) {
    let attrs = PathAttrs::new(
        vec![
            PathAttribute::new(AttrValue::Origin(0)),
            PathAttribute::new(AttrValue::AsPath(AsPath::default())),
        ],
        None,
    );
    (
        Family::IPV6_UNICAST,
        Nlri::new(IpNet::V6(locator.prefix())),
        attrs,
    )
}

/// Whether `sid` is one of ours (in one of our locators).
pub fn is_own_sid(cfg: &Srv6Config, sid: Ipv6Addr) -> bool {
    cfg.locators.iter().any(|l| l.locator.contains(sid))
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
