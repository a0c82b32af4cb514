//! SIDs captured from real peers (/work/shared/vectors/bgp/INDEX.md): the SID
//! in the SRv6 SID Information Sub-TLV, the raw 3-octet label field of the
//! VPN NLRI and the SID Structure Sub-Sub-TLV, with the effective SID a
//! receiver must compute (RFC 9252 §4).

use std::net::Ipv6Addr;

use srv6_sid::{
    Behavior, Locator, ServiceKind, SidStructure, Transposition, label_value, transpose,
    untranspose,
};

struct Vector {
    file: &'static str,
    sid_in_tlv: &'static str,
    label_field: u32,
    structure: SidStructure,
    transposition: Transposition,
    behavior: u16,
    effective_sid: &'static str,
}

const F4024: SidStructure = SidStructure::DEFAULT;
const F3216: SidStructure = SidStructure::USID_F3216;
const TL16_TO64: Transposition = Transposition {
    offset: 64,
    length: 16,
};

const VECTORS: &[Vector] = &[
    Vector {
        file: "upd_frr84_pe_vpnv4_srv6_ipv4nh.hex",
        sid_in_tlv: "fc00:0:2:1::",
        label_field: 0x010003,
        structure: F4024,
        transposition: TL16_TO64,
        behavior: 0xffff,
        effective_sid: "fc00:0:2:1:100::",
    },
    Vector {
        file: "upd_frr84_pe_vpnv6_srv6_global_ll.hex",
        sid_in_tlv: "fc00:0:2:1::",
        label_field: 0x020003,
        structure: F4024,
        transposition: TL16_TO64,
        behavior: 0xffff,
        effective_sid: "fc00:0:2:1:200::",
    },
    Vector {
        file: "upd_frr84_rr_reflected_vpnv4_srv6.hex",
        sid_in_tlv: "fc00:0:2:1::",
        label_field: 0x010003,
        structure: F4024,
        transposition: TL16_TO64,
        behavior: 0xffff,
        effective_sid: "fc00:0:2:1:100::",
    },
    Vector {
        file: "upd_frr84_rr_reflected_vpnv6_srv6.hex",
        sid_in_tlv: "fc00:0:2:1::",
        label_field: 0x020003,
        structure: F4024,
        transposition: TL16_TO64,
        behavior: 0xffff,
        effective_sid: "fc00:0:2:1:200::",
    },
    Vector {
        file: "upd_frr84_pe_vpnv4_srv6_enhe.hex",
        sid_in_tlv: "fc00:0:2:1::",
        label_field: 0x010003,
        structure: F4024,
        transposition: TL16_TO64,
        behavior: 0xffff,
        effective_sid: "fc00:0:2:1:100::",
    },
    Vector {
        file: "upd_frr84_pe_vpnv6_srv6_enhe.hex",
        sid_in_tlv: "fc00:0:2:1::",
        label_field: 0x020003,
        structure: F4024,
        transposition: TL16_TO64,
        behavior: 0xffff,
        effective_sid: "fc00:0:2:1:200::",
    },
    Vector {
        file: "upd_gobgp310_vpnv6_srv6_transposed.hex",
        sid_in_tlv: "fc00:0:4:1::",
        label_field: 0x004401,
        structure: F4024,
        transposition: TL16_TO64,
        behavior: 0x0012,
        effective_sid: "fc00:0:4:1:44::",
    },
    // IPv6 unicast (RFC 9252 §5.4): no label field, no transposition; the
    // label value passed here is irrelevant.
    Vector {
        file: "upd_gobgp310_ipv6uc_srv6_dt6.hex",
        sid_in_tlv: "fc00:0:4:1:0:44::",
        label_field: 0,
        structure: F3216,
        transposition: Transposition::NONE,
        behavior: 0x0012,
        effective_sid: "fc00:0:4:1:0:44::",
    },
];

#[track_caller]
fn addr(text: &str) -> Ipv6Addr {
    match text.parse() {
        Ok(address) => address,
        Err(error) => panic!("{text} is not an IPv6 address: {error}"),
    }
}

#[test]
fn receivers_rebuild_the_effective_sid() {
    for vector in VECTORS {
        let transposition =
            Transposition::new(vector.transposition.offset, vector.transposition.length).unwrap();
        transposition
            .validate_for_structure(&vector.structure)
            .unwrap();
        let sid = untranspose(addr(vector.sid_in_tlv), vector.label_field, transposition);
        assert_eq!(sid, Ok(addr(vector.effective_sid)), "{}", vector.file);
    }
}

#[test]
fn sending_the_effective_sid_gives_the_same_tlv_sid_and_label() {
    for vector in VECTORS
        .iter()
        .filter(|vector| !vector.transposition.is_none())
    {
        let (sid_in_tlv, label_field) =
            transpose(addr(vector.effective_sid), vector.transposition).unwrap();
        assert_eq!(sid_in_tlv, addr(vector.sid_in_tlv), "{}", vector.file);
        // Same label; sidra sends TC=0 and S=1 where FRR sends TC=1.
        assert_eq!(
            label_value(label_field),
            label_value(vector.label_field),
            "{}",
            vector.file
        );
        assert_eq!(label_field & 0xf, 1, "{}", vector.file);
    }
}

#[test]
fn the_frr_transposition_is_what_frr_advertises() {
    for vector in VECTORS.iter().filter(|vector| vector.structure == F4024) {
        assert_eq!(
            Transposition::for_function(&vector.structure),
            vector.transposition
        );
    }
}

#[test]
fn effective_sids_are_sids_of_the_advertising_locator() {
    let structure = SidStructure::DEFAULT;
    let frr = Locator::new("fc00:0:2:1::/64".parse().unwrap(), structure).unwrap();
    assert_eq!(frr.function_of(addr("fc00:0:2:1:100::")), Some(0x100));
    assert_eq!(frr.function_of(addr("fc00:0:2:1:200::")), Some(0x200));
    assert_eq!(frr.sid(0x100, 0), Ok(addr("fc00:0:2:1:100::")));
    let gobgp = Locator::new("fc00:0:4:1::/64".parse().unwrap(), structure).unwrap();
    assert_eq!(gobgp.function_of(addr("fc00:0:4:1:44::")), Some(0x44));
    assert_eq!(gobgp.function_of(addr("fc00:0:2:1:100::")), None);
}

#[test]
fn behaviors_seen_on_the_wire() {
    for vector in VECTORS {
        let behavior = Behavior::from_u16(vector.behavior);
        assert_eq!(behavior.to_u16(), vector.behavior);
        match vector.behavior {
            0xffff => assert_eq!(behavior, Behavior::Opaque),
            0x0012 => assert_eq!(behavior.service_kind(), Some(ServiceKind::Dt6)),
            other => panic!("unexpected behavior {other:#x} in {}", vector.file),
        }
    }
}
