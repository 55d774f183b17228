//! What a run is watched for, apart from what it does: the digest, the
//! counters, behaviour coverage, per-endpoint logs, phase times and the
//! link's recorded decisions. The caller says what to keep ([`Observe`]);
//! nothing here is read to decide what the simulation does next (the
//! run's limits count events and trace records apart, in the world).
//!
//! Every endpoint has a small [`EndpointLog`] (the states it visited); its
//! full history (every state with its time, every send) is kept only for
//! the endpoints the caller names, and phase times only when asked for
//! (sweeps do).

use crate::link::{DropReason, Fate};
use crate::model::{EndpointExpect, Expect, Fault, Model};
use crate::rule::{self, Rule};
use crate::tcp::{Flags, State};
use crate::time::Instant;
use crate::trace::{Digest, TraceEvent, TraceKind, TraceSink};

/// Which endpoints keep their full history (states with times, sends).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Histories {
    /// None: each endpoint keeps only the set of states it visited.
    #[default]
    None,
    /// Every endpoint.
    All,
    /// The endpoints with these `(connection, name)`, as an `expect`
    /// entry selects one. An endpoint a listener spawned learns its
    /// connection only when it accepts one, and may fall back to listening
    /// and accept another: it keeps its history from its creation if its
    /// name is here, and drops it on reaching ESTABLISHED (when its
    /// connection is settled) unless its `(connection, name)` is.
    Named(Vec<(u32, String)>),
}

/// What the caller wants kept while a world runs. None of it changes the
/// run: the trace and digest are the same whatever is asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observe {
    /// Which endpoints keep their full history ([`EndpointLog::path`],
    /// [`EndpointLog::sent`]).
    pub keep_histories: Histories,
    /// Keep when each endpoint's phases began ([`PhaseTimes`]).
    pub keep_phase_times: bool,
    /// Keep every decision the links draw at random
    /// ([`crate::world::World::recorded_fates`]).
    pub record_fates: bool,
    /// Add the measurement records (`rtt` of every endpoint, `flight`,
    /// `queue`, `flight` on `congestion`) to the trace; never to the
    /// digest.
    pub measure_records: bool,
}

impl Histories {
    /// The endpoints whose histories an `expect` block's checks read:
    /// those of its entries with a `path`, `time_in` or `sent` check (the
    /// others read the state, counters and states visited, kept for
    /// every endpoint), by connection and name.
    pub fn checked_by(expect: &Expect) -> Histories {
        let reads_history = |x: &&EndpointExpect| x.path.is_some() || !x.time_in.is_empty() || !x.sent.is_empty();
        let mut keys: Vec<(u32, String)> = Vec::new();
        for x in expect.endpoints.iter().filter(reads_history) {
            if !keys.iter().any(|(conn, name)| *conn == x.conn && *name == x.name) {
                keys.push((x.conn, x.name.clone()));
            }
        }
        if keys.is_empty() { Histories::None } else { Histories::Named(keys) }
    }

    /// The union: the endpoints of these histories and of `other`'s.
    pub fn union(self, other: Histories) -> Histories {
        match (self, other) {
            (Histories::All, _) | (_, Histories::All) => Histories::All,
            (Histories::None, h) | (h, Histories::None) => h,
            (Histories::Named(mut a), Histories::Named(b)) => {
                a.extend(b.into_iter().filter(|n| !a.contains(n)).collect::<Vec<_>>());
                Histories::Named(a)
            }
        }
    }
}

impl Observe {
    /// What checking `model`'s `expect` block reads: the histories of the
    /// endpoints it names, and nothing else. A caller that reads more
    /// (path summaries, explore's outcomes) asks for more.
    pub fn for_checks(model: &Model) -> Observe {
        let histories = model.expect.as_ref().map_or(Histories::None, Histories::checked_by);
        Observe { keep_histories: histories, ..Observe::default() }
    }
}

/// Counters over the whole run, for reporting (the run's limits keep their
/// own counts, in the world).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Executed scheduler actions (arrivals, timer firings, calls).
    pub events: u64,
    /// State transitions of all endpoints.
    pub transitions: u64,
    /// Segments sent, by endpoints and hosts, injected ones included.
    pub segments_sent: u64,
    /// Of those, retransmissions.
    pub retransmissions: u64,
    /// Segments delivered to an endpoint.
    pub deliveries: u64,
    /// Drops by reason, in `DropReason` order.
    pub drops: [u64; 9],
    /// Transitions by `[from][to]` state (in `State` order).
    pub transitions_by: [[u64; 11]; 11],
    /// Trace records emitted.
    pub trace_records: u64,
}

