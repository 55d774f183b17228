//! Sweeps: one scenario over a grid of settings and many seeds, with
//! per-run metrics and per-point statistics.
//!
//! Run `i` of every grid point uses the seed [`run_seed`]`(base, i)`, so
//! points are compared on the same seeds (paired). Runs share no state:
//! each runs its own [`Simulation`] of the point's model with the run's seed,
//! exactly as `tcpsim run FILE --seed S --set ...` would, so any row can be
//! replayed alone. Output is assembled in run order, never completion
//! order, so it is byte-identical for any thread count or shard split.

use crate::measure::conn::Collector;
use crate::measure::expr::Measure;
use crate::measure::stats::{self, MeasureSummary};
use crate::model::Model;
use crate::rng::{Key, component};
use crate::simulation::Simulation;
use crate::tcp::{CloseReason, State};
use crate::time::Instant;
use crate::trace::NullSink;
use crate::world::{Outcome, World};
use std::fmt::Write as _;

pub mod merge;
pub mod run;
pub mod table;

/// The seed of run `i` of a sweep over a file whose seed is `base`: the
/// first 64 bits of block 0 of ChaCha8 stream `i` under the key
/// `Key::derive(base, component::SWEEP)` (little-endian words 0 and 1).
pub fn run_seed(base: u64, i: u64) -> u64 {
    Key::derive(base, component::SWEEP).u64(i, 0)
}

/// Reads a shard `i/n` (0 <= i < n), spaces around the numbers allowed.
pub fn parse_shard(spec: &str) -> Option<(u64, u64)> {
    let (i, n) = spec.split_once('/')?;
    let (i, n): (u64, u64) = (i.trim().parse().ok()?, n.trim().parse().ok()?);
    (i < n).then_some((i, n))
}

/// The runs of shard `i` of `n` of a sweep of `runs` runs: the i-th of n
/// contiguous slices, `i * runs / n .. (i + 1) * runs / n`.
pub fn shard_runs(i: u64, n: u64, runs: u64) -> (u64, u64) {
    let bound = |k: u64| (u128::from(k) * u128::from(runs) / u128::from(n.max(1))) as u64;
    (bound(i), bound(i + 1))
}

/// One swept setting: a column name and, per value, the overrides that
/// set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    /// The CSV column: the field path, or `loss` for `--loss`.
    pub column: String,
    /// `(value as written, overrides)` per value.
    pub values: Vec<(String, Vec<crate::scenario::Override>)>,
}

impl Axis {
    /// The flag that set value `i` as the user wrote it: `--loss P` for
    /// the `loss` column, else `--vary FIELD=VALUE`.
    pub fn flag(&self, i: usize) -> String {
        match self.column.as_str() {
            "loss" => format!("--loss {}", self.values[i].0),
            field => format!("--vary {field}={}", self.values[i].0),
        }
    }
}

/// Grid points: every combination of axis values, the first axis varying
/// slowest. Each point is the list of (value index per axis).
pub fn grid(axes: &[Axis]) -> Vec<Vec<usize>> {
    let mut points: Vec<Vec<usize>> = vec![Vec::new()];
    for axis in axes {
        let mut next = Vec::with_capacity(points.len() * axis.values.len());
        for p in &points {
            for v in 0..axis.values.len() {
                let mut q = p.clone();
                q.push(v);
                next.push(q);
            }
        }
        points = next;
    }
    points
}

