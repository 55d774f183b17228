//! Sequence numbers modulo 2^32 (RFC 9293 §3.4).
//!
//! Comparisons use wrapping arithmetic: `a < b` iff `b - a`, taken modulo
//! 2^32, is in `1..2^31`. This is only meaningful for numbers less than 2^31
//! apart, which the window limit (≤ 65535) guarantees.

use std::fmt;

/// A sequence number (SEG.SEQ, SND.UNA, ...). It deliberately has no
/// `Ord`: compare with [`SeqNum::lt`] and [`SeqNum::le`], which wrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// `n` octets later, wrapping modulo 2^32.
    pub const fn add(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }

    /// `n` octets earlier, wrapping modulo 2^32.
    pub const fn sub(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(n))
    }

    /// `self - earlier` as a distance; callers ensure `earlier <= self`.
    pub const fn since(self, earlier: SeqNum) -> u32 {
        self.0.wrapping_sub(earlier.0)
    }

    /// `self < other` modulo 2^32: `other - self` is in `1..=2^31`.
    pub const fn lt(self, other: SeqNum) -> bool {
        (self.0.wrapping_sub(other.0) as i32) < 0
    }

    /// `self <= other` modulo 2^32: `other - self` is in `0..=2^31`.
    pub const fn le(self, other: SeqNum) -> bool {
        (self.0.wrapping_sub(other.0) as i32) <= 0
    }

    /// The later of the two, in wrapping order.
    pub const fn max(self, other: SeqNum) -> SeqNum {
        if self.lt(other) { other } else { self }
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_wraps_around_zero() {
        let near_end = SeqNum(u32::MAX - 5);
        let after_wrap = near_end.add(10);
        assert_eq!(after_wrap, SeqNum(4));
        assert!(near_end.lt(after_wrap));
        assert!(!after_wrap.lt(near_end));
        assert!(after_wrap.le(after_wrap));
        assert_eq!(after_wrap.since(near_end), 10);
        assert_eq!(near_end.max(after_wrap), after_wrap);
    }
}
