//! Events and transitions per second of a whole seeded world (scheduler,
//! lossy reordering links, ChaCha draws, full endpoints, the digest), on
//! the scale scenarios; and runs per second of a sweep-sized scenario.
//!
//! `cargo bench --bench world`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tcpsim::model::Model;
use tcpsim::trace::NullSink;
use tcpsim::world::World;

fn load(path: &str) -> Model {
    let bytes = std::fs::read(path).expect("scenario file");
    tcpsim::scenario::load(&bytes, &[]).expect("valid scenario")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("world");
    g.sample_size(10);
    for (name, path) in [("1k", "scale/scale-1k.ron"), ("100k", "scale/scale-100k.ron")] {
        let model = load(path);
        let mut probe = World::new(model.clone());
        probe.run(&mut NullSink);
        let (events, transitions) = (probe.stats().events, probe.stats().transitions);
        g.throughput(Throughput::Elements(events));
        g.bench_function(format!("events_{name}_connections"), |b| {
            b.iter_batched(|| World::new(model.clone()), |mut w| w.run(&mut NullSink), BatchSize::LargeInput);
        });
        g.throughput(Throughput::Elements(transitions));
        g.bench_function(format!("transitions_{name}_connections"), |b| {
            b.iter_batched(|| World::new(model.clone()), |mut w| w.run(&mut NullSink), BatchSize::LargeInput);
        });
    }
    g.finish();

    // A sweep is many small independent runs: runs per second on one core.
    let mut g = c.benchmark_group("sweep");
    let model = load("sims/lossy-transfer.ron");
    g.throughput(Throughput::Elements(100));
    g.bench_function("lossy_transfer_runs", |b| {
        b.iter(|| {
            let mut totals = tcpsim::sweep::Totals::default();
            for i in 0..100 {
                let seed = tcpsim::sweep::run_seed(1, i);
                std::hint::black_box(tcpsim::sweep::run_one(&model, i, 0, seed, &mut totals));
            }
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
