//! RFC 7323 end to end: window scaling fills a long fat pipe, timestamps
//! time every ACK, PAWS discards an old duplicate, and the options appear
//! in the trace and the capture as on the wire.

use crate::util::{load, run, stdout, tcpsim};
use tcpsim::tcp::{AppEvent, SeqNum};
use tcpsim::trace::{Discard, OwnedEvent, TraceKind};

const WINDOW_SCALING: &str = "sims/rfc7323/window-scaling.ron";

/// Bandwidth-delay product of window-scaling.ron: 100 Mbit/s x 50 ms.
const BDP: u32 = 100_000_000 / 8 / 20;

/// Times (ns) of the client's flight reaching `bytes` first, and of the
/// server's last delivery; bytes the server's application got after the
/// first.
fn measure(events: &[OwnedEvent], flight_at_least: u32) -> (u64, u64, u64) {
    let (mut snd_max, mut snd_una) = (None::<SeqNum>, None::<SeqNum>);
    let mut start = None;
    let (mut last, mut bytes_after) = (0, 0);
    for e in events {
        match e.kind {
            TraceKind::Send { seg, .. } if e.endpoint == "client" => {
                let end = seg.end();
                if snd_max.is_none_or(|m| m.lt(end)) {
                    snd_max = Some(end);
                }
                if seg.flags.syn() {
                    snd_una = Some(seg.seq);
                }
            }
            TraceKind::Deliver { seg, .. }
                if e.endpoint == "client" && seg.flags.ack() && snd_una.is_some_and(|u| u.lt(seg.ack)) =>
            {
                snd_una = Some(seg.ack);
            }
            TraceKind::Event(AppEvent::Data { bytes, .. }) if e.endpoint == "server" => {
                if start.is_some() {
                    bytes_after += u64::from(bytes);
                }
                last = e.t.as_nanos();
            }
            _ => {}
        }
        if start.is_none()
            && let (Some(max), Some(una)) = (snd_max, snd_una)
            && max.since(una) >= flight_at_least
        {
            start = Some(e.t.as_nanos());
        }
    }
    (start.expect("the flight reached the mark"), last, bytes_after)
}

/// B-WS-02, B-WS-04: 100 Mbit/s, 50 ms RTT, shift 7, 1 MiB buffer: once
/// the flight reaches the BDP (625000 bytes) the link runs full. A
/// 1500-byte packet carries 1460 bytes, so the goodput is at most
/// 100 * 1460 / 1500 = 97.33 Mbit/s, and must be at least 90 % of the
/// link rate, 90 Mbit/s.
#[test]
fn window_scaling_fills_a_100_mbit_50_ms_path() {
    let (world, rec) = run(load(WINDOW_SCALING, &[]));
    assert_eq!(world.endpoints().find(|e| e.name == "server").unwrap().tcp.stats().bytes_delivered, 50_000_000);
    let (start, last, bytes) = measure(&rec.events, BDP);
    let mbit_s = bytes as f64 * 8.0 / ((last - start) as f64 / 1e9) / 1e6;
    println!("window scaling: goodput {mbit_s:.2} Mbit/s from {start} ns to {last} ns");
    assert!((90.0..=97.34).contains(&mbit_s), "goodput {mbit_s:.2} Mbit/s from {start} ns to {last} ns");
}

/// Without window scaling the same path moves one 65535-byte window per
/// RTT (the receive buffer is all the window can say): 44 full segments,
/// 64240 bytes, since silly-window avoidance holds the 1295-byte tail;
/// the RTT is 50 ms plus 0.12 ms to serialize a packet, so 64240 * 50 /
/// 50.12 = 64086 bytes per 50 ms, within 5 % of 65535.
#[test]
fn without_window_scaling_the_path_moves_one_window_per_rtt() {
    let (_, rec) = run(load(WINDOW_SCALING, &[("tcp", "(msl_ms: 1000, recv_buffer_bytes: 65535)")]));
    // From the first full window to the last byte.
    let (start, last, bytes) = measure(&rec.events, 60_000);
    let per_rtt = bytes as f64 / ((last - start) as f64 / 50e6);
    let window = 65535.0;
    println!("no window scaling: {per_rtt:.0} bytes per 50 ms");
    assert!((per_rtt - window).abs() <= 0.05 * window, "{per_rtt:.0} bytes per 50 ms");
}

