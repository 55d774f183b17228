//! Segments between endpoints: the send path's ordered stages (route,
//! partition, scripted fault, the link or a replayed fate, lifetime),
//! arrivals (demultiplexing, listeners, hosts that answer for closed
//! ports), injected segments. What the stages consult of the network
//! itself is in [`super::network::Network`].

use super::demux::FourTuple;
use super::network::Flow;
use super::{Event, NO_EP, Packet, World, step::Input};
use crate::link::{DropReason, LinkVerdict, wire_bytes};
use crate::model::{Fault, HostId, SegmentFaultAction};
use crate::rule;
use crate::tcp::{Options, PayloadTag, Segment, SeqNum, State, Timestamps};
use crate::time::{Duration, Instant};
use crate::trace::{Discard, PacketId, Route, TraceEvent, TraceKind, TraceSink};

impl Packet {
    fn route(&self) -> Route {
        Route { src: self.src, dst: self.dst }
    }

    fn id(&self) -> PacketId {
        PacketId { pkt: self.pkt, copy: self.copy }
    }
}

/// The stages a segment passes before the link, in the order they run.
/// (A route is looked up first; the link and the segment's lifetime come
/// last.) Plain values dispatched by `match`: nothing is boxed or
/// allocated per segment.
#[derive(Clone, Copy)]
enum Stage {
    /// The hosts are cut off from each other now.
    Partition,
    /// The first scripted segment fault that fires.
    ScriptedFault,
}

/// What a stage decides about a segment.
enum StageVerdict {
    Pass,
    Drop(DropReason),
    /// It goes on, delayed or copied by a script.
    Alter(Scripted),
}

/// A scripted change to a segment that goes on to the link.
#[derive(Clone, Copy, Default)]
struct Scripted {
    /// Added to its arrival (and its link copy's).
    delay: Duration,
    /// A scripted copy arriving this long after it.
    copy: Option<Duration>,
}

impl World {
    pub(super) fn on_inject(&mut self, f: u32, sink: &mut dyn TraceSink) {
        let Fault::Inject { conn, ref from, flags, seq, ack, len, wnd, tsval, .. } = self.model.faults[f as usize]
        else {
            return;
        };
        let Some(sender) = self.find_ep(conn, from) else { return };
        self.count_event();
        let s = &self.eps[sender as usize];
        let peer_iss = self.peer_of(sender).map_or(0, |p| self.eps[p as usize].tcp.iss().0);
        // B-WS-04: the receiver scales a non-SYN window by the sender's
        // shift, so the forged segment says it did, as the sender's own
        // segments do and the trace's `wnd_scaled` shows.
        let wnd_shift = if flags.syn() { None } else { s.tcp.window_shifts().map(|(ours, _)| ours) };
        let seg = Segment {
            seq: SeqNum(s.tcp.iss().0.wrapping_add(seq as u32)),
            ack: if flags.ack() { SeqNum(peer_iss.wrapping_add(ack as u32)) } else { SeqNum(0) },
            flags,
            wnd,
            len,
            mss: 0,
            // RFC 7323: the forged TSval, echoing what the sender echoes.
            opts: Options::NONE
                .with_ts(tsval.map(|tsval| Timestamps { tsval, tsecr: s.tcp.ts_recent() }))
                .with_wnd_shift(wnd_shift),
            payload: PayloadTag { stream: s.tcp.stream(), offset: seq.wrapping_sub(1) as u32 },
            retransmit: false,
            ..Segment::default()
        };
        self.transmit(sender, seg, true, sink);
    }

    /// The endpoint bound at the other end of `ep`'s 4-tuple.
    pub(super) fn peer_of(&self, ep: u32) -> Option<u32> {
        let e = &self.eps[ep as usize];
        if !e.has_remote() {
            return None;
        }
        let key = FourTuple {
            local_addr: e.remote_addr,
            local_port: e.remote_port,
            remote_addr: self.model.hosts[e.host as usize].addr,
            remote_port: e.local_port,
        };
        self.owner(&key)
    }

