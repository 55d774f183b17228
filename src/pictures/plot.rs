//! The sweep plot: each outcome's fraction of runs against the first swept
//! setting, with 95 % Wilson intervals as error bars.
//!
//! Numeric values of the first axis (loss probabilities, delays) go on a
//! linear axis; anything else (`true`/`false`, RON tuples) is categorical,
//! evenly spaced in the order swept. When more than one setting is swept,
//! each combination of the other settings gets its own panel (small
//! multiples): one series per outcome and per combination in a single
//! panel would be unreadable. The series of one panel are shifted sideways
//! by a few pixels so that error bars at equal fractions do not hide each
//! other; the caption says so.
//!
//! The SVG is written by hand with [`crate::pictures::svg`]: every number
//! is printed with fixed decimals and computed with exactly rounded
//! operations, so a sweep gives the same file on every machine.

use super::svg::{Anchor, Font, Stroke, Svg, text_width};
use crate::sweep::{Fraction, PointSummary};

/// Outcome fractions against the first swept setting, with 95 % Wilson
/// intervals as error bars.
pub fn sweep_svg(points: &[PointSummary], x_label: &str) -> String {
    let panels = panels(points);
    let shown = panels.len().min(MAX_PANELS);
    let height = TOP + PANEL_H * shown.max(1) as f64;
    let mut svg = Svg::new(WIDTH, height);
    svg.comment("tcpsim sweep plot");
    let runs: Vec<u64> = points.iter().map(|p| p.runs).collect();
    let runs_text = match (runs.iter().min(), runs.iter().max()) {
        (Some(a), Some(b)) if a == b => format!("{} per point", crate::report::count(*a, "run")),
        (Some(a), Some(b)) => format!("{a} to {b} runs per point"),
        _ => "no runs".to_string(),
    };
    svg.text(20.0, 30.0, Anchor::Start, Font::sans(18.0, INK).bold(), &format!("Sweep outcomes by {x_label}"));
    svg.text(
        20.0,
        50.0,
        Anchor::Start,
        Font::sans(12.0, MUTED),
        &format!("Fraction of runs with each outcome ({runs_text}); bars: 95 % Wilson interval."),
    );
    let mut caption = String::from("Series are shifted a few pixels sideways so equal values do not hide each other.");
    if panels.len() > 1 {
        caption.push_str(" One panel per combination of the other swept settings");
        if shown < panels.len() {
            caption.push_str(&format!(" (the first {shown} of {})", panels.len()));
        }
        caption.push('.');
    }
    svg.text(20.0, 66.0, Anchor::Start, Font::sans(12.0, MUTED), &caption);
    if points.is_empty() {
        svg.text(WIDTH / 2.0, TOP + 60.0, Anchor::Middle, Font::sans(14.0, MUTED), "no points to plot");
        return svg.finish();
    }
    let axis = XAxis::new(points);
    for (i, (title, members)) in panels.iter().take(shown).enumerate() {
        let top = TOP + PANEL_H * i as f64;
        draw_panel(&mut svg, top, title, members, &axis, x_label);
    }
    svg.finish()
}

/// The outcomes drawn, in legend order: every outcome a sweep reports.
const SERIES: [(&str, &str); 9] = [
    ("established", "#000000"),
    ("all_delivered", "#0072b2"),
    ("clean_close", "#009e73"),
    ("gave_up", "#d55e00"),
    ("reset", "#cc79a7"),
    ("expectations_met", "#e69f00"),
    ("visited_closing", "#56b4e9"),
    ("visited_time_wait", "#8c564b"),
    ("visited_fin_wait_2", "#999933"),
];

const WIDTH: f64 = 960.0;
const TOP: f64 = 84.0;
const PANEL_H: f64 = 372.0;
const PLOT_X: f64 = 86.0;
const PLOT_W: f64 = 610.0;
const PLOT_H: f64 = 290.0;
const MAX_PANELS: usize = 12;
const INK: &str = "#222222";
const MUTED: &str = "#666666";
const GRID: &str = "#e4e4e4";

