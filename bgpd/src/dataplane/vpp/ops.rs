//! One [`Change`] as VPP API calls, with VPP's traps guarded here rather than trusted to the
//! caller's order:
//!
//! * an End.DT4/DT6 is added only if its VRF is known to exist in this VPP (read, or created in
//!   this batch): VPP accepts one pointing at a missing VRF and then crashes on the next dump;
//! * a policy is deleted only when no steering entry points at it (VPP's `sr_policy_del`
//!   leaves them dangling);
//! * the encapsulation source is set before any policy (by the diff's order): VPP copies it
//!   into each SID list when the list is created, and existing lists keep the old one;
//! * "already exists" on an add and "not found" on a delete are success (idempotent).

use std::collections::BTreeSet;
use std::net::Ipv6Addr;

use tracing::debug;
use vpp_client as vc;

use super::map::{self, error, is_already_exists, is_not_found};
use crate::dataplane::{Change, DataplaneError, Policy};

/// What one batch works with.
pub(super) struct Ctx<'a> {
    pub client: &'a vc::Client,
    /// VRFs known to exist in this VPP: `(VPP table id, is_ip6)`.
    pub tables: &'a mut BTreeSet<(u32, bool)>,
}

impl Ctx<'_> {
    pub async fn apply(&mut self, c: &Change) -> Result<(), DataplaneError> {
        match c {
            Change::SetEncapSource(src) => self.set_encap_source(*src).await,
            Change::AddTable(t, v6) => self.add_table(*t, *v6).await,
            Change::AddLocalSid(s) => {
                let v = map::local_sid_to_vpp(s)?;
                let family = map::lookup_family(s.behavior);
                let table = map::to_vpp_table(s.table);
                if let Some(v6) = family
                    && table != 0
                    && !self.tables.contains(&(table, v6))
                {
                    return Err(DataplaneError::new(format!(
                        "local SID {} {}: VRF table {} ({}) does not exist in VPP; not adding \
                         it (VPP would crash on its next dump)",
                        s.sid,
                        s.behavior,
                        s.table,
                        if v6 { "ipv6" } else { "ipv4" }
                    )));
                }
                match self.client.localsid_add(&v).await {
                    Err(e) if !is_already_exists(&e) => Err(error(
                        format_args!(
                            "adding local SID {} {} table {}",
                            s.sid, s.behavior, s.table
                        ),
                        &e,
                    )),
                    _ => Ok(()),
                }
            }
            Change::DelLocalSid(s) => {
                match self.client.localsid_del(&map::local_sid_key(s)).await {
                    Err(e) if !is_not_found(&e) => Err(error(
                        format_args!("removing local SID {} {}", s.sid, s.behavior),
                        &e,
                    )),
                    _ => Ok(()),
                }
            }
            Change::AddUnderlay(r) | Change::DelUnderlay(r) => Err(DataplaneError::new(format!(
                "underlay route {} via {}: underlay routes are not supported by the VPP \
                 backend (the fabric must route the locators)",
                r.prefix, r.via
            ))),
            Change::AddPolicy(p) => self.add_policy(p).await,
            Change::ModPolicy { new, .. } => self.replace_lists(new).await,
            Change::DelPolicy(p) => self.del_policy(p.bsid).await,
            Change::SetSteering { steering, .. } => {
                // VPP re-points an existing (prefix, table) entry to the new BSID in place, so a
                // replaced entry is one add, without a gap.
                let v = map::steering_to_vpp(steering);
                self.client.steering_add(&v).await.map_err(|e| {
                    error(
                        format_args!(
                            "steering {} table {} into policy {}",
                            steering.prefix, steering.table, steering.bsid
                        ),
                        &e,
                    )
                })
            }
            Change::DelSteering(s) => {
                match self.client.steering_del(&map::steering_to_vpp(s)).await {
                    Err(e) if !is_not_found(&e) => Err(error(
                        format_args!("removing steering {} table {}", s.prefix, s.table),
                        &e,
                    )),
                    _ => Ok(()),
                }
            }
        }
    }

    async fn add_table(&mut self, table: u32, v6: bool) -> Result<(), DataplaneError> {
        let id = map::to_vpp_table(table);
        if id == 0 {
            return Ok(()); // VPP's default table always exists
        }
        let mut t = vc::IpTable::new(id, v6);
        t.name = format!("sidra-{}-{id}", if v6 { "ipv6" } else { "ipv4" });
        self.client.ip_table_add_del(true, &t).await.map_err(|e| {
            error(
                format_args!(
                    "creating table {table} ({})",
                    if v6 { "ipv6" } else { "ipv4" }
                ),
                &e,
            )
        })?;
        self.tables.insert((id, v6));
        Ok(())
    }

    async fn set_encap_source(&mut self, src: Ipv6Addr) -> Result<(), DataplaneError> {
        self.client
            .set_encap_source(src)
            .await
            .map_err(|e| error(format_args!("setting the encapsulation source {src}"), &e))?;
        Ok(())
    }

    async fn add_policy(&mut self, p: &Policy) -> Result<(), DataplaneError> {
        let lists = map::sid_lists(p)?;
        let Some((first, rest)) = lists.split_first() else {
            return Err(DataplaneError::new(format!(
                "policy {}: no segment list",
                p.bsid
            )));
        };
        match self
            .client
            .policy_add(&vc::PolicyAdd::encap(p.bsid, first.clone()))
            .await
        {
            Ok(()) => {}
            Err(e) if is_already_exists(&e) => {
                // -12 is also "a FIB entry holds that address": only a policy of that BSID
                // makes the add done (its lists are then made right).
                if self.dump_with_sl_index(p.bsid).await?.is_some() {
                    return self.replace_lists(p).await;
                }
                return Err(DataplaneError::new(format!(
                    "adding policy {}: the binding SID is held by another FIB entry \
                     (a local SID or a route): {e}",
                    p.bsid
                )));
            }
            Err(e) => return Err(error(format_args!("adding policy {}", p.bsid), &e)),
        }
        for l in rest {
            self.add_list(p.bsid, l).await?;
        }
        Ok(())
    }

    async fn add_list(&self, bsid: Ipv6Addr, l: &vc::SidList) -> Result<(), DataplaneError> {
        let m = vc::PolicyMod {
            bsid,
            fib_table: 0,
            op: vc::PolicyModOp::AddSidList(l.clone()),
            encap_src: None,
        };
        self.client
            .policy_mod(&m)
            .await
            .map_err(|e| error(format_args!("adding a SID list to policy {bsid}"), &e))
    }

    async fn dump_with_sl_index(
        &self,
        bsid: Ipv6Addr,
    ) -> Result<Option<vc::SrPolicyWithSlIndex>, DataplaneError> {
        let all = self
            .client
            .policies_with_sl_index()
            .await
            .map_err(|e| error(format_args!("reading policy {bsid}'s SID lists"), &e))?;
        Ok(all.into_iter().find(|p| p.bsid == bsid))
    }

    /// Makes policy `p`'s SID lists in VPP equal `p`'s, with `sr_policy_mod`: the missing lists
    /// are added first, then the surplus ones deleted by their index from a fresh dump. The policy, its binding SID and the steering entries into it
    /// stay in place throughout, so traffic always has a list: a delete and re-add of the
    /// policy would leave its steering dangling (VPP does not remove it) and drop traffic in
    /// between.
    async fn replace_lists(&mut self, p: &Policy) -> Result<(), DataplaneError> {
        let want = map::sid_lists(p)?;
        let Some(have) = self.dump_with_sl_index(p.bsid).await? else {
            return Err(DataplaneError::new(format!(
                "modifying policy {}: it is not in VPP",
                p.bsid
            )));
        };
        let mut stale: Vec<vc::IndexedSidList> = have.sid_lists;
        let mut to_add = Vec::new();
        for l in want {
            match stale.iter().position(|h| h.sid_list == l) {
                Some(k) => {
                    stale.remove(k); // kept as is
                }
                None => to_add.push(l),
            }
        }
        debug!(bsid = %p.bsid, add = to_add.len(), remove = stale.len(), "modifying a policy");
        for l in &to_add {
            self.add_list(p.bsid, l).await?;
        }
        for h in stale {
            let m = vc::PolicyMod {
                bsid: p.bsid,
                fib_table: 0,
                op: vc::PolicyModOp::DelSidList {
                    sl_index: h.sl_index,
                },
                encap_src: None,
            };
            self.client.policy_mod(&m).await.map_err(|e| {
                error(
                    format_args!("removing SID list {} of policy {}", h.sl_index, p.bsid),
                    &e,
                )
            })?;
        }
        Ok(())
    }

    async fn del_policy(&mut self, bsid: Ipv6Addr) -> Result<(), DataplaneError> {
        let steering = self.client.steering().await.map_err(|e| {
            error(
                format_args!("reading the steering before removing policy {bsid}"),
                &e,
            )
        })?;
        if let Some(s) = steering.iter().find(|s| s.bsid == bsid) {
            return Err(DataplaneError::new(format!(
                "removing policy {bsid}: steering {:?} table {} still points at it (VPP would \
                 leave it dangling); it goes first",
                s.traffic,
                map::from_vpp_table(s.table_id)
            )));
        }
        match self.client.policy_del(bsid).await {
            Err(e) if !is_not_found(&e) => Err(error(format_args!("removing policy {bsid}"), &e)),
            _ => Ok(()),
        }
    }
}
