//! The run digest: XXH3-128 (xxhash-rust 0.8) over a canonical binary
//! encoding of every trace event.
//!
//! The encoding is fixed and independent of any output format. Every
//! event has a *context*: the time in ns, the connection (`conn` as the
//! trace shows it: for `send`, `deliver` and `drop` the send's connection;
//! for other records of an idle listening endpoint its listener's number),
//! the endpoint's `ep` (`u32::MAX` for a host) and the endpoint (as the
//! XXH3-64 of its name). A context record (byte 0, then those four fields)
//! goes in before an event whose context differs from the previous
//! event's, and the event itself is its kind byte (1..=12) and the kind's
//! fields (states; for segments flags, seq, ack, len, wnd, `pkt` and
//! `copy`; timer, call, ...), all little-endian. The records of one
//! step usually share their context (a large run has about 6.9 records a
//! step), so most records are the kind's fields alone. A segment with an
//! option beyond the MSS (Window Scale, Timestamps, SACK-permitted, SACK
//! blocks), a window shift, or a receiver's `discard` adds them after
//! `copy`, led by a byte that says which are present; one without them,
//! as in every run before RFC 7323, ends at `copy`. Free text (`cause`, drop `reason`) and the behaviour ID
//! are left out, so the same run shows the same digest in text and JSONL,
//! and better wording never changes it. `DIGEST_VERSION` changes only when
//! this encoding does.
//!
//! Versions: 2 had no `ep`, `pkt` or `copy`, and recorded a delivery to a
//! listening endpoint under the listener's number; 3 added them and
//! recorded every delivery and drop under its send's connection; 4
//! (current) writes the context (time, connection, `ep`, name) only when it
//! changes, instead of in every record: runs that had equal digests
//! still do, and the bytes hashed are about half.

use super::{Discard, PacketId, TraceEvent, TraceKind};
use crate::tcp::{AppEvent, Options, Segment};
use crate::time::Instant;
use xxhash_rust::xxh3::Xxh3;

/// Version of the canonical encoding.
pub const DIGEST_VERSION: u32 = 4;

/// The byte that opens a context record; event kinds are 1..=12.
const CONTEXT: u8 = 0;

/// Bytes buffered before they are fed to the hasher: one call per few
/// hundred events instead of one per event. The hash of a stream does not
/// depend on how it is cut into updates.
const BUFFER: usize = 8192;

/// The run digest: XXH3-128 over a canonical encoding of every trace event, so
/// two runs with the same digest produced the same events.
#[derive(Clone)]
pub struct Digest {
    hasher: Xxh3,
    buf: Vec<u8>,
    /// Recently hashed names: (address, length, hash).
    names: [(usize, usize, u64); 8],
    /// The last event's context: time, connection, `ep`, name hash.
    context: Option<(u64, u32, u32, u64)>,
    /// The last event's time, connection, `ep` and name (address and
    /// length): an event that repeats them has the same context, known
    /// without hashing its name.
    last: (u64, u32, u32, usize, usize),
}

impl Default for Digest {
    fn default() -> Digest {
        Digest::new()
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Digest({})", self.hex())
    }
}

impl Digest {
    /// The digest of no events.
    pub fn new() -> Digest {
        Digest {
            hasher: Xxh3::new(),
            buf: Vec::with_capacity(BUFFER + RECORD_MAX),
            names: [(0, 0, 0); 8],
            context: None,
            last: (0, 0, 0, 0, 0),
        }
    }

    /// XXH3-64 of an endpoint name. A run names the same few strings over
    /// and over (the world interns them, and they live as long as it), so
    /// a small cache keyed by the string's address saves hashing its bytes
    /// each time; the cache only ever returns the hash of those bytes.
    fn name_hash(&mut self, name: &str) -> u64 {
        let addr = name.as_ptr() as usize;
        let slot = &mut self.names[(addr >> 3) & 7];
        if slot.0 != addr || slot.1 != name.len() {
            *slot = (addr, name.len(), xxhash_rust::xxh3::xxh3_64(name.as_bytes()));
        }
        slot.2
    }

    /// Adds one event.
    pub fn add(&mut self, e: &TraceEvent<'_>) {
        self.add_record(e.t, e.conn, e.ep, e.endpoint, &e.kind, e.pkt);
    }

