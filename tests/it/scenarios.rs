//! Behaviour pinned across many seeds and settings.

use crate::util::{load, run};
use tcpsim::expect;
use tcpsim::tcp::State;
use tcpsim::trace::TraceKind;

/// 100 KB each way over 5 % loss with reordering and duplication: every
/// byte delivered in order exactly once, and a clean close, for seeds 1 to
/// 100.
#[test]
fn lossy_transfer_delivers_everything_for_seeds_1_to_100() {
    let mut total_drops = 0;
    for seed in 1..=100u64 {
        let model = load("sims/lossy-transfer.ron", &[("seed", &seed.to_string())]);
        let exp = model.expect.clone().unwrap();
        let (world, rec) = run(model);
        for c in expect::check(&world, &exp) {
            assert!(c.ok, "seed {seed}: {}", c.describe());
        }
        // In order and exactly once: the receiver's delivered byte count
        // only grows by what each DATA event says, and never sees foreign
        // bytes (a duplicate or misplaced byte would be foreign or extra).
        for name in ["client", "server"] {
            let ep = world.endpoint(0, name).unwrap();
            assert_eq!(ep.tcp.stats().bytes_delivered, 100_000, "seed {seed} {name}");
            assert_eq!(ep.tcp.stats().foreign_bytes, 0, "seed {seed} {name}");
        }
        total_drops += rec.events.iter().filter(|e| matches!(e.kind, TraceKind::Drop { .. })).count();
    }
    // About 140 data segments each way per run at 5 %: thousands of drops
    // over 100 seeds, so the test exercises loss recovery for real.
    assert!(total_drops > 1000, "only {total_drops} drops in 100 runs");
}

/// B-CLOSE-05 versus B-CLOSE-06: a lost ACK gives TIME_WAIT directly, a
/// lost FIN gives CLOSING.
#[test]
fn lost_ack_and_lost_fin_differ() {
    let (ack, _) = run(load("sims/lost-ack.ron", &[]));
    assert!(!ack.endpoint(0, "client").unwrap().log.visited(State::Closing));
    let (fin, _) = run(load("sims/lost-fin-closing.ron", &[]));
    assert!(fin.endpoint(0, "client").unwrap().log.visited(State::Closing));
}

/// With a short MSL, TIME_WAIT (2 x MSL) ends before the server's FIN
/// retransmission arrives, so the retransmitted FIN meets a closed port and
/// a reset: why TIME_WAIT must outlast the peer's RTO.
#[test]
fn short_time_wait_lets_a_retransmitted_fin_meet_a_reset() {
    let (world, _) = run(load("sims/lost-final-ack.ron", &[("tcp.msl_ms", "100")]));
    let server = world.endpoint(0, "server").unwrap();
    assert_eq!(server.tcp.close_reason(), Some(tcpsim::tcp::CloseReason::Reset));
    let (world, _) = run(load("sims/lost-final-ack.ron", &[]));
    let server = world.endpoint(0, "server").unwrap();
    assert_eq!(server.tcp.close_reason(), Some(tcpsim::tcp::CloseReason::Normal));
}

fn inline(text: &str) -> tcpsim::model::Model {
    tcpsim::scenario::load(text.as_bytes(), &[]).unwrap_or_else(|e| panic!("{e:?}"))
}

/// A population of 200 connections to one listening port: the listener
/// keeps a fresh listening endpoint in place until it has accepted
/// `backlog` connections; every connection completes.
#[test]
fn population_through_one_listener_completes() {
    let model = inline(
        r#"(
        name: "population", seed: 3, tcp: (msl_ms: 500),
        hosts: [(name: "c"), (name: "s")],
        links: [(between: ("c", "s"), delay_ms: 2, jitter_ms: 1, loss: 0.02)],
        listeners: [(name: "server", host: "s", port: 80, backlog: 200, on_end_of_stream: [Close])],
        connections: [(name: "client", host: "c", remote_host: "s", remote_port: 80, count: 200,
                       open_spread_ms: 50, script: [Connect(at_ms: 0)], on_connected: [Send(bytes: 3000), Close])],
        expect: (all_connections: (final_state: CLOSED, all_bytes_delivered: true, established: true)),
    )"#,
    );
    let exp = model.expect.clone().unwrap();
    let (world, _) = run(model);
    for c in expect::check(&world, &exp) {
        assert!(c.ok, "{}", c.describe());
    }
    // Every client got its own ephemeral port.
    let mut ports: Vec<u16> = world.endpoints().filter(|e| e.name == "client").map(|e| e.local_port).collect();
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), 200);
}

