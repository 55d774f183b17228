//! The series plot (`run --series-plot`): per endpoint, two panels
//! sharing the time axis, from the rows `run --series` writes
//! ([`SeriesRow`]):
//!
//! - the congestion window, the slow-start threshold and the bytes in
//!   flight (RFC 5681), as step lines in bytes;
//! - the smoothed round-trip time and the retransmission timeout
//!   (RFC 6298), as step lines in milliseconds.
//!
//! A value is drawn from its first record on; a step line holds its value
//! until the next change. The slow-start threshold starts "arbitrarily
//! high" (RFC 5681 §3.1): far above the window, it is drawn clamped to the
//! panel's top, dashed. Up to [`MAX_ENDPOINTS`] endpoints are drawn, in
//! the order they first appear; the picture says how many it left out.
//! Changes within one pixel column are merged ([`super::merge`]).

use super::Window;
use super::axes::{Axis, byte_unit, note_lines};
use super::merge::step_polyline;
use super::svg::{Anchor, Font, Stroke, Svg};
use crate::measure::series::SeriesRow;
use crate::time::Instant;

/// The most endpoints one picture draws.
pub const MAX_ENDPOINTS: usize = 4;

const WIDTH: f64 = 960.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 930.0;
const WINDOW_PANEL: f64 = 210.0;
const RTT_PANEL: f64 = 150.0;
const GAP: f64 = 26.0;
/// Height of one endpoint's block: header, two panels, axis labels.
const BLOCK: f64 = 30.0 + WINDOW_PANEL + GAP + RTT_PANEL + 56.0;

const CWND: &str = "#1f5fbf";
const SSTHRESH: &str = "#d62728";
const FLIGHT: &str = "#2a8a2a";
const SRTT: &str = "#1f5fbf";
const RTO: &str = "#e07b00";
const GRID: &str = "#e4e4e4";

/// The series plot of `rows` (in time order, as [`Series`] keeps them).
///
/// [`Series`]: crate::measure::series::Series
pub fn series_plot_svg(rows: &[SeriesRow], title: &str) -> String {
    // Each endpoint by its first row, with the connection of its last (a
    // listener's endpoint joins its connection after its first records).
    let mut eps: Vec<(u32, &str, u32)> = Vec::new();
    for r in rows {
        match eps.iter_mut().find(|(ep, _, _)| *ep == r.ep) {
            Some(e) => e.2 = r.conn,
            None => eps.push((r.ep, &r.endpoint, r.conn)),
        }
    }
    let shown = eps.len().min(MAX_ENDPOINTS);
    let mut svg = Svg::new(WIDTH, 60.0 + BLOCK * shown as f64 + 40.0);
    svg.text(WIDTH / 2.0, 26.0, Anchor::Middle, Font::sans(17.0, "#222").bold(), title);
    let (Some(first), Some(last)) = (rows.iter().map(|r| r.t).min(), rows.iter().map(|r| r.t).max()) else {
        svg.text(WIDTH / 2.0, 60.0, Anchor::Middle, Font::sans(14.0, "#555"), "no measured values to plot");
        svg.set_height(90.0);
        return svg.finish();
    };
    let ms = |t: Instant| t.as_nanos() as f64 / 1e6;
    let x = Axis::new(ms(first), ms(last), LEFT, RIGHT);
    let mut merged = 0;
    for (k, (ep, name, conn)) in eps.iter().take(shown).enumerate() {
        let top = 50.0 + BLOCK * k as f64;
        let mine: Vec<&SeriesRow> = rows.iter().filter(|r| r.ep == *ep).collect();
        merged += block(&mut svg, top, &format!("{name} (connection {conn}, ep {ep})"), &mine, &x);
    }
    let mut notes = vec![
        "time from the start of the run".to_string(),
        "each line holds its value until the next change".to_string(),
        "ssthresh above a panel is drawn at its top".to_string(),
    ];
    if eps.len() > shown {
        notes.push(format!("{} more endpoints not drawn (choose with --endpoint or --conn)", eps.len() - shown));
    }
    if merged > 0 {
        notes.push(format!("{merged} marks merged below one pixel"));
    }
    let mut y = 50.0 + BLOCK * shown as f64 - 6.0;
    for line in note_lines(&notes, 11.5, RIGHT - LEFT) {
        y += 18.0;
        svg.text(LEFT, y, Anchor::Start, Font::sans(11.5, "#555").italic(), &line);
    }
    svg.set_height(y + 14.0);
    svg.finish()
}

