//! Congestion control: RFC 5681 (slow start, congestion avoidance, fast
//! retransmit, fast recovery) with NewReno's partial-ACK handling (RFC
//! 6582). RFC 9293 §3.8.2 (MUST-19) requires it; `congestion_control: none`
//! turns it off, leaving the sender limited by SND.WND alone.
//!
//! Two parts, kept apart so either recovery uses either window:
//! - the loss-recovery mechanics, [`NewReno`]: duplicate ACKs, `recover`,
//!   partial ACKs, the limited-transmit count, fast recovery's inflation
//!   and deflation (RFC 6675's recovery lives in the SACK scoreboard and
//!   uses [`NewReno::enter_sack_recovery`]);
//! - the window controller: Reno's AIMD (halve on loss, one SMSS per RTT)
//!   when no [`Cubic`] is passed, or CUBIC (RFC 9438, `cubic`) with
//!   HyStart (`hystart`), which decides the reduction on loss and the
//!   growth outside recovery.
//!
//! Byte counting follows RFC 5681 with L = 1 SMSS (RFC 3465): slow start
//! grows cwnd by min(acked, SMSS) per ACK; congestion avoidance by
//! SMSS*SMSS/cwnd per ACK. Restart after idle (RFC 5681 §4.1) is not
//! modelled.

mod cubic;
mod hystart;

pub use cubic::{AckStep, Cubic, CubicInfo, CubicRegion};

use super::seq::SeqNum;

/// The initial window (B-CC-01). Without `segments`, RFC 5681 §3.1 eq. (1)
/// (RFC 3390): min(4*SMSS, max(2*SMSS, 4380)). With N segments, RFC 6928
/// §2's formula with N in place of its 10: min(N*SMSS, max(2*SMSS,
/// N*1460)); for N = 10 that is RFC 6928's min(10*MSS, max(2*MSS,
/// 14600)), and for SMSS ≤ 1460 it is N*SMSS, as Linux's `TCP_INIT_CWND`
/// counts it (Linux counts segments whatever their size; the RFC caps the
/// bytes of larger ones).
pub fn initial_window(smss: u32, segments: Option<u32>) -> u32 {
    match segments {
        None => (4 * smss).min((2 * smss).max(4380)),
        Some(n) => n.saturating_mul(smss).min((2 * smss).max(n.saturating_mul(1460))),
    }
}

/// What the sender must do after an ACK or a duplicate ACK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CcAction {
    /// No resend is owed.
    Nothing,
    /// Retransmit the segment at SND.UNA now (fast retransmit, or a NewReno
    /// partial ACK); `restart_timer` for the first partial ACK.
    Retransmit { restart_timer: bool },
}

/// RFC 5681 congestion control with RFC 6582 NewReno fast recovery, for
/// one sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewReno {
    /// cwnd (RFC 5681 §2), in bytes.
    pub cwnd: u32,
    /// ssthresh (RFC 5681 §3.1), in bytes.
    pub ssthresh: u32,
    dupacks: u8,
    /// RFC 6582 `recover`: the highest sequence number sent when fast
    /// recovery (or an RTO) began.
    recover: SeqNum,
    in_recovery: bool,
    /// Partial ACKs of this recovery (saturating: only the first matters).
    partial_acks: u8,
    /// Data octets sent by limited transmit beyond cwnd and not yet
    /// cumulatively acknowledged: RFC 5681 §3.2 (2) leaves them out of
    /// the FlightSize that sets ssthresh. Octets, not segments: a short
    /// last segment or a bare FIN (no data octets) counts for what it
    /// carries.
    limited_sent: u32,
    /// One past the highest of those octets: they lie just below it (each
    /// limited transmit goes at SND.MAX, on duplicate ACKs that open no
    /// cwnd for other data between them), so an ACK of `ack` leaves at
    /// most `limited_end - ack` of them outstanding.
    limited_end: SeqNum,
}

impl NewReno {
    /// RFC 5681 §3.1: cwnd starts at the initial window
    /// ([`initial_window`]); `ssthresh` starts "arbitrarily high": the
    /// largest window the peer can advertise (65535 without window
    /// scaling).
    pub fn new(iw: u32, iss: SeqNum, ssthresh: u32) -> NewReno {
        NewReno {
            cwnd: iw,
            ssthresh,
            dupacks: 0,
            recover: iss,
            in_recovery: false,
            partial_acks: 0,
            limited_sent: 0,
            limited_end: iss,
        }
    }

    /// Whether fast recovery is in progress: from the third duplicate ACK
    /// until an ACK covers `recover` (RFC 6582 §3.2) or RETRANSMIT expires.
    pub fn in_recovery(&self) -> bool {
        self.in_recovery
    }

