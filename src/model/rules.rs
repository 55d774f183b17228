//! The rules a [`Model`](super::Model) obeys whatever wrote it: a file
//! (`scenario::validate`) or Rust ([`Builder`](super::Builder)). Each rule
//! reads runtime values and returns what is wrong in the words a file's
//! error uses; the caller knows the field path, so a file's problem keeps
//! its line and column and a builder's its path. Written once here, a
//! rule cannot hold for one kind of model and not the other.

use super::{Action, App, HostId, Limits, Link, Listener, Model, Reaction};
use crate::link::LinkParams;
use crate::rng::Ppm;
use crate::tcp::{CongestionControl, MAX_RECV_BUFFER_SCALED, MAX_WINDOW_SHIFT, TcpConfig};
use crate::time::Duration;

/// Names for messages: each quoted, joined by commas; `none` if empty.
pub(crate) fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
}

/// A scenario needs a name for headers and titles.
pub(crate) fn scenario_name(name: &str) -> Option<String> {
    name.trim().is_empty().then(|| "expected a non-empty scenario name".into())
}

/// A scenario needs somewhere to run.
pub(crate) fn some_hosts(hosts: usize) -> Option<String> {
    (hosts == 0).then(|| "expected at least one host".into())
}

/// A host name: not blank, and without `#`, which names a group's members.
pub(crate) fn host_name(name: &str) -> Option<String> {
    (name.trim().is_empty() || name.contains('#')).then(|| "expected a non-empty host name without `#`".into())
}

/// A host's address is one that no stack gives a host and that no TCP
/// connection can reach: 0.0.0.0 (the unspecified address, a source only
/// while a host learns its own, RFC 1122 §3.2.1.3 (a)), 255.255.255.255
/// (limited broadcast, §3.2.1.3 (c)) and multicast 224.0.0.0/4 (RFC 5771)
/// are refused; RFC 1122 §4.2.3.10 has TCP refuse to open a connection to
/// broadcast or multicast and drop a SYN sent to one, and a capture would
/// show packets no network carries. The rest of 0.0.0.0/8 and the reserved
/// 240.0.0.0/4 are accepted: Linux takes both as unicast (0/8 since 5.3),
/// so a simulated network may use them; loopback and private ranges too.
pub(crate) fn host_addr(addr: u32) -> Option<String> {
    (addr == 0 || addr == u32::MAX || addr >> 28 == 0xe).then(|| {
        format!(
            "expected a unicast address (not 0.0.0.0, 255.255.255.255 or multicast 224.0.0.0/4), found {}",
            super::format_addr(addr)
        )
    })
}

/// A host name used once: traces, links and faults name hosts.
pub(crate) fn unique_host_name<'a>(name: &str, earlier: impl IntoIterator<Item = &'a str>) -> Option<String> {
    earlier.into_iter().any(|x| x == name).then(|| format!("duplicate host name {name:?}"))
}

/// A name that does not resolve to a host.
pub(crate) fn unknown_host(name: &str, hosts: &[String]) -> String {
    format!("unknown host {name:?}; hosts are {}", list(hosts))
}

/// An endpoint name: not blank, not used by an earlier endpoint entry,
/// not a host's (traces and fault filters name hosts and endpoints alike).
pub(crate) fn endpoint_name(name: &str, earlier: &[String], hosts: &[String]) -> Option<String> {
    if name.trim().is_empty() {
        Some("expected a non-empty name".into())
    } else if earlier.iter().any(|n| n == name) {
        Some(format!("duplicate endpoint name {name:?}"))
    } else if hosts.iter().any(|h| h == name) {
        Some(format!("{name:?} is also a host name; give the endpoint another name"))
    } else {
        None
    }
}

/// A name that is no endpoint's.
pub(crate) fn unknown_endpoint(name: &str, endpoints: &[String]) -> Option<String> {
    (!endpoints.iter().any(|e| e == name)).then(|| not_an_endpoint(name, endpoints))
}

/// The words for `name`, which names none of `endpoints` (nor, where a
/// host would do, a host).
pub(crate) fn not_an_endpoint(name: &str, endpoints: &[String]) -> String {
    format!("unknown endpoint {name:?}; endpoints are {}", list(endpoints))
}

