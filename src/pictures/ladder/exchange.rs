//! The ladder's picture of one connection's exchange: what happened to
//! each of its segments, inferred from trace events alone, as plain data
//! both renderings draw.
//!
//! [`Exchange::build`] places every event on one of the connection's ends,
//! joins each `deliver` or `drop` to its `send` by `pkt` (or, for events
//! without one, to the earliest matching segment in flight), marks link
//! copies as duplicates and overtaken deliveries as reordered, keeps the
//! state changes and timers of interest as notes, and labels segments with
//! sequence numbers relative to each end's ISN. Nothing here knows about
//! SVG or terminals.

use super::{IsnLog, MAX_ARROWS, RouteKey, route_key};
use crate::link::DropReason;
use crate::tcp::{CloseReason, SackBlock, Segment, State, Timer, TimerAction};
use crate::time::{Duration, Instant};
use crate::trace::{ConnMembers, OwnedEvent, PacketId, TraceKind};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Identifies one end of the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SideKey {
    Addr(u32, u16),
    /// An endpoint whose address the events never showed.
    Name(String),
}

pub(super) struct Side {
    key: SideKey,
    names: Vec<String>,
    /// The initial sequence number in force (of the latest SYN sent).
    isn: Option<u32>,
    /// The first ISN, for the legend.
    pub(super) first_isn: Option<u32>,
    /// The state before the first transition seen.
    pub(super) first_state: Option<State>,
}

impl Side {
    pub(super) fn label(&self) -> String {
        if self.names.is_empty() { self.address() } else { self.names.join(" / ") }
    }

    pub(super) fn address(&self) -> String {
        match &self.key {
            SideKey::Addr(a, p) => format!("{}.{}.{}.{}:{p}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff),
            SideKey::Name(_) => "address unknown".to_string(),
        }
    }
}

/// How one transmission ended, as far as the events tell: delivered,
/// dropped by the link, or not known. (Not the link's `Fate`, which says
/// what the link did to a segment, for replay.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TransmissionEnd {
    Delivered(Instant),
    Lost {
        at: Instant,
        reason: DropReason,
    },
    /// No delivery or drop in the events (still in flight at the end, or
    /// filtered out).
    Unknown,
}

pub(super) struct Arrow {
    pub(super) from: usize,
    pub(super) to: usize,
    pub(super) seg: Segment,
    /// `None`: a delivery whose send is not in the events.
    pub(super) sent: Option<Instant>,
    pub(super) ending: TransmissionEnd,
    pub(super) injected: bool,
    pub(super) duplicate: bool,
    pub(super) reordered: bool,
    /// `Some(c)`: another connection's segment that arrived at one of this
    /// connection's endpoints (its send is on connection `c`'s ladder).
    foreign_conn: Option<u32>,
    label: String,
    /// Index of the event that created it, for trace order in text.
    pub(super) order: usize,
}

impl Arrow {
    /// When the arrow starts: its send, or its delivery if no send is known.
    pub(super) fn start(&self) -> Instant {
        match (self.sent, self.ending) {
            (Some(t), _) => t,
            (None, TransmissionEnd::Delivered(t) | TransmissionEnd::Lost { at: t, .. }) => t,
            (None, TransmissionEnd::Unknown) => Instant::ZERO,
        }
    }

    fn suffix(&self) -> String {
        let mut s = String::new();
        if self.seg.retransmit {
            s.push_str(" retransmit");
        }
        if self.duplicate {
            s.push_str(" dup");
        }
        if self.reordered {
            s.push_str(" reordered");
        }
        if self.injected {
            s.push_str(" injected");
        }
        if let TransmissionEnd::Lost { reason, .. } = self.ending {
            let _ = write!(s, " lost: {reason}");
        }
        if let Some(c) = self.foreign_conn {
            let _ = write!(s, " of conn {c}");
        }
        s
    }

    pub(super) fn full_label(&self) -> String {
        format!("{}{}", self.label, self.suffix())
    }
}

