//! `[prefix_lists.NAME]` and `[[policies.NAME]]`: read, checked so that every problem names
//! its key, and compiled into a [`Policies`]; and the check of the neighbor keys that name a
//! policy.
//!
//! ```toml
//! [prefix_lists.pods]
//! entries = [{ prefix = "10.0.0.0/8", ge = 16, le = 24 }, { prefix = "10.99.0.0/16", le = 32, action = "deny" }]
//!
//! [[policies.from-rr]]
//! match = { prefix_list = "pods", community = ["65000:1"] }
//! set = { local_pref = 200 }
//! ```

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use super::ConfigErrors;
use super::settings::{self, Settings};
use super::walk::{Field, Node};
use crate::policy::community::{parse_community, parse_ext_community, parse_large_community};
use crate::policy::{
    AsPathLength, ListAction, Match, NextHopSet, Policies, Policy, PrefixList, PrefixListEntry,
    Set, Statement, StatementAction,
};

const PREFIX_LIST_KEYS: &[&str] = &["entries"];
const ENTRY_KEYS: &[&str] = &["prefix", "ge", "le", "action"];
const STATEMENT_KEYS: &[&str] = &["match", "set", "action"];
const MATCH_KEYS: &[&str] = &[
    "prefix_list",
    "families",
    "community",
    "ext_community",
    "large_community",
    "as_path_length",
];
const LENGTH_KEYS: &[&str] = &["min", "max"];
const SET_KEYS: &[&str] = &[
    "local_pref",
    "med",
    "community_add",
    "community_remove",
    "ext_community_add",
    "ext_community_remove",
    "large_community_add",
    "large_community_remove",
    "next_hop",
    "strip_private_as",
];

/// The compiled policies, and the names written in the file (also those that had problems,
/// so that a reference to one is not reported a second time).
#[derive(Default)]
pub(super) struct Defined {
    pub policies: Policies,
    policy_names: BTreeSet<String>,
    list_names: BTreeSet<String>,
}

impl Defined {
    /// Read `[prefix_lists]` and then `[policies]`, which may name the lists.
    pub fn read(
        lists: Option<&Node<'_>>,
        policies: Option<&Node<'_>>,
        errs: &mut ConfigErrors,
    ) -> Self {
        let mut d = Defined::default();
        if let Some(node) = lists {
            d.read_prefix_lists(node, errs);
        }
        if let Some(node) = policies {
            d.read_policies(node, errs);
        }
        d
    }

    /// The policy a neighbor key names, if it exists.
    pub fn get(&self, name: &str) -> Option<Arc<Policy>> {
        self.policies.get(name).cloned()
    }

    /// Report the `import_policy` / `export_policy` of `s` that name no policy.
    pub fn check_refs(&self, s: &Settings, errs: &mut ConfigErrors) {
        for f in [&s.import_policy, &s.export_policy].into_iter().flatten() {
            let known = Policies::is_builtin(&f.value) || self.policy_names.contains(&f.value);
            if !known {
                f.problem(errs, format!("no policy named {:?}", f.value));
            }
        }
    }

    fn read_prefix_lists(&mut self, node: &Node<'_>, errs: &mut ConfigErrors) {
        let expected = "a table of prefix lists ([prefix_lists.NAME])";
        for list in node.table(expected, errs).unwrap_or_default() {
            self.list_names.insert(list.name().to_owned());
            let before = errs.len();
            check_name(&list, "prefix list", errs);
            let mut entries = None;
            let expected = "a table ([prefix_lists.NAME] with entries = [...])";
            for entry in list.table(expected, errs).unwrap_or_default() {
                match entry.name() {
                    "entries" => entries = read_entries(&entry, errs),
                    _ => entry.unknown(PREFIX_LIST_KEYS, errs),
                }
            }
            if entries.is_none() && errs.len() == before {
                errs.push(format!("{}.entries", list.key), "missing (required)");
            }
            if let Some(entries) = entries
                && errs.len() == before
            {
                self.policies
                    .insert_prefix_list(PrefixList::new(list.name(), entries));
            }
        }
    }

