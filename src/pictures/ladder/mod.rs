//! Ladder (sequence) diagrams of one connection: one timeline per end,
//! time downwards, one arrow per segment from its send to its delivery.
//!
//! Both renderings ([`ladder_svg`], [`ladder_text`]) share one picture of
//! the exchange (`exchange::Exchange`), built from trace
//! events alone, so they show the same facts:
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
//!   SACK blocks follow a segment's `ack`, relative as it is (`sack
//!   L-R,...`, a D-SACK first as `dsack L-R`); SYN options are not shown.
//! - **Time** runs down at a scale where the typical one-way delay is a
//!   comfortable slope; idle stretches much longer than that (RTOs, 2MSL)
//!   are cut out and labelled with their length.

//!
//! The module holds the public entry points, [`LadderRecorder`] and
//! [`IsnLog`];
//! `exchange` infers the connection's exchange from the events, `svg` and `text` render it.

mod exchange;
mod svg;
#[cfg(test)]
mod test_events;
mod text;

use crate::pictures::Window;
use crate::time::Instant;
use crate::trace::{OwnedEvent, Route, TraceEvent, TraceKind, TraceSink};
use exchange::Exchange;
use std::collections::{BTreeMap, BTreeSet};

/// The most segments one ladder shows; a longer connection is cut there
/// (and the picture says so), because a ladder of tens of thousands of
/// arrows is unreadable and its file enormous.
pub const MAX_ARROWS: usize = 3000;

/// The tallest ladder drawn, in px: cairo and librsvg (and so browsers'
/// and converters' rasterizers) refuse surfaces above 32 767 px.
pub const MAX_HEIGHT_PX: f64 = 32_000.0;

/// An SVG ladder diagram of connection `conn`.
pub fn ladder_svg(events: &[OwnedEvent], conn: u32, title: &str) -> String {
    fitted_svg(events, conn, &IsnLog::default(), title)
}

/// The ladder cut after [`MAX_ARROWS`] arrows, or after fewer when that
/// would be taller than [`MAX_HEIGHT_PX`]: rows differ in height (notes,
/// timers, delays), so the cut is found by drawing, each try scaled by
/// the height over.
fn fitted_svg(events: &[OwnedEvent], conn: u32, isns: &IsnLog, title: &str) -> String {
    let mut limit = MAX_ARROWS;
    loop {
        let exchange = Exchange::build_limited(events, conn, isns, limit);
        let svg = svg::render_svg(&exchange, conn, title);
        let height = svg_height(&svg);
        if height <= MAX_HEIGHT_PX || limit <= 10 {
            return svg;
        }
        let scaled = (limit as f64 * MAX_HEIGHT_PX / height * 0.97) as usize;
        limit = scaled.clamp(10, limit - 1);
    }
}

/// The `height` attribute of an SVG's root element.
fn svg_height(svg: &str) -> f64 {
    svg.split_once("height=\"").and_then(|(_, rest)| rest.split('"').next()).and_then(|h| h.parse().ok()).unwrap_or(0.0)
}

/// [`ladder_svg`] of the part of the run inside `window`. `events` should
/// be every event of the connection, unfiltered: the ISNs come from the
/// SYNs before the window, so sequence numbers stay relative to them.
pub fn ladder_svg_in(events: &[OwnedEvent], conn: u32, window: Window, title: &str) -> String {
    if !window.is_bounded() {
        return ladder_svg(events, conn, title);
    }
    let mut isns = IsnLog::default();
    for e in events {
        isns.record(&e.as_event());
    }
    let inside: Vec<OwnedEvent> = events.iter().filter(|e| window.contains(e.t)).cloned().collect();
    fitted_svg(&inside, conn, &isns, &format!("{title}, {}", window.describe()))
}

/// A text ladder of connection `conn` for a terminal: one line per
/// segment (at its send time, with its arrival time) and per state change
/// or timer of interest. `color` adds ANSI styles.
pub fn ladder_text(events: &[OwnedEvent], conn: u32, color: bool) -> String {
    ladder_text_with(events, conn, color, &IsnLog::default())
}

/// [`ladder_text`] of events that may start after the SYNs (a time
/// window): `isns`, which saw the whole run, gives each end's ISN, so
/// sequence numbers stay relative as the header says.
pub fn ladder_text_with(events: &[OwnedEvent], conn: u32, color: bool, isns: &IsnLog) -> String {
    let exchange = Exchange::build(events, conn, isns);
    text::render_text(&exchange, conn, color)
}

