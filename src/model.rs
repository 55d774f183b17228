//! The validated scenario: everything a [`crate::world::World`] needs, in
//! runtime types (nanoseconds, parts per million, indexes instead of names).
//!
//! A `Model` is built by `scenario::load` from a file, or in Rust with
//! [`Builder`].
//! Only `scenario` knows the file format; nothing here is `Deserialize`.

mod builder;
pub(crate) mod rules;

pub use builder::{BuildError, Builder};

use crate::link::{Fate, LinkParams};
use crate::rule::Rule;
use crate::tcp::{CloseReason, Flags, State, TcpConfig};
use crate::time::{Duration, Instant};

/// A host's index in [`Model::hosts`].
pub type HostId = u32;

/// A whole scenario, ready for [`crate::world::World`]: what a file loads
/// to, or what [`Builder`] builds.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The scenario's name, for headers and titles.
    pub name: String,
    /// What the scenario shows, for the run header.
    pub description: Option<String>,
    /// The seed of every random draw (links, initial sequence numbers).
    pub seed: u64,
    /// The seed of initial sequence numbers, when not the run's.
    pub iss_seed: Option<u64>,
    /// Distinct TCP configurations; endpoints refer to them by index. Index 0
    /// is the file-wide default.
    pub configs: Vec<TcpConfig>,
    /// The hosts, a group's members one by one.
    pub hosts: Vec<Host>,
    /// The links, one per pair of hosts.
    pub links: Vec<Link>,
    /// The listeners, in file order.
    pub listeners: Vec<Listener>,
    /// The connections, in file order; numbered in this order, members of
    /// a population one by one.
    pub connections: Vec<Connection>,
    /// The scripted faults, in file order.
    pub faults: Vec<Fault>,
    /// The limits of a run.
    pub limits: Limits,
    /// What the run must meet, if the scenario says.
    pub expect: Option<Expect>,
    /// Human-readable notes for the run header: RFC deviations the file
    /// chose (named options, `allow_rfc_violations`).
    pub deviations: Vec<String>,
}

/// One host: a name and an IPv4 address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// Its name (`NAME#k` for member `k` of a group).
    pub name: String,
    /// Its IPv4 address (see [`format_addr`]).
    pub addr: u32,
}

/// A bidirectional link; `ab` is the direction from `a` to `b`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// One end.
    pub a: HostId,
    /// The other end.
    pub b: HostId,
    /// The direction from `a` to `b`.
    pub ab: LinkParams,
    /// The direction from `b` to `a`.
    pub ba: LinkParams,
}

/// How the application reacts to an event, synchronously in the same step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reaction {
    /// SEND this many bytes.
    Send(u64),
    /// CLOSE: send a FIN once everything queued is sent.
    Close,
    /// ABORT: a RST where the state calls for it; CLOSED, reason `ABORTED`.
    Abort,
    /// Stop reading: unread bytes shrink RCV.WND.
    PauseRead,
    /// Read everything held, and go on reading.
    ResumeRead,
}

/// A timed application call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Passive OPEN (for a connection's explicit peer).
    Listen,
    /// Active OPEN: send a SYN.
    Connect,
    /// SEND this many bytes.
    Send(u64),
    /// CLOSE: send a FIN once everything queued is sent.
    Close,
    /// ABORT: a RST where the state calls for it; CLOSED, reason `ABORTED`.
    Abort,
    /// Stop reading: unread bytes shrink RCV.WND.
    PauseRead,
    /// Read everything held, and go on reading.
    ResumeRead,
}

/// An application call at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timed {
    /// When, from the script's start.
    pub at: Duration,
    /// What.
    pub action: Action,
}

/// The application behind one endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct App {
    /// Sorted by time (stable, so equal times keep file order) in a
    /// model; [`App::at`] keeps the order added until [`Builder::build`]
    /// sorts it.
    pub script: Vec<Timed>,
    /// What it does once the connection is established.
    pub on_connected: Vec<Reaction>,
    /// What it does once the peer's FIN arrives.
    pub on_end_of_stream: Vec<Reaction>,
}

/// A listening endpoint; each SYN it accepts becomes a connection's
/// server end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    /// The name of its endpoints.
    pub name: String,
    /// Where it listens.
    pub host: HostId,
    /// The port it listens on.
    pub port: u16,
    /// Connections it accepts over the whole run (not a queue length).
    pub backlog: u32,
    /// When it starts listening.
    pub listen_at: Instant,
    /// When it stops listening, if it does.
    pub close_at: Option<Instant>,
    /// A fixed initial sequence number instead of a drawn one.
    pub iss: Option<u32>,
    /// Its index in [`Model::configs`].
    pub config: usize,
    /// Script times count from each accepted connection's establishment.
    pub app: App,
}

/// An explicit endpoint at a connection's remote address (no listener).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// Its endpoint's name.
    pub name: String,
    /// A fixed initial sequence number instead of a drawn one.
    pub iss: Option<u32>,
    /// Its index in [`Model::configs`].
    pub config: usize,
    /// Its application (a `Listen`, or a `Connect` for a simultaneous open).
    pub app: App,
}

