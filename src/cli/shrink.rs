//! `tcpsim shrink FILE --seed N`: a failing seeded run reduced to the few
//! link decisions that cause it, written as a file with no randomness.

use super::output::Dest;
use super::shared::{interrupt_flag, load_with_overrides, replay_line};
use super::{EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_NONDETERMINISM, EXIT_OK, ShrinkArgs, error};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use tcpsim::replay;
use tcpsim::report::count;
use tcpsim::scenario;
use tcpsim::shrink;
use tcpsim::simulation::Simulation;
use tcpsim::trace::NullSink;

/// Where the shrunk file goes without --out: `NAME.seed-N.min.ron` in the
/// current directory.
fn default_out(args: &ShrinkArgs, seed: u64) -> PathBuf {
    let stem = args.sim.file.path.file_stem().map_or("shrunk".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from(format!("{stem}.seed-{seed}.min.ron"))
}

pub fn shrink(args: &ShrinkArgs) -> u8 {
    let label = args.sim.file.path.display().to_string();
    let seed = args.sim.seed.expect("clap requires --seed");
    let Some(sim) = load_with_overrides(&args.sim, args.loss.loss.as_deref()) else {
        return EXIT_BAD_INPUT;
    };
    if sim.model().expect.is_none() {
        error(&format!(
            "{label}: no expect block; shrink keeps a run failing its expectations, so the file needs some"
        ));
        return EXIT_BAD_INPUT;
    }
    let out_path = args.out.clone().unwrap_or_else(|| default_out(args, seed));
    // The handler first, so an interrupt can never leave a temp file; then
    // the output (as a temp file), so a bad path fails before the work.
    let stop = interrupt_flag();
    let mut dest = match Dest::open_flag("--out", Some(&out_path)) {
        Ok(d) => d,
        Err(e) => {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    };

    let Some(text) = sim.text().map(str::to_string) else {
        error(&format!("{label} has no file text to shrink"));
        return EXIT_BAD_INPUT;
    };
    let recorded = sim.record_fates(true).run(&mut NullSink);
    let Some(failure) = shrink::failure_of_run(&recorded) else {
        drop(dest);
        let _ =
            writeln!(std::io::stdout(), "shrink: seed {} meets every expectation of {label}; nothing to shrink", seed);
        return EXIT_OK;
    };
    let replay = replay_line(&args.sim, seed, args.loss.loss.as_deref());
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "shrink: `{replay}` fails its expectations:");
    for c in recorded.failed_checks() {
        let _ = writeln!(out, "  {}", c.describe());
    }

    let pinned = match replay::pin(&text, &recorded.world) {
        Ok(t) => t,
        Err(e) => {
            error(&format!("{label}: {e}"));
            return EXIT_BAD_INPUT;
        }
    };
    let base = match scenario::load(pinned.render().as_bytes(), &[]) {
        Ok(m) => m,
        Err(errors) => {
            let first = errors.first().map(|e| e.render(&label)).unwrap_or_default();
            error(&format!("the pinned scenario does not load (a bug): {first}"));
            return EXIT_INCOMPLETE;
        }
    };
    let fates = recorded.world.recorded_fates().to_vec();
    // Replaying every decision must give the same run, or nothing below
    // means anything.
    let (replayed, _) = shrink::run_with(&base, &fates);
    if replayed.digest() != recorded.digest() {
        error(&format!(
            "replaying the {} recorded decisions gave digest {}, not {}: the replay is not faithful",
            fates.len(),
            replayed.digest(),
            recorded.digest()
        ));
        return EXIT_NONDETERMINISM;
    }
    // Once interrupted, every test says "passes": ddmin then ends quickly.
    let minimized = shrink::ddmin(&fates, |subset| {
        !stop.load(Ordering::Relaxed) && shrink::run_with(&base, subset).1.as_ref() == Some(&failure)
    });
    if stop.load(Ordering::Relaxed) {
        drop(dest);
        error(&format!("{label}: shrink interrupted; nothing written"));
        return EXIT_INCOMPLETE;
    }
    let kept = minimized.kept;

    let comment = [
        format!("Shrunk from `{replay}` by tcpsim shrink:"),
        format!(
            "{} of its {} random link decisions are kept as Fate faults; random link elements",
            kept.len(),
            fates.len()
        ),
        "are off and every ISS is fixed, so it fails the same way with any --seed.".to_string(),
    ];
    let file = match replay::with_fates(&pinned, &kept, &comment) {
        Ok(f) => f,
        Err(e) => {
            error(&format!("writing the shrunk file: {e}"));
            return EXIT_INCOMPLETE;
        }
    };
    // The file itself must fail the same way.
    let check = Simulation::load(file.as_bytes(), &[]).map(|sim| shrink::failure_of_run(&sim.run(&mut NullSink)));
    match check {
        Ok(Some(f)) if f == failure => {}
        _ => {
            error("the shrunk file does not fail the same way (a bug); nothing written");
            return EXIT_INCOMPLETE;
        }
    };
    if let Err(e) = dest.write_all(file.as_bytes()).and_then(|_| dest.commit()) {
        error(&format!("{}: writing failed: {e}", out_path.display()));
        return EXIT_INCOMPLETE;
    }
    let decisions = count(fates.len() as u64, "link decision");
    let runs = count(minimized.tests as u64, "run");
    if kept.is_empty() {
        let _ = writeln!(out, "shrink: {decisions}, none kept after {runs}: the failure needs no link decision");
    } else {
        let _ = writeln!(out, "shrink: {decisions}, {} kept after {runs}:", kept.len());
    }
    for f in &kept {
        let text = scenario::edit::fault_text(&f.to_fault()).unwrap_or_else(|e| e.to_string());
        let _ = writeln!(out, "  {text}");
    }
    let _ = writeln!(out, "shrink: wrote {}; it fails the same way with any --seed:", out_path.display());
    let _ = writeln!(out, "  tcpsim run {}", out_path.display());
    EXIT_OK
}
