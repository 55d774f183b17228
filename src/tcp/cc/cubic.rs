//! CUBIC (RFC 9438): the window controller that replaces Reno's additive
//! increase and halving. It decides how much a congestion event takes off
//! (β_cubic, §4.6; fast convergence, §4.7; an RTO, §4.8) and how cwnd
//! grows in congestion avoidance (W_cubic(t), §4.2; the Reno-friendly,
//! concave and convex regions, §4.3–§4.5). The loss-recovery mechanics
//! (duplicate ACKs, NewReno's partial ACKs, RFC 6675's scoreboard) stay
//! with the caller, whichever controller it uses.
//!
//! Arithmetic is integer throughout: windows in bytes, the curve's time in
//! microseconds, K from an exact integer cube root (floor). Floating point
//! would be deterministic on one platform, but `cbrt` is not correctly
//! rounded and libms differ; integers make every trace value exact and
//! the same everywhere. C = 4/10, β = 7/10, α = 9/17 are exact fractions.
//!
//! Application-limited periods (§5.8): an ACK that arrives while the
//! sender was not cwnd-limited (less than one SMSS of cwnd was unused
//! when it left) grows nothing, and the time since the previous ACK is
//! left out of t (t_epoch moves forward by it). An idle period ends with
//! new data sent while nothing is in flight; the ACKs of that first
//! window are cwnd-limited, so the restart itself moves t_epoch forward
//! by the time since the last ACK (Linux's `bictcp_cwnd_event` on
//! `CA_EVENT_TX_START`, which counts from the last send; the last ACK
//! is when the flight drained, and the gaps before it are the per-ACK
//! rule's): a flow that idles resumes on the curve where it left it.

use super::hystart::{Detection, HyStart};
use crate::rule::{self, Rule};
use crate::time::{Duration, Instant};

use super::super::seq::SeqNum;

/// β_cubic = 7/10 (RFC 9438 §4.6).
const BETA: (u64, u64) = (7, 10);
/// C = 4/10 (§4.2, §5.1).
const C: (u128, u128) = (4, 10);
/// α_cubic = 3(1 − β)/(1 + β) = 0.9/1.7 = 9/17 (§4.3).
const ALPHA: (u64, u64) = (9, 17);
/// Microseconds in a second, for W_cubic's t in seconds.
const US_PER_S: u128 = 1_000_000;
/// |t − K| is clamped to 1000 s in the cube: beyond it W_cubic exceeds
/// any window a u32 holds, and the cube stays within u128.
const MAX_OFFSET_US: i128 = 1_000_000_000;

/// Where the CUBIC window is, for the `congestion` trace records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CubicRegion {
    /// cwnd < ssthresh: slow start (§4.10).
    SlowStart,
    /// Loss recovery after a congestion event, before congestion avoidance
    /// starts again (§4.6).
    Recovery,
    /// W_cubic(t) < W_est: cwnd follows Reno's estimate (§4.3).
    RenoFriendly,
    /// cwnd < W_max: the concave region (§4.4).
    Concave,
    /// cwnd ≥ W_max: the convex region (§4.5).
    Convex,
}

impl CubicRegion {
    /// The region as the trace spells it.
    pub const fn name(self) -> &'static str {
        match self {
            CubicRegion::SlowStart => "slow_start",
            CubicRegion::Recovery => "recovery",
            CubicRegion::RenoFriendly => "reno_friendly",
            CubicRegion::Concave => "concave",
            CubicRegion::Convex => "convex",
        }
    }
}

/// What a `congestion` record shows of CUBIC (outside the digest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CubicInfo {
    /// W_max in bytes: the window before the last reduction (§4.6, §4.7),
    /// or cwnd at the start of congestion avoidance when there was none
    /// or it followed an RTO (§4.8, §4.10); 0 before either.
    pub w_max: u32,
    /// K (§4.2): the time W_cubic takes to reach W_max again.
    pub k: Duration,
    /// The region of the last ACK or event.
    pub region: CubicRegion,
}

/// The inputs of one ACK that CUBIC needs beyond the window.
#[derive(Clone, Copy, Debug)]
pub struct AckStep {
    /// The step's time.
    pub now: Instant,
    /// The smoothed RTT (RFC 6298), zero before the first sample: the
    /// RTT of W_cubic(t + RTT) (§4.2).
    pub srtt: Duration,
    /// Whether less than one SMSS of cwnd was unused before this ACK
    /// (§5.8: only then may cwnd grow).
    pub cwnd_limited: bool,
    /// The ACK's SEG.ACK (the new SND.UNA).
    pub ack: SeqNum,
    /// SND.MAX: where HyStart's round ends.
    pub snd_max: SeqNum,
}

