//! `tcpsim test PATH...`: run every simulation file and check its
//! `expect` block; one line per file, then `N passed, N failed`.

use super::output::Dest;
use super::{EXIT_BAD_INPUT, EXIT_EXPECT_FAILED, EXIT_INCOMPLETE, EXIT_OK, TestArgs, error};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};
use tcpsim::parallel::{self, Pool};
use tcpsim::report::count;
use tcpsim::simulation::Simulation;
use tcpsim::trace::NullSink;
use tcpsim::world::Outcome;

/// How one file of `tcpsim test` did. `Incomplete` (a limit stopped the
/// run) is a failure too, but exits 3 rather than 1.
enum FileResult {
    Pass { checks: usize, digest: String },
    Fail { lines: Vec<String> },
    Incomplete { lines: Vec<String> },
    BadInput { lines: Vec<String> },
}

/// The files to run, in order: each path as given, directories walked in
/// sorted order, symlinks followed. A directory already walked (by its
/// canonical path) is not walked again, so a link back up (`sub/up -> ..`)
/// ends the descent instead of looping to the OS path limit; a file met
/// again under another path runs only under the first.
#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    seen_files: BTreeSet<PathBuf>,
    seen_dirs: BTreeSet<PathBuf>,
}

impl Walk {
    fn add(&mut self, path: &Path) -> Result<(), String> {
        let real = std::fs::canonicalize(path);
        if !path.is_dir() {
            // A missing or unreadable file is kept under its own path, and
            // reported when it is run.
            if self.seen_files.insert(real.unwrap_or_else(|_| path.to_path_buf())) {
                self.files.push(path.to_path_buf());
            }
            return Ok(());
        }
        let failed =
            |what: &str, e: std::io::Error| format!("{}: error: cannot {what} the directory: {e}", path.display());
        if !self.seen_dirs.insert(real.map_err(|e| failed("resolve", e))?) {
            return Ok(());
        }
        let mut entries = std::fs::read_dir(path)
            .and_then(|d| d.map(|e| e.map(|e| e.path())).collect::<Result<Vec<_>, _>>())
            .map_err(|e| failed("list", e))?;
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "ron") {
                self.add(&e)?;
            }
        }
        Ok(())
    }
}

fn run_file(path: &Path) -> FileResult {
    let label = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return FileResult::BadInput { lines: vec![format!("{label}: error: cannot read the file: {e}")] };
        }
    };
    let sim = match Simulation::load(&bytes, &[]) {
        Ok(sim) => sim,
        Err(errs) => {
            return FileResult::BadInput { lines: errs.iter().map(|e| e.render(&label)).collect() };
        }
    };
    let replay = format!("replay: tcpsim run {label} --seed {}", sim.model().seed);
    let finished = sim.run(&mut NullSink);
    if finished.outcome != Outcome::Completed {
        return FileResult::Incomplete { lines: vec![format!("run incomplete: {}", finished.outcome.name()), replay] };
    }
    let failed: Vec<String> = finished.failed_checks().map(|c| c.describe()).collect();
    if failed.is_empty() {
        FileResult::Pass { checks: finished.checks.len(), digest: finished.digest() }
    } else {
        let mut lines = failed;
        lines.push(replay);
        FileResult::Fail { lines }
    }
}

pub fn test(args: &TestArgs) -> u8 {
    let mut walk = Walk::default();
    for p in &args.paths {
        if let Err(e) = walk.add(p) {
            stderrln!("{e}");
            return EXIT_BAD_INPUT;
        }
    }
    let files = walk.files;
    if files.is_empty() {
        let paths: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        error(&format!("no simulation files (*.ron) in {}", paths.join(", ")));
        return EXIT_BAD_INPUT;
    }
    // No Ctrl-C handler of its own: an interrupt ends the process as usual.
    let (stop, done) = (AtomicBool::new(false), AtomicU64::new(0));
    let pool = Pool { jobs: parallel::jobs(args.jobs.jobs), stop: &stop, done: &done };
    let (verdicts, _) =
        parallel::map_ordered(files.len(), pool, || (), |(), i| run_file(&files[i])).expect("never stopped");
    let (mut passed, mut failed, mut incomplete, mut bad) = (0, 0, 0, 0);
    // Through `Dest`, so a reader that went away (`| head`) is told from a
    // failed write: the first ends quietly with 0, the second is exit 3.
    let mut out = Dest::Stdout(std::io::stdout());
    for (file, v) in files.iter().zip(verdicts) {
        incomplete += usize::from(matches!(v, FileResult::Incomplete { .. }));
        let written = match v {
            FileResult::Pass { checks, digest } => {
                passed += 1;
                writeln!(out, "PASS  {}  ({}, digest {digest})", file.display(), count(checks as u64, "check"))
            }
            FileResult::Fail { lines } | FileResult::Incomplete { lines } => {
                failed += 1;
                writeln!(out, "FAIL  {}", file.display())
                    .and_then(|_| lines.iter().try_for_each(|l| writeln!(out, "        {l}")))
            }
            FileResult::BadInput { lines } => {
                bad += 1;
                // Errors go to stderr in the contract's format, as well as
                // into the per-file report.
                for l in &lines {
                    stderrln!("{l}");
                }
                writeln!(out, "FAIL  {}  (bad input)", file.display())
                    .and_then(|_| lines.iter().try_for_each(|l| writeln!(out, "        {l}")))
            }
        };
        if let Err(e) = written {
            return report_failed(&e);
        }
    }
    if let Err(e) = writeln!(out, "{passed} passed, {} failed", failed + bad).and_then(|_| out.flush()) {
        return report_failed(&e);
    }
    // Any bad input is 2 (interface.md); a run a limit stopped is 3 and
    // wins over a failed expectation's 1, as in `sweep`.
    if bad > 0 {
        EXIT_BAD_INPUT
    } else if incomplete > 0 {
        EXIT_INCOMPLETE
    } else if failed > 0 {
        EXIT_EXPECT_FAILED
    } else {
        EXIT_OK
    }
}

/// A failed write of the report is exit 3; `error` says nothing when the
/// reader went away, and `main` then exits 0.
fn report_failed(e: &std::io::Error) -> u8 {
    error(&format!("writing the report failed: {e}"));
    EXIT_INCOMPLETE
}
