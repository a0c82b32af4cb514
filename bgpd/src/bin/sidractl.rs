//! `sidractl`: the sidra operator CLI.
//!
//! ```text
//! sidractl neighbor [ADDR]                      neighbors (a table), or one in detail
//! sidractl neighbor ADDR enable|disable [--message M]|reset [--hard]|delete
//! sidractl neighbor ADDR add --remote-as N [...]
//! sidractl rib [-a FAMILY] [PREFIX] [--longer] [--neighbor ADDR] [--all-paths]
//! sidractl watch [-a FAMILY]... [--initial]     best-path changes as they happen
//! sidractl reload                               the configuration file, as SIGHUP
//! sidractl srv6 locators|sids|policies|status   the SRv6 service and its data plane
//! sidractl srv6 steering|routes [SERVICE]       steering entries; remote routes and verdicts
//! sidractl node pods list [SERVICE]             the node's pod CIDRs and generations
//! sidractl node pods add|del SERVICE CIDR...    as the CNI agent does
//! sidractl node pods set SERVICE [CIDR...] [--expect-generation N]
//! sidractl decode --hex|--file|--pcap ...       BGP messages, offline
//! ```
//!
//! Every command but `decode` talks to sidrad only through its gRPC API (`sidra.v1`): the unix
//! socket `/run/sidra/sidrad.sock` by default (`--socket PATH`), or `--addr http(s)://HOST:PORT`
//! (TLS with `--tls-ca`, and a client certificate with `--tls-cert`/`--tls-key`). Output is a
//! table for people, or with `--json` the API's messages as JSON (one object per line for
//! `watch`).
//!
//! `decode` reads BGP messages offline (hex, a file of hex lines, or a packet capture) and prints
//! them as text or JSON lines.
//!
//! Exit status: 0 on success (for `decode`: all input was read; malformed messages are
//! reported, not fatal: finding them is what the tool is for); 1 when sidrad cannot be reached
//! or refuses the request (the gRPC status is printed, e.g. `NOT_FOUND: no neighbor 192.0.2.9
//! is configured`); 2 for bad usage or unreadable input.

use std::fmt::Display;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bgpd::capture::{Capture, CapturedMessage};
use bgpd::inspect::{error_json, message_json, message_text};
use bgpd::packet::notification::{code_name, subcode_name};
use bgpd::packet::{self, DecodeContext, Family, FamilySet, MessageError};
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};
use serde_json::{Map, Value};

#[derive(Parser, Debug)]
#[command(name = "sidractl", version, about = "sidra operator CLI")]
struct Cli {
    #[command(flatten)]
    conn: ConnArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Neighbors: list them, show one, or change one (enable, disable, reset, add, delete).
    Neighbor(NeighborArgs),
    /// Routes of the Loc-RIB: the best path of each prefix (or every path), with attributes,
    /// the SRv6 SID and why the best path won.
    Rib(RibArgs),
    /// Best-path changes as they happen (until interrupted).
    Watch(WatchArgs),
    /// Reload sidrad's configuration file (as SIGHUP does).
    Reload(JsonArgs),
    /// SRv6: locators, local SIDs, policies, steering, remote routes, data plane status.
    Srv6(Srv6Args),
    /// This node's pod CIDRs, as the CNI agent sets them.
    Node(NodeArgs),
    /// Decode BGP messages from hex, a file of hex lines, or a pcap/pcapng capture (offline).
    Decode(DecodeArgs),
}

/// How to reach sidrad.
#[derive(Args, Debug)]
struct ConnArgs {
    /// sidrad's API socket.
    #[arg(long, global = true, value_name = "PATH", default_value = bgpd::config::DEFAULT_SOCKET)]
    socket: PathBuf,
    /// sidrad's API over TCP instead: http://HOST:PORT, or https://HOST:PORT for TLS.
    #[arg(long, global = true, value_name = "URL")]
    addr: Option<String>,
    /// The CA certificate (PEM) that signed sidrad's certificate (https).
    #[arg(long, global = true, value_name = "FILE")]
    tls_ca: Option<PathBuf>,
    /// A client certificate (PEM), for a sidrad that requires one (api.client_ca).
    #[arg(long, global = true, value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// The client certificate's key (PEM).
    #[arg(long, global = true, value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// The name in sidrad's certificate, when it is not the host of --addr.
    #[arg(long, global = true, value_name = "NAME")]
    tls_domain: Option<String>,
    /// Seconds to wait for sidrad.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 5)]
    timeout: u64,
}

