//! The per-connection state of the Linux options (`B-LNX-`,
//! `docs/linux.md`), boxed beside the endpoint and absent unless one is
//! configured: the RTT estimator's extra variables (B-LNX-01), the start
//! of the retransmission budget (B-LNX-04), the delayed-ACK engine
//! (B-LNX-05, B-LNX-06), the challenge-ACK rate limit (B-LNX-07) and the
//! handshake's retransmissions (B-LNX-08, B-LNX-09).
//!
//! The delayed-ACK engine follows net/ipv4/tcp_input.c
//! (`tcp_event_data_recv`, `tcp_incr_quickack`, `__tcp_ack_snd_check`,
//! `tcp_fin`), tcp_output.c (`tcp_send_delayed_ack`,
//! `tcp_event_data_sent`), include/net/tcp.h (`tcp_dec_quickack_mode`)
//! and tcp_timer.c (`tcp_delack_timer_handler`), in nanoseconds instead
//! of jiffies.

use super::config::TcpConfig;
use super::profile::{LINUX_DELACK_MAX, LINUX_MAX_QUICKACKS};
use super::rtt::LinuxRtt;
use crate::time::{Duration, Instant};

/// Linux's `HZ / 2`: the delayed-ACK bound `tcp_send_delayed_ack` starts
/// from before the 200 ms cap.
const HALF_SECOND: Duration = Duration::from_millis(500);

/// Half of `d`, rounded down (the kernel's `>> 1`).
fn half(d: Duration) -> Duration {
    Duration::from_nanos(d.as_nanos() / 2)
}

/// What the Linux options keep per connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct LinuxState {
    /// B-LNX-01: the estimator's mdev, mdev_max, rttvar and rtt_seq.
    pub rtt: LinuxRtt,
    /// B-LNX-04: when the first retransmission of the current episode
    /// went (`retrans_stamp`); `None` while nothing was retransmitted.
    pub retrans_stamp: Option<Instant>,
    /// B-LNX-05: quick ACKs left (`icsk_ack.quick`).
    pub quick: u8,
    /// B-LNX-05: interactive mode (`icsk_ack.pingpong`): ACKs wait for a
    /// reply to carry them even in quick-ack mode.
    pub pingpong: bool,
    /// An ACK is owed for data or a FIN received (`ICSK_ACK_SCHED`).
    pub ack_scheduled: bool,
    /// This step's ACK is owed only because of quick-ack mode.
    pub quick_ack_step: bool,
    /// The ACK timeout (`icsk_ack.ato`); zero before the first data.
    pub ato: Duration,
    /// When data last arrived (`icsk_ack.lrcvtime`).
    pub lrcvtime: Instant,
    /// B-LNX-07: when the last challenge ACK went (`last_oow_ack_time`).
    pub last_challenge: Option<Instant>,
    /// B-LNX-08: SYN or SYN,ACK retransmissions so far (`total_retrans`,
    /// a request socket's `num_retrans`: the timer's and B-LNX-09's).
    pub syn_rtx: u32,
    /// B-LNX-08: when the first SYN or SYN,ACK went (`retrans_stamp` as
    /// `tcp_connect` sets it): a peer echoing its timestamp got it, so the
    /// retransmissions were spurious (`tcp_try_undo_spurious_syn`).
    pub first_syn_at: Option<Instant>,
    /// B-LNX-09: when a retransmitted SYN was last answered with the
    /// SYN,ACK (the request socket's `last_oow_ack_time`).
    pub last_syn_answer: Option<Instant>,
}

impl LinuxState {
    /// Whether `cfg` turns on any Linux option that keeps state.
    pub fn wanted(cfg: &TcpConfig) -> bool {
        cfg.linux_rto
            || cfg.linux_retries2
            || cfg.linux_delayed_ack
            || cfg.challenge_ack_interval.is_some()
            || cfg.linux_handshake
    }

