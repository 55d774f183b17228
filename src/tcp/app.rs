//! Application calls: RFC 9293 §3.10.1 OPEN, §3.10.2 SEND, §3.10.4 CLOSE,
//! §3.10.5 ABORT, plus pausing and resuming reads (which is how a receive
//! window shrinks to zero). Errors go back to the caller; nothing is sent and
//! the state does not change.

use super::bit;
use super::{AppEvent, Call, CallError, Cause, CloseReason, Endpoint, Note, Origin, Output, Segment, State};
use crate::rule::{self, Rule};

impl Endpoint {
    /// Passive OPEN.
    pub fn listen(&mut self, out: &mut Output) -> Result<(), CallError> {
        let cause = Cause::App(Call::Listen);
        if self.state != State::Closed {
            return Err(self.refuse(CallError::ConnectionExists, rule::APP_04, out));
        }
        // B-APP-01: CLOSED -> LISTEN; nothing is sent.
        self.origin = Origin::Passive;
        self.reason = None;
        out.rules.push(rule::APP_01);
        self.set_state(State::Listen, cause, rule::APP_01, out);
        Ok(())
    }

    /// Active OPEN: the SYN leaves at the next [`Endpoint::dispatch`].
    pub fn connect(&mut self, out: &mut Output) -> Result<(), CallError> {
        let cause = Cause::App(Call::Connect);
        let rule = match self.state {
            // B-APP-02: CLOSED -> SYN_SENT.
            State::Closed => rule::APP_02,
            // B-APP-03: LISTEN -> SYN_SENT; the endpoint becomes active.
            State::Listen => rule::APP_03,
            _ => return Err(self.refuse(CallError::ConnectionExists, rule::APP_04, out)),
        };
        self.origin = Origin::Active;
        self.reason = None;
        self.snd_una = self.iss;
        self.snd_nxt = self.iss;
        self.snd_max = self.iss;
        self.snd_end = self.iss.add(1);
        self.bits.set(bit::SYN_PENDING, true);
        out.rules.push(rule);
        self.set_state(State::SynSent, cause, rule, out);
        Ok(())
    }

    /// SEND `bytes` of (synthetic) payload.
    pub fn send(&mut self, bytes: u64, out: &mut Output) -> Result<(), CallError> {
        if self.bits.has(bit::CLOSE_PENDING) {
            // B-APP-09: a pending CLOSE (B-APP-13) already said there is no
            // more to send (RFC 9293 §3.10.4), as in the states after one.
            return Err(self.refuse(CallError::ConnectionClosing, rule::APP_09, out));
        }
        let rule = match self.state {
            State::Closed => return Err(self.refuse(CallError::ConnectionDoesNotExist, rule::APP_05, out)),
            State::Listen => return Err(self.refuse(CallError::RemoteUnspecified, rule::APP_06, out)),
            // B-APP-07: queued until ESTABLISHED.
            State::SynSent | State::SynReceived => rule::APP_07,
            // B-APP-08: queued, transmitted at dispatch.
            State::Established | State::CloseWait => rule::APP_08,
            State::FinWait1 | State::FinWait2 | State::Closing | State::LastAck | State::TimeWait => {
                return Err(self.refuse(CallError::ConnectionClosing, rule::APP_09, out));
            }
        };
        out.rules.push(rule);
        self.send_backlog = self.send_backlog.saturating_add(bytes);
        self.stats.bytes_queued = self.stats.bytes_queued.saturating_add(bytes);
        Ok(())
    }