impl RunStats {
    /// Segments dropped, whatever the reason.
    pub fn total_drops(&self) -> u64 {
        self.drops.iter().sum()
    }
}

/// One random decision of a link, as a run that records them
/// ([`crate::simulation::Simulation::record_fates`]) keeps it:
/// the `nth` segment `from` sent on connection `conn` met `fate`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedFate {
    /// The sending endpoint's name.
    pub from: String,
    /// The connection number.
    pub conn: u32,
    /// Which of `from`'s segments on `conn` (1-based).
    pub nth: u32,
    /// What the link did to it.
    pub fate: Fate,
}

impl RecordedFate {
    /// The `Fate` fault that replays this decision.
    pub fn to_fault(&self) -> Fault {
        Fault::Fate { from: self.from.clone(), conn: self.conn, nth: self.nth, fate: self.fate }
    }
}

/// Which endpoints keep their history: `(connection, interned name)`.
enum HistoryNames {
    None,
    All,
    Named(Vec<(u32, u32)>),
}

impl HistoryNames {
    /// Whether the endpoint named `name_id` keeps its history, serving
    /// `conn`, or, if `None`, any connection it may still come to serve.
    fn keep(&self, conn: Option<u32>, name_id: u32) -> bool {
        match self {
            HistoryNames::None => false,
            HistoryNames::All => true,
            HistoryNames::Named(keys) => keys.iter().any(|&(c, n)| n == name_id && conn.is_none_or(|conn| conn == c)),
        }
    }
}

/// Everything watched during a run, indexed by endpoint where it is per
/// endpoint. Fed by the world; never read by it to decide anything.
pub(super) struct Observer {
    pub digest: Digest,
    pub stats: RunStats,
    /// Inputs handled per behaviour ID ([`Rule::index`]).
    pub coverage: Vec<u64>,
    logs: Vec<EndpointLog>,
    history_names: HistoryNames,
    phase_times: Option<Vec<PhaseTimes>>,
    recorded: Option<Vec<RecordedFate>>,
    /// With measurement records: each endpoint's last traced (flight,
    /// SND.WND, receive window), so `flight` records go out on change.
    last_flight: Option<Vec<[u32; 3]>>,
    /// This step's sink takes records ([`TraceSink::wants_records`]).
    sink_wants: bool,
}

impl Observer {
    /// `name_id` interns an endpoint name (names no endpoint has are
    /// simply never matched).
    pub fn new(observe: &Observe, endpoints: usize, mut name_id: impl FnMut(&str) -> Option<u32>) -> Observer {
        let history_names = match &observe.keep_histories {
            Histories::None => HistoryNames::None,
            Histories::All => HistoryNames::All,
            Histories::Named(keys) => {
                HistoryNames::Named(keys.iter().filter_map(|(conn, n)| Some((*conn, name_id(n)?))).collect())
            }
        };
        Observer {
            digest: Digest::new(),
            stats: RunStats::default(),
            coverage: vec![0; rule::COUNT],
            logs: Vec::with_capacity(endpoints),
            history_names,
            phase_times: observe.keep_phase_times.then(|| Vec::with_capacity(endpoints)),
            recorded: observe.record_fates.then(Vec::new),
            last_flight: observe.measure_records.then(|| Vec::with_capacity(endpoints)),
            sink_wants: true,
        }
    }

    /// A scheduler action was executed.
    pub fn on_event(&mut self) {
        self.stats.events += 1;
    }

    /// One trace event: into the digest, counted, and to the sink if it
    /// takes records ([`Observer::set_sink_wants`]).
    pub fn emit(&mut self, sink: &mut dyn TraceSink, ev: &TraceEvent<'_>) {
        self.digest.add_event_interned(ev);
        self.stats.trace_records += 1;
        if self.sink_wants {
            sink.record(ev);
        }
    }

