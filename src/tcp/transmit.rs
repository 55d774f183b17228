//! The sending side: what [`Endpoint::dispatch`] emits at the end of a step,
//! what the RETRANSMIT timer resends (RFC 6298 §5, RFC 9293 §3.8.1,
//! §3.8.3), fast retransmit and recovery (RFC 5681, RFC 6582, via `cc`),
//! limited transmit (RFC 3042, RFC 6675 §5 step (3); off by default),
//! zero-window probes (§3.8.6.1), delayed ACKs (§3.8.6.3) and the other
//! timeouts (§3.10.8).
//!
//! Zero-window probes run on their own PERSIST timer (B-TMR-14), as in
//! Linux and BSD: its interval starts at the RTO and doubles up to
//! rto_max, but it never touches the RTO, so a long closed window does not
//! leave the first real loss after it waiting tens of seconds. The probe
//! is one octet of new data (§3.8.6.1); it lies beyond the peer's window,
//! the peer discards it (B-SEQ-03), and while it is outstanding it is not
//! timed, not guarded by RETRANSMIT, not counted in the pure ACKs' SEQ and
//! its answers are not duplicate ACKs.
//!
//! SND.NXT may move back: after an RTO with congestion control on, the
//! sender goes back to SND.UNA and resends in slow start, as stacks without
//! SACK do. SND.MAX remembers the highest sequence number ever sent; ACKs
//! are judged against it and anything below it is a retransmission.

use super::bit;
use super::cc::{AckStep, CcAction};
use super::config::CLOCK_GRANULARITY;
use super::sack::blocks::SackReporter;
use super::sack::scoreboard::{DUP_THRESH, NextSeg, Step};
use super::sack::{MAX_BLOCKS, MAX_BLOCKS_WITH_TIMESTAMPS, SackBlock, SackBlocks};
use super::{
    AppEvent, Cause, CloseReason, Endpoint, Extensions, Flags, Note, Options, Output, PayloadTag, RttSource,
    StepContext,
};
use super::{SEND_AHEAD_MAX, Segment, SeqNum, State, TcpConfig, Timer, TimerAction, Timestamps};
use crate::rule;
use crate::time::{Duration, Instant};

impl Endpoint {
    /// Emits everything the step owes, in order: a SYN or SYN,ACK, a fast
    /// retransmission, data and FIN the windows allow, and an ACK if one is
    /// owed and nothing else carried it. Call once at the end of every step.
    pub fn dispatch(&mut self, cfg: &TcpConfig, now: Instant, out: &mut Output) {
        let cx = StepContext { cfg, now };
        let mut carried_ack = false;
        if self.bits.has(bit::SYN_PENDING) {
            self.bits.set(bit::SYN_PENDING, false);
            carried_ack = self.state != State::SynSent;
            self.send_syn(&cx, false, out);
        }
        let sack_recovery = self.in_sack_recovery() && self.state.is_synchronized();
        if sack_recovery {
            carried_ack |= self.send_sack_recovery(&cx, out);
        }
        if self.bits.has(bit::FAST_RETRANSMIT_PENDING) {
            self.bits.set(bit::FAST_RETRANSMIT_PENDING, false);
            if self.snd_una.lt(self.snd_max) && self.state.is_synchronized() {
                self.stats.fast_retransmits = self.stats.fast_retransmits.wrapping_add(1);
                self.resend_earliest(&cx, out);
                carried_ack = true;
            }
        }
        let limited_transmit = self.bits.has(bit::LIMITED_TRANSMIT_PENDING);
        self.bits.set(bit::LIMITED_TRANSMIT_PENDING, false);
        // Most steps have nothing to send; `send_data` would find that out
        // too, at the cost of sizing the window first.
        if !sack_recovery && self.can_send_data() && self.has_unsent() {
            carried_ack |= self.send_data(&cx, out);
        }
        // B-SACK-11: limited transmit after what cwnd allows anyway, so
        // only what it adds beyond cwnd is counted as its own (RFC 3042
        // §2, RFC 5681 §3.2 (2)).
        if limited_transmit && cx.cfg.limited_transmit && !sack_recovery && self.can_send_data() && self.has_unsent() {
            carried_ack |= self.send_limited_transmit(&cx, out);
        }
        if self.bits.has(bit::ACK_NOW) && !carried_ack && self.can_acknowledge() {
            self.emit(&cx, self.pure_ack_seq(), 0, Flags::ACK, false, out);
            carried_ack = true;
        }
        if carried_ack {
            // Any segment we send acknowledges everything received.
            self.ack_delayed_bytes = 0;
            self.bits.set(bit::FULL_SEGMENT_UNACKED, false);
            self.stop_timer(Timer::DelayedAck, out);
            if let (Some(x), Some(ato_min)) = (opt_mut!(self, linux), cfg.delayed_ack) {
                // B-LNX-05: tcp_event_ack_sent.
                x.on_ack_sent(ato_min);
            }
        }
        if let Some(x) = opt_mut!(self, linux) {
            x.quick_ack_step = false;
        }
        self.bits.set(bit::ACK_NOW, false);
        self.end_sack_step();
    }

    /// SEQ of a segment without text: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    /// with RFC 9293's SND.NXT, which never moves back: SND.MAX. An ACK
    /// carrying a rewound SND.NXT would sit below the peer's RCV.NXT, fail
    /// its sequence test and never be read.
    ///
    /// Except while a zero-window probe is outstanding (B-TMR-14): its
    /// octet lies beyond the peer's closed window and was discarded
    /// (§3.10.7.4 first step), so the peer's RCV.NXT is still SND.UNA. A
    /// segment without text passes a zero window's test only at SEG.SEQ =
    /// RCV.NXT (§3.4 Table 5), so an ACK at SND.MAX would be dropped and
    /// the peer would resend data we already have. Linux reaches the same
    /// end by probing at SND.UNA−1 without new data; we keep the RFC's
    /// one-octet probe and place the pure ACKs behind it instead.
    pub(super) fn pure_ack_seq(&self) -> SeqNum {
        if self.bits.has(bit::PROBING) { self.snd_una } else { self.snd_max }
    }

    /// States in which queued data and our FIN may be sent.
    fn can_send_data(&self) -> bool {
        match self.state {
            State::Established | State::CloseWait => true,
            // Until the FIN is out (it may still wait behind data).
            State::FinWait1 | State::LastAck | State::Closing => !self.fin_sent(),
            _ => false,
        }
    }

    /// States in which a bare ACK means something to the peer.
    fn can_acknowledge(&self) -> bool {
        self.state == State::SynReceived || self.state.is_synchronized()
    }

    /// SYN (active) or SYN,ACK (we have the peer's SYN), with our MSS.
    fn send_syn(&mut self, cx: &StepContext, retransmit: bool, out: &mut Output) {
        let flags = if self.state == State::SynSent { Flags::SYN } else { Flags::SYN | Flags::ACK };
        self.snd_nxt = self.snd_nxt.max(self.iss.add(1));
        if cx.cfg.linux_handshake
            && let Some(x) = opt_mut!(self, linux)
        {
            // B-LNX-08: the handshake's first send, and its resends.
            if retransmit {
                x.syn_rtx += 1;
            } else if x.first_syn_at.is_none() {
                x.first_syn_at = Some(cx.now);
            }
        }
        self.emit(cx, self.iss, 0, flags, retransmit, out);
    }

    /// The usable send window: SND.WND, and cwnd when congestion control
    /// is on.
    fn send_window(&self) -> u32 {
        match &self.cc {
            Some(cc) => self.snd_wnd().min(cc.cwnd),
            None => self.snd_wnd(),
        }
    }

    /// Sends queued bytes and the FIN within the window (B-DATA-01);
    /// returns whether any segment went out (each carries an ACK).
    fn send_data(&mut self, cx: &StepContext, out: &mut Output) -> bool {
        self.send_data_within(cx, self.send_window(), u32::MAX, out)
    }

