//! From the file's serde types to the runtime [`Model`], checking every
//! value. All problems are collected, each with the field path it concerns,
//! so a user fixes a file in one round.

use super::file::*;
use crate::link::{DelayDistribution, DropReason, Fate, GilbertElliott, LinkParams};
use crate::model::rules::{self, MAX_CONNECTIONS, deviations_of, list};
use crate::model::{self, Action, App, CountRange, Fault, Model, Reaction, SegmentFaultAction, Timed};
use crate::rng::Ppm;
use crate::rule::Rule;
use crate::tcp::{CloseReason, CongestionControl, Flags, Profile, State, TcpConfig};

/// The defaults a `profile` starts from.
fn profile_defaults(profile: Option<ProfileName>) -> TcpConfig {
    match profile {
        Some(ProfileName::Linux) => TcpConfig::linux(),
        Some(ProfileName::Rfc) | None => TcpConfig::default(),
    }
}
use crate::time::{Duration, Instant};

/// One problem: the field path and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The field path of the bad value, such as `links[0].loss`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

/// Largest duration accepted anywhere, in ms (about 116 days): far
/// beyond any timer, and far from overflowing nanoseconds.
const MAX_MS: f64 = 1.0e10;

/// Why a number of milliseconds is not a duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MillisError {
    /// NaN or infinite.
    NotFinite,
    /// Negative, zero where a positive duration is wanted, or above
    /// `MAX_MS`.
    OutOfRange,
    /// Positive, but below half a nanosecond.
    RoundsToZero,
}

/// The one reading of a duration in milliseconds, for files and the
/// command line alike: finite, in `0..=MAX_MS`, rounded to the nearest
/// nanosecond; with `positive`, above zero before and after rounding.
pub fn millis(ms: f64, positive: bool) -> Result<Duration, MillisError> {
    if !ms.is_finite() {
        return Err(MillisError::NotFinite);
    }
    if ms < 0.0 || (positive && ms == 0.0) {
        return Err(MillisError::OutOfRange);
    }
    if positive && (ms * 1_000_000.0).round() < 1.0 {
        return Err(MillisError::RoundsToZero);
    }
    if ms > MAX_MS {
        return Err(MillisError::OutOfRange);
    }
    Ok(Duration::from_nanos((ms * 1_000_000.0).round() as u64))
}

/// What is wrong with `ms` as a duration, in the words a file's error
/// uses; the command line uses them too for the problems its own wording
/// does not cover.
pub fn millis_message(problem: MillisError, ms: f64, positive: bool) -> String {
    match problem {
        MillisError::NotFinite => format!("expected a number of milliseconds, found {}", show(ms)),
        MillisError::OutOfRange if ms > MAX_MS => {
            format!("expected at most {MAX_MS:e} ms, found {} (too long to count in nanoseconds)", show(ms))
        }
        MillisError::OutOfRange => {
            let want = if positive { "a positive" } else { "a non-negative" };
            format!("expected {want} duration in milliseconds, found {}", show(ms))
        }
        MillisError::RoundsToZero => format!("expected a positive duration, found {ms} ms, which rounds to 0 ns"),
    }
}

/// The state of one validation pass: the problems found so far, and the
/// RFC deviations the file asked for and was allowed.
struct Validator {
    /// Every problem found so far, in the order found.
    diags: Vec<Diagnostic>,
    /// The file's `allow_rfc_violations`: deviations from the RFCs are
    /// accepted (and listed) instead of rejected.
    allow: bool,
    /// One note per deviation from the RFCs the file chose, for the run
    /// header ([`model::Model::deviations`]).
    deviations: Vec<String>,
}

impl Validator {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.diags.push(Diagnostic { path: path.into(), message: message.into() });
    }

    /// Whether `path` already has an error: a second check that would say
    /// the same about the same value stays quiet (one error per mistake).
    fn has_error(&self, path: &str) -> bool {
        self.diags.iter().any(|d| d.path == path)
    }

    /// A duration in ms; `positive` rejects zero.
    fn ms(&mut self, path: &str, ms: f64, positive: bool) -> Duration {
        match millis(ms, positive) {
            Ok(d) => d,
            Err(problem) => {
                let message = millis_message(problem, ms, positive);
                self.err(path, message);
                Duration::ZERO
            }
        }
    }

    fn at(&mut self, path: &str, ms: f64) -> Instant {
        Instant::ZERO + self.ms(path, ms, false)
    }

    fn prob(&mut self, path: &str, p: f64) -> Ppm {
        match Ppm::from_f64(p) {
            Some(ppm) => ppm,
            None => {
                self.err(path, format!("expected a probability in [0, 1], found {}", show(p)));
                Ppm::ZERO
            }
        }
    }

    fn flags(&mut self, path: &str, text: &str) -> Flags {
        match Flags::parse(text) {
            Some(f) => f,
            None => {
                self.err(
                    path,
                    format!(
                        "expected flags like \"FIN|ACK\" (SYN, FIN, RST, PSH, ACK joined by |, or -), found {text:?}"
                    ),
                );
                Flags::NONE
            }
        }
    }

    fn count(&mut self, path: &str, spec: &CountSpec) -> CountRange {
        match spec {
            CountSpec::Exactly(n) => CountRange::exactly(*n),
            CountSpec::Text(t) => parse_count(t).unwrap_or_else(|| {
                self.err(path, format!("expected a count: an integer or \">= N\", \"<= N\", \"A..=B\"; found {t:?}"));
                CountRange::exactly(0)
            }),
        }
    }

    /// A consent rule's finding: a header line if the file allows
    /// deviations, else an error.
    fn violation(&mut self, path: &str, what: &str) {
        if self.allow {
            self.deviations.push(rules::allowed(path, what));
        } else {
            self.err(path, rules::refused(what));
        }
    }
}

/// A number for messages: plain when short, scientific when huge.
fn show(x: f64) -> String {
    if x.is_finite() && x.abs() >= 1e15 { format!("{x:e}") } else { format!("{x}") }
}

fn parse_count(t: &str) -> Option<CountRange> {
    let t = t.trim();
    let num = |s: &str| s.trim().parse::<u64>().ok();
    if let Some(rest) = t.strip_prefix(">=") {
        return Some(CountRange { min: num(rest)?, max: u64::MAX });
    }
    if let Some(rest) = t.strip_prefix("<=") {
        return Some(CountRange { min: 0, max: num(rest)? });
    }
    if let Some((a, b)) = t.split_once("..=") {
        let (a, b) = (num(a)?, num(b)?);
        return (a <= b).then_some(CountRange { min: a, max: b });
    }
    num(t).map(CountRange::exactly)
}

fn state(s: StateName) -> State {
    State::VALUES[s as usize]
}

fn reason(r: ReasonName) -> CloseReason {
    CloseReason::VALUES[r as usize]
}

