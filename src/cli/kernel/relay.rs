//! The link between the two namespaces: a relay that holds each packet
//! for the link's fixed delay, and plays the scripted drops and
//! partitions.
//!
//! Each namespace has a TUN device (`tk0`, point-to-point to the other
//! host's address); the relay reads the IPv4 packets one host sends and
//! writes them into the other's device after the delay. This stands in
//! for `sch_netem`, which the kernels this runs on may lack. A fixed delay
//! keeps packets in order, so one FIFO per direction suffices. A drop is
//! decided when the packet leaves its sender, as tcpsim's scripted faults
//! are, and every decision is counted, so the report can prove which
//! segment went missing.

use super::netns::{now_ns, sleep_until};
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tcpsim::kernel::drops::DropSpec;

/// A drop rule (`tcpsim::kernel::drops`) and what it did on the kernel.
pub struct DropRule {
    /// Which segments count and which are dropped.
    pub spec: DropSpec,
    /// Segments that matched so far.
    pub matched: AtomicU32,
    /// Segments dropped so far.
    pub dropped: AtomicU32,
}

/// Both hosts cannot reach each other in `[from_ns, to_ns)` after the
/// run's start.
#[derive(Clone, Copy, Debug)]
pub struct Partition {
    /// Start, from the run's start.
    pub from_ns: u64,
    /// End (exclusive).
    pub to_ns: u64,
}

/// What the relay plays and what it saw; shared with the run loop.
pub struct Wire {
    /// The run's start on the shared clock (set before traffic flows).
    pub t0_ns: AtomicU64Cell,
    /// One-way delay, host 0 → host 1 and host 1 → host 0.
    pub delay_ns: [u64; 2],
    /// Scripted drops.
    pub rules: Vec<DropRule>,
    /// Partitions.
    pub partitions: Vec<Partition>,
    /// Each endpoint's (local, remote) address pair, fixed before the
    /// run starts, so a rule applies from the first segment (a SYN,ACK
    /// goes before `accept()` returns).
    pub endpoints: Vec<(SocketAddrV4, SocketAddrV4)>,
    /// When a packet was handed to each host, in order.
    pub arrivals: [Mutex<Vec<u64>>; 2],
    /// Every TCP segment either host sent, in the order read: the run's
    /// capture.
    pub capture: Mutex<Vec<Captured>>,
    /// Packets each direction carried and dropped.
    pub counts: [Mutex<(u64, u64)>; 2],
    /// Raised to end the relay's threads.
    pub stop: AtomicBool,
    /// Print every packet on stderr (`TCPSIM_KERNEL_DEBUG=1`).
    pub debug: bool,
}

/// One packet on stderr, for looking into a kernel run.
fn debug_line(dir: usize, t_ns: u64, packet: &[u8], dropped: bool) {
    let Ok(sliced) = SlicedPacket::from_ip(packet) else { return };
    if let Some(TransportSlice::Tcp(tcp)) = sliced.transport {
        let flags =
            [(tcp.syn(), "SYN"), (tcp.fin(), "FIN"), (tcp.rst(), "RST"), (tcp.psh(), "PSH"), (tcp.ack(), "ACK")]
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
                .join("|");
        stderrln!(
            "relay {:>10.3} ms host {dir} -> {}: {}:{} {flags} seq={} ack={} len={}{}",
            t_ns as f64 / 1e6,
            1 - dir,
            tcp.source_port(),
            tcp.destination_port(),
            tcp.sequence_number(),
            tcp.acknowledgment_number(),
            tcp.payload().len(),
            if dropped { " DROPPED" } else { "" }
        );
    }
}

/// One TCP segment as the relay saw it (times on the shared clock).
#[derive(Clone, Debug)]
pub struct Captured {
    /// The sender's address.
    pub src: SocketAddrV4,
    /// The receiver's address.
    pub dst: SocketAddrV4,
    /// When the relay read it from the sender's device.
    pub sent_ns: u64,
    /// When it was written into the receiver's; `None` when dropped.
    pub arrived_ns: Option<u64>,
    /// SYN, FIN, RST, PSH, ACK as in the TCP header.
    pub flags: u8,
    /// SEG.SEQ.
    pub seq: u32,
    /// SEG.ACK.
    pub ack: u32,
    /// Payload bytes.
    pub len: u32,
}

fn capture(packet: &[u8], now: u64) -> Option<Captured> {
    let sliced = SlicedPacket::from_ip(packet).ok()?;
    let (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(tcp))) = (sliced.net, sliced.transport) else {
        return None;
    };
    let seen = parse(packet)?;
    Some(Captured {
        src: seen.src,
        dst: SocketAddrV4::new(ip.header().destination_addr(), tcp.destination_port()),
        sent_ns: now,
        arrived_ns: None,
        flags: seen.flags,
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        len: tcp.payload().len() as u32,
    })
}