    /// [`Endpoint::send_data`] within `window` octets from SND.UNA, at most
    /// `max_segments` segments.
    fn send_data_within(&mut self, cx: &StepContext, window: u32, max_segments: u32, out: &mut Output) -> bool {
        self.assign_sequence_numbers();
        let mut sent_any = false;
        let mut segments = 0;
        while segments < max_segments {
            segments += 1;
            let before_sacked = self.skip_sacked();
            let in_flight = self.snd_nxt.since(self.snd_una);
            let room = window.saturating_sub(in_flight);
            let unsent = if self.snd_nxt.lt(self.snd_end) { self.snd_end.since(self.snd_nxt) } else { 0 };
            if unsent > 0 {
                // B-TS-07, B-SACK-12: the options this segment carries
                // come out of Eff.snd.MSS (RFC 9293 §3.7.1, RFC 6691).
                let mss = self.data_room();
                if mss < self.max_payload() && mss < unsent.min(room) {
                    out.rules.push(rule::SACK_12);
                }
                let n = unsent.min(room).min(mss);
                // A hole shorter than a segment is resent whole.
                let fills_hole = before_sacked.is_some_and(|hole| hole <= n);
                let n = before_sacked.map_or(n, |hole| n.min(hole));
                if n == 0 || !(fills_hole || self.sws_allows(n, unsent, mss)) {
                    break;
                }
                if n == mss && self.bits.has(bit::TS_OK) {
                    out.rules.push(rule::TS_07);
                }
                let last = n == unsent && self.send_backlog == 0;
                // B-APP-14: the FIN rides on the last data segment if it fits.
                let fin = last && self.bits.has(bit::FIN_QUEUED) && room > n;
                let mut flags = Flags::ACK;
                if last {
                    flags = flags | Flags::PSH;
                }
                if fin {
                    flags = flags | Flags::FIN;
                }
                // B-DATA-01: a segment of at most Eff.snd.MSS in the window.
                out.rules.push(rule::DATA_01);
                if self.state == State::CloseWait {
                    // B-CLOSE-12: the peer is done, we still send.
                    out.rules.push(rule::CLOSE_12);
                }
                self.emit(cx, self.snd_nxt, n, flags, false, out);
                sent_any = true;
                continue;
            }
            if self.bits.has(bit::FIN_QUEUED) && self.send_backlog == 0 && !self.fin_sent() && room > 0 {
                self.emit(cx, self.snd_nxt, 0, Flags::FIN | Flags::ACK, false, out);
                sent_any = true;
            }
            break;
        }
        let nothing_in_flight = self.snd_una == self.snd_max;
        if nothing_in_flight && self.has_unsent() && self.snd_wnd == 0 && !self.timers.is_running(Timer::Persist) {
            // B-DATA-06, B-TMR-14: the peer's window is closed with data
            // waiting: PERSIST starts at the current RTO (SHLD-29).
            out.rules.push(rule::DATA_06);
            out.rules.push(rule::TMR_14);
            self.persist_backoff = 0;
            self.start_timer(Timer::Persist, cx.now + self.persist_interval(cx.cfg), out);
        }
        sent_any
    }

    /// B-SACK-10 (RFC 6675 §5.1): while resending below SND.MAX after an
    /// RTO, moves SND.NXT over the SACKed range it is in, if any, and
    /// returns how many octets lie between it and the next SACKed range
    /// (`None`: no SACKed range above). The octets skipped stay in the
    /// window's count of what is in flight (SND.NXT − SND.UNA), so a hole
    /// above them waits for the cumulative ACK to open the window.
    fn skip_sacked(&mut self) -> Option<u32> {
        if !self.snd_nxt.lt(self.snd_max) || !self.bits.has(bit::SACK_OK) {
            return None;
        }
        let scoreboard = &opt!(self, sack)?.scoreboard;
        let (start, end) = scoreboard.sacked_range_above(self.snd_nxt)?;
        let next_start = if start.le(self.snd_nxt) {
            self.snd_nxt = end;
            scoreboard.sacked_range_above(end)?.0
        } else {
            start
        };
        Some(next_start.since(self.snd_nxt))
    }

    /// B-SACK-11: limited transmit on the first or second duplicate ACK.
    /// Without SACK, RFC 3042 §2: one new segment, if the receiver's window
    /// allows it and FlightSize stays at most cwnd + 2 SMSS; cwnd is not
    /// changed. With SACK, RFC 6675 §5 step (3): HighRxt = HighACK, then
    /// new segments while cwnd − pipe ≥ 1 SMSS and the receiver's window
    /// allows (pipe leaves out what the duplicate ACKs SACKed, so each
    /// sends one segment as RFC 3042 does when one segment arrives per
    /// ACK). Only new data goes: never while SND.NXT is behind SND.MAX
    /// (after an RTO). Called after the ordinary send, so what it sends
    /// lies beyond cwnd; its data octets beyond SND.UNA + cwnd are counted
    /// for RFC 5681 §3.2 (2). Returns whether anything went out.
    fn send_limited_transmit(&mut self, cx: &StepContext, out: &mut Output) -> bool {
        let Some(cwnd) = self.cc.map(|cc| cc.cwnd) else { return false };
        if self.snd_nxt != self.snd_max {
            return false;
        }
        let smss = self.max_payload();
        let sack = self.bits.has(bit::SACK_OK);
        let mut sent = false;
        loop {
            let snd_max = self.snd_max;
            let window = match opt_mut!(self, sack) {
                Some(x) if sack => {
                    let pipe = x.scoreboard.limited_transmit_pipe(smss, snd_max);
                    if cwnd.saturating_sub(pipe) < smss {
                        break;
                    }
                    // pipe already allows one segment; the window decides.
                    self.snd_wnd()
                }
                _ if sent => break,
                _ => self.snd_wnd().min(cwnd.saturating_add(2 * smss)),
            };
            let start = self.snd_nxt;
            if !self.send_data_within(cx, window, 1, out) {
                break;
            }
            out.rules.push(rule::SACK_11);
            sent = true;
            let end = self.snd_nxt;
            // The data octets of the segment (a FIN carries none) that lie
            // beyond SND.UNA + cwnd: ordinary data went first, in
            // `dispatch`, so normally the whole segment.
            let data_end = if end.lt(self.snd_end) { end } else { self.snd_end };
            let data = if start.lt(data_end) { data_end.since(start) } else { 0 };
            let beyond = end.since(self.snd_una).saturating_sub(cwnd).min(data);
            if let Some(cc) = &mut self.cc {
                cc.on_limited_transmit(beyond, data_end);
            }
            if let Some(x) = opt_mut!(self, sack) {
                x.scoreboard.on_sent(start, end, false);
            }
        }
        sent
    }