/// Checks `file` and builds the model, or returns every problem found.
/// One function per section of the file, in file order; later sections
/// see what earlier ones built (host ids, links, endpoint names).
pub fn validate(file: &SimFile) -> Result<Model, Vec<Diagnostic>> {
    let mut v = Validator { diags: Vec::new(), allow: file.allow_rfc_violations, deviations: Vec::new() };
    if let Some(problem) = rules::scenario_name(&file.name) {
        v.err("name", problem);
    }
    let base = tcp_config(&mut v, "tcp", &profile_defaults(file.tcp.profile), &file.tcp, None);
    let mut endpoints = Endpoints { configs: vec![base.clone()], base, file_tcp: file.tcp.clone(), names: Vec::new() };
    let (hosts, groups) = hosts(&mut v, file);
    let host_groups = HostGroups { file, groups };
    let links = links(&mut v, file, &host_groups);
    let listeners = listeners(&mut v, file, &host_groups, &mut endpoints);
    let (connections, total) = connections(&mut v, file, &host_groups, &links, &listeners, &mut endpoints);

    let host_names: Vec<String> = hosts.iter().map(|h| h.name.clone()).collect();
    let conn_numbers = rules::connection_numbers(total, file.listeners.len());
    let faults = faults(&mut v, file, &endpoints.names, &host_names, conn_numbers);
    let limits = limits(&mut v, &file.limits);
    let expect = file.expect.as_ref().map(|e| expect(&mut v, e, &endpoints.names, conn_numbers));

    let configs = endpoints.configs;
    for (i, c) in configs.iter().enumerate() {
        describe_deviations(&mut v, i, c);
    }
    if v.diags.is_empty() {
        Ok(Model {
            name: file.name.clone(),
            description: file.description.clone(),
            seed: file.seed,
            iss_seed: file.iss_seed,
            configs,
            hosts,
            links,
            listeners,
            connections,
            faults,
            limits,
            expect,
            deviations: v.deviations,
        })
    } else {
        Err(v.diags)
    }
}

/// The file's hosts by name: a host group stands for `count` members with
/// consecutive ids.
struct HostGroups<'a> {
    file: &'a SimFile,
    /// Per file host: its first member and how many members it has.
    groups: Vec<(u32, u32)>,
}

impl HostGroups<'_> {
    /// A file host name: its first member and how many members it has.
    fn group(&self, name: &str) -> Option<(u32, u32)> {
        self.file.hosts.iter().position(|h| h.name == name).map(|i| self.groups[i])
    }

    fn id(&self, name: &str) -> Option<u32> {
        self.group(name).map(|(first, _)| first)
    }

    fn is_group(&self, name: &str) -> bool {
        self.group(name).is_some_and(|g| g.1 > 1)
    }

    /// The file's host names, as they were written.
    fn names(&self) -> Vec<String> {
        self.file.hosts.iter().map(|h| h.name.clone()).collect()
    }

    fn unknown(&self, name: &str) -> String {
        rules::unknown_host(name, &self.names())
    }
}

/// What the endpoint sections share: the file's `tcp` block, the distinct
/// configurations, and the endpoint names so far.
struct Endpoints {
    base: TcpConfig,
    /// The file's `tcp` block, applied again over the defaults of an
    /// endpoint block that names another `profile`.
    file_tcp: TcpSpec,
    configs: Vec<TcpConfig>,
    names: Vec<String>,
}

impl Endpoints {
    fn config(&mut self, v: &mut Validator, p: &str, spec: &TcpSpec) -> usize {
        let base = match spec.profile {
            // The file's block was checked where it is written; its
            // problems are not reported again here.
            Some(profile) => {
                let mut quiet = Validator { diags: Vec::new(), allow: v.allow, deviations: Vec::new() };
                tcp_config(&mut quiet, "tcp", &profile_defaults(Some(profile)), &self.file_tcp, None)
            }
            None => self.base.clone(),
        };
        endpoint_config(v, &mut self.configs, &base, p, spec, &self.file_tcp)
    }

    fn name(&mut self, v: &mut Validator, path: &str, name: &str, hosts: &HostGroups) {
        check_name(v, path, name, &mut self.names, &hosts.names());
    }
}

/// The `links` section: one link per pair of hosts, a link to a group one
/// link per member.
fn links(v: &mut Validator, file: &SimFile, hosts: &HostGroups) -> Vec<model::Link> {
    let mut links: Vec<model::Link> = Vec::new();
    for (i, l) in file.links.iter().enumerate() {
        let p = format!("links[{i}]");
        let ga = hosts.group(&l.between.0);
        let gb = hosts.group(&l.between.1);
        let a = ga.map(|g| g.0);
        let b = gb.map(|g| g.0);
        if a.is_none() {
            v.err(format!("{p}.between"), hosts.unknown(&l.between.0));
        }
        if b.is_none() {
            v.err(format!("{p}.between"), hosts.unknown(&l.between.1));
        }
        let both = l.both();
        // Shared values are checked (and reported) once, in the first pass.
        let ab = link_dir(v, &p, &both, l.a_to_b.as_ref(), "a_to_b", true);
        let ba = link_dir(v, &p, &both, l.b_to_a.as_ref(), "b_to_a", false);
        if let (Some(a), Some(b)) = (a, b) {
            if let Some(problem) = rules::link_ends(&links, a, b, (&l.between.0, &l.between.1)) {
                v.err(format!("{p}.between"), problem);
            } else if ga.is_some_and(|g| g.1 > 1) && gb.is_some_and(|g| g.1 > 1) {
                v.err(format!("{p}.between"), "at most one end of a link may be a host group");
            } else {
                // A link to a group is one link per member, alike.
                let (ga, gb) = (ga.unwrap_or((a, 1)), gb.unwrap_or((b, 1)));
                for ma in ga.0..ga.0 + ga.1 {
                    for mb in gb.0..gb.0 + gb.1 {
                        links.push(model::Link { a: ma, b: mb, ab, ba });
                    }
                }
            }
        }
    }
    links
}

/// The `listeners` section.
fn listeners(v: &mut Validator, file: &SimFile, hosts: &HostGroups, endpoints: &mut Endpoints) -> Vec<model::Listener> {
    let mut listeners = Vec::new();
    for (i, l) in file.listeners.iter().enumerate() {
        let p = format!("listeners[{i}]");
        endpoints.name(v, &format!("{p}.name"), &l.name, hosts);
        let host = hosts.id(&l.host);
        if host.is_none() {
            v.err(format!("{p}.host"), hosts.unknown(&l.host));
        }
        if hosts.is_group(&l.host) {
            v.err(format!("{p}.host"), "a listener needs a single host, not a group");
        }
        if let Some(problem) = rules::port(l.port.0) {
            v.err(format!("{p}.port"), problem);
        }
        if l.backlog == 0 {
            v.err(format!("{p}.backlog"), "expected at least 1 connection, found 0");
        }
        if u64::from(l.backlog) > MAX_CONNECTIONS {
            v.err(format!("{p}.backlog"), format!("expected at most {MAX_CONNECTIONS}, found {}", l.backlog));
        }
        if let Some(h) = host
            && let Some(problem) = rules::listener_place(&listeners, h, l.port.0, &l.host)
        {
            v.err(format!("{p}.port"), problem);
        }
        let listen_at = v.at(&format!("{p}.listen_at_ms"), l.listen_at_ms);
        let close_at = l.close_at_ms.map(|ms| v.at(&format!("{p}.close_at_ms"), ms));
        if close_at.is_some_and(|c| c <= listen_at) {
            v.err(format!("{p}.close_at_ms"), "expected a time after listen_at_ms");
        }
        let config = endpoints.config(v, &format!("{p}.tcp"), &l.tcp);
        let app = build_app(v, &p, &l.script, &l.on_connected, &l.on_end_of_stream, false);
        listeners.push(model::Listener {
            name: l.name.clone(),
            host: host.unwrap_or(0),
            port: l.port.0,
            backlog: l.backlog,
            listen_at,
            close_at,
            iss: l.iss,
            config,
            app,
        });
    }
    listeners
}

