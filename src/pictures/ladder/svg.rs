//! The ladder as SVG: lays the exchange out (time downwards, idle stretches
//! cut out, items at one instant stacked), draws the ends, timelines, notes
//! and arrows, places each label where it overlaps least, and adds a
//! legend.

use super::exchange::{Arrow, Exchange, TransmissionEnd, gap_text, short_ms};
use crate::pictures::svg::{Anchor, Font, Stroke, Svg, escape, text_width};
use crate::time::Instant;
use std::collections::BTreeMap;

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
    fn compute(exchange: &Exchange, top: f64) -> Layout {
        let mut times: Vec<Instant> = Vec::new();
        for a in &exchange.arrows {
            times.push(a.start());
            match a.ending {
                TransmissionEnd::Delivered(t) => times.push(t),
                TransmissionEnd::Lost { at, .. } if a.sent.is_some_and(|s| s < at) => times.push(at),
                _ => {}
            }
        }
        times.extend(exchange.notes.iter().map(|n| n.t));
        times.sort_unstable();
        times.dedup();
        let index_of = |t: Instant| times.binary_search(&t).unwrap_or(0);

        // Items at one instant, end and lane stack downwards in trace order.
        let mut counters: BTreeMap<(usize, usize, Lane), u32> = BTreeMap::new();
        let mut take = |k: usize, side: usize, lane: Lane| {
            let c = counters.entry((k, side, lane)).or_insert(0);
            *c += 1;
            *c - 1
        };
        let mut extent = vec![ROW; times.len()];
        let (mut start_row, mut end_row) = (Vec::new(), Vec::new());
        for a in &exchange.arrows {
            let k = index_of(a.start());
            let lane = if a.sent.is_some() { Lane::Out } else { Lane::In };
            let side = if a.sent.is_some() { a.from } else { a.to };
            let r = take(k, side, lane);
            start_row.push(r);
            extent[k] = extent[k].max(f64::from(r + 1) * ROW);
            let end = match a.ending {
                TransmissionEnd::Delivered(t) if a.sent.is_some() => Some(t),
                TransmissionEnd::Lost { at, .. } if a.sent.is_some_and(|s| s < at) => Some(at),
                _ => None,
            };
            match end {
                Some(t) => {
                    let ke = index_of(t);
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
        for n in &exchange.notes {
            let k = index_of(n.t);
            let r = take(k, n.side, Lane::Note);
            note_row.push(r);
            extent[k] = extent[k].max(f64::from(r + 1) * ROW);
        }

        let scale = DELAY_PX / exchange.typical_delay as f64;
        let mut base: Vec<f64> = Vec::with_capacity(times.len());
        let mut breaks = Vec::new();
        let mut y = top;
        for (k, t) in times.iter().enumerate() {
            if k > 0 {
                let gap = t.saturating_since(times[k - 1]).as_nanos();
                let prev_end = base[k - 1] + extent[k - 1];
                if exchange.is_idle_gap(gap) {
                    let break_top = prev_end + 4.0;
                    breaks.push((break_top, break_top + BREAK_PX, gap));
                    y = break_top + BREAK_PX + 16.0;
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

pub(super) fn render_svg(exchange: &Exchange, conn: u32, title: &str) -> String {
    let label_w = exchange.arrows.iter().map(|a| text_width(&a.full_label(), LABEL_SIZE)).fold(0.0, f64::max);
    let note_w = |side: usize| {
        exchange
            .notes
            .iter()
            .filter(|n| n.side == side)
            .map(|n| text_width(&n.text(), if n.is_state() { NOTE_SIZE } else { TIMER_SIZE }))
            .chain(exchange.sides.get(side).and_then(|s| s.first_state).map(|s| text_width(s.name(), NOTE_SIZE)))
            .fold(0.0, f64::max)
    };
    // The time column is as wide as its longest label.
    let time_col = exchange
        .arrows
        .iter()
        .flat_map(|a| [Some(a.start()), if let TransmissionEnd::Delivered(t) = a.ending { Some(t) } else { None }])
        .flatten()
        .chain(exchange.notes.iter().map(|n| n.t))
        .map(|t| text_width(&short_ms(t), TIME_SIZE))
        .fold(text_width("0000", TIME_SIZE), f64::max)
        + 16.0;
    let side_count = exchange.sides.len().max(2);
    let header_w: f64 = exchange
        .sides
        .iter()
        .map(|s| text_width(&s.label(), 13.0).max(text_width(&s.address(), 11.0)) + 20.0)
        .fold(0.0, f64::max);
    // Room along the arrows lets crowded labels slide apart.
    let gap = (label_w * 1.5 + 40.0).max(440.0).max(header_w + 40.0);
    let x0 = time_col + 16.0 + note_w(0).max(header_w / 2.0 - 8.0).max(90.0) + 12.0;
    let xs: Vec<f64> = (0..side_count).map(|i| x0 + gap * i as f64).collect();
    let right_notes = note_w(side_count - 1).max(header_w / 2.0).max(90.0) + 24.0;
    let width = (xs[side_count - 1] + right_notes).max(760.0);

    let header_top = 62.0;
    let header_h = 40.0;
    let layout = Layout::compute(exchange, header_top + header_h + 46.0);
    let mut svg = Svg::new(width, 0.0);
    svg.comment(&format!("tcpsim ladder diagram of connection {conn}"));
    svg.text(16.0, 28.0, Anchor::Start, Font::sans(18.0, INK).bold(), title);
    let isns: Vec<String> = exchange
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
    for (i, s) in exchange.sides.iter().enumerate() {
        let x = xs[i];
        let w = text_width(&s.label(), 13.0).max(text_width(&s.address(), 11.0)) + 16.0;
        svg.rect(x - w / 2.0, header_top, w, header_h, "#eef2f8", Some(Stroke::solid(NORMAL, 1.2)), 5.0);
        svg.text(x, header_top + 17.0, Anchor::Middle, Font::mono(13.0, INK).bold(), &s.label());
        svg.text(x, header_top + 32.0, Anchor::Middle, Font::mono(11.0, MUTED), &s.address());
        if let Some(st) = s.first_state {
            note_at(
                &mut svg,
                &xs,
                side_count,
                i,
                line_top + 18.0,
                &st.to_string(),
                Font::mono(NOTE_SIZE, STATE_INK).bold(),
            );
        }
    }
    if exchange.arrows.is_empty() && exchange.notes.is_empty() {
        svg.text(
            xs[0],
            line_top + 40.0,
            Anchor::Start,
            Font::mono(13.0, MUTED),
            &format!("no events of connection {conn}"),
        );
    }

    draw_timelines(&mut svg, &layout, &xs[..exchange.sides.len()], line_top, width);
    draw_time_column(&mut svg, &layout, time_col);
    for (n, row) in exchange.notes.iter().zip(&layout.note_row) {
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
        note_at(&mut svg, &xs, side_count, n.side, y + 4.0, &n.text(), font);
        svg.close_group();
    }
    draw_arrows(&mut svg, exchange, &layout, &xs);
    let bottom = draw_legend(&mut svg, exchange, layout.bottom + 24.0);
    svg.set_height(bottom);
    svg.finish()
}

/// Writes a note beside timeline `side`: outside on the outer ends, to the
/// right on any middle one.
fn note_at(svg: &mut Svg, xs: &[f64], side_count: usize, side: usize, y: f64, text: &str, font: Font) {
    if side == 0 && side_count > 1 {
        svg.text(xs[side] - 10.0, y, Anchor::End, font, text);
    } else {
        svg.text(xs[side] + 10.0, y, Anchor::Start, font, text);
    }
}

fn draw_timelines(svg: &mut Svg, layout: &Layout, xs: &[f64], top: f64, width: f64) {
    let bottom = layout.bottom;
    for (break_top, break_bottom, gap) in &layout.breaks {
        svg.rect(0.0, *break_top, width, break_bottom - break_top, BREAK_FILL, None, 0.0);
        let mid = (break_top + break_bottom) / 2.0;
        let center_x =
            if xs.len() > 1 { (xs[0] + xs[xs.len() - 1]) / 2.0 } else { xs.first().copied().unwrap_or(0.0) + 120.0 };
        svg.text_boxed(
            center_x,
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
        for (break_top, break_bottom, _) in &layout.breaks {
            svg.line(x, y, x, *break_top, solid);
            svg.line(x, *break_top, x, *break_bottom, faint);
            // The classic break mark: two short slashes across the line.
            for dy in [4.0, break_bottom - break_top - 4.0] {
                svg.line(x - 7.0, break_top + dy + 3.0, x + 7.0, break_top + dy - 3.0, Stroke::solid("#444444", 1.2));
            }
            y = *break_bottom;
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
        (matches!(a.ending, TransmissionEnd::Lost { .. }), "lost"),
        (a.seg.retransmit, "retransmit"),
        (a.duplicate, "duplicate"),
        (a.reordered, "reordered"),
        (a.injected, "injected"),
        (a.sent.is_none() || a.ending == TransmissionEnd::Unknown, "unmatched"),
    ] {
        if on {
            c.push(' ');
            c.push_str(name);
        }
    }
    c
}

fn arrow_stroke(a: &Arrow) -> Stroke {
    let color = if matches!(a.ending, TransmissionEnd::Lost { .. }) {
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
    tip: ArrowTip,
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
    let (x1, y1, x2, y2, tip) = match (a.sent, a.ending) {
        (Some(_), TransmissionEnd::Delivered(t)) => (xa, y_start, xb - dir * 1.0, layout.y(t, end_row), ArrowTip::Head),
        (Some(s), TransmissionEnd::Lost { at, .. }) if s < at => {
            (xa, y_start, xb - dir * 16.0, layout.y(at, end_row), ArrowTip::Cross)
        }
        (Some(_), TransmissionEnd::Lost { .. }) => {
            (xa, y_start, (xa + xb) / 2.0, y_start + DELAY_PX / 2.0, ArrowTip::Cross)
        }
        (Some(_), TransmissionEnd::Unknown) => (xa, y_start, (xa + xb) / 2.0, y_start + DELAY_PX / 2.0, ArrowTip::Open),
        // Only the arrival is known: a short arrow coming in.
        (None, TransmissionEnd::Delivered(_)) => {
            (xb - dir * 120.0, y_start - 14.0, xb - dir * 1.0, y_start, ArrowTip::Head)
        }
        (None, _) => (xb - dir * 120.0, y_start - 14.0, xb - dir * 60.0, y_start, ArrowTip::Cross),
    };
    Geometry { x1, y1, x2, y2, tip, span: (xa.min(xb) + 6.0, xa.max(xb) - 6.0) }
}

fn draw_arrows(svg: &mut Svg, exchange: &Exchange, layout: &Layout, xs: &[f64]) {
    let geometries: Vec<Geometry> = exchange
        .arrows
        .iter()
        .enumerate()
        .map(|(i, a)| geometry(a, layout, xs, layout.start_row[i], layout.end_row[i]))
        .collect();
    // All lines first, then the labels on top, placed clear of both.
    for (a, g) in exchange.arrows.iter().zip(&geometries) {
        let stroke = arrow_stroke(a);
        // Classes name what the style shows, for scripts and tests reading
        // the SVG; the label repeats the text drawn on top later.
        svg.open_group(&format!(r#"class="{}" data-label="{}""#, arrow_classes(a), escape(&a.full_label())));
        match g.tip {
            ArrowTip::Head => svg.arrow(g.x1, g.y1, g.x2, g.y2, stroke),
            ArrowTip::Cross => {
                svg.line(g.x1, g.y1, g.x2, g.y2, stroke);
                svg.cross(g.x2, g.y2, 6.0, Stroke::solid(LOST, 2.4));
            }
            ArrowTip::Open => svg.line(g.x1, g.y1, g.x2, g.y2, Stroke { dash: "3 3", ..stroke }),
        }
        svg.close_group();
    }
    let mut placed: Vec<Rect> = Vec::new();
    for (i, a) in exchange.arrows.iter().enumerate() {
        let g = &geometries[i];
        let text = a.full_label();
        // Arrows are in time order, so only near neighbours can be in the way.
        let near = &geometries[i.saturating_sub(48)..(i + 48).min(geometries.len())];
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

/// How an arrow's far end is drawn: a head where it arrived, a cross
/// where it was dropped, nothing where its end is not known.
#[derive(Clone, Copy)]
enum ArrowTip {
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
        let center_y = g.y1 + (g.y2 - g.y1) * f;
        // Slide the label back between the timelines if it sticks out.
        let center_x = g.x1 + (g.x2 - g.x1) * f;
        let center_x = if g.span.1 - g.span.0 < w {
            (g.span.0 + g.span.1) / 2.0
        } else {
            center_x.clamp(g.span.0 + w / 2.0, g.span.1 - w / 2.0)
        };
        let center_y = if slope == 0.0 { center_y } else { g.y1 + (center_x - g.x1) * slope };
        // Above the line over the label's whole width.
        let bottom = if g.steep() { center_y + h / 2.0 } else { center_y - (w / 2.0) * slope.abs() - 1.0 };
        let r = Rect { x0: center_x - w / 2.0, y0: bottom - h, x1: center_x + w / 2.0, y1: bottom };
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

fn draw_legend(svg: &mut Svg, exchange: &Exchange, top: f64) -> f64 {
    let x = 24.0;
    let mut y = top;
    svg.line(16.0, y - 14.0, svg.width() - 16.0, y - 14.0, Stroke::solid("#dddddd", 1.0));
    let font = Font::mono(12.0, INK);
    let row = |svg: &mut Svg, y: f64, stroke: Stroke, tip: ArrowTip, text: &str| {
        match tip {
            ArrowTip::Head => svg.arrow(x, y - 4.0, x + 44.0, y - 4.0, stroke),
            ArrowTip::Cross => {
                svg.line(x, y - 4.0, x + 40.0, y - 4.0, stroke);
                svg.cross(x + 40.0, y - 4.0, 5.0, Stroke::solid(LOST, 2.2));
            }
            ArrowTip::Open => svg.line(x, y - 4.0, x + 44.0, y - 4.0, stroke),
        }
        svg.text(x + 58.0, y, Anchor::Start, font, text);
    };
    let items: [(Stroke, ArrowTip, &str); 6] = [
        (Stroke::solid(NORMAL, 1.4), ArrowTip::Head, "segment: flags, seq/ack relative to each end's ISN, len if data"),
        (Stroke::dashed(RETRANSMIT, 1.8, "8 4"), ArrowTip::Head, "retransmission"),
        (Stroke::solid(LOST, 1.4), ArrowTip::Cross, "lost: the \u{d7} marks where it was dropped"),
        (Stroke::dashed(DUPLICATE, 1.4, "2 3"), ArrowTip::Head, "duplicate: the link delivered a second copy"),
        (Stroke::solid(REORDERED, 1.4), ArrowTip::Head, "reordered: arrived after a segment sent later"),
        (Stroke::dashed("#999999", 1.0, "2 4"), ArrowTip::Open, "idle time cut out (grey band, length written in it)"),
    ];
    for (stroke, tip, text) in items {
        row(svg, y, stroke, tip, text);
        y += 18.0;
    }
    // Arrows a time window (or the run's end) cut: said only where drawn.
    let arrival_only = exchange.arrows.iter().any(|a| a.sent.is_none());
    let unended = |outside: bool| {
        exchange.arrows.iter().enumerate().any(|(i, a)| {
            a.sent.is_some() && a.ending == TransmissionEnd::Unknown && exchange.ended_outside.contains(&i) == outside
        })
    };
    let cut: [(bool, Stroke, ArrowTip, &str); 3] = [
        (arrival_only, Stroke::dashed(NORMAL, 1.4, "4 4"), ArrowTip::Head, "sent before the window: its arrival only"),
        (
            unended(true),
            Stroke::dashed(NORMAL, 1.4, "3 3"),
            ArrowTip::Open,
            "arrives after the window: its departure only",
        ),
        (unended(false), Stroke::dashed(NORMAL, 1.4, "3 3"), ArrowTip::Open, "still in flight when the run ended"),
    ];
    for (_, stroke, tip, text) in cut.into_iter().filter(|c| c.0) {
        row(svg, y, stroke, tip, text);
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
    // Only ladders with SACK blocks get the line, so the others stay as
    // they were.
    if exchange.arrows.iter().any(|a| !a.seg.sack.is_empty()) {
        svg.text(
            x,
            y + 2.0,
            Anchor::Start,
            Font::mono(12.0, INK),
            "sack: SACK blocks (RFC 2018), relative like ack; dsack: a duplicate reported (RFC 2883)",
        );
        y += 20.0;
    }
    if let Some(t) = exchange.truncated_at {
        svg.text(
            x,
            y + 2.0,
            Anchor::Start,
            Font::mono(12.0, LOST).bold(),
            &format!(
                "cut after {} segments, at {} ms; draw a part with --from-ms/--to-ms",
                exchange.limit,
                short_ms(t)
            ),
        );
        y += 20.0;
    }
    y + 8.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::DropReason;
    use crate::pictures::ladder::test_events::{client_to_server, event, handshake, seg};
    use crate::tcp::Flags;
    use crate::trace::TraceKind;

    #[test]
    fn drops_end_the_segment_they_follow() {
        let mut evs = handshake();
        let fin = seg(Flags::FIN | Flags::ACK, 101, 501);
        evs.push(event(30, "client", TraceKind::Send { seg: fin, injected: false }, client_to_server()));
        evs.push(event(30, "client", TraceKind::Drop { seg: fin, reason: DropReason::Loss }, client_to_server()));
        let exchange = Exchange::build(&evs, 0, &crate::pictures::ladder::IsnLog::default());
        assert!(matches!(exchange.arrows[2].ending, TransmissionEnd::Lost { reason: DropReason::Loss, .. }));
        let svg = render_svg(&exchange, 0, "t");
        crate::pictures::svg::check_well_formed(&svg).unwrap();
        assert!(svg.contains("lost: loss"));
    }
}
