//! A fast, fixed hasher for lookup tables (demultiplexing by 4-tuple,
//! addresses to hosts). The tables are only ever looked up, never
//! iterated, so neither the hash function nor the table layout can change
//! a result; a fixed function (no random keys) also makes performance
//! repeatable. Not for untrusted keys: it resists nothing, and only
//! simulation-internal values are hashed.

use std::hash::{BuildHasher, Hasher};

/// Multiply-rotate hashing over 64-bit words (the FxHash construction).
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(K);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    /// The state rotated: the last multiply leaves the low bits of the
    /// state depending only on the low bits of the last word, and the table
    /// picks a bucket by the low bits. A client's 4-tuples differ only in
    /// their local port, in bits 16..32 of the last word, so unrotated they
    /// would all share a few buckets (long probe sequences at 10^5
    /// connections); the high bits depend on every input bit.
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

/// Builds [`FastHasher`]s from a seed. The seed is 0 in every normal
/// run; the determinism check runs a second time with another seed to
/// show that no result depends on table layout.
#[derive(Default, Clone, Copy)]
pub struct FastBuild {
    pub seed: u64,
}

impl BuildHasher for FastBuild {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(self.seed)
    }
}

/// A lookup table: get, insert, remove, and nothing that iterates, so its
/// order (the hasher's) can never reach a result. A plain hash table
/// underneath: an insertion-ordered map would cost a second indirection
/// per lookup and about 20 more bytes per entry for an order never used.
pub struct FastMap<K, V>(Table<K, V>);

// The one place the type is allowed: the wrapper exposes no iteration.
#[allow(clippy::disallowed_types)]
type Table<K, V> = std::collections::HashMap<K, V, FastBuild>;

impl<K: std::hash::Hash + Eq, V> FastMap<K, V> {
    pub fn with_hasher(hasher: FastBuild) -> FastMap<K, V> {
        FastMap(Table::with_hasher(hasher))
    }

    pub fn with_capacity_and_hasher(capacity: usize, hasher: FastBuild) -> FastMap<K, V> {
        FastMap(Table::with_capacity_and_hasher(capacity, hasher))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.0.get(key)
    }

    /// Returns the value the key had.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.0.insert(key, value)
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.0.remove(key)
    }

    /// The value of `key`, inserting `V::default()` first if absent.
    pub fn get_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        self.0.entry(key).or_default()
    }
}
