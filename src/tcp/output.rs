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
    Listen,
    Connect,
    Send,
    Close,
    Abort,
    PauseRead,
    ResumeRead,
}

impl Call {
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
    App(Call),
    Recv(Flags),
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
    Connected,
    /// Bytes handed to the application; `foreign` of them did not come from
    /// the peer's stream at the expected offset (e.g. an old incarnation's
    /// segment).
    Data {
        bytes: u32,
        foreign: u32,
    },
    /// End of stream: the peer's FIN, read after all its data.
    PeerClosed,
    RetransmitWarning,
    Closed(CloseReason),
}

impl AppEvent {
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
    Transition {
        from: State,
        to: State,
        cause: Cause,
        rule: Rule,
        /// Set when `to` is CLOSED.
        reason: Option<CloseReason>,
    },
    Timer {
        timer: Timer,
        action: TimerAction,
        /// The new deadline for start/restart; the firing time for fire.
        deadline: Instant,
    },
    Event(AppEvent),
    /// Congestion window or slow-start threshold changed (bytes).
    Congestion {
        cwnd: u32,
        ssthresh: u32,
    },
    /// An RTT sample updated the estimator (raised only by endpoints with
    /// `timestamps` configured, so other traces are unchanged).
    Rtt {
        sample: Duration,
        source: RttSource,
        srtt: Duration,
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
    pub notes: Vec<Note>,
    /// The behaviour IDs that handled each input (coverage), in order.
    pub rules: Vec<Rule>,
}

impl Output {
    pub fn clear(&mut self) {
        self.segments.clear();
        self.notes.clear();
        self.rules.clear();
    }

    pub fn transitions(&self) -> impl Iterator<Item = (State, State, Rule)> + '_ {
        self.notes.iter().filter_map(|n| match *n {
            Note::Transition { from, to, rule, .. } => Some((from, to, rule)),
            _ => None,
        })
    }

    pub fn events(&self) -> impl Iterator<Item = AppEvent> + '_ {
        self.notes.iter().filter_map(|n| match *n {
            Note::Event(e) => Some(e),
            _ => None,
        })
    }
}
