//! HyStart, the slow-start exit Linux's CUBIC uses (`tcp_cubic.c`, after
//! Ha and Rhee, "Taming the Elephants: New TCP Slow Start", 2011): slow
//! start ends (ssthresh = cwnd) before the first loss when either
//!
//! - the ACK train of one round, ACKs at most 2 ms apart
//!   (`hystart_ack_delta`), stretches over more than half the minimum
//!   delay seen (a full pipe spaces the ACKs out), or
//! - the smallest of the round's first 8 RTT samples exceeds the minimum
//!   delay by clamp(delay_min / 8, 4 ms, 16 ms) (a queue is building).
//!
//! Both act only from cwnd ≥ 16 segments (`hystart_low_window`). A round
//! starts with the first ACK beyond the SND.MAX of the round before, and
//! (since Linux 5.7, where `hystart_update` runs the round reset) only on
//! an ACK with cwnd ≥ 16 segments. delay_min follows every sample, after
//! slow start ended too (`cubictcp_acked`); an RTO resets all of
//! HyStart, delay_min included (`bictcp_reset` on `TCP_CA_Loss`).
//! Samples are per ACK: the time since the newest segment it covers was
//! sent (never a retransmission), as Linux's `pkts_acked` delay, timed
//! here on the simulator's nanosecond clock. Linux's allowance for paced
//! GSO bursts (up to 1 ms more in the train's threshold) and its discard
//! of samples in the second after a recovery (slow start is over by then)
//! are not modelled.
//!
//! HyStart++ (RFC 9406) would instead watch the RTT round by round (the
//! minimum of at least 8 samples against the last round's, with a
//! threshold clamp(lastRoundMinRTT / 8, 4 ms, 16 ms)), drop the ACK
//! train, and on an increase enter Conservative Slow Start (growth
//! divided by CSS_GROWTH_DIVISOR = 4 for up to CSS_ROUNDS = 5 rounds),
//! going back to slow start if the RTT falls again, rather than ending
//! slow start at once.

use super::super::seq::SeqNum;
use crate::time::{Duration, Instant};
use std::collections::VecDeque;

/// `hystart_low_window`: HyStart acts from this many segments of cwnd.
pub const LOW_WINDOW: u32 = 16;
/// `hystart_ack_delta`: ACKs at most this far apart form a train.
pub const ACK_DELTA: Duration = Duration::from_millis(2);
/// `HYSTART_MIN_SAMPLES`: the delay test takes the minimum of this many.
pub const MIN_SAMPLES: u8 = 8;
/// `HYSTART_DELAY_MIN`, `HYSTART_DELAY_MAX`: the delay threshold's clamp.
pub const DELAY_MIN: Duration = Duration::from_millis(4);
/// See [`DELAY_MIN`].
pub const DELAY_MAX: Duration = Duration::from_millis(16);
/// Send times kept at most (the newest): enough for a window of this
/// many segments in flight; beyond it the oldest go untimed.
const MAX_TIMED: usize = 4096;

/// Which HyStart test ended slow start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detection {
    /// The round's ACK train grew longer than delay_min / 2.
    AckTrain,
    /// The round's minimum RTT rose above delay_min + threshold.
    Delay,
}

/// HyStart's state (`struct bictcp`'s HyStart fields).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HyStart {
    /// Slow start was ended by HyStart; no more tests until an RTO
    /// (delay_min still follows the samples).
    found: bool,
    /// The round's start and the last ACK of its train.
    round_start: Instant,
    last_ack: Instant,
    /// The round ends with the first ACK beyond this.
    end_seq: Option<SeqNum>,
    /// The minimum RTT of this round's samples so far, and their count.
    curr_rtt: Option<Duration>,
    sample_cnt: u8,
    /// The minimum RTT seen.
    delay_min: Option<Duration>,
    /// End and send time of new data segments, oldest first.
    sent: VecDeque<(SeqNum, Instant)>,
}

impl HyStart {
    /// New data `[.., end)` left at `now`.
    pub fn on_sent(&mut self, end: SeqNum, now: Instant) {
        if self.sent.len() == MAX_TIMED {
            self.sent.pop_front();
        }
        self.sent.push_back((end, now));
    }

    /// A loss: the send times are void (a resend may be what an ACK covers).
    pub fn on_loss(&mut self) {
        self.sent.clear();
    }

    /// An RTO: the slow start that follows is watched again, from a new
    /// round and a new delay_min (Linux's `bictcp_reset`, which clears
    /// `delay_min` and `found`, and `bictcp_hystart_reset` on
    /// `TCP_CA_Loss`).
    pub fn restart(&mut self) {
        *self = HyStart::default();
    }