#[derive(Args, Debug)]
struct JsonArgs {
    /// Print JSON (the API's messages, field names as in sidra.proto).
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Args, Debug)]
#[command(
    args_conflicts_with_subcommands = false,
    subcommand_negates_reqs = true
)]
struct NeighborArgs {
    /// The neighbor's address; without it, every neighbor.
    address: Option<String>,
    #[command(subcommand)]
    action: Option<NeighborAction>,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Subcommand, Debug)]
enum NeighborAction {
    /// Start the session of a disabled neighbor.
    Enable,
    /// Stop the session with a Cease (Administrative Shutdown) and keep it down.
    Disable {
        /// The shutdown communication sent to the neighbor (RFC 9003, at most 255 bytes).
        #[arg(long, short)]
        message: Option<String>,
    },
    /// Reset the session (Cease, Administrative Reset), then start it again.
    Reset {
        /// RFC 8538 Hard Reset: also flush graceful-restart state.
        #[arg(long)]
        hard: bool,
    },
    /// Configure a new neighbor at run time (until the next reload of a file without it).
    Add(Box<AddArgs>),
    /// Stop the session (Cease, Peer De-configured) and forget the neighbor.
    Delete,
}

#[derive(Args, Debug)]
struct AddArgs {
    #[arg(long, value_name = "AS")]
    remote_as: u32,
    #[arg(long)]
    description: Option<String>,
    /// ipv4-unicast, ipv6-unicast, ipv4-vpn, ipv6-vpn (repeatable; default: the IP unicast
    /// families).
    #[arg(long = "family", value_name = "FAMILY")]
    families: Vec<String>,
    #[arg(long)]
    port: Option<u32>,
    #[arg(long)]
    passive: bool,
    #[arg(long, value_name = "SECONDS")]
    hold_time: Option<u32>,
    #[arg(long, value_name = "ADDR")]
    local_address: Option<String>,
    #[arg(long)]
    route_reflector_client: bool,
    /// Add it disabled.
    #[arg(long)]
    disabled: bool,
    /// A policy defined in the configuration file.
    #[arg(long, value_name = "NAME")]
    import_policy: Option<String>,
    #[arg(long, value_name = "NAME")]
    export_policy: Option<String>,
    /// Read the TCP-MD5 password from this environment variable (never from the command line).
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
}

#[derive(Args, Debug)]
struct RibArgs {
    /// The address family.
    #[arg(
        short = 'a',
        long,
        value_name = "FAMILY",
        default_value = "ipv4-unicast"
    )]
    family: String,
    /// Only this prefix (or the host prefix of an address).
    prefix: Option<String>,
    /// With PREFIX: also the prefixes inside it.
    #[arg(long)]
    longer: bool,
    /// Only paths from this neighbor ("local": our own routes).
    #[arg(long, value_name = "ADDR")]
    neighbor: Option<String>,
    /// Every path of each prefix, not only the best.
    #[arg(long)]
    all_paths: bool,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Args, Debug)]
struct WatchArgs {
    /// Only this family (repeatable; default: all).
    #[arg(short = 'a', long = "family", value_name = "FAMILY")]
    families: Vec<String>,
    /// First the current best paths, then the changes.
    #[arg(long)]
    initial: bool,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Args, Debug)]
struct Srv6Args {
    #[command(subcommand)]
    what: Srv6What,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Subcommand, Debug)]
enum Srv6What {
    /// The locators, with their SID structure and the services that use them.
    Locators,
    /// This node's SIDs: behavior, table, service, and whether the data plane holds them.
    Sids,
    /// SR policies (one per remote SID, named by a binding SID): segment lists and weights.
    Policies,
    /// Prefixes steered into the policies, per service and table.
    Steering {
        /// Only this service's entries.
        service: Option<String>,
    },
    /// Other nodes' SRv6 routes: installed (table, binding SID) or why not.
    Routes {
        /// Only this service's routes.
        service: Option<String>,
        /// Only the routes that are not installed.
        #[arg(long)]
        not_installed: bool,
    },
    /// The data plane: backend, sync state, pending changes, last error.
    Status,
}

#[derive(Args, Debug)]
struct NodeArgs {
    #[command(subcommand)]
    what: NodeWhat,
}

#[derive(Subcommand, Debug)]
enum NodeWhat {
    /// Pod CIDRs per service (the configuration's and the CNI agent's), with generations.
    Pods(PodsArgs),
}

