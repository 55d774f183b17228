//! Trace events: one record per thing that happened, in event order, and
//! the run digest over them.
//!
//! The world hands every event to a [`TraceSink`] (text, JSONL, or
//! nothing) and to the [`Digest`]. Sinks only format; they never decide
//! anything, so every output format of a run shows the same digest.

mod digest;
mod jsonl;
mod text;

pub use digest::{DIGEST_VERSION, Digest};
pub use jsonl::{JsonlWriter, json_str};
pub use text::TextWriter;

use crate::link::DropReason;
use crate::rule::Rule;
use crate::tcp::{
    AppEvent, Call, CallError, Cause, CloseReason, CubicInfo, RttSource, Segment, State, Timer, TimerAction,
};
use crate::time::{Duration, Instant};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceKind {
    /// `endpoint` changed state (RFC 9293 §3.3.2 states).
    Transition {
        /// The state left.
        from: State,
        /// The state entered.
        to: State,
        /// What made it happen: a segment, a timer, an application call, ...
        cause: Cause,
        /// The behaviour rule (`B-AREA-NN`) the transition follows.
        rule: Rule,
        /// For a transition to CLOSED, why the connection closed.
        reason: Option<CloseReason>,
    },
    /// A segment emitted by `endpoint`.
    Send {
        /// The segment as sent.
        seg: Segment,
        /// Crafted by an `Inject` fault rather than by the endpoint's TCP.
        injected: bool,
    },
    /// A segment handed to `endpoint` (the receiver); `discard` when the
    /// receiver threw it away on arrival (not part of the digest).
    Deliver {
        /// The segment as it arrived (a corrupt one is a `Drop` instead).
        seg: Segment,
        /// Why the receiver threw the segment away unprocessed, if it did
        /// (JSONL `discard`).
        discard: Option<Discard>,
    },
    /// A segment lost on its way from `endpoint` (the sender).
    Drop {
        /// The segment lost.
        seg: Segment,
        /// Why it was lost (link, fault, partition, ...).
        reason: DropReason,
    },
    /// One of `endpoint`'s timers was started, restarted, stopped or fired.
    Timer {
        /// Which timer.
        timer: Timer,
        /// What happened to it.
        action: TimerAction,
        /// When it will fire; shown for `start` and `restart` only.
        deadline: Instant,
    },
    /// `endpoint`'s application made a call (OPEN, SEND, CLOSE, ...).
    App {
        /// The call made.
        call: Call,
        /// For SEND, the byte count the call passed; 0 for the other calls.
        bytes: u64,
        /// The error the call returned, if it failed (RFC 9293 §3.10 error
        /// names).
        error: Option<CallError>,
    },
    /// `endpoint` told its application something (connected, data, peer closed,
    /// ...).
    Event(AppEvent),
    /// `endpoint`'s congestion window or slow-start threshold changed
    /// (RFC 5681).
    Congestion {
        /// The congestion window after the change, in bytes.
        cwnd: u32,
        /// The slow-start threshold after the change, in bytes.
        ssthresh: u32,
        /// RFC 6675 pipe during SACK recovery (not in the digest).
        pipe: Option<u32>,
        /// CUBIC's W_max, K and region (RFC 9438), with
        /// `congestion_control: cubic` (not in the digest).
        cubic: Option<CubicInfo>,
        /// Bytes in flight after the step's call, when measurement records
        /// are asked for (not in the digest).
        flight: Option<u32>,
    },
    /// A host crashed (`up: false`) or restarted; `endpoint` is the host
    /// name and `conn` is [`NO_CONN`].
    Host {
        /// `true` for a restart, `false` for a crash.
        up: bool,
        /// How many endpoints the crash took (JSONL `endpoints_lost`); 0 on a
        /// restart.
        endpoints_lost: u32,
    },
    /// An RTT sample updated the estimator. Traced, and in the digest, for
    /// endpoints with `timestamps` configured; for the others only as a
    /// measurement record, never in the digest.
    Rtt {
        /// The round-trip time measured (JSONL `sample_ns`).
        sample: Duration,
        /// What the sample was taken from: a timed segment or a TSecr.
        source: RttSource,
        /// SRTT after the update (RFC 6298 §2, RFC 7323 Appendix G).
        srtt: Duration,
        /// RTTVAR after the update (JSONL `rttvar_ns`; not in the digest).
        rttvar: Duration,
        /// The retransmission timeout after the update.
        rto: Duration,
        /// A measurement record: the endpoint has no `timestamps`
        /// configured, so its samples were never traced before and stay
        /// out of the digest.
        measurement: bool,
    },
    /// A measurement record (never in the digest): `endpoint`'s bytes in
    /// flight, send window or receive window changed during a step. Only
    /// when measurement records are asked for.
    Flight {
        /// Bytes sent and not acknowledged (SND.MAX - SND.UNA, SYN and FIN
        /// counted as the sequence space counts them).
        flight: u32,
        /// SND.WND: the peer's window as this end applies it, in bytes.
        snd_wnd: u32,
        /// The free receive window this end offers, in bytes.
        rcv_wnd: u32,
    },
    /// A measurement record (never in the digest): a segment from
    /// `endpoint` entered a rate-limited link direction, which now holds
    /// `backlog_bytes` (this segment included) not yet serialized. Only
    /// when measurement records are asked for.
    Queue {
        /// The link's index in the scenario's `links`.
        link: u32,
        /// `true` for the direction from the link's `a` to its `b`.
        a_to_b: bool,
        /// Bytes waiting or being serialized in that direction.
        backlog_bytes: u64,
    },
}

