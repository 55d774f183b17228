//! The world: hosts, links, listeners and endpoints driven by the
//! scheduler. This is the only place where time, randomness and TCP meet.
//!
//! One scheduler event is one *step* at one endpoint (or host): a segment
//! arrives, a timer fires, or the application calls. The world feeds the
//! endpoint, lets the application react synchronously to the events it
//! raises, asks the endpoint to dispatch, and routes every emitted segment
//! through the scripted faults and the link model. Trace events go to the
//! caller's sink and into the digest in exactly the order they happen.
//!
//! Submodules: `step` (one step at an endpoint: calls, reactions, notes),
//! `network` (`Network`: routes, link directions and queues, the packet
//! slab), `net` (the send path's stages, arrivals), `demux`
//! (4-tuples, listeners, ephemeral ports), `observer`
//! (what the caller asked to keep: digest, counters, coverage, endpoint
//! logs, phase times, recorded fates), `open` (why endpoints are left open
//! when a run completes), `hash` (the lookup tables' hasher).
//!
//! Demultiplexing is one hash lookup by 4-tuple, usually skipped: a segment
//! carries a hint naming the endpoint that last talked to its sender, and
//! the hint is used only if that endpoint still owns the 4-tuple. A
//! listening endpoint takes a SYN itself and, until the listener has
//! accepted `backlog` connections, a fresh listening endpoint takes its
//! place.

mod demux;
mod hash;
mod net;
mod network;
mod observer;
mod open;
mod step;

pub(crate) use observer::Observe;
pub use observer::{EndpointLog, Histories, PhaseTimes, RecordedFate, RunStats};
pub use open::{EndFacts, OpenEndpoint, OpenReason, OpenReport, classify};

use crate::link::FlowState;
use crate::model::{App, Fault, HostId, Model};
use crate::rng::{Key, component};
use crate::scheduler::{Scheduler, Token};
use crate::tcp::{Endpoint, Output, Segment, SeqNum, TcpConfig};
use crate::time::{Duration, Instant};
use crate::trace::{TraceEvent, TraceSink};
use demux::Demux;
use hash::{FastBuild, FastMap};
use network::Network;
use observer::Observer;
use std::sync::atomic::{AtomicBool, Ordering};

/// Distinguishes ISS and link-draw identities of listener-spawned
/// endpoints and hosts from those of connections.
const LISTENER_FLOW_BASE: u64 = 1 << 62;
const HOST_FLOW_BASE: u64 = 3 << 62;
/// "No endpoint" in `u32` endpoint fields.
const NO_EP: u32 = u32::MAX;
/// Endpoints from which the next event's memory is prefetched: below it
/// the endpoints (about 1.3 MB at this count) stay in cache, and the hint
/// would only add instructions.
const PREFETCH_FROM_ENDPOINTS: usize = 4096;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// No events left.
    Completed,
    /// `max_events` reached.
    EventLimit,
    /// The next event lay beyond `max_time`.
    TimeLimit,
    /// The trace sink failed to write.
    OutputFailed,
    /// The caller's stop flag was raised.
    Interrupted,
    /// More segments were in flight than `max_in_flight`.
    InFlightLimit,
    /// The trace passed `max_trace_records`.
    TraceLimit,
}

impl Outcome {
    /// The outcome's name as reports print it (`completed`, `event_limit`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::EventLimit => "event_limit",
            Outcome::TimeLimit => "time_limit",
            Outcome::OutputFailed => "output_failed",
            Outcome::Interrupted => "interrupted",
            Outcome::InFlightLimit => "in_flight_limit",
            Outcome::TraceLimit => "trace_limit",
        }
    }
}

/// Which application script an endpoint runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AppRef {
    Client(u32),
    Peer(u32),
    Listener(u32),
}

/// The stream id of the link draws and ISS of an endpoint running `app`,
/// numbered `index` among its kind's: a connection's two endpoints share
/// its number, told apart by the low bit; a listener's endpoints count
/// from `LISTENER_FLOW_BASE` in the listener's own range.
fn flow_id(app: AppRef, index: u32) -> u64 {
    match app {
        AppRef::Client(_) => u64::from(index) << 2,
        AppRef::Peer(_) => u64::from(index) << 2 | 1,
        AppRef::Listener(l) => LISTENER_FLOW_BASE | (u64::from(l) << 32) | u64::from(index),
    }
}

impl AppRef {
    /// The kind in the top two bits, the index (of a connection spec or a
    /// listener) below. Validation caps connection specs far below 2^30
    /// (`MAX_CONNECTIONS`); 2^30 listener entries would not fit in memory.
    fn pack(self) -> u32 {
        let (kind, index) = match self {
            AppRef::Client(i) => (0, i),
            AppRef::Peer(i) => (1, i),
            AppRef::Listener(i) => (2, i),
        };
        assert!(index < 1 << 30, "model index {index} beyond 2^30");
        kind << 30 | index
    }