/// Points grouped by the values of every axis but the first, in sweep
/// order; each group is titled by those values.
pub(super) fn panels(points: &[PointSummary]) -> Vec<(String, Vec<&PointSummary>)> {
    let mut out: Vec<(String, Vec<&PointSummary>)> = Vec::new();
    for p in points {
        let title = p.values.iter().skip(1).map(|(c, v)| format!("{c}={v}")).collect::<Vec<_>>().join("  ");
        match out.iter_mut().find(|(t, _)| *t == title) {
            Some((_, members)) => members.push(p),
            None => out.push((title, vec![p])),
        }
    }
    out
}

/// The value of the first axis, as written.
pub(super) fn x_value(p: &PointSummary) -> &str {
    p.values.first().map_or("all runs", |(_, v)| v.as_str())
}

/// The horizontal axis: linear over numbers, or evenly spaced categories.
pub(super) enum XAxis {
    Linear { lo: f64, hi: f64, ticks: Vec<(f64, String)> },
    Categories(Vec<String>),
}

impl XAxis {
    pub(super) fn new(points: &[PointSummary]) -> XAxis {
        let mut categories: Vec<String> = Vec::new();
        for p in points {
            if !categories.iter().any(|c| c == x_value(p)) {
                categories.push(x_value(p).to_string());
            }
        }
        let numbers: Option<Vec<f64>> =
            categories.iter().map(|c| c.trim().parse::<f64>().ok().filter(|x| x.is_finite())).collect();
        match numbers {
            Some(xs) if 1 < xs.len() => {
                let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if lo < hi {
                    let ticks = nice_ticks(lo, hi);
                    // A margin keeps the end points off the frame.
                    let pad = (hi - lo) * 0.05;
                    return XAxis::Linear { lo: lo - pad, hi: hi + pad, ticks };
                }
                XAxis::Categories(categories)
            }
            _ => XAxis::Categories(categories),
        }
    }

    /// Position in `0..=1` across the plot.
    pub(super) fn position(&self, value: &str) -> f64 {
        match self {
            XAxis::Linear { lo, hi, .. } => {
                let x = value.trim().parse::<f64>().unwrap_or(*lo);
                (x - lo) / (hi - lo)
            }
            XAxis::Categories(c) => {
                let i = c.iter().position(|v| v == value).unwrap_or(0);
                (i as f64 + 0.5) / c.len().max(1) as f64
            }
        }
    }

    /// `(position, label)` of each tick.
    pub(super) fn ticks(&self) -> Vec<(f64, String)> {
        match self {
            XAxis::Linear { ticks, .. } => ticks.iter().map(|(x, l)| (self.position_of(*x), l.clone())).collect(),
            XAxis::Categories(c) => c.iter().map(|v| (self.position(v), shorten(v, 16))).collect(),
        }
    }

    fn position_of(&self, x: f64) -> f64 {
        match self {
            XAxis::Linear { lo, hi, .. } => (x - lo) / (hi - lo),
            XAxis::Categories(_) => 0.5,
        }
    }

    /// The distance between neighbouring points, as a fraction of the plot.
    fn spacing(&self, points: &[&PointSummary]) -> f64 {
        let mut xs: Vec<f64> = points.iter().map(|p| self.position(x_value(p))).collect();
        xs.sort_by(f64::total_cmp);
        xs.windows(2).map(|w| w[1] - w[0]).filter(|d| *d > 0.0).fold(1.0, f64::min)
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('\u{2026}');
        t
    }
}

/// Ticks at 1, 2 or 5 times a power of ten, at most eight of them, with
/// as many decimals as the step needs. Powers of ten are built by exact
/// repeated multiplication and division (no `powi` or logarithms).
pub(super) fn nice_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let span = hi - lo;
    let (mut step, mut decimals) = (1e-9_f64, 9usize);
    let mut mantissa = 0;
    // Walk up 1e-9, 2e-9, 5e-9, 1e-8, ... until at most 8 ticks fit.
    for _ in 0..80 {
        if span / step <= 8.0 {
            break;
        }
        let (next, next_mantissa) = match mantissa {
            0 => (step * 2.0, 1),
            1 => (step * 2.5, 2),
            _ => (step * 2.0, 0),
        };
        if mantissa == 2 {
            decimals = decimals.saturating_sub(1);
        }
        step = next;
        mantissa = next_mantissa;
    }
    let first = (lo / step).ceil();
    let mut ticks = Vec::new();
    for k in 0..=16 {
        let x = (first + k as f64) * step;
        if hi + step * 1e-9 < x {
            break;
        }
        ticks.push((x, format!("{x:.decimals$}")));
    }
    ticks
}

