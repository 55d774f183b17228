//! What several commands share: loading a file with the command line's
//! overrides, the Ctrl-C flag, and the command that replays one run.
//! Command modules use this and the library, never each other.

use super::{SimArgs, error};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tcpsim::rng::Ppm;
use tcpsim::scenario::{self, Override};
use tcpsim::simulation::Simulation;

/// The bytes of a simulation file; prints why and returns `None` when it
/// cannot be read.
pub fn read_file(file: &std::path::Path) -> Option<Vec<u8>> {
    match std::fs::read(file) {
        Ok(b) => Some(b),
        Err(e) => {
            stderrln!("{}: error: cannot read the file: {e}", file.display());
            None
        }
    }
}

/// The overrides of the `--set FIELD=VALUE` flags, or the message for the
/// first malformed one.
pub fn set_overrides(set: &[String]) -> Result<Vec<Override>, String> {
    set.iter().map(|s| Override::parse(s).map_err(|msg| format!("--set {s}: {msg}"))).collect()
}

/// Whether an override sets the seed (`--set seed=N`).
pub fn sets_seed(o: &Override) -> bool {
    o.overlaps(&Override { path: "seed".into(), value: String::new() })
}

/// `--loss P` sets every link's loss; another flag (`--set`, `--vary`,
/// each given with its overrides) that sets one of those losses too would
/// silently win or lose, so the pair is refused, naming both.
pub fn refuse_loss_overlap(
    loss_flag: &str,
    loss: &[Override],
    others: &[(String, Vec<Override>)],
) -> Result<(), String> {
    for (flag, overrides) in others {
        if let Some((o, _)) = overrides.iter().find_map(|o| loss.iter().find(|l| o.overlaps(l)).map(|l| (l, o))) {
            return Err(format!(
                "{loss_flag} and {flag} both set `{}`: give each link's loss once (--loss sets every link's)",
                o.path
            ));
        }
    }
    Ok(())
}

/// Reads a file and loads it with the command line's overrides; prints
/// every error and returns `None` on bad input. The simulation keeps the
/// file's text with the overrides applied.
pub fn load_with_overrides(sim: &SimArgs, loss: Option<&str>) -> Option<Simulation> {
    load_with_defaults(sim, loss, Vec::new())
}

/// [`load_with_overrides`] with `defaults` applied first, as if the file
/// said them: the file's own `--set`s and `--seed` still win.
pub fn load_with_defaults(sim: &SimArgs, loss: Option<&str>, defaults: Vec<Override>) -> Option<Simulation> {
    let label = sim.file.path.display().to_string();
    let bytes = read_file(&sim.file.path)?;
    let mut overrides = defaults;
    if let Some(seed) = sim.seed {
        overrides.push(Override { path: "seed".into(), value: seed.to_string() });
    }
    if let Some(p) = loss {
        if Ppm::parse_decimal(p).is_none() {
            error(&format!("--loss {p}: expected a probability in [0, 1] with at most 6 decimals"));
            return None;
        }
        overrides.extend(scenario::loss_overrides(&bytes, p));
    }
    match set_overrides(&sim.overrides.set) {
        Ok(set) => {
            // One of the two would silently win, and the replay command
            // of a run gives its seed with `--seed`.
            if let (Some(seed), Some(o)) = (sim.seed, set.iter().find(|o| sets_seed(o))) {
                error(&format!("--seed {seed} and {} both set the seed: give the seed once", o.flag()));
                return None;
            }
            if let Some(p) = loss {
                let others: Vec<(String, Vec<Override>)> =
                    sim.overrides.set.iter().zip(&set).map(|(s, o)| (format!("--set {s}"), vec![o.clone()])).collect();
                if let Err(e) =
                    refuse_loss_overlap(&format!("--loss {p}"), &scenario::loss_overrides(&bytes, p), &others)
                {
                    error(&e);
                    return None;
                }
            }
            overrides.extend(set)
        }
        Err(e) => {
            error(&e);
            return None;
        }
    }
    match Simulation::load(&bytes, &overrides) {
        Ok(sim) => Some(sim),
        Err(errors) => {
            for e in errors {
                stderrln!("{}", e.render(&label));
            }
            None
        }
    }
}

/// `tcpsim run FILE --seed N` with the overrides that shaped the run; a
/// `--set seed=N` is given as `--seed` (both would be refused).
pub fn replay_line(sim: &SimArgs, seed: u64, loss: Option<&str>) -> String {
    let mut cmd = format!("tcpsim run {} --seed {seed}", sim.file.path.display());
    if let Some(p) = loss {
        cmd.push_str(&format!(" --loss {p}"));
    }
    for s in sim.overrides.set.iter().filter(|s| Override::parse(s).map_or(true, |o| !sets_seed(&o))) {
        cmd.push_str(&format!(" --set '{s}'"));
    }
    cmd
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

/// The connection numbers a scenario has, in words: "one connection,
/// number 0", "connections 0 to 4" ("0..5" read as two values).
pub fn connection_numbers(count: u64) -> String {
    match count {
        0 => "no connections".to_string(),
        1 => "one connection, number 0".to_string(),
        n => format!("connections 0 to {}", n - 1),
    }
}
