//! A time window of a run (`--from-ms`, `--to-ms`): what part of a run a
//! picture shows.

use crate::time::Instant;
use crate::trace::Filter;

/// A closed interval of virtual time; an open end reaches the run's start
/// or end. The pictures take every event of the run and show the window's
/// part, so what happened before it (the SYNs' ISNs, the last ACK, the
/// values a step line starts from) is still known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// The first instant shown; `None`: the run's start.
    pub from: Option<Instant>,
    /// The last instant shown; `None`: the run's end.
    pub to: Option<Instant>,
}

impl Window {
    /// The whole run.
    pub const ALL: Window = Window { from: None, to: None };

    /// The window of a trace filter's `--from-ms` and `--to-ms`.
    pub fn of_filter(filter: &Filter) -> Window {
        Window { from: filter.from, to: filter.to }
    }

    /// Whether `t` is inside.
    pub fn contains(&self, t: Instant) -> bool {
        self.from.is_none_or(|f| f <= t) && self.to.is_none_or(|to| t <= to)
    }

    /// Whether `t` is after the window's end.
    pub fn is_after(&self, t: Instant) -> bool {
        self.to.is_some_and(|to| to < t)
    }

    /// Whether either end is set.
    pub fn is_bounded(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }

    /// The time span drawn: the window's ends where set, else the first
    /// and last of `times` (`None` when there are none and an end is open).
    pub fn span(&self, times: impl Iterator<Item = Instant> + Clone) -> Option<(Instant, Instant)> {
        let lo = self.from.or_else(|| times.clone().min())?;
        let hi = self.to.or_else(|| times.max())?;
        Some((lo, hi.max(lo)))
    }

    /// A description for a picture's title line (`from 100 ms to 300 ms`),
    /// empty for the whole run.
    pub fn describe(&self) -> String {
        let ms = |t: Instant| super::axes::ms_label(t.as_nanos());
        match (self.from, self.to) {
            (None, None) => String::new(),
            (Some(f), None) => format!("from {} ms", ms(f)),
            (None, Some(t)) => format!("up to {} ms", ms(t)),
            (Some(f), Some(t)) => format!("{} ms to {} ms", ms(f), ms(t)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_contains_its_ends() {
        let w = Window { from: Some(Instant::from_nanos(10)), to: Some(Instant::from_nanos(20)) };
        assert!(!w.contains(Instant::from_nanos(9)));
        assert!(w.contains(Instant::from_nanos(10)));
        assert!(w.contains(Instant::from_nanos(20)));
        assert!(!w.contains(Instant::from_nanos(21)));
        assert!(w.is_after(Instant::from_nanos(21)));
        assert!(Window::ALL.contains(Instant::MAX));
    }
}
