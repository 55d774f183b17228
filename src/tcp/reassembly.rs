//! Out-of-order text held until the gap before it fills (RFC 9293
//! §3.10.7.4 first step, SHLD-31; B-SEQ-05, B-DATA-03).
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

/// Boxed and absent while empty (almost always): 8 bytes in every
/// endpoint instead of a 24-byte `Vec`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reassembly {
    /// Sorted, disjoint, non-empty ranges.
    #[allow(clippy::box_collection)] // the box is the point: see above
    ranges: Option<Box<Vec<Range>>>,
}

impl Reassembly {
    pub fn is_empty(&self) -> bool {
        self.ranges.is_none()
    }

    pub fn clear(&mut self) {
        self.ranges = None;
    }

    /// Bytes held.
    pub fn held_bytes(&self) -> u32 {
        self.ranges.iter().flat_map(|v| v.iter()).map(|r| r.end.since(r.start)).sum()
    }

    /// Holds `[start, end)`, keeping any bytes already held.
    pub fn insert(&mut self, start: SeqNum, end: SeqNum, foreign: bool) {
        let ranges = self.ranges.get_or_insert_with(Default::default);
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
        if ranges.is_empty() {
            self.ranges = None;
        }
    }

    /// Takes the held bytes that start at or before `rcv_nxt` (trimming any
    /// part already received), as `(length, foreign)`.
    pub fn pop_ready(&mut self, rcv_nxt: SeqNum) -> Option<(u32, bool)> {
        let ranges = self.ranges.as_mut()?;
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
        if ranges.is_empty() {
            self.ranges = None;
        }
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
        assert!(r.is_empty());
    }

    #[test]
    fn ranges_already_passed_are_trimmed_or_dropped() {
        let mut r = Reassembly::default();
        r.insert(s(10), s(20), false);
        r.insert(s(30), s(40), false);
        assert_eq!(r.pop_ready(s(35)), Some((5, false)));
    }
}
