//! Congestion control end to end: CUBIC's window against RFC 9438's
//! formula, and the `congestion` records' CUBIC fields outside the digest.

use crate::util::{load, run};
use tcpsim::tcp::{CubicInfo, CubicRegion};
use tcpsim::trace::TraceKind;

/// C of RFC 9438 §5.1, in segments per second cubed.
const C: f64 = 0.4;
/// β_cubic, RFC 9438 §4.6.
const BETA: f64 = 0.7;
/// The round trip of `cubic-one-loss.ron`: 50 ms each way, no queue, no
/// jitter, so every RTT sample (and SRTT) is exactly this.
const RTT_S: f64 = 0.1;
const MSS: f64 = 1460.0;

/// (time in s, cwnd, ssthresh, CUBIC's fields) of the client's records.
fn client_records(overrides: &[(&str, &str)]) -> Vec<(f64, u32, u32, CubicInfo)> {
    let (_, rec) = run(load("sims/cc/cubic-one-loss.ron", overrides));
    rec.events
        .iter()
        .filter(|e| e.endpoint == "client")
        .filter_map(|e| match e.kind {
            TraceKind::Congestion { cwnd, ssthresh, cubic: Some(c), .. } => {
                Some((e.t.as_nanos() as f64 / 1e9, cwnd, ssthresh, c))
            }
            _ => None,
        })
        .collect()
}

/// B-CC-03, B-CC-05, B-CC-06: after a single loss in a long transfer,
/// cwnd follows W_cubic(t) = C (t − K)³ + W_max (RFC 9438 §4.2, in
/// segments, t in seconds from the start of congestion avoidance) with K
/// = ∛(W_max (1 − β) / C), through the concave region up to W_max and
/// the convex region beyond, until W_est (§4.3) overtakes the curve (the
/// transfer ends without another loss).
///
/// W_max is the window when the loss was detected: the client's last
/// record before recovery (slow start does not grow on duplicate ACKs).
/// Expected values come from the formula in f64 here, never from the
/// records but for that input.
///
/// Tolerance: W_cubic(t) − 1.1 ≤ cwnd(t) ≤ W_cubic(t + RTT) + 1 segment.
/// Above: the sender aims at W_cubic(t + RTT) (§4.2) and closes the
/// distance by (target − cwnd)/cwnd per segment acknowledged, so a
/// window's worth of ACKs takes it at most to the target: never above
/// W_cubic(t + RTT) (one segment covers rounding; this pins the t + RTT
/// target rather than W_cubic(t)). Below: growth comes only with ACKs, a
/// window of them per round (here all at once: the link has no
/// bottleneck to space them), so at a round's first ACK cwnd is where
/// the last round left it. That round, one RTT earlier, aimed at
/// W_cubic(t) and closed all but (1 − 1/cwnd)^cwnd ≈ 1/e of its distance
/// to it; the distance is one RTT of the curve's growth, at most
/// 3C K² × 0.1 s ≈ 2.2 segments at t = 0, so cwnd falls short of
/// W_cubic(t) by under 0.8 segment, plus the rounding of per-ACK growth
/// (the first round after recovery was Reno-friendly and aimed nowhere,
/// but starts at β W_max ≈ W_cubic(0)). K is the issue's ∛(W_max (1 −
/// β)/C); RFC 9438 computes it from cwnd_epoch, which here is one
/// segment above β W_max (NewReno's full ACK leaves cwnd just below
/// ssthresh and one slow-start ACK follows), moving K by 28 ms: at most
/// 0.6 segment of W_cubic at t = 0, shrinking towards K.
#[test]
fn cubic_window_follows_w_cubic_after_one_loss() {
    let records = client_records(&[]);
    let first_loss = records.iter().position(|r| r.3.region == CubicRegion::Recovery).expect("a recovery");
    let w_max_bytes = records[first_loss - 1].1;
    let (_, _, ssthresh, info) = records[first_loss];
    // §4.6: W_max = cwnd; ssthresh = 0.7 × FlightSize, and FlightSize
    // was cwnd (the sender filled its window).
    assert_eq!(info.w_max, w_max_bytes);
    assert_eq!(ssthresh, (f64::from(w_max_bytes) * BETA) as u32);
    let w_max = f64::from(w_max_bytes) / MSS;
    let k = (w_max * (1.0 - BETA) / C).cbrt();
    let w_cubic = |t: f64| C * (t - k).powi(3) + w_max;
    // Congestion avoidance starts where recovery ends.
    let last_recovery = records.iter().rposition(|r| r.3.region == CubicRegion::Recovery).unwrap();
    let t0 = records[last_recovery].0;
    let mut checked = 0;
    let (mut concave, mut convex) = (false, false);
    let mut last_t = 0.0;
    for &(t, cwnd, _, c) in &records[last_recovery + 1..] {
        let t = t - t0;
        let cwnd = f64::from(cwnd) / MSS;
        match c.region {
            CubicRegion::Concave | CubicRegion::Convex => {
                let (low, high) = (w_cubic(t) - 1.1, w_cubic(t + RTT_S) + 1.0);
                assert!(low <= cwnd && cwnd <= high, "t = {t:.3} s: cwnd {cwnd:.2} outside [{low:.2}, {high:.2}]");
                concave |= c.region == CubicRegion::Concave;
                convex |= c.region == CubicRegion::Convex;
                checked += 1;
                last_t = t;
            }
            // §4.3: W_est above W_cubic(t): cwnd is W_est, above the curve.
            CubicRegion::RenoFriendly => assert!(w_cubic(t) - 1.0 <= cwnd, "t = {t:.3} s"),
            CubicRegion::SlowStart => assert!(t < 0.001, "one slow-start ACK right after recovery"),
            CubicRegion::Recovery => unreachable!("a single loss"),
        }
    }
    assert!(concave && convex, "both regions reached");
    assert!(k + 1.0 < last_t, "the curve is followed beyond K = {k:.3} s (to {last_t:.3} s)");
    assert!(1000 < checked, "{checked} records checked");
}

