//! Endpoint settings. Everything the endpoint would otherwise read from the
//! outside world (ISS, MSL, timer bounds, the Linux options) arrives here or
//! as a call argument, so the endpoint stays a pure function of its inputs.

use crate::time::Duration;

/// Congestion control algorithm (RFC 5681 + RFC 6582 NewReno, CUBIC, or
/// none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum CongestionControl {
    /// The sender is limited by SND.WND only (RFC 9293 without §3.8.2).
    None,
    /// Slow start, congestion avoidance, fast retransmit and NewReno fast
    /// recovery (RFC 5681, RFC 6582).
    #[default]
    NewReno,
    /// CUBIC (RFC 9438) as the window controller, with the same loss
    /// recovery (NewReno, or RFC 6675 with SACK); HyStart when `hystart`.
    Cubic,
}

impl CongestionControl {
    /// The name in the run header and `--set` (`none`, `newreno`, `cubic`).
    pub const fn name(self) -> &'static str {
        match self {
            CongestionControl::None => "none",
            CongestionControl::NewReno => "newreno",
            CongestionControl::Cubic => "cubic",
        }
    }
}

/// The set of defaults a configuration starts from (`profile`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// RFC 9293 and RFC 6298 defaults: the project's behaviour
    /// specification, §3.
    #[default]
    Rfc,
    /// The defaults of Linux 6.18 ([`TcpConfig::linux`]).
    Linux,
}

impl Profile {
    /// The name in the file, `--set` and the run header (`rfc`, `linux`).
    pub const fn name(self) -> &'static str {
        match self {
            Profile::Rfc => "rfc",
            Profile::Linux => "linux",
        }
    }
}

/// Settings shared by every endpoint that uses them. Defaults follow the
/// project's behaviour specification, §3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpConfig {
    /// RFC 6298 (2.1): the RTO before any RTT sample.
    pub rto_initial: Duration,
    /// RFC 6298 (2.4): lower bound of the RTO.
    pub rto_min: Duration,
    /// RFC 6298 (2.5): upper bound of the RTO, at least 60 s.
    pub rto_max: Duration,
    /// Maximum segment lifetime (RFC 9293 §3.4.2); TIME_WAIT lasts 2×MSL.
    pub msl: Duration,
    /// An explicit TIME_WAIT length, overriding 2×MSL (needs consent when
    /// shorter; validated by the scenario loader).
    pub time_wait: Option<Duration>,
    /// RFC 9293 §3.8.3 R1, in retransmissions: warn the application.
    pub r1: u32,
    /// RFC 9293 §3.8.3 R2 for data and FIN; `None` retransmits forever.
    pub r2: Option<u32>,
    /// R2 for SYN and SYN,ACK.
    pub r2_syn: Option<u32>,
    /// RFC 9293 §3.10.8 USER TIMEOUT; off when `None`.
    pub user_timeout: Option<Duration>,
    /// The MSS we advertise and the largest segment we send.
    pub mss: u16,
    /// Receive buffer in bytes; RCV.WND = this − unread bytes (≤ 65535
    /// without window scaling, ≤ 1 GiB with it: RFC 7323 §2.3).
    pub recv_buffer: u32,
    /// RFC 7323 §2: the Window Scale shift we offer (0..=14); off when
    /// `None`. Used only when the peer offers one too.
    pub window_scale: Option<u8>,
    /// RFC 7323 §3: offer the Timestamps option.
    pub timestamps: bool,
    /// RFC 7323 §5.4: the period of the timestamp clock (at least 1 ms).
    pub ts_tick: Duration,
    /// The timestamp clock's value at time zero; `None` lets whoever
    /// builds the endpoint draw it (the world draws it from the seed, as
    /// it does the ISS).
    pub ts_start: Option<u32>,
    /// RFC 2018 §2: offer SACK-permitted; SACK (the receiver's blocks and
    /// RFC 6675 recovery) is used only when the peer offers it too.
    pub sack: bool,
    /// RFC 3042 limited transmit: one new segment on each of the first two
    /// duplicate ACKs (and RFC 6675 §5 step (3) with SACK); off by default.
    pub limited_transmit: bool,
    /// B-OPT-01: Linux `tcp_fin_timeout` for orphaned FIN_WAIT_2.
    pub linux_fin_wait_2_timeout: Option<Duration>,
    /// B-OPT-02: TIME_WAIT is 60 s whatever the MSL (Linux `TCP_TIMEWAIT_LEN`).
    pub linux_time_wait: bool,
    /// B-OPT-03: RFC 1337 — ignore RST in TIME_WAIT.
    pub rfc1337: bool,
    /// B-OPT-04..06: RFC 5961 challenge ACKs for RST, SYN and ACK.
    pub rfc5961: bool,
    /// B-OPT-07: delayed ACK (RFC 1122 §4.2.3.2); off when `None`.
    pub delayed_ack: Option<Duration>,
    /// The congestion control algorithm (RFC 9293 §3.8.2 MUST-19).
    pub congestion_control: CongestionControl,
    /// With `Cubic`: end slow start by HyStart (Linux's `tcp_cubic.c`,
    /// B-CC-10, B-CC-11); on by default, as in Linux.
    pub hystart: bool,
    /// The initial window in segments (RFC 6928, B-CC-01); `None` keeps
    /// RFC 5681's formula.
    pub initial_window_segments: Option<u32>,
    /// The profile these settings started from; the run header names it.
    pub profile: Profile,
    /// B-LNX-01: the RTO as Linux's `tcp_rtt_estimator` and
    /// `__tcp_set_rto` compute it: SRTT + max(variance term, `rto_min`),
    /// the floor applied per round trip to the variance term, never a
    /// clamp on the RTO.
    pub linux_rto: bool,
    /// B-LNX-02: Linux `tcp_syn_linear_timeouts`: the first this many SYN
    /// retransmissions keep the initial RTO (no backoff), and SYN_SENT
    /// gives up after `r2_syn` + this many retransmissions.
    pub syn_linear_timeouts: u32,
    /// B-LNX-03: Linux `tcp_synack_retries`: a passive SYN_RECEIVED gives
    /// up after this many SYN,ACK retransmissions; `None` uses `r2_syn`.
    pub synack_retries: Option<u32>,
    /// B-LNX-04: `r2` is Linux's `tcp_retries2`: not a count but a time
    /// budget (`retransmits_timed_out`, [`linux_retries2_budget`](super::linux_retries2_budget)).
    pub linux_retries2: bool,
    /// B-LNX-05, B-LNX-06: delayed ACKs as Linux sends them (quick-ack
    /// mode, the adaptive ATO between `delayed_ack` and 200 ms, a FIN's
    /// ACK delayed); needs `delayed_ack`, the ATO minimum.
    pub linux_delayed_ack: bool,
    /// B-LNX-07: at most one RFC 5961 challenge ACK per this interval per
    /// connection (Linux `tcp_invalid_ratelimit`); `None`: not throttled.
    pub challenge_ack_interval: Option<Duration>,
    /// B-LNX-08, B-LNX-09: the handshake as Linux runs it: the congestion
    /// window starts at one segment after more than one SYN (or SYN,ACK)
    /// retransmission that the peer's answer does not show spurious
    /// (`tcp_init_transfer`), and a passive SYN_RECEIVED answers a
    /// retransmitted SYN with its SYN,ACK (`tcp_check_req`), at most once
    /// per `challenge_ack_interval` (`tcp_invalid_ratelimit`).
    pub linux_handshake: bool,
}

