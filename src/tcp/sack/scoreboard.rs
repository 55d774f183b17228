//! The sender's SACK scoreboard and the loss recovery of RFC 6675.
//!
//! The scoreboard keeps the octets above SND.UNA that SACK blocks reported
//! as received, as sorted, disjoint, merged ranges, and the recovery
//! state of §3 and §5: HighACK, HighData, HighRxt, RescueRxt,
//! RecoveryPoint and DupAcks. On top of it sit the §4 routines `Update`
//! ([`Scoreboard::on_ack`]), `IsLost` ([`Scoreboard::is_lost`]),
//! `SetPipe` ([`Scoreboard::pipe`]) and `NextSeg`
//! ([`Scoreboard::next_seg`]).
//!
//! The RFC names "highest octet" variables inclusively; here every one of
//! them is stored as one past that octet, as SND.MAX is: `high_data` is
//! SND.MAX, `high_ack` is SND.UNA, `high_rxt` ends the highest
//! retransmission and `recovery_point` is HighData when recovery began.
//! "S > HighRxt" reads `high_rxt <= s`, "SND.UNA > RecoveryPoint" reads
//! `recovery_point <= snd_una`.
//!
//! Segment boundaries are not kept: IsLost's "DupThresh discontiguous
//! SACKed sequences" counts the scoreboard's ranges, so adjacent SACKed
//! segments count once. With full-sized segments its other test, more
//! than (DupThresh - 1) * SMSS octets SACKed above, decides the same.
//!
//! After an RTO (§5.1) the scoreboard is cleared: the receiver may have
//! reneged (RFC 2018 §8, "the data sender SHOULD turn off all of the
//! SACKed bits"), so the first retransmission goes from SND.UNA, and pipe
//! counts the whole flight. SACK blocks arriving after the RTO are
//! recorded again as usual, and the slow start that follows skips the
//! ranges they report (§5.1: the sender "SHOULD use this SACK information
//! when determining what data should be sent"; Linux skips SACKed data in
//! its Loss state too): [`Scoreboard::sacked_range_above`]. Recovery
//! cannot start again until SND.UNA reaches the RecoveryPoint the RTO set
//! (HighData).
//!
//! The congestion arithmetic of §5 step (4.2) is [`loss_window`]; the
//! window itself stays with congestion control.

use super::SackBlock;
use crate::tcp::seq::SeqNum;

/// DupThresh (RFC 6675 §2, RFC 5681 §3.2): duplicate ACKs, or SACKed
/// segments above a hole, that mark it lost.
pub const DUP_THRESH: u32 = 3;

/// The slow-start threshold and congestion window on entering loss
/// recovery (RFC 6675 §5 step (4.2): "ssthresh = cwnd = (FlightSize / 2)",
/// with RFC 5681 eq. 4's floor of 2 * SMSS). Returns `(ssthresh, cwnd)`.
pub fn loss_window(flight_size: u32, smss: u32) -> (u32, u32) {
    let ssthresh = (flight_size / 2).max(2 * smss);
    (ssthresh, ssthresh)
}

/// What one ACK taught the scoreboard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AckInfo {
    /// Octets newly acknowledged cumulatively (SND.UNA moved by this).
    pub acked: u32,
    /// Octets above SND.UNA SACKed for the first time.
    pub newly_sacked: u32,
    /// A D-SACK block (RFC 2883 §4): reported, never added.
    pub dsack: Option<SackBlock>,
    /// Blocks ignored: empty or reversed, wholly at or below SND.UNA, or
    /// reaching beyond HighData.
    pub ignored: u8,
}

impl AckInfo {
    /// RFC 6675 §2's duplicate acknowledgment: the ACK SACKs octets
    /// between HighACK and HighData not SACKed before, whatever else it
    /// does (it may also move SND.UNA or the window).
    pub fn is_dup_ack(&self) -> bool {
        0 < self.newly_sacked
    }
}

/// What RFC 6675 §5 says to do after an ACK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Not in recovery and no loss detected: send as usual (step (3)
    /// limits new data by pipe when DupAcks > 0: [`Scoreboard::pipe`]).
    Normal,
    /// Step (4): enter loss recovery now. The caller sets ssthresh and
    /// cwnd from [`loss_window`], sends [`Scoreboard::enter_recovery`]'s
    /// retransmission, then continues with step (C).
    EnterRecovery,
    /// Steps (B) and (C): in recovery; while cwnd - pipe >= 1 SMSS send
    /// what [`Scoreboard::next_seg`] says.
    InRecovery,
    /// Step (A): the cumulative ACK passed RecoveryPoint; recovery ended.
    RecoveryEnded,
}

/// What [`Scoreboard::next_seg`] chose (RFC 6675 §4 NextSeg).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextSeg {
    /// Rules (1) and (3): retransmit `[start, end)`, a lost octet's
    /// segment (`lost`), or an unSACKed one below the highest SACK.
    Retransmit { start: SeqNum, end: SeqNum, lost: bool },
    /// Rule (2): up to one SMSS of new data from HighData.
    NewData { start: SeqNum },
    /// Rule (4): the rescue retransmission `[start, end)`, which ends at
    /// the highest unSACKed octet; it leaves HighRxt alone.
    Rescue { start: SeqNum, end: SeqNum },
}

