//! What an endpoint hands back: segments to send and notes for the trace.
//!
//! The caller owns one [`Output`] and passes it to every call, then drains
//! it at the end of the step. This keeps the endpoint free of queues (and of
//! their memory) while still letting a step's segments leave together, in
//! order, as the step rule requires.

use super::segment::{Flags, Segment};
use super::state::{CloseReason, State};
use super::timer::{Timer, TimerAction};
use crate::rule::Rule;
use crate::time::{Duration, Instant};
use std::fmt;

/// An application call (RFC 9293 §3.10.1–§3.10.5, plus read pausing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    /// Passive OPEN (§3.10.1): [`Endpoint::listen`](super::Endpoint::listen).
    Listen,
    /// Active OPEN (§3.10.1): [`Endpoint::connect`](super::Endpoint::connect).
    Connect,
    /// SEND (§3.10.2): [`Endpoint::send`](super::Endpoint::send).
    Send,
    /// CLOSE (§3.10.4): [`Endpoint::close`](super::Endpoint::close).
    Close,
    /// ABORT (§3.10.5): [`Endpoint::abort`](super::Endpoint::abort).
    Abort,
    /// Stop reading, so the receive window shrinks as bytes arrive:
    /// [`Endpoint::pause_read`](super::Endpoint::pause_read). Not an RFC call.
    PauseRead,
    /// Read everything buffered and reopen the window:
    /// [`Endpoint::resume_read`](super::Endpoint::resume_read). Not an RFC
    /// call.
    ResumeRead,
}

impl Call {
    /// The call's name in traces (`pause_read`).
    pub const fn name(self) -> &'static str {
        match self {
            Call::Listen => "listen",
            Call::Connect => "connect",
            Call::Send => "send",
            Call::Close => "close",
            Call::Abort => "abort",
            Call::PauseRead => "pause_read",
            Call::ResumeRead => "resume_read",
        }
    }
}

/// Errors returned to the application; nothing is sent and the state does
/// not change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallError {
    /// OPEN on a connection that already exists (B-APP-04).
    ConnectionExists,
    /// SEND, CLOSE or ABORT in CLOSED (B-APP-05).
    ConnectionDoesNotExist,
    /// SEND or CLOSE after our FIN (B-APP-09, B-APP-16).
    ConnectionClosing,
    /// SEND on a listening endpoint (B-APP-06).
    RemoteUnspecified,
}

impl CallError {
    /// The error's trace name (`CONNECTION_EXISTS`), after RFC 9293
    /// §3.10's error messages.
    pub const fn name(self) -> &'static str {
        match self {
            CallError::ConnectionExists => "CONNECTION_EXISTS",
            CallError::ConnectionDoesNotExist => "CONNECTION_DOES_NOT_EXIST",
            CallError::ConnectionClosing => "CONNECTION_CLOSING",
            CallError::RemoteUnspecified => "REMOTE_UNSPECIFIED",
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What caused a transition, for the trace's `cause` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cause {
    /// An application call; printed `app <call>`.
    App(Call),
    /// An arriving segment with these control bits; printed `recv <flags>`.
    Recv(Flags),
    /// A timer's expiry; printed `timer <TIMER>`.
    Timer(Timer),
    /// A CLOSE the application made earlier and the endpoint deferred
    /// (B-APP-13), applied now: no call is made at this time.
    PendingClose,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::App(call) => write!(f, "app {}", call.name()),
            Cause::Recv(flags) => write!(f, "recv {flags}"),
            Cause::Timer(timer) => write!(f, "timer {timer}"),
            Cause::PendingClose => f.write_str("pending close"),
        }
    }
}

/// Events the endpoint raises for its application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AppEvent {
    /// The connection reached ESTABLISHED.
    Connected,
    /// Bytes handed to the application; `foreign` of them did not come from
    /// the peer's stream at the expected offset (e.g. an old incarnation's
    /// segment).
    Data {
        /// Bytes delivered, in order.
        bytes: u32,
        /// Of `bytes`, those that were not the peer's at that offset.
        foreign: u32,
    },
    /// End of stream: the peer's FIN, read after all its data.
    PeerClosed,
    /// A segment's r1-th retransmission was sent (RFC 9293 §3.8.3 R1,
    /// B-TMR-08). Raised once per segment; the state does not change.
    RetransmitWarning,
    /// The connection reached CLOSED, for this reason.
    Closed(CloseReason),
}

