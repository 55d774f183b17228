//! A fast, fixed hasher for lookup tables (demultiplexing by 4-tuple,
//! addresses to hosts). The tables are only ever looked up, never
//! iterated, so neither the hash function nor the table layout can change
//! a result; a fixed function (no random keys) also makes performance
//! repeatable. Not for untrusted keys: it resists nothing, and only
//! simulation-internal values are hashed.

use std::hash::{BuildHasher, Hash, Hasher};
use std::marker::PhantomData;

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

/// A lookup table: get and insert, and nothing that iterates, so its
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

    /// The value of `key`, inserting `V::default()` first if absent.
    pub fn get_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        self.0.entry(key).or_default()
    }
}

/// A lookup table of ids (endpoint numbers) by a key that each id's owner
/// can say for itself (`key_of`). Only the id is stored, never the key:
/// 4 bytes and a control byte a bucket, against 16 and 1 for a map from
/// 4-tuples to ids (at 10^6 connections, 21 MB instead of 71). The caller
/// must not change an id's key while the id is in the table: it is
/// looked up, and moved when the table grows, by the key `key_of` gives.
///
/// Like [`FastMap`] it offers nothing that iterates.
pub struct IdTable<K> {
    table: IdBuckets,
    hasher: FastBuild,
    key: PhantomData<fn(&K)>,
}

// The one place the type is allowed: the wrapper exposes no iteration.
#[allow(clippy::disallowed_types)]
type IdBuckets = hashbrown::HashTable<u32>;

impl<K: Hash + Eq> IdTable<K> {
    pub fn with_capacity_and_hasher(capacity: usize, hasher: FastBuild) -> IdTable<K> {
        IdTable { table: IdBuckets::with_capacity(capacity), hasher, key: PhantomData }
    }

    /// The id filed under `key`.
    pub fn get(&self, key: &K, key_of: impl Fn(u32) -> K) -> Option<u32> {
        self.table.find(self.hasher.hash_one(key), |&id| key_of(id) == *key).copied()
    }

    /// Files `id` under `key`, which must be `key_of(id)`; returns the id
    /// it replaces there.
    pub fn insert(&mut self, key: &K, id: u32, key_of: impl Fn(u32) -> K) -> Option<u32> {
        let hasher = self.hasher;
        let entry = self.table.entry(
            hasher.hash_one(key),
            |&other| key_of(other) == *key,
            |&other| hasher.hash_one(key_of(other)),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(mut e) => Some(std::mem::replace(e.get_mut(), id)),
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(id);
                None
            }
        }
    }

    /// Removes `id` if it is filed under `key`; whether it was.
    pub fn remove(&mut self, key: &K, id: u32) -> bool {
        match self.table.find_entry(self.hasher.hash_one(key), |&other| other == id) {
            Ok(e) => {
                e.remove();
                true
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    /// Ids filed, moved and removed at random, against a map from keys to
    /// ids doing what the old 4-tuple map did. An id's key changes only
    /// while the id is out of the table (as an endpoint's 4-tuple does);
    /// 500 keys for 3000 ids, so ids displace one another; the table grows
    /// from a capacity of 1, so entries move by their recomputed keys.
    #[test]
    fn an_id_table_does_what_a_map_from_keys_to_ids_does() {
        for seed in 0..8u64 {
            let n = 3000;
            let keys = RefCell::new(vec![0u64; n]);
            let key_of = |id: u32| keys.borrow()[id as usize];
            let mut filed = vec![false; n];
            let mut table = IdTable::with_capacity_and_hasher(1, FastBuild { seed });
            let mut map = BTreeMap::new();
            let mut state = seed.wrapping_add(1);
            let mut draw = |m: u64| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                (state >> 33) % m
            };
            for _ in 0..50_000 {
                let id = draw(n as u64) as u32;
                match draw(4) {
                    0 => {
                        if !filed[id as usize] {
                            keys.borrow_mut()[id as usize] = draw(500) * 0x1_0000_0001;
                        }
                        let key = key_of(id);
                        let displaced = table.insert(&key, id, key_of).filter(|&old| old != id);
                        assert_eq!(displaced, map.insert(key, id).filter(|&old| old != id));
                        if let Some(old) = displaced {
                            filed[old as usize] = false;
                        }
                        filed[id as usize] = true;
                    }
                    1 => {
                        let key = key_of(id);
                        assert_eq!(table.remove(&key, id), filed[id as usize], "remove {id}");
                        if filed[id as usize] {
                            map.remove(&key);
                            filed[id as usize] = false;
                        }
                    }
                    _ => {
                        let key = draw(500) * 0x1_0000_0001;
                        assert_eq!(table.get(&key, key_of), map.get(&key).copied());
                    }
                }
            }
            for key in (0..500).map(|k| k * 0x1_0000_0001) {
                assert_eq!(table.get(&key, key_of), map.get(&key).copied(), "key {key}");
            }
        }
    }
}