#[derive(Args, Debug)]
struct PodsArgs {
    #[command(subcommand)]
    action: PodsAction,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Subcommand, Debug)]
enum PodsAction {
    /// Every service's pod CIDRs, or one service's.
    List { service: Option<String> },
    /// Advertise more pod CIDRs for a service.
    Add {
        service: String,
        #[arg(required = true, value_name = "CIDR")]
        cidrs: Vec<String>,
    },
    /// Stop advertising pod CIDRs added before (those of the configuration file stay).
    Del {
        service: String,
        #[arg(required = true, value_name = "CIDR")]
        cidrs: Vec<String>,
    },
    /// Replace a service's added pod CIDRs (none: remove them all).
    Set {
        service: String,
        #[arg(value_name = "CIDR")]
        cidrs: Vec<String>,
        /// Only if the service's generation is still N (else ABORTED: list and retry).
        #[arg(long, value_name = "N")]
        expect_generation: Option<u64>,
    },
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("input").required(true).args(["hex", "file", "pcap"]))]
struct DecodeArgs {
    /// One whole message (marker included) as hex; whitespace is ignored.
    #[arg(long, value_name = "HEX")]
    hex: Option<String>,
    /// A file with one hex message per line; blank lines and `#` comments are skipped ("-" = stdin).
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// A pcap or pcapng capture: BGP messages of TCP port 179 (and --port), reassembled.
    #[arg(long, value_name = "PATH")]
    pcap: Option<PathBuf>,
    /// Another TCP port that carries BGP in the capture (repeatable).
    #[arg(long = "port", value_name = "N")]
    ports: Vec<u16>,
    /// Print one JSON object per message per line.
    #[arg(long)]
    json: bool,
    /// AS_PATH carries 2-octet AS numbers (no RFC 6793 capability on the session).
    #[arg(long)]
    two_octet_as: bool,
    /// Path identifiers are present for FAMILY (RFC 7911): ipv4-unicast, ipv6-unicast, ipv4-vpn,
    /// ipv6-vpn (repeatable). For a capture these apply only where its OPENs were not captured.
    #[arg(long = "add-path", value_name = "FAMILY", value_parser = parse_family)]
    add_path: Vec<Family>,
}

fn parse_family(s: &str) -> Result<Family, String> {
    Family::from_name(s).ok_or_else(|| {
        format!("unknown family {s:?} (ipv4-unicast, ipv6-unicast, ipv4-vpn, ipv6-vpn)")
    })
}

/// Input that cannot be read: reported on stderr, exit status 2.
struct Unreadable(String);

impl<T: Display> From<T> for Unreadable {
    fn from(e: T) -> Self {
        Unreadable(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Decode(d) = &cli.command
        && !d.ports.is_empty()
        && d.pcap.is_none()
    {
        Cli::command()
            .error(ErrorKind::ArgumentConflict, "--port applies only to --pcap")
            .exit();
    }
    let result = match cli.command {
        Command::Decode(args) => decode(&args),
        command => return remote(&cli.conn, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Unreadable(msg)) => {
            eprintln!("sidractl: {msg}");
            ExitCode::from(2)
        }
    }
}

/// Run a command against sidrad's API; exit 1 if it cannot be reached or refuses.
fn remote(conn: &ConnArgs, command: Command) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sidractl: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run_remote(conn, command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("sidractl: {msg}");
            ExitCode::from(1)
        }
    }
}

fn print(text: &str) -> Result<(), String> {
    let mut out = io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(format!("writing output: {e}")),
    }
}

fn json<T: serde::Serialize>(v: &T, pretty: bool) -> Result<String, String> {
    let s = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    };
    s.map_err(|e| format!("JSON output: {e}"))
}