/// Linux `TCP_TIMEWAIT_LEN`.
pub const LINUX_TIME_WAIT: Duration = Duration::from_secs(60);

/// RFC 9293 §3.7.1 (MUST-15): the MSS assumed when the peer sends none.
pub const DEFAULT_PEER_MSS: u16 = 536;

/// RFC 7323 §2.3: the largest receive buffer window scaling can offer
/// (2^30 bytes).
pub const MAX_RECV_BUFFER_SCALED: u32 = 1 << 30;

/// RFC 6298 §2 clock granularity G used in the RTO formula (B-TMR-05).
pub const CLOCK_GRANULARITY: Duration = Duration::from_millis(1);

impl Default for TcpConfig {
    fn default() -> TcpConfig {
        TcpConfig {
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_secs(1),
            rto_max: Duration::from_secs(60),
            msl: Duration::from_secs(120),
            time_wait: None,
            r1: 3,
            r2: Some(8),
            r2_syn: Some(7),
            user_timeout: None,
            mss: 1460,
            recv_buffer: 65535,
            window_scale: None,
            timestamps: false,
            ts_tick: Duration::from_millis(1),
            ts_start: None,
            sack: false,
            limited_transmit: false,
            linux_fin_wait_2_timeout: None,
            linux_time_wait: false,
            rfc1337: false,
            rfc5961: false,
            delayed_ack: None,
            congestion_control: CongestionControl::NewReno,
            hystart: true,
            initial_window_segments: None,
            profile: Profile::Rfc,
            linux_rto: false,
            syn_linear_timeouts: 0,
            synack_retries: None,
            linux_retries2: false,
            linux_delayed_ack: false,
            linux_handshake: false,
            challenge_ack_interval: None,
        }
    }
}

impl TcpConfig {
    /// The length of TIME_WAIT in force (RFC 9293 §3.6.1 MUST-13: 2×MSL).
    pub fn time_wait_len(&self) -> Duration {
        if self.linux_time_wait { LINUX_TIME_WAIT } else { self.time_wait.unwrap_or(self.msl.saturating_mul(2)) }
    }
}