/// What one run produced, one CSV row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRow {
    /// The run's number in the sweep, from 0.
    pub run: u64,
    /// The run's effective seed: `tcpsim run FILE --seed SEED` with the point's
    /// settings replays it.
    pub seed: u64,
    /// Index of the grid point.
    pub point: usize,
    /// How the run ended: completed, or the limit that stopped it.
    pub outcome: Outcome,
    /// Connections in the run.
    pub connections: u64,
    /// Connections whose two ends both reached ESTABLISHED.
    pub established: u64,
    /// Connections that delivered every queued byte, both ways.
    pub all_delivered: u64,
    /// Connections whose two ends both ended CLOSED with reason NORMAL.
    pub clean_close: u64,
    /// Connections where an end gave up (RETRANSMIT_LIMIT, USER_TIMEOUT,
    /// FIN_WAIT_2_TIMEOUT).
    pub gave_up: u64,
    /// Connections where an end was reset or refused.
    pub reset: u64,
    /// Endpoints stuck at the end (`world::OpenReason::Stuck`); `None`
    /// when the run did not complete.
    pub stuck: Option<u64>,
    /// Connections where an end visited CLOSING.
    pub visited_closing: u64,
    /// Connections where an end visited TIME_WAIT.
    pub visited_time_wait: u64,
    /// Connections where an end visited FIN_WAIT_2.
    pub visited_fin_wait_2: u64,
    /// Mean time from the first SYN to both ends ESTABLISHED (ns), over
    /// connections that got there.
    pub establish_ns: Option<u64>,
    /// Mean time from the first close step to both ends CLOSED (ns).
    pub close_ns: Option<u64>,
    /// Bytes delivered times 8 over the time from the first ESTABLISHED to
    /// the last delivery, in bits per second.
    pub goodput_bps: Option<u64>,
    /// Payload bytes delivered to applications, over the run.
    pub bytes_delivered: u64,
    /// Segments sent over the run (the world's `segments_sent` count).
    pub segments_sent: u64,
    /// Segments sent again, over the run.
    pub retransmissions: u64,
    /// Of the retransmissions, those by fast retransmit or NewReno partial
    /// ACKs.
    pub fast_retransmits: u64,
    /// Segments lost, all reasons.
    pub drops: u64,
    /// Events the run processed.
    pub events: u64,
    /// Failed checks of the file's `expect` block.
    pub expectations_failed: u64,
    /// The run's final virtual time, in ns.
    pub end_ns: u64,
    /// The run's trace digest, in hex.
    pub digest: String,
    /// The `--measure` cells, in the order the measures were given
    /// (empty text: no value).
    pub measures: Vec<String>,
}

impl RunRow {
    /// A row of zeros, for building one field by field.
    pub const EMPTY: RunRow = RunRow {
        run: 0,
        seed: 0,
        point: 0,
        outcome: Outcome::Completed,
        connections: 0,
        established: 0,
        all_delivered: 0,
        clean_close: 0,
        gave_up: 0,
        reset: 0,
        stuck: None,
        visited_closing: 0,
        visited_time_wait: 0,
        visited_fin_wait_2: 0,
        establish_ns: None,
        close_ns: None,
        goodput_bps: None,
        bytes_delivered: 0,
        segments_sent: 0,
        retransmissions: 0,
        fast_retransmits: 0,
        drops: 0,
        events: 0,
        expectations_failed: 0,
        end_ns: 0,
        digest: String::new(),
        measures: Vec::new(),
    };

    /// Whether this run counts as a failure worth a replay command.
    pub fn failed(&self) -> bool {
        self.expectations_failed > 0 || self.outcome != Outcome::Completed
    }
}

/// Totals over many runs that are summed, not listed: behaviour coverage
/// (by `Rule::index`) and transitions by `[from][to]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Totals {
    /// Firings per behaviour rule, indexed by `Rule::index`.
    pub coverage: Vec<u64>,
    /// State transitions counted by `[from][to]`, indexed by `State as usize`.
    pub transitions: [[u64; 11]; 11],
}

impl Default for Totals {
    fn default() -> Totals {
        Totals { coverage: vec![0; crate::rule::COUNT], transitions: [[0; 11]; 11] }
    }
}

impl Totals {
    /// Adds `other` in; addition commutes, so totals do not depend on the
    /// order runs finished in.
    pub fn add(&mut self, other: &Totals) {
        for (a, b) in self.coverage.iter_mut().zip(&other.coverage) {
            *a += b;
        }
        for (ra, rb) in self.transitions.iter_mut().zip(&other.transitions) {
            for (a, b) in ra.iter_mut().zip(rb) {
                *a += b;
            }
        }
    }
}

