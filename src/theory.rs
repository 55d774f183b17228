//! The published models of TCP throughput under random loss, as pure
//! functions: the square-root formula of Mathis, Semke, Mahdavi and Ott
//! (1997) and the model with timeouts of Padhye, Firoiu, Towsley and
//! Kurose (1998). [`experiment`] runs tcpsim against them.
//!
//! Both models describe a bulk transfer in its steady state, in rounds of
//! one RTT, with a window that grows by 1/b segment per round (b segments
//! acknowledged per ACK) and halves on a loss. They differ in what a loss
//! costs: Mathis counts only the halving (every loss is repaired by fast
//! retransmit), Padhye adds retransmission timeouts and their exponential
//! backoff, and a receive window W_max that caps the window.
//!
//! Sources. Mathis: M. Mathis, J. Semke, J. Mahdavi, T. Ott, "The
//! Macroscopic Behavior of the TCP Congestion Avoidance Algorithm", CCR
//! 27(3), 1997, eq. (3) (BW = MSS/RTT · C/√p) with C = √(3/(2b)) from its
//! §2 (√(3/2) for b = 1, √(3/4) with delayed ACKs, b = 2). Padhye: J.
//! Padhye, V. Firoiu, D. Towsley, J. Kurose, "Modeling TCP Throughput: A
//! Simple Model and its Empirical Validation", SIGCOMM 1998: E\[W\] is
//! its eq. (13), G(p) its eq. (28), Q̂(w) the approximation of the
//! probability that a loss indication is a timeout it gives before
//! eq. (29) (written `min(1, 3/w)` in its further approximation), and
//! [`padhye`] its eq. (31), the "full model". The paper's text was not at
//! hand; the formulas follow the restatement of eq. (31) in the GÉANT
//! PERT knowledge base ("TCP throughput: the Padhye formula", written for
//! b = 2), carried back to a general b through the paper's own relations
//! E\[X\] = (b/2)·E\[W\] (the rounds of a triple-duplicate period) and its
//! W_max branch, whose round count is (b/8)·W_max + (1−p)/(p·W_max) + 2.
//! With b = 2 both branches reduce to that restatement exactly; a
//! restatement that keeps `RTT·(E[W] + 1)` with b = 1 overstates the
//! period's length and is not the model.

pub mod experiment;

/// Mathis et al. 1997, eq. (3): the throughput, in bytes per second, of a
/// sender in congestion avoidance that loses segments independently with
/// probability `p` (in (0, 1]), each loss repaired by fast retransmit and
/// halving the window: `MSS/RTT · C/√p`, C = √(3/(2b)) ([`mathis_c`]).
///
/// `mss_bytes` is the payload per segment, `rtt_s` the round-trip time in
/// seconds and `b` the segments acknowledged per ACK (1 without delayed
/// ACKs). The model ignores timeouts and the receive window, so it is an
/// upper estimate at high `p`.
pub fn mathis(mss_bytes: f64, rtt_s: f64, p: f64, b: f64) -> f64 {
    mss_bytes / rtt_s * mathis_c(b) / p.sqrt()
}

/// Mathis et al.'s constant C = √(3/(2b)) for periodic loss (§2 of the
/// paper): √(3/2) ≈ 1.22 when every segment is acknowledged (b = 1).
pub fn mathis_c(b: f64) -> f64 {
    (3.0 / (2.0 * b)).sqrt()
}

/// Padhye et al. 1998, eq. (13): E\[W\], the mean window (in segments) at
/// the end of a triple-duplicate period when the window is not capped:
/// (2+b)/(3b) + √(8(1−p)/(3bp) + ((2+b)/(3b))²).
pub fn padhye_mean_window(p: f64, b: f64) -> f64 {
    let a = (2.0 + b) / (3.0 * b);
    a + (8.0 * (1.0 - p) / (3.0 * b * p) + a * a).sqrt()
}

/// Padhye et al. 1998: Q̂(w), the probability that a loss in a window of
/// `w` segments is detected by a timeout rather than by three duplicate
/// ACKs (fewer than three segments of the window after the first loss
/// arrive): min(1, (1−(1−p)³)(1+(1−p)³(1−(1−p)^(w−3))) / (1−(1−p)^w)).
pub fn padhye_timeout_probability(p: f64, w: f64) -> f64 {
    let q = 1.0 - p;
    let q3 = q.powi(3);
    let numerator = (1.0 - q3) * (1.0 + q3 * (1.0 - q.powf(w - 3.0)));
    let denominator = 1.0 - q.powf(w);
    (numerator / denominator).min(1.0)
}

/// Padhye et al. 1998, eq. (28): G(p) = 1+p+2p²+4p³+8p⁴+16p⁵+32p⁶, the
/// length of a sequence of timeouts in units of T0, backing off up to
/// 64·T0 (E\[Z^TO\] = T0·G(p)/(1−p)).
pub fn padhye_backoff(p: f64) -> f64 {
    1.0 + p + 2.0 * p.powi(2) + 4.0 * p.powi(3) + 8.0 * p.powi(4) + 16.0 * p.powi(5) + 32.0 * p.powi(6)
}