    fn read_policies(&mut self, node: &Node<'_>, errs: &mut ConfigErrors) {
        let expected = "a table of policies ([[policies.NAME]])";
        for policy in node.table(expected, errs).unwrap_or_default() {
            let name = policy.name();
            self.policy_names.insert(name.to_owned());
            let before = errs.len();
            if Policies::is_builtin(name) {
                let problem = format!("{name:?} is a built-in policy (choose another name)");
                errs.push(policy.key.clone(), problem);
                continue;
            }
            check_name(&policy, "policy", errs);
            let expected = "an array of tables ([[policies.NAME]], one per statement)";
            let mut statements = Vec::new();
            for item in policy.array(expected, errs).unwrap_or_default() {
                if let Some(s) = self.read_statement(&item, errs) {
                    statements.push(s);
                }
            }
            if errs.len() == before {
                self.policies.insert(Policy::new(name, statements));
            }
        }
    }

    fn read_statement(&self, node: &Node<'_>, errs: &mut ConfigErrors) -> Option<Statement> {
        let before = errs.len();
        let mut s = Statement::default();
        let mut set_key = None;
        for entry in node.table("a table ([[policies.NAME]])", errs)? {
            match entry.name() {
                "match" => s.matches = self.read_match(&entry, errs).unwrap_or_default(),
                "set" => {
                    s.set = read_set(&entry, errs).unwrap_or_default();
                    set_key = Some(entry.key.clone());
                }
                "action" => {
                    if let Some(a) = entry.string(errs).and_then(|f| action(f, errs)) {
                        s.action = a.value;
                    }
                }
                _ => entry.unknown(STATEMENT_KEYS, errs),
            }
        }
        if let Some(key) = set_key
            && s.action == StatementAction::Reject
            && !s.set.is_empty()
        {
            errs.push(key, "has no effect: the statement's action is \"reject\"");
        }
        (errs.len() == before).then_some(s)
    }

    fn read_match(&self, node: &Node<'_>, errs: &mut ConfigErrors) -> Option<Match> {
        let before = errs.len();
        let mut m = Match::default();
        let expected = "a table (match = { prefix_list = \"NAME\", ... })";
        for entry in node.table(expected, errs)? {
            let e = &mut *errs;
            match entry.name() {
                "prefix_list" => m.prefix_list = entry.string(e).and_then(|f| self.list(f, e)),
                "families" => {
                    m.families = entry
                        .strings(e)
                        .and_then(|f| settings::families(f, e))
                        .map(|f| f.value)
                        .unwrap_or_default()
                }
                "community" => m.community = nonempty(&entry, parse_community, e),
                "ext_community" => m.ext_community = nonempty(&entry, parse_ext_community, e),
                "large_community" => m.large_community = nonempty(&entry, parse_large_community, e),
                "as_path_length" => m.as_path_length = as_path_length(&entry, e),
                _ => entry.unknown(MATCH_KEYS, e),
            }
        }
        (errs.len() == before).then_some(m)
    }

    /// The prefix list a match names.
    fn list(&self, f: Field<String>, errs: &mut ConfigErrors) -> Option<Arc<PrefixList>> {
        let found = self.policies.prefix_list(&f.value).cloned();
        if found.is_none() && !self.list_names.contains(&f.value) {
            f.problem(errs, format!("no prefix list named {:?}", f.value));
        }
        found
    }
}

/// Policy and prefix list names are TOML bare keys: letters, digits, `-` and `_`.
fn check_name(node: &Node<'_>, what: &str, errs: &mut ConfigErrors) {
    let name = node.name();
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        errs.push(
            node.key.clone(),
            format!("{name:?} is not a valid {what} name (use letters, digits, - and _)"),
        );
    }
}