    /// One trace event given by its parts (no route, `pkt` or lost
    /// endpoints: an endpoint's note or call): into the digest and counted
    /// as [`Observer::emit`] does, and built into a [`TraceEvent`] only if
    /// the sink takes records.
    pub fn emit_parts(
        &mut self,
        sink: &mut dyn TraceSink,
        t: Instant,
        conn: u32,
        ep: u32,
        endpoint: &str,
        kind: TraceKind,
    ) {
        self.digest.add_interned(t, conn, ep, endpoint, &kind, None);
        self.stats.trace_records += 1;
        if self.sink_wants {
            sink.record(&TraceEvent { t, conn, ep, endpoint, kind, route: None, pkt: None, lost_eps: &[] });
        }
    }

    /// Notes, at the start of a step, whether this step's sink takes
    /// records at all ([`TraceSink::wants_records`]): a `--quiet` run's
    /// takes none, and one call per step replaces one per record.
    pub fn set_sink_wants(&mut self, wants: bool) {
        self.sink_wants = wants;
    }

    /// Whether measurement records are traced.
    pub fn measures(&self) -> bool {
        self.last_flight.is_some()
    }

    /// A measurement record: to the sink only, never to the digest nor
    /// the counts (so asking for them changes no result).
    pub fn emit_measurement(&mut self, sink: &mut dyn TraceSink, ev: &TraceEvent<'_>) {
        if self.sink_wants {
            sink.record(ev);
        }
    }

    /// Notes `ep`'s (flight, SND.WND, receive window); whether it changed
    /// since last noted (always `false` without measurement records).
    /// The bytes in flight a `congestion` record just reported for `ep`,
    /// so the step's `flight` record is compared with it.
    pub fn set_last_flight(&mut self, ep: u32, flight: u32) {
        if let Some(last) = &mut self.last_flight {
            last[ep as usize][0] = flight;
        }
    }

    pub fn flight_changed(&mut self, ep: u32, now: [u32; 3]) -> bool {
        let Some(last) = &mut self.last_flight else { return false };
        let slot = &mut last[ep as usize];
        let changed = *slot != now;
        *slot = now;
        changed
    }

    /// A new endpoint, number `logs.len()`, named `name_id`, serving
    /// `conn` (`None`: a listener's, which has no connection yet; see
    /// [`Histories::Named`]).
    pub fn add_endpoint(&mut self, conn: Option<u32>, name_id: u32, created: Instant) {
        let history = self.history_names.keep(conn, name_id);
        self.logs.push(EndpointLog::new(history, created));
        if let Some(times) = &mut self.phase_times {
            times.push(PhaseTimes::default());
        }
        if let Some(last) = &mut self.last_flight {
            last.push([0, 0, 0]);
        }
    }

    /// A listener's endpoint `ep`, named `name_id`, reached ESTABLISHED:
    /// it serves `conn` for good (no synchronized state leads back to
    /// LISTEN), so its history is dropped unless `(conn, name)` is kept.
    pub fn on_connection_settled(&mut self, ep: u32, conn: u32, name_id: u32) {
        if !self.history_names.keep(Some(conn), name_id) {
            self.logs[ep as usize].history = None;
        }
    }

    /// Asks for the memory of `ep`'s log ahead of its next step.
    pub fn prefetch(&self, ep: u32) {
        if let Some(log) = self.logs.get(ep as usize) {
            crate::prefetch::line(log);
        }
    }

    pub fn log(&self, ep: u32) -> &EndpointLog {
        &self.logs[ep as usize]
    }

    pub fn log_mut(&mut self, ep: u32) -> &mut EndpointLog {
        &mut self.logs[ep as usize]
    }

    pub fn phase_times(&self, ep: u32) -> Option<&PhaseTimes> {
        self.phase_times.as_ref().map(|t| &t[ep as usize])
    }

    pub fn cover(&mut self, rule: Rule) {
        self.coverage[rule.index()] += 1;
    }

    #[inline(always)]
    pub fn on_transition(&mut self, ep: u32, from: State, to: State, at: Instant) {
        self.stats.transitions += 1;
        self.stats.transitions_by[from as usize][to as usize] += 1;
        self.logs[ep as usize].on_transition(to, at);
        if let Some(times) = &mut self.phase_times {
            times[ep as usize].on_transition(to, at);
        }
    }

    pub fn on_data(&mut self, ep: u32, at: Instant) {
        if let Some(times) = &mut self.phase_times {
            times[ep as usize].last_data_at = at;
        }
    }

