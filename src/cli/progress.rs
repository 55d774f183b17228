//! The progress bar of long commands (sweep, explore): drawn on stderr
//! from the worker pool's `done` counter, only on a terminal (indicatif
//! hides it otherwise), and cleared before any result is printed.

use indicatif::{HumanCount, ProgressBar, ProgressState, ProgressStyle};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Runs `work` while a bar of `total` runs follows `done`.
pub fn with_progress<T>(total: u64, done: &AtomicU64, work: impl FnOnce() -> T) -> T {
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {rate}  ETA {eta}")
        .expect("a template")
        .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&rate(state.per_sec()));
        });
    bar.set_style(style);
    let finished = AtomicBool::new(false);
    let result = std::thread::scope(|s| {
        let ticker = s.spawn(|| {
            while !finished.load(Ordering::Relaxed) {
                bar.set_position(done.load(Ordering::Relaxed));
                std::thread::park_timeout(std::time::Duration::from_millis(100));
            }
        });
        let result = work();
        finished.store(true, Ordering::Relaxed);
        ticker.thread().unpark();
        result
    });
    bar.finish_and_clear();
    result
}

/// Runs per second in whole runs (`17,549/s`): indicatif's own `{per_sec}`
/// shows four decimals no one reads.
fn rate(per_sec: f64) -> String {
    // `as` saturates, and takes NaN (no time elapsed yet) to 0.
    format!("{}/s", HumanCount(per_sec.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::rate;

    #[test]
    fn the_rate_is_whole_runs_per_second() {
        assert_eq!(rate(17_548.714_9), "17,549/s");
        assert_eq!(rate(0.4), "0/s");
        assert_eq!(rate(f64::NAN), "0/s");
    }
}