    /// Adds one event given by the fields the digest covers (those of a
    /// [`TraceEvent`]), for a caller that has not built one: the same
    /// bytes as [`Digest::add`] of the event they make.
    pub fn add_record(
        &mut self,
        t: Instant,
        conn: u32,
        ep: u32,
        endpoint: &str,
        kind: &TraceKind,
        pkt: Option<PacketId>,
    ) {
        // A caller's name may live no longer than the call, and its memory
        // may hold another name at the next: nothing is remembered by
        // address across calls here.
        self.names = [(0, 0, 0); 8];
        self.last.3 = 0;
        self.add_interned(t, conn, ep, endpoint, kind, pkt);
    }

    /// [`Digest::add`] for the world, whose endpoint names are interned
    /// and live as long as the digest: a name's hash, and whether the
    /// context changed, are known from its address without reading it.
    pub(crate) fn add_event_interned(&mut self, e: &TraceEvent<'_>) {
        self.add_interned(e.t, e.conn, e.ep, e.endpoint, &e.kind, e.pkt);
    }

    /// [`Digest::add_record`] for names that stay alive, unchanged, for
    /// the life of the digest ([`Digest::add_event_interned`]).
    pub(crate) fn add_interned(
        &mut self,
        t: Instant,
        conn: u32,
        ep: u32,
        endpoint: &str,
        kind: &TraceKind,
        pkt: Option<PacketId>,
    ) {
        // Measurement records are never part of the digest, so asking for
        // them cannot change it.
        if kind.is_measurement() {
            return;
        }
        if self.buf.len() >= BUFFER {
            self.hasher.update(&self.buf);
            self.buf.clear();
        }
        // The buffer always has room for the longest record (it is
        // hashed once it holds `BUFFER` bytes), so writing never grows it.
        let last = (t.as_nanos(), conn, ep, endpoint.as_ptr() as usize, endpoint.len());
        if self.context.is_none() || last != self.last {
            self.last = last;
            let context = (last.0, last.1, last.2, self.name_hash(endpoint));
            if self.context != Some(context) {
                self.context = Some(context);
                let mut r = [CONTEXT; 25];
                r[1..9].copy_from_slice(&context.0.to_le_bytes());
                r[9..13].copy_from_slice(&context.1.to_le_bytes());
                r[13..17].copy_from_slice(&context.2.to_le_bytes());
                r[17..25].copy_from_slice(&context.3.to_le_bytes());
                self.buf.extend_from_slice(&r);
            }
        }
        // Each record is built at fixed offsets in an array of its size
        // and appended in one copy.
        let code = kind_code(kind);
        let buf = &mut self.buf;
        match *kind {
            TraceKind::Transition { from, to, reason, .. } => {
                buf.extend_from_slice(&[code, from as u8, to as u8, reason.map_or(0xff, |r| r as u8)]);
            }
            TraceKind::Send { ref seg, .. } | TraceKind::Drop { ref seg, .. } => {
                encode_segment(buf, code, pkt, seg, None)
            }
            TraceKind::Deliver { ref seg, discard } => encode_segment(buf, code, pkt, seg, discard),
            TraceKind::Timer { timer, action, deadline } => {
                let mut r = [code, timer as u8, action as u8, 0, 0, 0, 0, 0, 0, 0, 0];
                r[3..11].copy_from_slice(&deadline.as_nanos().to_le_bytes());
                buf.extend_from_slice(&r);
            }
            TraceKind::App { call, bytes, error } => {
                let mut r = [code, call as u8, 0, 0, 0, 0, 0, 0, 0, 0, error.map_or(0xff, |e| e as u8)];
                r[2..10].copy_from_slice(&bytes.to_le_bytes());
                buf.extend_from_slice(&r);
            }
            TraceKind::Event(ev) => {
                let w = &mut Writer(buf);
                w.u8(code);
                w.u8(event_code(ev));
                if let AppEvent::Data { bytes, foreign } = ev {
                    w.u32(bytes);
                    w.u32(foreign);
                }
                if let AppEvent::Closed(r) = ev {
                    w.u8(r as u8);
                }
            }
            // RFC 6675 pipe stays out: it follows from the segments; so
            // does CUBIC's W_max, K and region, which follow from cwnd's
            // history (and keep the digest of every run before them).
            TraceKind::Congestion { cwnd, ssthresh, pipe: _, cubic: _, flight: _ } => {
                let mut r = [code, 0, 0, 0, 0, 0, 0, 0, 0];
                r[1..5].copy_from_slice(&cwnd.to_le_bytes());
                r[5..9].copy_from_slice(&ssthresh.to_le_bytes());
                buf.extend_from_slice(&r);
            }
            TraceKind::Host { up, endpoints_lost } => {
                let w = &mut Writer(buf);
                w.u8(code);
                w.u8(up as u8);
                w.u32(endpoints_lost);
            }
            // RTTVAR stays out: it was added after the digest was pinned.
            TraceKind::Rtt { sample, source, srtt, rto, .. } => {
                let w = &mut Writer(buf);
                w.u8(code);
                w.u64(sample.as_nanos());
                w.u8(source as u8);
                w.u64(srtt.as_nanos());
                w.u64(rto.as_nanos());
            }
            // Measurement records: returned from above.
            TraceKind::Flight { .. } | TraceKind::Queue { .. } => {}
        }
    }

