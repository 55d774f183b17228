//! Curves on log-log axes: measured points and model lines against one
//! variable, such as goodput against the loss rate beside the Mathis and
//! Padhye models (`examples/loss_models.rs`).
//!
//! Both axes are logarithmic, with grid lines at 1, 2 and 5 times each
//! power of ten inside the data's range. Every number is printed with
//! fixed decimals by [`crate::pictures::svg`], so the same points give the
//! same file.

use super::svg::{Anchor, Font, Stroke, Svg};

/// How a [`Curve`] is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Measured points: a dot each, joined by a thin line.
    Points,
    /// A model: a solid line.
    Solid,
    /// A model: a dashed line.
    Dashed,
}

/// One named series of (x, y) points, both positive.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// The legend's text.
    pub label: String,
    /// The points, in the order they are joined.
    pub points: Vec<(f64, f64)>,
    /// How it is drawn.
    pub style: Style,
}

/// The plot's texts.
#[derive(Clone, Copy, Debug)]
pub struct Labels<'a> {
    /// The title.
    pub title: &'a str,
    /// A line under the title.
    pub caption: &'a str,
    /// The x axis.
    pub x: &'a str,
    /// The y axis.
    pub y: &'a str,
}

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 520.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 230.0;
const TOP: f64 = 80.0;
const BOTTOM: f64 = 60.0;
const INK: &str = "#222222";
const MUTED: &str = "#666666";
const GRID: &str = "#e4e4e4";
/// Colours by curve index (colour-blind safe, Okabe-Ito).
const COLORS: [&str; 6] = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9"];

/// The curves on log-log axes spanning every point's x and y; points that
/// are not positive and finite are left out.
pub fn log_log_svg(labels: Labels<'_>, curves: &[Curve]) -> String {
    let mut svg = Svg::new(WIDTH, HEIGHT);
    svg.comment("tcpsim log-log curves");
    svg.text(20.0, 30.0, Anchor::Start, Font::sans(18.0, INK).bold(), labels.title);
    svg.text(20.0, 50.0, Anchor::Start, Font::sans(12.0, MUTED), labels.caption);
    let shown = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite() && 0.0 < x && 0.0 < y;
    let all: Vec<(f64, f64)> = curves.iter().flat_map(|c| c.points.iter().copied().filter(shown)).collect();
    if all.is_empty() {
        svg.text(WIDTH / 2.0, HEIGHT / 2.0, Anchor::Middle, Font::sans(14.0, MUTED), "no points to plot");
        return svg.finish();
    }
    let x = LogAxis::new(all.iter().map(|p| p.0), LEFT, WIDTH - RIGHT);
    let y = LogAxis::new(all.iter().map(|p| p.1), HEIGHT - BOTTOM, TOP);
    for (value, label) in x.ticks() {
        let px = x.at(value);
        svg.line(px, TOP, px, HEIGHT - BOTTOM, Stroke::solid(GRID, 1.0));
        svg.text(px, HEIGHT - BOTTOM + 18.0, Anchor::Middle, Font::sans(11.0, MUTED), &label);
    }
    for (value, label) in y.ticks() {
        let py = y.at(value);
        svg.line(LEFT, py, WIDTH - RIGHT, py, Stroke::solid(GRID, 1.0));
        svg.text(LEFT - 6.0, py + 4.0, Anchor::End, Font::sans(11.0, MUTED), &label);
    }
    svg.rect(LEFT, TOP, WIDTH - RIGHT - LEFT, HEIGHT - BOTTOM - TOP, "none", Some(Stroke::solid(INK, 1.0)), 0.0);
    svg.text((LEFT + WIDTH - RIGHT) / 2.0, HEIGHT - 18.0, Anchor::Middle, Font::sans(13.0, INK), labels.x);
    svg.text_vertical(24.0, (TOP + HEIGHT - BOTTOM) / 2.0, Font::sans(13.0, INK), labels.y);
    for (i, curve) in curves.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let points: Vec<(f64, f64)> =
            curve.points.iter().filter(|p| shown(p)).map(|&(a, b)| (x.at(a), y.at(b))).collect();
        let stroke = match curve.style {
            Style::Points => Stroke { opacity: 0.6, ..Stroke::solid(color, 1.0) },
            Style::Solid => Stroke::solid(color, 2.0),
            Style::Dashed => Stroke::dashed(color, 2.0, "6 4"),
        };
        svg.polyline(&points, stroke, false);
        if curve.style == Style::Points {
            for &(px, py) in &points {
                svg.circle(px, py, 3.5, color, None);
            }
        }
        let ly = TOP + 10.0 + 22.0 * i as f64;
        let lx = WIDTH - RIGHT + 16.0;
        svg.line(lx, ly, lx + 24.0, ly, stroke);
        if curve.style == Style::Points {
            svg.circle(lx + 12.0, ly, 3.5, color, None);
        }
        svg.text(lx + 30.0, ly + 4.0, Anchor::Start, Font::sans(12.0, INK), &curve.label);
    }
    svg.finish()
}

