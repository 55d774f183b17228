//! The discrete-event scheduler: a virtual clock and a queue of future
//! events.
//!
//! Events are ordered by `(time, seq)`, where `seq` counts insertions. That
//! key is the defined order for events at the same instant: first scheduled,
//! first run, on every machine and every run.
//!
//! Pending events wait in a 4-ary min-heap ordered by the full key. When
//! it grows past `SPILL_AT` entries (a run of a hundred connections or
//! more, never a small one), a second tier opens: events due at or after a *horizon* wait
//! unordered in buckets of [`BUCKET_NS`] of virtual time (a ring covering
//! the next few seconds, and a heap for anything beyond it). When the heap
//! runs dry, the next non-empty bucket is sorted once into a *run* (a
//! vector, earliest last) and the horizon moves past it; events scheduled
//! before the horizon meanwhile join the heap, and each pop takes the
//! earlier of the run's last entry and the heap's first. Every event
//! before the horizon is in the heap or the run and every event in a
//! bucket is at or after it (once the last bucket of time is taken, every
//! event waits in the heap or the run), so events still pop in exact key
//! order; the tiers only decide where an event waits. Sorting a bucket costs a few
//! comparisons an entry (two radix passes over a big one; up to four for the
//! last bucket of time, which also takes the far heap's), against a full
//! sift-down of a heap of thousands for every pop (a third of a pop's
//! instructions at 10^5 connections). This matters at scale: with
//! 10^6 connections a run has 10^6 retransmission and TIME-WAIT timers
//! pending seconds ahead, and one big heap pays several cache misses per
//! event to order them all, while the buckets take them with one append
//! each and the heap holds about a millisecond of events, in cache.
//!
//! Heap entries are 16 bytes: the time, then the sequence number and the
//! event packed into one word (events are 32-bit [`Token`]s). The four
//! children of a node share one 64-byte cache line (the root sits in the
//! last slot of the first line), and vacant slots hold an entry later than
//! any real one, so a node's children are compared without bounds checks.
//! Events that become stale (a timer moved) are not removed; their owner
//! ignores them when they pop.
//!
//! Sequence numbers are 32 bits. When they run out, the pending entries are
//! renumbered in their order, which keeps every ordering exactly as it was.

use crate::time::Instant;
use std::marker::PhantomData;

/// An event as the scheduler stores it: 32 bits.
pub trait Token: Copy {
    /// The event packed into 32 bits.
    fn to_bits(self) -> u32;
    /// The event back from its bits; `from_bits(e.to_bits()) == e`.
    fn from_bits(bits: u32) -> Self;
}

impl Token for u32 {
    fn to_bits(self) -> u32 {
        self
    }
    fn from_bits(bits: u32) -> u32 {
        bits
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    time: u64,
    /// `seq << 32 | token`. Sequence numbers are unique, so comparing the
    /// whole word orders entries by `seq`.
    order: u64,
}

impl Entry {
    /// Later than every real entry: real sequence numbers stay below
    /// `SEQ_LIMIT`.
    const VACANT: Entry = Entry { time: u64::MAX, order: u64::MAX };

    #[inline(always)]
    fn key(self) -> u128 {
        (u128::from(self.time) << 64) | u128::from(self.order)
    }

    fn token(self) -> u32 {
        self.order as u32
    }

