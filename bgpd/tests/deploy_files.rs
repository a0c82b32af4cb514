//! The deployment files in `etc/`: every YAML and JSON file parses, the Prometheus scrape
//! configuration scrapes sidrad's metrics listener, and the Grafana dashboard uses only metrics
//! sidrad exports (and shows each of them); the example configurations load; the systemd unit
//! has what it needs; the Kubernetes DaemonSet runs sidra as a sidecar as documented, and the
//! configuration its ConfigMap renders for a node loads with the overrides the pod gives it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;
use common::TempDir;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;

use bgpd::config::{self, Backend, Config, ServiceMode};
use serde::Deserialize;
use serde_norway::Value;

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

// ---------------------------------------------------------------------------------------------
// etc/examples

fn example(name: &str) -> Config {
    let path = etc().join("examples").join(name);
    config::load(&path).unwrap_or_else(|e| panic!("{}:\n{e}", path.display()))
}

#[test]
fn example_global_mode_loads() {
    let c = example("global.toml");
    assert_eq!(c.neighbors.len(), 2, "two route reflectors");
    assert!(c.neighbors.iter().all(|n| n.is_ibgp()));
    assert_eq!(c.srv6.services.len(), 1);
    let s = &c.srv6.services[0];
    assert_eq!(s.mode, ServiceMode::Global);
    assert!(s.pods.iter().any(|p| p.addr().is_ipv4()) && s.pods.iter().any(|p| p.addr().is_ipv6()));
    assert!(c.srv6.source_address.is_some());
    assert_eq!(c.dataplane.backend, Backend::Kernel);
}

#[test]
fn example_vpn_mode_loads() {
    let c = example("vpn.toml");
    assert_eq!(c.neighbors.len(), 2, "two route reflectors");
    for n in &c.neighbors {
        let families: Vec<String> = n.families.iter().map(|f| f.to_string()).collect();
        assert!(
            families.iter().any(|f| f == "ipv4-vpn") && families.iter().any(|f| f == "ipv6-vpn"),
            "{families:?}"
        );
    }
    let s = &c.srv6.services[0];
    assert_eq!(s.mode, ServiceMode::Vpn);
    assert!(s.rd.is_some());
    assert!(!s.import_route_targets.is_empty() && !s.export_route_targets.is_empty());
    assert!(s.transposition, "FRR-compatible: transposition on");
    assert_eq!(c.dataplane.backend, Backend::Vpp);
    assert_eq!(c.dataplane.vpp_socket, Path::new("/run/vpp/api.sock"));
}

#[test]
fn example_reflector_loads() {
    let c = example("reflector.toml");
    assert!(c.global.cluster_id.is_some());
    assert!(
        !c.global.listen.is_empty(),
        "a reflector accepts its clients"
    );
    let clients: Vec<_> = c
        .neighbors
        .iter()
        .filter(|n| n.group.as_deref() == Some("nodes"))
        .collect();
    assert!(clients.len() >= 2);
    assert!(
        clients
            .iter()
            .all(|n| n.route_reflector_client && n.is_ibgp())
    );
    assert!(c.srv6.services.is_empty(), "no services on a reflector");
    assert_eq!(c.dataplane.backend, Backend::None);
}

/// `sidrad --check-config` accepts every example (the binary's path, as an operator runs it).
#[test]
fn sidrad_check_config_accepts_the_examples() {
    let mut tomls = Vec::new();
    files(&etc().join("examples"), &["toml"], &mut tomls);
    assert_eq!(tomls.len(), 3, "{tomls:?}");
    tomls.push(etc().join("sidrad.toml"));
    for p in &tomls {
        let out = Command::new(env!("CARGO_BIN_EXE_sidrad"))
            .arg("--check-config")
            .arg(p)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains(": valid ("),
            "{}: {stdout}{}",
            p.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// etc/systemd

/// A unit file: section name to (key, value) lines, in order; continuation lines and comments
/// handled as systemd does (enough for these checks).
fn unit_file(path: &Path) -> BTreeMap<String, Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut section = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        assert!(
            !line.ends_with('\\'),
            "line {}: no continuations here",
            i + 1
        );
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.to_string());
            out.entry(name.to_string()).or_default();
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: not KEY=VALUE: {line}", i + 1));
        let section = section
            .as_ref()
            .unwrap_or_else(|| panic!("line {}: outside a section", i + 1));
        out.get_mut(section)
            .unwrap()
            .push((k.trim().to_string(), v.trim().to_string()));
    }
    out
}