/// Why a receiver discarded a delivered segment before processing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Discard {
    /// RFC 7323 §5.3 R1: its TSval is older than TS.Recent (B-TS-05).
    Paws,
    /// RFC 7323 §3.2: a non-RST segment without the Timestamps option on
    /// a connection that uses them (B-TS-08).
    NoTimestamp,
}

impl Discard {
    /// The reason as the trace spells it (`paws`, `no_timestamp`).
    pub const fn name(self) -> &'static str {
        match self {
            Discard::Paws => "paws",
            Discard::NoTimestamp => "no_timestamp",
        }
    }
}

/// The `conn` of records that belong to no connection (host events).
pub const NO_CONN: u32 = u32::MAX;

/// The `ep` of records about no endpoint: host events, and a host's
/// answer for a closed port (its `deliver`, `send` and `drop`).
pub const NO_EP: u32 = u32::MAX;

/// Which transmission a `send`, `deliver` or `drop` is about.
///
/// `pkt` numbers every segment sent in a run, from 0, in send order; a
/// retransmission is a new transmission with its own number. A link that
/// duplicates a segment delivers each extra copy with the same `pkt` and
/// `copy` 1, 2, ...; the original travels as copy 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct PacketId {
    /// The transmission's number in the run, from 0, in send order.
    pub pkt: u64,
    /// 0 for the original, 1, 2, ... for the link's (or a fault's) extra
    /// copies.
    pub copy: u8,
}

impl TraceKind {
    /// Every kind, in the order of the variants: the `kind` field of its
    /// JSONL records, then the label of its text trace lines. The one
    /// table both writers, the `--kinds` filter and its help read.
    pub const TABLE: [(&'static str, &'static str); 12] = [
        ("transition", "STATE"),
        ("send", "send"),
        ("deliver", "deliver"),
        ("drop", "DROP"),
        ("timer", "timer"),
        ("app", "app"),
        ("event", "event"),
        ("congestion", "cwnd"),
        ("host", "HOST"),
        ("rtt", "rtt"),
        ("flight", "flight"),
        ("queue", "queue"),
    ];

    /// Every kind's name, in the order of the variants.
    pub const NAMES: [&'static str; 12] = {
        let mut names = [""; 12];
        let mut i = 0;
        while i < names.len() {
            names[i] = Self::TABLE[i].0;
            i += 1;
        }
        names
    };

    /// The kind's row in [`TraceKind::TABLE`].
    const fn index(&self) -> usize {
        match self {
            TraceKind::Transition { .. } => 0,
            TraceKind::Send { .. } => 1,
            TraceKind::Deliver { .. } => 2,
            TraceKind::Drop { .. } => 3,
            TraceKind::Timer { .. } => 4,
            TraceKind::App { .. } => 5,
            TraceKind::Event(_) => 6,
            TraceKind::Congestion { .. } => 7,
            TraceKind::Host { .. } => 8,
            TraceKind::Rtt { .. } => 9,
            TraceKind::Flight { .. } => 10,
            TraceKind::Queue { .. } => 11,
        }
    }

