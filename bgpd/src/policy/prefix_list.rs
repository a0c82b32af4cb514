//! Prefix lists: ordered entries `PREFIX [ge N] [le M] permit|deny`; the first entry that
//! matches a route's prefix decides, and a prefix no entry matches is not matched.
//!
//! An entry matches a prefix that lies inside its `prefix` and whose length is in its range:
//!
//! | written            | lengths matched      |
//! |--------------------|----------------------|
//! | `P/len`            | `len` (exact)        |
//! | `P/len ge G`       | `G..=max` (32 / 128) |
//! | `P/len le L`       | `len..=L`            |
//! | `P/len ge G le L`  | `G..=L`              |
//!
//! with `len <= G <= L <= max`, as in IOS and FRR.
//!
//! Compiled for lookup: the entries of each address family are sorted by (prefix length,
//! network bits, position), and a lookup masks the route's prefix to each distinct entry length
//! in turn and binary-searches for it, so its cost grows with the number of distinct lengths,
//! not with the number of entries.

use std::fmt;

use ipnet::IpNet;

/// What a matching entry does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ListAction {
    #[default]
    Permit,
    Deny,
}

/// One entry as configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PrefixListEntry {
    prefix: IpNet,
    ge: Option<u8>,
    le: Option<u8>,
    action: ListAction,
}

/// Why an entry is not valid; [`EntryError::key`] names the entry key it is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryError {
    HostBits { prefix: IpNet },
    GeBelowLength { ge: u8, len: u8 },
    GeTooLong { ge: u8, max: u8 },
    LeTooLong { le: u8, max: u8 },
    LeBelowGe { le: u8, ge: u8 },
    LeBelowLength { le: u8, len: u8 },
}

impl EntryError {
    /// `prefix`, `ge` or `le`.
    pub fn key(&self) -> &'static str {
        match self {
            EntryError::HostBits { .. } => "prefix",
            EntryError::GeBelowLength { .. } | EntryError::GeTooLong { .. } => "ge",
            EntryError::LeTooLong { .. }
            | EntryError::LeBelowGe { .. }
            | EntryError::LeBelowLength { .. } => "le",
        }
    }
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryError::HostBits { prefix } => write!(
                f,
                "{prefix} has host bits set (did you mean {}?)",
                prefix.trunc()
            ),
            EntryError::GeBelowLength { ge, len } => {
                write!(f, "{ge} is less than the prefix length {len}")
            }
            EntryError::GeTooLong { ge, max } | EntryError::LeTooLong { le: ge, max } => {
                write!(f, "{ge} is out of range (must be at most {max})")
            }
            EntryError::LeBelowGe { le, ge } => write!(f, "{le} is less than ge {ge}"),
            EntryError::LeBelowLength { le, len } => {
                write!(f, "{le} is less than the prefix length {len}")
            }
        }
    }
}

impl std::error::Error for EntryError {}

impl PrefixListEntry {
    /// A checked entry: no host bits, `len <= ge <= le <= max`.
    pub fn new(
        prefix: IpNet,
        ge: Option<u8>,
        le: Option<u8>,
        action: ListAction,
    ) -> Result<Self, EntryError> {
        if prefix.trunc() != prefix {
            return Err(EntryError::HostBits { prefix });
        }
        let (len, max) = (prefix.prefix_len(), prefix.max_prefix_len());
        if let Some(ge) = ge {
            if ge < len {
                return Err(EntryError::GeBelowLength { ge, len });
            }
            if ge > max {
                return Err(EntryError::GeTooLong { ge, max });
            }
        }
        if let Some(le) = le {
            if le > max {
                return Err(EntryError::LeTooLong { le, max });
            }
            match ge {
                Some(ge) if le < ge => return Err(EntryError::LeBelowGe { le, ge }),
                None if le < len => return Err(EntryError::LeBelowLength { le, len }),
                _ => {}
            }
        }
        Ok(PrefixListEntry {
            prefix,
            ge,
            le,
            action,
        })
    }

    pub fn prefix(&self) -> IpNet {
        self.prefix
    }

    pub fn action(&self) -> ListAction {
        self.action
    }

    /// The prefix lengths this entry matches, inclusive.
    pub fn lengths(&self) -> (u8, u8) {
        let len = self.prefix.prefix_len();
        match (self.ge, self.le) {
            (None, None) => (len, len),
            (Some(ge), None) => (ge, self.prefix.max_prefix_len()),
            (None, Some(le)) => (len, le),
            (Some(ge), Some(le)) => (ge, le),
        }
    }

