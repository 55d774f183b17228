//! SACK end to end: negotiation decides, per endpoint, between RFC 6675
//! recovery and NewReno, and an endpoint whose peer does not offer SACK
//! runs exactly as without it.

use crate::util::{load, run};
use tcpsim::trace::TraceKind;

/// B-SACK-02: SACK offered by the client only (the listener's own `tcp`
/// turns it off) is not used: the run is NewReno's, event for event; only
/// the client's SYN carries SACK-permitted, so its digest is the file's
/// without SACK once that option is taken off the SYN's records.
#[test]
fn sack_offered_by_one_side_only_runs_as_newreno() {
    let one_side = load("sims/sack/three-losses.ron", &[("listeners[0].tcp.sack", "false")]);
    let newreno = load("sims/sack/three-losses-newreno.ron", &[]);
    let (a, rec) = run(one_side);
    let (b, plain) = run(newreno);
    assert_ne!(a.digest(), b.digest(), "SACK-permitted is in the digest");
    let mut without_option = rec.events.clone();
    let mut digest = tcpsim::trace::Digest::new();
    for e in &mut without_option {
        if let TraceKind::Send { seg, .. } | TraceKind::Deliver { seg, .. } | TraceKind::Drop { seg, .. } = &mut e.kind
        {
            seg.opts = seg.opts.with_sack_permitted(false);
        }
        digest.add(&e.as_event());
    }
    assert_eq!(without_option, plain.events);
    assert_eq!(digest.hex(), b.digest());
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