    /// RFC 6675 §5 step (C) (and (4.3) when recovery began this step):
    /// while cwnd − pipe ≥ 1 SMSS, send what NextSeg chooses: a lost
    /// segment (rule 1, B-SACK-07), new data (rule 2), an unSACKed segment
    /// below the highest SACK (rule 3), or the rescue retransmission
    /// (rule 4, B-SACK-08). Returns whether anything went out.
    fn send_sack_recovery(&mut self, cx: &StepContext, out: &mut Output) -> bool {
        let smss = self.max_payload();
        let mut sent = false;
        if let Some((start, end)) = opt_mut!(self, sack).and_then(|x| x.entry_rxt.take()) {
            // (4.3): the first segment not yet SACKed, before pipe is set.
            self.stats.fast_retransmits = self.stats.fast_retransmits.wrapping_add(1);
            self.resend_range(cx, start, end, out);
            sent = true;
        }
        let Some(cwnd) = self.cc.map(|cc| cc.cwnd) else { return sent };
        // Rule (2) holds only if new data "can be sent": once the window
        // or sender SWS avoidance declined it, rules (3) and (4) are
        // tried instead, for the rest of the step.
        let mut new_data_refused = false;
        // RFC 6675 §4 NextSeg (4) resends the segment holding the highest
        // outstanding unSACKed octet when rules (1) to (3) leave nothing:
        // its purpose is a tail whose loss no later ACK would reveal. In a
        // step where rule (2) sent new data, that octet is the data (or
        // the FIN) just sent, which cannot have been lost yet and whose
        // own ACK will bring the SACK information; the rescue then waits
        // for a later ACK (RescueRxt stays, so one still may).
        let mut sent_new_data = false;
        loop {
            let new_data_allowed = !new_data_refused
                && self.can_send_data()
                && self.has_unsent()
                && self.snd_nxt.since(self.snd_una) < self.snd_wnd
                && self.snd_nxt == self.snd_max;
            let fin_end = self.fin_ever_sent().then(|| self.snd_end.add(1));
            // RFC 9293 §3.8.6: nothing goes beyond SND.UNA + SND.WND; a
            // retransmission starting at or past that right edge waits
            // (as Linux's tcp_retransmit_skb refuses it), except the one
            // at SND.UNA, which may always go.
            let (snd_una, right_edge) = (self.snd_una, self.snd_una.add(self.snd_wnd));
            let in_window = |start: SeqNum| start == snd_una || start.lt(right_edge);
            let Some(x) = opt_mut!(self, sack) else { break };
            let pipe = x.scoreboard.pipe(smss);
            if cwnd.saturating_sub(pipe) < smss {
                break;
            }
            let rescue_rxt = x.scoreboard.rescue_rxt();
            match x.scoreboard.next_seg(smss, new_data_allowed, !sent_new_data) {
                None => break,
                // Rules (1) and (3) pick the lowest candidate and rule (4)
                // one above it: if it lies beyond the window, so do they.
                Some(NextSeg::Retransmit { start, .. }) if !in_window(start) => break,
                Some(NextSeg::Rescue { start, .. }) if !in_window(start) => {
                    // The rescue did not go: it is still owed.
                    x.scoreboard.set_rescue_rxt(rescue_rxt);
                    break;
                }
                Some(NextSeg::Retransmit { start, end, .. }) => {
                    x.scoreboard.on_sent(start, end, false);
                    out.rules.push(rule::SACK_07);
                    self.stats.fast_retransmits = self.stats.fast_retransmits.wrapping_add(1);
                    self.resend_range(cx, start, end, out);
                }
                Some(NextSeg::NewData { .. }) => {
                    let start = self.snd_nxt;
                    if !self.send_data_within(cx, self.snd_wnd, 1, out) {
                        new_data_refused = true;
                        continue;
                    }
                    out.rules.push(rule::SACK_07);
                    sent_new_data = true;
                    let end = self.snd_nxt;
                    if let Some(x) = opt_mut!(self, sack) {
                        x.scoreboard.on_sent(start, end, false);
                    }
                }
                Some(NextSeg::Rescue { start, end }) => {
                    // Rule (4) asks for up to SMSS octets; the FIN takes a
                    // sequence number but no octet of the segment, so a
                    // rescue ending at it holds one octet more of data
                    // when the octet before `start` is unSACKed too.
                    let start =
                        if fin_end == Some(end) && end.since(start) == smss && x.scoreboard.is_unsacked(start.sub(1)) {
                            start.sub(1)
                        } else {
                            start
                        };
                    x.scoreboard.on_sent(start, end, true);
                    out.rules.push(rule::SACK_08);
                    self.stats.fast_retransmits = self.stats.fast_retransmits.wrapping_add(1);
                    self.resend_range(cx, start, end, out);
                }
            }
            sent = true;
        }
        sent
    }

    /// Resends `[start, end)` of the sequence space already sent: its
    /// data, up to one segment, with the FIN if the range holds it.
    fn resend_range(&mut self, cx: &StepContext, start: SeqNum, end: SeqNum, out: &mut Output) {
        let data_end = if end.lt(self.snd_end) { end } else { self.snd_end };
        if start.lt(data_end) {
            let n = data_end.since(start).min(self.max_payload());
            let with_fin = self.fin_ever_sent() && self.snd_end.lt(end);
            self.resend_data(cx, start, n, with_fin, out);
        } else if self.fin_ever_sent() && start == self.snd_end {
            self.emit(cx, self.snd_end, 0, Flags::FIN | Flags::ACK, true, out);
        }
    }

    /// Resends the `n` octets of data from `start` (at most
    /// [`Endpoint::max_payload`]), with the FIN after them if `with_fin`
    /// and they reach the end of the stream. B-SACK-12: when SACK blocks
    /// leave a segment less room than `n` (RFC 6691 §2), the octets go in
    /// two segments, back to back, so a retransmission still resends the
    /// whole segment it was asked for (the second carries the step's
    /// later blocks, without a D-SACK, as B-SACK-04 says).
    fn resend_data(&mut self, cx: &StepContext, start: SeqNum, n: u32, with_fin: bool, out: &mut Output) {
        let end = start.add(n);
        let mut seq = start;
        while seq.lt(end) {
            let room = self.data_room();
            let len = end.since(seq).min(room);
            if len < end.since(seq) {
                out.rules.push(rule::SACK_12);
            }
            let last = seq.add(len) == end;
            let reaches_end = last && end == self.snd_end && self.send_backlog == 0;
            let mut flags = Flags::ACK;
            if reaches_end {
                flags = flags | Flags::PSH;
            }
            if reaches_end && with_fin {
                flags = flags | Flags::FIN;
            }
            self.emit(cx, seq, len, flags, true, out);
            seq = seq.add(len);
        }
    }

    /// The probe interval: the RTO doubled once per probe sent, capped at
    /// rto_max (B-TMR-14, SHLD-30).
    fn persist_interval(&self, cfg: &TcpConfig) -> Duration {
        let factor = 1u64 << self.persist_backoff.min(32);
        self.rtt.rto().saturating_mul(factor).min(cfg.rto_max)
    }

    /// Sender silly-window avoidance (RFC 9293 §3.8.6.2.1, MUST-38): send
    /// a full segment, or everything that is left (Nagle is off: every
    /// SEND pushes), or at least half the largest window the peer has
    /// offered. With nothing in flight a short segment goes anyway, which
    /// stands in for the RFC's override timeout.
    fn sws_allows(&self, n: u32, unsent: u32, mss: u32) -> bool {
        let everything = n == unsent && self.send_backlog == 0;
        let nothing_in_flight = self.snd_nxt == self.snd_una;
        n >= mss || everything || n >= self.max_snd_wnd / 2 || nothing_in_flight
    }

    /// Whether data or our FIN still waits to be sent.
    fn has_unsent(&self) -> bool {
        self.snd_nxt.lt(self.snd_end) || self.send_backlog > 0 || (self.bits.has(bit::FIN_QUEUED) && !self.fin_sent())
    }

    /// Gives sequence numbers to backlog bytes, up to `SEND_AHEAD_MAX`
    /// beyond SND.UNA.
    fn assign_sequence_numbers(&mut self) {
        if self.send_backlog == 0 {
            return;
        }
        let assigned = self.snd_end.since(self.snd_una);
        let room = SEND_AHEAD_MAX.saturating_sub(assigned);
        let take = self.send_backlog.min(u64::from(room)) as u32;
        self.snd_end = self.snd_end.add(take);
        self.send_backlog -= u64::from(take);
    }

    /// The window field of a segment we send, and the shift it carries
    /// (B-WS-04): a SYN's window is never scaled (RFC 7323 §2.2); with
    /// window scaling every other is RCV.WND >> Rcv.Wind.Shift, rounded
    /// down, and the right edge it advertises is remembered so the
    /// receiver never moves it back further than that rounding (B-WS-05,
    /// §2.4).
    fn advertised_window(&mut self, cfg: &TcpConfig, flags: Flags, out: &mut Output) -> (u16, Option<u8>) {
        if flags.syn() || !self.bits.has(bit::WS_OK) {
            return (self.rcv_wnd(cfg).min(65535) as u16, None);
        }
        let window = self.recv_window(cfg);
        let rcv_nxt = self.rcv_nxt;
        let Some(x) = opt_mut!(self, rfc7323) else { return (self.rcv_wnd(cfg).min(65535) as u16, None) };
        let shift = x.rcv_wscale;
        let field = (window >> shift).min(65535);
        let edge = rcv_nxt.add(field << shift);
        if x.rcv_adv.lt(edge) || !rcv_nxt.lt(x.rcv_adv) {
            x.rcv_adv = edge;
        } else if edge.lt(x.rcv_adv) {
            // B-WS-05: rounding moved the edge back by less than one unit
            // of 2^shift; data up to the old edge is still accepted.
            out.rules.push(rule::WS_05);
        }
        (field as u16, Some(shift))
    }

    /// The options of a segment we send: Window Scale on SYN and SYN,ACK
    /// (B-WS-01: on a SYN,ACK only when the SYN had it), Timestamps on a
    /// SYN when configured and, once both sides sent them, on every
    /// non-RST segment (B-TS-02; TSecr = TS.Recent, 0 on a SYN without
    /// ACK).
    fn options(&self, cx: &StepContext, flags: Flags, out: &mut Output) -> (Option<u8>, Option<Timestamps>) {
        let active_syn = flags.syn() && !flags.ack();
        let mut ws = None;
        if flags.syn() {
            ws = if active_syn {
                cx.cfg.window_scale
            } else {
                self.bits.has(bit::WS_OK).then_some(self.rfc7323().rcv_wscale)
            };
            if ws.is_some() {
                out.rules.push(rule::WS_01);
            }
        }
        let ts_on = if active_syn { cx.cfg.timestamps } else { self.bits.has(bit::TS_OK) };
        let ts = (ts_on && !flags.rst()).then(|| {
            out.rules.push(rule::TS_02);
            let tsecr = if flags.ack() { self.rfc7323().ts_recent } else { 0 };
            Timestamps { tsval: self.ts_clock(cx.cfg, cx.now), tsecr }
        });
        (ws, ts)
    }

