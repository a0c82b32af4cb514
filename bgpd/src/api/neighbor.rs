//! `sidra.v1.NeighborService` on [`crate::daemon::DaemonHandle`].

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sidra_proto::v1 as pb;
use sidra_proto::v1::neighbor_service_server::NeighborService;
use tonic::{Request, Response, Status};

use super::{Ctx, status};
use crate::config::{Config, NeighborConfig};
use crate::daemon::NeighborView;
use crate::fsm::State;
use crate::rib::watch::{self, FAMILIES, RibSizes as RibCounts};

pub(super) struct Neighbors(pub Ctx);

/// The RFC 9003 limit on a shutdown communication.
const MAX_SHUTDOWN_MESSAGE: usize = 255;

pub fn session_state(s: State) -> pb::SessionState {
    match s {
        State::Idle => pb::SessionState::Idle,
        State::Connect => pb::SessionState::Connect,
        State::Active => pb::SessionState::Active,
        State::OpenSent => pb::SessionState::OpenSent,
        State::OpenConfirm => pb::SessionState::OpenConfirm,
        State::Established => pb::SessionState::Established,
    }
}

/// A neighbor as the API shows it, with its counts from the RIB.
pub fn neighbor(v: &NeighborView, rib: &RibCounts, now: SystemTime) -> pb::Neighbor {
    let c = &v.config;
    let s = &v.status;
    let since = s.established_since;
    let families = |f: &[crate::packet::Family]| f.iter().map(|f| f.name()).collect();
    // The RIB's count is current; the session's copy is refreshed on its own events only.
    let from_rib: Vec<(crate::packet::Family, usize)> = FAMILIES
        .iter()
        .filter_map(|f| Some((*f, *rib.received.get(&(c.address, *f))?)))
        .collect();
    let received = if from_rib.is_empty() {
        &s.prefixes_received
    } else {
        &from_rib
    };
    let accepted: Vec<pb::FamilyCount> = FAMILIES
        .iter()
        .filter_map(|f| {
            let n = rib.accepted.get(&(c.address, *f))?;
            Some(pb::FamilyCount {
                family: f.name(),
                count: *n as u64,
            })
        })
        .collect();
    pb::Neighbor {
        config: Some(pb::NeighborConfig {
            address: c.address.to_string(),
            remote_as: c.remote_as,
            local_as: c.local_as,
            description: c.description.clone().unwrap_or_default(),
            families: families(&c.families),
            passive: c.passive,
            port: u32::from(c.port),
            hold_time: u32::from(c.hold_time),
            local_address: c.local_address.map(|a| a.to_string()).unwrap_or_default(),
            route_reflector_client: c.route_reflector_client,
            shutdown: c.shutdown,
            group: c.group.clone().unwrap_or_default(),
            has_password: c.password.is_some(),
            ttl_security: c.ttl_security.map_or(0, u32::from),
            graceful_restart: c.graceful_restart,
            import_policy: c
                .import_policy
                .as_ref()
                .map(|p| p.name().to_string())
                .unwrap_or_default(),
            export_policy: c
                .export_policy
                .as_ref()
                .map(|p| p.name().to_string())
                .unwrap_or_default(),
            max_prefixes: c.max_prefixes.unwrap_or(0),
        }),
        status: Some(pb::NeighborStatus {
            state: session_state(s.state).into(),
            uptime_seconds: since
                .and_then(|t| now.duration_since(t).ok())
                .map_or(0, |d| d.as_secs()),
            established_since_unix: since
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            established_transitions: s.established_transitions,
            last_error: s.last_error.clone().unwrap_or_default(),
            peer_bgp_id: s.peer_bgp_id.map(|i| i.to_string()).unwrap_or_default(),
            negotiated_hold_time: s.negotiated_hold_time.map_or(0, u32::from),
            families: families(&s.families),
            messages_received: s.messages_received,
            messages_sent: s.messages_sent,
            updates_received: s.updates_received,
            prefixes_received: received
                .iter()
                .map(|(f, n)| pb::FamilyCount {
                    family: f.name(),
                    count: *n as u64,
                })
                .collect(),
            prefixes_received_total: received.iter().map(|(_, n)| *n as u64).sum(),
            prefixes_advertised: rib
                .advertised
                .iter()
                .filter(|((a, _), _)| *a == c.address)
                .map(|(_, n)| *n as u64)
                .sum(),
            local: s.local.map(|a| a.to_string()).unwrap_or_default(),
            remote: s.remote.map(|a| a.to_string()).unwrap_or_default(),
            prefixes_accepted: accepted.clone(),
            prefixes_accepted_total: accepted.iter().map(|f| f.count).sum(),
        }),
    }
}

impl Neighbors {
    /// Paths accepted from and routes advertised to each neighbor (one pass over the RIB).
    async fn rib_counts(&self) -> Result<RibCounts, Status> {
        self.0
            .daemon
            .rib
            .query(watch::peer_counts)
            .await
            .ok_or_else(status::rib_gone)
    }

