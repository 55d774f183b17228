//! `tcpsim explore FILE --drop-first K`: every fault pattern of the first K
//! segments, grouped by outcome.

use super::output::Dest;
use super::progress::with_progress;
use super::shared::{interrupt_flag, load_with_overrides};
use super::{EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_OK, ExploreArgs, error, millis};
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use tcpsim::explore::{self, Choice, Group, Plan};
use tcpsim::parallel::{self, Pool};
use tcpsim::replay;
use tcpsim::report::count;
use tcpsim::scenario::edit::exact_ms;

fn plan(args: &ExploreArgs) -> Result<Plan, String> {
    let mut choices = vec![Choice::Drop];
    if let Some(ms) = args.duplicate {
        choices.push(Choice::Duplicate(millis("--duplicate", ms, false)?));
    }
    if let Some(ms) = args.delay {
        choices.push(Choice::Delay(millis("--delay", ms, true)?));
    }
    let plan = Plan { segments: args.drop_first, choices };
    let per = plan.choices.len() + 1;
    match plan.runs() {
        Some(n) if n <= args.max_runs => Ok(plan),
        Some(n) => Err(format!(
            "--drop-first {} gives {per}^{} = {n} runs, more than --max-runs {}; lower K or raise --max-runs",
            args.drop_first, args.drop_first, args.max_runs
        )),
        None => Err(format!("--drop-first {} gives {per}^{} runs, far too many", args.drop_first, args.drop_first)),
    }
}

fn what_each_segment_may_do(plan: &Plan) -> String {
    let mut words = vec!["passed".to_string()];
    for c in &plan.choices {
        words.push(match c {
            Choice::Drop => "dropped".to_string(),
            Choice::Duplicate(d) => format!("duplicated (+{} ms)", exact_ms(*d)),
            Choice::Delay(d) => format!("delayed (+{} ms)", exact_ms(*d)),
        });
    }
    let last = words.pop().expect("at least two words");
    format!("{} or {last}", words.join(", "))
}

