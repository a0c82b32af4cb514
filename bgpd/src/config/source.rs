//! From text and environment variables to the merged `config::Value` tree, and on to a
//! [`Config`]: the problems that the `config` crate would report without a key (TOML syntax,
//! numbers too large, malformed variable names) are caught here first, with one.

use toml::de::{DeTable, DeValue};

use super::walk::Node;
use super::{Config, ConfigErrors, ENV_PREFIX, ENV_SEPARATOR, resolve};

/// Load `text` (named `key` in problems about the text as a whole) with `env` on top.
pub(super) fn load<I>(key: &str, text: &str, env: I) -> Result<Config, ConfigErrors>
where
    I: IntoIterator<Item = (String, String)>,
{
    let mut errs = ConfigErrors::default();
    // The `config` crate parses the text too, but its syntax errors are several lines long and
    // its numeric overflows name no key: this parse gives both a position.
    match DeTable::parse(text) {
        Ok(table) => check_numbers("", table.get_ref(), &mut errs),
        Err(e) => {
            let at = e
                .span()
                .map(|span| {
                    let (line, column) = line_column(text, span.start);
                    format!(" at line {line}, column {column}")
                })
                .unwrap_or_default();
            errs.push(key, format!("TOML syntax error{at}: {}", e.message()));
        }
    }
    let env = overrides(env, &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    let built = config::Config::builder()
        .add_source(config::File::from_str(text, config::FileFormat::Toml))
        .add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("_")
                .separator(ENV_SEPARATOR)
                .source(Some(env)),
        )
        .build();
    let tree = match built {
        Ok(c) => c.cache,
        Err(e) => {
            errs.push(key, e.to_string().replace('\n', " "));
            return Err(errs);
        }
    };
    match resolve::config(&Node::root(&tree), &mut errs) {
        Some(config) if errs.is_empty() => Ok(config),
        _ => Err(errs),
    }
}

/// A configuration override: `SIDRA_<SECTION>__<KEY>`. Other `SIDRA_` variables (`SIDRA_LOG`)
/// belong to someone else.
pub(super) fn is_ours(name: &str) -> bool {
    name.strip_prefix(ENV_PREFIX)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|rest| rest.contains(ENV_SEPARATOR))
}

/// The overrides among `env`, minus the malformed ones, which are reported.
fn overrides<I>(env: I, errs: &mut ConfigErrors) -> config::Map<String, String>
where
    I: IntoIterator<Item = (String, String)>,
{
    let mut out = config::Map::new();
    for (name, value) in env {
        if !is_ours(&name) {
            continue;
        }
        let path = name.get(ENV_PREFIX.len() + 1..).unwrap_or_default();
        let var = format!("environment variable {name}");
        if path.split(ENV_SEPARATOR).any(str::is_empty) {
            errs.push(var, "is not of the form SIDRA_<SECTION>__<KEY>");
        } else if path.to_ascii_lowercase().starts_with("neighbors__") {
            errs.push(
                var,
                "[[neighbors]] entries cannot be set from the environment \
                 (a neighbor group's keys can: SIDRA_NEIGHBOR_GROUPS__<GROUP>__<KEY>)",
            );
        } else {
            out.insert(name, value);
        }
    }
    out
}

/// The overrides in the process environment; a non-UTF-8 one is a problem.
pub(super) fn process_env(errs: &mut ConfigErrors) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Ok(name) = name.into_string() else {
            continue;
        };
        if !is_ours(&name) {
            continue;
        }
        match value.into_string() {
            Ok(value) => out.push((name, value)),
            Err(_) => errs.push(format!("environment variable {name}"), "is not valid UTF-8"),
        }
    }
    out
}

/// Integers beyond i64 and floats beyond f64, which the `config` crate rejects without a key.
fn check_numbers(key: &str, table: &DeTable<'_>, errs: &mut ConfigErrors) {
    for (name, value) in table {
        let child = if key.is_empty() {
            name.get_ref().to_string()
        } else {
            format!("{key}.{}", name.get_ref())
        };
        check_value(&child, value.get_ref(), errs);
    }
}

fn check_value(key: &str, value: &DeValue<'_>, errs: &mut ConfigErrors) {
    match value {
        DeValue::Integer(i) if i64::from_str_radix(i.as_str(), i.radix()).is_err() => {
            errs.push(key, format!("{i} is too large"));
        }
        DeValue::Float(f)
            if !f.as_str().contains("inf")
                && f.as_str().parse::<f64>().is_ok_and(f64::is_infinite) =>
        {
            errs.push(key, format!("{} is too large", f.as_str()));
        }
        DeValue::Table(t) => check_numbers(key, t, errs),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_value(&format!("{key}[{i}]"), item.get_ref(), errs);
            }
        }
        _ => {}
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// An I/O error without the `(os error N)` suffix.
pub(super) fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}
