//! sidractl's output of API answers: aligned tables for people, JSON (the protobuf messages
//! with their .proto field names) for programs.

use sidra_proto::v1 as pb;

/// Columns padded to their widest cell, two spaces apart; no trailing spaces.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = width.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(c);
            if i + 1 < cells.len() {
                let pad = width[i].saturating_sub(c.chars().count());
                s.extend(std::iter::repeat_n(' ', pad));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(header.to_vec());
    for r in rows {
        out.push('\n');
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

/// `1d02h03m`, `2h03m04s`, `3m04s`, `5s`; `-` for zero (not established).
pub fn duration(secs: u64) -> String {
    if secs == 0 {
        return "-".into();
    }
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d{h:02}h{m:02}m")
    } else if h > 0 {
        format!("{h}h{m:02}m{s:02}s")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

/// `established`, `idle`, ... (the configuration's and the logs' names).
pub fn state_name(state: i32) -> &'static str {
    match pb::SessionState::try_from(state) {
        Ok(pb::SessionState::Idle) => "idle",
        Ok(pb::SessionState::Connect) => "connect",
        Ok(pb::SessionState::Active) => "active",
        Ok(pb::SessionState::OpenSent) => "open-sent",
        Ok(pb::SessionState::OpenConfirm) => "open-confirm",
        Ok(pb::SessionState::Established) => "established",
        _ => "unknown",
    }
}

fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        s.to_string()
    }
}

/// `sidractl neighbor`: one line per neighbor.
pub fn neighbors_table(ns: &[pb::Neighbor]) -> String {
    let rows: Vec<Vec<String>> = ns
        .iter()
        .map(|n| {
            let c = n.config.clone().unwrap_or_default();
            let s = n.status.clone().unwrap_or_default();
            let mut state = state_name(s.state).to_string();
            if c.shutdown {
                state.push_str(" (disabled)");
            }
            vec![
                c.address,
                c.remote_as.to_string(),
                state,
                duration(s.uptime_seconds),
                s.prefixes_received_total.to_string(),
                s.prefixes_accepted_total.to_string(),
                s.prefixes_advertised.to_string(),
                or_dash(&c.description),
            ]
        })
        .collect();
    table(
        &[
            "NEIGHBOR",
            "AS",
            "STATE",
            "UPTIME",
            "RCVD",
            "ACCEPTED",
            "ADV",
            "DESCRIPTION",
        ],
        &rows,
    )
}