    /// SACK-permitted on a SYN when configured, on a SYN,ACK only when
    /// the SYN had it (B-SACK-01, RFC 2018 §2).
    fn offers_sack_permitted(&self, cx: &StepContext, flags: Flags, out: &mut Output) -> bool {
        let offer = match (flags.syn(), flags.ack()) {
            (true, false) => cx.cfg.sack,
            (true, true) => self.bits.has(bit::SACK_OK),
            _ => false,
        };
        if offer {
            out.rules.push(rule::SACK_01);
        }
        offer
    }

    /// The SACK blocks of an ACK we send (B-SACK-03, RFC 2018 §4; D-SACK
    /// B-SACK-04, RFC 2883 §4): none unless SACK is in use and the
    /// receiver holds out-of-order data or saw a duplicate this step.
    /// Every segment of one step carries the same blocks, except that a
    /// D-SACK goes on the first only; nor is it repeated by a later step.
    fn sack_blocks_for_ack(&mut self, out: &mut Output) -> SackBlocks {
        if !self.bits.has(bit::SACK_OK) {
            return SackBlocks::EMPTY;
        }
        let Some(x) = opt!(self, sack) else { return SackBlocks::EMPTY };
        if let Some(blocks) = x.step_blocks {
            return blocks;
        }
        let mut reporter = x.reporter;
        let (blocks, dsack) = self.fresh_sack_blocks(&mut reporter);
        let Some(x) = opt_mut!(self, sack) else { return SackBlocks::EMPTY };
        x.reporter = reporter;
        x.trigger = None;
        if !blocks.is_empty() {
            out.rules.push(rule::SACK_03);
        }
        // RFC 2883 §4: each duplicate is reported once, by the first
        // segment; the step's later segments carry the other blocks, as
        // many as fit (RFC 2018 §4), so the D-SACK's slot goes to the next
        // held range rather than staying empty.
        let later = if dsack.is_some() {
            out.rules.push(rule::SACK_04);
            let room = if self.bits.has(bit::TS_OK) { MAX_BLOCKS_WITH_TIMESTAMPS } else { MAX_BLOCKS };
            x.reporter.reported(room)
        } else {
            blocks
        };
        x.step_blocks = Some(later);
        blocks
    }

    /// The blocks the first ACK of this step carries, from `reporter`
    /// (the receiver's history, which this updates) and the step's
    /// trigger, with that trigger's D-SACK block. Shared by the ACK
    /// itself and by [`Endpoint::data_room`], which sizes a data segment
    /// before it is built.
    fn fresh_sack_blocks(&self, reporter: &mut SackReporter) -> (SackBlocks, Option<SackBlock>) {
        let room = if self.bits.has(bit::TS_OK) { MAX_BLOCKS_WITH_TIMESTAMPS } else { MAX_BLOCKS };
        let (arrived, dsack) = match opt!(self, sack).and_then(|x| x.trigger) {
            Some((arrived, dsack)) => (Some(arrived), dsack),
            None => (None, None),
        };
        if self.reassembly.has_out_of_order() || dsack.is_some() {
            let blocks = reporter.blocks_for_ack(self.rcv_nxt, self.reassembly.sack_ranges(), arrived, dsack, room);
            (blocks, dsack)
        } else {
            reporter.clear();
            (SackBlocks::EMPTY, None)
        }
    }

    /// The data the next segment sent may carry: Eff.snd.MSS less the
    /// options every data segment carries ([`Endpoint::max_payload`],
    /// B-TS-07) and less the SACK blocks this one will carry (B-SACK-12).
    /// RFC 9293 §3.7.1 and RFC 6691 §2: the MSS option counts no TCP
    /// options, so a sender that adds options sends that much less data.
    /// The blocks are worked out as [`Endpoint::sack_blocks_for_ack`]
    /// will, on a copy of the receiver's history, so nothing changes here.
    fn data_room(&self) -> u32 {
        let payload = self.max_payload();
        if !self.bits.has(bit::SACK_OK) {
            return payload;
        }
        let Some(x) = opt!(self, sack) else { return payload };
        let blocks = match x.step_blocks {
            Some(blocks) => blocks,
            None => self.fresh_sack_blocks(&mut x.reporter.clone()).0,
        };
        payload.saturating_sub(blocks.option_bytes()).max(1)
    }

    /// Ends a step for the SACK receiver: the next step's ACKs compute
    /// their blocks afresh (without this step's D-SACK).
    pub(super) fn end_sack_step(&mut self) {
        if let Some(x) = opt_mut!(self, sack) {
            x.step_blocks = None;
            x.trigger = None;
        }
    }

    /// Builds and emits one segment carrying ACK=RCV.NXT and WND=RCV.WND
    /// (except the initial SYN), advancing SND.NXT (and SND.MAX) over its
    /// sequence space and arming RETRANSMIT for it (B-TMR-01). A segment
    /// below SND.MAX is a retransmission whatever the caller says.
    fn emit(&mut self, cx: &StepContext, seq: SeqNum, len: u32, flags: Flags, retransmit: bool, out: &mut Output) {
        let (wnd, wnd_shift) = self.advertised_window(cx.cfg, flags, out);
        let ack = if flags.ack() { self.rcv_nxt } else { SeqNum(0) };
        if flags.ack()
            && let Some(x) = opt_mut!(self, rfc7323)
        {
            // RFC 7323 §4.3: Last.ACK.sent.
            x.last_ack_sent = ack;
        }
        let mss = if flags.syn() { cx.cfg.mss } else { 0 };
        // Without the RFC 7323 state neither option is configured.
        let (ws, ts) = if opt!(self, rfc7323).is_some() { self.options(cx, flags, out) } else { (None, None) };
        // The first payload byte is at ISS+1; `payload.offset` counts from it.
        let offset = seq.add(flags.syn() as u32).since(self.iss.add(1));
        let sack_permitted = opt!(self, sack).is_some() && self.offers_sack_permitted(cx, flags, out);
        let sack = if flags.ack() && !flags.syn() { self.sack_blocks_for_ack(out) } else { SackBlocks::EMPTY };
        let mut seg = Segment {
            seq,
            ack,
            flags,
            wnd,
            len,
            mss,
            opts: Options::NONE.with_ws(ws).with_ts(ts).with_wnd_shift(wnd_shift).with_sack_permitted(sack_permitted),
            sack,
            payload: PayloadTag { stream: self.stream, offset },
            retransmit,
        };
        let occupies = seg.seg_len() > 0;
        if occupies && seq.lt(self.snd_max) && !flags.syn() {
            seg.retransmit = true;
        }
        if occupies && seg.retransmit && self.rtt.timing().is_some() && !self.bits.has(bit::TS_OK) {
            // B-TMR-15: Karn (RFC 6298 §3): whatever sent it (RTO, fast
            // retransmit, a partial ACK, a probe), a retransmission voids
            // the sample in flight: the ACK that ends it may be for the
            // copy, and even a later timed segment's ACK would then come
            // behind the repair.
            out.rules.push(rule::TMR_15);
            self.rtt.stop_timing();
        }
        let end = seg.end();
        out.segments.push(seg);
        self.stats.segments_sent = self.stats.segments_sent.wrapping_add(1);
        if seg.retransmit {
            self.stats.retransmissions = self.stats.retransmissions.wrapping_add(1);
        }
        if !occupies {
            return;
        }
        // A window probe (PROBING) is neither a reply nor a timed send.
        let probe = self.bits.has(bit::PROBING);
        if len > 0
            && !seg.retransmit
            && !probe
            && let Some(x) = opt_mut!(self, linux)
        {
            // B-LNX-05: a reply within the ATO: interactive mode.
            x.on_data_sent(cx.now);
        }
        // Nothing was in flight: new data now ends an idle period.
        let idle = self.snd_una == self.snd_max;
        if self.snd_nxt.lt(end) {
            self.snd_nxt = end;
        }
        if self.snd_max.lt(end) {
            self.snd_max = end;
        }
        if !seg.retransmit
            && !probe
            && let Some(c) = opt_mut!(self, cubic)
        {
            // HyStart times new data (B-CC-10, B-CC-11); after an idle
            // period t leaves it out (B-CC-09).
            c.on_sent(end, cx.now, idle && len > 0);
        }
        // A window probe's answer waits for the window, not the path: never
        // an RTT sample, even the first probe's new octet (§3.8.6.1).
        if !seg.retransmit && !probe && self.rtt.timing().is_none() && !self.bits.has(bit::TS_OK) {
            // B-TMR-05: time one segment at a time (with timestamps every
            // ACK is timed by its TSecr instead, B-TS-04).
            self.rtt.start_timing(end, cx.now);
        }
        if !self.timers.is_running(Timer::Retransmit) && !self.bits.has(bit::PROBING) {
            // B-TMR-01: sequence space in flight needs the timer (a probe
            // octet has PERSIST instead, B-TMR-14).
            out.rules.push(rule::TMR_01);
            self.start_timer(Timer::Retransmit, cx.now + self.rtt.rto(), out);
        }
        if let Some(limit) = cx.cfg.user_timeout
            && !self.timers.is_running(Timer::UserTimeout)
        {
            // B-TMR-11: runs while something is unacknowledged.
            self.start_timer(Timer::UserTimeout, cx.now + limit, out);
        }
    }

