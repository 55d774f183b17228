//! Transitions per second of a bare endpoint pair: handshake, an optional
//! transfer and the four-way close with the TIME_WAIT expiry, driven
//! directly through the sans-IO API with a lossless zero-delay wire (no
//! scheduler, no link model).
//!
//! The harness allocates nothing per iteration: one [`Output`] and the
//! wire's segment buffers are reused, so the figures are the endpoint's
//! own cost. Transitions are counted from [`Output::transitions`] after
//! every step; the `segments` group runs the transfer lifecycle again with
//! its throughput in segments handled (every `handle_segment` call, both
//! directions, ACKs included).
//!
//! `cargo bench --bench endpoint`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tcpsim::tcp::{Endpoint, Output, Segment, SeqNum, TcpConfig};
use tcpsim::time::{Duration, Instant};

/// What one lifecycle did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    transitions: u64,
    /// Segments handed to `handle_segment`.
    segments: u64,
}

/// The output sink and the wire, reused across iterations.
#[derive(Default)]
struct Harness {
    out: Output,
    /// Segments in flight in the order they were sent (a zero-delay wire
    /// delivers them first in, first out), and the side each is for. Two
    /// vectors rather than one of pairs: a `(Side, Segment)` copy goes
    /// through the stack and stalls on store forwarding, which would
    /// bill the harness's copying to the endpoint.
    wire: Vec<Segment>,
    wire_to: Vec<Side>,
    counts: Counts,
}

#[derive(Clone, Copy, Debug)]
enum Side {
    A,
    B,
}

impl Side {
    fn peer(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

impl Harness {
    /// Ends a step at `ep` (on side `at`): dispatches, counts transitions
    /// and puts what it emitted on the wire towards its peer.
    fn finish_step(&mut self, cfg: &TcpConfig, ep: &mut Endpoint, at: Side) {
        ep.dispatch(cfg, Instant::ZERO, &mut self.out);
        self.counts.transitions += self.out.transitions().count() as u64;
        self.wire.extend_from_slice(&self.out.segments);
        self.wire_to.extend(self.out.segments.iter().map(|_| at.peer()));
    }

    /// An application call at `ep` (on side `at`).
    fn call(&mut self, cfg: &TcpConfig, ep: &mut Endpoint, at: Side, f: impl FnOnce(&mut Endpoint, &mut Output)) {
        self.out.clear();
        f(ep, &mut self.out);
        self.finish_step(cfg, ep, at);
    }

    /// Delivers segments until both sides are quiet.
    fn settle(&mut self, cfg: &TcpConfig, a: &mut Endpoint, b: &mut Endpoint) {
        let mut next = 0;
        while let Some(&seg) = self.wire.get(next) {
            let to = self.wire_to[next];
            next += 1;
            let ep = match to {
                Side::A => &mut *a,
                Side::B => &mut *b,
            };
            self.out.clear();
            ep.handle_segment(cfg, Instant::ZERO, &seg, &mut self.out);
            self.finish_step(cfg, ep, to);
        }
        self.counts.segments += next as u64;
        self.wire.clear();
        self.wire_to.clear();
    }

    /// One lifecycle: listen, connect, `bytes` from a to b, close both
    /// ways, and the TIME_WAIT expiry.
    fn lifecycle(&mut self, cfg: &TcpConfig, bytes: u64) -> Counts {
        self.counts = Counts::default();
        let mut a = Endpoint::new(cfg, SeqNum(1000), 1);
        let mut b = Endpoint::new(cfg, SeqNum(5000), 2);
        self.call(cfg, &mut b, Side::B, |ep, out| ep.listen(out).unwrap());
        self.call(cfg, &mut a, Side::A, |ep, out| ep.connect(out).unwrap());
        self.settle(cfg, &mut a, &mut b);
        if bytes > 0 {
            self.call(cfg, &mut a, Side::A, |ep, out| ep.send(bytes, out).unwrap());
            self.settle(cfg, &mut a, &mut b);
        }
        self.call(cfg, &mut a, Side::A, |ep, out| ep.close(out).unwrap());
        self.settle(cfg, &mut a, &mut b);
        self.call(cfg, &mut b, Side::B, |ep, out| ep.close(out).unwrap());
        self.settle(cfg, &mut a, &mut b);
        self.out.clear();
        let deadline = a.poll_timeout().expect("TIME_WAIT armed");
        a.handle_timeout(cfg, deadline, &mut self.out);
        self.counts.transitions += self.out.transitions().count() as u64;
        self.counts
    }
}

fn bench(c: &mut Criterion) {
    let cfg = TcpConfig { msl: Duration::from_secs(1), ..TcpConfig::default() };
    let mut h = Harness::default();
    let handshake = h.lifecycle(&cfg, 0);
    let transfer = h.lifecycle(&cfg, 14_600);
    // Twelve transitions each (six per side, TIME_WAIT expiry included);
    // seven segments for the handshake and close, and the transfer adds ten
    // full-sized data segments with one ACK each.
    assert_eq!(handshake, Counts { transitions: 12, segments: 7 });
    assert_eq!(transfer, Counts { transitions: 12, segments: 27 });

    // Each workload is measured once, its ID ending in the unit its
    // throughput counts; segments per second of the transfer are its
    // transitions per second times 27/12, the ratio asserted above.
    let mut g = c.benchmark_group("endpoint");
    g.throughput(Throughput::Elements(handshake.transitions));
    g.bench_function("handshake_close_transitions", |bench| {
        bench.iter(|| black_box(h.lifecycle(black_box(&cfg), 0)));
    });
    g.throughput(Throughput::Elements(transfer.transitions));
    g.bench_function("transfer_10_segments_transitions", |bench| {
        bench.iter(|| black_box(h.lifecycle(black_box(&cfg), 14_600)));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
