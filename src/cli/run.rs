//! `tcpsim run FILE`: one simulation, its trace, its expectations.

use super::output::{Dest, check_distinct, default_on_stdout, given_on_stdout, use_color};
use super::shared::{interrupt_flag, load_with_overrides, replay_line};
use super::{
    EXIT_BAD_INPUT, EXIT_EXPECT_FAILED, EXIT_INCOMPLETE, EXIT_NONDETERMINISM, EXIT_OK, Format, PcapSide, RunArgs,
    error, millis,
};
use std::collections::BTreeSet;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use tcpsim::determinism;
use tcpsim::measure::conn::{Collector, EndpointResult};
use tcpsim::measure::conn_table;
use tcpsim::measure::series::Series;
use tcpsim::model::Model;
use tcpsim::pcap::{CaptureSide, PcapWriter};
use tcpsim::pictures::{
    self, Window,
    ladder::{IsnLog, LadderRecorder},
    series_plot,
};
use tcpsim::replay;
use tcpsim::report;
use tcpsim::scenario::edit::exact_ms;
use tcpsim::simulation::{Finished, Simulation};
use tcpsim::time::Instant;
use tcpsim::trace::{self, Filtered, JsonlWriter, NO_CONN, Recorder, TextWriter, TraceSink, WithoutMeasurements};
use tcpsim::world::{Histories, Outcome, World};

/// The command that replays this run.
pub fn replay_command(args: &RunArgs, seed: u64) -> String {
    replay_line(&args.sim, seed, args.loss.loss.as_deref())
}

/// A command-line virtual time in milliseconds.
fn instant(flag: &str, ms: f64) -> Result<Instant, String> {
    Ok(Instant::ZERO + millis(flag, ms, false)?)
}

fn filter(args: &RunArgs, model: &Model) -> Result<trace::Filter, String> {
    let total = model.connection_count() + model.listeners.len() as u64;
    if let Some(c) = args.conn
        && u64::from(c) >= total
    {
        let count = model.connection_count();
        let idle = match total - count {
            0 => String::new(),
            1 => format!(" (a listener idle in LISTEN is number {count})"),
            _ => format!(" (listeners idle in LISTEN are numbers {count} to {})", total - 1),
        };
        return Err(format!("--conn {c}: the scenario has {}{idle}", super::shared::connection_numbers(count)));
    }
    // Text labels (`STATE`) name the same kinds as record names; words
    // are trimmed (`--kinds 'state, cwnd'`). The records every run ends
    // with are always shown, so naming them asks for nothing more.
    let kinds = args.kinds.as_ref().map(|kinds| {
        kinds
            .iter()
            .map(|k| k.trim())
            .filter(|k| !ALWAYS_SHOWN.iter().any(|a| a.eq_ignore_ascii_case(k)))
            .map(|k| {
                trace::TraceKind::named(k).map(str::to_string).ok_or_else(|| {
                    format!("--kinds: unknown kind `{k}`; expected some of {}", trace::TraceKind::listing())
                })
            })
            .collect::<Result<Vec<_>, _>>()
    });
    let from = args.from_ms.map(|ms| instant("--from-ms", ms)).transpose()?;
    let to = args.to_ms.map(|ms| instant("--to-ms", ms)).transpose()?;
    if let (Some(f), Some(t), Some(from_ms), Some(to_ms)) = (from, to, args.from_ms, args.to_ms)
        && t < f
    {
        return Err(format!("--from-ms {from_ms} is after --to-ms {to_ms}: the window would be empty"));
    }
    Ok(trace::Filter { conn: args.conn, endpoint: args.endpoint.clone(), kinds: kinds.transpose()?, from, to })
}

