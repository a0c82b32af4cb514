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
}