/// B-WS-02: a receive buffer above 65535 needs window scaling, and the
/// error says which field and why; shifts stop at 14; 1 GiB is the most.
#[test]
fn window_scaling_settings_are_validated() {
    let errors = |set: &str| {
        let bytes = std::fs::read(crate::util::root().join(WINDOW_SCALING)).unwrap();
        let o = tcpsim::scenario::Override::parse(set).unwrap();
        tcpsim::scenario::load(&bytes, &[o]).err().map(|e| format!("{e:?}")).unwrap_or_default()
    };
    let e = errors("tcp=(recv_buffer_bytes: 1048576)");
    assert!(e.contains("recv_buffer_bytes") && e.contains("needs window_scale"), "{e}");
    let e = errors("tcp=(window_scale: 15)");
    assert!(e.contains("window_scale") && e.contains("0..=14"), "{e}");
    let e = errors("tcp=(window_scale: 14, recv_buffer_bytes: 1073741825)");
    assert!(e.contains("recv_buffer_bytes") && e.contains("1 GiB"), "{e}");
    // §2.3: the largest window is 65535 << 14 = 1073725440 < 2^30 bytes.
    assert!(errors("tcp=(window_scale: 14, recv_buffer_bytes: 1073725440)").is_empty());
    let e = errors("tcp=(timestamps: true, ts_tick_ms: 0.5)");
    assert!(e.contains("ts_tick_ms"), "{e}");
}

/// RFC 7323 §2.3: the shift is chosen for the buffer. With shift 14 one
/// unit of the window field is 2^14 = 16384 bytes, so a 10000-byte buffer
/// is advertised as 10000 >> 14 = 0 even when empty and the transfer
/// stalls: a file and a built model are both refused, naming both fields;
/// 16384 bytes, one unit, is the least that is accepted.
#[test]
fn a_receive_buffer_below_one_window_scale_unit_is_refused() {
    let errors = |set: &str| {
        let bytes = std::fs::read(crate::util::root().join(WINDOW_SCALING)).unwrap();
        let o = tcpsim::scenario::Override::parse(set).unwrap();
        tcpsim::scenario::load(&bytes, &[o]).err().map(|e| format!("{e:?}")).unwrap_or_default()
    };
    let e = errors("tcp=(window_scale: 14, recv_buffer_bytes: 10000)");
    assert!(e.contains("recv_buffer_bytes") && e.contains("window_scale") && e.contains("16384"), "{e}");
    assert!(errors("tcp=(window_scale: 14, recv_buffer_bytes: 16384)").is_empty());

    let built = |recv_buffer: u32| {
        tcpsim::model::Builder::new("x")
            .host("a")
            .host("b")
            .link("a", "b", tcpsim::link::LinkParams::default())
            .tcp(tcpsim::tcp::TcpConfig { window_scale: Some(14), recv_buffer, ..Default::default() })
            .build()
    };
    let problems = built(10000).expect_err("refused");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, "tcp.recv_buffer_bytes");
    assert!(problems[0].message.contains("window_scale 14") && problems[0].message.contains("16384"), "{problems:?}");
    assert!(built(16384).is_ok());
}

