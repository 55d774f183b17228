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

    fn finish(&self) -> u64 {
        self.0
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

/// A lookup table. Never iterate it: its order is the hasher's. (A plain
/// hash table: an insertion-ordered map would cost a second indirection
/// per lookup and ~20 more bytes per entry, for an order never used.)
pub type FastMap<K, V> = std::collections::HashMap<K, V, FastBuild>;
