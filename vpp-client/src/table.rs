//! VPP's message table and the resolution of this client's messages against it.
//!
//! Message ids are dynamic: they depend on the VPP build and the loaded plugins (VPP 26.06 with
//! four plugins numbered up to 849, `sr_policy_add` = 618). Each entry's name is
//! `<msgname>_<crc8hex>`; a message whose definition changed gets a new CRC, so resolving by
//! `name_crc` both finds the id and proves the layout is the one this client encodes.

use std::collections::HashMap;

use crate::error::Error;
use crate::messages::MsgDef;
use crate::messages::defs::{
    OPTIONAL, REQUIRED, SR_POLICIES_DETAILS, SR_POLICIES_DUMP, SR_POLICIES_V2_DETAILS,
    SR_POLICIES_V2_DUMP,
};

/// The message table from `sockclnt_create_reply`: `<name>_<crc>` -> id.
#[derive(Debug, Clone, Default)]
pub struct MessageTable {
    by_name: HashMap<String, u16>,
}

impl MessageTable {
    /// Builds a table from `(name_crc, id)` entries.
    pub fn new(entries: impl IntoIterator<Item = (String, u16)>) -> Self {
        Self {
            by_name: entries.into_iter().collect(),
        }
    }

    /// The id of `name_crc`, if VPP has it.
    pub fn get(&self, name_crc: &str) -> Option<u16> {
        self.by_name.get(name_crc).copied()
    }

    /// Number of messages.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// This client's messages resolved to this VPP's ids.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    ids: HashMap<&'static str, u16>,
    names: HashMap<u16, &'static str>,
    table: MessageTable,
}

impl Resolved {
    /// Resolves every required message (or fails naming the first one VPP lacks) and every
    /// optional message VPP has.
    pub(crate) fn new(table: MessageTable) -> Result<Self, Error> {
        let mut ids = HashMap::new();
        let mut missing = Vec::new();
        for def in REQUIRED {
            match table.get(def.name_crc) {
                Some(id) => {
                    ids.insert(def.name_crc, id);
                }
                None => missing.push(def.name_crc),
            }
        }
        for def in OPTIONAL {
            if let Some(id) = table.get(def.name_crc) {
                ids.insert(def.name_crc, id);
            }
        }
        let has = |d: &MsgDef| ids.contains_key(d.name_crc);
        let v2 = has(&SR_POLICIES_V2_DUMP) && has(&SR_POLICIES_V2_DETAILS);
        let v1 = has(&SR_POLICIES_DUMP) && has(&SR_POLICIES_DETAILS);
        if !v2 && !v1 {
            missing.push(SR_POLICIES_V2_DUMP.name_crc);
        }
        if let Some(first) = missing.first() {
            tracing::error!(missing = ?missing, "VPP lacks messages this client needs");
            return Err(Error::MissingMessage { name_crc: first });
        }
        let names = ids.iter().map(|(n, id)| (*id, *n)).collect();
        Ok(Self { ids, names, table })
    }

    /// The id of `def`, or [`Error::Unsupported`].
    pub(crate) fn id(&self, def: &MsgDef) -> Result<u16, Error> {
        self.ids
            .get(def.name_crc)
            .copied()
            .ok_or(Error::Unsupported {
                name_crc: def.name_crc,
            })
    }

    /// True if VPP has `def`.
    pub(crate) fn has(&self, def: &MsgDef) -> bool {
        self.ids.contains_key(def.name_crc)
    }

    /// Our name for an id (for logs).
    pub(crate) fn name_of(&self, id: u16) -> &'static str {
        self.names.get(&id).copied().unwrap_or("<unknown>")
    }

    /// The whole table.
    pub(crate) fn table(&self) -> &MessageTable {
        &self.table
    }

    /// `(name_crc, id)` of every resolved message, sorted by name.
    pub(crate) fn resolved(&self) -> Vec<(&'static str, u16)> {
        let mut v: Vec<_> = self.ids.iter().map(|(n, id)| (*n, *id)).collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_table() -> MessageTable {
        MessageTable::new(
            REQUIRED
                .iter()
                .chain(OPTIONAL)
                .enumerate()
                .map(|(i, d)| (d.name_crc.to_string(), 100 + i as u16)),
        )
    }

    #[test]
    fn resolves_and_names_missing() {
        let r = Resolved::new(full_table()).unwrap();
        assert!(r.has(&SR_POLICIES_V2_DUMP));
        assert_eq!(
            r.name_of(r.id(&SR_POLICIES_DUMP).unwrap()),
            SR_POLICIES_DUMP.name_crc
        );

        // A changed CRC is a missing message, named in the error.
        let mut entries: Vec<_> = full_table().by_name.into_iter().collect();
        for e in &mut entries {
            if e.0 == "sr_policy_add_44ac92e8" {
                e.0 = "sr_policy_add_deadbeef".into();
            }
        }
        let err = Resolved::new(MessageTable::new(entries)).unwrap_err();
        assert!(err.to_string().contains("sr_policy_add_44ac92e8"), "{err}");
        assert!(err.is_incompatible());
    }

    #[test]
    fn policies_dump_needs_one_variant() {
        let only_v1 = MessageTable::new(
            full_table()
                .by_name
                .into_iter()
                .filter(|(n, _)| !n.starts_with("sr_policies_v2")),
        );
        let r = Resolved::new(only_v1.clone()).unwrap();
        assert!(!r.has(&SR_POLICIES_V2_DUMP));
        assert!(matches!(
            r.id(&SR_POLICIES_V2_DUMP),
            Err(Error::Unsupported { .. })
        ));
        let neither = MessageTable::new(
            only_v1
                .by_name
                .into_iter()
                .filter(|(n, _)| !n.starts_with("sr_policies_d")),
        );
        let err = Resolved::new(neither).unwrap_err();
        assert!(err.to_string().contains("sr_policies_v2_dump"), "{err}");
    }
}
