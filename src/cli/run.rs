//! `tcpsim run FILE`: one simulation, its trace, its expectations.

use super::output::{Dest, use_color};
use super::{EXIT_BAD_INPUT, EXIT_EXPECT_FAILED, EXIT_INCOMPLETE, EXIT_OK, Format, RunArgs, error};
use std::io::BufWriter;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tcpsim::expect::{self, Check};
use tcpsim::model::Model;
use tcpsim::report::{self, Summary};
use tcpsim::rng::Ppm;
use tcpsim::scenario::{self, Override};
use tcpsim::time::{Duration, Instant};
use tcpsim::trace::{self, Filtered, JsonlWriter, NullSink, TextWriter, TraceSink};
use tcpsim::world::{Outcome, World};

/// Reads a file and loads it with the command line's overrides; prints
/// every error and returns `None` on bad input.
pub fn load_with_overrides(
    file: &std::path::Path,
    seed: Option<u64>,
    loss: Option<&str>,
    set: &[String],
) -> Option<Model> {
    let label = file.display().to_string();
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{label}: error: cannot read the file: {e}");
            return None;
        }
    };
    let mut overrides = Vec::new();
    if let Some(seed) = seed {
        overrides.push(Override { path: "seed".into(), value: seed.to_string() });
    }
    if let Some(p) = loss {
        if Ppm::parse_decimal(p).is_none() {
            error(&format!("--loss {p}: expected a probability in [0, 1] with at most 6 decimals"));
            return None;
        }
        overrides.extend(scenario::loss_overrides(&bytes, p));
    }
    for s in set {
        match Override::parse(s) {
            Ok(o) => overrides.push(o),
            Err(msg) => {
                error(&format!("--set {s}: {msg}"));
                return None;
            }
        }
    }
    match scenario::load(&bytes, &overrides) {
        Ok(model) => Some(model),
        Err(errors) => {
            for e in errors {
                eprintln!("{}", e.render(&label));
            }
            None
        }
    }
}

/// The command that replays this run.
pub fn replay_command(args: &RunArgs, seed: u64) -> String {
    let mut cmd = format!("tcpsim run {} --seed {seed}", args.file.display());
    if let Some(p) = &args.loss {
        cmd.push_str(&format!(" --loss {p}"));
    }
    for s in &args.set {
        cmd.push_str(&format!(" --set '{s}'"));
    }
    cmd
}

fn millis(flag: &str, ms: f64) -> Result<Instant, String> {
    if !ms.is_finite() || !(0.0..=1.0e10).contains(&ms) {
        return Err(format!("{flag} {ms}: expected a non-negative number of milliseconds"));
    }
    Ok(Instant::ZERO + Duration::from_nanos((ms * 1e6).round() as u64))
}

fn filter(args: &RunArgs, model: &Model) -> Result<trace::Filter, String> {
    let total = model.connection_count() + model.listeners.len() as u64;
    if let Some(c) = args.conn
        && u64::from(c) >= total
    {
        return Err(format!(
            "--conn {c}: the scenario has connections 0..{} (listeners idle in LISTEN use {}..{total})",
            model.connection_count(),
            model.connection_count()
        ));
    }
    if let Some(kinds) = &args.kinds {
        for k in kinds {
            if !trace::TraceKind::NAMES.contains(&k.as_str()) {
                return Err(format!("--kinds {k}: expected some of {}", trace::TraceKind::NAMES.join(",")));
            }
        }
    }
    Ok(trace::Filter {
        conn: args.conn,
        endpoint: args.endpoint.clone(),
        kinds: args.kinds.clone(),
        from: args.from_ms.map(|ms| millis("--from-ms", ms)).transpose()?,
        to: args.to_ms.map(|ms| millis("--to-ms", ms)).transpose()?,
    })
}

/// A flag raised by SIGINT/SIGTERM; the run loop checks it.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    // Setting the handler fails only if one is already set; the run then
    // simply cannot be interrupted cleanly, which is not worth failing for.
    let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
    flag
}

