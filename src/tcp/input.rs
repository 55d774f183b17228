//! SEGMENT ARRIVES (RFC 9293 §3.10.7): one function per group of states,
//! each a table of rules with the behaviour ID that fires.
//!
//! Processing in SYN_RECEIVED and the synchronized states follows the RFC's
//! order: (0) the two checks that must precede the sequence test (a
//! retransmitted FIN in TIME_WAIT, B-CLOSE-17; the crossing SYN,ACK of a
//! simultaneous open, B-ACK-08), (1) sequence test, (2) RST, (3) SYN,
//! (4) ACK, (5) text, (6) FIN. The first step that drops or returns ends
//! processing.

use super::bit;
use super::sack::SackBlock;
use super::sack::blocks::duplicate_part;
use super::segment::MAX_WINDOW_SHIFT;
use super::{Cause, CloseReason, Endpoint, Origin, Output, PayloadTag, StepContext};
use super::{Segment, SeqNum, State, TcpConfig, Timer};
use crate::rule;
use crate::time::Instant;

/// The part of an arriving segment still to be processed after trimming
/// (B-SEQ-04) and clipping to the window.
#[derive(Clone, Copy, Debug)]
struct View {
    seq: SeqNum,
    len: u32,
    syn: bool,
    fin: bool,
    /// Payload offset of the first remaining byte, as tagged by the sender.
    payload: PayloadTag,
}

impl View {
    fn of(seg: &Segment) -> View {
        View { seq: seg.seq, len: seg.len, syn: seg.flags.syn(), fin: seg.flags.fin(), payload: seg.payload }
    }

    fn seg_len(&self) -> u32 {
        self.len + self.syn as u32 + self.fin as u32
    }

    /// Sequence number of the first payload byte.
    fn text_seq(&self) -> SeqNum {
        self.seq.add(self.syn as u32)
    }

    /// Sequence number of the FIN, if the view has one.
    fn fin_seq(&self) -> SeqNum {
        self.text_seq().add(self.len)
    }

    /// Drops everything before `rcv_nxt` (RFC 9293 §3.10.7.4 first step).
    fn trim_front(&mut self, rcv_nxt: SeqNum) {
        if !self.seq.lt(rcv_nxt) {
            return;
        }
        if self.syn {
            self.syn = false;
            self.seq = self.seq.add(1);
        }
        let skip = rcv_nxt.since(self.seq).min(self.len);
        self.seq = self.seq.add(skip);
        self.len -= skip;
        self.payload.offset = self.payload.offset.wrapping_add(skip);
        if self.seq.lt(rcv_nxt) {
            // Only an old FIN was left before RCV.NXT.
            self.fin = false;
            self.seq = rcv_nxt;
        }
    }

    /// Keeps only what fits before `wnd_end`.
    fn clip_to(&mut self, wnd_end: SeqNum) {
        let text_start = self.text_seq();
        if !text_start.lt(wnd_end) {
            self.len = 0;
            self.fin = false;
            return;
        }
        let room = wnd_end.since(text_start);
        if self.len >= room {
            self.len = room;
            self.fin = false;
        }
    }
}

/// RFC 9293 §3.4 Table 5: is a segment acceptable?
fn acceptable(seq: SeqNum, seg_len: u32, rcv_nxt: SeqNum, rcv_wnd: u32) -> bool {
    let wnd_end = rcv_nxt.add(rcv_wnd);
    let starts_inside = rcv_nxt.le(seq) && seq.lt(wnd_end);
    match (seg_len, rcv_wnd) {
        (0, 0) => seq == rcv_nxt,
        (0, _) => starts_inside,
        (_, 0) => false,
        (_, _) => {
            let last = seq.add(seg_len - 1);
            starts_inside || (rcv_nxt.le(last) && last.lt(wnd_end))
        }
    }
}

impl Endpoint {
    /// SEGMENT ARRIVES. Resets are emitted at once; everything else the
    /// step owes leaves at the next [`Endpoint::dispatch`].
    pub fn handle_segment(&mut self, cfg: &TcpConfig, now: Instant, seg: &Segment, out: &mut Output) {
        let cx = StepContext { cfg, now };
        match self.state {
            State::Closed => self.on_closed_segment(seg, out),
            State::Listen => self.on_listen_segment(&cx, seg, out),
            State::SynSent => self.on_syn_sent_segment(&cx, seg, out),
            _ => self.on_synchronized_segment(&cx, seg, out),
        }
        self.apply_pending_close(out);
    }

    /// B-APP-13: a CLOSE made in SYN_RECEIVED takes effect once ESTABLISHED.
    fn apply_pending_close(&mut self, out: &mut Output) {
        if self.bits.has(bit::CLOSE_PENDING) && matches!(self.state, State::Established | State::CloseWait) {
            self.bits.set(bit::CLOSE_PENDING, false);
            let _ = self.close(out);
        }
    }

    fn reply_reset(&mut self, rst: Segment, out: &mut Output) {
        out.segments.push(rst);
        self.stats.segments_sent = self.stats.segments_sent.wrapping_add(1);
    }