    /// The digest so far, as 32 lowercase hex digits.
    pub fn hex(&self) -> String {
        let mut hasher = self.hasher.clone();
        hasher.update(&self.buf);
        format!("{:032x}", hasher.digest128())
    }
}

fn kind_code(k: &TraceKind) -> u8 {
    match k {
        TraceKind::Transition { .. } => 1,
        TraceKind::Send { .. } => 2,
        TraceKind::Deliver { .. } => 3,
        TraceKind::Drop { .. } => 4,
        TraceKind::Timer { .. } => 5,
        TraceKind::App { .. } => 6,
        TraceKind::Event(_) => 7,
        TraceKind::Congestion { .. } => 8,
        TraceKind::Host { .. } => 9,
        TraceKind::Rtt { .. } => 10,
        TraceKind::Flight { .. } => 11,
        TraceKind::Queue { .. } => 12,
    }
}

fn event_code(e: AppEvent) -> u8 {
    match e {
        AppEvent::Connected => 1,
        AppEvent::Data { .. } => 2,
        AppEvent::PeerClosed => 3,
        AppEvent::RetransmitWarning => 4,
        AppEvent::Closed(_) => 5,
    }
}

/// The header fields, `pkt` and `copy`, then the options only when the
/// segment has one beyond the MSS (or a window shift, or the receiver
/// discarded it): a run without them, as every run before RFC 7323, keeps
/// its records byte for byte.
fn encode_segment(buf: &mut Vec<u8>, code: u8, pkt: Option<PacketId>, s: &Segment, discard: Option<Discard>) {
    let id = pkt.unwrap_or_default();
    let mut r = [0u8; 25];
    r[0] = code;
    r[1] = s.flags.bits();
    r[2..6].copy_from_slice(&s.seq.0.to_le_bytes());
    r[6..10].copy_from_slice(&s.ack.0.to_le_bytes());
    r[10..14].copy_from_slice(&s.len.to_le_bytes());
    r[14..16].copy_from_slice(&s.wnd.to_le_bytes());
    r[16..24].copy_from_slice(&id.pkt.to_le_bytes());
    r[24] = id.copy;
    buf.extend_from_slice(&r);
    if s.opts == Options::NONE && s.sack.is_empty() && discard.is_none() {
        return;
    }
    encode_options(&mut Writer(buf), s, discard);
}

/// Bits of the byte that opens a segment's options. `OPTIONS` is always
/// set, so the byte is never a kind code (1..=10) and a record with
/// options cannot read as one without them followed by another record.
mod opt {
    pub const OPTIONS: u8 = 0x80;
    pub const WS: u8 = 0x01;
    pub const TS: u8 = 0x02;
    pub const WND_SHIFT: u8 = 0x04;
    pub const SACK_PERMITTED: u8 = 0x08;
    pub const DISCARD: u8 = 0x10;
}