    /// Fresh state: no RTT sample, no data received, ATO zero.
    pub fn new() -> LinuxState {
        LinuxState {
            rtt: LinuxRtt::default(),
            retrans_stamp: None,
            quick: 0,
            pingpong: false,
            ack_scheduled: false,
            quick_ack_step: false,
            ato: Duration::ZERO,
            lrcvtime: Instant::ZERO,
            last_challenge: None,
            syn_rtx: 0,
            first_syn_at: None,
            last_syn_answer: None,
        }
    }

    /// `tcp_incr_quickack`: RCV.WND / (2 × the peer's MSS) quick ACKs, at
    /// least 2 and at most 16, if more than are left.
    fn incr_quickack(&mut self, rcv_wnd: u32, rcv_mss: u16) {
        let q = rcv_wnd / (2 * u32::from(rcv_mss.max(1)));
        let q = if q == 0 { 2 } else { q.min(u32::from(LINUX_MAX_QUICKACKS)) } as u8;
        self.quick = self.quick.max(q);
    }

    /// `tcp_event_data_recv`: in-order data arrived at `now`. The first
    /// data starts quick-ack mode and sets the ATO to its minimum; later
    /// data adapts the ATO to the gap since the last (half the old ATO
    /// plus the gap, never above the RTO), and a gap longer than the RTO
    /// starts quick-ack mode again.
    pub fn on_data(&mut self, now: Instant, ato_min: Duration, rto: Duration, rcv_wnd: u32, rcv_mss: u16) {
        self.ack_scheduled = true;
        if self.ato == Duration::ZERO {
            self.incr_quickack(rcv_wnd, rcv_mss);
            self.ato = ato_min;
        } else {
            let m = now.saturating_since(self.lrcvtime);
            if m <= half(ato_min) {
                self.ato = half(self.ato) + half(ato_min);
            } else if m < self.ato {
                self.ato = (half(self.ato) + m).min(rto);
            } else if m > rto {
                self.incr_quickack(rcv_wnd, rcv_mss);
            }
        }
        self.lrcvtime = now;
    }

    /// `tcp_in_quickack_mode`: quick ACKs left and not interactive.
    pub fn in_quickack(&self) -> bool {
        self.quick > 0 && !self.pingpong
    }

    /// `tcp_send_delayed_ack`: how long the ACK may wait. An ATO above
    /// its minimum is bounded by SRTT (at least the minimum) and by
    /// 500 ms; every delay by `TCP_DELACK_MAX`, 200 ms.
    pub fn delay(&self, ato_min: Duration, srtt: Option<Duration>) -> Duration {
        let mut ato = self.ato;
        if ato > ato_min {
            let mut max_ato = if self.pingpong { LINUX_DELACK_MAX } else { HALF_SECOND };
            if let Some(srtt) = srtt {
                max_ato = max_ato.min(srtt.max(ato_min));
            }
            ato = ato.min(max_ato);
        }
        ato.min(LINUX_DELACK_MAX)
    }

    /// `tcp_event_ack_sent` → `tcp_dec_quickack_mode`: an ACK of what was
    /// owed went out; one quick ACK fewer, and leaving quick-ack mode
    /// deflates the ATO.
    pub fn on_ack_sent(&mut self, ato_min: Duration) {
        if self.quick > 0 && self.ack_scheduled {
            if self.quick <= 1 {
                self.quick = 0;
                self.ato = ato_min;
            } else {
                self.quick -= 1;
            }
        }
        self.ack_scheduled = false;
    }

    /// `tcp_delack_timer_handler`: the delayed ACK was due. Interactive
    /// mode ends and the ATO deflates; otherwise the ATO doubles, up to
    /// the RTO.
    pub fn on_delayed_ack_fired(&mut self, ato_min: Duration, rto: Duration) {
        if self.pingpong {
            self.pingpong = false;
            self.ato = ato_min;
        } else {
            self.ato = self.ato.saturating_mul(2).min(rto);
        }
    }

    /// `tcp_event_data_sent`: new data sent within an ATO of the last
    /// data received is a reply: interactive mode (`tcp_pingpong_thresh`
    /// 1).
    pub fn on_data_sent(&mut self, now: Instant) {
        if now.saturating_since(self.lrcvtime) < self.ato {
            self.pingpong = true;
        }
    }
}