    pub(super) fn on_arrive(&mut self, p: u32, sink: &mut dyn TraceSink) {
        let pkt = self.network.take(p);
        self.count_event();
        if !self.host_up[pkt.dst_host as usize] {
            self.record_drop(&pkt, DropReason::HostDown, sink);
            return;
        }
        if pkt.corrupt {
            // The receiver's checksum check discards it.
            self.record_drop(&pkt, DropReason::Corrupt, sink);
            return;
        }
        // Fast path: the hinted endpoint still owns this 4-tuple, so the
        // table would name it too.
        if pkt.dst_hint != NO_EP {
            let e = &self.eps[pkt.dst_hint as usize];
            if e.bound()
                && e.remote() == pkt.src
                && e.local_port == pkt.dst.1
                && e.host == pkt.dst_host
                && e.tcp.state() != State::Closed
            {
                self.deliver(pkt.dst_hint, &pkt, sink);
                return;
            }
        }
        let key =
            FourTuple { local_addr: pkt.dst.0, local_port: pkt.dst.1, remote_addr: pkt.src.0, remote_port: pkt.src.1 };
        let bound = self.owner(&key);
        if let Some(ep) = bound
            && self.eps[ep as usize].tcp.state() != State::Closed
        {
            self.deliver(ep, &pkt, sink);
            return;
        }
        if let Some(l) = self.demux.listener_at(pkt.dst.0, pkt.dst.1)
            && let Some(&ep) = self.demux.listeners[l as usize].idle.front()
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
        let rt = &mut self.demux.listeners[l as usize];
        rt.idle.pop_front();
        rt.accepted += 1;
        let e = &mut self.eps[ep as usize];
        e.set_tuple(e.local_port, pkt.src);
        e.conn = pkt.conn;
        self.bind(ep);
    }

    fn deliver(&mut self, ep: u32, pkt: &Packet, sink: &mut dyn TraceSink) {
        self.observer.stats.deliveries += 1;
        let e = &mut self.eps[ep as usize];
        if pkt.sender != NO_EP {
            e.peer = pkt.sender;
        }
        // B-TS-05, B-TS-08: a PAWS discard, or a segment dropped for
        // lacking timestamps, is the receiver's, traced on its delivery.
        let discard = if e.tcp.paws_rejects(&pkt.seg) {
            Some(Discard::Paws)
        } else {
            e.tcp.lacks_timestamp(&pkt.seg).then_some(Discard::NoTimestamp)
        };
        // Under the segment's connection, as its send: a listening
        // endpoint's own number is not the segment's.
        let ev = TraceEvent {
            t: self.sched.now(),
            conn: pkt.conn,
            ep,
            endpoint: &self.names[e.name_id as usize],
            kind: TraceKind::Deliver { seg: pkt.seg, discard },
            route: Some(pkt.route()),
            pkt: Some(pkt.id()),
            lost_eps: &[],
        };
        super::emit(&mut self.observer, &mut self.counts, sink, &ev);
        // An endpoint with no peer (LISTEN, or CLOSED before binding)
        // answers resets to where the segment came from.
        self.reply_to = Some((pkt.src, pkt.conn, pkt.sender));
        self.run_step(ep, Input::Segment(pkt.seg), sink);
        self.reply_to = None;
    }

    /// No endpoint and no listener: the host answers as RFC 9293
    /// §3.10.7.1 says for CLOSED.
    fn host_reply(&mut self, pkt: &Packet, sink: &mut dyn TraceSink) {
        let host = pkt.dst_host;
        let name = self.host_name[host as usize];
        let ev = TraceEvent {
            t: self.sched.now(),
            conn: pkt.conn,
            ep: NO_EP,
            endpoint: &self.names[name as usize],
            kind: TraceKind::Deliver { seg: pkt.seg, discard: None },
            route: Some(pkt.route()),
            pkt: Some(pkt.id()),
            lost_eps: &[],
        };
        super::emit(&mut self.observer, &mut self.counts, sink, &ev);
        let rule = if pkt.seg.flags.rst() {
            rule::CLOSED_03
        } else if pkt.seg.flags.ack() {
            rule::CLOSED_02
        } else {
            rule::CLOSED_01
        };
        self.observer.cover(rule);
        if let Some(rst) = Segment::reset_reply(&pkt.seg) {
            let reply = Packet {
                seg: rst,
                src: pkt.dst,
                dst: pkt.src,
                conn: pkt.conn,
                sender: NO_EP,
                sender_name_id: name,
                sender_host: host,
                dst_host: pkt.sender_host,
                dst_hint: pkt.sender,
                corrupt: false,
                copy: 0,
                pkt: 0,
            };
            self.send_packet(reply, false, sink);
        }
    }