    /// Does this entry match `p` (ignoring the other entries)?
    pub fn matches(&self, p: &IpNet) -> bool {
        let (lo, hi) = self.lengths();
        let (bits, len) = bits_of(p);
        let (own, own_len) = bits_of(&self.prefix);
        same_family(&self.prefix, p) && (lo..=hi).contains(&len) && mask(bits, own_len) == own
    }
}

impl fmt::Display for PrefixListEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = match self.action {
            ListAction::Permit => "permit",
            ListAction::Deny => "deny",
        };
        write!(f, "{action} {}", self.prefix)?;
        if let Some(ge) = self.ge {
            write!(f, " ge {ge}")?;
        }
        if let Some(le) = self.le {
            write!(f, " le {le}")?;
        }
        Ok(())
    }
}

/// A named, compiled prefix list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixList {
    name: String,
    entries: Vec<PrefixListEntry>,
    v4: Index,
    v6: Index,
}

/// One family's entries, sorted by (len, bits, seq).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Index {
    keys: Vec<Key>,
    /// The distinct entry prefix lengths, ascending.
    lengths: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    len: u8,
    bits: u128,
    lo: u8,
    hi: u8,
    seq: u32,
    action: ListAction,
}

impl PrefixList {
    pub fn new(name: impl Into<String>, entries: Vec<PrefixListEntry>) -> Self {
        let (mut v4, mut v6) = (Index::default(), Index::default());
        for (seq, e) in entries.iter().enumerate() {
            let (bits, len) = bits_of(&e.prefix);
            let (lo, hi) = e.lengths();
            let seq = u32::try_from(seq).unwrap_or(u32::MAX);
            let index = match e.prefix {
                IpNet::V4(_) => &mut v4,
                IpNet::V6(_) => &mut v6,
            };
            index.keys.push(Key {
                len,
                bits,
                lo,
                hi,
                seq,
                action: e.action,
            });
        }
        for index in [&mut v4, &mut v6] {
            index.keys.sort_by_key(|k| (k.len, k.bits, k.seq));
            index.lengths = index.keys.iter().map(|k| k.len).collect();
            index.lengths.dedup();
        }
        PrefixList {
            name: name.into(),
            entries,
            v4,
            v6,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The entries in the order written.
    pub fn entries(&self) -> &[PrefixListEntry] {
        &self.entries
    }

    /// The action of the first entry that matches `p`; `None` if none does.
    pub fn lookup(&self, p: &IpNet) -> Option<ListAction> {
        let index = match p {
            IpNet::V4(_) => &self.v4,
            IpNet::V6(_) => &self.v6,
        };
        let (bits, plen) = bits_of(p);
        let mut best: Option<&Key> = None;
        for &len in &index.lengths {
            if len > plen {
                break;
            }
            let want = (len, mask(bits, len));
            let start = index.keys.partition_point(|k| (k.len, k.bits) < want);
            // Within one (len, bits) group the keys are in written order: the first whose
            // length range holds the prefix is the group's earliest match.
            let hit = index.keys[start..]
                .iter()
                .take_while(|k| (k.len, k.bits) == want)
                .find(|k| (k.lo..=k.hi).contains(&plen));
            if let Some(k) = hit
                && best.is_none_or(|b| k.seq < b.seq)
            {
                best = Some(k);
                if k.seq == 0 {
                    break;
                }
            }
        }
        best.map(|k| k.action)
    }

    /// Is `p` permitted: the first entry that matches it is a permit?
    pub fn permits(&self, p: &IpNet) -> bool {
        self.lookup(p) == Some(ListAction::Permit)
    }
}

fn same_family(a: &IpNet, b: &IpNet) -> bool {
    matches!(
        (a, b),
        (IpNet::V4(_), IpNet::V4(_)) | (IpNet::V6(_), IpNet::V6(_))
    )
}

/// The address left-aligned in 128 bits, and the prefix length.
fn bits_of(p: &IpNet) -> (u128, u8) {
    match p {
        IpNet::V4(n) => (u128::from(u32::from(n.addr())) << 96, n.prefix_len()),
        IpNet::V6(n) => (u128::from(n.addr()), n.prefix_len()),
    }
}

/// The first `len` bits of `bits`.
fn mask(bits: u128, len: u8) -> u128 {
    match len {
        0 => 0,
        l => bits & (u128::MAX << (128 - u32::from(l.min(128)))),
    }
}
