//! A hint to the processor: fetch the cache line holding a value now,
//! because it will be read soon. It changes nothing a program computes,
//! only when memory arrives: with 10^6 connections the next event's
//! endpoint is almost never in cache, and asking for it one event ahead
//! lets the fetch overlap the current event's work instead of stalling
//! the next one (README, Performance).

/// Asks for the cache line that holds `value` (x86-64 `PREFETCHT0`; a
/// no-op elsewhere).
#[inline(always)]
pub fn line<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    safe_arch::prefetch_t0(value);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
