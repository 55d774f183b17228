//! `tcpsim kernel FILE`: the file's connections run on the Linux kernel of
//! this machine, each endpoint's state path printed beside tcpsim's.
//!
//! Two network namespaces (one per host, under addresses of the run's own
//! in 198.18.0.0/15, RFC 2544's benchmarking block) are joined by the
//! delay relay (`relay`); the applications (`apps`) play their scripts
//! with real sockets; the tracepoint and sock_diag (`observe`) say what
//! the kernel's sockets did; `tcpsim::kernel::path` turns that into RFC
//! 9293 paths modulo the named representation differences. Every
//! namespace, device and trace instance is removed by its guard's drop,
//! also after an error or Ctrl-C.

mod apps;
mod netns;
mod observe;
mod relay;
mod report;

use super::{ColorChoice, EXIT_BAD_INPUT, EXIT_INCOMPLETE, SimArgs};
use apps::{Apps, Ctx, EndpointPlan, ListenerPlan, Open, Outcome};
use netns::{Netns, now_ns};
use observe::{Diag, TCP_FIN_WAIT2, TCP_SYN_RECV, TCP_TIME_WAIT, TIMEWAIT_TIMER, TraceInstance, TraceLine};
use relay::{DropRule, Partition, Wire};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tcpsim::kernel::drops::{KIND_MASK, TcpsimDrop, drop_specs};
use tcpsim::kernel::path::{Change, KernelRecord, TimeWaitSeen};
use tcpsim::kernel::sysctls::SysctlRow;
use tcpsim::kernel::timing::WireSeg;
use tcpsim::model::{Action, Fault, Model};
use tcpsim::tcp::{State, TcpConfig};
use tcpsim::trace::{Recorder, TraceKind};

/// Examples for `--help`.
pub const EXAMPLES: &str = "\
Examples:
  tcpsim kernel sims/connection-refused.ron  # needs root
  tcpsim kernel sims/connection-refused.ron --color never  # needs root
  tcpsim kernel sims/connection-refused.ron --set 'links[0].delay_ms=20'  # needs root

