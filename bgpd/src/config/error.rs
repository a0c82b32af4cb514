//! Configuration problems, each naming the key it is about.

use std::fmt;

/// One problem with the configuration: the key it is about (`neighbors[1].hold_time`,
/// `global.router_id`, `file /etc/sidra/sidrad.toml`) and what is wrong with it.
///
/// Displayed as `KEY: PROBLEM`. A problem never contains a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in one configuration, in the order of the file (global, neighbor groups,
/// neighbors). Displayed one per line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems about exactly this key.
    pub fn for_key<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a ConfigError> + 'a {
        self.0.iter().filter(move |e| e.key == key)
    }

    pub(super) fn push(&mut self, key: impl Into<String>, problem: impl Into<String>) {
        self.0.push(ConfigError::new(key, problem));
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_one_per_line() {
        let errs = ConfigErrors(vec![
            ConfigError::new("global.asn", "missing (required)"),
            ConfigError::new("neighbors[0].port", "0 is out of range (must be 1..=65535)"),
        ]);
        assert_eq!(
            errs.to_string(),
            "global.asn: missing (required)\n\
             neighbors[0].port: 0 is out of range (must be 1..=65535)"
        );
        assert_eq!(errs.for_key("global.asn").count(), 1);
    }
}
