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
//! Demultiplexing is one hash lookup by 4-tuple; listeners are found by
//! (address, port). A listening endpoint takes a SYN itself and, until the
//! listener has accepted `backlog` connections, a fresh listening endpoint
//! takes its place.

mod observe;

pub use observe::EndpointLog;

use crate::link::{DropReason, FlowState, LinkParams, QueueState, Verdict, wire_bytes};
use crate::model::{Action, App, Fault, HostId, Model, Reaction, SegmentFaultAction};
use crate::rng::{Key, component};
use crate::rule;
use crate::scheduler::Scheduler;
use crate::tcp::{AppEvent, Call, CallError, Endpoint, Note, Output, Segment, SeqNum, State, TcpConfig};
use crate::time::{Duration, Instant};
use crate::trace::{Digest, TraceEvent, TraceKind, TraceSink};
use indexmap::IndexMap;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};

/// First ephemeral port (IANA dynamic range, RFC 6335).
const EPHEMERAL_FIRST: u16 = 49152;
/// Distinguishes ISS and link-draw identities of listener-spawned
/// endpoints and hosts from those of connections.
const LISTENER_FLOW_BASE: u64 = 1 << 62;
const HOST_FLOW_BASE: u64 = 3 << 62;
const NO_EP: u32 = u32::MAX;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

impl Outcome {
    pub const fn name(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::EventLimit => "event_limit",
            Outcome::TimeLimit => "time_limit",
            Outcome::OutputFailed => "output_failed",
            Outcome::Interrupted => "interrupted",
        }
    }
}

/// Counters over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Executed scheduler actions (arrivals, timer firings, calls).
    pub events: u64,
    pub transitions: u64,
    pub segments_sent: u64,
    pub retransmissions: u64,
    pub deliveries: u64,
    /// Drops by reason, in `DropReason` order.
    pub drops: [u64; 9],
    /// Transitions by `[from][to]` state (in `State` order).
    pub transitions_by: [[u64; 11]; 11],
    pub trace_records: u64,
}

impl RunStats {
    pub fn total_drops(&self) -> u64 {
        self.drops.iter().sum()
    }
}

/// 4-tuple, from the point of view of the endpoint that owns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FourTuple {
    local_addr: u32,
    local_port: u16,
    remote_addr: u32,
    remote_port: u16,
}

/// Which application script an endpoint runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AppRef {
    Client(u32),
    Peer(u32),
    Listener(u32),
}

struct Ep {
    tcp: Endpoint,
    config: u16,
    name: u32,
    host: HostId,
    local_port: u16,
    remote: Option<(u32, u16)>,
    conn: u32,
    app: AppRef,
    /// Next script action, and the time script times count from.
    script_pos: u32,
    script_base: Instant,
    flow: FlowState,
    flow_id: u64,
    /// The deadline a Wake event is scheduled for, or MAX.
    wake: Instant,
    listener: Option<u32>,
    /// Its host crashed: the TCB is gone and the endpoint never acts again.
    lost: bool,
    log: EndpointLog,
}

struct ListenerRt {
    idle: VecDeque<u32>,
    accepted: u32,
    open: bool,
    spawned: u32,
    conn: u32,
}

struct Packet {
    seg: Segment,
    src: (u32, u16),
    dst: (u32, u16),
    conn: u32,
    sender: u32,
    sender_host: HostId,
    corrupt: bool,
}

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

/// A read-only view of one endpoint.
pub struct EndpointView<'a> {
    pub name: &'a str,
    pub conn: u32,
    pub host: &'a str,
    pub local_port: u16,
    pub tcp: &'a Endpoint,
    pub log: &'a EndpointLog,
}

pub struct World {
    model: Model,
    sched: Scheduler<Event>,
    eps: Vec<Ep>,
    names: Vec<String>,
    demux: IndexMap<FourTuple, u32>,
    listeners: Vec<ListenerRt>,
    listener_at: IndexMap<(u32, u16), u32>,
    link_dirs: Vec<(LinkParams, Key)>,
    /// The transmitter of each link direction, shared by its flows.
    queues: Vec<QueueState>,
    routes: IndexMap<(HostId, HostId), u32>,
    host_flows: Vec<FlowState>,
    host_up: Vec<bool>,
    /// During a step caused by a segment: its source and connection, where
    /// an unbound endpoint's reply goes.
    reply_to: Option<((u32, u16), u32)>,
    next_ephemeral: Vec<u16>,
    packets: Vec<Option<Packet>>,
    free_packets: Vec<u32>,
    fault_hits: Vec<u32>,
    out: Output,
    digest: Digest,
    stats: RunStats,
    coverage: Vec<u64>,
    /// Endpoint names whose full path is kept (named in expectations).
    detailed_names: Vec<String>,
    iss_key: Key,
    outcome: Option<Outcome>,
}

