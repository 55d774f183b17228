//! The run digest: XXH3-128 (xxhash-rust 0.8) over a canonical binary
//! encoding of every trace event.
//!
//! The encoding is fixed and independent of any output format: per event a
//! kind byte, the time in ns, the connection, the endpoint name, then the
//! kind's fields (states, flags, seq, ack, len, wnd, timer, call, ...), all
//! little-endian. Free text (`cause`, drop `reason`) and the behaviour ID
//! are left out, so the same run shows the same digest in text and JSONL,
//! and better wording never changes it. `DIGEST_VERSION` changes only when
//! this encoding does.

use super::{TraceEvent, TraceKind};
use crate::tcp::{AppEvent, Segment};
use xxhash_rust::xxh3::Xxh3;

/// Version of the canonical encoding.
pub const DIGEST_VERSION: u32 = 1;

/// Bytes buffered before they are fed to the hasher: one call per few
/// hundred events instead of one per event. The hash of a stream does not
/// depend on how it is cut into updates.
const BUFFER: usize = 8192;

#[derive(Clone)]
pub struct Digest {
    hasher: Xxh3,
    buf: Vec<u8>,
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
    pub fn new() -> Digest {
        Digest { hasher: Xxh3::new(), buf: Vec::with_capacity(BUFFER + 256) }
    }

    pub fn add(&mut self, e: &TraceEvent<'_>) {
        if self.buf.len() >= BUFFER {
            self.hasher.update(&self.buf);
            self.buf.clear();
        }
        let b = &mut self.buf;
        b.push(kind_code(&e.kind));
        b.extend_from_slice(&e.t.as_nanos().to_le_bytes());
        b.extend_from_slice(&e.conn.to_le_bytes());
        b.extend_from_slice(&(e.endpoint.len() as u32).to_le_bytes());
        b.extend_from_slice(e.endpoint.as_bytes());
        match e.kind {
            TraceKind::Transition { from, to, reason, .. } => {
                b.push(from as u8);
                b.push(to as u8);
                b.push(reason.map_or(0xff, |r| r as u8));
            }
            TraceKind::Send { seg, .. } | TraceKind::Deliver { seg } | TraceKind::Drop { seg, .. } => {
                encode_segment(b, &seg);
            }
            TraceKind::Timer { timer, action, deadline } => {
                b.push(timer as u8);
                b.push(action as u8);
                b.extend_from_slice(&deadline.as_nanos().to_le_bytes());
            }
            TraceKind::App { call, bytes, error } => {
                b.push(call as u8);
                b.extend_from_slice(&bytes.to_le_bytes());
                b.push(error.map_or(0xff, |e| e as u8));
            }
            TraceKind::Event(ev) => {
                b.push(event_code(ev));
                if let AppEvent::Data { bytes, foreign } = ev {
                    b.extend_from_slice(&bytes.to_le_bytes());
                    b.extend_from_slice(&foreign.to_le_bytes());
                }
                if let AppEvent::Closed(r) = ev {
                    b.push(r as u8);
                }
            }
            TraceKind::Congestion { cwnd, ssthresh } => {
                b.extend_from_slice(&cwnd.to_le_bytes());
                b.extend_from_slice(&ssthresh.to_le_bytes());
            }
            TraceKind::Host { up, connections_lost } => {
                b.push(up as u8);
                b.extend_from_slice(&connections_lost.to_le_bytes());
            }
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

fn encode_segment(b: &mut Vec<u8>, s: &Segment) {
    b.push(s.flags.bits());
    b.extend_from_slice(&s.seq.0.to_le_bytes());
    b.extend_from_slice(&s.ack.0.to_le_bytes());
    b.extend_from_slice(&s.len.to_le_bytes());
    b.extend_from_slice(&s.wnd.to_le_bytes());
}