    /// RFC 9293 §3.10.7.1: CLOSED (a TCB that no longer exists).
    fn on_closed_segment(&mut self, seg: &Segment, out: &mut Output) {
        match Segment::reset_reply(seg) {
            // B-CLOSED-03: a reset is never answered.
            None => out.rules.push(rule::CLOSED_03),
            Some(rst) => {
                // B-CLOSED-01 without ACK (<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>),
                // B-CLOSED-02 with ACK (<SEQ=SEG.ACK><CTL=RST>).
                out.rules.push(if seg.flags.ack() { rule::CLOSED_02 } else { rule::CLOSED_01 });
                if seg.flags.fin() && self.reason == Some(CloseReason::Normal) {
                    // B-CLOSE-21: a late FIN after our TIME_WAIT ended.
                    out.rules.push(rule::CLOSE_21);
                }
                self.reply_reset(rst, out);
            }
        }
    }

    /// RFC 9293 §3.10.7.2: LISTEN.
    fn on_listen_segment(&mut self, cx: &StepContext, seg: &Segment, out: &mut Output) {
        let cause = Cause::Recv(seg.flags);
        if seg.flags.rst() {
            // B-LISTEN-01: an incoming RST is ignored.
            out.rules.push(rule::LISTEN_01);
        } else if seg.flags.ack() {
            // B-LISTEN-02: any acknowledgment is bad here.
            out.rules.push(rule::LISTEN_02);
            self.reply_reset(Segment::rst(seg.ack), out);
        } else if seg.flags.syn() {
            // B-LISTEN-03: LISTEN -> SYN_RECEIVED; the SYN,ACK leaves at
            // dispatch.
            out.rules.push(rule::LISTEN_03);
            self.origin = Origin::Passive;
            self.accept_peer_syn(cx, seg, out);
            self.snd_una = self.iss;
            self.snd_nxt = self.iss;
            self.snd_max = self.iss;
            self.snd_end = self.iss.add(1);
            // Not in the RFC's LISTEN step, but needed if the application
            // closes before the handshake completes (B-APP-12): the SYN's
            // window is all we know of the peer's.
            self.set_send_window(u32::from(seg.wnd), seg.seq, self.iss);
            self.bits.set(bit::SYN_PENDING, true);
            self.queue_text_of_syn(cx, seg);
            self.set_state(State::SynReceived, cause, rule::LISTEN_03, out);
        } else {
            // B-LISTEN-04: anything else is dropped.
            out.rules.push(rule::LISTEN_04);
        }
    }

    fn accept_peer_syn(&mut self, cx: &StepContext, seg: &Segment, out: &mut Output) {
        self.irs = seg.seq;
        self.rcv_nxt = seg.seq.add(1);
        if let Some(x) = opt_mut!(self, rfc7323) {
            // Nothing advertised yet: the right edge starts at RCV.NXT.
            x.rcv_adv = self.rcv_nxt;
            x.last_ack_sent = self.rcv_nxt;
        }
        self.peer_stream = seg.payload.stream;
        self.negotiate_options(cx, seg, out);
        // After the options: the payload size and ssthresh depend on them.
        self.learn_peer_mss(cx.cfg, seg, out);
    }

    /// RFC 7323: the options of the peer's SYN (or SYN,ACK) against ours.
    /// A SYN,ACK carries an option only if the SYN did (B-WS-01, B-TS-01),
    /// so the peer's SYN decides for both sides.
    fn negotiate_options(&mut self, cx: &StepContext, seg: &Segment, out: &mut Output) {
        if cx.cfg.sack && seg.sack_permitted() {
            // B-SACK-02: both SYNs carried SACK-permitted (RFC 2018 §2):
            // ACKs carry blocks, and loss recovery is RFC 6675's.
            out.rules.push(rule::SACK_02);
            self.bits.set(bit::SACK_OK, true);
        }
        let Some(x) = opt_mut!(self, rfc7323) else { return };
        if let (Some(ours), Some(theirs)) = (cx.cfg.window_scale, seg.ws()) {
            // B-WS-02: both sent Window Scale: windows are scaled from now
            // on, ours by our shift, the peer's by its (§2.2).
            out.rules.push(rule::WS_02);
            self.bits.set(bit::WS_OK, true);
            x.rcv_wscale = ours.min(MAX_WINDOW_SHIFT);
            if theirs > MAX_WINDOW_SHIFT {
                // B-WS-03: §2.3: a shift above 14 is used as 14.
                out.rules.push(rule::WS_03);
            }
            x.snd_wscale = theirs.min(MAX_WINDOW_SHIFT);
        }
        if cx.cfg.timestamps
            && let Some(ts) = seg.ts()
        {
            // B-TS-01: both sent Timestamps (§3.2); TS.Recent starts at
            // the SYN's TSval (§4.3).
            out.rules.push(rule::TS_01);
            self.bits.set(bit::TS_OK, true);
            x.ts_recent = ts.tsval;
        }
    }

    /// SND.WND from a segment's window field: a SYN's is never scaled, any
    /// other is shifted by Snd.Wind.Shift (B-WS-04, RFC 7323 §2.2, §2.3).
    fn peer_window(&self, seg: &Segment, out: &mut Output) -> u32 {
        if seg.flags.syn() {
            return u32::from(seg.wnd);
        }
        if self.bits.has(bit::WS_OK) {
            out.rules.push(rule::WS_04);
        }
        u32::from(seg.wnd) << self.rfc7323().snd_wscale
    }

