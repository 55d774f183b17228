//! The eleven connection states of RFC 9293 §3.3.2 and the reasons a
//! connection reaches CLOSED.

use std::fmt;

/// A connection state. `Display` gives the one canonical name used in traces
/// and documentation (`FIN_WAIT_1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum State {
    #[default]
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl State {
    pub const VALUES: [State; 11] = [
        State::Closed,
        State::Listen,
        State::SynSent,
        State::SynReceived,
        State::Established,
        State::FinWait1,
        State::FinWait2,
        State::CloseWait,
        State::Closing,
        State::LastAck,
        State::TimeWait,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::Listen => "LISTEN",
            State::SynSent => "SYN_SENT",
            State::SynReceived => "SYN_RECEIVED",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN_WAIT_1",
            State::FinWait2 => "FIN_WAIT_2",
            State::CloseWait => "CLOSE_WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST_ACK",
            State::TimeWait => "TIME_WAIT",
        }
    }

    pub fn parse(name: &str) -> Option<State> {
        State::VALUES.into_iter().find(|s| s.name() == name)
    }

    /// The synchronized states of RFC 9293 §3.5.2 (group 3).
    pub const fn is_synchronized(self) -> bool {
        matches!(
            self,
            State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait
                | State::Closing
                | State::LastAck
                | State::TimeWait
        )
    }

    /// States in which we have sent a FIN.
    pub const fn fin_sent(self) -> bool {
        matches!(self, State::FinWait1 | State::FinWait2 | State::Closing | State::LastAck | State::TimeWait)
    }

    /// States in which the peer's FIN has been processed.
    pub const fn fin_received(self) -> bool {
        matches!(self, State::CloseWait | State::Closing | State::LastAck | State::TimeWait)
    }

    /// A bit for state sets (`visited` masks).
    pub const fn bit(self) -> u16 {
        1 << self as u16
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who opened: RFC 9293 §3.10.7.4 (MUST-11) sends a passive SYN_RECEIVED
/// back to LISTEN on reset, an active one to CLOSED.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Origin {
    #[default]
    Active,
    Passive,
}

/// Why a connection reached CLOSED (canonical trace names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CloseReason {
    Normal,
    Reset,
    Refused,
    Aborted,
    UserClose,
    RetransmitLimit,
    UserTimeout,
    FinWait2Timeout,
    SynInWindow,
}

impl CloseReason {
    pub const VALUES: [CloseReason; 9] = [
        CloseReason::Normal,
        CloseReason::Reset,
        CloseReason::Refused,
        CloseReason::Aborted,
        CloseReason::UserClose,
        CloseReason::RetransmitLimit,
        CloseReason::UserTimeout,
        CloseReason::FinWait2Timeout,
        CloseReason::SynInWindow,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            CloseReason::Normal => "NORMAL",
            CloseReason::Reset => "RESET",
            CloseReason::Refused => "REFUSED",
            CloseReason::Aborted => "ABORTED",
            CloseReason::UserClose => "USER_CLOSE",
            CloseReason::RetransmitLimit => "RETRANSMIT_LIMIT",
            CloseReason::UserTimeout => "USER_TIMEOUT",
            CloseReason::FinWait2Timeout => "FIN_WAIT_2_TIMEOUT",
            CloseReason::SynInWindow => "SYN_IN_WINDOW",
        }
    }

    pub fn parse(name: &str) -> Option<CloseReason> {
        CloseReason::VALUES.into_iter().find(|r| r.name() == name)
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in State::VALUES {
            assert_eq!(State::parse(s.name()), Some(s));
        }
        for r in CloseReason::VALUES {
            assert_eq!(CloseReason::parse(r.name()), Some(r));
        }
        assert_eq!(State::FinWait1.to_string(), "FIN_WAIT_1");
    }
}