/// Runs `model` with `seed` to the end and measures it; adds the run's
/// behaviour coverage and transitions to `totals`.
pub fn run_one(model: &Model, run: u64, point: usize, seed: u64, totals: &mut Totals) -> RunRow {
    run_measured(model, &[], run, point, seed, totals)
}

/// As [`run_one`], the row also holding each of `measures`' values: the
/// run then traces its measurement records into a per-endpoint
/// [`Collector`] (never into the digest).
pub fn run_measured(
    model: &Model,
    measures: &[Measure],
    run: u64,
    point: usize,
    seed: u64,
    totals: &mut Totals,
) -> RunRow {
    // The measures read phase times and the states each endpoint visited
    // (kept for all): no history beyond what the checks read.
    let model = Model { seed, ..model.clone() };
    let sim = Simulation::from_valid_model(model).keep_phase_times(true);
    let (finished, cells) = if measures.is_empty() {
        (sim.run(&mut NullSink), Vec::new())
    } else {
        let mut collector = Collector::new();
        let finished = sim.measure_records(true).run(&mut collector);
        let results = collector.finish(&finished.world);
        let cells = measures.iter().map(|m| m.eval(&results).map(|v| v.cell()).unwrap_or_default()).collect();
        (finished, cells)
    };
    let world = &finished.world;
    for (c, n) in totals.coverage.iter_mut().zip(world.coverage()) {
        *c += n;
    }
    for (ra, rb) in totals.transitions.iter_mut().zip(&world.stats().transitions_by) {
        for (a, b) in ra.iter_mut().zip(rb) {
            *a += b;
        }
    }
    let expectations_failed = finished.failed_checks().count() as u64;
    let mut row = measure(world, run, point, seed, finished.outcome, expectations_failed);
    row.measures = cells;
    row
}

fn mean(sum: u128, n: u64) -> Option<u64> {
    (n > 0).then(|| (sum / u128::from(n)) as u64)
}

