//! The receiver's SACK blocks (RFC 2018 §4) and D-SACK (RFC 2883 §4).
//!
//! The out-of-order data itself is `reassembly`'s; this keeps only the
//! order in which blocks were last reported, so the next ACK can repeat
//! the most recent ones first. For each ACK:
//! - a D-SACK block, when the segment that triggered it was a duplicate
//!   (below RCV.NXT, or already held), goes first; it is never repeated;
//! - then the held range containing that duplicate, if it lies above
//!   RCV.NXT (RFC 2883 §4 (3)), and the held range containing the segment
//!   that triggered the ACK, unless that segment advanced RCV.NXT (RFC
//!   2018 §4: "the first SACK block MUST specify the contiguous block of
//!   data containing the segment which triggered this ACK");
//! - then the blocks reported before, most recent first, each grown to
//!   the held range now containing it, skipping any RCV.NXT has covered
//!   and any inside a block already listed;
//! - up to the option's room: 4 blocks, 3 beside timestamps.
//!
//! The history keeps up to [`MAX_BLOCKS`] ranges even when fewer fit in
//! one option, so a D-SACK taking a slot for one ACK does not make the
//! receiver forget a range it holds.

use super::{MAX_BLOCKS, SackBlock, SackBlocks};
use crate::tcp::seq::SeqNum;

/// The receiver's record of the blocks it reported, most recent first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SackReporter {
    recent: SackBlocks,
}

impl SackReporter {
    /// Forgets the history (the connection's held data was dropped).
    pub fn clear(&mut self) {
        self.recent = SackBlocks::EMPTY;
    }

    /// The blocks for the next ACK. `rcv_nxt` and `held` (the
    /// reassembly's ranges, lowest first) are as they are after the
    /// arriving segment was processed; `arrived` is that segment's
    /// `[start, end)` if data triggered this ACK; `dsack` is
    /// [`duplicate_part`] of it, taken before it was processed.
    /// `max_blocks` is the option's room ([`MAX_BLOCKS`], or
    /// [`super::MAX_BLOCKS_WITH_TIMESTAMPS`]).
    pub fn blocks_for_ack<I>(
        &mut self,
        rcv_nxt: SeqNum,
        held: I,
        arrived: Option<SackBlock>,
        dsack: Option<SackBlock>,
        max_blocks: usize,
    ) -> SackBlocks
    where
        I: Iterator<Item = (SeqNum, SeqNum)> + Clone,
    {
        let mut normal = SackBlocks::EMPTY;
        let fresh = [dsack, arrived].into_iter().flatten();
        let previous = self.recent.as_slice().iter().copied();
        for block in fresh.chain(previous) {
            if block.right.le(rcv_nxt) {
                continue; // covered by the cumulative ACK, or a duplicate below it
            }
            let Some(range) = containing(held.clone(), block) else { continue };
            if !normal.as_slice().iter().any(|&listed| range.within(listed)) {
                normal.push(range);
            }
        }
        self.recent = normal;
        let mut out = SackBlocks::EMPTY;
        let room = max_blocks.min(MAX_BLOCKS);
        for block in dsack.into_iter().chain(normal.as_slice().iter().copied()).take(room) {
            out.push(block);
        }
        out
    }
}

impl SackReporter {
    /// The blocks last reported, without any D-SACK, up to `max_blocks`:
    /// what a later segment of the same step carries (RFC 2018 §4: as
    /// many as fit; RFC 2883 §4: the D-SACK goes once).
    pub fn reported(&self, max_blocks: usize) -> SackBlocks {
        let mut out = SackBlocks::EMPTY;
        for &block in self.recent.as_slice().iter().take(max_blocks.min(MAX_BLOCKS)) {
            out.push(block);
        }
        out
    }
}

/// The part of an arriving segment `[start, end)` the receiver already
/// has, taken before the segment is processed: below `rcv_nxt`, else the
/// first held range it overlaps (RFC 2883 §4: one D-SACK block, for the
/// first duplicate contiguous run). `None` if every octet is new.
pub fn duplicate_part<I>(segment: SackBlock, rcv_nxt: SeqNum, held: I) -> Option<SackBlock>
where
    I: Iterator<Item = (SeqNum, SeqNum)>,
{
    if segment.is_empty() {
        return None;
    }
    if segment.left.lt(rcv_nxt) {
        let right = if segment.right.lt(rcv_nxt) { segment.right } else { rcv_nxt };
        return Some(SackBlock::new(segment.left, right));
    }
    held.map(|(start, end)| SackBlock::new(segment.left.max(start), min_seq(segment.right, end)))
        .find(|overlap| !overlap.is_empty())
}

