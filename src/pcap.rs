//! Packet captures: every segment of a run as a real IPv4/TCP packet in a
//! pcap file that Wireshark, tshark and tcpdump read.
//!
//! The capture point is the sender by default (each `send` record, so a
//! lost segment is still in the file, as a sniffer next to the sender
//! would see it) or the receiver (each `deliver` record, so losses show up
//! as gaps and Wireshark's analysis flags them). Timestamps are virtual
//! time in nanoseconds since the start of the run, so the capture starts
//! at the epoch (1970-01-01).
//!
//! Packets are built with `etherparse` (IPv4 and TCP headers with correct
//! checksums, flags, the MSS option on SYNs) and written with `pcap-file`
//! (the classic pcap format, nanosecond timestamps, link type RAW: each
//! packet starts at its IPv4 header). Byte order is fixed to little
//! endian rather than the machine's, so the same run gives the same file
//! everywhere. Payload bytes are the synthetic stream bytes
//! ([`payload_byte`]), the same for every copy of a byte, so Wireshark's "Follow TCP stream" reads
//! one consistent stream.

use crate::tcp::{Segment, payload_byte};
use crate::trace::{Route, TraceEvent, TraceKind, TraceSink};
use etherparse::{PacketBuilder, TcpOptionElement};
use pcap_file::pcap::{PcapHeader, PcapPacket};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};
use std::io::{self, Write};

/// Where the capture is taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CaptureSide {
    /// Every segment as it leaves its sender (`send` records).
    #[default]
    Sender,
    /// Every segment as it reaches its receiver (`deliver` records).
    Receiver,
}

/// The time-to-live of captured packets: a common default; the simulator
/// has no hops.
const TTL: u8 = 64;

/// The largest IPv4 packet; payloads are cut to fit (MSS is at most 65495,
/// so only a SYN carrying a full segment of data could exceed it).
const IP_MAX: usize = 65_535;

/// The largest payload of a captured packet: the largest IPv4 packet less
/// a 20-byte IPv4 header and a 20-byte TCP header; TCP options take their
/// bytes from it. Loading refuses an injected segment longer than this
/// (less its options), so the capture holds every byte the trace counts.
pub const MAX_PAYLOAD: u32 = (IP_MAX - 20 - 20) as u32;

/// A [`TraceSink`] writing a pcap file.
pub struct PcapWriter<W: Write> {
    out: Option<pcap_file::pcap::PcapWriter<W>>,
    side: CaptureSide,
    error: Option<io::Error>,
    packets: u64,
    buf: Vec<u8>,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header at once; an error is kept and reported by
    /// [`TraceSink::failed`] and [`PcapWriter::finish`].
    pub fn new(out: W, side: CaptureSide) -> PcapWriter<W> {
        let header = PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: IP_MAX as u32,
            datalink: DataLink::RAW,
            ts_resolution: TsResolution::NanoSecond,
            endianness: Endianness::Little,
        };
        let (out, error) = match pcap_file::pcap::PcapWriter::with_header(out, header) {
            Ok(w) => (Some(w), None),
            Err(e) => (None, Some(io_error(e))),
        };
        PcapWriter { out, side, error, packets: 0, buf: Vec::with_capacity(2048) }
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Flushes and returns the writer, or the first write error.
    pub fn finish(mut self) -> io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut out = self.out.take().ok_or_else(|| io::Error::other("pcap writer has no output"))?.into_writer();
        out.flush()?;
        Ok(out)
    }

    fn write(&mut self, t_ns: u64, seg: &Segment, route: Route) -> Result<(), io::Error> {
        packet_into(&mut self.buf, seg, route)?;
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        let packet = PcapPacket::new(std::time::Duration::from_nanos(t_ns), self.buf.len() as u32, &self.buf);
        out.write_packet(&packet).map_err(io_error)?;
        self.packets += 1;
        Ok(())
    }
}

impl<W: Write> TraceSink for PcapWriter<W> {
    fn record(&mut self, e: &TraceEvent<'_>) {
        if self.error.is_some() {
            return;
        }
        let seg = match (self.side, e.kind) {
            (CaptureSide::Sender, TraceKind::Send { seg, .. }) => seg,
            (CaptureSide::Receiver, TraceKind::Deliver { seg, .. }) => seg,
            _ => return,
        };
        let Some(route) = e.route else {
            return;
        };
        if let Err(err) = self.write(e.t.as_nanos(), &seg, route) {
            self.error = Some(err);
        }
    }

