//! What a time-sequence graph shows, in data units (time, relative
//! sequence numbers), inferred from trace events alone: the sending end's
//! segments, the peer's ACKs as the sender received them, and the marks.
//! Rendering ([`super`]) only maps it to pixels.

use crate::pictures::Window;
use crate::pictures::ladder::IsnLog;
use crate::time::Instant;
use crate::trace::{OwnedEvent, TraceKind, TraceSink};

/// An end of the connection: address and port.
pub(super) type End = (u32, u16);

/// A range of relative sequence numbers sent at one time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Bar {
    pub(super) t: Instant,
    /// The first sequence number, relative to the sender's ISN.
    pub(super) lo: i64,
    /// One past the last.
    pub(super) hi: i64,
}

/// The peer's acknowledgement as the sender received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct AckPoint {
    pub(super) t: Instant,
    /// The cumulative ACK, relative to the sender's ISN.
    pub(super) ack: i64,
    /// ACK plus the advertised window, scaled (RFC 7323 §2.3).
    pub(super) window_edge: i64,
    /// RFC 5681 §2's duplicate ACK: no data, no SYN or FIN, the same ACK
    /// (the greatest received) and window as the previous one, with data
    /// outstanding.
    pub(super) duplicate: bool,
}

/// A control flag sent (SYN or FIN), at its sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Flag {
    pub(super) t: Instant,
    pub(super) seq: i64,
    pub(super) syn: bool,
}

/// Everything one graph draws, inside its window (the step lines also
/// keep the last value before it, so they start at the window's edge).
#[derive(Debug, Default)]
pub(super) struct Graph {
    /// The sender's name, and its peer's.
    pub(super) names: (String, String),
    pub(super) ends: Option<(End, End)>,
    /// The ISN the numbers are relative to (the first in the window).
    pub(super) isn: Option<u32>,
    /// New data sent (first transmissions).
    pub(super) data: Vec<Bar>,
    /// Retransmissions (RFC 9293 §3.8.1, RFC 5681 §3.2, RFC 6675).
    pub(super) retransmits: Vec<Bar>,
    /// Transmissions lost on the way (link loss, faults), at their send.
    pub(super) drops: Vec<Bar>,
    /// Transmissions the link or a fault delivered more than once.
    pub(super) duplicates: Vec<Bar>,
    /// The peer's ACKs received, in time order; the first may be the
    /// last one before the window (`carried`).
    pub(super) acks: Vec<AckPoint>,
    /// Whether `acks[0]` is from before the window.
    pub(super) carried: bool,
    /// SACK blocks of the peer's ACKs (RFC 2018), at the ACK's arrival.
    pub(super) sacks: Vec<Bar>,
    /// SYNs and FINs sent.
    pub(super) flags: Vec<Flag>,
    /// The times of every event of the connection drawn from, for the
    /// span of an open window.
    pub(super) first_t: Option<Instant>,
    pub(super) last_t: Option<Instant>,
}

/// Which end sends: `endpoint` by name, or the first end seen (the one
/// that connects, as in the ladder).
fn sender(events: &[OwnedEvent], conn: u32, endpoint: Option<&str>) -> Option<(End, End, String, String)> {
    let on_conn = events.iter().filter(|e| e.conn == conn);
    let (me, peer) = match endpoint {
        None => on_conn.clone().find_map(|e| e.route).map(|r| (r.src, r.dst))?,
        Some(name) => on_conn.clone().find_map(|e| match (e.kind, e.route) {
            (TraceKind::Send { .. }, Some(r)) if e.endpoint == name => Some((r.src, r.dst)),
            (TraceKind::Deliver { .. }, Some(r)) if e.endpoint == name => Some((r.dst, r.src)),
            _ => None,
        })?,
    };
    let name_of = |end: End| {
        on_conn
            .clone()
            .find_map(|e| match (e.kind, e.route) {
                (TraceKind::Send { .. }, Some(r)) if r.src == end => Some(e.endpoint.clone()),
                (TraceKind::Deliver { .. }, Some(r)) if r.dst == end => Some(e.endpoint.clone()),
                _ => None,
            })
            .unwrap_or_else(|| address(end))
    };
    Some((me, peer, name_of(me), name_of(peer)))
}

