//! The TCP state diagram of RFC 9293 (Figure 5), drawn with how often each
//! transition happened in a run or a sweep.
//!
//! The layout is the classic figure's: CLOSED on top, LISTEN below it,
//! SYN_RECEIVED and SYN_SENT side by side, ESTABLISHED in the middle, the
//! active close (FIN_WAIT_1, FIN_WAIT_2, CLOSING, TIME_WAIT) on the left
//! and the passive close (CLOSE_WAIT, LAST_ACK) on the right, ending in a
//! second CLOSED box at the bottom right, as the RFC draws it. Edges are
//! routed by hand, once, so labels never collide whatever the counts.
//!
//! Every transition the RFC allows is drawn: the figure's own, FIN_WAIT_1
//! straight to TIME_WAIT on a FIN that acknowledges ours (§3.10.7.4, which
//! the figure leaves out), and the ways back to CLOSED that the figure
//! only mentions in its text (a reset, an abort, a retransmission or user
//! timeout) as short arrows marked CLOSED. Transitions that never happened
//! are faint and dashed; the others grow wider and darker with their
//! count, on a log scale (a sweep's counts span orders of magnitude). A
//! transition outside the figure that did happen is listed under it, so
//! every count is shown.

use super::svg::{Anchor, Font, Stroke, Svg, text_width};
use crate::tcp::State;
use std::fmt::Write as _;

/// The transition-count picture; `transitions[from][to]` is indexed by
/// `State as usize`.
pub fn state_diagram_svg(transitions: &[[u64; 11]; 11], title: &str) -> String {
    let count = |from: State, to: State| transitions[from as usize][to as usize];
    let max = transitions.iter().flatten().copied().max().unwrap_or(0);
    let total: u64 = transitions.iter().flatten().sum();
    let mut svg = Svg::new(WIDTH, HEIGHT);
    svg.comment("tcpsim state diagram: RFC 9293 Figure 5 with transition counts");
    svg.text(20.0, 30.0, Anchor::Start, Font::sans(18.0, INK).bold(), title);
    svg.text(
        20.0,
        50.0,
        Anchor::Start,
        Font::sans(12.0, MUTED),
        &format!(
            "RFC 9293 state diagram; each arrow labelled with how often it was taken ({total} transitions in all)"
        ),
    );

    // Edges first, so boxes and labels sit on top of them.
    // Each edge's group names its transition and count, for scripts and
    // tests reading the SVG.
    for e in EDGES {
        let c = count(e.from, e.to);
        svg.open_group(&edge_attrs(e.from, e.to, c));
        draw_edge(&mut svg, e.points, EdgeStyle::of(c, max));
        svg.close_group();
    }
    for s in STUBS {
        let c = count(s.from, State::Closed);
        svg.open_group(&edge_attrs(s.from, State::Closed, c));
        draw_edge(&mut svg, &[s.start, s.tip], EdgeStyle::of(c, max));
        svg.close_group();
    }
    for (name, x, y) in BOXES {
        let state = State::parse(name).unwrap_or(State::Closed);
        draw_box(&mut svg, state, x, y, transitions, y > 500.0);
    }
    for e in EDGES {
        let c = count(e.from, e.to);
        edge_label(&mut svg, e.label, e.at, e.anchor, c, max);
    }
    for s in STUBS {
        let c = count(s.from, State::Closed);
        let style = EdgeStyle::of(c, max);
        let (x, y) = s.tip;
        let (anchor, dx) = if s.tip.0 < s.start.0 { (Anchor::End, -4.0) } else { (Anchor::Start, 4.0) };
        let (anchor, x, y) =
            if s.start.0 == s.tip.0 { (Anchor::Middle, x, y + 14.0) } else { (anchor, x + dx, y + 4.0) };
        svg.text_parts(
            x,
            y,
            anchor,
            &[(Font::mono(11.0, style.text).bold(), "CLOSED "), (Font::mono(12.0, style.count).bold(), &c.to_string())],
        );
    }
    let bottom = legend(&mut svg, transitions, max);
    svg.set_height(bottom + 20.0);
    svg.finish()
}