/// The connection numbers of `connections` connections (populations
/// expanded) and `listeners` listeners: connections first, then one per
/// listener for its idle listening endpoint.
pub(crate) fn connection_numbers(connections: u64, listeners: usize) -> u64 {
    connections.saturating_add(listeners as u64)
}

/// A connection number below `total`, the connections and listeners in all.
pub(crate) fn connection_index(conn: u32, total: u64) -> Option<String> {
    (u64::from(conn) >= total).then(|| format!("expected a connection index below {total}, found {conn}"))
}

/// Port 0 means "any" to sockets; here every port is a real one.
pub(crate) fn port(port: u16) -> Option<String> {
    (port == 0).then(|| "expected a port in 1..=65535, found 0".into())
}

/// Whether a link joins hosts `a` and `b`, either way round.
pub(crate) fn linked(links: &[Link], a: HostId, b: HostId) -> bool {
    links.iter().any(|x| (x.a, x.b) == (a, b) || (x.a, x.b) == (b, a))
}

/// A new link's ends, `a` and `b` (named `names`): two hosts, not joined
/// yet by one of `links`.
pub(crate) fn link_ends(links: &[Link], a: HostId, b: HostId, names: (&str, &str)) -> Option<String> {
    if a == b {
        Some("expected two different hosts".into())
    } else if linked(links, a, b) {
        Some(format!("a link between {:?} and {:?} already exists", names.0, names.1))
    } else {
        None
    }
}

/// A new listener on `host` (named `host_name`), `port`: no earlier one
/// of `listeners` there, or a SYN could not say which it is for.
pub(crate) fn listener_place(listeners: &[Listener], host: HostId, port: u16, host_name: &str) -> Option<String> {
    listeners
        .iter()
        .any(|x| x.host == host && x.port == port)
        .then(|| format!("host {host_name:?} already listens on port {port}"))
}

/// A connection from `host` to `remote` (named `names`): another host, a
/// link away.
pub(crate) fn connection_route(links: &[Link], host: HostId, remote: HostId, names: (&str, &str)) -> Option<String> {
    if host == remote {
        Some("expected another host than `host` (connections cross a link)".into())
    } else if !linked(links, host, remote) {
        Some(format!("no link between {:?} and {:?}; add one to `links`", names.0, names.1))
    } else {
        None
    }
}

/// An MSS fits an IPv4 datagram: 1..=65495 bytes.
pub(crate) fn mss(bytes: u32) -> Option<String> {
    (bytes == 0 || bytes > 65495).then(|| format!("expected an MSS in 1..=65495 bytes, found {bytes}"))
}

/// A window shift of at most 14 (RFC 7323 §2.3).
pub(crate) fn window_scale(shift: u32) -> Option<String> {
    (shift > u32::from(MAX_WINDOW_SHIFT)).then(|| format!("expected a shift in 0..=14 (RFC 7323 §2.3), found {shift}"))
}

/// A receive buffer of 1 byte to 1 GiB, the largest scaled window.
pub(crate) fn recv_buffer(bytes: u32) -> Option<String> {
    (bytes == 0 || bytes > MAX_RECV_BUFFER_SCALED)
        .then(|| format!("expected 1..=1073741824 bytes (1 GiB, RFC 7323 §2.3), found {bytes}"))
}

/// A receive buffer above 65535 bytes only with window scaling, which
/// alone can advertise it.
pub(crate) fn recv_buffer_scaled(c: &TcpConfig) -> Option<String> {
    (c.recv_buffer > 65535 && c.window_scale.is_none()).then(|| {
        format!(
            "{} bytes needs window_scale: without it a window cannot exceed 65535 bytes (RFC 9293 §3.1, RFC 7323 §2)",
            c.recv_buffer
        )
    })
}