Needs Linux, root, network namespaces, TUN devices and tracefs. Plays two hosts,
fixed-delay links, listeners and connections with app scripts, scripted Drop
faults and partitions. Takes as long as the kernel does: TIME_WAIT is 60 s
(the examples' refused connection has none, so each takes about a second).
Also prints, on both sides, the SYN schedule and give-up, the first data
retransmission, the delay of a FIN's ACK and TIME_WAIT's length, each with
the tolerance of the kernel's timer wheel.
Exit codes: 0 every path matches, 1 a path differs, 2 bad input, 3 the run could
not be carried out (the message says why).";

/// `tcpsim kernel`'s arguments.
#[derive(clap::Args, Debug)]
pub struct KernelArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Colour the verdicts.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// One endpoint's path on the tcpsim side: states and when (ns).
pub struct SidePath {
    pub conn: u32,
    pub name: String,
    pub steps: Vec<(State, u64)>,
}

/// The tcpsim side's run.
struct TcpsimRun {
    paths: Vec<SidePath>,
    /// The segments rules dropped, each with its ordinal among its
    /// sender's segments of its kind.
    drops: Vec<TcpsimDrop>,
    end_ns: u64,
    time_wait_ns: u64,
    /// Every segment sent, as the wire saw it (for the timings).
    segs: Vec<WireSeg>,
}

fn tcpsim_run(model: &Model) -> Result<TcpsimRun, String> {
    let side = model.clone();
    let time_wait_ns = side.configs.first().map(|c| c.time_wait_len().as_nanos()).unwrap_or(0);
    let sim = tcpsim::simulation::Simulation::from_model(side).map_err(|e| {
        format!("the tcpsim side does not build: {}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))
    })?;
    let mut rec = Recorder::default();
    let finished = sim.run(&mut rec);
    let mut paths: Vec<SidePath> = Vec::new();
    let mut by_ep: std::collections::BTreeMap<u32, usize> = std::collections::BTreeMap::new();
    let mut sent: std::collections::BTreeMap<(u32, u8, bool), u32> = std::collections::BTreeMap::new();
    let mut sends: std::collections::BTreeMap<u64, (u32, u8, bool, u32)> = std::collections::BTreeMap::new();
    // Kinds leave PSH out (`tcpsim::kernel::drops`).
    let mut drops = Vec::new();
    let mut segs: Vec<WireSeg> = Vec::new();
    let mut seg_of: std::collections::BTreeMap<u64, usize> = std::collections::BTreeMap::new();
    for e in &rec.events {
        match e.kind {
            TraceKind::Transition { from, to, .. } => {
                let i = *by_ep.entry(e.ep).or_insert_with(|| {
                    paths.push(SidePath {
                        conn: e.conn,
                        name: e.endpoint.clone(),
                        steps: vec![(from, e.t.as_nanos())],
                    });
                    paths.len() - 1
                });
                paths[i].conn = e.conn;
                paths[i].steps.push((to, e.t.as_nanos()));
            }
            TraceKind::Send { seg, .. } => {
                let key = (e.ep, seg.flags.bits() & KIND_MASK, seg.len > 0);
                let n = sent.entry(key).or_insert(0);
                *n += 1;
                if let Some(p) = e.pkt {
                    sends.insert(p.pkt, (e.conn, seg.flags.bits(), key.2, *n));
                    seg_of.insert(p.pkt, segs.len());
                }
                segs.push(WireSeg {
                    from: e.endpoint.clone(),
                    to: String::new(),
                    sent_ns: e.t.as_nanos(),
                    arrived_ns: None,
                    flags: seg.flags.bits(),
                    seq: seg.seq.0,
                    ack: seg.ack.0,
                    len: seg.len,
                });
            }
            TraceKind::Deliver { .. } => {
                if let Some(&i) = e.pkt.and_then(|p| seg_of.get(&p.pkt)) {
                    // The first copy's arrival (a duplicate's is later).
                    if segs[i].arrived_ns.is_none() {
                        segs[i].arrived_ns = Some(e.t.as_nanos());
                        segs[i].to = e.endpoint.clone();
                    }
                }
            }
            TraceKind::Drop { reason: tcpsim::link::DropReason::Rule, .. } => {
                if let Some(&(conn, flags, data, nth)) = e.pkt.and_then(|p| sends.get(&p.pkt)) {
                    drops.push(TcpsimDrop { conn, name: e.endpoint.clone(), flags, data, nth });
                }
            }
            _ => {}
        }
    }
    let end_ns = rec.events.last().map(|e| e.t.as_nanos()).unwrap_or(0);
    let _ = finished;
    // A listener's idle endpoint (CLOSED → LISTEN only) is no endpoint of
    // a connection.
    paths.retain(|p| p.steps.iter().any(|(s, _)| !matches!(s, State::Closed | State::Listen)));
    Ok(TcpsimRun { paths, drops, end_ns, time_wait_ns, segs })
}

/// The run's two addresses: a /30 of 198.18.0.0/15 chosen by the process
/// id, so concurrent runs (each in its own namespaces) tell their
/// tracepoint lines apart.
fn addresses() -> [Ipv4Addr; 2] {
    let base = u32::from(Ipv4Addr::new(198, 18, 0, 0)) + (std::process::id() % 32768) * 4;
    [Ipv4Addr::from(base + 1), Ipv4Addr::from(base + 2)]
}

/// The first port the run gives an active endpoint whose file names
/// none (the next free one from here): every endpoint's address pair is
/// known before any traffic, so the relay can drop a segment sent before
/// `connect()` or `accept()` returns (a SYN,ACK).
const FIRST_PORT: u16 = 40000;

/// The endpoints and listeners of the file, on the run's addresses. Every
/// endpoint's local and remote address are fixed here, before the run.
fn plan(model: &Model, addr: [Ipv4Addr; 2]) -> (Vec<EndpointPlan>, Vec<ListenerPlan>) {
    let at = |h: u32, port: u16| SocketAddrV4::new(addr[h as usize], port);
    // Ports the file uses itself, per host.
    let mut used: Vec<(u32, u16)> = model.listeners.iter().map(|l| (l.host, l.port)).collect();
    for c in &model.connections {
        used.extend(c.local_port.map(|p| (c.host, p)));
        used.push((c.remote_host, c.remote_port));
    }
    let mut next_port = FIRST_PORT;
    let mut fresh = |host: u32| {
        while used.contains(&(host, next_port)) {
            next_port += 1;
        }
        used.push((host, next_port));
        next_port
    };
    let mut listeners: Vec<ListenerPlan> = model
        .listeners
        .iter()
        .map(|l| ListenerPlan {
            host: l.host as usize,
            addr: at(l.host, l.port),
            backlog: l.backlog.min(i32::MAX as u32) as i32,
            listen_at_ns: l.listen_at.as_nanos(),
        })
        .collect();
    let mut eps = Vec::new();
    for (ci, c) in model.connections.iter().enumerate() {
        let client = eps.len();
        let local = at(c.host, c.local_port.unwrap_or_else(|| fresh(c.host)));
        let remote = at(c.remote_host, c.remote_port);
        eps.push(EndpointPlan {
            name: c.name.clone(),
            conn: ci as u32,
            host: c.host as usize,
            open: Open::Connect { local, remote },
            app: c.app.clone(),
            config: c.config,
            full_close: false,
        });
        if let Some(peer) = &c.peer {
            let open = if peer.app.script.iter().any(|t| t.action == Action::Connect) {
                Open::Connect { local: remote, remote: local }
            } else {
                let listen_at = peer.app.script.iter().find(|t| t.action == Action::Listen).map(|t| t.at.as_nanos());
                listeners.push(ListenerPlan {
                    host: c.remote_host as usize,
                    addr: remote,
                    backlog: 1,
                    listen_at_ns: listen_at.unwrap_or(0),
                });
                Open::Accept { listener: listeners.len() - 1, client, from_accept: false }
            };
            eps.push(EndpointPlan {
                name: peer.name.clone(),
                conn: ci as u32,
                host: c.remote_host as usize,
                open,
                app: peer.app.clone(),
                config: peer.config,
                full_close: false,
            });
        } else if let Some(li) = model.listeners.iter().position(|l| l.host == c.remote_host && l.port == c.remote_port)
        {
            eps.push(EndpointPlan {
                name: model.listeners[li].name.clone(),
                conn: ci as u32,
                host: c.remote_host as usize,
                open: Open::Accept { listener: li, client, from_accept: true },
                app: model.listeners[li].app.clone(),
                config: model.listeners[li].config,
                full_close: false,
            });
        }
    }
    (eps, listeners)
}

/// Whether the endpoint's CLOSE is played as close(2), not
/// shutdown(SHUT_WR). tcpsim's Linux orphan timeout (B-OPT-01,
/// `linux_fin_wait_2_timeout`) models a socket the application closed:
/// the kernel applies `tcp_fin_timeout` only to such an orphan
/// (tcp_input.c `tcp_rcv_state_process`, FIN_WAIT1: a socket that is not
/// SOCK_DEAD just waits). So where the option is on, CLOSE is close(2),
/// unless tcpsim's endpoint receives data after it closed: Linux resets
/// an orphan that does (same function, "RFC 1122 says we MUST send a
/// reset"), which tcpsim does not model, and there CLOSE stays
/// shutdown(SHUT_WR), RFC 9293's "no more to send" (§3.10.4).
fn full_close(model: &Model, run: &TcpsimRun, p: &EndpointPlan) -> bool {
    let orphans = model.configs.get(p.config).is_some_and(|c| c.linux_fin_wait_2_timeout.is_some());
    let closed_at = run
        .paths
        .iter()
        .find(|s| s.conn == p.conn && s.name == p.name)
        .and_then(|s| s.steps.iter().find(|(st, _)| *st == State::FinWait1))
        .map(|(_, t)| *t);
    let data_after = closed_at
        .is_some_and(|t| run.segs.iter().any(|s| s.to == p.name && s.len > 0 && s.arrived_ns.is_some_and(|a| a > t)));
    orphans && !data_after
}

/// Each endpoint's (local, remote) address pair, known before the run:
/// an accepted endpoint's local address is its listener's, its remote
/// one its client's.
fn address_pairs(eps: &[EndpointPlan], listeners: &[ListenerPlan]) -> Vec<(SocketAddrV4, SocketAddrV4)> {
    let local_of = |p: &EndpointPlan| match p.open {
        Open::Connect { local, .. } => local,
        Open::Accept { listener, .. } => listeners[listener].addr,
    };
    eps.iter()
        .map(|p| match p.open {
            Open::Connect { local, remote } => (local, remote),
            Open::Accept { listener, client, .. } => (listeners[listener].addr, local_of(&eps[client])),
        })
        .collect()
}

/// The relay's drop rules (`tcpsim::kernel::drops`), with their
/// counters.
fn drop_rules(model: &Model, eps: &[EndpointPlan], run: &TcpsimRun) -> Vec<DropRule> {
    let names: Vec<(u32, String)> = eps.iter().map(|p| (p.conn, p.name.clone())).collect();
    drop_specs(model, &names, &run.drops)
        .into_iter()
        .map(|spec| DropRule { spec, matched: AtomicU32::new(0), dropped: AtomicU32::new(0) })
        .collect()
}

/// What the kernel run saw.
pub struct KernelRun {
    pub records: Vec<KernelRecord>,
    pub outcomes: Vec<Outcome>,
    /// Settings made or refused, as (what, note).
    pub sysctls: Vec<(String, String)>,
    /// Each namespace's settings beside the profile's and the file's.
    pub settings: [Vec<SysctlRow>; 2],
    /// Per drop rule: its fault, the sender, segments matched and dropped
    /// on the kernel, segments of that sender and flags dropped in tcpsim.
    pub rules: Vec<(String, String, u32, u32, u32)>,
    pub request_sockets_seen: usize,
    pub interrupted: bool,
    pub timed_out: bool,
    pub addr: [Ipv4Addr; 2],
    pub release: String,
    /// The relay's capture, senders and receivers named.
    pub segs: Vec<WireSeg>,
    /// The kernel's timer frequency (CONFIG_HZ) and where it was read.
    pub hz: (u32, String),
}

/// The configuration of host `h`'s first endpoint (a connection's, its
/// peer's or a listener's): the one whose sysctls its namespace gets.
fn host_config(model: &Model, h: u32) -> Option<&TcpConfig> {
    let index = model
        .connections
        .iter()
        .find(|c| c.host == h)
        .map(|c| c.config)
        .or_else(|| {
            model.connections.iter().find(|c| c.remote_host == h).and_then(|c| c.peer.as_ref()).map(|p| p.config)
        })
        .or_else(|| model.listeners.iter().find(|l| l.host == h).map(|l| l.config));
    index.and_then(|i| model.configs.get(i))
}

struct Setup {
    ns: [Arc<Netns>; 2],
    tuns: [Arc<tun::Device>; 2],
    diag: [Diag; 2],
    trace: TraceInstance,
    sysctls: Vec<(String, String)>,
    settings: [Vec<SysctlRow>; 2],
    socket_cc: Option<String>,
}

/// Sets the file's values in namespace `n` (`tcpsim::kernel::sysctls`);
/// the congestion controller is set apart. Returns the rows, and a note
/// for each value the kernel refused.
fn apply_sysctls(n: &Netns, cfg: Option<&TcpConfig>, notes: &mut Vec<(String, String)>) -> Vec<SysctlRow> {
    let Some(cfg) = cfg else { return Vec::new() };
    let rows = tcpsim::kernel::sysctls::rows(cfg, |key| n.read_sysctl(key).ok());
    for r in &rows {
        if r.key == "net.ipv4.tcp_congestion_control" {
            continue;
        }
        if let Some(v) = r.to_set()
            && let Err(e) = n.sysctl(r.key, v)
        {
            notes.push((r.key.to_string(), format!("the file's {v} could not be set: {e}")));
        }
    }
    rows
}

fn setup(tag: &str, addr: [Ipv4Addr; 2], cc: &str, model: &Model) -> Result<Setup, String> {
    // The guards built so far drop (and clean up) on any `?` below.
    let a = Arc::new(Netns::create(&format!("{tag}-a")).map_err(|e| format!("no network namespaces: {e}"))?);
    let b = Arc::new(Netns::create(&format!("{tag}-b")).map_err(|e| format!("no network namespaces: {e}"))?);
    let ns = [a, b];
    let mut sysctls = Vec::new();
    let mut socket_cc = None;
    for (h, n) in ns.iter().enumerate() {
        let key = "net.ipv4.tcp_congestion_control";
        let shown = match n.sysctl(key, cc) {
            Ok(got) if got == cc => format!("{got} (set)"),
            // Linux lets a namespace other than the initial one default
            // only to an algorithm in tcp_allowed_congestion_control
            // (`tcp_set_default_congestion_control`: EPERM); a socket
            // may still choose it with TCP_CONGESTION (CAP_NET_ADMIN).
            _ => {
                socket_cc = Some(cc.to_string());
                let got = n.read_sysctl(key).unwrap_or_default();
                format!(
                    "{got} ({cc} is not in the host's tcp_allowed_congestion_control, so a namespace \
                     cannot default to it: every socket sets {cc} with TCP_CONGESTION)"
                )
            }
        };
        if h == 0 {
            sysctls.push((key.to_string(), shown));
        }
    }
    let settings = [
        apply_sysctls(&ns[0], host_config(model, 0), &mut sysctls),
        apply_sysctls(&ns[1], host_config(model, 1), &mut sysctls),
    ];
    let mut tuns = Vec::new();
    for (h, n) in ns.iter().enumerate() {
        let dev = n.run(|| {
            let mut cfg = tun::Configuration::default();
            cfg.tun_name("tk0");
            tun::create(&cfg).map_err(|e| format!("no TUN device: {e}"))
        })?;
        let (me, peer) = (addr[h].to_string(), addr[1 - h].to_string());
        n.ip(&["addr", "add", &format!("{me}/32"), "peer", &format!("{peer}/32"), "dev", "tk0"])?;
        n.ip(&["link", "set", "tk0", "up"])?;
        // The initial window is the route's (tcp_init_cwnd: RTAX_INITCWND,
        // else TCP_INIT_CWND 10): set when the file's differs.
        if let Some(iw) = host_config(model, h as u32).and_then(|c| c.initial_window_segments).filter(|&w| w != 10) {
            let iw = iw.to_string();
            n.ip(&["route", "replace", &format!("{peer}/32"), "dev", "tk0", "src", &me, "initcwnd", &iw])?;
            if h == 0 {
                sysctls.push(("route initcwnd".into(), format!("{iw} (set; the kernel's default is 10)")));
            }
        }
        tuns.push(Arc::new(dev));
    }
    let tuns: [Arc<tun::Device>; 2] = [tuns[0].clone(), tuns[1].clone()];
    let diag = [ns[0].run(Diag::open)?, ns[1].run(Diag::open)?];
    let trace = TraceInstance::create(tag)?;
    Ok(Setup { ns, tuns, diag, trace, sysctls, settings, socket_cc })
}

/// How long after tcpsim's last event a run whose sockets stay open goes
/// on: the kernel's timers may fire late by the timer wheel's
/// granularity (a level-2 bucket is 64 jiffies, 256 ms at HZ=250).
const QUIET_MARGIN_NS: u64 = 1_000_000_000;

/// Runs the plan on the kernel until every endpoint is settled (CLOSED,
/// no timewait socket), or is in the state tcpsim's run ended in
/// [`QUIET_MARGIN_NS`] after tcpsim's end, or 10 s after that.
fn run_kernel(
    model: &Model,
    run: &TcpsimRun,
    cc: &str,
    interrupted: &AtomicBool,
) -> Result<(KernelRun, Vec<EndpointPlan>), String> {
    let addr = addresses();
    let tag = format!("tcpsim-{}", std::process::id());
    let (mut eps, listeners) = plan(model, addr);
    for p in &mut eps {
        p.full_close = full_close(model, run, p);
    }
    let rules = drop_rules(model, &eps, run);
    let mut s = setup(&tag, addr, cc, model)?;
    let delay = |from: u32| {
        model.links.iter().find_map(|l| {
            (l.a == from).then_some(l.ab.delay).or((l.b == from).then_some(l.ba.delay)).map(|d| d.as_nanos())
        })
    };
    let partitions: Vec<Partition> = model
        .faults
        .iter()
        .filter_map(|f| match f {
            Fault::Partition { from, to, .. } => Some(Partition { from_ns: from.as_nanos(), to_ns: to.as_nanos() }),
            _ => None,
        })
        .collect();
    let wire = Arc::new(Wire {
        t0_ns: relay::AtomicU64Cell::new(),
        delay_ns: [delay(0).unwrap_or(0), delay(1).unwrap_or(0)],
        rules,
        partitions,
        endpoints: address_pairs(&eps, &listeners),
        arrivals: [Mutex::new(Vec::new()), Mutex::new(Vec::new())],
        capture: Mutex::new(Vec::new()),
        counts: [Mutex::new((0, 0)), Mutex::new((0, 0))],
        stop: AtomicBool::new(false),
        debug: std::env::var("TCPSIM_KERNEL_DEBUG").is_ok_and(|v| v == "1"),
    });
    // Scripted times and the relay's delay must hold to well under a
    // millisecond on a busy machine: the relay's and the applications'
    // threads (which inherit the policy from this thread while it has it)
    // run at a real-time priority; they mostly sleep. The run loop below
    // goes back to the normal policy.
    let pid = std::process::id().to_string();
    if let Err(e) = netns::helper("chrt", &["-f", "-p", "10", &pid]) {
        s.sysctls.push(("scheduling".into(), format!("not real-time ({e}): timing may slip under load")));
    }
    let relay_threads = relay::start(wire.clone(), s.tuns.clone());
    let apps =
        Arc::new(Apps { outcomes: Mutex::new(vec![Outcome::default(); eps.len()]), stop: AtomicBool::new(false) });
    // Time for every thread to reach its first wait.
    let t0 = now_ns() + 200_000_000;
    wire.t0_ns.set(t0);
    let ctx = Arc::new(Ctx { apps: apps.clone(), t0_ns: t0, socket_cc: s.socket_cc.clone() });
    let plans = Arc::new(eps);
    let app_threads = match apps::start(&ctx, &s.ns, &plans, &listeners) {
        Ok(t) => t,
        Err(e) => {
            wire.stop.store(true, Ordering::SeqCst);
            apps.stop.store(true, Ordering::SeqCst);
            return Err(e);
        }
    };
    let _ = netns::helper("chrt", &["-o", "-p", "0", &pid]);
    let last_script = plans.iter().flat_map(|p| p.app.script.iter().map(|t| t.at.as_nanos())).max().unwrap_or(0);
    let deadline = t0 + run.end_ns.max(last_script) + 10_000_000_000;
    let mut lines: Vec<TraceLine> = Vec::new();
    let mut tw: Vec<(SocketAddrV4, SocketAddrV4, TimeWaitSeen)> = Vec::new();
    let mut request_sockets: Vec<(SocketAddrV4, SocketAddrV4)> = Vec::new();
    let ours = |a: &SocketAddrV4| addr.contains(a.ip());
    let (mut timed_out, mut was_interrupted) = (false, false);
    // The timewait sockets of the last dump, with their substates.
    let mut present: Vec<((SocketAddrV4, SocketAddrV4), u8)> = Vec::new();
    let mut next_dump = 0;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(10));
        let now = now_ns();
        let new: Vec<TraceLine> = s.trace.poll().into_iter().filter(|l| ours(&l.local)).collect();
        // sock_diag is asked right after a full socket hands over to a
        // timewait socket (so its timer is read right after entry), then
        // every 100 ms while a timewait socket lives (to see it end).
        let handover = new.iter().any(|l| {
            l.to == tcpsim::kernel::path::LinuxState::Close
                && matches!(
                    l.from,
                    tcpsim::kernel::path::LinuxState::FinWait2 | tcpsim::kernel::path::LinuxState::Closing
                )
        });
        lines.extend(new);
        let living = tw.iter().any(|(_, _, seen)| seen.gone_ns.is_none());
        if handover || (living && now >= next_dump) {
            next_dump = now + 100_000_000;
            present.clear();
            for d in &mut s.diag {
                for sock in d.dump()? {
                    if !ours(&sock.local) {
                        continue;
                    }
                    let orphan = sock.state == TCP_FIN_WAIT2 && sock.timer == TIMEWAIT_TIMER;
                    if sock.state == TCP_TIME_WAIT || orphan {
                        present.push(((sock.local, sock.remote), sock.state));
                        match tw.iter_mut().find(|(l, r, _)| (*l, *r) == (sock.local, sock.remote)) {
                            None => {
                                let seen = TimeWaitSeen {
                                    first_seen_ns: now_ns(),
                                    expires_ms: sock.expires_ms,
                                    gone_ns: None,
                                    orphan_fin_wait_2: orphan,
                                    time_wait_seen_ns: None,
                                };
                                tw.push((sock.local, sock.remote, seen));
                            }
                            Some((_, _, seen)) => {
                                if seen.orphan_fin_wait_2 && !orphan && seen.time_wait_seen_ns.is_none() {
                                    // The peer's FIN turned it to TIME_WAIT:
                                    // its timer is now TIME_WAIT's.
                                    seen.time_wait_seen_ns = Some(now);
                                    seen.first_seen_ns = now;
                                    seen.expires_ms = sock.expires_ms;
                                }
                            }
                        }
                    } else if sock.state == TCP_SYN_RECV && !request_sockets.contains(&(sock.local, sock.remote)) {
                        request_sockets.push((sock.local, sock.remote));
                    }
                }
            }
            for (l, r, seen) in &mut tw {
                if seen.gone_ns.is_none() && !present.iter().any(|(p, _)| *p == (*l, *r)) {
                    seen.gone_ns = Some(now);
                }
            }
        }
        if interrupted.load(Ordering::SeqCst) {
            was_interrupted = true;
            break;
        }
        if now > deadline {
            timed_out = true;
            break;
        }
        let outcomes = apps.outcomes.lock().expect("outcomes").clone();
        let settled = |o: &Outcome| {
            if o.connect_error.is_some() {
                return true;
            }
            let (Some(l), Some(r)) = (o.local, o.remote) else { return false };
            let last = lines.iter().rev().find(|t| t.local == l && t.remote == r).map(|t| t.to);
            last == Some(tcpsim::kernel::path::LinuxState::Close) && !present.iter().any(|(p, _)| *p == (l, r))
        };
        let actives_settled = plans
            .iter()
            .zip(&outcomes)
            .filter(|(p, _)| matches!(p.open, Open::Connect { .. }))
            .all(|(_, o)| settled(o));
        let all_settled = plans.iter().zip(&outcomes).all(|(p, o)| {
            settled(o) || (matches!(p.open, Open::Accept { .. }) && o.accepted_ns.is_none() && actives_settled)
        });
        if all_settled && now > t0 + last_script + 100_000_000 {
            break;
        }
        // Sockets the scripts leave open stay open: the run ends once
        // tcpsim's has (and a margin for the kernel's late timers) with
        // every endpoint in the state tcpsim's ended in.
        let kernel_state = |o: &Outcome| {
            if o.connect_error.is_some() {
                return Some(State::Closed);
            }
            let (Some(l), Some(r)) = (o.local, o.remote) else { return None };
            let last = lines.iter().rev().find(|t| t.local == l && t.remote == r).map(|t| t.to)?;
            let tw_state = present.iter().find(|(p, _)| *p == (l, r)).map(|(_, st)| *st);
            Some(match (last, tw_state) {
                (tcpsim::kernel::path::LinuxState::Close, Some(TCP_FIN_WAIT2)) => State::FinWait2,
                (tcpsim::kernel::path::LinuxState::Close, Some(_)) => State::TimeWait,
                (other, _) => other.rfc(),
            })
        };
        let final_state = |p: &EndpointPlan| {
            run.paths.iter().find(|s| s.conn == p.conn && s.name == p.name).and_then(|s| s.steps.last()).map(|x| x.0)
        };
        let quiet = plans.iter().zip(&outcomes).all(|(p, o)| {
            let k = kernel_state(o);
            k == final_state(p) || (k.is_none() && final_state(p) == Some(State::Closed))
        });
        if quiet && now > t0 + run.end_ns.max(last_script) + QUIET_MARGIN_NS {
            break;
        }
    }
    // A failed connect() settles its endpoint as soon as the call
    // returns, possibly before the tracepoint's SYN_SENT -> CLOSE line
    // was read: one last read after the kernel has written it.
    std::thread::sleep(std::time::Duration::from_millis(50));
    lines.extend(s.trace.poll().into_iter().filter(|l| ours(&l.local)));
    // The relay stops first: the sockets close when the applications'
    // threads end, and what that sends is no part of the run.
    wire.stop.store(true, Ordering::SeqCst);
    for t in relay_threads {
        let _ = t.join();
    }
    // The applications' threads are left to end with the process (one
    // may be blocked in a write on a connection still under way).
    apps.stop.store(true, Ordering::SeqCst);
    drop(app_threads);
    let outcomes = apps.outcomes.lock().expect("outcomes").clone();
    let arrivals: [Vec<u64>; 2] =
        [wire.arrivals[0].lock().expect("arrivals").clone(), wire.arrivals[1].lock().expect("arrivals").clone()];
    let rel = |t: u64| t.saturating_sub(t0);
    let name_of = |a: SocketAddrV4, b: SocketAddrV4| {
        wire.endpoints.iter().position(|t| *t == (a, b)).map(|i| plans[i].name.clone()).unwrap_or_else(|| a.to_string())
    };
    let segs: Vec<WireSeg> = wire
        .capture
        .lock()
        .expect("capture")
        .iter()
        .map(|c| WireSeg {
            from: name_of(c.src, c.dst),
            to: name_of(c.dst, c.src),
            sent_ns: rel(c.sent_ns),
            arrived_ns: c.arrived_ns.map(rel),
            flags: c.flags,
            seq: c.seq,
            ack: c.ack,
            len: c.len,
        })
        .collect();
    let records = plans
        .iter()
        .zip(&outcomes)
        .map(|(p, o)| {
            // A passive open's request socket shows only on the wire: the
            // SYN,ACKs sent under this endpoint's name.
            let synacks_sent: Vec<u64> =
                segs.iter().filter(|s| s.from == p.name && s.flags & 0x12 == 0x12).map(|s| s.sent_ns).collect();
            let listen_ns = match p.open {
                Open::Accept { listener, .. } => lines
                    .iter()
                    .find(|t| t.local == listeners[listener].addr && t.to == tcpsim::kernel::path::LinuxState::Listen)
                    .map(|t| rel(t.at_ns)),
                Open::Connect { .. } => None,
            };
            let (Some(l), Some(r)) = (o.local, o.remote) else {
                return KernelRecord {
                    passive: matches!(p.open, Open::Accept { .. }),
                    listen_ns,
                    synacks_sent,
                    ..KernelRecord::default()
                };
            };
            KernelRecord {
                passive: matches!(p.open, Open::Accept { .. }),
                listen_ns,
                changes: lines
                    .iter()
                    .filter(|t| t.local == l && t.remote == r)
                    .map(|t| Change { at_ns: rel(t.at_ns), from: t.from, to: t.to })
                    .collect(),
                time_wait: tw.iter().find(|(tl, tr, _)| (*tl, *tr) == (l, r)).map(|(_, _, s)| TimeWaitSeen {
                    first_seen_ns: rel(s.first_seen_ns),
                    expires_ms: s.expires_ms,
                    gone_ns: s.gone_ns.map(rel),
                    orphan_fin_wait_2: s.orphan_fin_wait_2,
                    time_wait_seen_ns: s.time_wait_seen_ns.map(rel),
                }),
                arrivals: arrivals[p.host].iter().map(|&a| rel(a)).collect(),
                synacks_sent,
            }
        })
        .collect();
    // One line per fault: a rule derived from tcpsim's drops is one rule
    // per segment.
    let mut rules: Vec<(String, String, u32, u32, u32)> = Vec::new();
    for r in &wire.rules {
        let who = match &r.spec.senders {
            Some(s) => {
                let mut names: Vec<String> = s.iter().map(|&i| plans[i].name.clone()).collect();
                names.dedup();
                names.join(", ")
            }
            None => "any endpoint".to_string(),
        };
        let in_tcpsim = run
            .drops
            .iter()
            .filter(|d| {
                plans.iter().position(|p| p.conn == d.conn && p.name == d.name).is_some_and(|ep| {
                    r.spec.matches(ep, d.flags, d.data) && (r.spec.mask != KIND_MASK || r.spec.drop == [d.nth])
                })
            })
            .count() as u32;
        let (m, d) = (r.matched.load(Ordering::SeqCst), r.dropped.load(Ordering::SeqCst));
        match rules.iter_mut().find(|x| x.0 == r.spec.label) {
            Some(x) => {
                x.2 += m;
                x.3 += d;
                x.4 += in_tcpsim;
            }
            None => rules.push((r.spec.label.clone(), who, m, d, in_tcpsim)),
        }
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string();
    let outcomes = outcomes
        .into_iter()
        .map(|mut o| {
            o.connect_ns = o.connect_ns.map(rel);
            o.accepted_ns = o.accepted_ns.map(rel);
            o.connect_error = o.connect_error.map(|(t, n, e)| (rel(t), n, e));
            o
        })
        .collect();
    let sysctls = std::mem::take(&mut s.sysctls);
    let settings = std::mem::take(&mut s.settings);
    // Devices, then the trace instance, then the namespaces.
    drop(s);
    let eps = Arc::try_unwrap(plans).unwrap_or_else(|p| (*p).clone());
    Ok((
        KernelRun {
            records,
            outcomes,
            sysctls,
            settings,
            rules,
            request_sockets_seen: request_sockets.len(),
            interrupted: was_interrupted,
            timed_out,
            addr,
            release,
            segs,
            hz: kernel_hz(),
        },
        eps,
    ))
}

/// The running kernel's CONFIG_HZ, from its build configuration
/// (`/boot/config-RELEASE`, else `/proc/config.gz` through `zcat`); 100,
/// the coarsest jiffy and so the widest tolerance, when neither says.
fn kernel_hz() -> (u32, String) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string();
    let boot = format!("/boot/config-{release}");
    let from_text =
        |text: &str| text.lines().find_map(|l| l.strip_prefix("CONFIG_HZ=")).and_then(|v| v.trim().parse::<u32>().ok());
    if let Some(hz) = std::fs::read_to_string(&boot).ok().as_deref().and_then(from_text) {
        return (hz, boot);
    }
    let gz = std::process::Command::new("zcat").arg("/proc/config.gz").output();
    if let Some(hz) = gz.ok().and_then(|o| from_text(&String::from_utf8_lossy(&o.stdout))) {
        return (hz, "/proc/config.gz".into());
    }
    (100, "not found: assumed 100, the coarsest".into())
}