    fn unpack(packed: u32) -> AppRef {
        let index = packed & ((1 << 30) - 1);
        match packed >> 30 {
            0 => AppRef::Client(index),
            1 => AppRef::Peer(index),
            _ => AppRef::Listener(index),
        }
    }
}

/// One endpoint and what the world keeps beside it.
struct EndpointSlot {
    tcp: Endpoint,
    flow: FlowState,
    /// Numbers its flow among its kind's ([`EndpointSlot::flow_id`]): the
    /// connection for a connection's endpoints, the spawn count for a
    /// listener's.
    flow_index: u32,
    /// The deadline a Wake event is scheduled for, or MAX.
    wake: Instant,
    /// Script times count from here.
    script_base: Instant,
    /// The peer's address and port ([`EndpointSlot::remote`]); port 0
    /// until known. Two fields, not a tuple, which would pad to 8 bytes.
    remote_addr: u32,
    remote_port: u16,
    host: HostId,
    /// Its name, interned (`World::names`).
    name_id: u32,
    conn: u32,
    /// Its [`AppRef`], packed ([`AppRef::pack`]): 4 bytes, not 8.
    app: u32,
    script_pos: u32,
    /// A hint: the endpoint that last sent to this one, or NO_EP.
    peer: u32,
    local_port: u16,
    config: u16,
    /// `BOUND` and `LOST`, in one byte (the record is 64 bytes beside
    /// the TCB with one, 72 with two bools).
    flags: u8,
}

/// It owns the demultiplexing entry of its 4-tuple.
const BOUND: u8 = 1 << 0;
/// Its host crashed: the TCB is gone and it never acts again.
const LOST: u8 = 1 << 1;

impl EndpointSlot {
    fn has_remote(&self) -> bool {
        self.remote_port != 0
    }

    /// The peer's address and port; port 0 until known.
    fn remote(&self) -> (u32, u16) {
        (self.remote_addr, self.remote_port)
    }

    /// Which application script it runs.
    fn app(&self) -> AppRef {
        AppRef::unpack(self.app)
    }

    /// The stream id of its link draws and ISS.
    fn flow_id(&self) -> u64 {
        flow_id(self.app(), self.flow_index)
    }

    /// It owns the demultiplexing entry of its 4-tuple.
    fn bound(&self) -> bool {
        self.flags & BOUND != 0
    }

    fn set_bound(&mut self, bound: bool) {
        self.flags = if bound { self.flags | BOUND } else { self.flags & !BOUND };
    }

    /// Its host crashed: the TCB is gone and it never acts again.
    fn lost(&self) -> bool {
        self.flags & LOST != 0
    }

    /// Sets its local port and peer. The 4-tuple table finds a bound
    /// endpoint by the 4-tuple it reads from it (`demux`), so a bound
    /// endpoint's 4-tuple never changes: it is unbound first. Checked in
    /// every build (once a connect or an accept): a table filed under a
    /// stale key would misroute segments without a sign.
    fn set_tuple(&mut self, local_port: u16, remote: (u32, u16)) {
        assert!(
            !self.bound() || (self.local_port, self.remote()) == (local_port, remote),
            "the 4-tuple of a bound endpoint changed"
        );
        self.local_port = local_port;
        (self.remote_addr, self.remote_port) = remote;
    }

    /// The listener that spawned it, if one did.
    fn listener(&self) -> Option<u32> {
        match self.app() {
            AppRef::Listener(l) => Some(l),
            AppRef::Client(_) | AppRef::Peer(_) => None,
        }
    }
}

#[derive(Clone, Copy)]
struct Packet {
    seg: Segment,
    src: (u32, u16),
    dst: (u32, u16),
    conn: u32,
    /// The sending endpoint, or NO_EP for a host's reply.
    sender: u32,
    /// The sender's name id (an endpoint or a host).
    sender_name_id: u32,
    sender_host: HostId,
    dst_host: HostId,
    /// Probably the receiving endpoint; verified before use.
    dst_hint: u32,
    corrupt: bool,
    /// Which copy of the transmission this is (0: the original).
    copy: u8,
    /// The transmission's number in the run (`pkt` in the trace).
    pkt: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    Arrive(u32),
    Wake(u32),
    Script(u32),
    ListenerOpen(u32),
    ListenerClose(u32),
    Inject(u32),
    Crash(u32),
    Restart(u32),
}

/// Events are stored as 32-bit tokens: the variant in the top 3 bits, the
/// index (packet slot, endpoint, listener, fault) below. Endpoints are
/// bounded by the connection limit, packet slots by `MAX_PACKET_SLOTS`.
const INDEX_BITS: u32 = 29;
const MAX_INDEX: u32 = (1 << INDEX_BITS) - 1;
/// Packets in flight at most, whatever `max_in_flight` says: a slot index
/// must fit in an event token, with room for what one step may still send
/// after the check (a window's worth of one-byte segments).
const MAX_PACKET_SLOTS: u64 = (MAX_INDEX - (1 << 20)) as u64;