/// With window scaling, a receive buffer the shift can advertise: RFC
/// 7323 §2.3 has the shift chosen for the buffer. The field is the free
/// buffer shifted right by the shift, so a buffer below one unit, 2^shift
/// bytes, is advertised as 0 even when empty and the peer never sends;
/// and the field holds at most 65535 units, so a buffer above
/// 65535 << shift is never offered whole (shift 0 with 1 MiB stays at
/// 65535 bytes).
pub(crate) fn recv_buffer_for_shift(c: &TcpConfig) -> Option<String> {
    let shift = c.window_scale?.min(MAX_WINDOW_SHIFT);
    let unit = 1u32 << shift;
    let most = 65535u32 << shift;
    if c.recv_buffer < unit {
        return Some(format!(
            "recv_buffer_bytes {} is below one unit of window_scale {shift} ({unit} bytes): the advertised window would round down to 0 and the peer could never send (RFC 7323 §2.3: choose the shift for the buffer)",
            c.recv_buffer
        ));
    }
    (most < c.recv_buffer).then(|| {
        let least = (shift..=MAX_WINDOW_SHIFT).find(|s| c.recv_buffer <= 65535u32 << s);
        let fix = match least {
            Some(s) => format!("use window_scale at least {s}"),
            None => format!("the largest window is 65535 << {MAX_WINDOW_SHIFT} = {} bytes", 65535u32 << MAX_WINDOW_SHIFT),
        };
        format!(
            "recv_buffer_bytes {} is more than window_scale {shift} can advertise (65535 << {shift} = {most} bytes): {fix} (RFC 7323 §2.3: choose the shift for the buffer)",
            c.recv_buffer
        )
    })
}

/// The RTO's bounds in order.
pub(crate) fn rto_bounds(c: &TcpConfig) -> Option<String> {
    (c.rto_max < c.rto_min).then(|| format!("expected rto_max_ms >= rto_min_ms ({})", c.rto_min))
}

/// The initial RTO within the maximum.
pub(crate) fn rto_initial(c: &TcpConfig) -> Option<String> {
    (c.rto_max < c.rto_initial).then(|| format!("expected rto_initial_ms <= rto_max_ms ({})", c.rto_max))
}

/// A duration that must be positive, zero here (the file's reader gives
/// the same words for a written 0).
pub(crate) fn positive(d: Duration) -> Option<String> {
    (d == Duration::ZERO).then(|| "expected a positive duration in milliseconds, found 0".into())
}

/// A timestamp clock tick of whole milliseconds, 1 ms to 1 s (RFC 7323
/// §5.4); `ms` is how the message shows it (a file shows what it wrote).
pub(crate) fn ts_tick(tick: Duration, ms: f64) -> Option<String> {
    if tick < Duration::from_millis(1) || !tick.as_nanos().is_multiple_of(1_000_000) {
        Some(format!("expected whole milliseconds >= 1 (RFC 7323 §5.4: 1 ms to 1 s), found {ms}"))
    } else if tick > Duration::from_secs(1) {
        Some(format!("expected at most 1000 ms (RFC 7323 §5.4: 1 ms to 1 s), found {ms}"))
    } else {
        None
    }
}

/// `linux_time_wait` fixes TIME_WAIT at 60 s: an explicit `time_wait`
/// beside it says two things.
pub(crate) fn time_wait_contradiction(c: &TcpConfig) -> Option<String> {
    (c.linux_time_wait && c.time_wait.is_some())
        .then(|| "time_wait_ms contradicts linux_time_wait: true (which fixes TIME_WAIT at 60 s); set only one".into())
}

/// Consent rule: an RTO maximum below RFC 6298's 60 s floor.
pub(crate) fn rto_max_floor(c: &TcpConfig) -> Option<String> {
    (c.rto_max < Duration::from_secs(60))
        .then(|| format!("RFC 6298 (2.5) requires an RTO maximum of at least 60 s, found {}", c.rto_max))
}

/// Consent rule: an explicit TIME_WAIT below 2×MSL (a Linux TIME_WAIT is
/// its own option).
pub(crate) fn time_wait_floor(c: &TcpConfig) -> Option<String> {
    let tw = c.time_wait.filter(|tw| !c.linux_time_wait && *tw < c.msl.saturating_mul(2))?;
    Some(format!(
        "RFC 9293 §3.6.1 (MUST-13) requires TIME_WAIT >= 2×MSL = {}, found TIME_WAIT {}",
        c.msl.saturating_mul(2),
        tw
    ))
}

/// An initial window of 1 to 100 segments (B-CC-01).
pub(crate) fn initial_window(segments: u32) -> Option<String> {
    (segments == 0 || segments > 100).then(|| format!("expected 1..=100 segments, found {segments}"))
}

