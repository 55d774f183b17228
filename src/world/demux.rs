//! Demultiplexing: which endpoint a segment is for. The 4-tuple table
//! (each 4-tuple owned by at most one endpoint), the listeners by address
//! and port with their idle listening endpoints, and each host's next
//! ephemeral port.
//!
//! The demux knows endpoints only by number: whether an owner is still
//! open is the caller's to say, and so is an owner's 4-tuple (the table
//! stores the owner's number alone and asks the caller for the 4-tuple of
//! each candidate, see [`IdTable`]; an endpoint's 4-tuple never changes
//! while it is bound). An endpoint's `bound` flag (kept beside the
//! endpoint, for the arrival fast path) is true exactly while the table
//! names it as its 4-tuple's owner; the world keeps the two in step.

use super::hash::{FastBuild, FastMap, IdTable};
use crate::model::HostId;
use std::collections::VecDeque;

/// First ephemeral port (IANA dynamic range, RFC 6335).
pub(super) const EPHEMERAL_FIRST: u16 = 49152;

/// A 4-tuple, from the point of view of the endpoint that owns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FourTuple {
    pub local_addr: u32,
    pub local_port: u16,
    pub remote_addr: u32,
    pub remote_port: u16,
}

impl std::hash::Hash for FourTuple {
    /// Two words instead of four fields: demultiplexing hashes one of
    /// these per segment that misses its receiver hint.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64((u64::from(self.local_addr) << 32) | u64::from(self.remote_addr));
        state.write_u32((u32::from(self.local_port) << 16) | u32::from(self.remote_port));
    }
}

/// A listener while the run goes on.
pub(super) struct ListenerState {
    /// Its listening endpoints not yet given a connection, oldest first.
    pub idle: VecDeque<u32>,
    /// Connections it took that have not fallen back to LISTEN (counted
    /// against its backlog).
    pub accepted: u32,
    /// Its application is listening.
    pub open: bool,
    /// Listening endpoints made so far (numbers their flows).
    pub spawned: u32,
    /// The connection number its listening endpoints report under.
    pub conn: u32,
}

pub(super) struct Demux {
    /// 4-tuple → the endpoint that owns it.
    owners: IdTable<FourTuple>,
    pub listeners: Vec<ListenerState>,
    /// (address, port) → listener.
    listener_at: FastMap<(u32, u16), u32>,
    /// Per host, the next ephemeral port to try.
    next_ephemeral: Vec<u16>,
}

impl Demux {
    pub fn new(hosts: usize, endpoints: usize, hasher: FastBuild) -> Demux {
        Demux {
            owners: IdTable::with_capacity_and_hasher(endpoints, hasher),
            listeners: Vec::new(),
            listener_at: FastMap::with_hasher(hasher),
            next_ephemeral: vec![EPHEMERAL_FIRST; hosts],
        }
    }

    /// Adds listener number `listeners.len()` on `addr`:`port`.
    pub fn add_listener(&mut self, addr: u32, port: u16, conn: u32) {
        let l = self.listeners.len() as u32;
        self.listeners.push(ListenerState { idle: VecDeque::new(), accepted: 0, open: false, spawned: 0, conn });
        self.listener_at.insert((addr, port), l);
    }

    /// The endpoint that owns `key`, if one does; `tuple_of` says an
    /// endpoint's 4-tuple.
    pub fn owner(&self, key: &FourTuple, tuple_of: impl Fn(u32) -> FourTuple) -> Option<u32> {
        self.owners.get(key, tuple_of)
    }

    pub fn listener_at(&self, addr: u32, port: u16) -> Option<u32> {
        self.listener_at.get(&(addr, port)).copied()
    }

    /// Makes `ep` the owner of `key` (its 4-tuple, as `tuple_of` says);
    /// returns the endpoint it displaced.
    pub fn bind(&mut self, key: FourTuple, ep: u32, tuple_of: impl Fn(u32) -> FourTuple) -> Option<u32> {
        self.owners.insert(&key, ep, tuple_of).filter(|&old| old != ep)
    }

    /// Forgets `key` if `ep` owns it.
    pub fn unbind(&mut self, key: &FourTuple, ep: u32) {
        self.owners.remove(key, ep);
    }

    /// The next ephemeral port of `host` (at `addr`) whose 4-tuple with
    /// `remote` is free or owned by an endpoint `is_closed` says is
    /// CLOSED; `None` if every port is taken.
    pub fn ephemeral_port(
        &mut self,
        host: HostId,
        addr: u32,
        remote: (u32, u16),
        tuple_of: impl Fn(u32) -> FourTuple,
        is_closed: impl Fn(u32) -> bool,
    ) -> Option<u16> {
        for _ in 0..=(u16::MAX - EPHEMERAL_FIRST) {
            let port = self.next_ephemeral[host as usize];
            self.next_ephemeral[host as usize] = if port == u16::MAX { EPHEMERAL_FIRST } else { port + 1 };
            let key = FourTuple { local_addr: addr, local_port: port, remote_addr: remote.0, remote_port: remote.1 };
            if self.owner(&key, &tuple_of).is_none_or(&is_closed) {
                return Some(port);
            }
        }
        None
    }
}