pub fn explore(args: &ExploreArgs) -> u8 {
    let label = args.sim.file.path.display().to_string();
    let plan = match plan(args) {
        Ok(p) => p,
        Err(e) => {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    };
    let Some(sim) = load_with_overrides(&args.sim, None) else {
        return EXIT_BAD_INPUT;
    };
    let model = sim.model();
    let Some(text) = sim.text() else {
        error(&format!("{label} has no file text to explore"));
        return EXIT_BAD_INPUT;
    };
    if let Some(dir) = &args.emit_dir {
        if let Err(e) = spares_the_input(dir, &args.sim.file.path) {
            error(&e);
            return EXIT_BAD_INPUT;
        }
        // Found before the run: a directory where no file can be created,
        // or a missing one that cannot be made (it is made after the run,
        // so an interrupted run leaves nothing behind).
        if !can_write_in(dir) {
            error(&format!("--emit-dir {}: not a directory tcpsim can write in or create", dir.display()));
            return EXIT_BAD_INPUT;
        }
    }
    let base_text = match args.emit_dir.as_ref().map(|_| replay::pin_links(text, model)).transpose() {
        Ok(t) => t,
        Err(e) => {
            error(&format!("--emit-dir: {e}"));
            return EXIT_BAD_INPUT;
        }
    };
    if model.links.iter().any(|l| l.ab.is_random() || l.ba.is_random()) {
        stderrln!(
            "explore: note: the links' random elements (loss, jitter, reordering, ...) are off while exploring: each run is decided by its faults alone"
        );
    }
    let total = plan.runs().expect("checked by plan()");
    let jobs = parallel::jobs(args.jobs.jobs);
    let stop = interrupt_flag();
    let done = AtomicU64::new(0);
    #[allow(clippy::disallowed_methods, reason = "wall-clock speed on stderr only, never in results")]
    let started = std::time::Instant::now();
    let pool = Pool { jobs, stop: &stop, done: &done };
    let groups = with_progress(total, &done, || explore::explore(model, &plan, pool));
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    let Some(groups) = groups else {
        error(&format!("{label}: explore interrupted"));
        return EXIT_INCOMPLETE;
    };
    let report = render(&label, model, &plan, total, &groups);
    let mut out = match Dest::open(None) {
        Ok(d) => d,
        Err(e) => {
            error(&e);
            return EXIT_INCOMPLETE;
        }
    };
    if let Some(dir) = &args.emit_dir {
        // Every file is written before any is renamed into place, so a
        // failure leaves the directory as it was.
        let base_text = base_text.expect("pinned with --emit-dir");
        if let Err(e) = std::fs::create_dir_all(dir) {
            error(&format!("--emit-dir {}: cannot create the directory: {e}", dir.display()));
            return EXIT_INCOMPLETE;
        }
        let mut written = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            let path = dir.join(format!("outcome-{}.ron", i + 1));
            let faults: Vec<_> = g.smallest.iter().map(|&(nth, c)| c.fault(nth)).collect();
            let mut file = base_text.clone();
            file.comment(&format!(
                "Outcome {} of `tcpsim explore {label}`: {} of {}.",
                i + 1,
                g.runs,
                count(total, "run")
            ));
            file.comment("Random link elements are off; the faults that lead here follow.");
            let file =
                file.append_faults(&faults).map(|()| file.render()).map_err(|e| e.to_string()).and_then(|file| {
                    let mut d = Dest::open(Some(&path))?;
                    d.write_all(file.as_bytes()).map_err(|e| format!("writing failed: {e}"))?;
                    Ok(d)
                });
            match file {
                Ok(d) => written.push((path, d)),
                Err(e) => {
                    error(&format!("--emit-dir: {}: {e}", path.display()));
                    return EXIT_INCOMPLETE;
                }
            }
        }
        for (path, d) in written {
            if let Err(e) = d.commit() {
                error(&format!("--emit-dir: {}: writing failed: {e}", path.display()));
                return EXIT_INCOMPLETE;
            }
        }
        // An earlier run's outcomes beyond this run's would read as this
        // run's: the outcome files it did not write go; other files stay.
        if let Err(e) = remove_earlier_outcomes(dir, groups.len()) {
            error(&format!("--emit-dir {}: {e}", dir.display()));
            return EXIT_INCOMPLETE;
        }
    }
    if let Err(e) = out.write_all(report.as_bytes()).and_then(|_| out.commit()) {
        // Quiet when the reader went away (`| head`); `main` then exits 0.
        error(&format!("writing the report failed: {e}"));
        return EXIT_INCOMPLETE;
    }
    stderrln!(
        "explore: {} in {elapsed:.2} s ({} runs/s, {})",
        count(total, "run"),
        (total as f64 / elapsed) as u64,
        count(jobs as u64, "job")
    );
    EXIT_OK
}

/// Whether outcome files can be written in `dir`: it is a directory where
/// a file can be created, or it is missing and its nearest existing
/// ancestor is such a directory (`create_dir_all` makes the rest).
fn can_write_in(dir: &Path) -> bool {
    let writable = |d: &Path| d.is_dir() && tempfile::Builder::new().prefix(".tcpsim-").tempfile_in(d).is_ok();
    // A relative path's last ancestor is "", the current directory.
    let existing = dir.ancestors().find(|a| a.as_os_str().is_empty() || a.exists());
    existing.is_some_and(|a| writable(if a.as_os_str().is_empty() { Path::new(".") } else { a }))
}

/// N when `name` is `outcome-N.ron` as tcpsim names outcome files (N from
/// 1, no leading zeros).
fn outcome_number(name: &OsStr) -> Option<usize> {
    let n = name.to_str()?.strip_prefix("outcome-")?.strip_suffix(".ron")?;
    let canonical = !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0');
    n.parse().ok().filter(|_| canonical)
}