    /// Sends a segment `ep` emitted (or that a fault injects in its name).
    pub(super) fn transmit(&mut self, ep: u32, seg: Segment, injected: bool, sink: &mut dyn TraceSink) {
        let e = &self.eps[ep as usize];
        let (remote, conn, hint) = match (e.has_remote(), self.reply_to) {
            (true, _) => (e.remote(), e.conn, e.peer),
            (false, Some((r, conn, sender))) => (r, conn, sender),
            (false, None) => return,
        };
        let Some(dst_host) = self.network.host_at(remote.0) else { return };
        let pkt = Packet {
            seg,
            src: (self.model.hosts[e.host as usize].addr, e.local_port),
            dst: remote,
            conn,
            sender: ep,
            sender_name_id: e.name_id,
            sender_host: e.host,
            dst_host,
            dst_hint: hint,
            corrupt: false,
            copy: 0,
            pkt: 0,
        };
        if injected {
            self.injected_segments += 1;
        } else {
            self.observer.log_mut(ep).on_send(seg.flags, self.sched.now(), seg.retransmit);
        }
        self.send_packet(pkt, injected, sink);
    }

    /// Records a send, runs it through the send path's stages in their
    /// fixed order (route, partition, scripted fault, link), and schedules
    /// the arrival (or records the drop).
    fn send_packet(&mut self, mut pkt: Packet, injected: bool, sink: &mut dyn TraceSink) {
        let now = self.sched.now();
        self.observer.on_send(pkt.seg.retransmit);
        pkt.pkt = self.network.number_transmission();
        let ev = TraceEvent {
            t: now,
            conn: pkt.conn,
            ep: pkt.sender,
            endpoint: &self.names[pkt.sender_name_id as usize],
            kind: TraceKind::Send { seg: pkt.seg, injected },
            route: Some(pkt.route()),
            pkt: Some(pkt.id()),
            lost_eps: &[],
        };
        super::emit(&mut self.observer, &mut self.counts, sink, &ev);

        // `Fate` faults number every segment sent, whatever then happens
        // to it; segment faults count only those that reach a link.
        let nth = self.network.number_send(pkt.sender_name_id, pkt.conn);
        let Some(dir) = self.network.route(pkt.sender_host, pkt.dst_host) else {
            return self.record_drop(&pkt, DropReason::NoRoute, sink);
        };
        let mut scripted = Scripted::default();
        for stage in [Stage::Partition, Stage::ScriptedFault] {
            match self.run_stage(stage, &pkt, now) {
                StageVerdict::Pass => {}
                StageVerdict::Drop(reason) => return self.record_drop(&pkt, reason, sink),
                StageVerdict::Alter(change) => scripted = change,
            }
        }
        let verdict = self.link_stage(&pkt, dir, nth, now);
        if self.observer.measures()
            && let Some(backlog_bytes) = self.network.backlog_bytes(dir, now)
        {
            let ev = TraceEvent {
                t: now,
                conn: pkt.conn,
                ep: pkt.sender,
                endpoint: &self.names[pkt.sender_name_id as usize],
                kind: TraceKind::Queue { link: dir / 2, a_to_b: dir % 2 == 0, backlog_bytes },
                route: None,
                pkt: Some(pkt.id()),
                lost_eps: &[],
            };
            self.observer.emit_measurement(sink, &ev);
        }
        self.deliver_by(pkt, verdict, scripted, dir, now, sink);
    }

    /// One stage of the send path, before the link.
    fn run_stage(&mut self, stage: Stage, pkt: &Packet, now: Instant) -> StageVerdict {
        match stage {
            Stage::Partition if self.has_partitions && self.partitioned(pkt.sender_host, pkt.dst_host, now) => {
                StageVerdict::Drop(DropReason::Partition)
            }
            Stage::ScriptedFault if self.has_segment_faults => match self.scripted_fault(pkt) {
                Some(SegmentFaultAction::Drop) => StageVerdict::Drop(DropReason::Rule),
                Some(SegmentFaultAction::Delay(d)) => StageVerdict::Alter(Scripted { delay: d, copy: None }),
                Some(SegmentFaultAction::Duplicate(d)) => {
                    StageVerdict::Alter(Scripted { delay: Duration::ZERO, copy: Some(d) })
                }
                None => StageVerdict::Pass,
            },
            Stage::Partition | Stage::ScriptedFault => StageVerdict::Pass,
        }
    }