    /// The RTT sample of an ACK up to `ack`: from the newest segment it
    /// covers.
    fn sample(&mut self, ack: SeqNum, now: Instant) -> Option<Duration> {
        let mut newest = None;
        while let Some(&(end, at)) = self.sent.front() {
            if !end.le(ack) {
                break;
            }
            newest = Some(at);
            self.sent.pop_front();
        }
        newest.map(|at| now.saturating_since(at).max(Duration::from_nanos(1)))
    }

    /// An ACK of new data (SND.UNA = `ack`). Returns the test that ended
    /// slow start, if one did; the caller sets ssthresh = cwnd.
    pub fn on_ack(
        &mut self,
        ack: SeqNum,
        now: Instant,
        snd_max: SeqNum,
        cwnd: u32,
        smss: u32,
        in_slow_start: bool,
    ) -> Option<Detection> {
        let delay = self.sample(ack, now)?;
        if self.delay_min.is_none_or(|d| delay < d) {
            self.delay_min = Some(delay);
        }
        if self.found || !in_slow_start || cwnd < LOW_WINDOW * smss {
            // Linux ≥ 5.7 calls `hystart_update`, which starts rounds,
            // only from `hystart_low_window` on.
            return None;
        }
        if self.end_seq.is_none_or(|end| end.lt(ack)) {
            // A new round.
            self.round_start = now;
            self.last_ack = now;
            self.end_seq = Some(snd_max);
            self.curr_rtt = None;
            self.sample_cnt = 0;
        }
        let delay_min = self.delay_min.unwrap_or(delay);
        if now.saturating_since(self.last_ack) <= ACK_DELTA {
            self.last_ack = now;
            let half = Duration::from_nanos(delay_min.as_nanos() / 2);
            if half < now.saturating_since(self.round_start) {
                return self.detect(Detection::AckTrain);
            }
        }
        if self.curr_rtt.is_none_or(|c| delay < c) {
            self.curr_rtt = Some(delay);
        }
        if self.sample_cnt < MIN_SAMPLES {
            self.sample_cnt += 1;
        } else {
            let threshold = Duration::from_nanos(delay_min.as_nanos() / 8).clamp(DELAY_MIN, DELAY_MAX);
            if self.curr_rtt.is_some_and(|c| delay_min + threshold < c) {
                return self.detect(Detection::Delay);
            }
        }
        None
    }

