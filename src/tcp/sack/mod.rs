//! Selective acknowledgment: the receiver's SACK blocks (RFC 2018 §4, with
//! D-SACK, RFC 2883 §4) in `blocks`, the sender's scoreboard and the
//! SACK-based loss recovery of RFC 6675 in `scoreboard`, and the option's
//! value type and wire sizes here.
//!
//! Both halves are pure data structures: no clock, no RNG, and no
//! allocation per ACK once their small vectors have grown. The endpoint
//! owns one of each and feeds them sequence numbers; which segment to send
//! and when stays in `transmit` and `input`.
//!
//! A block is `[left, right)`: `right` is one past the last octet, as on
//! the wire (RFC 2018 §3: "the sequence number immediately following the
//! last sequence number of this block").

pub mod blocks;
pub mod scoreboard;

use super::seq::SeqNum;

/// An endpoint's SACK state, boxed beside it when the config offers SACK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SackState {
    /// The receiver's report history (RFC 2018 §4).
    pub reporter: blocks::SackReporter,
    /// The sender's RFC 6675 scoreboard and recovery state.
    pub scoreboard: scoreboard::Scoreboard,
    /// The data segment that arrived this step, `[start, end)`, and the
    /// part of it already held (D-SACK), for the ACKs the step sends.
    pub trigger: Option<(SackBlock, Option<SackBlock>)>,
    /// The blocks of this step's ACKs, computed at the first one, so
    /// every segment the step sends carries the same.
    pub step_blocks: Option<SackBlocks>,
    /// The first retransmission of a recovery entered this step (§5
    /// step (4.3)), sent at dispatch.
    pub entry_rxt: Option<(SeqNum, SeqNum)>,
    /// The ACK being processed keeps cwnd where recovery set it: it
    /// entered, continued or ended RFC 6675 recovery, so congestion
    /// control's growth is skipped for it.
    pub hold_cwnd: bool,
}

impl SackState {
    pub fn new(iss: SeqNum) -> SackState {
        SackState {
            reporter: blocks::SackReporter::default(),
            scoreboard: scoreboard::Scoreboard::new(iss),
            trigger: None,
            step_blocks: None,
            entry_rxt: None,
            hold_cwnd: false,
        }
    }
}

/// RFC 2883 §4 (sender): the first block is a D-SACK when it lies below
/// SEG.ACK, or within the second block.
fn dsack_of(ack: SeqNum, blocks: &[SackBlock]) -> Option<SackBlock> {
    let first = *blocks.first()?;
    if first.is_empty() {
        return None;
    }
    let below_ack = first.left.lt(ack);
    let within_second = blocks.get(1).is_some_and(|&second| first.within(second));
    (below_ack || within_second).then_some(first)
}

/// SACK blocks in one segment at most: 40 option bytes hold 4 (2 + 8n ≤
/// 40), 3 beside timestamps (RFC 2018 §3).
pub const MAX_BLOCKS: usize = 4;
/// With timestamps (12 option bytes as sent) only 3 blocks fit.
pub const MAX_BLOCKS_WITH_TIMESTAMPS: usize = 3;

/// Option bytes of SACK-permitted on a SYN as Linux sends it without
/// timestamps: NOP, NOP, kind 4, length 2.
pub const SACK_PERMITTED_BYTES: u32 = 4;
/// Option bytes SACK-permitted adds beside timestamps: Linux folds the
/// 2-byte option into the two NOPs that would pad the timestamps (kind 4,
/// length 2, kind 8, length 10), so it costs nothing more than those.
pub const SACK_PERMITTED_BYTES_WITH_TIMESTAMPS: u32 = 0;

/// One SACK block, `[left, right)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SackBlock {
    /// The first octet of the block.
    pub left: SeqNum,
    /// One past the last octet of the block.
    pub right: SeqNum,
}

impl SackBlock {
    /// The block `[left, right)`.
    pub const fn new(left: SeqNum, right: SeqNum) -> SackBlock {
        SackBlock { left, right }
    }