fn draw_panel(svg: &mut Svg, top: f64, title: &str, members: &[&PointSummary], axis: &XAxis, x_label: &str) {
    let (x0, y0) = (PLOT_X, top + 24.0);
    let sx = |f: f64| x0 + f * PLOT_W;
    // A little room above 1 and below 0 keeps markers off the frame.
    let sy = |v: f64| y0 + (1.04 - v) / 1.08 * PLOT_H;
    if !title.is_empty() {
        svg.text(x0, top + 12.0, Anchor::Start, Font::mono(13.0, INK).bold(), title);
    }
    // Frame, grid and y ticks.
    for i in 0..=5 {
        let v = f64::from(i) * 0.2;
        svg.line(x0, sy(v), x0 + PLOT_W, sy(v), Stroke::solid(GRID, 1.0));
        svg.line(x0 - 5.0, sy(v), x0, sy(v), Stroke::solid(INK, 1.0));
        svg.text(x0 - 8.0, sy(v) + 4.0, Anchor::End, Font::mono(11.0, INK), &format!("{v:.1}"));
    }
    svg.rect(x0, y0, PLOT_W, PLOT_H, "none", Some(Stroke::solid("#555555", 1.0)), 0.0);
    for (f, label) in axis.ticks() {
        svg.line(sx(f), y0 + PLOT_H, sx(f), y0 + PLOT_H + 5.0, Stroke::solid(INK, 1.0));
        svg.text(sx(f), y0 + PLOT_H + 18.0, Anchor::Middle, Font::mono(11.0, INK), &label);
    }
    svg.text(x0 + PLOT_W / 2.0, y0 + PLOT_H + 38.0, Anchor::Middle, Font::sans(13.0, INK).bold(), x_label);
    svg.text_vertical(x0 - 52.0, y0 + PLOT_H / 2.0, Font::sans(13.0, INK).bold(), "fraction of runs");

    // Series: error bars, then a line through the points (numeric axes
    // only: categories have no order to connect), then the markers.
    let n = SERIES.len() as f64;
    let dodge = (axis.spacing(members) * PLOT_W / (n + 2.0)).min(4.0);
    let linear = matches!(axis, XAxis::Linear { .. });
    let mut sorted: Vec<&PointSummary> = members.to_vec();
    sorted.sort_by(|a, b| axis.position(x_value(a)).total_cmp(&axis.position(x_value(b))));
    for (k, (name, color)) in SERIES.iter().enumerate() {
        let offset = (k as f64 - (n - 1.0) / 2.0) * dodge;
        let pts: Vec<(f64, Fraction)> = sorted
            .iter()
            .filter_map(|p| {
                let f = p.outcomes.iter().find(|(o, _)| o == name)?.1;
                Some((sx(axis.position(x_value(p))) + offset, f))
            })
            .collect();
        for (x, f) in &pts {
            let (lo, hi) = f.interval();
            let bar = Stroke { opacity: 0.8, ..Stroke::solid(color, 1.2) };
            svg.line(*x, sy(lo), *x, sy(hi), bar);
            svg.line(x - 3.0, sy(lo), x + 3.0, sy(lo), bar);
            svg.line(x - 3.0, sy(hi), x + 3.0, sy(hi), bar);
        }
        if linear && 1 < pts.len() {
            let line: Vec<(f64, f64)> = pts.iter().map(|(x, f)| (*x, sy(f.value()))).collect();
            svg.polyline(&line, Stroke { opacity: 0.7, ..Stroke::solid(color, 1.5) }, false);
        }
        for (x, f) in &pts {
            marker(svg, k, *x, sy(f.value()), color);
        }
    }
    legend(svg, x0 + PLOT_W + 24.0, y0 + 6.0);
}

