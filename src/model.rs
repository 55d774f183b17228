//! The validated scenario: everything a [`crate::world::World`] needs, in
//! runtime types (nanoseconds, parts per million, indexes instead of names).
//!
//! A `Model` is built by `scenario::load` from a file, or directly in Rust.
//! Only `scenario` knows the file format; nothing here is `Deserialize`.

use crate::link::{Fate, LinkParams};
use crate::rule::Rule;
use crate::tcp::{CloseReason, Flags, State, TcpConfig};
use crate::time::{Duration, Instant};

pub type HostId = u32;

#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub name: String,
    /// What the scenario shows, for the run header.
    pub description: Option<String>,
    pub seed: u64,
    /// The seed of initial sequence numbers, when not the run's.
    pub iss_seed: Option<u64>,
    /// Distinct TCP configurations; endpoints refer to them by index. Index 0
    /// is the file-wide default.
    pub configs: Vec<TcpConfig>,
    pub hosts: Vec<Host>,
    pub links: Vec<Link>,
    pub listeners: Vec<Listener>,
    pub connections: Vec<Connection>,
    pub faults: Vec<Fault>,
    pub limits: Limits,
    pub expect: Option<Expect>,
    /// Human-readable notes for the run header: RFC deviations the file
    /// chose (named options, `allow_rfc_violations`).
    pub deviations: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub name: String,
    pub addr: u32,
}

/// A bidirectional link; `ab` is the direction from `a` to `b`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub a: HostId,
    pub b: HostId,
    pub ab: LinkParams,
    pub ba: LinkParams,
}

/// How the application reacts to an event, synchronously in the same step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reaction {
    Send(u64),
    Close,
    Abort,
    PauseRead,
    ResumeRead,
}

/// A timed application call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Listen,
    Connect,
    Send(u64),
    Close,
    Abort,
    PauseRead,
    ResumeRead,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timed {
    pub at: Duration,
    pub action: Action,
}

/// The application behind one endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct App {
    /// Sorted by time (stable, so equal times keep file order).
    pub script: Vec<Timed>,
    pub on_connected: Vec<Reaction>,
    pub on_end_of_stream: Vec<Reaction>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    pub name: String,
    pub host: HostId,
    pub port: u16,
    pub backlog: u32,
    pub listen_at: Instant,
    pub close_at: Option<Instant>,
    pub iss: Option<u32>,
    pub config: usize,
    /// Script times count from each accepted connection's establishment.
    pub app: App,
}

/// An explicit endpoint at a connection's remote address (no listener).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub name: String,
    pub iss: Option<u32>,
    pub config: usize,
    pub app: App,
}

/// One connection, or `count` alike opened `spread / count` apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub name: String,
    /// The first client host; connection `k` uses `host + k % host_span`
    /// (a host group's members have consecutive ids).
    pub host: HostId,
    pub host_span: u32,
    pub local_port: Option<u16>,
    pub remote_host: HostId,
    pub remote_port: u16,
    pub count: u32,
    pub open_spread: Duration,
    pub iss: Option<u32>,
    pub config: usize,
    /// Script times are absolute for the first connection; connection `i`
    /// runs its script `i * spread / count` later.
    pub app: App,
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