/// A `deliver` or `drop` that names its transmission.
struct EndingEvent {
    from: usize,
    to: usize,
    seg: Segment,
    id: PacketId,
    order: usize,
}

enum NoteKind {
    State { to: State, reason: Option<CloseReason> },
    Timer { timer: Timer, action: TimerAction, after: Option<Duration> },
}

pub(super) struct Note {
    pub(super) t: Instant,
    pub(super) side: usize,
    kind: NoteKind,
    pub(super) order: usize,
}

impl Note {
    pub(super) fn text(&self) -> String {
        match self.kind {
            NoteKind::State { to, reason: Some(r) } if r != CloseReason::Normal => format!("{to} ({r})"),
            NoteKind::State { to, .. } => to.to_string(),
            NoteKind::Timer { timer, action, after: Some(d) } => format!("{timer} {} {d}", action.name()),
            NoteKind::Timer { timer, action, after: None } => format!("{timer} {}", action.name()),
        }
    }

    pub(super) fn is_state(&self) -> bool {
        matches!(self.kind, NoteKind::State { .. })
    }
}

/// Timers worth a label: the ones that explain a close or a
/// retransmission. Retransmission timer starts and stops happen on every
/// segment and would bury the picture.
fn timer_of_interest(timer: Timer, action: TimerAction) -> bool {
    match timer {
        Timer::TimeWait => action != TimerAction::Stop,
        Timer::FinWait2 => matches!(action, TimerAction::Start | TimerAction::Fire),
        Timer::Retransmit | Timer::UserTimeout | Timer::Persist => action == TimerAction::Fire,
        Timer::DelayedAck => false,
    }
}

/// One connection's exchange as the ladder draws it: its two ends, one
/// arrow per transmission and notes for state changes and timers, all
/// inferred from trace events.
pub(super) struct Exchange {
    pub(super) sides: Vec<Side>,
    pub(super) arrows: Vec<Arrow>,
    pub(super) notes: Vec<Note>,
    /// Where the ladder was cut (more than `limit` segments).
    pub(super) truncated_at: Option<Instant>,
    /// The most arrows drawn: [`MAX_ARROWS`], or fewer where the picture
    /// would otherwise grow taller than a renderer draws.
    pub(super) limit: usize,
    /// Whether any delivery or drop (any transmission's end) was among the
    /// events (with `--kinds send`, none is, and arrival times are simply
    /// unknown).
    pub(super) has_endings: bool,
    /// The median one-way delay of delivered segments (ns), at least 1 µs.
    pub(super) typical_delay: u64,
    /// The arrows (by index) whose delivery or drop the events leave out
    /// but the run had: they ended outside a time window, not in flight.
    pub(super) ended_outside: BTreeSet<usize>,
}

impl Exchange {
    /// The exchange of connection `conn` in `events`; `isns` (learned
    /// from the whole run) gives each end's ISN where the events start
    /// after its SYN.
    pub(super) fn build(events: &[OwnedEvent], conn: u32, isns: &IsnLog) -> Exchange {
        Exchange::build_limited(events, conn, isns, MAX_ARROWS)
    }

