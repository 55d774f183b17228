//! Shrinking a failing run to the few link decisions that cause it.
//!
//! A seeded run that fails its `expect` block is replayed from its
//! recorded link decisions ([`crate::replay`]); delta debugging (Zeller and
//! Hildebrandt, "Simplifying and Isolating Failure-Inducing Input", 2002)
//! then removes decisions while the run still fails the same way, until no
//! single decision can go. "The same way" means the same set of failed
//! checks (endpoint and field) and the same run outcome.

use crate::model::Model;
use crate::simulation::{Finished, Simulation};
use crate::trace::NullSink;
use crate::world::{Outcome, RecordedFate};
use std::collections::{BTreeMap, BTreeSet};

/// How a run fails: which checks failed (endpoint, field) and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The failed checks: the endpoint checked (connection and name; `None` for
    /// checks over the whole run) and what was checked.
    pub checks: BTreeSet<(Option<(u32, String)>, String)>,
    /// How the run ended: completed, or the limit that stopped it.
    pub run: Outcome,
}

/// How a finished run fails its expectations; `None` if it meets them all
/// (or has none).
pub fn failure_of_run(finished: &Finished) -> Option<Failure> {
    let checks: BTreeSet<_> = finished.failed_checks().map(|c| (c.endpoint.clone(), c.what.clone())).collect();
    (!checks.is_empty()).then_some(Failure { checks, run: finished.outcome })
}

/// Runs `base` with `fates` added; how it fails, if it does.
pub fn run_with(base: &Model, fates: &[RecordedFate]) -> (Finished, Option<Failure>) {
    let mut model = base.clone();
    model.faults.extend(fates.iter().map(RecordedFate::to_fault));
    let finished = Simulation::from_valid_model(model).run(&mut NullSink);
    let failure = failure_of_run(&finished);
    (finished, failure)
}

/// The result of [`ddmin`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Minimized<T> {
    /// The 1-minimal subset, in the items' order.
    pub kept: Vec<T>,
    /// Distinct subsets tested.
    pub tests: u64,
}

/// Delta debugging: a subset of `items` on which `fails` still holds and
/// from which no single item can be removed (1-minimal). `fails(items)`
/// must hold. Subsets keep the items' order; each is tested at most once.
pub fn ddmin<T: Clone>(items: &[T], mut fails: impl FnMut(&[T]) -> bool) -> Minimized<T> {
    let mut seen: BTreeMap<Vec<usize>, bool> = BTreeMap::new();
    let mut test = |idx: &[usize]| -> bool {
        if let Some(&r) = seen.get(idx) {
            return r;
        }
        let subset: Vec<T> = idx.iter().map(|&i| items[i].clone()).collect();
        let r = fails(&subset);
        seen.insert(idx.to_vec(), r);
        r
    };
    let mut current: Vec<usize> = (0..items.len()).collect();
    if test(&[]) {
        current.clear();
    }
    let mut n = 2usize;
    while current.len() >= 2 {
        let chunks: Vec<Vec<usize>> = split(&current, n);
        let mut reduced = false;
        for chunk in &chunks {
            if test(chunk) {
                current = chunk.clone();
                n = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && n > 2 {
            for i in 0..chunks.len() {
                let complement: Vec<usize> =
                    chunks.iter().enumerate().filter(|(j, _)| *j != i).flat_map(|(_, c)| c.iter().copied()).collect();
                if test(&complement) {
                    current = complement;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n >= current.len() {
                break;
            }
            n = (2 * n).min(current.len());
        }
    }
    // With two chunks the complements are the chunks themselves, so a
    // final pass makes sure no single item can go.
    if current.len() == 1 && test(&[]) {
        current.clear();
    }
    let tests = seen.len() as u64;
    Minimized { kept: current.iter().map(|&i| items[i].clone()).collect(), tests }
}

/// `items` in `n` contiguous chunks of nearly equal size.
fn split(items: &[usize], n: usize) -> Vec<Vec<usize>> {
    let n = n.min(items.len()).max(1);
    let (size, extra) = (items.len() / n, items.len() % n);
    let mut out = Vec::with_capacity(n);
    let mut at = 0;
    for i in 0..n {
        let len = size + usize::from(i < extra);
        out.push(items[at..at + len].to_vec());
        at += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The failure needs items 3 and 7 together: ddmin finds exactly them.
    #[test]
    fn ddmin_finds_the_pair_that_fails_together() {
        let items: Vec<u32> = (0..40).collect();
        let m = ddmin(&items, |s| s.contains(&3) && s.contains(&7));
        assert_eq!(m.kept, vec![3, 7]);
        assert!(m.tests < 100, "{} tests", m.tests);
    }

    #[test]
    fn ddmin_result_is_one_minimal() {
        // Fails when the subset holds at least three multiples of 5.
        let items: Vec<u32> = (0..64).collect();
        let fails = |s: &[u32]| s.iter().filter(|x| *x % 5 == 0).count() >= 3;
        let m = ddmin(&items, fails);
        assert_eq!(m.kept.len(), 3);
        for i in 0..m.kept.len() {
            let mut less = m.kept.clone();
            less.remove(i);
            assert!(!fails(&less));
        }
    }

    #[test]
    fn ddmin_empties_when_nothing_is_needed() {
        assert_eq!(ddmin(&[1, 2, 3], |_| true).kept, Vec::<i32>::new());
        assert_eq!(ddmin(&[1, 2, 3], |s| s.contains(&2)).kept, vec![2]);
        assert_eq!(ddmin(&[9], |s| s.contains(&9)).kept, vec![9]);
    }

    #[test]
    fn chunks_cover_everything_in_order() {
        let items: Vec<usize> = (0..10).collect();
        let parts = split(&items, 3);
        assert_eq!(parts, vec![vec![0, 1, 2, 3], vec![4, 5, 6], vec![7, 8, 9]]);
        assert_eq!(split(&items, 20).len(), 10);
    }
}
