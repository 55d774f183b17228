//! The TCP segment as the endpoint sees it: the header fields RFC 9293 §3.1
//! gives meaning to, the options it models (MSS, RFC 9293 §3.7.1; Window
//! Scale and Timestamps, RFC 7323), and a tag naming the payload bytes.
//!
//! Options are small fixed fields, never a list: the segment is copied
//! through the world's packet slab on every hop.
//!
//! Payload bytes are synthetic: the byte at offset `o` of sending stream `s`
//! is a fixed function of `(s, o)` ([`payload_byte`]). A segment therefore
//! carries only a [`PayloadTag`], so memory holds connection state, not data,
//! and a receiver can still tell whether the bytes it delivers are the ones
//! its peer sent (an old incarnation's segment carries another stream).

use super::sack::{SACK_PERMITTED_BYTES, SACK_PERMITTED_BYTES_WITH_TIMESTAMPS, SackBlocks};
use super::seq::SeqNum;
use std::fmt;

/// Control bits, printed in the fixed order `SYN|FIN|RST|PSH|ACK`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Flags(u8);

impl Flags {
    /// No control bit; printed `-`.
    pub const NONE: Flags = Flags(0);
    /// No more data from the sender; occupies one sequence number.
    pub const FIN: Flags = Flags(0x01);
    /// Synchronize sequence numbers; occupies one sequence number.
    pub const SYN: Flags = Flags(0x02);
    /// Reset the connection.
    pub const RST: Flags = Flags(0x04);
    /// Push: the receiver should hand the data over promptly (RFC 9293
    /// §3.9.1.2).
    pub const PSH: Flags = Flags(0x08);
    /// The acknowledgment field is significant.
    pub const ACK: Flags = Flags(0x10);