    /// [`Exchange::build`], cut after `limit` arrows.
    pub(super) fn build_limited(events: &[OwnedEvent], conn: u32, isns: &IsnLog, limit: usize) -> Exchange {
        // The connection's routes: deliveries and drops on them recorded
        // under another connection number still end its segments.
        let mut routes: Vec<RouteKey> =
            events.iter().filter(|e| e.conn == conn).filter_map(|e| e.route.map(route_key)).collect();
        routes.sort_unstable();
        routes.dedup();
        let relevant: Vec<&OwnedEvent> = events
            .iter()
            .filter(|e| {
                e.conn == conn
                    || (matches!(e.kind, TraceKind::Deliver { .. } | TraceKind::Drop { .. })
                        && e.route.is_some_and(|r| routes.binary_search(&route_key(r)).is_ok()))
            })
            .collect();
        // Each endpoint name belongs to the end its routed events name.
        let mut name_keys: Vec<(&str, SideKey)> = Vec::new();
        for e in relevant.iter().filter(|e| e.conn == conn) {
            let key = match (e.kind, e.route) {
                (TraceKind::Send { .. } | TraceKind::Drop { .. }, Some(r)) => SideKey::Addr(r.src.0, r.src.1),
                (TraceKind::Deliver { .. }, Some(r)) => SideKey::Addr(r.dst.0, r.dst.1),
                _ => continue,
            };
            if !name_keys.iter().any(|(n, _)| *n == e.endpoint) {
                name_keys.push((&e.endpoint, key));
            }
        }
        let key_of = |name: &str| {
            name_keys
                .iter()
                .find(|(n, _)| *n == name)
                .map_or_else(|| SideKey::Name(name.to_string()), |(_, k)| k.clone())
        };
        let mut exchange = Exchange {
            sides: Vec::new(),
            arrows: Vec::new(),
            notes: Vec::new(),
            truncated_at: None,
            limit,
            has_endings: false,
            typical_delay: 0,
            ended_outside: BTreeSet::new(),
        };
        let mut members = ConnMembers::new(conn);
        // Arrows not yet delivered or dropped, oldest first.
        let mut in_flight: Vec<usize> = Vec::new();
        // The arrow of each transmission, by `pkt`.
        let mut by_pkt: BTreeMap<u64, usize> = BTreeMap::new();
        for (order, e) in relevant.into_iter().enumerate() {
            let known_sides = exchange.sides.len();
            // Another connection's record: a delivery or drop on one of
            // this connection's routes.
            let foreign = e.conn != conn;
            let (own, src, dst) = match e.route {
                Some(r) if foreign => {
                    let (src, dst) = (
                        exchange.side(SideKey::Addr(r.src.0, r.src.1)),
                        exchange.side(SideKey::Addr(r.dst.0, r.dst.1)),
                    );
                    (dst, src, dst)
                }
                _ => {
                    let own = exchange.side(key_of(&e.endpoint));
                    if !exchange.sides[own].names.contains(&e.endpoint) {
                        exchange.sides[own].names.push(e.endpoint.clone());
                    }
                    match e.route {
                        Some(r) => (
                            own,
                            exchange.side(SideKey::Addr(r.src.0, r.src.1)),
                            exchange.side(SideKey::Addr(r.dst.0, r.dst.1)),
                        ),
                        None => (own, own, own),
                    }
                }
            };
            // An end first seen here may have sent its SYN before the
            // events begin (a time window): its ISN comes from the run.
            for side in known_sides..exchange.sides.len() {
                if let SideKey::Addr(addr, port) = exchange.sides[side].key
                    && let Some(isn) = isns.at((addr, port), e.t)
                {
                    exchange.set_isn(side, isn);
                }
            }
            members.observe(&e.as_event());
            if foreign {
                // Another connection's segment: drawn only where it
                // reached one of this connection's endpoints (an old
                // duplicate on the same 4-tuple), as an arrival without a
                // send, labelled with its connection.
                if let TraceKind::Deliver { seg, .. } = e.kind
                    && members.is_stray_segment(&e.as_event())
                {
                    exchange.has_endings = true;
                    exchange.orphan(src, dst, seg, TransmissionEnd::Delivered(e.t), order);
                    if let Some(a) = exchange.arrows.last_mut().filter(|a| a.order == order) {
                        a.foreign_conn = Some(e.conn);
                    }
                }
                continue;
            }
            match e.kind {
                TraceKind::Send { seg, injected } => {
                    if exchange.arrows.len() >= exchange.limit {
                        exchange.truncated_at = Some(e.t);
                        break;
                    }
                    // A side's ISN is its first SYN's, or a later SYN of a new
                    // incarnation; never an injected (old duplicate) SYN,
                    // which would shift every later number.
                    if seg.flags.syn() && !injected && (exchange.sides[src].isn.is_none() || !seg.retransmit) {
                        exchange.set_isn(src, seg.seq.0);
                    }
                    let label = exchange.label(&seg, src, dst);
                    in_flight.push(exchange.arrows.len());
                    if let Some(id) = e.pkt {
                        by_pkt.insert(id.pkt, exchange.arrows.len());
                    }
                    exchange.arrows.push(Arrow {
                        from: src,
                        to: dst,
                        seg,
                        sent: Some(e.t),
                        ending: TransmissionEnd::Unknown,
                        injected,
                        duplicate: false,
                        reordered: false,
                        foreign_conn: None,
                        label,
                        order,
                    });
                }
                TraceKind::Drop { seg, reason } if let Some(id) = e.pkt => {
                    exchange.has_endings = true;
                    let end = EndingEvent { from: src, to: dst, seg, id, order };
                    exchange.end_by_pkt(&by_pkt, &mut in_flight, end, TransmissionEnd::Lost { at: e.t, reason });
                }
                TraceKind::Deliver { seg, .. } if let Some(id) = e.pkt => {
                    exchange.has_endings = true;
                    let end = EndingEvent { from: src, to: dst, seg, id, order };
                    exchange.end_by_pkt(&by_pkt, &mut in_flight, end, TransmissionEnd::Delivered(e.t));
                }
                TraceKind::Drop { seg, reason } => {
                    exchange.has_endings = true;
                    // Most drops follow their send at once: search newest first.
                    let pos = in_flight.iter().rposition(|&i| exchange.arrows[i].same(src, dst, &seg));
                    match pos {
                        Some(p) => {
                            let i = in_flight.remove(p);
                            exchange.arrows[i].ending = TransmissionEnd::Lost { at: e.t, reason };
                        }
                        None => exchange.orphan(src, dst, seg, TransmissionEnd::Lost { at: e.t, reason }, order),
                    }
                }
                TraceKind::Deliver { seg, .. } => {
                    exchange.has_endings = true;
                    if let Some(p) = in_flight.iter().position(|&i| exchange.arrows[i].same(src, dst, &seg)) {
                        let i = in_flight.remove(p);
                        exchange.arrows[i].ending = TransmissionEnd::Delivered(e.t);
                        continue;
                    }
                    if seg.flags.syn() && exchange.sides[src].isn.is_none() {
                        exchange.set_isn(src, seg.seq.0);
                    }
                    if let Some(orig) = exchange.delivered_twin(src, dst, &seg) {
                        let (sent, label) = (exchange.arrows[orig].sent, exchange.arrows[orig].label.clone());
                        exchange.arrows.push(Arrow {
                            from: src,
                            to: dst,
                            seg,
                            sent,
                            ending: TransmissionEnd::Delivered(e.t),
                            injected: exchange.arrows[orig].injected,
                            duplicate: true,
                            reordered: false,
                            foreign_conn: None,
                            label,
                            order,
                        });
                    } else {
                        exchange.orphan(src, dst, seg, TransmissionEnd::Delivered(e.t), order);
                    }
                }
                TraceKind::Transition { from, to, reason, .. } => {
                    if exchange.sides[own].first_state.is_none() {
                        exchange.sides[own].first_state = Some(from);
                    }
                    exchange.notes.push(Note { t: e.t, side: own, kind: NoteKind::State { to, reason }, order });
                }
                TraceKind::Timer { timer, action, deadline } if timer_of_interest(timer, action) => {
                    let after = matches!(action, TimerAction::Start | TimerAction::Restart)
                        .then(|| deadline.saturating_since(e.t));
                    exchange.notes.push(Note {
                        t: e.t,
                        side: own,
                        kind: NoteKind::Timer { timer, action, after },
                        order,
                    });
                }
                _ => {}
            }
        }
        exchange.adopt_run(isns, &by_pkt);
        exchange.mark_reordered();
        exchange.typical_delay = exchange.median_delay();
        exchange
    }