const WIDTH: f64 = 1180.0;
/// The canvas height before the legend sets it.
const HEIGHT: f64 = 1100.0;
const BOX_WIDTH: f64 = 164.0;
const BOX_HEIGHT: f64 = 46.0;

const INK: &str = "#222222";
const MUTED: &str = "#777777";
const FAINT: &str = "#c4c4c4";
const FAINT_TEXT: &str = "#a8a8a8";
/// Darker blues for larger counts (log scale).
const SHADES: [&str; 5] = ["#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"];

/// State boxes: name and centre. The second CLOSED is the RFC's bottom
/// right box, where the close ends.
const BOXES: [(&str, f64, f64); 12] = [
    ("CLOSED", 600.0, 100.0),
    ("LISTEN", 600.0, 225.0),
    ("SYN_RECEIVED", 300.0, 365.0),
    ("SYN_SENT", 900.0, 365.0),
    ("ESTABLISHED", 600.0, 505.0),
    ("FIN_WAIT_1", 300.0, 645.0),
    ("CLOSE_WAIT", 900.0, 645.0),
    ("FIN_WAIT_2", 300.0, 795.0),
    ("CLOSING", 600.0, 795.0),
    ("LAST_ACK", 900.0, 795.0),
    ("TIME_WAIT", 600.0, 935.0),
    ("CLOSED", 900.0, 935.0),
];

/// One drawn transition: a polyline from the source box's edge to the
/// target box's edge, and where its label goes.
struct Edge {
    from: State,
    to: State,
    points: &'static [(f64, f64)],
    label: &'static str,
    at: (f64, f64),
    anchor: Anchor,
}

const fn edge(
    from: State,
    to: State,
    points: &'static [(f64, f64)],
    label: &'static str,
    at: (f64, f64),
    anchor: Anchor,
) -> Edge {
    Edge { from, to, points, label, at, anchor }
}

use Anchor::{End as E, Middle as M, Start as S};
use State::*;