    fn with_seq(self, seq: u32) -> Entry {
        Entry { time: self.time, order: (u64::from(seq) << 32) | u64::from(self.token()) }
    }
}

/// The first sequence number never handed out; reaching it renumbers.
const SEQ_LIMIT: u32 = u32::MAX;
/// Pending events in the heap beyond which later ones move to buckets.
/// Small runs (a sweep makes thousands) never get there and never build
/// the buckets. Past it, a heap of about a millisecond's events pops in
/// fewer steps than one of every pending timer: at 10^3 connections a pop
/// from the whole heap (a few thousand entries) cost about 380
/// instructions, and the run costs 1.8 % fewer with the buckets
/// (callgrind, `scale-1k`).
const SPILL_AT: usize = 1 << 8;
/// Width of one bucket: 2^20 ns, about a millisecond.
pub const BUCKET_NS: u64 = 1 << BUCKET_SHIFT;
const BUCKET_SHIFT: u32 = 20;
/// Buckets in the ring: 4096 of them cover about 4.4 s ahead, past the
/// usual retransmission timeouts and a TIME-WAIT of short MSL.
const RING: usize = 4096;
/// Entries a bucket makes room for when it first takes one.
const FIRST_BUCKET_CAPACITY: usize = 32;
/// Entries a drained bucket may keep room for.
const KEPT_BUCKET_CAPACITY: usize = 256;

/// A priority queue of events of type `E` over virtual time.
#[derive(Debug)]
pub struct Scheduler<E> {
    /// Pending events due before the horizon of `later` (all of them
    /// while there is no `later`) that were scheduled there, in key order.
    near: Heap,
    /// The last bucket taken from `later`, sorted with its earliest entry
    /// last: the rest of the events due before the horizon.
    run: Vec<Entry>,
    /// Working memory for sorting a bucket into the run; it stays the size
    /// of the largest bucket sorted (under 1 MiB at 10^6 connections).
    scratch: Vec<Entry>,
    later: Option<Box<Later>>,
    next_seq: u32,
    now: Instant,
    event: PhantomData<E>,
}

/// The events due at or after the horizon.
#[derive(Debug)]
struct Later {
    /// A multiple of `BUCKET_NS`.
    horizon: u64,
    /// Events due in `[horizon, horizon + RING * BUCKET_NS)`, in the bucket
    /// of their time (slot `time / BUCKET_NS % RING`), unordered.
    ring: Vec<Vec<Entry>>,
    ring_len: usize,
    /// Bit `i` set when `ring[i]` holds entries: empty buckets are
    /// skipped in one step, however long the gap.
    occupied: [u64; RING / 64],
    /// Events due at or after `horizon + RING * BUCKET_NS`.
    far: Heap,
    /// The last bucket of time was taken (the horizon cannot move past
    /// it): every event still pending or yet to come waits in the heap or
    /// the run.
    ended: bool,
}

impl<E: Token> Default for Scheduler<E> {
    fn default() -> Self {
        Scheduler::new()
    }
}

impl<E: Token> Scheduler<E> {
    /// An empty scheduler at time zero.
    pub fn new() -> Scheduler<E> {
        Scheduler {
            near: Heap::default(),
            run: Vec::new(),
            scratch: Vec::new(),
            later: None,
            next_seq: 0,
            now: Instant::ZERO,
            event: PhantomData,
        }
    }

    /// Makes room for `n` pending events up front (as many as the heap
    /// holds before it spills), so a small run grows no allocation.
    pub fn reserve(&mut self, n: usize) {
        let lines = (n.min(SPILL_AT) + PAD).div_ceil(ARITY);
        self.near.lines.reserve(lines.saturating_sub(self.near.lines.len()));
    }

