//! Randomness, all of it from ChaCha8 (rand_chacha 0.9), keyed by component.
//!
//! A run's seed makes a master key: the seed's 8 little-endian bytes followed
//! by 24 zero bytes. Each component (a link direction, the ISS source, each
//! sweep run) gets its own 32-byte key: the first 32 bytes of the master
//! ChaCha8 stream number `component`. Within a component, each flow has its
//! own ChaCha8 stream (stream id = the flow id) and draws block `n` (16 words)
//! for its `n`-th decision. So a draw depends only on (seed, component,
//! flow, n): adding a connection or a link never shifts another's draws, and
//! a flow needs only a counter, not a 320-byte generator.
//!
//! Probabilities are integer parts per million ([`Ppm`]), tested against a
//! 32-bit draw with integer arithmetic: no floating point touches a result.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use wide::u32x4;

/// Component ids (the master stream a component key is taken from).
pub mod component {
    /// Initial sequence numbers of endpoints that do not fix `iss`.
    pub const ISS: u64 = 1;
    /// Sweep run seeds.
    pub const SWEEP: u64 = 2;
    /// Link direction `d` of link `l` uses `LINK_BASE + 2*l + d`.
    pub const LINK_BASE: u64 = 1 << 32;
}

/// A 32-byte ChaCha key for one component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    bytes: [u8; 32],
    /// The key as the eight little-endian words the block function uses.
    words: [u32; 8],
}

impl Key {
    /// The key of `component` under `seed`.
    pub fn derive(seed: u64, component: u64) -> Key {
        let mut master = [0u8; 32];
        master[..8].copy_from_slice(&seed.to_le_bytes());
        let mut rng = ChaCha8Rng::from_seed(master);
        rng.set_stream(component);
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        Key::from_bytes(bytes)
    }

    fn from_bytes(bytes: [u8; 32]) -> Key {
        let mut words = [0u32; 8];
        for (w, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
            *w = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        Key { bytes, words }
    }

    /// Block `n` of stream `flow`: 16 independent 32-bit words. This is
    /// exactly what `rand_chacha::ChaCha8Rng` yields for this key after
    /// `set_stream(flow)` and `set_word_pos(16 * n)` (a test pins it), but
    /// computes the one block needed instead of the four the generator
    /// buffers, which matters at one block per segment.
    pub fn block(&self, flow: u64, n: u64) -> [u32; 16] {
        chacha8_block(&self.words, flow, n)
    }

    /// A 64-bit value for `(flow, n)`, e.g. a derived seed.
    pub fn u64(&self, flow: u64, n: u64) -> u64 {
        let b = self.block(flow, n);
        u64::from(b[0]) | (u64::from(b[1]) << 32)
    }

    /// The key bytes (for tests comparing with `rand_chacha`).
    pub fn bytes(&self) -> [u8; 32] {
        self.bytes
    }
}

/// The ChaCha block function with 8 rounds (D. J. Bernstein, "ChaCha, a
/// variant of Salsa20"; RFC 8439 §2.3 describes the 20-round version):
/// constants, 256-bit key, 64-bit block counter in words 12-13 and 64-bit
/// stream id in words 14-15, as rand_chacha lays them out.
///
/// The state is held as four rows of four words in 128-bit vectors, so
/// each step of a quarter round works on a whole row: the column round is
/// four quarter rounds side by side, and the diagonal round the same after
/// rotating rows 1-3 by one, two and three lanes (and back). That is about
/// a third of the instructions of the word-by-word form, at one block per
/// segment sent; the result is the same block (a test compares it with
/// `rand_chacha`).
fn chacha8_block(key: &[u32; 8], stream: u64, counter: u64) -> [u32; 16] {
    /// `(x ^ y) <<< BITS` in every lane.
    #[inline(always)]
    fn xor_rotate<const BITS: u32>(x: u32x4, y: u32x4) -> u32x4 {
        let v = x ^ y;
        (v << BITS) | (v >> (32 - BITS))
    }
    /// Lane `i` of the result is lane `(i + BY) % 4` of `x`.
    #[inline(always)]
    fn lanes<const BY: usize>(x: u32x4) -> u32x4 {
        let a = x.to_array();
        u32x4::new([a[BY % 4], a[(BY + 1) % 4], a[(BY + 2) % 4], a[(BY + 3) % 4]])
    }
    #[inline(always)]
    fn quarter_rows(a: &mut u32x4, b: &mut u32x4, c: &mut u32x4, d: &mut u32x4) {
        *a += *b;
        *d = xor_rotate::<16>(*d, *a);
        *c += *d;
        *b = xor_rotate::<12>(*b, *c);
        *a += *b;
        *d = xor_rotate::<8>(*d, *a);
        *c += *d;
        *b = xor_rotate::<7>(*b, *c);
    }
    let rows = [
        u32x4::new([0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]),
        u32x4::new([key[0], key[1], key[2], key[3]]),
        u32x4::new([key[4], key[5], key[6], key[7]]),
        u32x4::new([counter as u32, (counter >> 32) as u32, stream as u32, (stream >> 32) as u32]),
    ];
    let [mut a, mut b, mut c, mut d] = rows;
    for _ in 0..4 {
        // Columns: words (0,4,8,12), (1,5,9,13), (2,6,10,14), (3,7,11,15).
        quarter_rows(&mut a, &mut b, &mut c, &mut d);
        // Diagonals: (0,5,10,15), (1,6,11,12), (2,7,8,13), (3,4,9,14).
        b = lanes::<1>(b);
        c = lanes::<2>(c);
        d = lanes::<3>(d);
        quarter_rows(&mut a, &mut b, &mut c, &mut d);
        b = lanes::<3>(b);
        c = lanes::<2>(c);
        d = lanes::<1>(d);
    }
    let mut out = [0u32; 16];
    for (i, (row, start)) in [a, b, c, d].into_iter().zip(rows).enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&(row + start).to_array());
    }
    out
}

