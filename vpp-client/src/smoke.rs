//! The SRv6 smoke check behind `examples/srv6_smoke.rs`: programs a small SRv6 setup in VPP,
//! checks the dumps, removes it in dependency order and checks it is gone.
//!
//! Order (each a named step; the first failure stops the run, then whatever was created is
//! removed best-effort, in the same safe order):
//!
//! ```text
//! version, preflight (none of our objects exist yet)
//! create_vrf_ipv4, create_vrf_ipv6        VRFs before the DT SIDs that use them (else VPP
//! add_end_dt4, add_end_dt6                 crashes on the next sr_localsids_dump)
//! set_encap_source                         before any policy (copied into each SID list)
//! add_policy (3 SIDs, weight 1), add_steering_ipv4, add_steering_ipv6
//! check_tables, check_localsids, check_policies, check_steering
//! del_steering_ipv4, del_steering_ipv6, del_policy   steering before its policy
//! del_end_dt4, del_end_dt6, del_vrf_ipv4, del_vrf_ipv6  SIDs before their VRFs
//! check_gone
//! ```
//!
//! `sr_set_encap_source` changes VPP's global encap source and is not restored (there is no
//! API to read it back): run this against a test VPP.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Serialize;

use crate::client::Client;
use crate::error::Error;
use crate::messages::ip::IpTable;
use crate::messages::sr::{LocalSid, PolicyAdd, SteerTraffic, Steering};
use crate::messages::types::{SidList, SrBehavior};

/// What the smoke check creates.
#[derive(Debug, Clone)]
pub struct SmokeConfig {
    /// VRF table id created for IPv4 and for IPv6.
    pub vrf: u32,
    /// End.DT4 SID (into the IPv4 VRF).
    pub dt4_sid: Ipv6Addr,
    /// End.DT6 SID (into the IPv6 VRF).
    pub dt6_sid: Ipv6Addr,
    /// Encapsulation source.
    pub encap_source: Ipv6Addr,
    /// Binding SID of the policy.
    pub bsid: Ipv6Addr,
    /// The policy's SID list.
    pub segments: [Ipv6Addr; 3],
    /// IPv4 prefix steered into the policy (table 0).
    pub prefix4: Ipv4Net,
    /// IPv6 prefix steered into the policy (table 0).
    pub prefix6: Ipv6Net,
}

impl Default for SmokeConfig {
    fn default() -> Self {
        let a = |s: &str| s.parse::<Ipv6Addr>().unwrap_or(Ipv6Addr::UNSPECIFIED);
        Self {
            vrf: 4242,
            dt4_sid: a("fc00:5e:1::d4"),
            dt6_sid: a("fc00:5e:1::d6"),
            encap_source: a("fc00:5e:1::1"),
            bsid: a("fc00:5e:1::b5"),
            segments: [a("fc00:5e:2::1"), a("fc00:5e:3::1"), a("fc00:5e:4::d4")],
            prefix4: Ipv4Net::new(Ipv4Addr::new(198, 51, 100, 0), 24).unwrap_or_default(),
            prefix6: Ipv6Net::new(a("2001:db8:5e::"), 48).unwrap_or_default(),
        }
    }
}

/// One step's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// Step name.
    pub step: &'static str,
    /// Whether it held.
    pub ok: bool,
    /// Duration in milliseconds.
    pub ms: u64,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The summary (serialized as the example's final JSON line).
#[derive(Debug, Clone, Serialize)]
pub struct SmokeReport {
    /// True only if every step held.
    pub ok: bool,
    /// VPP's version string.
    pub vpp_version: Option<String>,
    /// The first failing step.
    pub failed_step: Option<&'static str>,
    /// Its error.
    pub error: Option<String>,
    /// Every step run, in order.
    pub steps: Vec<StepResult>,
    /// Errors of the best-effort cleanup after a failure.
    pub cleanup_errors: Vec<String>,
}

#[derive(Default)]
struct Created {
    vrf4: bool,
    vrf6: bool,
    dt4: bool,
    dt6: bool,
    policy: bool,
    steer4: bool,
    steer6: bool,
}

struct Run<'a> {
    vpp: &'a Client,
    cfg: &'a SmokeConfig,
    steps: Vec<StepResult>,
}