/// The `connections` section, and how many connections it describes in
/// all (populations count each member).
fn connections(
    v: &mut Validator,
    file: &SimFile,
    hosts: &HostGroups,
    links: &[model::Link],
    listeners: &[model::Listener],
    endpoints: &mut Endpoints,
) -> (Vec<model::Connection>, u64) {
    let mut connections = Vec::new();
    let mut total: u64 = 0;
    for (i, c) in file.connections.iter().enumerate() {
        let p = format!("connections[{i}]");
        // One name per endpoint role: a population shares its name (the
        // connection number tells its members apart), but two entries may
        // not, or expectations could not say which they mean.
        endpoints.name(v, &format!("{p}.name"), &c.name, hosts);
        let host = hosts.id(&c.host);
        let remote_host = hosts.id(&c.remote_host);
        if host.is_none() {
            v.err(format!("{p}.host"), hosts.unknown(&c.host));
        }
        if remote_host.is_none() {
            v.err(format!("{p}.remote_host"), hosts.unknown(&c.remote_host));
        }
        if hosts.is_group(&c.remote_host) {
            v.err(format!("{p}.remote_host"), "the remote end must be a single host, not a group");
        }
        let host_span = hosts.group(&c.host).map_or(1, |g| g.1);
        // Ephemeral ports run out at 16384 per client address and remote
        // endpoint; a larger population needs a host group.
        let per_member = u64::from(c.count).div_ceil(u64::from(host_span));
        if c.local_port.is_none() && per_member > EPHEMERAL_PORTS {
            let need = u64::from(c.count).div_ceil(EPHEMERAL_PORTS);
            v.err(
                format!("{p}.count"),
                format!(
                    "{} connections from {} address(es) need {per_member} ephemeral ports each, above the {EPHEMERAL_PORTS} available; give host {:?} `count: {need}` or more",
                    c.count, host_span, c.host
                ),
            );
        }
        if let (Some(a), Some(b)) = (host, remote_host)
            && let Some(problem) = rules::connection_route(links, a, b, (&c.host, &c.remote_host))
        {
            v.err(format!("{p}.remote_host"), problem);
        }
        if let Some(problem) = rules::port(c.remote_port.0) {
            v.err(format!("{p}.remote_port"), problem);
        }
        if let Some(problem) = c.local_port.and_then(|port| rules::port(port.0)) {
            v.err(format!("{p}.local_port"), problem);
        }
        if c.count == 0 {
            v.err(format!("{p}.count"), "expected at least 1 connection, found 0");
        }
        total = total.saturating_add(u64::from(c.count));
        if c.count > 1 && c.local_port.is_some() {
            v.err(format!("{p}.local_port"), "a fixed local port allows only one connection (count: 1)");
        }
        let open_spread = v.ms(&format!("{p}.open_spread_ms"), c.open_spread_ms, false);
        let config = endpoints.config(v, &format!("{p}.tcp"), &c.tcp);
        let app = build_app(v, &p, &c.script, &c.on_connected, &c.on_end_of_stream, true);
        let peer = c.peer.as_ref().map(|peer| peer_endpoint(v, &p, c, peer, hosts, endpoints));
        if let (Some(peer), Some(rh)) = (&peer, remote_host) {
            if listeners.iter().any(|l| l.host == rh && l.port == c.remote_port.0) {
                v.err(
                    format!("{p}.peer"),
                    format!(
                        "host {:?} has a listener on port {}; use either the listener or `peer`",
                        c.remote_host, c.remote_port.0
                    ),
                );
            }
            let _ = peer;
        }
        connections.push(model::Connection {
            name: c.name.clone(),
            host: host.unwrap_or(0),
            host_span,
            local_port: c.local_port.map(|port| port.0),
            remote_host: remote_host.unwrap_or(0),
            remote_port: c.remote_port.0,
            count: c.count,
            open_spread,
            iss: c.iss,
            config,
            app,
            peer,
        });
    }
    connection_totals(v, file, total);
    (connections, total)
}

/// The explicit `peer` of connection `c` at `p`.
fn peer_endpoint(
    v: &mut Validator,
    p: &str,
    c: &ConnectionSpec,
    peer: &PeerSpec,
    hosts: &HostGroups,
    endpoints: &mut Endpoints,
) -> model::Peer {
    let pp = format!("{p}.peer");
    if peer.name == c.name {
        v.err(format!("{pp}.name"), "expected a name different from the connection's own");
    } else {
        endpoints.name(v, &format!("{pp}.name"), &peer.name, hosts);
    }
    if c.local_port.is_none() {
        v.err(format!("{p}.local_port"), "a connection with an explicit `peer` needs a fixed local_port");
    }
    let config = endpoints.config(v, &format!("{pp}.tcp"), &peer.tcp);
    let app = build_app(v, &pp, &peer.script, &peer.on_connected, &peer.on_end_of_stream, true);
    model::Peer { name: peer.name.clone(), iss: peer.iss, config, app }
}

/// Checks across the `connections` section: the total against the limits,
/// and no two explicit-peer connections on one 4-tuple.
fn connection_totals(v: &mut Validator, file: &SimFile, total: u64) {
    let max_connections = file.limits.max_connections.unwrap_or(model::Limits::default().max_connections);
    if let Some(problem) = rules::connection_total(total, max_connections) {
        v.err("connections", problem);
    }
    for (i, a) in file.connections.iter().enumerate() {
        for b in &file.connections[..i] {
            if a.local_port.is_some()
                && a.local_port == b.local_port
                && a.host == b.host
                && a.remote_host == b.remote_host
                && a.remote_port == b.remote_port
                && a.peer.is_some()
                && b.peer.is_some()
            {
                v.err(format!("connections[{i}].local_port"), "two connections with explicit peers share one 4-tuple");
            }
        }
    }
}

fn check_name(v: &mut Validator, path: &str, name: &str, seen: &mut Vec<String>, hosts: &[String]) {
    match rules::endpoint_name(name, seen, hosts) {
        Some(problem) => v.err(path, problem),
        None => seen.push(name.to_string()),
    }
}

/// The most members a host group may have.
const MAX_GROUP: u32 = 65_536;

/// Ephemeral ports per client address (49152..=65535, RFC 6335).
const EPHEMERAL_PORTS: u64 = 16_384;