fn measure(world: &World, run: u64, point: usize, seed: u64, outcome: Outcome, expectations_failed: u64) -> RunRow {
    let total = world.model().connection_count() as usize;
    let stats = world.stats();
    let mut row = RunRow {
        run,
        seed,
        point,
        outcome,
        connections: total as u64,
        stuck: world.open_endpoints(0).map(|r| r.stuck()),
        segments_sent: stats.segments_sent,
        retransmissions: stats.retransmissions,
        drops: stats.total_drops(),
        events: stats.events,
        expectations_failed,
        end_ns: world.now().as_nanos(),
        digest: world.digest(),
        // Counts and times summed or set per connection below.
        ..RunRow::EMPTY
    };
    let (mut est_sum, mut est_n, mut close_sum, mut close_n) = (0u128, 0u64, 0u128, 0u64);
    let (mut first_est, mut last_data) = (Instant::MAX, Instant::ZERO);
    world.for_each_connection(|_, eps| {
        let both = eps.len() == 2;
        let all = |f: &dyn Fn(&crate::world::EndpointView<'_>) -> bool| both && eps.iter().all(f);
        let any = |f: &dyn Fn(&crate::world::EndpointView<'_>) -> bool| eps.iter().any(f);
        let times = |e: &crate::world::EndpointView<'_>| *e.times.expect("phase times are kept");
        for e in eps {
            row.bytes_delivered += e.tcp.stats().bytes_delivered;
            row.fast_retransmits += u64::from(e.tcp.stats().fast_retransmits);
            if times(e).established_at != Instant::MAX {
                first_est = first_est.min(times(e).established_at);
            }
            if times(e).last_data_at != Instant::MAX {
                last_data = last_data.max(times(e).last_data_at);
            }
        }
        if all(&|e| e.log.established()) {
            row.established += 1;
            let opened = eps.iter().map(|e| times(e).opened_at).min().unwrap_or(Instant::ZERO);
            let est = eps.iter().map(|e| times(e).established_at).max().unwrap_or(Instant::ZERO);
            est_sum += u128::from(est.saturating_since(opened).as_nanos());
            est_n += 1;
        }
        if both
            && eps[0].tcp.stats().bytes_queued == eps[1].tcp.stats().bytes_delivered
            && eps[1].tcp.stats().bytes_queued == eps[0].tcp.stats().bytes_delivered
        {
            row.all_delivered += 1;
        }
        if all(&|e| e.tcp.state() == State::Closed && e.tcp.close_reason() == Some(CloseReason::Normal)) {
            row.clean_close += 1;
        }
        if all(&|e| e.tcp.state() == State::Closed) {
            let began = eps.iter().map(|e| times(e).closing_at).min().unwrap_or(Instant::MAX);
            let ended = eps.iter().map(|e| times(e).closed_at).max().unwrap_or(Instant::ZERO);
            if began != Instant::MAX {
                close_sum += u128::from(ended.saturating_since(began).as_nanos());
                close_n += 1;
            }
        }
        let gave_up = |e: &crate::world::EndpointView<'_>| {
            matches!(
                e.tcp.close_reason(),
                Some(CloseReason::RetransmitLimit | CloseReason::UserTimeout | CloseReason::FinWait2Timeout)
            )
        };
        row.gave_up += any(&gave_up) as u64;
        row.reset += any(&|e| matches!(e.tcp.close_reason(), Some(CloseReason::Reset | CloseReason::Refused))) as u64;
        row.visited_closing += any(&|e| e.log.visited(State::Closing)) as u64;
        row.visited_time_wait += any(&|e| e.log.visited(State::TimeWait)) as u64;
        row.visited_fin_wait_2 += any(&|e| e.log.visited(State::FinWait2)) as u64;
    });
    row.establish_ns = mean(est_sum, est_n);
    row.close_ns = mean(close_sum, close_n);
    if first_est < last_data {
        let secs_ns = u128::from(last_data.saturating_since(first_est).as_nanos());
        row.goodput_bps = Some((u128::from(row.bytes_delivered) * 8 * 1_000_000_000 / secs_ns) as u64);
    }
    row
}

/// Milliseconds with three decimals, from nanoseconds, exactly.
pub fn ms(ns: u64) -> String {
    let us = ns / 1_000;
    format!("{}.{:03}", us / 1_000, us % 1_000)
}

/// The Wilson score interval for `k` successes in `n` trials at 95 %
/// (z = 1.959964, the normal 97.5 % quantile), as (low, high). Only +, -, *, / and sqrt, which IEEE 754
/// rounds exactly, so it prints the same everywhere.
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n) = (k as f64, n as f64);
    let z = 1.959964_f64;
    let p = k / n;
    let denom = 1.0 + z * z / n;
    let center = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    ((center - half).max(0.0), (center + half).min(1.0))
}

/// A fraction with its 95 % Wilson interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fraction {
    /// Runs that had the outcome.
    pub k: u64,
    /// Runs counted.
    pub n: u64,
}

impl Fraction {
    /// `k / n`, or 0 when nothing was counted.
    pub fn value(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.k as f64 / self.n as f64 }
    }

    /// The 95 % Wilson score interval of `k / n`, as (low, high).
    pub fn interval(&self) -> (f64, f64) {
        wilson(self.k, self.n)
    }
}