fn read_entries(node: &Node<'_>, errs: &mut ConfigErrors) -> Option<Vec<PrefixListEntry>> {
    let expected = "an array of tables ({ prefix = \"10.0.0.0/8\", le = 24 }, ...)";
    let before = errs.len();
    let mut out = Vec::new();
    for item in node.array(expected, errs)? {
        let expected =
            "a table ({ prefix = \"10.0.0.0/8\", ge = 16, le = 24, action = \"permit\" })";
        let Some(keys) = item.table(expected, errs) else {
            continue;
        };
        let (mut prefix, mut ge, mut le, mut act) = (None, None, None, ListAction::Permit);
        let mut prefix_seen = false;
        for entry in keys {
            let e = &mut *errs;
            match entry.name() {
                "prefix" => {
                    prefix_seen = true;
                    prefix = entry.string(e).and_then(|f| prefix_of(f, e));
                }
                "ge" => {
                    ge = entry
                        .int(e)
                        .and_then(|f| settings::range::<u8>(f, 0, 128, e))
                }
                "le" => {
                    le = entry
                        .int(e)
                        .and_then(|f| settings::range::<u8>(f, 0, 128, e))
                }
                "action" => match entry.string(e) {
                    Some(f) if f.value == "permit" => act = ListAction::Permit,
                    Some(f) if f.value == "deny" => act = ListAction::Deny,
                    Some(f) => f.problem(e, format!("{:?} is not permit or deny", f.value)),
                    None => {}
                },
                _ => entry.unknown(ENTRY_KEYS, e),
            }
        }
        if !prefix_seen {
            errs.push(format!("{}.prefix", item.key), "missing (required)");
        }
        let Some(prefix) = prefix else { continue };
        let (ge, le) = (ge.map(|f| f.value), le.map(|f| f.value));
        match PrefixListEntry::new(prefix, ge, le, act) {
            Ok(entry) => out.push(entry),
            Err(e) => errs.push(format!("{}.{}", item.key, e.key()), e.to_string()),
        }
    }
    (errs.len() == before).then_some(out)
}

fn prefix_of(f: Field<String>, errs: &mut ConfigErrors) -> Option<ipnet::IpNet> {
    match f.value.trim().parse::<ipnet::IpNet>() {
        Ok(net) => Some(net),
        Err(_) => {
            let problem = format!(
                "{:?} is not a prefix like 10.0.0.0/8 or 2001:db8::/32",
                f.value
            );
            f.problem(errs, problem);
            None
        }
    }
}

fn action(f: Field<String>, errs: &mut ConfigErrors) -> Option<Field<StatementAction>> {
    let a = match f.value.as_str() {
        "accept" => StatementAction::Accept,
        "reject" => StatementAction::Reject,
        "next" => StatementAction::Next,
        _ => {
            f.problem(
                errs,
                format!("{:?} is not one of accept, reject, next", f.value),
            );
            return None;
        }
    };
    Some(f.map(|_| a))
}

/// A list of values in their text form, each parsed by `parse`; problems are keyed `key[i]`.
fn values<T>(
    node: &Node<'_>,
    parse: fn(&str) -> Result<T, String>,
    errs: &mut ConfigErrors,
) -> Option<Field<Vec<T>>> {
    let f = node.strings(errs)?;
    let mut out = Vec::with_capacity(f.value.len());
    let mut ok = true;
    for item in &f.value {
        match parse(&item.value) {
            Ok(v) => out.push(v),
            Err(problem) => {
                item.problem(errs, problem);
                ok = false;
            }
        }
    }
    ok.then(|| f.map(|_| out))
}

/// [`values`], nothing if there is a problem.
fn list<T>(
    node: &Node<'_>,
    parse: fn(&str) -> Result<T, String>,
    errs: &mut ConfigErrors,
) -> Vec<T> {
    values(node, parse, errs)
        .map(|f| f.value)
        .unwrap_or_default()
}

