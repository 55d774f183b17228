//! The endpoint's timers: a fieldless [`Timer`] enum and a table of
//! deadlines indexed by it (the quinn-proto shape). Timers that expire
//! together fire in [`Timer::VALUES`] order (B-TMR-13), so the order never
//! depends on how the deadlines were stored.

use crate::time::Instant;
use std::fmt;

/// One of an endpoint's timers. The discriminant is the timer's code in
/// the digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// The wait in TIME_WAIT: 2×MSL, `time_wait` or Linux's 60 s (RFC 9293
    /// §3.6.1, B-TMR-12); expiry closes the connection.
    TimeWait,
    /// The Linux orphan timeout in FIN_WAIT_2 (B-OPT-01); runs only with
    /// `linux_fin_wait_2_timeout`.
    FinWait2,
    /// RFC 9293 §3.10.8 USER TIMEOUT (B-TMR-11); runs only with
    /// `user_timeout`, while data or FIN is unacknowledged.
    UserTimeout,
    /// The retransmission timer, set to the RTO (RFC 6298 §5,
    /// B-TMR-01..04).
    Retransmit,
    /// The delayed ACK (RFC 1122 §4.2.3.2, B-OPT-07); runs only with
    /// `delayed_ack`.
    DelayedAck,
    /// Zero-window probing (B-TMR-14). Declared last so the digest's
    /// timer codes (`timer as u8`) of the older kinds stay what they were;
    /// it fires between RETRANSMIT and DELAYED_ACK (see `VALUES`).
    Persist,
}

impl Timer {
    /// Firing order for timers with equal deadlines (B-TMR-13).
    pub const VALUES: [Timer; 6] =
        [Timer::TimeWait, Timer::FinWait2, Timer::UserTimeout, Timer::Retransmit, Timer::Persist, Timer::DelayedAck];

    /// The timer's trace name (`DELAYED_ACK`).
    pub const fn name(self) -> &'static str {
        match self {
            Timer::TimeWait => "TIME_WAIT",
            Timer::FinWait2 => "FIN_WAIT_2",
            Timer::UserTimeout => "USER_TIMEOUT",
            Timer::Retransmit => "RETRANSMIT",
            Timer::DelayedAck => "DELAYED_ACK",
            Timer::Persist => "PERSIST",
        }
    }

    /// The timer with this trace name, if any.
    pub fn parse(name: &str) -> Option<Timer> {
        Timer::VALUES.into_iter().find(|t| t.name() == name)
    }
}

impl fmt::Display for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What happened to a timer, as traced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerAction {
    /// A stopped timer was given a deadline.
    Start,
    /// A running timer was given a new deadline.
    Restart,
    /// A running timer was stopped before its deadline.
    Stop,
    /// The timer's deadline passed and it was handled.
    Fire,
}

impl TimerAction {
    /// The action's trace name (`restart`).
    pub const fn name(self) -> &'static str {
        match self {
            TimerAction::Start => "start",
            TimerAction::Restart => "restart",
            TimerAction::Stop => "stop",
            TimerAction::Fire => "fire",
        }
    }
}

/// Deadlines per timer; [`Instant::MAX`] means stopped.
///
/// TIME_WAIT, RETRANSMIT and DELAYED_ACK sit inline. FIN_WAIT_2 (B-OPT-01)
/// and USER_TIMEOUT (B-TMR-11) only run when their options are on, and
/// PERSIST (B-TMR-14) only while a peer's window is closed, so they are
/// boxed: allocated the first time one starts and then kept (a user
/// timeout restarts with every flight), 8 bytes in every endpoint instead
/// of 24.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimerTable {
    common: [Instant; 3],
    rare: Option<Box<[Instant; RARE]>>,
}

impl Default for TimerTable {
    fn default() -> TimerTable {
        TimerTable { common: [Instant::MAX; 3], rare: None }
    }
}

/// How many timers live in the boxed tier.
const RARE: usize = 3;

/// Where a timer's deadline lives.
enum Slot {
    /// An index into the inline array.
    Common(usize),
    /// An index into the boxed array.
    Rare(usize),
}

