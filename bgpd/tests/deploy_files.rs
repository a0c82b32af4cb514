//! The deployment files in `etc/`: every YAML and JSON file parses, the Prometheus scrape
//! configuration scrapes sidrad's metrics listener, and the Grafana dashboard uses only metrics
//! sidrad exports (and shows each of them).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

fn etc() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../etc")
}

fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, exts, out);
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| exts.contains(&x))
        {
            out.push(p);
        }
    }
}

/// Every document of a YAML file (`---` separated).
fn yaml_documents(path: &Path) -> Vec<serde_norway::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|d| {
            serde_norway::Value::deserialize(d)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect()
}

#[test]
fn every_yaml_and_json_file_parses() {
    let mut yaml = Vec::new();
    files(&etc(), &["yml", "yaml"], &mut yaml);
    assert!(!yaml.is_empty());
    for p in &yaml {
        assert!(!yaml_documents(p).is_empty(), "{}", p.display());
    }
    let mut json = Vec::new();
    files(&etc(), &["json"], &mut json);
    assert!(!json.is_empty());
    for p in &json {
        let text = std::fs::read_to_string(p).unwrap();
        serde_json::from_str::<serde_json::Value>(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }
}

#[test]
fn prometheus_scrapes_the_metrics_listener() {
    let docs = yaml_documents(&etc().join("prometheus/sidra.yml"));
    let jobs = docs[0]["scrape_configs"].as_sequence().unwrap();
    let sidra = jobs
        .iter()
        .find(|j| j["job_name"].as_str() == Some("sidra"))
        .unwrap();
    assert_eq!(sidra["metrics_path"].as_str(), Some("/metrics"));
    let targets = sidra["static_configs"][0]["targets"].as_sequence().unwrap();
    assert_eq!(targets[0].as_str(), Some("127.0.0.1:9179"));
}

/// The `sidra_...` names in a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("sidra_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

#[test]
fn grafana_dashboard_uses_exported_metrics() {
    let text = std::fs::read_to_string(etc().join("grafana/sidra.json")).unwrap();
    let dash: serde_json::Value = serde_json::from_str(&text).unwrap();
    let known: BTreeSet<&str> = bgpd::telemetry::METRICS.iter().map(|(n, _)| *n).collect();
    let mut used = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for panel in dash["panels"].as_array().unwrap() {
        assert!(
            ids.insert(panel["id"].as_u64().unwrap()),
            "duplicate panel id"
        );
        assert!(panel["gridPos"]["w"].as_u64().unwrap() <= 24);
        for t in panel["targets"].as_array().unwrap() {
            let expr = t["expr"].as_str().unwrap();
            for name in metric_names(expr) {
                assert!(
                    known.contains(name.as_str()),
                    "panel {:?}: {name} is not a metric sidrad exports",
                    panel["title"]
                );
                used.insert(name);
            }
        }
    }
    for name in &known {
        assert!(used.contains(*name), "the dashboard does not show {name}");
    }
    // The instance variable reads a metric every sidrad has.
    let vars = dash["templating"]["list"].as_array().unwrap();
    assert!(
        vars.iter()
            .any(|v| v["query"].as_str() == Some("label_values(sidra_build_info, instance)"))
    );
}