    /// CLOSE: no more data from us; a FIN follows the last queued byte.
    pub fn close(&mut self, out: &mut Output) -> Result<(), CallError> {
        let cause = Cause::App(Call::Close);
        match self.state {
            State::Closed => Err(self.refuse(CallError::ConnectionDoesNotExist, rule::APP_05, out)),
            State::Listen | State::SynSent => {
                // B-APP-10, B-APP-11: nothing was promised to a peer yet.
                let rule = if self.state == State::Listen { rule::APP_10 } else { rule::APP_11 };
                out.rules.push(rule);
                self.enter_closed(CloseReason::UserClose, cause, rule, out);
                Ok(())
            }
            State::SynReceived if self.bits.has(bit::CLOSE_PENDING) => {
                // B-APP-16: the CLOSE already made waits (B-APP-13); a
                // second one must not add a second FIN.
                Err(self.refuse(CallError::ConnectionClosing, rule::APP_16, out))
            }
            State::SynReceived => {
                if self.unacked_bytes() > 0 {
                    // B-APP-13: remember; apply on reaching ESTABLISHED.
                    out.rules.push(rule::APP_13);
                    self.bits.set(bit::CLOSE_PENDING, true);
                } else {
                    // B-APP-12: FIN now, FIN_WAIT_1.
                    out.rules.push(rule::APP_12);
                    self.bits.set(bit::FIN_QUEUED, true);
                    self.set_state(State::FinWait1, cause, rule::APP_12, out);
                }
                Ok(())
            }
            State::Established => {
                // B-APP-14: FIN_WAIT_1 at once; the FIN follows queued data.
                out.rules.push(rule::APP_14);
                self.bits.set(bit::FIN_QUEUED, true);
                self.set_state(State::FinWait1, cause, rule::APP_14, out);
                Ok(())
            }
            State::CloseWait => {
                // B-APP-15: LAST_ACK at once.
                out.rules.push(rule::APP_15);
                self.bits.set(bit::FIN_QUEUED, true);
                self.set_state(State::LastAck, cause, rule::APP_15, out);
                Ok(())
            }
            State::FinWait1 | State::FinWait2 | State::Closing | State::LastAck | State::TimeWait => {
                // B-APP-16: never a second FIN.
                Err(self.refuse(CallError::ConnectionClosing, rule::APP_16, out))
            }
        }
    }

    /// ABORT: drop the connection, resetting the peer where it is
    /// synchronized with us (RFC 9293 §3.10.5).
    pub fn abort(&mut self, out: &mut Output) -> Result<(), CallError> {
        let cause = Cause::App(Call::Abort);
        let rule = match self.state {
            State::Closed => return Err(self.refuse(CallError::ConnectionDoesNotExist, rule::APP_05, out)),
            // B-APP-17: nothing to reset.
            State::Listen | State::SynSent => rule::APP_17,
            // B-APP-18: <SEQ=SND.NXT><CTL=RST>, with RFC 9293's SND.NXT
            // (SND.MAX here), or SND.UNA while a probe octet is out: a
            // zero-window peer discarded that octet and accepts a reset
            // only at its RCV.NXT (§3.10.7.4, B-SEQ-03).
            State::SynReceived | State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait => {
                out.segments.push(Segment::rst(self.pure_ack_seq()));
                self.stats.segments_sent = self.stats.segments_sent.wrapping_add(1);
                rule::APP_18
            }
            // B-APP-19: the peer already knows we are going.
            State::Closing | State::LastAck | State::TimeWait => rule::APP_19,
        };
        out.rules.push(rule);
        self.enter_closed(CloseReason::Aborted, cause, rule, out);
        Ok(())
    }

    /// Stops reading: delivered bytes stay in the receive buffer and RCV.WND
    /// shrinks by that much.
    pub fn pause_read(&mut self) {
        self.bits.set(bit::READ_PAUSED, true);
    }

    /// Reads everything buffered and reopens the window; the window update
    /// goes out at the next dispatch.
    pub fn resume_read(&mut self, out: &mut Output) {
        self.bits.set(bit::READ_PAUSED, false);
        let (bytes, foreign) = self.reassembly.take_unread();
        if bytes > 0 {
            out.notes.push(Note::Event(AppEvent::Data { bytes, foreign }));
            if self.state.is_synchronized() || self.state == State::SynReceived {
                // RFC 9293 §3.8.6.2.2: tell the sender the window reopened.
                self.bits.set(bit::ACK_NOW, true);
            }
        }
        if self.bits.has(bit::EOF_UNREAD) {
            self.bits.set(bit::EOF_UNREAD, false);
            out.notes.push(Note::Event(AppEvent::PeerClosed));
        }
    }

    fn refuse(&mut self, err: CallError, rule: Rule, out: &mut Output) -> CallError {
        out.rules.push(rule);
        err
    }
}