    /// Whether RFC 3042 limited transmit applies to the duplicate ACK just
    /// counted: it was the first or second (RFC 3042 §2), and fast
    /// recovery is not in progress.
    pub fn limited_transmit_allowed(&self) -> bool {
        !self.in_recovery && (1..3).contains(&self.dupacks)
    }

    /// Limited transmit sent `octets` of new data beyond cwnd, ending at
    /// `end` (RFC 3042 §2: what cwnd allowed anyway is ordinary data, not
    /// counted).
    pub fn on_limited_transmit(&mut self, octets: u32, end: SeqNum) {
        if octets == 0 {
            return;
        }
        self.limited_sent = self.limited_sent.saturating_add(octets);
        self.limited_end = self.limited_end.max(end);
    }

    /// SND.UNA advanced to `ack` (whether or not RFC 6675 recovery holds
    /// cwnd and [`NewReno::on_new_ack`] is skipped): the limited-transmit
    /// octets it covers are no longer in flight; those above it still
    /// are, and stay out of FlightSize (RFC 5681 §3.2 (2)). Calling it
    /// twice with the same `ack` changes nothing.
    pub fn on_snd_una_advanced(&mut self, ack: SeqNum) {
        let above = if ack.lt(self.limited_end) { self.limited_end.since(ack) } else { 0 };
        self.limited_sent = self.limited_sent.min(above);
    }

    /// FlightSize as RFC 5681 §3.2 (2) (and RFC 6675 §5 (4.2)) count it
    /// for ssthresh: without what limited transmit sent.
    pub fn flight_without_limited(&self, flight: u32) -> u32 {
        flight.saturating_sub(self.limited_sent)
    }

    /// An ACK of new data: `acked` bytes, with `ack` the new SND.UNA and
    /// `flight` the bytes still outstanding after it. `cubic` with its
    /// `step` grows the window instead of Reno's AIMD.
    pub fn on_new_ack(
        &mut self,
        acked: u32,
        ack: SeqNum,
        flight: u32,
        smss: u32,
        cubic: Option<(&mut Cubic, &AckStep)>,
    ) -> CcAction {
        self.dupacks = 0;
        if !self.in_recovery && self.recover.lt(ack) {
            // RFC 6582 §3.2 step 2 compares SEG.ACK with `recover` modulo
            // 2^32: a `recover` left at the ISS (or at the end of an old
            // recovery) would read as *ahead* of SND.UNA once 2^31 bytes
            // have passed, and block fast retransmit. Keeping it just
            // behind SND.UNA answers every later comparison the same way.
            self.recover = ack.sub(1);
        }
        if self.in_recovery {
            if self.recover.lt(ack) {
                // RFC 6582 §3.2 step 3, full ACK: deflate, option (1).
                // CUBIC's epoch starts with the next ACK (RFC 9438 §4.2).
                self.in_recovery = false;
                self.cwnd = self.ssthresh.min(flight.max(smss) + smss);
                return CcAction::Nothing;
            }
            // Step 4, partial ACK: retransmit the next hole, deflate by the
            // amount acked, add back one SMSS if at least that was acked.
            self.partial_acks = self.partial_acks.saturating_add(1);
            self.cwnd = self.cwnd.saturating_sub(acked);
            if acked >= smss {
                self.cwnd += smss;
            }
            self.cwnd = self.cwnd.max(smss);
            return CcAction::Retransmit { restart_timer: self.partial_acks == 1 };
        }
        if let Some((cubic, step)) = cubic {
            (self.cwnd, self.ssthresh) = cubic.on_ack(self.cwnd, self.ssthresh, acked, smss, step);
            return CcAction::Nothing;
        }
        if self.cwnd < self.ssthresh {
            // RFC 5681 eq. 2: slow start.
            self.cwnd = self.cwnd.saturating_add(acked.min(smss));
        } else {
            // RFC 5681 eq. 3: congestion avoidance, at least one byte.
            let inc = (u64::from(smss) * u64::from(smss) / u64::from(self.cwnd.max(1))).max(1);
            self.cwnd = self.cwnd.saturating_add(inc as u32);
        }
        CcAction::Nothing
    }

    /// The ssthresh a congestion event that starts loss recovery leaves
    /// (`flight` as RFC 5681 §3.2 (2) counts it): Reno's max(FlightSize /
    /// 2, 2 SMSS) (eq. 4), or CUBIC's (RFC 9438 §4.6), which also sets its
    /// W_max.
    fn loss_ssthresh(&self, flight: u32, smss: u32, cubic: Option<&mut Cubic>) -> u32 {
        match cubic {
            Some(c) => c.on_congestion(self.cwnd, flight, smss),
            None => (flight / 2).max(2 * smss),
        }
    }

