//! Trace events for the ladder's unit tests: a client at 10.0.0.1 and a
//! server at 10.0.0.2 with a handshake between them.

use crate::tcp::{Flags, Segment, SeqNum};
use crate::time::Instant;
use crate::trace::{OwnedEvent, PacketId, Route, TraceKind};

const A: (u32, u16) = (0x0a00_0001, 49152);
const B: (u32, u16) = (0x0a00_0002, 80);

pub(super) fn seg(flags: Flags, seq: u32, ack: u32) -> Segment {
    Segment { flags, seq: SeqNum(seq), ack: SeqNum(ack), wnd: 1000, ..Segment::default() }
}

pub(super) fn event(ms: u64, name: &str, kind: TraceKind, route: Option<(u32, u16, u32, u16)>) -> OwnedEvent {
    OwnedEvent {
        t: Instant::from_nanos(ms * 1_000_000),
        conn: 0,
        ep: 0,
        endpoint: name.to_string(),
        kind,
        route: route.map(|(a, p, b, q)| Route { src: (a, p), dst: (b, q) }),
        pkt: None,
        lost_eps: Box::default(),
    }
}

pub(super) fn client_to_server() -> Option<(u32, u16, u32, u16)> {
    Some((A.0, A.1, B.0, B.1))
}

pub(super) fn server_to_client() -> Option<(u32, u16, u32, u16)> {
    Some((B.0, B.1, A.0, A.1))
}

pub(super) fn handshake() -> Vec<OwnedEvent> {
    let syn = seg(Flags::SYN, 100, 0);
    let synack = seg(Flags::SYN | Flags::ACK, 500, 101);
    vec![
        event(0, "client", TraceKind::Send { seg: syn, injected: false }, client_to_server()),
        event(10, "server", TraceKind::Deliver { seg: syn, discard: None }, client_to_server()),
        event(10, "server", TraceKind::Send { seg: synack, injected: false }, server_to_client()),
        event(20, "client", TraceKind::Deliver { seg: synack, discard: None }, server_to_client()),
    ]
}

pub(super) fn with_pkt(mut e: OwnedEvent, pkt: u64, copy: u8) -> OwnedEvent {
    e.pkt = Some(PacketId { pkt, copy });
    e
}