/// B-CC-04: RFC 9438 §4.7: a second loss before the window is back at
/// W_max sets W_max = cwnd (1 + β)/2. The 100th and the 1500th data
/// segments are lost: the second loss comes while cwnd is still below
/// the first W_max.
#[test]
fn a_loss_below_w_max_lowers_w_max_by_fast_convergence() {
    let faults = r#"[Drop(matching: (from: "client", data: true), nth: 100),
                     Drop(matching: (from: "client", data: true), nth: 1500)]"#;
    let records = client_records(&[("faults", faults)]);
    let entries: Vec<usize> = (1..records.len())
        .filter(|&i| records[i].3.region == CubicRegion::Recovery && records[i - 1].3.region != CubicRegion::Recovery)
        .collect();
    assert_eq!(entries.len(), 2, "two recoveries");
    let first_w_max = records[entries[0]].3.w_max;
    let cwnd_at_second = records[entries[1] - 1].1;
    assert!(cwnd_at_second < first_w_max);
    let expected = (u64::from(cwnd_at_second) * 17 / 20) as u32;
    assert_eq!(records[entries[1]].3.w_max, expected);
}

/// The CUBIC fields are outside the digest: the same run's digest
/// computed from its records with the fields taken off is the run's
/// digest, and JSONL and text show them.
#[test]
fn cubic_fields_stay_out_of_the_digest() {
    let (world, rec) = run(load("sims/cc/cubic-one-loss.ron", &[]));
    let mut without = rec.events.clone();
    let mut digest = tcpsim::trace::Digest::new();
    for e in &mut without {
        if let TraceKind::Congestion { cubic, .. } = &mut e.kind {
            *cubic = None;
        }
        digest.add(&e.as_event());
    }
    assert_eq!(digest.hex(), world.digest());
    let out = crate::util::tcpsim(&["run", "sims/cc/cubic-one-loss.ron", "--kinds", "congestion", "--format", "jsonl"]);
    let text = crate::util::stdout(&out);
    assert!(text.contains(r#""region":"concave""#) && text.contains(r#""k_ns":"#), "{}", &text[..400]);
}

/// B-CC-01: RFC 6928 §2: with `initial_window_segments: 10` the first
/// flight is min(10 × 1460, max(2 × 1460, 14600)) = 14600 bytes: ten
/// full segments leave at once, where RFC 5681's 4380 bytes allow three.
#[test]
fn ten_segments_leave_in_the_first_flight() {
    for (iw, segments) in [(None, 3), (Some("10"), 10)] {
        let overrides: Vec<(&str, &str)> = iw.map(|n| ("tcp.initial_window_segments", n)).into_iter().collect();
        let (_, rec) = run(load("sims/cc/cubic-one-loss.ron", &overrides));
        let data: Vec<u64> = rec
            .events
            .iter()
            .filter(|e| e.endpoint == "client")
            .filter_map(|e| match e.kind {
                TraceKind::Send { seg, .. } if seg.len > 0 => Some(e.t.as_nanos()),
                _ => None,
            })
            .collect();
        let first_flight = data.iter().filter(|t| **t == data[0]).count();
        assert_eq!(first_flight, segments, "{iw:?}");
    }
}

/// `initial_window_segments` outside 1..=100 is an error naming the
/// field; above RFC 6928's 10 it needs consent.
#[test]
fn initial_window_segments_is_validated() {
    let text = std::fs::read_to_string(crate::util::root().join("sims/cc/cubic-one-loss.ron")).unwrap();
    for (value, words) in [("0", "expected 1..=100 segments"), ("11", "allow_rfc_violations")] {
        let set = tcpsim::scenario::Override { path: "tcp.initial_window_segments".into(), value: value.into() };
        let err = tcpsim::scenario::load(text.as_bytes(), &[set]).expect_err(value);
        let shown = format!("{err:?}");
        assert!(shown.contains("initial_window_segments") && shown.contains(words), "{shown}");
    }
}

/// B-CC-08: RFC 9438 §4.8: the fast retransmission of the 100th segment
/// is lost too, so RETRANSMIT expires during fast recovery: cwnd = 1 SMSS
/// and slow start; ssthresh stays what the recovery's entry set (0.7 of
/// the window at the loss: the same loss episode); the first congestion
/// avoidance stage after it has K = 0 and W_max = cwnd at its start.
#[test]
fn a_timeout_restarts_the_curve_from_the_window_it_reaches() {
    let faults = r#"[Drop(matching: (from: "client", data: true), nth: 100),
                     Drop(matching: (from: "client", retransmit: true), nth: 1)]"#;
    let records = client_records(&[("faults", faults)]);
    let entry = records.iter().position(|r| r.3.region == CubicRegion::Recovery).unwrap();
    let entry_ssthresh = records[entry].2;
    assert_eq!(entry_ssthresh, (f64::from(records[entry - 1].1) * BETA) as u32);
    let rto = records.iter().position(|r| r.1 == MSS as u32).expect("an RTO");
    assert_eq!((records[rto].2, records[rto].3.region), (entry_ssthresh, CubicRegion::SlowStart));
    let epoch = rto
        + records[rto..].iter().position(|r| r.1 >= entry_ssthresh && r.3.region != CubicRegion::SlowStart).unwrap();
    let (_, cwnd, _, info) = records[epoch];
    assert_eq!(info.k, tcpsim::time::Duration::ZERO);
    assert!(info.w_max <= cwnd && cwnd - info.w_max <= MSS as u32, "W_max {} = cwnd_epoch, cwnd {cwnd}", info.w_max);
}

/// B-CC-09: RFC 9438 §5.8: the idle time of an application-limited
/// sender is not part of t. `cubic-one-loss.ron` with 1.5 MB sent at 10
/// ms and 3 MB more at 20 s: the 100th segment's loss starts an epoch at
/// 0.8 s (cwnd_epoch 71 segments, W_max 102, K = ∛(W_max × 0.3 / 0.4) =
/// 4.25 s); the first transfer's last ACK arrives one second into it
/// (cwnd ≈ 87.5 segments, W_cubic(1.0 s) = 88.8). After the idle the
/// sender sends a whole cwnd at once, so the ACKs that follow are
/// cwnd-limited: only the restart itself (new data while nothing is in
/// flight, Linux's `CA_EVENT_TX_START`) can take the idle out of t. With
/// it, at a record T after the restart t is (last ACK before the idle −
/// t_epoch) + (T − 20 s) — or less, by the gaps between the
/// application-limited ACKs of the first transfer's last window — and
/// cwnd stays within the curve: W_cubic(t −
/// RTT) − 1 ≤ cwnd ≤ W_cubic(t + RTT) + 1 (the band of
/// `cubic_window_follows_w_cubic_after_one_loss`, its lower edge moved
/// one RTT back for those gaps). Counting the idle instead, t
/// ≈ 20 s and every round's target is clamped at 1.5 cwnd: 87.5
/// segments become 131 at 20.1 s, far above W_cubic(1.2 s) + 1 = 92.
#[test]
fn an_idle_period_is_not_part_of_t() {
    let connections = r#"[(name: "client", host: "a", remote_host: "b", remote_port: 80,
        script: [Connect(at_ms: 0), Send(at_ms: 10, bytes: 1500000), Send(at_ms: 20000, bytes: 3000000),
                 Close(at_ms: 25000)])]"#;
    let (_, rec) = run(load("sims/cc/cubic-one-loss.ron", &[("connections", connections)]));
    let secs = |t: tcpsim::time::Instant| t.as_nanos() as f64 / 1e9;
    let records: Vec<(f64, u32, CubicInfo)> = rec
        .events
        .iter()
        .filter(|e| e.endpoint == "client")
        .filter_map(|e| match e.kind {
            TraceKind::Congestion { cwnd, cubic: Some(c), .. } => Some((secs(e.t), cwnd, c)),
            _ => None,
        })
        .collect();
    let restart = 20.0;
    let last_ack = rec
        .events
        .iter()
        .filter(|e| e.endpoint == "client" && secs(e.t) < restart)
        .filter(|e| matches!(e.kind, TraceKind::Deliver { .. }))
        .map(|e| secs(e.t))
        .next_back()
        .expect("ACKs before the idle");
    let last_recovery = records.iter().rposition(|r| r.2.region == CubicRegion::Recovery).expect("a recovery");
    assert!(records[last_recovery].0 < 1.0, "one loss, early");
    let t0 = records[last_recovery].0;
    let info = records.iter().find(|r| r.2.region == CubicRegion::Concave).expect("an epoch").2;
    let w_max = f64::from(info.w_max) / MSS;
    let k = (w_max * (1.0 - BETA) / C).cbrt();
    let w_cubic = |t: f64| C * (t - k).powi(3) + w_max;
    let active = last_ack - t0;
    assert!(active < 1.5, "the first transfer ends {active:.3} s into the epoch");
    let mut checked = 0;
    for &(t, cwnd, c) in records.iter().filter(|r| r.0 >= restart) {
        let cwnd = f64::from(cwnd) / MSS;
        let t = active + (t - restart);
        if matches!(c.region, CubicRegion::Concave | CubicRegion::Convex) {
            let (low, high) = (w_cubic(t - RTT_S) - 1.0, w_cubic(t + RTT_S) + 1.0);
            assert!(low <= cwnd && cwnd <= high, "t = {t:.3} s: cwnd {cwnd:.2} outside [{low:.2}, {high:.2}]");
            checked += 1;
        }
    }
    assert!(100 < checked, "{checked} records after the idle");
}