/// Box edges: left = x - 82, right = x + 82, top = y - 23, bottom = y + 23.
const EDGES: [Edge; 21] = [
    edge(Closed, Listen, &[(580.0, 123.0), (580.0, 202.0)], "passive OPEN", (570.0, 167.0), E),
    edge(Listen, Closed, &[(620.0, 202.0), (620.0, 123.0)], "CLOSE", (630.0, 167.0), S),
    edge(Closed, SynSent, &[(682.0, 92.0), (960.0, 92.0), (960.0, 342.0)], "active OPEN / snd SYN", (821.0, 84.0), M),
    edge(
        SynSent,
        Closed,
        &[(880.0, 342.0), (880.0, 110.0), (682.0, 110.0)],
        "CLOSE / timeout / RST",
        (780.0, 128.0),
        M,
    ),
    edge(Listen, SynReceived, &[(540.0, 248.0), (360.0, 342.0)], "rcv SYN / snd SYN,ACK", (440.0, 282.0), E),
    edge(Listen, SynSent, &[(660.0, 248.0), (830.0, 342.0)], "SEND / snd SYN", (760.0, 282.0), S),
    edge(
        SynSent,
        SynReceived,
        &[(818.0, 372.0), (382.0, 372.0)],
        "rcv SYN / snd SYN,ACK (simultaneous open)",
        (600.0, 392.0),
        M,
    ),
    edge(
        SynReceived,
        Listen,
        &[(250.0, 342.0), (250.0, 225.0), (518.0, 225.0)],
        "rcv RST (from LISTEN)",
        (384.0, 217.0),
        M,
    ),
    edge(SynReceived, Established, &[(360.0, 388.0), (540.0, 482.0)], "rcv ACK of SYN", (432.0, 450.0), E),
    edge(SynSent, Established, &[(840.0, 388.0), (660.0, 482.0)], "rcv SYN,ACK / snd ACK", (768.0, 450.0), S),
    edge(SynReceived, FinWait1, &[(300.0, 388.0), (300.0, 622.0)], "CLOSE / snd FIN", (310.0, 520.0), S),
    edge(Established, FinWait1, &[(540.0, 528.0), (360.0, 622.0)], "CLOSE / snd FIN", (438.0, 566.0), E),
    edge(Established, CloseWait, &[(660.0, 528.0), (840.0, 622.0)], "rcv FIN / snd ACK", (762.0, 566.0), S),
    edge(FinWait1, FinWait2, &[(300.0, 668.0), (300.0, 772.0)], "rcv ACK of FIN", (290.0, 724.0), E),
    edge(FinWait1, Closing, &[(370.0, 668.0), (545.0, 772.0)], "rcv FIN / snd ACK", (470.0, 704.0), S),
    edge(FinWait1, TimeWait, &[(345.0, 668.0), (530.0, 912.0)], "rcv FIN,ACK of FIN\n/ snd ACK", (470.0, 840.0), E),
    edge(FinWait2, TimeWait, &[(300.0, 818.0), (300.0, 935.0), (518.0, 935.0)], "rcv FIN / snd ACK", (410.0, 955.0), M),
    edge(Closing, TimeWait, &[(600.0, 818.0), (600.0, 912.0)], "rcv ACK of FIN", (610.0, 870.0), S),
    edge(CloseWait, LastAck, &[(900.0, 668.0), (900.0, 772.0)], "CLOSE / snd FIN", (910.0, 724.0), S),
    edge(LastAck, Closed, &[(900.0, 818.0), (900.0, 912.0)], "rcv ACK of FIN\n(or RST, give-up)", (910.0, 862.0), S),
    edge(TimeWait, Closed, &[(682.0, 935.0), (818.0, 935.0)], "timeout 2MSL", (750.0, 927.0), M),
    // (A reset in TIME_WAIT also ends here; the legend says so.)
];

/// Resets, aborts and give-ups back to CLOSED from a state whose figure
/// arrow does not go there: a short arrow from the box to the word CLOSED.
struct Stub {
    from: State,
    start: (f64, f64),
    tip: (f64, f64),
}

const STUBS: [Stub; 6] = [
    Stub { from: SynReceived, start: (218.0, 365.0), tip: (160.0, 365.0) },
    Stub { from: Established, start: (600.0, 528.0), tip: (600.0, 586.0) },
    Stub { from: FinWait1, start: (218.0, 645.0), tip: (160.0, 645.0) },
    Stub { from: FinWait2, start: (218.0, 795.0), tip: (160.0, 795.0) },
    Stub { from: CloseWait, start: (982.0, 645.0), tip: (1040.0, 645.0) },
    Stub { from: Closing, start: (682.0, 795.0), tip: (740.0, 795.0) },
];