impl Token for Event {
    fn to_bits(self) -> u32 {
        let (tag, index) = match self {
            Event::Arrive(i) => (0, i),
            Event::Wake(i) => (1, i),
            Event::Script(i) => (2, i),
            Event::ListenerOpen(i) => (3, i),
            Event::ListenerClose(i) => (4, i),
            Event::Inject(i) => (5, i),
            Event::Crash(i) => (6, i),
            Event::Restart(i) => (7, i),
        };
        assert!(index <= MAX_INDEX, "event index out of range");
        (tag << INDEX_BITS) | index
    }

    fn from_bits(bits: u32) -> Event {
        let index = bits & MAX_INDEX;
        match bits >> INDEX_BITS {
            0 => Event::Arrive(index),
            1 => Event::Wake(index),
            2 => Event::Script(index),
            3 => Event::ListenerOpen(index),
            4 => Event::ListenerClose(index),
            5 => Event::Inject(index),
            6 => Event::Crash(index),
            _ => Event::Restart(index),
        }
    }
}

/// A read-only view of one endpoint.
pub struct EndpointView<'a> {
    /// Its `ep`: fixed for its life, as in the trace.
    pub ep: u32,
    /// Its name in the model.
    pub name: &'a str,
    /// Its connection number.
    pub conn: u32,
    /// Its host's name.
    pub host: &'a str,
    /// Its local port.
    pub local_port: u16,
    /// Its TCP endpoint (the TCB: state, sequence variables, counters).
    pub tcp: &'a Endpoint,
    /// What the observer logged of it: states visited, drops, history if kept.
    pub log: &'a EndpointLog,
    /// Its host crashed; its state is where it stood then.
    pub lost: bool,
    /// When its phases began, if the simulation kept them
    /// ([`crate::simulation::Simulation::keep_phase_times`]).
    pub times: Option<&'a PhaseTimes>,
    /// Its TCP configuration.
    pub config: &'a TcpConfig,
}

/// A running simulation: the endpoints, the network, the demultiplexer,
/// the observer and the scripts, driven by one scheduler (see the module
/// docs).
pub struct World {
    model: Model,
    sched: Scheduler<Event>,
    /// The time of the last executed event (stale wake-ups do not count).
    last_event: Instant,
    eps: Vec<EndpointSlot>,
    /// Endpoints from which the next event's memory is prefetched.
    prefetch_from: usize,
    /// Endpoint and host names; endpoints and packets refer to them by id.
    names: Vec<String>,
    host_name: Vec<u32>,
    demux: Demux,
    network: Network,
    host_up: Vec<bool>,
    fault_hits: Vec<u32>,
    /// Name ids of segment-fault `from` filters (NO_EP if the name never
    /// sends).
    fault_from: Vec<Option<u32>>,
    has_segment_faults: bool,
    has_partitions: bool,
    /// `Fate` faults by (sender name id, connection, nth send): fault index.
    fates: FastMap<(u32, u32, u32), u32>,
    out: Output,
    observer: Observer,
    /// What the limits count; control state, apart from the observer.
    counts: LimitCounts,
    iss_key: Key,
    /// During a step caused by a segment: where an unbound endpoint's
    /// reply goes (source, connection, sending endpoint).
    reply_to: Option<((u32, u16), u32, u32)>,
    /// A listener's endpoint that fell back to LISTEN after its listener
    /// was closed: its application's CLOSE is applied once the step ends.
    close_after_step: Option<u32>,
    /// Injected segments sent so far (`Inject` faults that found their
    /// endpoint): they can forge what no peer sent, so an open endpoint
    /// is then not called stuck (see `open`).
    injected_segments: u64,
    outcome: Option<Outcome>,
    /// Memory held only to move other allocations (determinism check).
    #[allow(dead_code)]
    ballast: Vec<u8>,
}

/// What the run's limits are written against, counted by the world: a run
/// stops on these, never on what the observer keeps (its [`RunStats`]
/// count the same things again, for reporting).
#[derive(Default)]
struct LimitCounts {
    /// Executed scheduler actions (`max_events`).
    events: u64,
    /// Trace records emitted (`max_trace_records`).
    trace_records: u64,
}

/// Emits one trace event: to the observer (digest, its counters, the
/// sink) and counted against `max_trace_records`. It takes the two fields
/// rather than the world, as the event borrows the world's names.
fn emit(observer: &mut Observer, counts: &mut LimitCounts, sink: &mut dyn TraceSink, ev: &TraceEvent<'_>) {
    counts.trace_records += 1;
    observer.emit(sink, ev);
}

/// Changes that must not change any result, for the determinism check:
/// another seed for the lookup tables' hasher, packet slots handed out in
/// another order, other heap addresses for everything allocated, and
/// prefetching however small the world.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Perturbation {
    /// The seed of the lookup tables' hasher.
    pub hash_seed: u64,
    /// Packet slots pre-made and reused from the top down.
    pub spare_packet_slots: u32,
    /// Bytes allocated (and kept) before the world is built.
    pub ballast_bytes: usize,
    /// Prefetch the next event's memory from the first endpoint on, not
    /// only in big worlds.
    pub prefetch_always: bool,
}