    async fn find(&self, addr: IpAddr) -> Result<NeighborView, Status> {
        self.0
            .daemon
            .neighbors()
            .await
            .into_iter()
            .find(|n| n.config.address == addr)
            .ok_or_else(|| status::no_neighbor(addr))
    }

    async fn view(&self, addr: IpAddr) -> Result<pb::Neighbor, Status> {
        let v = self.find(addr).await?;
        let counts = self.rib_counts().await?;
        Ok(neighbor(&v, &counts, SystemTime::now()))
    }

    /// The view once the session's state satisfies `done` (at most about a second: the peer
    /// task applies commands asynchronously).
    async fn view_when(
        &self,
        addr: IpAddr,
        done: impl Fn(State) -> bool,
    ) -> Result<pb::Neighbor, Status> {
        for _ in 0..20 {
            if done(self.find(addr).await?.status.state) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.view(addr).await
    }
}

#[tonic::async_trait]
impl NeighborService for Neighbors {
    async fn list_neighbors(
        &self,
        _req: Request<pb::ListNeighborsRequest>,
    ) -> Result<Response<pb::ListNeighborsResponse>, Status> {
        self.0.check_open()?;
        let views = self.0.daemon.neighbors().await;
        let counts = self.rib_counts().await?;
        let now = SystemTime::now();
        let neighbors = views.iter().map(|v| neighbor(v, &counts, now)).collect();
        Ok(Response::new(pb::ListNeighborsResponse { neighbors }))
    }

    async fn get_neighbor(
        &self,
        req: Request<pb::GetNeighborRequest>,
    ) -> Result<Response<pb::Neighbor>, Status> {
        self.0.check_open()?;
        let addr = status::address("address", &req.get_ref().address)?;
        Ok(Response::new(self.view(addr).await?))
    }

    async fn add_neighbor(
        &self,
        req: Request<pb::AddNeighborRequest>,
    ) -> Result<Response<pb::Neighbor>, Status> {
        self.0.check_open()?;
        let req = req.into_inner();
        let addr = status::address("neighbor.address", &req.address)?;
        if self.find(addr).await.is_ok() {
            return Err(Status::already_exists(format!(
                "neighbor {addr} already exists (delete it first, or change it in the \
                 configuration file and reload)"
            )));
        }
        let current = self.0.reloader.current();
        let n = neighbor_config(&req, addr, &current)?;
        self.0.daemon.add_neighbor(n).await.map_err(|e| {
            status::from_daemon(e, |e| {
                if e.contains("already exists") {
                    Status::already_exists(e)
                } else {
                    Status::internal(e)
                }
            })
        })?;
        Ok(Response::new(self.view(addr).await?))
    }

    async fn delete_neighbor(
        &self,
        req: Request<pb::DeleteNeighborRequest>,
    ) -> Result<Response<pb::DeleteNeighborResponse>, Status> {
        self.0.check_open()?;
        let addr = status::address("address", &req.get_ref().address)?;
        self.find(addr).await?;
        self.0
            .daemon
            .delete_neighbor(addr)
            .await
            .map_err(|e| status::from_daemon(e, Status::not_found))?;
        Ok(Response::new(pb::DeleteNeighborResponse {}))
    }

    async fn enable_neighbor(
        &self,
        req: Request<pb::EnableNeighborRequest>,
    ) -> Result<Response<pb::Neighbor>, Status> {
        self.0.check_open()?;
        let addr = status::address("address", &req.get_ref().address)?;
        self.find(addr).await?;
        self.0
            .daemon
            .set_enabled(addr, true, String::new())
            .await
            .map_err(|e| status::from_daemon(e, Status::not_found))?;
        Ok(Response::new(self.view(addr).await?))
    }

    async fn disable_neighbor(
        &self,
        req: Request<pb::DisableNeighborRequest>,
    ) -> Result<Response<pb::Neighbor>, Status> {
        self.0.check_open()?;
        let req = req.into_inner();
        let addr = status::address("address", &req.address)?;
        if req.message.len() > MAX_SHUTDOWN_MESSAGE {
            return Err(Status::invalid_argument(format!(
                "message: is {} bytes long; RFC 9003 allows at most {MAX_SHUTDOWN_MESSAGE}",
                req.message.len()
            )));
        }
        self.find(addr).await?;
        self.0
            .daemon
            .set_enabled(addr, false, req.message)
            .await
            .map_err(|e| status::from_daemon(e, Status::not_found))?;
        Ok(Response::new(
            self.view_when(addr, |s| s == State::Idle).await?,
        ))
    }