    /// The `kind` field of JSONL records and the `--kinds` filter names.
    pub const fn name(&self) -> &'static str {
        Self::TABLE[self.index()].0
    }

    /// The label of the kind's lines in the text trace (`STATE`, `cwnd`).
    pub const fn label(&self) -> &'static str {
        Self::TABLE[self.index()].1
    }

    /// The kind a `--kinds` word names: a record kind (`transition`) or a
    /// text trace label (`STATE`), in any case, since a reader filters by
    /// what they saw in either trace.
    pub fn named(word: &str) -> Option<&'static str> {
        Self::TABLE
            .iter()
            .find(|(name, label)| name.eq_ignore_ascii_case(word) || label.eq_ignore_ascii_case(word))
            .map(|(name, _)| *name)
    }

    /// The kinds as `--kinds` help and errors list them: each record kind,
    /// with its text label in parentheses where that differs.
    pub fn listing() -> String {
        let each = Self::TABLE.iter().map(
            |(name, label)| {
                if name == label { name.to_string() } else { format!("{name} ({label})") }
            },
        );
        each.collect::<Vec<_>>().join(", ")
    }

    /// Whether this is a measurement record (`flight`, `queue`, and `rtt`
    /// of endpoints without timestamps): traced only when asked for, never
    /// in the digest nor counted against the run's limits.
    pub const fn is_measurement(&self) -> bool {
        matches!(self, TraceKind::Flight { .. } | TraceKind::Queue { .. } | TraceKind::Rtt { measurement: true, .. })
    }

    /// This record without what measurement records add to others (the
    /// `flight` of `congestion`); `None` for a measurement record.
    pub const fn without_measurements(self) -> Option<TraceKind> {
        match self {
            k if k.is_measurement() => None,
            TraceKind::Congestion { cwnd, ssthresh, pipe, cubic, .. } => {
                Some(TraceKind::Congestion { cwnd, ssthresh, pipe, cubic, flight: None })
            }
            k => Some(k),
        }
    }
}

/// Where a segment travels: IPv4 address and port of each end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Route {
    /// The sender's IPv4 address (as a 32-bit number) and port.
    pub src: (u32, u16),
    /// The receiver's IPv4 address (as a 32-bit number) and port.
    pub dst: (u32, u16),
}

/// One trace record.
#[derive(Clone, Copy, Debug)]
pub struct TraceEvent<'a> {
    /// When it happened, in simulated time.
    pub t: Instant,
    /// The connection. For `send`, `deliver` and `drop`, the segment's
    /// (as its sender named it), whatever the receiver's own number.
    pub conn: u32,
    /// The endpoint's index, fixed for its life ([`NO_EP`] for hosts).
    pub ep: u32,
    /// The endpoint's name (a host's name for host records and a host's
    /// answers).
    pub endpoint: &'a str,
    /// What happened, with its details.
    pub kind: TraceKind,
    /// For `send`, `deliver` and `drop`: the segment's addresses (not part
    /// of the digest; used for packet captures).
    pub route: Option<Route>,
    /// For `send`, `deliver` and `drop`: which transmission (and copy).
    pub pkt: Option<PacketId>,
    /// For a host crash: the endpoints it took, by `ep`, in `ep` order
    /// (empty for every other record). Not part of the digest, which has
    /// their count.
    pub lost_eps: &'a [u32],
}

/// Receives every trace event of a run, in order.
pub trait TraceSink {
    /// Takes the next event of the run; called once per event, in event order.
    fn record(&mut self, event: &TraceEvent<'_>);

    /// Whether writing failed; the run stops early when it has.
    fn failed(&self) -> bool {
        false
    }

    /// Whether the sink takes records at all. One that keeps nothing (a
    /// `--quiet` run's) says `false`, and the world then hands it none and
    /// does not ask it whether it [failed](TraceSink::failed): the digest
    /// alone reads the records, and nothing about the run changes. Asked
    /// at every step, so it may change between steps.
    fn wants_records(&self) -> bool {
        true
    }
}

/// A sink that keeps nothing (`--quiet`, benchmarks).
#[derive(Debug, Default)]
pub struct NullSink;

impl TraceSink for NullSink {
    fn record(&mut self, _event: &TraceEvent<'_>) {}

    fn wants_records(&self) -> bool {
        false
    }
}

/// A sink that keeps owned copies of every event, for tests and library
/// users.
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    /// Every event recorded, in order.
    pub events: Vec<OwnedEvent>,
}

/// A trace record that owns its strings ([`TraceEvent`] borrows them), for
/// keeping past the step that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedEvent {
    /// When it happened, in simulated time.
    pub t: Instant,
    /// The connection (see [`TraceEvent::conn`]).
    pub conn: u32,
    /// The endpoint's index ([`NO_EP`] for hosts).
    pub ep: u32,
    /// The endpoint's (or host's) name.
    pub endpoint: String,
    /// What happened, with its details.
    pub kind: TraceKind,
    /// For `send`, `deliver` and `drop`: the segment's addresses.
    pub route: Option<Route>,
    /// For `send`, `deliver` and `drop`: which transmission (and copy).
    pub pkt: Option<PacketId>,
    /// Boxed: empty (no allocation) on every record but a host crash.
    pub lost_eps: Box<[u32]>,
}