    /// The current virtual time: the time of the last event popped.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Events pending, stale timer wake-ups included.
    pub fn len(&self) -> usize {
        self.near.len + self.run.len() + self.later.as_ref().map_or(0, |l| l.len())
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Schedules `event` at `time`, which must not be in the past.
    pub fn schedule(&mut self, time: Instant, event: E) {
        assert!(self.now <= time, "event scheduled in the past");
        if self.next_seq == SEQ_LIMIT {
            self.renumber();
        }
        let entry = Entry { time: time.as_nanos(), order: u64::from(event.to_bits()) }.with_seq(self.next_seq);
        self.next_seq += 1;
        self.place(entry);
    }

    /// The time of the next event, if any.
    pub fn peek_time(&mut self) -> Option<Instant> {
        self.peek().map(|(t, _)| t)
    }

    /// The next event and its time, if any, without removing it.
    pub fn peek(&mut self) -> Option<(Instant, E)> {
        self.fill_near();
        let top = match (self.near.first(), self.run.last()) {
            (Some(heap), Some(&run)) => Some(if run.key() < heap.key() { run } else { heap }),
            (heap, run) => heap.or(run.copied()),
        };
        top.map(|top| (Instant::from_nanos(top.time), E::from_bits(top.token())))
    }

    /// The event the next [`Scheduler::pop`] returns, when it is already at
    /// hand: no bucket is moved to find it (`None` then, although events
    /// may be pending).
    pub fn next_at_hand(&self) -> Option<E> {
        let top = match (self.near.first(), self.run.last()) {
            (Some(heap), Some(&run)) => Some(if run.key() < heap.key() { run } else { heap }),
            (heap, run) => heap.or(run.copied()),
        }?;
        Some(E::from_bits(top.token()))
    }

    /// Removes the earliest event and advances the clock to its time.
    pub fn pop(&mut self) -> Option<(Instant, E)> {
        self.fill_near();
        let top = match (self.near.first(), self.run.last()) {
            (Some(heap), Some(run)) if run.key() < heap.key() => self.run.pop(),
            (Some(_), _) => self.near.pop(),
            (None, _) => self.run.pop(),
        }?;
        let time = Instant::from_nanos(top.time);
        // Time never runs backwards: `schedule` refuses the past.
        assert!(self.now <= time, "virtual time went backwards");
        self.now = time;
        Some((time, E::from_bits(top.token())))
    }

    fn place(&mut self, entry: Entry) {
        match &mut self.later {
            Some(later) if entry.time >= later.horizon && !later.ended => later.place(entry),
            _ => {
                self.near.push(entry);
                if self.later.is_none() && self.near.len > SPILL_AT {
                    self.spill();
                }
            }
        }
    }

    /// The heap grew big: events from the next bucket on move out to
    /// `later`, and stay there from now on.
    fn spill(&mut self) {
        let Some(horizon) = ((self.now.as_nanos() >> BUCKET_SHIFT) + 1).checked_mul(BUCKET_NS) else { return };
        let mut later = Box::new(Later {
            horizon,
            ring: vec![Vec::new(); RING],
            ring_len: 0,
            occupied: [0; RING / 64],
            far: Heap::default(),
            ended: false,
        });
        let mut kept = Heap::default();
        while let Some(entry) = self.near.pop() {
            if entry.time < horizon { kept.push(entry) } else { later.place(entry) }
        }
        self.near = kept;
        self.later = Some(later);
    }

    /// Moves the next bucket into the run when the heap and the run are
    /// both empty, so they hold the earliest event (or nothing is
    /// pending).
    fn fill_near(&mut self) {
        if let Some(later) = &mut self.later
            && self.near.len == 0
            && self.run.is_empty()
            && later.len() > 0
        {
            later.next_bucket(&mut self.run, &mut self.scratch);
        }
    }

    /// Gives the pending entries fresh sequence numbers `0..len` in their
    /// current order, so the next insertion still comes after all of them.
    fn renumber(&mut self) {
        let mut entries: Vec<Entry> = Vec::with_capacity(self.len());
        while let Some(e) = self.near.pop() {
            entries.push(e);
        }
        entries.append(&mut self.run);
        if let Some(later) = &mut self.later {
            while let Some(e) = later.far.pop() {
                entries.push(e);
            }
            for bucket in &mut later.ring {
                entries.append(bucket);
            }
            later.ring_len = 0;
            later.occupied = [0; RING / 64];
        }
        entries.sort_unstable_by_key(|e| e.key());
        for (seq, e) in entries.iter().enumerate() {
            let seq = u32::try_from(seq).expect("fewer pending events than sequence numbers");
            self.place(e.with_seq(seq));
        }
        self.next_seq = entries.len() as u32;
    }
}

impl Later {
    fn len(&self) -> usize {
        self.ring_len + self.far.len
    }

    fn ring_end(&self) -> u64 {
        self.horizon.saturating_add(RING as u64 * BUCKET_NS)
    }

    /// Keeps an event due at or after the horizon.
    fn place(&mut self, entry: Entry) {
        if entry.time < self.ring_end() {
            let slot = slot_of(entry.time);
            let bucket = &mut self.ring[slot];
            if bucket.capacity() == 0 {
                // One allocation for a bucket's first entries instead of
                // growing through 4, 8 and 16 (a bucket holds a
                // millisecond of events, usually a few dozen).
                bucket.reserve(FIRST_BUCKET_CAPACITY);
            }
            bucket.push(entry);
            self.occupied[slot / 64] |= 1 << (slot % 64);
            self.ring_len += 1;
        } else {
            self.far.push(entry);
        }
    }

    /// Moves the next bucket with events into `run` (empty), sorted with
    /// its earliest entry last, and the horizon past it. Only when
    /// something is pending here.
    fn next_bucket(&mut self, run: &mut Vec<Entry>, scratch: &mut Vec<Entry>) {
        if self.ring_len == 0 {
            // Nothing in the ring: jump to the bucket of the earliest far
            // event.
            let first = self.far.first().expect("an event is pending");
            self.horizon = self.horizon.max(first.time & !(BUCKET_NS - 1));
        } else {
            // Jump over empty buckets to the next one with entries.
            self.horizon += self.empty_buckets_ahead() * BUCKET_NS;
        }
        // The ring moved on: far events it now covers join it.
        self.take_from_far();
        let slot = slot_of(self.horizon);
        self.ring_len -= self.ring[slot].len();
        self.occupied[slot / 64] &= !(1 << (slot % 64));
        let next = self.horizon.checked_add(BUCKET_NS);
        if next.is_none() {
            // The last bucket of time: everything left is in it, and what
            // comes later joins the heap.
            while let Some(entry) = self.far.pop() {
                self.ring[slot].push(entry);
            }
            self.ended = true;
        }
        let bucket = &mut self.ring[slot];
        sort_run(bucket, run, scratch);
        // The slot now holds the run's old memory (an earlier bucket's).
        // If big, it goes back: the slot is next used a whole ring later,
        // and a million-connection run would otherwise hold every bucket's
        // largest size at once (handing it to the next bucket to open
        // instead ratchets every such buffer up to the largest bucket's
        // size: 7 % more peak memory at 10^6). Small ones are kept (at most
        // 4 KiB each), saving an allocation per bucket.
        if bucket.capacity() > KEPT_BUCKET_CAPACITY {
            *bucket = Vec::new();
        }
        if let Some(next) = next {
            self.horizon = next;
            self.take_from_far();
        }
    }

