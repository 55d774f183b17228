//! The time-sequence graph (Stevens's, tcptrace's and Wireshark's) of the
//! data one end of a connection sends: sequence number against time.
//!
//! - **Data segments** are vertical bars from their first sequence number
//!   to one past their last, at their send time; first transmissions in
//!   blue, retransmissions in red.
//! - **The ACK line** (green) is the peer's cumulative acknowledgement as
//!   the sender received it, a step line; **the window line** (gold,
//!   dashed) is
//!   that ACK plus the window the same segment advertised, scaled when
//!   window scaling is on (RFC 7323 §2.3): the most the sender may have
//!   sent. Data bars touching the window line are window-limited sends.
//! - **Marks:** an x on a bar whose transmission was lost (link loss,
//!   queue, faults), a diamond on a bar the link delivered twice, a
//!   circle on the ACK line for each duplicate ACK (RFC 5681 §2), purple
//!   bars beside the ACK line for the peer's SACK blocks (RFC 2018), and
//!   `SYN`/`FIN` where the sender sent them.
//!
//! Sequence numbers are relative to the sender's ISN (its SYN's), as in
//! the ladder, so the first data byte is 1; an [`IsnLog`] built from all
//! the events given keeps them relative inside a later window. Marks
//! smaller than a pixel are merged ([`super::merge`]), so the file's size
//! is bounded by the picture's width, not by the transfer's length.
//!
//! [`IsnLog`]: super::ladder::IsnLog

mod graph;

use super::Window;
use super::axes::{Axis, byte_unit, note_lines};
use super::merge::{Range, merge_ranges, step_polyline};
use super::svg::{Anchor, Font, SANS, Stroke, Svg, num, text_width};
use crate::trace::OwnedEvent;
use graph::{Bar, Graph, address};
use std::fmt::Write as _;

const WIDTH: f64 = 960.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 930.0;
const TOP: f64 = 72.0;
const PLOT_HEIGHT: f64 = 440.0;
const BOTTOM: f64 = TOP + PLOT_HEIGHT;

const DATA: &str = "#1f5fbf";
const RETRANSMIT: &str = "#d62728";
const DROP: &str = "#111111";
const DUPLICATE: &str = "#e07b00";
const ACK: &str = "#2a8a2a";
const WINDOW: &str = "#c49a00";
const SACK: &str = "#8e44ad";
const FLAG: &str = "#444444";
const GRID: &str = "#e4e4e4";

/// The most SYN/FIN labels written; beyond it they are dots.
const MAX_FLAG_LABELS: usize = 40;

/// The time-sequence graph of the data that `endpoint` (or, when `None`,
/// the end that connects, as the ladder draws on its left) sends on
/// connection `conn`, inside `window`. `events` should be every event of
/// the connection, unfiltered: the graph needs the SYNs (for the ISNs)
/// and the last ACK before the window.
pub fn tsg_svg(events: &[OwnedEvent], conn: u32, endpoint: Option<&str>, window: Window, title: &str) -> String {
    let graph = Graph::build(events, conn, endpoint, window);
    render(&graph, conn, endpoint, window, title)
}

/// Pixels of the graph's marks, merged.
struct Drawn {
    svg: Svg,
    merged: usize,
}

