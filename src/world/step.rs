//! One step at one endpoint: feed it an input, record what it says, let
//! the application react, dispatch, and send what it emits.

use super::demux::FourTuple;
use super::{AppRef, EndpointSlot, World};
use crate::model::{Action, Host, HostId, Reaction};
use crate::rule;
use crate::tcp::{AppEvent, Call, CallError, Note, Segment, State};
use crate::trace::{TraceEvent, TraceKind, TraceSink};

/// What starts a step.
#[derive(Clone, Copy)]
pub(super) enum Input {
    Segment(Segment),
    Timeout,
    Call(Action),
}

/// Endpoint `ep`'s 4-tuple, from its own point of view (the key the
/// demultiplexer files it under while it is bound).
fn tuple_of(eps: &[EndpointSlot], hosts: &[Host], ep: u32) -> FourTuple {
    let e = &eps[ep as usize];
    FourTuple {
        local_addr: hosts[e.host as usize].addr,
        local_port: e.local_port,
        remote_addr: e.remote_addr,
        remote_port: e.remote_port,
    }
}

impl World {
    pub(super) fn run_step(&mut self, ep: u32, input: Input, sink: &mut dyn TraceSink) {
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
            self.observer.cover(*r);
        }
        let segments = std::mem::take(&mut self.out.segments);
        for seg in &segments {
            self.transmit(ep, *seg, false, sink);
        }
        self.out.segments = segments;
        if self.observer.measures() {
            self.trace_flight(ep, sink);
        }
        self.reschedule_wake(ep);
        if let Some(closing) = self.close_after_step.take() {
            // This step's output is spent, so the CLOSE may run as a step
            // of its own.
            self.run_step(closing, Input::Call(Action::Close), sink);
        }
    }

    /// A `flight` measurement record when `ep`'s bytes in flight, send
    /// window or receive window changed in this step.
    fn trace_flight(&mut self, ep: u32, sink: &mut dyn TraceSink) {
        let e = &self.eps[ep as usize];
        let cfg = &self.model.configs[e.config as usize];
        let (flight, snd_wnd, rcv_wnd) = (e.tcp.flight_size(), e.tcp.snd_wnd(), e.tcp.rcv_wnd(cfg));
        if !self.observer.flight_changed(ep, [flight, snd_wnd, rcv_wnd]) {
            return;
        }
        let ev = TraceEvent {
            t: self.sched.now(),
            conn: e.conn,
            ep,
            endpoint: &self.names[e.name_id as usize],
            kind: TraceKind::Flight { flight, snd_wnd, rcv_wnd },
            route: None,
            pkt: None,
            lost_eps: &[],
        };
        self.observer.emit_measurement(sink, &ev);
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
        // The application's last word counts: CLOSE marks the endpoint
        // closed by its application, a successful new OPEN clears that.
        match action {
            Action::Close => self.observer.log_mut(ep).app_closed = true,
            Action::Connect | Action::Listen if result.is_ok() => self.observer.log_mut(ep).app_closed = false,
            _ => {}
        }
        let e = &self.eps[ep as usize];
        let kind = TraceKind::App { call, bytes, error: result.err() };
        self.counts.trace_records += 1;
        self.observer.emit_parts(sink, self.sched.now(), e.conn, ep, &self.names[e.name_id as usize], kind);
    }

    /// Active OPEN: binds a local port, then asks TCP to connect.
    fn connect(&mut self, ep: u32) -> Result<(), CallError> {
        let e = &self.eps[ep as usize];
        if e.tcp.state() != State::Closed && e.tcp.state() != State::Listen {
            // TCP refuses it (B-APP-04) without changing anything.
            return self.eps[ep as usize].tcp.connect(&mut self.out);
        }
        let remote = match e.app() {
            AppRef::Client(ci) => {
                let c = &self.model.connections[ci as usize];
                (self.model.hosts[c.remote_host as usize].addr, c.remote_port)
            }
            AppRef::Peer(_) | AppRef::Listener(_) if e.has_remote() => e.remote(),
            AppRef::Peer(_) | AppRef::Listener(_) => return Err(CallError::RemoteUnspecified),
        };
        let (host, fixed_port) = (e.host, e.local_port);
        let Some(port) = (if fixed_port != 0 { Some(fixed_port) } else { self.ephemeral_port(host, remote) }) else {
            self.observer.cover(rule::APP_04);
            return Err(CallError::ConnectionExists);
        };
        let addr = self.model.hosts[host as usize].addr;
        let key = FourTuple { local_addr: addr, local_port: port, remote_addr: remote.0, remote_port: remote.1 };
        if let Some(other) = self.owner(&key)
            && other != ep
            && self.eps[other as usize].tcp.state() != State::Closed
        {
            // The 4-tuple is still in use (e.g. by a TIME_WAIT endpoint):
            // an OPEN of an existing connection (B-APP-04).
            self.observer.cover(rule::APP_04);
            return Err(CallError::ConnectionExists);
        }
        let e = &mut self.eps[ep as usize];
        e.set_tuple(port, remote);
        self.bind(ep);
        self.eps[ep as usize].tcp.connect(&mut self.out)
    }

    fn ephemeral_port(&mut self, host: HostId, remote: (u32, u16)) -> Option<u16> {
        let addr = self.model.hosts[host as usize].addr;
        let (eps, hosts) = (&self.eps, &self.model.hosts);
        self.demux.ephemeral_port(
            host,
            addr,
            remote,
            |o| tuple_of(eps, hosts, o),
            |o| eps[o as usize].tcp.state() == State::Closed,
        )
    }

    fn tuple_of(&self, ep: u32) -> FourTuple {
        tuple_of(&self.eps, &self.model.hosts, ep)
    }

    /// The endpoint that owns `key`, if one does.
    pub(super) fn owner(&self, key: &FourTuple) -> Option<u32> {
        self.demux.owner(key, |o| tuple_of(&self.eps, &self.model.hosts, o))
    }

    /// Makes `ep` the owner of its 4-tuple (replacing a closed owner).
    pub(super) fn bind(&mut self, ep: u32) {
        let key = self.tuple_of(ep);
        let (eps, hosts) = (&self.eps, &self.model.hosts);
        if let Some(old) = self.demux.bind(key, ep, |o| tuple_of(eps, hosts, o)) {
            self.eps[old as usize].set_bound(false);
        }
        self.eps[ep as usize].set_bound(true);
    }

    pub(super) fn unbind(&mut self, ep: u32) {
        if !self.eps[ep as usize].bound() {
            return;
        }
        let key = self.tuple_of(ep);
        self.demux.unbind(&key, ep);
        self.eps[ep as usize].set_bound(false);
    }

    /// The application's synchronous reactions to an event.
    fn react(&mut self, ep: u32, ev: AppEvent, sink: &mut dyn TraceSink) {
        let app = self.eps[ep as usize].app();
        if ev == AppEvent::Connected
            && let AppRef::Listener(_) = app
        {
            // A listener's script counts from establishment.
            let e = &mut self.eps[ep as usize];
            e.script_base = self.sched.now();
            e.script_pos = 0;
            self.schedule_script(ep);
        }
        // By index: each call needs the world mutably, and the model's
        // reaction lists never change during a run.
        for i in 0..self.reactions(app, ev).len() {
            let action = match self.reactions(app, ev)[i] {
                Reaction::Send(n) => Action::Send(n),
                Reaction::Close => Action::Close,
                Reaction::Abort => Action::Abort,
                Reaction::PauseRead => Action::PauseRead,
                Reaction::ResumeRead => Action::ResumeRead,
            };
            self.call(ep, action, sink);
        }
    }

    /// What the application does, synchronously, when `ev` happens.
    fn reactions(&self, app: AppRef, ev: AppEvent) -> &[Reaction] {
        match ev {
            AppEvent::Connected => &self.app_of(app).on_connected,
            AppEvent::PeerClosed => &self.app_of(app).on_end_of_stream,
            _ => &[],
        }
    }

    // Inlined into `run_step`'s two loops: a note is handed over without
    // a copy or a call (about 35 instructions a note less, callgrind).
    #[inline(always)]
    fn record_note(&mut self, ep: u32, note: Note, sink: &mut dyn TraceSink) {
        let now = self.sched.now();
        let kind = match note {
            Note::Transition { from, to, cause, rule, reason } => {
                self.observer.on_transition(ep, from, to, now);
                TraceKind::Transition { from, to, cause, rule, reason }
            }
            Note::Timer { timer, action, deadline } => TraceKind::Timer { timer, action, deadline },
            Note::Event(ev) => {
                if let AppEvent::Data { .. } = ev {
                    self.observer.on_data(ep, now);
                }
                TraceKind::Event(ev)
            }
            Note::Congestion { cwnd, ssthresh, pipe, cubic } => {
                let flight = self.observer.measures().then(|| self.eps[ep as usize].tcp.flight_size());
                if let Some(f) = flight {
                    // The flight as of this note, before the step's sends:
                    // the step's closing `flight` record compares with it,
                    // so a step that empties the pipe and refills it ends
                    // with a record of what it left in flight.
                    self.observer.set_last_flight(ep, f);
                }
                TraceKind::Congestion { cwnd, ssthresh, pipe, cubic, flight }
            }
            Note::Rtt { sample, source, srtt, rttvar, rto } => {
                // Samples of endpoints without timestamps were never
                // traced: they are measurement records, out of the digest.
                let measurement = !self.model.configs[self.eps[ep as usize].config as usize].timestamps;
                if measurement && !self.observer.measures() {
                    return;
                }
                TraceKind::Rtt { sample, source, srtt, rttvar, rto, measurement }
            }
        };
        let e = &self.eps[ep as usize];
        let endpoint = &self.names[e.name_id as usize];
        if kind.is_measurement() {
            let ev = TraceEvent { t: now, conn: e.conn, ep, endpoint, kind, route: None, pkt: None, lost_eps: &[] };
            self.observer.emit_measurement(sink, &ev);
        } else {
            // Built into a record only if the sink takes one; the digest
            // reads the parts.
            self.counts.trace_records += 1;
            self.observer.emit_parts(sink, now, e.conn, ep, endpoint, kind);
        }
        // After recording, so the transition is traced under the
        // connection it happened in.
        if let Note::Transition { from, to, .. } = note {
            self.on_transition(ep, from, to);
        }
    }

    /// Keeps demultiplexing in step with the endpoint's state.
    // Inlined: most transitions are of endpoints no listener spawned, and
    // they need no call (about 12 instructions a transition, callgrind).
    #[inline(always)]
    fn on_transition(&mut self, ep: u32, from: State, to: State) {
        if let Some(l) = self.eps[ep as usize].listener() {
            self.on_listener_transition(l, ep, from, to);
        }
    }

    /// A transition of an endpoint that listener `l` spawned.
    #[inline(never)]
    fn on_listener_transition(&mut self, l: u32, ep: u32, from: State, to: State) {
        match (from, to) {
            (State::SynReceived, State::Listen) => {
                // Back to listening (B-RST-01, B-SYN-01, B-TMR-09).
                self.unbind(ep);
                let rt = &mut self.demux.listeners[l as usize];
                rt.accepted -= 1;
                let conn = rt.conn;
                // A closed listener takes no more connections: its
                // application closed every listening endpoint at close_at,
                // so this one is closed too (B-APP-10) rather than left
                // listening, unreachable, for an application that is gone.
                if rt.open {
                    rt.idle.push_back(ep);
                } else {
                    self.close_after_step = Some(ep);
                }
                let e = &mut self.eps[ep as usize];
                e.set_tuple(e.local_port, (0, 0));
                e.conn = conn;
            }
            (State::Listen, State::Closed) => {
                self.demux.listeners[l as usize].idle.retain(|&x| x != ep);
            }
            (_, State::Established) => {
                let e = &self.eps[ep as usize];
                self.observer.on_connection_settled(ep, e.conn, e.name_id);
            }
            _ => {}
        }
    }
}
