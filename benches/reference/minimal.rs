//! The minimal reference world: the least a discrete-event TCP-lifecycle
//! simulator can do, so tcpsim's figures have a floor to be read against.
//!
//! Specified exactly (README, "Performance"): an 11-state FSM per endpoint
//! with no data, no RST and no retransmission; one lifecycle is 11 events
//! and 12 transitions; the event queue is `BinaryHeap<Reverse<(t, seq)>>`
//! (the event rides along after `seq`, which is unique, so it never takes
//! part in the order); every segment takes one ChaCha8 draw for a delay of
//! 10–500 µs; a pair reopens when its client's 60 s TIME_WAIT ends.
//! An application closes one longest link delay after its endpoint has
//! sent its last segment, so no segment overtakes another (CLOSING and
//! the crossed cases never happen) and every lifecycle takes one path.
//!
//! One lifecycle, client C and server S (S listens again at once):
//!
//! | event | transitions |
//! |---|---|
//! | C opens | C CLOSED→SYN_SENT |
//! | SYN at S | S LISTEN→SYN_RECEIVED |
//! | SYN,ACK at C | C SYN_SENT→ESTABLISHED |
//! | ACK at S | S SYN_RECEIVED→ESTABLISHED |
//! | C closes | C ESTABLISHED→FIN_WAIT_1 |
//! | FIN at S | S ESTABLISHED→CLOSE_WAIT |
//! | ACK at C | C FIN_WAIT_1→FIN_WAIT_2 |
//! | S closes | S CLOSE_WAIT→LAST_ACK |
//! | FIN at C | C FIN_WAIT_2→TIME_WAIT |
//! | ACK at S | S LAST_ACK→CLOSED→LISTEN (two) |
//! | 2MSL ends at C | C TIME_WAIT→CLOSED |

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const TIME_WAIT_NS: u64 = 60_000_000_000;
const MIN_DELAY_NS: u64 = 10_000;
const MAX_DELAY_NS: u64 = 500_000;

/// The eleven states of RFC 9293 §3.3.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    /// Never entered here: no FIN crosses another.
    #[allow(dead_code)]
    Closing,
    LastAck,
    TimeWait,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Syn,
    SynAck,
    Ack,
    Fin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Open,
    Close { server: bool },
    Arrive { server: bool, segment: Segment },
    TimeWaitEnds,
}

#[derive(Clone, Copy)]
struct Pair {
    client: State,
    server: State,
}

/// Pairs of endpoints, their events and the link's one random stream.
pub struct MinimalWorld {
    pairs: Vec<Pair>,
    queue: BinaryHeap<Reverse<(u64, u64, u32, Event)>>,
    seq: u64,
    rng: ChaCha8Rng,
    /// State changes so far.
    pub transitions: u64,
    /// Events handled so far.
    pub events: u64,
}

impl MinimalWorld {
    /// `pairs` client/server pairs, opening evenly over the first 100 ms.
    pub fn new(pairs: u32, seed: u64) -> MinimalWorld {
        let mut world = MinimalWorld {
            pairs: vec![Pair { client: State::Closed, server: State::Listen }; pairs as usize],
            queue: BinaryHeap::with_capacity(2 * pairs as usize),
            seq: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            transitions: 0,
            events: 0,
        };
        for pair in 0..pairs {
            world.at(u64::from(pair) * 100_000_000 / u64::from(pairs), pair, Event::Open);
        }
        world
    }

    /// The (client, server) states of `pair`.
    pub fn states(&self, pair: u32) -> (State, State) {
        let p = self.pairs[pair as usize];
        (p.client, p.server)
    }

    fn at(&mut self, t: u64, pair: u32, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse((t, self.seq, pair, event)));
    }

    /// A segment on the link: one draw, 10–500 µs (the modulo's bias is
    /// below 10^-13 and the same for every run).
    fn send(&mut self, now: u64, pair: u32, to_server: bool, segment: Segment) {
        let delay = MIN_DELAY_NS + self.rng.next_u64() % (MAX_DELAY_NS - MIN_DELAY_NS + 1);
        self.at(now + delay, pair, Event::Arrive { server: to_server, segment });
    }

    fn enter(&mut self, pair: u32, server: bool, to: State) {
        let p = &mut self.pairs[pair as usize];
        if server {
            p.server = to;
        } else {
            p.client = to;
        }
        self.transitions += 1;
    }

    /// Handles every event before `until_ns`.
    pub fn run(&mut self, until_ns: u64) {
        while let Some(&Reverse((now, _, pair, event))) = self.queue.peek() {
            if now >= until_ns {
                break;
            }
            self.queue.pop();
            self.events += 1;
            self.step(now, pair, event);
        }
    }

    fn step(&mut self, now: u64, pair: u32, event: Event) {
        use Segment::*;
        use State::*;
        let Pair { client, server } = self.pairs[pair as usize];
        match event {
            Event::Open => {
                self.enter(pair, false, SynSent);
                self.send(now, pair, true, Syn);
            }
            Event::Close { server: false } => {
                self.enter(pair, false, FinWait1);
                self.send(now, pair, true, Fin);
            }
            Event::Close { server: true } => {
                self.enter(pair, true, LastAck);
                self.send(now, pair, false, Fin);
            }
            Event::TimeWaitEnds => {
                self.enter(pair, false, Closed);
                self.at(now, pair, Event::Open);
            }
            Event::Arrive { server: true, segment } => match (server, segment) {
                (Listen, Syn) => {
                    self.enter(pair, true, SynReceived);
                    self.send(now, pair, false, SynAck);
                }
                (SynReceived, Ack) => self.enter(pair, true, Established),
                (Established, Fin) => {
                    self.enter(pair, true, CloseWait);
                    self.send(now, pair, false, Ack);
                    self.at(now + MAX_DELAY_NS, pair, Event::Close { server: true });
                }
                (LastAck, Ack) => {
                    self.enter(pair, true, Closed);
                    self.enter(pair, true, Listen);
                }
                other => unreachable!("server of pair {pair} in {other:?}"),
            },
            Event::Arrive { server: false, segment } => match (client, segment) {
                (SynSent, SynAck) => {
                    self.enter(pair, false, Established);
                    self.send(now, pair, true, Ack);
                    self.at(now + MAX_DELAY_NS, pair, Event::Close { server: false });
                }
                (FinWait1, Ack) => self.enter(pair, false, FinWait2),
                (FinWait2, Fin) => {
                    self.enter(pair, false, TimeWait);
                    self.send(now, pair, true, Ack);
                    self.at(now + TIME_WAIT_NS, pair, Event::TimeWaitEnds);
                }
                other => unreachable!("client of pair {pair} in {other:?}"),
            },
        }
    }
}
