//! Shared helpers: running the built `tcpsim` binary and loading sims.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tcpsim::model::Model;
use tcpsim::simulation::Simulation;
use tcpsim::trace::Recorder;
use tcpsim::world::{Histories, Outcome, World};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `tcpsim` binary with `args` from the repository root.
pub fn tcpsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcpsim"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("tcpsim runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Loads a file under the repository root, with `--set`-style overrides.
#[track_caller]
pub fn load(path: &str, overrides: &[(&str, &str)]) -> Model {
    let bytes = std::fs::read(root().join(path)).expect("file exists");
    let overrides: Vec<_> = overrides
        .iter()
        .map(|(p, v)| tcpsim::scenario::Override { path: p.to_string(), value: v.to_string() })
        .collect();
    tcpsim::scenario::load(&bytes, &overrides).unwrap_or_else(|e| panic!("{path} does not load: {e:?}"))
}

/// Runs a model to the end, keeping every trace event and every
/// endpoint's history (tests check paths of endpoints no `expect` names).
#[track_caller]
pub fn run(model: Model) -> (World, Recorder) {
    let mut world = Simulation::from_model(model).expect("a valid model").keep_histories(Histories::All).into_world();
    let mut rec = Recorder::default();
    assert_eq!(world.run(&mut rec), Outcome::Completed);
    (world, rec)
}

/// Every `*.ron` file directly under `dir`, sorted.
pub fn ron_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("directory exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    files
}

/// Every simulation file under `sims/`, its subdirectories included (as
/// `tcpsim test sims/` finds them), sorted by path.
pub fn sim_files() -> Vec<PathBuf> {
    let sims = root().join("sims");
    let mut files = ron_files(&sims);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&sims)
        .expect("sims/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        files.extend(ron_files(&dir));
    }
    files
}

/// A path as `&str`, for command-line arguments.
pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// The names of the entries in `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