/// A range of SACKed octets, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Range {
    start: SeqNum,
    end: SeqNum,
}

impl Range {
    fn len(self) -> u32 {
        self.end.since(self.start)
    }
}

/// The RFC 6675 scoreboard of one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scoreboard {
    /// SACKed octets above `high_ack`: sorted, disjoint, never adjacent,
    /// never empty. Its capacity is kept, so ACKs allocate only while it
    /// grows.
    sacked: Vec<Range>,
    /// HighACK: SND.UNA.
    high_ack: SeqNum,
    /// HighData: SND.MAX.
    high_data: SeqNum,
    /// HighRxt: one past the highest octet retransmitted (rules (1), (3));
    /// never below `high_ack`.
    high_rxt: SeqNum,
    /// RescueRxt: `None` is the RFC's "undefined".
    rescue_rxt: Option<SeqNum>,
    /// RecoveryPoint: HighData when recovery (or an RTO) began. Outside
    /// recovery it trails `high_ack` once passed, so it never reads as
    /// ahead after 2^31 octets.
    recovery_point: SeqNum,
    in_recovery: bool,
    /// DupAcks (§5): RFC 6675 duplicate ACKs since SND.UNA last moved.
    dup_acks: u32,
}

impl Scoreboard {
    /// An empty scoreboard with SND.UNA = SND.MAX = `snd_una`.
    pub fn new(snd_una: SeqNum) -> Scoreboard {
        Scoreboard {
            sacked: Vec::new(),
            high_ack: snd_una,
            high_data: snd_una,
            high_rxt: snd_una,
            rescue_rxt: None,
            recovery_point: snd_una,
            in_recovery: false,
            dup_acks: 0,
        }
    }

    pub fn in_recovery(&self) -> bool {
        self.in_recovery
    }
    #[cfg_attr(not(test), allow(dead_code, reason = "the endpoint reads recovery through pipe and NextSeg"))]
    pub fn high_rxt(&self) -> SeqNum {
        self.high_rxt
    }
    pub fn rescue_rxt(&self) -> Option<SeqNum> {
        self.rescue_rxt
    }
    /// Puts RescueRxt back as it was before a rule (4) choice the
    /// receiver's window did not let go (RFC 9293 §3.8.6), so the rescue
    /// is still owed.
    pub fn set_rescue_rxt(&mut self, rescue_rxt: Option<SeqNum>) {
        self.rescue_rxt = rescue_rxt;
    }
    #[cfg_attr(not(test), allow(dead_code, reason = "the endpoint reads recovery through pipe and NextSeg"))]
    pub fn recovery_point(&self) -> SeqNum {
        self.recovery_point
    }
    #[cfg_attr(not(test), allow(dead_code, reason = "the endpoint reads recovery through pipe and NextSeg"))]
    pub fn dup_acks(&self) -> u32 {
        self.dup_acks
    }

    /// Octets SACKed above SND.UNA.
    #[cfg_attr(not(test), allow(dead_code, reason = "read by tests"))]
    pub fn sacked_bytes(&self) -> u32 {
        self.sacked.iter().map(|r| r.len()).sum()
    }