    /// The order and names used in every trace (interface contract).
    const PRINT_ORDER: [(Flags, &'static str); 5] =
        [(Flags::SYN, "SYN"), (Flags::FIN, "FIN"), (Flags::RST, "RST"), (Flags::PSH, "PSH"), (Flags::ACK, "ACK")];

    /// The wire bits (RFC 9293 §3.1 header layout, low five bits).
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Builds flags from wire bits, keeping only the five modelled ones.
    pub const fn from_bits(bits: u8) -> Flags {
        Flags(bits & 0x1f)
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The bits of both; `|` in const context.
    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// Whether SYN is set.
    pub const fn syn(self) -> bool {
        self.contains(Flags::SYN)
    }
    /// Whether FIN is set.
    pub const fn fin(self) -> bool {
        self.contains(Flags::FIN)
    }
    /// Whether RST is set.
    pub const fn rst(self) -> bool {
        self.contains(Flags::RST)
    }
    /// Whether ACK is set.
    pub const fn ack(self) -> bool {
        self.contains(Flags::ACK)
    }
    /// Whether PSH is set.
    pub const fn psh(self) -> bool {
        self.contains(Flags::PSH)
    }

    /// Parses the trace spelling (`FIN|ACK`, `-`).
    pub fn parse(text: &str) -> Option<Flags> {
        if text == "-" {
            return Some(Flags::NONE);
        }
        let mut flags = Flags::NONE;
        for part in text.split('|') {
            let (flag, _) = Flags::PRINT_ORDER.iter().find(|(_, n)| *n == part)?;
            if flags.contains(*flag) {
                return None;
            }
            flags = flags.union(*flag);
        }
        Some(flags)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        self.union(rhs)
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("-");
        }
        let mut first = true;
        for (flag, name) in Flags::PRINT_ORDER {
            if self.contains(flag) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

/// Names the payload: which sending stream it comes from and the stream
/// offset of its first byte. `stream` is assigned by whoever creates the
/// endpoint; offsets count from the first byte after the SYN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct PayloadTag {
    /// The sending stream the bytes belong to.
    pub stream: u32,
    /// Stream offset of the first byte, in bytes.
    pub offset: u32,
}

/// One segment. `len` counts payload bytes only; [`Segment::seg_len`] adds
/// SYN and FIN as RFC 9293 §3.4 does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Segment {
    /// SEG.SEQ: the first sequence number the segment occupies.
    pub seq: SeqNum,
    /// Meaningful only when the ACK flag is set; 0 otherwise.
    pub ack: SeqNum,
    /// The control bits.
    pub flags: Flags,
    /// The 16-bit window field as sent; [`Segment::wnd_scaled`] gives the
    /// window it stands for.
    pub wnd: u16,
    /// Payload bytes (SEG.LEN without SYN and FIN).
    pub len: u32,
    /// The MSS option, sent on SYN and SYN,ACK (RFC 9293 §3.7.1); 0 = absent.
    pub mss: u16,
    /// Window Scale, Timestamps (RFC 7323) and SACK-permitted (RFC 2018),
    /// and the shift the sender applied to `wnd`, packed in 10 bytes.
    pub opts: Options,
    /// The SACK option's blocks (RFC 2018 §3), in wire order; empty when
    /// the segment has no SACK option. Inline, so a segment stays `Copy`
    /// and is never a pointer chase on the packet path.
    pub sack: SackBlocks,
    /// Names the payload bytes (see [`PayloadTag`]).
    pub payload: PayloadTag,
    /// Metadata, not a header field: the sender is retransmitting.
    pub retransmit: bool,
}

/// The RFC 7323 options of a segment, packed so a segment stays 36 bytes
/// (it is copied through the world's packet slab on every hop): the
/// timestamps as four 16-bit halves (2-byte alignment, no padding), the
/// Window Scale shift as sent, and presence bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Options {
    ts: [u16; 4],
    ws: u8,
    /// `HAS_WS`, `HAS_TS`, `SCALED`, `SACK_PERMITTED`, and the window
    /// shift in the high nibble.
    bits: u8,
}

impl Options {
    /// No option, and an unscaled window.
    pub const NONE: Options = Options { ts: [0; 4], ws: 0, bits: 0 };
    const HAS_WS: u8 = 1;
    const HAS_TS: u8 = 2;
    const SCALED: u8 = 4;
    const SACK_PERMITTED: u8 = 8;

    /// The Window Scale option's shift as sent (RFC 7323 §2.2), on SYN and
    /// SYN,ACK only; a value above 14 is read as 14 by the receiver.
    pub const fn ws(self) -> Option<u8> {
        if self.bits & Options::HAS_WS != 0 { Some(self.ws) } else { None }
    }

    /// The Timestamps option (RFC 7323 §3.2).
    pub const fn ts(self) -> Option<Timestamps> {
        if self.bits & Options::HAS_TS == 0 {
            return None;
        }
        let [a, b, c, d] = self.ts;
        Some(Timestamps { tsval: (a as u32) << 16 | b as u32, tsecr: (c as u32) << 16 | d as u32 })
    }

    /// The SACK-permitted option (RFC 2018 §2), on SYN and SYN,ACK only.
    pub const fn sack_permitted(self) -> bool {
        self.bits & Options::SACK_PERMITTED != 0
    }

    /// These options with SACK-permitted set or removed.
    pub const fn with_sack_permitted(mut self, on: bool) -> Options {
        if on {
            self.bits |= Options::SACK_PERMITTED;
        } else {
            self.bits &= !Options::SACK_PERMITTED;
        }
        self
    }

    /// Metadata, not an option: the shift the sender applied to `wnd`
    /// (RFC 7323 §2.3) when it scales its windows.
    pub const fn wnd_shift(self) -> Option<u8> {
        if self.bits & Options::SCALED != 0 { Some(self.bits >> 4) } else { None }
    }

    /// These options with the Window Scale option set to `ws`, or removed.
    pub const fn with_ws(mut self, ws: Option<u8>) -> Options {
        match ws {
            Some(shift) => {
                self.ws = shift;
                self.bits |= Options::HAS_WS;
            }
            None => {
                self.ws = 0;
                self.bits &= !Options::HAS_WS;
            }
        }
        self
    }

    /// These options with the Timestamps option set to `ts`, or removed.
    pub const fn with_ts(mut self, ts: Option<Timestamps>) -> Options {
        match ts {
            Some(t) => {
                self.ts = [(t.tsval >> 16) as u16, t.tsval as u16, (t.tsecr >> 16) as u16, t.tsecr as u16];
                self.bits |= Options::HAS_TS;
            }
            None => {
                self.ts = [0; 4];
                self.bits &= !Options::HAS_TS;
            }
        }
        self
    }

    /// `shift` is at most 14 (RFC 7323 §2.3).
    pub const fn with_wnd_shift(mut self, shift: Option<u8>) -> Options {
        self.bits &= 0x0f & !Options::SCALED;
        if let Some(shift) = shift {
            self.bits |= Options::SCALED | (shift & 0x0f) << 4;
        }
        self
    }
}

/// The Timestamps option's two fields (RFC 7323 §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Timestamps {
    /// The sender's timestamp clock when it sent the segment (§3.2).
    pub tsval: u32,
    /// Meaningful only when the ACK flag is set (§3.2).
    pub tsecr: u32,
}

/// Bytes each option takes on the wire, with the NOP padding that keeps
/// the next option aligned the way stacks send them: MSS (kind 2) 4,
/// NOP + Window Scale (kind 3) 4, NOP NOP + Timestamps (kind 8) 12.
pub const MSS_OPTION_BYTES: u32 = 4;
/// NOP + Window Scale (kind 3, RFC 7323 §2.2): 4 bytes.
pub const WS_OPTION_BYTES: u32 = 4;
/// NOP NOP + Timestamps (kind 8, RFC 7323 §3.2): 12 bytes.
pub const TS_OPTION_BYTES: u32 = 12;

/// RFC 7323 §2.3: the largest shift; a larger one is read as this.
pub const MAX_WINDOW_SHIFT: u8 = 14;

impl Segment {
    /// SEG.LEN of RFC 9293 §3.4: payload plus one each for SYN and FIN.
    pub const fn seg_len(&self) -> u32 {
        self.len + self.flags.syn() as u32 + self.flags.fin() as u32
    }

