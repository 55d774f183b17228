//! The validated scenario: everything a [`crate::world::World`] needs, in
//! runtime types (nanoseconds, parts per million, indexes instead of names).
//!
//! A `Model` is built by `scenario::load` from a file, or in Rust with
//! [`Builder`].
//! Only `scenario` knows the file format; nothing here is `Deserialize`.

mod builder;

pub use builder::Builder;

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
    /// Sorted by time (stable, so equal times keep file order).
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
    pub from: Option<String>,
    pub conn: Option<u32>,
    pub flags: Option<Flags>,
    pub data: Option<bool>,
    pub state: Option<State>,
    pub retransmit: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentFaultAction {
    Drop,
    Delay(Duration),
    Duplicate(Duration),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Applies to matching segments number `nth ..= nth + times - 1`
    /// (1-based, counted per fault).
    Segment {
        filter: Filter,
        nth: u32,
        times: u32,
        action: SegmentFaultAction,
    },
    Inject {
        at: Instant,
        conn: u32,
        from: String,
        flags: Flags,
        seq: i64,
        ack: i64,
        len: u32,
        wnd: u16,
        /// RFC 7323: a Timestamps option with this TSval (absolute).
        tsval: Option<u32>,
    },
    Partition {
        a: HostId,
        b: HostId,
        from: Instant,
        to: Instant,
    },
    Crash {
        host: HostId,
        at: Instant,
        restart_at: Option<Instant>,
    },
    /// What the link does to the `nth` segment (1-based) that `from` sends
    /// on connection `conn`, instead of drawing it: a recorded decision
    /// (`tcpsim run --emit-faults`, `tcpsim shrink`).
    Fate {
        from: String,
        conn: u32,
        nth: u32,
        fate: Fate,
    },
}

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
    pub min: u64,
    pub max: u64,
}

impl CountRange {
    pub fn exactly(n: u64) -> CountRange {
        CountRange { min: n, max: n }
    }

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

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    pub proves: Vec<Rule>,
    pub endpoints: Vec<EndpointExpect>,
    pub all_connections: Option<AllExpect>,
    pub drops: Option<CountRange>,
    /// Endpoints stuck at the end of the run (see `world::OpenReason`).
    pub stuck: Option<CountRange>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointExpect {
    pub name: String,
    pub conn: u32,
    pub final_state: Option<State>,
    pub reason: Option<CloseReason>,
    pub path: Option<Vec<State>>,
    pub visits: Vec<State>,
    pub never_visits: Vec<State>,
    pub time_in: Vec<(State, Duration)>,
    pub sent: Vec<(Flags, Vec<Instant>)>,
    pub retransmissions: Option<CountRange>,
    pub fast_retransmits: Option<CountRange>,
    pub segments_sent: Option<CountRange>,
    pub bytes_delivered: Option<CountRange>,
    pub foreign_bytes: Option<CountRange>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllExpect {
    pub final_state: Option<State>,
    pub all_bytes_delivered: Option<bool>,
    pub no_foreign_bytes: Option<bool>,
    pub established: Option<bool>,
}

impl Model {
    /// Total number of connections (populations expanded).
    pub fn connection_count(&self) -> u64 {
        self.connections.iter().map(|c| u64::from(c.count)).sum()
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
