//! The network link model, one [`LinkParams`] per direction: delay and its
//! distribution, Bernoulli and Gilbert-Elliott loss, reordering,
//! duplication, corruption, a maximum segment lifetime, and a rate limit
//! with a bounded FIFO queue shared by every flow on the link.
//!
//! Loss, reordering and delay live only here; TCP never sees them. Every
//! decision for a segment comes from one 16-word ChaCha block keyed by (run
//! seed, link direction, flow, the flow's segment counter), so flows draw
//! independently and adding a connection never changes another's fate.
//! Word use is fixed (see `Word`) so adding a feature later takes a new
//! word instead of shifting the old ones.

use crate::rng::{Key, Ppm, uniform_u64};
use crate::time::{Duration, Instant};
use std::fmt;

/// Why a segment never arrived (the trace's drop `reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// Bernoulli loss.
    Loss,
    /// Gilbert-Elliott burst loss.
    Burst,
    /// A scripted fault rule.
    Rule,
    /// A scripted partition between the hosts.
    Partition,
    /// The receiver's checksum check failed.
    Corrupt,
    /// Tail drop at a full link queue.
    Queue,
    /// Older than the link's maximum segment lifetime.
    Expired,
    /// The receiving host was down.
    HostDown,
    /// No link leads from the sender's host to the receiver's.
    NoRoute,
}

impl DropReason {
    /// The reason's name in traces and files (`loss`, `host_down`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Burst => "burst",
            DropReason::Rule => "rule",
            DropReason::Partition => "partition",
            DropReason::Corrupt => "corrupt",
            DropReason::Queue => "queue",
            DropReason::Expired => "expired",
            DropReason::HostDown => "host_down",
            DropReason::NoRoute => "no_route",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Gilbert-Elliott two-state loss: a good and a bad state with their own
/// loss probabilities and the probabilities of switching, per segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GilbertElliott {
    /// Per segment, the probability of switching from the good state to the bad
    /// one.
    pub enter_bad: Ppm,
    /// Per segment, the probability of switching from the bad state to the good
    /// one.
    pub leave_bad: Ppm,
    /// The loss probability in the good state.
    pub loss_good: Ppm,
    /// The loss probability in the bad state.
    pub loss_bad: Ppm,
}

/// How the per-segment delay varies around `delay` (netem's choices).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DelayDistribution {
    /// `delay + U[0, jitter]`.
    #[default]
    Uniform,
    /// Mean `delay`, standard deviation `jitter`; from the Irwin-Hall sum
    /// of twelve 16-bit uniforms (integer arithmetic only).
    Normal,
    /// Mean `delay`, standard deviation `jitter`; a Pareto variable with
    /// shape 3, standardized. Heavy right tail.
    Pareto,
    /// 25 % normal plus 75 % Pareto, as netem's `paretonormal` table.
    ParetoNormal,
}

impl DelayDistribution {
    /// The distribution's name in files (`uniform`, `paretonormal`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            DelayDistribution::Uniform => "uniform",
            DelayDistribution::Normal => "normal",
            DelayDistribution::Pareto => "pareto",
            DelayDistribution::ParetoNormal => "paretonormal",
        }
    }
}

/// One direction of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkParams {
    /// One-way propagation delay (the mean, or the minimum for `Uniform`).
    pub delay: Duration,
    /// Spread of the delay: the width of the uniform jitter, or the
    /// standard deviation of the other distributions.
    pub jitter: Duration,
    /// How the delay varies around `delay`.
    pub distribution: DelayDistribution,
    /// Serialization rate in bits per second; `None` is infinitely fast.
    pub rate_bps: Option<u64>,
    /// FIFO capacity in bytes (with `rate_bps`), counting the segment being
    /// serialized; a segment that does not fit is tail-dropped (`queue`).
    pub queue_bytes: Option<u64>,
    /// Probability of Bernoulli loss per segment (`loss`).
    pub loss: Ppm,
    /// Gilbert-Elliott burst loss (`burst`), if any.
    pub burst: Option<GilbertElliott>,
    /// Probability that a segment is held back by `reorder_delay`.
    pub reorder: Ppm,
    /// How long a reordered segment is held back.
    pub reorder_delay: Duration,
    /// Probability of a second copy, with its own jitter draw.
    pub duplicate: Ppm,
    /// Probability that the segment arrives damaged and is discarded
    /// (`corrupt`).
    pub corrupt: Ppm,
    /// Segments in transit longer than this are dropped (`expired`).
    pub lifetime: Option<Duration>,
}

