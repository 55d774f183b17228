//! What the receive side holds besides RCV.NXT: out-of-order text and a
//! FIN beyond a gap, held until the gap fills (RFC 9293 §3.10.7.4 first
//! step, SHLD-31; B-SEQ-05, B-DATA-03), and delivered bytes the
//! application has not read yet (it paused reading; they shrink RCV.WND).
//!
//! Only sequence ranges are kept, never bytes: payload is synthetic (see
//! `segment`). Each range remembers whether its bytes were foreign, so
//! delivery can still report them. The first copy of a byte wins, as in a
//! real reassembly queue.

use super::seq::SeqNum;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Range {
    start: SeqNum,
    end: SeqNum,
    foreign: bool,
}

/// Boxed and absent while empty (almost always: it takes loss, reordering
/// or a paused reader to fill it), so every endpoint carries 8 bytes for
/// it instead of 40.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reassembly {
    held: Option<Box<Held>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Held {
    /// Sorted, disjoint, non-empty ranges.
    ranges: Vec<Range>,
    /// Sequence number of a FIN that arrived ahead of a gap.
    fin: Option<SeqNum>,
    /// Delivered bytes the application has not read, and how many of them
    /// were foreign.
    unread: u32,
    unread_foreign: u32,
}

impl Reassembly {
    /// Whether text or a FIN waits for a gap to fill.
    pub fn has_out_of_order(&self) -> bool {
        self.held.as_ref().is_some_and(|h| !h.ranges.is_empty() || h.fin.is_some())
    }

    /// Whether a FIN waits for a gap before it to fill.
    pub fn has_fin(&self) -> bool {
        self.held.as_ref().is_some_and(|h| h.fin.is_some())
    }

    /// Forgets held text, a held FIN and unread bytes.
    pub fn clear(&mut self) {
        self.held = None;
    }

    /// Bytes held out of order.
    pub fn held_bytes(&self) -> u32 {
        self.held.iter().flat_map(|h| h.ranges.iter()).map(|r| r.end.since(r.start)).sum()
    }

