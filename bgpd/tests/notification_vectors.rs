//! NOTIFICATION messages captured from FRR 8.4 and ExaBGP 4.2 (`shared/vectors/bgp/notif_*.hex`,
//! described in its INDEX.md), Cease data formats and named negative cases.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bgpd::inspect::{error_json, message_json, message_text};
use bgpd::packet::notification::{NotificationMessage, decode_notification};
use bgpd::packet::{
    DecodeContext, EncodeContext, Message, MessageError, decode_message, encode_to_vec,
};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/bgp");

fn unhex(t: &str) -> Vec<u8> {
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16).unwrap())
        .collect()
}

fn read_hex(name: &str) -> Vec<u8> {
    unhex(
        std::fs::read_to_string(format!("{VECTORS}/{name}"))
            .unwrap()
            .trim(),
    )
}

/// `(code, subcode, data)` from the INDEX.md decode column
/// (`NOTIFICATION code=3 sub=5 data=...`).
fn index_expectation(name: &str) -> (u8, u8, Vec<u8>) {
    let index = std::fs::read_to_string(format!("{VECTORS}/INDEX.md")).unwrap();
    let line = index
        .lines()
        .find(|l| l.starts_with(&format!("| {name} ")))
        .unwrap();
    let decode = line.split('`').nth(1).unwrap();
    let value = |key: &str| {
        let start = decode.find(&format!(" {key}=")).unwrap() + key.len() + 2;
        decode[start..].split(' ').next().unwrap().to_string()
    };
    assert!(decode.starts_with("NOTIFICATION "));
    (
        value("code").parse().unwrap(),
        value("sub").parse().unwrap(),
        unhex(&value("data")),
    )
}

fn decode(bytes: &[u8]) -> NotificationMessage {
    match decode_message(bytes, &DecodeContext::default()).unwrap() {
        Message::Notification(n) => n,
        other => panic!("not a NOTIFICATION: {other:?}"),
    }
}

/// Every notif_*.hex: code, subcode and data as INDEX.md says, and byte-for-byte re-encoding.
#[test]
fn notification_vectors_decode_as_indexed_and_round_trip() {
    let mut seen = 0;
    for entry in std::fs::read_dir(VECTORS).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !(name.starts_with("notif_") && name.ends_with(".hex")) {
            continue;
        }
        seen += 1;
        let bytes = read_hex(&name);
        let n = decode(&bytes);
        let (code, subcode, data) = index_expectation(&name);
        assert_eq!((n.code, n.subcode), (code, subcode), "{name}");
        assert_eq!(n.data, data, "{name}");
        assert_eq!(n.shutdown_message(), None, "{name}");
        assert_eq!(n.hard_reset_inner(), None, "{name}");
        assert_eq!(
            encode_to_vec(&Message::Notification(n.clone()), &EncodeContext::default()),
            bytes
        );
        assert_eq!(decode_notification(&bytes[19..]).unwrap(), n, "{name}");
    }
    assert_eq!(seen, 4);
}

#[test]
fn exabgp_rejects_tlv5_with_text() {
    let n = decode(&read_hex("notif_exabgp4221_rejects_rfc9252_tlv5.hex"));
    assert_eq!((n.code, n.subcode), (3, 5));
    assert_eq!(n.data, b"Invalid TLV size. Should be 21 but 34 received");
    assert_eq!(n.code_name(), "UPDATE Message Error");
    assert_eq!(n.subcode_name(), "Attribute Length Error");
    let j = message_json(&Message::Notification(n.clone()));
    assert_eq!(j["type"], "notification");
    assert_eq!(j["code"], 3);
    assert_eq!(j["subcode"], 5);
    assert_eq!(j["code_name"], "UPDATE Message Error");
    assert_eq!(j["subcode_name"], "Attribute Length Error");
    assert_eq!(
        j["data_text"],
        "Invalid TLV size. Should be 21 but 34 received"
    );
    assert!(j.get("shutdown_message").is_none());
    assert_eq!(
        message_text(&Message::Notification(n)),
        "NOTIFICATION 3/5 UPDATE Message Error / Attribute Length Error \
         data=\"Invalid TLV size. Should be 21 but 34 received\""
    );
}

#[test]
fn frr_3_5_carries_the_prefix_sid_attribute() {
    let n = decode(&read_hex(
        "notif_frr84_ibgp_malformed_psid_3_5_with_data.hex",
    ));
    assert_eq!((n.code, n.subcode), (3, 5));
    // the offending attribute: flags 0xc0, type 40 (Prefix-SID), length 35
    assert_eq!(n.data[..3], [0xc0, 0x28, 0x23]);
    assert_eq!(n.data.len(), 3 + 0x23);
    let j = message_json(&Message::Notification(n));
    assert_eq!(
        j["data"],
        "c028230500200001001e00fc0000000005000100000076000000000000120001000320101000"
    );
    assert!(j.get("data_text").is_none());
}

#[test]
fn frr_3_1_has_no_data() {
    let n = decode(&read_hex("notif_frr84_ebgp_malformed_psid_3_1.hex"));
    assert_eq!((n.code, n.subcode, n.data.len()), (3, 1, 0));
    assert_eq!(n.subcode_name(), "Malformed Attribute List");
    assert_eq!(
        message_text(&Message::Notification(n)),
        "NOTIFICATION 3/1 UPDATE Message Error / Malformed Attribute List"
    );
}