/// Statistics over the runs of one grid point.
#[derive(Clone, Debug, PartialEq)]
pub struct PointSummary {
    /// `(column, value)` per axis.
    pub values: Vec<(String, String)>,
    /// Runs of this grid point.
    pub runs: u64,
    /// Outcome name -> fraction of runs: `established` (every connection),
    /// `all_delivered`, `clean_close`, `gave_up` (any connection),
    /// `reset` (any), `stuck` (any endpoint; out of the runs that
    /// completed, not all runs), `expectations_met`,
    /// `visited_closing`,
    /// `visited_time_wait`, `visited_fin_wait_2` (any connection).
    pub outcomes: Vec<(&'static str, Fraction)>,
    /// The median over runs of the mean close time (`RunRow::close_ns`), in ns;
    /// `None` when no run closed.
    pub close_ns_median: Option<u64>,
    /// The 95th percentile over runs of the mean close time, in ns.
    pub close_ns_p95: Option<u64>,
    /// Mean retransmissions per run, in thousandths.
    pub retransmissions_mean_milli: u64,
    /// The numbers of the runs that failed (an expectation failed or a limit
    /// stopped them).
    pub failing_runs: Vec<u64>,
    /// Each `--measure`'s name and summary, in the order given.
    pub measures: Vec<(String, MeasureSummary)>,
    /// Runs a limit stopped (max events, max time, ...): their measures
    /// are of a partial run.
    pub hit_limit: u64,
}

/// The outcomes a summary reports, in order.
pub const OUTCOMES: [&str; 10] = [
    "established",
    "all_delivered",
    "clean_close",
    "gave_up",
    "reset",
    "stuck",
    "expectations_met",
    "visited_closing",
    "visited_time_wait",
    "visited_fin_wait_2",
];

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], pct: u64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() as u64 * pct).div_ceil(100).max(1);
    Some(sorted[(rank - 1) as usize])
}

/// What each built-in outcome counts, said in the summary table: of
/// every connection or any, of either end or both.
pub fn outcome_scope(name: &str) -> &'static str {
    match name {
        "established" => "every connection, both ends",
        "all_delivered" => "every connection, both ways",
        "clean_close" => "every connection, both ends CLOSED NORMAL",
        "gave_up" | "reset" => "any connection, either end",
        "stuck" => "any endpoint, of completed runs",
        "expectations_met" => "the file's expect block",
        _ => "any connection, either end",
    }
}

/// Summarizes the rows of one grid point; `measures` names the rows'
/// measure cells, and `proportions[i]` says measure `i` holds
/// proportions (a boolean averaged; missing means no).
pub fn summarize_measured(
    values: Vec<(String, String)>,
    rows: &[&RunRow],
    measures: &[String],
    proportions: &[bool],
) -> PointSummary {
    let mut s = summarize(values, rows);
    s.measures = measures
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let cells: Vec<&str> = rows.iter().map(|r| r.measures.get(i).map_or("", String::as_str)).collect();
            (name.clone(), stats::summarize_as(&cells, proportions.get(i).copied().unwrap_or(false)))
        })
        .collect();
    s
}

/// Summarizes the rows of one grid point.
pub fn summarize(values: Vec<(String, String)>, rows: &[&RunRow]) -> PointSummary {
    let n = rows.len() as u64;
    let count = |f: &dyn Fn(&RunRow) -> bool| Fraction { k: rows.iter().filter(|r| f(r)).count() as u64, n };
    let outcomes = vec![
        ("established", count(&|r| r.established == r.connections)),
        ("all_delivered", count(&|r| r.all_delivered == r.connections)),
        ("clean_close", count(&|r| r.clean_close == r.connections)),
        ("gave_up", count(&|r| r.gave_up > 0)),
        ("reset", count(&|r| r.reset > 0)),
        // Counted only where the run completed (`RunRow::stuck`): out of
        // those runs, not all.
        (
            "stuck",
            Fraction {
                k: rows.iter().filter(|r| r.stuck.is_some_and(|n| n > 0)).count() as u64,
                n: rows.iter().filter(|r| r.stuck.is_some()).count() as u64,
            },
        ),
        ("expectations_met", count(&|r| r.expectations_failed == 0 && r.outcome == Outcome::Completed)),
        ("visited_closing", count(&|r| r.visited_closing > 0)),
        ("visited_time_wait", count(&|r| r.visited_time_wait > 0)),
        ("visited_fin_wait_2", count(&|r| r.visited_fin_wait_2 > 0)),
    ];
    let mut close: Vec<u64> = rows.iter().filter_map(|r| r.close_ns).collect();
    close.sort_unstable();
    let retrans: u128 = rows.iter().map(|r| u128::from(r.retransmissions)).sum();
    PointSummary {
        values,
        runs: n,
        outcomes,
        close_ns_median: percentile(&close, 50),
        close_ns_p95: percentile(&close, 95),
        retransmissions_mean_milli: if n == 0 { 0 } else { (retrans * 1000 / u128::from(n)) as u64 },
        failing_runs: rows.iter().filter(|r| r.failed()).map(|r| r.run).collect(),
        measures: Vec::new(),
        hit_limit: rows.iter().filter(|r| r.outcome != Outcome::Completed).count() as u64,
    }
}

