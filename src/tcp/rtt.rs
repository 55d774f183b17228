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

    /// RTTVAR (RFC 6298 §2); zero before the first sample.
    pub fn rttvar(&self) -> Duration {
        Duration::from_nanos(self.rttvar_ns)
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

    /// B-LNX-01: takes SRTT and the RTO from Linux's estimator
    /// ([`LinuxRtt::sample`]); the RTO is bounded by `rto_max` only
    /// (`tcp_bound_rto`), never raised to `rto_min`. Like a sample of RFC
    /// 6298's, it ends any backoff.
    pub fn set_linux(&mut self, cfg: &TcpConfig, srtt: Duration, rto: Duration) {
        self.srtt_ns = srtt.as_nanos().min(NO_SAMPLE - 1);
        self.rto = rto.min(cfg.rto_max);
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

/// B-LNX-01: the variables of Linux's `tcp_rtt_estimator` (tcp_input.c)
/// beyond SRTT, in microseconds as the kernel keeps them: `srtt_us` is
/// 8 × SRTT, `mdev_us` 4 × the mean deviation, `mdev_max_us` the largest
/// `mdev_us` of the current round trip (at least `rto_min`), `rttvar_us`
/// the variance term the RTO adds, and `rtt_seq` the end of the round
/// trip (SND.NXT when it began).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinuxRtt {
    srtt_us: u64,
    mdev_us: u64,
    mdev_max_us: u64,
    rttvar_us: u64,
    rtt_seq: SeqNum,
}

impl LinuxRtt {
    /// The mean deviation (`mdev_us` / 4), Linux's counterpart of RTTVAR,
    /// for the trace's `rttvar_ns`.
    pub fn mean_deviation(&self) -> Duration {
        Duration::from_nanos(self.mdev_us / 4 * 1000)
    }

    /// Feeds one sample `m_us` (µs, at least 1) as `tcp_rtt_estimator`
    /// does, after SND.UNA moved to `snd_una`; `snd_nxt` is the highest
    /// sequence number sent. Returns SRTT and the RTO of `__tcp_set_rto`:
    /// SRTT + rttvar, where rttvar is at least the largest 4 × mean
    /// deviation of the last round trip and at least `rto_min`, and
    /// decays by a quarter of its excess once per round trip. The RTO is
    /// not rounded up to a jiffy.
    ///
    /// The first sample sets SRTT = m and mdev_us = 2m (so RTO = 3m when
    /// 2m is above `rto_min`). Later ones move SRTT by 1/8 of the error;
    /// mdev_us moves by 1/4 of (|error| − mdev_us / 4), but by only 1/32
    /// when the sample is below SRTT, so a falling RTT does not raise it.
    pub fn sample(&mut self, m_us: u64, rto_min_us: u64, snd_una: SeqNum, snd_nxt: SeqNum) -> (Duration, Duration) {
        let mut m = m_us.max(1) as i64;
        let mut srtt = self.srtt_us as i64;
        if srtt != 0 {
            m -= srtt >> 3;
            srtt += m;
            if m < 0 {
                m = -m;
                m -= (self.mdev_us >> 2) as i64;
                if m > 0 {
                    m >>= 3;
                }
            } else {
                m -= (self.mdev_us >> 2) as i64;
            }
            self.mdev_us = (self.mdev_us as i64 + m) as u64;
            if self.mdev_us > self.mdev_max_us {
                self.mdev_max_us = self.mdev_us;
                if self.mdev_max_us > self.rttvar_us {
                    self.rttvar_us = self.mdev_max_us;
                }
            }
            if self.rtt_seq.lt(snd_una) {
                if self.mdev_max_us < self.rttvar_us {
                    self.rttvar_us -= (self.rttvar_us - self.mdev_max_us) >> 2;
                }
                self.rtt_seq = snd_nxt;
                self.mdev_max_us = rto_min_us;
            }
        } else {
            srtt = m << 3;
            self.mdev_us = (m as u64) << 1;
            self.rttvar_us = self.mdev_us.max(rto_min_us);
            self.mdev_max_us = self.rttvar_us;
            self.rtt_seq = snd_nxt;
        }
        self.srtt_us = (srtt as u64).max(1);
        let srtt = Duration::from_micros(self.srtt_us >> 3);
        (srtt, Duration::from_micros((self.srtt_us >> 3) + self.rttvar_us))
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

    /// B-LNX-01: Linux's estimator by hand, in µs, rto_min 200 ms, each
    /// sample after SND.UNA passed the round trip's end (rtt_seq), so the
    /// per-round-trip step runs each time:
    /// - 100 ms: srtt_us = 800000, mdev_us = 200000, rttvar = max(200000,
    ///   200000) = 200000: RTO = 100 + 200 = 300 ms.
    /// - 20 ms: m = 20000 − 100000 = −80000; srtt_us = 720000 (90 ms);
    ///   |m| = 80000, minus mdev/4 = 50000 → 30000 > 0, >> 3 = 3750;
    ///   mdev_us = 203750 > mdev_max (200000) → mdev_max = rttvar =
    ///   203750; new round trip: rttvar stays (mdev_max = rttvar), mdev_max
    ///   = 200000: RTO = 90 + 203.75 = 293.75 ms.
    /// - 90 ms: m = 90000 − 90000 = 0; mdev_us = 203750 − 50937 = 152813;
    ///   not above mdev_max (200000); round trip ends: rttvar = 203750 −
    ///   (3750 >> 2 = 937) = 202813: RTO = 90 + 202.813 = 292.813 ms.
    ///
    /// RFC 6298 would give 100 + 4 × 50 = 300, then 90 + 4 × 57.5 = 320,
    /// then 90 + 4 × 43.125 = 262.5: under Linux the 200 ms floor holds the
    /// variance term, and a falling RTT barely moves it.
    #[test]
    fn linux_rto_is_srtt_plus_a_floored_variance_term() {
        let mut x = LinuxRtt::default();
        let (una, nxt) = (SeqNum(1000), SeqNum(2000));
        assert_eq!(x.sample(100_000, 200_000, una, nxt), (Duration::from_millis(100), Duration::from_millis(300)));
        let (srtt, rto) = x.sample(20_000, 200_000, nxt.add(1), nxt.add(100));
        assert_eq!((srtt, rto), (Duration::from_millis(90), Duration::from_micros(293_750)));
        let (srtt, rto) = x.sample(90_000, 200_000, nxt.add(101), nxt.add(200));
        assert_eq!((srtt, rto), (Duration::from_millis(90), Duration::from_micros(292_813)));
    }

    /// B-LNX-01: a short path: 10 ms samples give RTO = 10 + 200 = 210 ms,
    /// not RFC 6298's max(10 + 4 × 5, 1 s) nor a clamp at 200 ms: the
    /// floor is on the variance term. The estimator's RTO goes in as is
    /// (below a 1 s rto_min, which it ignores).
    #[test]
    fn linux_rto_floors_the_variance_term_not_the_rto() {
        let cfg = TcpConfig { linux_rto: true, ..TcpConfig::default() };
        let mut x = LinuxRtt::default();
        let (srtt, rto) = x.sample(10_000, 200_000, SeqNum(1), SeqNum(2));
        assert_eq!(rto, Duration::from_millis(210));
        let mut rtt = RttEstimator::new(&cfg);
        rtt.set_linux(&cfg, srtt, rto);
        assert_eq!(rtt.rto(), Duration::from_millis(210));
        assert_eq!(rtt.srtt(), Some(Duration::from_millis(10)));
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
