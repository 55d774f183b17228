//! The two reference worlds of the README's comparison, in transitions
//! per second: the minimal world (the least a lifecycle simulator can do)
//! and smoltcp's TCP socket through the same lifecycle. tcpsim's own
//! figures are in `benches/world.rs`; compare within one sitting.
//!
//! `cargo bench --bench reference`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

// The accessors serve tests/it/reference_worlds.rs.
#[allow(dead_code)]
#[path = "reference/minimal.rs"]
mod minimal;
#[allow(dead_code)]
#[path = "reference/smoltcp_world.rs"]
mod smoltcp_world;

use minimal::MinimalWorld;
use smoltcp_world::SmoltcpWorld;

const SECOND: u64 = 1_000_000_000;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("reference");
    g.sample_size(10);
    // Ten lifecycles a pair at 10^3 (60 s TIME_WAIT); at 10^5 and 10^6 one
    // lifecycle and the next one's handshake and close.
    for (name, pairs, horizon) in
        [("1k", 1_000, 600 * SECOND), ("100k", 100_000, 61 * SECOND), ("1m", 1_000_000, 61 * SECOND)]
    {
        let mut probe = MinimalWorld::new(pairs, 1);
        probe.run(horizon);
        eprintln!("reference minimal_{name}: {} events, {} transitions per run", probe.events, probe.transitions);
        g.throughput(Throughput::Elements(probe.transitions));
        g.bench_function(format!("minimal_fsm_{name}_transitions"), |b| {
            b.iter_batched(|| MinimalWorld::new(pairs, 1), |mut w| w.run(horizon), BatchSize::LargeInput);
        });
    }
    // smoltcp holds TIME_WAIT 10 s: twelve lifecycles a pair in 120 s.
    let (pairs, horizon) = (1_000, 120 * SECOND);
    let mut probe = SmoltcpWorld::new(pairs, 1);
    probe.run(horizon);
    eprintln!("reference smoltcp_1k: {} events, {} transitions per run", probe.events, probe.transitions);
    g.throughput(Throughput::Elements(probe.transitions));
    g.bench_function("smoltcp_1k_transitions", |b| {
        b.iter_batched(|| SmoltcpWorld::new(pairs, 1), |mut w| w.run(horizon), BatchSize::LargeInput);
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