async fn run_remote(conn: &ConnArgs, command: Command) -> Result<(), String> {
    use bgpd::api::client::{Target, TlsFiles, connect, status_text};
    use bgpd::api::render;
    use sidra_proto::v1 as pb;
    use sidra_proto::v1::config_service_client::ConfigServiceClient;
    use sidra_proto::v1::neighbor_service_client::NeighborServiceClient;
    use sidra_proto::v1::rib_service_client::RibServiceClient;

    let target = match &conn.addr {
        Some(a) => Target::Url(a.clone()),
        None => Target::Socket(conn.socket.clone()),
    };
    let tls = TlsFiles {
        ca: conn.tls_ca.clone(),
        cert: conn.tls_cert.clone(),
        key: conn.tls_key.clone(),
        domain: conn.tls_domain.clone(),
    };
    let channel = connect(&target, &tls, std::time::Duration::from_secs(conn.timeout)).await?;
    let st = |s: tonic::Status| status_text(&s);
    match command {
        Command::Neighbor(args) => {
            let mut c = NeighborServiceClient::new(channel);
            let addr = args.address.clone().unwrap_or_default();
            let one = match (&args.address, args.action) {
                (None, Some(_)) => {
                    return Err("neighbor ADDR ACTION: the address is missing".into());
                }
                (None, None) => {
                    let r = c
                        .list_neighbors(pb::ListNeighborsRequest {})
                        .await
                        .map_err(st)?
                        .into_inner();
                    return if args.out.json {
                        print(&json(&r, true)?)
                    } else {
                        print(&render::neighbors_table(&r.neighbors))
                    };
                }
                (Some(_), None) => {
                    c.get_neighbor(pb::GetNeighborRequest { address: addr })
                        .await
                }
                (Some(_), Some(NeighborAction::Enable)) => {
                    c.enable_neighbor(pb::EnableNeighborRequest { address: addr })
                        .await
                }
                (Some(_), Some(NeighborAction::Disable { message })) => {
                    c.disable_neighbor(pb::DisableNeighborRequest {
                        address: addr,
                        message: message.unwrap_or_default(),
                    })
                    .await
                }
                (Some(_), Some(NeighborAction::Reset { hard })) => {
                    c.reset_neighbor(pb::ResetNeighborRequest {
                        address: addr,
                        hard,
                    })
                    .await
                }
                (Some(_), Some(NeighborAction::Delete)) => {
                    c.delete_neighbor(pb::DeleteNeighborRequest {
                        address: addr.clone(),
                    })
                    .await
                    .map_err(st)?;
                    return if args.out.json {
                        print(&json(&serde_json::json!({ "deleted": addr }), false)?)
                    } else {
                        print(&format!("neighbor {addr} deleted"))
                    };
                }
                (Some(_), Some(NeighborAction::Add(a))) => {
                    let password = match &a.password_env {
                        None => None,
                        Some(var) => Some(std::env::var(var).map_err(|_| {
                            format!("--password-env {var}: the variable is not set")
                        })?),
                    };
                    c.add_neighbor(pb::AddNeighborRequest {
                        address: addr,
                        remote_as: a.remote_as,
                        description: a.description,
                        families: a.families,
                        passive: a.passive.then_some(true),
                        port: a.port,
                        hold_time: a.hold_time,
                        local_address: a.local_address,
                        route_reflector_client: a.route_reflector_client.then_some(true),
                        shutdown: a.disabled.then_some(true),
                        password,
                        import_policy: a.import_policy,
                        export_policy: a.export_policy,
                        ..Default::default()
                    })
                    .await
                }
            }
            .map_err(st)?
            .into_inner();
            if args.out.json {
                print(&json(&one, true)?)
            } else {
                print(&render::neighbor_detail(&one))
            }
        }
        Command::Rib(args) => {
            let mut c = RibServiceClient::new(channel);
            let r = c
                .list_routes(pb::ListRoutesRequest {
                    family: args.family,
                    prefix: args.prefix.unwrap_or_default(),
                    longer_prefixes: args.longer,
                    neighbor: args.neighbor.unwrap_or_default(),
                    all_paths: args.all_paths,
                })
                .await
                .map_err(st)?
                .into_inner();
            if args.out.json {
                print(&json(&r, true)?)
            } else {
                print(&render::routes_table(&r.routes))
            }
        }
        Command::Watch(args) => {
            let mut c = RibServiceClient::new(channel);
            let mut stream = c
                .watch_routes(pb::WatchRoutesRequest {
                    families: args.families,
                    initial: args.initial,
                })
                .await
                .map_err(st)?
                .into_inner();
            while let Some(e) = stream.message().await.map_err(st)? {
                if args.out.json {
                    print(&json(&e, false)?)?;
                } else {
                    print(&render::event_line(&e))?;
                }
            }
            Ok(())
        }
        Command::Reload(out) => {
            let mut c = ConfigServiceClient::new(channel);
            let r = c
                .reload(pb::ReloadRequest {})
                .await
                .map_err(st)?
                .into_inner();
            if out.json {
                print(&json(&r, true)?)
            } else {
                print(&render::reload_text(&r))
            }
        }
        Command::Srv6(args) => srv6(channel, args).await,
        Command::Node(NodeArgs {
            what: NodeWhat::Pods(args),
        }) => pods(channel, args).await,
        Command::Decode(_) => Err("decode runs offline".into()),
    }
}