    /// SND.UNA advanced to `ack` (B-ACK-04 and the handshake ACKs);
    /// `tsecr` is the segment's echoed timestamp when timestamps are in use.
    pub(super) fn on_new_ack(&mut self, cx: &StepContext, ack: SeqNum, tsecr: Option<u32>, out: &mut Output) {
        let acked = ack.since(self.snd_una);
        let flight_before = self.snd_max.since(self.snd_una);
        self.snd_una = ack;
        if self.snd_nxt.lt(ack) {
            // Data resent after an RTO was acknowledged before we got to it.
            self.snd_nxt = ack;
        }
        // A TSecr of 0 is skipped, as Linux does: it is what a segment
        // without a valid echo carries (RFC 7323 §3.2, TSecr on a SYN), so
        // as a sample it would time the whole clock. The one genuine echo
        // it loses, of a clock passing 0, is a sample in 2^32.
        let ts_rtt = tsecr
            .filter(|ecr| *ecr != 0)
            .map(|ecr| self.ts_clock(cx.cfg, cx.now).wrapping_sub(ecr))
            .filter(|t| (*t as i32) >= 0);
        if let Some(ticks) = ts_rtt {
            // B-TS-04: RFC 7323 §4.1: every ACK that advances SND.UNA is
            // timed by its TSecr, retransmitted data included (Karn's rule
            // is for the ambiguity timestamps remove); Appendix G scales
            // the gains by the samples expected per window. The echo came
            // back at least a moment after it left, and at most a tick
            // more than `ticks` later: a 0-tick sample counts as one tick,
            // as in Linux's tcp_ack_update_rtt, and the tick is the G of
            // RFC 6298 §2, so a clock coarser than the round trip cannot
            // pull the RTO below the round trip.
            out.rules.push(rule::TS_04);
            let per_window = flight_before.div_ceil(2 * self.max_payload()).max(1);
            let rtt = cx.cfg.ts_tick.saturating_mul(u64::from(ticks.max(1)));
            let clock = cx.cfg.ts_tick.max(CLOCK_GRANULARITY);
            self.rtt_sample(cx, rtt, per_window, clock, out);
            self.rtt.stop_timing();
            self.note_rtt(cx, rtt, RttSource::Timestamp, out);
        } else if let Some((end, sent_at)) = self.rtt.timing() {
            if end.le(ack) {
                // B-TMR-05: only never-retransmitted segments are timed, so
                // this sample is valid under Karn's rule.
                out.rules.push(rule::TMR_05);
                let rtt = cx.now.saturating_since(sent_at);
                self.rtt_sample(cx, rtt, 1, CLOCK_GRANULARITY, out);
                self.rtt.stop_timing();
                self.note_rtt(cx, rtt, RttSource::Timed, out);
            }
        } else if self.retries > 0 {
            // B-TMR-06: Karn: an ACK for retransmitted data gives no sample;
            // the backed-off RTO stays until a valid one.
            out.rules.push(rule::TMR_06);
        }
        self.retries = 0;
        if let Some(x) = opt_mut!(self, linux) {
            // B-LNX-04: what was retransmitted is acknowledged.
            x.retrans_stamp = None;
        }
        self.bits.set(bit::WARNED, false);
        let flight = self.snd_max.since(self.snd_una);
        let smss = self.max_payload();
        let mut restart_for_partial_ack = false;
        // RFC 6675 recovery keeps cwnd as it set it (B-SACK-06/09).
        let hold_cwnd = opt_mut!(self, sack).is_some_and(|x| std::mem::take(&mut x.hold_cwnd));
        if let Some(cc) = &mut self.cc {
            // B-SACK-11: SND.UNA moved, under NewReno or in SACK recovery
            // alike: the limited-transmit octets it covers are done.
            cc.on_snd_una_advanced(ack);
        }
        // The ACK of our SYN is not data: congestion control starts once
        // synchronized.
        if self.state.is_synchronized()
            && !hold_cwnd
            && let Some(cc) = &mut self.cc
        {
            let before = (cc.cwnd, cc.ssthresh);
            // RFC 9438 §5.8: CUBIC grows only a window the sender filled.
            let cwnd_limited = cc.cwnd < flight_before.saturating_add(smss);
            let srtt = self.rtt.srtt().unwrap_or(Duration::ZERO);
            let step = AckStep { now: cx.now, srtt, cwnd_limited, ack, snd_max: self.snd_max };
            let cubic = opt_mut!(self, cubic).map(|c| (c, &step));
            if let CcAction::Retransmit { restart_timer } = cc.on_new_ack(acked, ack, flight, smss, cubic) {
                self.bits.set(bit::FAST_RETRANSMIT_PENDING, true);
                restart_for_partial_ack = restart_timer;
            }
            self.note_congestion(before, out);
        }
        if self.snd_una == self.snd_max {
            // B-TMR-02: everything acknowledged.
            out.rules.push(rule::TMR_02);
            self.bits.set(bit::PROBING, false);
            self.stop_timer(Timer::Retransmit, out);
            self.stop_timer(Timer::UserTimeout, out);
        } else {
            // B-TMR-03: new data acknowledged, more outstanding (RFC 6582
            // restarts only on the first partial ACK; every other new ACK
            // restarts as RFC 6298 (5.3) says).
            let in_recovery = self.cc.is_some_and(|cc| cc.in_recovery());
            if !in_recovery || restart_for_partial_ack {
                out.rules.push(rule::TMR_03);
                self.start_timer(Timer::Retransmit, cx.now + self.rtt.rto(), out);
            }
            if let Some(limit) = cx.cfg.user_timeout {
                self.start_timer(Timer::UserTimeout, cx.now + limit, out);
            }
        }
    }