fn unit_values<'a>(
    unit: &'a BTreeMap<String, Vec<(String, String)>>,
    section: &str,
    key: &str,
) -> Vec<&'a str> {
    unit[section]
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn systemd_unit_runs_sidrad_hardened() {
    let unit = unit_file(&etc().join("systemd/sidrad.service"));
    assert_eq!(
        unit.keys().map(String::as_str).collect::<Vec<_>>(),
        ["Install", "Service", "Unit"]
    );
    let one = |section: &str, key: &str| {
        let v = unit_values(&unit, section, key);
        assert_eq!(v.len(), 1, "[{section}] {key}: {v:?}");
        v[0].to_string()
    };
    let start = one("Service", "ExecStart");
    let argv: Vec<&str> = start.split_whitespace().collect();
    assert!(
        argv[0].starts_with('/') && argv[0].ends_with("/sidrad"),
        "{start}"
    );
    let config = argv
        .iter()
        .position(|a| *a == "--config")
        .map(|i| argv[i + 1])
        .unwrap_or_else(|| panic!("ExecStart without --config: {start}"));
    assert!(config.starts_with('/'), "{config}");
    // The same file is checked before each start.
    assert_eq!(
        one("Service", "ExecStartPre"),
        format!("{} --check-config {config}", argv[0])
    );
    assert!(matches!(one("Service", "Type").as_str(), "exec" | "simple"));
    assert_eq!(one("Service", "Restart"), "on-failure");
    assert_eq!(one("Service", "ExecReload"), "/bin/kill -HUP $MAINPID");
    // The API socket's directory: /run/sidra, matching the default api.socket.
    assert_eq!(one("Service", "RuntimeDirectory"), "sidra");
    assert_eq!(
        Path::new(config::DEFAULT_SOCKET).parent(),
        Some(Path::new("/run/sidra"))
    );
    // Exactly the network capabilities, in both sets.
    let caps = |key: &str| -> BTreeSet<String> {
        one("Service", key)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let want: BTreeSet<String> = ["CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]
        .map(String::from)
        .into();
    assert_eq!(caps("CapabilityBoundingSet"), want);
    assert_eq!(caps("AmbientCapabilities"), want);
    for (key, value) in [
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("RestartPreventExitStatus", "2"),
    ] {
        assert_eq!(one("Service", key), value, "{key}");
    }
    // Netlink (the kernel data plane) must stay reachable.
    assert!(
        one("Service", "RestrictAddressFamilies")
            .split_whitespace()
            .any(|f| f == "AF_NETLINK")
    );
    assert_eq!(one("Install", "WantedBy"), "multi-user.target");
}

// ---------------------------------------------------------------------------------------------
// etc/kubernetes

/// Every document of every YAML file in etc/kubernetes.
fn kubernetes_objects() -> Vec<Value> {
    let mut paths = Vec::new();
    files(&etc().join("kubernetes"), &["yml", "yaml"], &mut paths);
    paths.sort();
    paths.iter().flat_map(|p| yaml_documents(p)).collect()
}

fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"].as_str() == Some(kind) && o["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind} {name} in etc/kubernetes"))
}

fn daemonset(objects: &[Value]) -> &Value {
    let sets: Vec<_> = objects
        .iter()
        .filter(|o| o["kind"].as_str() == Some("DaemonSet"))
        .collect();
    assert_eq!(sets.len(), 1);
    sets[0]
}

fn container<'a>(pod: &'a Value, name: &str) -> &'a Value {
    pod["containers"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no container {name}"))
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v:?}"))
}