    /// What the events of part of a run cannot tell, from `run` (which saw
    /// all of it): the ends in the order the run showed them (the end that
    /// connects on the left, whichever end a time window starts with), the
    /// names of an end whose own records are filtered out, and which
    /// unended transmissions did end later.
    fn adopt_run(&mut self, run: &IsnLog, by_pkt: &BTreeMap<u64, usize>) {
        let addr = |side: &Side| match side.key {
            SideKey::Addr(a, p) => Some((a, p)),
            SideKey::Name(_) => None,
        };
        for side in &mut self.sides {
            if let Some(end) = addr(side)
                && side.names.is_empty()
            {
                side.names = run.names(end).to_vec();
            }
        }
        let mut order: Vec<usize> = (0..self.sides.len()).collect();
        order.sort_by_key(|&i| addr(&self.sides[i]).and_then(|end| run.first_seen(end)).unwrap_or(usize::MAX));
        if order.iter().enumerate().any(|(new, &old)| new != old) {
            let mut new_index = vec![0; order.len()];
            for (new, &old) in order.iter().enumerate() {
                new_index[old] = new;
            }
            for a in &mut self.arrows {
                a.from = new_index[a.from];
                a.to = new_index[a.to];
            }
            for n in &mut self.notes {
                n.side = new_index[n.side];
            }
            let mut sides: Vec<Option<Side>> = std::mem::take(&mut self.sides).into_iter().map(Some).collect();
            self.sides = order.iter().filter_map(|&old| sides[old].take()).collect();
        }
        for (&pkt, &i) in by_pkt {
            if self.arrows[i].ending == TransmissionEnd::Unknown && run.ended(pkt) {
                self.ended_outside.insert(i);
            }
        }
    }