/// The presence byte, the MSS, then each option present in a fixed order,
/// and the SACK blocks after their count.
fn encode_options(w: &mut Writer<'_>, s: &Segment, discard: Option<Discard>) {
    let (ws, ts, shift) = (s.ws(), s.ts(), s.wnd_shift());
    let mut present = opt::OPTIONS;
    for (on, bit) in [
        (ws.is_some(), opt::WS),
        (ts.is_some(), opt::TS),
        (shift.is_some(), opt::WND_SHIFT),
        (s.sack_permitted(), opt::SACK_PERMITTED),
        (discard.is_some(), opt::DISCARD),
    ] {
        if on {
            present |= bit;
        }
    }
    w.u8(present);
    w.u16(s.mss);
    if let Some(ws) = ws {
        w.u8(ws);
    }
    if let Some(t) = ts {
        w.u32(t.tsval);
        w.u32(t.tsecr);
    }
    if let Some(shift) = shift {
        w.u8(shift);
    }
    if let Some(d) = discard {
        w.u8(d as u8);
    }
    let blocks = s.sack.as_slice();
    w.u8(blocks.len() as u8);
    for b in blocks {
        w.u32(b.left.0);
        w.u32(b.right.0);
    }
}

/// The longest record: a context (25 bytes), then a segment's (1 + 24
/// bytes) with its options (1 + 2 + 1 + 8 + 1 + 1 + 1 + 4 * 8).
const RECORD_MAX: usize = 97;

/// A little-endian writer appending to the digest's buffer.
struct Writer<'a>(&'a mut Vec<u8>);