    /// A segment left (an endpoint's, an injected one or a host's reply).
    pub fn on_send(&mut self, retransmit: bool) {
        self.stats.segments_sent += 1;
        if retransmit {
            self.stats.retransmissions += 1;
        }
    }

    /// A segment was lost; `ep` sent it, unless a host did.
    pub fn on_drop(&mut self, ep: Option<u32>, reason: DropReason) {
        self.stats.drops[reason as usize] += 1;
        if let Some(ep) = ep {
            let log = &mut self.logs[ep as usize];
            log.drops = log.drops.saturating_add(1);
        }
    }

    /// Whether the links' decisions are kept.
    pub fn records_fates(&self) -> bool {
        self.recorded.is_some()
    }

    /// Keeps a link decision, if decisions are kept; `from` names the
    /// sender, asked for only then.
    pub fn record_fate(&mut self, from: impl FnOnce() -> String, conn: u32, nth: u32, fate: Fate) {
        if let Some(recorded) = &mut self.recorded {
            recorded.push(RecordedFate { from: from(), conn, nth, fate });
        }
    }

    pub fn recorded_fates(&self) -> &[RecordedFate] {
        self.recorded.as_deref().unwrap_or(&[])
    }
}

/// The full history of an endpoint someone asked about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// `(state, entered at)`, from CLOSED at creation.
    pub path: Vec<(State, Instant)>,
    /// `(flags, sent at, retransmission)` of every segment.
    pub sent: Vec<(Flags, Instant, bool)>,
}

/// Kept for every endpoint, so it stays small: the history lives in a box
/// only for the endpoints that need it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointLog {
    /// Bit `s` set when state `s` was entered (CLOSED always counts).
    pub visited: u16,
    /// Its application called CLOSE (or its listener was closed) and has
    /// not opened it again since. Noted by the world's step as the
    /// application calls, in this log apart from the endpoint's own flags,
    /// so a CLOSE the endpoint forgot still shows (see `world::open`).
    pub app_closed: bool,
    /// Segments this endpoint sent that were lost.
    pub drops: u32,
    history: Option<Box<History>>,
}

/// When an endpoint's phases began: kept only when asked for
/// ([`crate::simulation::Simulation::keep_phase_times`]), as 40 bytes per endpoint
/// are a tenth of a big population's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhaseTimes {
    /// When it first left CLOSED (open or listen); `Instant::MAX` if never.
    pub opened_at: Instant,
    /// When it first reached ESTABLISHED; `Instant::MAX` if never.
    pub established_at: Instant,
    /// When its close began: the first entry to FIN_WAIT_1 or CLOSE_WAIT.
    pub closing_at: Instant,
    /// When it last entered CLOSED; `Instant::MAX` if it did not.
    pub closed_at: Instant,
    /// When the application last received data; `Instant::MAX` if never.
    pub last_data_at: Instant,
}

impl Default for PhaseTimes {
    fn default() -> PhaseTimes {
        PhaseTimes {
            opened_at: Instant::MAX,
            established_at: Instant::MAX,
            closing_at: Instant::MAX,
            closed_at: Instant::MAX,
            last_data_at: Instant::MAX,
        }
    }
}

impl PhaseTimes {
    /// Notes that the endpoint entered `to` at `at`.
    pub fn on_transition(&mut self, to: State, at: Instant) {
        match to {
            State::Closed => self.closed_at = at,
            State::Established if self.established_at == Instant::MAX => self.established_at = at,
            State::FinWait1 | State::CloseWait if self.closing_at == Instant::MAX => self.closing_at = at,
            _ => {}
        }
        if self.opened_at == Instant::MAX && to != State::Closed {
            self.opened_at = at;
        }
    }
}

impl EndpointLog {
    /// A log for an endpoint created at `created`; `history`: keep its
    /// full state path and sends.
    pub fn new(history: bool, created: Instant) -> EndpointLog {
        EndpointLog {
            visited: State::Closed.bit(),
            app_closed: false,
            drops: 0,
            history: history.then(|| Box::new(History { path: vec![(State::Closed, created)], sent: Vec::new() })),
        }
    }

    /// Whether its full history (state path and sends) is kept.
    pub fn keeps_history(&self) -> bool {
        self.history.is_some()
    }

    /// Whether the endpoint ever reached ESTABLISHED.
    pub fn established(&self) -> bool {
        self.visited(State::Established)
    }