impl World {
    /// Builds the world at time zero: endpoints for every connection,
    /// first script actions and listener openings scheduled. `observe`
    /// says what to keep beside the trace (see [`Observe`]; what checks
    /// read is [`Observe::for_checks`]); `p`, internal changes that must
    /// not change the trace ([`Perturbation::default`]: none).
    ///
    /// Crate-private: a world is built by
    /// [`crate::simulation::Simulation`] (its `run`, or `into_world` for a
    /// caller that steps it), which chooses what to observe in one place.
    pub(crate) fn new(model: Model, observe: &Observe, p: Perturbation) -> World {
        let ballast = vec![0x5au8; p.ballast_bytes];
        let mut world = World::build(model, observe, FastBuild { seed: p.hash_seed });
        let spare = Packet {
            seg: Segment::default(),
            src: (0, 0),
            dst: (0, 0),
            conn: 0,
            sender: NO_EP,
            sender_name_id: 0,
            sender_host: 0,
            dst_host: 0,
            dst_hint: NO_EP,
            corrupt: false,
            copy: 0,
            pkt: 0,
        };
        world.network.add_spare_slots(spare, p.spare_packet_slots);
        if p.prefetch_always {
            world.prefetch_from = 0;
        }
        world.ballast = ballast;
        world
    }

    fn build(model: Model, observe: &Observe, hasher: FastBuild) -> World {
        let mut names: Vec<String> = Vec::new();
        let mut intern = |n: &str| match names.iter().position(|x| x == n) {
            Some(i) => i as u32,
            None => {
                names.push(n.to_string());
                (names.len() - 1) as u32
            }
        };
        for c in &model.connections {
            intern(&c.name);
            if let Some(p) = &c.peer {
                intern(&p.name);
            }
        }
        for l in &model.listeners {
            intern(&l.name);
        }
        let host_name: Vec<u32> = model.hosts.iter().map(|h| intern(&h.name)).collect();
        let fault_from = model
            .faults
            .iter()
            .map(|f| match f {
                Fault::Segment { filter, .. } => filter.from.as_deref().map(&mut intern),
                Fault::Fate { from, .. } => Some(intern(from)),
                _ => None,
            })
            .collect();
        let endpoints = model.connection_count() as usize * 2 + model.listeners.len() * 2 + 16;
        // Fates name the nth send: number sends when they are replayed or
        // recorded, never otherwise (it costs a lookup per send).
        let replays_fates = model.faults.iter().any(|f| matches!(f, Fault::Fate { .. }));
        let numbers_sends = replays_fates || observe.record_fates;
        let observer = Observer::new(observe, endpoints, |n| names.iter().position(|x| x == n).map(|i| i as u32));

        let total_conns = model.connection_count() as u32;
        // Every connection has two endpoints; each listener keeps one more
        // listening (more only if SYN_RECEIVED endpoints fall back to
        // LISTEN). Reserving this up front avoids doubling a huge vector
        // at the peak.
        let mut sched = Scheduler::new();
        sched.reserve(endpoints * 2);
        let mut world = World {
            sched,
            last_event: Instant::ZERO,
            prefetch_from: PREFETCH_FROM_ENDPOINTS,
            eps: Vec::with_capacity(endpoints),
            names,
            host_name,
            demux: Demux::new(model.hosts.len(), endpoints, hasher),
            network: Network::new(&model, hasher, numbers_sends),
            host_up: vec![true; model.hosts.len()],
            fault_hits: vec![0; model.faults.len()],
            fault_from,
            has_segment_faults: model.faults.iter().any(|f| matches!(f, Fault::Segment { .. })),
            has_partitions: model.faults.iter().any(|f| matches!(f, Fault::Partition { .. })),
            fates: FastMap::with_hasher(hasher),
            out: Output::default(),
            observer,
            counts: LimitCounts::default(),
            iss_key: Key::derive(model.iss_seed.unwrap_or(model.seed), component::ISS),
            reply_to: None,
            close_after_step: None,
            injected_segments: 0,
            outcome: None,
            ballast: Vec::new(),
            model,
        };
        world.build_connections();
        for (i, l) in world.model.listeners.iter().enumerate() {
            let addr = world.model.hosts[l.host as usize].addr;
            world.demux.add_listener(addr, l.port, total_conns + i as u32);
            world.sched.schedule(l.listen_at, Event::ListenerOpen(i as u32));
            if let Some(at) = l.close_at {
                world.sched.schedule(at, Event::ListenerClose(i as u32));
            }
        }
        for (i, f) in world.model.faults.iter().enumerate() {
            match *f {
                Fault::Inject { at, .. } => world.sched.schedule(at, Event::Inject(i as u32)),
                Fault::Fate { conn, nth, .. } => {
                    let from = world.fault_from[i].expect("fates name their sender");
                    world.fates.insert((from, conn, nth), i as u32);
                }
                Fault::Crash { at, restart_at, .. } => {
                    world.sched.schedule(at, Event::Crash(i as u32));
                    if let Some(r) = restart_at {
                        world.sched.schedule(r, Event::Restart(i as u32));
                    }
                }
                _ => {}
            }
        }
        world
    }