fn render(g: &Graph, conn: u32, endpoint: Option<&str>, window: Window, title: &str) -> String {
    let mut d = Drawn { svg: Svg::new(WIDTH, BOTTOM + 130.0), merged: 0 };
    d.svg.text(WIDTH / 2.0, 26.0, Anchor::Middle, Font::sans(17.0, "#222").bold(), title);
    let Some((me, peer)) = g.ends else {
        let who = endpoint.map_or(String::new(), |n| format!(" from {n}"));
        d.svg.text(
            WIDTH / 2.0,
            60.0,
            Anchor::Middle,
            Font::sans(14.0, "#555"),
            &format!("no segments{who} on connection {conn}"),
        );
        d.svg.set_height(90.0);
        return d.svg.finish();
    };
    let mut sub = format!("data sent by {} ({}) to {} ({})", g.names.0, address(me), g.names.1, address(peer));
    if let Some(isn) = g.isn {
        let _ = write!(sub, "; sequence numbers relative to ISN {isn}");
    }
    let within = window.describe();
    if !within.is_empty() {
        let _ = write!(sub, "; {within}");
    }
    d.svg.text(WIDTH / 2.0, 48.0, Anchor::Middle, Font::sans(12.5, "#444"), &sub);

    let times = [g.first_t, g.last_t].into_iter().flatten();
    let Some((t_lo, t_hi)) = window.span(times) else {
        return d.svg.finish();
    };
    let ms = |t: crate::time::Instant| t.as_nanos() as f64 / 1e6;
    let x = Axis::new(ms(t_lo), ms(t_hi), LEFT, RIGHT);
    let (y_lo, y_hi) = seq_range(g);
    let (unit, unit_name) = byte_unit(y_hi.abs().max(y_lo.abs()));
    let pad = (y_hi - y_lo).max(1.0) * 0.04;
    let y = Axis::new((y_lo - pad) / unit, (y_hi + pad) / unit, BOTTOM, TOP);
    axes(&mut d.svg, &x, &y, unit_name);

    let xt = |t: crate::time::Instant| x.at_clamped(ms(t));
    let ys = |seq: i64| y.at_clamped(seq as f64 / unit);
    let empty = g.data.is_empty() && g.retransmits.is_empty() && g.acks.is_empty() && g.flags.is_empty();
    if empty {
        d.svg.text(
            (LEFT + RIGHT) / 2.0,
            (TOP + BOTTOM) / 2.0,
            Anchor::Middle,
            Font::sans(14.0, "#777"),
            "no data or ACKs in this window",
        );
    }

    // Everything inside the plot is drawn in a nested viewport, which
    // clips what lies beyond it (the window line far above the data)
    // without a clip path's document-wide id.
    d.svg.raw(&format!(
        "<svg x=\"{l}\" y=\"{t}\" width=\"{w}\" height=\"{h}\" viewBox=\"{l} {t} {w} {h}\" overflow=\"hidden\">\n",
        l = num(LEFT - 8.0),
        t = num(TOP),
        w = num(RIGHT - LEFT + 16.0),
        h = num(PLOT_HEIGHT),
    ));
    // Lines first, so the bars and marks are drawn over them.
    let x_end = if window.to.is_some() { RIGHT } else { xt(t_hi) };
    let line_x = |i: usize, t| if i == 0 && g.carried { LEFT } else { xt(t) };
    // Not clamped: the viewport hides what is above the plot.
    let yw = |seq: i64| y.at(seq as f64 / unit).max(TOP - 20.0);
    let window_line: Vec<(f64, f64)> =
        g.acks.iter().enumerate().map(|(i, a)| (line_x(i, a.t), yw(a.window_edge))).collect();
    let ack_line: Vec<(f64, f64)> = g.acks.iter().enumerate().map(|(i, a)| (line_x(i, a.t), ys(a.ack))).collect();
    step_line(&mut d, &ack_line, x_end, Stroke::solid(ACK, 1.6), "tsg-ack");
    // Dashed over the ACK line, so a closed window (the two lines one)
    // still shows.
    step_line(&mut d, &window_line, x_end, Stroke::dashed(WINDOW, 1.6, "6 3"), "tsg-window");
    bars(&mut d, &g.sacks, &xt, &ys, 2.5, Stroke { opacity: 0.75, ..Stroke::solid(SACK, 3.0) }, "tsg-sack");
    bars(&mut d, &g.data, &xt, &ys, 0.0, Stroke::solid(DATA, 1.6), "tsg-data");
    bars(&mut d, &g.retransmits, &xt, &ys, 0.0, Stroke::solid(RETRANSMIT, 2.6), "tsg-retransmit");
    let dup_acks = g.acks.iter().filter(|a| a.duplicate).map(|a| (xt(a.t), ys(a.ack), ys(a.ack)));
    let (dup_acks, merged) = merge_ranges(dup_acks);
    d.merged += merged;
    glyphs(&mut d.svg, &dup_acks, "tsg-dupack", ACK, |x, y| {
        format!("M{} {}m-2.6 0a2.6 2.6 0 1 0 5.2 0a2.6 2.6 0 1 0 -5.2 0", num(x), num(y))
    });
    let at_bars = |marks: &[Bar]| marks.iter().map(|b| (xt(b.t), ys(b.lo), ys(b.hi))).collect::<Vec<_>>();
    let (drops, merged) = merge_ranges(at_bars(&g.drops));
    d.merged += merged;
    glyphs(&mut d.svg, &drops, "tsg-drop", DROP, |x, y| format!("M{} {}l7 7m0 -7l-7 7", num(x - 3.5), num(y - 3.5)));
    let (dups, merged) = merge_ranges(at_bars(&g.duplicates));
    d.merged += merged;
    glyphs(&mut d.svg, &dups, "tsg-duplicate", DUPLICATE, |x, y| {
        format!("M{} {}l4 4l-4 4l-4 -4z", num(x + 6.0), num(y - 4.0))
    });
    flags(&mut d, g, &xt, &ys);
    d.svg.raw("</svg>\n");
    legend(&mut d, g, g.acks.iter().any(|a| a.window_edge as f64 / unit > y.hi));
    d.svg.finish()
}