    /// Moves far events that the ring now covers into their buckets.
    fn take_from_far(&mut self) {
        let end = self.ring_end();
        while self.far.first().is_some_and(|e| e.time < end) {
            let entry = self.far.pop().expect("a first entry");
            self.place(entry);
        }
    }

    /// Empty buckets from the horizon's up to the first occupied one (the
    /// ring holds entries).
    fn empty_buckets_ahead(&self) -> u64 {
        let start = slot_of(self.horizon);
        if self.occupied[start / 64] & (1 << (start % 64)) != 0 {
            return 0;
        }
        // The bitmap read from the horizon's slot on, 64 slots at a time.
        for i in 0..RING / 64 {
            let from = (start + 64 * i) % RING;
            let (w, b) = (from / 64, from % 64);
            let low = self.occupied[w] >> b;
            let high = if b == 0 { 0 } else { self.occupied[(w + 1) % (RING / 64)] << (64 - b) };
            let word = low | high;
            if word != 0 {
                return (64 * i) as u64 + u64::from(word.trailing_zeros());
            }
        }
        unreachable!("the ring holds entries")
    }
}

/// Runs of at least this many entries are sorted by radix, shorter ones
/// by comparison.
const RADIX_FROM: usize = 256;
/// Bits of time one radix pass sorts by: a bucket's 2^20 ns take two.
const RADIX_BITS: u32 = 10;

/// Moves a bucket's entries into `run` (empty) in key order, earliest
/// last.
///
/// A bucket's entries with equal times already stand in sequence order
/// (each joins its bucket when scheduled, or in key order when moved from
/// the heap into an empty bucket; the last bucket of time takes the far
/// heap's entries after its own, all at the last instant, which none of
/// its own is), so a stable sort by time alone puts them in key order: a
/// radix sort of two passes over the entries (a bucket spans 2^20 ns; the
/// last bucket of time, holding the far heap's too, takes up to four, and
/// one spread over 2^32 ns or more is sorted by comparison) instead of a dozen comparisons of 128-bit keys an entry (5 % of the
/// instructions of a run at 10^5 connections). Each radix pass moves every
/// entry exactly once (a permutation), and the result is checked: a run
/// found out of key order is sorted by key, so the order never depends on
/// that argument.
fn sort_run(bucket: &mut Vec<Entry>, run: &mut Vec<Entry>, scratch: &mut Vec<Entry>) {
    // Swapped, not appended: entries left in the run would be lost.
    assert!(run.is_empty(), "a bucket moves into an empty run");
    if !radix_sorted(bucket, scratch) {
        // Keys are unique (sequence numbers are), so the unstable sort has
        // one result.
        bucket.sort_unstable_by_key(|e| std::cmp::Reverse(e.key()));
    }
    // The bucket's memory becomes the run's, and the run's the bucket's:
    // no entry is copied.
    std::mem::swap(run, bucket);
}

/// Sorts `bucket` in key order, earliest last, by a stable radix sort on
/// time (least significant digit first), when it is long enough and that
/// gives key order; otherwise leaves it in some order and says `false`.
fn radix_sorted(bucket: &mut [Entry], scratch: &mut Vec<Entry>) -> bool {
    if bucket.len() < RADIX_FROM {
        return false;
    }
    let first = bucket[0].time;
    let (lo, hi) = bucket.iter().fold((first, first), |(lo, hi), e| (lo.min(e.time), hi.max(e.time)));
    if hi - lo >= 1 << 32 {
        return false;
    }
    let n = bucket.len();
    // Scratch memory only grows: filling it is paid once, not per bucket.
    if scratch.len() < n {
        scratch.resize(n, Entry::VACANT);
    }
    let scratch = &mut scratch[..n];
    let passes = (u64::BITS - (hi - lo).leading_zeros()).div_ceil(RADIX_BITS);
    for pass in 0..passes {
        let shift = pass * RADIX_BITS;
        if pass % 2 == 0 {
            scatter_by_digit(bucket, scratch, lo, shift);
        } else {
            scatter_by_digit(scratch, bucket, lo, shift);
        }
    }
    if passes % 2 == 1 {
        bucket.copy_from_slice(scratch);
    }
    if !bucket.windows(2).all(|w| w[0].key() < w[1].key()) {
        return false;
    }
    bucket.reverse();
    true
}

/// One radix pass: `src` into `dst` (as long) by the `RADIX_BITS` of time
/// since `lo` from bit `shift` on, keeping the order of equal digits.
fn scatter_by_digit(src: &[Entry], dst: &mut [Entry], lo: u64, shift: u32) {
    const DIGITS: usize = 1 << RADIX_BITS;
    let digit = |e: &Entry| ((e.time - lo) >> shift) as usize & (DIGITS - 1);
    let mut next = [0u32; DIGITS];
    for e in src {
        next[digit(e)] += 1;
    }
    let mut start = 0;
    for slot in next.iter_mut() {
        let n = *slot;
        *slot = start;
        start += n;
    }
    for e in src {
        let d = digit(e);
        dst[next[d] as usize] = *e;
        next[d] += 1;
    }
}

/// The ring slot of the bucket holding `time`.
fn slot_of(time: u64) -> usize {
    (time >> BUCKET_SHIFT) as usize % RING
}

/// A 4-ary min-heap of entries, four children to a cache line.
#[derive(Debug, Default)]
struct Heap {
    lines: Vec<Line>,
    len: usize,
}

/// Four entries on one cache line: the children of one node.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct Line([Entry; ARITY]);

const ARITY: usize = 4;
/// Logical index `i` lives in physical slot `i + PAD`, so the children of
/// `i` (logical `4i+1..=4i+4`) fill line `i + 1` exactly.
const PAD: usize = ARITY - 1;

impl Heap {
    fn first(&self) -> Option<Entry> {
        (self.len > 0).then(|| self.at(0))
    }

