//! What the world remembers about each endpoint for expectations and
//! summaries: the states it visited, for endpoints someone asked about its
//! full path and every segment it sent with the time, and when a caller
//! asks for them (sweeps do), the times of its phases.

use crate::tcp::{Flags, State};
use crate::time::Instant;

/// The full history of an endpoint someone asked about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Detail {
    /// `(state, entered at)`, from CLOSED at creation.
    pub path: Vec<(State, Instant)>,
    /// `(flags, sent at)` of every segment.
    pub sent: Vec<(Flags, Instant)>,
}

/// Kept for every endpoint, so it stays small: the history lives in a box
/// only for the endpoints that need it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointLog {
    /// Bit `s` set when state `s` was entered (CLOSED always counts).
    pub visited: u16,
    /// Its host crashed; the state is where it stood then.
    pub lost: bool,
    /// Its application called CLOSE (or its listener was closed) and has
    /// not opened it again since. Kept by the world, apart from the
    /// endpoint's own flags, so a CLOSE the endpoint forgot still shows
    /// (see `world::open`).
    pub app_closed: bool,
    /// Segments this endpoint sent that were lost.
    pub drops: u32,
    detail: Option<Box<Detail>>,
}

/// When an endpoint's phases began: kept only when asked for
/// ([`crate::world::World::keep_phase_times`]), as 40 bytes per endpoint
/// are a tenth of a big population's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhaseTimes {
    /// When it first left CLOSED (open or listen); `Instant::MAX` if never.
    pub opened_at: Instant,
    /// When it first reached ESTABLISHED; `Instant::MAX` if never.
    pub established_at: Instant,
    /// When its close began: the first entry to FIN_WAIT_1 or CLOSE_WAIT.
    pub closing_at: Instant,
    /// When it last entered CLOSED; `Instant::MAX` if it did not.
    pub closed_at: Instant,
    /// When the application last received data; `Instant::MAX` if never.
    pub last_data_at: Instant,
}

impl Default for PhaseTimes {
    fn default() -> PhaseTimes {
        PhaseTimes {
            opened_at: Instant::MAX,
            established_at: Instant::MAX,
            closing_at: Instant::MAX,
            closed_at: Instant::MAX,
            last_data_at: Instant::MAX,
        }
    }
}

impl PhaseTimes {
    pub fn on_transition(&mut self, to: State, at: Instant) {
        match to {
            State::Closed => self.closed_at = at,
            State::Established if self.established_at == Instant::MAX => self.established_at = at,
            State::FinWait1 | State::CloseWait if self.closing_at == Instant::MAX => self.closing_at = at,
            _ => {}
        }
        if self.opened_at == Instant::MAX && to != State::Closed {
            self.opened_at = at;
        }
    }
}

impl EndpointLog {
    pub fn new(detailed: bool, created: Instant) -> EndpointLog {
        EndpointLog {
            visited: State::Closed.bit(),
            lost: false,
            app_closed: false,
            drops: 0,
            detail: detailed.then(|| Box::new(Detail { path: vec![(State::Closed, created)], sent: Vec::new() })),
        }
    }

    /// Whether the full path and sends are kept.
    pub fn detailed(&self) -> bool {
        self.detail.is_some()
    }

    /// Whether the endpoint ever reached ESTABLISHED.
    pub fn established(&self) -> bool {
        self.visited(State::Established)
    }

    /// `(flags, sent at)` of every segment (empty unless detailed).
    pub fn sent(&self) -> &[(Flags, Instant)] {
        self.detail.as_ref().map_or(&[], |d| &d.sent)
    }

    /// `(state, entered at)` (empty unless detailed).
    pub fn path(&self) -> &[(State, Instant)] {
        self.detail.as_ref().map_or(&[], |d| &d.path)
    }

    pub fn on_transition(&mut self, to: State, at: Instant) {
        self.visited |= to.bit();
        if let Some(d) = &mut self.detail {
            d.path.push((to, at));
        }
    }

    pub fn on_send(&mut self, flags: Flags, at: Instant) {
        if let Some(d) = &mut self.detail {
            d.sent.push((flags, at));
        }
    }

    pub fn visited(&self, s: State) -> bool {
        self.visited & s.bit() != 0
    }

    /// States in order of entry.
    pub fn states(&self) -> Vec<State> {
        self.path().iter().map(|(s, _)| *s).collect()
    }

    /// Total time spent in `state`, counting a visit still open at `end`.
    pub fn time_in(&self, state: State, end: Instant) -> crate::time::Duration {
        let mut total = crate::time::Duration::ZERO;
        for (i, (s, at)) in self.path().iter().enumerate() {
            if *s == state {
                let left = self.path().get(i + 1).map_or(end, |(_, t)| *t);
                total = total + left.saturating_since(*at);
            }
        }
        total
    }
}