/// One connection, or `count` alike opened `spread / count` apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// The client endpoint's name.
    pub name: String,
    /// The first client host; connection `k` uses `host + k % host_span`
    /// (a host group's members have consecutive ids).
    pub host: HostId,
    /// How many consecutive hosts the clients are spread over.
    pub host_span: u32,
    /// A fixed client port instead of an ephemeral one.
    pub local_port: Option<u16>,
    /// The server's host.
    pub remote_host: HostId,
    /// The server's port.
    pub remote_port: u16,
    /// How many alike connections this entry stands for.
    pub count: u32,
    /// The time over which the `count` connections open.
    pub open_spread: Duration,
    /// A fixed initial sequence number instead of a drawn one.
    pub iss: Option<u32>,
    /// Its index in [`Model::configs`].
    pub config: usize,
    /// Script times are absolute for the first connection; connection `i`
    /// runs its script `i * spread / count` later.
    pub app: App,
    /// The remote end, when it is not a listener.
    pub peer: Option<Peer>,
}

/// Which segments a fault matches. `None` matches anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// The sending endpoint's name.
    pub from: Option<String>,
    /// The connection number.
    pub conn: Option<u32>,
    /// The segment's flags, exactly.
    pub flags: Option<Flags>,
    /// `true`: it carries payload (`len > 0`); `false`: it carries none.
    pub data: Option<bool>,
    /// The sender's state when it sends the segment.
    pub state: Option<State>,
    /// Whether the segment is a retransmission.
    pub retransmit: Option<bool>,
}

/// What a segment fault does to a matching segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentFaultAction {
    /// The segment is lost (drop reason `rule`).
    Drop,
    /// The segment arrives this much later than the link says.
    Delay(Duration),
    /// A copy arrives this long after the segment itself.
    Duplicate(Duration),
}

/// A scripted event: something done to segments, hosts or the links
/// beside what the link model draws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Applies to matching segments number `nth ..= nth + times - 1`
    /// (1-based, counted per fault).
    Segment {
        /// Which segments count.
        filter: Filter,
        /// The first matching segment acted on (1-based).
        nth: u32,
        /// How many consecutive matching segments are acted on.
        times: u32,
        /// What is done to them.
        action: SegmentFaultAction,
    },
    /// A forged segment sent at `at` in the name of endpoint `from` of
    /// connection `conn`, from its address and port to its peer's.
    Inject {
        /// When it is sent.
        at: Instant,
        /// The connection of the endpoint it is sent as.
        conn: u32,
        /// The name of the endpoint it is sent as.
        from: String,
        /// Its flags.
        flags: Flags,
        /// Its sequence number, relative to the sender's ISS (1: the first
        /// data octet).
        seq: i64,
        /// Its acknowledgment number, relative to the peer's ISS; sent only
        /// with ACK set (0 otherwise).
        ack: i64,
        /// Payload octets.
        len: u32,
        /// Advertised window (unscaled).
        wnd: u16,
        /// RFC 7323: a Timestamps option with this TSval (absolute).
        tsval: Option<u32>,
    },
    /// Hosts `a` and `b` cannot reach each other in `[from, to)`: segments
    /// sent between them are dropped (reason `partition`).
    Partition {
        /// One host.
        a: HostId,
        /// The other host.
        b: HostId,
        /// When the partition begins (inclusive).
        from: Instant,
        /// When it ends (exclusive).
        to: Instant,
    },
    /// `host` crashes at `at`: its endpoints vanish without sending
    /// anything; it answers as a host with no endpoints after
    /// `restart_at`, and drops what arrives until then.
    Crash {
        /// The host that crashes.
        host: HostId,
        /// When it crashes.
        at: Instant,
        /// When it comes back up; `None`: never.
        restart_at: Option<Instant>,
    },
    /// What the link does to the `nth` segment (1-based) that `from` sends
    /// on connection `conn`, instead of drawing it: a recorded decision
    /// (`tcpsim run --emit-faults`, `tcpsim shrink`).
    Fate {
        /// The sending endpoint's name.
        from: String,
        /// The connection number.
        conn: u32,
        /// Which of `from`'s segments on `conn` (1-based, every send counted).
        nth: u32,
        /// What the link does to it.
        fate: Fate,
    },
}

/// Bounds on one run: a run that reaches one of events, time, segments in
/// flight or trace records ends with the matching
/// [`crate::world::Outcome`]; the connection count is checked at load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Events per run (default 100 million).
    pub max_events: u64,
    /// Virtual time (default 24 h).
    pub max_time: Instant,
    /// Connections in the file, checked before anything is allocated
    /// (default 2 million).
    pub max_connections: u64,
    /// Segments travelling on links at once (default 10 million).
    pub max_in_flight: u64,
    /// Trace records per run (default 10 billion).
    pub max_trace_records: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_events: 100_000_000,
            max_time: Instant::from_nanos(86_400 * 1_000_000_000),
            max_connections: 2_000_000,
            max_in_flight: 10_000_000,
            max_trace_records: 10_000_000_000,
        }
    }
}