/// Print `r` as JSON or as `text` renders it.
fn output<T: serde::Serialize>(
    r: &T,
    as_json: bool,
    text: impl Fn(&T) -> String,
) -> Result<(), String> {
    if as_json {
        print(&json(r, true)?)
    } else {
        print(&text(r))
    }
}

async fn srv6(channel: tonic::transport::Channel, args: Srv6Args) -> Result<(), String> {
    use bgpd::api::client::status_text;
    use bgpd::api::render;
    use sidra_proto::v1 as pb;
    use sidra_proto::v1::srv6_service_client::Srv6ServiceClient;

    let st = |s: tonic::Status| status_text(&s);
    let mut c = Srv6ServiceClient::new(channel);
    let j = args.out.json;
    match args.what {
        Srv6What::Locators => {
            let r = c
                .list_locators(pb::ListLocatorsRequest {})
                .await
                .map_err(st)?;
            output(&r.into_inner(), j, |r| render::locators_table(&r.locators))
        }
        Srv6What::Sids => {
            let r = c
                .list_local_sids(pb::ListLocalSidsRequest {})
                .await
                .map_err(st)?;
            output(&r.into_inner(), j, |r| render::local_sids_table(&r.sids))
        }
        Srv6What::Policies => {
            let r = c
                .list_policies(pb::ListSrPoliciesRequest {})
                .await
                .map_err(st)?;
            output(&r.into_inner(), j, |r| render::policies_table(&r.policies))
        }
        Srv6What::Steering { service } => {
            let r = c
                .list_steering(pb::ListSteeringRequest {
                    service: service.unwrap_or_default(),
                })
                .await
                .map_err(st)?;
            output(&r.into_inner(), j, |r| render::steering_table(&r.entries))
        }
        Srv6What::Routes {
            service,
            not_installed,
        } => {
            let r = c
                .list_srv6_routes(pb::ListSrv6RoutesRequest {
                    service: service.unwrap_or_default(),
                    not_installed,
                })
                .await
                .map_err(st)?;
            output(&r.into_inner(), j, |r| render::srv6_routes_table(&r.routes))
        }
        Srv6What::Status => {
            let r = c
                .get_dataplane_status(pb::GetDataplaneStatusRequest {})
                .await
                .map_err(st)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            output(&r.into_inner(), j, |r| {
                render::dataplane_status_text(r, now)
            })
        }
    }
}

async fn pods(channel: tonic::transport::Channel, args: PodsArgs) -> Result<(), String> {
    use bgpd::api::client::status_text;
    use bgpd::api::render;
    use sidra_proto::v1 as pb;
    use sidra_proto::v1::node_service_client::NodeServiceClient;

    let st = |s: tonic::Status| status_text(&s);
    let mut c = NodeServiceClient::new(channel);
    let r = match args.action {
        PodsAction::List { service } => {
            c.list_pod_cidrs(pb::ListPodCidrsRequest {
                service: service.unwrap_or_default(),
            })
            .await
        }
        PodsAction::Add { service, cidrs } => {
            c.add_pod_cidrs(pb::AddPodCidrsRequest { service, cidrs })
                .await
        }
        PodsAction::Del { service, cidrs } => {
            c.remove_pod_cidrs(pb::RemovePodCidrsRequest { service, cidrs })
                .await
        }
        PodsAction::Set {
            service,
            cidrs,
            expect_generation,
        } => {
            if expect_generation == Some(0) {
                return Err(
                    "--expect-generation 0 would mean \"any generation\": omit it instead".into(),
                );
            }
            c.set_pod_cidrs(pb::SetPodCidrsRequest {
                service,
                cidrs,
                expected_generation: expect_generation.unwrap_or(0),
            })
            .await
        }
    }
    .map_err(st)?
    .into_inner();
    output(&r, args.out.json, render::pod_cidrs_table)
}

fn decode(args: &DecodeArgs) -> Result<(), Unreadable> {
    let cx = DecodeContext {
        four_octet_as: !args.two_octet_as,
        add_path: args.add_path.iter().copied().collect::<FamilySet>(),
        ..DecodeContext::default()
    };
    let mut out = Output {
        w: BufWriter::new(io::stdout().lock()),
        json: args.json,
    };
    let result = if let Some(hex) = &args.hex {
        let bytes = parse_hex(hex).map_err(|e| format!("--hex: {e}"))?;
        out.message(&bytes, &cx, Map::new())
    } else if let Some(path) = &args.file {
        decode_file(path, &cx, &mut out)
    } else if let Some(path) = &args.pcap {
        decode_pcap(path, &args.ports, &cx, &mut out)
    } else {
        Err(Unreadable("one of --hex, --file, --pcap is needed".into()))
    };
    let flushed = out.w.flush();
    result?;
    flushed.map_err(|e| Unreadable(format!("writing output: {e}")))
}