/// [`values`], where an empty list is a problem (a condition nothing can meet).
fn nonempty<T>(
    node: &Node<'_>,
    parse: fn(&str) -> Result<T, String>,
    errs: &mut ConfigErrors,
) -> Vec<T> {
    match values(node, parse, errs) {
        Some(f) if f.value.is_empty() => {
            f.problem(errs, "is empty (list at least one, or leave the key out)");
            Vec::new()
        }
        Some(f) => f.value,
        None => Vec::new(),
    }
}

fn as_path_length(node: &Node<'_>, errs: &mut ConfigErrors) -> Option<AsPathLength> {
    let (mut min, mut max) = (None, None);
    for entry in node.table("a table (as_path_length = { min = 0, max = 10 })", errs)? {
        let e = &mut *errs;
        match entry.name() {
            "min" => min = entry.int(e).and_then(|f| u32_field(f, e)),
            "max" => max = entry.int(e).and_then(|f| u32_field(f, e)),
            _ => entry.unknown(LENGTH_KEYS, e),
        }
    }
    if min.is_none() && max.is_none() {
        errs.push(node.key.clone(), "is empty (set min, max or both)");
        return None;
    }
    let lo = min.as_ref().map_or(0, |f| f.value);
    if let Some(hi) = &max
        && hi.value < lo
    {
        hi.problem(errs, format!("{} is less than min {lo}", hi.value));
        return None;
    }
    Some(AsPathLength {
        min: lo,
        max: max.map_or(u32::MAX, |f| f.value),
    })
}

fn read_set(node: &Node<'_>, errs: &mut ConfigErrors) -> Option<Set> {
    let before = errs.len();
    let mut s = Set::default();
    let expected = "a table (set = { local_pref = 200, ... })";
    for entry in node.table(expected, errs)? {
        let e = &mut *errs;
        match entry.name() {
            "local_pref" => s.local_pref = u32_of(&entry, e),
            "med" => s.med = u32_of(&entry, e),
            "community_add" => s.community_add = list(&entry, parse_community, e),
            "community_remove" => s.community_remove = list(&entry, parse_community, e),
            "ext_community_add" => s.ext_community_add = list(&entry, parse_ext_community, e),
            "ext_community_remove" => s.ext_community_remove = list(&entry, parse_ext_community, e),
            "large_community_add" => s.large_community_add = list(&entry, parse_large_community, e),
            "large_community_remove" => {
                s.large_community_remove = list(&entry, parse_large_community, e)
            }
            "next_hop" => s.next_hop = entry.string(e).and_then(|f| next_hop(f, e)),
            "strip_private_as" => s.strip_private_as = entry.boolean(e).is_some_and(|f| f.value),
            _ => entry.unknown(SET_KEYS, e),
        }
    }
    (errs.len() == before).then_some(s)
}

fn u32_field(f: Field<i64>, errs: &mut ConfigErrors) -> Option<Field<u32>> {
    settings::range(f, 0, i64::from(u32::MAX), errs)
}

fn u32_of(node: &Node<'_>, errs: &mut ConfigErrors) -> Option<u32> {
    node.int(errs)
        .and_then(|f| u32_field(f, errs))
        .map(|f| f.value)
}

fn next_hop(f: Field<String>, errs: &mut ConfigErrors) -> Option<NextHopSet> {
    match f.value.trim() {
        "self" => return Some(NextHopSet::SelfAddr),
        "unchanged" => return Some(NextHopSet::Unchanged),
        _ => {}
    }
    match f.value.trim().parse::<IpAddr>() {
        Ok(ip) if ip.is_unspecified() || ip.is_multicast() => {
            f.problem(
                errs,
                format!("{ip} is not allowed (must be a unicast address)"),
            );
            None
        }
        Ok(ip) => Some(NextHopSet::Address(ip.to_canonical())),
        Err(_) => {
            let problem = format!(
                "{:?} is not \"self\", \"unchanged\" or an IP address",
                f.value
            );
            f.problem(errs, problem);
            None
        }
    }
}