/// A probability in parts per million.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ppm(u32);

impl Ppm {
    /// Probability 0: never.
    pub const ZERO: Ppm = Ppm(0);
    /// Probability 1: always.
    pub const ONE: Ppm = Ppm(1_000_000);

    /// `None` unless `ppm <= 1_000_000`.
    pub const fn new(ppm: u32) -> Option<Ppm> {
        if ppm <= 1_000_000 { Some(Ppm(ppm)) } else { None }
    }

    /// The probability in parts per million, 0..=1 000 000.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Whether a uniform 32-bit draw falls under this probability:
    /// `draw * 10^6 / 2^32 < ppm`.
    pub const fn hit(self, draw: u32) -> bool {
        ((draw as u64 * 1_000_000) >> 32) < self.0 as u64
    }

    /// Parses a decimal probability such as `0.05` or `1` exactly (at most
    /// six decimal places), without floating point.
    pub fn parse_decimal(text: &str) -> Option<Ppm> {
        let text = text.trim();
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        if int.is_empty() && frac.is_empty() || frac.len() > 6 {
            return None;
        }
        if !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
            return None;
        }
        let int: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut frac_ppm: u64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
        for _ in frac.len()..6 {
            frac_ppm *= 10;
        }
        let ppm = int.checked_mul(1_000_000)?.checked_add(frac_ppm)?;
        Ppm::new(u32::try_from(ppm).ok()?)
    }

    /// Rounds a probability read as a float (from a RON file) to the
    /// nearest ppm. `None` outside [0, 1] or for NaN.
    pub fn from_f64(p: f64) -> Option<Ppm> {
        if !(0.0..=1.0).contains(&p) {
            return None;
        }
        Ppm::new((p * 1_000_000.0).round() as u32)
    }
}

impl std::fmt::Display for Ppm {
    /// Prints as a decimal probability (`0.05`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let int = self.0 / 1_000_000;
        let frac = self.0 % 1_000_000;
        if frac == 0 {
            write!(f, "{int}")
        } else {
            let s = format!("{frac:06}");
            write!(f, "{int}.{}", s.trim_end_matches('0'))
        }
    }
}