    fn failed(&self) -> bool {
        self.error.is_some()
    }
}

fn io_error(e: PcapError) -> io::Error {
    match e {
        PcapError::IoError(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

/// The IPv4 packet (header, TCP header, payload) carrying `seg` on `route`.
pub fn packet(seg: &Segment, route: Route) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    packet_into(&mut buf, seg, route)?;
    Ok(buf)
}

fn packet_into(buf: &mut Vec<u8>, seg: &Segment, route: Route) -> io::Result<()> {
    buf.clear();
    let mut b = PacketBuilder::ipv4(route.src.0.to_be_bytes(), route.dst.0.to_be_bytes(), TTL).tcp(
        route.src.1,
        route.dst.1,
        seg.seq.0,
        seg.wnd,
    );
    let f = seg.flags;
    if f.syn() {
        b = b.syn();
    }
    if f.fin() {
        b = b.fin();
    }
    if f.rst() {
        b = b.rst();
    }
    if f.psh() {
        b = b.psh();
    }
    if f.ack() {
        b = b.ack(seg.ack.0);
    }
    // Options in the order and padding stacks send them, the bytes
    // `Segment::option_bytes` counts: MSS; NOP, Window Scale; NOP, NOP,
    // Timestamps (RFC 7323 Appendix A), or SACK-permitted and Timestamps
    // in those 12 bytes as Linux packs them; NOP, NOP, SACK-permitted
    // without timestamps; NOP, NOP, SACK with its blocks (RFC 2018 §3).
    let mut options: [TcpOptionElement; 12] = std::array::from_fn(|_| TcpOptionElement::Noop);
    let mut n = 0;
    let mut put = |element: TcpOptionElement, padding: usize| {
        options[n + padding] = element;
        n += padding + 1;
    };
    if seg.mss != 0 {
        put(TcpOptionElement::MaximumSegmentSize(seg.mss), 0);
    }
    if let Some(ws) = seg.ws() {
        put(TcpOptionElement::WindowScale(ws), 1);
    }
    match seg.ts() {
        Some(ts) if seg.sack_permitted() => {
            put(TcpOptionElement::SelectiveAcknowledgementPermitted, 0);
            put(TcpOptionElement::Timestamp(ts.tsval, ts.tsecr), 0);
        }
        Some(ts) => put(TcpOptionElement::Timestamp(ts.tsval, ts.tsecr), 2),
        None if seg.sack_permitted() => put(TcpOptionElement::SelectiveAcknowledgementPermitted, 2),
        None => {}
    }
    if let Some((first, rest)) = seg.sack.as_slice().split_first() {
        let mut more = [None; 3];
        for (slot, b) in more.iter_mut().zip(rest) {
            *slot = Some((b.left.0, b.right.0));
        }
        put(TcpOptionElement::SelectiveAcknowledgement((first.left.0, first.right.0), more), 2);
    }
    if n > 0 {
        b = b.options(&options[..n]).map_err(io::Error::other)?;
    }
    let len = seg.len.min(MAX_PAYLOAD - seg.option_bytes()) as usize;
    let payload: Vec<u8> =
        (0..len as u32).map(|i| payload_byte(seg.payload.stream, seg.payload.offset.wrapping_add(i))).collect();
    b.write(buf, &payload).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::{Flags, PayloadTag, SeqNum, Timestamps};
    use crate::time::Instant;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    const ROUTE: Route = Route { src: (0x0a00_0001, 49152), dst: (0x0a00_0002, 80) };

    fn ones_complement_sum(bytes: &[u8]) -> u32 {
        let mut sum = 0u32;
        for pair in bytes.chunks(2) {
            let word = u32::from(pair[0]) << 8 | u32::from(*pair.get(1).unwrap_or(&0));
            sum += word;
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum
    }

    #[test]
    fn packets_carry_the_header_fields_and_valid_checksums() {
        let seg = Segment {
            seq: SeqNum(1000),
            ack: SeqNum(77),
            flags: Flags::SYN | Flags::ACK,
            wnd: 4096,
            len: 5,
            mss: 1460,
            opts: crate::tcp::Options::NONE,
            sack: crate::tcp::SackBlocks::EMPTY,
            payload: PayloadTag { stream: 3, offset: 10 },
            retransmit: false,
        };
        let bytes = packet(&seg, ROUTE).unwrap();
        let p = SlicedPacket::from_ip(&bytes).unwrap();
        let Some(NetSlice::Ipv4(ip)) = p.net else { panic!("not IPv4") };
        assert_eq!(ip.header().source(), [10, 0, 0, 1]);
        assert_eq!(ip.header().destination(), [10, 0, 0, 2]);
        let Some(TransportSlice::Tcp(tcp)) = p.transport else { panic!("not TCP") };
        assert_eq!((tcp.source_port(), tcp.destination_port()), (49152, 80));
        assert_eq!((tcp.sequence_number(), tcp.acknowledgment_number()), (1000, 77));
        assert!(tcp.syn() && tcp.ack() && !tcp.fin() && !tcp.rst());
        assert_eq!(tcp.window_size(), 4096);
        assert_eq!(tcp.options(), &[2, 4, 0x05, 0xb4]);
        let expected: Vec<u8> = (0..5).map(|i| payload_byte(3, 10 + i)).collect();
        assert_eq!(tcp.payload(), &expected[..]);
        // A correct header checksum makes the one's-complement sum 0xffff.
        assert_eq!(ones_complement_sum(&bytes[..20]), 0xffff);
        let tcp_bytes = &bytes[20..];
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&bytes[12..20]);
        pseudo.extend_from_slice(&[0, 6]);
        pseudo.extend_from_slice(&(tcp_bytes.len() as u16).to_be_bytes());
        pseudo.extend_from_slice(tcp_bytes);
        assert_eq!(ones_complement_sum(&pseudo), 0xffff);
    }

    /// B-WS-01, B-TS-02: options are encoded as on the wire: MSS, NOP +
    /// Window Scale, NOP NOP + Timestamps, 20 bytes on a SYN; 12 bytes of
    /// timestamps on a data segment, which the link counts too.
    #[test]
    fn options_are_encoded_as_on_the_wire() {
        let ts = crate::tcp::Timestamps { tsval: 0x0102_0304, tsecr: 0xa0b0_c0d0 };
        let syn = Segment {
            flags: Flags::SYN,
            wnd: 65535,
            mss: 1460,
            opts: crate::tcp::Options::NONE.with_ws(Some(7)).with_ts(Some(Timestamps { tsecr: 0, ..ts })),
            ..Segment::default()
        };
        let bytes = packet(&syn, ROUTE).unwrap();
        let p = SlicedPacket::from_ip(&bytes).unwrap();
        let Some(TransportSlice::Tcp(tcp)) = p.transport else { panic!("not TCP") };
        assert_eq!(
            tcp.options(),
            &[2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0],
            "MSS 1460; NOP, WS 7; NOP, NOP, TS"
        );
        assert_eq!(syn.option_bytes(), 20);
        let data = Segment {
            flags: Flags::ACK,
            len: 1448,
            opts: crate::tcp::Options::NONE.with_ts(Some(ts)),
            ..Segment::default()
        };
        let bytes = packet(&data, ROUTE).unwrap();
        assert_eq!(bytes.len(), 20 + 20 + 12 + 1448);
        assert_eq!(crate::link::wire_bytes(&data), bytes.len() as u64);
        let p = SlicedPacket::from_ip(&bytes).unwrap();
        let Some(TransportSlice::Tcp(tcp)) = p.transport else { panic!("not TCP") };
        assert_eq!(tcp.options(), &[1, 1, 8, 10, 1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0]);
    }

    /// B-SACK-01, B-SACK-03: SACK-permitted (kind 4) and SACK (kind 5) as
    /// stacks send them: NOP, NOP before each alone; SACK-permitted in the
    /// padding of timestamps; the byte counts the link uses.
    #[test]
    fn sack_options_are_encoded_as_on_the_wire() {
        let syn = Segment {
            flags: Flags::SYN,
            mss: 1460,
            opts: crate::tcp::Options::NONE.with_ws(Some(7)).with_sack_permitted(true),
            ..Segment::default()
        };
        let bytes = packet(&syn, ROUTE).unwrap();
        let p = SlicedPacket::from_ip(&bytes).unwrap();
        let Some(TransportSlice::Tcp(tcp)) = p.transport else { panic!("not TCP") };
        assert_eq!(tcp.options(), &[2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2]);
        assert_eq!(crate::link::wire_bytes(&syn), bytes.len() as u64);
        let ts = Timestamps { tsval: 0x0102_0304, tsecr: 0 };
        let syn = Segment { opts: syn.opts.with_ts(Some(ts)), ..syn };
        let bytes = packet(&syn, ROUTE).unwrap();
        let p = SlicedPacket::from_ip(&bytes).unwrap();
        let Some(TransportSlice::Tcp(tcp)) = p.transport else { panic!("not TCP") };
        assert_eq!(tcp.options(), &[2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0]);
        assert_eq!(syn.option_bytes(), 20);
        let mut ack =
            Segment { flags: Flags::ACK, opts: crate::tcp::Options::NONE.with_ts(Some(ts)), ..Segment::default() };
        for (l, r) in [(100, 200), (300, 400), (500, 600)] {
            ack.sack.push(crate::tcp::SackBlock::new(SeqNum(l), SeqNum(r)));
        }
        let bytes = packet(&ack, ROUTE).unwrap();
        assert_eq!(bytes.len(), 20 + 20 + 40);
        assert_eq!(crate::link::wire_bytes(&ack), bytes.len() as u64);
        let p = SlicedPacket::from_ip(&bytes).unwrap();
        let Some(TransportSlice::Tcp(tcp)) = p.transport else { panic!("not TCP") };
        assert_eq!(&tcp.options()[12..16], &[1, 1, 5, 26]);
        assert_eq!(&tcp.options()[16..24], &[0, 0, 0, 100, 0, 0, 0, 200]);
    }

    #[test]
    fn captured_bytes_are_the_stream_bytes_in_lines() {
        assert_eq!(payload_byte(1, 63), b'\n');
        assert_eq!(payload_byte(1, 127), b'\n');
        assert_eq!(payload_byte(1, 64), payload_byte(1, 64));
        assert!((0..63).all(|o| payload_byte(2, o) == payload_byte(2, o)));
    }

    #[test]
    fn the_ack_number_is_zero_without_the_ack_flag() {
        let seg = Segment { seq: SeqNum(5), ack: SeqNum(9), flags: Flags::RST, ..Segment::default() };
        let bytes = packet(&seg, ROUTE).unwrap();
        assert_eq!(&bytes[28..32], &[0, 0, 0, 0]);
        assert_eq!(bytes[33] & 0x3f, 0x04);
    }

    #[test]
    fn the_file_has_a_nanosecond_little_endian_header_and_one_record_per_send() {
        let mut w = PcapWriter::new(Vec::new(), CaptureSide::Sender);
        let seg = Segment { flags: Flags::ACK, len: 3, ..Segment::default() };
        let send = TraceEvent {
            t: Instant::from_nanos(1_500_000_123),
            conn: 0,
            ep: 0,
            endpoint: "a",
            kind: TraceKind::Send { seg, injected: false },
            route: Some(ROUTE),
            pkt: None,
            lost_eps: &[],
        };
        w.record(&send);
        w.record(&TraceEvent { kind: TraceKind::Deliver { seg, discard: None }, ..send });
        assert_eq!(w.packets(), 1);
        let bytes = w.finish().unwrap();
        assert_eq!(&bytes[..4], &[0x4d, 0x3c, 0xb2, 0xa1], "nanosecond magic, little endian");
        assert_eq!(u32::from_le_bytes(bytes[20..24].try_into().unwrap()), 101, "LINKTYPE_RAW");
        assert_eq!(u32::from_le_bytes(bytes[24..28].try_into().unwrap()), 1, "seconds");
        assert_eq!(u32::from_le_bytes(bytes[28..32].try_into().unwrap()), 500_000_123, "nanoseconds");
        assert_eq!(bytes.len(), 24 + 16 + 43);
    }

    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn write_errors_are_kept_and_reported() {
        let w = PcapWriter::new(Broken, CaptureSide::Receiver);
        assert!(w.failed());
        assert_eq!(w.finish().err().map(|e| e.to_string()), Some("disk full".to_string()));
    }
}
