//! The plot of `sweep --plot-measure`: one panel per chosen measure
//! against the first swept setting. Proportions (booleans, and each value
//! of a name) are drawn with their 95 % Wilson intervals as error bars;
//! numbers as the median with a p5–p95 band. As in the outcomes plot,
//! each combination of the other swept settings gets its own panel (one
//! row of panels per measure), so no two points share an x position.
//! Written by hand with [`crate::pictures::svg`], fixed decimals, so a
//! sweep gives the same file on every machine.

use super::plot::{XAxis, marker, nice_ticks, panels, x_value};
use super::svg::{Anchor, Font, Stroke, Svg};
use crate::measure::stats::MeasureSummary;
use crate::sweep::PointSummary;

const WIDTH: f64 = 960.0;
const TOP: f64 = 70.0;
const PANEL_H: f64 = 340.0;
const PLOT_X: f64 = 96.0;
const PLOT_W: f64 = 640.0;
const PLOT_H: f64 = 260.0;
const INK: &str = "#222222";
const MUTED: &str = "#666666";
const GRID: &str = "#e4e4e4";
/// At most this many panels (measures × combinations of the other
/// settings); the caption says when some are left out.
const MAX_PANELS: usize = 16;
const COLORS: [&str; 8] = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#8c564b", "#000000"];

/// One series: a label and, per point, (x, value, low, high).
type Series = (String, Vec<(f64, f64, f64, f64)>);

/// The measures `names` against the first swept setting, one panel per
/// measure and combination of the other swept settings; `title` names
/// the scenario.
pub fn measure_svg(points: &[PointSummary], names: &[String], x_label: &str, title: &str) -> String {
    let groups = panels(points);
    let all: Vec<(String, &[&PointSummary])> = names
        .iter()
        .flat_map(|name| {
            groups.iter().map(move |(other, members)| {
                let label = if other.is_empty() { name.clone() } else { format!("{name}  ({other})") };
                (label, members.as_slice())
            })
        })
        .collect();
    let shown = all.len().min(MAX_PANELS);
    let height = TOP + 16.0 + PANEL_H * shown.max(1) as f64;
    let mut svg = Svg::new(WIDTH, height);
    svg.comment("tcpsim sweep measure plot");
    svg.text(20.0, 30.0, Anchor::Start, Font::sans(18.0, INK).bold(), &format!("{title}: measures by {x_label}"));
    svg.text(
        20.0,
        50.0,
        Anchor::Start,
        Font::sans(12.0, MUTED),
        "Proportions with 95 % Wilson intervals; numbers as the median (marker) with the p5–p95 band.",
    );
    if groups.len() > 1 {
        let mut caption = "One panel per measure and combination of the other swept settings".to_string();
        if shown < all.len() {
            caption.push_str(&format!(" (the first {shown} of {})", all.len()));
        }
        caption.push('.');
        svg.text(20.0, 66.0, Anchor::Start, Font::sans(12.0, MUTED), &caption);
    }
    if points.is_empty() {
        return svg.finish();
    }
    let axis = XAxis::new(points);
    let per_measure = groups.len().max(1);
    for (i, (label, members)) in all.iter().take(shown).enumerate() {
        let name = &names[i / per_measure];
        let top = TOP + 16.0 + PANEL_H * i as f64;
        let summaries: Vec<(&PointSummary, &MeasureSummary)> =
            members.iter().filter_map(|p| p.measures.iter().find(|(n, _)| n == name).map(|(_, m)| (*p, m))).collect();
        let numbers = summaries.iter().any(|(_, m)| matches!(m, MeasureSummary::Numbers(_)));
        let series = series_of(&summaries, &axis);
        draw_panel(&mut svg, top, label, name, &series, &axis, x_label, numbers);
    }
    svg.finish()
}

/// The series of one measure's summaries, by label, in first-seen order.
fn series_of(summaries: &[(&PointSummary, &MeasureSummary)], axis: &XAxis) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    let mut add = |label: &str, x: f64, v: (f64, f64, f64)| match out.iter_mut().find(|(l, _)| l == label) {
        Some((_, pts)) => pts.push((x, v.0, v.1, v.2)),
        None => out.push((label.to_string(), vec![(x, v.0, v.1, v.2)])),
    };
    for (p, m) in summaries {
        let x = axis.position(x_value(p));
        match m {
            MeasureSummary::Proportion(f) => {
                let (lo, hi) = f.interval();
                add("true", x, (f.value(), lo, hi));
            }
            MeasureSummary::Categories(values) => {
                for (v, f) in values {
                    let (lo, hi) = f.interval();
                    add(v, x, (f.value(), lo, hi));
                }
            }
            MeasureSummary::Numbers(s) => add("median, p5–p95", x, (s.median, s.p5, s.p95)),
            MeasureSummary::Empty => {}
        }
    }
    out
}