/// A u64 set once by the run loop and read by the relay.
pub struct AtomicU64Cell(std::sync::atomic::AtomicU64);

impl AtomicU64Cell {
    /// Zero until set.
    pub fn new() -> AtomicU64Cell {
        AtomicU64Cell(std::sync::atomic::AtomicU64::new(0))
    }
    /// Sets it.
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::SeqCst)
    }
    /// Reads it.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A TCP segment's identity as the rules see it.
struct Seen {
    src: SocketAddrV4,
    dst: SocketAddrV4,
    flags: u8,
    data: bool,
}

fn parse(packet: &[u8]) -> Option<Seen> {
    let sliced = SlicedPacket::from_ip(packet).ok()?;
    let (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(tcp))) = (sliced.net, sliced.transport) else {
        return None;
    };
    let flags = (tcp.fin() as u8)
        | (tcp.syn() as u8) << 1
        | (tcp.rst() as u8) << 2
        | (tcp.psh() as u8) << 3
        | (tcp.ack() as u8) << 4;
    Some(Seen {
        src: SocketAddrV4::new(ip.header().source_addr(), tcp.source_port()),
        dst: SocketAddrV4::new(ip.header().destination_addr(), tcp.destination_port()),
        flags,
        data: !tcp.payload().is_empty(),
    })
}

impl Wire {
    /// Whether the packet `from` sends now is dropped, counting it.
    fn judge(&self, packet: &[u8], now: u64) -> bool {
        let since = now.saturating_sub(self.t0_ns.get());
        if self.partitions.iter().any(|p| p.from_ns <= since && since < p.to_ns) {
            return true;
        }
        let Some(seen) = parse(packet) else { return false };
        let Some(sender) = self.endpoints.iter().position(|e| *e == (seen.src, seen.dst)) else { return false };
        let mut dropped = false;
        for rule in &self.rules {
            if !rule.spec.matches(sender, seen.flags, seen.data) {
                continue;
            }
            let n = rule.matched.fetch_add(1, Ordering::SeqCst) + 1;
            if rule.spec.drop.contains(&n) {
                rule.dropped.fetch_add(1, Ordering::SeqCst);
                dropped = true;
            }
        }
        dropped
    }
}

/// Starts the two directions; the threads end when `wire.stop` is raised.
pub fn start(wire: Arc<Wire>, tuns: [Arc<tun::Device>; 2]) -> Vec<std::thread::JoinHandle<()>> {
    let mut handles = Vec::new();
    for dir in 0..2 {
        let (tx, rx) = mpsc::channel::<(u64, Option<usize>, Vec<u8>)>();
        let (src, dst) = (tuns[dir].clone(), tuns[1 - dir].clone());
        let w = wire.clone();
        handles.push(std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !w.stop.load(Ordering::Relaxed) {
                let n = match src.recv_timeout(&mut buf, std::time::Duration::from_millis(20)) {
                    Ok(n) => n,
                    Err(_) => continue,
                };
                let now = now_ns();
                let drop = w.judge(&buf[..n], now);
                if w.debug {
                    debug_line(dir, now.saturating_sub(w.t0_ns.get()), &buf[..n], drop);
                }
                {
                    let mut c = w.counts[dir].lock().expect("counts");
                    if drop { c.1 += 1 } else { c.0 += 1 }
                }
                let index = capture(&buf[..n], now).map(|c| {
                    let mut all = w.capture.lock().expect("capture");
                    all.push(c);
                    all.len() - 1
                });
                if !drop && tx.send((now + w.delay_ns[dir], index, buf[..n].to_vec())).is_err() {
                    return;
                }
            }
        }));
        let w = wire.clone();
        handles.push(std::thread::spawn(move || {
            while !w.stop.load(Ordering::Relaxed) {
                let Ok((due, index, packet)) = rx.recv_timeout(std::time::Duration::from_millis(20)) else {
                    continue;
                };
                if !sleep_until(due, &w.stop) {
                    return;
                }
                // Noted before the write, so an arrival's time precedes
                // every state change it causes.
                let at = now_ns();
                w.arrivals[1 - dir].lock().expect("arrivals").push(at);
                if let Some(i) = index {
                    w.capture.lock().expect("capture")[i].arrived_ns = Some(at);
                }
                let _ = dst.send(&packet);
            }
        }));
    }
    handles
}
