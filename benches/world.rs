//! Events and transitions per second of a whole seeded world (scheduler,
//! lossy reordering links, ChaCha draws, full endpoints, the digest), on
//! the scale scenarios; runs per second of a sweep-sized scenario and of
//! an exploration; JSONL trace records per second.
//!
//! `cargo bench --bench world`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::sync::atomic::{AtomicBool, AtomicU64};
use tcpsim::model::Model;
use tcpsim::simulation::Simulation;
use tcpsim::trace::{JsonlWriter, NullSink};
use tcpsim::world::World;

fn load(path: &str) -> Model {
    let bytes = std::fs::read(path).expect("scenario file");
    tcpsim::scenario::load(&bytes, &[]).expect("valid scenario")
}

/// The world of `model` at time zero, as a run builds it: the setup of a
/// measurement, so the figures are of the world's run alone.
fn world(model: &Model) -> World {
    Simulation::from_model(model.clone()).expect("a loaded model").into_world()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("world");
    g.sample_size(10);
    for (name, path) in [("1k", "scale/scale-1k.ron"), ("100k", "scale/scale-100k.ron")] {
        let model = load(path);
        let probe = Simulation::from_model(model.clone()).expect("a loaded model").run(&mut NullSink).world;
        let (events, transitions) = (probe.stats().events, probe.stats().transitions);
        // One measurement per world, in events; transitions per second
        // are that times the run's transitions per event, printed here.
        eprintln!("world scale_{name}: {events} events, {transitions} transitions per run");
        g.throughput(Throughput::Elements(events));
        g.bench_function(format!("scale_{name}_events"), |b| {
            b.iter_batched(|| world(&model), |mut w| w.run(&mut NullSink), BatchSize::LargeInput);
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

    // The JSONL trace of a whole world, written to a buffered sink: records
    // per second, simulation included.
    let mut g = c.benchmark_group("trace");
    g.sample_size(10);
    let model = load("scale/scale-1k.ron");
    let mut counter = tcpsim::trace::Recorder::default();
    world(&model).run(&mut counter);
    g.throughput(Throughput::Elements(counter.events.len() as u64));
    g.bench_function("jsonl_scale_1k_records", |b| {
        b.iter_batched(
            || world(&model),
            |mut w| {
                let mut out = JsonlWriter::new(std::io::BufWriter::with_capacity(1 << 16, std::io::sink()));
                w.run(&mut out);
                out.finish().expect("a sink never fails")
            },
            BatchSize::LargeInput,
        );
    });
    g.finish();

    // Exhaustive exploration: every drop pattern of the first 10 segments
    // of the shipped close, runs per second on one core.
    let mut g = c.benchmark_group("explore");
    let model = load("sims/close-explore.ron");
    let plan = tcpsim::explore::Plan { segments: 10, choices: vec![tcpsim::explore::Choice::Drop] };
    g.throughput(Throughput::Elements(1024));
    g.bench_function("close_drop_first_10_runs", |b| {
        b.iter(|| {
            let (done, stop) = (AtomicU64::new(0), AtomicBool::new(false));
            tcpsim::explore::explore(&model, &plan, tcpsim::parallel::Pool { jobs: 1, stop: &stop, done: &done })
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
