//! Every simulation file in `sims/` runs and meets its own expectations,
//! through the library and through `tcpsim test`.

use crate::util::{load, root, run, sim_files, stdout, tcpsim};
use tcpsim::expect;

#[test]
fn every_sim_meets_its_expect_block() {
    let files = sim_files();
    assert!(files.len() >= 11, "sims/ lost files: {files:?}");
    for file in files {
        let rel = file.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        let model = load(&rel, &[]);
        let exp = model.expect.clone().unwrap_or_else(|| panic!("{rel} has no expect block"));
        let (world, _) = run(model);
        let failed: Vec<String> = expect::check(&world, &exp).iter().filter(|c| !c.ok).map(|c| c.describe()).collect();
        assert!(failed.is_empty(), "{rel}:\n  {}", failed.join("\n  "));
    }
}

/// What a file loads to obeys the rules `Simulation::from_model` checks
/// any model by: the file's rules are among them, and every index a
/// loaded model holds names something.
#[test]
fn every_loaded_sim_is_a_model_from_model_accepts() {
    for file in sim_files() {
        let rel = file.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        if let Err(problems) = tcpsim::simulation::Simulation::from_model(load(&rel, &[])) {
            panic!("{rel}: {problems:?}");
        }
    }
}

#[test]
fn tcpsim_test_passes_on_sims() {
    let out = tcpsim(&["test", "sims/"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.lines().last().unwrap().ends_with("passed, 0 failed"), "{text}");
}

/// A place to paste a failing case: a scenario inline, run with its own
/// expectations.
#[test]
fn smoke() {
    let text = r#"(
        name: "smoke", seed: 1,
        hosts: [(name: "a"), (name: "b")],
        links: [(between: ("a", "b"), delay_ms: 1)],
        listeners: [(name: "server", host: "b", port: 80, on_end_of_stream: [Close])],
        connections: [(name: "client", host: "a", remote_host: "b", remote_port: 80,
                       script: [Connect(at_ms: 0)], on_connected: [Send(bytes: 10), Close])],
        expect: (all_connections: (final_state: CLOSED, all_bytes_delivered: true)),
    )"#;
    let model = tcpsim::scenario::load(text.as_bytes(), &[]).expect("valid");
    let exp = model.expect.clone().unwrap();
    let (world, _) = run(model);
    for c in expect::check(&world, &exp) {
        assert!(c.ok, "{}", c.describe());
    }
}
