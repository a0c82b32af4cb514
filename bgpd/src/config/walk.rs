//! Reading the merged `config::Value` tree by hand, so that every problem (a wrong type, an
//! unknown key, a value out of range) names its full key and all of them are reported at once.
//!
//! The `config` crate's own serde path stops at the first problem and names an unknown field by
//! its parent table only (`for key neighbors[0]`), sometimes without the dot
//! (`neighbors[0]hold_time`); walking the tree here gives `neighbors[0].hold_tme: unknown key
//! (did you mean hold_time?)`.
//!
//! Values from the file keep their TOML types. Values from the environment are always strings;
//! they are parsed here into the type the key expects, and a problem with one names the
//! environment variable it came from.

use config::{Value, ValueKind};

use super::ENV_PREFIX;
use super::error::ConfigErrors;

/// The origin the `config` crate gives to values of its `Environment` source.
const ENV_ORIGIN: &str = "the environment";

/// A value read from the configuration, with the key it was read at.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Field<T> {
    pub value: T,
    pub key: String,
    /// The environment variable the value came from, if it did.
    pub env: Option<String>,
}

impl<T> Field<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        Field {
            value: f(self.value),
            key: self.key,
            env: self.env,
        }
    }

    /// Report a problem with this value.
    pub fn problem(&self, errs: &mut ConfigErrors, problem: impl Into<String>) {
        let mut problem = problem.into();
        if let Some(var) = &self.env {
            problem.push_str(&format!(" (from environment variable {var})"));
        }
        errs.push(self.key.clone(), problem);
    }
}

/// A node of the configuration tree and its key (`neighbors[0].families[1]`).
pub(super) struct Node<'a> {
    pub key: String,
    /// The last component of the key: the table entry's name (empty for an array element).
    name: String,
    pub value: &'a Value,
}

impl<'a> Node<'a> {
    pub fn root(value: &'a Value) -> Self {
        Node {
            key: String::new(),
            name: String::new(),
            value,
        }
    }

    fn env_var(&self) -> Option<String> {
        (self.value.origin() == Some(ENV_ORIGIN)).then(|| env_var_name(&self.key))
    }

    fn field<T>(&self, value: T) -> Field<T> {
        Field {
            value,
            key: self.key.clone(),
            env: self.env_var(),
        }
    }

    fn wrong_type(&self, expected: &str, errs: &mut ConfigErrors) {
        let found = describe(&self.value.kind, self.env_var().is_some());
        self.field(())
            .problem(errs, format!("expected {expected}, found {found}"));
    }