pub fn run(args: &RunArgs) -> u8 {
    let label = args.sim.file.path.display().to_string();
    let Some(mut sim) = load_with_overrides(&args.sim, args.loss.loss.as_deref()) else {
        return EXIT_BAD_INPUT;
    };
    if let Some(n) = args.max_events {
        if n == 0 {
            error("--max-events 0: expected at least 1");
            return EXIT_BAD_INPUT;
        }
        if !set_limit(&mut sim, "limits.max_events", &n.to_string(), &label) {
            return EXIT_BAD_INPUT;
        }
    }
    if let Some(ms) = args.max_time_ms {
        // 0 is a limit, as `limits.max_time_ms: 0` is: the events at time
        // 0 run, and the run stops there with events left (exit 3).
        let max_time = match instant("--max-time-ms", ms) {
            Ok(t) => t,
            Err(e) => {
                error(&e);
                return EXIT_BAD_INPUT;
            }
        };
        let value = exact_ms(max_time.saturating_since(Instant::ZERO));
        if !set_limit(&mut sim, "limits.max_time_ms", &value, &label) {
            return EXIT_BAD_INPUT;
        }
    }
    if args.check_determinism {
        return check_determinism(sim, args, &label);
    }
    let filter = match filter(args, sim.model()) {
        Ok(f) => f,
        Err(e) => {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    };
    if let Err(e) = check_measure_flags(args, sim.model()) {
        error(&e);
        return EXIT_BAD_INPUT;
    }
    let others = [
        ("--pcap", args.pcap.as_deref()),
        ("--svg", args.svg.as_deref()),
        ("--tsg", args.tsg.as_deref()),
        ("--series-plot", args.series_plot.as_deref()),
        ("--state-diagram", args.state_diagram.as_deref()),
        ("--emit-faults", args.emit_faults.as_deref()),
        ("--connections", args.connections.as_deref()),
        ("--series", args.series.as_deref()),
    ];
    let trace_on_stderr = trace_on_stderr(args, &others);
    let mut outputs = vec![match trace_on_stderr {
        true => ("the trace (stderr, as stdout is taken; no --out)", Some(Path::new("/dev/stderr"))),
        false => default_on_stdout("--out", args.out.as_deref(), "the trace (stdout, no --out)"),
    }];
    outputs.extend(others);
    if let Err(e) = check_distinct(&outputs, &[("the simulation file itself", &args.sim.file.path)]) {
        error(&e);
        return EXIT_BAD_INPUT;
    }
    // The ladder and the time-sequence graph show --conn, or the
    // connection of --endpoint, or connection 0; `filter` checked --conn.
    let svg_conn = match picture_conn(args, sim.model()) {
        Ok(c) => c,
        Err(e) => {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    };
    // Install the handler before any temp file exists, so an interrupt can
    // never leave one behind.
    let stop = interrupt_flag();
    let opened = match trace_on_stderr {
        true => Ok(Dest::Stderr(std::io::stderr())),
        false => Dest::open_flag("--out", args.out.as_deref()),
    };
    let dest = match opened {
        Ok(d) => d,
        Err(e) => {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    };
    // The replay file of --emit-faults is the file's text, pinned.
    let replay_text = match (&args.emit_faults, sim.text()) {
        (None, _) => None,
        (Some(_), Some(text)) => Some(text.to_string()),
        (Some(_), None) => {
            error(&format!("--emit-faults: {label} has no file text to write a replay from"));
            return EXIT_BAD_INPUT;
        }
    };
    let mut extras = match Extras::open(args, svg_conn, replay_text, &filter) {
        Ok(x) => x,
        Err(e) => {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    };
    let color = args.format != Format::Jsonl && use_color(args.color, &dest);
    let model = sim.model();
    let seed = model.seed;
    let header = report::header_lines(model, &label);
    let width = model
        .connections
        .iter()
        .flat_map(|c| std::iter::once(c.name.len()).chain(c.peer.iter().map(|p| p.name.len())))
        .chain(model.listeners.iter().map(|l| l.name.len()))
        .chain(model.hosts.iter().map(|h| h.name.len()))
        .max()
        .unwrap_or(8);
    let histories =
        if shows_paths(args) && model.connection_count() <= ALL_PATHS_UP_TO { Histories::All } else { Histories::None };
    let sim = sim.record_fates(args.emit_faults.is_some()).keep_histories(histories).measure_records(measures(args));
    #[allow(clippy::disallowed_methods, reason = "wall-clock figures for --stats only, never in the trace")]
    let started = std::time::Instant::now();

    let buffered = BufWriter::with_capacity(1 << 16, dest);
    let mut trace = match args.format {
        Format::Text => TraceOut::Text(TextWriter::new(buffered, width, color)),
        Format::Jsonl => TraceOut::Jsonl(JsonlWriter::new(buffered)),
        Format::Ladder => {
            TraceOut::Ladder(TextWriter::new(buffered, width, color), Recorder::default(), IsnLog::default())
        }
    };
    if !args.quiet {
        trace.begin(&header);
    }
    let (sink, isns) = trace.sinks();
    let finished = run_traced(sim, sink, isns, args, &filter, &mut extras, &stop);
    // --connections and its table show the endpoints --conn and
    // --endpoint choose, as --series does.
    let results = extras.collector.take().map(|c| {
        let mut r = c.finish(&finished.world);
        r.retain(|r| {
            filter.conn.is_none_or(|c| c == r.conn) && filter.endpoint.as_deref().is_none_or(|n| n == r.endpoint)
        });
        r
    });
    let table = if args.connections_table { results.as_deref() } else { None };
    let written = trace.end(&finished, &header, &filter, args, color, table);
    let (world, outcome) = (&finished.world, finished.outcome);
    let elapsed = started.elapsed();
    if args.stats {
        print_stats(world, elapsed);
    }
    if args.coverage {
        stderr!("{}", tcpsim::report::coverage_report(world.coverage()));
    }
    let dest = match written {
        Ok(d) => d,
        Err(e) => {
            error(&format!("writing the trace failed: {e}"));
            return EXIT_INCOMPLETE;
        }
    };
    // The extra files are complete only if the run is; an incomplete run
    // drops them, which removes their temp files. A run a limit stopped
    // still writes --connections and --series, marked as partial.
    let limited =
        matches!(outcome, Outcome::EventLimit | Outcome::TimeLimit | Outcome::InFlightLimit | Outcome::TraceLimit);
    let extra_dests = if outcome == Outcome::Completed || outcome == Outcome::OutputFailed {
        match extras.finish(world, args, results.as_deref()) {
            Ok(d) => d,
            Err(e) => {
                error(&e);
                return EXIT_INCOMPLETE;
            }
        }
    } else if limited {
        match extras.finish_partial(outcome, results.as_deref()) {
            Ok(d) => d,
            Err(e) => {
                error(&e);
                return EXIT_INCOMPLETE;
            }
        }
    } else {
        Vec::new()
    };
    if outcome != Outcome::Completed {
        drop(dest); // a temp file is removed, an existing target untouched
        for (flag, d) in extra_dests {
            match d.commit() {
                Ok(()) => {
                    stderrln!("{flag}: written with the partial results of the incomplete run ({})", outcome.name())
                }
                Err(e) => error(&format!("{flag}: writing failed: {e}")),
            }
        }
        error(&format!("{label}: run incomplete: {}", incomplete_reason(&finished)));
        return EXIT_INCOMPLETE;
    }
    for (flag, d) in extra_dests {
        if let Err(e) = d.commit() {
            error(&format!("{flag}: writing failed: {e}"));
            return EXIT_INCOMPLETE;
        }
    }
    if let Err(e) = dest.commit() {
        error(&format!("writing the trace failed: {e}"));
        return EXIT_INCOMPLETE;
    }
    if finished.failed_checks().next().is_none() {
        EXIT_OK
    } else {
        for c in finished.failed_checks() {
            stderrln!("{label}: expectation failed: {}", c.describe());
        }
        stderrln!("replay: {}", replay_command(args, seed));
        EXIT_EXPECT_FAILED
    }
}

/// The measures' flags, checked before the run: an `--endpoint` that
/// names no endpoint is bad input whatever the outputs; `--series` is CSV
/// only; `--connections-table` ends a text trace, so it needs
/// `--format text`. `--kinds` naming measurement records without
/// `--measurements` gets a note on stderr.
fn check_measure_flags(args: &RunArgs, model: &Model) -> Result<(), String> {
    if let Some(name) = args.endpoint.as_deref() {
        let names: Vec<&str> = model.endpoint_names();
        // A host's name matches its crash and restart records.
        if !names.contains(&name) && !model.hosts.iter().any(|h| h.name == name) {
            return Err(format!(
                "--endpoint {name}: no endpoint is named {name:?} (the scenario's: {})",
                names.join(", ")
            ));
        }
    }
    if let Some(p) = &args.series
        && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        return Err(format!("--series {}: the series is written as CSV only; name a .csv file", p.display()));
    }
    if args.connections_table && args.format != Format::Text {
        return Err(format!(
            "--connections-table with --format {}: the table ends a text trace; use --format text, or --connections FILE",
            if args.format == Format::Jsonl { "jsonl" } else { "ladder" }
        ));
    }
    let measured = ["rtt", "flight", "queue"];
    if !args.measurements
        && let Some(k) = args.kinds.iter().flatten().find(|k| measured.contains(&k.as_str()))
    {
        stderrln!(
            "tcpsim: note: --kinds {k}: `{k}` records are measurement records, shown only with --measurements (`rtt` also for endpoints with timestamps)"
        );
    }
    Ok(())
}

/// Runs with this many connections or fewer keep every endpoint's
/// history, so the text trace's path summary shows each one's states;
/// bigger runs show only the final state of the endpoints no `expect`
/// names, which keeps their memory small.
const ALL_PATHS_UP_TO: u64 = 64;

/// Whether the run traces the measurement records: shown (--measurements)
/// or read by the per-endpoint results or the series.
fn measures(args: &RunArgs) -> bool {
    args.measurements
        || args.connections.is_some()
        || args.connections_table
        || args.series.is_some()
        || args.series_plot.is_some()
}

/// The connection `--svg` and `--tsg` draw: `--conn`; else the first
/// connection with an endpoint named `--endpoint` (a connection's client
/// or peer, or a listener's endpoints: the first connection to its
/// address); else connection 0.
fn picture_conn(args: &RunArgs, model: &Model) -> Result<u32, String> {
    if args.svg.is_none() && args.tsg.is_none() {
        return Ok(0);
    }
    let flag = if args.svg.is_some() { "--svg" } else { "--tsg" };
    if model.connection_count() + model.listeners.len() as u64 == 0 {
        return Err(format!("{flag}: the scenario has no connection to draw"));
    }
    if let Some(c) = args.conn {
        return Ok(c);
    }
    let Some(name) = args.endpoint.as_deref() else {
        return Ok(0);
    };
    let mut first = 0u64;
    for c in &model.connections {
        let listener =
            model.listeners.iter().any(|l| l.name == name && l.host == c.remote_host && l.port == c.remote_port);
        if c.count > 0 && (c.name == name || c.peer.as_ref().is_some_and(|p| p.name == name) || listener) {
            return u32::try_from(first).map_err(|_| format!("--endpoint {name}: connection {first} is too large"));
        }
        first += u64::from(c.count);
    }
    Err(format!("{flag}: no connection has an endpoint named {name:?} (--endpoint); name one with --conn"))
}

/// Whether the trace goes to stderr: it goes to `--out`, else to stdout,
/// unless another output takes stdout (`--pcap -`, `--connections
/// /dev/stdout`). A text or ladder trace, read by people, then goes to
/// stderr, as a sweep's summary table does when its CSV is on stdout, so
/// `tcpsim run F --quiet --pcap - | tshark -r -` reads a whole capture and
/// nothing else. A JSONL trace is data for a program and stays on stdout,
/// where the clash is refused ([`check_distinct`]).
fn trace_on_stderr(args: &RunArgs, others: &[(&str, Option<&Path>)]) -> bool {
    args.out.is_none() && given_on_stdout(others.iter().map(|&(_, p)| p)) && args.format != Format::Jsonl
}

/// Whether the trace ends with the path summary: a text trace, not quiet.
fn shows_paths(args: &RunArgs) -> bool {
    args.format == Format::Text && !args.quiet
}

/// Sets a limit the command line gives in the simulation's model and its
/// text alike (the replay of --emit-faults keeps it); prints the errors
/// and returns false on bad input.
fn set_limit(sim: &mut Simulation, path: &str, value: &str, label: &str) -> bool {
    match sim.set(path, value) {
        Ok(()) => true,
        Err(errors) => {
            for e in errors {
                stderrln!("{}", e.render(label));
            }
            false
        }
    }
}

/// Why a run did not complete, and how to let it.
fn incomplete_reason(finished: &Finished) -> String {
    let limits = finished.world.model().limits;
    match finished.outcome {
        Outcome::EventLimit => format!(
            "the run hit max_events ({}) at {} ms; raise it with --max-events",
            limits.max_events,
            finished.world.now()
        ),
        Outcome::TimeLimit => {
            format!("the run reached max_time ({} ms) with events left; raise it with --max-time-ms", limits.max_time)
        }
        Outcome::Interrupted => "interrupted".to_string(),
        Outcome::OutputFailed => "writing the trace failed".to_string(),
        Outcome::InFlightLimit => {
            format!("more than {} segments in flight at once; raise limits.max_in_flight", limits.max_in_flight)
        }
        Outcome::TraceLimit => {
            format!("the trace passed {} records; raise limits.max_trace_records", limits.max_trace_records)
        }
        Outcome::Completed => unreachable!("only incomplete runs have a reason"),
    }
}

/// `--check-determinism`: the run and its perturbed twin, record by
/// record. Once they agree, the run's own result decides the exit code as
/// a plain run's does (3 for a limit, 1 for a failed expectation), and
/// `--stats` and `--coverage` report it; a divergence (exit 4) wins.
fn check_determinism(sim: Simulation, args: &RunArgs, label: &str) -> u8 {
    let seed = sim.model().seed;
    #[allow(clippy::disallowed_methods, reason = "wall-clock figures for --stats only, never in the trace")]
    let started = std::time::Instant::now();
    match determinism::check_run(sim.measure_records(args.measurements)) {
        Ok((agreed, finished)) => {
            let line = format!(
                "determinism: ok: {} trace records identical with hasher seeds, slot reuse, heap addresses and prefetching changed (outcome {}, digest {})",
                agreed.records,
                agreed.outcome.name(),
                agreed.digest
            );
            // In JSONL mode stdout carries only JSON records.
            if args.format == Format::Jsonl {
                stderrln!("{line}");
            } else {
                let _ = writeln!(std::io::stdout(), "{line}");
            }
            // The wall-clock figures cover both runs, which go in lockstep.
            if args.stats {
                print_stats(&finished.world, started.elapsed());
            }
            if args.coverage {
                stderr!("{}", tcpsim::report::coverage_report(finished.world.coverage()));
            }
            if finished.outcome != Outcome::Completed {
                error(&format!("{label}: run incomplete: {}", incomplete_reason(&finished)));
                return EXIT_INCOMPLETE;
            }
            if finished.failed_checks().next().is_none() {
                return EXIT_OK;
            }
            for c in finished.failed_checks() {
                stderrln!("{label}: expectation failed: {}", c.describe());
            }
            stderrln!("replay: {}", replay_command(args, seed));
            EXIT_EXPECT_FAILED
        }
        Err(d) => {
            let mut err = std::io::stderr().lock();
            let _ =
                writeln!(err, "{label}: error: nondeterminism: the traces differ at record {} (seed {seed})", d.record);
            for e in &d.context {
                let _ = writeln!(err, "  {}", e.json());
            }
            let show = |e: &Option<tcpsim::trace::OwnedEvent>| {
                e.as_ref().map_or("(the run had ended)".to_string(), |e| e.json())
            };
            let _ = writeln!(err, "- {}  (normal run)", show(&d.normal));
            let _ = writeln!(err, "+ {}  (perturbed run)", show(&d.perturbed));
            EXIT_NONDETERMINISM
        }
    }
}

/// Record kinds `--kinds` never filters out: a run's open endpoints,
/// expectation results and summary.
pub const ALWAYS_SHOWN: [&str; 3] = ["summary", "expect", "open"];

/// Where the trace goes, by `--format`.
enum TraceOut {
    Text(TextWriter<BufWriter<Dest>>),
    Jsonl(JsonlWriter<BufWriter<Dest>>),
    /// The ladder needs a connection's whole history before it can lay it
    /// out, so the (filtered) events are kept, then drawn; the ISNs come
    /// from every event, so a window after the SYNs still numbers bytes
    /// relative to them.
    Ladder(TextWriter<BufWriter<Dest>>, Recorder, IsnLog),
}

impl TraceOut {
    /// Where the run's (filtered) events go, and what takes every event
    /// unfiltered (the ladder's ISNs).
    fn sinks(&mut self) -> (&mut dyn TraceSink, Option<&mut IsnLog>) {
        match self {
            TraceOut::Text(w) => (w, None),
            TraceOut::Jsonl(w) => (w, None),
            TraceOut::Ladder(_, kept, isns) => (kept, Some(isns)),
        }
    }

    /// What comes before the events: the text trace's header and columns.
    fn begin(&mut self, header: &[String]) {
        if let TraceOut::Text(w) = self {
            for line in header {
                w.line(&format!("# {line}"));
            }
            w.line(&w.header_line());
        }
    }

    /// What comes after the events (paths or ladders, open endpoints,
    /// expectations, summary, digest); returns the destination once
    /// everything is written.
    fn end(
        self,
        finished: &Finished,
        header: &[String],
        filter: &trace::Filter,
        args: &RunArgs,
        color: bool,
        table: Option<&[EndpointResult]>,
    ) -> Result<Dest, String> {
        let world = &finished.world;
        match self {
            TraceOut::Text(mut w) => {
                if shows_paths(args) {
                    w.line("#");
                    w.line("# paths:");
                    for l in report::path_lines(world, 40) {
                        w.line(&format!("#   {l}"));
                    }
                }
                text_tail(w, finished, filter, table)
            }
            TraceOut::Jsonl(mut w) => {
                let summary = finished.summary();
                for open in report::open_json(world, filter, summary.end_ns) {
                    w.line(&open);
                }
                for c in &finished.checks {
                    w.line(&report::check_json(c, summary.end_ns));
                }
                w.line(&summary.json());
                // People read stderr in JSONL mode: a run whose connections
                // never closed must say so there too (the records list them).
                if let Some(heading) = report::open_lines_shown(world, 0, filter).first() {
                    stderrln!("tcpsim: note: {heading} (the `open` records list them)");
                }
                w.finish().map_err(|e| e.to_string()).and_then(|b| b.into_inner().map_err(|e| e.to_string()))
            }
            TraceOut::Ladder(mut w, kept, isns) => {
                if !args.quiet {
                    for line in header {
                        w.line(&format!("# {line}"));
                    }
                    // Every connection that carried a segment, or the one
                    // asked for: a listener's idle endpoint alone is not
                    // worth a ladder.
                    let conns: BTreeSet<u32> = match args.conn {
                        Some(c) => BTreeSet::from([c]),
                        None => kept
                            .events
                            .iter()
                            .filter(|e| e.route.is_some() && e.conn != NO_CONN)
                            .map(|e| e.conn)
                            .collect(),
                    };
                    // A window (or filter) without a segment says so
                    // rather than drawing an empty ladder.
                    // (A connection asked for by `--conn` is drawn whenever
                    // it has events.)
                    let drawn =
                        |c: u32| kept.events.iter().any(|e| e.conn == c && (args.conn.is_some() || e.route.is_some()));
                    if conns.iter().all(|&c| !drawn(c)) {
                        w.line("");
                        let of = args.conn.map(|c| format!("connection {c}: ")).unwrap_or_default();
                        w.line(&format!("# {of}no segments {}", window_words(filter)));
                    }
                    for conn in conns.into_iter().filter(|&c| drawn(c)) {
                        w.line("");
                        for line in pictures::ladder_text_with(&kept.events, conn, color, &isns).lines() {
                            w.line(line);
                        }
                    }
                    w.line("");
                }
                text_tail(w, finished, filter, table)
            }
        }
    }
}

/// The time window of `filter` in words: "between A and B ms", "after A
/// ms", "before B ms", or "with these filters" when it has none.
fn window_words(filter: &trace::Filter) -> String {
    // f64's shortest form: `200`, `173.4`.
    let ms = |t: tcpsim::time::Instant| format!("{}", t.as_nanos() as f64 / 1e6);
    match (filter.from, filter.to) {
        (Some(a), Some(b)) => format!("between {} and {} ms", ms(a), ms(b)),
        (Some(a), None) => format!("after {} ms", ms(a)),
        (None, Some(b)) => format!("before {} ms", ms(b)),
        (None, None) => "with these filters".to_string(),
    }
}

/// The expectation lines, summary and digest that end a text or ladder
/// trace; returns the destination once everything is written.
fn text_tail(
    mut w: TextWriter<BufWriter<Dest>>,
    finished: &Finished,
    filter: &trace::Filter,
    table: Option<&[EndpointResult]>,
) -> Result<Dest, String> {
    let summary = finished.summary();
    if let Some(results) = table {
        w.line("#");
        w.line("# connections:");
        for l in conn_table::table_lines(results) {
            w.line(&format!("#   {l}"));
        }
    }
    // Printed even with --quiet: a user must learn that connections never
    // closed.
    for l in report::open_lines_shown(&finished.world, report::OPEN_LISTED_MAX, filter) {
        w.line(&format!("# {l}"));
    }
    for c in &finished.checks {
        w.line(&format!("expect {}", c.describe()));
    }
    w.line(&format!("# {}", summary.line()));
    w.line(&format!("digest: {}", summary.digest));
    w.finish().map_err(|e| e.to_string()).and_then(|b| b.into_inner().map_err(|e| e.to_string()))
}

/// The files a run writes besides its trace: opened (as temp files) before
/// the run, so a bad path is bad input; committed after it.
struct Extras {
    pcap: Option<PcapWriter<BufWriter<Dest>>>,
    /// The events of the connection the ladder and the time-sequence graph
    /// draw, unfiltered (a window is the pictures' to apply).
    picture: Option<LadderRecorder>,
    svg: Option<Dest>,
    tsg: Option<Dest>,
    /// --series-plot: the destination and the series it draws.
    series_plot: Option<(Dest, Series)>,
    window: Window,
    states: Option<Dest>,
    /// The replay's destination and the file text it pins.
    faults: Option<(Dest, String)>,
    /// Per-endpoint results, for --connections and --connections-table.
    collector: Option<Collector>,
    /// --connections: the destination, and whether it takes JSON.
    connections: Option<(Dest, bool)>,
    /// --series: the destination and the series.
    series: Option<(Dest, Series)>,
}

impl Extras {
    /// `replay_text`: the file text the replay of --emit-faults pins.
    fn open(
        args: &RunArgs,
        svg_conn: u32,
        replay_text: Option<String>,
        filter: &trace::Filter,
    ) -> Result<Extras, String> {
        let open = |flag: &str, p: &std::path::Path| Dest::open_flag(flag, Some(p));
        let side = match args.pcap_side {
            PcapSide::Sender => CaptureSide::Sender,
            PcapSide::Receiver => CaptureSide::Receiver,
        };
        let pcap = match &args.pcap {
            Some(p) => Some(PcapWriter::new(BufWriter::with_capacity(1 << 16, open("--pcap", p)?), side)),
            None => None,
        };
        let svg = args.svg.as_deref().map(|p| open("--svg", p)).transpose()?;
        let tsg = args.tsg.as_deref().map(|p| open("--tsg", p)).transpose()?;
        let picture = (svg.is_some() || tsg.is_some()).then(|| LadderRecorder::new(svg_conn));
        let series_plot = match &args.series_plot {
            Some(p) => Some((open("--series-plot", p)?, Series::new(filter))),
            None => None,
        };
        let states = match &args.state_diagram {
            Some(p) => Some(open("--state-diagram", p)?),
            None => None,
        };
        let faults = match (&args.emit_faults, replay_text) {
            (Some(p), Some(text)) => Some((open("--emit-faults", p)?, text)),
            _ => None,
        };
        let connections = match &args.connections {
            Some(p) => Some((open("--connections", p)?, p.extension().is_some_and(|e| e == "json"))),
            None => None,
        };
        let collector = (args.connections.is_some() || args.connections_table).then(Collector::new);
        let series = match &args.series {
            Some(p) => {
                // Rows go to the file as the run makes them: no run is too
                // long for memory.
                let d = open("--series", p)?;
                let w = d.second_writer().map_err(|e| format!("--series {}: {e}", p.display()))?;
                Some((d, Series::streaming(filter, w)))
            }
            None => None,
        };
        let window = Window::of_filter(filter);
        Ok(Extras { pcap, picture, svg, tsg, series_plot, window, states, faults, collector, connections, series })
    }

    /// Writes the pictures and flushes the capture; returns the
    /// destinations to commit, or what failed.
    fn finish(
        self,
        world: &World,
        args: &RunArgs,
        results: Option<&[EndpointResult]>,
    ) -> Result<Vec<(&'static str, Dest)>, String> {
        let model = world.model();
        let mut done = Vec::new();
        if let Some(p) = self.pcap {
            let d = p
                .finish()
                .and_then(|b| b.into_inner().map_err(|e| e.into_error()))
                .map_err(|e| format!("writing the packet capture (--pcap) failed: {e}"))?;
            done.push(("--pcap", d));
        }
        let events = self.picture.as_ref().map_or(&[][..], |r| &r.events[..]);
        let conn = self.picture.as_ref().map_or(0, LadderRecorder::conn);
        if let Some(mut d) = self.svg {
            let title = format!("{}: connection {conn}, seed {}", model.name, model.seed);
            let svg = pictures::ladder_svg_in(events, conn, self.window, &title);
            d.write_all(svg.as_bytes()).map_err(|e| format!("writing the ladder (--svg) failed: {e}"))?;
            done.push(("--svg", d));
        }
        if let Some(mut d) = self.tsg {
            let title = format!("{}: time-sequence graph of connection {conn}, seed {}", model.name, model.seed);
            let svg = pictures::tsg_svg(events, conn, args.endpoint.as_deref(), self.window, &title);
            d.write_all(svg.as_bytes()).map_err(|e| format!("writing the time-sequence graph (--tsg) failed: {e}"))?;
            done.push(("--tsg", d));
        }
        if let Some((mut d, series)) = self.series_plot {
            let title = format!("{}: congestion window and RTT, seed {}", model.name, model.seed);
            let rows = series_plot::rows_in_window(series.rows(), self.window);
            let svg = pictures::series_plot_svg(&rows, &title);
            d.write_all(svg.as_bytes()).map_err(|e| format!("writing the series plot (--series-plot) failed: {e}"))?;
            done.push(("--series-plot", d));
        }
        if let Some(mut d) = self.states {
            let title = format!("{}: state transitions, seed {}", model.name, model.seed);
            let svg = pictures::state_diagram_svg(&world.stats().transitions_by, &title);
            d.write_all(svg.as_bytes())
                .map_err(|e| format!("writing the state diagram (--state-diagram) failed: {e}"))?;
            done.push(("--state-diagram", d));
        }
        if let Some((mut d, text)) = self.faults {
            let file = replay_file(world, &text, args).map_err(|e| format!("--emit-faults: {e}"))?;
            d.write_all(file.as_bytes())
                .map_err(|e| format!("writing the fault script (--emit-faults) failed: {e}"))?;
            done.push(("--emit-faults", d));
        }
        if let (Some((mut d, json)), Some(results)) = (self.connections, results) {
            let outcome = Outcome::Completed.name();
            let text = if json { conn_table::json(results, outcome) } else { conn_table::csv(results, outcome) };
            d.write_all(text.as_bytes()).map_err(|e| format!("writing --connections failed: {e}"))?;
            done.push(("--connections", d));
        }
        if let Some((d, series)) = self.series {
            series.finish_stream(None).map_err(|e| format!("writing --series failed: {e}"))?;
            done.push(("--series", d));
        }
        Ok(done)
    }

    /// For a run a limit stopped: --connections and --series only, each
    /// saying the rows are of a partial run (`run_outcome`, and a last
    /// comment line); the other outputs are dropped.
    fn finish_partial(
        self,
        outcome: Outcome,
        results: Option<&[EndpointResult]>,
    ) -> Result<Vec<(&'static str, Dest)>, String> {
        let mut done = Vec::new();
        if let (Some((mut d, json)), Some(results)) = (self.connections, results) {
            let text =
                if json { conn_table::json(results, outcome.name()) } else { conn_table::csv(results, outcome.name()) };
            d.write_all(text.as_bytes()).map_err(|e| format!("writing --connections failed: {e}"))?;
            done.push(("--connections", d));
        }
        if let Some((d, series)) = self.series {
            series
                .finish_stream(Some(&format!("incomplete run: {}", outcome.name())))
                .map_err(|e| format!("writing --series failed: {e}"))?;
            done.push(("--series", d));
        }
        Ok(done)
    }
}

/// The replay file of `--emit-faults`: the scenario pinned, with the
/// run's link decisions as `Fate` faults.
fn replay_file(world: &World, text: &str, args: &RunArgs) -> Result<String, String> {
    let pinned = replay::pin(text, world)?;
    let fates = world.recorded_fates();
    let comment = [
        format!("Replay of `{}`, written by --emit-faults.", replay_command(args, world.model().seed)),
        "Random link elements are off and every ISS is fixed; the run's link decisions".to_string(),
        format!("follow as {} Fate faults, so any --seed gives digest {}.", fates.len(), world.digest()),
    ];
    replay::with_fates(&pinned, fates, &comment)
}

/// Forwards every event to several sinks (trace, capture, ladder), so one
/// run produces all outputs; it has failed when any of them has.
struct FanOut<'a> {
    sinks: Vec<&'a mut dyn TraceSink>,
}

impl TraceSink for FanOut<'_> {
    fn record(&mut self, e: &trace::TraceEvent<'_>) {
        for s in &mut self.sinks {
            s.record(e);
        }
    }

    fn failed(&self) -> bool {
        self.sinks.iter().any(|s| s.failed())
    }

    fn wants_records(&self) -> bool {
        self.sinks.iter().any(|s| s.wants_records())
    }
}

/// Runs `sim` with its events going to the trace (unless `--quiet`) and
/// to the extra files' recorders, all through one fan-out.
fn run_traced(
    sim: Simulation,
    writer: &mut dyn TraceSink,
    unfiltered: Option<&mut IsnLog>,
    args: &RunArgs,
    filter: &trace::Filter,
    extras: &mut Extras,
    stop: &AtomicBool,
) -> Finished {
    let quiet = args.quiet;
    let mut filtered;
    let mut sinks: Vec<&mut dyn TraceSink> = Vec::new();
    if !quiet {
        if filter.is_empty() {
            sinks.push(&mut *writer);
        } else {
            filtered = Filtered::new(&mut *writer, filter.clone());
            sinks.push(&mut filtered);
        }
    }
    if let Some(isns) = unfiltered.filter(|_| !quiet) {
        sinks.push(isns);
    }
    if let Some(p) = extras.pcap.as_mut() {
        sinks.push(p);
    }
    if let Some(rec) = extras.picture.as_mut() {
        sinks.push(rec);
    }
    // The trace and pictures show the measurement records only when asked
    // (--measurements); the results and the series always read them.
    let mut shown = FanOut { sinks };
    let mut hidden;
    let mut readers: Vec<&mut dyn TraceSink> = Vec::new();
    // A fan-out to no sink records nothing and wants nothing: left out (a
    // `--quiet` run's), it is not asked at every step (about 1 % of the
    // instructions of a quiet run at 10^3 connections).
    if !shown.sinks.is_empty() {
        if args.measurements || !measures(args) {
            readers.push(&mut shown);
        } else {
            hidden = WithoutMeasurements(&mut shown);
            readers.push(&mut hidden);
        }
    }
    if let Some(c) = extras.collector.as_mut() {
        readers.push(c);
    }
    if let Some((_, s)) = extras.series.as_mut() {
        readers.push(s);
    }
    if let Some((_, s)) = extras.series_plot.as_mut() {
        readers.push(s);
    }
    let mut finished = sim.run_until(&mut FanOut { sinks: readers }, stop);
    // --quiet writes no events, but the header may already have failed.
    if quiet && writer.failed() {
        finished.outcome = Outcome::OutputFailed;
    }
    finished
}

fn print_stats(world: &World, elapsed: std::time::Duration) {
    let s = world.stats();
    let secs = elapsed.as_secs_f64().max(1e-9);
    stderrln!(
        "stats: connections={} events={} transitions={} wall_ms={} events_per_s={} transitions_per_s={} peak_rss_mib={}",
        world.model().connection_count(),
        s.events,
        s.transitions,
        elapsed.as_millis(),
        (s.events as f64 / secs) as u64,
        (s.transitions as f64 / secs) as u64,
        peak_rss_mib()
    );
}

/// Peak resident set size from /proc (Linux); 0 where unknown.
fn peak_rss_mib() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}