pub fn run(args: &RunArgs) -> u8 {
    let label = args.file.display().to_string();
    let Some(mut model) = load_with_overrides(&args.file, args.seed, args.loss.as_deref(), &args.set) else {
        return EXIT_BAD_INPUT;
    };
    if let Some(n) = args.max_events {
        if n == 0 {
            error("--max-events 0: expected at least 1");
            return EXIT_BAD_INPUT;
        }
        model.limits.max_events = n;
    }
    if let Some(ms) = args.max_time_ms {
        match millis("--max-time-ms", ms) {
            Ok(t) => model.limits.max_time = t,
            Err(e) => {
                error(&e);
                return EXIT_BAD_INPUT;
            }
        }
    }
    let filter = match filter(args, &model) {
        Ok(f) => f,
        Err(e) => {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    };
    if let Some(out) = &args.out
        && same_file(out, &args.file)
    {
        error(&format!("--out {}: that is the simulation file itself", out.display()));
        return EXIT_BAD_INPUT;
    }
    // Install the handler before any temp file exists, so an interrupt can
    // never leave one behind.
    let stop = interrupt_flag();
    let dest = match Dest::open(args.out.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    };
    let color = args.format == Format::Text && use_color(args.color, &dest);
    let seed = model.seed;
    let limits = model.limits;
    let header = report::header_lines(&model, &label);
    let width = model
        .connections
        .iter()
        .flat_map(|c| std::iter::once(c.name.len()).chain(c.peer.iter().map(|p| p.name.len())))
        .chain(model.listeners.iter().map(|l| l.name.len()))
        .chain(model.hosts.iter().map(|h| h.name.len()))
        .max()
        .unwrap_or(8);
    #[allow(clippy::disallowed_methods, reason = "wall-clock figures for --stats only, never in the trace")]
    let started = std::time::Instant::now();
    let mut world = World::new(model);

    let (outcome, checks, written) = match args.format {
        Format::Text => {
            let mut w = TextWriter::new(BufWriter::with_capacity(1 << 16, dest), width, color);
            if !args.quiet {
                for line in &header {
                    w.line(&format!("# {line}"));
                }
                w.line(&w.header_line());
            }
            let outcome = run_world(&mut world, &mut w, args.quiet, &filter, &stop);
            let checks = checks_of(&world);
            let summary = Summary::new(&world, outcome, &checks);
            if !args.quiet {
                w.line("#");
                w.line("# paths:");
                for l in report::path_lines(&world, 40) {
                    w.line(&format!("#   {l}"));
                }
            }
            for c in &checks {
                w.line(&format!("expect {}", c.describe()));
            }
            w.line(&format!("# {}", summary.line()));
            w.line(&format!("digest: {}", summary.digest));
            (
                outcome,
                checks,
                w.finish().map_err(|e| e.to_string()).and_then(|b| b.into_inner().map_err(|e| e.to_string())),
            )
        }
        Format::Jsonl => {
            let mut w = JsonlWriter::new(BufWriter::with_capacity(1 << 16, dest));
            let outcome = run_world(&mut world, &mut w, args.quiet, &filter, &stop);
            let checks = checks_of(&world);
            for c in &checks {
                w.line(&report::check_json(c));
            }
            let summary = Summary::new(&world, outcome, &checks);
            w.line(&summary.json());
            (
                outcome,
                checks,
                w.finish().map_err(|e| e.to_string()).and_then(|b| b.into_inner().map_err(|e| e.to_string())),
            )
        }
    };
    let elapsed = started.elapsed();
    if args.stats {
        print_stats(&world, elapsed);
    }
    let dest = match written {
        Ok(d) => d,
        Err(e) => {
            error(&format!("writing the trace failed: {e}"));
            return EXIT_INCOMPLETE;
        }
    };
    if outcome != Outcome::Completed {
        drop(dest); // a temp file is removed, an existing target untouched
        let why = match outcome {
            Outcome::EventLimit => format!(
                "the run hit max_events ({}) at {} ms; raise it with --max-events",
                limits.max_events,
                world.now()
            ),
            Outcome::TimeLimit => format!(
                "the run reached max_time ({} ms) with events left; raise it with --max-time-ms",
                limits.max_time
            ),
            Outcome::Interrupted => "interrupted".to_string(),
            Outcome::OutputFailed => "writing the trace failed".to_string(),
            Outcome::Completed => unreachable!(),
        };
        error(&format!("{label}: run incomplete: {why}"));
        return EXIT_INCOMPLETE;
    }
    if let Err(e) = dest.commit() {
        error(&format!("writing the trace failed: {e}"));
        return EXIT_INCOMPLETE;
    }
    let failed: Vec<&Check> = checks.iter().filter(|c| !c.ok).collect();
    if failed.is_empty() {
        EXIT_OK
    } else {
        for c in &failed {
            eprintln!("{label}: expectation failed: {}", c.describe());
        }
        eprintln!("replay: {}", replay_command(args, seed));
        EXIT_EXPECT_FAILED
    }
}

/// Whether two paths name the same existing file.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn checks_of(world: &World) -> Vec<Check> {
    match &world.model().expect {
        Some(e) => expect::check(world, e),
        None => Vec::new(),
    }
}

fn run_world(
    world: &mut World,
    writer: &mut dyn TraceSink,
    quiet: bool,
    filter: &trace::Filter,
    stop: &AtomicBool,
) -> Outcome {
    if quiet {
        let outcome = world.run_until(&mut NullSink, stop);
        if writer.failed() { Outcome::OutputFailed } else { outcome }
    } else if filter.is_empty() {
        world.run_until(writer, stop)
    } else {
        world.run_until(&mut Filtered { inner: writer, filter: filter.clone() }, stop)
    }
}

fn print_stats(world: &World, elapsed: std::time::Duration) {
    let s = world.stats();
    let secs = elapsed.as_secs_f64().max(1e-9);
    eprintln!(
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
