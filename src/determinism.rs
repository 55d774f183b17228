//! The determinism check: run a scenario twice in one process, the second
//! time with everything that must not matter changed (the lookup tables'
//! hash seed, the order packet slots are reused in, the heap addresses of
//! every allocation, prefetching on from the first endpoint), and compare the two traces record by record. The
//! runs go in lockstep, one event at a time, so memory stays small however
//! long the run.

use crate::model::Model;
use crate::simulation::{Finished, Simulation};
use crate::trace::{OwnedEvent, Recorder};
use crate::world::{Outcome, Perturbation, World};
use std::collections::VecDeque;

/// Where two runs that should be identical first differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Index of the first differing trace record.
    pub record: u64,
    /// That record in the normal run and in the perturbed run (`None` if
    /// that run had ended).
    pub normal: Option<OwnedEvent>,
    /// That record in the perturbed run (`None` if that run had ended).
    pub perturbed: Option<OwnedEvent>,
    /// The records just before it (the same in both runs).
    pub context: Vec<OwnedEvent>,
}

/// The perturbations of the second run.
pub const PERTURBATION: Perturbation = Perturbation {
    hash_seed: 0x9e37_79b9_7f4a_7c15,
    spare_packet_slots: 97,
    ballast_bytes: 1 << 20,
    prefetch_always: true,
};

/// Two runs that agreed: how many records, how the run ended, its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agreement {
    /// Trace records both runs produced.
    pub records: u64,
    /// How both runs ended.
    pub outcome: Outcome,
    /// Their common trace digest, in hex.
    pub digest: String,
}

/// Runs `model` normally and perturbed, comparing every trace record.
/// Returns what they agreed on, or where they first differ.
pub fn check(model: &Model) -> Result<Agreement, Box<Divergence>> {
    let normal = Simulation::from_valid_model(model.clone());
    let perturbed = normal.clone().perturbation(Some(PERTURBATION));
    compare(normal.into_world(), perturbed.into_world())
}

/// As [`check`], for `sim` with its options (measurement records, say);
/// also returns the normal run, its expectations checked, for a caller
/// that reports its result, statistics or coverage.
pub fn check_run(sim: Simulation) -> Result<(Agreement, Finished), Box<Divergence>> {
    let perturbed = sim.clone().perturbation(Some(PERTURBATION));
    let (agreed, world) = lockstep(sim.into_world(), perturbed.into_world())?;
    let outcome = agreed.outcome;
    Ok((agreed, Finished::of(world, outcome)))
}

/// Runs two worlds in lockstep, one event at a time, comparing their
/// trace records.
pub fn compare(a: World, b: World) -> Result<Agreement, Box<Divergence>> {
    lockstep(a, b).map(|(agreed, _)| agreed)
}

/// [`compare`], keeping the first world once it agreed.
fn lockstep(mut a: World, mut b: World) -> Result<(Agreement, World), Box<Divergence>> {
    let (mut ra, mut rb) = (Recorder::default(), Recorder::default());
    let mut context: VecDeque<OwnedEvent> = VecDeque::with_capacity(8);
    let mut compared = 0u64;
    loop {
        let oa = a.step(&mut ra);
        let ob = b.step(&mut rb);
        let n = ra.events.len().max(rb.events.len());
        for i in 0..n {
            let (x, y) = (ra.events.get(i), rb.events.get(i));
            if x != y {
                return Err(Box::new(Divergence {
                    record: compared,
                    normal: x.cloned(),
                    perturbed: y.cloned(),
                    context: context.into_iter().collect(),
                }));
            }
            if context.len() == 8 {
                context.pop_front();
            }
            context.push_back(x.cloned().expect("equal records"));
            compared += 1;
        }
        ra.events.clear();
        rb.events.clear();
        match (oa, ob) {
            (None, None) => {}
            (Some(x), Some(y)) if x == y && a.digest() == b.digest() => {
                let digest = a.digest();
                return Ok((Agreement { records: compared, outcome: x, digest }, a));
            }
            _ => {
                return Err(Box::new(Divergence {
                    record: compared,
                    normal: None,
                    perturbed: None,
                    context: context.into_iter().collect(),
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lossy_transfer_is_deterministic_under_perturbation() {
        let text = r#"(
            name: "d", seed: 3, tcp: (msl_ms: 200),
            hosts: [(name: "a"), (name: "b")],
            links: [(between: ("a", "b"), delay_ms: 5, jitter_ms: 4, loss: 0.1, reorder: 0.1, reorder_delay_ms: 3, duplicate: 0.05)],
            listeners: [(name: "s", host: "b", port: 80, backlog: 20, on_connected: [Send(bytes: 5000)], on_end_of_stream: [Close])],
            connections: [(name: "c", host: "a", remote_host: "b", remote_port: 80, count: 20, open_spread_ms: 10,
                           script: [Connect(at_ms: 0)], on_connected: [Send(bytes: 5000), Close])],
        )"#;
        let model = crate::scenario::load(text.as_bytes(), &[]).unwrap();
        let agreed = check(&model).expect("deterministic");
        assert!(agreed.records > 1000);
        assert_eq!(agreed.outcome, Outcome::Completed);

        // Two different seeds do differ, and the report says where: after
        // the records both share, with those as context.
        let mut other = model.clone();
        other.seed = 4;
        let d =
            compare(Simulation::from_valid_model(model).into_world(), Simulation::from_valid_model(other).into_world())
                .expect_err("different seeds differ");
        assert_ne!(d.normal, d.perturbed);
        assert!(d.context.len() <= 8 && d.context.len() as u64 <= d.record);
    }
}