/// A logarithmic axis from whole decades' 1-2-5 steps around the data
/// onto pixels `from`..`to`.
struct LogAxis {
    lo: f64,
    hi: f64,
    from: f64,
    to: f64,
}

impl LogAxis {
    fn new(values: impl Iterator<Item = f64>, from: f64, to: f64) -> LogAxis {
        let (min, max) = values.fold((f64::INFINITY, 0.0_f64), |(a, b), v| (a.min(v), b.max(v)));
        let lo = step_below(min);
        let mut hi = step_above(max);
        if hi <= lo {
            hi = step_above(lo * 1.01);
        }
        LogAxis { lo, hi, from, to }
    }

    fn at(&self, value: f64) -> f64 {
        let share = (value / self.lo).ln() / (self.hi / self.lo).ln();
        self.from + (self.to - self.from) * share
    }

    /// The 1-2-5 steps from `lo` to `hi`, with their labels.
    fn ticks(&self) -> Vec<(f64, String)> {
        let mut ticks = Vec::new();
        let mut decade = 10f64.powi(self.lo.log10().floor() as i32);
        // At most 30 decades: a bound, never reached by real data.
        for _ in 0..30 {
            for m in [1.0, 2.0, 5.0] {
                let v = m * decade;
                if self.lo * 0.999 <= v && v <= self.hi * 1.001 {
                    ticks.push((v, tick_label(v)));
                }
            }
            decade *= 10.0;
            if self.hi * 1.001 < decade {
                break;
            }
        }
        ticks
    }
}

/// The largest 1-2-5 step at or below `v`.
fn step_below(v: f64) -> f64 {
    let decade = 10f64.powi(v.log10().floor() as i32);
    [5.0, 2.0, 1.0].into_iter().map(|m| m * decade).find(|&s| s <= v * 1.000_001).unwrap_or(decade)
}

/// The smallest 1-2-5 step at or above `v`.
fn step_above(v: f64) -> f64 {
    let decade = 10f64.powi(v.log10().floor() as i32);
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * decade).find(|&s| v <= s * 1.000_001).unwrap_or(10.0 * decade)
}

/// A tick's text: plain decimals without trailing zeros (0.002, 50, 2e6
/// as 2000000).
fn tick_label(v: f64) -> String {
    if 1.0 <= v {
        format!("{}", v.round() as u64)
    } else {
        let digits = (-v.log10().floor()) as usize;
        let text = format!("{v:.digits$}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pictures::svg::check_well_formed;

    #[test]
    fn ticks_are_1_2_5_steps_inside_the_range() {
        let axis = LogAxis::new([0.0011, 0.047].into_iter(), 0.0, 100.0);
        let labels: Vec<String> = axis.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["0.001", "0.002", "0.005", "0.01", "0.02", "0.05"]);
        assert!(axis.at(0.001).abs() < 1e-9 && (axis.at(0.05) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn a_plot_is_well_formed_and_names_every_curve() {
        let curves = [
            Curve { label: "measured".into(), points: vec![(0.001, 600.0), (0.01, 180.0)], style: Style::Points },
            Curve {
                label: "model".into(),
                points: vec![(0.001, 560.0), (0.01, 178.0), (0.0, 1.0)],
                style: Style::Dashed,
            },
        ];
        let labels = Labels { title: "t", caption: "c", x: "p", y: "kB/s" };
        let svg = log_log_svg(labels, &curves);
        check_well_formed(&svg).unwrap();
        assert!(svg.contains("measured") && svg.contains("model"));
        assert_eq!(log_log_svg(labels, &curves), svg, "the same points give the same bytes");
    }
}