/// The held range, touching neighbours joined, that overlaps `block`.
fn containing<I>(held: I, block: SackBlock) -> Option<SackBlock>
where
    I: Iterator<Item = (SeqNum, SeqNum)>,
{
    let mut current: Option<SackBlock> = None;
    for (start, end) in held {
        match &mut current {
            Some(run) if run.right == start => run.right = end,
            _ => {
                if current.is_some_and(|run| overlaps(run, block)) {
                    return current;
                }
                current = Some(SackBlock::new(start, end));
            }
        }
    }
    current.filter(|&run| overlaps(run, block))
}

fn overlaps(a: SackBlock, b: SackBlock) -> bool {
    a.left.lt(b.right) && b.left.lt(a.right)
}

fn min_seq(a: SeqNum, b: SeqNum) -> SeqNum {
    if a.lt(b) { a } else { b }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::reassembly::Reassembly;

    fn b(left: u32, right: u32) -> SackBlock {
        SackBlock::new(SeqNum(left), SeqNum(right))
    }

    /// A receiver: RCV.NXT, the held data and the SACK history.
    struct Receiver {
        rcv_nxt: SeqNum,
        held: Reassembly,
        reporter: SackReporter,
        max_blocks: usize,
    }

    impl Receiver {
        fn new(rcv_nxt: u32) -> Receiver {
            Receiver {
                rcv_nxt: SeqNum(rcv_nxt),
                held: Reassembly::default(),
                reporter: SackReporter::default(),
                max_blocks: MAX_BLOCKS,
            }
        }

        /// Receives `[start, end)` as the endpoint would, and returns the
        /// ACK: (ACK number, blocks).
        fn receive(&mut self, start: u32, end: u32) -> (u32, Vec<(u32, u32)>) {
            let segment = b(start, end);
            let dsack = duplicate_part(segment, self.rcv_nxt, self.held.ranges());
            if self.rcv_nxt.lt(segment.right) {
                self.held.insert(segment.left.max(self.rcv_nxt), segment.right, false);
                while let Some((len, _)) = self.held.pop_ready(self.rcv_nxt) {
                    self.rcv_nxt = self.rcv_nxt.add(len);
                }
            }
            let blocks =
                self.reporter.blocks_for_ack(self.rcv_nxt, self.held.ranges(), Some(segment), dsack, self.max_blocks);
            let pairs = blocks.as_slice().iter().map(|b| (b.left.0, b.right.0)).collect();
            (self.rcv_nxt.0, pairs)
        }
    }

    /// RFC 2018 §4 case 2: the first segment of eight is dropped; each
    /// later one grows the single block.
    #[test]
    fn rfc_2018_first_segment_lost_grows_one_block() {
        let mut rx = Receiver::new(5000);
        assert_eq!(rx.receive(5500, 6000), (5000, vec![(5500, 6000)]));
        assert_eq!(rx.receive(6000, 6500), (5000, vec![(5500, 6500)]));
        assert_eq!(rx.receive(6500, 7000), (5000, vec![(5500, 7000)]));
        assert_eq!(rx.receive(8500, 9000).1, vec![(8500, 9000), (5500, 7000)]);
        assert_eq!(rx.receive(7000, 8500).1, vec![(5500, 9000)], "the gap fills: one block");
        assert_eq!(rx.receive(5000, 5500), (9000, vec![]), "RCV.NXT covers it all: no SACK");
    }

    /// RFC 2018 §4 case 3: the 2nd, 4th, 6th and 8th segments are
    /// dropped; then the 4th and 2nd arrive.
    #[test]
    fn rfc_2018_alternate_segments_lost() {
        let mut rx = Receiver::new(5000);
        assert_eq!(rx.receive(5000, 5500), (5500, vec![]));
        assert_eq!(rx.receive(6000, 6500), (5500, vec![(6000, 6500)]));
        assert_eq!(rx.receive(7000, 7500), (5500, vec![(7000, 7500), (6000, 6500)]));
        assert_eq!(rx.receive(8000, 8500), (5500, vec![(8000, 8500), (7000, 7500), (6000, 6500)]));
        // The 4th segment fills 6500-7000: its block first.
        assert_eq!(rx.receive(6500, 7000), (5500, vec![(6000, 7500), (8000, 8500)]));
        // The 2nd: RCV.NXT moves to 7500; the trigger is no block.
        assert_eq!(rx.receive(5500, 6000), (7500, vec![(8000, 8500)]));
    }

    /// Most recent first, up to the room: beside timestamps 3 blocks, and
    /// the oldest drops out of the option but not the history.
    #[test]
    fn blocks_are_limited_to_the_room_most_recent_first() {
        let mut rx = Receiver::new(1000);
        rx.max_blocks = 3;
        for n in 1..=4 {
            rx.receive(1000 + 200 * n, 1100 + 200 * n);
        }
        assert_eq!(rx.receive(2200, 2300).1, vec![(2200, 2300), (1800, 1900), (1600, 1700)]);
        // RCV.NXT passes 1200..1300, the oldest range: it leaves the
        // history.
        assert_eq!(rx.receive(1000, 1200), (1300, vec![(2200, 2300), (1800, 1900), (1600, 1700)]));
        // A duplicate of held data takes a slot: the D-SACK block, its
        // range, then the others; the fifth, 1400..1500, stays out.
        rx.max_blocks = 4;
        assert_eq!(rx.receive(1800, 1900).1, vec![(1800, 1900), (1800, 1900), (2200, 2300), (1600, 1700)]);
        assert_eq!(rx.receive(1500, 1600).1, vec![(1400, 1700), (1800, 1900), (2200, 2300)]);
    }

    /// RFC 2883 §4.1.1: both ACKs were lost, the sender retransmits the
    /// first segment; the receiver D-SACKs it below RCV.NXT.
    #[test]
    fn rfc_2883_duplicate_below_rcv_nxt() {
        let mut rx = Receiver::new(3000);
        rx.receive(3000, 3500);
        rx.receive(3500, 4000);
        assert_eq!(rx.receive(3000, 3500), (4000, vec![(3000, 3500)]));
    }

    /// RFC 2883 §4.1.2: a duplicate below RCV.NXT with out-of-order data
    /// held: the D-SACK block first, then the normal block.
    #[test]
    fn rfc_2883_duplicate_and_out_of_order_segment() {
        let mut rx = Receiver::new(3000);
        rx.receive(3000, 3500);
        rx.receive(3500, 4000);
        assert_eq!(rx.receive(4500, 5000), (4000, vec![(4500, 5000)]));
        assert_eq!(rx.receive(3000, 3500), (4000, vec![(3000, 3500), (4500, 5000)]));
    }

    /// RFC 2883 §4.1.3: a duplicate of held data: the D-SACK block, then
    /// the held range containing it.
    #[test]
    fn rfc_2883_duplicate_of_an_out_of_order_segment() {
        let mut rx = Receiver::new(3000);
        rx.receive(3000, 3500);
        rx.receive(3500, 4000);
        assert_eq!(rx.receive(4500, 5000), (4000, vec![(4500, 5000)]));
        assert_eq!(rx.receive(5000, 5500), (4000, vec![(4500, 5500)]));
        assert_eq!(rx.receive(5000, 5500), (4000, vec![(5000, 5500), (4500, 5500)]));
        // The D-SACK is not repeated.
        assert_eq!(rx.receive(6000, 6500), (4000, vec![(6000, 6500), (4500, 5500)]));
    }

    /// RFC 2883 §4.2.1-style: with several held ranges the D-SACK block,
    /// the range holding the duplicate, then the others most recent first.
    #[test]
    fn duplicate_inside_an_older_range_moves_it_second() {
        let mut rx = Receiver::new(1000);
        rx.receive(1500, 2000);
        rx.receive(2500, 3000);
        rx.receive(3500, 4000);
        assert_eq!(rx.receive(1500, 2000).1, vec![(1500, 2000), (1500, 2000), (3500, 4000), (2500, 3000)]);
        rx.max_blocks = 3;
        assert_eq!(rx.receive(2500, 3000).1, vec![(2500, 3000), (2500, 3000), (1500, 2000)]);
    }

    /// A segment partly below RCV.NXT: only the old part is D-SACKed.
    #[test]
    fn partial_duplicate_reports_the_old_part() {
        assert_eq!(duplicate_part(b(900, 1100), SeqNum(1000), std::iter::empty()), Some(b(900, 1000)));
        let held = [(SeqNum(1200), SeqNum(1300))];
        assert_eq!(duplicate_part(b(1100, 1250), SeqNum(1000), held.into_iter()), Some(b(1200, 1250)));
        assert_eq!(duplicate_part(b(1100, 1200), SeqNum(1000), held.into_iter()), None);
    }

    /// Wraparound: blocks across 2^32.
    #[test]
    fn blocks_wrap_around_zero() {
        let mut rx = Receiver::new(u32::MAX - 999);
        assert_eq!(rx.receive(u32::MAX - 499, 500).1, vec![(u32::MAX - 499, 500)]);
        assert_eq!(rx.receive(1000, 1500).1, vec![(1000, 1500), (u32::MAX - 499, 500)]);
        assert_eq!(rx.receive(u32::MAX - 999, u32::MAX - 499), (500, vec![(1000, 1500)]));
    }

    /// Touching held ranges of different origin report as one block.
    #[test]
    fn touching_ranges_join() {
        let mut held = Reassembly::default();
        held.insert(SeqNum(100), SeqNum(200), false);
        held.insert(SeqNum(200), SeqNum(300), true);
        let mut reporter = SackReporter::default();
        let blocks = reporter.blocks_for_ack(SeqNum(0), held.ranges(), Some(b(200, 300)), None, 4);
        assert_eq!(blocks.as_slice(), &[b(100, 300)]);
    }
}
