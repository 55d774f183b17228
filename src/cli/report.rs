//! `tcpsim report FILE --out PAGE.html`: one run as a self-contained HTML
//! page (run header and settings, endpoint table, expectations, and per
//! connection the ladder, time-sequence graphs, series plot and state
//! diagram, then the digest and the replay command). The page itself is
//! `tcpsim::html`'s; this module runs the simulation and writes the file.

use super::output::{Dest, check_distinct};
use super::shared::{connection_numbers, interrupt_flag, load_with_overrides, replay_line};
use super::{EXIT_BAD_INPUT, EXIT_EXPECT_FAILED, EXIT_INCOMPLETE, EXIT_OK, ReportArgs, error};
use std::io::Write;
use tcpsim::html::figures::{ConnRun, connection_figures};
use tcpsim::html::{self, LeftOut, Page};
use tcpsim::measure::conn::Collector;
use tcpsim::measure::conn_table;
use tcpsim::measure::series::Series;
use tcpsim::pictures::ladder::LadderRecorder;
use tcpsim::report;
use tcpsim::tcp::State;
use tcpsim::trace::{Filter, TraceEvent, TraceKind, TraceSink, WithoutMeasurements};
use tcpsim::world::Outcome;

/// The most endpoint rows the page's table lists; `run --connections`
/// writes them all.
const TABLE_ROWS_MAX: usize = 400;

pub fn report(args: &ReportArgs) -> u8 {
    let label = args.sim.file.path.display().to_string();
    if args.max_connections == 0 {
        error("--max-connections 0: expected at least 1");
        return EXIT_BAD_INPUT;
    }
    let Some(sim) = load_with_overrides(&args.sim, args.loss.loss.as_deref()) else {
        return EXIT_BAD_INPUT;
    };
    let model = sim.model();
    let count = model.connection_count();
    let drawn: Vec<u32> = match args.conn {
        Some(c) if u64::from(c) < count => vec![c],
        Some(c) => {
            let choose = match count {
                0 => String::new(),
                1 => "; choose it with --conn 0".to_string(),
                n => format!("; choose one with --conn 0 to --conn {}", n - 1),
            };
            error(&format!("--conn {c}: the scenario has {}{choose}", connection_numbers(count)));
            return EXIT_BAD_INPUT;
        }
        None => (0..count.min(u64::from(args.max_connections)) as u32).collect(),
    };
    let outputs = [("--out", args.out.as_deref())];
    if let Err(e) = check_distinct(&outputs, &[("the simulation file itself", &args.sim.file.path)]) {
        error(&e);
        return EXIT_BAD_INPUT;
    }
    // Install the handler before the temp file exists, so an interrupt can
    // never leave one behind.
    let stop = interrupt_flag();
    let dest = match Dest::open_flag("--out", args.out.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    };
    let header = report::header_lines(model, &label);
    let seed = model.seed;
    let scenario = model.name.clone();
    let mut sinks = Sinks {
        pictures: drawn.iter().map(|&c| LadderRecorder::new(c)).collect(),
        collector: Collector::new(),
        series: Series::new(&Filter::default()),
        transitions: Vec::new(),
    };
    let finished = sim.measure_records(true).run_until(&mut sinks, &stop);
    if finished.outcome != Outcome::Completed {
        drop(dest); // the temp file is removed, an existing page untouched
        error(&format!("{label}: run incomplete: {}; no page written", incomplete_reason(&finished)));
        return EXIT_INCOMPLETE;
    }
    let results = sinks.collector.finish(&finished.world);
    let (names, mut rows) = conn_table::table_cells(&results);
    let table_left_out = rows.len().saturating_sub(TABLE_ROWS_MAX);
    rows.truncate(TABLE_ROWS_MAX);
    let connections = sinks
        .pictures
        .iter()
        .map(|rec| {
            connection_figures(&ConnRun {
                conn: rec.conn(),
                events: &rec.events,
                rows: sinks.series.rows(),
                transitions: &sinks.transitions,
                scenario: &scenario,
                seed,
            })
        })
        .collect();
    let summary = finished.summary();
    let page = Page {
        scenario,
        seed,
        header,
        summary: summary.line(),
        table: (names, rows),
        table_left_out,
        checks: finished.checks.clone(),
        connections,
        left_out: left_out(args, &label, count, drawn.len()),
        digest: summary.digest.clone(),
        replay: replay_line(&args.sim, seed, args.loss.loss.as_deref()),
    };
    let mut dest = dest;
    if let Err(e) = dest.write_all(html::page_html(&page).as_bytes()).and_then(|()| dest.commit()) {
        error(&format!("--out: writing the page failed: {e}"));
        return EXIT_INCOMPLETE;
    }
    if finished.failed_checks().next().is_none() {
        EXIT_OK
    } else {
        for c in finished.failed_checks() {
            stderrln!("{label}: expectation failed: {}", c.describe());
        }
        stderrln!("replay: {}", page.replay);
        EXIT_EXPECT_FAILED
    }
}

/// Why a run did not complete, and how to let it.
fn incomplete_reason(finished: &tcpsim::simulation::Finished) -> String {
    let limits = finished.world.model().limits;
    match finished.outcome {
        Outcome::EventLimit => {
            format!("the run hit max_events ({}); raise it with --set limits.max_events=N", limits.max_events)
        }
        Outcome::TimeLimit => {
            format!("the run reached max_time ({} ms); raise it with --set limits.max_time_ms=MS", limits.max_time)
        }
        Outcome::InFlightLimit => {
            format!("more than {} segments in flight at once; raise limits.max_in_flight", limits.max_in_flight)
        }
        Outcome::TraceLimit => {
            format!("the trace passed {} records; raise limits.max_trace_records", limits.max_trace_records)
        }
        other => other.name().to_string(),
    }
}

/// The connections not drawn, and how to see one.
fn left_out(args: &ReportArgs, label: &str, count: u64, drawn: usize) -> Option<LeftOut> {
    (args.conn.is_none() && (drawn as u64) < count).then(|| LeftOut {
        first: drawn as u64,
        total: count,
        command: format!("tcpsim report {label} --conn N --out PAGE.html"),
        limit: format!("--max-connections {}", args.max_connections),
    })
}

/// Where the run's events go: the pictures' recorders (without the
/// measurement records, as `run`'s pictures), the per-endpoint results and
/// the series (with them).
struct Sinks {
    pictures: Vec<LadderRecorder>,
    collector: Collector,
    series: Series,
    /// Every transition as (ep, from, to), for the state diagrams.
    transitions: Vec<(u32, State, State)>,
}

/// The recorders, behind [`WithoutMeasurements`].
struct Pictures<'a>(&'a mut [LadderRecorder]);

impl TraceSink for Pictures<'_> {
    fn record(&mut self, e: &TraceEvent<'_>) {
        for r in self.0.iter_mut() {
            r.record(e);
        }
    }
}

impl TraceSink for Sinks {
    fn record(&mut self, e: &TraceEvent<'_>) {
        WithoutMeasurements(&mut Pictures(&mut self.pictures)).record(e);
        self.collector.record(e);
        self.series.record(e);
        if let TraceKind::Transition { from, to, .. } = e.kind {
            self.transitions.push((e.ep, from, to));
        }
    }
}