    /// The sequence number just past this segment.
    pub const fn end(&self) -> SeqNum {
        self.seq.add(self.seg_len())
    }

    /// Bytes of TCP options on the wire (a multiple of 4): SACK-permitted
    /// takes 4 alone and nothing beside timestamps (it fills their
    /// padding), the SACK option 4 + 8 per block.
    pub fn option_bytes(&self) -> u32 {
        let has_ts = self.opts.bits & Options::HAS_TS != 0;
        let sack_permitted = match (self.opts.sack_permitted(), has_ts) {
            (false, _) => 0,
            (true, false) => SACK_PERMITTED_BYTES,
            (true, true) => SACK_PERMITTED_BYTES_WITH_TIMESTAMPS,
        };
        (if self.mss != 0 { MSS_OPTION_BYTES } else { 0 })
            + (if self.opts.bits & Options::HAS_WS != 0 { WS_OPTION_BYTES } else { 0 })
            + (if has_ts { TS_OPTION_BYTES } else { 0 })
            + sack_permitted
            + self.sack.option_bytes()
    }

    /// Whether the segment carries SACK-permitted (RFC 2018 §2).
    pub const fn sack_permitted(&self) -> bool {
        self.opts.sack_permitted()
    }

    /// The Window Scale option; see [`Options::ws`].
    pub const fn ws(&self) -> Option<u8> {
        self.opts.ws()
    }

    /// The Timestamps option; see [`Options::ts`].
    pub const fn ts(&self) -> Option<Timestamps> {
        self.opts.ts()
    }

    /// The shift the sender applied to `wnd`; see [`Options::wnd_shift`].
    pub const fn wnd_shift(&self) -> Option<u8> {
        self.opts.wnd_shift()
    }

    /// The window the sender meant: `wnd` shifted by the scale it applied
    /// (RFC 7323 §2.3).
    pub const fn wnd_scaled(&self) -> u32 {
        match self.opts.wnd_shift() {
            Some(shift) => (self.wnd as u32) << shift,
            None => self.wnd as u32,
        }
    }

    /// `<SEQ=seq><CTL=RST>`.
    pub const fn rst(seq: SeqNum) -> Segment {
        Segment {
            seq,
            ack: SeqNum(0),
            flags: Flags::RST,
            wnd: 0,
            len: 0,
            mss: 0,
            opts: Options::NONE,
            sack: SackBlocks::EMPTY,
            payload: PayloadTag { stream: 0, offset: 0 },
            retransmit: false,
        }
    }

