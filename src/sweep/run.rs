//! Running a sweep: the model of every grid point, then the runs of a
//! shard measured over the worker pool, each into the row of its index.
//! No printing and no files; the caller polls the pool's `done` counter
//! to show progress and raises its `stop` flag to interrupt.

use super::{Axis, RunRow, Totals, run_measured, run_seed};
use crate::measure::expr::Measure;
use crate::model::Model;
use crate::parallel::{self, Pool};
use crate::scenario::{self, LoadError, Override};

/// Loads the model of every point of `points` (from [`super::grid`]):
/// the file with `base` overrides, then each axis's value. The first bad
/// point's errors come back.
pub fn point_models(
    bytes: &[u8],
    base: &[Override],
    axes: &[Axis],
    points: &[Vec<usize>],
) -> Result<Vec<Model>, Vec<LoadError>> {
    points
        .iter()
        .map(|point| {
            let mut overrides = base.to_vec();
            for (axis, &value) in axes.iter().zip(point) {
                overrides.extend(axis.values[value].1.iter().cloned());
            }
            // An error names the flag the user wrote (`--vary`, `--loss`),
            // not the `--set` it became.
            scenario::load(bytes, &overrides).map_err(|mut errors| {
                for e in &mut errors {
                    for (axis, &value) in axes.iter().zip(point) {
                        for o in &axis.values[value].1 {
                            e.message = e.message.replace(&o.flag(), &axis.flag(value));
                        }
                    }
                }
                errors
            })
        })
        .collect()
}

/// Runs `first..last` of a sweep of `seeds` seeds per point of `models`
/// over `pool`. The rows are in run order and the totals are sums, so both
/// are the same for any number of threads; `None` if interrupted.
pub fn execute(models: &[Model], seeds: u64, first: u64, last: u64, pool: Pool<'_>) -> Option<(Vec<RunRow>, Totals)> {
    execute_measured(models, &[], seeds, first, last, pool)
}

/// As [`execute`], each row also holding the value of every measure of
/// `measures` (its CSV cell, empty when the run has none).
pub fn execute_measured(
    models: &[Model],
    measures: &[Measure],
    seeds: u64,
    first: u64,
    last: u64,
    pool: Pool<'_>,
) -> Option<(Vec<RunRow>, Totals)> {
    let count = (last - first) as usize;
    let (rows, states) = parallel::map_ordered(count, pool, Totals::default, |totals, k| {
        let run = first + k as u64;
        let point = (run / seeds) as usize;
        let seed = run_seed(models[point].seed, run % seeds);
        run_measured(&models[point], measures, run, point, seed, totals)
    })?;
    let mut totals = Totals::default();
    for state in &states {
        totals.add(state);
    }
    Some((rows, totals))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::grid;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    const FILE: &[u8] = include_bytes!("../../sims/lossy-transfer.ron");

    fn models() -> Vec<Model> {
        let axis = Axis {
            column: "loss".into(),
            values: ["0", "0.1"].iter().map(|v| (v.to_string(), scenario::loss_overrides(FILE, v))).collect(),
        };
        let axes = [axis];
        point_models(FILE, &[], &axes, &grid(&axes)).expect("the sim loads")
    }

    fn execute_with(models: &[Model], jobs: usize, first: u64, last: u64) -> (Vec<RunRow>, Totals) {
        let (stop, done) = (AtomicBool::new(false), AtomicU64::new(0));
        let result = execute(models, 10, first, last, Pool { jobs, stop: &stop, done: &done }).expect("not stopped");
        assert_eq!(done.load(Ordering::Relaxed), last - first, "one tick per run");
        result
    }

    /// Rows come back in run order with their point and seed, and rows and
    /// totals are the same for one thread or three.
    #[test]
    fn rows_and_totals_do_not_depend_on_the_thread_count() {
        let models = models();
        assert_eq!(models.len(), 2);
        let (rows, totals) = execute_with(&models, 1, 3, 17);
        let runs: Vec<u64> = rows.iter().map(|r| r.run).collect();
        assert_eq!(runs, (3..17).collect::<Vec<u64>>());
        assert!(rows.iter().all(|r| r.point == (r.run / 10) as usize));
        assert!(rows.iter().all(|r| r.seed == run_seed(models[r.point].seed, r.run % 10)));
        assert_eq!(execute_with(&models, 3, 3, 17), (rows, totals));
    }

    /// A raised stop flag (Ctrl-C) gives no rows at all.
    #[test]
    fn an_interrupted_sweep_gives_nothing() {
        let (stop, done) = (AtomicBool::new(true), AtomicU64::new(0));
        assert!(execute(&models(), 10, 0, 20, Pool { jobs: 2, stop: &stop, done: &done }).is_none());
    }
}