/// CUBIC's state for one sender; boxed beside the endpoint when
/// `congestion_control: cubic`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cubic {
    /// W_max in bytes (0: none yet).
    w_max: u32,
    /// cwnd before the last reduction (§4.6 cwnd_prior), for α (§4.3).
    cwnd_prior: u32,
    /// t_epoch: the first ACK of this congestion avoidance stage, moved
    /// forward over application-limited periods; `None` until then.
    epoch_start: Option<Instant>,
    /// K in microseconds.
    k_us: u64,
    /// W_est × 17 (α's denominator), in bytes, so α's steps add exactly.
    w_est17: u64,
    /// The remainder of the last W_est step, in bytes × 17 × cwnd: one
    /// SMSS acknowledged adds α·SMSS²/cwnd, under one unit of w_est17
    /// from about 9 × SMSS segments of cwnd on.
    est_rem: u64,
    /// The remainder of the last per-ACK increase, in bytes × cwnd.
    grow_rem: u64,
    /// The first congestion avoidance stage after an RTO is still to
    /// come: it starts with K = 0 and W_max = cwnd (§4.8).
    after_rto: bool,
    /// The last ACK's time, or the last restart after idle, for
    /// application-limited periods (§5.8): the time after it is not t's
    /// unless the sender was cwnd-limited.
    last_ack: Option<Instant>,
    region: CubicRegion,
    /// Rules fired since the caller last took them.
    fired: u16,
    /// HyStart, when configured.
    hystart: Option<HyStart>,
}