/// `sidractl neighbor ADDR`: everything about one neighbor.
pub fn neighbor_detail(n: &pb::Neighbor) -> String {
    let c = n.config.clone().unwrap_or_default();
    let s = n.status.clone().unwrap_or_default();
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    let mut lines: Vec<(&str, String)> = vec![
        ("neighbor", c.address.clone()),
        ("description", or_dash(&c.description)),
        ("remote AS", c.remote_as.to_string()),
        ("local AS", c.local_as.to_string()),
        ("state", state_name(s.state).to_string()),
        ("disabled", yes(c.shutdown)),
        ("uptime", duration(s.uptime_seconds)),
        (
            "established transitions",
            s.established_transitions.to_string(),
        ),
        ("last error", or_dash(&s.last_error)),
        ("peer BGP identifier", or_dash(&s.peer_bgp_id)),
        (
            "hold time",
            match s.negotiated_hold_time {
                0 => format!("{} offered", c.hold_time),
                h => format!("{h} negotiated ({} offered)", c.hold_time),
            },
        ),
        ("families configured", c.families.join(", ")),
        ("families negotiated", or_dash(&s.families.join(", "))),
        (
            "connection",
            match (s.local.as_str(), s.remote.as_str()) {
                ("", "") => "-".into(),
                (l, r) => format!("{l} -> {r}"),
            },
        ),
        ("port", c.port.to_string()),
        ("passive", yes(c.passive)),
        ("route-reflector client", yes(c.route_reflector_client)),
        ("TCP-MD5", yes(c.has_password)),
        ("import policy", or_dash(&c.import_policy)),
        ("export policy", or_dash(&c.export_policy)),
        ("messages received", s.messages_received.to_string()),
        ("messages sent", s.messages_sent.to_string()),
        ("updates received", s.updates_received.to_string()),
        ("prefixes advertised", s.prefixes_advertised.to_string()),
    ];
    if !c.group.is_empty() {
        lines.insert(2, ("group", c.group.clone()));
    }
    for (what, counts) in [
        ("prefixes received", &s.prefixes_received),
        ("prefixes accepted", &s.prefixes_accepted),
    ] {
        for f in counts.iter() {
            lines.push((what, format!("{} {}", f.count, f.family)));
        }
        if counts.is_empty() {
            lines.push((what, "0".into()));
        }
    }
    let w = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    lines
        .iter()
        .map(|(k, v)| format!("{k:<w$}  {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The AS path with the origin code, as routers show it: `65002 65003 i`.
fn path_text(p: &pb::Path) -> String {
    let origin = match p.origin.as_str() {
        "igp" => "i",
        "egp" => "e",
        _ => "?",
    };
    if p.as_path.is_empty() {
        origin.to_string()
    } else {
        format!("{} {origin}", p.as_path)
    }
}

fn opt(v: Option<u32>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// `*>` best (with the reason), `*=` multipath, `*` other; `s` marks a stale path.
fn best_text(r: &pb::Route, p: &pb::Path) -> String {
    let mut s = if p.best {
        format!("*> {}", r.reason)
    } else if p.multipath {
        "*=".to_string()
    } else {
        "*".to_string()
    };
    if p.stale {
        s.push_str(" (stale)");
    }
    s
}

fn prefix_text(r: &pb::Route) -> String {
    if r.rd.is_empty() {
        r.prefix.clone()
    } else {
        format!("{}:{}", r.rd, r.prefix)
    }
}

/// `sidractl rib`: one line per path.
pub fn routes_table(routes: &[pb::Route]) -> String {
    let mut rows = Vec::new();
    for r in routes {
        for (i, p) in r.paths.iter().enumerate() {
            rows.push(vec![
                if i == 0 {
                    prefix_text(r)
                } else {
                    String::new()
                },
                if p.next_hop.is_empty() {
                    "-".into()
                } else {
                    p.next_hop.clone()
                },
                p.neighbor.clone(),
                path_text(p),
                opt(p.local_pref),
                opt(p.med),
                if p.srv6_sid.is_empty() {
                    "-".into()
                } else {
                    p.srv6_sid.clone()
                },
                best_text(r, p),
            ]);
        }
    }
    table(
        &[
            "PREFIX", "NEXT HOP", "FROM", "PATH", "LOCPRF", "MED", "SID", "BEST",
        ],
        &rows,
    )
}

/// `sidractl watch`: one line per event.
pub fn event_line(e: &pb::RouteEvent) -> String {
    match &e.event {
        Some(pb::route_event::Event::Update(r)) => {
            let p = r.paths.first().cloned().unwrap_or_default();
            let mut s = format!(
                "+ {} {} via {} from {} path {}",
                r.family,
                prefix_text(r),
                or_dash(&p.next_hop),
                p.neighbor,
                path_text(&p)
            );
            if !p.srv6_sid.is_empty() {
                s.push_str(&format!(" sid {}", p.srv6_sid));
            }
            if !r.reason.is_empty() {
                s.push_str(&format!(" ({})", r.reason));
            }
            s
        }
        Some(pb::route_event::Event::Withdraw(k)) => {
            if k.rd.is_empty() {
                format!("- {} {}", k.family, k.prefix)
            } else {
                format!("- {} {}:{}", k.family, k.rd, k.prefix)
            }
        }
        Some(pb::route_event::Event::EndOfSnapshot(_)) => "= end of snapshot".into(),
        None => "? unknown event".into(),
    }
}

/// `sidractl reload`.
pub fn reload_text(r: &pb::ReloadResponse) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    format!(
        "configuration reloaded\nadded      {}\nremoved    {}\nreset      {}\nunchanged  {}",
        list(&r.added),
        list(&r.removed),
        list(&r.reset),
        r.unchanged
    )
}

/// `installed`, `pending` (desired, not in the data plane yet) or `stale` (in the data plane,
/// no longer desired).
fn object_state(installed: bool, stale: bool) -> &'static str {
    match (installed, stale) {
        (_, true) => "stale",
        (true, false) => "installed",
        (false, false) => "pending",
    }
}

/// `sidractl srv6 locators`.
pub fn locators_table(ls: &[pb::Locator]) -> String {
    let rows: Vec<Vec<String>> = ls
        .iter()
        .map(|l| {
            vec![
                l.name.clone(),
                l.prefix.clone(),
                format!(
                    "{}/{}/{}/{}",
                    l.block_len, l.node_len, l.function_len, l.argument_len
                ),
                if l.advertised { "yes" } else { "no" }.into(),
                or_dash(&l.services.join(", ")),
            ]
        })
        .collect();
    table(
        &[
            "NAME",
            "PREFIX",
            "STRUCTURE (B/N/F/A)",
            "ADVERTISED",
            "SERVICES",
        ],
        &rows,
    )
}

/// `sidractl srv6 sids`.
pub fn local_sids_table(sids: &[pb::LocalSid]) -> String {
    let rows: Vec<Vec<String>> = sids
        .iter()
        .map(|s| {
            vec![
                s.sid.clone(),
                s.behavior.clone(),
                s.table.to_string(),
                or_dash(&s.service),
                or_dash(&s.locator),
                object_state(s.installed, s.stale).into(),
            ]
        })
        .collect();
    table(
        &["SID", "BEHAVIOR", "TABLE", "SERVICE", "LOCATOR", "STATE"],
        &rows,
    )
}

/// `sidractl srv6 policies`: one line per segment list.
pub fn policies_table(ps: &[pb::SrPolicy]) -> String {
    let mut rows = Vec::new();
    for p in ps {
        let state = object_state(p.active, p.stale);
        for (i, l) in p.segment_lists.iter().enumerate() {
            let first = i == 0;
            let keep = |s: String| if first { s } else { String::new() };
            rows.push(vec![
                keep(p.bsid.clone()),
                l.segments.join(", "),
                l.weight.to_string(),
                keep(p.steering_count.to_string()),
                keep(state.into()),
            ]);
        }
        if p.segment_lists.is_empty() {
            rows.push(vec![
                p.bsid.clone(),
                "-".into(),
                "-".into(),
                p.steering_count.to_string(),
                state.into(),
            ]);
        }
    }
    table(&["BSID", "SEGMENTS", "WEIGHT", "STEERING", "STATE"], &rows)
}

/// `sidractl srv6 steering`.
pub fn steering_table(es: &[pb::SteeringEntry]) -> String {
    let rows: Vec<Vec<String>> = es
        .iter()
        .map(|e| {
            let mut state = object_state(e.installed, e.stale).to_string();
            if !e.reason.is_empty() {
                state.push_str(&format!(": {}", e.reason));
            }
            vec![
                or_dash(&e.service),
                e.table.to_string(),
                e.prefix.clone(),
                or_dash(&e.sid),
                e.bsid.clone(),
                or_dash(&e.neighbor),
                state,
            ]
        })
        .collect();
    table(
        &["SERVICE", "TABLE", "PREFIX", "SID", "BSID", "FROM", "STATE"],
        &rows,
    )
}

/// `sidractl srv6 routes`: each remote route and its verdict.
pub fn srv6_routes_table(rs: &[pb::Srv6Route]) -> String {
    let rows: Vec<Vec<String>> = rs
        .iter()
        .map(|r| {
            let verdict = if r.installed {
                format!("installed (table {}, bsid {})", r.table, r.bsid)
            } else {
                format!("not installed: {}", r.reason)
            };
            vec![
                if r.rd.is_empty() {
                    r.prefix.clone()
                } else {
                    format!("{}:{}", r.rd, r.prefix)
                },
                r.family.clone(),
                or_dash(&r.neighbor),
                or_dash(&r.sid),
                or_dash(&r.behavior),
                or_dash(&r.service),
                verdict,
            ]
        })
        .collect();
    table(
        &[
            "PREFIX", "FAMILY", "FROM", "SID", "BEHAVIOR", "SERVICE", "VERDICT",
        ],
        &rows,
    )
}

/// Unix seconds as `2024-05-01 12:00:00 UTC (3m04s ago)`; `-` for 0.
fn unix_time(t: i64, now: i64) -> String {
    if t <= 0 {
        return "-".into();
    }
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let ago = u64::try_from(now - t).unwrap_or(0);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC ({} ago)",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        if ago == 0 { "0s".into() } else { duration(ago) }
    )
}

/// `sidractl srv6 status`: the data plane sync state. `now`: Unix seconds.
pub fn dataplane_status_text(s: &pb::DataplaneStatus, now: i64) -> String {
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    let mut lines: Vec<(&str, String)> = vec![
        ("backend", or_dash(&s.backend)),
        ("connected", yes(s.connected)),
        ("in sync", yes(s.in_sync)),
        ("pending changes", s.pending_changes.to_string()),
        ("holding removals", yes(s.holding_removals)),
        ("last sync", unix_time(s.last_sync_unix, now)),
        ("last error", or_dash(&s.last_error)),
        ("last error at", unix_time(s.last_error_unix, now)),
        (
            "local SIDs",
            format!(
                "{} programmed, {} desired",
                s.local_sids, s.desired_local_sids
            ),
        ),
        (
            "policies",
            format!("{} programmed, {} desired", s.policies, s.desired_policies),
        ),
        (
            "steering",
            format!("{} programmed, {} desired", s.steering, s.desired_steering),
        ),
        (
            "remote routes",
            format!(
                "{} installed, {} not installed",
                s.routes_installed, s.routes_not_installed
            ),
        ),
        (
            "operations",
            format!(
                "{} applied, {} failed, {} full reads",
                s.applied_total, s.failed_total, s.reads_total
            ),
        ),
    ];
    for m in &s.modes {
        lines.push(("mode", m.clone()));
    }
    let w = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    lines
        .iter()
        .map(|(k, v)| format!("{k:<w$}  {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `sidractl node pods list|add|del|set`: one line per CIDR, `*` marking those of the
/// configuration file (the agent cannot remove them).
pub fn pod_cidrs_table(r: &pb::PodCidrsResponse) -> String {
    let mut rows = Vec::new();
    for s in &r.services {
        let head = |i: usize, v: String| if i == 0 { v } else { String::new() };
        for (i, c) in s.cidrs.iter().enumerate() {
            let source = if s.configured_cidrs.contains(c) {
                "config"
            } else {
                "agent"
            };
            rows.push(vec![
                head(i, s.service.clone()),
                head(i, s.mode.clone()),
                head(i, s.generation.to_string()),
                c.clone(),
                source.into(),
            ]);
        }
        if s.cidrs.is_empty() {
            rows.push(vec![
                s.service.clone(),
                s.mode.clone(),
                s.generation.to_string(),
                "-".into(),
                "-".into(),
            ]);
        }
    }
    table(&["SERVICE", "MODE", "GENERATION", "CIDR", "SOURCE"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let t = table(
            &["A", "BB", "C"],
            &[
                vec!["xxx".into(), "y".into(), "z".into()],
                vec!["".into(), "yyyy".into(), "".into()],
            ],
        );
        assert_eq!(t, "A    BB    C\nxxx  y     z\n     yyyy");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(0), "-");
        assert_eq!(duration(5), "5s");
        assert_eq!(duration(65), "1m05s");
        assert_eq!(duration(3723), "1h02m03s");
        assert_eq!(duration(90061), "1d01h01m");
    }

    #[test]
    fn unix_times() {
        assert_eq!(unix_time(0, 10), "-");
        assert_eq!(
            unix_time(1_700_000_000, 1_700_000_065),
            "2023-11-14 22:13:20 UTC (1m05s ago)"
        );
        assert_eq!(
            unix_time(951_782_400, 951_782_400),
            "2000-02-29 00:00:00 UTC (0s ago)"
        );
    }

    #[test]
    fn pod_cidrs_mark_the_configured_ones() {
        let r = pb::PodCidrsResponse {
            services: vec![
                pb::ServicePodCidrs {
                    service: "pods".into(),
                    cidrs: vec!["10.1.1.0/24".into(), "10.1.2.0/24".into()],
                    generation: 3,
                    configured_cidrs: vec!["10.1.1.0/24".into()],
                    mode: "vpn".into(),
                },
                pb::ServicePodCidrs {
                    service: "empty".into(),
                    mode: "global".into(),
                    ..Default::default()
                },
            ],
            generation: 3,
        };
        assert_eq!(
            pod_cidrs_table(&r),
            "SERVICE  MODE    GENERATION  CIDR         SOURCE\n\
             pods     vpn     3           10.1.1.0/24  config\n\
             \x20                            10.1.2.0/24  agent\n\
             empty    global  0           -            -"
        );
    }
}
