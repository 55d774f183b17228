//! A run as data. A seeded run's random link decisions, kept when
//! [`crate::simulation::Simulation::record_fates`] asks, become a simulation file
//! that replays the run with no randomness left: its links lose their
//! random elements, every
//! initial sequence number is written out, and each decision is a `Fate`
//! fault. `tcpsim run --emit-faults` writes such a file; `tcpsim shrink`
//! removes decisions from it.
//!
//! The file is edited through [`SimText`], so the user's comments and
//! layout survive.

use crate::model::Model;
use crate::scenario::edit::SimText;
use crate::scenario::locate::Step;
use crate::world::{RecordedFate, World};

/// `text` (a scenario `world` ran, overrides applied) with link randomness
/// off and every endpoint's ISS fixed to what it was in that run, so it
/// runs the same with any seed: written out as `iss` fields, or, where
/// endpoints share one field (a population, a listener that accepted
/// several connections), as the `iss_seed` they were drawn from.
pub fn pin(text: &str, world: &World) -> Result<SimText, String> {
    let mut out = pin_links(text, world.model())?;
    match iss_fields(world.model(), world) {
        Some(fields) => {
            for (path, iss) in fields {
                out.pin_iss(&path, iss).map_err(|e| e.to_string())?;
            }
        }
        // Endpoints that share one `iss` field drew theirs from the run's
        // seed; the file keeps drawing them from it, whatever --seed says.
        None => {
            let seed = world.model().iss_seed.unwrap_or(world.model().seed);
            out.pin_iss_seed(seed).map_err(|e| e.to_string())?;
        }
    }
    Ok(out)
}

/// `text` (the file of `model`) with every random link element off.
pub fn pin_links(text: &str, model: &Model) -> Result<SimText, String> {
    let mut out = SimText::new(text);
    out.without_link_randomness(model.links.len()).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The `iss` each endpoint had in the run, by the path of the struct that
/// names it; `None` if some struct stands for several endpoints.
fn iss_fields(model: &Model, world: &World) -> Option<Vec<(Vec<Step>, u32)>> {
    if model.connections.iter().any(|c| c.count > 1) {
        return None;
    }
    let total = model.connection_count() as u32;
    // (name, conn, iss) of every endpoint that belongs to a connection.
    let mut seen: Vec<(String, u32, u32)> = Vec::new();
    world.for_each_connection(|conn, eps| {
        if conn < total {
            seen.extend(eps.iter().map(|e| (e.name.to_string(), conn, e.tcp.iss().0)));
        }
    });
    let iss_of = |name: &str, conn: u32| seen.iter().find(|(n, c, _)| n == name && *c == conn).map(|x| x.2);
    let mut out = Vec::new();
    for (i, c) in model.connections.iter().enumerate() {
        let path = vec![Step::Field("connections".into()), Step::Index(i)];
        if let Some(iss) = iss_of(&c.name, i as u32) {
            out.push((path.clone(), iss));
        }
        if let Some(p) = &c.peer
            && let Some(iss) = iss_of(&p.name, i as u32)
        {
            out.push(([path.clone(), vec![Step::Field("peer".into())]].concat(), iss));
        }
    }
    for (i, l) in model.listeners.iter().enumerate() {
        let accepted: Vec<u32> = seen.iter().filter(|(n, _, _)| *n == l.name).map(|x| x.2).collect();
        match accepted.as_slice() {
            [] => {}
            [iss] => out.push((vec![Step::Field("listeners".into()), Step::Index(i)], *iss)),
            _ => return None,
        }
    }
    Some(out)
}

/// `pinned` with `fates` appended to its `faults` list (created if absent)
/// and `comment` lines at the top.
pub fn with_fates(pinned: &SimText, fates: &[RecordedFate], comment: &[String]) -> Result<String, String> {
    let mut file = pinned.clone();
    let faults: Vec<_> = fates.iter().map(RecordedFate::to_fault).collect();
    file.append_faults(&faults).map_err(|e| e.to_string())?;
    for line in comment {
        file.comment(line);
    }
    Ok(file.render())
}