/// Consent rule: an initial window above RFC 6928's 10 segments.
pub(crate) fn initial_window_ceiling(c: &TcpConfig) -> Option<String> {
    let n = c.initial_window_segments.filter(|n| *n > 10)?;
    Some(format!("RFC 6928 §2 allows an initial window of at most 10 segments, found {n}"))
}

/// Consent rule: an ACK delay of 500 ms or more.
pub(crate) fn delayed_ack_ceiling(c: &TcpConfig) -> Option<String> {
    let d = c.delayed_ack.filter(|d| *d >= Duration::from_millis(500))?;
    Some(format!("RFC 9293 §3.8.6.3 (MUST-40) requires an ACK delay below 500 ms, found {d}"))
}

/// A consent rule's finding `what` at `path`, refused: the error's words.
pub(crate) fn refused(what: &str) -> String {
    format!("{what}; set `allow_rfc_violations: true` to run it anyway")
}

/// A consent rule's finding `what` at `path`, allowed: the header's line.
pub(crate) fn allowed(path: &str, what: &str) -> String {
    format!("{path}: {what} (allow_rfc_violations)")
}

/// What a rule found: a value no model may hold, or a deviation from an
/// RFC that only `allow_rfc_violations` lets through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Finding {
    /// Wrong whatever the writer allows.
    Wrong(String),
    /// A deviation from an RFC, in the words of [`refused`] and [`allowed`].
    Deviation(String),
}

/// Every rule above a whole configuration breaks, each with its field
/// (as a file names it), in a file's order. A file checks each value
/// where it is written instead, so that a problem is reported once, at
/// the block that set it; the rules are the same functions.
pub(crate) fn config(c: &TcpConfig) -> Vec<(&'static str, Finding)> {
    use Finding::{Deviation, Wrong};
    let recv_buffer = recv_buffer(c.recv_buffer).or_else(|| recv_buffer_scaled(c)).or_else(|| recv_buffer_for_shift(c));
    [
        ("msl_ms", positive(c.msl).map(Wrong)),
        ("rto_initial_ms", positive(c.rto_initial).map(Wrong)),
        ("rto_min_ms", positive(c.rto_min).map(Wrong)),
        ("rto_max_ms", positive(c.rto_max).map(Wrong)),
        ("time_wait_ms", c.time_wait.and_then(positive).map(Wrong)),
        ("user_timeout_ms", c.user_timeout.and_then(positive).map(Wrong)),
        ("mss_bytes", mss(u32::from(c.mss)).map(Wrong)),
        ("window_scale", c.window_scale.and_then(|s| window_scale(u32::from(s))).map(Wrong)),
        ("ts_tick_ms", ts_tick(c.ts_tick, c.ts_tick.as_nanos() as f64 / 1e6).map(Wrong)),
        ("recv_buffer_bytes", recv_buffer.map(Wrong)),
        ("linux_fin_wait_2_timeout_ms", c.linux_fin_wait_2_timeout.and_then(positive).map(Wrong)),
        ("delayed_ack_ms", c.delayed_ack.and_then(positive).map(Wrong)),
        ("challenge_ack_interval_ms", c.challenge_ack_interval.and_then(positive).map(Wrong)),
        ("rto_max_ms", rto_bounds(c).map(Wrong)),
        ("rto_max_ms", rto_max_floor(c).map(Deviation)),
        ("time_wait_ms", time_wait_contradiction(c).map(Wrong)),
        ("time_wait_ms", time_wait_floor(c).map(Deviation)),
        ("rto_initial_ms", rto_initial(c).map(Wrong)),
        ("delayed_ack_ms", delayed_ack_ceiling(c).map(Deviation)),
        ("initial_window_segments", c.initial_window_segments.and_then(initial_window).map(Wrong)),
        ("initial_window_segments", initial_window_ceiling(c).map(Deviation)),
    ]
    .into_iter()
    .filter_map(|(field, problem)| Some((field, problem?)))
    .collect()
}

/// A link direction's rate: positive when set.
pub(crate) fn rate(rate_bps: Option<u64>) -> Option<String> {
    (rate_bps == Some(0)).then(|| "expected a positive rate in bits per second, found 0".into())
}