#[allow(clippy::too_many_arguments, reason = "one panel's geometry, labels and data")]
fn draw_panel(
    svg: &mut Svg,
    top: f64,
    label: &str,
    name: &str,
    series: &[Series],
    axis: &XAxis,
    x_label: &str,
    numbers: bool,
) {
    let (x0, y0) = (PLOT_X, top + 24.0);
    let (lo, hi) = if numbers {
        let lo = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.2)).fold(f64::INFINITY, f64::min);
        let hi = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.3)).fold(f64::NEG_INFINITY, f64::max);
        if lo < hi { (lo - (hi - lo) * 0.05, hi + (hi - lo) * 0.05) } else { (lo - 1.0, hi + 1.0) }
    } else {
        (-0.04, 1.04)
    };
    let sx = |f: f64| x0 + f * PLOT_W;
    let sy = |v: f64| y0 + (hi - v) / (hi - lo) * PLOT_H;
    svg.text(x0, top + 12.0, Anchor::Start, Font::mono(13.0, INK).bold(), label);
    let ticks: Vec<(f64, String)> = if numbers {
        nice_ticks(lo, hi).into_iter().filter(|(v, _)| lo <= *v && *v <= hi).collect()
    } else {
        (0..=5).map(|i| (f64::from(i) * 0.2, format!("{:.1}", f64::from(i) * 0.2))).collect()
    };
    for (v, label) in &ticks {
        svg.line(x0, sy(*v), x0 + PLOT_W, sy(*v), Stroke::solid(GRID, 1.0));
        svg.text(x0 - 8.0, sy(*v) + 4.0, Anchor::End, Font::mono(11.0, INK), label);
    }
    svg.rect(x0, y0, PLOT_W, PLOT_H, "none", Some(Stroke::solid("#555555", 1.0)), 0.0);
    for (f, label) in axis.ticks() {
        svg.line(sx(f), y0 + PLOT_H, sx(f), y0 + PLOT_H + 5.0, Stroke::solid(INK, 1.0));
        svg.text(sx(f), y0 + PLOT_H + 18.0, Anchor::Middle, Font::mono(11.0, INK), &label);
    }
    svg.text(x0 + PLOT_W / 2.0, y0 + PLOT_H + 38.0, Anchor::Middle, Font::sans(13.0, INK).bold(), x_label);
    let y_label = if numbers { name } else { "fraction of runs" };
    svg.text_vertical(x0 - 60.0, y0 + PLOT_H / 2.0, Font::sans(13.0, INK).bold(), y_label);
    let n = series.len() as f64;
    for (k, (label, pts)) in series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let offset = (k as f64 - (n - 1.0) / 2.0) * 4.0;
        for &(x, _, lo, hi) in pts {
            let bar = Stroke { opacity: 0.8, ..Stroke::solid(color, if numbers { 3.0 } else { 1.2 }) };
            svg.line(sx(x) + offset, sy(lo), sx(x) + offset, sy(hi), bar);
        }
        for &(x, v, _, _) in pts {
            marker(svg, k, sx(x) + offset, sy(v), color);
        }
        let yy = y0 + 8.0 + k as f64 * 20.0;
        let lx = x0 + PLOT_W + 24.0;
        marker(svg, k, lx + 11.0, yy, color);
        svg.text(lx + 30.0, yy + 4.0, Anchor::Start, Font::mono(12.0, INK), label);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::stats::NumberSummary;
    use crate::pictures::svg::check_well_formed;
    use crate::sweep::Fraction;

    #[test]
    fn draws_proportions_and_numbers_in_well_formed_svg() {
        let point = |v: &str, k: u64| PointSummary {
            values: vec![("loss".into(), v.into())],
            runs: 10,
            outcomes: Vec::new(),
            close_ns_median: None,
            close_ns_p95: None,
            retransmissions_mean_milli: 0,
            failing_runs: Vec::new(),
            hit_limit: 0,
            measures: vec![
                ("closing".into(), MeasureSummary::Proportion(Fraction { k, n: 10 })),
                (
                    "goodput".into(),
                    MeasureSummary::Numbers(NumberSummary {
                        n: 10,
                        mean: 5.0,
                        ci95: Some((4.0, 6.0)),
                        median: 5.0,
                        p5: 1.0,
                        p95: 9.0,
                    }),
                ),
            ],
        };
        let svg = measure_svg(&[point("0", 3), point("0.1", 7)], &["closing".into(), "goodput".into()], "loss", "demo");
        check_well_formed(&svg).unwrap();
        assert!(svg.contains("demo: measures by loss"));
        assert!(svg.contains("median, p5"));
    }

    /// Two delays at each loss: the points of one delay never share an x
    /// with the other's; each delay gets its own panel, titled by it.
    #[test]
    fn other_settings_get_their_own_panels() {
        let point = |loss: &str, delay: &str| PointSummary {
            values: vec![("loss".into(), loss.into()), ("links[0].delay_ms".into(), delay.into())],
            runs: 10,
            outcomes: Vec::new(),
            close_ns_median: None,
            close_ns_p95: None,
            retransmissions_mean_milli: 0,
            failing_runs: Vec::new(),
            hit_limit: 0,
            measures: vec![("g".into(), MeasureSummary::Proportion(Fraction { k: 5, n: 10 }))],
        };
        let pts = [point("0.02", "5"), point("0.02", "100"), point("0.05", "5"), point("0.05", "100")];
        let svg = measure_svg(&pts, &["g".into()], "loss", "demo");
        check_well_formed(&svg).unwrap();
        assert!(svg.contains("g  (links[0].delay_ms=5)"), "{svg}");
        assert!(svg.contains("g  (links[0].delay_ms=100)"), "{svg}");
    }
}