/// Hosts, with groups expanded into members; also returns each file
/// entry's (first id, member count).
fn hosts(v: &mut Validator, file: &SimFile) -> (Vec<model::Host>, Vec<(u32, u32)>) {
    if let Some(problem) = rules::some_hosts(file.hosts.len()) {
        v.err("hosts", problem);
    }
    let mut out: Vec<model::Host> = Vec::new();
    let mut groups = Vec::new();
    let mut next_default = 0x0a00_0001u32;
    for (i, h) in file.hosts.iter().enumerate() {
        let p = format!("hosts[{i}]");
        if let Some(problem) = rules::host_name(&h.name) {
            v.err(format!("{p}.name"), problem);
        }
        if let Some(problem) = rules::unique_host_name(&h.name, file.hosts[..i].iter().map(|x| x.name.as_str())) {
            v.err(format!("{p}.name"), problem);
        }
        if h.count == 0 || h.count > MAX_GROUP {
            v.err(format!("{p}.count"), format!("expected 1..={MAX_GROUP} hosts, found {}", h.count));
        }
        let count = h.count.clamp(1, MAX_GROUP);
        let first = match &h.addr {
            None => next_default,
            Some(text) => model::parse_addr(text).unwrap_or_else(|| {
                v.err(format!("{p}.addr"), format!("expected a dotted IPv4 address like \"10.0.0.1\", found {text:?}"));
                next_default
            }),
        };
        if first.checked_add(count - 1).is_none() {
            v.err(
                format!("{p}.addr"),
                format!("{count} consecutive addresses from {} overflow", model::format_addr(first)),
            );
        }
        groups.push((out.len() as u32, count));
        // One address error per entry (an overflowing group, already
        // refused, runs into 255.255.255.255). Every member is recorded
        // all the same: later names resolve by position in `out`.
        let mut reported = v.has_error(&format!("{p}.addr"));
        let mut refused = false;
        for k in 0..count {
            let addr = first.wrapping_add(k);
            let unicast = rules::host_addr(addr);
            refused |= unicast.is_some();
            if !reported {
                let problem = match unicast {
                    Some(problem) => Some(refused_addr(h, k, first, problem)),
                    None => out
                        .iter()
                        .any(|x| x.addr == addr)
                        .then(|| format!("address {} is already used by another host", model::format_addr(addr))),
                };
                if let Some(problem) = problem {
                    v.err(format!("{p}.addr"), problem);
                    reported = true;
                }
            }
            let name = if h.count > 1 { format!("{}#{k}", h.name) } else { h.name.clone() };
            out.push(model::Host { name, addr });
        }
        // A refused address is no host's: the defaults after it do not
        // follow it (which would refuse them too, for the same mistake).
        if !refused {
            next_default = next_default.max(first.wrapping_add(count));
        }
    }
    (out, groups)
}

/// `problem`, the refused address of member `k` of the entry `h` whose
/// first address is `first`, with the member's name and, when the file
/// did not write the address, that it is the default.
fn refused_addr(h: &HostSpec, k: u32, first: u32, problem: String) -> String {
    let member = if h.count > 1 { format!(" (member \"{}#{k}\")", h.name) } else { String::new() };
    let after = || format!("the one after the highest before it, {}", model::format_addr(first.wrapping_sub(1)));
    let default = match (&h.addr, h.count > 1) {
        (Some(_), _) => String::new(),
        (None, false) => format!(", the default address ({})", after()),
        (None, true) => format!(", in a group from the default address {} ({})", model::format_addr(first), after()),
    };
    format!("{problem}{member}{default}")
}

/// One direction's parameters: the shared values overridden by `over`.
/// Shared values are checked once, on their own (`report_shared`), so a
/// bad shared value is named once even when a direction overrides it;
/// each direction reports only its own override fields.
fn link_dir(
    v: &mut Validator,
    p: &str,
    both: &LinkDirSpec,
    over: Option<&LinkDirSpec>,
    dir: &str,
    report_shared: bool,
) -> LinkParams {
    if report_shared {
        link_dir_checked(v, p, both, None, dir);
    }
    let mut quiet = Validator { diags: Vec::new(), allow: v.allow, deviations: Vec::new() };
    let params = link_dir_checked(&mut quiet, p, both, over, dir);
    let own = format!("{p}.{dir}.");
    v.diags.extend(quiet.diags.into_iter().filter(|d| d.path.starts_with(&own)));
    params
}

fn link_dir_checked(
    v: &mut Validator,
    p: &str,
    both: &LinkDirSpec,
    over: Option<&LinkDirSpec>,
    dir: &str,
) -> LinkParams {
    let d = LinkParams::default();
    let pick = |f: fn(&LinkDirSpec) -> Option<f64>| -> (Option<f64>, bool) {
        match over.and_then(f) {
            Some(x) => (Some(x), true),
            None => (f(both), false),
        }
    };
    let path = |name: &str, from_over: bool| {
        if from_over { format!("{p}.{dir}.{name}") } else { format!("{p}.{name}") }
    };
    let ms = |v: &mut Validator, name: &str, f: fn(&LinkDirSpec) -> Option<f64>, default: Duration, positive: bool| {
        match pick(f) {
            (Some(x), o) => v.ms(&path(name, o), x, positive),
            (None, _) => default,
        }
    };
    let delay = ms(v, "delay_ms", |s| s.delay_ms, d.delay, false);
    let jitter = ms(v, "jitter_ms", |s| s.jitter_ms, d.jitter, false);
    let reorder_delay = ms(v, "reorder_delay_ms", |s| s.reorder_delay_ms, d.reorder_delay, false);
    let lifetime = match pick(|s| s.lifetime_ms) {
        (Some(x), o) => Some(v.ms(&path("lifetime_ms", o), x, true)),
        (None, _) => None,
    };
    let prob = |v: &mut Validator, name: &str, f: fn(&LinkDirSpec) -> Option<f64>| match pick(f) {
        (Some(x), o) => v.prob(&path(name, o), x),
        (None, _) => Ppm::ZERO,
    };
    let loss = prob(v, "loss", |s| s.loss);
    let reorder = prob(v, "reorder", |s| s.reorder);
    let duplicate = prob(v, "duplicate", |s| s.duplicate);
    let corrupt = prob(v, "corrupt", |s| s.corrupt);
    let (burst_spec, burst_over) = match over.and_then(|o| o.burst) {
        Some(b) => (Some(b), true),
        None => (both.burst, false),
    };
    let burst = burst_spec.map(|b| {
        let bp = path("burst", burst_over);
        GilbertElliott {
            enter_bad: v.prob(&format!("{bp}.enter_bad"), b.enter_bad),
            leave_bad: v.prob(&format!("{bp}.leave_bad"), b.leave_bad),
            loss_bad: v.prob(&format!("{bp}.loss_bad"), b.loss_bad),
            loss_good: v.prob(&format!("{bp}.loss_good"), b.loss_good),
        }
    });
    let distribution = match over.and_then(|o| o.distribution).or(both.distribution) {
        None | Some(DelayDistributionName::Uniform) => DelayDistribution::Uniform,
        Some(DelayDistributionName::Normal) => DelayDistribution::Normal,
        Some(DelayDistributionName::Pareto) => DelayDistribution::Pareto,
        Some(DelayDistributionName::Paretonormal) => DelayDistribution::ParetoNormal,
    };
    let (rate_bps, rate_over) = match over.and_then(|o| o.rate_bps) {
        Some(r) => (Some(r), true),
        None => (both.rate_bps, false),
    };
    let (queue_bytes, queue_over) = match over.and_then(|o| o.queue_bytes) {
        Some(q) => (Some(q), true),
        None => (both.queue_bytes, false),
    };
    let params = LinkParams {
        delay,
        jitter,
        distribution,
        rate_bps,
        queue_bytes,
        loss,
        burst,
        reorder,
        reorder_delay,
        duplicate,
        corrupt,
        lifetime,
    };
    // The reader refused a zero lifetime already, in its own words.
    for (field, problem) in rules::link(&params).into_iter().filter(|(field, _)| *field != "lifetime_ms") {
        let from_over = match field {
            "rate_bps" => rate_over,
            "queue_bytes" => queue_over,
            _ => over.is_some_and(|o| o.reorder.is_some() || o.reorder_delay_ms.is_some()),
        };
        v.err(path(field, from_over), problem);
    }
    params
}