impl Default for LinkParams {
    fn default() -> LinkParams {
        LinkParams {
            delay: Duration::from_millis(10),
            jitter: Duration::ZERO,
            distribution: DelayDistribution::Uniform,
            rate_bps: None,
            queue_bytes: None,
            loss: Ppm::ZERO,
            burst: None,
            reorder: Ppm::ZERO,
            reorder_delay: Duration::ZERO,
            duplicate: Ppm::ZERO,
            corrupt: Ppm::ZERO,
            lifetime: None,
        }
    }
}

/// The word of a flow's block each decision uses.
#[derive(Clone, Copy)]
#[repr(usize)]
enum Word {
    BurstSwitch = 0,
    BurstLoss = 1,
    Loss = 2,
    Jitter = 3,
    Reorder = 4,
    Duplicate = 5,
    DuplicateJitter = 6,
    Corrupt = 7,
    /// Words 8..=13: twelve 16-bit uniforms for the normal distribution.
    Normal = 8,
    Pareto = 14,
}

/// Per-flow state on one link direction: the draw counter and the burst
/// state. Kept by the caller next to the flow: packed, 5 bytes that fit
/// in what an endpoint's record would otherwise leave as padding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, packed)]
pub struct FlowState {
    /// Blocks drawn so far (wraps after 2^32 segments of one flow).
    pub draws: u32,
    /// The flow's Gilbert-Elliott state: in the bad state.
    pub burst_bad: bool,
}

/// The shared state of one link direction: when its transmitter is free.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueState {
    /// When the transmitter finishes serializing the last segment queued.
    pub busy_until: Instant,
}

/// Bytes a segment occupies on the wire: IPv4 and TCP headers (40 bytes),
/// its options as encoded (MSS 4, Window Scale 4, Timestamps 12, with
/// their NOP padding) and the payload.
pub fn wire_bytes(seg: &crate::tcp::Segment) -> u64 {
    40 + u64::from(seg.len) + u64::from(seg.option_bytes())
}

/// What the link did to one segment, as data: replayed by
/// [`LinkParams::replay`] instead of drawn. The default is an untouched
/// segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fate {
    /// Lost on the link, for this reason (`loss`, `burst` or `expired`).
    pub drop: Option<DropReason>,
    /// Propagation delay after the queue, instead of the link's `delay`.
    pub delay: Option<Duration>,
    /// A second copy arrives this long after leaving the queue.
    pub copy: Option<Duration>,
    /// The segment arrives damaged and the receiver discards it.
    pub corrupt: bool,
}

/// A link direction's decision for one segment: lost, or delivered when
/// and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkVerdict {
    /// Lost on the link, for this reason.
    Drop(DropReason),
    /// Delivered, perhaps late, damaged or twice.
    Deliver {
        /// When the segment left the queue (`now` without a rate limit):
        /// what follows is propagation.
        departs: Instant,
        /// When the segment arrives at the receiver.
        at: Instant,
        /// It was held back by the link's reorder delay.
        reordered: bool,
        /// The segment arrives damaged and the receiver discards it.
        corrupt: bool,
        /// A second copy's arrival time.
        duplicate: Option<Instant>,
    },
}

