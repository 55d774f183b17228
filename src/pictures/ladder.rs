//! Ladder (sequence) diagrams of one connection: one timeline per end,
//! time downwards, one arrow per segment from its send to its delivery.
//!
//! Both renderings ([`ladder_svg`], [`ladder_text`]) share one model built
//! from trace events alone, so they show the same facts:
//!
//! - **Ends.** A connection has two ends, each an address and port; the
//!   trace names them by endpoint (or by host, for a host answering a
//!   closed port). Events are placed on the end their route names, so a
//!   listener's endpoint and its host's resets share a timeline. The end
//!   that appears first (the one that connects) is drawn on the left.
//! - **Matching.** A `deliver` or `drop` names its transmission by `pkt`
//!   (and `copy`), so it ends exactly the arrow of the `send` with that
//!   `pkt`, however many identical segments (duplicate ACKs, say) are in
//!   flight. A copy the link or a `Duplicate` fault made (`copy` 1, 2,
//!   ...) is drawn as a
//!   duplicate from the same send; a delivery that lands after a
//!   later-sent segment's is marked reordered. Events without a `pkt`
//!   (built by hand) fall back to the earliest segment in flight on the
//!   same route with the same header.
//! - **Strays.** A delivery recorded under another connection (its
//!   send's) that reached one of this connection's endpoints, such as an
//!   old duplicate of an earlier incarnation on the same 4-tuple, is drawn
//!   as an arrival without a send, labelled `of conn N`.
//! - **Sequence numbers** are shown relative to each end's initial
//!   sequence number (its SYN's), as Wireshark does by default: `seq=1`
//!   is the first data byte. Absolute values appear where no SYN was seen.
//! - **Time** runs down at a scale where the typical one-way delay is a
//!   comfortable slope; idle stretches much longer than that (RTOs, 2MSL)
//!   are cut out and labelled with their length.

use super::svg::{Anchor, Font, Stroke, Svg, escape, text_width};
use crate::link::DropReason;
use crate::tcp::{CloseReason, Segment, State, Timer, TimerAction};
use crate::time::{Duration, Instant};
use crate::trace::{ConnMembers, OwnedEvent, PacketId, Route, TraceEvent, TraceKind, TraceSink};
use anstyle::{AnsiColor, Effects, Style};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The most segments one ladder shows; a longer connection is cut there
/// (and the picture says so), because a ladder of tens of thousands of
/// arrows is unreadable and its file enormous.
pub const MAX_ARROWS: usize = 3000;

/// An SVG ladder diagram of connection `conn`.
pub fn ladder_svg(events: &[OwnedEvent], conn: u32, title: &str) -> String {
    let model = Model::build(events, conn);
    render_svg(&model, conn, title)
}

/// A text ladder of connection `conn` for a terminal: one line per
/// segment (at its send time, with its arrival time) and per state change
/// or timer of interest. `color` adds ANSI styles.
pub fn ladder_text(events: &[OwnedEvent], conn: u32, color: bool) -> String {
    let model = Model::build(events, conn);
    render_text(&model, conn, color)
}

/// Keeps what a ladder of connection `conn` needs from a running world:
/// the connection's own events, and deliveries and drops recorded under
/// another connection number on one of its routes. (A delivery names its
/// send's connection, so a stray segment of another connection on the same
/// 4-tuple, an old duplicate, is recorded under that connection; the
/// ladder draws it where it reached one of this connection's endpoints,
/// see [`ConnMembers`].) Everything else is dropped, so a long run costs
/// little.
#[derive(Clone, Debug, Default)]
pub struct LadderRecorder {
    conn: u32,
    routes: Vec<RouteKey>,
    pub events: Vec<OwnedEvent>,
}

impl LadderRecorder {
    pub fn new(conn: u32) -> LadderRecorder {
        LadderRecorder { conn, routes: Vec::new(), events: Vec::new() }
    }

    /// The connection it keeps.
    pub fn conn(&self) -> u32 {
        self.conn
    }
}

impl TraceSink for LadderRecorder {
    fn record(&mut self, e: &TraceEvent<'_>) {
        let key = e.route.map(route_key);
        if e.conn == self.conn {
            if let Some(k) = key
                && let Err(i) = self.routes.binary_search(&k)
            {
                self.routes.insert(i, k);
            }
        } else if !(matches!(e.kind, TraceKind::Deliver { .. } | TraceKind::Drop { .. })
            && key.is_some_and(|k| self.routes.binary_search(&k).is_ok()))
        {
            return;
        }
        self.events.push(OwnedEvent::from(e));
    }
}

/// A route as a sortable key: source address and port, destination.
type RouteKey = (u32, u16, u32, u16);

fn route_key(r: Route) -> RouteKey {
    (r.src.0, r.src.1, r.dst.0, r.dst.1)
}

// ---------------------------------------------------------------------------
// The model.

/// Identifies one end of the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SideKey {
    Addr(u32, u16),
    /// An endpoint whose address the events never showed.
    Name(String),
}

struct Side {
    key: SideKey,
    names: Vec<String>,
    /// The initial sequence number in force (of the latest SYN sent).
    isn: Option<u32>,
    /// The first ISN, for the legend.
    first_isn: Option<u32>,
    /// The state before the first transition seen.
    first_state: Option<State>,
}

impl Side {
    fn label(&self) -> String {
        if self.names.is_empty() { self.address() } else { self.names.join(" / ") }
    }