const fn slot(timer: Timer) -> Slot {
    match timer {
        Timer::TimeWait => Slot::Common(0),
        Timer::Retransmit => Slot::Common(1),
        Timer::DelayedAck => Slot::Common(2),
        Timer::FinWait2 => Slot::Rare(0),
        Timer::UserTimeout => Slot::Rare(1),
        Timer::Persist => Slot::Rare(2),
    }
}

impl TimerTable {
    fn deadline(&self, timer: Timer) -> Instant {
        match slot(timer) {
            Slot::Common(i) => self.common[i],
            Slot::Rare(i) => self.rare.as_ref().map_or(Instant::MAX, |r| r[i]),
        }
    }

    /// The timer's deadline, or `None` when it is stopped.
    pub fn get(&self, timer: Timer) -> Option<Instant> {
        let d = self.deadline(timer);
        (d != Instant::MAX).then_some(d)
    }

    /// Whether the timer has a deadline.
    pub fn is_running(&self, timer: Timer) -> bool {
        self.deadline(timer) != Instant::MAX
    }

    /// Sets a deadline; returns whether the timer was already running.
    pub fn set(&mut self, timer: Timer, deadline: Instant) -> bool {
        let d = match slot(timer) {
            Slot::Common(i) => &mut self.common[i],
            Slot::Rare(i) => &mut self.rare.get_or_insert_with(|| Box::new([Instant::MAX; RARE]))[i],
        };
        std::mem::replace(d, deadline) != Instant::MAX
    }

    /// Stops a timer; returns its deadline if it was running.
    pub fn stop(&mut self, timer: Timer) -> Option<Instant> {
        let d = match slot(timer) {
            Slot::Common(i) => &mut self.common[i],
            Slot::Rare(i) => self.rare.as_mut().map(|r| &mut r[i])?,
        };
        let was = std::mem::replace(d, Instant::MAX);
        (was != Instant::MAX).then_some(was)
    }

    /// The earliest deadline of any running timer.
    pub fn next_deadline(&self) -> Option<Instant> {
        let common = self.common.iter().copied().min().unwrap_or(Instant::MAX);
        let rare = self.rare.as_ref().map_or(Instant::MAX, |r| r.iter().copied().min().unwrap_or(Instant::MAX));
        let d = common.min(rare);
        (d != Instant::MAX).then_some(d)
    }

    /// The first timer, in firing order, whose deadline is at or before `now`.
    pub fn first_expired(&self, now: Instant) -> Option<Timer> {
        Timer::VALUES.into_iter().find(|&t| self.deadline(t) <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// B-TMR-13: equal deadlines fire in the fixed order.
    #[test]
    fn expired_timers_come_out_in_the_fixed_order() {
        let mut table = TimerTable::default();
        let t = Instant::from_nanos(10);
        table.set(Timer::DelayedAck, t);
        table.set(Timer::Retransmit, t);
        table.set(Timer::TimeWait, t);
        assert_eq!(table.next_deadline(), Some(t));
        assert_eq!(table.first_expired(Instant::from_nanos(9)), None);
        assert_eq!(table.first_expired(t), Some(Timer::TimeWait));
        table.stop(Timer::TimeWait);
        assert_eq!(table.first_expired(t), Some(Timer::Retransmit));
    }

    /// The trace digest encodes a timer as its declaration index; PERSIST
    /// was appended, so the older kinds keep their codes.
    #[test]
    fn digest_codes_of_older_timers_are_unchanged() {
        let codes = [Timer::TimeWait, Timer::FinWait2, Timer::UserTimeout, Timer::Retransmit, Timer::DelayedAck]
            .map(|t| t as u8);
        assert_eq!(codes, [0, 1, 2, 3, 4]);
        assert_eq!(Timer::Persist as u8, 5);
    }

    /// B-TMR-13: PERSIST fires after RETRANSMIT and before DELAYED_ACK.
    #[test]
    fn persist_fires_between_retransmit_and_delayed_ack() {
        let mut table = TimerTable::default();
        let t = Instant::from_nanos(10);
        table.set(Timer::DelayedAck, t);
        table.set(Timer::Persist, t);
        assert_eq!(table.next_deadline(), Some(t));
        assert_eq!(table.first_expired(t), Some(Timer::Persist));
        table.set(Timer::Retransmit, t);
        assert_eq!(table.first_expired(t), Some(Timer::Retransmit));
        assert_eq!(Timer::parse("PERSIST"), Some(Timer::Persist));
    }
}