    /// RFC 6675 §5 (4.2): recovery starts: cwnd = ssthresh = the
    /// controller's reduction of `flight` (RFC 9438 §4.6 with CUBIC).
    pub fn enter_sack_recovery(&mut self, flight: u32, smss: u32, cubic: Option<&mut Cubic>) {
        (self.ssthresh, self.cwnd) = match cubic {
            Some(c) => {
                let ssthresh = c.on_congestion(self.cwnd, flight, smss);
                (ssthresh, ssthresh)
            }
            None => super::sack::scoreboard::loss_window(flight, smss),
        };
    }

    /// A duplicate ACK (RFC 5681 §2 definition, checked by the caller).
    /// `snd_max` is the highest sequence number sent.
    pub fn on_duplicate_ack(
        &mut self,
        ack: SeqNum,
        flight: u32,
        smss: u32,
        snd_max: SeqNum,
        cubic: Option<&mut Cubic>,
    ) -> CcAction {
        if self.in_recovery {
            // RFC 5681 §3.2 step 4: inflate by one SMSS per duplicate.
            self.cwnd = self.cwnd.saturating_add(smss);
            return CcAction::Nothing;
        }
        self.dupacks = self.dupacks.saturating_add(1);
        // RFC 6582 §3.2 step 2: a third duplicate only starts recovery if
        // its ACK covers more than `recover` (avoids a second reduction
        // for losses of the same window).
        if self.dupacks == 3 && self.recover.lt(ack) {
            // RFC 5681 §3.2 (2): data sent by limited transmit is not
            // counted.
            self.ssthresh = self.loss_ssthresh(self.flight_without_limited(flight), smss, cubic);
            self.recover = snd_max.sub(1);
            self.in_recovery = true;
            self.partial_acks = 0;
            self.cwnd = self.ssthresh + 3 * smss;
            return CcAction::Retransmit { restart_timer: false };
        }
        CcAction::Nothing
    }