    fn side(&mut self, key: SideKey) -> usize {
        if let Some(i) = self.sides.iter().position(|s| s.key == key) {
            return i;
        }
        self.sides.push(Side { key, names: Vec::new(), isn: None, first_isn: None, first_state: None });
        self.sides.len() - 1
    }

    fn set_isn(&mut self, side: usize, isn: u32) {
        let s = &mut self.sides[side];
        s.isn = Some(isn);
        s.first_isn.get_or_insert(isn);
    }

    /// `FLAGS seq=S ack=A len=L`, relative to the ends' ISNs, then the
    /// SACK blocks if any (`dsack L-R` for a D-SACK, RFC 2883, then
    /// `sack L-R,...`). SYN options are not shown, so neither is
    /// SACK-permitted.
    fn label(&self, seg: &Segment, from: usize, to: usize) -> String {
        // Shortly before the ISN (an old duplicate) reads better negative.
        let relative = |v: u32, isn: Option<u32>| match isn {
            Some(i) if v.wrapping_sub(i) >= 0xfff0_0000 => format!("-{}", i.wrapping_sub(v)),
            Some(i) => v.wrapping_sub(i).to_string(),
            None => v.to_string(),
        };
        let mut s = format!("{} seq={}", seg.flags, relative(seg.seq.0, self.sides[from].isn));
        if seg.flags.ack() {
            let _ = write!(s, " ack={}", relative(seg.ack.0, self.sides[to].isn));
        }
        if seg.len > 0 {
            let _ = write!(s, " len={}", seg.len);
        }
        if seg.wnd == 0 && !seg.flags.rst() {
            s.push_str(" wnd=0");
        }
        // SACK blocks name the receiver's sequence space, as `ack` does.
        let blocks = seg.sack.as_slice();
        let dsack = seg.sack.starts_with_dsack(seg.ack);
        let range = |b: &SackBlock| {
            format!("{}-{}", relative(b.left.0, self.sides[to].isn), relative(b.right.0, self.sides[to].isn))
        };
        if let (true, Some(first)) = (dsack, blocks.first()) {
            let _ = write!(s, " dsack {}", range(first));
        }
        let reported: Vec<String> = blocks.iter().skip(usize::from(dsack)).map(range).collect();
        if !reported.is_empty() {
            let _ = write!(s, " sack {}", reported.join(","));
        }
        s
    }

