//! smoltcp's TCP socket through the same lifecycle as the minimal world:
//! a real, widely used TCP implementation, driven as a simulator would
//! drive it.
//!
//! Each endpoint is one smoltcp `Interface` with one socket and a virtual
//! IP device, so a poll touches that endpoint alone (one interface for all
//! sockets would make every poll scan them all). The world is the minimal
//! one's: `BinaryHeap<Reverse<(t, seq)>>`, one ChaCha8 delay of 10–500 µs
//! per packet, applications that close one longest delay after their last
//! segment, a server that listens again when it reaches CLOSED, a client
//! that reopens when its TIME_WAIT ends. Differences that remain: smoltcp
//! holds TIME_WAIT 10 s (its fixed `CLOSE_DELAY`), not 60 s; it builds and
//! parses real IPv4/TCP packets with checksums; it wakes for its own
//! retransmission timers (stale wakes are skipped, not counted as events).
//! Transitions are counted from the socket's state after each poll, as an
//! application sees them.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, Ipv4Address};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

const MIN_DELAY_NS: u64 = 10_000;
const MAX_DELAY_NS: u64 = 500_000;
const CLIENT: Ipv4Address = Ipv4Address::new(10, 0, 0, 1);
const SERVER: Ipv4Address = Ipv4Address::new(10, 0, 0, 2);
const SERVER_PORT: u16 = 80;
const BUFFER: usize = 1024;

/// A device whose packets come from and go to the world's queue.
#[derive(Default)]
struct Wire {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
}

struct Rx(Vec<u8>);
struct Tx<'a>(&'a mut Vec<Vec<u8>>);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut packet = vec![0u8; len];
        let result = f(&mut packet);
        self.0.push(packet);
        result
    }
}

impl Device for Wire {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(Rx, Tx<'_>)> {
        let packet = self.rx.pop_front()?;
        Some((Rx(packet), Tx(&mut self.tx)))
    }

    fn transmit(&mut self, _: Instant) -> Option<Tx<'_>> {
        Some(Tx(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = 1500;
        caps
    }
}

struct End {
    iface: Interface,
    wire: Wire,
    sockets: SocketSet<'static>,
    socket: SocketHandle,
    state: tcp::State,
    /// The wake the world has queued for smoltcp's own timers.
    wake_ns: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Open,
    Close,
    Arrive(u32),
    Wake,
}

/// Endpoint pairs (client `2p`, server `2p + 1`), their events and the
/// link's one random stream.
pub struct SmoltcpWorld {
    ends: Vec<End>,
    /// Packets on the link, by the slot their arrival names.
    in_flight: Vec<Option<Vec<u8>>>,
    free: Vec<u32>,
    queue: BinaryHeap<Reverse<(u64, u64, u32, Event)>>,
    seq: u64,
    rng: ChaCha8Rng,
    /// State changes so far.
    pub transitions: u64,
    /// Events handled so far (stale timer wakes not counted).
    pub events: u64,
}

fn at(ns: u64) -> Instant {
    Instant::from_micros((ns / 1000) as i64)
}

fn end(index: u32, seed: u64) -> End {
    let mut wire = Wire::default();
    let mut config = Config::new(HardwareAddress::Ip);
    config.random_seed = seed ^ u64::from(index);
    let mut iface = Interface::new(config, &mut wire, at(0));
    let addr = if index.is_multiple_of(2) { CLIENT } else { SERVER };
    iface.update_ip_addrs(|addrs| addrs.push(IpCidr::new(IpAddress::Ipv4(addr), 24)).expect("one address"));
    let mut socket = tcp::Socket::new(tcp::SocketBuffer::new(vec![0; BUFFER]), tcp::SocketBuffer::new(vec![0; BUFFER]));
    socket.set_ack_delay(None);
    socket.set_nagle_enabled(false);
    if !index.is_multiple_of(2) {
        socket.listen(SERVER_PORT).expect("a fresh socket listens");
    }
    let mut sockets = SocketSet::new(Vec::with_capacity(1));
    let socket = sockets.add(socket);
    let state = sockets.get::<tcp::Socket>(socket).state();
    End { iface, wire, sockets, socket, state, wake_ns: None }
}

impl SmoltcpWorld {
    /// `pairs` client/server pairs, opening evenly over the first 100 ms.
    pub fn new(pairs: u32, seed: u64) -> SmoltcpWorld {
        let mut world = SmoltcpWorld {
            ends: (0..2 * pairs).map(|i| end(i, seed)).collect(),
            in_flight: Vec::new(),
            free: Vec::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            transitions: 0,
            events: 0,
        };
        for pair in 0..pairs {
            world.at(u64::from(pair) * 100_000_000 / u64::from(pairs), 2 * pair, Event::Open);
        }
        world
    }