type StepOutcome = Result<(), String>;

impl Run<'_> {
    async fn step<F>(&mut self, name: &'static str, f: F) -> StepOutcome
    where
        F: std::future::Future<Output = StepOutcome>,
    {
        let t = Instant::now();
        let res = f.await;
        let ms = u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX);
        let error = res.as_ref().err().cloned();
        match &error {
            None => tracing::info!(step = name, ms, "ok"),
            Some(e) => tracing::error!(step = name, error = %e, "failed"),
        }
        self.steps.push(StepResult {
            step: name,
            ok: error.is_none(),
            ms,
            error,
        });
        res
    }
}

fn e(err: Error) -> String {
    err.to_string()
}

impl SmokeConfig {
    fn dt4(&self) -> LocalSid {
        LocalSid::end_dt4(self.dt4_sid, self.vrf)
    }
    fn dt6(&self) -> LocalSid {
        LocalSid::end_dt6(self.dt6_sid, self.vrf)
    }
    fn policy(&self) -> PolicyAdd {
        PolicyAdd::encap(self.bsid, SidList::new(self.segments.to_vec()))
    }
    fn steer4(&self) -> Steering {
        let traffic = SteerTraffic::L3(IpNet::V4(self.prefix4));
        Steering {
            bsid: self.bsid,
            table_id: 0,
            traffic,
        }
    }
    fn steer6(&self) -> Steering {
        let traffic = SteerTraffic::L3(IpNet::V6(self.prefix6));
        Steering {
            bsid: self.bsid,
            table_id: 0,
            traffic,
        }
    }
}

/// Runs the smoke check on a connected client.
pub async fn run(vpp: &Client, cfg: &SmokeConfig) -> SmokeReport {
    let mut run = Run {
        vpp,
        cfg,
        steps: Vec::new(),
    };
    let mut created = Created::default();
    let mut version = None;
    let res = body(&mut run, &mut created, &mut version).await;
    let mut cleanup_errors = Vec::new();
    if res.is_err() {
        cleanup(vpp, cfg, &created, &mut cleanup_errors).await;
    }
    let failed = run.steps.iter().find(|s| !s.ok);
    SmokeReport {
        ok: res.is_ok(),
        vpp_version: version,
        failed_step: failed.map(|s| s.step),
        error: failed.and_then(|s| s.error.clone()),
        steps: run.steps,
        cleanup_errors,
    }
}