/// Summarizes every grid point that has runs. `columns` are the swept
/// fields, `points[p]` the values of point `p` (as written), and each
/// row's `point` indexes `points`.
pub fn summarize_points(columns: &[String], points: &[Vec<String>], rows: &[RunRow]) -> Vec<PointSummary> {
    summarize_points_measured(columns, points, rows, &[], &[])
}

/// As [`summarize_points`], with the summaries of the measures `measures`
/// names (the rows' measure cells, in order; `proportions` as in
/// [`summarize_measured`]).
pub fn summarize_points_measured(
    columns: &[String],
    points: &[Vec<String>],
    rows: &[RunRow],
    measures: &[String],
    proportions: &[bool],
) -> Vec<PointSummary> {
    let mut by_point: Vec<Vec<&RunRow>> = vec![Vec::new(); points.len()];
    for row in rows {
        by_point[row.point].push(row);
    }
    let mut out: Vec<PointSummary> = by_point
        .iter()
        .zip(points)
        .filter(|(point_rows, _)| !point_rows.is_empty())
        .map(|(point_rows, values)| {
            let values = columns.iter().cloned().zip(values.iter().cloned()).collect();
            summarize_measured(values, point_rows, measures, proportions)
        })
        .collect();
    // A name seen at any grid point is listed at every one, as 0/n where
    // no run had it: an absent line would hide a zero.
    for m in 0..measures.len() {
        let mut seen: Vec<String> = Vec::new();
        for p in &out {
            if let MeasureSummary::Categories(values) = &p.measures[m].1 {
                seen.extend(values.iter().map(|(v, _)| v.clone()));
            }
        }
        seen.sort();
        seen.dedup();
        for p in &mut out {
            if let MeasureSummary::Categories(values) = &mut p.measures[m].1 {
                let n = values.first().map_or(0, |(_, f)| f.n);
                for v in &seen {
                    if !values.iter().any(|(x, _)| x == v) {
                        values.push((v.clone(), Fraction { k: 0, n }));
                    }
                }
                values.sort_by(|a, b| a.0.cmp(&b.0));
            }
        }
    }
    out
}

/// The summary as a table for people.
pub fn summary_table(points: &[PointSummary]) -> String {
    let mut out = String::new();
    for p in points {
        let label = if p.values.is_empty() {
            "all runs".to_string()
        } else {
            p.values.iter().map(|(c, v)| format!("{c}={v}")).collect::<Vec<_>>().join(" ")
        };
        let _ = writeln!(out, "{label}  ({})", crate::report::count(p.runs, "run"));
        for (name, f) in &p.outcomes {
            let (lo, hi) = f.interval();
            let count = format!("({}/{})", f.k, f.n);
            let _ = writeln!(
                out,
                "  {name:<20} {:>7.3}  [{lo:.3}, {hi:.3}]  {count:<11}  {}",
                f.value(),
                outcome_scope(name)
            );
        }
        let _ = writeln!(
            out,
            "  {:<20} median {}  p95 {}",
            "close_ms",
            p.close_ns_median.map_or("-".into(), ms),
            p.close_ns_p95.map_or("-".into(), ms)
        );
        let _ = writeln!(
            out,
            "  {:<20} {}.{:03} per run",
            "retransmissions",
            p.retransmissions_mean_milli / 1000,
            p.retransmissions_mean_milli % 1000
        );
        if p.hit_limit > 0 && !p.measures.is_empty() {
            // The measures of a run a limit stopped are of a partial run.
            let _ = writeln!(
                out,
                "  {:<20} {} of {} hit a limit (CSV `outcome`); their measures are of a partial run",
                "hit_limit",
                p.hit_limit,
                crate::report::count(p.runs, "run")
            );
        }
        for (name, m) in &p.measures {
            measure_lines(&mut out, name, m);
        }
    }
    out
}