/// Mount path to volume name.
fn mounts(c: &Value) -> BTreeMap<String, String> {
    c["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|m| {
            (
                str_of(&m["mountPath"]).to_string(),
                str_of(&m["name"]).to_string(),
            )
        })
        .collect()
}

/// A sample node's downward API.
struct NodeFacts {
    name: String,
    /// status.hostIP
    ip: String,
    /// status.hostIPs
    ips: String,
}

fn node(name: &str, ip: &str, ips: &str) -> NodeFacts {
    NodeFacts {
        name: name.into(),
        ip: ip.into(),
        ips: ips.into(),
    }
}

/// The container's environment as the kubelet would give it on `node`: downward API fields
/// resolved, `$(VAR)` references to earlier variables expanded.
fn container_env(c: &Value, node: &NodeFacts) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    for e in c["env"].as_sequence().unwrap() {
        let name = str_of(&e["name"]).to_string();
        let value = if let Some(v) = e["value"].as_str() {
            let mut v = v.to_string();
            for (k, val) in &env {
                v = v.replace(&format!("$({k})"), val);
            }
            assert!(!v.contains("$("), "{name}: unresolved reference in {v}");
            v
        } else {
            match str_of(&e["valueFrom"]["fieldRef"]["fieldPath"]) {
                "spec.nodeName" => node.name.clone(),
                "status.hostIP" => node.ip.clone(),
                "status.hostIPs" => node.ips.clone(),
                other => panic!("{name}: unexpected fieldPath {other}"),
            }
        };
        env.push((name, value));
    }
    env
}

