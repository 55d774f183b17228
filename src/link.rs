//! The network link model, one [`LinkParams`] per direction: delay, jitter,
//! Bernoulli and Gilbert-Elliott loss, reordering, duplication, corruption
//! and a maximum segment lifetime.
//!
//! Loss, reordering and delay live only here; TCP never sees them. Every
//! decision for a segment comes from one 16-word ChaCha block keyed by (run
//! seed, link direction, flow, the flow's segment counter), so flows draw
//! independently and adding a connection never changes another's fate.
//! Word use is fixed (see [`Word`]) so adding a feature later takes a new
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
    pub enter_bad: Ppm,
    pub leave_bad: Ppm,
    pub loss_good: Ppm,
    pub loss_bad: Ppm,
}

/// One direction of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkParams {
    pub delay: Duration,
    /// Extra delay, uniform in `[0, jitter]`.
    pub jitter: Duration,
    pub loss: Ppm,
    pub burst: Option<GilbertElliott>,
    /// Probability that a segment is held back by `reorder_delay`.
    pub reorder: Ppm,
    pub reorder_delay: Duration,
    pub duplicate: Ppm,
    pub corrupt: Ppm,
    /// Segments in transit longer than this are dropped (`expired`).
    pub lifetime: Option<Duration>,
}

impl Default for LinkParams {
    fn default() -> LinkParams {
        LinkParams {
            delay: Duration::from_millis(10),
            jitter: Duration::ZERO,
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
}

/// Per-flow state on one link direction: the draw counter and the burst
/// state. Kept by the caller next to the flow, 9 bytes of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowState {
    pub draws: u64,
    pub burst_bad: bool,
}

/// The link's decision for one segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Drop(DropReason),
    Deliver {
        at: Instant,
        reordered: bool,
        /// The segment arrives damaged and the receiver discards it.
        corrupt: bool,
        /// A second copy's arrival time.
        duplicate: Option<Instant>,
    },
}

impl LinkParams {
    /// Decides the fate of the next segment of `flow` sent at `now`.
    pub fn judge(&self, key: &Key, flow: u64, state: &mut FlowState, now: Instant) -> Verdict {
        let w = key.block(flow, state.draws);
        state.draws += 1;
        let draw = |word: Word| w[word as usize];
        if let Some(ge) = self.burst {
            let switch = if state.burst_bad { ge.leave_bad } else { ge.enter_bad };
            if switch.hit(draw(Word::BurstSwitch)) {
                state.burst_bad = !state.burst_bad;
            }
            let loss = if state.burst_bad { ge.loss_bad } else { ge.loss_good };
            if loss.hit(draw(Word::BurstLoss)) {
                return Verdict::Drop(DropReason::Burst);
            }
        }
        if self.loss.hit(draw(Word::Loss)) {
            return Verdict::Drop(DropReason::Loss);
        }
        let mut transit = self.delay + self.jitter_draw(draw(Word::Jitter));
        let reordered = self.reorder.hit(draw(Word::Reorder));
        if reordered {
            transit = transit + self.reorder_delay;
        }
        if self.expired(transit) {
            return Verdict::Drop(DropReason::Expired);
        }
        let duplicate = self
            .duplicate
            .hit(draw(Word::Duplicate))
            .then(|| self.delay + self.jitter_draw(draw(Word::DuplicateJitter)));
        let duplicate = duplicate.filter(|d| !self.expired(*d)).map(|d| now + d);
        Verdict::Deliver {
            at: now + transit,
            reordered,
            corrupt: self.corrupt.hit(draw(Word::Corrupt)),
            duplicate,
        }
    }

    fn jitter_draw(&self, word: u32) -> Duration {
        Duration::from_nanos(uniform_u64(word, self.jitter.as_nanos()))
    }

    fn expired(&self, transit: Duration) -> bool {
        self.lifetime.is_some_and(|limit| limit < transit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::derive(1, 42)
    }

    fn run(params: &LinkParams, n: u64) -> Vec<Verdict> {
        let mut st = FlowState::default();
        (0..n)
            .map(|_| params.judge(&key(), 7, &mut st, Instant::ZERO))
            .collect()
    }

    #[test]
    fn a_perfect_link_delivers_after_its_delay() {
        let p = LinkParams::default();
        for v in run(&p, 10) {
            assert_eq!(
                v,
                Verdict::Deliver {
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
        let p = LinkParams {
            loss: Ppm::new(100_000).unwrap(),
            ..LinkParams::default()
        };
        let lost = run(&p, 20_000)
            .iter()
            .filter(|v| matches!(v, Verdict::Drop(DropReason::Loss)))
            .count();
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
                Verdict::Deliver { at, .. } => {
                    assert!((10_000_000..=12_000_000).contains(&at.as_nanos()))
                }
                Verdict::Drop(r) => {
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
        let p = LinkParams {
            burst: Some(ge),
            ..LinkParams::default()
        };
        let v = run(&p, 50_000);
        let lost: Vec<bool> = v.iter().map(|v| matches!(v, Verdict::Drop(_))).collect();
        let losses = lost.iter().filter(|l| **l).count();
        let runs = lost.windows(2).filter(|w| w[1] && !w[0]).count();
        assert!(losses > 0 && runs > 0);
        // Mean burst length 1/leave_bad = 4.
        let mean = losses as f64 / runs as f64;
        assert!((3.0..5.0).contains(&mean), "mean burst {mean}");
    }
}
