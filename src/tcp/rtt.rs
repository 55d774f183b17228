//! The retransmission timeout of RFC 6298: smoothed RTT, variance, Karn's
//! algorithm and exponential backoff (B-TMR-05, B-TMR-06).

use super::config::TcpConfig;
use super::seq::SeqNum;
use crate::time::{Duration, Instant};

/// `srtt_ns` before the first sample.
const NO_SAMPLE: u64 = u64::MAX;

/// RTT state, including the one segment being timed. Sentinels instead of
/// `Option`s keep it at 40 bytes: it lives in every endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RttEstimator {
    /// Smoothed RTT in ns, or `NO_SAMPLE`.
    srtt_ns: u64,
    rttvar_ns: u64,
    /// The RTO in force, including any backoff.
    rto: Duration,
    /// When the timed segment was sent; `Instant::MAX` when none is.
    timed_at: Instant,
    /// The sequence number just past the timed segment.
    timed_end: SeqNum,
}

impl RttEstimator {
    /// No sample yet and RTO = `rto_initial` (RFC 6298 (2.1)).
    pub fn new(cfg: &TcpConfig) -> RttEstimator {
        RttEstimator {
            srtt_ns: NO_SAMPLE,
            rttvar_ns: 0,
            rto: cfg.rto_initial,
            timed_at: Instant::MAX,
            timed_end: SeqNum(0),
        }
    }

    /// The segment being timed (B-TMR-05): its end and send time.
    pub fn timing(&self) -> Option<(SeqNum, Instant)> {
        (self.timed_at != Instant::MAX).then_some((self.timed_end, self.timed_at))
    }

    /// Times the segment ending just before `end`, sent `at` (B-TMR-05).
    pub fn start_timing(&mut self, end: SeqNum, at: Instant) {
        self.timed_end = end;
        self.timed_at = at;
    }

    /// Forgets the timed segment (it was retransmitted: Karn).
    pub fn stop_timing(&mut self) {
        self.timed_at = Instant::MAX;
    }

    /// The RTO in force, including any backoff.
    pub fn rto(&self) -> Duration {
        self.rto
    }

    /// SRTT, once a sample arrived.
    pub fn srtt(&self) -> Option<Duration> {
        (self.srtt_ns != NO_SAMPLE).then_some(Duration::from_nanos(self.srtt_ns))
    }

    /// Feeds one RTT measurement (RFC 6298 (2.2), (2.3); integer ns,
    /// truncating). A new sample also ends any backoff.
    ///
    /// `per_window` is RFC 7323 Appendix G's ExpectedSamples,
    /// ceil(FlightSize / (2 * SMSS)), for timestamp samples (one per ACK):
    /// alpha and beta are divided by it, so a window's samples move SRTT
    /// and RTTVAR about as much as RFC 6298's one sample per RTT. With 1
    /// this is RFC 6298's update, to the nanosecond.
    ///
    /// `clock` is RFC 6298 §2's G, the granularity of the clock that
    /// measured `rtt`: the RTO is SRTT + max(G, 4 * RTTVAR), so a sample
    /// that a coarse clock rounds to the same tick as its echo cannot
    /// bring the RTO within one tick of SRTT.
    pub fn sample(&mut self, cfg: &TcpConfig, rtt: Duration, per_window: u32, clock: Duration) {
        let r = rtt.as_nanos().min(NO_SAMPLE - 1);
        if self.srtt_ns == NO_SAMPLE {
            self.srtt_ns = r;
            self.rttvar_ns = r / 2;
        } else {
            let n = u128::from(per_window.max(1));
            let delta = u128::from(self.srtt_ns.abs_diff(r));
            // RTTVAR <- (1 - beta') RTTVAR + beta' |SRTT - R'|, beta' = 1/(4n)
            let var = (u128::from(self.rttvar_ns) * (4 * n - 1) + delta) / (4 * n);
            // SRTT <- (1 - alpha') SRTT + alpha' R', alpha' = 1/(8n)
            let srtt = (u128::from(self.srtt_ns) * (8 * n - 1) + u128::from(r)) / (8 * n);
            self.rttvar_ns = var as u64;
            self.srtt_ns = srtt as u64;
        }
        let var_term = clock.as_nanos().max(self.rttvar_ns.saturating_mul(4));
        let rto = Duration::from_nanos(self.srtt_ns.saturating_add(var_term));
        self.rto = rto.max(cfg.rto_min).min(cfg.rto_max);
    }

