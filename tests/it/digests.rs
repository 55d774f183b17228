//! Every shipped simulation keeps its digest: a guard for changes that
//! must not change behaviour (refactors of the loader, the world, the
//! endpoint). The table `sim-digests.txt` was written by `tcpsim run` on
//! each file; a change that means to alter a run updates the table and
//! says why in its commit.

use crate::util::{load, root};
use tcpsim::simulation::Simulation;
use tcpsim::trace::NullSink;
use tcpsim::world::Outcome;

/// The files whose digests are pinned: every sim (subdirectories of
/// `sims/` included), the examples and the
/// 1k-connection scale file (the larger scale files take too long here).
fn pinned_files() -> Vec<String> {
    let mut files = Vec::new();
    let relative = |path: std::path::PathBuf| path.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
    files.extend(crate::util::sim_files().into_iter().map(relative));
    files.extend(crate::util::ron_files(&root().join("examples")).into_iter().map(relative));
    files.push("scale/scale-1k.ron".to_string());
    files
}

#[test]
fn every_sim_keeps_its_digest() {
    let table = std::fs::read_to_string(root().join("tests/it/sim-digests.txt")).expect("the table exists");
    let pinned: Vec<(&str, &str)> =
        table.lines().map(|line| line.split_once(' ').expect("`FILE DIGEST` per line")).collect();
    let files = pinned_files();
    let listed: Vec<&str> = pinned.iter().map(|(file, _)| *file).collect();
    assert_eq!(listed, files, "the table lists other files than sims/, examples/ and scale-1k hold");
    let changed: Vec<String> = pinned
        .iter()
        .filter_map(|(file, expected)| {
            let finished = Simulation::from_model(load(file, &[])).expect("a loaded model").run(&mut NullSink);
            assert_eq!(finished.outcome, Outcome::Completed, "{file}");
            let actual = finished.digest();
            (actual != *expected).then(|| format!("{file}: {expected} -> {actual}"))
        })
        .collect();
    assert!(changed.is_empty(), "digests changed:\n  {}", changed.join("\n  "));
}

/// A sink that takes no records (`NullSink`, a `--quiet` run's) is handed
/// none, and the run is the same: the digest and every count are those of
/// a run whose sink keeps every record, and the digest of the records kept
/// is the run's (the world feeds the digest a step's notes as parts, the
/// other records whole).
#[test]
fn a_sink_that_takes_no_records_changes_nothing() {
    use tcpsim::trace::{Digest, Recorder, TraceSink};
    assert!(!NullSink.wants_records() && Recorder::default().wants_records());
    for file in ["sims/lossy-transfer.ron", "sims/sack/three-losses.ron", "sims/linux/data-retransmit.ron"] {
        let quiet = Simulation::from_model(load(file, &[])).expect("a loaded model").run(&mut NullSink);
        let mut recorder = Recorder::default();
        let kept = Simulation::from_model(load(file, &[])).expect("a loaded model").run(&mut recorder);
        assert_eq!(quiet.digest(), kept.digest(), "{file}");
        assert_eq!(quiet.world.stats(), kept.world.stats(), "{file}");
        assert_eq!(kept.world.stats().trace_records, recorder.events.len() as u64, "{file}");
        let mut digest = Digest::new();
        for e in &recorder.events {
            digest.add(&e.as_event());
        }
        assert_eq!(digest.hex(), kept.digest(), "{file}");
    }
}