    fn address(&self) -> String {
        match &self.key {
            SideKey::Addr(a, p) => format!("{}.{}.{}.{}:{p}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff),
            SideKey::Name(_) => "address unknown".to_string(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    Delivered(Instant),
    Lost {
        at: Instant,
        reason: DropReason,
    },
    /// No delivery or drop in the events (still in flight at the end, or
    /// filtered out).
    Unknown,
}

struct Arrow {
    from: usize,
    to: usize,
    seg: Segment,
    /// `None`: a delivery whose send is not in the events.
    sent: Option<Instant>,
    fate: Fate,
    injected: bool,
    duplicate: bool,
    reordered: bool,
    /// `Some(c)`: another connection's segment that arrived at one of this
    /// connection's endpoints (its send is on connection `c`'s ladder).
    foreign_conn: Option<u32>,
    label: String,
    /// Index of the event that created it, for trace order in text.
    order: usize,
}

impl Arrow {
    /// When the arrow starts: its send, or its delivery if no send is known.
    fn start(&self) -> Instant {
        match (self.sent, self.fate) {
            (Some(t), _) => t,
            (None, Fate::Delivered(t) | Fate::Lost { at: t, .. }) => t,
            (None, Fate::Unknown) => Instant::ZERO,
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
        if let Fate::Lost { reason, .. } = self.fate {
            let _ = write!(s, " lost: {reason}");
        }
        if let Some(c) = self.foreign_conn {
            let _ = write!(s, " of conn {c}");
        }
        s
    }

    fn full_label(&self) -> String {
        format!("{}{}", self.label, self.suffix())
    }
}

/// A `deliver` or `drop` that names its transmission.
struct Arrival {
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

struct Note {
    t: Instant,
    side: usize,
    kind: NoteKind,
    order: usize,
}

impl Note {
    fn text(&self) -> String {
        match self.kind {
            NoteKind::State { to, reason: Some(r) } if r != CloseReason::Normal => format!("{to} ({r})"),
            NoteKind::State { to, .. } => to.to_string(),
            NoteKind::Timer { timer, action, after: Some(d) } => format!("{timer} {} {d}", action.name()),
            NoteKind::Timer { timer, action, after: None } => format!("{timer} {}", action.name()),
        }
    }

    fn is_state(&self) -> bool {
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

struct Model {
    sides: Vec<Side>,
    arrows: Vec<Arrow>,
    notes: Vec<Note>,
    /// Where the ladder was cut (more than [`MAX_ARROWS`] segments).
    truncated_at: Option<Instant>,
    /// Whether any delivery or drop was among the events (with `--kinds
    /// send`, none is, and arrival times are simply unknown).
    has_fates: bool,
    /// The median one-way delay of delivered segments (ns), at least 1 µs.
    typical_delay: u64,
}

impl Model {
    fn build(events: &[OwnedEvent], conn: u32) -> Model {
        // The connection's routes: deliveries and drops on them recorded
        // under another connection number still end its segments.
        let mut routes: Vec<RouteKey> =
            events.iter().filter(|e| e.conn == conn).filter_map(|e| e.route.map(route_key)).collect();
        routes.sort_unstable();
        routes.dedup();
        let evs: Vec<&OwnedEvent> = events
            .iter()
            .filter(|e| {
                e.conn == conn
                    || (matches!(e.kind, TraceKind::Deliver { .. } | TraceKind::Drop { .. })
                        && e.route.is_some_and(|r| routes.binary_search(&route_key(r)).is_ok()))
            })
            .collect();
        // Each endpoint name belongs to the end its routed events name.
        let mut name_keys: Vec<(&str, SideKey)> = Vec::new();
        for e in evs.iter().filter(|e| e.conn == conn) {
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
        let mut m = Model {
            sides: Vec::new(),
            arrows: Vec::new(),
            notes: Vec::new(),
            truncated_at: None,
            has_fates: false,
            typical_delay: 0,
        };
        let mut members = ConnMembers::new(conn);
        // Arrows not yet delivered or dropped, oldest first.
        let mut in_flight: Vec<usize> = Vec::new();
        // The arrow of each transmission, by `pkt`.
        let mut by_pkt: BTreeMap<u64, usize> = BTreeMap::new();
        for (order, e) in evs.into_iter().enumerate() {
            // Another connection's record: a delivery or drop on one of
            // this connection's routes.
            let foreign = e.conn != conn;
            let (own, src, dst) = match e.route {
                Some(r) if foreign => {
                    let (src, dst) = (m.side(SideKey::Addr(r.src.0, r.src.1)), m.side(SideKey::Addr(r.dst.0, r.dst.1)));
                    (dst, src, dst)
                }
                _ => {
                    let own = m.side(key_of(&e.endpoint));
                    if !m.sides[own].names.contains(&e.endpoint) {
                        m.sides[own].names.push(e.endpoint.clone());
                    }
                    match e.route {
                        Some(r) => {
                            (own, m.side(SideKey::Addr(r.src.0, r.src.1)), m.side(SideKey::Addr(r.dst.0, r.dst.1)))
                        }
                        None => (own, own, own),
                    }
                }
            };
            members.observe(&e.as_event());
            if foreign {
                // Another connection's segment: drawn only where it
                // reached one of this connection's endpoints (an old
                // duplicate on the same 4-tuple), as an arrival without a
                // send, labelled with its connection.
                if let TraceKind::Deliver { seg } = e.kind
                    && members.is_stray_segment(&e.as_event())
                {
                    m.has_fates = true;
                    m.orphan(src, dst, seg, Fate::Delivered(e.t), order);
                    if let Some(a) = m.arrows.last_mut().filter(|a| a.order == order) {
                        a.foreign_conn = Some(e.conn);
                    }
                }
                continue;
            }
            match e.kind {
                TraceKind::Send { seg, injected } => {
                    if m.arrows.len() >= MAX_ARROWS {
                        m.truncated_at = Some(e.t);
                        break;
                    }
                    // A side's ISN is its first SYN's, or a later SYN of a new
                    // incarnation; never an injected (old duplicate) SYN,
                    // which would shift every later number.
                    if seg.flags.syn() && !injected && (m.sides[src].isn.is_none() || !seg.retransmit) {
                        m.set_isn(src, seg.seq.0);
                    }
                    let label = m.label(&seg, src, dst);
                    in_flight.push(m.arrows.len());
                    if let Some(id) = e.pkt {
                        by_pkt.insert(id.pkt, m.arrows.len());
                    }
                    m.arrows.push(Arrow {
                        from: src,
                        to: dst,
                        seg,
                        sent: Some(e.t),
                        fate: Fate::Unknown,
                        injected,
                        duplicate: false,
                        reordered: false,
                        foreign_conn: None,
                        label,
                        order,
                    });
                }
                TraceKind::Drop { seg, reason } if let Some(id) = e.pkt => {
                    m.has_fates = true;
                    let end = Arrival { from: src, to: dst, seg, id, order };
                    m.end_by_pkt(&by_pkt, &mut in_flight, end, Fate::Lost { at: e.t, reason });
                }
                TraceKind::Deliver { seg } if let Some(id) = e.pkt => {
                    m.has_fates = true;
                    let end = Arrival { from: src, to: dst, seg, id, order };
                    m.end_by_pkt(&by_pkt, &mut in_flight, end, Fate::Delivered(e.t));
                }
                TraceKind::Drop { seg, reason } => {
                    m.has_fates = true;
                    // Most drops follow their send at once: search newest first.
                    let pos = in_flight.iter().rposition(|&i| m.arrows[i].same(src, dst, &seg));
                    match pos {
                        Some(p) => {
                            let i = in_flight.remove(p);
                            m.arrows[i].fate = Fate::Lost { at: e.t, reason };
                        }
                        None => m.orphan(src, dst, seg, Fate::Lost { at: e.t, reason }, order),
                    }
                }
                TraceKind::Deliver { seg } => {
                    m.has_fates = true;
                    if let Some(p) = in_flight.iter().position(|&i| m.arrows[i].same(src, dst, &seg)) {
                        let i = in_flight.remove(p);
                        m.arrows[i].fate = Fate::Delivered(e.t);
                        continue;
                    }
                    if seg.flags.syn() && m.sides[src].isn.is_none() {
                        m.set_isn(src, seg.seq.0);
                    }
                    if let Some(orig) = m.delivered_twin(src, dst, &seg) {
                        let (sent, label) = (m.arrows[orig].sent, m.arrows[orig].label.clone());
                        m.arrows.push(Arrow {
                            from: src,
                            to: dst,
                            seg,
                            sent,
                            fate: Fate::Delivered(e.t),
                            injected: m.arrows[orig].injected,
                            duplicate: true,
                            reordered: false,
                            foreign_conn: None,
                            label,
                            order,
                        });
                    } else {
                        m.orphan(src, dst, seg, Fate::Delivered(e.t), order);
                    }
                }
                TraceKind::Transition { from, to, reason, .. } => {
                    if m.sides[own].first_state.is_none() {
                        m.sides[own].first_state = Some(from);
                    }
                    m.notes.push(Note { t: e.t, side: own, kind: NoteKind::State { to, reason }, order });
                }
                TraceKind::Timer { timer, action, deadline } if timer_of_interest(timer, action) => {
                    let after = matches!(action, TimerAction::Start | TimerAction::Restart)
                        .then(|| deadline.saturating_since(e.t));
                    m.notes.push(Note { t: e.t, side: own, kind: NoteKind::Timer { timer, action, after }, order });
                }
                _ => {}
            }
        }
        m.mark_reordered();
        m.typical_delay = m.median_delay();
        m
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

    /// `FLAGS seq=S ack=A len=L`, relative to the ends' ISNs.
    fn label(&self, seg: &Segment, from: usize, to: usize) -> String {
        // Shortly before the ISN (an old duplicate) reads better negative.
        let rel = |v: u32, isn: Option<u32>| match isn {
            Some(i) if v.wrapping_sub(i) >= 0xfff0_0000 => format!("-{}", i.wrapping_sub(v)),
            Some(i) => v.wrapping_sub(i).to_string(),
            None => v.to_string(),
        };
        let mut s = format!("{} seq={}", seg.flags, rel(seg.seq.0, self.sides[from].isn));
        if seg.flags.ack() {
            let _ = write!(s, " ack={}", rel(seg.ack.0, self.sides[to].isn));
        }
        if seg.len > 0 {
            let _ = write!(s, " len={}", seg.len);
        }
        if seg.wnd == 0 && !seg.flags.rst() {
            s.push_str(" wnd=0");
        }
        s
    }

    /// Ends the transmission a `deliver` or `drop` names by `pkt`: the
    /// original copy ends its send's arrow; a link's copy becomes a
    /// duplicate arrow from the same send. A `pkt` whose send is not among
    /// the events (filtered out) is an orphan.
    fn end_by_pkt(&mut self, by_pkt: &BTreeMap<u64, usize>, in_flight: &mut Vec<usize>, end: Arrival, fate: Fate) {
        match by_pkt.get(&end.id.pkt) {
            Some(&i) if end.id.copy == 0 => {
                if let Some(p) = in_flight.iter().position(|&x| x == i) {
                    in_flight.remove(p);
                }
                self.arrows[i].fate = fate;
            }
            Some(&orig) => {
                if self.arrows.len() >= MAX_ARROWS {
                    return;
                }
                let o = &self.arrows[orig];
                let arrow = Arrow {
                    from: o.from,
                    to: o.to,
                    seg: end.seg,
                    sent: o.sent,
                    fate,
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
                if end.seg.flags.syn() && self.sides[end.from].isn.is_none() && matches!(fate, Fate::Delivered(_)) {
                    self.set_isn(end.from, end.seg.seq.0);
                }
                self.orphan(end.from, end.to, end.seg, fate, end.order);
            }
        }
    }

    /// A delivery or drop whose send is not among the events.
    fn orphan(&mut self, from: usize, to: usize, seg: Segment, fate: Fate, order: usize) {
        if self.arrows.len() >= MAX_ARROWS {
            return;
        }
        let label = self.label(&seg, from, to);
        self.arrows.push(Arrow {
            from,
            to,
            seg,
            sent: None,
            fate,
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
            a.same(from, to, seg) && matches!(a.fate, Fate::Delivered(_)) && !a.duplicate
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
                if let Fate::Delivered(t) = a.fate {
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
            .filter_map(|a| match (a.sent, a.fate) {
                (Some(s), Fate::Delivered(t)) => Some(t.saturating_since(s).as_nanos()),
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
    fn is_idle_gap(&self, gap: u64) -> bool {
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
fn short_ms(t: Instant) -> String {
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
fn gap_text(gap_ns: u64) -> String {
    format!("{} ms", short_ms(Instant::from_nanos(gap_ns)))
}

// ---------------------------------------------------------------------------
// SVG rendering.

/// Vertical space per stacked item at one instant.
const ROW: f64 = 18.0;
/// The height the typical one-way delay gets: a readable slope.
const DELAY_PX: f64 = 56.0;
/// The height of a cut-out idle stretch.
const BREAK_PX: f64 = 40.0;
const LABEL_SIZE: f64 = 12.0;
const NOTE_SIZE: f64 = 12.0;
const TIMER_SIZE: f64 = 11.0;
const TIME_SIZE: f64 = 11.0;

const INK: &str = "#222222";
const NORMAL: &str = "#1f4e96";
const RETRANSMIT: &str = "#d95f02";
const LOST: &str = "#c0392b";
const DUPLICATE: &str = "#7b3294";
const REORDERED: &str = "#1b7837";
const INJECTED: &str = "#777777";
const STATE_INK: &str = "#111111";
const TIMER_INK: &str = "#00788a";
const MUTED: &str = "#888888";
const BREAK_FILL: &str = "#f0f0f0";

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Lane {
    Out,
    In,
    Note,
}

/// Where every instant of the picture is drawn.
struct Layout {
    times: Vec<Instant>,
    base: Vec<f64>,
    /// Cut-out idle stretches: top, bottom, length (ns).
    breaks: Vec<(f64, f64, u64)>,
    /// Row of each arrow's start and end, and of each note.
    start_row: Vec<u32>,
    end_row: Vec<u32>,
    note_row: Vec<u32>,
    bottom: f64,
}

impl Layout {
    fn compute(m: &Model, top: f64) -> Layout {
        let mut times: Vec<Instant> = Vec::new();
        for a in &m.arrows {
            times.push(a.start());
            match a.fate {
                Fate::Delivered(t) => times.push(t),
                Fate::Lost { at, .. } if a.sent.is_some_and(|s| s < at) => times.push(at),
                _ => {}
            }
        }
        times.extend(m.notes.iter().map(|n| n.t));
        times.sort_unstable();
        times.dedup();
        let idx = |t: Instant| times.binary_search(&t).unwrap_or(0);

        // Items at one instant, end and lane stack downwards in trace order.
        let mut counters: BTreeMap<(usize, usize, Lane), u32> = BTreeMap::new();
        let mut take = |k: usize, side: usize, lane: Lane| {
            let c = counters.entry((k, side, lane)).or_insert(0);
            *c += 1;
            *c - 1
        };
        let mut extent = vec![ROW; times.len()];
        let (mut start_row, mut end_row) = (Vec::new(), Vec::new());
        for a in &m.arrows {
            let k = idx(a.start());
            let lane = if a.sent.is_some() { Lane::Out } else { Lane::In };
            let side = if a.sent.is_some() { a.from } else { a.to };
            let r = take(k, side, lane);
            start_row.push(r);
            extent[k] = extent[k].max(f64::from(r + 1) * ROW);
            let end = match a.fate {
                Fate::Delivered(t) if a.sent.is_some() => Some(t),
                Fate::Lost { at, .. } if a.sent.is_some_and(|s| s < at) => Some(at),
                _ => None,
            };
            match end {
                Some(t) => {
                    let ke = idx(t);
                    let r = take(ke, a.to, Lane::In);
                    end_row.push(r);
                    extent[ke] = extent[ke].max(f64::from(r + 1) * ROW);
                }
                None => {
                    // A cross or an open end half a delay below the start.
                    end_row.push(0);
                    extent[k] = extent[k].max(f64::from(r) * ROW + DELAY_PX / 2.0 + ROW);
                }
            }
        }
        let mut note_row = Vec::new();
        for n in &m.notes {
            let k = idx(n.t);
            let r = take(k, n.side, Lane::Note);
            note_row.push(r);
            extent[k] = extent[k].max(f64::from(r + 1) * ROW);
        }

        let scale = DELAY_PX / m.typical_delay as f64;
        let mut base: Vec<f64> = Vec::with_capacity(times.len());
        let mut breaks = Vec::new();
        let mut y = top;
        for (k, t) in times.iter().enumerate() {
            if k > 0 {
                let gap = t.saturating_since(times[k - 1]).as_nanos();
                let prev_end = base[k - 1] + extent[k - 1];
                if m.is_idle_gap(gap) {
                    let b_top = prev_end + 4.0;
                    breaks.push((b_top, b_top + BREAK_PX, gap));
                    y = b_top + BREAK_PX + 16.0;
                } else {
                    y = (base[k - 1] + gap as f64 * scale).max(prev_end);
                }
            }
            base.push(y);
        }
        let bottom = times.len().checked_sub(1).map_or(top, |k| base[k] + extent[k]) + 12.0;
        Layout { times, base, breaks, start_row, end_row, note_row, bottom }
    }

    fn y(&self, t: Instant, row: u32) -> f64 {
        let k = self.times.binary_search(&t).unwrap_or(0);
        self.base.get(k).copied().unwrap_or(0.0) + f64::from(row) * ROW
    }
}

#[derive(Clone, Copy)]
struct Rect {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Rect {
    fn overlap(&self, o: &Rect) -> f64 {
        let w = (self.x1.min(o.x1) - self.x0.max(o.x0)).max(0.0);
        let h = (self.y1.min(o.y1) - self.y0.max(o.y0)).max(0.0);
        w * h
    }
}

fn render_svg(m: &Model, conn: u32, title: &str) -> String {
    let label_w = m.arrows.iter().map(|a| text_width(&a.full_label(), LABEL_SIZE)).fold(0.0, f64::max);
    let note_w = |side: usize| {
        m.notes
            .iter()
            .filter(|n| n.side == side)
            .map(|n| text_width(&n.text(), if n.is_state() { NOTE_SIZE } else { TIMER_SIZE }))
            .chain(m.sides.get(side).and_then(|s| s.first_state).map(|s| text_width(s.name(), NOTE_SIZE)))
            .fold(0.0, f64::max)
    };
    // The time column is as wide as its longest label.
    let time_col = m
        .arrows
        .iter()
        .flat_map(|a| [Some(a.start()), if let Fate::Delivered(t) = a.fate { Some(t) } else { None }])
        .flatten()
        .chain(m.notes.iter().map(|n| n.t))
        .map(|t| text_width(&short_ms(t), TIME_SIZE))
        .fold(text_width("0000", TIME_SIZE), f64::max)
        + 16.0;
    let n_sides = m.sides.len().max(2);
    let header_w: f64 = m
        .sides
        .iter()
        .map(|s| text_width(&s.label(), 13.0).max(text_width(&s.address(), 11.0)) + 20.0)
        .fold(0.0, f64::max);
    // Room along the arrows lets crowded labels slide apart.
    let gap = (label_w * 1.5 + 40.0).max(440.0).max(header_w + 40.0);
    let x0 = time_col + 16.0 + note_w(0).max(header_w / 2.0 - 8.0).max(90.0) + 12.0;
    let xs: Vec<f64> = (0..n_sides).map(|i| x0 + gap * i as f64).collect();
    let right_notes = note_w(n_sides - 1).max(header_w / 2.0).max(90.0) + 24.0;
    let width = (xs[n_sides - 1] + right_notes).max(760.0);

    let header_top = 62.0;
    let header_h = 40.0;
    let layout = Layout::compute(m, header_top + header_h + 46.0);
    let mut svg = Svg::new(width, 0.0);
    svg.comment(&format!("tcpsim ladder diagram of connection {conn}"));
    svg.text(16.0, 28.0, Anchor::Start, Font::sans(18.0, INK).bold(), title);
    let isns: Vec<String> = m
        .sides
        .iter()
        .map(|s| match s.first_isn {
            Some(i) => format!("{} {i}", s.label()),
            None => format!("{} none seen", s.label()),
        })
        .collect();
    svg.text(
        16.0,
        48.0,
        Anchor::Start,
        Font::sans(12.0, MUTED),
        &format!("connection {conn}; time runs down; initial sequence numbers: {}", isns.join(", ")),
    );

    // Ends: a box with the name and address on top of each timeline.
    let line_top = header_top + header_h;
    for (i, s) in m.sides.iter().enumerate() {
        let x = xs[i];
        let w = text_width(&s.label(), 13.0).max(text_width(&s.address(), 11.0)) + 16.0;
        svg.rect(x - w / 2.0, header_top, w, header_h, "#eef2f8", Some(Stroke::solid(NORMAL, 1.2)), 5.0);
        svg.text(x, header_top + 17.0, Anchor::Middle, Font::mono(13.0, INK).bold(), &s.label());
        svg.text(x, header_top + 32.0, Anchor::Middle, Font::mono(11.0, MUTED), &s.address());
        if let Some(st) = s.first_state {
            note_at(
                &mut svg,
                &xs,
                n_sides,
                i,
                line_top + 18.0,
                &st.to_string(),
                Font::mono(NOTE_SIZE, STATE_INK).bold(),
            );
        }
    }
    if m.arrows.is_empty() && m.notes.is_empty() {
        svg.text(
            xs[0],
            line_top + 40.0,
            Anchor::Start,
            Font::mono(13.0, MUTED),
            &format!("no events of connection {conn}"),
        );
    }

    draw_timelines(&mut svg, &layout, &xs[..m.sides.len()], line_top, width);
    draw_time_column(&mut svg, &layout, time_col);
    for (n, row) in m.notes.iter().zip(&layout.note_row) {
        let y = layout.y(n.t, *row);
        let x = xs[n.side];
        let font = if n.is_state() {
            Font::mono(NOTE_SIZE, STATE_INK).bold()
        } else {
            Font::mono(TIMER_SIZE, TIMER_INK).italic()
        };
        svg.open_group(if n.is_state() { r#"class="note state""# } else { r#"class="note timer""# });
        // A tick on the timeline marks the instant.
        svg.line(x - 5.0, y, x + 5.0, y, Stroke::solid(if n.is_state() { STATE_INK } else { TIMER_INK }, 1.5));
        note_at(&mut svg, &xs, n_sides, n.side, y + 4.0, &n.text(), font);
        svg.close_group();
    }
    draw_arrows(&mut svg, m, &layout, &xs);
    let bottom = draw_legend(&mut svg, m, layout.bottom + 24.0);
    svg.set_height(bottom);
    svg.finish()
}

/// Writes a note beside timeline `side`: outside on the outer ends, to the
/// right on any middle one.
fn note_at(svg: &mut Svg, xs: &[f64], n_sides: usize, side: usize, y: f64, text: &str, font: Font) {
    if side == 0 && n_sides > 1 {
        svg.text(xs[side] - 10.0, y, Anchor::End, font, text);
    } else {
        svg.text(xs[side] + 10.0, y, Anchor::Start, font, text);
    }
}

fn draw_timelines(svg: &mut Svg, layout: &Layout, xs: &[f64], top: f64, width: f64) {
    let bottom = layout.bottom;
    for (b_top, b_bottom, gap) in &layout.breaks {
        svg.rect(0.0, *b_top, width, b_bottom - b_top, BREAK_FILL, None, 0.0);
        let mid = (b_top + b_bottom) / 2.0;
        let cx =
            if xs.len() > 1 { (xs[0] + xs[xs.len() - 1]) / 2.0 } else { xs.first().copied().unwrap_or(0.0) + 120.0 };
        svg.text_boxed(
            cx,
            mid + 4.0,
            Anchor::Middle,
            Font::sans(12.0, "#555555").italic(),
            &format!("\u{2026} {} idle \u{2026}", gap_text(*gap)),
        );
    }
    let solid = Stroke::solid("#444444", 1.5);
    let faint = Stroke::dashed("#999999", 1.0, "2 4");
    for &x in xs {
        let mut y = top;
        for (b_top, b_bottom, _) in &layout.breaks {
            svg.line(x, y, x, *b_top, solid);
            svg.line(x, *b_top, x, *b_bottom, faint);
            // The classic break mark: two short slashes across the line.
            for dy in [4.0, b_bottom - b_top - 4.0] {
                svg.line(x - 7.0, b_top + dy + 3.0, x + 7.0, b_top + dy - 3.0, Stroke::solid("#444444", 1.2));
            }
            y = *b_bottom;
        }
        svg.line(x, y, x, bottom, solid);
    }
}

/// Times in ms at the left, skipping labels that would touch the previous.
fn draw_time_column(svg: &mut Svg, layout: &Layout, right: f64) {
    let Some(first) = layout.base.first() else {
        return;
    };
    svg.text(right, first - 18.0, Anchor::End, Font::mono(TIME_SIZE, MUTED).bold(), "ms");
    let mut last = f64::MIN;
    for (t, y) in layout.times.iter().zip(&layout.base) {
        if *y < last + 14.0 {
            continue;
        }
        svg.text(right, y + 4.0, Anchor::End, Font::mono(TIME_SIZE, MUTED), &short_ms(*t));
        svg.line(right + 4.0, *y, right + 10.0, *y, Stroke::solid("#bbbbbb", 1.0));
        last = *y;
    }
}

/// `segment` plus what sets it apart: `lost`, `retransmit`, `duplicate`,
/// `reordered`, `injected`, `unmatched` (no send or no arrival seen).
fn arrow_classes(a: &Arrow) -> String {
    let mut c = String::from("segment");
    for (on, name) in [
        (matches!(a.fate, Fate::Lost { .. }), "lost"),
        (a.seg.retransmit, "retransmit"),
        (a.duplicate, "duplicate"),
        (a.reordered, "reordered"),
        (a.injected, "injected"),
        (a.sent.is_none() || a.fate == Fate::Unknown, "unmatched"),
    ] {
        if on {
            c.push(' ');
            c.push_str(name);
        }
    }
    c
}

fn arrow_stroke(a: &Arrow) -> Stroke {
    let color = if matches!(a.fate, Fate::Lost { .. }) {
        LOST
    } else if a.seg.retransmit {
        RETRANSMIT
    } else if a.duplicate {
        DUPLICATE
    } else if a.reordered {
        REORDERED
    } else if a.injected {
        INJECTED
    } else {
        NORMAL
    };
    let dash = if a.seg.retransmit {
        "8 4"
    } else if a.duplicate {
        "2 3"
    } else if a.sent.is_none() {
        "4 4"
    } else {
        ""
    };
    Stroke { color, width: if a.seg.retransmit { 1.8 } else { 1.4 }, dash, opacity: 1.0 }
}

/// Where an arrow is drawn.
#[derive(Clone, Copy)]
struct Geometry {
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
    end: End,
    /// The span between the two timelines, which labels stay inside.
    span: (f64, f64),
}

impl Geometry {
    fn steep(&self) -> bool {
        (self.y2 - self.y1).abs() > (self.x2 - self.x1).abs() * 0.35
    }

    /// Whether the segment passes through `r` (Liang-Barsky clipping).
    fn crosses(&self, r: &Rect) -> bool {
        let (dx, dy) = (self.x2 - self.x1, self.y2 - self.y1);
        let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
        for (p, q) in [(-dx, self.x1 - r.x0), (dx, r.x1 - self.x1), (-dy, self.y1 - r.y0), (dy, r.y1 - self.y1)] {
            if p == 0.0 {
                if q < 0.0 {
                    return false;
                }
            } else {
                let t = q / p;
                if p < 0.0 {
                    t0 = t0.max(t);
                } else {
                    t1 = t1.min(t);
                }
                if t1 < t0 {
                    return false;
                }
            }
        }
        true
    }
}

fn geometry(a: &Arrow, layout: &Layout, xs: &[f64], start_row: u32, end_row: u32) -> Geometry {
    let (xa, xb) = (xs[a.from], xs[a.to]);
    // Arrows between the same timeline (never expected) get a stub.
    let xb = if a.from == a.to { xa + 60.0 } else { xb };
    let dir = if xa <= xb { 1.0 } else { -1.0 };
    let y_start = layout.y(a.start(), start_row);
    let (x1, y1, x2, y2, end) = match (a.sent, a.fate) {
        (Some(_), Fate::Delivered(t)) => (xa, y_start, xb - dir * 1.0, layout.y(t, end_row), End::Head),
        (Some(s), Fate::Lost { at, .. }) if s < at => (xa, y_start, xb - dir * 16.0, layout.y(at, end_row), End::Cross),
        (Some(_), Fate::Lost { .. }) => (xa, y_start, (xa + xb) / 2.0, y_start + DELAY_PX / 2.0, End::Cross),
        (Some(_), Fate::Unknown) => (xa, y_start, (xa + xb) / 2.0, y_start + DELAY_PX / 2.0, End::Open),
        // Only the arrival is known: a short arrow coming in.
        (None, Fate::Delivered(_)) => (xb - dir * 120.0, y_start - 14.0, xb - dir * 1.0, y_start, End::Head),
        (None, _) => (xb - dir * 120.0, y_start - 14.0, xb - dir * 60.0, y_start, End::Cross),
    };
    Geometry { x1, y1, x2, y2, end, span: (xa.min(xb) + 6.0, xa.max(xb) - 6.0) }
}

fn draw_arrows(svg: &mut Svg, m: &Model, layout: &Layout, xs: &[f64]) {
    let geoms: Vec<Geometry> = m
        .arrows
        .iter()
        .enumerate()
        .map(|(i, a)| geometry(a, layout, xs, layout.start_row[i], layout.end_row[i]))
        .collect();
    // All lines first, then the labels on top, placed clear of both.
    for (a, g) in m.arrows.iter().zip(&geoms) {
        let stroke = arrow_stroke(a);
        // Classes name what the style shows, for scripts and tests reading
        // the SVG; the label repeats the text drawn on top later.
        svg.open_group(&format!(r#"class="{}" data-label="{}""#, arrow_classes(a), escape(&a.full_label())));
        match g.end {
            End::Head => svg.arrow(g.x1, g.y1, g.x2, g.y2, stroke),
            End::Cross => {
                svg.line(g.x1, g.y1, g.x2, g.y2, stroke);
                svg.cross(g.x2, g.y2, 6.0, Stroke::solid(LOST, 2.4));
            }
            End::Open => svg.line(g.x1, g.y1, g.x2, g.y2, Stroke { dash: "3 3", ..stroke }),
        }
        svg.close_group();
    }
    let mut placed: Vec<Rect> = Vec::new();
    for (i, a) in m.arrows.iter().enumerate() {
        let g = &geoms[i];
        let text = a.full_label();
        // Arrows are in time order, so only near neighbours can be in the way.
        let near = &geoms[i.saturating_sub(48)..(i + 48).min(geoms.len())];
        let rect = place_label(g, &text, &placed, near);
        placed.push(rect);
        let stroke = arrow_stroke(a);
        let font = Font::mono(LABEL_SIZE, if stroke.color == NORMAL { INK } else { stroke.color });
        let x = (rect.x0 + rect.x1) / 2.0;
        let baseline = rect.y1 - 3.0;
        if g.steep() {
            // A long flight: the label sits on the line, boxed.
            svg.text_boxed(x, baseline, Anchor::Middle, font, &text);
        } else {
            svg.text_halo(x, baseline, Anchor::Middle, font, &text);
        }
    }
}

#[derive(Clone, Copy)]
enum End {
    Head,
    Cross,
    Open,
}

/// Finds a spot for a label along its arrow, just above the line, that
/// overlaps earlier labels and other arrows least: the middle first, then
/// points nearer either end.
fn place_label(g: &Geometry, text: &str, placed: &[Rect], near: &[Geometry]) -> Rect {
    let w = text_width(text, LABEL_SIZE);
    let h = LABEL_SIZE + 2.0;
    let slope = if (g.x2 - g.x1).abs() < 1.0 { 0.0 } else { (g.y2 - g.y1) / (g.x2 - g.x1) };
    let mut best: Option<(f64, Rect)> = None;
    // Off-centre spots near the sender come first: where two arrows cross,
    // each label then stays on its own side of the crossing.
    for f in [0.5, 0.34, 0.22, 0.12, 0.64, 0.76] {
        let cy = g.y1 + (g.y2 - g.y1) * f;
        // Slide the label back between the timelines if it sticks out.
        let cx = g.x1 + (g.x2 - g.x1) * f;
        let cx = if g.span.1 - g.span.0 < w {
            (g.span.0 + g.span.1) / 2.0
        } else {
            cx.clamp(g.span.0 + w / 2.0, g.span.1 - w / 2.0)
        };
        let cy = if slope == 0.0 { cy } else { g.y1 + (cx - g.x1) * slope };
        // Above the line over the label's whole width.
        let bottom = if g.steep() { cy + h / 2.0 } else { cy - (w / 2.0) * slope.abs() - 1.0 };
        let r = Rect { x0: cx - w / 2.0, y0: bottom - h, x1: cx + w / 2.0, y1: bottom };
        // Other lines must keep a little distance, not merely not touch.
        let padded = Rect { x0: r.x0 - 2.0, y0: r.y0 - 1.0, x1: r.x1 + 2.0, y1: r.y1 + 4.0 };
        // Labels keep a gap between them too, or two read as one.
        let spaced = Rect { x0: r.x0 - 10.0, y0: r.y0 - 1.0, x1: r.x1 + 10.0, y1: r.y1 + 1.0 };
        let labels: f64 = placed.iter().rev().take(96).map(|p| p.overlap(&spaced)).sum();
        let lines = near.iter().filter(|o| !std::ptr::eq(*o, g) && o.crosses(&padded)).count() as f64;
        // A label over a line is worse than a label off centre.
        let cost = labels + lines * 400.0 + (f - 0.5f64).abs() * 10.0;
        if best.is_none_or(|(c, _)| cost < c) {
            best = Some((cost, r));
        }
        if labels == 0.0 && lines == 0.0 {
            break;
        }
    }
    best.map_or(Rect { x0: g.x1, y0: g.y1 - h, x1: g.x1 + w, y1: g.y1 }, |(_, r)| r)
}

fn draw_legend(svg: &mut Svg, m: &Model, top: f64) -> f64 {
    let x = 24.0;
    let mut y = top;
    svg.line(16.0, y - 14.0, svg.width() - 16.0, y - 14.0, Stroke::solid("#dddddd", 1.0));
    let font = Font::mono(12.0, INK);
    let row = |svg: &mut Svg, y: f64, stroke: Stroke, end: End, text: &str| {
        match end {
            End::Head => svg.arrow(x, y - 4.0, x + 44.0, y - 4.0, stroke),
            End::Cross => {
                svg.line(x, y - 4.0, x + 40.0, y - 4.0, stroke);
                svg.cross(x + 40.0, y - 4.0, 5.0, Stroke::solid(LOST, 2.2));
            }
            End::Open => svg.line(x, y - 4.0, x + 44.0, y - 4.0, stroke),
        }
        svg.text(x + 58.0, y, Anchor::Start, font, text);
    };
    let items: [(Stroke, End, &str); 6] = [
        (Stroke::solid(NORMAL, 1.4), End::Head, "segment: flags, seq/ack relative to each end's ISN, len if data"),
        (Stroke::dashed(RETRANSMIT, 1.8, "8 4"), End::Head, "retransmission"),
        (Stroke::solid(LOST, 1.4), End::Cross, "lost: the \u{d7} marks where it was dropped"),
        (Stroke::dashed(DUPLICATE, 1.4, "2 3"), End::Head, "duplicate: the link delivered a second copy"),
        (Stroke::solid(REORDERED, 1.4), End::Head, "reordered: arrived after a segment sent later"),
        (Stroke::dashed("#999999", 1.0, "2 4"), End::Open, "idle time cut out (grey band, length written in it)"),
    ];
    for (stroke, end, text) in items {
        row(svg, y, stroke, end, text);
        y += 18.0;
    }
    svg.text(
        x,
        y + 2.0,
        Anchor::Start,
        Font::mono(12.0, INK),
        "bold: state entered; italic: timer (start/restart with its duration, fire)",
    );
    y += 20.0;
    if let Some(t) = m.truncated_at {
        svg.text(
            x,
            y + 2.0,
            Anchor::Start,
            Font::mono(12.0, LOST).bold(),
            &format!("cut after {MAX_ARROWS} segments, at {} ms", short_ms(t)),
        );
        y += 20.0;
    }
    y + 8.0
}

// ---------------------------------------------------------------------------
// Text rendering.

/// Width of the wire column between the two bars.
const WIRE_MIN: usize = 44;
const WIRE_MAX: usize = 78;

fn render_text(m: &Model, conn: u32, color: bool) -> String {
    let style = |s: Style, text: &str| -> String {
        if color { format!("{}{text}{}", s.render(), s.render_reset()) } else { text.to_string() }
    };
    let mut out = String::new();
    let col = |side: usize| usize::from(side != 0);
    let left_name = m.sides.first().map_or_else(|| "-".to_string(), |s| s.label());
    let right_name = if m.sides.len() > 1 {
        m.sides[1..].iter().map(|s| s.label()).collect::<Vec<_>>().join(" / ")
    } else {
        "-".to_string()
    };
    let ends: Vec<String> = m.sides.iter().map(|s| format!("{} {}", s.label(), s.address())).collect();
    let _ = writeln!(
        out,
        "# ladder of connection {conn}: {}",
        if ends.is_empty() { "no events".into() } else { ends.join(" | ") }
    );
    let isns: Vec<String> = m
        .sides
        .iter()
        .map(|s| format!("{}={}", s.label(), s.first_isn.map_or("-".into(), |i| i.to_string())))
        .collect();
    let _ = writeln!(out, "# seq/ack relative to each end's ISN ({}); @T = arrival time", isns.join(" "));

    // Lines in time order: each segment at its send, each note at its
    // time; equal times keep trace order.
    enum Line<'a> {
        Arrow(&'a Arrow),
        Note(&'a Note),
    }
    let mut lines: Vec<(Instant, usize, Line<'_>)> = Vec::new();
    for a in &m.arrows {
        lines.push((a.start(), a.order, Line::Arrow(a)));
    }
    for n in &m.notes {
        lines.push((n.t, n.order, Line::Note(n)));
    }
    lines.sort_by_key(|(t, order, _)| (*t, *order));
    let wire = m.arrows.iter().map(|a| a.full_label().len() + 10).max().unwrap_or(0).clamp(WIRE_MIN, WIRE_MAX);
    let left_w = m
        .notes
        .iter()
        .filter(|n| col(n.side) == 0)
        .map(|n| n.text().len())
        .chain([left_name.len(), 12])
        .max()
        .unwrap_or(12)
        .min(32);
    let _ = writeln!(out, "{:>10}  {:<left_w$} |{:wire$}|  {}", "time_ms", left_name, "", right_name);
    let firsts: Vec<String> = (0..2)
        .map(|c| {
            m.sides
                .iter()
                .enumerate()
                .filter(|(i, _)| col(*i) == c)
                .find_map(|(_, s)| s.first_state)
                .map_or(String::new(), |s| s.to_string())
        })
        .collect();
    if !firsts[0].is_empty() || !firsts[1].is_empty() {
        let _ = writeln!(out, "{:>10}  {:<left_w$} |{:wire$}|  {}", "", firsts[0], "", firsts[1]);
    }
    let mut prev: Option<Instant> = None;
    for (t, _, line) in &lines {
        if let Some(p) = prev
            && m.is_idle_gap(t.saturating_since(p).as_nanos())
        {
            let text = format!("~~ {} idle ~~", gap_text(t.saturating_since(p).as_nanos()));
            let _ = writeln!(out, "{:>10}  {:<left_w$} |{:^wire$}|", "", "", text);
        }
        prev = Some(*t);
        match line {
            Line::Note(n) => {
                let s = if n.is_state() {
                    Style::new().effects(Effects::BOLD)
                } else {
                    Style::new().fg_color(Some(AnsiColor::Cyan.into()))
                };
                let text = n.text();
                if col(n.side) == 0 {
                    let pad = " ".repeat(left_w.saturating_sub(text.len()));
                    let _ = writeln!(out, "{:>10}  {}{pad} |{:wire$}|", t.to_string(), style(s, &text), "");
                } else {
                    let _ = writeln!(out, "{:>10}  {:<left_w$} |{:wire$}|  {}", t.to_string(), "", "", style(s, &text));
                }
            }
            Line::Arrow(a) => {
                let (body, arrival) = text_arrow(a, col(a.from), col(a.to), wire, m.has_fates);
                let s = match a.fate {
                    Fate::Lost { .. } => Style::new().fg_color(Some(AnsiColor::Red.into())).effects(Effects::BOLD),
                    _ if a.seg.retransmit => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
                    _ if a.duplicate => Style::new().fg_color(Some(AnsiColor::Magenta.into())),
                    _ if a.reordered => Style::new().fg_color(Some(AnsiColor::Green.into())),
                    _ => Style::new(),
                };
                let (left, right) = if col(a.to) == 0 { (arrival, String::new()) } else { (String::new(), arrival) };
                let _ = writeln!(out, "{:>10}  {:>left_w$} |{}|  {}", t.to_string(), left, style(s, &body), right);
            }
        }
    }
    if let Some(t) = m.truncated_at {
        let _ = writeln!(out, "# cut after {MAX_ARROWS} segments, at {t} ms");
    }
    // Empty right columns leave trailing blanks; nobody wants those.
    let mut trimmed = String::with_capacity(out.len());
    for line in out.lines() {
        trimmed.push_str(line.trim_end());
        trimmed.push('\n');
    }
    trimmed
}

/// The wire column of one segment, exactly `wire` characters, and its
/// arrival note (`@T`).
fn text_arrow(a: &Arrow, from: usize, to: usize, wire: usize, has_fates: bool) -> (String, String) {
    let fill = if a.seg.retransmit { '=' } else { '-' };
    let label = format!(" {} ", a.full_label());
    let arrival = match a.fate {
        Fate::Delivered(t) => format!("@{t}"),
        Fate::Lost { .. } => String::new(),
        Fate::Unknown if has_fates => "(in flight)".to_string(),
        Fate::Unknown => String::new(),
    };
    let lost = matches!(a.fate, Fate::Lost { .. });
    let mut body: Vec<char> = Vec::with_capacity(wire);
    if from == to {
        // Both ends in one column (a third end): say who talks to whom.
        let s = format!(" {}", label.trim());
        body.extend(s.chars().take(wire));
    } else if from == 0 {
        body.extend(std::iter::repeat_n(fill, 3));
        body.extend(label.chars());
        if lost {
            // A lost segment stops half way, at an X.
            while body.len() + 1 < wire / 2 {
                body.push(fill);
            }
            body.push('X');
        } else {
            while body.len() + 1 < wire {
                body.push(fill);
            }
            body.push(if a.sent.is_some() { '>' } else { '}' });
        }
    } else {
        let mut tail: Vec<char> = label.chars().collect();
        tail.extend(std::iter::repeat_n(fill, 3));
        let head_len = wire.saturating_sub(tail.len());
        if lost {
            let start = head_len.min(wire / 2);
            body.extend(std::iter::repeat_n(' ', start.saturating_sub(1)));
            body.push('X');
            body.extend(std::iter::repeat_n(fill, head_len.saturating_sub(start)));
        } else {
            body.push(if a.sent.is_some() { '<' } else { '{' });
            body.extend(std::iter::repeat_n(fill, head_len.saturating_sub(1)));
        }
        body.extend(tail);
    }
    body.truncate(wire);
    while body.len() < wire {
        body.push(' ');
    }
    (body.into_iter().collect(), arrival)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::{Flags, SeqNum};
    use crate::trace::Route;

    const A: (u32, u16) = (0x0a00_0001, 49152);
    const B: (u32, u16) = (0x0a00_0002, 80);

    fn seg(flags: Flags, seq: u32, ack: u32) -> Segment {
        Segment { flags, seq: SeqNum(seq), ack: SeqNum(ack), wnd: 1000, ..Segment::default() }
    }

    fn ev(ms: u64, name: &str, kind: TraceKind, route: Option<(u32, u16, u32, u16)>) -> OwnedEvent {
        OwnedEvent {
            t: Instant::from_nanos(ms * 1_000_000),
            conn: 0,
            ep: 0,
            endpoint: name.to_string(),
            kind,
            route: route.map(|(a, p, b, q)| Route { src: (a, p), dst: (b, q) }),
            pkt: None,
            lost_eps: Box::default(),
        }
    }

    fn ab() -> Option<(u32, u16, u32, u16)> {
        Some((A.0, A.1, B.0, B.1))
    }

    fn ba() -> Option<(u32, u16, u32, u16)> {
        Some((B.0, B.1, A.0, A.1))
    }

    fn handshake() -> Vec<OwnedEvent> {
        let syn = seg(Flags::SYN, 100, 0);
        let synack = seg(Flags::SYN | Flags::ACK, 500, 101);
        vec![
            ev(0, "client", TraceKind::Send { seg: syn, injected: false }, ab()),
            ev(10, "server", TraceKind::Deliver { seg: syn }, ab()),
            ev(10, "server", TraceKind::Send { seg: synack, injected: false }, ba()),
            ev(20, "client", TraceKind::Deliver { seg: synack }, ba()),
        ]
    }

    #[test]
    fn sends_match_deliveries_and_numbers_are_relative() {
        let m = Model::build(&handshake(), 0);
        assert_eq!(m.sides.len(), 2);
        assert_eq!(m.sides[0].names, vec!["client"]);
        assert_eq!(m.arrows.len(), 2);
        assert_eq!(m.arrows[0].label, "SYN seq=0");
        assert_eq!(m.arrows[1].label, "SYN|ACK seq=0 ack=1");
        assert_eq!(m.arrows[1].fate, Fate::Delivered(Instant::from_nanos(20_000_000)));
        assert_eq!(m.typical_delay, 10_000_000);
    }

    #[test]
    fn a_second_delivery_is_a_duplicate_and_an_overtaken_one_reordered() {
        let mut evs = handshake();
        let d1 = seg(Flags::ACK, 101, 501);
        let d2 = Segment { len: 10, ..seg(Flags::ACK | Flags::PSH, 101, 501) };
        evs.push(ev(20, "client", TraceKind::Send { seg: d1, injected: false }, ab()));
        evs.push(ev(21, "client", TraceKind::Send { seg: d2, injected: false }, ab()));
        evs.push(ev(31, "server", TraceKind::Deliver { seg: d2 }, ab()));
        evs.push(ev(40, "server", TraceKind::Deliver { seg: d1 }, ab()));
        evs.push(ev(45, "server", TraceKind::Deliver { seg: d1 }, ab()));
        let m = Model::build(&evs, 0);
        assert_eq!(m.arrows.len(), 5);
        assert!(m.arrows[2].reordered, "d1 arrived after d2");
        assert!(!m.arrows[3].reordered);
        assert!(m.arrows[4].duplicate);
        assert_eq!(m.arrows[4].sent, Some(Instant::from_nanos(20_000_000)));
    }

    fn with_pkt(mut e: OwnedEvent, pkt: u64, copy: u8) -> OwnedEvent {
        e.pkt = Some(PacketId { pkt, copy });
        e
    }

    /// Two identical ACKs, the first overtaken by the second and by a copy
    /// of itself: `pkt` says which arrival is whose.
    #[test]
    fn deliveries_join_their_sends_by_pkt() {
        let mut evs = handshake();
        let ack = seg(Flags::ACK, 101, 501);
        evs.push(with_pkt(ev(20, "client", TraceKind::Send { seg: ack, injected: false }, ab()), 10, 0));
        evs.push(with_pkt(ev(21, "client", TraceKind::Send { seg: ack, injected: false }, ab()), 11, 0));
        evs.push(with_pkt(ev(31, "server", TraceKind::Deliver { seg: ack }, ab()), 11, 0));
        evs.push(with_pkt(ev(35, "server", TraceKind::Deliver { seg: ack }, ab()), 10, 1));
        evs.push(with_pkt(ev(40, "server", TraceKind::Deliver { seg: ack }, ab()), 10, 0));
        let m = Model::build(&evs, 0);
        assert_eq!(m.arrows.len(), 5);
        let at = |ms: u64| Instant::from_nanos(ms * 1_000_000);
        assert_eq!((m.arrows[2].sent, m.arrows[2].fate), (Some(at(20)), Fate::Delivered(at(40))));
        assert!(m.arrows[2].reordered, "sent first, arrived last");
        assert_eq!((m.arrows[3].sent, m.arrows[3].fate), (Some(at(21)), Fate::Delivered(at(31))));
        assert!(!m.arrows[3].reordered);
        assert!(m.arrows[4].duplicate);
        assert_eq!((m.arrows[4].sent, m.arrows[4].fate), (Some(at(20)), Fate::Delivered(at(35))));
    }

    #[test]
    fn drops_end_the_segment_they_follow() {
        let mut evs = handshake();
        let fin = seg(Flags::FIN | Flags::ACK, 101, 501);
        evs.push(ev(30, "client", TraceKind::Send { seg: fin, injected: false }, ab()));
        evs.push(ev(30, "client", TraceKind::Drop { seg: fin, reason: DropReason::Loss }, ab()));
        let m = Model::build(&evs, 0);
        assert!(matches!(m.arrows[2].fate, Fate::Lost { reason: DropReason::Loss, .. }));
        let svg = render_svg(&m, 0, "t");
        super::super::svg::check_well_formed(&svg).unwrap();
        assert!(svg.contains("lost: loss"));
    }

    #[test]
    fn no_events_still_give_a_picture_and_a_text() {
        let svg = ladder_svg(&[], 3, "empty");
        super::super::svg::check_well_formed(&svg).unwrap();
        assert!(svg.contains("no events of connection 3"));
        assert!(ladder_text(&[], 3, false).contains("no events"));
    }

    #[test]
    fn text_arrows_have_the_wire_width() {
        let m = Model::build(&handshake(), 0);
        for a in &m.arrows {
            let (body, _) = text_arrow(a, usize::from(a.from != 0), usize::from(a.to != 0), 50, true);
            assert_eq!(body.chars().count(), 50, "{body:?}");
        }
        let text = render_text(&m, 0, false);
        assert!(text.contains("|--- SYN seq=0 ---"), "{text}");
        assert!(text.contains("@20.000"), "{text}");
    }
}
