//! The scheduler under the classic hold model: pop the earliest event,
//! schedule one a random time later, at a steady number of pending events.
//! A bare `BinaryHeap<Reverse<(u64, u64)>>` runs the same model as the
//! baseline, so the ratio shows in one run. Two spreads of "later": up to
//! 1 ms (packets in flight: `hold`), and up to 2 s (retransmission and
//! TIME-WAIT timers, as a big population keeps them: `timers`).
//!
//! `cargo bench --bench scheduler`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use tcpsim::scheduler::Scheduler;
use tcpsim::time::Instant;

const OPS: u64 = 1_000_000;

/// A fixed xorshift stream of increments in [1, `max`] ns.
fn increments(n: usize, max: u64) -> Vec<u64> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            1 + x % max
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("scheduler");
    g.sample_size(10);
    g.throughput(Throughput::Elements(OPS));
    let cases = [
        ("hold", 1_000_000, 1_000usize),
        ("hold", 1_000_000, 100_000),
        ("hold", 1_000_000, 1_000_000),
        ("timers", 2_000_000_000, 100_000),
        ("timers", 2_000_000_000, 1_000_000),
    ];
    for (model, max, pending) in cases {
        let inc = increments(1 << 16, max);
        let inc = &inc;
        g.bench_function(format!("tcpsim_{model}_{pending}_pending_events"), |b| {
            b.iter_batched(
                || {
                    let mut s = Scheduler::new();
                    for i in 0..pending {
                        s.schedule(Instant::from_nanos(inc[i % inc.len()]), i as u32);
                    }
                    s
                },
                |mut s| {
                    for k in 0..OPS as usize {
                        let (t, e) = s.pop().expect("pending events");
                        s.schedule(Instant::from_nanos(t.as_nanos() + inc[k & 0xffff]), e);
                    }
                    black_box(s.len())
                },
                BatchSize::LargeInput,
            );
        });
        g.bench_function(format!("binary_heap_{model}_{pending}_pending_events"), |b| {
            b.iter_batched(
                || {
                    let mut h = BinaryHeap::new();
                    for i in 0..pending {
                        h.push(Reverse((inc[i % inc.len()], i as u64)));
                    }
                    h
                },
                |mut h| {
                    for k in 0..OPS as usize {
                        let Reverse((t, _)) = h.pop().expect("pending events");
                        // Insertion sequence breaks ties, as in the real queue.
                        let seq = (pending + k) as u64;
                        h.push(Reverse((t + inc[k & 0xffff], seq)));
                    }
                    black_box(h.len())
                },
                BatchSize::LargeInput,
            );
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