fn env_value<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn kubernetes_daemonset_runs_sidra_as_a_sidecar() {
    let objects = kubernetes_objects();
    let ds = daemonset(&objects);
    assert_eq!(ds["apiVersion"].as_str(), Some("apps/v1"));
    assert_eq!(
        ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"].as_u64(),
        Some(1)
    );
    let template = &ds["spec"]["template"];
    let pod = &template["spec"];
    assert_eq!(pod["hostNetwork"].as_bool(), Some(true));
    let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(grace >= 30, "terminationGracePeriodSeconds {grace}");

    // A sidecar: sidra beside at least one other container (the CNI agent).
    let containers = pod["containers"].as_sequence().unwrap();
    assert!(containers.len() >= 2);
    let sidra = container(pod, "sidra");
    let volumes: BTreeMap<&str, &Value> = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| (str_of(&v["name"]), v))
        .collect();
    for c in containers {
        for (path, vol) in mounts(c) {
            assert!(
                volumes.contains_key(vol.as_str()),
                "{path}: no volume {vol}"
            );
        }
    }
    let sidra_mounts = mounts(sidra);
    // VPP's API socket: the host's /run/vpp.
    let vpp = &sidra_mounts["/run/vpp"];
    assert_eq!(
        volumes[vpp.as_str()]["hostPath"]["path"].as_str(),
        Some("/run/vpp")
    );
    // sidra's API socket directory, shared with another container.
    let run = &sidra_mounts["/run/sidra"];
    assert!(
        containers
            .iter()
            .filter(|c| c["name"].as_str() != Some("sidra"))
            .any(|c| mounts(c).get("/run/sidra") == Some(run)),
        "no other container mounts {run} at /run/sidra"
    );

    // The downward API.
    let facts = node("k8s-node-12", "192.0.2.12", "192.0.2.12,2001:db8:0:1::12");
    let env = container_env(sidra, &facts);
    assert_eq!(env_value(&env, "NODE_NAME"), Some("k8s-node-12"));
    assert_eq!(env_value(&env, "NODE_IP"), Some("192.0.2.12"));
    assert_eq!(
        env_value(&env, "SIDRA_GLOBAL__ROUTER_ID"),
        Some("192.0.2.12")
    );

    // Probes: sidractl over the API socket sidrad serves (see the ConfigMap test).
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        let cmd: Vec<&str> = sidra[probe]["exec"]["command"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{probe}: not an exec probe"))
            .iter()
            .map(str_of)
            .collect();
        assert!(cmd[0].ends_with("sidractl"), "{probe}: {cmd:?}");
        let i = cmd.iter().position(|a| *a == "--socket").unwrap();
        assert_eq!(cmd[i + 1], config::DEFAULT_SOCKET, "{probe}");
        assert_eq!(cmd.last(), Some(&"neighbor"), "{probe}");
        // sidractl gives up before the kubelet does.
        let t = cmd.iter().position(|a| *a == "--timeout").unwrap();
        let sidractl_timeout: u64 = cmd[t + 1].parse().unwrap();
        assert!(sidractl_timeout < sidra[probe]["timeoutSeconds"].as_u64().unwrap());
    }

    // Prometheus: the annotations name the port sidrad's metrics listen on.
    let ann = &template["metadata"]["annotations"];
    assert_eq!(ann["prometheus.io/scrape"].as_str(), Some("true"));
    assert_eq!(ann["prometheus.io/path"].as_str(), Some("/metrics"));
    let port: u16 = str_of(&ann["prometheus.io/port"]).parse().unwrap();
    let listen: SocketAddr = env_value(&env, "SIDRA_METRICS__LISTEN")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(listen, SocketAddr::new(facts.ip.parse().unwrap(), port));
    assert!(
        sidra["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|p| p["containerPort"].as_u64() == Some(u64::from(port)))
    );

    // Capabilities: the network ones only, nothing else, no privilege escalation.
    let sc = &sidra["securityContext"];
    assert_ne!(sc["privileged"].as_bool(), Some(true));
    assert_eq!(sc["allowPrivilegeEscalation"].as_bool(), Some(false));
    let caps: BTreeSet<&str> = sc["capabilities"]["add"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(str_of)
        .collect();
    assert_eq!(
        caps,
        BTreeSet::from(["NET_ADMIN", "NET_BIND_SERVICE", "NET_RAW"])
    );
    let drop: Vec<&str> = sc["capabilities"]["drop"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(str_of)
        .collect();
    assert_eq!(drop, ["ALL"]);

    // Resources: requests and a memory limit.
    let res = &sidra["resources"];
    assert!(res["requests"]["cpu"].as_str().is_some());
    assert!(res["requests"]["memory"].as_str().is_some());
    assert!(res["limits"]["memory"].as_str().is_some());
}

/// The ConfigMaps of etc/kubernetes: the template, render.sh and the node locators.
struct KubeConfig {
    template: String,
    render: String,
    locators: BTreeMap<String, String>,
}

fn kube_config(objects: &[Value]) -> KubeConfig {
    let cm = object(objects, "ConfigMap", "sidra-config");
    let nodes = object(objects, "ConfigMap", "sidra-nodes");
    KubeConfig {
        template: str_of(&cm["data"]["sidrad.toml"]).to_string(),
        render: str_of(&cm["data"]["render.sh"]).to_string(),
        locators: nodes["data"]
            .as_mapping()
            .unwrap()
            .iter()
            .map(|(k, v)| (str_of(k).to_string(), str_of(v).to_string()))
            .collect(),
    }
}

/// Run the ConfigMap's render.sh in `mode` the way the sidra container does (its env from the
/// DaemonSet on `node`), with the mounts under `dir` and the built sidrad and sidractl on PATH.
fn run_render(
    kc: &KubeConfig,
    env: &[(String, String)],
    dir: &Path,
    mode: &str,
) -> std::process::Output {
    let nodes = dir.join("nodes");
    std::fs::create_dir_all(&nodes).unwrap();
    for (node, locator) in &kc.locators {
        std::fs::write(nodes.join(node), locator).unwrap();
    }
    std::fs::write(dir.join("sidrad.toml"), &kc.template).unwrap();
    std::fs::write(dir.join("render.sh"), &kc.render).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_sidrad")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("/bin/sh")
        .arg(dir.join("render.sh"))
        .arg(mode)
        .env_clear()
        .env("PATH", path)
        .envs(env.iter().cloned())
        .env("RENDER_TEMPLATE", dir.join("sidrad.toml"))
        .env("RENDER_NODES", &nodes)
        .env("RENDER_OUT", dir.join("rendered.toml"))
        .output()
        .unwrap()
}

#[test]
fn kubernetes_configmap_renders_a_loadable_config_per_node() {
    let objects = kubernetes_objects();
    let ds = daemonset(&objects);
    let pod = &ds["spec"]["template"]["spec"];
    let sidra = container(pod, "sidra");
    let kc = kube_config(&objects);
    assert!(kc.locators.len() >= 2);

    // The container runs render.sh from the ConfigMap's mount, and the rendered file goes to
    // a writable volume.
    let mounts = mounts(sidra);
    let command: Vec<&str> = sidra["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(str_of)
        .collect();
    assert_eq!(command, ["/bin/sh", "/etc/sidra/render.sh"]);
    assert_eq!(mounts["/etc/sidra"], "sidra-config");
    assert_eq!(mounts["/etc/sidra-nodes"], "sidra-nodes");
    assert!(mounts.contains_key("/run/sidra-config"));

    // The template alone is not a configuration: the placeholders and the router id are
    // filled in per node.
    assert!(config::load_str(&kc.template).is_err());

    for (i, (name, locator)) in kc.locators.iter().enumerate() {
        let ip = format!("192.0.2.{}", 11 + i);
        let ipv6 = format!("2001:db8:0:1::{}", 11 + i);
        let facts = node(name, &ip, &format!("{ip},{ipv6}"));
        let env = container_env(sidra, &facts);
        let dir = TempDir::new(&format!("render-{i}"));
        let out = run_render(&kc, &env, &dir.0, "check");
        assert!(
            out.status.success(),
            "render.sh check on {name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let rendered = std::fs::read_to_string(dir.0.join("rendered.toml")).unwrap();
        assert!(!rendered.contains('@'), "{rendered}");
        let sidra_env: Vec<_> = env
            .iter()
            .filter(|(k, _)| k.starts_with("SIDRA_"))
            .cloned()
            .collect();
        let c = config::load_str_with_env(&rendered, sidra_env)
            .unwrap_or_else(|e| panic!("{name}:\n{e}"));
        assert_eq!(c.global.router_id, ip.parse::<Ipv4Addr>().unwrap());
        assert_eq!(
            c.metrics.listen,
            Some(SocketAddr::new(ip.parse().unwrap(), 9179))
        );
        assert_eq!(
            c.srv6.locators[0].locator.prefix().to_string(),
            locator.trim()
        );
        assert_eq!(
            c.srv6.source_address,
            Some(ipv6.parse::<Ipv6Addr>().unwrap())
        );
        assert!(
            c.neighbors
                .iter()
                .all(|n| n.local_address == Some(IpAddr::V6(ipv6.parse().unwrap())))
        );
        assert_eq!(
            c.srv6.services[0].rd,
            bgpd::packet::nlri::RouteDistinguisher::parse(&format!("{ip}:100"))
        );
        // The API socket is the one the probes and the other container use, and the VPP
        // socket is inside the /run/vpp mount.
        assert_eq!(
            c.api.socket.as_deref(),
            Some(Path::new(config::DEFAULT_SOCKET))
        );
        assert_eq!(c.dataplane.backend, Backend::Vpp);
        assert!(c.dataplane.vpp_socket.starts_with("/run/vpp"));
    }

    // A node without a locator does not start, and says why.
    let facts = node(
        "k8s-node-unknown",
        "192.0.2.99",
        "192.0.2.99,2001:db8:0:1::99",
    );
    let dir = TempDir::new("render-unknown");
    let out = run_render(&kc, &container_env(sidra, &facts), &dir.0, "check");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no SRv6 locator for node k8s-node-unknown"),
        "{err}"
    );
    // Nor does a node without an IPv6 address.
    let facts = node("k8s-node-11", "192.0.2.11", "192.0.2.11");
    let out = run_render(&kc, &container_env(sidra, &facts), &dir.0, "check");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no IPv6 address"), "{err}");
}