impl LinkParams {
    /// Decides the fate of the next segment of `flow` sent at `now`, of
    /// `bytes` on the wire, through the direction's shared `queue`.
    ///
    /// Order: the queue (tail drop, then serialization at `rate_bps`),
    /// then the wire (burst and Bernoulli loss, delay, reordering,
    /// lifetime, duplication, corruption). A segment lost on the wire still
    /// took its turn on the transmitter.
    pub fn judge(
        &self,
        key: &Key,
        flow: u64,
        state: &mut FlowState,
        queue: &mut QueueState,
        now: Instant,
        bytes: u64,
    ) -> LinkVerdict {
        let w = key.block(flow, u64::from(state.draws));
        state.draws = state.draws.wrapping_add(1);
        let draw = |word: Word| w[word as usize];
        let departs = match self.enqueue(queue, now, bytes) {
            Ok(t) => t,
            Err(reason) => return LinkVerdict::Drop(reason),
        };
        if let Some(ge) = self.burst {
            let switch = if state.burst_bad { ge.leave_bad } else { ge.enter_bad };
            if switch.hit(draw(Word::BurstSwitch)) {
                state.burst_bad = !state.burst_bad;
            }
            let loss = if state.burst_bad { ge.loss_bad } else { ge.loss_good };
            if loss.hit(draw(Word::BurstLoss)) {
                return LinkVerdict::Drop(DropReason::Burst);
            }
        }
        if self.loss.hit(draw(Word::Loss)) {
            return LinkVerdict::Drop(DropReason::Loss);
        }
        let queued = departs.saturating_since(now);
        let mut transit = queued + self.delay_draw(&w, draw(Word::Jitter));
        let reordered = self.reorder.hit(draw(Word::Reorder));
        if reordered {
            transit = transit + self.reorder_delay;
        }
        if self.expired(transit) {
            return LinkVerdict::Drop(DropReason::Expired);
        }
        let duplicate = self
            .duplicate
            .hit(draw(Word::Duplicate))
            .then(|| queued + self.delay + self.jitter_draw(draw(Word::DuplicateJitter)));
        let duplicate = duplicate.filter(|d| !self.expired(*d)).map(|d| now + d);
        LinkVerdict::Deliver {
            departs,
            at: now + transit,
            reordered,
            corrupt: self.corrupt.hit(draw(Word::Corrupt)),
            duplicate,
        }
    }

    /// The rate limit and queue: when a segment of `bytes` sent at `now`
    /// leaves the transmitter, or a tail drop. Deterministic.
    fn enqueue(&self, queue: &mut QueueState, now: Instant, bytes: u64) -> Result<Instant, DropReason> {
        let Some(rate) = self.rate_bps else { return Ok(now) };
        let start = queue.busy_until.max(now);
        if let Some(cap) = self.queue_bytes {
            let waiting_ns = start.saturating_since(now).as_nanos();
            let waiting_bytes = (u128::from(waiting_ns) * u128::from(rate) / 8 / 1_000_000_000) as u64;
            if cap < waiting_bytes + bytes {
                return Err(DropReason::Queue);
            }
        }
        let serialize_ns = (u128::from(bytes) * 8 * 1_000_000_000).div_ceil(u128::from(rate.max(1)));
        let departs = start + Duration::from_nanos(serialize_ns.min(u128::from(u64::MAX)) as u64);
        queue.busy_until = departs;
        Ok(departs)
    }

    /// Applies a recorded [`Fate`] instead of drawing: the queue and the
    /// segment lifetime act as in [`LinkParams::judge`], everything random
    /// comes from `fate`.
    pub fn replay(&self, fate: &Fate, queue: &mut QueueState, now: Instant, bytes: u64) -> LinkVerdict {
        let departs = match self.enqueue(queue, now, bytes) {
            Ok(t) => t,
            Err(reason) => return LinkVerdict::Drop(reason),
        };
        if let Some(reason) = fate.drop {
            return LinkVerdict::Drop(reason);
        }
        let queued = departs.saturating_since(now);
        let transit = queued + fate.delay.unwrap_or(self.delay);
        if self.expired(transit) {
            return LinkVerdict::Drop(DropReason::Expired);
        }
        let duplicate = fate.copy.map(|p| queued + p).filter(|d| !self.expired(*d)).map(|d| now + d);
        LinkVerdict::Deliver { departs, at: now + transit, reordered: false, corrupt: fate.corrupt, duplicate }
    }