    /// The SACKed ranges, lowest first.
    #[cfg_attr(not(test), allow(dead_code, reason = "read by tests"))]
    pub fn sacked(&self) -> impl Iterator<Item = SackBlock> + '_ {
        self.sacked.iter().map(|r| SackBlock::new(r.start, r.end))
    }

    /// `Update()` (§4) and the DupAcks bookkeeping of §5 for one ACK:
    /// `ack` is SEG.ACK (already checked acceptable: not beyond SND.MAX),
    /// `snd_max` is HighData now, `blocks` the ACK's SACK blocks in wire
    /// order, `smss` the sender's SMSS. Returns what the ACK taught and what
    /// §5 does next.
    pub fn on_ack(&mut self, ack: SeqNum, snd_max: SeqNum, blocks: &[SackBlock], smss: u32) -> (AckInfo, Step) {
        let mut info = AckInfo::default();
        self.high_data = self.high_data.max(snd_max);
        if self.high_ack.lt(ack) {
            info.acked = ack.since(self.high_ack);
            self.advance_una(ack);
            // §5: a cumulative acknowledgment resets DupAcks.
            self.dup_acks = 0;
        }
        info.dsack = super::dsack_of(ack, blocks);
        let normal = if info.dsack.is_some() { &blocks[1..] } else { blocks };
        for &block in normal {
            match self.usable(block) {
                Some(block) => info.newly_sacked += self.insert(block),
                None => info.ignored += 1,
            }
        }
        let step = self.step(&info, smss);
        (info, step)
    }

    /// Drops what `ack` covers and keeps the recovery variables at or
    /// above it.
    fn advance_una(&mut self, ack: SeqNum) {
        self.high_ack = ack;
        let covered = self.sacked.iter().take_while(|r| r.end.le(ack)).count();
        self.sacked.drain(..covered);
        if let Some(first) = self.sacked.first_mut() {
            first.start = first.start.max(ack);
        }
        self.high_rxt = self.high_rxt.max(ack);
        if !self.in_recovery && self.recovery_point.le(ack) {
            self.recovery_point = ack;
        }
    }

    /// §5's decision after `Update()`.
    fn step(&mut self, info: &AckInfo, smss: u32) -> Step {
        if self.in_recovery {
            if self.recovery_point.le(self.high_ack) {
                // (A): the scoreboard above HighACK is kept.
                self.in_recovery = false;
                self.dup_acks = 0;
                return Step::RecoveryEnded;
            }
            return Step::InRecovery;
        }
        // §5: only a duplicate ACK (§2) counts, and only it may start
        // recovery, by steps (1) and (2).
        if !info.is_dup_ack() {
            return Step::Normal;
        }
        self.dup_acks += 1;
        // §5.1: after an RTO no new recovery until HighACK reaches the
        // RecoveryPoint it set.
        let may_enter = self.recovery_point.le(self.high_ack);
        if may_enter && should_enter_recovery(self.dup_acks, self.is_lost(self.high_ack, smss)) {
            return Step::EnterRecovery;
        }
        Step::Normal
    }

    /// Step (4.1) and (4.3): RecoveryPoint = HighData, and the first
    /// retransmission, `[SND.UNA, SND.UNA + min(SMSS, hole))`, which sets
    /// both HighRxt and RescueRxt to its end. The caller has set ssthresh
    /// and cwnd from [`loss_window`] (4.2) and then computes pipe (4.4).
    pub fn enter_recovery(&mut self, smss: u32) -> (SeqNum, SeqNum) {
        self.in_recovery = true;
        self.recovery_point = self.high_data;
        let start = self.high_ack;
        let end = self.hole_end(start).min_after(start, smss);
        self.high_rxt = end;
        self.rescue_rxt = Some(end);
        (start, end)
    }

    /// RETRANSMIT expired (§5.1): recovery ends, RecoveryPoint = HighData
    /// (`snd_max`, SND.MAX now), and the SACK information so far is
    /// dropped (see the module doc).
    pub fn on_rto(&mut self, snd_max: SeqNum) {
        self.high_data = self.high_data.max(snd_max);
        self.in_recovery = false;
        self.recovery_point = self.high_data;
        self.sacked.clear();
        self.high_rxt = self.high_ack;
        self.rescue_rxt = None;
        self.dup_acks = 0;
    }

    /// The lowest SACKed range that ends above `seq`, as `(start, end)`:
    /// `seq` lies in it when `start <= seq`, or below it otherwise.
    pub fn sacked_range_above(&self, seq: SeqNum) -> Option<(SeqNum, SeqNum)> {
        self.sacked.iter().find(|r| seq.lt(r.end)).map(|r| (r.start, r.end))
    }

    /// Steps (3.1) and (3.2) for limited transmit: HighRxt = HighACK, then
    /// `SetPipe()`, with HighData at `snd_max` (SND.MAX: the step's
    /// ordinary send, which goes first, may have moved it since the ACK).
    pub fn limited_transmit_pipe(&mut self, smss: u32, snd_max: SeqNum) -> u32 {
        self.high_data = self.high_data.max(snd_max);
        self.high_rxt = self.high_ack;
        self.pipe(smss)
    }

    /// A segment `[start, end)` was sent: steps (C.2) and (C.3). `rescue`
    /// when NextSeg's rule (4) chose it, which leaves HighRxt alone.
    ///
    /// A rescue that starts at the first unSACKed octet at or above
    /// HighRxt moves HighRxt too: §5 (C.3) exempts rule (4) so that HighRxt
    /// never skips a hole it did not resend, and this one skips none. Left
    /// alone, HighRxt would let rule (3) resend the rescued octets again as
    /// soon as a SACK above them arrives (a SACKed FIN, say) although they
    /// are already in flight twice.
    pub fn on_sent(&mut self, start: SeqNum, end: SeqNum, rescue: bool) {
        let skips_no_hole = !rescue || start.le(self.first_unsacked_from(self.high_rxt.max(self.high_ack)));
        if start.lt(self.high_data) && skips_no_hole {
            self.high_rxt = self.high_rxt.max(end.min_seq(self.high_data));
        }
        self.high_data = self.high_data.max(end);
    }

    /// `IsLost(seq)` (§4): DupThresh discontiguous SACKed ranges lie above
    /// `seq`, or more than (DupThresh - 1) * SMSS SACKed octets do.
    pub fn is_lost(&self, seq: SeqNum, smss: u32) -> bool {
        seq.lt(self.lost_below(smss))
    }

    /// The boundary below which every unSACKed octet is lost: IsLost only
    /// grows as the octet goes down, so one walk from the top finds it.
    fn lost_below(&self, smss: u32) -> SeqNum {
        let byte_limit = (DUP_THRESH - 1).saturating_mul(smss);
        let mut bytes = 0u32;
        for (count, r) in self.sacked.iter().rev().enumerate() {
            bytes = bytes.saturating_add(r.len());
            if DUP_THRESH as usize <= count + 1 || byte_limit < bytes {
                // Every unSACKed octet below this range has it, and all
                // the ranges above, above it.
                return r.start;
            }
        }
        self.high_ack
    }

    /// `SetPipe()` (§4): over the unSACKed octets in [HighACK, HighData),
    /// one for each not lost, and one more for each retransmitted (below
    /// HighRxt).
    pub fn pipe(&self, smss: u32) -> u32 {
        let lost_below = self.lost_below(smss).max(self.high_ack);
        self.unsacked_between(lost_below, self.high_data) + self.unsacked_between(self.high_ack, self.high_rxt)
    }

    /// UnSACKed octets in `[from, to)`, both within [HighACK, HighData].
    fn unsacked_between(&self, from: SeqNum, to: SeqNum) -> u32 {
        if !from.lt(to) {
            return 0;
        }
        let sacked: u32 = self
            .sacked
            .iter()
            .map(|r| {
                let (start, end) = (r.start.max(from), r.end.min_seq(to));
                if start.lt(end) { end.since(start) } else { 0 }
            })
            .sum();
        to.since(from) - sacked
    }

    /// `NextSeg()` (§4). `new_data_allowed`: unsent data waits and the
    /// receive window allows it (rule (2)). `rescue_allowed`: rule (4)
    /// may be tried (the caller refuses it in a step where rule (2) sent
    /// new data: see `send_sack_recovery`). `None` when nothing may be
    /// sent. The caller sends the segment and reports it to
    /// [`Scoreboard::on_sent`].
    pub fn next_seg(&mut self, smss: u32, new_data_allowed: bool, rescue_allowed: bool) -> Option<NextSeg> {
        let highest_sacked = self.sacked.last().map(|r| r.start);
        // The smallest unSACKed octet at or above HighRxt (1.a) below the
        // highest SACKed octet (1.b); IsLost only weakens going up, so if
        // this one is not lost none above is (1.c).
        let candidate = highest_sacked.and_then(|top| {
            let seq = self.first_unsacked_from(self.high_rxt.max(self.high_ack));
            seq.lt(top).then_some(seq)
        });
        if let Some(seq) = candidate
            && self.is_lost(seq, smss)
        {
            let end = self.hole_end(seq).min_after(seq, smss);
            return Some(NextSeg::Retransmit { start: seq, end, lost: true });
        }
        if new_data_allowed {
            return Some(NextSeg::NewData { start: self.high_data });
        }
        if let Some(seq) = candidate {
            let end = self.hole_end(seq).min_after(seq, smss);
            return Some(NextSeg::Retransmit { start: seq, end, lost: false });
        }
        if !rescue_allowed {
            return None;
        }
        self.rescue(smss)
    }

    /// Whether `seq` is outstanding and not SACKed: at or above HighACK,
    /// below HighData, in no SACKed range.
    pub fn is_unsacked(&self, seq: SeqNum) -> bool {
        self.high_ack.le(seq) && seq.lt(self.high_data) && !self.sacked.iter().any(|r| r.start.le(seq) && seq.lt(r.end))
    }

    /// Rule (4): one rescue retransmission per recovery, once HighACK is
    /// past RescueRxt, of the segment ending at the highest unSACKed octet;
    /// RescueRxt becomes RecoveryPoint.
    fn rescue(&mut self, smss: u32) -> Option<NextSeg> {
        if !self.in_recovery || self.rescue_rxt.is_some_and(|r| !r.lt(self.high_ack)) {
            return None;
        }
        // The highest unSACKed octet: below the top range if that reaches
        // HighData, else HighData's last octet.
        let (hole_start, end) = match self.sacked.last() {
            Some(top) if top.end == self.high_data => {
                let below = self.sacked.len().checked_sub(2).map_or(self.high_ack, |i| self.sacked[i].end);
                (below, top.start)
            }
            Some(top) => (top.end, self.high_data),
            None => (self.high_ack, self.high_data),
        };
        if !hole_start.lt(end) {
            return None;
        }
        let start = if smss < end.since(hole_start) { end.sub(smss) } else { hole_start };
        self.rescue_rxt = Some(self.recovery_point);
        Some(NextSeg::Rescue { start, end })
    }

    /// The first unSACKed octet at or after `seq` (HighData if none).
    fn first_unsacked_from(&self, mut seq: SeqNum) -> SeqNum {
        for r in &self.sacked {
            if r.start.le(seq) && seq.lt(r.end) {
                seq = r.end;
            }
        }
        seq
    }

    /// Where the hole holding unSACKed `seq` ends: the next SACKed range,
    /// or HighData.
    fn hole_end(&self, seq: SeqNum) -> SeqNum {
        self.sacked.iter().map(|r| r.start).find(|&start| seq.lt(start)).unwrap_or(self.high_data)
    }

    /// The part of `block` worth recording: above SND.UNA, within
    /// HighData, not empty.
    fn usable(&self, block: SackBlock) -> Option<SackBlock> {
        if block.is_empty() || self.high_data.lt(block.right) || block.right.le(self.high_ack) {
            return None;
        }
        Some(SackBlock::new(block.left.max(self.high_ack), block.right))
    }

    /// Records `block`, merging what it overlaps or touches; returns the
    /// octets new to the scoreboard.
    fn insert(&mut self, block: SackBlock) -> u32 {
        let (left, right) = (block.left, block.right);
        // Ranges [first, past) overlap or touch the block.
        let first = self.sacked.iter().take_while(|r| r.end.lt(left)).count();
        let past = first + self.sacked[first..].iter().take_while(|r| r.start.le(right)).count();
        let covered: u32 = self.sacked[first..past]
            .iter()
            .map(|r| {
                let (start, end) = (r.start.max(left), r.end.min_seq(right));
                if start.lt(end) { end.since(start) } else { 0 }
            })
            .sum();
        if first == past {
            self.sacked.insert(first, Range { start: left, end: right });
        } else {
            let merged =
                Range { start: self.sacked[first].start.min_seq(left), end: self.sacked[past - 1].end.max(right) };
            self.sacked[first] = merged;
            self.sacked.drain(first + 1..past);
        }
        block.len() - covered
    }
}