    /// PAWS (B-TS-05, RFC 7323 §5.3 R1): with timestamps in use, a
    /// non-RST segment whose TSval is older than TS.Recent (modulo 2^32,
    /// §5.2) is an old duplicate; the receiver discards it. A pure
    /// question, so the caller can trace the discard before the step.
    pub fn paws_rejects(&self, seg: &Segment) -> bool {
        // The flag first: without timestamps this is one test.
        self.bits.has(bit::TS_OK)
            && !seg.flags.rst()
            && (self.state == State::SynReceived || self.state.is_synchronized())
            && self.ts_is_old(seg)
    }

    /// B-TS-08, RFC 7323 §3.2: with timestamps in use, a non-RST segment
    /// without the Timestamps option is silently dropped ("a TCP SHOULD
    /// silently drop the segment"); only a forged or injected segment can
    /// lack it, since the peer sends it on every other segment (B-TS-02).
    /// A pure question, like [`Endpoint::paws_rejects`], so the caller can
    /// trace the discard (`no_timestamp`) before the step.
    pub fn lacks_timestamp(&self, seg: &Segment) -> bool {
        self.bits.has(bit::TS_OK)
            && !seg.flags.rst()
            && seg.ts().is_none()
            && (self.state == State::SynReceived || self.state.is_synchronized())
    }

    /// The segment carries a TSval older than TS.Recent.
    fn ts_is_old(&self, seg: &Segment) -> bool {
        self.bits.has(bit::TS_OK)
            && seg.ts().is_some_and(|ts| (ts.tsval.wrapping_sub(self.rfc7323().ts_recent) as i32) < 0)
    }

    /// The TSecr to time an ACK with: timestamps in use and the ACK bit
    /// set (§3.2: TSecr is valid only then).
    fn echoed_timestamp(&self, seg: &Segment) -> Option<u32> {
        if self.bits.has(bit::TS_OK) && seg.flags.ack() { seg.ts().map(|ts| ts.tsecr) } else { None }
    }

    /// B-LNX-08: Linux's `tcp_init_transfer`: after more than one SYN or
    /// SYN,ACK retransmission the congestion window starts at one
    /// segment, RFC 5681 §3.1's loss window for a lost SYN, where Linux
    /// keeps its initial window after a single one (RFC 6298's 1 s
    /// initial RTO makes that one likely spurious). Not when the peer's
    /// segment echoes the first SYN's timestamp: that SYN got through,
    /// and the retransmissions were spurious
    /// (`tcp_try_undo_spurious_syn`).
    fn linux_initial_window(&mut self, cx: &StepContext, seg: &Segment, out: &mut Output) {
        if !cx.cfg.linux_handshake {
            return;
        }
        let Some(x) = opt!(self, linux) else { return };
        if x.syn_rtx < 2 {
            return;
        }
        let first = x.first_syn_at.map(|t| self.ts_clock(cx.cfg, t));
        if first.is_some() && self.echoed_timestamp(seg) == first {
            return;
        }
        out.rules.push(rule::LNX_08);
        let smss = self.max_payload();
        if let Some(cc) = &mut self.cc {
            cc.cwnd = smss;
        }
    }

    fn set_send_window(&mut self, wnd: u32, wl1: SeqNum, wl2: SeqNum) {
        self.snd_wnd = wnd;
        self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
        self.snd_wl1 = wl1;
        self.snd_wl2 = wl2;
    }

    /// Text and FIN that came with a SYN wait for ESTABLISHED (B-DATA-05).
    fn queue_text_of_syn(&mut self, cx: &StepContext, seg: &Segment) {
        let mut view = View::of(seg);
        view.trim_front(self.rcv_nxt);
        view.clip_to(self.rcv_nxt.add(self.recv_window(cx.cfg)));
        if view.len > 0 {
            let foreign = self.is_foreign(&view);
            self.reassembly.insert(view.text_seq(), view.fin_seq(), foreign);
        }
        if view.fin {
            self.reassembly.hold_fin(view.fin_seq());
        }
    }