/// A queue only behind a rate.
pub(crate) fn queue_needs_rate(p: &LinkParams) -> Option<String> {
    (p.queue_bytes.is_some() && p.rate_bps.is_none())
        .then(|| "a queue needs a rate_bps (without a rate, nothing ever waits)".into())
}

/// A queue that holds at least one header-only segment.
pub(crate) fn queue_size(queue_bytes: Option<u64>) -> Option<String> {
    queue_bytes.is_some_and(|q| q < 44).then(|| "expected at least 44 bytes (one header-only segment)".into())
}

/// Reordering holds a segment back for a positive time.
pub(crate) fn reorder_delay(p: &LinkParams) -> Option<String> {
    (p.reorder > Ppm::ZERO && p.reorder_delay == Duration::ZERO)
        .then(|| "reordering needs a positive reorder_delay_ms (how long a segment is held back)".into())
}

/// Every rule above a link direction breaks, each with its field (as a
/// file names it), in a file's order; `lifetime_ms` too, which a file's
/// reader refuses as it reads it.
pub(crate) fn link(p: &LinkParams) -> Vec<(&'static str, String)> {
    [
        ("lifetime_ms", p.lifetime.and_then(positive)),
        ("rate_bps", rate(p.rate_bps)),
        ("queue_bytes", queue_needs_rate(p)),
        ("queue_bytes", queue_size(p.queue_bytes)),
        ("reorder_delay_ms", reorder_delay(p)),
    ]
    .into_iter()
    .filter_map(|(field, problem)| Some((field, problem?)))
    .collect()
}

/// A send of 1 byte up to `MAX_SEND_BYTES`.
pub(crate) fn send_bytes(bytes: u64) -> Option<String> {
    (bytes == 0 || bytes > MAX_SEND_BYTES).then(|| format!("expected 1..={MAX_SEND_BYTES} bytes, found {bytes}"))
}

/// A scripted call of a listener's application: its connection is open
/// already, so it neither listens nor connects.
pub(crate) fn listener_action(action: Action) -> Option<String> {
    matches!(action, Action::Listen | Action::Connect)
        .then(|| "a listener's connections are already open; Listen and Connect do not apply".into())
}

/// Every rule above one scripted call breaks, each with its field below
/// the call's path (`""`: the call itself), in a file's order.
/// `may_connect`: a connection's application, not a listener's.
pub(crate) fn scripted(action: Action, may_connect: bool) -> Vec<(&'static str, String)> {
    let bytes = match action {
        Action::Send(bytes) => send_bytes(bytes),
        _ => None,
    };
    let place = if may_connect { None } else { listener_action(action) };
    [(".bytes", bytes), ("", place)].into_iter().filter_map(|(field, problem)| Some((field, problem?))).collect()
}

/// What is wrong with one reaction (its `bytes`, the only value it has).
pub(crate) fn reaction(r: Reaction) -> Option<String> {
    match r {
        Reaction::Send(bytes) => send_bytes(bytes),
        _ => None,
    }
}

/// Every rule above an application breaks, each with its field path
/// below the endpoint's, in a file's order. `may_connect`: a connection's
/// application, not a listener's.
pub(crate) fn app(app: &App, may_connect: bool) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (i, t) in app.script.iter().enumerate() {
        for (field, problem) in scripted(t.action, may_connect) {
            problems.push((format!("script[{i}]{field}"), problem));
        }
    }
    for (name, reactions) in [("on_connected", &app.on_connected), ("on_end_of_stream", &app.on_end_of_stream)] {
        for (i, r) in reactions.iter().enumerate() {
            if let Some(problem) = reaction(*r) {
                problems.push((format!("{name}[{i}].bytes"), problem));
            }
        }
    }
    problems
}

/// A count limit: a run that may do nothing does nothing.
pub(crate) fn at_least_one(n: u64) -> Option<String> {
    (n == 0).then(|| "expected at least 1".into())
}

/// The connection limit within what one machine holds.
pub(crate) fn max_connections(n: u64) -> Option<String> {
    (n > MAX_CONNECTIONS).then(|| format!("expected at most {MAX_CONNECTIONS} (what one machine holds)"))
}