    fn build_connections(&mut self) {
        let mut conn = 0u32;
        for ci in 0..self.model.connections.len() {
            let spec = &self.model.connections[ci];
            let (count, spread, host, span) = (spec.count, spec.open_spread, spec.host, spec.host_span.max(1));
            let (config, iss, local_port) = (spec.config, spec.iss, spec.local_port);
            let (remote_host, remote_port) = (spec.remote_host, spec.remote_port);
            let name = self.name_id(&spec.name);
            let peer = spec.peer.as_ref().map(|p| (self.name_id(&p.name), p.config, p.iss));
            for k in 0..count {
                let offset =
                    Duration::from_nanos((u128::from(spread.as_nanos()) * u128::from(k) / u128::from(count)) as u64);
                let client_host = host + k % span;
                let client = self.add_endpoint(
                    name,
                    config,
                    iss,
                    conn,
                    client_host,
                    local_port.unwrap_or(0),
                    conn,
                    AppRef::Client(ci as u32),
                );
                self.eps[client as usize].script_base = Instant::ZERO + offset;
                self.schedule_script(client);
                if let Some((peer_name, peer_config, peer_iss)) = peer {
                    let remote_addr = self.model.hosts[client_host as usize].addr;
                    let fixed = local_port.expect("validated: a peer needs a fixed local port");
                    let p = self.add_endpoint(
                        peer_name,
                        peer_config,
                        peer_iss,
                        conn,
                        remote_host,
                        remote_port,
                        conn,
                        AppRef::Peer(ci as u32),
                    );
                    self.eps[p as usize].set_tuple(remote_port, (remote_addr, fixed));
                    self.bind(p);
                    self.schedule_script(p);
                }
                conn += 1;
            }
        }
    }

    fn name_id(&self, name: &str) -> u32 {
        self.names.iter().position(|n| n == name).expect("names are interned at build") as u32
    }

    #[allow(clippy::too_many_arguments)]
    fn add_endpoint(
        &mut self,
        name_id: u32,
        config: usize,
        iss: Option<u32>,
        flow_index: u32,
        host: HostId,
        local_port: u16,
        conn: u32,
        app: AppRef,
    ) -> u32 {
        let flow_id = flow_id(app, flow_index);
        let iss = iss.unwrap_or_else(|| self.iss_key.block(flow_id, 0)[0]);
        let id = self.eps.len() as u32;
        let cfg = &self.model.configs[config];
        let now = self.sched.now();
        let serves = if matches!(app, AppRef::Listener(_)) { None } else { Some(conn) };
        self.observer.add_endpoint(serves, name_id, now);
        // RFC 7323 §5.4: the timestamp clock starts at a value drawn like
        // the ISS (the flow's next ISS-stream block).
        let ts_start = (cfg.timestamps && cfg.ts_start.is_none()).then(|| self.iss_key.block(flow_id, 1)[0]);
        // Built where it is kept, not built and then copied in (about 60
        // instructions an endpoint, callgrind).
        self.eps.resize_with(id as usize + 1, || EndpointSlot {
            tcp: {
                let mut tcp = Endpoint::new(cfg, SeqNum(iss), id + 1);
                if let Some(ts) = ts_start {
                    tcp.set_ts_start(ts);
                }
                tcp
            },
            flow: FlowState::default(),
            flow_index,
            wake: Instant::MAX,
            script_base: now,
            remote_addr: 0,
            remote_port: 0,
            host,
            name_id,
            conn,
            app: app.pack(),
            script_pos: 0,
            peer: NO_EP,
            local_port,
            config: config as u16,
            flags: 0,
        });
        id
    }

    fn app_of(&self, app: AppRef) -> &App {
        match app {
            AppRef::Client(i) => &self.model.connections[i as usize].app,
            AppRef::Peer(i) => &self.model.connections[i as usize].peer.as_ref().expect("peer app").app,
            AppRef::Listener(i) => &self.model.listeners[i as usize].app,
        }
    }

    fn schedule_script(&mut self, ep: u32) {
        let e = &self.eps[ep as usize];
        if let Some(t) = self.app_of(e.app()).script.get(e.script_pos as usize) {
            let at = (e.script_base + t.at).max(self.sched.now());
            self.sched.schedule(at, Event::Script(ep));
        }
    }

    // ---- public API ----

    /// The model the world was built from.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The virtual time of the last event executed.
    pub fn now(&self) -> Instant {
        self.last_event
    }