    /// RETRANSMIT expired: RFC 5681 eq. 4 (RFC 9438 §4.8's β with CUBIC)
    /// and the loss window of one SMSS. `again` says the segment was
    /// already resent by this timer: RFC 5681 §3.1 then holds ssthresh
    /// constant.
    pub fn on_timeout(&mut self, flight: u32, smss: u32, snd_max: SeqNum, again: bool, cubic: Option<&mut Cubic>) {
        match cubic {
            Some(c) => {
                // With CUBIC, an RTO during fast recovery ends the same
                // loss episode: the ssthresh and W_max its entry set stay
                // (cwnd is inflated, and FlightSize counts what the
                // inflation sent), as RFC 6675 recovery keeps its ssthresh
                // (B-SACK-10) and Linux's tcp_enter_loss does in Recovery.
                if let Some(ssthresh) = c.on_timeout(self.cwnd, flight, smss, again || self.in_recovery) {
                    self.ssthresh = ssthresh;
                }
            }
            None if !again => self.ssthresh = (flight / 2).max(2 * smss),
            None => {}
        }
        self.cwnd = smss;
        self.dupacks = 0;
        self.limited_sent = 0;
        self.in_recovery = false;
        self.recover = snd_max.sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    #[test]
    fn initial_window_follows_rfc_5681() {
        assert_eq!(initial_window(1460, None), 4380);
        assert_eq!(initial_window(1000, None), 4000);
        assert_eq!(initial_window(3000, None), 6000);
    }

    /// B-CC-01: RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)), and N
    /// in place of 10 for `initial_window_segments: N`.
    #[test]
    fn initial_window_follows_rfc_6928_when_configured() {
        assert_eq!(initial_window(1460, Some(10)), 14600);
        assert_eq!(initial_window(1000, Some(10)), 10_000);
        assert_eq!(initial_window(9000, Some(10)), 18_000, "2 MSS above 14600");
        assert_eq!(initial_window(4000, Some(10)), 14600, "capped at 14600 bytes");
        assert_eq!(initial_window(1460, Some(1)), 1460, "N*SMSS caps it first");
    }

    #[test]
    fn slow_start_then_congestion_avoidance() {
        let mut cc = NewReno::new(initial_window(MSS, None), SeqNum(0), 65535);
        cc.ssthresh = 6000;
        cc.on_new_ack(1000, SeqNum(1000), 0, MSS, None);
        assert_eq!(cc.cwnd, 5000);
        cc.on_new_ack(3000, SeqNum(4000), 0, MSS, None);
        assert_eq!(cc.cwnd, 6000, "at most one SMSS per ACK");
        cc.on_new_ack(1000, SeqNum(5000), 0, MSS, None);
        assert_eq!(cc.cwnd, 6000 + 1000 * 1000 / 6000);
    }

    #[test]
    fn third_duplicate_ack_starts_fast_recovery_and_full_ack_ends_it() {
        let mut cc = NewReno::new(initial_window(MSS, None), SeqNum(0), 65535);
        cc.cwnd = 10_000;
        let snd_max = SeqNum(10_001);
        assert_eq!(cc.on_duplicate_ack(SeqNum(1), 10_000, MSS, snd_max, None), CcAction::Nothing);
        assert_eq!(cc.on_duplicate_ack(SeqNum(1), 10_000, MSS, snd_max, None), CcAction::Nothing);
        assert_eq!(
            cc.on_duplicate_ack(SeqNum(1), 10_000, MSS, snd_max, None),
            CcAction::Retransmit { restart_timer: false }
        );
        assert_eq!((cc.ssthresh, cc.cwnd), (5000, 8000));
        cc.on_duplicate_ack(SeqNum(1), 10_000, MSS, snd_max, None);
        assert_eq!(cc.cwnd, 9000);
        // Partial ACK: retransmit, restart the timer the first time.
        assert_eq!(cc.on_new_ack(2000, SeqNum(2001), 8000, MSS, None), CcAction::Retransmit { restart_timer: true });
        assert_eq!(cc.cwnd, 9000 - 2000 + 1000);
        assert_eq!(cc.on_new_ack(1000, SeqNum(3001), 7000, MSS, None), CcAction::Retransmit { restart_timer: false });
        // Full ACK beyond `recover`.
        assert_eq!(cc.on_new_ack(7000, SeqNum(10_001), 0, MSS, None), CcAction::Nothing);
        assert!(!cc.in_recovery());
        assert_eq!(cc.cwnd, 2000);
    }

    /// RFC 6582 §3.2 step 2 compares SEG.ACK with `recover` modulo 2^32.
    /// After 3 GiB acknowledged without a loss (more than 2^31 past the
    /// ISS), three duplicate ACKs must still start fast retransmit.
    #[test]
    fn fast_retransmit_still_starts_after_3_gib_without_loss() {
        let mut cc = NewReno::new(initial_window(MSS, None), SeqNum(0), 65535);
        let step = 1 << 20;
        let mut ack = SeqNum(1);
        for _ in 0..3 * 1024 {
            ack = ack.add(step);
            cc.on_new_ack(step, ack, 10 * MSS, MSS, None);
        }
        let snd_max = ack.add(10 * MSS);
        assert_eq!(cc.on_duplicate_ack(ack, 10 * MSS, MSS, snd_max, None), CcAction::Nothing);
        assert_eq!(cc.on_duplicate_ack(ack, 10 * MSS, MSS, snd_max, None), CcAction::Nothing);
        assert_eq!(
            cc.on_duplicate_ack(ack, 10 * MSS, MSS, snd_max, None),
            CcAction::Retransmit { restart_timer: false }
        );
    }

    /// The same from an ISS near the top of the sequence space, with a
    /// loss and its recovery in between: `recover` is left behind at the
    /// end of that recovery and must not block the next one 2 GiB later.
    #[test]
    fn fast_retransmit_starts_2_gib_after_an_earlier_recovery() {
        let iss = SeqNum(u32::MAX - 5000);
        let mut cc = NewReno::new(initial_window(MSS, None), iss, 65535);
        let mut ack = iss.add(1);
        let snd_max = ack.add(10 * MSS);
        for _ in 0..3 {
            cc.on_duplicate_ack(ack, 10 * MSS, MSS, snd_max, None);
        }
        assert!(cc.in_recovery());
        ack = snd_max;
        cc.on_new_ack(10 * MSS, ack, 0, MSS, None);
        assert!(!cc.in_recovery());
        let step = 1 << 20;
        for _ in 0..2100 {
            ack = ack.add(step);
            cc.on_new_ack(step, ack, 10 * MSS, MSS, None);
        }
        let snd_max = ack.add(10 * MSS);
        cc.on_duplicate_ack(ack, 10 * MSS, MSS, snd_max, None);
        cc.on_duplicate_ack(ack, 10 * MSS, MSS, snd_max, None);
        assert_eq!(
            cc.on_duplicate_ack(ack, 10 * MSS, MSS, snd_max, None),
            CcAction::Retransmit { restart_timer: false }
        );
    }

    #[test]
    fn timeout_collapses_the_window() {
        let mut cc = NewReno::new(initial_window(MSS, None), SeqNum(0), 65535);
        cc.cwnd = 20_000;
        cc.on_timeout(16_000, MSS, SeqNum(16_001), false, None);
        assert_eq!((cc.cwnd, cc.ssthresh), (1000, 8000));
        // RFC 5681 §3.1: the same segment timing out again holds ssthresh.
        cc.on_timeout(20_000, MSS, SeqNum(20_001), true, None);
        assert_eq!((cc.cwnd, cc.ssthresh), (1000, 8000));
    }
}
