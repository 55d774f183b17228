//! The eleven connection states of RFC 9293 §3.3.2 and the reasons a
//! connection reaches CLOSED.

use std::fmt;

/// A connection state. `Display` gives the one canonical name used in traces
/// and documentation (`FIN_WAIT_1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum State {
    /// No connection: the fictional state before OPEN and after the end.
    #[default]
    Closed,
    /// Waiting for a connection request (passive OPEN).
    Listen,
    /// Our SYN is sent; waiting for the peer's SYN (active OPEN).
    SynSent,
    /// Both SYNs are sent or received; waiting for the ACK of ours.
    SynReceived,
    /// Open: data flows both ways.
    Established,
    /// We closed and our FIN is sent; waiting for its ACK or the peer's
    /// FIN.
    FinWait1,
    /// Our FIN is acknowledged; waiting for the peer's FIN.
    FinWait2,
    /// The peer's FIN arrived; waiting for our application to CLOSE.
    CloseWait,
    /// Both FINs are sent (simultaneous close); waiting for the ACK of
    /// ours.
    Closing,
    /// The peer closed first and our FIN is sent; waiting for its ACK.
    LastAck,
    /// Our FIN is acknowledged and the peer's received; waiting 2×MSL (or
    /// Linux's 60 s) so a retransmitted FIN from the peer is answered and
    /// old duplicates die out (RFC 9293 §3.6.1, B-TMR-12).
    TimeWait,
}

impl State {
    /// Every state, in declaration order.
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

    /// The canonical name: RFC 9293's with underscores (`SYN_RECEIVED`).
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

    /// The state with this canonical name, if any.
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
    /// Opened by CONNECT (active OPEN).
    #[default]
    Active,
    /// Opened by LISTEN (passive OPEN) and a peer's SYN.
    Passive,
}

/// Why a connection reached CLOSED (canonical trace names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CloseReason {
    /// An orderly close: LAST_ACK saw its FIN acknowledged (B-CLOSE-13) or
    /// TIME_WAIT expired (B-CLOSE-19).
    Normal,
    /// An acceptable RST in a synchronized state (B-RST-03, B-RST-04).
    Reset,
    /// An acceptable RST answered our SYN (B-SYNSENT-02, B-RST-02).
    Refused,
    /// The application called ABORT (B-APP-17..19).
    Aborted,
    /// The application called CLOSE in LISTEN or SYN_SENT (B-APP-10,
    /// B-APP-11), or its deferred CLOSE was applied when a passive
    /// SYN_RECEIVED fell back to LISTEN (B-RST-01, B-TMR-09).
    UserClose,
    /// RETRANSMIT expired on a segment already resent r2 (or r2_syn) times
    /// (B-TMR-09, RFC 9293 §3.8.3 (c)).
    RetransmitLimit,
    /// USER_TIMEOUT expired with data or FIN unacknowledged (B-TMR-11).
    UserTimeout,
    /// The Linux FIN_WAIT_2 orphan timeout expired (B-OPT-01).
    FinWait2Timeout,
    /// A SYN arrived inside the receive window of a synchronized
    /// connection (B-SYN-02, RFC 9293 §3.10.7.4 fourth).
    SynInWindow,
}

impl CloseReason {
    /// Every reason, in declaration order.
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

    /// The canonical trace name (`RETRANSMIT_LIMIT`).
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

    /// The reason with this canonical name, if any.
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
