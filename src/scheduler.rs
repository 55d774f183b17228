//! The discrete-event scheduler: a virtual clock and a queue of future
//! events.
//!
//! Events are ordered by `(time, seq)`, where `seq` counts insertions. That
//! key is the defined order for events at the same instant: first scheduled,
//! first run, on every machine and every run. Payloads live in a slab beside
//! the heap so heap entries stay small.

use crate::time::Instant;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    time: Instant,
    seq: u64,
    slot: u32,
}

/// A priority queue of events of type `E` over virtual time.
#[derive(Debug)]
pub struct Scheduler<E> {
    heap: BinaryHeap<Reverse<Key>>,
    slots: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
    now: Instant,
}

impl<E> Default for Scheduler<E> {
    fn default() -> Self {
        Scheduler::new()
    }
}

impl<E> Scheduler<E> {
    pub fn new() -> Scheduler<E> {
        Scheduler { heap: BinaryHeap::new(), slots: Vec::new(), free: Vec::new(), next_seq: 0, now: Instant::ZERO }
    }

    /// The current virtual time: the time of the last event popped.
    pub fn now(&self) -> Instant {
        self.now
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Schedules `event` at `time`, which must not be in the past.
    pub fn schedule(&mut self, time: Instant, event: E) {
        assert!(self.now <= time, "event scheduled in the past");
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(event);
                slot
            }
            None => {
                self.slots.push(Some(event));
                u32::try_from(self.slots.len() - 1).expect("more than 2^32 pending events")
            }
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Key { time, seq, slot }));
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(k)| k.time)
    }

    /// Removes the earliest event and advances the clock to its time.
    pub fn pop(&mut self) -> Option<(Instant, E)> {
        let Reverse(key) = self.heap.pop()?;
        // Time never runs backwards: `schedule` refuses the past.
        assert!(self.now <= key.time, "virtual time went backwards");
        self.now = key.time;
        let event = self.slots[key.slot as usize].take().expect("slot of a pending event is empty");
        self.free.push(key.slot);
        Some((key.time, event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut s = Scheduler::new();
        let t = Instant::from_nanos(5);
        s.schedule(t, "b");
        s.schedule(Instant::from_nanos(1), "a");
        s.schedule(t, "c");
        s.schedule(t, "d");
        let order: Vec<_> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!["a", "b", "c", "d"]);
        assert_eq!(s.now(), t);
    }

    #[test]
    fn slots_are_reused() {
        let mut s = Scheduler::new();
        for i in 0..100u64 {
            s.schedule(Instant::from_nanos(i), i);
            assert_eq!(s.pop(), Some((Instant::from_nanos(i), i)));
        }
        assert_eq!(s.slots.len(), 1);
    }
}
