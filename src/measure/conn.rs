//! Per-endpoint results of one run: what `run --connections` writes and
//! what `sweep --measure` expressions read.
//!
//! A [`Collector`] is a trace sink: it reads the records a run emits
//! (transitions, sends, timers, application events and the `rtt`
//! measurement records) and keeps a few counters per endpoint, never the
//! records themselves. [`Collector::finish`] joins them with what the
//! finished world knows (final state, close reason, the endpoint's own
//! count of fast retransmits) into one [`EndpointResult`] per endpoint.

use crate::tcp::{AppEvent, Call, CloseReason, State, Timer, TimerAction};
use crate::time::{Duration, Instant};
use crate::trace::{NO_EP, TraceEvent, TraceKind, TraceSink};
use crate::world::World;
use std::collections::BTreeMap;

/// What one endpoint did over a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointResult {
    /// Its `ep`, as in the trace.
    pub ep: u32,
    /// Its connection number at the end.
    pub conn: u32,
    /// Its name in the scenario.
    pub endpoint: String,
    /// Its state at the end of the run.
    pub state: State,
    /// Why it last reached CLOSED, if it did.
    pub reason: Option<CloseReason>,
    /// States entered, bit `State as usize` (CLOSED counts when entered
    /// by a transition).
    pub visited: u16,
    /// When its connection began: its active OPEN (entering SYN-SENT) or,
    /// opened passively, the arrival of the SYN (entering SYN-RECEIVED),
    /// so a listener's idle wait is not part of it.
    pub opened_at: Option<Instant>,
    /// Whether it took part in a connection: it sent or received a SYN
    /// (entered SYN-SENT or SYN-RECEIVED). A listener's spare clone and a
    /// restarted host's idle listener did not, and measures leave them out.
    pub took_part: bool,
    /// When its host crashed and it vanished, if it did: its times stop
    /// there.
    pub lost_at: Option<Instant>,
    /// When it last entered CLOSED.
    pub closed_at: Option<Instant>,
    /// Payload bytes it sent for the first time (retransmissions not
    /// counted again).
    pub bytes_sent: u64,
    /// Payload bytes handed to its application, in order.
    pub bytes_delivered: u64,
    /// When its peer first sent payload (the start of the transfer this
    /// endpoint receives).
    pub peer_first_data_at: Option<Instant>,
    /// When its application last received data.
    pub last_data_at: Option<Instant>,
    /// Payload bytes its peer's application handed to SEND: the transfer
    /// it receives is finished when all of them are delivered.
    pub peer_bytes_queued: u64,
    /// Segments it sent, retransmissions included.
    pub segments: u64,
    /// Of those, retransmissions (RTO, fast retransmit, go-back, probes).
    pub retransmissions: u64,
    /// Its RETRANSMIT timer expiries.
    pub rtos: u64,
    /// Segments it sent by fast retransmit or NewReno partial ACKs (the
    /// endpoint's own count).
    pub fast_retransmits: u64,
    /// SRTT after each estimator update: (min, max, sum, count).
    pub srtt: Option<(Duration, Duration, u128, u64)>,
    /// Time spent in each state, by `State as usize`, from its first
    /// transition to the end of the run or its host's crash (CLOSED's
    /// entry stays 0).
    pub time_in: [Duration; 11],
}

impl EndpointResult {
    /// Whether it entered `state` during the run.
    pub fn visited(&self, state: State) -> bool {
        self.visited & (1 << state as u16) != 0
    }

    /// Connection start → CLOSED (or → its host's crash), for an endpoint
    /// that got there after its connection began.
    pub fn duration(&self) -> Option<Duration> {
        match (self.opened_at, self.closed_at.or(self.lost_at)) {
            (Some(o), Some(c)) if o <= c => Some(c.saturating_since(o)),
            _ => None,
        }
    }

    /// The transfer it received: its peer's first payload byte sent →
    /// the last byte its application received; `None` unless every byte
    /// the peer's application sent was delivered (a transfer cut short,
    /// by a limit or a reset, has no transfer time).
    pub fn transfer(&self) -> Option<Duration> {
        match (self.peer_first_data_at, self.last_data_at) {
            (Some(a), Some(b)) if a <= b && self.bytes_delivered >= self.peer_bytes_queued => {
                Some(b.saturating_since(a))
            }
            _ => None,
        }
    }

    /// Bytes delivered times 8 over the transfer time, in bits per second
    /// (integer, rounded down).
    pub fn goodput_bps(&self) -> Option<u64> {
        let ns = self.transfer()?.as_nanos();
        (ns > 0).then(|| (u128::from(self.bytes_delivered) * 8 * 1_000_000_000 / u128::from(ns)) as u64)
    }

    /// The smallest SRTT the estimator held.
    pub fn srtt_min(&self) -> Option<Duration> {
        self.srtt.map(|s| s.0)
    }

    /// The largest SRTT the estimator held.
    pub fn srtt_max(&self) -> Option<Duration> {
        self.srtt.map(|s| s.1)
    }

    /// The mean of the SRTT values after each update, in ns (rounded down).
    pub fn srtt_mean_ns(&self) -> Option<u64> {
        self.srtt.map(|(_, _, sum, n)| (sum / u128::from(n.max(1))) as u64)
    }
}

/// What the collector keeps per endpoint while the run goes.
#[derive(Clone, Debug, Default)]
struct Running {
    state: Option<State>,
    since: Instant,
    visited: u16,
    opened_at: Option<Instant>,
    closed_at: Option<Instant>,
    lost_at: Option<Instant>,
    bytes_sent: u64,
    bytes_delivered: u64,
    first_data_at: Option<Instant>,
    last_data_at: Option<Instant>,
    bytes_queued: u64,
    segments: u64,
    retransmissions: u64,
    rtos: u64,
    srtt: Option<(Duration, Duration, u128, u64)>,
    time_in: [Duration; 11],
}

