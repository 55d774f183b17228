//! The progress bar of long commands (sweep, explore): drawn on stderr
//! from the worker pool's `done` counter, only on a terminal (indicatif
//! hides it otherwise), and cleared before any result is printed.

use indicatif::{ProgressBar, ProgressStyle};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Runs `work` while a bar of `total` runs follows `done`.
pub fn with_progress<T>(total: u64, done: &AtomicU64, work: impl FnOnce() -> T) -> T {
    let bar = ProgressBar::new(total);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {per_sec}  ETA {eta}").expect("a template"));
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