    /// Octets covered (0 if the block is malformed, `right <= left`).
    pub const fn len(self) -> u32 {
        if self.left.lt(self.right) { self.right.since(self.left) } else { 0 }
    }

    /// Whether the block covers no octet.
    pub const fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Whether every octet of `self` lies inside `outer`.
    pub const fn within(self, outer: SackBlock) -> bool {
        outer.left.le(self.left) && self.right.le(outer.right)
    }
}

/// The SACK blocks of one segment: a fixed-capacity, `Copy` list of up to
/// 4 (`MAX_BLOCKS`), in the order they go on the wire (the first block is
/// the most recent, or a D-SACK).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SackBlocks {
    len: u8,
    blocks: [SackBlock; MAX_BLOCKS],
}

impl SackBlocks {
    /// No block: the segment has no SACK option.
    pub const EMPTY: SackBlocks = SackBlocks { len: 0, blocks: [SackBlock::new(SeqNum(0), SeqNum(0)); MAX_BLOCKS] };

    /// Adds a block at the end; returns false (and adds nothing) when full.
    pub fn push(&mut self, block: SackBlock) -> bool {
        let Some(slot) = self.blocks.get_mut(usize::from(self.len)) else { return false };
        *slot = block;
        self.len += 1;
        true
    }

    /// The blocks in wire order.
    pub fn as_slice(&self) -> &[SackBlock] {
        &self.blocks[..usize::from(self.len)]
    }

    /// How many blocks.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there is no block.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the first block is a D-SACK (RFC 2883 §4) on a segment
    /// acknowledging `ack`: it lies below `ack`, or within the second block.
    pub fn starts_with_dsack(&self, ack: SeqNum) -> bool {
        dsack_of(ack, self.as_slice()).is_some()
    }

    /// Option bytes on the wire as stacks send them: NOP, NOP, kind 5,
    /// length 2 + 8n, then the blocks, so 4 + 8n, a multiple of 4 (RFC
    /// 2018 §3, Linux `tcp_options_write`); none without blocks.
    pub fn option_bytes(&self) -> u32 {
        if self.is_empty() { 0 } else { 4 + 8 * u32::from(self.len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(left: u32, right: u32) -> SackBlock {
        SackBlock::new(SeqNum(left), SeqNum(right))
    }

    #[test]
    fn option_bytes_are_padded_to_words_and_fit_beside_timestamps() {
        let mut blocks = SackBlocks::EMPTY;
        assert_eq!(blocks.option_bytes(), 0);
        for (n, expected) in [(1, 12), (2, 20), (3, 28), (4, 36)] {
            assert!(blocks.push(b(n * 10, n * 10 + 5)));
            assert_eq!(blocks.option_bytes(), expected);
        }
        assert!(!blocks.push(b(100, 200)), "a fifth block does not fit");
        assert_eq!(blocks.len(), 4);
        // 40 option bytes: 4 blocks alone, 3 beside the 12 bytes of
        // timestamps (12 + 28 = 40; 12 + 36 would not fit).
        assert!(blocks.option_bytes() <= 40);
        assert!(super::super::segment::TS_OPTION_BYTES + 4 + 8 * MAX_BLOCKS_WITH_TIMESTAMPS as u32 <= 40);
        assert!(super::super::segment::TS_OPTION_BYTES + 4 + 8 * MAX_BLOCKS as u32 > 40);
    }

    #[test]
    fn block_length_and_containment_wrap() {
        let near_end = b(u32::MAX - 99, 100);
        assert_eq!(near_end.len(), 200);
        assert!(b(u32::MAX - 9, 10).within(near_end));
        assert!(!b(50, 150).within(near_end));
        assert_eq!(b(10, 10).len(), 0);
        assert_eq!(b(20, 10).len(), 0, "a reversed block is empty");
    }

    #[test]
    fn sack_blocks_stay_small_and_copy() {
        assert_eq!(std::mem::size_of::<SackBlocks>(), 36);
    }
}