/// A trace sink that keeps per-endpoint counters (see the module doc).
#[derive(Clone, Debug, Default)]
pub struct Collector {
    eps: Vec<Running>,
}

impl Collector {
    /// An empty collector.
    pub fn new() -> Collector {
        Collector::default()
    }

    fn slot(&mut self, ep: u32) -> &mut Running {
        let i = ep as usize;
        if self.eps.len() <= i {
            self.eps.resize_with(i + 1, Running::default);
        }
        &mut self.eps[i]
    }

    /// One result per endpoint of `world` (the world this collector
    /// watched, finished), in `ep` order. Time in the last state counts
    /// up to the run's end.
    pub fn finish(mut self, world: &World) -> Vec<EndpointResult> {
        let end = world.now();
        let views: Vec<_> = world.endpoints().collect();
        // Each connection's first payload send, by connection, for the
        // peer's transfer start.
        let mut first_data: BTreeMap<u32, Vec<(u32, Instant)>> = BTreeMap::new();
        let mut queued: BTreeMap<u32, Vec<(u32, u64)>> = BTreeMap::new();
        for v in &views {
            if let Some(r) = self.eps.get(v.ep as usize) {
                if let Some(t) = r.first_data_at {
                    first_data.entry(v.conn).or_default().push((v.ep, t));
                }
                queued.entry(v.conn).or_default().push((v.ep, r.bytes_queued));
            }
        }
        views
            .iter()
            .map(|v| {
                let r = std::mem::take(self.slot(v.ep));
                let mut time_in = r.time_in;
                if let Some(s) = r.state
                    && s != State::Closed
                    && r.lost_at.is_none()
                {
                    time_in[s as usize] = time_in[s as usize] + end.saturating_since(r.since);
                }
                // A map by connection: populations have many.
                let peer_first_data_at = first_data
                    .get(&v.conn)
                    .and_then(|sends| sends.iter().filter(|(ep, _)| *ep != v.ep).map(|(_, t)| *t).min());
                let peer_bytes_queued =
                    queued.get(&v.conn).map_or(0, |q| q.iter().filter(|(ep, _)| *ep != v.ep).map(|(_, n)| *n).sum());
                EndpointResult {
                    peer_bytes_queued,
                    ep: v.ep,
                    conn: v.conn,
                    endpoint: v.name.to_string(),
                    state: v.tcp.state(),
                    reason: v.tcp.close_reason(),
                    visited: r.visited,
                    opened_at: r.opened_at,
                    took_part: r.opened_at.is_some(),
                    lost_at: r.lost_at,
                    closed_at: r.closed_at,
                    bytes_sent: r.bytes_sent,
                    bytes_delivered: r.bytes_delivered,
                    peer_first_data_at,
                    last_data_at: r.last_data_at,
                    segments: r.segments,
                    retransmissions: r.retransmissions,
                    rtos: r.rtos,
                    fast_retransmits: u64::from(v.tcp.stats().fast_retransmits),
                    srtt: r.srtt,
                    time_in,
                }
            })
            .collect()
    }
}

impl TraceSink for Collector {
    fn record(&mut self, e: &TraceEvent<'_>) {
        let t = e.t;
        if let TraceKind::Host { up: false, .. } = e.kind {
            // The crash destroys the TCBs where they stand (RFC 9293
            // §3.5.2): their clocks stop now.
            for &ep in e.lost_eps {
                let r = self.slot(ep);
                if let Some(s) = r.state
                    && s != State::Closed
                    && r.lost_at.is_none()
                {
                    r.time_in[s as usize] = r.time_in[s as usize] + t.saturating_since(r.since);
                }
                r.lost_at.get_or_insert(t);
            }
            return;
        }
        if e.ep == NO_EP {
            return;
        }
        let r = self.slot(e.ep);
        match e.kind {
            TraceKind::Transition { from, to, .. } => {
                if r.state.is_some() && from != State::Closed {
                    r.time_in[from as usize] = r.time_in[from as usize] + t.saturating_since(r.since);
                }
                // The connection begins with the first SYN sent or received.
                if matches!(to, State::SynSent | State::SynReceived) && r.opened_at.is_none() {
                    r.opened_at = Some(t);
                }
                if to == State::Closed {
                    r.closed_at = Some(t);
                }
                r.state = Some(to);
                r.since = t;
                r.visited |= 1 << to as u16;
            }
            TraceKind::Send { seg, injected: false } => {
                r.segments += 1;
                if seg.retransmit {
                    r.retransmissions += 1;
                } else if seg.len > 0 {
                    r.bytes_sent += u64::from(seg.len);
                    r.first_data_at.get_or_insert(t);
                }
            }
            TraceKind::Timer { timer: Timer::Retransmit, action: TimerAction::Fire, .. } => r.rtos += 1,
            TraceKind::App { call: Call::Send, bytes, error: None } => r.bytes_queued += bytes,
            TraceKind::Event(AppEvent::Data { bytes, .. }) => {
                r.bytes_delivered += u64::from(bytes);
                r.last_data_at = Some(t);
            }
            TraceKind::Rtt { srtt, .. } => {
                r.srtt = Some(match r.srtt {
                    None => (srtt, srtt, u128::from(srtt.as_nanos()), 1),
                    Some((lo, hi, sum, n)) => (lo.min(srtt), hi.max(srtt), sum + u128::from(srtt.as_nanos()), n + 1),
                });
            }
            _ => {}
        }
    }
}