/// A uniform integer in `0..=max` from one 32-bit draw (multiply-shift;
/// bias below 2^-32 per unit of range).
pub fn uniform_u64(draw: u32, max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    let span = u128::from(max) + 1;
    ((u128::from(draw) * span) >> 32) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_seed_and_component() {
        let a = Key::derive(1, 5);
        assert_eq!(a, Key::derive(1, 5));
        assert_ne!(a, Key::derive(2, 5));
        assert_ne!(a, Key::derive(1, 6));
    }

    #[test]
    fn blocks_depend_only_on_flow_and_index() {
        let k = Key::derive(7, 9);
        let b = k.block(3, 10);
        // Drawing other flows or blocks in between changes nothing.
        let _ = k.block(4, 0);
        let _ = k.block(3, 9);
        assert_eq!(k.block(3, 10), b);
        assert_ne!(k.block(3, 11), b);
        assert_ne!(k.block(4, 10), b);
    }

    /// The block function is rand_chacha's ChaCha8 stream, word for word,
    /// for any stream and position.
    #[test]
    fn blocks_equal_rand_chacha() {
        for (seed, comp) in [(1u64, 5u64), (42, component::ISS), (u64::MAX, component::LINK_BASE + 3)] {
            let key = Key::derive(seed, comp);
            for (flow, n) in [(0u64, 0u64), (7, 1), (u64::MAX, 12345), (1 << 40, u64::MAX / 16)] {
                let mut rng = ChaCha8Rng::from_seed(key.bytes());
                rng.set_stream(flow);
                rng.set_word_pos(u128::from(n) * 16);
                let expected: Vec<u32> = (0..16).map(|_| rng.next_u32()).collect();
                assert_eq!(key.block(flow, n).to_vec(), expected, "seed {seed} flow {flow} n {n}");
            }
        }
        // And over many streams and block numbers, high words included.
        let key = Key::derive(7, component::LINK_BASE);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..500 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let (flow, n) = (x.rotate_left(17), x >> (x % 61));
            let mut rng = ChaCha8Rng::from_seed(key.bytes());
            rng.set_stream(flow);
            rng.set_word_pos(u128::from(n) * 16);
            let expected: Vec<u32> = (0..16).map(|_| rng.next_u32()).collect();
            assert_eq!(key.block(flow, n).to_vec(), expected, "flow {flow} n {n}");
        }
    }

    /// Pins one output, so a change in the generator (which would change
    /// every digest) cannot go unnoticed.
    #[test]
    fn draws_are_pinned() {
        let k = Key::derive(1, component::ISS);
        assert_eq!(k.block(0, 0)[..2], [3_998_717_279, 4_269_000_901]);
    }

    #[test]
    fn ppm_bounds_are_exact() {
        assert!(!Ppm::ZERO.hit(0));
        assert!(Ppm::ONE.hit(u32::MAX));
        assert!(Ppm(1).hit(0));
        assert!(!Ppm(1).hit(u32::MAX));
    }

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(Ppm::parse_decimal("0.05"), Some(Ppm(50_000)));
        assert_eq!(Ppm::parse_decimal("1"), Some(Ppm::ONE));
        assert_eq!(Ppm::parse_decimal(".5"), Some(Ppm(500_000)));
        assert_eq!(Ppm::parse_decimal("1.5"), None);
        assert_eq!(Ppm::parse_decimal("-0.1"), None);
        assert_eq!(Ppm::parse_decimal("0.0000001"), None);
        assert_eq!(Ppm::from_f64(0.05), Some(Ppm(50_000)));
        assert_eq!(Ppm::from_f64(f64::NAN), None);
        assert_eq!(Ppm(50_000).to_string(), "0.05");
    }

    #[test]
    fn uniform_covers_the_range() {
        assert_eq!(uniform_u64(0, 10), 0);
        assert_eq!(uniform_u64(u32::MAX, 10), 10);
        assert_eq!(uniform_u64(u32::MAX, 0), 0);
    }
}