/// The integer cube root, rounded down.
fn cube_root(x: u128) -> u128 {
    let (mut lo, mut hi) = (0u128, 1u128 << 43);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if mid.checked_mul(mid).and_then(|m| m.checked_mul(mid)).is_some_and(|c| c <= x) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

impl Cubic {
    /// A sender before its first congestion event, with HyStart if
    /// `hystart`.
    pub fn new(hystart: bool) -> Cubic {
        Cubic {
            w_max: 0,
            cwnd_prior: 0,
            epoch_start: None,
            k_us: 0,
            w_est17: 0,
            est_rem: 0,
            grow_rem: 0,
            after_rto: false,
            last_ack: None,
            region: CubicRegion::SlowStart,
            fired: 0,
            hystart: hystart.then(HyStart::default),
        }
    }

    /// What the trace shows.
    pub fn info(&self) -> CubicInfo {
        CubicInfo { w_max: self.w_max, k: Duration::from_micros(self.k_us), region: self.region }
    }

    /// The rules fired since the last call, in ID order.
    pub fn take_rules(&mut self) -> impl Iterator<Item = Rule> + use<> {
        let fired = std::mem::take(&mut self.fired);
        RULES.into_iter().enumerate().filter(move |(i, _)| fired & (1 << i) != 0).map(|(_, r)| r)
    }

    fn fire(&mut self, r: Rule) {
        if let Some(i) = RULES.iter().position(|x| *x == r) {
            self.fired |= 1 << i;
        }
    }

    /// K for a curve from `from` up to `to` bytes (§4.2): ∛((to − from)/C)
    /// seconds, with the windows in segments.
    fn k_for(to: u32, from: u32, smss: u32) -> u64 {
        let gap = u128::from(to.saturating_sub(from));
        let cube_us = gap * C.1 * US_PER_S * US_PER_S * US_PER_S / (C.0 * u128::from(smss.max(1)));
        cube_root(cube_us) as u64
    }

    /// W_cubic(t) in bytes (§4.2): C(t − K)³ + W_max, with t and K in
    /// microseconds and the windows in segments of `smss` bytes.
    pub fn w_cubic(&self, t: Duration, smss: u32) -> u32 {
        let t_us = (t.as_nanos() / 1000) as i128;
        let d = (t_us - i128::from(self.k_us)).clamp(-MAX_OFFSET_US, MAX_OFFSET_US);
        let per_s3 = (US_PER_S * US_PER_S * US_PER_S) as i128;
        let delta = C.0 as i128 * d * d * d * i128::from(smss) / (C.1 as i128 * per_s3);
        (i128::from(self.w_max) + delta).clamp(0, i128::from(u32::MAX)) as u32
    }

    /// A congestion event that starts loss recovery (fast retransmit, or
    /// RFC 6675 recovery): W_max with fast convergence (§4.7), and the new
    /// ssthresh, max(min(flight_size, cwnd) × β, 2 SMSS) (§4.6). cwnd is
    /// left to the recovery mechanics.
    pub fn on_congestion(&mut self, cwnd: u32, flight: u32, smss: u32) -> u32 {
        self.cwnd_prior = cwnd;
        if 0 < self.w_max && cwnd < self.w_max {
            // §4.7: the flow lost before reaching its last W_max: release
            // bandwidth to newer flows.
            self.fire(rule::CC_04);
            self.w_max = (u64::from(cwnd) * (BETA.1 + BETA.0) / (2 * BETA.1)) as u32;
        } else {
            self.w_max = cwnd;
        }
        self.fire(rule::CC_03);
        // FlightSize, never above cwnd: SND.MAX − SND.UNA counts what the
        // receiver SACKed, and right after an RFC 6675 recovery that can
        // be far more than cwnd; 0.7 of it would make a loss raise the
        // window (Linux reduces cwnd itself, which §4.6 allows with
        // §5.8's guard against growing while not cwnd-limited).
        let flight = flight.min(cwnd);
        let ssthresh = ((u64::from(flight) * BETA.0 / BETA.1) as u32).max(2 * smss);
        self.epoch_start = None;
        self.after_rto = false;
        self.k_us = Cubic::k_for(self.w_max, ssthresh, smss);
        self.region = CubicRegion::Recovery;
        if let Some(h) = &mut self.hystart {
            h.on_loss();
        }
        ssthresh
    }

    /// RETRANSMIT expired (§4.8): ssthresh as for any congestion event
    /// unless `again` (the same segment timed out before: RFC 5681 §3.1
    /// holds ssthresh; then `None`); the caller sets cwnd to one SMSS.
    /// The first congestion avoidance stage after it starts with K = 0
    /// and W_max = cwnd_epoch; HyStart watches the slow start again.
    pub fn on_timeout(&mut self, cwnd: u32, flight: u32, smss: u32, again: bool) -> Option<u32> {
        let ssthresh = (!again).then(|| self.on_congestion(cwnd, flight, smss));
        self.fire(rule::CC_08);
        self.after_rto = true;
        self.epoch_start = None;
        self.k_us = 0;
        self.region = CubicRegion::SlowStart;
        if let Some(h) = &mut self.hystart {
            h.restart();
        }
        ssthresh
    }

    /// Loss recovery ended or continues: the region shows it until
    /// congestion avoidance starts.
    pub fn in_recovery(&mut self) {
        self.region = CubicRegion::Recovery;
    }

    /// New data left (not a retransmission): HyStart times it. With
    /// `idle` (nothing was in flight before it) an application-limited
    /// period ends: t_epoch moves forward by the time since the last ACK,
    /// never beyond `now` (§5.8; Linux's `CA_EVENT_TX_START`), so t
    /// leaves the idle period out even though the ACKs of the window
    /// sent now find the sender cwnd-limited.
    pub fn on_sent(&mut self, end: SeqNum, now: Instant, idle: bool) {
        if idle && let Some(last) = self.last_ack {
            let gap = now.saturating_since(last);
            if let Some(start) = self.epoch_start
                && gap > Duration::ZERO
            {
                self.fire(rule::CC_09);
                self.epoch_start = Some((start + gap).min(now));
            }
            self.last_ack = Some(now);
        }
        if let Some(h) = &mut self.hystart {
            h.on_sent(end, now);
        }
    }

    /// An ACK of new data outside loss recovery: HyStart, then slow start
    /// or the CUBIC increase. Returns the new (cwnd, ssthresh).
    pub fn on_ack(&mut self, cwnd: u32, ssthresh: u32, acked: u32, smss: u32, step: &AckStep) -> (u32, u32) {
        let mut ssthresh = ssthresh;
        let in_slow_start = cwnd < ssthresh;
        if let Some(h) = &mut self.hystart {
            let found = h.on_ack(step.ack, step.now, step.snd_max, cwnd, smss, in_slow_start);
            if let Some(how) = found {
                self.fire(if how == Detection::AckTrain { rule::CC_10 } else { rule::CC_11 });
                // Slow start ends without a loss: ssthresh = cwnd (Linux),
                // and W_max is unset: §4.10 has cwnd_prior = cwnd.
                ssthresh = cwnd;
                self.cwnd_prior = cwnd;
            }
        }
        let since_last = self.last_ack.map_or(Duration::ZERO, |t| step.now.saturating_since(t));
        self.last_ack = Some(step.now);
        if !step.cwnd_limited {
            // §5.8: no growth, and the time is not t's.
            self.fire(rule::CC_09);
            if let Some(start) = &mut self.epoch_start {
                *start = *start + since_last;
            }
            return (cwnd, ssthresh);
        }
        if cwnd < ssthresh {
            // §4.10: Reno's slow start (RFC 5681 eq. 2).
            self.fire(rule::CC_02);
            self.region = CubicRegion::SlowStart;
            return (cwnd.saturating_add(acked.min(smss)), ssthresh);
        }
        (self.congestion_avoidance(cwnd, acked, smss, step), ssthresh)
    }

    /// One ACK in congestion avoidance (§4.2–§4.5).
    fn congestion_avoidance(&mut self, cwnd: u32, acked: u32, smss: u32, step: &AckStep) -> u32 {
        let start = match self.epoch_start {
            Some(start) => start,
            None => self.start_epoch(cwnd, smss, step.now),
        };
        let t = step.now.saturating_since(start);
        // §4.3: W_est grows by α per cwnd of data acknowledged; α is 1
        // once W_est reached the window before the reduction.
        let alpha = if self.w_est17 >= u64::from(self.cwnd_prior) * ALPHA.1 { ALPHA.1 } else { ALPHA.0 };
        // The remainder is carried, as for the cubic increase: at large
        // windows one ACK's share is below one unit.
        let num = alpha * u64::from(acked) * u64::from(smss) + self.est_rem;
        let den = u64::from(cwnd.max(1));
        self.est_rem = num % den;
        self.w_est17 += num / den;
        let w_est = (self.w_est17 / ALPHA.1).min(u64::from(u32::MAX)) as u32;
        if self.w_cubic(t, smss) < w_est {
            self.fire(rule::CC_07);
            self.region = CubicRegion::RenoFriendly;
            return cwnd.max(w_est);
        }
        self.fire(rule::CC_06);
        // §4.2: the target one RTT ahead, within [cwnd, 1.5 cwnd].
        let target = self.w_cubic(t + step.srtt, smss).clamp(cwnd, cwnd.saturating_add(cwnd / 2));
        let num = u64::from(target - cwnd) * u64::from(acked) + self.grow_rem;
        let den = u64::from(cwnd.max(1));
        self.grow_rem = num % den;
        let cwnd = cwnd.saturating_add((num / den).min(u64::from(u32::MAX)) as u32);
        self.region = if cwnd < self.w_max { CubicRegion::Concave } else { CubicRegion::Convex };
        cwnd
    }

    /// The first ACK of a congestion avoidance stage (§4.2): t_epoch,
    /// cwnd_epoch and K; W_est = cwnd_epoch (§4.3). With no W_max above
    /// cwnd (no loss yet, HyStart's exit, §4.10) or after an RTO (§4.8),
    /// K = 0 and W_max = cwnd_epoch.
    fn start_epoch(&mut self, cwnd: u32, smss: u32, now: Instant) -> Instant {
        self.fire(rule::CC_05);
        if self.after_rto || self.w_max <= cwnd {
            self.w_max = cwnd;
        }
        if self.cwnd_prior == 0 {
            self.cwnd_prior = cwnd;
        }
        self.after_rto = false;
        self.k_us = Cubic::k_for(self.w_max, cwnd, smss);
        self.w_est17 = u64::from(cwnd) * ALPHA.1;
        self.est_rem = 0;
        self.grow_rem = 0;
        self.epoch_start = Some(now);
        now
    }
}

/// The rules CUBIC and HyStart fire, in the order of [`Cubic::take_rules`].
const RULES: [Rule; 10] = [
    rule::CC_02,
    rule::CC_03,
    rule::CC_04,
    rule::CC_05,
    rule::CC_06,
    rule::CC_07,
    rule::CC_08,
    rule::CC_09,
    rule::CC_10,
    rule::CC_11,
];

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    fn step(now_ms: u64, srtt_ms: u64) -> AckStep {
        AckStep {
            now: Instant::from_nanos(now_ms * 1_000_000),
            srtt: Duration::from_millis(srtt_ms),
            cwnd_limited: true,
            ack: SeqNum(1),
            snd_max: SeqNum(1),
        }
    }

    #[test]
    fn cube_root_is_exact_and_rounds_down() {
        assert_eq!(cube_root(0), 0);
        assert_eq!(cube_root(26), 2);
        assert_eq!(cube_root(27), 3);
        assert_eq!(cube_root(1_000_000_000_000_000_000), 1_000_000);
        assert_eq!(cube_root(u128::MAX), 6_981_463_658_331);
    }

    /// B-CC-03: RFC 9438 §4.6: on a congestion event ssthresh =
    /// max(flight_size × 0.7, 2 SMSS) and W_max = cwnd; K = ∛(W_max(1 −
    /// β)/C): 100 segments lost at cwnd = flight = 100 SMSS give
    /// ssthresh 70 SMSS and K = ∛(30/0.4) = ∛75 = 4.2172 s.
    #[test]
    fn congestion_event_sets_w_max_and_ssthresh_by_beta() {
        let mut c = Cubic::new(false);
        let ssthresh = c.on_congestion(100 * MSS, 100 * MSS, MSS);
        assert_eq!(ssthresh, 70 * MSS);
        assert_eq!(c.info().w_max, 100 * MSS);
        assert_eq!(c.info().region, CubicRegion::Recovery);
        // ∛75 = 4.217163... s.
        assert_eq!(c.info().k.as_nanos() / 1000, 4_217_163);
        assert_eq!(c.on_congestion(2 * MSS, 2 * MSS, MSS), 2 * MSS, "never below 2 SMSS");
        // A FlightSize above cwnd (SACKed octets after a recovery) counts
        // as cwnd: a loss never raises the window.
        assert_eq!(c.on_congestion(50 * MSS, 120 * MSS, MSS), 35 * MSS);
    }

    /// B-CC-04: RFC 9438 §4.7: a loss at cwnd below the last W_max sets
    /// W_max = cwnd (1 + β)/2 = 0.85 cwnd.
    #[test]
    fn fast_convergence_lowers_w_max() {
        let mut c = Cubic::new(false);
        c.on_congestion(100 * MSS, 100 * MSS, MSS);
        c.on_congestion(80 * MSS, 80 * MSS, MSS);
        assert_eq!(c.info().w_max, 68 * MSS);
        c.on_congestion(90 * MSS, 90 * MSS, MSS);
        assert_eq!(c.info().w_max, 90 * MSS, "above the last W_max: no fast convergence");
    }

    /// B-CC-05, B-CC-06: RFC 9438 §4.2: the first ACK in congestion
    /// avoidance starts the epoch with K = ∛((W_max − cwnd_epoch)/C) and
    /// W_est = cwnd_epoch; then each ACK moves cwnd by (target − cwnd)/cwnd
    /// of what it acknowledged, target = W_cubic(t + RTT) within [cwnd,
    /// 1.5 cwnd]: concave below W_max, convex above, W_cubic(K) = W_max.
    /// W_max 100 SMSS, cwnd_epoch 70, RTT 100 ms; W_cubic in bytes,
    /// truncated: W_cubic(0) = 100 − 0.4 × 4.217163³ = 70.001,
    /// W_cubic(0.1) = 72.084, W_cubic(0.2) = 74.070, W_cubic(6.1) =
    /// 102.669 SMSS.
    #[test]
    fn congestion_avoidance_follows_w_cubic() {
        let mut c = Cubic::new(false);
        let ssthresh = c.on_congestion(100 * MSS, 100 * MSS, MSS);
        // At t = 0 W_est (70 + 9/17 × 1/70 SMSS = 70.007) is above
        // W_cubic(0): the first ACK is Reno-friendly (§4.3).
        let (cwnd, _) = c.on_ack(ssthresh, ssthresh, MSS, MSS, &step(0, 100));
        assert_eq!(c.info().k.as_nanos() / 1000, 4_217_163);
        assert_eq!(c.w_cubic(Duration::ZERO, MSS), 70_001);
        assert_eq!((cwnd, c.info().region), (70_007, CubicRegion::RenoFriendly));
        // 100 ms later W_cubic(0.1) = 72084 > W_est = 70015: concave,
        // towards W_cubic(0.2) = 74070.
        assert_eq!(c.w_cubic(Duration::from_millis(100), MSS), 72_084);
        assert_eq!(c.w_cubic(Duration::from_millis(200), MSS), 74_070);
        let (cwnd, _) = c.on_ack(cwnd, ssthresh, MSS, MSS, &step(100, 100));
        assert_eq!(c.info().region, CubicRegion::Concave);
        assert_eq!(cwnd, 70_007 + (74_070 - 70_007) * 1000 / 70_007);
        let rem = (74_070 - 70_007) * 1000 % 70_007;
        assert_eq!(c.w_cubic(Duration::from_micros(4_217_163), MSS), 100 * MSS);
        // t = 6 s, cwnd 101 SMSS: convex, towards W_cubic(6.1), with the
        // remainder the last ACK left.
        assert_eq!(c.w_cubic(Duration::from_millis(6100), MSS), 102_669);
        let (cwnd, _) = c.on_ack(101 * MSS, ssthresh, MSS, MSS, &step(6000, 100));
        assert_eq!(c.info().region, CubicRegion::Convex);
        assert_eq!(cwnd, 101 * MSS + ((102_669 - 101_000) * 1000 + rem) / 101_000);
        // The target never exceeds 1.5 cwnd: at t = 30 s W_cubic is far
        // above 10 SMSS.
        let mut c = Cubic::new(false);
        let ssthresh = c.on_congestion(100 * MSS, 100 * MSS, MSS);
        c.on_ack(ssthresh, ssthresh, MSS, MSS, &step(0, 100));
        let (cwnd, _) = c.on_ack(10 * MSS, 2 * MSS, 10 * MSS, MSS, &step(30_000, 100));
        assert_eq!(cwnd, 15 * MSS);
    }

    /// B-CC-07: RFC 9438 §4.3: W_est starts at cwnd_epoch and grows by
    /// α·acked/cwnd, α = 9/17 until W_est reaches cwnd_prior and 1 from
    /// there; while W_cubic(t) < W_est, cwnd is W_est. W_max 10 SMSS
    /// (ssthresh 7) on a 1 s RTT, one ACK per window: W_est after 18 ACKs
    /// is 7 + 6 × 9/17 (the sixth reaches 10.18 ≥ 10) + 12 × 1 = 22.18
    /// SMSS, while W_cubic(1 s) = 10 − 0.4 (1.957 − 1)³ = 9.65 SMSS.
    #[test]
    fn reno_friendly_region_uses_w_est() {
        let mut c = Cubic::new(false);
        let ssthresh = c.on_congestion(10 * MSS, 10 * MSS, MSS);
        assert_eq!(ssthresh, 7 * MSS);
        let mut cwnd = ssthresh;
        for i in 0..18 {
            let now = i * 1000 / 17;
            let (next, _) = c.on_ack(cwnd, ssthresh, cwnd, MSS, &step(now, 1000));
            cwnd = next;
            assert_eq!(c.info().region, CubicRegion::RenoFriendly, "ACK {i}");
        }
        assert_eq!(cwnd, (7 * 17 * MSS + 6 * 9 * MSS + 12 * 17 * MSS) / 17);
        assert!(c.w_cubic(Duration::from_secs(1), MSS) < 10 * MSS);
    }

    /// B-CC-08: RFC 9438 §4.8: an RTO sets ssthresh as §4.6 (once: a
    /// second timeout of the same segment holds it) and the first
    /// congestion avoidance stage after it starts with K = 0 and W_max =
    /// cwnd at its start.
    #[test]
    fn timeout_restarts_the_curve_at_cwnd() {
        let mut c = Cubic::new(false);
        assert_eq!(c.on_timeout(100 * MSS, 100 * MSS, MSS, false), Some(70 * MSS));
        assert_eq!(c.on_timeout(MSS, MSS, MSS, true), None);
        assert_eq!(c.info().region, CubicRegion::SlowStart);
        let (cwnd, _) = c.on_ack(40 * MSS, 40 * MSS, MSS, MSS, &step(0, 100));
        assert_eq!(c.info().w_max, 40 * MSS);
        assert_eq!(c.info().k, Duration::ZERO);
        // W_cubic(0) = 40 SMSS, W_est = 40 + 9/17 × 1/40 SMSS (α stays 9/17:
        // the window when ssthresh was set, cwnd_prior, was 100 SMSS):
        // Reno-friendly, cwnd = W_est.
        assert_eq!(c.info().region, CubicRegion::RenoFriendly);
        assert_eq!(cwnd, (40 * 17 * MSS + 9 * MSS * MSS / (40 * MSS)) / 17);
    }

    /// B-CC-02, B-CC-09: RFC 9438 §4.10: slow start adds min(acked, SMSS)
    /// per ACK; §5.8: an ACK while the sender was not cwnd-limited grows
    /// nothing, and the time since the previous ACK is not part of t.
    #[test]
    fn slow_start_and_application_limited_acks() {
        let mut c = Cubic::new(false);
        let (cwnd, _) = c.on_ack(4 * MSS, 100 * MSS, 3 * MSS, MSS, &step(0, 100));
        assert_eq!(cwnd, 5 * MSS);
        let limited = AckStep { cwnd_limited: false, ..step(10, 100) };
        assert_eq!(c.on_ack(cwnd, 100 * MSS, MSS, MSS, &limited), (5 * MSS, 100 * MSS));
        let ssthresh = c.on_congestion(100 * MSS, 100 * MSS, MSS);
        c.on_ack(ssthresh, ssthresh, MSS, MSS, &step(1000, 100));
        // Idle 5 s: the next (application-limited) ACK shifts t_epoch by
        // them, so at 6.1 s t is 0.1 s again.
        let limited = AckStep { cwnd_limited: false, ..step(6000, 100) };
        c.on_ack(ssthresh, ssthresh, MSS, MSS, &limited);
        assert_eq!(c.epoch_start, Some(Instant::from_nanos(6_000_000_000)));
    }

    /// B-CC-07: RFC 9438 §4.3: W_est grows by α·SMSS per cwnd of data
    /// acknowledged, at any window. At 20 000 segments of 1460 bytes one
    /// ACK of one SMSS adds 9/17 × 1460 × 1460 / 29 200 000 = 0.04
    /// bytes: the remainder must be carried, or W_est stands still above
    /// 9 × 1460 = 13 140 segments. After an RTO (K = 0, W_max =
    /// cwnd_epoch, so W_cubic(0) = cwnd) and 20 000 such ACKs at t = 0
    /// with cwnd held, W_est = cwnd + 20 000 × 9 × 1460² / (17 × 29.2 M)
    /// = cwnd + 13 140 / 17 = cwnd + 772.9 bytes, above W_cubic(0):
    /// Reno-friendly, cwnd = W_est = 29 200 772.
    #[test]
    fn w_est_grows_at_large_windows() {
        const SMSS: u32 = 1460;
        let cwnd = 20_000 * SMSS;
        let mut c = Cubic::new(false);
        c.on_timeout(40_000 * SMSS, 40_000 * SMSS, SMSS, false);
        let mut last = cwnd;
        for _ in 0..20_000 {
            (last, _) = c.on_ack(cwnd, cwnd, SMSS, SMSS, &step(0, 0));
        }
        assert_eq!(c.info().region, CubicRegion::RenoFriendly);
        assert_eq!(last, cwnd + 772);
    }

    /// B-CC-09: RFC 9438 §5.8: new data sent while nothing is in flight
    /// ends an idle period: t_epoch moves forward by the time since the
    /// last ACK (Linux's `CA_EVENT_TX_START`). Epoch at 1 s, last
    /// (cwnd-limited) ACK at 2 s, restart at 20 s: t_epoch = 1 + 18 = 19
    /// s, so t is 1 s again at 20 s. Data sent with something in flight
    /// moves nothing.
    #[test]
    fn a_restart_after_idle_moves_the_epoch() {
        let mut c = Cubic::new(false);
        let ssthresh = c.on_congestion(100 * MSS, 100 * MSS, MSS);
        c.on_ack(ssthresh, ssthresh, MSS, MSS, &step(1000, 100));
        c.on_ack(ssthresh, ssthresh, MSS, MSS, &step(2000, 100));
        c.on_sent(SeqNum(1), Instant::from_nanos(10_000_000_000), false);
        assert_eq!(c.epoch_start, Some(Instant::from_nanos(1_000_000_000)));
        c.on_sent(SeqNum(1), Instant::from_nanos(20_000_000_000), true);
        assert_eq!(c.epoch_start, Some(Instant::from_nanos(19_000_000_000)));
        assert!(c.take_rules().any(|r| r == rule::CC_09));
    }
}