async fn body(r: &mut Run<'_>, c: &mut Created, version: &mut Option<String>) -> StepOutcome {
    let (vpp, cfg) = (r.vpp, r.cfg);
    r.step("version", async {
        let v = vpp.version().await.map_err(e)?;
        *version = Some(v.version);
        Ok(())
    })
    .await?;
    r.step("preflight", preflight(vpp, cfg)).await?;

    let t4 = IpTable::new(cfg.vrf, false);
    let t6 = IpTable::new(cfg.vrf, true);
    r.step("create_vrf_ipv4", async {
        vpp.ip_table_add_del(true, &t4).await.map_err(e)
    })
    .await?;
    c.vrf4 = true;
    r.step("create_vrf_ipv6", async {
        vpp.ip_table_add_del(true, &t6).await.map_err(e)
    })
    .await?;
    c.vrf6 = true;
    r.step("add_end_dt4", async {
        vpp.localsid_add(&cfg.dt4()).await.map_err(e)
    })
    .await?;
    c.dt4 = true;
    r.step("add_end_dt6", async {
        vpp.localsid_add(&cfg.dt6()).await.map_err(e)
    })
    .await?;
    c.dt6 = true;
    let src = cfg.encap_source;
    r.step("set_encap_source", async {
        vpp.set_encap_source(src).await.map_err(e)
    })
    .await?;
    r.step("add_policy", async {
        vpp.policy_add(&cfg.policy()).await.map_err(e)
    })
    .await?;
    c.policy = true;
    r.step("add_steering_ipv4", async {
        vpp.steering_add(&cfg.steer4()).await.map_err(e)
    })
    .await?;
    c.steer4 = true;
    r.step("add_steering_ipv6", async {
        vpp.steering_add(&cfg.steer6()).await.map_err(e)
    })
    .await?;
    c.steer6 = true;

    r.step("check_tables", check_tables(vpp, cfg, true)).await?;
    r.step("check_localsids", check_localsids(vpp, cfg)).await?;
    r.step("check_policies", check_policies(vpp, cfg)).await?;
    r.step("check_steering", check_steering(vpp, cfg)).await?;

    r.step("del_steering_ipv4", async {
        vpp.steering_del(&cfg.steer4()).await.map_err(e)
    })
    .await?;
    c.steer4 = false;
    r.step("del_steering_ipv6", async {
        vpp.steering_del(&cfg.steer6()).await.map_err(e)
    })
    .await?;
    c.steer6 = false;
    r.step("del_policy", async {
        vpp.policy_del(cfg.bsid).await.map_err(e)
    })
    .await?;
    c.policy = false;
    r.step("del_end_dt4", async {
        vpp.localsid_del(&cfg.dt4()).await.map_err(e)
    })
    .await?;
    c.dt4 = false;
    r.step("del_end_dt6", async {
        vpp.localsid_del(&cfg.dt6()).await.map_err(e)
    })
    .await?;
    c.dt6 = false;
    r.step("del_vrf_ipv4", async {
        vpp.ip_table_add_del(false, &t4).await.map_err(e)
    })
    .await?;
    c.vrf4 = false;
    r.step("del_vrf_ipv6", async {
        vpp.ip_table_add_del(false, &t6).await.map_err(e)
    })
    .await?;
    c.vrf6 = false;
    r.step("check_gone", check_gone(vpp, cfg)).await
}

/// Removes what a failed run created, in dependency order. Only what this run created.
async fn cleanup(vpp: &Client, cfg: &SmokeConfig, c: &Created, errors: &mut Vec<String>) {
    fn note(errors: &mut Vec<String>, what: &str, r: Result<(), Error>) {
        if let Err(err) = r {
            errors.push(format!("{what}: {err}"));
        }
    }
    if c.steer4 {
        note(
            errors,
            "del_steering_ipv4",
            vpp.steering_del(&cfg.steer4()).await,
        );
    }
    if c.steer6 {
        note(
            errors,
            "del_steering_ipv6",
            vpp.steering_del(&cfg.steer6()).await,
        );
    }
    if c.policy {
        note(errors, "del_policy", vpp.policy_del(cfg.bsid).await);
    }
    let mut sids_left = false;
    if c.dt4 {
        let r = vpp.localsid_del(&cfg.dt4()).await;
        sids_left |= r.is_err();
        note(errors, "del_end_dt4", r);
    }
    if c.dt6 {
        let r = vpp.localsid_del(&cfg.dt6()).await;
        sids_left |= r.is_err();
        note(errors, "del_end_dt6", r);
    }
    // Never delete a VRF a DT SID may still point at.
    if sids_left {
        errors.push(format!(
            "VRF {} kept: a DT SID could not be removed",
            cfg.vrf
        ));
        return;
    }
    if c.vrf4 {
        let r = vpp
            .ip_table_add_del(false, &IpTable::new(cfg.vrf, false))
            .await;
        note(errors, "del_vrf_ipv4", r);
    }
    if c.vrf6 {
        let r = vpp
            .ip_table_add_del(false, &IpTable::new(cfg.vrf, true))
            .await;
        note(errors, "del_vrf_ipv6", r);
    }
}