    /// What [`LinkParams::judge`] decided, as a [`Fate`] relative to this
    /// link without randomness; `None` where the decision is what such a
    /// link decides anyway (so replaying needs nothing).
    pub fn fate_of(&self, verdict: &LinkVerdict) -> Option<Fate> {
        match *verdict {
            // Queue drops follow from the sends alone.
            LinkVerdict::Drop(DropReason::Queue) => None,
            LinkVerdict::Drop(reason) => Some(Fate { drop: Some(reason), ..Fate::default() }),
            LinkVerdict::Deliver { departs, at, corrupt, duplicate, .. } => {
                let propagation = at.saturating_since(departs);
                let fate = Fate {
                    drop: None,
                    delay: (propagation != self.delay).then_some(propagation),
                    copy: duplicate.map(|d| d.saturating_since(departs)),
                    corrupt,
                };
                (fate != Fate::default()).then_some(fate)
            }
        }
    }

    /// This direction with every random element off: loss, bursts,
    /// reordering, duplication, corruption and jitter. Delay, rate, queue
    /// and lifetime stay.
    pub fn without_randomness(&self) -> LinkParams {
        LinkParams {
            jitter: Duration::ZERO,
            loss: Ppm::ZERO,
            burst: None,
            reorder: Ppm::ZERO,
            duplicate: Ppm::ZERO,
            corrupt: Ppm::ZERO,
            ..*self
        }
    }

    /// Whether any decision of this direction is drawn at random.
    pub fn is_random(&self) -> bool {
        *self != self.without_randomness()
    }

    /// The propagation delay of one segment under the configured
    /// distribution; never negative.
    fn delay_draw(&self, w: &[u32; 16], uniform_word: u32) -> Duration {
        let sigma = i128::from(self.jitter.as_nanos());
        // Standardized variables in 1/65536 units.
        let normal = || {
            let sum: i128 = w[Word::Normal as usize..Word::Normal as usize + 6]
                .iter()
                .map(|x| i128::from(x & 0xffff) + i128::from(x >> 16))
                .sum();
            // Twelve U[0, 65535] values: mean 393210, sd about 65536.
            sum - 393_210
        };
        let pareto = || pareto_standardized(w[Word::Pareto as usize]);
        let z: i128 = match self.distribution {
            DelayDistribution::Uniform => return self.delay + self.jitter_draw(uniform_word),
            DelayDistribution::Normal => normal(),
            DelayDistribution::Pareto => pareto(),
            DelayDistribution::ParetoNormal => (normal() + 3 * pareto()) / 4,
        };
        let ns = i128::from(self.delay.as_nanos()) + sigma * z / 65_536;
        Duration::from_nanos(ns.clamp(0, i128::from(u64::MAX)) as u64)
    }

    fn jitter_draw(&self, word: u32) -> Duration {
        Duration::from_nanos(uniform_u64(word, self.jitter.as_nanos()))
    }

    fn expired(&self, transit: Duration) -> bool {
        self.lifetime.is_some_and(|limit| limit < transit)
    }
}

