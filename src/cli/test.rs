//! `tcpsim test PATH...`: run every simulation file and check its
//! `expect` block; one line per file, then `N passed, N failed`.

use super::{EXIT_BAD_INPUT, EXIT_EXPECT_FAILED, EXIT_INCOMPLETE, EXIT_OK, TestArgs};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};
use tcpsim::parallel::{self, Pool};
use tcpsim::report::count;
use tcpsim::simulation::Simulation;
use tcpsim::trace::NullSink;
use tcpsim::world::Outcome;

/// How one file of `tcpsim test` did.
enum FileResult {
    Pass { checks: usize, digest: String },
    Fail { lines: Vec<String> },
    BadInput { lines: Vec<String> },
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "ron") {
                collect(&e, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
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
    let seed = sim.model().seed;
    let finished = sim.run(&mut NullSink);
    if finished.outcome != Outcome::Completed {
        return FileResult::Fail { lines: vec![format!("run incomplete: {}", finished.outcome.name())] };
    }
    let failed: Vec<String> = finished.failed_checks().map(|c| c.describe()).collect();
    if failed.is_empty() {
        FileResult::Pass { checks: finished.checks.len(), digest: finished.digest() }
    } else {
        let mut lines = failed;
        lines.push(format!("replay: tcpsim run {label} --seed {seed}"));
        FileResult::Fail { lines }
    }
}

pub fn test(args: &TestArgs) -> u8 {
    let mut files = Vec::new();
    for p in &args.paths {
        if let Err(e) = collect(p, &mut files) {
            eprintln!("{}: error: {e}", p.display());
            return EXIT_BAD_INPUT;
        }
    }
    if files.is_empty() {
        super::error("no simulation files (*.ron) in the given paths");
        return EXIT_BAD_INPUT;
    }
    // No Ctrl-C handler of its own: an interrupt ends the process as usual.
    let (stop, done) = (AtomicBool::new(false), AtomicU64::new(0));
    let pool = Pool { jobs: parallel::jobs(args.jobs.jobs), stop: &stop, done: &done };
    let (verdicts, _) =
        parallel::map_ordered(files.len(), pool, || (), |(), i| run_file(&files[i])).expect("never stopped");
    let (mut passed, mut failed, mut bad) = (0, 0, 0);
    let mut out = std::io::stdout().lock();
    for (file, v) in files.iter().zip(verdicts) {
        let written = match v {
            FileResult::Pass { checks, digest } => {
                passed += 1;
                writeln!(out, "PASS  {}  ({}, digest {digest})", file.display(), count(checks as u64, "check"))
            }
            FileResult::Fail { lines } => {
                failed += 1;
                writeln!(out, "FAIL  {}", file.display())
                    .and_then(|_| lines.iter().try_for_each(|l| writeln!(out, "        {l}")))
            }
            FileResult::BadInput { lines } => {
                bad += 1;
                // Errors go to stderr in the contract's format, as well as
                // into the per-file report.
                for l in &lines {
                    eprintln!("{l}");
                }
                writeln!(out, "FAIL  {}  (bad input)", file.display())
                    .and_then(|_| lines.iter().try_for_each(|l| writeln!(out, "        {l}")))
            }
        };
        if written.is_err() {
            // The reader went away (`| head`): stop quietly.
            return EXIT_INCOMPLETE;
        }
    }
    if writeln!(out, "{passed} passed, {} failed", failed + bad).and_then(|_| out.flush()).is_err() {
        return EXIT_INCOMPLETE;
    }
    if bad > 0 {
        EXIT_BAD_INPUT
    } else if failed > 0 {
        EXIT_EXPECT_FAILED
    } else {
        EXIT_OK
    }
}