/// Padhye et al. 1998, eq. (31), the full model: the throughput in
/// segments per second of a Reno bulk transfer with loss indication rate
/// `p` (in (0, 1)), round-trip time `rtt_s`, first timeout `t0_s` (both in
/// seconds), receive window `w_max` segments and `b` segments per ACK.
///
/// With E\[W\] from [`padhye_mean_window`], Q̂ from
/// [`padhye_timeout_probability`] and G from [`padhye_backoff`]:
///
/// - E\[W\] < W_max: `((1−p)/p + E[W] + Q̂(E[W])/(1−p)) /
///   (RTT·((b/2)·E[W] + 1) + Q̂(E[W])·G(p)·T0/(1−p))`;
/// - otherwise: `((1−p)/p + W_max + Q̂(W_max)/(1−p)) /
///   (RTT·((b/8)·W_max + (1−p)/(p·W_max) + 2) + Q̂(W_max)·G(p)·T0/(1−p))`.
///
/// The numerator is the segments sent in one cycle of triple-duplicate
/// periods and a timeout sequence; the denominator is the cycle's length.
pub fn padhye(p: f64, rtt_s: f64, t0_s: f64, w_max: f64, b: f64) -> f64 {
    let g = padhye_backoff(p);
    let w = padhye_mean_window(p, b);
    if w < w_max {
        let q = padhye_timeout_probability(p, w);
        let segments = (1.0 - p) / p + w + q / (1.0 - p);
        let seconds = rtt_s * (b / 2.0 * w + 1.0) + q * g * t0_s / (1.0 - p);
        segments / seconds
    } else {
        let q = padhye_timeout_probability(p, w_max);
        let segments = (1.0 - p) / p + w_max + q / (1.0 - p);
        let rounds = b / 8.0 * w_max + (1.0 - p) / (p * w_max) + 2.0;
        let seconds = rtt_s * rounds + q * g * t0_s / (1.0 - p);
        segments / seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn close(actual: f64, expected: f64, tolerance: f64) {
        let error = ((actual - expected) / expected).abs();
        assert!(error <= tolerance, "{actual} is not within {tolerance} of {expected}");
    }

    #[test]
    fn mathis_at_one_percent_loss() {
        // C = √1.5 = 1.2247449; 1460 B / 0.1 s · 1.2247449 / √0.01 =
        // 14600 · 12.247449 = 178 812.75 B/s.
        close(mathis_c(1.0), 1.224_744_9, 1e-7);
        close(mathis(1460.0, 0.1, 0.01, 1.0), 178_812.75, 1e-6);
        // Delayed ACKs (b = 2): C = √0.75 = 0.8660254.
        close(mathis_c(2.0), 0.866_025_4, 1e-7);
    }

    #[test]
    fn padhye_terms_at_one_percent_loss() {
        // E[W] = 1 + √(8·0.99/0.03 + 1) = 1 + √265 = 17.278821.
        close(padhye_mean_window(0.01, 1.0), 17.278_821, 1e-6);
        // (1−p)^3 = 0.970299; (1−p)^(w−3) = 0.99^14.278821 = 0.866314;
        // (1−p)^w = 0.99^17.278821 = 0.840584;
        // Q̂ = 0.029701 · (1 + 0.970299 · 0.133686) / 0.159416 = 0.210480.
        close(padhye_timeout_probability(0.01, 17.278_821), 0.210_480, 1e-4);
        // G(0.01) = 1 + 0.01 + 0.0002 + 0.000004 + 0.00000008 + ... = 1.0102041.
        close(padhye_backoff(0.01), 1.010_204_1, 1e-7);
        // Q̂ is a probability: three segments or fewer always time out.
        assert_eq!(padhye_timeout_probability(0.01, 3.0), 1.0);
    }

    #[test]
    fn padhye_full_model_below_the_window_cap() {
        // p = 0.01, RTT 0.1 s, T0 1 s, b = 1, W_max 1000 (not reached):
        // segments = 99 + 17.278821 + 0.210480/0.99 = 116.491427;
        // seconds = 0.1 · (17.278821/2 + 1) + 0.210480 · 1.0102041 / 0.99
        //         = 0.963941 + 0.214780 = 1.178721;
        // B = 98.829 segments/s.
        close(padhye(0.01, 0.1, 1.0, 1000.0, 1.0), 98.829, 1e-4);
    }

    #[test]
    fn padhye_full_model_at_the_window_cap() {
        // p = 0.01, W_max = 10 < E[W]: Q̂(10) = 0.029701 · (1 + 0.970299 ·
        // (1 − 0.99^7 = 0.067935)) / (1 − 0.99^10 = 0.095618) = 0.331100;
        // segments = 99 + 10 + 0.331100/0.99 = 109.334444;
        // seconds = 0.1 · (10/8 + 0.99/0.1 + 2) + 0.331100 · 1.0102041 / 0.99
        //         = 1.315 + 0.337857 = 1.652857;
        // B = 66.149 segments/s, below W_max/RTT = 100.
        close(padhye(0.01, 0.1, 1.0, 10.0, 1.0), 66.149, 1e-4);
    }

    #[test]
    fn padhye_without_timeouts_tends_to_mathis_at_low_loss() {
        // With T0 = 0 and p → 0, B → (1/p) / (RTT · √(2/(3p))) = √(3/(2p))/RTT,
        // Mathis's formula with b = 1 (in segments).
        let p = 1e-6;
        close(padhye(p, 0.1, 0.0, 1e9, 1.0), mathis(1.0, 0.1, p, 1.0), 0.01);
    }
}