impl Writer<'_> {
    fn u8(&mut self, x: u8) {
        self.0.push(x);
    }
    fn u16(&mut self, x: u16) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn u32(&mut self, x: u32) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn u64(&mut self, x: u64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::{Flags, Options, SackBlock, SackBlocks, SeqNum, Timestamps};
    use crate::time::Instant;
    use crate::trace::{Discard, PacketId};

    fn send(seg: Segment) -> TraceKind {
        TraceKind::Send { seg, injected: false }
    }

    fn digest_of(kind: TraceKind) -> String {
        let e = TraceEvent {
            t: Instant::from_nanos(7),
            conn: 1,
            ep: 2,
            endpoint: "a",
            kind,
            route: None,
            pkt: Some(PacketId { pkt: 3, copy: 0 }),
            lost_eps: &[],
        };
        let mut d = Digest::new();
        d.add(&e);
        d.hex()
    }

    const SYN: Segment = Segment {
        seq: SeqNum(100),
        ack: SeqNum(0),
        flags: Flags::SYN,
        wnd: 65535,
        len: 0,
        mss: 1460,
        ..Segment::rst(SeqNum(0))
    };

    /// A segment with no option but the MSS, as every run before RFC 7323
    /// sent, written out here by the module doc: the context record (byte
    /// 0, t, conn, ep, XXH3-64 of the name), then kind 2, flags, seq, ack,
    /// len, wnd, pkt, copy, little-endian, and nothing more.
    #[test]
    fn a_segment_without_options_is_a_context_and_the_segment_record() {
        let mut bytes = vec![0];
        bytes.extend(7u64.to_le_bytes());
        bytes.extend(1u32.to_le_bytes());
        bytes.extend(2u32.to_le_bytes());
        bytes.extend(xxhash_rust::xxh3::xxh3_64(b"a").to_le_bytes());
        bytes.push(2);
        bytes.push(Flags::SYN.bits());
        bytes.extend(100u32.to_le_bytes());
        bytes.extend(0u32.to_le_bytes());
        bytes.extend(0u32.to_le_bytes());
        bytes.extend(65535u16.to_le_bytes());
        bytes.extend(3u64.to_le_bytes());
        bytes.push(0);
        let expected = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes));
        assert_eq!(digest_of(send(SYN)), expected);
        assert_eq!(digest_of(TraceKind::Deliver { seg: SYN, discard: None }), {
            bytes[25] = 3;
            format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes))
        });
    }

    /// The context goes in once for a run of events that share it, and
    /// again when any of its fields changes: the digest of a sequence of
    /// events is the hash of exactly those records.
    #[test]
    fn a_context_is_written_when_it_changes() {
        let event = |t: u64, conn: u32, ep: u32, endpoint: &'static str| TraceEvent {
            t: Instant::from_nanos(t),
            conn,
            ep,
            endpoint,
            kind: TraceKind::Event(AppEvent::Connected),
            route: None,
            pkt: None,
            lost_eps: &[],
        };
        let context = |t: u64, conn: u32, ep: u32, name: &[u8]| {
            let mut b = vec![0];
            b.extend(t.to_le_bytes());
            b.extend(conn.to_le_bytes());
            b.extend(ep.to_le_bytes());
            b.extend(xxhash_rust::xxh3::xxh3_64(name).to_le_bytes());
            b
        };
        // Kind 7 (event), CONNECTED (1).
        let connected = [7u8, 1];
        let events = [event(5, 0, 1, "a"), event(5, 0, 1, "a"), event(6, 0, 1, "a"), event(6, 1, 1, "a")];
        let more = [event(6, 1, 2, "a"), event(6, 1, 2, "b"), event(6, 1, 2, "b")];
        let mut d = Digest::new();
        for e in events.iter().chain(&more) {
            d.add(e);
        }
        // A name equal in content but held elsewhere is the same context.
        let b = String::from("b");
        d.add(&TraceEvent { endpoint: &b, ..more[2] });
        let mut bytes = Vec::new();
        for (ctx, n) in [
            (context(5, 0, 1, b"a"), 2),
            (context(6, 0, 1, b"a"), 1),
            (context(6, 1, 1, b"a"), 1),
            (context(6, 1, 2, b"a"), 1),
            (context(6, 1, 2, b"b"), 3),
        ] {
            bytes.extend(ctx);
            for _ in 0..n {
                bytes.extend(connected);
            }
        }
        assert_eq!(d.hex(), format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes)));
    }

    /// A library caller may hand over names that live no longer than the
    /// call, such as one buffer refilled for each record read back from a
    /// JSONL trace: a different name at the same address, of the same
    /// length, is a different endpoint, and the digest is that of the
    /// names' bytes, whatever memory held them.
    #[test]
    fn a_name_reusing_another_names_memory_is_hashed_by_its_bytes() {
        fn event(endpoint: &str) -> TraceEvent<'_> {
            TraceEvent {
                t: Instant::from_nanos(5),
                conn: 0,
                ep: 1,
                endpoint,
                kind: TraceKind::Event(AppEvent::Connected),
                route: None,
                pkt: None,
                lost_eps: &[],
            }
        }
        let mut expected = Digest::new();
        expected.add(&event("client"));
        expected.add(&event("server"));
        let mut reused = Digest::new();
        let mut name = String::from("client");
        reused.add(&event(&name));
        name.clear();
        name.push_str("server");
        reused.add(&event(&name));
        assert_eq!(reused.hex(), expected.hex());
        let mut parts = Digest::new();
        for n in ["client", "server"] {
            name.clear();
            name.push_str(n);
            parts.add_record(Instant::from_nanos(5), 0, 1, &name, &TraceKind::Event(AppEvent::Connected), None);
        }
        assert_eq!(parts.hex(), expected.hex());
    }

    /// Every option, the window shift and a receiver's `discard` change
    /// the digest: two runs with the same digest sent the same options.
    /// The MSS counts beside the others: alone it is the record above.
    #[test]
    fn options_and_discard_enter_the_digest() {
        let with = |opts: Options| Segment { opts, ..SYN };
        let ts = |tsval| Options::NONE.with_ts(Some(Timestamps { tsval, tsecr: 0 }));
        let mut blocks = SackBlocks::EMPTY;
        blocks.push(SackBlock::new(SeqNum(1), SeqNum(2)));
        let variants = [
            digest_of(send(SYN)),
            digest_of(send(Segment { mss: 536, ..with(ts(1)) })),
            digest_of(send(with(ts(1)))),
            digest_of(send(with(ts(123456)))),
            digest_of(send(with(Options::NONE.with_ws(Some(7))))),
            digest_of(send(with(Options::NONE.with_ws(Some(8))))),
            digest_of(send(with(Options::NONE.with_wnd_shift(Some(7))))),
            digest_of(send(with(Options::NONE.with_sack_permitted(true)))),
            digest_of(send(Segment { sack: blocks, ..SYN })),
            digest_of(TraceKind::Deliver { seg: SYN, discard: Some(Discard::Paws) }),
            digest_of(TraceKind::Deliver { seg: SYN, discard: Some(Discard::NoTimestamp) }),
        ];
        for (i, a) in variants.iter().enumerate() {
            for b in &variants[i + 1..] {
                assert_ne!(a, b, "{variants:?}");
            }
        }
    }
}