    /// RFC 6298 (5.5): double the RTO on expiry, up to the maximum.
    pub fn back_off(&mut self, cfg: &TcpConfig) {
        self.rto = self.rto.saturating_mul(2).min(cfg.rto_max);
    }

    /// RFC 6298 (5.7): after a SYN timed out, use at least 3 s for data.
    pub fn raise_after_syn_timeout(&mut self) {
        self.rto = self.rto.max(Duration::from_secs(3));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::config::CLOCK_GRANULARITY;

    /// B-TMR-05: first and later samples follow RFC 6298 (2.2)–(2.4).
    #[test]
    fn samples_follow_rfc_6298() {
        let cfg = TcpConfig { rto_min: Duration::from_millis(1), ..TcpConfig::default() };
        let mut rtt = RttEstimator::new(&cfg);
        assert_eq!(rtt.rto(), Duration::from_secs(1));
        rtt.sample(&cfg, Duration::from_millis(100), 1, CLOCK_GRANULARITY);
        // SRTT=100, RTTVAR=50 -> RTO = 100 + 4*50 = 300 ms.
        assert_eq!(rtt.rto(), Duration::from_millis(300));
        rtt.sample(&cfg, Duration::from_millis(200), 1, CLOCK_GRANULARITY);
        // RTTVAR = (3*50 + 100)/4 = 62.5; SRTT = (7*100+200)/8 = 112.5.
        assert_eq!(rtt.srtt(), Some(Duration::from_micros(112_500)));
        assert_eq!(rtt.rto(), Duration::from_micros(112_500 + 250_000));
    }

    /// B-TMR-05: the RTO is clamped to rto_min.
    #[test]
    fn rto_is_clamped_to_the_minimum() {
        let cfg = TcpConfig::default();
        let mut rtt = RttEstimator::new(&cfg);
        rtt.sample(&cfg, Duration::from_millis(10), 1, CLOCK_GRANULARITY);
        assert_eq!(rtt.rto(), Duration::from_secs(1));
    }

    /// B-TS-04: RFC 7323 Appendix G: with 4 samples expected per window,
    /// each moves SRTT by 1/32 and RTTVAR by 1/16 of the difference.
    #[test]
    fn timestamp_samples_use_gains_scaled_per_window() {
        let cfg = TcpConfig { rto_min: Duration::from_millis(1), ..TcpConfig::default() };
        let mut rtt = RttEstimator::new(&cfg);
        rtt.sample(&cfg, Duration::from_millis(100), 4, CLOCK_GRANULARITY);
        // The first sample initializes as RFC 6298 (2.2): SRTT 100, RTTVAR 50.
        assert_eq!(rtt.srtt(), Some(Duration::from_millis(100)));
        rtt.sample(&cfg, Duration::from_millis(132), 4, CLOCK_GRANULARITY);
        // RTTVAR = 50 + (32 - 50)/16 = 48.875 ms; SRTT = 100 + 32/32 = 101 ms.
        assert_eq!(rtt.srtt(), Some(Duration::from_millis(101)));
        assert_eq!(rtt.rto(), Duration::from_micros(101_000 + 4 * 48_875));
    }

    /// RFC 6298 §2: G is the granularity of the clock that measured the
    /// sample. A 100 ms timestamp clock and samples of 100 ms: SRTT 100,
    /// RTTVAR 50, RTO 100 + max(100, 200) = 300 ms; once RTTVAR is below
    /// G / 4 = 25 ms the RTO is SRTT + G = 200 ms, not SRTT + 4 * RTTVAR.
    #[test]
    fn the_variance_term_is_at_least_the_clock_granularity() {
        let cfg = TcpConfig { rto_min: Duration::from_millis(1), ..TcpConfig::default() };
        let tick = Duration::from_millis(100);
        let mut rtt = RttEstimator::new(&cfg);
        rtt.sample(&cfg, tick, 1, tick);
        assert_eq!(rtt.rto(), Duration::from_millis(300));
        // RTTVAR 50 -> 37.5 -> 28.125 -> 21.09375 ms: 4 * RTTVAR < 100 ms.
        for _ in 0..3 {
            rtt.sample(&cfg, tick, 1, tick);
        }
        assert_eq!(rtt.srtt(), Some(tick));
        assert_eq!(rtt.rto(), Duration::from_millis(200));
    }

    /// B-TMR-04: backoff doubles up to rto_max.
    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let cfg = TcpConfig::default();
        let mut rtt = RttEstimator::new(&cfg);
        for _ in 0..10 {
            rtt.back_off(&cfg);
        }
        assert_eq!(rtt.rto(), Duration::from_secs(60));
    }
}