impl World {
    /// Builds the world at time zero: endpoints for every connection,
    /// first script actions and listener openings scheduled.
    pub fn new(model: Model) -> World {
        let mut detailed_names: Vec<String> =
            model.expect.iter().flat_map(|e| e.endpoints.iter().map(|x| x.name.clone())).collect();
        let small = model.connection_count() <= 64;
        if small {
            detailed_names.extend(model.connections.iter().map(|c| c.name.clone()));
            detailed_names.extend(model.connections.iter().filter_map(|c| c.peer.as_ref().map(|p| p.name.clone())));
            detailed_names.extend(model.listeners.iter().map(|l| l.name.clone()));
        }
        let mut link_dirs = Vec::new();
        let mut routes = IndexMap::new();
        for (i, link) in model.links.iter().enumerate() {
            let base = component::LINK_BASE + 2 * i as u64;
            routes.insert((link.a, link.b), link_dirs.len() as u32);
            link_dirs.push((link.ab, Key::derive(model.seed, base)));
            routes.insert((link.b, link.a), link_dirs.len() as u32);
            link_dirs.push((link.ba, Key::derive(model.seed, base + 1)));
        }
        let total_conns = model.connection_count() as u32;
        let mut world = World {
            sched: Scheduler::new(),
            eps: Vec::new(),
            names: Vec::new(),
            demux: IndexMap::new(),
            listeners: Vec::new(),
            listener_at: IndexMap::new(),
            queues: vec![QueueState::default(); link_dirs.len()],
            link_dirs,
            routes,
            host_flows: vec![FlowState::default(); model.hosts.len()],
            host_up: vec![true; model.hosts.len()],
            reply_to: None,
            next_ephemeral: vec![EPHEMERAL_FIRST; model.hosts.len()],
            packets: Vec::new(),
            free_packets: Vec::new(),
            fault_hits: vec![0; model.faults.len()],
            out: Output::default(),
            digest: Digest::new(),
            stats: RunStats::default(),
            coverage: vec![0; rule::COUNT],
            detailed_names,
            iss_key: Key::derive(model.seed, component::ISS),
            outcome: None,
            model,
        };
        world.build_connections();
        for (i, l) in world.model.listeners.iter().enumerate() {
            world.listeners.push(ListenerRt {
                idle: VecDeque::new(),
                accepted: 0,
                open: false,
                spawned: 0,
                conn: total_conns + i as u32,
            });
            let addr = world.model.hosts[l.host as usize].addr;
            world.listener_at.insert((addr, l.port), i as u32);
        }
        for (i, l) in world.model.listeners.iter().enumerate() {
            world.sched.schedule(l.listen_at, Event::ListenerOpen(i as u32));
            if let Some(at) = l.close_at {
                world.sched.schedule(at, Event::ListenerClose(i as u32));
            }
        }
        for (i, f) in world.model.faults.iter().enumerate() {
            match *f {
                Fault::Inject { at, .. } => world.sched.schedule(at, Event::Inject(i as u32)),
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
            let spec = self.model.connections[ci].clone();
            for k in 0..spec.count {
                let offset = Duration::from_nanos(
                    (u128::from(spec.open_spread.as_nanos()) * u128::from(k) / u128::from(spec.count)) as u64,
                );
                let flow_id = u64::from(conn) << 2;
                let host = spec.host + k % spec.host_span.max(1);
                let client = self.add_endpoint(
                    &spec.name,
                    spec.config,
                    spec.iss,
                    flow_id,
                    host,
                    spec.local_port.unwrap_or(0),
                    conn,
                    AppRef::Client(ci as u32),
                );
                self.eps[client as usize].script_base = Instant::ZERO + offset;
                self.schedule_script(client);
                if let Some(peer) = &spec.peer {
                    let remote_addr = self.model.hosts[spec.host as usize].addr;
                    let local_port = spec.local_port.expect("validated: a peer needs a fixed local port");
                    let p = self.add_endpoint(
                        &peer.name,
                        peer.config,
                        peer.iss,
                        flow_id | 1,
                        spec.remote_host,
                        spec.remote_port,
                        conn,
                        AppRef::Peer(ci as u32),
                    );
                    self.eps[p as usize].remote = Some((remote_addr, local_port));
                    self.bind(p);
                    self.schedule_script(p);
                }
                conn += 1;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_endpoint(
        &mut self,
        name: &str,
        config: usize,
        iss: Option<u32>,
        flow_id: u64,
        host: HostId,
        local_port: u16,
        conn: u32,
        app: AppRef,
    ) -> u32 {
        let iss = iss.unwrap_or_else(|| self.iss_key.block(flow_id, 0)[0]);
        let id = self.eps.len() as u32;
        let cfg = &self.model.configs[config];
        let name_id = match self.names.iter().rposition(|n| n == name) {
            Some(i) => i as u32,
            None => {
                self.names.push(name.to_string());
                (self.names.len() - 1) as u32
            }
        };
        let detailed = self.detailed_names.iter().any(|n| n == name);
        self.eps.push(Ep {
            tcp: Endpoint::new(cfg, SeqNum(iss), id + 1),
            config: config as u16,
            name: name_id,
            host,
            local_port,
            remote: None,
            conn,
            app,
            script_pos: 0,
            script_base: self.sched.now(),
            flow: FlowState::default(),
            flow_id,
            wake: Instant::MAX,
            listener: None,
            lost: false,
            log: EndpointLog::new(detailed, self.sched.now()),
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
        if let Some(t) = self.app_of(e.app).script.get(e.script_pos as usize) {
            let at = (e.script_base + t.at).max(self.sched.now());
            self.sched.schedule(at, Event::Script(ep));
        }
    }

    // ---- public API ----

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn now(&self) -> Instant {
        self.sched.now()
    }

    pub fn stats(&self) -> &RunStats {
        &self.stats
    }

    /// The digest of every event so far (32 hex digits).
    pub fn digest(&self) -> String {
        self.digest.hex()
    }

    /// How often each behaviour ID handled an input, indexed by
    /// [`crate::rule::Rule::index`].
    pub fn coverage(&self) -> &[u64] {
        &self.coverage
    }

    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    pub fn endpoints(&self) -> impl Iterator<Item = EndpointView<'_>> {
        self.eps.iter().map(|e| self.view(e))
    }

    /// The endpoint called `name` that belongs to connection `conn`.
    pub fn endpoint(&self, conn: u32, name: &str) -> Option<EndpointView<'_>> {
        self.eps.iter().find(|e| e.conn == conn && self.names[e.name as usize] == name).map(|e| self.view(e))
    }

    fn view<'a>(&'a self, e: &'a Ep) -> EndpointView<'a> {
        EndpointView {
            name: &self.names[e.name as usize],
            conn: e.conn,
            host: &self.model.hosts[e.host as usize].name,
            local_port: e.local_port,
            tcp: &e.tcp,
            log: &e.log,
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
        if sink.failed() {
            return Some(self.finish(Outcome::OutputFailed));
        }
        let Some(next) = self.sched.peek_time() else {
            return Some(self.finish(Outcome::Completed));
        };
        if self.model.limits.max_time < next {
            return Some(self.finish(Outcome::TimeLimit));
        }
        if self.stats.events >= self.model.limits.max_events {
            return Some(self.finish(Outcome::EventLimit));
        }
        let (_, event) = self.sched.pop().expect("peeked");
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

    // ---- event handlers ----

    fn on_wake(&mut self, ep: u32, sink: &mut dyn TraceSink) {
        let now = self.sched.now();
        let e = &mut self.eps[ep as usize];
        if e.wake != now || e.lost {
            return; // stale: a later reschedule replaced it, or the host died
        }
        e.wake = Instant::MAX;
        match e.tcp.poll_timeout() {
            Some(d) if d <= now => {
                self.stats.events += 1;
                self.run_step(ep, Input::Timeout, sink);
            }
            _ => self.reschedule_wake(ep),
        }
    }

    fn on_script(&mut self, ep: u32, sink: &mut dyn TraceSink) {
        let e = &self.eps[ep as usize];
        if e.lost {
            return;
        }
        let Some(timed) = self.app_of(e.app).script.get(e.script_pos as usize).copied() else {
            return;
        };
        self.eps[ep as usize].script_pos += 1;
        self.stats.events += 1;
        self.run_step(ep, Input::Call(timed.action), sink);
        self.schedule_script(ep);
    }

    fn on_listener_open(&mut self, l: u32, sink: &mut dyn TraceSink) {
        self.stats.events += 1;
        self.listeners[l as usize].open = true;
        self.spawn_listening(l, sink);
    }

    fn on_listener_close(&mut self, l: u32, sink: &mut dyn TraceSink) {
        self.stats.events += 1;
        let rt = &mut self.listeners[l as usize];
        rt.open = false;
        let idle: Vec<u32> = rt.idle.drain(..).collect();
        for ep in idle {
            if self.eps[ep as usize].tcp.state() == State::Listen {
                self.run_step(ep, Input::Call(Action::Close), sink);
            }
        }
    }

    /// Creates a fresh listening endpoint for listener `l` and opens it.
    fn spawn_listening(&mut self, l: u32, sink: &mut dyn TraceSink) {
        let spec = &self.model.listeners[l as usize];
        let (name, config, iss, host, port) = (spec.name.clone(), spec.config, spec.iss, spec.host, spec.port);
        let rt = &mut self.listeners[l as usize];
        let flow_id = LISTENER_FLOW_BASE | (u64::from(l) << 32) | u64::from(rt.spawned);
        rt.spawned += 1;
        let conn = rt.conn;
        let ep = self.add_endpoint(&name, config, iss, flow_id, host, port, conn, AppRef::Listener(l));
        self.eps[ep as usize].listener = Some(l);
        self.listeners[l as usize].idle.push_back(ep);
        self.run_step(ep, Input::Call(Action::Listen), sink);
    }

    fn on_inject(&mut self, f: u32, sink: &mut dyn TraceSink) {
        let Fault::Inject { conn, ref from, flags, seq, ack, len, wnd, .. } = self.model.faults[f as usize] else {
            return;
        };
        let Some(sender) = self.find_ep(conn, from) else { return };
        self.stats.events += 1;
        let s = &self.eps[sender as usize];
        let peer_iss = self.peer_of(sender).map_or(0, |p| self.eps[p as usize].tcp.iss().0);
        let seg = Segment {
            seq: SeqNum(s.tcp.iss().0.wrapping_add(seq as u32)),
            ack: if flags.ack() { SeqNum(peer_iss.wrapping_add(ack as u32)) } else { SeqNum(0) },
            flags,
            wnd,
            len,
            mss: 0,
            payload: crate::tcp::PayloadTag { stream: s.tcp.stream(), offset: seq.wrapping_sub(1) as u32 },
            retransmit: false,
        };
        self.transmit(sender, seg, true, sink);
    }

    /// The host stops: every endpoint on it vanishes without sending
    /// anything (RFC 9293 §3.5.1, half-open connections), its listeners
    /// stop listening.
    fn on_crash(&mut self, f: u32, sink: &mut dyn TraceSink) {
        let Fault::Crash { host, .. } = self.model.faults[f as usize] else {
            return;
        };
        self.stats.events += 1;
        self.host_up[host as usize] = false;
        let mut lost = 0;
        for ep in 0..self.eps.len() as u32 {
            let e = &self.eps[ep as usize];
            if e.host != host || e.lost {
                continue;
            }
            lost += 1;
            self.unbind(ep);
            let e = &mut self.eps[ep as usize];
            e.lost = true;
            e.log.lost = true;
            e.wake = Instant::MAX;
        }
        for (l, spec) in self.model.listeners.iter().enumerate() {
            if spec.host == host {
                let rt = &mut self.listeners[l];
                rt.open = false;
                rt.idle.clear();
            }
        }
        self.emit_host_event(host, false, lost, sink);
    }

    /// The host is back, with no connections; its listeners listen again.
    fn on_restart(&mut self, f: u32, sink: &mut dyn TraceSink) {
        let Fault::Crash { host, .. } = self.model.faults[f as usize] else {
            return;
        };
        self.stats.events += 1;
        self.host_up[host as usize] = true;
        self.emit_host_event(host, true, 0, sink);
        let listeners: Vec<u32> =
            (0..self.model.listeners.len() as u32).filter(|&l| self.model.listeners[l as usize].host == host).collect();
        for l in listeners {
            let rt = &mut self.listeners[l as usize];
            rt.open = true;
            rt.accepted = 0;
            self.spawn_listening(l, sink);
        }
    }

    fn emit_host_event(&mut self, host: HostId, up: bool, lost: u32, sink: &mut dyn TraceSink) {
        let name = self.model.hosts[host as usize].name.clone();
        let ev = TraceEvent {
            t: self.sched.now(),
            conn: crate::trace::NO_CONN,
            endpoint: &name,
            kind: TraceKind::Host { up, connections_lost: lost },
            route: None,
        };
        Self::emit(&mut self.digest, &mut self.stats, sink, &ev);
    }

    fn on_arrive(&mut self, p: u32, sink: &mut dyn TraceSink) {
        let pkt = self.packets[p as usize].take().expect("arriving packet exists");
        self.free_packets.push(p);
        self.stats.events += 1;
        if pkt.corrupt {
            // The receiver's checksum check discards it.
            self.record_drop(&pkt, DropReason::Corrupt, sink);
            return;
        }
        let key =
            FourTuple { local_addr: pkt.dst.0, local_port: pkt.dst.1, remote_addr: pkt.src.0, remote_port: pkt.src.1 };
        let bound = self.demux.get(&key).copied();
        if let Some(ep) = bound
            && self.eps[ep as usize].tcp.state() != State::Closed
        {
            self.deliver(ep, &pkt, sink);
            return;
        }
        if let Some(&l) = self.listener_at.get(&(pkt.dst.0, pkt.dst.1))
            && let Some(&ep) = self.listeners[l as usize].idle.front()
        {
            let f = pkt.seg.flags;
            if f.syn() && !f.ack() && !f.rst() {
                self.accept(l, ep, &pkt);
            }
            self.deliver(ep, &pkt, sink);
            self.after_listener_step(l, sink);
            return;
        }
        if let Some(ep) = bound {
            // A CLOSED endpoint still answers for its 4-tuple (§3.10.7.1).
            self.deliver(ep, &pkt, sink);
            return;
        }
        self.host_reply(&pkt, sink);
    }

    /// The listening endpoint `ep` takes a SYN: it now serves `pkt`'s
    /// connection.
    fn accept(&mut self, l: u32, ep: u32, pkt: &Packet) {
        let rt = &mut self.listeners[l as usize];
        rt.idle.pop_front();
        rt.accepted += 1;
        let e = &mut self.eps[ep as usize];
        e.remote = Some(pkt.src);
        e.conn = pkt.conn;
        self.bind(ep);
    }

    /// Keeps a listening endpoint on the port while the backlog allows.
    fn after_listener_step(&mut self, l: u32, sink: &mut dyn TraceSink) {
        let rt = &self.listeners[l as usize];
        let backlog = self.model.listeners[l as usize].backlog;
        if rt.open && rt.idle.is_empty() && rt.accepted < backlog {
            self.spawn_listening(l, sink);
        }
    }

    fn deliver(&mut self, ep: u32, pkt: &Packet, sink: &mut dyn TraceSink) {
        self.stats.deliveries += 1;
        let e = &self.eps[ep as usize];
        let ev = TraceEvent {
            t: self.sched.now(),
            conn: e.conn,
            endpoint: &self.names[e.name as usize],
            kind: TraceKind::Deliver { seg: pkt.seg },
            route: Some(pkt.route()),
        };
        Self::emit(&mut self.digest, &mut self.stats, sink, &ev);
        // An endpoint with no peer (LISTEN, or CLOSED before binding)
        // answers resets to where the segment came from.
        self.reply_to = Some((pkt.src, pkt.conn));
        self.run_step(ep, Input::Segment(pkt.seg), sink);
        self.reply_to = None;
    }

    /// No endpoint and no listener: the host answers as RFC 9293
    /// §3.10.7.1 says for CLOSED.
    fn host_reply(&mut self, pkt: &Packet, sink: &mut dyn TraceSink) {
        let Some(host) = self.model.hosts.iter().position(|h| h.addr == pkt.dst.0) else {
            return;
        };
        let host_name = self.model.hosts[host].name.clone();
        let ev = TraceEvent {
            t: self.sched.now(),
            conn: pkt.conn,
            endpoint: &host_name,
            kind: TraceKind::Deliver { seg: pkt.seg },
            route: Some(pkt.route()),
        };
        Self::emit(&mut self.digest, &mut self.stats, sink, &ev);
        let rule = if pkt.seg.flags.rst() {
            rule::CLOSED_03
        } else if pkt.seg.flags.ack() {
            rule::CLOSED_02
        } else {
            rule::CLOSED_01
        };
        self.coverage[rule.index()] += 1;
        if let Some(rst) = Segment::reset_reply(&pkt.seg) {
            let reply = Packet {
                seg: rst,
                src: pkt.dst,
                dst: pkt.src,
                conn: pkt.conn,
                sender: NO_EP,
                sender_host: host as HostId,
                corrupt: false,
            };
            self.send_packet(reply, &host_name, false, sink);
        }
    }

    // ---- the step ----

    fn run_step(&mut self, ep: u32, input: Input, sink: &mut dyn TraceSink) {
        let now = self.sched.now();
        self.out.clear();
        let cfg_index = self.eps[ep as usize].config as usize;
        match input {
            Input::Segment(seg) => {
                let cfg = &self.model.configs[cfg_index];
                self.eps[ep as usize].tcp.handle_segment(cfg, now, &seg, &mut self.out);
            }
            Input::Timeout => {
                let cfg = &self.model.configs[cfg_index];
                self.eps[ep as usize].tcp.handle_timeout(cfg, now, &mut self.out);
            }
            Input::Call(action) => self.call(ep, action, sink),
        }
        // Record notes in order; application reactions append more.
        let mut i = 0;
        while i < self.out.notes.len() {
            let note = self.out.notes[i];
            self.record_note(ep, note, sink);
            if let Note::Event(ev) = note {
                self.react(ep, ev, sink);
            }
            i += 1;
        }
        let cfg = &self.model.configs[cfg_index];
        self.eps[ep as usize].tcp.dispatch(cfg, now, &mut self.out);
        while i < self.out.notes.len() {
            let note = self.out.notes[i];
            self.record_note(ep, note, sink);
            i += 1;
        }
        for r in &self.out.rules {
            self.coverage[r.index()] += 1;
        }
        let segments = std::mem::take(&mut self.out.segments);
        for seg in &segments {
            self.transmit(ep, *seg, false, sink);
        }
        self.out.segments = segments;
        self.reschedule_wake(ep);
    }

    /// Runs an application call at `ep` and records it.
    fn call(&mut self, ep: u32, action: Action, sink: &mut dyn TraceSink) {
        let (call, bytes, result) = {
            let e = &mut self.eps[ep as usize];
            let out = &mut self.out;
            match action {
                Action::Listen => (Call::Listen, 0, e.tcp.listen(out)),
                Action::Connect => (Call::Connect, 0, Ok(())),
                Action::Send(n) => (Call::Send, n, e.tcp.send(n, out)),
                Action::Close => (Call::Close, 0, e.tcp.close(out)),
                Action::Abort => (Call::Abort, 0, e.tcp.abort(out)),
                Action::PauseRead => {
                    e.tcp.pause_read();
                    (Call::PauseRead, 0, Ok(()))
                }
                Action::ResumeRead => {
                    e.tcp.resume_read(out);
                    (Call::ResumeRead, 0, Ok(()))
                }
            }
        };
        let result = if action == Action::Connect { self.connect(ep) } else { result };
        let e = &self.eps[ep as usize];
        let ev = TraceEvent {
            t: self.sched.now(),
            conn: e.conn,
            endpoint: &self.names[e.name as usize],
            kind: TraceKind::App { call, bytes, error: result.err() },
            route: None,
        };
        Self::emit(&mut self.digest, &mut self.stats, sink, &ev);
    }

    /// Active OPEN: binds a local port, then asks TCP to connect.
    fn connect(&mut self, ep: u32) -> Result<(), CallError> {
        let e = &self.eps[ep as usize];
        if e.tcp.state() != State::Closed && e.tcp.state() != State::Listen {
            return e.tcp.clone().connect(&mut Output::default());
        }
        let remote = match e.app {
            AppRef::Client(ci) => {
                let c = &self.model.connections[ci as usize];
                (self.model.hosts[c.remote_host as usize].addr, c.remote_port)
            }
            AppRef::Peer(_) | AppRef::Listener(_) => match e.remote {
                Some(r) => r,
                None => return Err(CallError::RemoteUnspecified),
            },
        };
        let (host, fixed_port) = (e.host, e.local_port);
        let port = if fixed_port != 0 {
            fixed_port
        } else {
            self.ephemeral_port(host, remote).ok_or(CallError::ConnectionExists)?
        };
        let addr = self.model.hosts[host as usize].addr;
        let key = FourTuple { local_addr: addr, local_port: port, remote_addr: remote.0, remote_port: remote.1 };
        if let Some(&other) = self.demux.get(&key)
            && other != ep
            && self.eps[other as usize].tcp.state() != State::Closed
        {
            // The 4-tuple is still in use (e.g. by a TIME_WAIT endpoint).
            return Err(CallError::ConnectionExists);
        }
        let e = &mut self.eps[ep as usize];
        e.local_port = port;
        e.remote = Some(remote);
        self.demux.insert(key, ep);
        e.tcp.connect(&mut self.out)
    }

    fn ephemeral_port(&mut self, host: HostId, remote: (u32, u16)) -> Option<u16> {
        let addr = self.model.hosts[host as usize].addr;
        for _ in 0..=(u16::MAX - EPHEMERAL_FIRST) {
            let port = self.next_ephemeral[host as usize];
            self.next_ephemeral[host as usize] = if port == u16::MAX { EPHEMERAL_FIRST } else { port + 1 };
            let key = FourTuple { local_addr: addr, local_port: port, remote_addr: remote.0, remote_port: remote.1 };
            let free = self.demux.get(&key).is_none_or(|&o| self.eps[o as usize].tcp.state() == State::Closed);
            if free {
                return Some(port);
            }
        }
        None
    }

    fn bind(&mut self, ep: u32) {
        let e = &self.eps[ep as usize];
        let (remote_addr, remote_port) = e.remote.expect("bound endpoints know their peer");
        let key = FourTuple {
            local_addr: self.model.hosts[e.host as usize].addr,
            local_port: e.local_port,
            remote_addr,
            remote_port,
        };
        self.demux.insert(key, ep);
    }

    fn unbind(&mut self, ep: u32) {
        let e = &self.eps[ep as usize];
        if let Some((remote_addr, remote_port)) = e.remote {
            let key = FourTuple {
                local_addr: self.model.hosts[e.host as usize].addr,
                local_port: e.local_port,
                remote_addr,
                remote_port,
            };
            if self.demux.get(&key) == Some(&ep) {
                self.demux.swap_remove(&key);
            }
        }
    }

    /// The application's synchronous reactions to an event.
    fn react(&mut self, ep: u32, ev: AppEvent, sink: &mut dyn TraceSink) {
        let app = self.eps[ep as usize].app;
        if ev == AppEvent::Connected
            && let AppRef::Listener(_) = app
        {
            // A listener's script counts from establishment.
            let e = &mut self.eps[ep as usize];
            e.script_base = self.sched.now();
            e.script_pos = 0;
            self.schedule_script(ep);
        }
        let reactions: &[Reaction] = match ev {
            AppEvent::Connected => &self.app_of(app).on_connected,
            AppEvent::PeerClosed => &self.app_of(app).on_end_of_stream,
            _ => return,
        };
        let reactions = reactions.to_vec();
        for r in reactions {
            let action = match r {
                Reaction::Send(n) => Action::Send(n),
                Reaction::Close => Action::Close,
                Reaction::Abort => Action::Abort,
                Reaction::PauseRead => Action::PauseRead,
                Reaction::ResumeRead => Action::ResumeRead,
            };
            self.call(ep, action, sink);
        }
    }

    fn record_note(&mut self, ep: u32, note: Note, sink: &mut dyn TraceSink) {
        let now = self.sched.now();
        let kind = match note {
            Note::Transition { from, to, cause, rule, reason } => {
                self.stats.transitions += 1;
                self.stats.transitions_by[from as usize][to as usize] += 1;
                self.eps[ep as usize].log.on_transition(to, now);
                self.on_transition(ep, from, to);
                TraceKind::Transition { from, to, cause, rule, reason }
            }
            Note::Timer { timer, action, deadline } => TraceKind::Timer { timer, action, deadline },
            Note::Event(ev) => {
                if let AppEvent::Data { .. } = ev {
                    self.eps[ep as usize].log.last_data_at = now;
                }
                TraceKind::Event(ev)
            }
            Note::Congestion { cwnd, ssthresh } => TraceKind::Congestion { cwnd, ssthresh },
        };
        let e = &self.eps[ep as usize];
        let ev = TraceEvent { t: now, conn: e.conn, endpoint: &self.names[e.name as usize], kind, route: None };
        Self::emit(&mut self.digest, &mut self.stats, sink, &ev);
    }

    /// Keeps demultiplexing in step with the endpoint's state.
    fn on_transition(&mut self, ep: u32, from: State, to: State) {
        let e = &self.eps[ep as usize];
        match (e.listener, from, to) {
            (Some(l), State::SynReceived, State::Listen) => {
                // Back to listening (B-RST-01, B-SYN-01, B-TMR-09).
                self.unbind(ep);
                let rt = &mut self.listeners[l as usize];
                rt.accepted -= 1;
                let conn = rt.conn;
                // A closed listener takes no more connections; its endpoint
                // stays in LISTEN, unreachable, as after close_at.
                if rt.open {
                    rt.idle.push_back(ep);
                }
                let e = &mut self.eps[ep as usize];
                e.remote = None;
                e.conn = conn;
            }
            (Some(l), State::Listen, State::Closed) => {
                self.listeners[l as usize].idle.retain(|&x| x != ep);
            }
            _ => {}
        }
    }

    // ---- sending ----

    fn transmit(&mut self, ep: u32, seg: Segment, injected: bool, sink: &mut dyn TraceSink) {
        let e = &self.eps[ep as usize];
        let (remote, conn) = match (e.remote, self.reply_to) {
            (Some(r), _) => (r, e.conn),
            (None, Some((r, conn))) => (r, conn),
            (None, None) => return,
        };
        let src = (self.model.hosts[e.host as usize].addr, e.local_port);
        let pkt = Packet { seg, src, dst: remote, conn, sender: ep, sender_host: e.host, corrupt: false };
        let name = self.names[e.name as usize].clone();
        if !injected {
            self.eps[ep as usize].log.on_send(seg.flags, self.sched.now());
        }
        self.send_packet(pkt, &name, injected, sink);
    }

    /// Records a send, applies scripted faults and the link, and schedules
    /// the arrival (or records the drop).
    fn send_packet(&mut self, mut pkt: Packet, sender_name: &str, injected: bool, sink: &mut dyn TraceSink) {
        let now = self.sched.now();
        self.stats.segments_sent += 1;
        if pkt.seg.retransmit {
            self.stats.retransmissions += 1;
        }
        let ev = TraceEvent {
            t: now,
            conn: pkt.conn,
            endpoint: sender_name,
            kind: TraceKind::Send { seg: pkt.seg, injected },
            route: Some(pkt.route()),
        };
        Self::emit(&mut self.digest, &mut self.stats, sink, &ev);

        let Some(dst_host) = self.model.hosts.iter().position(|h| h.addr == pkt.dst.0) else {
            return;
        };
        let Some(&dir) = self.routes.get(&(pkt.sender_host, dst_host as HostId)) else {
            self.record_drop_named(&pkt, sender_name, DropReason::NoRoute, sink);
            return;
        };
        if self.partitioned(pkt.sender_host, dst_host as HostId, now) {
            self.record_drop_named(&pkt, sender_name, DropReason::Partition, sink);
            return;
        }
        let (extra_delay, extra_copy) = match self.scripted_fault(&pkt, sender_name) {
            Some(SegmentFaultAction::Drop) => {
                self.record_drop_named(&pkt, sender_name, DropReason::Rule, sink);
                return;
            }
            Some(SegmentFaultAction::Delay(d)) => (d, None),
            Some(SegmentFaultAction::Duplicate(d)) => (Duration::ZERO, Some(d)),
            None => (Duration::ZERO, None),
        };
        let (params, key) = &self.link_dirs[dir as usize];
        let (flow_id, flow) = if pkt.sender == NO_EP {
            (HOST_FLOW_BASE | u64::from(pkt.sender_host), &mut self.host_flows[pkt.sender_host as usize])
        } else {
            let e = &mut self.eps[pkt.sender as usize];
            (e.flow_id, &mut e.flow)
        };
        let queue = &mut self.queues[dir as usize];
        let bytes = wire_bytes(pkt.seg.len, pkt.seg.mss != 0);
        match params.judge(key, flow_id, flow, queue, now, bytes) {
            Verdict::Drop(reason) => self.record_drop_named(&pkt, sender_name, reason, sink),
            Verdict::Deliver { at, corrupt, duplicate, .. } => {
                // A scripted delay counts against the link's segment
                // lifetime like any other time in transit.
                let lifetime = self.link_dirs[dir as usize].0.lifetime;
                if lifetime.is_some_and(|l| l < (at + extra_delay).saturating_since(now)) {
                    self.record_drop_named(&pkt, sender_name, DropReason::Expired, sink);
                    return;
                }
                pkt.corrupt = corrupt;
                if let Some(dup_at) = duplicate {
                    self.schedule_arrival(dup_at + extra_delay, Packet { corrupt: false, ..pkt_copy(&pkt) });
                }
                if let Some(d) = extra_copy {
                    self.schedule_arrival(at + d, Packet { corrupt: false, ..pkt_copy(&pkt) });
                }
                self.schedule_arrival(at + extra_delay, pkt);
            }
        }
    }

    fn schedule_arrival(&mut self, at: Instant, pkt: Packet) {
        let slot = match self.free_packets.pop() {
            Some(s) => {
                self.packets[s as usize] = Some(pkt);
                s
            }
            None => {
                self.packets.push(Some(pkt));
                (self.packets.len() - 1) as u32
            }
        };
        self.sched.schedule(at, Event::Arrive(slot));
    }

    fn partitioned(&self, a: HostId, b: HostId, now: Instant) -> bool {
        self.model.faults.iter().any(|f| match *f {
            Fault::Partition { a: x, b: y, from, to } => {
                ((x, y) == (a, b) || (x, y) == (b, a)) && from <= now && now < to
            }
            _ => false,
        })
    }

    /// The first scripted segment fault that fires for `pkt`, counting a
    /// match for every fault whose filter it passes.
    fn scripted_fault(&mut self, pkt: &Packet, sender_name: &str) -> Option<SegmentFaultAction> {
        let sender_state = (pkt.sender != NO_EP).then(|| self.eps[pkt.sender as usize].tcp.state());
        let mut verdict = None;
        for (i, f) in self.model.faults.iter().enumerate() {
            let Fault::Segment { filter, nth, times, action } = f else {
                continue;
            };
            let seg = &pkt.seg;
            let matches = filter.from.as_deref().is_none_or(|n| n == sender_name)
                && filter.conn.is_none_or(|c| c == pkt.conn)
                && filter.flags.is_none_or(|fl| fl == seg.flags)
                && filter.data.is_none_or(|d| d == (seg.len > 0))
                && filter.state.is_none_or(|s| Some(s) == sender_state)
                && filter.retransmit.is_none_or(|r| r == seg.retransmit);
            if !matches {
                continue;
            }
            self.fault_hits[i] += 1;
            let hit = self.fault_hits[i];
            if verdict.is_none() && *nth <= hit && hit < nth.saturating_add(*times) {
                verdict = Some(*action);
            }
        }
        verdict
    }

    fn record_drop(&mut self, pkt: &Packet, reason: DropReason, sink: &mut dyn TraceSink) {
        let name = if pkt.sender == NO_EP {
            self.model.hosts[pkt.sender_host as usize].name.clone()
        } else {
            self.names[self.eps[pkt.sender as usize].name as usize].clone()
        };
        self.record_drop_named(pkt, &name, reason, sink);
    }

    fn record_drop_named(&mut self, pkt: &Packet, sender_name: &str, reason: DropReason, sink: &mut dyn TraceSink) {
        self.stats.drops[reason as usize] += 1;
        if pkt.sender != NO_EP {
            self.eps[pkt.sender as usize].log.drops += 1;
        }
        let ev = TraceEvent {
            t: self.sched.now(),
            conn: pkt.conn,
            endpoint: sender_name,
            kind: TraceKind::Drop { seg: pkt.seg, reason },
            route: Some(pkt.route()),
        };
        Self::emit(&mut self.digest, &mut self.stats, sink, &ev);
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

    fn emit(digest: &mut Digest, stats: &mut RunStats, sink: &mut dyn TraceSink, ev: &TraceEvent<'_>) {
        digest.add(ev);
        stats.trace_records += 1;
        sink.record(ev);
    }

    // ---- lookups ----

    fn find_ep(&self, conn: u32, name: &str) -> Option<u32> {
        self.eps.iter().position(|e| e.conn == conn && self.names[e.name as usize] == name).map(|i| i as u32)
    }

    fn peer_of(&self, ep: u32) -> Option<u32> {
        let e = &self.eps[ep as usize];
        let (ra, rp) = e.remote?;
        let key = FourTuple {
            local_addr: ra,
            local_port: rp,
            remote_addr: self.model.hosts[e.host as usize].addr,
            remote_port: e.local_port,
        };
        self.demux.get(&key).copied()
    }

    /// The TCP configuration an endpoint uses.
    pub fn config_of(&self, view: &EndpointView<'_>) -> &TcpConfig {
        let e = self.eps.iter().find(|e| std::ptr::eq(&e.tcp, view.tcp)).expect("view of this world");
        &self.model.configs[e.config as usize]
    }
}

impl Packet {
    fn route(&self) -> crate::trace::Route {
        crate::trace::Route { src: self.src, dst: self.dst }
    }
}

fn pkt_copy(p: &Packet) -> Packet {
    Packet {
        seg: p.seg,
        src: p.src,
        dst: p.dst,
        conn: p.conn,
        sender: p.sender,
        sender_host: p.sender_host,
        corrupt: p.corrupt,
    }
}

#[derive(Clone, Copy)]
enum Input {
    Segment(Segment),
    Timeout,
    Call(Action),
}