impl OwnedEvent {
    /// The borrowed form every sink takes.
    pub fn as_event(&self) -> TraceEvent<'_> {
        TraceEvent {
            t: self.t,
            conn: self.conn,
            ep: self.ep,
            endpoint: &self.endpoint,
            kind: self.kind,
            route: self.route,
            pkt: self.pkt,
            lost_eps: &self.lost_eps,
        }
    }

    /// The event as its JSONL trace line (without the newline).
    pub fn json(&self) -> String {
        let mut w = JsonlWriter::new(Vec::new());
        w.record(&self.as_event());
        let bytes = w.finish().expect("writing to memory cannot fail");
        String::from_utf8(bytes).expect("JSON is UTF-8").trim_end().to_string()
    }
}

impl From<&TraceEvent<'_>> for OwnedEvent {
    fn from(e: &TraceEvent<'_>) -> OwnedEvent {
        OwnedEvent {
            t: e.t,
            conn: e.conn,
            ep: e.ep,
            endpoint: e.endpoint.to_string(),
            kind: e.kind,
            route: e.route,
            pkt: e.pkt,
            lost_eps: e.lost_eps.into(),
        }
    }
}

impl TraceSink for Recorder {
    fn record(&mut self, e: &TraceEvent<'_>) {
        self.events.push(OwnedEvent::from(e));
    }
}

impl Recorder {
    /// `(from, to)` of every transition of endpoint `ep`, whatever
    /// connections it served.
    pub fn transitions_of_ep(&self, ep: u32) -> Vec<(State, State)> {
        self.events
            .iter()
            .filter(|e| e.ep == ep)
            .filter_map(|e| match e.kind {
                TraceKind::Transition { from, to, .. } => Some((from, to)),
                _ => None,
            })
            .collect()
    }

    /// `(from, to)` of every transition of endpoint `name` on `conn`.
    pub fn transitions_of(&self, conn: u32, name: &str) -> Vec<(State, State)> {
        self.events
            .iter()
            .filter(|e| e.conn == conn && e.endpoint == name)
            .filter_map(|e| match e.kind {
                TraceKind::Transition { from, to, .. } => Some((from, to)),
                _ => None,
            })
            .collect()
    }
}

/// Passes events to another sink without the measurement records and
/// fields ([`TraceKind::without_measurements`]): what a trace shows unless
/// they are asked for.
pub struct WithoutMeasurements<'s>(pub &'s mut dyn TraceSink);

impl TraceSink for WithoutMeasurements<'_> {
    fn record(&mut self, e: &TraceEvent<'_>) {
        if let Some(kind) = e.kind.without_measurements() {
            self.0.record(&TraceEvent { kind, ..*e });
        }
    }

    fn failed(&self) -> bool {
        self.0.failed()
    }

    fn wants_records(&self) -> bool {
        self.0.wants_records()
    }
}

/// Passes events through to another sink only if they pass a filter.
pub struct Filtered<'s> {
    inner: &'s mut dyn TraceSink,
    filter: Filter,
    /// With `--conn N`: the endpoints in connection N now.
    members: Option<ConnMembers>,
}

