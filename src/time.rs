//! Virtual time: an [`Instant`] since the start of a run and a [`Duration`],
//! both integer nanoseconds.
//!
//! There is deliberately no conversion from `std::time`: simulated time never
//! meets the wall clock. Arithmetic saturates rather than wrapping, so a
//! deadline computed from an absurd duration lands at the end of time instead
//! of in the past.

use std::fmt;

/// A point in virtual time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

/// A span of virtual time in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(u64);

impl Instant {
    /// The start of every run.
    pub const ZERO: Instant = Instant(0);
    /// The end of time; used as "never" by timer tables.
    pub const MAX: Instant = Instant(u64::MAX);

    /// The instant `ns` nanoseconds after the start of the run.
    pub const fn from_nanos(ns: u64) -> Instant {
        Instant(ns)
    }

    /// Nanoseconds since the start of the run.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Time elapsed since `earlier`, or zero if `earlier` is later.
    pub const fn saturating_since(self, earlier: Instant) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl Duration {
    /// No time at all.
    pub const ZERO: Duration = Duration(0);
    /// The longest span (about 584 years); saturating arithmetic stops here.
    pub const MAX: Duration = Duration(u64::MAX);

    /// A span of `ns` nanoseconds.
    pub const fn from_nanos(ns: u64) -> Duration {
        Duration(ns)
    }

    /// A span of `us` microseconds, saturating.
    pub const fn from_micros(us: u64) -> Duration {
        Duration(us.saturating_mul(1_000))
    }

    /// A span of `ms` milliseconds, saturating.
    pub const fn from_millis(ms: u64) -> Duration {
        Duration(ms.saturating_mul(1_000_000))
    }

    /// A span of `s` seconds, saturating.
    pub const fn from_secs(s: u64) -> Duration {
        Duration(s.saturating_mul(1_000_000_000))
    }

    /// The span in nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The span `k` times over, or [`Duration::MAX`] on overflow.
    pub const fn saturating_mul(self, k: u64) -> Duration {
        Duration(self.0.saturating_mul(k))
    }

    /// The sum, or [`Duration::MAX`] on overflow.
    pub const fn saturating_add(self, other: Duration) -> Duration {
        Duration(self.0.saturating_add(other.0))
    }

    /// The difference, or zero if `other` is longer.
    pub const fn saturating_sub(self, other: Duration) -> Duration {
        Duration(self.0.saturating_sub(other.0))
    }
}

impl std::ops::Add<Duration> for Instant {
    type Output = Instant;
    /// Saturates at [`Instant::MAX`].
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.0))
    }
}

impl std::ops::Add for Duration {
    type Output = Duration;
    fn add(self, d: Duration) -> Duration {
        self.saturating_add(d)
    }
}

/// Formats as milliseconds with microsecond precision (`1000.000`), the unit
/// of the text trace.
impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0 / 1_000;
        f.pad(&format!("{}.{:03}", us / 1_000, us % 1_000))
    }
}

/// Formats as milliseconds, with a fraction only when needed (`4000 ms`,
/// `0.5 ms`).
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0 / 1_000_000;
        let rest_ns = self.0 % 1_000_000;
        if rest_ns == 0 {
            f.pad(&format!("{ms} ms"))
        } else {
            let frac = format!("{rest_ns:06}");
            f.pad(&format!("{ms}.{} ms", frac.trim_end_matches('0')))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instant_prints_milliseconds_with_microseconds() {
        assert_eq!(Instant::from_nanos(1_234_567_891).to_string(), "1234.567");
        assert_eq!(Instant::ZERO.to_string(), "0.000");
    }

    #[test]
    fn duration_prints_trimmed_milliseconds() {
        assert_eq!(Duration::from_millis(4000).to_string(), "4000 ms");
        assert_eq!(Duration::from_micros(500).to_string(), "0.5 ms");
    }

    #[test]
    fn adding_saturates_at_the_end_of_time() {
        assert_eq!(Instant::from_nanos(5) + Duration::MAX, Instant::MAX);
    }
}