    fn push(&mut self, entry: Entry) {
        let i = self.len;
        self.len += 1;
        if (i + PAD) / ARITY == self.lines.len() {
            self.lines.push(Line([Entry::VACANT; ARITY]));
        }
        self.sift_up(i, entry);
    }

    fn pop(&mut self) -> Option<Entry> {
        let top = self.first()?;
        self.len -= 1;
        let last = std::mem::replace(self.at_mut(self.len), Entry::VACANT);
        if self.len > 0 {
            self.sift_down(0, last);
        }
        Some(top)
    }

    #[inline(always)]
    fn at(&self, i: usize) -> Entry {
        let p = i + PAD;
        self.lines[p / ARITY].0[p % ARITY]
    }

    #[inline(always)]
    fn at_mut(&mut self, i: usize) -> &mut Entry {
        let p = i + PAD;
        &mut self.lines[p / ARITY].0[p % ARITY]
    }

    fn sift_up(&mut self, mut i: usize, entry: Entry) {
        let key = entry.key();
        while i > 0 {
            let parent = (i - 1) / ARITY;
            let above = self.at(parent);
            if key >= above.key() {
                break;
            }
            *self.at_mut(i) = above;
            i = parent;
        }
        *self.at_mut(i) = entry;
    }

    fn sift_down(&mut self, mut i: usize, entry: Entry) {
        let key = entry.key();
        // Node `i` has children while its first child is in the heap; they
        // fill line `i + 1`, vacant slots compare as latest.
        while ARITY * i + 1 < self.len {
            let children = &self.lines[i + 1].0;
            // The earliest of four as a tournament: the two first-round
            // comparisons are independent, so they run side by side.
            let keys = children.map(|c| c.key());
            let (left, left_key) = if keys[1] < keys[0] { (1, keys[1]) } else { (0, keys[0]) };
            let (right, right_key) = if keys[3] < keys[2] { (3, keys[3]) } else { (2, keys[2]) };
            let (best, best_key) = if right_key < left_key { (right, right_key) } else { (left, left_key) };
            if best_key >= key {
                break;
            }
            let child = children[best];
            *self.at_mut(i) = child;
            i = ARITY * i + 1 + best;
        }
        *self.at_mut(i) = entry;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn four_entries_fill_a_cache_line() {
        assert_eq!(std::mem::size_of::<Entry>(), 16);
        assert_eq!(std::mem::size_of::<Line>(), 64);
        assert_eq!(std::mem::align_of::<Line>(), 64);
    }

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut s = Scheduler::new();
        let t = Instant::from_nanos(5);
        s.schedule(t, 2u32);
        s.schedule(Instant::from_nanos(1), 1);
        s.schedule(t, 3);
        s.schedule(t, 4);
        let order: Vec<_> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec![1, 2, 3, 4]);
        assert_eq!(s.now(), t);
    }