/// A number for the summary table: at most 3 decimals, and no more digits
/// than it has.
fn num(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_string() } else { s.to_string() }
}

/// One measure's lines in the summary table.
fn measure_lines(out: &mut String, name: &str, m: &MeasureSummary) {
    let fraction = |out: &mut String, label: &str, f: &Fraction| {
        let (lo, hi) = f.interval();
        let _ = writeln!(out, "  {label:<20} {:>7.3}  [{lo:.3}, {hi:.3}]  ({}/{})", f.value(), f.k, f.n);
    };
    match m {
        MeasureSummary::Proportion(f) => fraction(out, name, f),
        MeasureSummary::Categories(values) => {
            for (v, f) in values {
                fraction(out, &format!("{name}={v}"), f);
            }
        }
        MeasureSummary::Numbers(s) => {
            // One value has no t-interval.
            let ci = s.ci95.map_or("[n/a]".to_string(), |(lo, hi)| format!("[{}, {}]", num(lo), num(hi)));
            let _ = writeln!(
                out,
                "  {name:<20} mean {}  {ci}  median {}  p5 {}  p95 {}  (n={})",
                num(s.mean),
                num(s.median),
                num(s.p5),
                num(s.p95),
                s.n
            );
        }
        MeasureSummary::Empty => {
            let _ = writeln!(out, "  {name:<20} no run had a value");
        }
    }
}

/// One measure's summary as a JSON object.
fn measure_json(m: &MeasureSummary) -> String {
    let fraction = |f: &Fraction| {
        let (lo, hi) = f.interval();
        format!("{{\"k\":{},\"n\":{},\"fraction\":{:.6},\"wilson95\":[{lo:.6},{hi:.6}]}}", f.k, f.n, f.value())
    };
    match m {
        MeasureSummary::Proportion(f) => format!("{{\"kind\":\"proportion\",\"value\":{}}}", fraction(f)),
        MeasureSummary::Categories(values) => {
            let parts: Vec<String> =
                values.iter().map(|(v, f)| format!("{}:{}", crate::trace::json_str(v), fraction(f))).collect();
            format!("{{\"kind\":\"categories\",\"values\":{{{}}}}}", parts.join(","))
        }
        MeasureSummary::Numbers(s) => format!(
            "{{\"kind\":\"numbers\",\"n\":{},\"mean\":{},\"t95\":{},\"median\":{},\"p5\":{},\"p95\":{}}}",
            s.n,
            s.mean,
            s.ci95.map_or("null".to_string(), |(lo, hi)| format!("[{lo},{hi}]")),
            s.median,
            s.p5,
            s.p95
        ),
        MeasureSummary::Empty => "{\"kind\":\"empty\"}".to_string(),
    }
}