/// The connections of a scenario, `total`, within what one machine holds
/// and within its own limit.
pub(crate) fn connection_total(total: u64, max_connections: u64) -> Option<String> {
    if total > MAX_CONNECTIONS {
        Some(format!("expected at most {MAX_CONNECTIONS} connections in all, found {total}"))
    } else if total > max_connections {
        Some(format!(
            "{total} connections exceed limits.max_connections ({max_connections}); raise it in `limits` if the machine has the memory (about 1 KiB per connection)"
        ))
    } else {
        None
    }
}

/// Every rule above the limits break, each with its field, in a file's
/// order.
pub(crate) fn limits(l: &Limits) -> Vec<(&'static str, String)> {
    [
        ("max_events", at_least_one(l.max_events)),
        ("max_connections", at_least_one(l.max_connections)),
        ("max_in_flight", at_least_one(l.max_in_flight)),
        ("max_trace_records", at_least_one(l.max_trace_records)),
        ("max_connections", max_connections(l.max_connections)),
    ]
    .into_iter()
    .filter_map(|(field, problem)| Some((field, problem?)))
    .collect()
}

/// The most connections one scenario may describe, whoever wrote it: a
/// file, the [`Builder`](super::Builder), or a model handed to
/// [`Simulation::from_model`](crate::simulation::Simulation::from_model)
/// (the ceiling of `limits.max_connections`, and a listener's backlog in
/// a file); more would not fit in memory on any machine this runs on.
pub const MAX_CONNECTIONS: u64 = 10_000_000;
/// The most bytes one scripted send may queue, in a file, a built model
/// or one handed to
/// [`Simulation::from_model`](crate::simulation::Simulation::from_model).
pub const MAX_SEND_BYTES: u64 = 1 << 40;
/// The header's lines for the deviations from the RFC defaults that
/// configuration `index` chose (file validation and [`Builder`](super::Builder) both add them).
pub(crate) fn deviations_of(index: usize, c: &TcpConfig) -> Vec<String> {
    let who = if index == 0 { "tcp".to_string() } else { format!("tcp #{index}") };
    let mut lines = Vec::new();
    let mut add = |s: String| lines.push(format!("{who}: {s}"));
    if c.rto_min < Duration::from_secs(1) {
        add(format!("rto_min {} is below the RFC 6298 (2.4) 1 s", c.rto_min));
    }
    if c.rto_initial < Duration::from_secs(1) {
        add(format!("rto_initial {} is below the RFC 6298 (2.1) 1 s", c.rto_initial));
    }
    if c.syn_linear_timeouts > 0 {
        add(format!(
            "syn_linear_timeouts {}: the first {} SYN retransmissions keep the initial RTO, and an active open gives up after r2_syn + {} retransmissions, at {} (B-LNX-02)",
            c.syn_linear_timeouts,
            c.syn_linear_timeouts,
            c.syn_linear_timeouts,
            c.r2_syn.map_or("never".into(), |n| syn_give_up(c, n + c.syn_linear_timeouts, c.syn_linear_timeouts)
                .to_string())
        ));
        if c.r2_syn.is_some_and(|n| {
            syn_give_up(c, n + c.syn_linear_timeouts, c.syn_linear_timeouts) < Duration::from_secs(180)
        }) {
            add("an active open gives up before RFC 9293 MUST-23's 3 minutes".into());
        }
    } else if c.r2_syn.is_some_and(|n| n < 7) {
        add(format!(
            "r2_syn {} gives up on a SYN before RFC 9293 MUST-23's 3 minutes with default timers",
            c.r2_syn.unwrap_or(0)
        ));
    }
    if let Some(n) = c.synack_retries {
        add(format!(
            "synack_retries {n}: a passive open gives up after {n} SYN,ACK retransmissions, at {} (B-LNX-03)",
            syn_give_up(c, n, 0)
        ));
    }
    if c.linux_rto {
        add(format!(
            "linux_rto: RTO = SRTT + max(4 x mean deviation, {}) per round trip, not clamped to rto_min (B-LNX-01)",
            c.rto_min
        ));
    }
    if c.linux_retries2 {
        let budget = c.r2.map_or("none".into(), |n| crate::tcp::linux_retries2_budget(n).to_string());
        add(format!(
            "linux_retries2: r2 is a time budget from the first retransmission ({budget}), not a count (B-LNX-04)"
        ));
    }
    if c.linux_delayed_ack {
        add("linux_delayed_ack: quick-ack mode for up to 16 ACKs, then ACKs wait the adaptive ATO (up to 200 ms); a FIN's ACK is delayed (B-LNX-05, B-LNX-06)".into());
    }
    if let Some(t) = c.challenge_ack_interval {
        add(format!("challenge_ack_interval {t}: at most one RFC 5961 challenge ACK per {t} (B-LNX-07)"));
    }
    if c.linux_handshake {
        add("linux_handshake: cwnd starts at one segment after more than one SYN or SYN,ACK retransmission; a retransmitted SYN in SYN_RECEIVED is answered with the SYN,ACK (B-LNX-08, B-LNX-09)".into());
    }
    if c.congestion_control == CongestionControl::None {
        add("congestion_control none: RFC 9293 §3.8.2 (MUST-19) requires congestion control".into());
    }
    if let Some(d) = c.delayed_ack {
        add(format!("delayed_ack {d} (B-OPT-07)"));
    }
    if c.linux_time_wait {
        add("linux_time_wait: TIME_WAIT lasts 60 s (B-OPT-02)".into());
    }
    if let Some(t) = c.linux_fin_wait_2_timeout {
        add(format!("linux_fin_wait_2_timeout {t}: orphaned FIN_WAIT_2 closes (B-OPT-01)"));
    }
    if c.rfc1337 {
        add("rfc1337: TIME_WAIT ignores RST (B-OPT-03)".into());
    }
    if c.rfc5961 {
        let throttle = if c.challenge_ack_interval.is_some() { "throttled as B-LNX-07 says" } else { "not throttled" };
        add(format!("rfc5961: challenge ACKs for RST, SYN and old ACKs; {throttle} (B-OPT-04..06)"));
    }
    lines
}