    /// The link direction `dir` decides: by a recorded `Fate` for this
    /// send if the scenario has one, else by its own draws (recorded when
    /// the observer keeps them).
    fn link_stage(&mut self, pkt: &Packet, dir: u32, nth: u32, now: Instant) -> LinkVerdict {
        let flow = if pkt.sender == NO_EP {
            Flow::Host(pkt.sender_host)
        } else {
            let e = &mut self.eps[pkt.sender as usize];
            Flow::Endpoint { id: e.flow_id(), state: &mut e.flow }
        };
        let bytes = wire_bytes(&pkt.seg);
        // No lookup unless fates are in play: this is the path of every send.
        let fate = if self.fates.is_empty() {
            None
        } else {
            self.fates.get(&(pkt.sender_name_id, pkt.conn, nth)).and_then(|&f| match &self.model.faults[f as usize] {
                Fault::Fate { fate, .. } => Some(*fate),
                _ => None,
            })
        };
        let (verdict, params) = self.network.judge(dir, flow, fate.as_ref(), now, bytes);
        if fate.is_none()
            && self.observer.records_fates()
            && let Some(fate) = params.fate_of(&verdict)
        {
            let from = || self.names[pkt.sender_name_id as usize].clone();
            self.observer.record_fate(from, pkt.conn, nth, fate);
        }
        verdict
    }

    /// Carries out the link's verdict with the scripted change: the
    /// segment's lifetime on the link, then its copies and itself.
    fn deliver_by(
        &mut self,
        mut pkt: Packet,
        verdict: LinkVerdict,
        scripted: Scripted,
        dir: u32,
        now: Instant,
        sink: &mut dyn TraceSink,
    ) {
        let Scripted { delay: extra_delay, copy: extra_copy } = scripted;
        match verdict {
            LinkVerdict::Drop(reason) => self.record_drop(&pkt, reason, sink),
            LinkVerdict::Deliver { at, corrupt, duplicate, .. } => {
                // Scripted delays and copies count against the link's
                // segment lifetime like any other time in transit.
                let lifetime = self.network.lifetime(dir);
                let expired = |arrival: Instant| lifetime.is_some_and(|l| l < arrival.saturating_since(now));
                if expired(at + extra_delay) {
                    self.record_drop(&pkt, DropReason::Expired, sink);
                    return;
                }
                pkt.corrupt = corrupt;
                // Copies keep the transmission's `pkt` and are numbered in
                // the order they are made: the link's, then the script's.
                let mut copies = 0;
                if let Some(dup_at) = duplicate {
                    copies += 1;
                    self.schedule_arrival(dup_at + extra_delay, Packet { corrupt: false, copy: copies, ..pkt });
                }
                if let Some(d) = extra_copy
                    && !expired(at + d)
                {
                    copies += 1;
                    self.schedule_arrival(at + d, Packet { corrupt: false, copy: copies, ..pkt });
                }
                self.schedule_arrival(at + extra_delay, pkt);
            }
        }
    }

    fn schedule_arrival(&mut self, at: Instant, pkt: Packet) {
        let slot = self.network.park(pkt);
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
    fn scripted_fault(&mut self, pkt: &Packet) -> Option<SegmentFaultAction> {
        let sender_state = (pkt.sender != NO_EP).then(|| self.eps[pkt.sender as usize].tcp.state());
        let mut verdict = None;
        for (i, f) in self.model.faults.iter().enumerate() {
            let Fault::Segment { filter, nth, times, action } = f else { continue };
            let seg = &pkt.seg;
            let matches = self.fault_from[i].is_none_or(|n| n == pkt.sender_name_id)
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

    pub(super) fn record_drop(&mut self, pkt: &Packet, reason: DropReason, sink: &mut dyn TraceSink) {
        self.observer.on_drop((pkt.sender != NO_EP).then_some(pkt.sender), reason);
        let ev = TraceEvent {
            t: self.sched.now(),
            conn: pkt.conn,
            ep: pkt.sender,
            endpoint: &self.names[pkt.sender_name_id as usize],
            kind: TraceKind::Drop { seg: pkt.seg, reason },
            route: Some(pkt.route()),
            pkt: Some(pkt.id()),
            lost_eps: &[],
        };
        super::emit(&mut self.observer, &mut self.counts, sink, &ev);
    }
}