    /// A string from the environment, if the value is one.
    fn env_string(&self) -> Option<&'a str> {
        match &self.value.kind {
            ValueKind::String(s) if self.value.origin() == Some(ENV_ORIGIN) => Some(s),
            _ => None,
        }
    }

    pub fn int(&self, errs: &mut ConfigErrors) -> Option<Field<i64>> {
        let v = match &self.value.kind {
            ValueKind::I64(v) => Some(*v),
            ValueKind::I128(v) => i64::try_from(*v).ok(),
            ValueKind::U64(v) => i64::try_from(*v).ok(),
            ValueKind::U128(v) => i64::try_from(*v).ok(),
            _ => self.env_string().and_then(|s| s.trim().parse().ok()),
        };
        if v.is_none() {
            self.wrong_type("an integer", errs);
        }
        v.map(|v| self.field(v))
    }

    pub fn boolean(&self, errs: &mut ConfigErrors) -> Option<Field<bool>> {
        let v = match &self.value.kind {
            ValueKind::Boolean(b) => Some(*b),
            _ => self
                .env_string()
                .and_then(|s| s.trim().to_ascii_lowercase().parse().ok()),
        };
        if v.is_none() {
            self.wrong_type("true or false", errs);
        }
        v.map(|v| self.field(v))
    }

    pub fn string(&self, errs: &mut ConfigErrors) -> Option<Field<String>> {
        match &self.value.kind {
            ValueKind::String(s) => Some(self.field(s.clone())),
            _ => {
                self.wrong_type("a string", errs);
                None
            }
        }
    }

    /// An array of strings. From the environment: a comma-separated list (empty: no element).
    /// The elements are keyed `key[i]`.
    pub fn strings(&self, errs: &mut ConfigErrors) -> Option<Field<Vec<Field<String>>>> {
        if let Some(s) = self.env_string() {
            let items = s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .enumerate()
                .map(|(i, s)| Field {
                    value: s.to_owned(),
                    key: format!("{}[{i}]", self.key),
                    env: self.env_var(),
                })
                .collect();
            return Some(self.field(items));
        }
        let ValueKind::Array(items) = &self.value.kind else {
            self.wrong_type("an array of strings", errs);
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let node = self.index(i, item);
            match node.string(errs) {
                Some(f) => out.push(f),
                None => ok = false,
            }
        }
        ok.then(|| self.field(out))
    }

    /// The entries of a table, sorted by key (the `config` crate keeps them in a hash map).
    pub fn table(&self, expected: &str, errs: &mut ConfigErrors) -> Option<Vec<Node<'a>>> {
        let ValueKind::Table(map) = &self.value.kind else {
            self.wrong_type(expected, errs);
            return None;
        };
        let mut entries: Vec<_> = map.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        Some(entries.into_iter().map(|(k, v)| self.child(k, v)).collect())
    }

    pub fn array(&self, expected: &str, errs: &mut ConfigErrors) -> Option<Vec<Node<'a>>> {
        let ValueKind::Array(items) = &self.value.kind else {
            self.wrong_type(expected, errs);
            return None;
        };
        Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| self.index(i, v))
                .collect(),
        )
    }

    /// The name of a table entry (which may contain dots: `[neighbor_groups."a.b"]`).
    pub fn name(&self) -> &str {
        &self.name
    }

    fn child(&self, name: &str, value: &'a Value) -> Node<'a> {
        let key = if self.key.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.key)
        };
        Node {
            key,
            name: name.to_owned(),
            value,
        }
    }

    fn index(&self, i: usize, value: &'a Value) -> Node<'a> {
        Node {
            key: format!("{}[{i}]", self.key),
            name: String::new(),
            value,
        }
    }

    /// Report this entry as an unknown key, suggesting the closest known one.
    pub fn unknown(&self, known: &[&str], errs: &mut ConfigErrors) {
        let problem = match suggest(self.name(), known) {
            Some(s) => format!("unknown key (did you mean {s}?)"),
            None => format!("unknown key (known keys: {})", known.join(", ")),
        };
        self.field(()).problem(errs, problem);
    }
}

/// The environment variable that sets `key`: `global.router_id` -> `SIDRA_GLOBAL__ROUTER_ID`.
fn env_var_name(key: &str) -> String {
    format!(
        "{ENV_PREFIX}_{}",
        key.to_ascii_uppercase().replace('.', "__")
    )
}

fn describe(kind: &ValueKind, from_env: bool) -> String {
    match kind {
        ValueKind::String(s) if from_env => format!("{s:?}"),
        ValueKind::String(s) => format!("string {s:?}"),
        ValueKind::Nil => "nothing".into(),
        ValueKind::Boolean(b) => format!("boolean {b}"),
        ValueKind::I64(v) => format!("integer {v}"),
        ValueKind::I128(v) => format!("integer {v}"),
        ValueKind::U64(v) => format!("integer {v}"),
        ValueKind::U128(v) => format!("integer {v}"),
        ValueKind::Float(v) => format!("float {v}"),
        ValueKind::Table(_) => "a table".into(),
        ValueKind::Array(_) => "an array".into(),
    }
}

/// The known key closest to a misspelt one, if it is close enough to be a typo.
fn suggest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    let name = name.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&name, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            let del = prev[j + 1] + 1;
            let ins = cur[j] + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_and_suggestions() {
        assert_eq!(edit_distance("hold_tme", "hold_time"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        let known = ["hold_time", "keepalive", "passive"];
        assert_eq!(suggest("hold_tme", &known), Some("hold_time"));
        assert_eq!(suggest("Keepalive", &known), Some("keepalive"));
        assert_eq!(suggest("colour", &known), None);
    }

    #[test]
    fn env_names() {
        assert_eq!(env_var_name("global.router_id"), "SIDRA_GLOBAL__ROUTER_ID");
        assert_eq!(
            env_var_name("neighbor_groups.rr.hold_time"),
            "SIDRA_NEIGHBOR_GROUPS__RR__HOLD_TIME"
        );
    }
}