/// When an open whose SYN (or SYN,ACK) is never answered gives up: the
/// RTO starts at `rto_initial`, stays there for the first `linear`
/// retransmissions (B-LNX-02), then doubles up to `rto_max`; the give-up
/// is one RTO after the `retransmissions`-th retransmission.
pub(crate) fn syn_give_up(c: &TcpConfig, retransmissions: u32, linear: u32) -> Duration {
    let mut rto = c.rto_initial;
    let mut t = Duration::ZERO;
    for k in 1..=retransmissions {
        t = t.saturating_add(rto);
        if k > linear {
            rto = rto.saturating_mul(2).min(c.rto_max);
        }
    }
    t.saturating_add(rto)
}

/// An index into a list of `len` `things`.
fn index(i: u64, len: usize, things: &str) -> Option<String> {
    (i >= len as u64).then(|| format!("expected an index below {len} (the {things}), found {i}"))
}

/// A script in time order: the world calls its actions one after another.
fn script_order(app: &App) -> Option<String> {
    app.script.windows(2).any(|w| w[1].at < w[0].at).then(|| "expected the script's actions in time order".into())
}

/// Every rule a whole [`Model`] breaks, each with its field path (the
/// model's own: `connections[0].host`, `configs[1].mss_bytes`), however it
/// was made: the rules its writer (a file, the [`Builder`](super::Builder))
/// checked, and that each index names something, so that a model edited
/// after it was made cannot make a run panic. The deviations from an RFC
/// are its writer's to admit and the model lists them, so they are not
/// checked again here.
pub(crate) fn model(m: &Model) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut check = |path: String, problem: Option<String>| {
        if let Some(problem) = problem {
            problems.push((path, problem));
        }
    };
    let hosts = m.hosts.len();
    let configs = m.configs.len();
    check("name".into(), scenario_name(&m.name));
    check("hosts".into(), some_hosts(hosts));
    for (i, h) in m.hosts.iter().enumerate() {
        let reused = m.hosts[..i].iter().any(|x| x.addr == h.addr);
        check(
            format!("hosts[{i}].addr"),
            reused.then(|| format!("address {} is already used by another host", super::format_addr(h.addr))),
        );
        check(format!("hosts[{i}].addr"), host_addr(h.addr));
    }
    check("configs".into(), (configs == 0).then(|| "expected at least one configuration (the default)".into()));
    for (i, c) in m.configs.iter().enumerate() {
        for (field, finding) in config(c) {
            if let Finding::Wrong(problem) = finding {
                check(format!("configs[{i}].{field}"), Some(problem));
            }
        }
    }
    for (i, l) in m.links.iter().enumerate() {
        check(format!("links[{i}].a"), index(l.a.into(), hosts, "hosts"));
        check(format!("links[{i}].b"), index(l.b.into(), hosts, "hosts"));
        check(format!("links[{i}].b"), (l.a == l.b).then(|| "expected two different hosts".into()));
        for (dir, params) in [("ab", &l.ab), ("ba", &l.ba)] {
            for (field, problem) in link(params) {
                check(format!("links[{i}].{dir}.{field}"), Some(problem));
            }
        }
    }
    let app_of = |path: String, app: &App, may_connect: bool, check: &mut dyn FnMut(String, Option<String>)| {
        check(format!("{path}.script"), script_order(app));
        for (field, problem) in self::app(app, may_connect) {
            check(format!("{path}.{field}"), Some(problem));
        }
    };
    let mut names: Vec<String> = Vec::new();
    for (i, l) in m.listeners.iter().enumerate() {
        let p = format!("listeners[{i}]");
        names.push(l.name.clone());
        check(format!("{p}.host"), index(l.host.into(), hosts, "hosts"));
        check(format!("{p}.port"), port(l.port));
        check(format!("{p}.backlog"), (l.backlog == 0).then(|| "expected at least 1 connection, found 0".into()));
        check(format!("{p}.config"), index(l.config as u64, configs, "configs"));
        app_of(p, &l.app, false, &mut check);
    }
    for (i, c) in m.connections.iter().enumerate() {
        let p = format!("connections[{i}]");
        names.push(c.name.clone());
        let span = (c.host_span == 0).then(|| "expected at least 1 host".into());
        check(format!("{p}.host_span"), span);
        let last = u64::from(c.host) + u64::from(c.host_span.max(1)) - 1;
        check(format!("{p}.host"), index(last, hosts, "hosts"));
        check(format!("{p}.remote_host"), index(c.remote_host.into(), hosts, "hosts"));
        check(format!("{p}.remote_port"), port(c.remote_port));
        check(format!("{p}.local_port"), c.local_port.and_then(port));
        check(format!("{p}.count"), (c.count == 0).then(|| "expected at least 1 connection, found 0".into()));
        check(format!("{p}.config"), index(c.config as u64, configs, "configs"));
        app_of(p.clone(), &c.app, true, &mut check);
        if let Some(peer) = &c.peer {
            names.push(peer.name.clone());
            check(format!("{p}.peer.config"), index(peer.config as u64, configs, "configs"));
            app_of(format!("{p}.peer"), &peer.app, true, &mut check);
        }
    }
    check("connections".into(), connection_total(m.connection_count(), m.limits.max_connections));
    for (field, problem) in limits(&m.limits) {
        check(format!("limits.{field}"), Some(problem));
    }
    let numbers = m.connection_numbers();
    for (i, f) in m.faults.iter().enumerate() {
        let p = format!("faults[{i}]");
        match f {
            super::Fault::Segment { filter, .. } => {
                check(format!("{p}.filter.conn"), filter.conn.and_then(|c| connection_index(c, numbers)));
            }
            super::Fault::Inject { conn, from, .. } => {
                check(format!("{p}.from"), unknown_endpoint(from, &names));
                check(format!("{p}.conn"), connection_index(*conn, numbers));
            }
            super::Fault::Partition { a, b, .. } => {
                check(format!("{p}.a"), index((*a).into(), hosts, "hosts"));
                check(format!("{p}.b"), index((*b).into(), hosts, "hosts"));
            }
            super::Fault::Crash { host, .. } => check(format!("{p}.host"), index((*host).into(), hosts, "hosts")),
            super::Fault::Fate { conn, .. } => check(format!("{p}.conn"), connection_index(*conn, numbers)),
        }
    }
    if let Some(expect) = &m.expect {
        for (i, e) in expect.endpoints.iter().enumerate() {
            check(format!("expect.endpoints[{i}].name"), unknown_endpoint(&e.name, &names));
            check(format!("expect.endpoints[{i}].conn"), connection_index(e.conn, numbers));
        }
    }
    problems
}