    /// RFC 9293 §3.10.7.3: SYN_SENT.
    fn on_syn_sent_segment(&mut self, cx: &StepContext, seg: &Segment, out: &mut Output) {
        let cause = Cause::Recv(seg.flags);
        let f = seg.flags;
        // First, the ACK field: acceptable iff SND.UNA < SEG.ACK =< SND.NXT.
        let ack_ok = f.ack() && self.snd_una.lt(seg.ack) && seg.ack.le(self.snd_max);
        if f.ack() && !ack_ok {
            if f.rst() {
                // B-SYNSENT-03: RST with an unacceptable ACK: drop.
                out.rules.push(rule::SYNSENT_03);
            } else {
                // B-SYNSENT-01: an old duplicate SYN,ACK: <SEQ=SEG.ACK><CTL=RST>.
                out.rules.push(rule::SYNSENT_01);
                self.reply_reset(Segment::rst(seg.ack), out);
            }
            return;
        }
        // Second, RST.
        if f.rst() {
            if ack_ok {
                // B-SYNSENT-02: the peer refused the connection.
                out.rules.push(rule::SYNSENT_02);
                self.enter_closed(CloseReason::Refused, cause, rule::SYNSENT_02, out);
            } else {
                // B-SYNSENT-03: a RST without ACK cannot be trusted here.
                out.rules.push(rule::SYNSENT_03);
            }
            return;
        }
        if !f.syn() {
            // B-SYNSENT-06: neither SYN nor RST: drop.
            out.rules.push(rule::SYNSENT_06);
            return;
        }
        // Fourth, SYN.
        self.accept_peer_syn(cx, seg, out);
        if ack_ok {
            // B-SYNSENT-04: SYN,ACK acknowledging our SYN -> ESTABLISHED.
            out.rules.push(rule::SYNSENT_04);
            self.set_send_window(u32::from(seg.wnd), seg.seq, seg.ack);
            self.on_new_ack(cx, seg.ack, self.echoed_timestamp(seg), out);
            self.linux_initial_window(cx, seg, out);
            self.enter_established(cause, rule::SYNSENT_04, out);
            self.bits.set(bit::ACK_NOW, true);
            // Text or FIN on the SYN,ACK: continue at the text step.
            let mut view = View::of(seg);
            view.trim_front(self.rcv_nxt);
            view.clip_to(self.rcv_nxt.add(self.recv_window(cx.cfg)));
            self.process_text_and_fin(cx, &view, cause, out);
        } else {
            // B-SYNSENT-05: simultaneous open -> SYN_RECEIVED. Our SYN goes
            // again as SYN,ACK, so its RTT can no longer be measured.
            out.rules.push(rule::SYNSENT_05);
            self.set_send_window(u32::from(seg.wnd), seg.seq, self.snd_una);
            self.bits.set(bit::SYN_PENDING, true);
            self.rtt.stop_timing();
            self.queue_text_of_syn(cx, seg);
            self.set_state(State::SynReceived, cause, rule::SYNSENT_05, out);
        }
    }