    fn detect(&mut self, how: Detection) -> Option<Detection> {
        self.found = true;
        Some(how)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    fn ms(x: u64) -> Instant {
        Instant::from_nanos(x * 1_000_000)
    }

    /// B-CC-10: the ACK train of a round (ACKs ≤ 2 ms apart) longer than
    /// delay_min / 2 ends slow start, from cwnd ≥ 16 segments: delay_min
    /// 40 ms, ACKs 1 ms apart from the round's start, the 21st (20 ms
    /// after the first) is still within 20 ms, the 22nd beyond it.
    #[test]
    fn an_ack_train_longer_than_half_the_delay_ends_slow_start() {
        let mut h = HyStart::default();
        for i in 0..40u32 {
            h.on_sent(SeqNum(1 + (i + 1) * MSS), ms(0));
        }
        let snd_max = SeqNum(1 + 40 * MSS);
        for i in 0..21u32 {
            let ack = SeqNum(1 + (i + 1) * MSS);
            assert_eq!(h.on_ack(ack, ms(40 + u64::from(i)), snd_max, 20 * MSS, MSS, true), None, "ACK {i}");
        }
        // Delay min stays 40 ms; the train is 21 ms > 20 ms.
        assert_eq!(h.on_ack(SeqNum(1 + 22 * MSS), ms(61), snd_max, 20 * MSS, MSS, true), Some(Detection::AckTrain));
        // Below the low window nothing happens.
        let mut h = HyStart::default();
        for i in 0..40u32 {
            h.on_sent(SeqNum(1 + (i + 1) * MSS), ms(0));
        }
        for i in 0..40u32 {
            let ack = SeqNum(1 + (i + 1) * MSS);
            assert_eq!(h.on_ack(ack, ms(40 + u64::from(i)), snd_max, 15 * MSS, MSS, true), None);
        }
    }

    /// B-CC-11: the minimum of a round's first 8 samples above delay_min +
    /// clamp(delay_min / 8, 4 ms, 16 ms) ends slow start: delay_min 40 ms
    /// (threshold 5 ms) from the first round; in the second round every
    /// sample is 46 ms, spaced 3 ms apart so no ACK train forms; the 9th
    /// sample decides.
    #[test]
    fn a_rising_delay_ends_slow_start() {
        let mut h = HyStart::default();
        h.on_sent(SeqNum(1 + MSS), ms(0));
        assert_eq!(h.on_ack(SeqNum(1 + MSS), ms(40), SeqNum(1 + MSS), 20 * MSS, MSS, true), None);
        let snd_max = SeqNum(1 + 21 * MSS);
        for i in 1..=20u32 {
            h.on_sent(SeqNum(1 + (i + 1) * MSS), ms(100 + 3 * u64::from(i)));
        }
        for i in 1..=8u32 {
            let at = 146 + 3 * u64::from(i);
            assert_eq!(h.on_ack(SeqNum(1 + (i + 1) * MSS), ms(at), snd_max, 20 * MSS, MSS, true), None, "{i}");
        }
        assert_eq!(h.on_ack(SeqNum(1 + 10 * MSS), ms(146 + 27), snd_max, 20 * MSS, MSS, true), Some(Detection::Delay));
        // 45 ms would not have been enough (40 + 5 is not exceeded).
        assert_eq!(Duration::from_millis(40) + Duration::from_millis(5), Duration::from_millis(45));
    }

    /// B-CC-10: since Linux 5.7 (`tcp_cubic.c`, `hystart_update`) a round
    /// starts (`bictcp_hystart_reset`) only on an ACK with cwnd ≥
    /// `hystart_low_window`: a train that began below it does not count.
    /// delay_min 40 ms, ACKs 1 ms apart from 40 ms; the first 10 at cwnd
    /// 15 segments, the rest at 20, every sample 40 ms (segment i sent
    /// at i ms): the round starts at the 11th (50 ms), so the train
    /// exceeds 20 ms at 71 ms (the 32nd ACK). A round begun at the first
    /// ACK, below the low window, would see no train at all: its last
    /// ACK would stay at 40 ms while the ACKs below it go unexamined.
    #[test]
    fn a_round_starts_only_from_the_low_window() {
        let mut h = HyStart::default();
        for i in 0..40u32 {
            h.on_sent(SeqNum(1 + (i + 1) * MSS), ms(u64::from(i)));
        }
        let snd_max = SeqNum(1 + 40 * MSS);
        for i in 0..31u32 {
            let cwnd = if i < 10 { 15 * MSS } else { 20 * MSS };
            let ack = SeqNum(1 + (i + 1) * MSS);
            assert_eq!(h.on_ack(ack, ms(40 + u64::from(i)), snd_max, cwnd, MSS, true), None, "ACK {i}");
        }
        assert_eq!(h.on_ack(SeqNum(1 + 32 * MSS), ms(71), snd_max, 20 * MSS, MSS, true), Some(Detection::AckTrain));
    }

    /// B-CC-08, B-CC-11: an RTO resets all of HyStart, delay_min too
    /// (Linux's `bictcp_reset` on `TCP_CA_Loss` clears `delay_min`): a
    /// path whose delay rose to 60 ms before the RTO is measured afresh,
    /// and a flat 60 ms in the slow start after it is no increase (with
    /// the old 40 ms kept, 60 > 40 + 5 would end slow start). Samples 3
    /// ms apart: no ACK train.
    #[test]
    fn a_timeout_forgets_delay_min() {
        let mut h = HyStart::default();
        h.on_sent(SeqNum(1 + MSS), ms(0));
        assert_eq!(h.on_ack(SeqNum(1 + MSS), ms(40), SeqNum(1 + MSS), 20 * MSS, MSS, true), None);
        h.restart();
        let snd_max = SeqNum(1 + 21 * MSS);
        for i in 1..=20u32 {
            h.on_sent(SeqNum(1 + (i + 1) * MSS), ms(100 + 3 * u64::from(i)));
        }
        for i in 1..=20u32 {
            let at = 160 + 3 * u64::from(i);
            assert_eq!(h.on_ack(SeqNum(1 + (i + 1) * MSS), ms(at), snd_max, 20 * MSS, MSS, true), None, "{i}");
        }
        assert_eq!(h.delay_min, Some(Duration::from_millis(60)));
    }

    /// After slow start ended (`found`), Linux's `cubictcp_acked` still
    /// lowers delay_min with every sample: new data keeps being timed.
    /// The ACK train of the first test ends slow start at a delay_min of
    /// 40 ms; a later segment acknowledged 30 ms after it left lowers it
    /// to 30 ms.
    #[test]
    fn delay_min_follows_the_path_after_slow_start_ended() {
        let mut h = HyStart::default();
        for i in 0..40u32 {
            h.on_sent(SeqNum(1 + (i + 1) * MSS), ms(0));
        }
        let snd_max = SeqNum(1 + 40 * MSS);
        let mut found = None;
        for i in 0..40u32 {
            found = found.or(h.on_ack(SeqNum(1 + (i + 1) * MSS), ms(40 + u64::from(i)), snd_max, 20 * MSS, MSS, true));
        }
        assert_eq!(found, Some(Detection::AckTrain));
        assert_eq!(h.delay_min, Some(Duration::from_millis(40)));
        h.on_sent(SeqNum(1 + 41 * MSS), ms(100));
        assert_eq!(h.on_ack(SeqNum(1 + 41 * MSS), ms(130), SeqNum(1 + 41 * MSS), 20 * MSS, MSS, false), None);
        assert_eq!(h.delay_min, Some(Duration::from_millis(30)));
    }
}
