//! Runs as data: replay files (`run --emit-faults`), exhaustive
//! exploration (`explore`) and shrinking failing seeds (`shrink`).

use crate::util::{load, root, stderr, stdout, tcpsim};
use std::collections::BTreeSet;
use tcpsim::model::Model;
use tcpsim::replay;
use tcpsim::shrink;
use tcpsim::simulation::{Finished, Simulation};
use tcpsim::trace::NullSink;
use tcpsim::world::World;

/// Runs `path` with `overrides` and `seed`, recording its link decisions;
/// returns the world and the replay file.
fn record(path: &str, overrides: &[(&str, &str)], seed: u64) -> (World, String) {
    let mut model = load(path, overrides);
    model.seed = seed;
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let overrides: Vec<_> = overrides
        .iter()
        .map(|(p, v)| tcpsim::scenario::Override { path: p.to_string(), value: v.to_string() })
        .collect();
    let text = tcpsim::scenario::with_overrides(&text, &overrides).unwrap();
    let world = Simulation::from_model(model).expect("a valid model").record_fates(true).run(&mut NullSink).world;
    let pinned = replay::pin(&text, &world).unwrap();
    let file = replay::with_fates(&pinned, world.recorded_fates(), &[]).unwrap();
    (world, file)
}

fn run_text(text: &str, seed: u64) -> Finished {
    let mut model = tcpsim::scenario::load(text.as_bytes(), &[]).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    model.seed = seed;
    Simulation::from_model(model).expect("a valid model").run(&mut NullSink)
}

/// A replay file reproduces its run's digest with no randomness left, for
/// every kind of random link decision (loss, jitter, reordering,
/// duplication, burst loss, corruption, a rate-limited queue).
#[test]
fn replay_files_reproduce_the_digest_without_randomness() {
    let cases = [
        ("sims/lossy-transfer.ron", vec![]),
        ("sims/near-simultaneous-close.ron", vec![("links[0].loss", "0.2")]),
        (
            "sims/lossy-transfer.ron",
            vec![
                ("links[0].burst", "(enter_bad: 0.05, leave_bad: 0.3)"),
                ("links[0].corrupt", "0.02"),
                ("links[0].distribution", "paretonormal"),
            ],
        ),
        ("sims/bottleneck-queue.ron", vec![("links[0].loss", "0.05"), ("links[0].jitter_ms", "2")]),
    ];
    for (path, overrides) in cases {
        for seed in 1..=10 {
            let (world, text) = record(path, &overrides, seed);
            let decisions = world.recorded_fates().len();
            assert!(decisions > 0, "{path} seed {seed}: nothing random happened");
            let model = tcpsim::scenario::load(text.as_bytes(), &[]).unwrap();
            assert!(model.links.iter().all(|l| !l.ab.is_random() && !l.ba.is_random()), "{path}: still random");
            for replay_seed in [seed, 999] {
                let again = run_text(&text, replay_seed);
                assert_eq!(again.digest(), world.digest(), "{path} seed {seed} ({decisions} decisions)");
            }
        }
    }
}