    /// RFC 9293 §3.10.7.4: SYN_RECEIVED and the synchronized states.
    fn on_synchronized_segment(&mut self, cx: &StepContext, seg: &Segment, out: &mut Output) {
        let cause = Cause::Recv(seg.flags);
        let f = seg.flags;
        let mut view = View::of(seg);

        // PAWS comes first (RFC 7323 §5.3 R1, before the sequence test).
        if self.paws_rejects(seg) {
            // B-TS-05: an old duplicate: acknowledge and drop. Its text
            // is a duplicate all the same: the ACK D-SACKs it (B-SACK-04,
            // RFC 2883 §4; Linux's tcp_send_dupack does).
            out.rules.push(rule::TS_05);
            self.note_sack_trigger(seg);
            self.bits.set(bit::ACK_NOW, true);
            return;
        }
        if self.lacks_timestamp(seg) {
            // B-TS-08: no Timestamps option: dropped without an answer.
            out.rules.push(rule::TS_08);
            return;
        }
        if f.rst() && self.ts_is_old(seg) {
            // B-TS-06: PAWS never applies to a reset (§5.3 R1); it goes
            // on to the sequence test.
            out.rules.push(rule::TS_06);
        }

        // (0) B-LNX-09: Linux's tcp_check_req answers a retransmitted SYN
        // in a passive SYN_RECEIVED with the SYN,ACK again
        // (inet_rtx_syn_ack), unless it did less than
        // `challenge_ack_interval` ago (tcp_oow_rate_limited,
        // tcp_invalid_ratelimit); RFC 9293's sequence test would answer
        // with an ACK (§3.10.7.4).
        if cx.cfg.linux_handshake
            && self.state == State::SynReceived
            && self.origin == Origin::Passive
            && f.syn()
            && !f.ack()
            && !f.rst()
            && seg.seq == self.irs
        {
            out.rules.push(rule::LNX_09);
            let limited = match (cx.cfg.challenge_ack_interval, opt!(self, linux)) {
                (Some(interval), Some(x)) => x.last_syn_answer.is_some_and(|t| cx.now.saturating_since(t) < interval),
                _ => false,
            };
            if !limited {
                if let Some(x) = opt_mut!(self, linux) {
                    x.last_syn_answer = Some(cx.now);
                }
                self.resend_syn_ack(cx, out);
            }
            return;
        }

        // (0) B-CLOSE-17: the peer's FIN again (our ACK of it was lost). The
        // literal sequence test would reject it and skip the restart, so
        // check first: acknowledge it and restart the full 2MSL wait.
        if self.state == State::TimeWait && f.fin() && !f.rst() && seg.end() == self.rcv_nxt {
            out.rules.push(rule::CLOSE_17);
            self.bits.set(bit::ACK_NOW, true);
            self.start_timer(Timer::TimeWait, cx.now + cx.cfg.time_wait_len(), out);
            return;
        }
        // (0) B-ACK-08: in an active SYN_RECEIVED, the peer's SYN,ACK
        // crossing ours. Its SYN is an old duplicate, trimmed here; its ACK
        // completes the handshake in step (4).
        let crossing_syn_ack = self.state == State::SynReceived
            && self.origin == Origin::Active
            && f.syn()
            && f.ack()
            && !f.rst()
            && seg.seq == self.irs
            && self.snd_una.lt(seg.ack)
            && seg.ack.le(self.snd_max);
        if crossing_syn_ack {
            out.rules.push(rule::ACK_08);
            view.trim_front(self.rcv_nxt);
            self.bits.set(bit::ACK_NOW, true);
        }

        self.note_sack_trigger(seg);

        // (1) The sequence test.
        let rcv_wnd = self.recv_window(cx.cfg);
        let mut text_discarded = false;
        if !acceptable(view.seq, view.seg_len(), self.rcv_nxt, rcv_wnd) {
            if view.seg_len() > 0 && rcv_wnd == 0 && view.seq == self.rcv_nxt {
                // B-SEQ-03: zero window: still process RST and ACK, discard
                // the text, acknowledge.
                out.rules.push(rule::SEQ_03);
                view.len = 0;
                view.fin = false;
                view.syn = false;
                text_discarded = true;
                self.bits.set(bit::ACK_NOW, true);
            } else if f.rst() {
                // B-SEQ-02: an unacceptable reset is dropped silently.
                out.rules.push(rule::SEQ_02);
                return;
            } else if rcv_wnd == 0 && view.seq == self.rcv_nxt.add(1) && !f.syn() {
                // B-SEQ-03, B-TMR-14: the "special allowance ... to accept
                // valid ACKs" of a zero window (§3.10.7.4 first step) for
                // a peer whose SND.NXT counts the one probe octet it may put
                // beyond our closed window (§3.8.6.1): without it the ACKs
                // of our data are lost until the window opens and we resend
                // what was delivered. Only the ACK field: a reset must sit
                // at RCV.NXT, a SYN gets no such allowance, and the text
                // is discarded.
                out.rules.push(rule::SEQ_03);
                out.rules.push(rule::TMR_14);
                view.len = 0;
                view.fin = false;
                view.syn = false;
                text_discarded = true;
                self.bits.set(bit::ACK_NOW, true);
            } else {
                // B-SEQ-01 (B-CLOSE-18 in TIME_WAIT): acknowledge, drop.
                out.rules.push(if self.state == State::TimeWait { rule::CLOSE_18 } else { rule::SEQ_01 });
                self.bits.set(bit::ACK_NOW, true);
                return;
            }
        }
        if !text_discarded {
            if view.seq.lt(self.rcv_nxt) {
                // B-SEQ-04: trim what we already have.
                out.rules.push(rule::SEQ_04);
                view.trim_front(self.rcv_nxt);
            }
            view.clip_to(self.rcv_nxt.add(rcv_wnd));
        }

        // (2) RST.
        if f.rst() {
            self.on_acceptable_rst(cx, seg, cause, out);
            return;
        }

        // (3) SYN in the window.
        if view.syn {
            self.on_acceptable_syn(cx, seg, cause, out);
            return;
        }

        // (4) ACK.
        if !f.ack() {
            // B-ACK-01: without ACK the segment is dropped.
            out.rules.push(rule::ACK_01);
            return;
        }
        let fin_in_sequence = view.fin && view.text_seq() == self.rcv_nxt;
        if !self.on_ack_field(cx, seg, fin_in_sequence, cause, out) {
            return;
        }
        // Only now is the segment acceptable: one whose ACK acknowledged
        // what we never sent (a forgery or a stray) must not set TS.Recent,
        // or a huge TSval there would make every genuine segment after it
        // a PAWS discard (Linux also updates after the ACK check).
        self.update_ts_recent(seg, out);

        // (6) text, (7) FIN.
        self.process_text_and_fin(cx, &view, cause, out);
    }

    /// With SACK in use, remembers the arriving text for this step's ACKs:
    /// its range (RFC 2018 §4: the first block holds the segment that
    /// triggered the ACK) and the part of it already received, taken
    /// before it is processed (RFC 2883 §4: the D-SACK block). A FIN
    /// occupies a sequence number (RFC 9293 §3.4), so a bare FIN is such a
    /// segment too: held beyond a gap it is SACKed, and a duplicate of it
    /// D-SACKed, as data would be (Linux's blocks count it the same way).
    fn note_sack_trigger(&mut self, seg: &Segment) {
        let fin = u32::from(seg.flags.fin() && !seg.flags.rst());
        if !self.bits.has(bit::SACK_OK) || seg.len + fin == 0 {
            return;
        }
        let start = seg.seq.add(seg.flags.syn() as u32);
        let arrived = SackBlock::new(start, start.add(seg.len + fin));
        let dsack = duplicate_part(arrived, self.rcv_nxt, self.reassembly.sack_ranges());
        if let Some(x) = opt_mut!(self, sack) {
            x.trigger = Some((arrived, dsack));
            x.step_blocks = None;
        }
    }

    /// RFC 7323 §4.3 (2), §5.3 R3: an acceptable segment's TSval becomes
    /// TS.Recent if it is not older and the segment starts at or before
    /// Last.ACK.sent, so TS.Recent is the TSval of the segment our next
    /// ACK acknowledges (B-TS-03). "Acceptable" means it passed the
    /// sequence test and the ACK step: the caller calls this after both.
    fn update_ts_recent(&mut self, seg: &Segment, out: &mut Output) {
        if !self.bits.has(bit::TS_OK) {
            return;
        }
        let old = self.ts_is_old(seg);
        if let Some(ts) = seg.ts()
            && let Some(x) = opt_mut!(self, rfc7323)
            && !old
            && seg.seq.le(x.last_ack_sent)
        {
            out.rules.push(rule::TS_03);
            x.ts_recent = ts.tsval;
        }
    }