fn decode_file(path: &Path, cx: &DecodeContext, out: &mut Output<'_>) -> Result<(), Unreadable> {
    let name = path.display();
    let mut text = String::new();
    let read = if path == Path::new("-") {
        io::stdin().read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut text))
    };
    read.map_err(|e| format!("{name}: {e}"))?;
    let mut bad_lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let n = i + 1;
        match parse_hex(line) {
            Ok(bytes) => {
                let mut extra = Map::new();
                extra.insert("line".into(), n.into());
                out.message(&bytes, cx, extra)?;
            }
            Err(e) => {
                // Keep going: report every bad line, then fail.
                eprintln!("sidractl: {name}:{n}: {e}");
                bad_lines.push(n);
            }
        }
    }
    match bad_lines.as_slice() {
        [] => Ok(()),
        lines => Err(Unreadable(format!(
            "{name}: unreadable hex on line(s) {lines:?}"
        ))),
    }
}

fn decode_pcap(
    path: &Path,
    ports: &[u16],
    cx: &DecodeContext,
    out: &mut Output<'_>,
) -> Result<(), Unreadable> {
    let capture = Capture::from_file(path, ports)?;
    for note in &capture.notes {
        eprintln!("sidractl: {}: note: {note}", path.display());
    }
    for m in &capture.messages {
        let CapturedMessage {
            timestamp,
            src,
            dst,
            bytes,
            context,
        } = m;
        let mut extra = Map::new();
        extra.insert("time".into(), Value::from(*timestamp));
        extra.insert("src".into(), src.to_string().into());
        extra.insert("dst".into(), dst.to_string().into());
        out.message(bytes, context.as_ref().unwrap_or(cx), extra)?;
    }
    Ok(())
}

/// Hex digits, case-insensitive, whitespace ignored, an optional `0x` prefix.
fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let digits = digits.strip_prefix(b"0x").unwrap_or(&digits);
    if digits.is_empty() {
        return Err("no hex digits".into());
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    let nibble = |c: u8, at: usize| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!(
            "not a hex digit: {:?} at digit {}",
            char::from(c),
            at + 1
        )),
    };
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, p)| Ok(nibble(p[0], 2 * i)? << 4 | nibble(p[1], 2 * i + 1)?))
        .collect()
}

struct Output<'a> {
    w: BufWriter<io::StdoutLock<'a>>,
    json: bool,
}

impl Output<'_> {
    /// Decode and print one message; `extra` holds fields that say where it came from.
    fn message(
        &mut self,
        bytes: &[u8],
        cx: &DecodeContext,
        extra: Map<String, Value>,
    ) -> Result<(), Unreadable> {
        let decoded = packet::decode_message(bytes, cx);
        let line = if self.json {
            let mut v = match &decoded {
                Ok(m) => message_json(m),
                Err(e) => error_json(e),
            };
            if let Value::Object(o) = &mut v {
                o.extend(extra);
            }
            v.to_string()
        } else {
            let body = match &decoded {
                Ok(m) => message_text(m),
                Err(e) => error_text(e),
            };
            let prefix = match (extra.get("time"), extra.get("src"), extra.get("dst")) {
                (Some(t), Some(Value::String(s)), Some(Value::String(d))) => {
                    format!(
                        "{} {s} > {d}: ",
                        t.as_f64().map_or(String::new(), |t| format!("{t:.6}"))
                    )
                }
                _ => extra
                    .get("line")
                    .map_or(String::new(), |n| format!("line {n}: ")),
            };
            format!("{prefix}{body}")
        };
        match writeln!(self.w, "{line}") {
            Ok(()) => Ok(()),
            // A closed pipe (`| head`) ends the output quietly.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
            Err(e) => Err(Unreadable(format!("writing output: {e}"))),
        }
    }
}

fn error_text(e: &MessageError) -> String {
    format!(
        "ERROR {}/{} ({} / {}): {}",
        e.code,
        e.subcode,
        code_name(e.code),
        subcode_name(e.code, e.subcode),
        e.reason
    )
}