/// Once a listener has accepted `backlog` connections no listening
/// endpoint remains, and further SYNs are refused with RST.
#[test]
fn listener_refuses_beyond_its_backlog() {
    let (world, _) = run(inline(
        r#"(
        name: "backlog", seed: 1,
        hosts: [(name: "c"), (name: "s")],
        links: [(between: ("c", "s"), delay_ms: 1)],
        listeners: [(name: "server", host: "s", port: 80, backlog: 3)],
        connections: [(name: "client", host: "c", remote_host: "s", remote_port: 80, count: 5,
                       open_spread_ms: 10, script: [Connect(at_ms: 0)])],
    )"#,
    ));
    let states: Vec<State> = (0..5).map(|c| world.endpoint(c, "client").unwrap().tcp.state()).collect();
    assert_eq!(states[..3], [State::Established; 3]);
    assert_eq!(states[3..], [State::Closed; 2]);
    assert_eq!(world.endpoint(4, "client").unwrap().tcp.close_reason(), Some(tcpsim::tcp::CloseReason::Refused));
}

/// Scripted faults: `Delay` holds one segment back, `Duplicate` sends it
/// twice; the duplicate FIN is acknowledged without a second transition.
#[test]
fn delay_and_duplicate_faults_apply_to_the_nth_match() {
    let (world, rec) = run(inline(
        r#"(
        name: "faults", seed: 1, tcp: (msl_ms: 100),
        hosts: [(name: "c"), (name: "s")],
        links: [(between: ("c", "s"), delay_ms: 10)],
        listeners: [(name: "server", host: "s", port: 80, on_end_of_stream: [Close])],
        connections: [(name: "client", host: "c", remote_host: "s", remote_port: 80,
                       script: [Connect(at_ms: 0), Close(at_ms: 100)])],
        faults: [
            Delay(matching: (from: "client", flags: "SYN"), by_ms: 40),
            Duplicate(matching: (from: "client", flags: "FIN|ACK"), after_ms: 5),
        ],
    )"#,
    ));
    let delivered_syn = rec
        .events
        .iter()
        .find(|e| e.endpoint == "server" && matches!(e.kind, TraceKind::Deliver { seg, .. } if seg.flags.syn()))
        .unwrap();
    assert_eq!(delivered_syn.t.as_nanos(), 50_000_000, "10 ms link + 40 ms delay");
    let fins_at_server = rec
        .events
        .iter()
        .filter(|e| e.endpoint == "server" && matches!(e.kind, TraceKind::Deliver { seg, .. } if seg.flags.fin() && seg.flags.ack() && seg.seq != world.endpoint(0, "server").unwrap().tcp.iss()))
        .count();
    assert_eq!(fins_at_server, 2, "the FIN and its duplicate");
    assert_eq!(world.endpoint(0, "server").unwrap().tcp.state(), State::Closed);
}

/// An injected RST with the right sequence number resets an established
/// connection (B-RST-03); one outside the window is dropped (B-SEQ-02).
#[test]
fn injected_resets_follow_the_window_rules() {
    let text = |seq: i64| {
        format!(
            r#"(
        name: "inject", seed: 1,
        hosts: [(name: "c"), (name: "s")],
        links: [(between: ("c", "s"), delay_ms: 10)],
        listeners: [(name: "server", host: "s", port: 80, iss: 9000)],
        connections: [(name: "client", host: "c", remote_host: "s", remote_port: 80, iss: 100,
                       script: [Connect(at_ms: 0)])],
        faults: [Inject(at_ms: 500, from: "client", flags: "RST", seq: {seq})],
    )"#
        )
    };
    let (world, _) = run(inline(&text(1)));
    assert_eq!(world.endpoint(0, "server").unwrap().tcp.close_reason(), Some(tcpsim::tcp::CloseReason::Reset));
    let (world, _) = run(inline(&text(100_000)));
    assert_eq!(world.endpoint(0, "server").unwrap().tcp.state(), State::Established);
}

/// The smallest scale scenario runs in the test suite: 1000 connections to
/// one port, every one closed with all bytes delivered.
#[test]
fn scale_1k_completes() {
    let model = load("scale/scale-1k.ron", &[]);
    let exp = model.expect.clone().unwrap();
    let (world, _) = run(model);
    for c in expect::check(&world, &exp) {
        assert!(c.ok, "{}", c.describe());
    }
    assert_eq!(world.model().connection_count(), 1000);
}