/// The sequence range drawn: every bar, ACK and SACK block, and the
/// window line up to a quarter above them (a window far above the data
/// would squash it; the line is clamped to the top then).
fn seq_range(g: &Graph) -> (f64, f64) {
    let bars = g.data.iter().chain(&g.retransmits).chain(&g.sacks).flat_map(|b| [b.lo, b.hi]);
    let acks = g.acks.iter().map(|a| a.ack);
    let flags = g.flags.iter().map(|f| f.seq);
    let all: Vec<i64> = bars.chain(acks).chain(flags).collect();
    let (Some(&lo), Some(&hi)) = (all.iter().min(), all.iter().max()) else {
        return (0.0, 1.0);
    };
    let (lo, hi) = (lo as f64, hi as f64);
    let window_top = g.acks.iter().map(|a| a.window_edge).max().map_or(hi, |w| w as f64);
    if window_top <= hi + (hi - lo).max(1.0) * 0.25 { (lo, hi.max(window_top)) } else { (lo, hi) }
}

fn axes(svg: &mut Svg, x: &Axis, y: &Axis, unit: &str) {
    let axis = Stroke::solid("#555", 1.0);
    let label = Font::sans(11.0, "#333");
    for (px, text) in x.ticks() {
        svg.line(px, TOP, px, BOTTOM, Stroke::solid(GRID, 1.0));
        svg.line(px, BOTTOM, px, BOTTOM + 4.0, axis);
        svg.text(px, BOTTOM + 17.0, Anchor::Middle, label, &text);
    }
    for (py, text) in y.ticks() {
        svg.line(LEFT, py, RIGHT, py, Stroke::solid(GRID, 1.0));
        svg.line(LEFT - 4.0, py, LEFT, py, axis);
        svg.text(LEFT - 7.0, py + 4.0, Anchor::End, label, &text);
    }
    svg.rect(LEFT, TOP, RIGHT - LEFT, PLOT_HEIGHT, "none", Some(axis), 0.0);
    svg.text((LEFT + RIGHT) / 2.0, BOTTOM + 36.0, Anchor::Middle, Font::sans(12.5, "#222"), "time (ms)");
    svg.text_vertical(
        24.0,
        (TOP + BOTTOM) / 2.0,
        Font::sans(12.5, "#222"),
        &format!("relative sequence number ({unit})"),
    );
}