fn edge_attrs(from: State, to: State, count: u64) -> String {
    format!(r#"class="transition" data-from="{from}" data-to="{to}" data-count="{count}""#)
}

/// How an edge with a given count looks.
#[derive(Clone, Copy)]
struct EdgeStyle {
    stroke: Stroke,
    text: &'static str,
    count: &'static str,
}

/// Bits needed for `n`: an exact integer log2 scale (no floating-point
/// logarithm, whose last bit may differ between platforms).
fn bits(n: u64) -> u32 {
    u64::BITS - n.leading_zeros()
}

impl EdgeStyle {
    fn of(count: u64, max: u64) -> EdgeStyle {
        if count == 0 {
            return EdgeStyle { stroke: Stroke::dashed(FAINT, 1.2, "5 4"), text: FAINT_TEXT, count: FAINT_TEXT };
        }
        // The scale tops out at the largest count, but never below 2^6, so
        // a single run's ones and twos stay thin.
        let (b, bmax) = (bits(count), bits(max).max(7));
        let shade = SHADES[((b - 1) * 4 / (bmax - 1)).min(4) as usize];
        let width = 1.6 + 6.4 * f64::from(b) / f64::from(bmax);
        EdgeStyle { stroke: Stroke::solid(shade, width), text: "#333333", count: "#08306b" }
    }
}

fn draw_edge(svg: &mut Svg, points: &[(f64, f64)], style: EdgeStyle) {
    let n = points.len();
    if n < 2 {
        return;
    }
    // Stop the line where the head begins, so a wide line does not poke
    // through the tip.
    let head = 9.0 + style.stroke.width * 1.3;
    let (tx, ty) = points[n - 1];
    let (fx, fy) = points[n - 2];
    let (dx, dy) = (tx - fx, ty - fy);
    let len = (dx * dx + dy * dy).sqrt().max(1e-9);
    let cut = (head * 0.8).min(len);
    let mut line: Vec<(f64, f64)> = points.to_vec();
    line[n - 1] = (tx - dx / len * cut, ty - dy / len * cut);
    svg.polyline(&line, style.stroke, false);
    svg.arrow_head(tx, ty, fx, fy, head, style.stroke.color);
}

/// Writes an edge's label (lines split at `\n`), the count after its last
/// line, on a white backing that keeps it readable where it crosses a line.
fn edge_label(svg: &mut Svg, label: &str, at: (f64, f64), anchor: Anchor, count: u64, max: u64) {
    let style = EdgeStyle::of(count, max);
    let lines: Vec<&str> = label.split('\n').collect();
    let count_text = count.to_string();
    for (i, line) in lines.iter().enumerate() {
        let y = at.1 + 15.0 * i as f64;
        let last = i + 1 == lines.len();
        let text = if last { format!("{line}: ") } else { line.to_string() };
        let w = text_width(&text, 11.0) + if last { text_width(&count_text, 13.0) } else { 0.0 };
        let left = match anchor {
            Anchor::Start => at.0,
            Anchor::Middle => at.0 - w / 2.0,
            Anchor::End => at.0 - w,
        };
        svg.rect(left - 2.0, y - 12.0, w + 4.0, 16.0, "white", None, 2.0);
        let mut parts = vec![(Font::mono(11.0, style.text), text.as_str())];
        if last {
            parts.push((Font::mono(13.0, style.count).bold(), &count_text));
        }
        svg.text_parts(at.0, y, anchor, &parts);
    }
}

fn draw_box(svg: &mut Svg, state: State, x: f64, y: f64, transitions: &[[u64; 11]; 11], bottom_closed: bool) {
    let s = state as usize;
    let entered: u64 = (0..11).map(|from| transitions[from][s]).sum();
    let left: u64 = transitions[s].iter().sum();
    let (caption, active) = match state {
        // The top box is where connections start, the bottom one where they end.
        State::Closed if bottom_closed => (format!("entered {entered}"), entered > 0),
        State::Closed => (format!("left {left}"), left > 0),
        _ => (format!("entered {entered}"), entered > 0 || left > 0),
    };
    let (fill, border, ink) = if active { ("#e6eef9", "#2c5d9c", INK) } else { ("#fafafa", FAINT, FAINT_TEXT) };
    svg.rect(
        x - BOX_WIDTH / 2.0,
        y - BOX_HEIGHT / 2.0,
        BOX_WIDTH,
        BOX_HEIGHT,
        fill,
        Some(Stroke::solid(border, 1.6)),
        6.0,
    );
    svg.text(x, y - 2.0, Anchor::Middle, Font::mono(14.0, ink).bold(), state.name());
    svg.text(x, y + 15.0, Anchor::Middle, Font::mono(11.0, if active { MUTED } else { FAINT_TEXT }), &caption);
}

/// Whether `(from, to)` is drawn as an edge or a stub.
fn drawn(from: usize, to: usize) -> bool {
    EDGES.iter().any(|e| e.from as usize == from && e.to as usize == to)
        || (to == State::Closed as usize && STUBS.iter().any(|s| s.from as usize == from))
}

/// Draws the legend; returns where it ends.
fn legend(svg: &mut Svg, transitions: &[[u64; 11]; 11], max: u64) -> f64 {
    let mut y = 1000.0;
    let x = 40.0;
    svg.line(20.0, y - 8.0, WIDTH - 20.0, y - 8.0, Stroke::solid("#dddddd", 1.0));
    y += 14.0;
    let font = Font::mono(12.0, INK);
    let sample = |svg: &mut Svg, x: f64, y: f64, count: u64| {
        draw_edge(svg, &[(x, y - 4.0), (x + 46.0, y - 4.0)], EdgeStyle::of(count, max))
    };
    sample(svg, x, y, 0);
    svg.text(x + 56.0, y, Anchor::Start, font, "never happened");
    sample(svg, x + 200.0, y, 1);
    svg.text(x + 256.0, y, Anchor::Start, font, "once");
    // The widest edge on the scale: the largest count, or 64 (see EdgeStyle).
    let top = max.max(64);
    sample(svg, x + 340.0, y, top);
    svg.text(
        x + 396.0,
        y,
        Anchor::Start,
        font,
        &format!("{}: width and shade grow with log2 of the count", crate::report::count(top, "time")),
    );
    y += 22.0;
    svg.text(
        x,
        y,
        Anchor::Start,
        font,
        "Short arrows to CLOSED: a reset, an abort, or giving up (retransmission limit, user timeout);",
    );
    y += 18.0;
    svg.text(
        x,
        y,
        Anchor::Start,
        font,
        "TIME_WAIT -> CLOSED counts a reset in TIME_WAIT too (RFC 1337 assassination).",
    );
    y += 18.0;
    svg.text(
        x,
        y,
        Anchor::Start,
        font,
        "Box captions count entries (top CLOSED: departures). \"snd\"/\"rcv\": segment sent/received.",
    );
    let mut others = String::new();
    for (from, row) in transitions.iter().enumerate() {
        for (to, &c) in row.iter().enumerate() {
            if c > 0 && !drawn(from, to) {
                let _ = write!(others, "{} -> {}: {c}  ", State::VALUES[from], State::VALUES[to]);
            }
        }
    }
    if !others.is_empty() {
        y += 18.0;
        svg.text(
            x,
            y,
            Anchor::Start,
            Font::mono(12.0, "#b03a2e"),
            &format!("Not in the figure: {}", others.trim_end()),
        );
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_a_box_and_edges_touch_known_states() {
        for s in State::VALUES {
            assert!(BOXES.iter().any(|(n, _, _)| *n == s.name()), "{s} has no box");
        }
        assert_eq!(EDGES.len(), 21);
    }

    #[test]
    fn counts_appear_and_undrawn_transitions_are_listed() {
        let mut transitions = [[0u64; 11]; 11];
        transitions[State::Established as usize][State::FinWait1 as usize] = 1234;
        transitions[State::TimeWait as usize][State::SynReceived as usize] = 7;
        let svg = state_diagram_svg(&transitions, "a & b");
        super::super::svg::check_well_formed(&svg).unwrap();
        assert!(svg.contains(">1234</tspan>"));
        assert!(svg.contains("TIME_WAIT -&gt; SYN_RECEIVED: 7"));
        assert!(svg.contains("a &amp; b"));
    }

    #[test]
    fn styles_grow_with_the_count() {
        let w = |c| EdgeStyle::of(c, 1000).stroke.width;
        assert!(w(0) < w(1) && w(1) < w(10) && w(10) < w(1000));
        assert_eq!(EdgeStyle::of(0, 0).stroke.dash, "5 4");
    }
}
