//! The routes a peer has announced to us (Adj-RIB-In), in the simplest form the session needs:
//! per family, prefix (+ RD, + path id) -> the shared attribute set of the UPDATE that brought
//! it. The RIB work replaces this with interned attributes and the decision process.

use std::collections::HashMap;
use std::sync::Arc;

use ipnet::IpNet;

use crate::packet::attribute::PathAttribute;
use crate::packet::nlri::{Nlri, RouteDistinguisher};
use crate::packet::{Family, UpdateMessage};

type Key = (IpNet, Option<RouteDistinguisher>, Option<u32>);

fn key(n: &Nlri) -> Key {
    (n.prefix, n.vpn.map(|v| v.rd), n.path_id)
}

#[derive(Default)]
pub struct AdjRibIn {
    tables: HashMap<Family, HashMap<Key, Arc<Vec<PathAttribute>>>>,
}

impl AdjRibIn {
    /// Apply one UPDATE (its errors already turned into withdrawals by
    /// [`UpdateMessage::announced`] / [`UpdateMessage::withdrawals`]). Families in `disabled`
    /// (RFC 7606 AFI/SAFI disable) are ignored.
    pub fn apply(&mut self, u: &UpdateMessage, disabled: &[Family]) {
        for (f, n) in u.withdrawals() {
            if let Some(t) = self.tables.get_mut(&f) {
                t.remove(&key(n));
            }
        }
        let announced = u.announced();
        if announced.is_empty() {
            return;
        }
        let attrs = Arc::new(u.attributes.clone());
        for (f, n) in announced {
            if disabled.contains(&f) {
                continue;
            }
            self.tables
                .entry(f)
                .or_default()
                .insert(key(n), attrs.clone());
        }
    }

    /// Forget every route of a family (AFI/SAFI disable) or of all families (session down).
    pub fn clear(&mut self, family: Option<Family>) {
        match family {
            Some(f) => {
                self.tables.remove(&f);
            }
            None => self.tables.clear(),
        }
    }

    pub fn counts(&self) -> Vec<(Family, usize)> {
        let mut v: Vec<(Family, usize)> = self
            .tables
            .iter()
            .map(|(f, t)| (*f, t.len()))
            .filter(|(_, n)| *n > 0)
            .collect();
        v.sort();
        v
    }
}