    /// Step (2) for an acceptable RST.
    fn on_acceptable_rst(&mut self, cx: &StepContext, seg: &Segment, cause: Cause, out: &mut Output) {
        if seg.len > 0 {
            // B-RST-05: data on a reset is ignored.
            out.rules.push(rule::RST_05);
        }
        if cx.cfg.rfc5961 && seg.seq != self.rcv_nxt {
            // B-OPT-04: RFC 5961 §3.2: in the window but not exact: a
            // challenge ACK, and the connection survives.
            out.rules.push(rule::OPT_04);
            self.challenge_ack(cx, out);
            return;
        }
        match self.state {
            State::SynReceived if self.origin == Origin::Passive => {
                // B-RST-01: back to LISTEN; the application is not told.
                out.rules.push(rule::RST_01);
                self.return_to_listen(cx, cause, rule::RST_01, out);
            }
            State::SynReceived => {
                // B-RST-02: our active open was refused.
                out.rules.push(rule::RST_02);
                self.enter_closed(CloseReason::Refused, cause, rule::RST_02, out);
            }
            State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait => {
                // B-RST-03: the connection is reset.
                out.rules.push(rule::RST_03);
                self.enter_closed(CloseReason::Reset, cause, rule::RST_03, out);
            }
            State::TimeWait if cx.cfg.rfc1337 => {
                // B-OPT-03: RFC 1337 fix F1: TIME_WAIT ignores resets.
                out.rules.push(rule::OPT_03);
            }
            _ => {
                // B-RST-04: CLOSING, LAST_ACK, TIME_WAIT.
                out.rules.push(rule::RST_04);
                self.enter_closed(CloseReason::Reset, cause, rule::RST_04, out);
            }
        }
    }

    /// Step (3) for a SYN inside the window.
    fn on_acceptable_syn(&mut self, cx: &StepContext, seg: &Segment, cause: Cause, out: &mut Output) {
        if self.state == State::SynReceived && self.origin == Origin::Passive {
            // B-SYN-01: back to LISTEN.
            out.rules.push(rule::SYN_01);
            self.return_to_listen(cx, cause, rule::SYN_01, out);
        } else if cx.cfg.rfc5961 {
            // B-OPT-05: RFC 5961 §4: challenge ACK, drop.
            out.rules.push(rule::OPT_05);
            self.challenge_ack(cx, out);
        } else {
            // B-SYN-02: reset the peer and abort.
            out.rules.push(rule::SYN_02);
            if let Some(rst) = Segment::reset_reply(seg) {
                self.reply_reset(rst, out);
            }
            self.enter_closed(CloseReason::SynInWindow, cause, rule::SYN_02, out);
        }
    }

    /// An RFC 5961 challenge ACK (B-OPT-04..06), unless one went less than
    /// `challenge_ack_interval` ago (B-LNX-07: Linux's per-socket
    /// `tcp_invalid_ratelimit` in `tcp_send_challenge_ack`; the segment is
    /// dropped all the same).
    fn challenge_ack(&mut self, cx: &StepContext, out: &mut Output) {
        if let (Some(interval), Some(x)) = (cx.cfg.challenge_ack_interval, opt_mut!(self, linux)) {
            if x.last_challenge.is_some_and(|last| cx.now.saturating_since(last) < interval) {
                out.rules.push(rule::LNX_07);
                return;
            }
            x.last_challenge = Some(cx.now);
        }
        self.bits.set(bit::ACK_NOW, true);
    }