    /// RFC 6675 §5 for an acceptable ACK, SACK in use and congestion
    /// control on: the scoreboard learns its blocks (B-SACK-05), then
    /// recovery starts (B-SACK-06: DupThresh duplicates or IsLost(SND.UNA);
    /// RecoveryPoint = HighData, cwnd = ssthresh = FlightSize / 2, the first
    /// unSACKed segment owed), goes on, or ends when the cumulative ACK
    /// covers RecoveryPoint (B-SACK-09). Call before SND.UNA moves.
    pub(super) fn on_sack_ack(&mut self, seg: &Segment, out: &mut Output) {
        if !self.bits.has(bit::SACK_OK) || self.cc.is_none() {
            return;
        }
        let smss = self.max_payload();
        let (snd_una, snd_max) = (self.snd_una, self.snd_max);
        // SACK's scoreboard and CUBIC's state, both borrowed from the one box.
        let Some(Extensions { sack: Some(x), cubic, .. }) = self.ext.as_deref_mut() else { return };
        let (info, step) = x.scoreboard.on_ack(seg.ack, snd_max, seg.sack.as_slice(), smss);
        if 0 < info.newly_sacked || info.dsack.is_some() {
            out.rules.push(rule::SACK_05);
        }
        x.hold_cwnd = step != Step::Normal;
        let Some(cc) = &mut self.cc else { return };
        match step {
            Step::Normal => {
                // §5 step (3): a duplicate ACK below DupThresh with
                // IsLost(HighACK + 1) false (after an RTO, recovery may not
                // start although it is true).
                let una = if snd_una.lt(seg.ack) { seg.ack } else { snd_una };
                let limited_transmit =
                    info.is_dup_ack() && x.scoreboard.dup_acks() < DUP_THRESH && !x.scoreboard.is_lost(una, smss);
                self.bits.set(bit::LIMITED_TRANSMIT_PENDING, limited_transmit);
            }
            Step::InRecovery => {
                // Traced on every ACK in recovery: pipe after the
                // scoreboard learned it, before step (C) sends.
                let (cwnd, ssthresh) = (cc.cwnd, cc.ssthresh);
                let cubic = cubic.as_deref().map(|c| c.info());
                out.notes.push(Note::Congestion { cwnd, ssthresh, pipe: Some(x.scoreboard.pipe(smss)), cubic });
            }
            Step::EnterRecovery => {
                out.rules.push(rule::SACK_06);
                let una = if snd_una.lt(seg.ack) { seg.ack } else { snd_una };
                let before = (cc.cwnd, cc.ssthresh);
                // (4.2), with RFC 5681 §3.2 (2): what limited transmit sent
                // and is still outstanding above this ACK is not counted.
                cc.on_snd_una_advanced(una);
                let flight = cc.flight_without_limited(snd_max.since(una));
                cc.enter_sack_recovery(flight, smss, cubic.as_deref_mut());
                x.entry_rxt = Some(x.scoreboard.enter_recovery(smss));
                self.note_congestion(before, out);
            }
            Step::RecoveryEnded => {
                out.rules.push(rule::SACK_09);
                let (cwnd, ssthresh) = (cc.cwnd, cc.ssthresh);
                let cubic = cubic.as_deref().map(|c| c.info());
                out.notes.push(Note::Congestion { cwnd, ssthresh, pipe: None, cubic });
            }
        }
    }

    /// An ACK that did not advance SND.UNA (B-ACK-05): a duplicate ACK in
    /// RFC 5681's sense feeds fast retransmit.
    /// `wnd` is the segment's window as SND.WND would read it.
    pub(super) fn on_duplicate_ack(&mut self, seg: &Segment, wnd: u32, out: &mut Output) {
        // RFC 5681 §2: no data, no SYN/FIN, ACK = SND.UNA, same window,
        // and data outstanding.
        let duplicate = seg.len == 0
            && !seg.flags.syn()
            && !seg.flags.fin()
            && seg.ack == self.snd_una
            && wnd == self.snd_wnd
            && self.snd_una.lt(self.snd_max)
            // B-TMR-14: a reply to a probe is not one (as Linux and BSD):
            // the probe octet is outstanding but the window is closed, so
            // nothing was lost.
            && !self.bits.has(bit::PROBING);
        // With SACK, RFC 6675 counts duplicates by their blocks
        // (`on_sack_ack`), and NewReno's recovery stays out.
        if !duplicate || self.bits.has(bit::SACK_OK) && opt!(self, sack).is_some() {
            return;
        }
        let flight = self.snd_max.since(self.snd_una);
        let smss = self.max_payload();
        let snd_max = self.snd_max;
        if let Some(cc) = &mut self.cc {
            let before = (cc.cwnd, cc.ssthresh);
            let cubic = opt_mut!(self, cubic);
            if let CcAction::Retransmit { .. } = cc.on_duplicate_ack(seg.ack, flight, smss, snd_max, cubic) {
                self.bits.set(bit::FAST_RETRANSMIT_PENDING, true);
            }
            let limited_transmit = cc.limited_transmit_allowed();
            self.note_congestion(before, out);
            self.bits.set(bit::LIMITED_TRANSMIT_PENDING, limited_transmit);
        }
    }

    /// Feeds an RTT sample to the estimator in force: RFC 6298's, or
    /// Linux's (B-LNX-01), which takes one sample per ACK with the gains
    /// of `tcp_rtt_estimator` and ignores `per_window` and `clock`.
    fn rtt_sample(&mut self, cx: &StepContext, rtt: Duration, per_window: u32, clock: Duration, out: &mut Output) {
        if cx.cfg.linux_rto
            && let Some(x) = opt_mut!(self, linux)
        {
            out.rules.push(rule::LNX_01);
            let us = |d: Duration| d.as_nanos() / 1000;
            let (srtt, rto) = x.rtt.sample(us(rtt), us(cx.cfg.rto_min), self.snd_una, self.snd_max);
            self.rtt.set_linux(cx.cfg, srtt, rto);
        } else {
            self.rtt.sample(cx.cfg, rtt, per_window, clock);
        }
    }

    /// Notes an RTT sample and what the estimator made of it (RTTVAR:
    /// RFC 6298's, or Linux's mean deviation with B-LNX-01). The world
    /// decides whether to trace it (endpoints with timestamps configured,
    /// or measurement records asked for), so other traces stay as they
    /// were before RFC 7323.
    fn note_rtt(&self, cx: &StepContext, rtt: Duration, source: RttSource, out: &mut Output) {
        let srtt = self.rtt.srtt().unwrap_or(rtt);
        let rttvar = match opt!(self, linux) {
            Some(x) if cx.cfg.linux_rto => x.rtt.mean_deviation(),
            _ => self.rtt.rttvar(),
        };
        out.notes.push(Note::Rtt { sample: rtt, source, srtt, rttvar, rto: self.rtt.rto() });
    }

    /// Traces cwnd and ssthresh when they changed, with pipe during RFC
    /// 6675 recovery and CUBIC's W_max, K and region with CUBIC; counts
    /// the rules CUBIC fired.
    fn note_congestion(&mut self, before: (u32, u32), out: &mut Output) {
        let in_recovery = self.cc.is_some_and(|cc| cc.in_recovery()) || self.in_sack_recovery();
        if let Some(c) = opt_mut!(self, cubic) {
            if in_recovery {
                c.in_recovery();
            }
            out.rules.extend(c.take_rules());
        }
        if let Some(cc) = &self.cc
            && (cc.cwnd, cc.ssthresh) != before
        {
            let cubic = opt!(self, cubic).map(|c| c.info());
            out.notes.push(Note::Congestion { cwnd: cc.cwnd, ssthresh: cc.ssthresh, pipe: self.sack_pipe(), cubic });
        }
    }

    /// RFC 6675 pipe while recovery is in progress.
    pub(super) fn sack_pipe(&self) -> Option<u32> {
        let x = opt!(self, sack)?;
        x.scoreboard.in_recovery().then(|| x.scoreboard.pipe(self.max_payload()))
    }

    /// SND.WND changed. When the window opens, probing ends and its
    /// backoff is forgotten (B-TMR-14).
    pub(super) fn on_window_update(&mut self, out: &mut Output) {
        if self.snd_wnd == 0 {
            return;
        }
        if self.bits.has(bit::PROBING) && self.snd_una != self.snd_max {
            // The window reopened while a probe byte is unacknowledged: the
            // receiver discarded it (zero window, B-SEQ-03), so send from
            // SND.UNA again rather than leave a hole. The probe was
            // answered, so its retry count ends here.
            self.snd_nxt = self.snd_una;
            self.rtt.stop_timing();
            self.retries = 0;
            self.bits.set(bit::WARNED, false);
        }
        self.bits.set(bit::PROBING, false);
        self.persist_backoff = 0;
        self.stop_timer(Timer::Persist, out);
    }

    /// In-order text arrived: acknowledge at once, or per B-OPT-07 after
    /// the delay, the second full-sized segment, or a piggyback.
    ///
    /// "Full-sized" is judged by what the peer sends: a segment as large as
    /// the largest it has sent so far (its SMSS as seen from here, Linux's
    /// `rcv_mss`), not our own MSS, which a peer with a smaller MSS never
    /// fills (RFC 1122 §4.2.3.2, RFC 5681 §4.2). `fills_gap` marks text
    /// that fills all or part of a gap: RFC 5681 §4.2 asks for an
    /// immediate ACK, which a sender in recovery waits for.
    pub(super) fn acknowledge_in_order_text(&mut self, cx: &StepContext, len: u32, fills_gap: bool, out: &mut Output) {
        let Some(delay) = cx.cfg.delayed_ack else {
            self.bits.set(bit::ACK_NOW, true);
            return;
        };
        if cx.cfg.linux_delayed_ack && opt!(self, linux).is_some() {
            self.linux_acknowledge(cx, len, fills_gap, delay, out);
            return;
        }
        out.rules.push(rule::OPT_07);
        self.ack_delayed_bytes = self.ack_delayed_bytes.saturating_add(len);
        let full_sized = len >= u32::from(self.rcv_mss);
        let second_full_sized = full_sized && self.bits.has(bit::FULL_SEGMENT_UNACKED);
        if full_sized {
            self.bits.set(bit::FULL_SEGMENT_UNACKED, true);
        }
        if fills_gap || second_full_sized || self.ack_delayed_bytes >= 2 * u32::from(cx.cfg.mss) {
            self.bits.set(bit::ACK_NOW, true);
        } else if !self.timers.is_running(Timer::DelayedAck) {
            self.start_timer(Timer::DelayedAck, cx.now + delay, out);
        }
    }