    /// The reset that answers an offending segment when no connection
    /// exists (RFC 9293 §3.10.7.1): `<SEQ=SEG.ACK><CTL=RST>` if it had ACK,
    /// else `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`. A reset is never
    /// answered (`None`).
    pub fn reset_reply(offending: &Segment) -> Option<Segment> {
        if offending.flags.rst() {
            return None;
        }
        if offending.flags.ack() {
            Some(Segment::rst(offending.ack))
        } else {
            let mut rst = Segment::rst(SeqNum(0));
            rst.flags = Flags::RST | Flags::ACK;
            rst.ack = offending.end();
            Some(rst)
        }
    }
}

/// The synthetic content of byte `offset` of stream `stream`: lines of 63
/// lowercase letters, varying with both arguments, so captures are
/// readable.
///
/// The line feeds matter to Wireshark: it hands port 80 to its HTTP
/// dissector, which waits for the end of a header line; a stream with no
/// line feed is reassembled as one endless message, and every
/// retransmission overlapping it is flagged as malformed ("new fragment
/// overlaps old data") although the bytes agree.
pub fn payload_byte(stream: u32, offset: u32) -> u8 {
    if offset % 64 == 63 {
        return b'\n';
    }
    let mixed = offset.wrapping_mul(31).wrapping_add(stream.wrapping_mul(7));
    b'a' + (mixed % 26) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_print_in_the_fixed_order() {
        assert_eq!((Flags::ACK | Flags::FIN).to_string(), "FIN|ACK");
        assert_eq!((Flags::ACK | Flags::SYN).to_string(), "SYN|ACK");
        assert_eq!((Flags::ACK | Flags::PSH | Flags::FIN).to_string(), "FIN|PSH|ACK");
        assert_eq!(Flags::NONE.to_string(), "-");
    }

    #[test]
    fn flags_parse_what_they_print() {
        for bits in 0..32 {
            let flags = Flags::from_bits(bits);
            assert_eq!(Flags::parse(&flags.to_string()), Some(flags));
        }
        assert_eq!(Flags::parse("ACK|ACK"), None);
        assert_eq!(Flags::parse("URG"), None);
    }

    /// B-WS-01, B-TS-02: the packed options give back what was put in.
    /// A segment is 72 bytes: 36 of header fields and options, and 36 of
    /// SACK blocks (up to 4, inline so the segment stays `Copy`).
    #[test]
    fn options_pack_into_ten_bytes() {
        let ts = Timestamps { tsval: 0xfedc_ba98, tsecr: 0x0123_4567 };
        let opts = Options::NONE.with_ws(Some(15)).with_ts(Some(ts)).with_wnd_shift(Some(14));
        assert_eq!((opts.ws(), opts.ts(), opts.wnd_shift()), (Some(15), Some(ts), Some(14)));
        let opts = opts.with_sack_permitted(true);
        assert!(opts.sack_permitted() && opts.wnd_shift() == Some(14));
        let opts = opts.with_ws(None).with_ts(None).with_wnd_shift(None).with_sack_permitted(false);
        assert_eq!(opts, Options::NONE);
        assert_eq!(std::mem::size_of::<Options>(), 10);
        assert_eq!(std::mem::size_of::<Segment>(), 72);
    }

    /// B-CLOSED-01, B-CLOSED-02, B-CLOSED-03: the shape of a reset sent
    /// where no connection exists.
    #[test]
    fn reset_reply_follows_the_ack_bit() {
        let mut syn = Segment { seq: SeqNum(100), flags: Flags::SYN, ..Segment::default() };
        let rst = Segment::reset_reply(&syn).unwrap();
        assert_eq!(rst.flags, Flags::RST | Flags::ACK);
        assert_eq!((rst.seq, rst.ack), (SeqNum(0), SeqNum(101)));

        syn.flags = Flags::ACK;
        syn.ack = SeqNum(7);
        let rst = Segment::reset_reply(&syn).unwrap();
        assert_eq!((rst.flags, rst.seq), (Flags::RST, SeqNum(7)));

        syn.flags = Flags::RST;
        assert_eq!(Segment::reset_reply(&syn), None);
    }
}