/// What a ladder of part of a run (a time window, one endpoint's records)
/// needs from the whole run, fed every event unfiltered: the initial
/// sequence numbers, by address and port, with the time each took effect,
/// so segments are numbered relative to each end's ISN; the order in which
/// the ends first appeared, so the columns stay those of the whole run
/// (the end that connects on the left); the endpoint names on each end, so
/// a peer whose records are filtered out keeps its name; and the
/// transmissions never delivered or dropped, so only those are "in flight".
///
/// An end's ISN is its first SYN's, or a later new (not retransmitted)
/// SYN's, of a new incarnation; never an injected one (an old duplicate),
/// as the ladder itself decides (RFC 9293 §3.4.1: each incarnation picks
/// a new ISN).
#[derive(Clone, Debug, Default)]
pub struct IsnLog {
    /// Per end, the ISNs in the order they took effect.
    by_end: BTreeMap<(u32, u16), Vec<(Instant, u32)>>,
    /// Per end, when it first appeared (a count of ends) and the endpoint
    /// names seen on it (a few at most).
    ends: BTreeMap<(u32, u16), (usize, Vec<String>)>,
    /// Transmissions (`pkt`) sent and not yet delivered or dropped.
    open: BTreeSet<u64>,
    /// Whether any send named its transmission (events built by hand may not).
    saw_pkts: bool,
}

impl IsnLog {
    /// The ISN end `end` was using at time `t`: the last one that took
    /// effect at or before `t`.
    pub fn at(&self, end: (u32, u16), t: Instant) -> Option<u32> {
        let isns = self.by_end.get(&end)?;
        isns.iter().take_while(|(since, _)| *since <= t).last().map(|&(_, isn)| isn)
    }

    /// When end `end` first appeared in the run, as a rank.
    pub(super) fn first_seen(&self, end: (u32, u16)) -> Option<usize> {
        self.ends.get(&end).map(|(rank, _)| *rank)
    }

    /// The endpoint names seen on end `end`.
    pub(super) fn names(&self, end: (u32, u16)) -> &[String] {
        self.ends.get(&end).map_or(&[], |(_, names)| names)
    }

    /// Whether transmission `pkt` was delivered or dropped by the end of
    /// the run (false when the log saw no transmissions at all).
    pub(super) fn ended(&self, pkt: u64) -> bool {
        self.saw_pkts && !self.open.contains(&pkt)
    }
}

/// The most names kept per end: a listener's endpoints and its host.
const NAMES_PER_END: usize = 4;

impl TraceSink for IsnLog {
    fn record(&mut self, e: &TraceEvent<'_>) {
        if let Some(route) = e.route {
            let next = self.ends.len();
            for end in [route.src, route.dst] {
                self.ends.entry(end).or_insert_with(|| (next + usize::from(end == route.dst), Vec::new()));
            }
            let own = match e.kind {
                TraceKind::Deliver { .. } => Some(route.dst),
                TraceKind::Send { .. } | TraceKind::Drop { .. } => Some(route.src),
                _ => None,
            };
            if let Some((_, names)) = own.and_then(|end| self.ends.get_mut(&end))
                && names.len() < NAMES_PER_END
                && !names.iter().any(|n| n == e.endpoint)
            {
                names.push(e.endpoint.to_string());
            }
            match (e.kind, e.pkt) {
                (TraceKind::Send { .. }, Some(id)) => {
                    self.saw_pkts = true;
                    self.open.insert(id.pkt);
                }
                (TraceKind::Deliver { .. } | TraceKind::Drop { .. }, Some(id)) => {
                    self.open.remove(&id.pkt);
                }
                _ => {}
            }
        }
        if let (TraceKind::Send { seg, injected: false }, Some(route)) = (e.kind, e.route)
            && seg.flags.syn()
        {
            let isns = self.by_end.entry(route.src).or_default();
            if isns.is_empty() || !seg.retransmit {
                isns.push((e.t, seg.seq.0));
            }
        }
    }
}

/// Keeps what a ladder of connection `conn` needs from a running world:
/// the connection's own events, and deliveries and drops recorded under
/// another connection number on one of its routes. (A delivery names its
/// send's connection, so a stray segment of another connection on the same
/// 4-tuple, an old duplicate, is recorded under that connection; the
/// ladder draws it where it reached one of this connection's endpoints,
/// see [`ConnMembers`](crate::trace::ConnMembers).) Everything else is dropped, so a long run costs
/// little.
#[derive(Clone, Debug, Default)]
pub struct LadderRecorder {
    conn: u32,
    routes: Vec<RouteKey>,
    /// The events kept, in order.
    pub events: Vec<OwnedEvent>,
}

impl LadderRecorder {
    /// Keeps the events of connection `conn` (and the deliveries and drops on
    /// its routes).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_events_still_give_a_picture_and_a_text() {
        let svg = ladder_svg(&[], 3, "empty");
        crate::pictures::svg::check_well_formed(&svg).unwrap();
        assert!(svg.contains("no events of connection 3"));
        assert!(ladder_text(&[], 3, false).contains("no events"));
    }
}