/// `tcpsim kernel FILE`.
pub fn kernel(args: &KernelArgs) -> u8 {
    let Some(sim) = super::shared::load_with_overrides(&args.sim, None) else { return EXIT_BAD_INPUT };
    // The tcpsim side runs the `linux` profile unless the file or a
    // `--set` chooses a profile itself.
    let chosen = |text: &str| {
        let path = tcpsim::scenario::locate::parse_path("tcp.profile");
        path.is_some_and(|p| tcpsim::scenario::locate::Doc::parse(text).find(&p).is_ok())
            || args.sim.overrides.set.iter().any(|s| s.trim_start().starts_with("tcp.profile"))
    };
    let sim = if chosen(sim.text().unwrap_or_default()) {
        sim
    } else {
        let linux = tcpsim::scenario::Override { path: "tcp.profile".into(), value: "linux".into() };
        let Some(sim) = super::shared::load_with_defaults(&args.sim, None, vec![linux]) else { return EXIT_BAD_INPUT };
        sim
    };
    let label = args.sim.file.path.display().to_string();
    let model = sim.model().clone();
    let text = sim.text().unwrap_or_default().to_string();
    let problems = tcpsim::kernel::supported(&model);
    if !problems.is_empty() {
        let doc = tcpsim::scenario::locate::Doc::parse(&text);
        for p in problems {
            let pos = tcpsim::scenario::locate::parse_path(&p.field).map(|steps| match doc.find(&steps) {
                Ok(pos) | Err(pos) => pos,
            });
            // A value a `--set` gave is named by its flag, as load errors
            // name it.
            let set_by = args
                .sim
                .overrides
                .set
                .iter()
                .filter_map(|s| tcpsim::scenario::Override::parse(s).ok())
                .find(|o| {
                    p.field == o.path
                        || p.field
                            .strip_prefix(o.path.as_str())
                            .is_some_and(|r| r.starts_with('.') || r.starts_with('['))
                })
                .map(|o| format!(" (set by {})", o.flag()))
                .unwrap_or_default();
            match pos {
                Some(pos) => stderrln!("{label}:{}:{}: error: `{}`: {}{set_by}", pos.line, pos.column, p.field, p.why),
                None => stderrln!("{label}: error: `{}`: {}{set_by}", p.field, p.why),
            }
        }
        return EXIT_BAD_INPUT;
    }
    if !rustix::process::geteuid().is_root() {
        stderrln!("tcpsim kernel: cannot run: not root (network namespaces, TUN devices and tracefs need root)");
        return EXIT_INCOMPLETE;
    }
    let cc = tcpsim::kernel::controller(&model);
    let run = match tcpsim_run(&model) {
        Ok(r) => r,
        Err(e) => {
            stderrln!("{label}: error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let interrupted = super::shared::interrupt_flag();
    let (kernel, eps) = match run_kernel(&model, &run, cc, &interrupted) {
        Ok(k) => k,
        Err(e) => {
            stderrln!("tcpsim kernel: cannot run: {e}");
            return EXIT_INCOMPLETE;
        }
    };
    if kernel.interrupted {
        stderrln!("tcpsim kernel: interrupted; namespaces, devices and the trace instance are removed");
        return EXIT_INCOMPLETE;
    }
    let color = super::output::use_color(args.color, &super::output::Dest::Stdout(std::io::stdout()));
    report::print(&label, &model, &run.paths, run.time_wait_ns, &run.segs, &eps, &kernel, cc, color)
}