    /// B-LNX-05: in-order text under Linux's delayed-ACK engine
    /// (`tcp_event_data_recv`, then `__tcp_ack_snd_check`): the ACK goes
    /// at once when more than one full segment awaits it (RCV.NXT moved
    /// more than the peer's MSS since our last ACK), when the text filled
    /// a gap, or in quick-ack mode; otherwise it waits
    /// ([`Endpoint::linux_delay_ack`]).
    fn linux_acknowledge(&mut self, cx: &StepContext, len: u32, fills_gap: bool, ato_min: Duration, out: &mut Output) {
        out.rules.push(rule::LNX_05);
        self.ack_delayed_bytes = self.ack_delayed_bytes.saturating_add(len);
        let rto = self.rtt.rto();
        let rcv_wnd = self.rcv_wnd(cx.cfg);
        let rcv_mss = self.rcv_mss;
        let more_than_a_segment = self.ack_delayed_bytes > u32::from(rcv_mss);
        let Some(x) = opt_mut!(self, linux) else { return };
        x.on_data(cx.now, ato_min, rto, rcv_wnd, rcv_mss);
        if fills_gap || more_than_a_segment {
            self.bits.set(bit::ACK_NOW, true);
        } else if x.in_quickack() {
            x.quick_ack_step = !self.bits.has(bit::ACK_NOW);
            self.bits.set(bit::ACK_NOW, true);
        } else {
            self.linux_delay_ack(cx, ato_min, out);
        }
    }

    /// B-LNX-05 (`tcp_send_delayed_ack`): the owed ACK waits the delay
    /// the ATO gives, or goes now when the ATO is still zero (no data yet:
    /// Linux's timer then fires at the next jiffy) or a running delayed-ACK
    /// timer is due within a quarter of it; a running timer due sooner is
    /// kept.
    pub(super) fn linux_delay_ack(&mut self, cx: &StepContext, ato_min: Duration, out: &mut Output) {
        let srtt = self.rtt.srtt();
        let Some(x) = opt!(self, linux) else { return };
        let delay = x.delay(ato_min, srtt);
        if delay == Duration::ZERO {
            self.bits.set(bit::ACK_NOW, true);
            return;
        }
        let mut deadline = cx.now + delay;
        if let Some(running) = self.timers.get(Timer::DelayedAck) {
            if running <= cx.now + Duration::from_nanos(delay.as_nanos() / 4) {
                self.bits.set(bit::ACK_NOW, true);
                return;
            }
            deadline = deadline.min(running);
        }
        if self.timers.get(Timer::DelayedAck) != Some(deadline) {
            self.start_timer(Timer::DelayedAck, deadline, out);
        }
    }

    /// TIMEOUTS (RFC 9293 §3.10.8): fires every timer due at `now`, in the
    /// fixed order of [`Timer::VALUES`] (B-TMR-13).
    pub fn handle_timeout(&mut self, cfg: &TcpConfig, now: Instant, out: &mut Output) {
        let cx = StepContext { cfg, now };
        // Each firing stops its timer, and a restart is always later than
        // `now`, so this ends after at most one pass over the timers.
        for fired in 0..Timer::VALUES.len() {
            let Some(timer) = self.timers.first_expired(now) else {
                break;
            };
            if fired == 1 {
                // B-TMR-13: several timers due at once fire in fixed order.
                out.rules.push(rule::TMR_13);
            }
            self.timers.stop(timer);
            out.notes.push(Note::Timer { timer, action: TimerAction::Fire, deadline: now });
            let cause = Cause::Timer(timer);
            match timer {
                Timer::TimeWait => {
                    // B-CLOSE-19: 2MSL passed: CLOSED.
                    out.rules.push(rule::CLOSE_19);
                    self.enter_closed(CloseReason::Normal, cause, rule::CLOSE_19, out);
                }
                Timer::FinWait2 => {
                    // B-OPT-01: the Linux orphan timeout.
                    out.rules.push(rule::OPT_01);
                    self.enter_closed(CloseReason::FinWait2Timeout, cause, rule::OPT_01, out);
                }
                Timer::UserTimeout => {
                    // B-TMR-11: nothing acknowledged for too long.
                    out.rules.push(rule::TMR_11);
                    self.enter_closed(CloseReason::UserTimeout, cause, rule::TMR_11, out);
                }
                Timer::Retransmit => self.on_retransmit_timeout(&cx, out),
                Timer::Persist => self.on_persist_timeout(&cx, out),
                Timer::DelayedAck => {
                    // B-OPT-07: the delayed ACK is due.
                    out.rules.push(rule::OPT_07);
                    self.bits.set(bit::ACK_NOW, true);
                    let rto = self.rtt.rto();
                    if cfg.linux_delayed_ack
                        && let (Some(x), Some(ato_min)) = (opt_mut!(self, linux), cfg.delayed_ack)
                    {
                        // B-LNX-05: tcp_delack_timer_handler.
                        out.rules.push(rule::LNX_05);
                        x.on_delayed_ack_fired(ato_min, rto);
                    }
                }
            }
            if matches!(self.state, State::Closed | State::Listen) {
                break;
            }
        }
    }

    /// RETRANSMIT expiry: resend the earliest unacknowledged segment (or a
    /// zero-window probe), back off and restart (B-TMR-04), or give up
    /// after R2 (B-TMR-09).
    fn on_retransmit_timeout(&mut self, cx: &StepContext, out: &mut Output) {
        let cause = Cause::Timer(Timer::Retransmit);
        let syn_unacked =
            self.snd_una == self.iss && matches!(self.state, State::SynSent | State::SynReceived | State::FinWait1);
        let budget = !syn_unacked && cx.cfg.linux_retries2;
        let limit = if syn_unacked { self.syn_retry_limit(cx.cfg, out) } else { cx.cfg.r2 };
        if self.snd_una == self.snd_max {
            return; // Nothing to resend (probes are PERSIST's, B-TMR-14).
        }
        if budget && self.linux_budget_spent(cx) {
            // B-LNX-04: tcp_retries2 is a time budget, not a count.
            out.rules.push(rule::LNX_04);
            self.give_up(cx, cause, out);
            return;
        }
        if !budget && limit == Some(self.retries) {
            self.give_up(cx, cause, out);
            return;
        }
        if budget
            && self.retries == 0
            && let Some(x) = opt_mut!(self, linux)
        {
            // B-LNX-04: the budget runs from the first retransmission
            // (tcp_retransmit_skb's retrans_stamp).
            x.retrans_stamp = Some(cx.now);
        }
        if self.state == State::SynSent && self.retries < cx.cfg.syn_linear_timeouts {
            // B-LNX-02: tcp_syn_linear_timeouts: this SYN retransmission
            // keeps the initial RTO.
            out.rules.push(rule::LNX_02);
        } else {
            // B-TMR-04/B-TMR-06: back off first, so the resend below arms
            // the timer with the new RTO.
            self.rtt.back_off(cx.cfg);
        }
        // The timed segment is void (Karn).
        self.rtt.stop_timing();
        if syn_unacked {
            self.bits.set(bit::SYN_RETRANSMITTED, true);
            if self.state == State::FinWait1 {
                // B-APP-12 closed before the handshake finished: the
                // SYN,ACK is still the earliest unacknowledged segment.
                self.emit(cx, self.iss, 0, Flags::SYN | Flags::ACK, true, out);
            } else {
                self.send_syn(cx, true, out);
            }
            out.rules.push(if self.state == State::SynSent { rule::TMR_10 } else { rule::TMR_04 });
        } else {
            out.rules.push(rule::TMR_04);
            let smss = self.max_payload();
            let sack_recovery = self.bits.has(bit::SACK_OK) && self.in_sack_recovery();
            if let Some(cc) = &mut self.cc {
                // RFC 5681 (4): the loss window; resend from SND.UNA.
                let before = (cc.cwnd, cc.ssthresh);
                // RFC 5681 §3.1: a segment the timer already resent
                // holds ssthresh (`retries` counts those resends).
                let cubic = opt_mut!(self, cubic);
                cc.on_timeout(self.snd_max.since(self.snd_una), smss, self.snd_max, self.retries > 0, cubic);
                if sack_recovery {
                    // B-SACK-10: eq. (4)'s FlightSize is what is in the
                    // network, which in SACK recovery is pipe, not
                    // SND.MAX − SND.UNA (that counts SACKed octets and
                    // recovery's new data). Recovery already halved the
                    // window for this loss: its ssthresh stays, as in
                    // Linux's tcp_enter_loss.
                    // Within eq. (4) still: never above max(FlightSize
                    // / 2, 2 SMSS) of what is outstanding now.
                    cc.ssthresh = before.1.min(cc.ssthresh);
                }
                if self.bits.has(bit::SACK_OK)
                    && let Some(x) = opt_mut!(self, sack)
                {
                    // B-SACK-10: RFC 6675 §5.1: recovery ends,
                    // RecoveryPoint = HighData, and the slow start goes
                    // back to SND.UNA, skipping what later ACKs SACK
                    // (`skip_sacked`).
                    out.rules.push(rule::SACK_10);
                    x.scoreboard.on_rto(self.snd_max);
                    x.entry_rxt = None;
                }
                self.note_congestion(before, out);
                self.snd_nxt = self.snd_una;
            }
            self.resend_earliest(cx, out);
        }
        self.count_retry(cx, out);
        if !self.timers.is_running(Timer::Retransmit) {
            self.start_timer(Timer::Retransmit, cx.now + self.rtt.rto(), out);
        }
    }