impl<'s> Filtered<'s> {
    /// Passes to `inner` the events that `filter` lets through.
    pub fn new(inner: &'s mut dyn TraceSink, filter: Filter) -> Filtered<'s> {
        let members = filter.conn.map(ConnMembers::new);
        Filtered { inner, filter, members }
    }
}

/// Which endpoints (by `ep`) belong to one connection, followed record by
/// record.
///
/// A delivery is recorded under its send's connection, so a stray segment
/// of another connection (an old duplicate on the same 4-tuple) that
/// reaches one of this connection's endpoints carries the other number;
/// what arrived at a connection's endpoints is its records plus those
/// deliveries (and a listening endpoint's reset in reply, sent under the
/// stray's number too). An endpoint is in the connection from its first record
/// other than a segment under that number (the deliver of the SYN that a
/// listening endpoint takes is already the connection's own), until a
/// record under another number, or its transition back to LISTEN (it is
/// its listener's again after it). Memory: the members only, never one
/// entry per endpoint of the run.
#[derive(Clone, Debug)]
pub struct ConnMembers {
    conn: u32,
    /// Sorted; normally the connection's two ends.
    eps: Vec<u32>,
    /// When the number is a listener's: the endpoints that listened under
    /// it (sorted), which are its again whenever they fall back to LISTEN.
    listening: Vec<u32>,
}

impl ConnMembers {
    /// Tracks the endpoints in connection `conn`; none until the records show
    /// them.
    pub fn new(conn: u32) -> ConnMembers {
        ConnMembers { conn, eps: Vec::new(), listening: Vec::new() }
    }

    /// Follows one record (call for every record, in order).
    pub fn observe(&mut self, e: &TraceEvent<'_>) {
        if e.ep == NO_EP
            || matches!(e.kind, TraceKind::Send { .. } | TraceKind::Deliver { .. } | TraceKind::Drop { .. })
        {
            return;
        }
        let member = match e.kind {
            // An application's LISTEN: under its listener's number.
            TraceKind::Transition { from: State::Closed, to: State::Listen, .. } => {
                if e.conn == self.conn
                    && let Err(i) = self.listening.binary_search(&e.ep)
                {
                    self.listening.insert(i, e.ep);
                }
                e.conn == self.conn
            }
            // Back to LISTEN (a reset, a retransmission limit): recorded
            // under the connection it leaves; its listener's again after.
            TraceKind::Transition { to: State::Listen, .. } => self.listening.binary_search(&e.ep).is_ok(),
            _ => e.conn == self.conn,
        };
        match (self.eps.binary_search(&e.ep), member) {
            (Err(i), true) => self.eps.insert(i, e.ep),
            (Ok(i), false) => {
                self.eps.remove(i);
            }
            _ => {}
        }
    }

    /// Whether `e` is a segment of another connection that arrived at
    /// (`deliver`) or left from (`send`, `drop`: an idle listening
    /// endpoint's reset answers a stray under the stray's connection) one
    /// of this connection's endpoints.
    pub fn is_stray_segment(&self, e: &TraceEvent<'_>) -> bool {
        matches!(e.kind, TraceKind::Send { .. } | TraceKind::Deliver { .. } | TraceKind::Drop { .. })
            && e.conn != self.conn
            && self.eps.binary_search(&e.ep).is_ok()
    }
}

/// Which events an output shows (`--conn`, `--endpoint`, `--kinds`,
/// `--from-ms`, `--to-ms`). The digest always covers every event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// `--conn N`: records of connection N ([`Filtered`] also shows the
    /// segments its endpoints exchange under another number).
    pub conn: Option<u32>,
    /// `--endpoint NAME`: records of the endpoint (or host) with this name.
    pub endpoint: Option<String>,
    /// `--kinds a,b`: records of these kinds ([`TraceKind::NAMES`]).
    pub kinds: Option<Vec<String>>,
    /// `--from-ms`: records at or after this time.
    pub from: Option<Instant>,
    /// `--to-ms`: records at or before this time.
    pub to: Option<Instant>,
}

impl Filter {
    /// Whether it lets everything through (no option given).
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Whether `e` is shown.
    pub fn passes(&self, e: &TraceEvent<'_>) -> bool {
        self.conn.is_none_or(|c| c == e.conn) && self.passes_besides_conn(e)
    }

    fn passes_besides_conn(&self, e: &TraceEvent<'_>) -> bool {
        self.endpoint.as_deref().is_none_or(|n| n == e.endpoint)
            && self.kinds.as_ref().is_none_or(|k| k.iter().any(|k| k == e.kind.name()))
            && self.from.is_none_or(|f| f <= e.t)
            && self.to.is_none_or(|t| e.t <= t)
    }
}

impl TraceSink for Filtered<'_> {
    fn record(&mut self, e: &TraceEvent<'_>) {
        let stray = self.members.as_mut().is_some_and(|m| {
            m.observe(e);
            m.is_stray_segment(e)
        });
        if self.filter.passes(e) || (stray && self.filter.passes_besides_conn(e)) {
            self.inner.record(e);
        }
    }

    fn failed(&self) -> bool {
        self.inner.failed()
    }
}