/// The summary as JSON for scripts.
pub fn summary_json(points: &[PointSummary], header: &[(String, String)]) -> String {
    let q = crate::trace::json_str;
    let mut s = String::from("{");
    for (k, v) in header {
        let _ = write!(s, "{}:{},", q(k), q(v));
    }
    s.push_str("\"points\":[");
    for (i, p) in points.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str("{\"values\":{");
        for (j, (c, v)) in p.values.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            let _ = write!(s, "{}:{}", q(c), q(v));
        }
        let _ = write!(s, "}},\"runs\":{},\"hit_limit\":{},\"outcomes\":{{", p.runs, p.hit_limit);
        for (j, (name, f)) in p.outcomes.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            let (lo, hi) = f.interval();
            let _ = write!(
                s,
                "\"{name}\":{{\"k\":{},\"n\":{},\"fraction\":{:.6},\"wilson95\":[{lo:.6},{hi:.6}]}}",
                f.k,
                f.n,
                f.value()
            );
        }
        let num = |x: Option<u64>| x.map_or("null".to_string(), ms);
        let _ = write!(
            s,
            "}},\"close_ms_median\":{},\"close_ms_p95\":{},\"retransmissions_mean\":{}.{:03},\"failing_runs\":{:?}}}",
            num(p.close_ns_median),
            num(p.close_ns_p95),
            p.retransmissions_mean_milli / 1000,
            p.retransmissions_mean_milli % 1000,
            p.failing_runs
        );
        if !p.measures.is_empty() {
            s.pop();
            s.push_str(",\"measures\":{");
            let parts: Vec<String> = p.measures.iter().map(|(n, m)| format!("{}:{}", q(n), measure_json(m))).collect();
            s.push_str(&parts.join(","));
            s.push_str("}}");
        }
    }
    s.push_str("]}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `RESET` at one grid point only: the other lists it as 0/2, with
    /// its Wilson interval [0, 0.658] (k = 0, n = 2, z = 1.959964:
    /// high = z² / (n + z²) = 3.841459 / 5.841459 = 0.6576).
    #[test]
    fn a_category_absent_at_a_point_is_listed_as_zero() {
        let row = |point: usize, cell: &str| RunRow { point, measures: vec![cell.to_string()], ..RunRow::EMPTY };
        let rows = [row(0, "NORMAL"), row(0, "RESET"), row(1, "NORMAL"), row(1, "NORMAL")];
        let points = vec![vec!["0".to_string()], vec!["1".to_string()]];
        let s = summarize_points_measured(&["x".into()], &points, &rows, &["r".into()], &[false]);
        let MeasureSummary::Categories(values) = &s[1].measures[0].1 else { panic!() };
        assert_eq!(values[1], ("RESET".to_string(), Fraction { k: 0, n: 2 }));
        assert!((values[1].1.interval().1 - 3.841459 / 5.841459).abs() < 1e-6);
    }

    #[test]
    fn grid_varies_the_last_axis_fastest() {
        let axis = |n: usize| Axis { column: "x".into(), values: (0..n).map(|i| (i.to_string(), vec![])).collect() };
        assert_eq!(grid(&[axis(2), axis(3)]).len(), 6);
        assert_eq!(grid(&[axis(2), axis(3)])[1], vec![0, 1]);
        assert_eq!(grid(&[]), vec![Vec::<usize>::new()]);
    }

    #[test]
    fn run_seeds_are_fixed_and_distinct() {
        assert_eq!(run_seed(1, 0), run_seed(1, 0));
        assert_ne!(run_seed(1, 0), run_seed(1, 1));
        assert_ne!(run_seed(1, 0), run_seed(2, 0));
    }

    #[test]
    fn wilson_interval_matches_known_values() {
        let (lo, hi) = wilson(5, 10);
        assert!((lo - 0.2366).abs() < 1e-4 && (hi - 0.7634).abs() < 1e-4, "{lo} {hi}");
        let (lo, hi) = wilson(0, 20);
        assert!(lo == 0.0 && (hi - 0.1611).abs() < 1e-4, "{hi}");
    }

    /// `stuck` is counted only for completed runs (a limit may stop
    /// endpoints anywhere), so its denominator is the runs that completed:
    /// an incomplete run is neither stuck nor "not stuck".
    #[test]
    fn stuck_fraction_is_over_the_runs_that_completed() {
        let run = |outcome, stuck| RunRow { outcome, stuck, ..RunRow::EMPTY };
        let rows = [
            run(Outcome::Completed, Some(2)),
            run(Outcome::Completed, Some(0)),
            run(Outcome::EventLimit, None),
            run(Outcome::TimeLimit, None),
        ];
        let summary = summarize(Vec::new(), &rows.iter().collect::<Vec<_>>());
        let stuck = summary.outcomes.iter().find(|(name, _)| *name == "stuck").unwrap().1;
        assert_eq!((stuck.k, stuck.n), (1, 2));
        let reset = summary.outcomes.iter().find(|(name, _)| *name == "reset").unwrap().1;
        assert_eq!(reset.n, 4, "the other rows still count every run");
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<u64> = (1..=20).collect();
        assert_eq!(percentile(&v, 50), Some(10));
        assert_eq!(percentile(&v, 95), Some(19));
        assert_eq!(percentile(&[], 50), None);
    }
}