    /// The (client, server) states of `pair`, as last observed.
    pub fn states(&self, pair: u32) -> (tcp::State, tcp::State) {
        (self.ends[2 * pair as usize].state, self.ends[2 * pair as usize + 1].state)
    }

    fn at(&mut self, t: u64, end: u32, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse((t, self.seq, end, event)));
    }

    /// Handles every event before `until_ns`.
    pub fn run(&mut self, until_ns: u64) {
        while let Some(&Reverse((now, _, end, event))) = self.queue.peek() {
            if now >= until_ns {
                break;
            }
            self.queue.pop();
            self.step(now, end, event);
        }
    }

    fn socket(&mut self, end: u32) -> &mut tcp::Socket<'static> {
        let e = &mut self.ends[end as usize];
        e.sockets.get_mut::<tcp::Socket>(e.socket)
    }

    fn step(&mut self, now: u64, end: u32, event: Event) {
        match event {
            Event::Wake if self.ends[end as usize].wake_ns != Some(now) => return,
            Event::Wake => self.ends[end as usize].wake_ns = None,
            Event::Open => {
                let pair = end / 2;
                let local = 1024 + (pair % 60_000) as u16;
                let e = &mut self.ends[end as usize];
                let socket = e.sockets.get_mut::<tcp::Socket>(e.socket);
                socket.connect(e.iface.context(), (SERVER, SERVER_PORT), local).expect("a closed socket connects");
            }
            Event::Close => self.socket(end).close(),
            Event::Arrive(slot) => {
                let packet = self.in_flight[slot as usize].take().expect("a packet in flight");
                self.free.push(slot);
                self.ends[end as usize].wire.rx.push_back(packet);
            }
        }
        self.events += 1;
        self.poll(now, end);
    }

    fn poll(&mut self, now: u64, end: u32) {
        let e = &mut self.ends[end as usize];
        e.iface.poll(at(now), &mut e.wire, &mut e.sockets);
        let sent = std::mem::take(&mut e.wire.tx);
        for packet in sent {
            let delay = MIN_DELAY_NS + self.rng.next_u64() % (MAX_DELAY_NS - MIN_DELAY_NS + 1);
            let slot = match self.free.pop() {
                Some(slot) => {
                    self.in_flight[slot as usize] = Some(packet);
                    slot
                }
                None => {
                    self.in_flight.push(Some(packet));
                    (self.in_flight.len() - 1) as u32
                }
            };
            self.at(now + delay, end ^ 1, Event::Arrive(slot));
        }
        self.observe(now, end);
        let e = &mut self.ends[end as usize];
        // smoltcp's clock is in µs: a wake it wants now is the next µs.
        if let Some(wake) = e.iface.poll_at(at(now), &e.sockets) {
            let wake_ns = (wake.total_micros() as u64 * 1000).max(now + 1000);
            if e.wake_ns.is_none_or(|queued| wake_ns < queued) {
                e.wake_ns = Some(wake_ns);
                self.at(wake_ns, end, Event::Wake);
            }
        }
    }

    /// Counts a state change and plays the application's part in it.
    fn observe(&mut self, now: u64, end: u32) {
        let state = self.socket(end).state();
        let e = &mut self.ends[end as usize];
        if state == e.state {
            return;
        }
        e.state = state;
        self.transitions += 1;
        let server = end % 2 == 1;
        match state {
            tcp::State::Established if !server => self.at(now + MAX_DELAY_NS, end, Event::Close),
            tcp::State::CloseWait => self.at(now + MAX_DELAY_NS, end, Event::Close),
            tcp::State::Closed if server => {
                self.socket(end).listen(SERVER_PORT).expect("a closed socket listens");
                self.ends[end as usize].state = tcp::State::Listen;
                self.transitions += 1;
            }
            tcp::State::Closed => self.at(now, end, Event::Open),
            _ => {}
        }
    }
}