#[test]
fn notification_of_1_byte() {
    // RFC 4271 §6.1: shorter than the 21-octet minimum: 1/2 with the length as data.
    let e = decode_notification(&[6]).unwrap_err();
    assert_eq!(
        (e.code, e.subcode, e.data.as_slice()),
        (1, 2, &[0u8, 20][..])
    );
    let e = decode_notification(&[]).unwrap_err();
    assert_eq!(
        (e.code, e.subcode, e.data.as_slice()),
        (1, 2, &[0u8, 19][..])
    );
    let mut msg = vec![0xff; 16];
    msg.extend([0, 20, 3, 6]);
    let e = decode_message(&msg, &DecodeContext::default()).unwrap_err();
    assert_eq!(
        (e.code, e.subcode, e.data.as_slice()),
        (1, 2, &[0u8, 20][..])
    );
}

#[test]
fn cease_shutdown_communication_round_trip() {
    let n = NotificationMessage::cease_shutdown(2, "upgrade to sidra 0.2, back in 5 min");
    let bytes = encode_to_vec(&Message::Notification(n.clone()), &EncodeContext::default());
    let back = decode(&bytes);
    assert_eq!(back, n);
    assert_eq!(
        back.shutdown_message().as_deref(),
        Some("upgrade to sidra 0.2, back in 5 min")
    );
    let j = message_json(&Message::Notification(back.clone()));
    assert_eq!(j["shutdown_message"], "upgrade to sidra 0.2, back in 5 min");
    assert_eq!(j["subcode_name"], "Administrative Shutdown");
    assert!(message_text(&Message::Notification(back)).contains("shutdown=\"upgrade"));
    // a 300-byte message is cut to 255 bytes, and never inside a character
    let long = format!("x{}", "ü".repeat(150));
    let n = NotificationMessage::cease_shutdown(4, &long);
    assert_eq!(n.data[0], 255);
    assert_eq!(n.data.len(), 256);
    assert_eq!(n.shutdown_message().unwrap().len(), 255);
    // malformed: length beyond the data, or not UTF-8: no message, no decode failure
    for data in [vec![9, b'a'], vec![2, 0xc3, 0x28]] {
        let mut msg = vec![0xff; 16];
        msg.extend([0, 0, 3, 6, 2]);
        msg.extend(&data);
        msg[17] = u8::try_from(msg.len()).unwrap();
        let n = decode(&msg);
        assert_eq!(n.data, data);
        assert_eq!(n.shutdown_message(), None);
        assert!(
            message_json(&Message::Notification(n))
                .get("shutdown_message")
                .is_none()
        );
    }
}

#[test]
fn hard_reset_inner_notification() {
    let inner = NotificationMessage::new(4, 0, vec![]);
    let n = NotificationMessage::hard_reset(&inner);
    let bytes = encode_to_vec(&Message::Notification(n.clone()), &EncodeContext::default());
    assert_eq!(bytes[19..], [6, 9, 4, 0]);
    let back = decode(&bytes);
    assert_eq!(back.hard_reset_inner(), Some((4, 0, &[][..])));
    let j = message_json(&Message::Notification(back.clone()));
    assert_eq!(j["subcode_name"], "Hard Reset");
    assert_eq!(j["hard_reset"]["code_name"], "Hold Timer Expired");
    assert_eq!(
        message_text(&Message::Notification(back)),
        "NOTIFICATION 6/9 Cease / Hard Reset hard-reset=4/0 Hold Timer Expired / Unspecific"
    );
}

#[test]
fn every_code_and_subcode_has_a_name() {
    let named: &[(u8, &[u8])] = &[
        (1, &[1, 2, 3]),
        (2, &[1, 2, 3, 4, 6, 7, 11]),
        (3, &[1, 2, 3, 4, 5, 6, 8, 9, 10, 11]),
        (5, &[1, 2, 3]),
        (6, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        (7, &[1]),
    ];
    for (code, subs) in named {
        for sub in *subs {
            let n = NotificationMessage::new(*code, *sub, vec![]);
            assert_ne!(n.code_name(), "Unknown", "{code}");
            assert_ne!(n.subcode_name(), "Unknown", "{code}/{sub}");
        }
    }
    assert_eq!(
        NotificationMessage::new(4, 0, vec![]).subcode_name(),
        "Unspecific"
    );
    assert_eq!(
        NotificationMessage::new(5, 2, vec![]).subcode_name(),
        "Receive Unexpected Message in OpenConfirm State"
    );
    assert_eq!(
        NotificationMessage::new(6, 10, vec![]).subcode_name(),
        "BFD Down"
    );
    assert_eq!(
        NotificationMessage::new(6, 99, vec![]).subcode_name(),
        "Unknown"
    );
}

#[test]
fn notification_from_message_error() {
    let e = MessageError::new(2, 7, vec![1, 4, 0, 2, 0, 128], "missing ipv6-vpn");
    let n = NotificationMessage::from(&e);
    assert_eq!(
        (n.code, n.subcode, n.data.as_slice()),
        (2, 7, &[1u8, 4, 0, 2, 0, 128][..])
    );
    let j = error_json(&e);
    assert_eq!(j["type"], "error");
    assert_eq!(j["code"], 2);
    assert_eq!(j["subcode"], 7);
    assert_eq!(j["subcode_name"], "Unsupported Capability");
    assert_eq!(j["reason"], "missing ipv6-vpn");
    assert_eq!(j["data"], "010400020080");
}