/// Marker `k`: five shapes, filled then hollow, so series differ by more
/// than colour.
pub(super) fn marker(svg: &mut Svg, k: usize, x: f64, y: f64, color: &'static str) {
    let r = 4.0;
    let fill = if k < 5 { color } else { "white" };
    let stroke = Some(Stroke::solid(color, 1.4));
    match k % 5 {
        0 => svg.circle(x, y, r, fill, stroke),
        1 => svg.rect(x - r, y - r, 2.0 * r, 2.0 * r, fill, stroke, 0.0),
        2 => svg.polygon(&[(x, y - r - 1.0), (x + r + 0.5, y + r), (x - r - 0.5, y + r)], fill, stroke),
        3 => svg.polygon(&[(x, y - r - 1.0), (x + r + 1.0, y), (x, y + r + 1.0), (x - r - 1.0, y)], fill, stroke),
        _ => svg.polygon(&[(x - r - 0.5, y - r), (x + r + 0.5, y - r), (x, y + r + 1.0)], fill, stroke),
    }
}

fn legend(svg: &mut Svg, x: f64, y: f64) {
    let w = SERIES.iter().map(|(n, _)| text_width(n, 12.0)).fold(0.0, f64::max) + 44.0;
    svg.rect(x - 8.0, y - 8.0, w, SERIES.len() as f64 * 20.0 + 10.0, "white", Some(Stroke::solid("#cccccc", 1.0)), 4.0);
    for (k, (name, color)) in SERIES.iter().enumerate() {
        let yy = y + 8.0 + k as f64 * 20.0;
        svg.line(x, yy, x + 22.0, yy, Stroke::solid(color, 1.5));
        marker(svg, k, x + 11.0, yy, color);
        svg.text(x + 30.0, yy + 4.0, Anchor::Start, Font::mono(12.0, INK), name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pictures::svg::check_well_formed;
    use crate::sweep::OUTCOMES;

    fn point(values: &[(&str, &str)], k: u64) -> PointSummary {
        PointSummary {
            values: values.iter().map(|(c, v)| (c.to_string(), v.to_string())).collect(),
            runs: 10,
            outcomes: OUTCOMES.iter().map(|o| (*o, Fraction { k, n: 10 })).collect(),
            close_ns_median: None,
            close_ns_p95: None,
            retransmissions_mean_milli: 0,
            failing_runs: Vec::new(),
            measures: Vec::new(),
            hit_limit: 0,
        }
    }

    #[test]
    fn numeric_values_get_a_linear_axis_with_round_ticks() {
        let pts = [point(&[("loss", "0")], 10), point(&[("loss", "0.05")], 7), point(&[("loss", "0.2")], 2)];
        let svg = sweep_svg(&pts, "loss");
        check_well_formed(&svg).unwrap();
        assert!(svg.contains(">0.05</text>") && svg.contains(">0.20</text>"), "{svg}");
        assert!(svg.contains("fraction of runs") && svg.contains("visited_time_wait"));
        assert_eq!(svg, sweep_svg(&pts, "loss"), "deterministic");
    }

    #[test]
    fn other_axes_make_panels_and_words_make_categories() {
        let pts = [
            point(&[("tcp.rfc1337", "false"), ("loss", "0")], 3),
            point(&[("tcp.rfc1337", "true"), ("loss", "0")], 5),
            point(&[("tcp.rfc1337", "false"), ("loss", "0.1")], 4),
            point(&[("tcp.rfc1337", "true"), ("loss", "0.1")], 6),
        ];
        let svg = sweep_svg(&pts, "tcp.rfc1337");
        check_well_formed(&svg).unwrap();
        assert!(svg.contains(">loss=0</text>") && svg.contains(">loss=0.1</text>"));
        assert!(svg.contains(">false</text>") && svg.contains(">true</text>"));
    }

    #[test]
    fn ticks_are_one_two_or_five_times_a_power_of_ten() {
        let labels = |lo, hi| nice_ticks(lo, hi).into_iter().map(|(_, l)| l).collect::<Vec<_>>();
        assert_eq!(labels(0.0, 0.2), ["0.00", "0.05", "0.10", "0.15", "0.20"]);
        assert_eq!(labels(0.0, 1.0), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(labels(10.0, 50.0), ["10", "15", "20", "25", "30", "35", "40", "45", "50"]);
        assert_eq!(labels(0.0, 1000.0), ["0", "200", "400", "600", "800", "1000"]);
    }

    #[test]
    fn nothing_to_plot_is_still_a_picture() {
        let svg = sweep_svg(&[], "loss");
        check_well_formed(&svg).unwrap();
        assert!(svg.contains("no points to plot"));
    }
}