/// Item 5 (B-RST-01, B-TMR-09, B-SYN-01, B-APP-13, B-APP-10): a CLOSE
/// made in SYN_RECEIVED with data queued survives the way back to LISTEN.
/// Run at 35 % loss over 200 seeds (before the fix about one run in four
/// left the server stuck in LISTEN or ESTABLISHED). Every run completes,
/// meets its expectations and leaves no endpoint stuck; and, read from the
/// trace, every fall-back from SYN_RECEIVED to LISTEN of an endpoint whose
/// application had called CLOSE is followed directly by LISTEN -> CLOSED
/// with reason USER_CLOSE, and no other fall-back is: the two counts are
/// equal, and large enough that the sweep really took the way back.
#[test]
fn close_in_syn_received_sweep_leaves_nothing_stuck() {
    use std::collections::BTreeMap;
    use tcpsim::tcp::{Call, CloseReason};
    let (mut closed_fallbacks, mut fallbacks_then_closed) = (0u64, 0u64);
    for seed in 1..=200u64 {
        let model = load("sims/close-in-syn-received.ron", &[("seed", &seed.to_string())]);
        let exp = model.expect.clone().unwrap();
        let (world, rec) = run(model);
        for c in expect::check(&world, &exp) {
            assert!(c.ok, "seed {seed}: {}", c.describe());
        }
        assert_eq!(world.open_endpoints(0).unwrap().stuck(), 0, "seed {seed}");
        // Per endpoint: whether its application has closed it (the world's
        // own rule: CLOSE marks it, a successful OPEN clears it), and its
        // last transition.
        let mut app_closed: BTreeMap<u32, bool> = BTreeMap::new();
        let mut last: BTreeMap<u32, (State, State)> = BTreeMap::new();
        for e in &rec.events {
            match e.kind {
                TraceKind::App { call: Call::Close, .. } => {
                    app_closed.insert(e.ep, true);
                }
                TraceKind::App { call: Call::Listen | Call::Connect, error: None, .. } => {
                    app_closed.insert(e.ep, false);
                }
                TraceKind::Transition { from, to, rule, reason, .. } => {
                    if (from, to) == (State::SynReceived, State::Listen) {
                        let way = rule.to_string();
                        assert!(["B-RST-01", "B-TMR-09", "B-SYN-01"].contains(&way.as_str()), "seed {seed}: {way}");
                        if app_closed.get(&e.ep) == Some(&true) {
                            closed_fallbacks += 1;
                        }
                    }
                    let after_fallback = last.get(&e.ep) == Some(&(State::SynReceived, State::Listen));
                    if after_fallback
                        && (from, to, reason) == (State::Listen, State::Closed, Some(CloseReason::UserClose))
                    {
                        fallbacks_then_closed += 1;
                    }
                    last.insert(e.ep, (from, to));
                }
                _ => {}
            }
        }
    }
    assert_eq!(fallbacks_then_closed, closed_fallbacks);
    assert!(closed_fallbacks > 20, "only {closed_fallbacks} fall-backs with a CLOSE made");
}

/// B-RST-01, B-TMR-09, B-APP-10: a CLOSE deferred in SYN_RECEIVED
/// (B-APP-13) and applied on the way back to LISTEN is traced once, as the
/// cause `pending close` of the LISTEN -> CLOSED transition, with no `app`
/// record at that time: the application's call is the earlier one (25 ms).
#[test]
fn pending_close_applied_in_listen_is_traced_as_its_cause() {
    let (_, rec) = run(load("sims/close-pending-back-to-listen.ron", &[]));
    for server in ["server_rst", "server_tmr"] {
        let events: Vec<_> = rec.events.iter().filter(|e| e.endpoint == server).collect();
        let closed = events
            .iter()
            .find(|e| matches!(e.kind, TraceKind::Transition { from: State::Listen, to: State::Closed, .. }))
            .unwrap();
        let TraceKind::Transition { cause, .. } = closed.kind else { unreachable!() };
        assert_eq!(cause.to_string(), "pending close", "{server}");
        let calls: Vec<(u64, String)> = events
            .iter()
            .filter_map(|e| match e.kind {
                TraceKind::App { call, .. } => Some((e.t.as_nanos() / 1_000_000, call.name().to_string())),
                _ => None,
            })
            .collect();
        assert_eq!(calls, [(0, "listen"), (20, "send"), (25, "close")].map(|(t, c)| (t, c.to_string())), "{server}");
    }
}