    /// The heap pops in (time, seq) order for any insertion pattern.
    #[test]
    fn pops_in_key_order_for_random_inserts() {
        let mut s = Scheduler::new();
        let mut x = 12345u64;
        let mut expected = Vec::new();
        for i in 0..5000u64 {
            x = xorshift(x);
            let t = x % 1000;
            s.schedule(Instant::from_nanos(t), i as u32);
            expected.push((t, i as u32));
        }
        expected.sort();
        assert_eq!(drain(&mut s), expected);
    }

    /// Running out of sequence numbers renumbers the pending events without
    /// changing their order, equal times included.
    #[test]
    fn renumbering_keeps_the_order() {
        let mut s = Scheduler::new();
        s.next_seq = SEQ_LIMIT - 5;
        let mut expected = Vec::new();
        for i in 0..40u32 {
            let t = u64::from(i / 5);
            s.schedule(Instant::from_nanos(t), i);
            expected.push((t, i));
            if i % 4 == 3 {
                // Interleave pops so renumbering meets a partly drained heap.
                expected.sort();
                let (t, e) = s.pop().expect("pending");
                assert_eq!((t.as_nanos(), e), expected.remove(0));
            }
        }
        assert!(s.next_seq < 100, "renumbered");
        expected.sort();
        assert_eq!(drain(&mut s), expected);
    }

    /// Against a reference queue, with times near (inside a bucket), in
    /// the ring and far beyond it, equal times, and pops interleaved with
    /// schedules: the two tiers never change the order.
    #[test]
    fn matches_a_reference_queue_across_tiers() {
        // (events, pops interleaved from this event on, spills to buckets):
        // pops from the start keep the queue small; without them it grows
        // past SPILL_AT, and the draining below, or pops interleaved after
        // the spill, run through every tier.
        let spill = SPILL_AT as u32;
        for (rounds, pops_from, spills) in
            [(2 * spill, 0, false), (3 * spill, u32::MAX, true), (5 * spill, spill + 9, true), (80 * spill, 0, true)]
        {
            let mut s = Scheduler::new();
            let mut reference = BTreeSet::new();
            let mut x = 0x2545_f491_4f6c_dd1du64;
            for (seq, round) in (0..rounds).enumerate() {
                x = xorshift(x);
                let now = s.now().as_nanos();
                let at = now + ahead(x);
                s.schedule(Instant::from_nanos(at), round);
                reference.insert((at, seq, round));
                if round >= pops_from && !x.is_multiple_of(3) {
                    let want = reference.pop_first().expect("pending");
                    let (t, e) = s.pop().expect("pending");
                    assert_eq!((t.as_nanos(), e), (want.0, want.2));
                }
                assert_eq!(s.len(), reference.len());
            }
            assert_eq!(s.later.is_some(), spills);
            while let Some(want) = reference.pop_first() {
                let (t, e) = s.pop().expect("pending");
                assert_eq!((t.as_nanos(), e), (want.0, want.2));
            }
            assert!(s.pop().is_none());
        }
    }

    /// A bucket sorts into key order, earliest last, whether its equal
    /// times stand in sequence order (the radix path) or not (checked, then
    /// sorted by key), short or long, over spans that take from none to
    /// four radix passes (one and three end in the scratch memory and are
    /// copied back) and one wider than 32 bits.
    #[test]
    fn a_sorted_run_is_in_key_order() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut scratch = Vec::new();
        // The longest first: later buckets reuse a longer scratch memory.
        for len in [5000, 0, 1, 2, RADIX_FROM - 1, RADIX_FROM, RADIX_FROM + 1, 1000] {
            for span in [0, 7, 1 << 10, (1 << 10) + 1, BUCKET_NS, 1 << 25, 1 << 31, (1 << 32) - 1, 1 << 40] {
                for seq_ordered in [true, false] {
                    let mut bucket: Vec<Entry> = (0..len as u64)
                        .map(|i| {
                            x = xorshift(x);
                            let time = 1_000_000_000 + if span == 0 { 0 } else { x % span };
                            // Unique sequence numbers: ascending, or scattered.
                            let seq = if seq_ordered { i } else { (i * 2_654_435_761) % (1 << 32) };
                            Entry { time, order: (seq << 32) | (x & 0xffff) }
                        })
                        .collect();
                    let mut expected = bucket.clone();
                    expected.sort_by_key(|e| std::cmp::Reverse(e.key()));
                    // In sequence order, a long bucket is sorted by radix
                    // alone; all at one time and out of sequence order, it
                    // needs the fallback.
                    let mut by_radix = bucket.clone();
                    let radix = radix_sorted(&mut by_radix, &mut scratch);
                    let long = len >= RADIX_FROM && span < 1 << 32;
                    if long && seq_ordered {
                        assert!(radix, "len {len}, span {span}");
                    }
                    if long && !seq_ordered && span == 0 {
                        assert!(!radix, "len {len}");
                    }
                    if radix {
                        assert_eq!(by_radix, expected);
                    }
                    let mut run = Vec::new();
                    sort_run(&mut bucket, &mut run, &mut scratch);
                    assert_eq!(run, expected, "len {len}, span {span}, seq ordered {seq_ordered}");
                    assert!(bucket.is_empty());
                }
            }
        }
    }