    /// Ends the transmission a `deliver` or `drop` names by `pkt`: the
    /// original copy ends its send's arrow; a link's copy becomes a
    /// duplicate arrow from the same send. A `pkt` whose send is not among
    /// the events (filtered out) is an orphan.
    fn end_by_pkt(
        &mut self,
        by_pkt: &BTreeMap<u64, usize>,
        in_flight: &mut Vec<usize>,
        end: EndingEvent,
        ending: TransmissionEnd,
    ) {
        match by_pkt.get(&end.id.pkt) {
            Some(&i) if end.id.copy == 0 => {
                if let Some(p) = in_flight.iter().position(|&x| x == i) {
                    in_flight.remove(p);
                }
                self.arrows[i].ending = ending;
            }
            Some(&orig) => {
                if self.arrows.len() >= self.limit {
                    return;
                }
                let o = &self.arrows[orig];
                let arrow = Arrow {
                    from: o.from,
                    to: o.to,
                    seg: end.seg,
                    sent: o.sent,
                    ending,
                    injected: o.injected,
                    duplicate: true,
                    reordered: false,
                    foreign_conn: None,
                    label: o.label.clone(),
                    order: end.order,
                };
                self.arrows.push(arrow);
            }
            None => {
                if end.seg.flags.syn()
                    && self.sides[end.from].isn.is_none()
                    && matches!(ending, TransmissionEnd::Delivered(_))
                {
                    self.set_isn(end.from, end.seg.seq.0);
                }
                self.orphan(end.from, end.to, end.seg, ending, end.order);
            }
        }
    }

    /// A delivery or drop whose send is not among the events.
    fn orphan(&mut self, from: usize, to: usize, seg: Segment, ending: TransmissionEnd, order: usize) {
        if self.arrows.len() >= self.limit {
            return;
        }
        let label = self.label(&seg, from, to);
        self.arrows.push(Arrow {
            from,
            to,
            seg,
            sent: None,
            ending,
            injected: false,
            duplicate: false,
            reordered: false,
            foreign_conn: None,
            label,
            order,
        });
    }

    /// The latest delivered arrow with this route and header: the original
    /// of a duplicate. Looks back a bounded distance, since copies arrive
    /// within a few round trips.
    fn delivered_twin(&self, from: usize, to: usize, seg: &Segment) -> Option<usize> {
        let n = self.arrows.len();
        (n.saturating_sub(512)..n).rev().find(|&i| {
            let a = &self.arrows[i];
            a.same(from, to, seg) && matches!(a.ending, TransmissionEnd::Delivered(_)) && !a.duplicate
        })
    }

    /// Marks deliveries overtaken by a segment sent later on the same route.
    fn mark_reordered(&mut self) {
        let routes: Vec<(usize, usize)> = {
            let mut r: Vec<(usize, usize)> = self.arrows.iter().map(|a| (a.from, a.to)).collect();
            r.sort_unstable();
            r.dedup();
            r
        };
        for (from, to) in routes {
            let mut earliest_later = Instant::MAX;
            for a in self.arrows.iter_mut().rev() {
                if a.from != from || a.to != to || a.duplicate || a.sent.is_none() {
                    continue;
                }
                if let TransmissionEnd::Delivered(t) = a.ending {
                    if earliest_later < t {
                        a.reordered = true;
                    }
                    earliest_later = earliest_later.min(t);
                }
            }
        }
    }