    /// The held out-of-order ranges, lowest first, as `[start, end)`.
    /// Neighbours may touch: bytes of different origin are kept apart.
    pub fn ranges(&self) -> impl Iterator<Item = (SeqNum, SeqNum)> + Clone + '_ {
        self.held.iter().flat_map(|h| h.ranges.iter()).map(|r| (r.start, r.end))
    }

    /// [`Reassembly::ranges`] as SACK blocks report them: a held FIN is
    /// one more range, `[FIN, FIN + 1)`, above the others (the FIN
    /// occupies a sequence number the sender counts, and Linux's blocks
    /// include it), so a bare FIN beyond a gap is reported (RFC 2018 §4)
    /// and one right after the top range joins it, leaving the sender no
    /// 1-octet hole at its HighData.
    pub fn sack_ranges(&self) -> impl Iterator<Item = (SeqNum, SeqNum)> + Clone + '_ {
        let fin = self.held.as_ref().and_then(|h| h.fin);
        self.ranges().chain(fin.map(|seq| (seq, seq.add(1))))
    }

    /// Delivered bytes not read yet, and the foreign ones among them.
    pub fn unread(&self) -> (u32, u32) {
        self.held.as_ref().map_or((0, 0), |h| (h.unread, h.unread_foreign))
    }

    /// Records `len` delivered bytes the paused application has not read,
    /// `foreign` of them foreign.
    pub fn add_unread(&mut self, len: u32, foreign: u32) {
        let held = self.held_mut();
        held.unread += len;
        held.unread_foreign += foreign;
        self.drop_if_empty();
    }

    /// Takes the unread bytes: the application read them.
    pub fn take_unread(&mut self) -> (u32, u32) {
        let unread = self.unread();
        if let Some(h) = &mut self.held {
            (h.unread, h.unread_foreign) = (0, 0);
        }
        self.drop_if_empty();
        unread
    }

    /// Holds a FIN beyond a gap.
    pub fn hold_fin(&mut self, seq: SeqNum) {
        self.held_mut().fin = Some(seq);
    }

    /// Takes the held FIN if it sits at `rcv_nxt`.
    pub fn take_fin_at(&mut self, rcv_nxt: SeqNum) -> bool {
        let Some(h) = &mut self.held else { return false };
        if h.fin != Some(rcv_nxt) {
            return false;
        }
        h.fin = None;
        self.drop_if_empty();
        true
    }

    fn held_mut(&mut self) -> &mut Held {
        self.held.get_or_insert_with(Default::default)
    }

    /// Frees the box once nothing is held.
    fn drop_if_empty(&mut self) {
        if self.held.as_deref().is_some_and(|h| *h == Held::default()) {
            self.held = None;
        }
    }

    /// Holds `[start, end)`, keeping any bytes already held.
    pub fn insert(&mut self, start: SeqNum, end: SeqNum, foreign: bool) {
        let ranges = &mut self.held_mut().ranges;
        let mut cursor = start;
        let mut i = 0;
        while cursor.lt(end) {
            // Skip ranges entirely before the cursor.
            while i < ranges.len() && ranges[i].end.le(cursor) {
                i += 1;
            }
            let piece_end = match ranges.get(i) {
                Some(next) if next.start.le(cursor) => {
                    // The cursor sits inside a held range: jump past it.
                    cursor = next.end;
                    i += 1;
                    continue;
                }
                Some(next) if next.start.lt(end) => next.start,
                _ => end,
            };
            ranges.insert(i, Range { start: cursor, end: piece_end, foreign });
            i += 1;
            cursor = piece_end;
        }
        merge_adjacent(ranges);
        self.drop_if_empty();
    }

    /// Takes the held bytes that start at or before `rcv_nxt` (trimming any
    /// part already received), as `(length, foreign)`.
    pub fn pop_ready(&mut self, rcv_nxt: SeqNum) -> Option<(u32, bool)> {
        let ranges = &mut self.held.as_mut()?.ranges;
        let mut ready = None;
        while let Some(&first) = ranges.first() {
            if rcv_nxt.lt(first.start) {
                break;
            }
            ranges.remove(0);
            if first.end.le(rcv_nxt) {
                continue; // wholly old: drop it
            }
            ready = Some((first.end.since(rcv_nxt), first.foreign));
            break;
        }
        self.drop_if_empty();
        ready
    }
}

fn merge_adjacent(ranges: &mut Vec<Range>) {
    let mut out: Vec<Range> = Vec::with_capacity(ranges.len());
    for r in ranges.drain(..) {
        match out.last_mut() {
            Some(last) if last.end == r.start && last.foreign == r.foreign => last.end = r.end,
            _ => out.push(r),
        }
    }
    *ranges = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u32) -> SeqNum {
        SeqNum(n)
    }

    #[test]
    fn overlapping_inserts_keep_the_first_copy() {
        let mut r = Reassembly::default();
        r.insert(s(10), s(20), false);
        r.insert(s(15), s(30), true);
        r.insert(s(5), s(12), false);
        assert_eq!(r.held_bytes(), 25);
        assert_eq!(r.pop_ready(s(4)), None);
        assert_eq!(r.pop_ready(s(5)), Some((15, false)));
        assert_eq!(r.pop_ready(s(20)), Some((10, true)));
        assert_eq!(r, Reassembly::default(), "the box is freed once empty");
    }

    #[test]
    fn ranges_already_passed_are_trimmed_or_dropped() {
        let mut r = Reassembly::default();
        r.insert(s(10), s(20), false);
        r.insert(s(30), s(40), false);
        assert_eq!(r.pop_ready(s(35)), Some((5, false)));
    }

    #[test]
    fn unread_bytes_and_a_held_fin_share_the_box() {
        let mut r = Reassembly::default();
        r.add_unread(100, 10);
        r.hold_fin(s(50));
        assert!(r.has_out_of_order());
        assert_eq!(r.take_unread(), (100, 10));
        assert!(!r.take_fin_at(s(49)));
        assert!(r.take_fin_at(s(50)));
        assert_eq!(r, Reassembly::default());
    }
}
