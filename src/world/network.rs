//! The network: which host holds an address, the route between two hosts,
//! each link direction with its parameters, draw key and transmitter
//! queue, the hosts' own link flows, and the slab of packets in flight.
//!
//! It knows endpoints only as numbers carried in a [`Packet`]; the world
//! asks it for a route, for a link direction's verdict and for a slot to
//! park a packet in until it arrives.

use super::hash::{FastBuild, FastMap};
use super::{HOST_FLOW_BASE, Packet};
use crate::link::{Fate, FlowState, LinkParams, LinkVerdict, QueueState};
use crate::model::{HostId, Model};
use crate::rng::{Key, component};
use crate::time::{Duration, Instant};

/// Whose link draws a segment takes: an endpoint's own stream or its
/// host's (a host answering for a closed port).
pub(super) enum Flow<'a> {
    /// The host's own stream.
    Host(HostId),
    /// An endpoint's stream: its id and its draw state.
    Endpoint { id: u64, state: &'a mut FlowState },
}

/// Routes, link directions and their queues, the packet slab.
pub(super) struct Network {
    host_of_addr: FastMap<u32, HostId>,
    /// The link direction from one host to another.
    routes: FastMap<(HostId, HostId), u32>,
    /// Each link direction's parameters and the key of its draws.
    link_dirs: Vec<(LinkParams, Key)>,
    /// The transmitter of each link direction, shared by its flows.
    queues: Vec<QueueState>,
    /// The draws of segments a host sends in its own name.
    host_flows: Vec<FlowState>,
    /// Packets in flight, by the slot their `Arrive` event names.
    packets: Vec<Packet>,
    free_packets: Vec<u32>,
    /// The `pkt` number of the next segment sent.
    next_pkt: u64,
    /// Whether sends are numbered per sender and connection: set once, at
    /// building, when fates are recorded or replayed (`Fate` faults name
    /// the nth send); otherwise nothing is counted on the send path.
    numbers_sends: bool,
    /// Segments sent so far per (sender name id, connection), while
    /// `numbers_sends`.
    sends_by: FastMap<(u32, u32), u32>,
}

impl Network {
    /// Two directions per link of `model`, numbered in link order (a to b,
    /// then b to a), each with its own draw key. `numbers_sends`: whether
    /// fates are recorded or replayed, so each send needs its number.
    pub fn new(model: &Model, hasher: FastBuild, numbers_sends: bool) -> Network {
        let mut link_dirs = Vec::new();
        let mut routes = FastMap::with_hasher(hasher);
        for (i, link) in model.links.iter().enumerate() {
            let base = component::LINK_BASE + 2 * i as u64;
            routes.insert((link.a, link.b), link_dirs.len() as u32);
            link_dirs.push((link.ab, Key::derive(model.seed, base)));
            routes.insert((link.b, link.a), link_dirs.len() as u32);
            link_dirs.push((link.ba, Key::derive(model.seed, base + 1)));
        }
        let mut host_of_addr = FastMap::with_hasher(hasher);
        for (i, h) in model.hosts.iter().enumerate() {
            host_of_addr.insert(h.addr, i as HostId);
        }
        Network {
            host_of_addr,
            routes,
            queues: vec![QueueState::default(); link_dirs.len()],
            link_dirs,
            host_flows: vec![FlowState::default(); model.hosts.len()],
            packets: Vec::new(),
            free_packets: Vec::new(),
            next_pkt: 0,
            numbers_sends,
            sends_by: FastMap::with_hasher(hasher),
        }
    }

    /// Pre-makes `n` free packet slots, handed out from the top down (the
    /// determinism check's perturbation).
    pub fn add_spare_slots(&mut self, spare: Packet, n: u32) {
        self.packets = vec![spare; n as usize];
        self.free_packets = (0..n).collect();
    }

    /// The host that holds `addr`.
    pub fn host_at(&self, addr: u32) -> Option<HostId> {
        self.host_of_addr.get(&addr).copied()
    }

    /// The link direction from host `from` to host `to`, if a link joins
    /// them.
    pub fn route(&self, from: HostId, to: HostId) -> Option<u32> {
        self.routes.get(&(from, to)).copied()
    }

    /// Numbers a new transmission (`pkt` in the trace), from 0.
    pub fn number_transmission(&mut self) -> u64 {
        let n = self.next_pkt;
        self.next_pkt += 1;
        n
    }

    /// Numbers a send of `sender` (a name id) on connection `conn` among
    /// its sends there, from 1; 0 when sends are not numbered.
    pub fn number_send(&mut self, sender: u32, conn: u32) -> u32 {
        if !self.numbers_sends {
            return 0;
        }
        let n = self.sends_by.get_or_default((sender, conn));
        *n += 1;
        *n
    }

    /// The link direction `dir` decides on a segment of `bytes` on the
    /// wire sent at `now`: by `fate` if one is replayed, else by `flow`'s
    /// next draws. The parameters come along for recording the decision.
    pub fn judge(
        &mut self,
        dir: u32,
        flow: Flow<'_>,
        fate: Option<&Fate>,
        now: Instant,
        bytes: u64,
    ) -> (LinkVerdict, &LinkParams) {
        let (params, key) = &self.link_dirs[dir as usize];
        let queue = &mut self.queues[dir as usize];
        let verdict = match fate {
            Some(fate) => params.replay(fate, queue, now, bytes),
            None => {
                let (flow_id, state) = match flow {
                    Flow::Host(h) => (HOST_FLOW_BASE | u64::from(h), &mut self.host_flows[h as usize]),
                    Flow::Endpoint { id, state } => (id, state),
                };
                params.judge(key, flow_id, state, queue, now, bytes)
            }
        };
        (verdict, params)
    }

    /// Bytes link direction `dir` holds at `now`, waiting or being
    /// serialized: what its transmitter still has to send at `rate_bps`;
    /// `None` for a direction without a rate limit.
    pub fn backlog_bytes(&self, dir: u32, now: Instant) -> Option<u64> {
        let rate = self.link_dirs[dir as usize].0.rate_bps?;
        let busy_ns = self.queues[dir as usize].busy_until.saturating_since(now).as_nanos();
        Some((u128::from(busy_ns) * u128::from(rate) / 8 / 1_000_000_000) as u64)
    }

    /// How long a segment may spend on link direction `dir` (arrival
    /// minus send) before it is dropped as expired; `None`: no limit.
    pub fn lifetime(&self, dir: u32) -> Option<Duration> {
        self.link_dirs[dir as usize].0.lifetime
    }

    /// Keeps `pkt` in a slot until it arrives; the slot's number goes in
    /// its `Arrive` event.
    pub fn park(&mut self, pkt: Packet) -> u32 {
        match self.free_packets.pop() {
            Some(s) => {
                self.packets[s as usize] = pkt;
                s
            }
            None => {
                self.packets.push(pkt);
                (self.packets.len() - 1) as u32
            }
        }
    }

    /// The packet parked in `slot`, left there.
    pub fn parked(&self, slot: u32) -> &Packet {
        &self.packets[slot as usize]
    }

    /// Takes the packet out of `slot`, freeing the slot.
    pub fn take(&mut self, slot: u32) -> Packet {
        self.free_packets.push(slot);
        self.packets[slot as usize]
    }

    /// Packets parked and not yet arrived.
    pub fn in_flight(&self) -> u64 {
        (self.packets.len() - self.free_packets.len()) as u64
    }
}