/// The rows `window` shows: each endpoint's last row before the window,
/// moved to its start (where its lines enter), then the rows inside, and
/// with a window's end, each endpoint's last row again at that end (no
/// change: the time axis reaches it and the lines run to it).
pub fn rows_in_window(rows: &[SeriesRow], window: Window) -> Vec<SeriesRow> {
    let mut carried: Vec<SeriesRow> = Vec::new();
    let mut inside = Vec::new();
    for r in rows {
        if window.is_after(r.t) {
            break;
        }
        if window.contains(r.t) {
            inside.push(r.clone());
        } else if let Some(from) = window.from {
            let moved = SeriesRow { t: from, ..r.clone() };
            match carried.iter_mut().find(|c| c.ep == r.ep) {
                Some(c) => *c = moved,
                None => carried.push(moved),
            }
        }
    }
    carried.extend(inside);
    if let Some(to) = window.to {
        let mut last: Vec<SeriesRow> = Vec::new();
        for r in carried.iter().rev() {
            if !last.iter().any(|l| l.ep == r.ep) {
                last.push(SeriesRow { t: to, ..r.clone() });
            }
        }
        last.sort_by_key(|r| r.ep);
        carried.extend(last);
    }
    carried
}

/// One endpoint: its header and two panels; returns the marks merged.
fn block(svg: &mut Svg, top: f64, header: &str, rows: &[&SeriesRow], x: &Axis) -> usize {
    svg.text(LEFT, top + 16.0, Anchor::Start, Font::sans(13.5, "#222").bold(), header);
    let wtop = top + 30.0;
    let wbottom = wtop + WINDOW_PANEL;
    let rtop = wbottom + GAP;
    let rbottom = rtop + RTT_PANEL;
    let ms = |t: Instant| t.as_nanos() as f64 / 1e6;
    let xs = |t: Instant| x.at(ms(t));
    let mut merged = 0;

    // Window panel: cwnd and flight set the scale; ssthresh may reach
    // half again above them and is clamped beyond.
    let max_of = |f: &dyn Fn(&SeriesRow) -> Option<u32>| rows.iter().filter_map(|r| f(r)).max().unwrap_or(0) as f64;
    let main = max_of(&|r| r.values.cwnd).max(max_of(&|r| r.values.flight)).max(1.0);
    let hi = main.max(max_of(&|r| r.values.ssthresh).min(main * 1.5));
    let (unit, unit_name) = byte_unit(hi);
    let y = Axis::new(0.0, hi * 1.05 / unit, wbottom, wtop);
    frame(svg, x, &y, wtop, wbottom, false);
    svg.text_vertical(LEFT - 52.0, (wtop + wbottom) / 2.0, Font::sans(12.0, "#222"), unit_name);
    let bytes = |v: Option<u32>| v.map(|v| y.at_clamped(f64::from(v) / unit));
    merged +=
        line(svg, rows, &xs, &|r| bytes(r.values.ssthresh), Stroke::dashed(SSTHRESH, 1.5, "6 3"), "series-ssthresh");
    merged += line(svg, rows, &xs, &|r| bytes(r.values.flight), Stroke::solid(FLIGHT, 1.4), "series-flight");
    merged += line(svg, rows, &xs, &|r| bytes(r.values.cwnd), Stroke::solid(CWND, 1.8), "series-cwnd");
    key(svg, wtop - 14.0, &[(CWND, "cwnd", ""), (SSTHRESH, "ssthresh", "6 3"), (FLIGHT, "flight", "")]);

    // RTT panel, in ms.
    let max_ns = rows.iter().filter_map(|r| rto_in_force(r).max(r.values.srtt)).max().unwrap_or(0);
    let y = Axis::new(0.0, (max_ns as f64 / 1e6).max(0.001) * 1.05, rbottom, rtop);
    frame(svg, x, &y, rtop, rbottom, true);
    svg.text_vertical(LEFT - 52.0, (rtop + rbottom) / 2.0, Font::sans(12.0, "#222"), "ms");
    let msy = |v: Option<u64>| v.map(|v| y.at_clamped(v as f64 / 1e6));
    merged += line(svg, rows, &xs, &|r| msy(rto_in_force(r)), Stroke::solid(RTO, 1.6), "series-rto");
    merged += line(svg, rows, &xs, &|r| msy(r.values.srtt), Stroke::solid(SRTT, 1.8), "series-srtt");
    key(svg, rtop - 8.0, &[(SRTT, "SRTT", ""), (RTO, "RTO (timer as armed, with backoff)", "")]);
    svg.text((LEFT + RIGHT) / 2.0, rbottom + 34.0, Anchor::Middle, Font::sans(12.5, "#222"), "time (ms)");
    merged
}