/// A Pareto variable with shape 3 and scale 1 (mean 1.5, sd sqrt(3)/2),
/// standardized to mean 0 and sd 1, in 1/65536 units, from one 32-bit
/// draw. X = U^(-1/3) is found by integer bisection on X^3 * U = 1, so the
/// result is the same on every machine (no floating-point library calls).
fn pareto_standardized(draw: u32) -> i128 {
    // U in (0, 1] as (draw + 1) / 2^32.
    let u = u128::from(draw) + 1;
    // The largest x (X in 1/65536 units) with x^3 * u <= 2^80, that is
    // X^3 * U <= 1. X is at most 2^(32/3) < 2048, so x < 2^27 and the
    // products stay below 2^113.
    let (mut lo, mut hi) = (65_536u128, 65_536u128 * 2048);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if mid * mid * mid * u <= 1u128 << 80 {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    // (X - 1.5) / (sqrt(3)/2), with sqrt(3)/2 = 56756/65536.
    ((lo as i128) - 98_304) * 65_536 / 56_756
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::derive(1, 42)
    }

    fn run(params: &LinkParams, n: u64) -> Vec<LinkVerdict> {
        let mut st = FlowState::default();
        let mut q = QueueState::default();
        (0..n).map(|_| params.judge(&key(), 7, &mut st, &mut q, Instant::ZERO, 1000)).collect()
    }

    fn delays(params: &LinkParams, n: u64) -> Vec<f64> {
        run(params, n)
            .into_iter()
            .filter_map(|v| match v {
                LinkVerdict::Deliver { at, .. } => Some(at.as_nanos() as f64 / 1e6),
                LinkVerdict::Drop(_) => None,
            })
            .collect()
    }

    fn mean_sd(xs: &[f64]) -> (f64, f64) {
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / xs.len() as f64;
        (m, v.sqrt())
    }

    #[test]
    fn normal_and_pareto_delays_have_the_configured_mean_and_spread() {
        for dist in [DelayDistribution::Normal, DelayDistribution::Pareto] {
            let p = LinkParams {
                delay: Duration::from_millis(100),
                jitter: Duration::from_millis(10),
                distribution: dist,
                ..LinkParams::default()
            };
            let (m, sd) = mean_sd(&delays(&p, 40_000));
            assert!((99.0..101.0).contains(&m), "{dist:?} mean {m}");
            assert!((8.5..11.5).contains(&sd), "{dist:?} sd {sd}");
        }
    }

    #[test]
    fn pareto_has_a_heavy_right_tail() {
        let p = LinkParams {
            delay: Duration::from_millis(100),
            jitter: Duration::from_millis(10),
            distribution: DelayDistribution::Pareto,
            ..LinkParams::default()
        };
        let d = delays(&p, 40_000);
        let max = d.iter().cloned().fold(0.0, f64::max);
        assert!(max > 150.0, "max {max}");
        assert!(d.iter().all(|x| *x >= 90.0), "Pareto's left side is bounded");
    }

    #[test]
    fn rate_limit_serializes_and_a_full_queue_tail_drops() {
        // 8 Mbit/s: 1000 bytes take 1 ms on the wire.
        let p = LinkParams { rate_bps: Some(8_000_000), queue_bytes: Some(3000), ..LinkParams::default() };
        // The queue holds 3000 bytes, counting the segment on the wire.
        let v = run(&p, 4);
        let at = |i: usize| match v[i] {
            LinkVerdict::Deliver { at, .. } => at.as_nanos(),
            LinkVerdict::Drop(r) => panic!("{i} dropped: {r}"),
        };
        assert_eq!((at(0), at(1), at(2)), (11_000_000, 12_000_000, 13_000_000));
        assert_eq!(v[3], LinkVerdict::Drop(DropReason::Queue));
    }

    /// What `judge` decides, turned into fates and replayed on the same
    /// link without randomness, is decided again: sends a millisecond
    /// apart through a rate-limited queue, with every random element on.
    #[test]
    fn recorded_fates_replay_every_decision() {
        let random = LinkParams {
            jitter: Duration::from_millis(3),
            distribution: DelayDistribution::Normal,
            rate_bps: Some(8_000_000),
            queue_bytes: Some(3000),
            loss: Ppm::new(100_000).unwrap(),
            burst: Some(GilbertElliott {
                enter_bad: Ppm::new(50_000).unwrap(),
                leave_bad: Ppm::new(300_000).unwrap(),
                loss_good: Ppm::ZERO,
                loss_bad: Ppm::new(500_000).unwrap(),
            }),
            reorder: Ppm::new(100_000).unwrap(),
            reorder_delay: Duration::from_millis(15),
            duplicate: Ppm::new(100_000).unwrap(),
            corrupt: Ppm::new(50_000).unwrap(),
            lifetime: Some(Duration::from_millis(24)),
            ..LinkParams::default()
        };
        let fixed = random.without_randomness();
        assert!(random.is_random() && !fixed.is_random());
        let (mut st, mut q, mut replay_q) = (FlowState::default(), QueueState::default(), QueueState::default());
        let mut fates = 0;
        for i in 0..5_000u64 {
            let now = Instant::from_nanos(i * 700_000);
            let v = random.judge(&key(), 7, &mut st, &mut q, now, 1000);
            let fate = random.fate_of(&v);
            fates += fate.is_some() as u32;
            let again = fixed.replay(&fate.unwrap_or_default(), &mut replay_q, now, 1000);
            let strip = |v: LinkVerdict| match v {
                LinkVerdict::Deliver { reordered: _, departs, at, corrupt, duplicate } => {
                    LinkVerdict::Deliver { reordered: false, departs, at, corrupt, duplicate }
                }
                drop => drop,
            };
            assert_eq!(strip(v), strip(again), "segment {i}");
        }
        assert!(fates > 1_000, "{fates} random decisions");
    }

    #[test]
    fn a_perfect_link_delivers_after_its_delay() {
        let p = LinkParams::default();
        for v in run(&p, 10) {
            assert_eq!(
                v,
                LinkVerdict::Deliver {
                    departs: Instant::ZERO,
                    at: Instant::from_nanos(10_000_000),
                    reordered: false,
                    corrupt: false,
                    duplicate: None
                }
            );
        }
    }

    #[test]
    fn loss_rate_is_close_to_the_probability() {
        let p = LinkParams { loss: Ppm::new(100_000).unwrap(), ..LinkParams::default() };
        let lost = run(&p, 20_000).iter().filter(|v| matches!(v, LinkVerdict::Drop(DropReason::Loss))).count();
        assert!((1_800..2_200).contains(&lost), "lost {lost} of 20000 at 10%");
    }

    #[test]
    fn jitter_stays_in_range_and_lifetime_expires() {
        let p = LinkParams {
            jitter: Duration::from_millis(5),
            lifetime: Some(Duration::from_millis(12)),
            ..LinkParams::default()
        };
        let mut expired = 0;
        for v in run(&p, 2000) {
            match v {
                LinkVerdict::Deliver { at, .. } => {
                    assert!((10_000_000..=12_000_000).contains(&at.as_nanos()))
                }
                LinkVerdict::Drop(r) => {
                    assert_eq!(r, DropReason::Expired);
                    expired += 1;
                }
            }
        }
        assert!(expired > 0);
    }

    #[test]
    fn bursts_cluster_losses() {
        let ge = GilbertElliott {
            enter_bad: Ppm::new(10_000).unwrap(),
            leave_bad: Ppm::new(250_000).unwrap(),
            loss_good: Ppm::ZERO,
            loss_bad: Ppm::ONE,
        };
        let p = LinkParams { burst: Some(ge), ..LinkParams::default() };
        let v = run(&p, 50_000);
        let lost: Vec<bool> = v.iter().map(|v| matches!(v, LinkVerdict::Drop(_))).collect();
        let losses = lost.iter().filter(|l| **l).count();
        let runs = lost.windows(2).filter(|w| w[1] && !w[0]).count();
        assert!(losses > 0 && runs > 0);
        // Mean burst length 1/leave_bad = 4.
        let mean = losses as f64 / runs as f64;
        assert!((3.0..5.0).contains(&mean), "mean burst {mean}");
    }
}