    /// Step (4). Returns whether processing goes on to text and FIN.
    fn on_ack_field(
        &mut self,
        cx: &StepContext,
        seg: &Segment,
        fin_in_sequence: bool,
        cause: Cause,
        out: &mut Output,
    ) -> bool {
        let ack = seg.ack;
        if self.state == State::SynReceived {
            if self.snd_una.lt(ack) && ack.le(self.snd_max) {
                // B-ACK-02: SYN_RECEIVED -> ESTABLISHED; continue there.
                out.rules.push(rule::ACK_02);
                let wnd = self.peer_window(seg, out);
                self.set_send_window(wnd, seg.seq, ack);
                self.on_new_ack(cx, ack, self.echoed_timestamp(seg), out);
                self.linux_initial_window(cx, seg, out);
                self.enter_established(cause, rule::ACK_02, out);
                if self.reassembly.has_out_of_order() {
                    // B-DATA-05: text that came with the SYN is delivered now.
                    out.rules.push(rule::DATA_05);
                }
                if seg.flags.fin() || self.reassembly.has_fin() {
                    // B-CLOSE-02: a FIN arriving with the handshake's ACK
                    // takes SYN_RECEIVED through ESTABLISHED to CLOSE_WAIT.
                    out.rules.push(rule::CLOSE_02);
                }
                self.deliver_held(cx, cause, out);
                return true;
            }
            // B-ACK-03: <SEQ=SEG.ACK><CTL=RST>; drop.
            out.rules.push(rule::ACK_03);
            self.reply_reset(Segment::rst(ack), out);
            return false;
        }
        if cx.cfg.rfc5961 {
            // B-OPT-06: RFC 5961 §5: accept only
            // SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT.
            let floor = self.snd_una.sub(self.max_snd_wnd);
            if !(floor.le(ack) && ack.le(self.snd_max)) {
                out.rules.push(rule::OPT_06);
                self.challenge_ack(cx, out);
                return false;
            }
        }
        if self.snd_max.lt(ack) {
            // B-ACK-06: acknowledges what we never sent: ACK, drop.
            out.rules.push(rule::ACK_06);
            self.bits.set(bit::ACK_NOW, true);
            return false;
        }
        self.on_sack_ack(seg, out);
        if self.snd_una.lt(ack) {
            // B-ACK-04: new data acknowledged.
            out.rules.push(rule::ACK_04);
            self.on_new_ack(cx, ack, self.echoed_timestamp(seg), out);
        } else {
            // B-ACK-05: a duplicate; only its window may matter.
            out.rules.push(rule::ACK_05);
            let wnd = self.peer_window(seg, out);
            self.on_duplicate_ack(seg, wnd, out);
        }
        // B-ACK-07: a window update from a segment at least as new as the
        // last one used.
        if self.snd_wl1.lt(seg.seq) || (self.snd_wl1 == seg.seq && self.snd_wl2.le(ack)) {
            out.rules.push(rule::ACK_07);
            let wnd = self.peer_window(seg, out);
            self.set_send_window(wnd, seg.seq, ack);
            if self.bits.has(bit::WS_OK) && self.snd_una.add(wnd).lt(self.snd_nxt) {
                // B-WS-06: RFC 7323 §2.4: the right edge moved back behind
                // SND.NXT (the peer's rounding): what is in flight stays,
                // nothing new goes until the window reaches past SND.NXT.
                out.rules.push(rule::WS_06);
            }
            self.on_window_update(out);
        }
        if self.bits.has(bit::PROBING) && self.snd_wnd == 0 {
            // B-DATA-06, B-TMR-14: the peer answered our probe, so it is
            // alive: the count starts again, and with it the r1 warning
            // (B-TMR-08). Never give up while probes are ACKed (RFC 1122
            // §4.2.2.17, MUST-37): the user timeout (B-TMR-11) stops too,
            // since the next probe may come later than it; that probe
            // starts it again, so a peer that stops answering still times
            // out. The probe backoff goes on.
            out.rules.push(rule::TMR_14);
            self.retries = 0;
            self.bits.set(bit::WARNED, false);
            self.stop_timer(Timer::UserTimeout, out);
        }
        self.on_ack_in_closing_states(cx, fin_in_sequence, cause, out)
    }

    /// The state-specific part of step (4) once SND.UNA is up to date.
    fn on_ack_in_closing_states(
        &mut self,
        cx: &StepContext,
        fin_in_sequence: bool,
        cause: Cause,
        out: &mut Output,
    ) -> bool {
        match self.state {
            State::FinWait1 if self.fin_acked() && !fin_in_sequence => {
                // B-CLOSE-03: our FIN is acknowledged.
                out.rules.push(rule::CLOSE_03);
                self.enter_fin_wait_2(cx, cause, rule::CLOSE_03, out);
            }
            // Otherwise step (7) goes FIN_WAIT_1 -> TIME_WAIT in one
            // transition (B-CLOSE-05).
            // B-CLOSE-04: our FIN stays in flight.
            State::FinWait1 => out.rules.push(rule::CLOSE_04),
            State::Closing if self.fin_acked() => {
                // B-CLOSE-07: CLOSING -> TIME_WAIT.
                out.rules.push(rule::CLOSE_07);
                self.enter_time_wait(cx, cause, rule::CLOSE_07, out);
            }
            // B-CLOSE-08: not our FIN yet.
            State::Closing => out.rules.push(rule::CLOSE_08),
            State::LastAck if self.fin_acked() => {
                // B-CLOSE-13: LAST_ACK -> CLOSED.
                out.rules.push(rule::CLOSE_13);
                self.enter_closed(CloseReason::Normal, cause, rule::CLOSE_13, out);
                return false;
            }
            // B-CLOSE-14: not our FIN yet.
            State::LastAck => out.rules.push(rule::CLOSE_14),
            _ => {}
        }
        true
    }