/// Builds a config from `spec` over `base`, which holds `inherited` (the
/// file's `tcp` block, for an endpoint's block). Consent rules and bounds
/// between fields are checked where this block sets one of the values
/// involved, and reported at its own fields. Each rule a value breaks is
/// reported (`rto_max_ms: 500` is both below `rto_min_ms` and below RFC
/// 6298's floor), except for a value refused on its own (`0`): it is
/// unknown, so no other rule compares it.
fn tcp_config(v: &mut Validator, p: &str, base: &TcpConfig, spec: &TcpSpec, inherited: Option<&TcpSpec>) -> TcpConfig {
    let errors_before = v.diags.len();
    let mut c = base.clone();
    let f = |name: &str| format!("{p}.{name}");
    if let Some(x) = spec.msl_ms {
        c.msl = v.ms(&f("msl_ms"), x, true);
    }
    if let Some(x) = spec.rto_initial_ms {
        c.rto_initial = v.ms(&f("rto_initial_ms"), x, true);
    }
    if let Some(x) = spec.rto_min_ms {
        c.rto_min = v.ms(&f("rto_min_ms"), x, true);
    }
    if let Some(x) = spec.rto_max_ms {
        c.rto_max = v.ms(&f("rto_max_ms"), x, true);
    }
    if let Some(x) = spec.time_wait_ms {
        c.time_wait = Some(v.ms(&f("time_wait_ms"), x, true));
    }
    if let Some(x) = spec.r1 {
        c.r1 = x;
    }
    if let Some(x) = spec.r2 {
        c.r2 = match x {
            RetryLimit::Count(n) => Some(n),
            RetryLimit::Infinite => None,
        };
    }
    if let Some(x) = spec.r2_syn {
        c.r2_syn = match x {
            RetryLimit::Count(n) => Some(n),
            RetryLimit::Infinite => None,
        };
    }
    if let Some(x) = spec.user_timeout_ms {
        c.user_timeout = Some(v.ms(&f("user_timeout_ms"), x, true));
    }
    if let Some(x) = spec.mss_bytes {
        if let Some(problem) = rules::mss(x) {
            v.err(f("mss_bytes"), problem);
        } else {
            c.mss = x as u16;
        }
    }
    if let Some(x) = spec.window_scale {
        if let Some(problem) = rules::window_scale(x) {
            v.err(f("window_scale"), problem);
        } else {
            c.window_scale = Some(x as u8);
        }
    }
    if let Some(x) = spec.timestamps {
        c.timestamps = x;
    }
    if let Some(x) = spec.ts_tick_ms {
        let tick = v.ms(&f("ts_tick_ms"), x, true);
        match rules::ts_tick(tick, x) {
            Some(problem) if !v.has_error(&f("ts_tick_ms")) => v.err(f("ts_tick_ms"), problem),
            Some(_) => {}
            None => c.ts_tick = tick,
        }
    }
    if let Some(x) = spec.ts_start {
        c.ts_start = Some(x);
    }
    if let Some(x) = spec.sack {
        c.sack = x;
    }
    if let Some(x) = spec.limited_transmit {
        c.limited_transmit = x;
    }
    if let Some(x) = spec.recv_buffer_bytes {
        if let Some(problem) = rules::recv_buffer(x) {
            v.err(f("recv_buffer_bytes"), problem);
        } else {
            c.recv_buffer = x;
        }
    }
    // Linux: a buffer the file sets is the application's SO_RCVBUF, which
    // locks it; the window scale offered is then the one that buffer
    // needs, not the one tcp_rmem[2] gives an autotuned socket
    // (tcp_select_initial_window).
    if c.profile == Profile::Linux
        && spec.recv_buffer_bytes.is_some()
        && spec.window_scale.is_none()
        && c.window_scale.is_some()
    {
        c.window_scale = Some(crate::tcp::linux_locked_window_scale(c.recv_buffer));
    }
    // Reported where the buffer is set, not at every block inheriting it.
    if spec.recv_buffer_bytes.is_some()
        && spec.window_scale.is_none()
        && let Some(problem) = rules::recv_buffer_scaled(&c)
    {
        v.err(f("recv_buffer_bytes"), problem);
    }
    // Where either is set: the buffer's field if this block sets it, or
    // the shift's when only that changed under an inherited buffer.
    if (spec.recv_buffer_bytes.is_some() || spec.window_scale.is_some())
        && let Some(problem) = rules::recv_buffer_for_shift(&c)
    {
        let field = if spec.recv_buffer_bytes.is_some() { "recv_buffer_bytes" } else { "window_scale" };
        v.err(f(field), problem);
    }
    if let Some(x) = spec.linux_fin_wait_2_timeout_ms {
        c.linux_fin_wait_2_timeout = Some(v.ms(&f("linux_fin_wait_2_timeout_ms"), x, true));
    }
    if let Some(x) = spec.linux_time_wait {
        c.linux_time_wait = x;
    }
    if let Some(x) = spec.rfc1337 {
        c.rfc1337 = x;
    }
    if let Some(x) = spec.rfc5961 {
        c.rfc5961 = x;
    }
    if let Some(x) = spec.delayed_ack_ms {
        c.delayed_ack = Some(v.ms(&f("delayed_ack_ms"), x, true));
    }
    if let Some(x) = spec.linux_rto {
        c.linux_rto = x;
    }
    if let Some(x) = spec.syn_linear_timeouts {
        c.syn_linear_timeouts = x;
    }
    if let Some(x) = spec.synack_retries {
        c.synack_retries = Some(x);
    }
    if let Some(x) = spec.linux_retries2 {
        c.linux_retries2 = x;
    }
    if let Some(x) = spec.linux_delayed_ack {
        c.linux_delayed_ack = x;
    }
    if let Some(x) = spec.linux_handshake {
        c.linux_handshake = x;
    }
    if let Some(x) = spec.challenge_ack_interval_ms {
        c.challenge_ack_interval = Some(v.ms(&f("challenge_ack_interval_ms"), x, true));
    }
    if let Some(x) = spec.congestion_control {
        c.congestion_control = match x {
            CongestionControlName::None => CongestionControl::None,
            CongestionControlName::Newreno => CongestionControl::NewReno,
            CongestionControlName::Cubic => CongestionControl::Cubic,
        };
    }
    if let Some(x) = spec.hystart {
        c.hystart = x;
    }
    if let Some(n) = spec.initial_window_segments {
        match rules::initial_window(n) {
            Some(problem) => v.err(f("initial_window_segments"), problem),
            None => c.initial_window_segments = Some(n),
        }
        if let Some(what) = rules::initial_window_ceiling(&c) {
            v.violation(&f("initial_window_segments"), &what);
        }
    }
    // Consistency and RFC floors, over the values not refused above.
    let own_errors: Vec<String> = v.diags[errors_before..].iter().map(|d| d.path.clone()).collect();
    let refused = |name: &str| own_errors.contains(&f(name));
    let setting = |field, value, pick: fn(&TcpSpec) -> Option<f64>| Setting {
        field,
        value,
        here: pick(spec).is_some(),
        inherited: inherited.and_then(pick).is_some(),
        refused: refused(field),
    };
    let rto_min = setting("rto_min_ms", c.rto_min, |s| s.rto_min_ms);
    let rto_initial = setting("rto_initial_ms", c.rto_initial, |s| s.rto_initial_ms);
    let rto_max = setting("rto_max_ms", c.rto_max, |s| s.rto_max_ms);
    let sets_profile = inherited.is_some() && spec.profile.is_some();
    let mut below_max: Vec<&Setting> = [(&rto_min, rules::rto_bounds(&c)), (&rto_initial, rules::rto_initial(&c))]
        .into_iter()
        .filter_map(|(low, broken)| broken.map(|_| low))
        .collect();
    // An rto_max_ms written below both its lower bounds is one mistake, a
    // maximum too small: named once, against the larger (rto_min_ms on a tie).
    if rto_max.here && below_max.len() == 2 {
        below_max.remove(usize::from(below_max[1].value <= below_max[0].value));
    }
    for low in below_max {
        out_of_order(v, p, c.profile, sets_profile, low, &rto_max);
    }
    if spec.rto_max_ms.is_some()
        && !refused("rto_max_ms")
        && let Some(what) = rules::rto_max_floor(&c)
    {
        v.violation(&f("rto_max_ms"), &what);
    }
    if spec.linux_time_wait.is_some() || spec.time_wait_ms.is_some() {
        let field = if spec.time_wait_ms.is_some() { "time_wait_ms" } else { "linux_time_wait" };
        if let Some(problem) = rules::time_wait_contradiction(&c) {
            v.err(f(field), problem);
        }
    }
    if spec.time_wait_ms.is_some() || spec.msl_ms.is_some() {
        let field = if spec.time_wait_ms.is_some() { "time_wait_ms" } else { "msl_ms" };
        if !refused("time_wait_ms")
            && !refused("msl_ms")
            && let Some(what) = rules::time_wait_floor(&c)
        {
            v.violation(&f(field), &what);
        }
    }
    if spec.delayed_ack_ms.is_some()
        && !refused("delayed_ack_ms")
        && let Some(what) = rules::delayed_ack_ceiling(&c)
    {
        v.violation(&f("delayed_ack_ms"), &what);
    }
    c
}