/// A step line, merged per pixel column, as one polyline.
fn step_line(d: &mut Drawn, changes: &[(f64, f64)], x_end: f64, stroke: Stroke, class: &str) {
    if changes.is_empty() {
        return;
    }
    let (points, merged) = step_polyline(changes, x_end);
    d.merged += merged;
    d.svg.open_group(&format!(r#"class="{class}""#));
    d.svg.polyline(&points, stroke, false);
    d.svg.close_group();
}

/// Vertical bars, merged per pixel column, as one path (`M x y V y`
/// each), shifted `dx` to the right; a bar is at least a pixel tall.
fn bars(
    d: &mut Drawn,
    marks: &[Bar],
    xt: &dyn Fn(crate::time::Instant) -> f64,
    ys: &dyn Fn(i64) -> f64,
    dx: f64,
    stroke: Stroke,
    class: &str,
) {
    if marks.is_empty() {
        return;
    }
    let (ranges, merged) = merge_ranges(marks.iter().map(|b| (xt(b.t), ys(b.lo), ys(b.hi))));
    d.merged += merged;
    let mut path = String::new();
    for r in &ranges {
        let (lo, hi) = if r.y_hi - r.y_lo < 1.0 { (r.y_lo - 0.5, r.y_lo + 0.5) } else { (r.y_lo, r.y_hi) };
        let _ = write!(path, "M{} {}V{}", num(r.x + dx), num(hi), num(lo));
    }
    let opacity =
        if stroke.opacity < 1.0 { format!(r#" stroke-opacity="{:.2}""#, stroke.opacity) } else { String::new() };
    d.svg.raw(&format!(
        "<path class=\"{class}\" d=\"{path}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{opacity}/>\n",
        stroke.color,
        num(stroke.width)
    ));
}

/// A glyph per merged mark (at the middle of its range), as one path; a
/// range taller than the glyph gets a thin line along it too.
fn glyphs(svg: &mut Svg, ranges: &[Range], class: &str, color: &str, glyph: impl Fn(f64, f64) -> String) {
    if ranges.is_empty() {
        return;
    }
    let mut path = String::new();
    for r in ranges {
        path.push_str(&glyph(r.x, (r.y_lo + r.y_hi) / 2.0));
        if r.y_hi - r.y_lo > 8.0 {
            let _ = write!(path, "M{} {}V{}", num(r.x), num(r.y_lo), num(r.y_hi));
        }
    }
    svg.raw(&format!("<path class=\"{class}\" d=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.6\"/>\n"));
}

fn flags(d: &mut Drawn, g: &Graph, xt: &dyn Fn(crate::time::Instant) -> f64, ys: &dyn Fn(i64) -> f64) {
    for syn in [true, false] {
        let marks = g.flags.iter().filter(|f| f.syn == syn).map(|f| (xt(f.t), ys(f.seq), ys(f.seq)));
        let (ranges, merged) = merge_ranges(marks);
        d.merged += merged;
        let label = if syn { "SYN" } else { "FIN" };
        d.svg.open_group(&format!(r#"class="tsg-{}""#, label.to_lowercase()));
        for r in &ranges {
            d.svg.circle(r.x, r.y_lo, 3.0, FLAG, None);
        }
        if ranges.len() <= MAX_FLAG_LABELS {
            for r in &ranges {
                let x = (r.x + 5.0).min(RIGHT - text_width(label, 10.5));
                d.svg.text_halo(x, r.y_lo - 5.0, Anchor::Start, Font::mono(10.5, FLAG).bold(), label);
            }
        }
        d.svg.close_group();
    }
}

fn legend(d: &mut Drawn, g: &Graph, window_above: bool) {
    let mut entries: Vec<(&str, &str, &str)> = vec![("bar", DATA, "data sent"), ("bar", RETRANSMIT, "retransmission")];
    entries.push(("line", ACK, "ACK received"));
    entries.push(("dashed", WINDOW, "ACK + receive window"));
    if !g.sacks.is_empty() {
        entries.push(("bar", SACK, "SACK block"));
    }
    entries.push(("circle", ACK, "duplicate ACK"));
    entries.push(("cross", DROP, "lost"));
    if !g.duplicates.is_empty() {
        entries.push(("diamond", DUPLICATE, "delivered twice"));
    }
    entries.push(("dot", FLAG, "SYN / FIN"));
    let font = Font::sans(12.0, "#333");
    let (mut x, mut y) = (LEFT, BOTTOM + 62.0);
    for (kind, color, text) in entries {
        let w = 24.0 + text.chars().count() as f64 * 12.0 * 0.55 + 18.0;
        if x + w > RIGHT {
            x = LEFT;
            y += 20.0;
        }
        let s = Stroke::solid(color, 2.0);
        match kind {
            "bar" => d.svg.line(x + 8.0, y - 10.0, x + 8.0, y + 2.0, s),
            "line" | "dashed" => {
                let s = if kind == "dashed" { Stroke::dashed(color, 2.0, "4 2") } else { s };
                d.svg.polyline(&[(x, y - 1.0), (x + 8.0, y - 1.0), (x + 8.0, y - 8.0), (x + 16.0, y - 8.0)], s, false)
            }
            "circle" => d.svg.circle(x + 8.0, y - 4.0, 2.6, "none", Some(Stroke::solid(color, 1.6))),
            "cross" => d.svg.cross(x + 8.0, y - 4.0, 3.5, Stroke::solid(color, 1.6)),
            "diamond" => d.svg.polygon(
                &[(x + 8.0, y - 8.0), (x + 12.0, y - 4.0), (x + 8.0, y), (x + 4.0, y - 4.0)],
                "none",
                Some(Stroke::solid(color, 1.6)),
            ),
            _ => d.svg.circle(x + 8.0, y - 4.0, 3.0, color, None),
        }
        d.svg.text(x + 22.0, y, Anchor::Start, font, text);
        x += w;
    }
    let mut notes = vec![format!("time from the start of the run; sequence numbers of {}'s data", g.names.0)];
    if window_above {
        notes.push("the window line runs above the plot where it is not drawn".to_string());
    }
    if d.merged > 0 {
        notes.push(format!("{} marks merged below one pixel", d.merged));
    }
    let font = Font { family: SANS, ..Font::sans(11.5, "#555").italic() };
    let lines = note_lines(&notes, 11.5, RIGHT - LEFT);
    for line in &lines {
        y += 20.0;
        d.svg.text(LEFT, y, Anchor::Start, font, line);
    }
    d.svg.set_height(y + 16.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pictures::svg::check_well_formed;
    use crate::simulation::Simulation;
    use crate::tcp::{Flags, Segment, SeqNum};
    use crate::time::Instant;
    use crate::trace::{PacketId, Recorder, Route, TraceKind};

    fn events_of(file: &str) -> Vec<OwnedEvent> {
        let mut rec = Recorder::default();
        Simulation::load(file.as_bytes(), &[]).expect("a valid file").run(&mut rec);
        rec.events
    }

    const FAST_RETRANSMIT: &str = include_str!("../../sims/fast-retransmit.ron");
    const THREE_LOSSES: &str = include_str!("../../sims/sack/three-losses.ron");

    fn ms(t: u64) -> Instant {
        Instant::from_nanos(t * 1_000_000)
    }

    /// fast-retransmit.ron: ISS 1000, 20 segments of 1460 bytes; the
    /// fifth (relative 5841..7301) is dropped and fast-retransmitted at
    /// 120 ms, one RTT after it left at 80 ms.
    #[test]
    fn a_dropped_segment_gives_one_drop_and_one_retransmission_bar() {
        let g = Graph::build(&events_of(FAST_RETRANSMIT), 0, None, Window::ALL);
        assert_eq!(g.names.0, "client");
        assert_eq!(g.isn, Some(1000));
        assert_eq!(g.data.len(), 20, "every segment once as new data");
        assert_eq!(g.data.iter().map(|b| b.hi - b.lo).sum::<i64>(), 29200);
        assert_eq!(g.retransmits, [Bar { t: ms(120), lo: 5841, hi: 7301 }]);
        assert_eq!(g.drops, [Bar { t: ms(80), lo: 5841, hi: 7301 }]);
        assert!(g.duplicates.is_empty());
        // RFC 5681: the third duplicate ACK triggers the retransmission.
        assert!(g.acks.iter().filter(|a| a.duplicate && a.t <= ms(120)).count() >= 3);
        assert!(g.acks.iter().filter(|a| a.duplicate).all(|a| a.ack == 5841));
        // The SYN at 0, the FIN after the last byte; the FIN's ACK ends the line.
        assert_eq!(g.flags[0], graph::Flag { t: ms(0), seq: 0, syn: true });
        assert!(g.flags.iter().any(|f| !f.syn && f.seq == 29201));
        assert_eq!(g.acks.last().map(|a| a.ack), Some(29202));
        // The window line is the ACK plus the window the same ACK offered.
        assert!(g.acks.iter().all(|a| a.window_edge > a.ack));
        assert!(g.sacks.is_empty(), "no SACK on this connection");
    }

    /// three-losses.ron (SACK on, ISS 1000, 1000-byte segments): absolute
    /// 7001, 9001 and 11001 are lost; the server's first duplicate ACK
    /// SACKs 8001..9001, i.e. relative 7001..8001.
    #[test]
    fn sack_blocks_of_the_peers_acks_appear() {
        let g = Graph::build(&events_of(THREE_LOSSES), 0, Some("client"), Window::ALL);
        let mut repaired: Vec<i64> = g.retransmits.iter().map(|b| b.lo).collect();
        repaired.sort_unstable();
        assert_eq!(repaired, [6001, 8001, 10001]);
        assert!(g.sacks.contains(&Bar { t: g.sacks[0].t, lo: 7001, hi: 8001 }), "{:?}", g.sacks);
        assert!(g.sacks.iter().all(|b| b.lo >= 7001 && b.hi <= 30001));
        let svg = tsg_svg(&events_of(THREE_LOSSES), 0, Some("client"), Window::ALL, "three losses");
        check_well_formed(&svg).unwrap();
        assert!(svg.contains(r#"class="tsg-sack""#));
        assert!(svg.contains("SACK block"));
    }

    /// The server's direction: it sends no data, only its SYN and FIN.
    #[test]
    fn the_endpoint_chooses_the_direction() {
        let g = Graph::build(&events_of(FAST_RETRANSMIT), 0, Some("server"), Window::ALL);
        assert_eq!(g.names, ("server".to_string(), "client".to_string()));
        assert!(g.data.is_empty() && g.retransmits.is_empty());
        assert_eq!(g.flags.iter().filter(|f| f.syn).count(), 1);
        // The client's ACKs of the server's SYN and FIN: 1, then 2.
        assert_eq!(g.acks.first().map(|a| a.ack), Some(1));
        assert_eq!(g.acks.last().map(|a| a.ack), Some(2));
        let none = tsg_svg(&events_of(FAST_RETRANSMIT), 0, Some("nobody"), Window::ALL, "t");
        assert!(none.contains("no segments from nobody on connection 0"), "{none}");
        check_well_formed(&none).unwrap();
    }

    /// A window keeps the marks inside it, with the ACK line entering it
    /// at the last ACK before it, and keeps the ISN of the SYN before it.
    #[test]
    fn a_window_clips_the_marks() {
        let events = events_of(FAST_RETRANSMIT);
        let w = Window { from: Some(ms(100)), to: Some(ms(200)) };
        let g = Graph::build(&events, 0, None, w);
        assert_eq!(g.isn, Some(1000));
        let bars = g.data.iter().chain(&g.retransmits).chain(&g.drops);
        assert!(bars.clone().all(|b| w.contains(b.t)));
        assert!(bars.count() > 0);
        assert!(g.flags.is_empty(), "the SYN at 0 and the FIN after 200 ms are outside");
        assert_eq!(g.retransmits.len(), 1);
        assert!(g.drops.is_empty(), "the drop was at 80 ms");
        assert!(g.carried && g.acks[0].t < ms(100));
        assert!(g.acks[1..].iter().all(|a| w.contains(a.t)));
        let after = Graph::build(&events, 0, None, Window { from: Some(ms(130)), to: None });
        assert!(after.retransmits.is_empty());
        let svg = tsg_svg(&events, 0, None, w, "window");
        check_well_formed(&svg).unwrap();
        assert!(svg.contains("100 ms to 200 ms"));
    }

    /// A transfer of 300 000 segments (438 MB) still gives a picture of a
    /// bounded size: marks within a pixel column merge, and it says so.
    #[test]
    fn a_huge_transfer_stays_small() {
        let a = (0x0a00_0001, 49152);
        let b = (0x0a00_0002, 80);
        let out = Some(Route { src: a, dst: b });
        let back = Some(Route { src: b, dst: a });
        let event = |t_us: u64, name: &str, kind, route, pkt| OwnedEvent {
            t: Instant::from_nanos(t_us * 1000),
            conn: 0,
            ep: u32::from(name == "server"),
            endpoint: name.to_string(),
            kind,
            route,
            pkt: Some(PacketId { pkt, copy: 0 }),
            lost_eps: Box::default(),
        };
        let syn = Segment { flags: Flags::SYN, seq: SeqNum(0), ..Segment::default() };
        let mut events = vec![event(0, "client", TraceKind::Send { seg: syn, injected: false }, out, 0)];
        let n: u32 = 300_000;
        for k in 0..n {
            let seq = 1 + k * 1460;
            let data = Segment {
                flags: Flags::ACK,
                seq: SeqNum(seq),
                len: 1460,
                retransmit: k % 50 == 7,
                ..Segment::default()
            };
            let t = 1000 + u64::from(k) * 10;
            events.push(event(t, "client", TraceKind::Send { seg: data, injected: false }, out, u64::from(2 * k + 1)));
            if k % 40 == 3 {
                let reason = crate::link::DropReason::Loss;
                events.push(event(t, "client", TraceKind::Drop { seg: data, reason }, out, u64::from(2 * k + 1)));
            }
            let ack = Segment { flags: Flags::ACK, ack: SeqNum(seq + 1460), wnd: 65535, ..Segment::default() };
            events.push(event(
                t + 5000,
                "client",
                TraceKind::Deliver { seg: ack, discard: None },
                back,
                u64::from(2 * k + 2),
            ));
        }
        events.sort_by_key(|e| e.t);
        let svg = tsg_svg(&events, 0, None, Window::ALL, "huge");
        assert!(svg.len() < 1_000_000, "{} bytes", svg.len());
        check_well_formed(&svg).unwrap();
        assert!(svg.contains("marks merged below one pixel"));
    }
}