    /// Steps (6) text and (7) FIN for the trimmed, clipped view.
    fn process_text_and_fin(&mut self, cx: &StepContext, view: &View, cause: Cause, out: &mut Output) {
        let receives_text = matches!(self.state, State::Established | State::FinWait1 | State::FinWait2);
        let text_seq = view.text_seq();
        if view.len > 0 {
            // B-OPT-07: the largest text the peer has sent judges
            // "full-sized".
            self.rcv_mss = self.rcv_mss.max(view.len.min(u32::from(u16::MAX)) as u16);
            if !receives_text {
                // B-DATA-04: the peer already sent its FIN; text is ignored.
                out.rules.push(rule::DATA_04);
            } else if text_seq == self.rcv_nxt {
                // B-DATA-02 (B-CLOSE-10 in FIN_WAIT_1/2: after a half-close
                // we still receive): deliver in order and acknowledge.
                out.rules.push(if self.state == State::Established { rule::DATA_02 } else { rule::CLOSE_10 });
                let foreign = self.is_foreign(view);
                let fills_gap = self.reassembly.has_out_of_order();
                self.deliver(view.len, foreign, out);
                self.acknowledge_in_order_text(cx, view.len, fills_gap, out);
                if fills_gap {
                    // B-DATA-03: a gap filled; deliver what was held.
                    out.rules.push(rule::DATA_03);
                    self.deliver_held(cx, cause, out);
                }
            } else {
                // B-SEQ-05: beyond a gap: hold it, acknowledge at once.
                out.rules.push(rule::SEQ_05);
                let foreign = self.is_foreign(view);
                self.reassembly.insert(text_seq, view.fin_seq(), foreign);
                self.bits.set(bit::ACK_NOW, true);
            }
        }
        if view.fin {
            let fin_seq = view.fin_seq();
            if fin_seq == self.rcv_nxt {
                self.process_fin(cx, cause, out);
            } else if self.rcv_nxt.lt(fin_seq) && receives_text {
                // B-SEQ-05: a FIN beyond a gap is held too.
                out.rules.push(rule::SEQ_05);
                self.reassembly.hold_fin(fin_seq);
                self.bits.set(bit::ACK_NOW, true);
            }
        }
    }

    /// Delivers held text that is now in order, then a held FIN.
    fn deliver_held(&mut self, cx: &StepContext, cause: Cause, out: &mut Output) {
        if !matches!(self.state, State::Established | State::FinWait1 | State::FinWait2) {
            return;
        }
        while let Some((len, foreign)) = self.reassembly.pop_ready(self.rcv_nxt) {
            self.deliver(len, foreign, out);
            self.bits.set(bit::ACK_NOW, true);
        }
        if self.reassembly.take_fin_at(self.rcv_nxt) {
            self.process_fin(cx, cause, out);
        }
    }

    /// Step (7) for a FIN at RCV.NXT.
    fn process_fin(&mut self, cx: &StepContext, cause: Cause, out: &mut Output) {
        let owed = self.bits.has(bit::ACK_NOW);
        self.bits.set(bit::ACK_NOW, true);
        match self.state {
            State::Established => {
                // B-CLOSE-01: the peer is done sending.
                out.rules.push(rule::CLOSE_01);
                self.rcv_nxt = self.rcv_nxt.add(1);
                self.set_state(State::CloseWait, cause, rule::CLOSE_01, out);
                self.delay_fin_ack(cx, owed, out);
                self.signal_eof(out);
            }
            State::FinWait1 => {
                self.rcv_nxt = self.rcv_nxt.add(1);
                if self.fin_acked() {
                    // B-CLOSE-05: the FIN acknowledges ours: straight to
                    // TIME_WAIT.
                    out.rules.push(rule::CLOSE_05);
                    self.enter_time_wait(cx, cause, rule::CLOSE_05, out);
                } else {
                    // B-CLOSE-06: the FINs crossed: CLOSING.
                    out.rules.push(rule::CLOSE_06);
                    self.set_state(State::Closing, cause, rule::CLOSE_06, out);
                }
                self.signal_eof(out);
            }
            State::FinWait2 => {
                // B-CLOSE-09: FIN_WAIT_2 -> TIME_WAIT.
                out.rules.push(rule::CLOSE_09);
                self.rcv_nxt = self.rcv_nxt.add(1);
                self.enter_time_wait(cx, cause, rule::CLOSE_09, out);
                self.signal_eof(out);
            }
            _ => {
                // B-CLOSE-20: a FIN we already have: acknowledge only.
                out.rules.push(rule::CLOSE_20);
            }
        }
    }

    /// B-LNX-06 (Linux `tcp_fin` in ESTABLISHED): the FIN enters
    /// interactive mode, so its ACK waits like delayed data's (the
    /// application's reply, a FIN, usually carries it) unless more than a
    /// segment of text awaits it or the ACK was owed already for another
    /// reason than quick-ack mode. `owed`: whether an ACK was owed before
    /// the FIN.
    fn delay_fin_ack(&mut self, cx: &StepContext, owed: bool, out: &mut Output) {
        let (true, Some(ato_min)) = (cx.cfg.linux_delayed_ack, cx.cfg.delayed_ack) else { return };
        let more_than_a_segment = self.ack_delayed_bytes > u32::from(self.rcv_mss);
        let Some(x) = opt_mut!(self, linux) else { return };
        out.rules.push(rule::LNX_06);
        x.pingpong = true;
        x.ack_scheduled = true;
        if more_than_a_segment || (owed && !x.quick_ack_step) {
            return;
        }
        x.quick_ack_step = false;
        self.bits.set(bit::ACK_NOW, false);
        self.linux_delay_ack(cx, ato_min, out);
    }

    /// Whether the view's bytes are not the peer's at this offset.
    fn is_foreign(&self, view: &View) -> bool {
        let expected = view.text_seq().since(self.irs.add(1));
        view.payload.stream != self.peer_stream || view.payload.offset != expected
    }
}