/// Refuses an `--emit-dir` where explore would write or remove the input
/// file. Every `outcome-N.ron` in it is one or the other (written for N up
/// to the number of outcomes, which is known only after the runs, removed
/// above), and writing follows a symlink to its target; so none may be the
/// input, be a link to it, or be the link the input was named by.
fn spares_the_input(dir: &Path, input: &Path) -> Result<(), String> {
    // A missing directory is made empty; one that is no directory is
    // refused by `can_write_in`.
    let Ok(listing) = std::fs::read_dir(dir) else { return Ok(()) };
    let real = |p: &Path| std::fs::canonicalize(if p.as_os_str().is_empty() { Path::new(".") } else { p }).ok();
    let (Some(dir_real), Some(input_real)) = (real(dir), real(input)) else { return Ok(()) };
    // The input's own directory entry, a final symlink not followed.
    let input_entry = input.parent().and_then(real).zip(input.file_name()).map(|(d, name)| d.join(name));
    for entry in listing.flatten() {
        let name = entry.file_name();
        if outcome_number(&name).is_none() {
            continue;
        }
        let path = dir_real.join(&name);
        if input_entry.as_ref() == Some(&path) || real(&path).as_ref() == Some(&input_real) {
            return Err(format!(
                "--emit-dir {}: {} is the simulation file itself, and explore rewrites or removes every outcome-N.ron there; choose another directory",
                dir.display(),
                dir.join(&name).display()
            ));
        }
    }
    Ok(())
}

/// Removes every `outcome-N.ron` in `dir` (N a number, the name tcpsim
/// gives outcome files) with N above `written`, the count this run wrote.
fn remove_earlier_outcomes(dir: &Path, written: usize) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot list the directory: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list the directory: {e}"))?;
        if outcome_number(&entry.file_name()).is_some_and(|n| n > written) {
            std::fs::remove_file(entry.path())
                .map_err(|e| format!("cannot remove the earlier {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The report: a header, each outcome with its share and smallest fault
/// set, and the closing count line. Independent of threads and timing.
fn render(label: &str, model: &tcpsim::model::Model, plan: &Plan, total: u64, groups: &[Group]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "explore {label}: the first {}, each {}: {}",
        match plan.segments {
            1 => "segment".to_string(),
            n => format!("{n} segments"),
        },
        what_each_segment_may_do(plan),
        count(total, "run")
    );
    let width = groups.iter().flat_map(|g| g.key.endpoints.iter().map(|e| e.name.len())).max().unwrap_or(6);
    for (i, g) in groups.iter().enumerate() {
        let verdict = match g.key.expectations_hold {
            Some(true) => "expectations hold",
            Some(false) => "expectations FAIL",
            None => "no expect block",
        };
        let ended = match g.key.run {
            tcpsim::world::Outcome::Completed => String::new(),
            other => format!(", run incomplete ({})", other.name()),
        };
        let share = 100.0 * g.runs as f64 / total as f64;
        let runs = count(g.runs, "run");
        let _ = writeln!(s, "\noutcome {} of {}: {runs} ({share:.1}%), {verdict}{ended}", i + 1, groups.len());
        for e in g.key.endpoints.iter().filter(|e| u64::from(e.conn) < model.connection_count()) {
            let path: Vec<&str> = e.path.iter().map(|s| s.name()).collect();
            let reason = e.reason.map(|r| format!("  ({r})")).unwrap_or_default();
            let _ = writeln!(s, "  {:<width$} conn {}  {}{reason}", e.name, e.conn, path.join(" -> "));
        }
        if g.smallest.is_empty() {
            let _ = writeln!(s, "  smallest: no faults");
        } else {
            let upto = g.smallest.iter().map(|x| x.0).max().unwrap_or(0);
            let segments = explore::segments_of(model, &g.smallest, upto);
            let parts: Vec<String> = g
                .smallest
                .iter()
                .map(|&(nth, c)| match segments.get(nth as usize - 1) {
                    Some(what) => format!("{} = {what}", c.describe(nth)),
                    None => c.describe(nth),
                })
                .collect();
            let _ = writeln!(s, "  smallest: {}", parts.join("; "));
        }
    }
    let _ = writeln!(s, "\nexplore: {}, {}", count(total, "run"), count(groups.len() as u64, "distinct outcome"));
    s
}