impl AppEvent {
    /// The event's trace name (`PEER_CLOSED`), without its fields.
    pub const fn name(self) -> &'static str {
        match self {
            AppEvent::Connected => "CONNECTED",
            AppEvent::Data { .. } => "DATA",
            AppEvent::PeerClosed => "PEER_CLOSED",
            AppEvent::RetransmitWarning => "RETRANSMIT_WARNING",
            AppEvent::Closed(_) => "CLOSED",
        }
    }
}

/// One trace-worthy fact from the endpoint, in the order it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// The state changed; written only by `set_state`.
    Transition {
        /// The state left.
        from: State,
        /// The state entered.
        to: State,
        /// What the endpoint was handling when it changed state.
        cause: Cause,
        /// The behaviour (`B-<AREA>-NN`) that made the transition.
        rule: Rule,
        /// Set when `to` is CLOSED.
        reason: Option<CloseReason>,
    },
    /// A timer started, restarted, stopped or fired.
    Timer {
        /// Which timer.
        timer: Timer,
        /// What happened to it.
        action: TimerAction,
        /// The new deadline for start/restart; the firing time for fire.
        deadline: Instant,
    },
    /// An event raised for the application.
    Event(AppEvent),
    /// Congestion window or slow-start threshold changed (bytes).
    Congestion {
        /// The congestion window, cwnd (RFC 5681 §2), in bytes.
        cwnd: u32,
        /// The slow-start threshold, ssthresh (RFC 5681 §3.1), in bytes.
        ssthresh: u32,
        /// RFC 6675 pipe, during SACK-based loss recovery only.
        pipe: Option<u32>,
        /// CUBIC's W_max, K and region (RFC 9438), with
        /// `congestion_control: cubic` only.
        cubic: Option<super::CubicInfo>,
    },
    /// An RTT sample updated the estimator. Raised by every endpoint; the
    /// world traces it for endpoints with `timestamps` configured, and for
    /// the others only when measurement records are asked for, so their
    /// traces and digests are unchanged.
    Rtt {
        /// The measured round-trip time, R of RFC 6298 §2.
        sample: Duration,
        /// Where the sample came from.
        source: RttSource,
        /// SRTT after the update (RFC 6298 (2.2)/(2.3)).
        srtt: Duration,
        /// RTTVAR after the update (RFC 6298 (2.2)/(2.3)).
        rttvar: Duration,
        /// RTO after the update, clamped to `rto_min..=rto_max` (B-TMR-05).
        rto: Duration,
    },
}

/// Which kind of RTT sample updated the estimator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RttSource {
    /// One segment timed, never retransmitted (Karn, B-TMR-05).
    Timed,
    /// The TSecr of an ACK that advanced SND.UNA (B-TS-04).
    Timestamp,
}

impl RttSource {
    /// The source's trace name (`timed`, `timestamp`).
    pub const fn name(self) -> &'static str {
        match self {
            RttSource::Timed => "timed",
            RttSource::Timestamp => "timestamp",
        }
    }
}

/// The sink every endpoint call writes into.
#[derive(Clone, Debug, Default)]
pub struct Output {
    /// Segments to send, in order. Drained by the caller after each step.
    pub segments: Vec<Segment>,
    /// Facts for the trace, in the order they happened.
    pub notes: Vec<Note>,
    /// The behaviour IDs that handled each input (coverage), in order.
    pub rules: Vec<Rule>,
}

impl Output {
    /// Empties all three lists, keeping their allocations.
    pub fn clear(&mut self) {
        self.segments.clear();
        self.notes.clear();
        self.rules.clear();
    }

    /// The state transitions among the notes, as `(from, to, rule)`.
    pub fn transitions(&self) -> impl Iterator<Item = (State, State, Rule)> + '_ {
        self.notes.iter().filter_map(|n| match *n {
            Note::Transition { from, to, rule, .. } => Some((from, to, rule)),
            _ => None,
        })
    }

    /// The application events among the notes, in order.
    pub fn events(&self) -> impl Iterator<Item = AppEvent> + '_ {
        self.notes.iter().filter_map(|n| match *n {
            Note::Event(e) => Some(e),
            _ => None,
        })
    }
}