/// One side of a bound between two durations of a `tcp` block.
struct Setting {
    field: &'static str,
    value: Duration,
    /// Set by the block being checked.
    here: bool,
    /// Set by the file's `tcp` block, which the block inherits.
    inherited: bool,
    /// Set by the block but refused on its own: its value is unknown.
    refused: bool,
}

impl Setting {
    /// The value, and where it comes from when another block or the
    /// defaults give it.
    fn shown(&self, profile: Profile) -> String {
        let value = self.value;
        match (self.here, self.inherited, profile) {
            (true, _, _) => format!("{value}"),
            (false, true, _) => format!("{value}, from `tcp`"),
            (false, false, Profile::Linux) => format!("{value}, the linux profile's default"),
            (false, false, Profile::Rfc) => format!("{value}, the default"),
        }
    }
}

/// `low` is above `high` in the block at `p`. Reported once, where the
/// user wrote the value that breaks the bound: the upper field if the
/// block sets it, else the lower one, else its `profile` (whose defaults
/// broke it, and the inherited values had no error of their own); a
/// block that sets none of them repeats nothing of the block it inherits.
/// A value refused on its own is not compared; another bound or an RFC
/// floor the value breaks is a mistake of its own, reported beside this.
fn out_of_order(v: &mut Validator, p: &str, profile: Profile, sets_profile: bool, low: &Setting, high: &Setting) {
    let path = |field: &str| format!("{p}.{field}");
    if low.refused || high.refused {
        return;
    }
    let (field, message) = if high.here {
        (high.field, format!("expected at least {} ({}), found {}", low.field, low.shown(profile), high.value))
    } else if low.here {
        (low.field, format!("expected at most {} ({}), found {}", high.field, high.shown(profile), low.value))
    } else if sets_profile && !inherited_error(v, low) && !inherited_error(v, high) {
        let (l, h) = (low.shown(profile), high.shown(profile));
        ("profile", format!("under this profile, {} ({l}) is above {} ({h})", low.field, high.field))
    } else {
        return;
    };
    v.err(path(field), message);
}

/// Whether the file's `tcp` block already has an error at `s`'s field,
/// which a block choosing another profile inherits.
fn inherited_error(v: &Validator, s: &Setting) -> bool {
    s.inherited && v.has_error(&format!("tcp.{}", s.field))
}

fn endpoint_config(
    v: &mut Validator,
    configs: &mut Vec<TcpConfig>,
    base: &TcpConfig,
    p: &str,
    spec: &TcpSpec,
    inherited: &TcpSpec,
) -> usize {
    let c = tcp_config(v, p, base, spec, Some(inherited));
    match configs.iter().position(|x| *x == c) {
        Some(i) => i,
        None => {
            configs.push(c);
            configs.len() - 1
        }
    }
}

/// Lists the deviations from the RFC defaults that a configuration chose,
/// for the run header.
fn describe_deviations(v: &mut Validator, index: usize, c: &TcpConfig) {
    for line in deviations_of(index, c) {
        if !v.deviations.contains(&line) {
            v.deviations.push(line);
        }
    }
}