/// §5 steps (1) and (2) as a pure test for congestion control: DupAcks
/// reached DupThresh, or IsLost(HighACK + 1) (the octet at SND.UNA).
pub fn should_enter_recovery(dup_acks: u32, una_lost: bool) -> bool {
    DUP_THRESH <= dup_acks || una_lost
}

/// Wrapping min and "at most n after" for sequence numbers.
trait SeqExt {
    fn min_seq(self, other: SeqNum) -> SeqNum;
    /// `self`, but at most `n` octets after `start`.
    fn min_after(self, start: SeqNum, n: u32) -> SeqNum;
}

impl SeqExt for SeqNum {
    fn min_seq(self, other: SeqNum) -> SeqNum {
        if self.lt(other) { self } else { other }
    }
    fn min_after(self, start: SeqNum, n: u32) -> SeqNum {
        self.min_seq(start.add(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    /// Sequence numbers relative to a base, so every scenario also runs
    /// across 2^32.
    #[derive(Clone, Copy)]
    struct At(u32);

    impl At {
        fn s(self, n: u32) -> SeqNum {
            SeqNum(self.0.wrapping_add(n))
        }
        fn b(self, left: u32, right: u32) -> SackBlock {
            SackBlock::new(self.s(left), self.s(right))
        }
        fn ranges(self, sb: &Scoreboard) -> Vec<(u32, u32)> {
            sb.sacked().map(|b| (b.left.since(self.s(0)), b.right.since(self.s(0)))).collect()
        }
    }

    const BASES: [At; 3] = [At(0), At(u32::MAX - 4500), At(u32::MAX)];

    /// A scoreboard with SND.UNA = 1000 and ten segments of 1000 sent.
    fn ten_segments_out(at: At) -> Scoreboard {
        let mut sb = Scoreboard::new(at.s(1000));
        sb.on_sent(at.s(1000), at.s(11_000), false);
        sb
    }

    /// RFC 6675 §5 (C.3) exempts a rescue from moving HighRxt so HighRxt
    /// never passes a hole it did not resend; a rescue that starts at the
    /// first unSACKed octet above HighRxt passes none, and moves it, so a
    /// later SACK above the rescued octets does not make rule (3) resend
    /// them. 1000..11000 out; 2000..5000 SACKed: recovery, 1000 resent
    /// (HighRxt = RescueRxt = 2000). ACK 10000: the rescue is 10000..11000,
    /// HighRxt = 11000. A SACK of 10500..11000 then leaves 10000..10500
    /// below the highest SACK, but not above HighRxt: nothing to send.
    #[test]
    fn a_rescue_that_skips_no_hole_moves_high_rxt() {
        for at in BASES {
            let mut sb = ten_segments_out(at);
            let hw = at.s(11_000);
            assert_eq!(sb.on_ack(at.s(1000), hw, &[at.b(2000, 5000)], MSS).1, Step::EnterRecovery);
            assert_eq!(sb.enter_recovery(MSS), (at.s(1000), at.s(2000)));
            assert_eq!(sb.on_ack(at.s(10_000), hw, &[], MSS).1, Step::InRecovery);
            assert_eq!(sb.next_seg(MSS, false, true), Some(NextSeg::Rescue { start: at.s(10_000), end: hw }));
            sb.on_sent(at.s(10_000), hw, true);
            assert_eq!(sb.high_rxt(), hw);
            assert_eq!(sb.on_ack(at.s(10_000), hw, &[at.b(10_500, 11_000)], MSS).1, Step::InRecovery);
            assert_eq!(sb.next_seg(MSS, false, true), None);
        }
    }

    #[test]
    fn blocks_merge_when_they_overlap_or_touch() {
        for at in BASES {
            let mut sb = ten_segments_out(at);
            let ack = at.s(1000);
            let learn = |sb: &mut Scoreboard, blocks: &[SackBlock]| sb.on_ack(ack, at.s(11_000), blocks, MSS).0;
            assert_eq!(learn(&mut sb, &[at.b(2000, 3000)]).newly_sacked, 1000);
            assert_eq!(learn(&mut sb, &[at.b(4000, 5000), at.b(2000, 3000)]).newly_sacked, 1000);
            assert_eq!(at.ranges(&sb), vec![(2000, 3000), (4000, 5000)]);
            assert_eq!(learn(&mut sb, &[at.b(2500, 4500)]).newly_sacked, 1000, "only 3000..4000 is new");
            assert_eq!(at.ranges(&sb), vec![(2000, 5000)]);
            assert_eq!(learn(&mut sb, &[at.b(1500, 2000)]).newly_sacked, 500, "touching ranges merge");
            assert_eq!(learn(&mut sb, &[at.b(7000, 8000), at.b(9000, 10_000)]).newly_sacked, 2000);
            assert_eq!(learn(&mut sb, &[at.b(6000, 11_000)]).newly_sacked, 3000, "one block spans two ranges");
            assert_eq!(at.ranges(&sb), vec![(1500, 5000), (6000, 11_000)]);
            assert_eq!(sb.sacked_bytes(), 8500);
            // The cumulative ACK drops and trims ranges below it.
            let (info, _) = sb.on_ack(at.s(4000), at.s(11_000), &[], MSS);
            assert_eq!((info.acked, info.newly_sacked), (3000, 0));
            assert_eq!(at.ranges(&sb), vec![(4000, 5000), (6000, 11_000)]);
        }
    }

    #[test]
    fn malformed_and_stale_blocks_are_ignored() {
        let at = At(0);
        let mut sb = ten_segments_out(at);
        let blocks = [at.b(2000, 3000), at.b(500, 1000), at.b(5000, 4000), at.b(10_000, 12_000)];
        let (info, step) = sb.on_ack(at.s(1000), at.s(11_000), &blocks, MSS);
        assert_eq!((info.newly_sacked, info.ignored, info.dsack), (1000, 3, None));
        assert_eq!(step, Step::Normal);
        // A block straddling SND.UNA keeps its part above.
        let (info, _) = sb.on_ack(at.s(1000), at.s(11_000), &[at.b(5000, 6000), at.b(800, 1200)], MSS);
        assert_eq!((info.newly_sacked, info.ignored), (1200, 0));
        assert_eq!(at.ranges(&sb), vec![(1000, 1200), (2000, 3000), (5000, 6000)]);
    }

    /// RFC 2883 §4: the first block below SEG.ACK, or inside the second,
    /// is a D-SACK: reported, not added, and not a duplicate ACK.
    #[test]
    fn dsack_blocks_are_reported_not_added() {
        for at in BASES {
            let mut sb = ten_segments_out(at);
            let (info, step) = sb.on_ack(at.s(1000), at.s(11_000), &[at.b(500, 1000)], MSS);
            assert_eq!(info.dsack, Some(at.b(500, 1000)));
            assert!(!info.is_dup_ack());
            assert_eq!((step, sb.dup_acks()), (Step::Normal, 0));
            let (info, _) = sb.on_ack(at.s(1000), at.s(11_000), &[at.b(3000, 3500), at.b(3000, 4000)], MSS);
            assert_eq!((info.dsack, info.newly_sacked), (Some(at.b(3000, 3500)), 1000));
            assert_eq!(at.ranges(&sb), vec![(3000, 4000)]);
        }
    }

    /// IsLost (§4): DupThresh discontiguous ranges above, or more than
    /// (DupThresh - 1) * SMSS octets SACKed above.
    #[test]
    fn is_lost_counts_ranges_and_octets_above() {
        for at in BASES {
            let mut sb = ten_segments_out(at);
            let sack = |sb: &mut Scoreboard, l, r| sb.on_ack(at.s(1000), at.s(11_000), &[at.b(l, r)], MSS);
            sack(&mut sb, 2000, 3000);
            sack(&mut sb, 4000, 5000);
            assert!(!sb.is_lost(at.s(1000), MSS), "two ranges, 2000 octets: not yet");
            sack(&mut sb, 6000, 6001);
            assert!(sb.is_lost(at.s(1000), MSS), "three ranges");
            assert!(sb.is_lost(at.s(1999), MSS));
            assert!(!sb.is_lost(at.s(3000), MSS), "two ranges, 1001 octets above 3000");

            let mut sb = ten_segments_out(at);
            sack(&mut sb, 2000, 4000);
            assert!(!sb.is_lost(at.s(1000), MSS), "exactly 2 * SMSS is not more");
            sack(&mut sb, 4000, 4001);
            assert!(sb.is_lost(at.s(1000), MSS), "2 * SMSS + 1 octets");
        }
    }

    /// §5 step (1): three duplicate ACKs start recovery even when the
    /// SACKed octets are too few for IsLost (small segments).
    #[test]
    fn three_dup_acks_of_small_segments_enter_recovery() {
        let at = At(0);
        let mut sb = ten_segments_out(at);
        let mut steps = vec![];
        for n in 0..3 {
            let (info, step) = sb.on_ack(at.s(1000), at.s(11_000), &[at.b(2000, 2100 + 100 * n)], MSS);
            assert!(info.is_dup_ack());
            steps.push(step);
        }
        assert!(!sb.is_lost(at.s(1000), MSS));
        assert_eq!(steps, [Step::Normal, Step::Normal, Step::EnterRecovery]);
        // An ACK repeating the same blocks is no duplicate under RFC 6675.
        let (info, _) = sb.on_ack(at.s(1000), at.s(11_000), &[at.b(2000, 2300)], MSS);
        assert!(!info.is_dup_ack());
    }

    /// §5 step (2): one ACK whose SACK blocks make SND.UNA lost enters
    /// recovery at the first duplicate ACK.
    #[test]
    fn is_lost_at_snd_una_enters_recovery_on_the_first_dup_ack() {
        let at = At(0);
        let mut sb = ten_segments_out(at);
        let blocks = [at.b(6000, 7000), at.b(4000, 5000), at.b(2000, 3000)];
        let (_, step) = sb.on_ack(at.s(1000), at.s(11_000), &blocks, MSS);
        assert_eq!((step, sb.dup_acks()), (Step::EnterRecovery, 1));
    }

    /// Three segments lost from one window of ten (s0, s2, s4 of
    /// 1000..11000), repaired in one recovery with the RFC's pipe
    /// arithmetic worked by hand; then the rescue retransmission.
    #[test]
    fn three_holes_are_repaired_in_one_recovery() {
        for at in BASES {
            let mut sb = ten_segments_out(at);
            let hw = at.s(11_000);
            let ack = at.s(1000);
            assert_eq!(sb.on_ack(ack, hw, &[at.b(2000, 3000)], MSS).1, Step::Normal);
            assert_eq!(sb.on_ack(ack, hw, &[at.b(4000, 5000), at.b(2000, 3000)], MSS).1, Step::Normal);
            let blocks = [at.b(6000, 7000), at.b(4000, 5000), at.b(2000, 3000)];
            assert_eq!(sb.on_ack(ack, hw, &blocks, MSS).1, Step::EnterRecovery);
            // (4.2) FlightSize 10000: ssthresh = cwnd = 5000.
            let (_, cwnd) = loss_window(10_000, MSS);
            assert_eq!(cwnd, 5000);
            // (4.1), (4.3): RecoveryPoint = HighData; s0 goes again.
            assert_eq!(sb.enter_recovery(MSS), (at.s(1000), at.s(2000)));
            assert_eq!((sb.recovery_point(), sb.high_rxt(), sb.rescue_rxt()), (hw, at.s(2000), Some(at.s(2000))));
            // (4.4) Three ranges above 2000: everything unSACKed below it
            // is lost. Not lost: 3000..4000, 5000..6000, 7000..11000 =
            // 6000; retransmitted: 1000..2000 = 1000.
            assert_eq!(sb.pipe(MSS), 7000);
            // s6 arrives: 6000..8000 is one range of 2000, 4000..5000
            // brings the octets above 3000 to 3000 > 2 * SMSS: s2 is lost.
            let blocks = [at.b(6000, 8000), at.b(4000, 5000), at.b(2000, 3000)];
            assert_eq!(sb.on_ack(ack, hw, &blocks, MSS).1, Step::InRecovery);
            assert!(sb.is_lost(at.s(3000), MSS) && !sb.is_lost(at.s(5000), MSS));
            // Not lost: 5000..6000, 8000..11000; retransmitted 1000..2000.
            assert_eq!(sb.pipe(MSS), 5000);
            // s7: 6000..9000 is 3000 octets, so s4 is lost too.
            let blocks = [at.b(6000, 9000), at.b(4000, 5000), at.b(2000, 3000)];
            sb.on_ack(ack, hw, &blocks, MSS);
            assert_eq!(sb.pipe(MSS), 2000 + 1000);
            // (C): cwnd - pipe = 2000: two retransmissions, holes in order.
            let seg = sb.next_seg(MSS, true, true);
            assert_eq!(seg, Some(NextSeg::Retransmit { start: at.s(3000), end: at.s(4000), lost: true }));
            sb.on_sent(at.s(3000), at.s(4000), false);
            assert_eq!(sb.pipe(MSS), 4000);
            let seg = sb.next_seg(MSS, true, true);
            assert_eq!(seg, Some(NextSeg::Retransmit { start: at.s(5000), end: at.s(6000), lost: true }));
            sb.on_sent(at.s(5000), at.s(6000), false);
            assert_eq!((sb.pipe(MSS), sb.high_rxt()), (5000, at.s(6000)));
            // Nothing lost is left: rule (2) when new data may go...
            assert_eq!(sb.next_seg(MSS, true, true), Some(NextSeg::NewData { start: hw }));
            // ...else rule (3) finds no unSACKed octet below the highest
            // SACK above HighRxt, and rule (4) waits for HighACK to pass
            // RescueRxt (2000).
            assert_eq!(sb.next_seg(MSS, false, true), None);
            // s0's retransmission arrives: SND.UNA = 3000.
            let blocks = [at.b(6000, 9000), at.b(4000, 5000)];
            let (info, step) = sb.on_ack(at.s(3000), hw, &blocks, MSS);
            assert_eq!((info.acked, step), (2000, Step::InRecovery));
            // Rule (4): one rescue of the highest unSACKed segment.
            assert_eq!(sb.next_seg(MSS, false, true), Some(NextSeg::Rescue { start: at.s(10_000), end: hw }));
            sb.on_sent(at.s(10_000), hw, true);
            assert_eq!((sb.high_rxt(), sb.rescue_rxt()), (at.s(6000), Some(hw)), "HighRxt stays");
            assert_eq!(sb.next_seg(MSS, false, true), None, "one rescue per recovery");
            // (A): the cumulative ACK reaches RecoveryPoint.
            assert_eq!(sb.on_ack(hw, hw, &[], MSS).1, Step::RecoveryEnded);
            assert!(!sb.in_recovery());
            assert_eq!(sb.pipe(MSS), 0);
        }
    }

    /// Rule (4) when the highest SACK reaches HighData: the rescue ends
    /// at the top of the last hole, at most one SMSS long.
    #[test]
    fn rescue_ends_at_the_highest_unsacked_octet() {
        let at = At(u32::MAX - 4500);
        let mut sb = ten_segments_out(at);
        let blocks = [at.b(8000, 11_000), at.b(4000, 5000), at.b(2000, 3000)];
        assert_eq!(sb.on_ack(at.s(1000), at.s(11_000), &blocks, MSS).1, Step::EnterRecovery);
        sb.enter_recovery(MSS);
        sb.on_sent(at.s(1000), at.s(2000), false);
        for hole in [3000, 5000] {
            let seg = sb.next_seg(MSS, false, true);
            assert_eq!(seg, Some(NextSeg::Retransmit { start: at.s(hole), end: at.s(hole + 1000), lost: true }));
            sb.on_sent(at.s(hole), at.s(hole + 1000), false);
        }
        // 6000..8000 is lost too: 3000 octets SACKed above it.
        let seg = sb.next_seg(MSS, false, true);
        assert_eq!(seg, Some(NextSeg::Retransmit { start: at.s(6000), end: at.s(7000), lost: true }));
        sb.on_sent(at.s(6000), at.s(7000), false);
        sb.on_sent(at.s(7000), at.s(8000), false);
        assert_eq!(sb.next_seg(MSS, false, true), None, "HighACK has not passed RescueRxt");
        sb.on_ack(at.s(2500), at.s(11_000), &blocks, MSS);
        assert_eq!(sb.next_seg(MSS, false, true), Some(NextSeg::Rescue { start: at.s(7000), end: at.s(8000) }));
    }

    /// Rule (3): an unSACKed segment below the highest SACK that is not
    /// lost yet goes when no new data may.
    #[test]
    fn rule_3_retransmits_a_hole_not_yet_lost() {
        let at = At(0);
        let mut sb = ten_segments_out(at);
        sb.on_ack(at.s(1000), at.s(11_000), &[at.b(3000, 4000)], MSS);
        assert_eq!(sb.next_seg(MSS, true, true), Some(NextSeg::NewData { start: at.s(11_000) }));
        let seg = sb.next_seg(MSS, false, true);
        assert_eq!(seg, Some(NextSeg::Retransmit { start: at.s(1000), end: at.s(2000), lost: false }));
        // A hole shorter than SMSS is retransmitted alone.
        sb.on_ack(at.s(1000), at.s(11_000), &[at.b(1500, 2000)], MSS);
        let seg = sb.next_seg(MSS, false, true);
        assert_eq!(seg, Some(NextSeg::Retransmit { start: at.s(1000), end: at.s(1500), lost: false }));
    }

    /// §5.1: an RTO ends recovery, sets RecoveryPoint = HighData and
    /// drops the SACK information; no new recovery until SND.UNA reaches
    /// RecoveryPoint.
    #[test]
    fn rto_ends_recovery_and_forgets_the_sacks() {
        let at = At(u32::MAX);
        let mut sb = ten_segments_out(at);
        let blocks = [at.b(6000, 7000), at.b(4000, 5000), at.b(2000, 3000)];
        assert_eq!(sb.on_ack(at.s(1000), at.s(11_000), &blocks, MSS).1, Step::EnterRecovery);
        sb.enter_recovery(MSS);
        sb.on_rto(at.s(11_000));
        assert!(!sb.in_recovery());
        assert_eq!((sb.recovery_point(), sb.sacked_bytes()), (at.s(11_000), 0));
        assert_eq!(sb.pipe(MSS), 10_000, "every octet counts as in flight again");
        // Go-back-N: the first retransmission after the RTO.
        sb.on_sent(at.s(1000), at.s(2000), false);
        // SACKs are recorded again, but start no recovery.
        for blocks in [&blocks[2..], &blocks[1..], &blocks[..]] {
            assert_eq!(sb.on_ack(at.s(1000), at.s(11_000), blocks, MSS).1, Step::Normal);
        }
        assert_eq!(sb.sacked_bytes(), 3000);
        // Past RecoveryPoint, a new loss enters recovery again.
        sb.on_ack(at.s(11_000), at.s(21_000), &[], MSS);
        sb.on_sent(at.s(11_000), at.s(21_000), false);
        let blocks = [at.b(16_000, 17_000), at.b(14_000, 15_000), at.b(12_000, 13_000)];
        assert_eq!(sb.on_ack(at.s(11_000), at.s(21_000), &blocks, MSS).1, Step::EnterRecovery);
    }

    /// RecoveryPoint left behind must not read as ahead of SND.UNA once
    /// 2^31 octets have passed (as in NewReno's `recover`).
    #[test]
    fn recovery_still_starts_after_3_gib_without_loss() {
        let mut sb = Scoreboard::new(SeqNum(1));
        let step = 1 << 20;
        let mut ack = SeqNum(1);
        for _ in 0..3 * 1024 {
            sb.on_sent(ack, ack.add(step), false);
            ack = ack.add(step);
            sb.on_ack(ack, ack, &[], MSS);
        }
        sb.on_sent(ack, ack.add(10 * MSS), false);
        let blocks = [SackBlock::new(ack.add(1000), ack.add(4000))];
        assert_eq!(sb.on_ack(ack, ack.add(10 * MSS), &blocks, MSS).1, Step::EnterRecovery);
    }

    #[test]
    fn loss_window_halves_the_flight_with_a_floor() {
        assert_eq!(loss_window(10_000, MSS), (5000, 5000));
        assert_eq!(loss_window(3000, MSS), (2000, 2000));
        assert!(should_enter_recovery(3, false));
        assert!(should_enter_recovery(1, true));
        assert!(!should_enter_recovery(2, false));
    }
}