    /// `(flags, sent at, retransmission)` of every segment (empty unless
    /// its history is kept).
    pub fn sent(&self) -> &[(Flags, Instant, bool)] {
        self.history.as_ref().map_or(&[], |d| &d.sent)
    }

    /// `(state, entered at)` (empty unless its history is kept).
    pub fn path(&self) -> &[(State, Instant)] {
        self.history.as_ref().map_or(&[], |d| &d.path)
    }

    /// Notes that the endpoint entered `to` at `at`.
    pub fn on_transition(&mut self, to: State, at: Instant) {
        self.visited |= to.bit();
        if let Some(d) = &mut self.history {
            d.path.push((to, at));
        }
    }

    /// Notes that the endpoint sent a segment with `flags` at `at`, a
    /// retransmission or not.
    pub fn on_send(&mut self, flags: Flags, at: Instant, retransmit: bool) {
        if let Some(d) = &mut self.history {
            d.sent.push((flags, at, retransmit));
        }
    }

    /// Whether the endpoint ever entered `s`.
    pub fn visited(&self, s: State) -> bool {
        self.visited & s.bit() != 0
    }

    /// States in order of entry.
    pub fn states(&self) -> Vec<State> {
        self.path().iter().map(|(s, _)| *s).collect()
    }

    /// Total time spent in `state`, counting a visit still open at `end`.
    pub fn time_in(&self, state: State, end: Instant) -> crate::time::Duration {
        let mut total = crate::time::Duration::ZERO;
        for (i, (s, at)) in self.path().iter().enumerate() {
            if *s == state {
                let left = self.path().get(i + 1).map_or(end, |(_, t)| *t);
                total = total + left.saturating_since(*at);
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(names: &[&str]) -> Histories {
        Histories::Named(names.iter().map(|n| (0, n.to_string())).collect())
    }

    /// Asking for more histories never gives fewer: `All` wins, `None`
    /// adds nothing, and names are joined without repeats, in order.
    #[test]
    fn histories_union() {
        assert_eq!(Histories::All.union(named(&["a"])), Histories::All);
        assert_eq!(named(&["a"]).union(Histories::All), Histories::All);
        assert_eq!(Histories::None.union(named(&["a"])), named(&["a"]));
        assert_eq!(named(&["a"]).union(Histories::None), named(&["a"]));
        assert_eq!(Histories::None.union(Histories::None), Histories::None);
        assert_eq!(named(&["a", "b"]).union(named(&["b", "c"])), named(&["a", "b", "c"]));
        let other_conn = Histories::Named(vec![(1, "a".to_string())]);
        let both = Histories::Named(vec![(0, "a".to_string()), (1, "a".to_string())]);
        assert_eq!(named(&["a"]).union(other_conn), both);
    }

    /// An `expect` block names the histories of the entries whose checks
    /// read one (`path`, `time_in`, `sent`), by connection and name, each
    /// once; checks of states visited and counters name none.
    #[test]
    fn the_checks_name_the_histories_they_read() {
        use crate::model::{CountRange, EndpointExpect};
        let entry = |name: &str, conn: u32| EndpointExpect { name: name.into(), conn, ..EndpointExpect::default() };
        let counts = Expect {
            endpoints: vec![
                EndpointExpect { visits: vec![State::Established], ..entry("a", 0) },
                EndpointExpect { bytes_delivered: Some(CountRange { min: 1, max: 1 }), ..entry("b", 0) },
                EndpointExpect { final_state: Some(State::Closed), ..entry("a", 1) },
            ],
            ..Expect::default()
        };
        assert_eq!(Histories::checked_by(&counts), Histories::None);
        let reads = Expect {
            endpoints: vec![
                EndpointExpect { path: Some(vec![State::Closed]), ..entry("a", 2) },
                EndpointExpect { visits: vec![State::Established], ..entry("b", 0) },
                EndpointExpect { time_in: vec![(State::Listen, crate::time::Duration::ZERO)], ..entry("b", 1) },
                EndpointExpect { sent: vec![(Flags::default(), None, vec![])], ..entry("a", 2) },
            ],
            ..Expect::default()
        };
        let keys = vec![(2, "a".to_string()), (1, "b".to_string())];
        assert_eq!(Histories::checked_by(&reads), Histories::Named(keys));
    }
}
