//! Transitions per second of a bare endpoint pair: handshake, a small
//! transfer and the four-way close, driven directly through the sans-IO
//! API with a lossless zero-delay wire (no scheduler, no link model).
//!
//! `cargo bench --bench endpoint`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tcpsim::tcp::{Endpoint, Output, Segment, SeqNum, TcpConfig};
use tcpsim::time::{Duration, Instant};

/// Delivers segments back and forth until both sides are quiet; returns
/// the number of transitions.
fn settle(
    cfg: &TcpConfig,
    a: &mut Endpoint,
    b: &mut Endpoint,
    out: &mut Output,
    mut to_b: Vec<Segment>,
    mut to_a: Vec<Segment>,
) -> u64 {
    let now = Instant::ZERO;
    let mut transitions = 0;
    while !to_a.is_empty() || !to_b.is_empty() {
        let mut next_a = Vec::new();
        let mut next_b = Vec::new();
        for s in to_b.drain(..) {
            out.clear();
            b.handle_segment(cfg, now, &s, out);
            b.dispatch(cfg, now, out);
            transitions += out.transitions().count() as u64;
            next_a.append(&mut out.segments);
        }
        for s in to_a.drain(..) {
            out.clear();
            a.handle_segment(cfg, now, &s, out);
            a.dispatch(cfg, now, out);
            transitions += out.transitions().count() as u64;
            next_b.append(&mut out.segments);
        }
        to_a = next_a;
        to_b = next_b;
    }
    transitions
}

fn call(
    cfg: &TcpConfig,
    ep: &mut Endpoint,
    out: &mut Output,
    f: impl FnOnce(&mut Endpoint, &mut Output),
) -> (Vec<Segment>, u64) {
    out.clear();
    f(ep, out);
    ep.dispatch(cfg, Instant::ZERO, out);
    (std::mem::take(&mut out.segments), out.transitions().count() as u64)
}

/// One lifecycle: listen, connect, `bytes` one way, close both ways, and
/// the TIME_WAIT expiry. Returns transitions.
fn lifecycle(cfg: &TcpConfig, out: &mut Output, bytes: u64) -> u64 {
    let mut a = Endpoint::new(cfg, SeqNum(1000), 1);
    let mut b = Endpoint::new(cfg, SeqNum(5000), 2);
    let mut t = 0;
    t += call(cfg, &mut b, out, |ep, out| ep.listen(out).unwrap()).1;
    let (syn, n) = call(cfg, &mut a, out, |ep, out| ep.connect(out).unwrap());
    t += n + settle(cfg, &mut a, &mut b, out, syn, vec![]);
    if bytes > 0 {
        let (data, n) = call(cfg, &mut a, out, |ep, out| ep.send(bytes, out).unwrap());
        t += n + settle(cfg, &mut a, &mut b, out, data, vec![]);
    }
    let (fin, n) = call(cfg, &mut a, out, |ep, out| ep.close(out).unwrap());
    t += n + settle(cfg, &mut a, &mut b, out, fin, vec![]);
    let (fin, n) = call(cfg, &mut b, out, |ep, out| ep.close(out).unwrap());
    t += n + settle(cfg, &mut a, &mut b, out, vec![], fin);
    out.clear();
    let deadline = a.poll_timeout().expect("TIME_WAIT armed");
    a.handle_timeout(cfg, deadline, out);
    t += out.transitions().count() as u64;
    t
}

fn bench(c: &mut Criterion) {
    let cfg = TcpConfig { msl: Duration::from_secs(1), ..TcpConfig::default() };
    let mut out = Output::default();
    let per_lifecycle = lifecycle(&cfg, &mut out, 0);
    let mut g = c.benchmark_group("endpoint");
    g.throughput(Throughput::Elements(per_lifecycle));
    g.bench_function("handshake_close_lifecycle", |bench| {
        bench.iter(|| black_box(lifecycle(&cfg, &mut out, 0)));
    });
    let per_transfer = lifecycle(&cfg, &mut out, 14_600);
    g.throughput(Throughput::Elements(per_transfer));
    g.bench_function("lifecycle_with_10_segments", |bench| {
        bench.iter(|| black_box(lifecycle(&cfg, &mut out, 14_600)));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
