//! The one worker pool: an order-preserving parallel map over `0..count`,
//! used by sweeps, `tcpsim test` and explore.
//!
//! **Output never depends on the thread count.** Workers claim indexes
//! from a shared counter, but each result is stored in the slot of its
//! index, so the returned vector is in index order whichever thread ran
//! what. Per-worker state (running totals) is handed back unordered: the
//! caller may only combine it with operations that do not depend on the
//! order (sums, minima, a sort afterwards). Nothing here prints.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The number of worker threads: `requested`, or one per core when absent;
/// at least one.
pub fn jobs(requested: Option<usize>) -> usize {
    requested.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
}

/// How a map runs: how many threads, when to stop, and a count of items
/// done that a caller may poll for progress.
#[derive(Clone, Copy)]
pub struct Pool<'a> {
    /// Worker threads, at least 1 (1 runs on the calling thread).
    pub jobs: usize,
    /// Raised (by Ctrl-C) to stop claiming items; the map then returns `None`.
    pub stop: &'a AtomicBool,
    /// Incremented once per finished item.
    pub done: &'a AtomicU64,
}

/// Items are claimed a few at a time when there are many of them (one
/// item can be microseconds, and a shared counter per item would be the
/// bottleneck), one at a time when there are few (to share them out).
fn chunk(count: usize, jobs: usize) -> usize {
    (count / (jobs * 64)).clamp(1, 16)
}

/// Runs `f(state, index)` for every index in `0..count` over `pool.jobs`
/// threads, each thread with its own `state` from `init`. Returns the
/// results in index order and every thread's final state (in no
/// particular order), or `None` if `pool.stop` was raised.
pub fn map_ordered<S, R, I, F>(count: usize, pool: Pool<'_>, init: I, f: F) -> Option<(Vec<R>, Vec<S>)>
where
    S: Send,
    R: Send + Sync,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, usize) -> R + Sync,
{
    let workers = pool.jobs.max(1).min(count.max(1));
    let chunk = chunk(count, workers);
    let next = AtomicUsize::new(0);
    // Each result goes into the slot of its index: the order is the
    // indexes', not the threads'.
    let slots: Vec<OnceLock<R>> = (0..count).map(|_| OnceLock::new()).collect();
    let states: Mutex<Vec<S>> = Mutex::new(Vec::with_capacity(workers));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let mut state = init();
                'work: loop {
                    let first = next.fetch_add(chunk, Ordering::Relaxed);
                    if first >= count {
                        break;
                    }
                    let end = (first + chunk).min(count);
                    for (slot, index) in slots[first..end].iter().zip(first..) {
                        if pool.stop.load(Ordering::Relaxed) {
                            break 'work;
                        }
                        let claimed_once = slot.set(f(&mut state, index)).is_ok();
                        debug_assert!(claimed_once, "each index is claimed by one worker");
                        pool.done.fetch_add(1, Ordering::Relaxed);
                    }
                }
                states.lock().expect("no worker panics holding the lock").push(state);
            });
        }
    });
    if pool.stop.load(Ordering::Relaxed) {
        return None;
    }
    let results = slots.into_iter().map(|r| r.into_inner().expect("every index ran")).collect();
    Some((results, states.into_inner().expect("workers are done")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn squares(count: usize, jobs: usize) -> (Vec<usize>, u64) {
        let (stop, done) = (AtomicBool::new(false), AtomicU64::new(0));
        let pool = Pool { jobs, stop: &stop, done: &done };
        let (results, states) = map_ordered(
            count,
            pool,
            || 0u64,
            |sum, i| {
                *sum += i as u64;
                i * i
            },
        )
        .expect("not stopped");
        assert_eq!(done.load(Ordering::Relaxed), count as u64);
        (results, states.iter().sum())
    }

    #[test]
    fn results_are_in_index_order_for_any_thread_count() {
        for count in [0, 1, 7, 1000, 5000] {
            let expected: Vec<usize> = (0..count).map(|i| i * i).collect();
            let sum = (0..count as u64).sum::<u64>();
            for jobs in [1, 2, 3, 8] {
                assert_eq!(squares(count, jobs), (expected.clone(), sum), "count {count}, jobs {jobs}");
            }
        }
    }

    #[test]
    fn a_raised_stop_flag_gives_none() {
        let (stop, done) = (AtomicBool::new(true), AtomicU64::new(0));
        let pool = Pool { jobs: 2, stop: &stop, done: &done };
        assert!(map_ordered(100, pool, || (), |_, i| i).is_none());
        assert_eq!(done.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn jobs_are_at_least_one() {
        assert_eq!(jobs(Some(0)), 1);
        assert_eq!(jobs(Some(3)), 3);
        assert!(jobs(None) >= 1);
    }
}