/// RFC 7323 §2.3: the shift is chosen for the buffer, so the largest
/// window the field can say, 65535 << shift, must cover it. A 1 MiB
/// buffer (1048576 bytes) needs shift 5: 65535 << 4 = 1048560 is 16 bytes
/// short, and with shift 0 the window would stay at 65535 bytes, a
/// sixteenth of the buffer. Files and built models are both refused,
/// naming both fields and the least shift that covers the buffer; a shift
/// reaching 1 GiB refuses 2^30 itself (65535 << 14 = 1073725440).
#[test]
fn a_shift_too_small_for_the_receive_buffer_is_refused() {
    let errors = |set: &str| {
        let bytes = std::fs::read(crate::util::root().join(WINDOW_SCALING)).unwrap();
        let o = tcpsim::scenario::Override::parse(set).unwrap();
        tcpsim::scenario::load(&bytes, &[o]).err().map(|e| format!("{e:?}")).unwrap_or_default()
    };
    for shift in [0, 4] {
        let e = errors(&format!("tcp=(window_scale: {shift}, recv_buffer_bytes: 1048576)"));
        assert!(e.contains("recv_buffer_bytes") && e.contains(&format!("window_scale {shift}")), "{e}");
        assert!(e.contains("at least 5"), "{e}");
    }
    assert!(errors("tcp=(window_scale: 5, recv_buffer_bytes: 1048576)").is_empty());
    let e = errors("tcp=(window_scale: 14, recv_buffer_bytes: 1073741824)");
    assert!(e.contains("recv_buffer_bytes") && e.contains("1073725440"), "{e}");

    let built = |shift: u8| {
        tcpsim::model::Builder::new("x")
            .host("a")
            .host("b")
            .link("a", "b", tcpsim::link::LinkParams::default())
            .tcp(tcpsim::tcp::TcpConfig { window_scale: Some(shift), recv_buffer: 1 << 20, ..Default::default() })
            .build()
    };
    let problems = built(4).expect_err("refused");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, "tcp.recv_buffer_bytes");
    assert!(problems[0].message.contains("window_scale 4") && problems[0].message.contains("1048560"), "{problems:?}");
    assert!(built(5).is_ok());
}

