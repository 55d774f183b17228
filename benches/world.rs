//! Events and transitions per second of a whole seeded world: scheduler,
//! lossy reordering links, ChaCha draws and full endpoints.
//!
//! `cargo bench --bench world`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tcpsim::scenario;
use tcpsim::trace::NullSink;
use tcpsim::world::World;

/// `count` connections opened over 100 ms, each sending 1 KiB and closing,
/// over a 1 % lossy link with jitter and reordering.
fn scenario_text(count: u32) -> String {
    format!(
        r#"(
    name: "bench", seed: 1,
    tcp: (msl_ms: 1000),
    hosts: [(name: "c"), (name: "s")],
    links: [(between: ("c", "s"), delay_ms: 5, jitter_ms: 2, loss: 0.01, reorder: 0.01, reorder_delay_ms: 3)],
    listeners: [(name: "server", host: "s", port: 80, backlog: {count}, on_end_of_stream: [Close])],
    connections: [(name: "client", host: "c", remote_host: "s", remote_port: 80, count: {count},
                   open_spread_ms: 100, script: [Connect(at_ms: 0)], on_connected: [Send(bytes: 1024), Close])],
)"#
    )
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("world");
    g.sample_size(10);
    for count in [1_000u32, 10_000] {
        let model = scenario::load(scenario_text(count).as_bytes(), &[]).expect("bench scenario is valid");
        let mut probe = World::new(model.clone());
        probe.run(&mut NullSink);
        let events = probe.stats().events;
        g.throughput(Throughput::Elements(events));
        g.bench_function(format!("events_{count}_connections"), |b| {
            b.iter_batched(|| World::new(model.clone()), |mut w| w.run(&mut NullSink), BatchSize::LargeInput);
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