    /// Buckets of thousands (sorted by radix) with many equal times, some
    /// moved in from the heap at the spill and from far beyond the ring,
    /// pop in key order, pops interleaved.
    #[test]
    fn big_buckets_pop_in_key_order() {
        let mut s = Scheduler::new();
        let mut reference = BTreeSet::new();
        let mut x = 0x1234_5678_9abc_def1u64;
        for seq in 0..40_000u32 {
            x = xorshift(x);
            let now = s.now().as_nanos();
            // Few distinct times (equal times abound) over a few buckets,
            // and now and then one past the ring.
            let ahead = if x.is_multiple_of(97) { RING as u64 * BUCKET_NS + x % 1000 } else { (x % 3000) * 1000 };
            s.schedule(Instant::from_nanos(now + ahead), seq);
            reference.insert((now + ahead, seq));
            if seq > 20_000 && x.is_multiple_of(4) {
                let want = reference.pop_first().expect("pending");
                assert_eq!(s.pop().map(|(t, e)| (t.as_nanos(), e)), Some(want));
            }
        }
        assert_eq!(drain(&mut s), Vec::from_iter(reference));
        assert!(s.scratch.len() >= RADIX_FROM, "the radix path ran");
    }

    /// The last bucket of time, big, with a third of its events at the
    /// last instant (they wait in the far heap and join the bucket after
    /// its own entries), pops in key order.
    #[test]
    fn a_big_last_bucket_of_time_pops_in_key_order() {
        let mut s = Scheduler::new();
        let mut reference = BTreeSet::new();
        let start = u64::MAX - (BUCKET_NS - 1);
        let mut x = 77u64;
        for seq in 0..3000u32 {
            x = xorshift(x);
            let t = if x.is_multiple_of(3) { u64::MAX } else { start + x % 5 };
            s.schedule(Instant::from_nanos(t), seq);
            reference.insert((t, seq));
        }
        assert!(s.later.is_some());
        assert_eq!(drain(&mut s), Vec::from_iter(reference));
        assert!(s.scratch.len() >= 2000, "sorted by radix");
    }

    /// Renumbering while big buckets wait keeps the order.
    #[test]
    fn renumbering_with_big_buckets_keeps_the_order() {
        let mut s = Scheduler::new();
        let mut reference = BTreeSet::new();
        let mut x = 5u64;
        for seq in 0..5000u32 {
            x = xorshift(x);
            let t = BUCKET_NS * (1 + x % 3) + (x >> 20) % 4;
            s.schedule(Instant::from_nanos(t), seq);
            reference.insert((t, seq));
            if seq == 2500 {
                s.next_seq = SEQ_LIMIT - 1;
            }
        }
        assert!(s.next_seq < 10_000, "renumbered");
        assert_eq!(drain(&mut s), Vec::from_iter(reference));
        assert!(s.scratch.len() >= RADIX_FROM, "sorted by radix");
    }

    /// Every pending event, popped: `(time in ns, event)`.
    fn drain(s: &mut Scheduler<u32>) -> Vec<(u64, u32)> {
        std::iter::from_fn(|| s.pop().map(|(t, e)| (t.as_nanos(), e))).collect()
    }