pub(super) fn address((a, p): End) -> String {
    format!("{}.{}.{}.{}:{p}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff)
}

impl Graph {
    /// The graph of the data `endpoint` (or the first end) sends on
    /// connection `conn`, inside `window`.
    pub(super) fn build(events: &[OwnedEvent], conn: u32, endpoint: Option<&str>, window: Window) -> Graph {
        let mut g = Graph::default();
        let Some((me, peer, my_name, peer_name)) = sender(events, conn, endpoint) else {
            return g;
        };
        g.names = (my_name, peer_name);
        g.ends = Some((me, peer));
        let mut isns = IsnLog::default();
        for e in events {
            isns.record(&e.as_event());
        }
        // Before the first SYN seen (a trace without one), numbers are
        // relative to the first sequence number the sender used.
        let fallback = events.iter().find_map(|e| match (e.kind, e.route) {
            (TraceKind::Send { seg, .. }, Some(r)) if e.conn == conn && r.src == me => Some(seg.seq.0),
            _ => None,
        });
        let rel = |seq: u32, t: Instant| -> i64 {
            let isn = isns.at(me, t).or(fallback).unwrap_or(0);
            i64::from(seq.wrapping_sub(isn) as i32)
        };
        let from = window.from.unwrap_or(Instant::ZERO);
        g.isn = isns.at(me, from).or_else(|| isns.at(me, Instant::MAX)).or(fallback);
        // Send times by transmission, for drops and copies.
        let mut sent: Vec<(u64, Bar)> = Vec::new();
        let mut last_ack: Option<(i64, u32)> = None;
        // SND.MAX, relative: whether data is outstanding for RFC 5681's
        // duplicate ACK.
        let mut snd_max = i64::MIN;
        for e in events {
            let Some(r) = e.route else { continue };
            let own = r.src == me && r.dst == peer;
            let theirs = r.src == peer && r.dst == me;
            // Only this connection's segments: a stray of another
            // incarnation on the same 4-tuple is not the peer's ACK.
            if !((own || theirs) && e.conn == conn) {
                continue;
            }
            g.first_t.get_or_insert(e.t);
            g.last_t = Some(e.t);
            match e.kind {
                TraceKind::Send { seg, .. } if own && e.conn == conn => {
                    let lo = rel(seg.seq.0, e.t);
                    let bar = Bar { t: e.t, lo: lo + i64::from(seg.flags.syn()), hi: lo + i64::from(seg.seg_len()) };
                    if let Some(id) = e.pkt {
                        sent.push((id.pkt, bar));
                    }
                    snd_max = snd_max.max(bar.hi);
                    if !window.contains(e.t) {
                        continue;
                    }
                    if seg.len > 0 {
                        let data = Bar { lo: bar.lo, hi: bar.lo + i64::from(seg.len), ..bar };
                        if seg.retransmit { g.retransmits.push(data) } else { g.data.push(data) }
                    }
                    if seg.flags.syn() {
                        g.flags.push(Flag { t: e.t, seq: lo, syn: true });
                    }
                    if seg.flags.fin() {
                        g.flags.push(Flag { t: e.t, seq: lo + i64::from(seg.len), syn: false });
                    }
                }
                TraceKind::Drop { seg, .. } if own && seg.seg_len() > 0 => {
                    let at = send_of(&sent, e.pkt.map(|p| p.pkt)).unwrap_or_else(|| {
                        let lo = rel(seg.seq.0, e.t);
                        Bar { t: e.t, lo, hi: lo + i64::from(seg.seg_len()) }
                    });
                    if window.contains(at.t) {
                        g.drops.push(at);
                    }
                }
                TraceKind::Deliver { seg, .. } if own && seg.seg_len() > 0 && e.pkt.is_some_and(|p| p.copy > 0) => {
                    if let Some(at) = send_of(&sent, e.pkt.map(|p| p.pkt))
                        && window.contains(at.t)
                    {
                        g.duplicates.push(at);
                    }
                }
                TraceKind::Deliver { seg, discard: None } if theirs && seg.flags.ack() => {
                    if window.is_after(e.t) {
                        continue;
                    }
                    let ack = rel(seg.ack.0, e.t);
                    let wnd = seg.wnd_scaled();
                    // An ACK older than the greatest received (reordered)
                    // moves neither line: the sender ignores it (RFC 9293
                    // §3.10.7.4, SEG.ACK < SND.UNA) and keeps its window
                    // (the SND.WL1/WL2 test); its SACK blocks still count.
                    let old = last_ack.is_some_and(|(a, _)| ack < a);
                    let duplicate = !old
                        && seg.len == 0
                        && !seg.flags.syn()
                        && !seg.flags.fin()
                        && last_ack == Some((ack, wnd))
                        && snd_max > ack;
                    if !window.contains(e.t) {
                        if !old {
                            last_ack = Some((ack, wnd));
                            // Before the window: only the latest one is
                            // kept, where the lines enter it.
                            g.acks.clear();
                            g.acks.push(AckPoint { t: e.t, ack, window_edge: ack + i64::from(wnd), duplicate: false });
                            g.carried = true;
                        }
                        continue;
                    }
                    for b in seg.sack.as_slice() {
                        g.sacks.push(Bar { t: e.t, lo: rel(b.left.0, e.t), hi: rel(b.right.0, e.t) });
                    }
                    if !old {
                        last_ack = Some((ack, wnd));
                        g.acks.push(AckPoint { t: e.t, ack, window_edge: ack + i64::from(wnd), duplicate });
                    }
                }
                _ => {}
            }
        }
        g
    }
}

/// The send of transmission `pkt`, if it was seen.
fn send_of(sent: &[(u64, Bar)], pkt: Option<u64>) -> Option<Bar> {
    let pkt = pkt?;
    // Sends come in pkt order, so a binary search finds it.
    sent.binary_search_by_key(&pkt, |(p, _)| *p).ok().map(|i| sent[i].1)
}