    /// B-LNX-09: the SYN,ACK again, for a retransmitted SYN: no backoff,
    /// and the timer restarts with the current RTO (`tcp_check_req`:
    /// `reqsk_timeout`, `mod_timer_pending`); it does not count toward
    /// giving up (`inet_rtx_syn_ack` raises `num_retrans`, the give-up
    /// counts `num_timeout`).
    pub(super) fn resend_syn_ack(&mut self, cx: &StepContext, out: &mut Output) {
        // The timed segment is void (Karn).
        self.rtt.stop_timing();
        self.send_syn(cx, true, out);
        self.start_timer(Timer::Retransmit, cx.now + self.rtt.rto(), out);
    }

    /// How many retransmissions of the SYN or SYN,ACK may go: `r2_syn`,
    /// plus `syn_linear_timeouts` for an active open (B-LNX-02, Linux's
    /// `tcp_write_timeout`), or `synack_retries` for a passive one
    /// (B-LNX-03, `reqsk_timer_handler`).
    fn syn_retry_limit(&self, cfg: &TcpConfig, out: &mut Output) -> Option<u32> {
        match self.state {
            State::SynSent if cfg.syn_linear_timeouts > 0 => {
                out.rules.push(rule::LNX_02);
                cfg.r2_syn.map(|n| n.saturating_add(cfg.syn_linear_timeouts))
            }
            State::SynReceived if self.origin == super::Origin::Passive && cfg.synack_retries.is_some() => {
                out.rules.push(rule::LNX_03);
                cfg.synack_retries
            }
            _ => cfg.r2_syn,
        }
    }

    /// B-LNX-04 (`retransmits_timed_out` with `tcp_retries2`): at least
    /// one retransmission went, and the time since the first is at least
    /// the budget of `r2` retransmissions from a 200 ms RTO. `r2`
    /// infinite never runs out.
    fn linux_budget_spent(&self, cx: &StepContext) -> bool {
        let (Some(n), Some(x)) = (cx.cfg.r2, opt!(self, linux)) else { return false };
        let Some(first) = x.retrans_stamp.filter(|_| self.retries > 0) else { return false };
        cx.now.saturating_since(first) >= super::linux_retries2_budget(n)
    }

    /// B-TMR-09: the limit is reached: give up; a passive SYN_RECEIVED
    /// returns to LISTEN.
    fn give_up(&mut self, cx: &StepContext, cause: Cause, out: &mut Output) {
        out.rules.push(rule::TMR_09);
        if self.state == State::SynReceived && self.origin == super::Origin::Passive {
            self.return_to_listen(cx, cause, rule::TMR_09, out);
        } else {
            self.enter_closed(CloseReason::RetransmitLimit, cause, rule::TMR_09, out);
        }
    }

    /// One more retransmission of the same segment or probe; at r1 the
    /// application is warned once (B-TMR-08).
    fn count_retry(&mut self, cx: &StepContext, out: &mut Output) {
        self.retries += 1;
        if self.retries == cx.cfg.r1 && !self.bits.has(bit::WARNED) {
            // B-TMR-08: tell the application the path looks bad.
            out.rules.push(rule::TMR_08);
            self.bits.set(bit::WARNED, true);
            out.notes.push(Note::Event(AppEvent::RetransmitWarning));
        }
    }

    /// PERSIST expiry (B-DATA-06, B-TMR-14): send the outstanding probe
    /// again, or a first probe of one new octet (the FIN when no data is
    /// left); double the interval and restart. A probe already sent again
    /// r2 times without an answer gives up as B-TMR-09; any answer resets
    /// that count (`input`'s ACK step), so a receiver that keeps
    /// acknowledging is probed for ever (MUST-37).
    fn on_persist_timeout(&mut self, cx: &StepContext, out: &mut Output) {
        let probe_outstanding = self.bits.has(bit::PROBING) && self.snd_una != self.snd_max;
        let first_probe = self.snd_una == self.snd_max && self.has_unsent();
        if self.snd_wnd > 0 || !(probe_outstanding || first_probe) {
            return; // The window opened, or nothing waits.
        }
        out.rules.push(rule::DATA_06);
        out.rules.push(rule::TMR_14);
        if probe_outstanding {
            if cx.cfg.r2 == Some(self.retries) {
                self.give_up(cx, Cause::Timer(Timer::Persist), out);
                return;
            }
            // The window is closed, not the path congested, so cwnd stays
            // (RFC 5681 §3.1 reduces it for loss only; Linux's probe timer
            // leaves it too).
            self.resend_earliest(cx, out);
            self.count_retry(cx, out);
        } else {
            self.send_first_probe(cx, out);
        }
        self.persist_backoff = self.persist_backoff.saturating_add(1);
        self.start_timer(Timer::Persist, cx.now + self.persist_interval(cx.cfg), out);
    }

    /// One new octet beyond the closed window (§3.8.6.1: "send at least
    /// one octet of new data"), or the FIN when no data is left. New data,
    /// so not a retransmission; but with PROBING set `emit` never times it:
    /// its answer waits for the window, not the path.
    fn send_first_probe(&mut self, cx: &StepContext, out: &mut Output) {
        self.assign_sequence_numbers();
        self.bits.set(bit::PROBING, true);
        if self.snd_nxt.lt(self.snd_end) {
            let last = self.snd_nxt.add(1) == self.snd_end && self.send_backlog == 0;
            let flags = if last { Flags::ACK | Flags::PSH } else { Flags::ACK };
            self.emit(cx, self.snd_nxt, 1, flags, false, out);
        } else {
            self.emit(cx, self.snd_nxt, 0, Flags::FIN | Flags::ACK, false, out);
        }
    }

    /// Resends the segment at SND.UNA: up to one MSS of data, with the FIN
    /// if it fits (B-CLOSE-16), or the FIN alone (B-CLOSE-15).
    fn resend_earliest(&mut self, cx: &StepContext, out: &mut Output) {
        let data_end = if self.snd_max.lt(self.snd_end) { self.snd_max } else { self.snd_end };
        if self.snd_una.lt(data_end) {
            let n = data_end.since(self.snd_una).min(self.max_payload());
            let reaches_end = self.snd_una.add(n) == self.snd_end && self.send_backlog == 0;
            if reaches_end && self.fin_ever_sent() {
                out.rules.push(rule::CLOSE_16);
            }
            self.resend_data(cx, self.snd_una, n, self.fin_ever_sent(), out);
        } else if self.fin_ever_sent() {
            // The FIN alone: <SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=FIN,ACK>.
            out.rules.push(if self.state == State::LastAck { rule::CLOSE_15 } else { rule::CLOSE_16 });
            self.emit(cx, self.snd_end, 0, Flags::FIN | Flags::ACK, true, out);
        }
    }
}