/// Injected segments can forge what a peer never sent, so a state they
/// explain is not called stuck. Both FINs of a simultaneous close are
/// dropped by a scripted fault, and each side then gets an injected ACK
/// covering its FIN (seq 1: the receiver's RCV.NXT; ack 2: past the FIN at
/// ISS+1): both stop retransmitting and wait in FIN_WAIT_2 for a FIN that
/// will never come (B-CLOSE-11, no timer). Protocol-legal, and no bug: the
/// open list says `injected`, and nothing is stuck.
#[test]
fn forged_acks_of_dropped_fins_leave_fin_wait_2_explained_by_injection() {
    use tcpsim::world::OpenReason;
    let model = inline(
        r#"(
        name: "forged-fin-acks", seed: 1,
        hosts: [(name: "a"), (name: "b")],
        links: [(between: ("a", "b"), delay_ms: 10)],
        connections: [(name: "client", host: "a", local_port: 40000, remote_host: "b", remote_port: 80,
                       iss: 1000, script: [Connect(at_ms: 0), Close(at_ms: 100)],
                       peer: Some((name: "server", iss: 5000, script: [Listen(at_ms: 0), Close(at_ms: 100)])))],
        faults: [
            Drop(matching: (from: "client", flags: "FIN|ACK")),
            Drop(matching: (from: "server", flags: "FIN|ACK")),
            Inject(at_ms: 200, from: "server", flags: "ACK", seq: 1, ack: 2),
            Inject(at_ms: 200, from: "client", flags: "ACK", seq: 1, ack: 2),
        ],
    )"#,
    );
    let (world, _) = run(model);
    let open = world.open_endpoints(20).unwrap();
    let listed: Vec<(&str, State, OpenReason)> =
        open.listed.iter().map(|e| (e.name.as_str(), e.state, e.reason)).collect();
    assert_eq!(
        listed,
        vec![("client", State::FinWait2, OpenReason::Injected), ("server", State::FinWait2, OpenReason::Injected)]
    );
    assert_eq!((open.open(), open.stuck()), (2, 0));
}

/// The world side of item 5 for listeners (B-RST-01, B-APP-10,
/// B-CLOSED-01): a listener's endpoint that falls back from SYN_RECEIVED to
/// LISTEN after the listener was closed (`close_at_ms`) is closed as the
/// idle ones were, not left listening for an application that closed it;
/// and a later SYN to the port is answered by the host with a reset.
///
/// Timeline over a 10 ms link: the SYN,ACK (10 ms) is dropped; the client
/// closes from SYN_SENT at 30 ms; the listener closes at 500 ms; the
/// retransmitted SYN,ACK (1010 ms) meets the CLOSED client, whose reset
/// (1030 ms) sends the server back to LISTEN, then CLOSED; the client's new
/// SYN (2000 ms) is refused (2020 ms).
#[test]
fn listener_endpoint_falling_back_after_close_at_is_closed() {
    let model = inline(
        r#"(
        name: "listener-closed-while-half-open", seed: 1,
        hosts: [(name: "a"), (name: "b")],
        links: [(between: ("a", "b"), delay_ms: 10)],
        listeners: [(name: "server", host: "b", port: 80, close_at_ms: 500, iss: 5000)],
        connections: [(name: "client", host: "a", remote_host: "b", remote_port: 80, iss: 1000,
                       script: [Connect(at_ms: 0), Close(at_ms: 30), Connect(at_ms: 2000)])],
        faults: [Drop(matching: (from: "server", flags: "SYN|ACK", retransmit: false))],
    )"#,
    );
    let (world, rec) = run(model);
    let server = world.endpoints().find(|e| e.name == "server").unwrap();
    assert_eq!(
        server.log.states(),
        vec![State::Closed, State::Listen, State::SynReceived, State::Listen, State::Closed]
    );
    assert_eq!(server.tcp.close_reason(), Some(tcpsim::tcp::CloseReason::UserClose));
    let closed_at = rec.events.iter().find_map(|e| match e.kind {
        TraceKind::Transition { from: State::Listen, to: State::Closed, rule, .. } if e.endpoint == "server" => {
            Some((e.t.as_nanos() / 1_000_000, rule.to_string()))
        }
        _ => None,
    });
    assert_eq!(closed_at, Some((1030, "B-APP-10".to_string())));
    // The world carries out the listener's close_at as a CLOSE call on
    // each listening endpoint once it is idle: this one at 1030 ms, traced
    // as an `app close` record and the transition's cause `app close`.
    let closes: Vec<(u64, String)> = rec
        .events
        .iter()
        .filter(|e| e.endpoint == "server")
        .filter_map(|e| match e.kind {
            TraceKind::App { call: tcpsim::tcp::Call::Close, .. } => Some((e.t.as_nanos() / 1_000_000, "app".into())),
            TraceKind::Transition { to: State::Closed, cause, .. } => {
                Some((e.t.as_nanos() / 1_000_000, cause.to_string()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(closes, [(1030, "app"), (1030, "app close")].map(|(t, c)| (t, c.to_string())));
    let client = world.endpoint(0, "client").unwrap();
    assert_eq!(client.tcp.close_reason(), Some(tcpsim::tcp::CloseReason::Refused));
    let open = world.open_endpoints(20).unwrap();
    assert_eq!((open.open(), open.stuck()), (0, 0), "{open:?}");
}