async fn preflight(vpp: &Client, cfg: &SmokeConfig) -> StepOutcome {
    if vpp
        .ip_tables()
        .await
        .map_err(e)?
        .iter()
        .any(|t| t.table_id == cfg.vrf)
    {
        return Err(format!(
            "VRF table {} already exists; pick another --vrf",
            cfg.vrf
        ));
    }
    for s in vpp.localsids().await.map_err(e)? {
        if s.addr == cfg.dt4_sid || s.addr == cfg.dt6_sid || s.addr == cfg.bsid {
            return Err(format!("local SID {} already exists", s.addr));
        }
    }
    if vpp
        .policies()
        .await
        .map_err(e)?
        .iter()
        .any(|p| p.bsid == cfg.bsid)
    {
        return Err(format!("a policy with BSID {} already exists", cfg.bsid));
    }
    Ok(())
}

async fn check_tables(vpp: &Client, cfg: &SmokeConfig, present: bool) -> StepOutcome {
    let tables = vpp.ip_tables().await.map_err(e)?;
    for v6 in [false, true] {
        let found = tables
            .iter()
            .any(|t| t.table_id == cfg.vrf && t.is_ip6 == v6);
        if found != present {
            let af = if v6 { "IPv6" } else { "IPv4" };
            let state = if present { "missing" } else { "still present" };
            return Err(format!(
                "{af} VRF table {} {state} in ip_table_dump",
                cfg.vrf
            ));
        }
    }
    Ok(())
}

async fn check_localsids(vpp: &Client, cfg: &SmokeConfig) -> StepOutcome {
    let sids = vpp.localsids().await.map_err(e)?;
    for (addr, beh) in [
        (cfg.dt4_sid, SrBehavior::DT4),
        (cfg.dt6_sid, SrBehavior::DT6),
    ] {
        let s = sids
            .iter()
            .find(|s| s.addr == addr)
            .ok_or(format!("local SID {addr} missing"))?;
        if s.behavior != beh || s.iface_or_table != cfg.vrf {
            return Err(format!(
                "local SID {addr}: behavior {:?} table {} (want {beh:?} table {})",
                s.behavior, s.iface_or_table, cfg.vrf
            ));
        }
    }
    Ok(())
}

async fn check_policies(vpp: &Client, cfg: &SmokeConfig) -> StepOutcome {
    let pols = vpp.policies().await.map_err(e)?;
    let p = pols
        .iter()
        .find(|p| p.bsid == cfg.bsid)
        .ok_or(format!("policy {} missing", cfg.bsid))?;
    let want = SidList::new(cfg.segments.to_vec());
    if p.sid_lists != [want] || !p.is_encap {
        return Err(format!(
            "policy {}: lists {:?} encap {}",
            cfg.bsid, p.sid_lists, p.is_encap
        ));
    }
    if let Some(src) = p.encap_src
        && src != cfg.encap_source
    {
        return Err(format!(
            "policy {}: encap source {src}, want {}",
            cfg.bsid, cfg.encap_source
        ));
    }
    Ok(())
}

async fn check_steering(vpp: &Client, cfg: &SmokeConfig) -> StepOutcome {
    let st = vpp.steering().await.map_err(e)?;
    for want in [cfg.steer4(), cfg.steer6()] {
        if !st.contains(&want) {
            return Err(format!(
                "steering {:?} missing (dump: {st:?})",
                want.traffic
            ));
        }
    }
    Ok(())
}

async fn check_gone(vpp: &Client, cfg: &SmokeConfig) -> StepOutcome {
    let st = vpp.steering().await.map_err(e)?;
    if let Some(s) = st.iter().find(|s| s.bsid == cfg.bsid) {
        return Err(format!("steering {:?} still present", s.traffic));
    }
    if vpp
        .policies()
        .await
        .map_err(e)?
        .iter()
        .any(|p| p.bsid == cfg.bsid)
    {
        return Err(format!("policy {} still present", cfg.bsid));
    }
    let sids = vpp.localsids().await.map_err(e)?;
    if let Some(s) = sids
        .iter()
        .find(|s| s.addr == cfg.dt4_sid || s.addr == cfg.dt6_sid)
    {
        return Err(format!("local SID {} still present", s.addr));
    }
    check_tables(vpp, cfg, false).await
}