/// B-WS-04: an injected non-SYN segment carries its sender's shift, as
/// the endpoint's own do: the client of window-scaling.ron scales by 7,
/// so a forged ACK with window field 100 stands for 100 << 7 = 12800
/// bytes. The trace says so on its send and its delivery, and the server,
/// which takes it as a window update (in sequence at 3001, acknowledging
/// its SYN, SND.UNA), holds SND.WND = 12800.
#[test]
fn an_injected_segment_carries_its_senders_window_shift() {
    let (world, rec) = run(load(
        WINDOW_SCALING,
        &[
            ("connections[0].on_connected", "[Send(bytes: 3000)]"),
            ("faults", r#"[Inject(at_ms: 500, from: "client", flags: "ACK", seq: 3001, ack: 1, wnd: 100)]"#),
        ],
    ));
    let forged: Vec<String> = rec
        .events
        .iter()
        .filter(|e| {
            e.t.as_nanos() >= 500_000_000 && matches!(e.kind, TraceKind::Send { .. } | TraceKind::Deliver { .. })
        })
        .take(2)
        .map(|e| e.json())
        .collect();
    assert_eq!(forged.len(), 2);
    for line in &forged {
        assert!(line.contains(r#""wnd":100,"wnd_scaled":12800"#), "{line}");
    }
    assert!(forged[0].contains(r#""injected":true"#), "{}", forged[0]);
    let server = world.endpoints().find(|e| e.name == "server").unwrap();
    assert_eq!(server.tcp.snd_wnd(), 12800);
}

/// With the smallest buffer the rule allows for shift 14, one unit, a
/// 100 kB transfer completes: the empty buffer is advertised as 1 unit,
/// never 0, so the window always reopens once the application reads.
#[test]
fn one_window_scale_unit_of_buffer_moves_100_kb() {
    let (world, _) = run(load(
        WINDOW_SCALING,
        &[
            ("tcp", "(msl_ms: 1000, window_scale: 14, recv_buffer_bytes: 16384)"),
            ("connections[0].on_connected", "[Send(bytes: 100000), Close]"),
        ],
    ));
    let server = world.endpoints().find(|e| e.name == "server").unwrap();
    assert_eq!(server.tcp.stats().bytes_delivered, 100_000);
}

/// B-TS-04: with timestamps on, every ACK that advances SND.UNA gives one
/// RTT sample from its TSecr, and no other sample is taken: at each
/// endpoint the `rtt` records (all `timestamp`) equal the deliveries whose
/// ACK is beyond every ACK before it. The run retransmits, so Karn's rule
/// would have skipped some of these.
#[test]
fn timestamps_time_every_ack_that_advances_snd_una() {
    let (world, rec) = run(load("sims/rfc7323/timestamps.ron", &[]));
    assert!(world.endpoints().any(|e| e.tcp.stats().retransmissions > 0), "the run retransmits");
    for name in ["client", "server"] {
        let iss = world.endpoints().find(|e| e.name == name).unwrap().tcp.iss();
        let mut una = iss;
        let mut advancing = 0;
        let mut samples = 0;
        for e in rec.events.iter().filter(|e| e.endpoint == name) {
            match e.kind {
                TraceKind::Deliver { seg, .. } if seg.flags.ack() && una.lt(seg.ack) => {
                    una = seg.ack;
                    advancing += 1;
                }
                TraceKind::Rtt { source, .. } => {
                    assert_eq!(source, tcpsim::tcp::RttSource::Timestamp);
                    samples += 1;
                }
                _ => {}
            }
        }
        // The server's: the ACKs of its SYN,ACK and of its FIN.
        assert!(advancing >= if name == "client" { 50 } else { 2 }, "{name}: {advancing}");
        assert_eq!(samples, advancing, "{name}: RTT samples vs ACKs that advanced SND.UNA");
    }
}

/// B-TS-04 with values: the same path without loss. The link has 20 ms
/// each way and no rate limit (no serialization time), and ACKs are not
/// delayed, so every segment is acknowledged on arrival with TSecr = its
/// own TSval (§4.3: it starts at Last.ACK.sent) and the echo comes back
/// exactly 40 ms after it left: with a 1 ms clock, 40 ticks. Every sample
/// at both ends is 40 ms, so SRTT is 40 ms after each; the first sample
/// sets RTTVAR to 20 ms and the RTO to max(200 ms, 40 + 4 * 20 = 120 ms)
/// = 200 ms (RFC 6298 (2.2), rto_min_ms 200), where it stays.
#[test]
fn timestamps_measure_the_round_trip_of_the_link() {
    let (world, rec) = run(load("sims/rfc7323/timestamps.ron", &[("links[0].loss", "0")]));
    assert!(world.endpoints().all(|e| e.tcp.stats().retransmissions == 0), "no loss, no retransmission");
    let mut samples = 0;
    for e in &rec.events {
        if let TraceKind::Rtt { sample, srtt, rto, .. } = e.kind {
            samples += 1;
            assert_eq!(sample.as_nanos(), 40_000_000, "{}", e.json());
            assert_eq!(srtt.as_nanos(), 40_000_000, "{}", e.json());
            assert_eq!(rto.as_nanos(), 200_000_000, "{}", e.json());
        }
    }
    // 200000 bytes in 1448-byte segments: 139 ACKs of data at least.
    assert!(samples >= 139, "{samples} samples");
}

/// B-TS-04 with a coarse clock: the same lossless path, but the
/// timestamp clock ticks every 100 ms, longer than the 40 ms round trip,
/// and rto_min is 10 ms. An echo comes back 0 or 1 tick after its TSval
/// left; a 0-tick sample counts as one tick, as in Linux (the round trip
/// was more than nothing, and at most a tick), so every sample is 100 ms.
/// RFC 6298 §2's G is the clock's granularity, here 100 ms, so the first
/// sample gives SRTT 100 ms, RTTVAR 50 ms and RTO 100 + max(100, 200) =
/// 300 ms, and later ones, all equal to SRTT, bring RTTVAR down until the
/// RTO reaches SRTT + G = 200 ms, never less. With G = 1 ms and samples of
/// 0 the RTO was rto_min, 10 ms, and the client retransmitted 11 times.
#[test]
fn a_coarse_timestamp_clock_keeps_the_rto_above_the_round_trip() {
    let (world, rec) = run(load(
        "sims/rfc7323/timestamps.ron",
        &[("links[0].loss", "0"), ("tcp.ts_tick_ms", "100"), ("tcp.rto_min_ms", "10")],
    ));
    assert!(world.endpoints().all(|e| e.tcp.stats().retransmissions == 0), "no loss, no retransmission");
    let mut rtos = Vec::new();
    for e in &rec.events {
        if let TraceKind::Rtt { sample, srtt, rto, .. } = e.kind {
            assert_eq!(sample.as_nanos(), 100_000_000, "{}", e.json());
            assert_eq!(srtt.as_nanos(), 100_000_000, "{}", e.json());
            rtos.push(rto.as_nanos());
        }
    }
    assert_eq!(rtos.first(), Some(&300_000_000));
    assert_eq!(rtos.iter().min(), Some(&200_000_000));
    assert!(rtos.len() >= 139, "{} samples", rtos.len());
}

/// B-TS-05: the forged segment with an old TSval is the server's discard
/// (`deliver` with `discard: "paws"`, not a link drop), and the server's
/// next segment is the ACK in reply, still at ISS+1001.
#[test]
fn paws_discard_is_the_receivers_and_answered_with_an_ack() {
    let (_, rec) = run(load("sims/rfc7323/paws.ron", &[]));
    let at = rec
        .events
        .iter()
        .position(|e| matches!(e.kind, TraceKind::Deliver { discard: Some(Discard::Paws), .. }))
        .expect("a PAWS discard");
    let discarded = &rec.events[at];
    assert_eq!((discarded.endpoint.as_str(), discarded.conn), ("server", 0));
    assert!(discarded.json().contains(r#""discard":"paws""#), "{}", discarded.json());
    assert!(discarded.json().contains(r#""tsval":4294967100"#), "{}", discarded.json());
    let reply = rec.events[at..]
        .iter()
        .find_map(|e| match e.kind {
            TraceKind::Send { seg, .. } if e.endpoint == "server" => Some(seg),
            _ => None,
        })
        .expect("a reply");
    assert_eq!(reply.flags, tcpsim::tcp::Flags::ACK);
    assert_eq!(reply.ack, SeqNum(1001 + 1000));
    // The reset with the same old TSval is not discarded (B-TS-06).
    assert_eq!(rec.events.iter().filter(|e| matches!(e.kind, TraceKind::Deliver { discard: Some(_), .. })).count(), 1);
    assert!(!rec.events.iter().any(|e| matches!(e.kind, TraceKind::Drop { .. })), "nothing is lost on the link");
}

/// The options appear in the JSONL and the text trace, each only when the
/// segment carries it (`mss` beside them, so a trace without RFC 7323
/// options reads as before); `wnd` stays the 16-bit field and
/// `wnd_scaled` says what it means.
#[test]
fn options_appear_in_both_traces() {
    let jsonl = stdout(&tcpsim(&["run", "sims/rfc7323/paws.ron", "--format", "jsonl", "--conn", "0"]));
    let syn = jsonl.lines().find(|l| l.contains(r#""kind":"send""#) && l.contains(r#""flags":"SYN""#)).unwrap();
    assert!(syn.contains(r#""mss":1460,"tsval":4294967000,"tsecr":0"#), "{syn}");
    let text = stdout(&tcpsim(&["run", "sims/rfc7323/paws.ron", "--conn", "0"]));
    assert!(text.contains(" mss=1460 tsval=4294967000 tsecr=0"), "{text}");
    assert!(text.contains("discard: paws"), "{text}");

    let (_, rec) = run(load(WINDOW_SCALING, &[("connections[0].on_connected", "[Send(bytes: 3000), Close]")]));
    let lines: Vec<String> =
        rec.events.iter().filter(|e| matches!(e.kind, TraceKind::Send { .. })).map(|e| e.json()).collect();
    assert!(lines[0].contains(r#""flags":"SYN","seq""#), "{}", lines[0]);
    assert!(lines[0].contains(r#""wnd":65535,"mss":1460,"ws":7,"pkt":0"#), "{}", lines[0]);
    // The client's ACK of the SYN,ACK: 1048576 >> 7 = 8192 units.
    assert!(lines[2].contains(r#""wnd":8192,"wnd_scaled":1048576"#), "{}", lines[2]);
    // Options enter the digest only where a segment has them, so a run
    // without them kept its digest when they came (version 3; 4 since the
    // context went in only where it changes).
    assert_eq!(tcpsim::trace::DIGEST_VERSION, 4);
}

/// The digest covers the options: the same run with the timestamp clock
/// started at 1 and at 123456 differs in every TSval and TSecr and in
/// nothing else, and gives two digests.
#[test]
fn timestamps_enter_the_digest() {
    let digest = |start: &str| run(load("sims/rfc7323/timestamps.ron", &[("tcp.ts_start", start)])).0.digest();
    assert_ne!(digest("1"), digest("123456"));
}

/// RFC 7323 §5.4: the timestamp clock's start is drawn from the seed like
/// the ISS: the same seed gives the same value, another seed another.
#[test]
fn timestamp_clock_start_is_drawn_from_the_seed() {
    let first_tsval = |seed: &str| {
        let (_, rec) = run(load("sims/rfc7323/timestamps.ron", &[("seed", seed)]));
        rec.events
            .iter()
            .find_map(|e| match e.kind {
                TraceKind::Send { seg, .. } => seg.ts().map(|t| t.tsval),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(first_tsval("5"), first_tsval("5"));
    assert_ne!(first_tsval("5"), first_tsval("6"));
}

/// B-WS-05, RFC 7323 §2.3 and RFC 9293 §3.8.6.2.2: a receiver whose
/// application stops reading takes no more than its buffer, whatever the
/// shift. Every advertised right edge is at most RCV.NXT plus the free
/// buffer at the time (rounding may only bring it back, never out), so
/// the bytes taken in and not read stay within `recv_buffer_bytes`
/// (131072), and the sender ends up probing a closed window.
#[test]
fn a_paused_reader_takes_no_more_than_its_buffer_at_any_shift() {
    for shift in [3u8, 7, 10, 12, 14] {
        let file = format!(
            r#"(
    name: "paused",
    seed: 1,
    tcp: (msl_ms: 1000, window_scale: {shift}, recv_buffer_bytes: 131072),
    hosts: [(name: "a"), (name: "b")],
    links: [(between: ("a", "b"), delay_ms: 10)],
    listeners: [(name: "server", host: "b", port: 80, on_connected: [PauseRead])],
    connections: [
        (name: "client", host: "a", remote_host: "b", remote_port: 80,
         script: [Connect(at_ms: 0), Close(at_ms: 5000)], on_connected: [Send(bytes: 5000000)]),
    ],
)"#
        );
        let sim = tcpsim::simulation::Simulation::load(file.as_bytes(), &[]).expect("valid");
        let mut rec = tcpsim::trace::Recorder::default();
        let finished = sim.run(&mut rec);
        let server = finished.world.endpoints().find(|e| e.name == "server").unwrap();
        // The first segment rides on the handshake's last ACK and reaches
        // the application before its reaction pauses reading.
        let read: u64 = rec
            .events
            .iter()
            .filter_map(|e| match e.kind {
                TraceKind::Event(AppEvent::Data { bytes, .. }) if e.endpoint == "server" => Some(u64::from(bytes)),
                _ => None,
            })
            .sum();
        let taken = server.tcp.stats().bytes_delivered - read;
        assert!(taken <= 131_072, "shift {shift}: took {taken} bytes into a 131072-byte buffer");
        assert!(taken > 131_072 - (1 << shift) - 1460, "shift {shift}: the buffer fills, took {taken}");
    }
}