    /// Counters over the run so far.
    pub fn stats(&self) -> &RunStats {
        &self.observer.stats
    }

    /// The decisions the links drew at random, in send order, if
    /// the simulation recorded them
    /// ([`crate::simulation::Simulation::record_fates`]; empty otherwise).
    pub fn recorded_fates(&self) -> &[RecordedFate] {
        self.observer.recorded_fates()
    }

    /// The digest of every event so far (32 hex digits).
    pub fn digest(&self) -> String {
        self.observer.digest.hex()
    }

    /// How often each behaviour ID handled an input, indexed by
    /// [`crate::rule::Rule::index`].
    pub fn coverage(&self) -> &[u64] {
        &self.observer.coverage
    }

    /// How the run ended; `None` while it can go on.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// Every endpoint, in `ep` order.
    pub fn endpoints(&self) -> impl Iterator<Item = EndpointView<'_>> {
        (0..self.eps.len()).map(|i| self.view(i))
    }

    /// Calls `f(conn, endpoints)` for every connection `0..connection_count`,
    /// in order, with the endpoints that belong to it now (normally its two
    /// ends). Memory: 8 bytes per endpoint, whatever the population.
    pub fn for_each_connection(&self, mut f: impl FnMut(u32, &[EndpointView<'_>])) {
        let total = self.model.connection_count() as usize;
        let mut first = vec![NO_EP; total];
        let mut next = vec![NO_EP; self.eps.len()];
        for (i, e) in self.eps.iter().enumerate().rev() {
            if let Some(head) = first.get_mut(e.conn as usize) {
                next[i] = *head;
                *head = i as u32;
            }
        }
        let mut views = Vec::with_capacity(4);
        for (c, &head) in first.iter().enumerate() {
            views.clear();
            let mut i = head;
            while i != NO_EP {
                views.push(self.view(i as usize));
                i = next[i as usize];
            }
            f(c as u32, &views);
        }
    }

    /// The endpoint called `name` that belongs to connection `conn`.
    pub fn endpoint(&self, conn: u32, name: &str) -> Option<EndpointView<'_>> {
        self.find_ep(conn, name).map(|i| self.view(i as usize))
    }

    fn view(&self, i: usize) -> EndpointView<'_> {
        let e = &self.eps[i];
        EndpointView {
            ep: i as u32,
            name: &self.names[e.name_id as usize],
            conn: e.conn,
            host: &self.model.hosts[e.host as usize].name,
            local_port: e.local_port,
            tcp: &e.tcp,
            log: self.observer.log(i as u32),
            lost: e.lost(),
            times: self.observer.phase_times(i as u32),
            config: &self.model.configs[e.config as usize],
        }
    }

    /// Runs until no events remain or a limit stops the run.
    pub fn run(&mut self, sink: &mut dyn TraceSink) -> Outcome {
        self.run_until(sink, &AtomicBool::new(false))
    }

    /// As [`World::run`], also stopping when `stop` is raised (checked
    /// before every event).
    pub fn run_until(&mut self, sink: &mut dyn TraceSink, stop: &AtomicBool) -> Outcome {
        loop {
            if stop.load(Ordering::Relaxed) {
                return self.finish(Outcome::Interrupted);
            }
            if let Some(outcome) = self.step(sink) {
                return outcome;
            }
        }
    }

    /// One scheduler action executed: counted for `max_events`, and in the
    /// observer's statistics.
    fn count_event(&mut self) {
        self.counts.events += 1;
        self.observer.on_event();
    }

    fn finish(&mut self, outcome: Outcome) -> Outcome {
        self.outcome = Some(outcome);
        outcome
    }

    /// Executes one scheduler event. Returns the outcome once the run is
    /// over.
    pub fn step(&mut self, sink: &mut dyn TraceSink) -> Option<Outcome> {
        if let Some(outcome) = self.outcome {
            return Some(outcome);
        }
        // A sink that takes no records writes nothing, so it is not asked
        // whether writing failed.
        let wants = sink.wants_records();
        if wants && sink.failed() {
            return Some(self.finish(Outcome::OutputFailed));
        }
        self.observer.set_sink_wants(wants);
        // Stale wake-ups are dropped here, so they neither count as events,
        // nor move the clock of the run, nor hit a time limit.
        let (next, event) = loop {
            let Some((t, event)) = self.sched.peek() else {
                return Some(self.finish(Outcome::Completed));
            };
            match event {
                Event::Wake(ep) if self.eps[ep as usize].wake != t || self.eps[ep as usize].lost() => {
                    self.sched.pop();
                }
                _ => break (t, event),
            }
        };
        if self.model.limits.max_time < next {
            return Some(self.finish(Outcome::TimeLimit));
        }
        if self.counts.events >= self.model.limits.max_events {
            return Some(self.finish(Outcome::EventLimit));
        }
        if self.counts.trace_records >= self.model.limits.max_trace_records {
            return Some(self.finish(Outcome::TraceLimit));
        }
        let in_flight = self.network.in_flight();
        if in_flight > self.model.limits.max_in_flight || in_flight >= MAX_PACKET_SLOTS {
            return Some(self.finish(Outcome::InFlightLimit));
        }
        self.sched.pop();
        if self.eps.len() >= self.prefetch_from
            && let Some(after) = self.sched.next_at_hand()
        {
            self.prefetch_for(after);
        }
        self.last_event = next;
        match event {
            Event::Arrive(p) => self.on_arrive(p, sink),
            Event::Wake(ep) => self.on_wake(ep, sink),
            Event::Script(ep) => self.on_script(ep, sink),
            Event::ListenerOpen(l) => self.on_listener_open(l, sink),
            Event::ListenerClose(l) => self.on_listener_close(l, sink),
            Event::Inject(f) => self.on_inject(f, sink),
            Event::Crash(f) => self.on_crash(f, sink),
            Event::Restart(f) => self.on_restart(f, sink),
        }
        None
    }

    /// Asks for the memory the event after this one will read first, so
    /// that with many connections its fetch overlaps this event's work
    /// (whole-process time at 10^6 connections: 0.74 of the time without;
    /// at 10^5, 0.73).
    fn prefetch_for(&self, event: Event) {
        let ep = match event {
            Event::Arrive(p) => self.network.parked(p).dst_hint,
            Event::Wake(ep) | Event::Script(ep) => ep,
            Event::ListenerOpen(_)
            | Event::ListenerClose(_)
            | Event::Inject(_)
            | Event::Crash(_)
            | Event::Restart(_) => {
                return;
            }
        };
        if let Some(e) = self.eps.get(ep as usize) {
            crate::prefetch::line(e);
            e.tcp.prefetch();
            crate::prefetch::line(&e.remote_addr);
            crate::prefetch::line(&e.flags);
            self.observer.prefetch(ep);
        }
    }

    // ---- event handlers ----

    fn on_wake(&mut self, ep: u32, sink: &mut dyn TraceSink) {
        let now = self.sched.now();
        let e = &mut self.eps[ep as usize];
        e.wake = Instant::MAX;
        match e.tcp.poll_timeout() {
            Some(d) if d <= now => {
                self.count_event();
                self.run_step(ep, step::Input::Timeout, sink);
            }
            // The timer moved later since this wake-up was scheduled.
            _ => self.reschedule_wake(ep),
        }
    }

    fn on_script(&mut self, ep: u32, sink: &mut dyn TraceSink) {
        let e = &self.eps[ep as usize];
        if e.lost() {
            return;
        }
        let Some(timed) = self.app_of(e.app()).script.get(e.script_pos as usize).copied() else { return };
        self.eps[ep as usize].script_pos += 1;
        self.count_event();
        self.run_step(ep, step::Input::Call(timed.action), sink);
        self.schedule_script(ep);
    }

    fn on_listener_open(&mut self, l: u32, sink: &mut dyn TraceSink) {
        self.count_event();
        // A crashed host opens nothing; its restart opens the listener.
        if !self.host_up[self.model.listeners[l as usize].host as usize] {
            return;
        }
        self.demux.listeners[l as usize].open = true;
        self.spawn_listening(l, sink);
    }

    fn on_listener_close(&mut self, l: u32, sink: &mut dyn TraceSink) {
        self.count_event();
        let rt = &mut self.demux.listeners[l as usize];
        rt.open = false;
        let idle: Vec<u32> = rt.idle.drain(..).collect();
        for ep in idle {
            if self.eps[ep as usize].tcp.state() == crate::tcp::State::Listen {
                self.run_step(ep, step::Input::Call(crate::model::Action::Close), sink);
            }
        }
    }

    /// Creates a fresh listening endpoint for listener `l` and opens it.
    fn spawn_listening(&mut self, l: u32, sink: &mut dyn TraceSink) {
        let spec = &self.model.listeners[l as usize];
        let (config, iss, host, port) = (spec.config, spec.iss, spec.host, spec.port);
        let name = self.name_id(&spec.name);
        let rt = &mut self.demux.listeners[l as usize];
        let spawned = rt.spawned;
        rt.spawned += 1;
        let conn = rt.conn;
        let ep = self.add_endpoint(name, config, iss, spawned, host, port, conn, AppRef::Listener(l));
        self.demux.listeners[l as usize].idle.push_back(ep);
        self.run_step(ep, step::Input::Call(crate::model::Action::Listen), sink);
    }

    /// Keeps a listening endpoint on the port while the backlog allows.
    fn after_listener_step(&mut self, l: u32, sink: &mut dyn TraceSink) {
        let rt = &self.demux.listeners[l as usize];
        let backlog = self.model.listeners[l as usize].backlog;
        if rt.open && rt.idle.is_empty() && rt.accepted < backlog {
            self.spawn_listening(l, sink);
        }
    }

    /// The host stops: every endpoint on it vanishes without sending
    /// anything (RFC 9293 §3.5.2, half-open connections), its listeners
    /// stop listening, and segments to it are lost until it restarts.
    fn on_crash(&mut self, f: u32, sink: &mut dyn TraceSink) {
        let Fault::Crash { host, .. } = self.model.faults[f as usize] else { return };
        self.count_event();
        self.host_up[host as usize] = false;
        let mut lost = Vec::new();
        for ep in 0..self.eps.len() as u32 {
            let e = &self.eps[ep as usize];
            if e.host != host || e.lost() {
                continue;
            }
            lost.push(ep);
            self.unbind(ep);
            let e = &mut self.eps[ep as usize];
            // The TCB is gone and the endpoint never acts again.
            e.flags |= LOST;
            e.wake = Instant::MAX;
        }
        for (l, spec) in self.model.listeners.iter().enumerate() {
            if spec.host == host {
                let rt = &mut self.demux.listeners[l];
                rt.open = false;
                rt.idle.clear();
            }
        }
        self.emit_host_event(host, false, &lost, sink);
    }

    /// The host is back, with no connections; its listeners listen again.
    fn on_restart(&mut self, f: u32, sink: &mut dyn TraceSink) {
        let Fault::Crash { host, .. } = self.model.faults[f as usize] else { return };
        self.count_event();
        self.host_up[host as usize] = true;
        self.emit_host_event(host, true, &[], sink);
        // Listeners listen again if their application would be listening
        // now: opened already (a later opening is still scheduled) and not
        // closed yet.
        let now = self.sched.now();
        let listeners: Vec<u32> = (0..self.model.listeners.len() as u32)
            .filter(|&l| {
                let spec = &self.model.listeners[l as usize];
                spec.host == host && spec.listen_at <= now && spec.close_at.is_none_or(|c| now < c)
            })
            .collect();
        for l in listeners {
            let rt = &mut self.demux.listeners[l as usize];
            rt.open = true;
            rt.accepted = 0;
            self.spawn_listening(l, sink);
        }
    }

    fn emit_host_event(&mut self, host: HostId, up: bool, lost: &[u32], sink: &mut dyn TraceSink) {
        let ev = TraceEvent {
            t: self.sched.now(),
            conn: crate::trace::NO_CONN,
            ep: crate::trace::NO_EP,
            endpoint: &self.names[self.host_name[host as usize] as usize],
            kind: crate::trace::TraceKind::Host { up, endpoints_lost: lost.len() as u32 },
            route: None,
            pkt: None,
            lost_eps: lost,
        };
        emit(&mut self.observer, &mut self.counts, sink, &ev);
    }

    fn reschedule_wake(&mut self, ep: u32) {
        let e = &mut self.eps[ep as usize];
        if let Some(d) = e.tcp.poll_timeout()
            && d < e.wake
        {
            e.wake = d;
            self.sched.schedule(d, Event::Wake(ep));
        }
    }

    fn find_ep(&self, conn: u32, name: &str) -> Option<u32> {
        self.eps.iter().position(|e| e.conn == conn && self.names[e.name_id as usize] == name).map(|i| i as u32)
    }
}