/// The same through the command line: `--emit-faults` writes a file whose
/// run with any seed prints the original digest.
#[test]
fn emit_faults_writes_a_replay_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("replay.ron");
    let o =
        tcpsim(&["run", "sims/lossy-transfer.ron", "--seed", "7", "--quiet", "--emit-faults", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let digest = stdout(&o).lines().last().unwrap().to_string();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("Fate(from: \"client\"") && text.contains("jitter_ms: 0"), "{text}");
    for seed in ["1", "123456"] {
        let o = tcpsim(&["run", out.to_str().unwrap(), "--seed", seed, "--quiet"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o).lines().last().unwrap(), digest);
    }
    // A population shares one `iss` field: the file pins the seed its ISS
    // values were drawn from instead.
    let o = tcpsim(&["run", "scale/scale-1k.ron", "--quiet", "--loss", "0.01", "--emit-faults", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let digest = stdout(&o).lines().last().unwrap().to_string();
    assert!(std::fs::read_to_string(&out).unwrap().contains("iss_seed: "));
    let o = tcpsim(&["run", out.to_str().unwrap(), "--seed", "5", "--quiet"]);
    assert_eq!(stdout(&o).lines().last().unwrap(), digest);
}

/// The limits given on the command line are the run's, so the replay
/// file carries them too: replayed, it stops where the run would have.
#[test]
fn emit_faults_keeps_the_command_line_limits() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("replay.ron");
    let o = tcpsim(&[
        "run",
        "sims/lossy-transfer.ron",
        "--seed",
        "7",
        "--quiet",
        "--max-time-ms",
        "600000.25",
        "--max-events",
        "123456",
        "--emit-faults",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let model = tcpsim::scenario::load(&std::fs::read(&out).unwrap(), &[]).unwrap();
    assert_eq!(model.limits.max_time, tcpsim::time::Instant::from_nanos(600_000_250_000));
    assert_eq!(model.limits.max_events, 123_456);
}

/// A `--set name=...` with a line break in it reaches the replay file's
/// header comment; the file still loads and replays the run.
#[test]
fn emit_faults_with_a_line_break_in_the_name_writes_a_file_that_loads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("replay.ron");
    let out = out.to_str().unwrap();
    let set = "name=\"a\nb\r)c\"";
    let o = tcpsim(&["run", "sims/lossy-transfer.ron", "--seed", "2", "--quiet", "--set", set, "--emit-faults", out]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let digest = stdout(&o).lines().last().unwrap().to_string();
    let o = tcpsim(&["run", out, "--seed", "3", "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), std::fs::read_to_string(out).unwrap());
    assert_eq!(stdout(&o).lines().last().unwrap(), digest);
}

/// The first seed of the demo that fails its expectation.
fn failing_demo_seed() -> u64 {
    (1..200)
        .find(|&seed| {
            let mut model = load("examples/shrink-demo.ron", &[]);
            model.seed = seed;
            shrink::failure_of_run(&Simulation::from_model(model).expect("a valid model").run(&mut NullSink)).is_some()
        })
        .expect("some seed in 1..200 fails the demo")
}

/// A shrunk file fails the same way with any seed, holds no randomness,
/// keeps fewer decisions than the run made, and none of them can go.
#[test]
fn shrink_reduces_a_failing_seed_to_a_minimal_deterministic_file() {
    let seed = failing_demo_seed();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("min.ron");
    let o =
        tcpsim(&["shrink", "examples/shrink-demo.ron", "--seed", &seed.to_string(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = stdout(&o);
    let (started, kept): (usize, usize) = report
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("shrink: ")?;
            let (a, rest) = rest.split_once(" link decisions, ")?;
            let (b, _) = rest.split_once(" kept")?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .unwrap_or_else(|| panic!("no count line in:\n{report}"));
    assert!(0 < kept && kept < started, "{report}");

    let text = std::fs::read_to_string(&out).unwrap();
    let model = tcpsim::scenario::load(text.as_bytes(), &[]).unwrap();
    assert!(model.links.iter().all(|l| !l.ab.is_random() && !l.ba.is_random()));
    assert!(model.connections.iter().all(|c| c.iss.is_some()) && model.listeners.iter().all(|l| l.iss.is_some()));
    let fates = model.faults.iter().filter(|f| matches!(f, tcpsim::model::Fault::Fate { .. })).count();
    assert_eq!(fates, kept);

    let mut digests = BTreeSet::new();
    for s in ["1", "2", "77"] {
        let o = tcpsim(&["run", out.to_str().unwrap(), "--seed", s, "--quiet"]);
        assert_eq!(o.status.code(), Some(1), "the shrunk file must fail: {}", stderr(&o));
        digests.insert(stdout(&o).lines().last().unwrap().to_string());
    }
    assert_eq!(digests.len(), 1, "{digests:?}");

    // 1-minimal: without any one of its decisions the failure is gone or
    // different.
    let base = run_text(&text, 1);
    let failure = shrink::failure_of_run(&base).expect("fails");
    let without_fates = Model {
        faults: model.faults.iter().filter(|f| !matches!(f, tcpsim::model::Fault::Fate { .. })).cloned().collect(),
        ..model.clone()
    };
    let all: Vec<_> = model
        .faults
        .iter()
        .filter_map(|f| match f {
            tcpsim::model::Fault::Fate { from, conn, nth, fate } => {
                Some(tcpsim::world::RecordedFate { from: from.clone(), conn: *conn, nth: *nth, fate: *fate })
            }
            _ => None,
        })
        .collect();
    for i in 0..all.len() {
        let mut less = all.clone();
        less.remove(i);
        assert_ne!(shrink::run_with(&without_fates, &less).1, Some(failure.clone()), "decision {i} is not needed");
    }
}

#[test]
fn shrink_says_when_there_is_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("min.ron");
    let o = tcpsim(&["shrink", "sims/lossy-transfer.ron", "--seed", "3", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("nothing to shrink"), "{}", stdout(&o));
    assert!(!out.exists(), "no file for a passing seed");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no temp file left");

    let no_expect = dir.path().join("no-expect.ron");
    let text = std::fs::read_to_string(root().join("sims/close-explore.ron")).unwrap();
    let cut = text.find("    // Every connection ends CLOSED").unwrap();
    std::fs::write(&no_expect, format!("{})\n", &text[..cut])).unwrap();
    let o = tcpsim(&["shrink", no_expect.to_str().unwrap(), "--seed", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no expect block"), "{}", stderr(&o));
}

/// One outcome block of the explore report: its run count and its lines.
fn outcomes(report: &str) -> Vec<(u64, Vec<String>)> {
    let mut out = Vec::new();
    for block in report.split("\noutcome ").skip(1) {
        let head = block.lines().next().unwrap();
        let (_, rest) = head.split_once(": ").unwrap();
        let runs = rest.split(' ').next().unwrap().parse().unwrap();
        let lines = block.lines().skip(1).take_while(|l| !l.is_empty()).map(str::to_string).collect();
        out.push((runs, lines));
    }
    out
}

/// Explore of the shipped close scenario: counts sum to the runs, the
/// closing line counts the outcomes, the known ways a close ends are all
/// there, and the report does not depend on the number of threads.
#[test]
fn explore_lists_every_outcome_of_the_close() {
    let o = tcpsim(&["explore", "sims/close-explore.ron", "--drop-first", "8", "--jobs", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = stdout(&o);
    let groups = outcomes(&report);
    assert_eq!(groups.iter().map(|g| g.0).sum::<u64>(), 256, "{report}");
    assert_eq!(report.lines().last().unwrap(), format!("explore: 256 runs, {} distinct outcomes", groups.len()));
    let distinct: BTreeSet<&Vec<String>> = groups.iter().map(|g| &g.1).collect();
    assert_eq!(distinct.len(), groups.len());
    for shape in [
        "FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT -> CLOSED",
        "FIN_WAIT_1 -> CLOSING -> TIME_WAIT -> CLOSED",
        "FIN_WAIT_1 -> TIME_WAIT -> CLOSED",
        "LAST_ACK -> CLOSED  (RETRANSMIT_LIMIT)",
        "FIN_WAIT_1 -> FIN_WAIT_2\n",
    ] {
        assert!(report.contains(shape), "no outcome with {shape:?}:\n{report}");
    }
    assert!(report.contains("expectations FAIL") && report.contains("smallest: no faults"));
    let one = tcpsim(&["explore", "sims/close-explore.ron", "--drop-first", "8", "--jobs", "1"]);
    assert_eq!(stdout(&one), report, "thread count changed the report");

    // The library agrees run by run: every point maps to one listed group.
    let model = load("sims/close-explore.ron", &[]);
    let plan = tcpsim::explore::Plan { segments: 8, choices: vec![tcpsim::explore::Choice::Drop] };
    let keys: BTreeSet<String> = (0..256)
        .map(|i| {
            let key = tcpsim::explore::outcome_of(tcpsim::explore::model_of(
                &model.clone().without_link_randomness(),
                &plan.faults_of(i),
            ));
            format!("{key:?}")
        })
        .collect();
    assert_eq!(keys.len(), groups.len());
}

/// Each outcome's smallest fault set, written as a file, leads to that
/// outcome's paths.
#[test]
fn explore_emits_a_file_per_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let o = tcpsim(&[
        "explore",
        "sims/close-explore.ron",
        "--drop-first",
        "6",
        "--duplicate",
        "25",
        "--emit-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = stdout(&o);
    assert!(report.contains("each passed, dropped or duplicated (+25 ms): 729 runs"), "{report}");
    let groups = outcomes(&report);
    for (i, (_, lines)) in groups.iter().enumerate() {
        let file = dir.path().join(format!("outcome-{}.ron", i + 1));
        let o = tcpsim(&["run", file.to_str().unwrap(), "--kinds", "transition"]);
        let trace = stdout(&o);
        for l in lines.iter().filter(|l| l.contains(" conn ")) {
            let (name, rest) = l.trim().split_once(" conn 0  ").unwrap();
            let path = rest.split("  (").next().unwrap();
            let want = format!("{:<10} {path}", name.trim());
            assert!(trace.contains(&want), "outcome {}: no `{want}` in\n{trace}", i + 1);
        }
    }
}

#[test]
fn explore_refuses_plans_past_the_cap() {
    let o = tcpsim(&["explore", "sims/close-explore.ron", "--drop-first", "20"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("2^20 = 1048576 runs, more than --max-runs 100000"), "{}", stderr(&o));
    let o = tcpsim(&["explore", "sims/close-explore.ron", "--drop-first", "3", "--delay", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--delay 0: expected a positive number"), "{}", stderr(&o));
}