    fn median_delay(&self) -> u64 {
        let mut d: Vec<u64> = self
            .arrows
            .iter()
            .filter(|a| !a.duplicate && !a.reordered)
            .filter_map(|a| match (a.sent, a.ending) {
                (Some(s), TransmissionEnd::Delivered(t)) => Some(t.saturating_since(s).as_nanos()),
                _ => None,
            })
            .collect();
        d.sort_unstable();
        // 10 ms when nothing was delivered, a common link delay; at least
        // 1 ms, so a zero-delay link still gets a sensible scale.
        d.get(d.len() / 2).copied().unwrap_or(10_000_000).max(1_000_000)
    }

    /// Whether a gap between two consecutive events is long enough to cut
    /// out of the picture: more than five one-way delays (RTOs, 2MSL, a
    /// pause of the application). This also bounds every drawn gap.
    pub(super) fn is_idle_gap(&self, gap: u64) -> bool {
        gap > self.typical_delay.saturating_mul(5)
    }
}

impl Arrow {
    fn same(&self, from: usize, to: usize, seg: &Segment) -> bool {
        self.from == from && self.to == to && self.seg == *seg
    }
}

/// Milliseconds to the microsecond, as the text trace has them, without
/// trailing zeros (`10`, `1060.5`, `23.213`).
pub(super) fn short_ms(t: Instant) -> String {
    let us = t.as_nanos() / 1_000;
    let (ms, rest) = (us / 1_000, us % 1_000);
    if rest == 0 {
        ms.to_string()
    } else {
        let frac = format!("{rest:03}");
        format!("{ms}.{}", frac.trim_end_matches('0'))
    }
}