#[cfg(test)]
mod tests {
    /// A million connections are two million of these, and each event
    /// reads one from main memory: growth should be a decision. (A packet
    /// grew from 72 to 80 bytes for its 64-bit `pkt`, which names a
    /// transmission in the trace; only segments in flight have one, and a
    /// 32-bit number could wrap in a long run. An endpoint grew from 304
    /// to 312 bytes for the peer's segment size that delayed ACKs judge
    /// "full-sized" by, B-OPT-07. RFC 7323 grew an endpoint to 320 bytes:
    /// 32-bit windows, since a scaled SND.WND reaches 2^30, and a pointer
    /// to the option state, boxed so endpoints without the options carry
    /// nothing more; and a packet to 88 bytes for the timestamps, which
    /// every segment of a connection that uses them carries, packed in 10
    /// bytes with the window scale. SACK grew a packet to 128 bytes: a
    /// segment carries its up to 4 blocks inline, 36 bytes, so it stays
    /// `Copy` and the option needs no allocation per ACK. Limited
    /// transmit's octet count and CUBIC's and the Linux options' boxed
    /// states grew an endpoint to 336 bytes; one box for all four option
    /// states brought it back to 312. The world's part beside the TCB, 80
    /// bytes with 11 of padding, was packed to 64: the peer as two fields,
    /// the application reference in 32 bits, the flow's stream id made
    /// from a 32-bit index, the link's flow state packed, two flags in
    /// one byte; 296 in all.)
    #[test]
    fn per_endpoint_and_per_packet_state_stays_small() {
        assert!(
            std::mem::size_of::<super::EndpointSlot>() <= 296,
            "{} bytes",
            std::mem::size_of::<super::EndpointSlot>()
        );
        assert!(std::mem::size_of::<super::Packet>() <= 128, "{} bytes", std::mem::size_of::<super::Packet>());
    }
}
