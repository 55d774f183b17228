//! Exhaustive exploration: instead of sampling seeds, run a small scenario
//! once for every way the network can treat its first K segments (passed,
//! dropped, and where asked duplicated or delayed) and group the runs by
//! what happened to the endpoints.
//!
//! Random link elements are turned off, so each run is decided by its
//! fault choices alone. Segment `j` is the `j`th segment sent onto a link
//! in that run, by anyone (as scripted segment faults count), so the same number can name different segments in different
//! runs: that is the point, since an early loss changes what is sent next.
//! Runs are spread over the worker pool ([`crate::parallel`]); results
//! are merged with operations that do not depend on the order (sums and
//! minima), so the report is the same for any number of threads.

use crate::link::DropReason;
use crate::model::{Fault, Filter, Model, SegmentFaultAction};
use crate::parallel::{self, Pool};
use crate::simulation::Simulation;
use crate::tcp::{CloseReason, State};
use crate::time::Duration;
use crate::trace::{NullSink, TraceEvent, TraceKind, TraceSink};
use crate::world::{Histories, Outcome};
use indexmap::IndexMap;

/// What can happen to one explored segment besides passing untouched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Choice {
    /// The segment is lost (a scripted drop, reason `rule`).
    Drop,
    /// A second copy arrives this much later.
    Duplicate(Duration),
    /// The segment arrives this much later (so later ones overtake it).
    Delay(Duration),
}

impl Choice {
    fn action(self) -> SegmentFaultAction {
        match self {
            Choice::Drop => SegmentFaultAction::Drop,
            Choice::Duplicate(d) => SegmentFaultAction::Duplicate(d),
            Choice::Delay(d) => SegmentFaultAction::Delay(d),
        }
    }

    /// The fault that treats segment `nth` this way.
    pub fn fault(self, nth: u32) -> Fault {
        Fault::Segment { filter: Filter::default(), nth, times: 1, action: self.action() }
    }

    /// Short words for people: `drop #3`.
    pub fn describe(self, nth: u32) -> String {
        let ms = crate::scenario::edit::exact_ms;
        match self {
            Choice::Drop => format!("drop #{nth}"),
            Choice::Duplicate(d) => format!("duplicate #{nth} (+{} ms)", ms(d)),
            Choice::Delay(d) => format!("delay #{nth} (+{} ms)", ms(d)),
        }
    }
}

/// The space to explore: the first `segments` segments, each passed or
/// given one of `choices`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// How many segments, from the first sent in a run, are explored.
    pub segments: u32,
    /// What may happen to each of them besides passing; each run takes one of
    /// these, or none, per segment.
    pub choices: Vec<Choice>,
}

impl Plan {
    /// (1 + choices)^segments, or `None` past u64.
    pub fn runs(&self) -> Option<u64> {
        (1 + self.choices.len() as u64).checked_pow(self.segments)
    }

    /// The faults of run `index`: its digits in base 1 + choices, segment 1
    /// the least significant; digit 0 passes the segment.
    pub fn faults_of(&self, mut index: u64) -> Vec<(u32, Choice)> {
        let base = 1 + self.choices.len() as u64;
        let mut out = Vec::new();
        for nth in 1..=self.segments {
            let digit = index % base;
            index /= base;
            if digit > 0 {
                out.push((nth, self.choices[digit as usize - 1]));
            }
        }
        out
    }
}

/// What one endpoint went through in one explored run: the states it
/// passed, in order, and why its connection closed (if it did).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EndpointHistory {
    /// The endpoint's name.
    pub name: String,
    /// Its connection number.
    pub conn: u32,
    /// Every state it entered, in order, starting with CLOSED.
    pub path: Vec<State>,
    /// Why it reached CLOSED; `None` if it did not end CLOSED.
    pub reason: Option<CloseReason>,
}

/// What a run came to: the endpoints' state paths and close reasons,
/// whether the file's expectations hold (`None` without an `expect`
/// block), and how the run ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OutcomeKey {
    /// Every endpoint of the run, in `ep` order.
    pub endpoints: Vec<EndpointHistory>,
    /// Whether the file's expectations hold; `None` without an `expect` block.
    pub expectations_hold: Option<bool>,
    /// How the run ended: completed, or the limit that stopped it.
    pub run: Outcome,
}

/// The runs that came to one outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// The outcome shared by the group's runs.
    pub key: OutcomeKey,
    /// How many runs came to it.
    pub runs: u64,
    /// The fewest faults that lead here (then the earliest segments).
    pub smallest: Vec<(u32, Choice)>,
    /// The first run index that led here; groups are listed in this order.
    pub first_run: u64,
}

fn smaller(a: &[(u32, Choice)], b: &[(u32, Choice)]) -> bool {
    (a.len(), a) < (b.len(), b)
}

impl Group {
    fn merge(&mut self, other: Group) {
        self.runs += other.runs;
        if smaller(&other.smallest, &self.smallest) {
            self.smallest = other.smallest;
        }
        self.first_run = self.first_run.min(other.first_run);
    }
}

/// Adds `group` to the group of its outcome in `groups`.
fn add(groups: &mut IndexMap<OutcomeKey, Group>, group: Group) {
    match groups.get_mut(&group.key) {
        Some(g) => g.merge(group),
        None => {
            groups.insert(group.key.clone(), group);
        }
    }
}

