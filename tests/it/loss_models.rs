//! Goodput under random loss against the published models (issue 17,
//! "Checked against theory"): Mathis et al.'s square-root formula within
//! ±25 % for 0.1 % ≤ p ≤ 1 %, and Padhye et al.'s full model with
//! timeouts within ±30 % for 0.1 % ≤ p ≤ 2 %, for NewReno in the setup of
//! `tcpsim::theory::experiment` (RTT 100 ms, no jitter, `rto_min` 1 s,
//! loss on the data direction only, no bottleneck, no delayed ACK).
//!
//! Each point is the mean ratio over three seeds, each seeing at least 50
//! loss indications; `cargo run --release --example loss_models` runs
//! the same experiment at full size, up to 5 % loss and with SACK.

use tcpsim::rng::Ppm;
use tcpsim::tcp::CongestionControl;
use tcpsim::theory::experiment::{Measured, Setup};

const SEEDS: [u64; 3] = [1, 2, 3];

/// Runs NewReno at `loss` for every seed, each long enough to expect 100
/// losses (so that at least 50 are loss indications: several losses of one
/// window are one indication).
fn runs(loss: &str) -> Vec<Measured> {
    let loss = Ppm::parse_decimal(loss).expect("a probability");
    SEEDS
        .iter()
        .map(|&seed| Setup::expecting_losses(CongestionControl::NewReno, false, loss, seed, 100).run())
        .inspect(|m| assert!(50 <= m.loss_indications(), "only {} loss indications: {m:?}", m.loss_indications()))
        .collect()
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0.0), |(s, n), v| (s + v, n + 1.0));
    sum / n
}

#[track_caller]
fn within(what: &str, ratio: f64, tolerance: f64, runs: &[Measured]) {
    assert!(
        (1.0 - tolerance..=1.0 + tolerance).contains(&ratio),
        "{what}: goodput / model = {ratio:.3}, beyond ±{tolerance}: {runs:#?}"
    );
}

#[test]
fn newreno_goodput_follows_mathis_and_padhye_under_random_loss() {
    // (the link's loss, check Mathis, check Padhye). Each model's own p
    // must fall in its range: Padhye's counts a window's losses once, so
    // it runs below the link's loss, and its points sit a little higher.
    let points = [
        ("0.001", true, false),
        ("0.0012", false, true),
        ("0.003", true, true),
        ("0.01", true, true),
        ("0.025", false, true),
    ];
    for (loss, mathis, padhye) in points {
        let runs = runs(loss);
        if mathis {
            let p = mean(runs.iter().map(Measured::loss_rate));
            assert!((0.0009..=0.011).contains(&p), "Mathis's p {p} is not the link's loss {loss}");
            within(
                &format!("Mathis at loss {loss} (p = {p:.5})"),
                mean(runs.iter().map(|m| m.goodput() / m.mathis())),
                0.25,
                &runs,
            );
        }
        if padhye {
            let p = mean(runs.iter().map(Measured::loss_indication_rate));
            assert!((0.001..=0.02).contains(&p), "Padhye's p {p} outside the model's checked range");
            within(
                &format!("Padhye at loss {loss} (p = {p:.5})"),
                mean(runs.iter().map(|m| m.goodput() / m.padhye())),
                0.30,
                &runs,
            );
        }
    }
}

#[test]
fn the_measured_inputs_are_the_paths() {
    // The RTT the models read is the sender's SRTT: with no queue and no
    // jitter it is the path's 100 ms; T0 is the RTO floor, 1 s, since the
    // RTT's variance is zero; W_max is the receive buffer in segments.
    let m =
        Setup::expecting_losses(CongestionControl::NewReno, false, Ppm::parse_decimal("0.01").unwrap(), 1, 70).run();
    assert_eq!(m.rtt, tcpsim::theory::experiment::RTT);
    assert_eq!(m.t0, tcpsim::time::Duration::from_secs(1));
    assert_eq!(m.mss_bytes, 1460);
    assert_eq!(m.w_max, f64::from(tcpsim::theory::experiment::RECV_BUFFER) / 1460.0);
    assert!(m.data_segments_dropped <= m.data_segments_sent / 50, "p ≈ 1 %: {m:?}");
    assert_eq!(m.bytes_delivered, 7000 * 1460);
}