fn build_app(
    v: &mut Validator,
    p: &str,
    script: &[ActionSpec],
    on_connected: &[ReactionSpec],
    on_eos: &[ReactionSpec],
    may_connect: bool,
) -> App {
    let mut timed = Vec::with_capacity(script.len());
    for (i, a) in script.iter().enumerate() {
        let ap = format!("{p}.script[{i}]");
        let (at_ms, action) = match *a {
            ActionSpec::Listen { at_ms } => (at_ms, Action::Listen),
            ActionSpec::Connect { at_ms } => (at_ms, Action::Connect),
            ActionSpec::Send { at_ms, bytes } => (at_ms, Action::Send(bytes)),
            ActionSpec::Close { at_ms } => (at_ms, Action::Close),
            ActionSpec::Abort { at_ms } => (at_ms, Action::Abort),
            ActionSpec::PauseRead { at_ms } => (at_ms, Action::PauseRead),
            ActionSpec::ResumeRead { at_ms } => (at_ms, Action::ResumeRead),
        };
        for (field, problem) in rules::scripted(action, may_connect) {
            v.err(format!("{ap}{field}"), problem);
        }
        let at = v.ms(&format!("{ap}.at_ms"), at_ms, false);
        timed.push(Timed { at, action });
    }
    timed.sort_by_key(|t| t.at);
    let reactions = |v: &mut Validator, name: &str, list: &[ReactionSpec]| -> Vec<Reaction> {
        list.iter()
            .enumerate()
            .map(|(i, r)| {
                let reaction = match *r {
                    ReactionSpec::Send { bytes } => Reaction::Send(bytes),
                    ReactionSpec::Close => Reaction::Close,
                    ReactionSpec::Abort => Reaction::Abort,
                    ReactionSpec::PauseRead => Reaction::PauseRead,
                    ReactionSpec::ResumeRead => Reaction::ResumeRead,
                };
                if let Some(problem) = rules::reaction(reaction) {
                    v.err(format!("{p}.{name}[{i}].bytes"), problem);
                }
                reaction
            })
            .collect()
    };
    let on_connected = reactions(v, "on_connected", on_connected);
    let on_end_of_stream = reactions(v, "on_end_of_stream", on_eos);
    App { script: timed, on_connected, on_end_of_stream }
}

fn faults(v: &mut Validator, file: &SimFile, endpoints: &[String], hosts: &[String], total: u64) -> Vec<Fault> {
    let mut out = Vec::new();
    let known = |n: &str| endpoints.iter().any(|e| e == n) || hosts.iter().any(|h| h == n);
    let mut seen_fates = std::collections::BTreeSet::new();
    for (i, f) in file.faults.iter().enumerate() {
        let p = format!("faults[{i}]");
        match f {
            FaultSpec::Drop { matching, nth, times }
            | FaultSpec::Delay { matching, nth, times, .. }
            | FaultSpec::Duplicate { matching, nth, times, .. } => {
                let mp = format!("{p}.matching");
                if let Some(from) = &matching.from
                    && !known(from)
                {
                    v.err(format!("{mp}.from"), rules::not_an_endpoint(from, endpoints));
                }
                if let Some(problem) = matching.conn.and_then(|c| rules::connection_index(c, total)) {
                    v.err(format!("{mp}.conn"), problem);
                }
                let flags = matching.flags.as_ref().map(|t| v.flags(&format!("{mp}.flags"), t));
                if *nth == 0 {
                    v.err(format!("{p}.nth"), "expected 1 or more (the first matching segment is 1)");
                }
                if *times == 0 {
                    v.err(format!("{p}.times"), "expected 1 or more");
                }
                let action = match f {
                    FaultSpec::Drop { .. } => SegmentFaultAction::Drop,
                    FaultSpec::Delay { by_ms, .. } => {
                        SegmentFaultAction::Delay(v.ms(&format!("{p}.by_ms"), *by_ms, true))
                    }
                    FaultSpec::Duplicate { after_ms, .. } => {
                        SegmentFaultAction::Duplicate(v.ms(&format!("{p}.after_ms"), *after_ms, false))
                    }
                    _ => unreachable!("outer match"),
                };
                let filter = model::Filter {
                    from: matching.from.clone(),
                    conn: matching.conn,
                    flags,
                    data: matching.data,
                    state: matching.state.map(state),
                    retransmit: matching.retransmit,
                };
                out.push(Fault::Segment { filter, nth: *nth, times: *times, action });
            }
            FaultSpec::Inject { at_ms, from, conn, flags, seq, ack, len, wnd, tsval } => {
                if let Some(problem) = rules::unknown_endpoint(from, endpoints) {
                    v.err(format!("{p}.from"), problem);
                }
                if let Some(problem) = rules::connection_index(*conn, total) {
                    v.err(format!("{p}.conn"), problem);
                }
                let flags = v.flags(&format!("{p}.flags"), flags);
                let at = v.at(&format!("{p}.at_ms"), *at_ms);
                // RFC 9293 §3.4: sequence numbers are 32 bits and wrap, so an
                // offset beyond the whole space is a mistake, not a number.
                let bound = u64::from(u32::MAX);
                for (field, offset) in [("seq", *seq), ("ack", *ack)] {
                    if offset.unsigned_abs() > bound {
                        let why = "sequence numbers are 32 bits; a larger offset would wrap around";
                        v.err(
                            format!("{p}.{field}"),
                            format!("expected an offset in -{bound}..={bound} ({why}), found {offset}"),
                        );
                    }
                }
                if let Some(problem) = inject_len(*len, tsval.is_some()) {
                    v.err(format!("{p}.len"), problem);
                }
                out.push(Fault::Inject {
                    at,
                    conn: *conn,
                    from: from.clone(),
                    flags,
                    seq: *seq,
                    ack: *ack,
                    len: *len,
                    wnd: *wnd,
                    tsval: *tsval,
                });
            }
            FaultSpec::Partition { between, from_ms, to_ms } => {
                let a = hosts.iter().position(|h| *h == between.0);
                let b = hosts.iter().position(|h| *h == between.1);
                for (name, found) in [(&between.0, a), (&between.1, b)] {
                    if found.is_none() {
                        v.err(format!("{p}.between"), rules::unknown_host(name, hosts));
                    }
                }
                let from = v.at(&format!("{p}.from_ms"), *from_ms);
                let to = v.at(&format!("{p}.to_ms"), *to_ms);
                if to <= from {
                    v.err(format!("{p}.to_ms"), "expected a time after from_ms");
                }
                out.push(Fault::Partition { a: a.unwrap_or(0) as u32, b: b.unwrap_or(0) as u32, from, to });
            }
            FaultSpec::Crash { host, at_ms, restart_at_ms } => {
                let h = hosts.iter().position(|x| x == host);
                if h.is_none() {
                    v.err(format!("{p}.host"), rules::unknown_host(host, hosts));
                }
                let at = v.at(&format!("{p}.at_ms"), *at_ms);
                let restart_at = restart_at_ms.map(|ms| v.at(&format!("{p}.restart_at_ms"), ms));
                if restart_at.is_some_and(|r| r <= at) {
                    v.err(format!("{p}.restart_at_ms"), "expected a time after at_ms");
                }
                out.push(Fault::Crash { host: h.unwrap_or(0) as u32, at, restart_at });
            }
            FaultSpec::Fate { from, conn, nth, drop, delay_ms, copy_ms, corrupt } => {
                if !known(from) {
                    v.err(
                        format!("{p}.from"),
                        format!("unknown endpoint or host {from:?}; endpoints are {}", list(endpoints)),
                    );
                }
                if let Some(problem) = rules::connection_index(*conn, total) {
                    v.err(format!("{p}.conn"), problem);
                }
                if *nth == 0 {
                    v.err(format!("{p}.nth"), "expected 1 or more (the first segment sent is 1)");
                }
                if drop.is_some() && (delay_ms.is_some() || copy_ms.is_some() || *corrupt) {
                    v.err(format!("{p}.drop"), "a dropped segment has no delay_ms, copy_ms or corrupt");
                }
                if !seen_fates.insert((from.as_str(), *conn, *nth)) {
                    v.err(format!("{p}.nth"), format!("segment {nth} of {from:?} on conn {conn} already has a Fate"));
                }
                let fate = Fate {
                    drop: drop.map(|d| match d {
                        FateDropName::Loss => DropReason::Loss,
                        FateDropName::Burst => DropReason::Burst,
                        FateDropName::Expired => DropReason::Expired,
                    }),
                    delay: delay_ms.map(|ms| v.ms(&format!("{p}.delay_ms"), ms, false)),
                    copy: copy_ms.map(|ms| v.ms(&format!("{p}.copy_ms"), ms, false)),
                    corrupt: *corrupt,
                };
                out.push(Fault::Fate { from: from.clone(), conn: *conn, nth: *nth, fate });
            }
        }
    }
    out
}

