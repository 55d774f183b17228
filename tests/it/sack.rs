//! SACK end to end: negotiation decides, per endpoint, between RFC 6675
//! recovery and NewReno, and an endpoint whose peer does not offer SACK
//! runs exactly as without it.

use crate::util::{load, run};
use tcpsim::trace::TraceKind;

/// B-SACK-02: SACK offered by the client only (the listener's own `tcp`
/// turns it off) is not used: the run is NewReno's, event for event,
/// with the digest of the file without SACK (options and `pipe` stay out
/// of the digest; only the SYN's SACK-permitted differs on the wire).
#[test]
fn sack_offered_by_one_side_only_runs_as_newreno() {
    let one_side = load("sims/sack/three-losses.ron", &[("listeners[0].tcp.sack", "false")]);
    let newreno = load("sims/sack/three-losses-newreno.ron", &[]);
    let (a, rec) = run(one_side);
    let (b, _) = run(newreno);
    assert_eq!(a.digest(), b.digest());
    let sack_ok = |endpoint: &str| {
        rec.events
            .iter()
            .any(|e| e.endpoint == endpoint && matches!(e.kind, TraceKind::Send { seg, .. } if seg.sack_permitted()))
    };
    assert!(sack_ok("client") && !sack_ok("server"));
    assert!(rec.events.iter().all(|e| !matches!(e.kind, TraceKind::Send { seg, .. } if !seg.sack.is_empty())));
}

/// B-SACK-06, B-SACK-09: with both sides offering SACK the same losses
/// end recovery a round trip earlier than NewReno, and the run finishes
/// earlier by as much.
#[test]
fn sack_recovers_a_round_trip_before_newreno() {
    let end = |path: &str| {
        let (_, rec) = run(load(path, &[]));
        let fin = rec
            .events
            .iter()
            .find(|e| e.endpoint == "client" && matches!(e.kind, TraceKind::Send { seg, .. } if seg.flags.fin()))
            .expect("the client sends its FIN");
        fin.t.as_nanos()
    };
    let (sack, newreno) = (end("sims/sack/three-losses.ron"), end("sims/sack/three-losses-newreno.ron"));
    assert_eq!((sack, newreno), (240_000_000, 280_000_000), "the FIN leaves one RTT (40 ms) earlier");
}

/// The ordering the README's sweep table shows (sims/sack/bulk-transfer.ron
/// at 5 % loss), pinned cheaply on the first 20 seeds of the sweep:
/// SACK's RTOs (RETRANSMIT expiries, B-TMR-04 and B-TMR-10) are no more
/// than NewReno's over the same seeds.
#[test]
fn sack_has_no_more_rtos_than_newreno_in_a_lossy_bulk_transfer() {
    let rtos = |sack: &str| {
        let model = load("sims/sack/bulk-transfer.ron", &[("links[0].loss", "0.05"), ("tcp.sack", sack)]);
        let mut totals = tcpsim::sweep::Totals::default();
        for i in 0..20 {
            tcpsim::sweep::run_one(&model, i, 0, tcpsim::sweep::run_seed(model.seed, i), &mut totals);
        }
        [tcpsim::rule::TMR_04, tcpsim::rule::TMR_10].iter().map(|r| totals.coverage[r.index()]).sum::<u64>()
    };
    let (newreno, sack) = (rtos("false"), rtos("true"));
    assert!(sack <= newreno, "SACK {sack} RTOs, NewReno {newreno}");
    assert!(0 < sack, "5 % loss still times out");
}