/// A panel's frame, grid and y ticks; x tick labels when `labels`.
fn frame(svg: &mut Svg, x: &Axis, y: &Axis, top: f64, bottom: f64, labels: bool) {
    let axis = Stroke::solid("#555", 1.0);
    let font = Font::sans(11.0, "#333");
    for (px, text) in x.ticks() {
        svg.line(px, top, px, bottom, Stroke::solid(GRID, 1.0));
        svg.line(px, bottom, px, bottom + 4.0, axis);
        if labels {
            svg.text(px, bottom + 17.0, Anchor::Middle, font, &text);
        }
    }
    for (py, text) in y.ticks() {
        svg.line(LEFT, py, RIGHT, py, Stroke::solid(GRID, 1.0));
        svg.line(LEFT - 4.0, py, LEFT, py, axis);
        svg.text(LEFT - 7.0, py + 4.0, Anchor::End, font, &text);
    }
    svg.rect(LEFT, top, RIGHT - LEFT, bottom - top, "none", Some(axis), 0.0);
}

/// One step line of a value, broken where it is unknown; returns the
/// changes merged.
fn line(
    svg: &mut Svg,
    rows: &[&SeriesRow],
    xs: &dyn Fn(Instant) -> f64,
    value: &dyn Fn(&SeriesRow) -> Option<f64>,
    stroke: Stroke,
    class: &str,
) -> usize {
    let mut merged = 0;
    let mut pieces: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    let mut last: Option<f64> = None;
    for (k, r) in rows.iter().enumerate() {
        // Only the last value at an instant is drawn: one held for no
        // time (an ACK empties the pipe, the same step refills it) is not
        // a value over time.
        if rows.get(k + 1).is_some_and(|next| next.t == r.t) {
            continue;
        }
        let v = value(r);
        if v == last {
            continue;
        }
        match v {
            Some(y) => pieces.last_mut().expect("never empty").push((xs(r.t), y)),
            None => pieces.push(Vec::new()),
        }
        last = v;
    }
    let end = rows.last().map_or(RIGHT, |r| xs(r.t)).max(RIGHT);
    svg.open_group(&format!(r#"class="{class}""#));
    let n = pieces.len();
    for (i, changes) in pieces.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
        // A piece ends where the next begins; the last runs to the end.
        let x_end = if i + 1 < n { pieces[i + 1].first().map_or(end, |p| p.0) } else { end };
        let (points, m) = step_polyline(changes, x_end);
        merged += m;
        svg.polyline(&points, stroke, false);
    }
    svg.close_group();
    merged
}

/// A panel's key, right-aligned above it on the baseline `y`.
fn key(svg: &mut Svg, y: f64, entries: &[(&'static str, &str, &'static str)]) {
    let font = Font::sans(11.5, "#333");
    let mut x = RIGHT - 8.0;
    for (color, name, dash) in entries.iter().rev() {
        let w = name.chars().count() as f64 * 11.5 * 0.6;
        x -= w;
        svg.text(x, y, Anchor::Start, font, name);
        x -= 26.0;
        svg.line(x, y - 4.0, x + 20.0, y - 4.0, Stroke::dashed(color, 2.0, dash));
        x -= 12.0;
    }
}

/// The RTO in force: the retransmission timer as last armed (backoff
/// included, RFC 6298 (5.5)), else the estimator's RTO before any timer.
fn rto_in_force(r: &SeriesRow) -> Option<u64> {
    r.values.rto_timer.or(r.values.rto)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::series::Values;
    use crate::pictures::svg::check_well_formed;

    fn row(ms: u64, ep: u32, cwnd: u32, rto_ms: u64) -> SeriesRow {
        SeriesRow {
            t: Instant::from_nanos(ms * 1_000_000),
            conn: 0,
            ep,
            endpoint: format!("ep{ep}"),
            values: Values {
                cwnd: Some(cwnd),
                ssthresh: Some(65535),
                flight: Some(cwnd / 2),
                srtt: Some(40_000_000),
                rto: Some(rto_ms * 1_000_000),
                ..Values::default()
            },
        }
    }

    #[test]
    fn both_panels_have_their_lines() {
        let rows = [row(0, 0, 4380, 1000), row(40, 0, 5840, 1000), row(80, 0, 1460, 2000)];
        let svg = series_plot_svg(&rows, "t");
        check_well_formed(&svg).unwrap();
        for class in ["series-cwnd", "series-ssthresh", "series-flight", "series-srtt", "series-rto"] {
            assert!(svg.contains(&format!(r#"class="{class}""#)), "{class}");
        }
        assert!(svg.contains("ep0 (connection 0, ep 0)"));
        assert!(!svg.contains("merged"), "nothing to merge at this scale");
    }

    #[test]
    fn a_window_starts_each_endpoint_at_its_last_values_before_it() {
        let rows = [row(0, 0, 1, 1), row(5, 1, 2, 1), row(10, 0, 3, 1), row(20, 0, 4, 1), row(30, 1, 5, 1)];
        let w = Window { from: Some(Instant::from_nanos(15_000_000)), to: Some(Instant::from_nanos(25_000_000)) };
        let inside = rows_in_window(&rows, w);
        let seen: Vec<(u64, u32, Option<u32>)> =
            inside.iter().map(|r| (r.t.as_nanos() / 1_000_000, r.ep, r.values.cwnd)).collect();
        assert_eq!(seen, [(15, 0, Some(3)), (15, 1, Some(2)), (20, 0, Some(4)), (25, 0, Some(4)), (25, 1, Some(2))]);
    }

    #[test]
    fn many_endpoints_and_many_rows_stay_bounded() {
        let rows: Vec<SeriesRow> =
            (0..400_000u32).map(|k| row(u64::from(k), k % 6, 1460 + (k * 7919) % 50_000, 1000)).collect();
        let svg = series_plot_svg(&rows, "t");
        check_well_formed(&svg).unwrap();
        assert!(svg.len() < 1_000_000, "{} bytes", svg.len());
        assert_eq!(svg.matches(r#"class="series-cwnd""#).count(), MAX_ENDPOINTS);
        assert!(svg.contains("2 more endpoints not drawn"));
        assert!(svg.contains("marks merged below one pixel"));
    }

    #[test]
    fn no_rows_is_still_a_picture() {
        let svg = series_plot_svg(&[], "t");
        check_well_formed(&svg).unwrap();
        assert!(svg.contains("no measured values"));
    }

    #[test]
    fn a_value_held_for_no_time_is_not_drawn() {
        // flight 0 then 2920 at the same instant: only 2920 is drawn.
        let mut a = row(10, 0, 2920, 1000);
        a.values.flight = Some(0);
        let b = row(10, 0, 2920, 1000);
        let c = row(20, 0, 2920, 1000);
        let svg = series_plot_svg(&[a, b, c], "t");
        let flight = svg.split("class=\"series-flight\"").nth(1).expect("a flight line");
        let flight = &flight[..flight.find("</g>").unwrap()];
        let ys: Vec<&str> =
            flight.split(' ').filter(|p| p.contains(',')).map(|p| p.split(',').nth(1).unwrap()).collect();
        assert!(ys.windows(2).all(|w| w[0].trim_matches('"') == w[1].trim_matches('"')), "a flat line: {flight}");
    }
}