/// The model of one run: `base` (random link elements already off) with
/// the run's faults added after the file's own.
pub fn model_of(base: &Model, faults: &[(u32, Choice)]) -> Model {
    let mut model = base.clone();
    model.faults.extend(faults.iter().map(|&(nth, c)| c.fault(nth)));
    model
}

/// Runs one point of the space and says what it came to.
pub fn outcome_of(model: Model) -> OutcomeKey {
    // The outcome is every endpoint's path, so every history is kept.
    let finished = Simulation::from_valid_model(model).keep_histories(Histories::All).run(&mut NullSink);
    let world = &finished.world;
    let endpoints = world
        .endpoints()
        .map(|e| EndpointHistory {
            name: e.name.to_string(),
            conn: e.conn,
            path: e.log.states(),
            reason: e.tcp.close_reason(),
        })
        .collect();
    let expectations_hold = world.model().expect.as_ref().map(|_| finished.checks.iter().all(|c| c.ok));
    OutcomeKey { endpoints, expectations_hold, run: finished.outcome }
}

/// Runs every point of `plan` over `pool`. Returns the groups in order
/// of first occurrence, or `None` when the pool's `stop` was raised.
pub fn explore(base: &Model, plan: &Plan, pool: Pool<'_>) -> Option<Vec<Group>> {
    let total = plan.runs().expect("the caller checked the size");
    let count = usize::try_from(total).expect("a plan the caller checked fits in memory");
    let base = base.clone().without_link_randomness();
    // Each worker groups its own runs; the groups are then merged with
    // sums and minima, which do not depend on which worker ran what.
    let (_, locals) = parallel::map_ordered(count, pool, IndexMap::new, |local, index| {
        let faults = plan.faults_of(index as u64);
        let key = outcome_of(model_of(&base, &faults));
        add(local, Group { key, runs: 1, smallest: faults, first_run: index as u64 });
    })?;
    let mut merged: IndexMap<OutcomeKey, Group> = IndexMap::new();
    for group in locals.into_iter().flat_map(IndexMap::into_values) {
        add(&mut merged, group);
    }
    let mut groups: Vec<Group> = merged.into_values().collect();
    groups.sort_by_key(|g| g.first_run);
    Some(groups)
}

/// The first `upto` segments sent in the run with `faults`, for people:
/// `client FIN|ACK`, `server ACK 1000 bytes`.
pub fn segments_of(base: &Model, faults: &[(u32, Choice)], upto: u32) -> Vec<String> {
    struct FirstSends {
        upto: usize,
        seen: Vec<String>,
        /// The last event was a send kept in `seen`.
        just_sent: bool,
    }
    impl TraceSink for FirstSends {
        fn record(&mut self, e: &TraceEvent<'_>) {
            let just_sent = std::mem::take(&mut self.just_sent);
            match e.kind {
                TraceKind::Send { seg, .. } if self.seen.len() < self.upto => {
                    let bytes = if seg.len > 0 { format!(" {} bytes", seg.len) } else { String::new() };
                    self.seen.push(format!("{} {}{bytes}", e.endpoint, seg.flags));
                    self.just_sent = true;
                }
                // Segment faults do not count what never reached a link
                // (its drop is recorded right after its send).
                TraceKind::Drop { reason: DropReason::Partition | DropReason::NoRoute, .. } if just_sent => {
                    self.seen.pop();
                }
                _ => {}
            }
        }
    }
    let mut sink = FirstSends { upto: upto as usize, seen: Vec::new(), just_sent: false };
    Simulation::from_valid_model(model_of(&base.clone().without_link_randomness(), faults)).run(&mut sink);
    sink.seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_indexes_count_through_every_combination() {
        let d = Duration::from_millis(5);
        let plan = Plan { segments: 3, choices: vec![Choice::Drop, Choice::Delay(d)] };
        assert_eq!(plan.runs(), Some(27));
        assert_eq!(plan.faults_of(0), vec![]);
        assert_eq!(plan.faults_of(1), vec![(1, Choice::Drop)]);
        assert_eq!(plan.faults_of(2), vec![(1, Choice::Delay(d))]);
        assert_eq!(plan.faults_of(3), vec![(2, Choice::Drop)]);
        assert_eq!(plan.faults_of(26), vec![(1, Choice::Delay(d)), (2, Choice::Delay(d)), (3, Choice::Delay(d))]);
        let all: std::collections::BTreeSet<Vec<(u32, Choice)>> = (0..27).map(|i| plan.faults_of(i)).collect();
        assert_eq!(all.len(), 27);
        assert_eq!(Plan { segments: 64, choices: vec![Choice::Drop] }.runs(), None);
    }

    #[test]
    fn fewer_faults_are_smaller_then_earlier_segments() {
        let drop = |n: &[u32]| n.iter().map(|&k| (k, Choice::Drop)).collect::<Vec<_>>();
        assert!(smaller(&drop(&[]), &drop(&[1])));
        assert!(smaller(&drop(&[5]), &drop(&[1, 2])));
        assert!(smaller(&drop(&[1, 7]), &drop(&[2, 3])));
    }
}