    async fn reset_neighbor(
        &self,
        req: Request<pb::ResetNeighborRequest>,
    ) -> Result<Response<pb::Neighbor>, Status> {
        self.0.check_open()?;
        let req = req.into_inner();
        let addr = status::address("address", &req.address)?;
        self.find(addr).await?;
        self.0
            .daemon
            .reset(addr, req.hard)
            .await
            .map_err(|e| status::from_daemon(e, Status::not_found))?;
        Ok(Response::new(self.view(addr).await?))
    }
}

/// A TOML string (JSON's escaping is valid in a TOML basic string).
fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The neighbor of an AddNeighbor request, checked by the configuration loader itself (the
/// same rules and defaults as a `[[neighbors]]` entry of the file, with the running `[global]`),
/// its problems keyed `neighbor.KEY`. Policies are looked up among the running configuration's.
pub fn neighbor_config(
    req: &pb::AddNeighborRequest,
    addr: IpAddr,
    current: &Config,
) -> Result<NeighborConfig, Status> {
    if req.remote_as == 0 {
        return Err(Status::invalid_argument(
            "neighbor.remote_as: missing (required: the neighbor's AS, 1..=4294967295)",
        ));
    }
    let g = &current.global;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "[global]\nasn = {}\nrouter_id = \"{}\"\nlisten = []\nebgp_requires_policy = {}\n",
        g.asn, g.router_id, g.ebgp_requires_policy
    );
    let _ = writeln!(
        t,
        "[[neighbors]]\naddress = \"{addr}\"\nremote_as = {}",
        req.remote_as
    );
    let mut line = |key: &str, value: String| {
        let _ = writeln!(t, "{key} = {value}");
    };
    if let Some(d) = &req.description {
        line("description", quote(d));
    }
    if !req.families.is_empty() {
        let f: Vec<String> = req.families.iter().map(|f| quote(f)).collect();
        line("families", format!("[{}]", f.join(", ")));
    }
    let bools = [
        ("passive", req.passive),
        ("route_reflector_client", req.route_reflector_client),
        ("shutdown", req.shutdown),
        ("graceful_restart", req.graceful_restart),
    ];
    for (k, v) in bools {
        if let Some(v) = v {
            line(k, v.to_string());
        }
    }
    let ints = [
        ("port", req.port),
        ("hold_time", req.hold_time),
        ("keepalive", req.keepalive),
        ("ttl_security", req.ttl_security),
        ("connect_retry", req.connect_retry),
        ("idle_hold", req.idle_hold),
        ("max_prefixes", req.max_prefixes),
    ];
    for (k, v) in ints {
        if let Some(v) = v {
            line(k, v.to_string());
        }
    }
    if let Some(a) = &req.local_address {
        line("local_address", quote(a));
    }
    if let Some(p) = &req.password {
        line("password", quote(p));
    }
    let config = crate::config::load_str(&t).map_err(|errs| {
        let msgs: Vec<String> = errs
            .iter()
            .map(|e| {
                let key = e.key.replacen("neighbors[0]", "neighbor", 1);
                format!("{key}: {}", e.problem)
            })
            .collect();
        Status::invalid_argument(msgs.join("; "))
    })?;
    let mut n = config
        .neighbors
        .into_iter()
        .next()
        .ok_or_else(|| Status::internal("the neighbor was not resolved"))?;
    let policy = |key: &str, name: &Option<String>| match name {
        None => Ok(None),
        Some(name) => current
            .policies
            .get(name)
            .cloned()
            .map(Some)
            .ok_or_else(|| {
                Status::invalid_argument(format!(
                    "neighbor.{key}: no policy named {name:?} in the running configuration"
                ))
            }),
    };
    n.import_policy = policy("import_policy", &req.import_policy)?;
    n.export_policy = policy("export_policy", &req.export_policy)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running() -> Config {
        crate::config::load_str("[global]\nasn = 65001\nrouter_id = \"10.0.0.1\"\n").expect("valid")
    }

    #[test]
    fn add_request_uses_the_config_rules() {
        let req = pb::AddNeighborRequest {
            address: "192.0.2.2".into(),
            remote_as: 65002,
            description: Some("a \"quoted\" peer".into()),
            hold_time: Some(30),
            families: vec!["ipv6-unicast".into()],
            import_policy: Some("accept-all".into()),
            ..Default::default()
        };
        let addr = "192.0.2.2".parse().expect("ip");
        let n = neighbor_config(&req, addr, &running()).expect("valid");
        assert_eq!(n.remote_as, 65002);
        assert_eq!(n.local_as, 65001);
        assert_eq!(n.hold_time, 30);
        assert_eq!(n.description.as_deref(), Some("a \"quoted\" peer"));
        assert_eq!(n.families, vec![crate::packet::Family::IPV6_UNICAST]);
        assert!(n.import_policy.is_some());

        let bad = pb::AddNeighborRequest {
            hold_time: Some(2),
            ..req.clone()
        };
        let e = neighbor_config(&bad, addr, &running()).expect_err("invalid");
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            e.message(),
            "neighbor.hold_time: 2 is not allowed (must be 0 or 3..=65535)"
        );
        let bad = pb::AddNeighborRequest {
            export_policy: Some("nope".into()),
            ..req.clone()
        };
        let e = neighbor_config(&bad, addr, &running()).expect_err("invalid");
        assert!(
            e.message()
                .starts_with("neighbor.export_policy: no policy named")
        );
        let bad = pb::AddNeighborRequest {
            remote_as: 0,
            ..req
        };
        assert!(neighbor_config(&bad, addr, &running()).is_err());
    }
}