/// An inclusive range for counted expectations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountRange {
    /// The least allowed count.
    pub min: u64,
    /// The greatest allowed count (`u64::MAX`: no bound).
    pub max: u64,
}

impl CountRange {
    /// The range holding `n` only.
    pub fn exactly(n: u64) -> CountRange {
        CountRange { min: n, max: n }
    }

    /// Whether `n` lies in the range.
    pub fn contains(&self, n: u64) -> bool {
        self.min <= n && n <= self.max
    }
}

impl std::fmt::Display for CountRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.min, self.max) {
            (a, b) if a == b => write!(f, "{a}"),
            (0, b) => write!(f, "<= {b}"),
            (a, u64::MAX) => write!(f, ">= {a}"),
            (a, b) => write!(f, "{a}..={b}"),
        }
    }
}

/// What a run must show (the file's `expect` block), checked by
/// [`crate::expect::check`] after the run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    /// Behaviour IDs that must each fire at least once.
    pub proves: Vec<Rule>,
    /// Checks on single named endpoints.
    pub endpoints: Vec<EndpointExpect>,
    /// Checks on every connection.
    pub all_connections: Option<AllExpect>,
    /// The total number of segments dropped, whatever the reason.
    pub drops: Option<CountRange>,
    /// Endpoints stuck at the end of the run (see `world::OpenReason`).
    pub stuck: Option<CountRange>,
}

/// What one endpoint must show at the end of the run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointExpect {
    /// The endpoint's name.
    pub name: String,
    /// Its connection number.
    pub conn: u32,
    /// Its state at the end.
    pub final_state: Option<State>,
    /// Why it closed.
    pub reason: Option<CloseReason>,
    /// Every state it entered, in order, from CLOSED at creation.
    pub path: Option<Vec<State>>,
    /// States it must have entered.
    pub visits: Vec<State>,
    /// States it must never have entered.
    pub never_visits: Vec<State>,
    /// Total time spent in each state, a visit still open at the end
    /// counting up to the last event.
    pub time_in: Vec<(State, Duration)>,
    /// For a flags value (and, when given, only retransmissions or only
    /// first transmissions): the send times of all its segments with
    /// exactly those flags.
    pub sent: Vec<(Flags, Option<bool>, Vec<Instant>)>,
    /// Segments it sent again (RTO, fast retransmit, zero-window probes).
    pub retransmissions: Option<CountRange>,
    /// Segments it sent by fast retransmit or NewReno partial ACKs.
    pub fast_retransmits: Option<CountRange>,
    /// Every segment it emitted, retransmissions and resets included.
    pub segments_sent: Option<CountRange>,
    /// Payload bytes delivered to its application, in order.
    pub bytes_delivered: Option<CountRange>,
    /// Delivered bytes that were not the peer's at that offset.
    pub foreign_bytes: Option<CountRange>,
}

/// What every connection must show at the end of the run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllExpect {
    /// Every endpoint's state at the end.
    pub final_state: Option<State>,
    /// `true`: each endpoint's peer delivered every byte it queued.
    pub all_bytes_delivered: Option<bool>,
    /// `true`: no endpoint delivered bytes from another stream.
    pub no_foreign_bytes: Option<bool>,
    /// `true`: every endpoint reached ESTABLISHED at some point.
    pub established: Option<bool>,
}

impl Model {
    /// Every endpoint name the scenario gives: each connection's, its
    /// peer's, each listener's (in that order, repeats kept).
    pub fn endpoint_names(&self) -> Vec<&str> {
        self.connections
            .iter()
            .flat_map(|c| std::iter::once(c.name.as_str()).chain(c.peer.iter().map(|p| p.name.as_str())))
            .chain(self.listeners.iter().map(|l| l.name.as_str()))
            .collect()
    }

    /// Total number of connections (populations expanded).
    pub fn connection_count(&self) -> u64 {
        self.connections.iter().map(|c| u64::from(c.count)).sum()
    }

    /// How many connection numbers a run hands out: the connections first
    /// (populations expanded), then one per listener for its idle
    /// listening endpoint. Faults and expectations name connections by
    /// these numbers.
    pub fn connection_numbers(&self) -> u64 {
        rules::connection_numbers(self.connection_count(), self.listeners.len())
    }

    /// This model with every random link decision turned off (see
    /// [`LinkParams::without_randomness`]).
    pub fn without_link_randomness(mut self) -> Model {
        for l in &mut self.links {
            l.ab = l.ab.without_randomness();
            l.ba = l.ba.without_randomness();
        }
        self
    }

    /// The host named `name`.
    pub fn host_by_name(&self, name: &str) -> Option<HostId> {
        self.hosts.iter().position(|h| h.name == name).map(|i| i as HostId)
    }
}

/// Formats an IPv4 address.
pub fn format_addr(addr: u32) -> String {
    let b = addr.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

/// Parses a dotted IPv4 address.
pub fn parse_addr(text: &str) -> Option<u32> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut addr = 0u32;
    for p in parts {
        if p.is_empty() || p.len() > 3 || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        addr = (addr << 8) | u32::from(p.parse::<u8>().ok()?);
    }
    Some(addr)
}