/// An injected segment's payload fits one IPv4 packet beside its headers
/// and its one option (Timestamps, with `tsval`), as the capture writes
/// it: a longer one would be traced at a length the capture cannot hold.
fn inject_len(len: u32, timestamps: bool) -> Option<String> {
    // The options the forged segment carries, counted as the capture counts them.
    let ts = timestamps.then_some(crate::tcp::Timestamps { tsval: 0, tsecr: 0 });
    let options =
        crate::tcp::Segment { opts: crate::tcp::Options::NONE.with_ts(ts), ..Default::default() }.option_bytes();
    let max = crate::pcap::MAX_PAYLOAD - options;
    let header = if timestamps {
        format!("a 20-byte TCP header and the {options}-byte Timestamps option")
    } else {
        "a 20-byte TCP header".to_string()
    };
    (len > max).then(|| {
        format!(
            "expected at most {max} bytes (an IPv4 packet holds 65535, less a 20-byte IPv4 and {header}), found {len}"
        )
    })
}

fn limits(v: &mut Validator, spec: &LimitsSpec) -> model::Limits {
    let mut l = model::Limits::default();
    if let Some(n) = spec.max_events {
        if let Some(problem) = rules::at_least_one(n) {
            v.err("limits.max_events", problem);
        }
        l.max_events = n;
    }
    if let Some(ms) = spec.max_time_ms {
        l.max_time = v.at("limits.max_time_ms", ms);
    }
    for (name, value, field) in [
        ("max_connections", spec.max_connections, &mut l.max_connections),
        ("max_in_flight", spec.max_in_flight, &mut l.max_in_flight),
        ("max_trace_records", spec.max_trace_records, &mut l.max_trace_records),
    ] {
        if let Some(n) = value {
            if let Some(problem) = rules::at_least_one(n) {
                v.err(format!("limits.{name}"), problem);
            }
            *field = n;
        }
    }
    if let Some(problem) = rules::max_connections(l.max_connections) {
        v.err("limits.max_connections", problem);
    }
    l
}

fn expect(v: &mut Validator, e: &ExpectSpec, endpoints: &[String], total: u64) -> model::Expect {
    let mut proves = Vec::new();
    for (i, id) in e.proves.iter().enumerate() {
        match Rule::parse(id) {
            Some(r) => proves.push(r),
            None => v.err(
                format!("expect.proves[{i}]"),
                format!("expected a behaviour ID like \"B-CLOSE-06\", found {id:?}"),
            ),
        }
    }
    let mut eps = Vec::new();
    for (i, x) in e.endpoints.iter().enumerate() {
        let p = format!("expect.endpoints[{i}]");
        if let Some(problem) = rules::unknown_endpoint(&x.name, endpoints) {
            v.err(format!("{p}.name"), problem);
        }
        if let Some(problem) = rules::connection_index(x.conn, total) {
            v.err(format!("{p}.conn"), problem);
        }
        let time_in = x
            .time_in
            .iter()
            .enumerate()
            .map(|(j, t)| (state(t.state), v.ms(&format!("{p}.time_in[{j}].ms"), t.ms, false)))
            .collect();
        let sent = x
            .sent
            .iter()
            .enumerate()
            .map(|(j, s)| {
                let flags = v.flags(&format!("{p}.sent[{j}].flags"), &s.flags);
                let at =
                    s.at_ms.iter().enumerate().map(|(k, ms)| v.at(&format!("{p}.sent[{j}].at_ms[{k}]"), *ms)).collect();
                (flags, s.retransmit, at)
            })
            .collect();
        let mut count = |name: &str, c: &Option<CountSpec>| c.as_ref().map(|c| v.count(&format!("{p}.{name}"), c));
        eps.push(model::EndpointExpect {
            name: x.name.clone(),
            conn: x.conn,
            final_state: x.final_state.map(state),
            reason: x.reason.map(reason),
            path: x.path.as_ref().map(|p| p.iter().map(|s| state(*s)).collect()),
            visits: x.visits.iter().map(|s| state(*s)).collect(),
            never_visits: x.never_visits.iter().map(|s| state(*s)).collect(),
            time_in,
            sent,
            retransmissions: count("retransmissions", &x.retransmissions),
            fast_retransmits: count("fast_retransmits", &x.fast_retransmits),
            segments_sent: count("segments_sent", &x.segments_sent),
            bytes_delivered: count("bytes_delivered", &x.bytes_delivered),
            foreign_bytes: count("foreign_bytes", &x.foreign_bytes),
        });
    }
    let all_connections = e.all_connections.as_ref().map(|a| model::AllExpect {
        final_state: a.final_state.map(state),
        all_bytes_delivered: a.all_bytes_delivered,
        no_foreign_bytes: a.no_foreign_bytes,
        established: a.established,
    });
    let drops = e.drops.as_ref().map(|d| v.count("expect.drops", d));
    let stuck = e.stuck.as_ref().map(|d| v.count("expect.stuck", d));
    model::Expect { proves, endpoints: eps, all_connections, drops, stuck }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_parse() {
        assert_eq!(parse_count(">= 2"), Some(CountRange { min: 2, max: u64::MAX }));
        assert_eq!(parse_count("<=3"), Some(CountRange { min: 0, max: 3 }));
        assert_eq!(parse_count("2..=5"), Some(CountRange { min: 2, max: 5 }));
        assert_eq!(parse_count("5..=2"), None);
        assert_eq!(parse_count("7"), Some(CountRange::exactly(7)));
        assert_eq!(parse_count("x"), None);
    }

    #[test]
    fn milliseconds_round_to_nanoseconds_within_bounds() {
        assert_eq!(millis(1.5, true), Ok(Duration::from_nanos(1_500_000)));
        assert_eq!(millis(0.0, false), Ok(Duration::ZERO));
        assert_eq!(millis(0.0, true), Err(MillisError::OutOfRange));
        assert_eq!(millis(-1.0, false), Err(MillisError::OutOfRange));
        assert_eq!(millis(1.0e-7, true), Err(MillisError::RoundsToZero));
        assert_eq!(millis(MAX_MS, false), Ok(Duration::from_nanos(10_000_000_000_000_000)));
        assert_eq!(millis(MAX_MS * 2.0, false), Err(MillisError::OutOfRange));
        assert_eq!(millis(f64::NAN, false), Err(MillisError::NotFinite));
        assert_eq!(millis(f64::INFINITY, false), Err(MillisError::NotFinite));
    }
}