/// A gap's length in milliseconds for break labels.
pub(super) fn gap_text(gap_ns: u64) -> String {
    format!("{} ms", short_ms(Instant::from_nanos(gap_ns)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pictures::ladder::test_events::{client_to_server, event, handshake, seg, server_to_client, with_pkt};
    use crate::tcp::Flags;

    #[test]
    fn sends_match_deliveries_and_numbers_are_relative() {
        let exchange = Exchange::build(&handshake(), 0, &IsnLog::default());
        assert_eq!(exchange.sides.len(), 2);
        assert_eq!(exchange.sides[0].names, vec!["client"]);
        assert_eq!(exchange.arrows.len(), 2);
        assert_eq!(exchange.arrows[0].label, "SYN seq=0");
        assert_eq!(exchange.arrows[1].label, "SYN|ACK seq=0 ack=1");
        assert_eq!(exchange.arrows[1].ending, TransmissionEnd::Delivered(Instant::from_nanos(20_000_000)));
        assert_eq!(exchange.typical_delay, 10_000_000);
    }

    #[test]
    fn sack_blocks_follow_the_ack_relative_to_the_receivers_isn() {
        use crate::tcp::{SackBlock, SackBlocks, SeqNum};
        let blocks = |ranges: &[(u32, u32)]| {
            let mut b = SackBlocks::EMPTY;
            for &(l, r) in ranges {
                assert!(b.push(SackBlock::new(SeqNum(l), SeqNum(r))));
            }
            b
        };
        let mut events = handshake();
        // The server (ISN 500) acknowledges the client's (ISN 100) 101..111
        // and holds 121..141 and 151..161.
        let sacked = Segment { sack: blocks(&[(151, 161), (121, 141)]), ..seg(Flags::ACK, 501, 111) };
        // 101..111 again, below the ACK: a D-SACK, then the held range.
        let below = Segment { sack: blocks(&[(101, 111), (121, 141)]), ..seg(Flags::ACK, 501, 111) };
        // 121..131 again, within the second block: a D-SACK too.
        let within = Segment { sack: blocks(&[(121, 131), (121, 141)]), ..seg(Flags::ACK, 501, 111) };
        for (ms, s) in [(30, sacked), (31, below), (32, within)] {
            events.push(event(ms, "server", TraceKind::Send { seg: s, injected: false }, server_to_client()));
        }
        let exchange = Exchange::build(&events, 0, &IsnLog::default());
        let labels: Vec<&str> = exchange.arrows[2..].iter().map(|a| a.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "ACK seq=1 ack=11 sack 51-61,21-41",
                "ACK seq=1 ack=11 dsack 1-11 sack 21-41",
                "ACK seq=1 ack=11 dsack 21-31 sack 21-41",
            ]
        );
        // A SYN's SACK-permitted is not shown, as no SYN option is.
        let syn = Segment { opts: crate::tcp::Options::NONE.with_sack_permitted(true), ..seg(Flags::SYN, 100, 0) };
        let events = [event(0, "client", TraceKind::Send { seg: syn, injected: false }, client_to_server())];
        assert_eq!(Exchange::build(&events, 0, &IsnLog::default()).arrows[0].label, "SYN seq=0");
    }

    #[test]
    fn a_second_delivery_is_a_duplicate_and_an_overtaken_one_reordered() {
        let mut events = handshake();
        let d1 = seg(Flags::ACK, 101, 501);
        let d2 = Segment { len: 10, ..seg(Flags::ACK | Flags::PSH, 101, 501) };
        events.push(event(20, "client", TraceKind::Send { seg: d1, injected: false }, client_to_server()));
        events.push(event(21, "client", TraceKind::Send { seg: d2, injected: false }, client_to_server()));
        events.push(event(31, "server", TraceKind::Deliver { seg: d2, discard: None }, client_to_server()));
        events.push(event(40, "server", TraceKind::Deliver { seg: d1, discard: None }, client_to_server()));
        events.push(event(45, "server", TraceKind::Deliver { seg: d1, discard: None }, client_to_server()));
        let exchange = Exchange::build(&events, 0, &IsnLog::default());
        assert_eq!(exchange.arrows.len(), 5);
        assert!(exchange.arrows[2].reordered, "d1 arrived after d2");
        assert!(!exchange.arrows[3].reordered);
        assert!(exchange.arrows[4].duplicate);
        assert_eq!(exchange.arrows[4].sent, Some(Instant::from_nanos(20_000_000)));
    }

    #[test]
    fn deliveries_join_their_sends_by_pkt() {
        let mut events = handshake();
        let ack = seg(Flags::ACK, 101, 501);
        events.push(with_pkt(
            event(20, "client", TraceKind::Send { seg: ack, injected: false }, client_to_server()),
            10,
            0,
        ));
        events.push(with_pkt(
            event(21, "client", TraceKind::Send { seg: ack, injected: false }, client_to_server()),
            11,
            0,
        ));
        events.push(with_pkt(
            event(31, "server", TraceKind::Deliver { seg: ack, discard: None }, client_to_server()),
            11,
            0,
        ));
        events.push(with_pkt(
            event(35, "server", TraceKind::Deliver { seg: ack, discard: None }, client_to_server()),
            10,
            1,
        ));
        events.push(with_pkt(
            event(40, "server", TraceKind::Deliver { seg: ack, discard: None }, client_to_server()),
            10,
            0,
        ));
        let exchange = Exchange::build(&events, 0, &IsnLog::default());
        assert_eq!(exchange.arrows.len(), 5);
        let at = |ms: u64| Instant::from_nanos(ms * 1_000_000);
        assert_eq!(
            (exchange.arrows[2].sent, exchange.arrows[2].ending),
            (Some(at(20)), TransmissionEnd::Delivered(at(40)))
        );
        assert!(exchange.arrows[2].reordered, "sent first, arrived last");
        assert_eq!(
            (exchange.arrows[3].sent, exchange.arrows[3].ending),
            (Some(at(21)), TransmissionEnd::Delivered(at(31)))
        );
        assert!(!exchange.arrows[3].reordered);
        assert!(exchange.arrows[4].duplicate);
        assert_eq!(
            (exchange.arrows[4].sent, exchange.arrows[4].ending),
            (Some(at(20)), TransmissionEnd::Delivered(at(35)))
        );
    }
}