    fn xorshift(mut x: u64) -> u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }

    /// How far ahead to schedule: now, within a bucket, a few buckets,
    /// across the ring, or minutes beyond it.
    fn ahead(x: u64) -> u64 {
        match x % 5 {
            0 => 0,
            1 => x % 1000,
            2 => x % (3 * BUCKET_NS),
            3 => x % (RING as u64 * BUCKET_NS * 2),
            _ => (x % 7) * 60_000_000_000,
        }
    }

    /// Renumbering with events in every tier keeps the order.
    #[test]
    fn renumbering_across_tiers_keeps_the_order() {
        let mut s = Scheduler::new();
        let mut expected = Vec::new();
        let mut x = 7u64;
        for i in 0..(SPILL_AT as u32 + 100) {
            x = xorshift(x);
            let t = ahead(x);
            s.schedule(Instant::from_nanos(t), i);
            expected.push((t, i));
        }
        assert!(s.later.is_some());
        s.next_seq = SEQ_LIMIT - 1;
        for i in 0..10u32 {
            s.schedule(Instant::from_nanos(u64::from(i)), 1_000_000 + i);
            expected.push((u64::from(i), 1_000_000 + i));
        }
        expected.sort();
        assert_eq!(drain(&mut s), expected);
    }

    /// Renumbering while a sorted bucket is half popped, with new events
    /// before the horizon (they join the heap beside the run) and beyond
    /// it, keeps the order.
    #[test]
    fn renumbering_with_a_run_half_popped_keeps_the_order() {
        let mut s = Scheduler::new();
        let mut reference = BTreeSet::new();
        let mut x = 99u64;
        let mut seq = 0u64;
        let mut schedule = |s: &mut Scheduler<u32>, reference: &mut BTreeSet<(u64, u64, u32)>, at: u64, e: u32| {
            s.schedule(Instant::from_nanos(at), e);
            reference.insert((at, seq, e));
            seq += 1;
        };
        for i in 0..(4 * SPILL_AT as u32) {
            x = xorshift(x);
            schedule(&mut s, &mut reference, BUCKET_NS + x % (8 * BUCKET_NS), i);
        }
        assert!(s.later.is_some());
        // Pop into the first bucket's run, and stop half way.
        for _ in 0..20 {
            let want = reference.pop_first().expect("pending");
            assert_eq!(s.pop().map(|(t, e)| (t.as_nanos(), e)), Some((want.0, want.2)));
        }
        assert!(!s.run.is_empty(), "a run is half popped");
        s.next_seq = SEQ_LIMIT - 3;
        let now = s.now().as_nanos();
        for i in 0..12u32 {
            // At the current time, inside the run's bucket, and later.
            let at = now + u64::from(i % 3) * (BUCKET_NS / 4) + u64::from(i / 3) * 3 * BUCKET_NS;
            schedule(&mut s, &mut reference, at, 1_000_000 + i);
        }
        assert!(s.next_seq < 10_000, "renumbered");
        assert_eq!(s.len(), reference.len());
        while let Some(want) = reference.pop_first() {
            assert_eq!(s.pop().map(|(t, e)| (t.as_nanos(), e)), Some((want.0, want.2)));
        }
        assert!(s.pop().is_none());
    }

    /// `next_at_hand` names what `pop` returns next whenever it names
    /// anything.
    #[test]
    fn the_event_at_hand_is_the_next_popped() {
        let mut s = Scheduler::new();
        let mut x = 5u64;
        for i in 0..(3 * SPILL_AT as u32) {
            x = xorshift(x);
            s.schedule(Instant::from_nanos(ahead(x)), i);
        }
        let mut named = 0;
        while let Some(at_hand) = {
            let hint = s.next_at_hand();
            s.pop().map(|(_, e)| (hint, e))
        } {
            if let (Some(hint), e) = at_hand {
                assert_eq!(hint, e);
                named += 1;
            }
        }
        assert!(named > SPILL_AT, "named {named}");
    }

    /// Once the last bucket of time is taken, events scheduled into it
    /// still come out in order (they join the heap beside the run).
    #[test]
    fn the_last_bucket_of_time_keeps_the_order() {
        let mut s = Scheduler::new();
        let base = u64::MAX - 1000;
        let n = SPILL_AT as u32 + 10;
        for i in 0..n {
            s.schedule(Instant::from_nanos(base + 500 + u64::from(i)), i);
        }
        assert!(s.later.is_some());
        assert_eq!(s.pop().map(|(t, e)| (t.as_nanos(), e)), Some((base + 500, 0)));
        s.schedule(Instant::from_nanos(base + 501), 9999);
        s.schedule(Instant::from_nanos(u64::MAX), 10_000);
        let mut expected = vec![(base + 501, 1), (base + 501, 9999)];
        expected.extend((2..n).map(|i| (base + 500 + u64::from(i), i)));
        expected.push((u64::MAX, 10_000));
        assert_eq!(drain(&mut s), expected);
    }

    /// Events at the very end of time still come out, in order.
    #[test]
    fn events_at_the_end_of_time() {
        let mut s = Scheduler::new();
        s.schedule(Instant::from_nanos(u64::MAX), 2u32);
        s.schedule(Instant::from_nanos(u64::MAX - 1), 1);
        s.schedule(Instant::from_nanos(u64::MAX), 3);
        s.schedule(Instant::from_nanos(5), 0);
        let order: Vec<_> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec![0, 1, 2, 3]);
    }
}
