//! The simulation file format: serde types that mirror the RON text one to
//! one. Nothing here is used at run time; `validate` turns these into the
//! runtime [`crate::model::Model`] and reports every invalid value with its
//! field path. Every struct denies unknown fields, so a typo is an error,
//! never a silently ignored setting.
//!
//! Durations are `*_ms` numbers (fractions allowed, rounded to the
//! nanosecond); probabilities are decimals in [0, 1]. The format is
//! documented field by field in `docs/sim-format.md`.

use serde::Deserialize;

/// A whole simulation file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimFile {
    /// The scenario's name, shown in the run header; not blank.
    pub name: String,
    /// Free text for readers; the simulator does not use it.
    #[serde(default)]
    pub description: Option<String>,
    /// The seed of every random draw; default 0, `--seed N` overrides it.
    #[serde(default)]
    pub seed: u64,
    /// Draw initial sequence numbers from this seed instead of the run's
    /// (replay files pin them so).
    #[serde(default)]
    pub iss_seed: Option<u64>,
    /// Consent to the `tcp` settings that break an RFC rule: they run and the
    /// header lists each one, instead of being validation errors. Default
    /// false.
    #[serde(default)]
    pub allow_rfc_violations: bool,
    /// TCP settings for every endpoint; default all RFC defaults.
    #[serde(default)]
    pub tcp: TcpSpec,
    /// The hosts and host groups; required, not empty.
    pub hosts: Vec<HostSpec>,
    /// Point-to-point links between hosts (no routing); default none.
    #[serde(default)]
    pub links: Vec<LinkSpec>,
    /// Listening ports; default none.
    #[serde(default)]
    pub listeners: Vec<ListenerSpec>,
    /// Actively opened connections; default none.
    #[serde(default)]
    pub connections: Vec<ConnectionSpec>,
    /// Scripted faults, on top of the link model; default none.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// Bounds on the run; default all limits at their defaults.
    #[serde(default)]
    pub limits: LimitsSpec,
    /// What the run must show; absent, the file always passes.
    #[serde(default)]
    pub expect: Option<ExpectSpec>,
}

/// TCP settings; every field is optional so per-endpoint `tcp` blocks
/// override only what they name.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpSpec {
    /// Maximum segment lifetime in ms, above 0; default 120000 (2 min).
    /// TIME_WAIT lasts 2×MSL (RFC 9293 §3.4.2, MUST-13).
    pub msl_ms: Option<f64>,
    /// An explicit TIME_WAIT length in ms, above 0; default 2×MSL. Shorter than
    /// 2×MSL needs consent (MUST-13).
    pub time_wait_ms: Option<f64>,
    /// The RTO before the first RTT sample, in ms, above 0 and at most
    /// `rto_max_ms`; default 1000 (RFC 6298 (2.1)).
    pub rto_initial_ms: Option<f64>,
    /// The lower bound of the RTO in ms, above 0; default 1000 (RFC 6298
    /// (2.4)). Below 1 s is listed as a deviation.
    pub rto_min_ms: Option<f64>,
    /// The upper bound of the RTO and of its backoff in ms, at least
    /// `rto_min_ms`; default 60000 (RFC 6298 (2.5)). Below 60 s needs consent.
    pub rto_max_ms: Option<f64>,
    /// Retransmissions of one segment after which the application is warned
    /// (RFC 9293 §3.8.3 R1); default 3.
    pub r1: Option<u32>,
    /// Retransmissions of data or FIN before giving up with `RETRANSMIT_LIMIT`
    /// (RFC 9293 §3.8.3 R2); default 8.
    pub r2: Option<RetryLimit>,
    /// Retransmissions of SYN and SYN,ACK before giving up (RFC 9293 MUST-23);
    /// default 7, which gives up after 183 s. Lower values are listed as a
    /// deviation.
    pub r2_syn: Option<RetryLimit>,
    /// USER TIMEOUT in ms, above 0 (RFC 9293 §3.10.8): give up with
    /// `USER_TIMEOUT` when data or FIN stays unacknowledged this long. Absent,
    /// off.
    pub user_timeout_ms: Option<f64>,
    /// The MSS advertised and the largest segment sent, in bytes, 1..=65495;
    /// default 1460 (RFC 9293 §3.7.1).
    pub mss_bytes: Option<u32>,
    /// The receive buffer in bytes, 1..=65535 (no window scaling); RCV.WND is
    /// the buffer minus unread bytes. Default 65535.
    pub recv_buffer_bytes: Option<u32>,
    /// B-OPT-01, Linux `tcp_fin_timeout`, in ms, above 0: an orphaned
    /// FIN_WAIT_2 closes with `FIN_WAIT_2_TIMEOUT` after max(value, 3.5×RTO).
    /// Absent, off; set, a listed deviation.
    pub linux_fin_wait_2_timeout_ms: Option<f64>,
    /// B-OPT-02: TIME_WAIT lasts 60 s whatever `msl_ms` is, as Linux's
    /// `TCP_TIMEWAIT_LEN`. Default false; true is a listed deviation.
    pub linux_time_wait: Option<bool>,
    /// B-OPT-03: TIME_WAIT ignores RST (RFC 1337). Default false; true is a
    /// listed deviation.
    pub rfc1337: Option<bool>,
    /// B-OPT-04..06: challenge ACKs for RST, SYN and old ACKs, not throttled
    /// (RFC 5961). Default false; true is a listed deviation.
    pub rfc5961: Option<bool>,
    /// B-OPT-07 delayed ACK in ms, above 0 (RFC 1122 §4.2.3.2): the ACK of
    /// in-order data waits this long unless 2×MSS await it or a segment carries
    /// it first. Absent, off; set, a listed deviation, and 500 ms or more needs
    /// consent.
    pub delayed_ack_ms: Option<f64>,
    /// The sender's congestion control; default `newreno`.
    pub congestion_control: Option<CongestionControlName>,
    /// RFC 7323 §2: the Window Scale shift to offer, 0..=14.
    pub window_scale: Option<u32>,
    /// RFC 7323 §3: offer the Timestamps option.
    pub timestamps: Option<bool>,
    /// The timestamp clock's tick, whole milliseconds >= 1.
    pub ts_tick_ms: Option<f64>,
    /// The timestamp clock's value at time zero; drawn from the seed when
    /// absent.
    pub ts_start: Option<u32>,
    /// RFC 2018 §2: offer SACK-permitted; SACK and RFC 6675 loss recovery
    /// are used when both SYNs carry it.
    pub sack: Option<bool>,
    /// RFC 3042 limited transmit (and RFC 6675 §5 step (3) with SACK).
    pub limited_transmit: Option<bool>,
    /// With `congestion_control: cubic`, HyStart ends slow start (Linux's
    /// `tcp_cubic.c`); default true.
    pub hystart: Option<bool>,
    /// The initial window in segments (RFC 6928), 1..=100; more than 10
    /// is a consent deviation. Absent, RFC 5681's formula.
    pub initial_window_segments: Option<u32>,
    /// The defaults every other field overrides: `rfc` (RFC 9293 and RFC
    /// 6298, the default) or `linux` (Linux 6.18's, `docs/linux.md`). In a
    /// listener's or connection's `tcp` block it changes that endpoint's
    /// defaults, and the file's `tcp` block's other fields still apply.
    pub profile: Option<ProfileName>,
    /// B-LNX-01: the RTO as Linux computes it (SRTT + max(variance term,
    /// `rto_min_ms`)). Default false; `linux` true.
    pub linux_rto: Option<bool>,
    /// B-LNX-02: Linux `tcp_syn_linear_timeouts`: SYN retransmissions
    /// without backoff, added to `r2_syn` for an active open. Default 0;
    /// `linux` 4.
    pub syn_linear_timeouts: Option<u32>,
    /// B-LNX-03: Linux `tcp_synack_retries`: SYN,ACK retransmissions of a
    /// passive open before it gives up. Default `r2_syn`; `linux` 5.
    pub synack_retries: Option<u32>,
    /// B-LNX-04: `r2` is Linux's `tcp_retries2`, a time budget. Default
    /// false; `linux` true.
    pub linux_retries2: Option<bool>,
    /// B-LNX-05, B-LNX-06: delayed ACKs as Linux sends them (quick-ack
    /// mode, adaptive ATO, a FIN's ACK delayed); needs `delayed_ack_ms`,
    /// the ATO minimum. Default false; `linux` true.
    pub linux_delayed_ack: Option<bool>,
    /// B-LNX-07: at most one RFC 5961 challenge ACK per this many ms per
    /// connection (Linux `tcp_invalid_ratelimit`), above 0. Absent, not
    /// throttled; `linux` 500.
    pub challenge_ack_interval_ms: Option<f64>,
    /// B-LNX-08, B-LNX-09: the handshake as Linux runs it (cwnd 1 after
    /// more than one SYN or SYN,ACK retransmission; a retransmitted SYN in
    /// SYN_RECEIVED answered with the SYN,ACK). Default false; `linux`
    /// true.
    pub linux_handshake: Option<bool>,
}

/// The `profile` setting's values.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProfileName {
    /// `rfc`: RFC 9293 and RFC 6298 defaults, every Linux option off.
    Rfc,
    /// `linux`: the defaults of Linux 6.18.
    Linux,
}

/// A retransmission limit: a count, or `"infinite"` (RFC 9293 §3.8.3
/// lets R2 be infinite).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryLimit {
    /// Give up after this many retransmissions.
    Count(u32),
    /// Never give up (`"infinite"`).
    Infinite,
}

impl<'de> Deserialize<'de> for RetryLimit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RetryLimit;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a retransmission count or \"infinite\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RetryLimit, E> {
                u32::try_from(v)
                    .map(RetryLimit::Count)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RetryLimit, E> {
                Err(E::invalid_value(serde::de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RetryLimit, E> {
                if v == "infinite" {
                    Ok(RetryLimit::Infinite)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The `congestion_control` setting's values.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CongestionControlName {
    /// `none`: the sender is limited by SND.WND only; a listed deviation.
    None,
    /// `newreno`: slow start, congestion avoidance, fast retransmit and NewReno
    /// fast recovery (RFC 5681, RFC 6582).
    Newreno,
    /// `cubic`: CUBIC's window (RFC 9438) with the same loss recovery, and
    /// HyStart unless `hystart: false`.
    Cubic,
}

/// A host, or a group of hosts with consecutive addresses.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// The host's name: unique, not blank, without `#`. A group's members are
    /// named `NAME#0`, `NAME#1`, ...
    pub name: String,
    /// Dotted IPv4; by default hosts get 10.0.0.1, 10.0.0.2, ... in order.
    #[serde(default)]
    pub addr: Option<String>,
    /// A group of `count` hosts with consecutive addresses, named
    /// `NAME#0`, `NAME#1`, ...; connections from the group are spread over
    /// its members (more ephemeral ports), links to it exist per member.
    #[serde(default = "default_count")]
    pub count: u32,
}

/// A link between two hosts: settings apply to both directions unless
/// `a_to_b` / `b_to_a` override them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// The two hosts, `a` and `b` in that order (at most one a group);
    /// required.
    pub between: (String, String),
    /// One-way propagation delay in ms, at least 0; default 10.
    pub delay_ms: Option<f64>,
    /// How much the delay varies per segment, in ms (the width of the uniform
    /// draw, or the standard deviation of the other distributions); default 0.
    pub jitter_ms: Option<f64>,
    /// How the delay varies around `delay_ms`; default `uniform`, irrelevant
    /// while `jitter_ms` is 0.
    pub distribution: Option<DelayDistributionName>,
    /// Serialization rate in bits per second, above 0; absent, the link is
    /// infinitely fast. Segments wait their turn in one FIFO per direction.
    pub rate_bps: Option<u64>,
    /// FIFO capacity in bytes, at least 44, with `rate_bps` only; absent,
    /// unbounded. A segment that does not fit is tail-dropped (reason `queue`).
    pub queue_bytes: Option<u64>,
    /// Probability in [0, 1] of Bernoulli loss per segment (reason `loss`);
    /// default 0.
    pub loss: Option<f64>,
    /// Gilbert-Elliott burst loss (reason `burst`); absent, none. An override
    /// replaces the whole block.
    pub burst: Option<BurstSpec>,
    /// Probability in [0, 1] that a segment is held back by `reorder_delay_ms`,
    /// so later ones overtake it; default 0.
    pub reorder: Option<f64>,
    /// How long a reordered segment is held back, in ms; must be above 0 when
    /// `reorder` is.
    pub reorder_delay_ms: Option<f64>,
    /// Probability in [0, 1] of a second copy, with its own jitter draw and no
    /// reorder delay; default 0.
    pub duplicate: Option<f64>,
    /// Probability in [0, 1] that the segment arrives damaged and is discarded
    /// (reason `corrupt`, on arrival); default 0. A duplicate copy is never
    /// corrupt.
    pub corrupt: Option<f64>,
    /// Maximum time in transit in ms (queueing included), above 0: a segment
    /// that would take longer is dropped as `expired`. Absent, no limit.
    pub lifetime_ms: Option<f64>,
    /// Overrides for the direction from the first host named in `between` to
    /// the second.
    #[serde(default)]
    pub a_to_b: Option<LinkDirSpec>,
    /// Overrides for the direction from the second host named in `between` to
    /// the first.
    #[serde(default)]
    pub b_to_a: Option<LinkDirSpec>,
}

impl LinkSpec {
    /// The settings shared by both directions.
    pub fn both(&self) -> LinkDirSpec {
        LinkDirSpec {
            delay_ms: self.delay_ms,
            jitter_ms: self.jitter_ms,
            distribution: self.distribution,
            rate_bps: self.rate_bps,
            queue_bytes: self.queue_bytes,
            loss: self.loss,
            burst: self.burst,
            reorder: self.reorder,
            reorder_delay_ms: self.reorder_delay_ms,
            duplicate: self.duplicate,
            corrupt: self.corrupt,
            lifetime_ms: self.lifetime_ms,
        }
    }
}

/// The settings of one direction of a link (`a_to_b`, `b_to_a`): each field set
/// replaces the link's shared value for that direction only.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkDirSpec {
    /// One-way propagation delay in ms, at least 0; default 10.
    pub delay_ms: Option<f64>,
    /// How much the delay varies per segment, in ms (the width of the uniform
    /// draw, or the standard deviation of the other distributions); default 0.
    pub jitter_ms: Option<f64>,
    /// How the delay varies around `delay_ms`; default `uniform`, irrelevant
    /// while `jitter_ms` is 0.
    pub distribution: Option<DelayDistributionName>,
    /// Serialization rate in bits per second, above 0; absent, the link is
    /// infinitely fast. Segments wait their turn in one FIFO per direction.
    pub rate_bps: Option<u64>,
    /// FIFO capacity in bytes, at least 44, with `rate_bps` only; absent,
    /// unbounded. A segment that does not fit is tail-dropped (reason `queue`).
    pub queue_bytes: Option<u64>,
    /// Probability in [0, 1] of Bernoulli loss per segment (reason `loss`);
    /// default 0.
    pub loss: Option<f64>,
    /// Gilbert-Elliott burst loss (reason `burst`); absent, none. An override
    /// replaces the whole block.
    pub burst: Option<BurstSpec>,
    /// Probability in [0, 1] that a segment is held back by `reorder_delay_ms`,
    /// so later ones overtake it; default 0.
    pub reorder: Option<f64>,
    /// How long a reordered segment is held back, in ms; must be above 0 when
    /// `reorder` is.
    pub reorder_delay_ms: Option<f64>,
    /// Probability in [0, 1] of a second copy, with its own jitter draw and no
    /// reorder delay; default 0.
    pub duplicate: Option<f64>,
    /// Probability in [0, 1] that the segment arrives damaged and is discarded
    /// (reason `corrupt`, on arrival); default 0. A duplicate copy is never
    /// corrupt.
    pub corrupt: Option<f64>,
    /// Maximum time in transit in ms (queueing included), above 0: a segment
    /// that would take longer is dropped as `expired`. Absent, no limit.
    pub lifetime_ms: Option<f64>,
}

/// How link delay varies (see `link::DelayDistribution`).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DelayDistributionName {
    /// `uniform`: `delay_ms` plus a uniform draw in [0, `jitter_ms`].
    Uniform,
    /// `normal`: mean `delay_ms`, standard deviation `jitter_ms`.
    Normal,
    /// `pareto`: mean `delay_ms`, standard deviation `jitter_ms`, a Pareto
    /// variable of shape 3 (a long right tail).
    Pareto,
    /// `paretonormal`: `delay_ms` plus `jitter_ms` × (¼ of a standard normal +
    /// ¾ of a standard Pareto), as netem's table.
    Paretonormal,
}

/// Gilbert-Elliott burst loss.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurstSpec {
    /// Per segment, the probability of switching from the good state to the bad
    /// one; required.
    pub enter_bad: f64,
    /// Per segment, the probability of switching from the bad state to the good
    /// one (mean burst length 1/`leave_bad`); required.
    pub leave_bad: f64,
    /// The loss probability in the bad state; default 1.
    #[serde(default = "one")]
    pub loss_bad: f64,
    /// The loss probability in the good state; default 0.
    #[serde(default)]
    pub loss_good: f64,
}

fn one() -> f64 {
    1.0
}

fn default_backlog() -> u32 {
    1
}

fn default_count() -> u32 {
    1
}

/// A TCP port as written. Zero is read, so that validation names it with
/// the field's other checks; anything else outside 1..=65535 is an error
/// here, which states the range a port may take (the type's range would
/// say 0). Read through `deserialize_any` so that a literal beyond the
/// 64-bit range (which RON reads as a float) gets the same message; the
/// caller adds the token as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Port(pub u16);

/// What a port out of range is told, without the token: the parse-error
/// reporter appends ``; found `TOKEN` `` from the file's text.
const PORT_RANGE: &str = "an integer in 1..=65535";

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Port;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(PORT_RANGE)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Port, E> {
                u16::try_from(v).map(Port).map_err(|_| E::custom(PORT_RANGE))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Port, E> {
                u16::try_from(v).map(Port).map_err(|_| E::custom(PORT_RANGE))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Port, E> {
                Err(E::custom(PORT_RANGE))
            }
            // Worded as other fields word a string where an integer belongs.
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Port, E> {
                Err(E::custom("expected an integer"))
            }
        }
        d.deserialize_any(V)
    }
}

/// A listening port. The listening endpoint itself takes a SYN; a fresh
/// one replaces it until `backlog` connections have been accepted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerSpec {
    /// The endpoint name of every endpoint of this listener; unique among
    /// endpoint names.
    pub name: String,
    /// The host it listens on; a single host, not a group.
    pub host: String,
    /// The port, 1..=65535; one listener per host and port.
    pub port: Port,
    /// Connections accepted over the whole run (not a queue length), 1..=10 000
    /// 000; default 1.
    #[serde(default = "default_backlog")]
    pub backlog: u32,
    /// When the first listening endpoint opens, in ms; default 0.
    #[serde(default)]
    pub listen_at_ms: f64,
    /// When, after `listen_at_ms`, idle listening endpoints close
    /// (`USER_CLOSE`) and no new ones open, in ms; accepted connections go on.
    /// Absent, never.
    #[serde(default)]
    pub close_at_ms: Option<f64>,
    /// The initial sequence number; absent, it is drawn from the seed (or
    /// `iss_seed`). Every endpoint of the listener shares it.
    #[serde(default)]
    pub iss: Option<u32>,
    /// Per-endpoint TCP overrides on top of the file's `tcp` block; only the
    /// fields named replace the file's.
    #[serde(default)]
    pub tcp: TcpSpec,
    /// Timed actions of each accepted connection, from its establishment.
    #[serde(default)]
    pub script: Vec<ActionSpec>,
    /// Reactions run, in list order and in the same step, when the endpoint
    /// reaches ESTABLISHED (the CONNECTED event). For each accepted connection.
    #[serde(default)]
    pub on_connected: Vec<ReactionSpec>,
    /// Reactions run, in list order and in the same step, when the application
    /// reads the peer's FIN (PEER_CLOSED; while reading is paused, at
    /// `ResumeRead`). For each accepted connection.
    #[serde(default)]
    pub on_end_of_stream: Vec<ReactionSpec>,
}

/// One connection (or `count` alike), opened actively from `host`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSpec {
    /// The endpoint name, unique among endpoint names; the `count` connections
    /// of one entry share it and are told apart by connection number.
    pub name: String,
    /// The client's host, or a host group (connection k of the entry runs on
    /// member k mod the group's `count`).
    pub host: String,
    /// A fixed local port, 1..=65535, only with `count: 1`; absent, `Connect`
    /// takes the host's next free ephemeral port (49152..=65535).
    #[serde(default)]
    pub local_port: Option<Port>,
    /// The server's host: a single host other than `host`, linked to it.
    pub remote_host: String,
    /// The server's port, 1..=65535.
    pub remote_port: Port,
    /// How many identical connections this entry opens, at least 1; default 1.
    #[serde(default = "default_count")]
    pub count: u32,
    /// Connection `i` of `count` starts `i * open_spread_ms / count` late.
    #[serde(default)]
    pub open_spread_ms: f64,
    /// The initial sequence number; absent, it is drawn from the seed (or
    /// `iss_seed`). All `count` connections share it.
    #[serde(default)]
    pub iss: Option<u32>,
    /// Per-endpoint TCP overrides on top of the file's `tcp` block; only the
    /// fields named replace the file's.
    #[serde(default)]
    pub tcp: TcpSpec,
    /// Timed application calls, sorted by time (equal times keep file order).
    /// Absolute times for connection 0.
    #[serde(default)]
    pub script: Vec<ActionSpec>,
    /// Reactions run, in list order and in the same step, when the endpoint
    /// reaches ESTABLISHED (the CONNECTED event).
    #[serde(default)]
    pub on_connected: Vec<ReactionSpec>,
    /// Reactions run, in list order and in the same step, when the application
    /// reads the peer's FIN (PEER_CLOSED; while reading is paused, at
    /// `ResumeRead`).
    #[serde(default)]
    pub on_end_of_stream: Vec<ReactionSpec>,
    /// An explicit endpoint at the remote address instead of a listener
    /// (simultaneous open, or a one-off listen).
    #[serde(default)]
    pub peer: Option<PeerSpec>,
}

/// An explicit endpoint at a connection's remote address, created at time 0 and
/// bound to that one connection; it acts only through its own script.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSpec {
    /// The peer endpoint's name: unlike the connection's own, and unique among
    /// endpoint names.
    pub name: String,
    /// The initial sequence number; absent, it is drawn from the seed (or
    /// `iss_seed`).
    #[serde(default)]
    pub iss: Option<u32>,
    /// Per-endpoint TCP overrides on top of the file's `tcp` block; only the
    /// fields named replace the file's.
    #[serde(default)]
    pub tcp: TcpSpec,
    /// Timed application calls, sorted by time (equal times keep file order).
    /// Absolute times; a `Connect` makes a simultaneous open, a `Listen` a
    /// passive open for this connection only.
    #[serde(default)]
    pub script: Vec<ActionSpec>,
    /// Reactions run, in list order and in the same step, when the endpoint
    /// reaches ESTABLISHED (the CONNECTED event).
    #[serde(default)]
    pub on_connected: Vec<ReactionSpec>,
    /// Reactions run, in list order and in the same step, when the application
    /// reads the peer's FIN (PEER_CLOSED; while reading is paused, at
    /// `ResumeRead`).
    #[serde(default)]
    pub on_end_of_stream: Vec<ReactionSpec>,
}

/// A timed application call.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ActionSpec {
    /// Passive OPEN at `at_ms` (for a `peer`).
    Listen {
        /// When the call is made, in ms (at least 0).
        at_ms: f64,
    },
    /// Active OPEN at `at_ms`: binds the local port and sends SYN.
    Connect {
        /// When the call is made, in ms (at least 0).
        at_ms: f64,
    },
    /// SEND at `at_ms`: queues `bytes` bytes, 1..=2^40.
    Send {
        /// When the call is made, in ms (at least 0).
        at_ms: f64,
        /// How many bytes to queue, 1..=2^40.
        bytes: u64,
    },
    /// CLOSE at `at_ms`: a FIN after the queued bytes.
    Close {
        /// When the call is made, in ms (at least 0).
        at_ms: f64,
    },
    /// ABORT at `at_ms`: a RST where the state calls for it; CLOSED with
    /// `ABORTED`.
    Abort {
        /// When the call is made, in ms (at least 0).
        at_ms: f64,
    },
    /// At `at_ms` the application stops reading; unread bytes shrink RCV.WND.
    PauseRead {
        /// When the call is made, in ms (at least 0).
        at_ms: f64,
    },
    /// At `at_ms` the application reads everything held, and reading goes on.
    ResumeRead {
        /// When the call is made, in ms (at least 0).
        at_ms: f64,
    },
}

/// An application reaction, run in the same step as the event.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ReactionSpec {
    /// SEND: queues `bytes` bytes.
    Send {
        /// How many bytes to queue, 1..=2^40.
        bytes: u64,
    },
    /// CLOSE: a FIN after the queued bytes.
    Close,
    /// ABORT: a RST where the state calls for it.
    Abort,
    /// The application stops reading.
    PauseRead,
    /// The application reads everything held, and reading goes on.
    ResumeRead,
}

/// Scripted faults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FaultSpec {
    /// Drop the `nth` (1-based) segment matching, and the `times - 1`
    /// matching ones after it.
    Drop {
        /// Which segments this fault counts (absent fields match anything).
        matching: MatchSpec,
        /// The first matching segment acted on, 1-based; default 1.
        #[serde(default = "one_u32")]
        nth: u32,
        /// How many consecutive matching segments, from the `nth`, are acted on
        /// (at least 1); default 1.
        #[serde(default = "one_u32")]
        times: u32,
    },
    /// Delay the `nth` matching segment, and the `times - 1` matching ones
    /// after it, by `by_ms` on top of the link's arrival time.
    Delay {
        /// Which segments this fault counts (absent fields match anything).
        matching: MatchSpec,
        /// The first matching segment acted on, 1-based; default 1.
        #[serde(default = "one_u32")]
        nth: u32,
        /// How many consecutive matching segments, from the `nth`, are acted on
        /// (at least 1); default 1.
        #[serde(default = "one_u32")]
        times: u32,
        /// The extra delay in ms, above 0, added to the link's arrival time
        /// (and to a link duplicate's).
        by_ms: f64,
    },
    /// A second copy of the `nth` matching segment, and of the `times - 1`
    /// matching ones after it, arrives `after_ms` after the original.
    Duplicate {
        /// Which segments this fault counts (absent fields match anything).
        matching: MatchSpec,
        /// The first matching segment acted on, 1-based; default 1.
        #[serde(default = "one_u32")]
        nth: u32,
        /// How many consecutive matching segments, from the `nth`, are acted on
        /// (at least 1); default 1.
        #[serde(default = "one_u32")]
        times: u32,
        /// How long after the original's arrival the copy arrives, in ms;
        /// default 0.
        #[serde(default)]
        after_ms: f64,
    },
    /// A crafted segment from an endpoint to its peer; `seq` counts from
    /// the sender's ISS, `ack` from the receiver's.
    Inject {
        /// When it is sent, in ms.
        at_ms: f64,
        /// The sending endpoint's name (not a host).
        from: String,
        /// The sending endpoint's connection number; default 0.
        #[serde(default)]
        conn: u32,
        /// The control bits, as a flags string such as `"RST"` or `"FIN|ACK"`.
        flags: String,
        /// The sequence number relative to the sender's ISS: 0 is the ISS
        /// (where its SYN sits), 1 the first data byte; added modulo 2^32,
        /// so at most 4294967295 either way. Default 0.
        #[serde(default)]
        seq: i64,
        /// The acknowledgment number relative to the receiver's ISS (1
        /// acknowledges its SYN); sent only when `flags` has ACK. Default 0.
        #[serde(default)]
        ack: i64,
        /// The payload length in bytes (the sender's own stream at that
        /// offset), at most what one IPv4 packet holds beside the headers;
        /// default 0.
        #[serde(default)]
        len: u32,
        /// The window field; default 65535.
        #[serde(default = "max_wnd")]
        wnd: u16,
        /// A Timestamps option with this TSval (the clock's raw value);
        /// TSecr is what the sender would echo.
        #[serde(default)]
        tsval: Option<u32>,
    },
    /// Nothing passes between the two hosts in `[from_ms, to_ms)`.
    Partition {
        /// The two hosts (group members by member name).
        between: (String, String),
        /// The start, in ms, inclusive.
        from_ms: f64,
        /// The end, in ms, exclusive; after `from_ms`.
        to_ms: f64,
    },
    /// The host stops at `at_ms`: its connections vanish without sending
    /// anything, segments to it are lost. At `restart_at_ms` it comes back
    /// with no connections, and its listeners listen again.
    Crash {
        /// The host that crashes (a group member by member name).
        host: String,
        /// When it crashes, in ms.
        at_ms: f64,
        /// When it restarts, in ms, after `at_ms`; absent, it stays down to the
        /// end.
        #[serde(default)]
        restart_at_ms: Option<f64>,
    },
    /// What the link does to the `nth` segment `from` sends on `conn`,
    /// decided here instead of drawn: lost, or delivered after `delay_ms`
    /// of propagation (instead of the link's), with a second copy after
    /// `copy_ms`, or damaged. Written by `tcpsim run --emit-faults` and
    /// `tcpsim shrink`.
    Fate {
        /// The sending endpoint's name, or a host's name for its resets.
        from: String,
        /// The connection number; default 0.
        #[serde(default)]
        conn: u32,
        /// Which segment, at least 1: the `nth` that `from` sends on `conn`,
        /// counting every one it sends there (retransmissions, resets, injected
        /// and later-lost segments included).
        nth: u32,
        /// Lose the segment on the link with this trace reason; absent, it is
        /// delivered.
        #[serde(default)]
        drop: Option<FateDropName>,
        /// The propagation delay in ms, at least 0, after the queue, instead of
        /// the link's (no jitter, no reorder delay); absent, the link's
        /// `delay_ms`.
        #[serde(default)]
        delay_ms: Option<f64>,
        /// A second copy arrives this long (ms, at least 0) after the segment
        /// left the queue; absent, no copy.
        #[serde(default)]
        copy_ms: Option<f64>,
        /// The segment arrives damaged and is discarded (reason `corrupt`);
        /// default false.
        #[serde(default)]
        corrupt: bool,
    },
}

/// Why a `Fate` loses its segment (the trace's drop reason).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FateDropName {
    /// `loss`: as a Bernoulli loss.
    Loss,
    /// `burst`: as a Gilbert-Elliott burst loss.
    Burst,
    /// `expired`: as a segment past the link's lifetime.
    Expired,
}

fn one_u32() -> u32 {
    1
}

fn max_wnd() -> u16 {
    65535
}

/// Which segments a fault applies to; absent fields match anything.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// The sender is this endpoint, or this host (for a host's resets; a group
    /// member by member name).
    pub from: Option<String>,
    /// The segment belongs to this connection number.
    pub conn: Option<u32>,
    /// Exact flag set, e.g. `"FIN|ACK"`.
    pub flags: Option<String>,
    /// `true`: the segment carries payload; `false`: it does not.
    pub data: Option<bool>,
    /// The sender's state when it sent the segment.
    pub state: Option<StateName>,
    /// The segment is (or, `false`, is not) a retransmission.
    pub retransmit: Option<bool>,
}

/// Bounds on one run. A run stopped by one ends incomplete with the limit's
/// outcome (exit code 3).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// Stop after this many events, at least 1 (outcome `event_limit`); default
    /// 100 000 000, `--max-events` overrides it.
    pub max_events: Option<u64>,
    /// Stop when the next event lies beyond this virtual time in ms (outcome
    /// `time_limit`); default 86 400 000 (24 h), `--max-time-ms` overrides it.
    pub max_time_ms: Option<f64>,
    /// The most connections the file may describe (the sum of `count`), 1..=10
    /// 000 000; more is a validation error. Default 2 000 000.
    pub max_connections: Option<u64>,
    /// Stop when more segments than this, at least 1, are in flight on links at
    /// once (outcome `in_flight_limit`); default 10 000 000.
    pub max_in_flight: Option<u64>,
    /// Stop once the run has produced this many trace records, at least 1,
    /// printed or not (outcome `trace_limit`); default 10 000 000 000.
    pub max_trace_records: Option<u64>,
}

/// State names as written in files and traces.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum StateName {
    /// `CLOSED` (RFC 9293 §3.3.2).
    CLOSED,
    /// `LISTEN` (RFC 9293 §3.3.2).
    LISTEN,
    /// `SYN_SENT` (RFC 9293 §3.3.2).
    SYN_SENT,
    /// `SYN_RECEIVED` (RFC 9293 §3.3.2).
    SYN_RECEIVED,
    /// `ESTABLISHED` (RFC 9293 §3.3.2).
    ESTABLISHED,
    /// `FIN_WAIT_1` (RFC 9293 §3.3.2).
    FIN_WAIT_1,
    /// `FIN_WAIT_2` (RFC 9293 §3.3.2).
    FIN_WAIT_2,
    /// `CLOSE_WAIT` (RFC 9293 §3.3.2).
    CLOSE_WAIT,
    /// `CLOSING` (RFC 9293 §3.3.2).
    CLOSING,
    /// `LAST_ACK` (RFC 9293 §3.3.2).
    LAST_ACK,
    /// `TIME_WAIT` (RFC 9293 §3.3.2).
    TIME_WAIT,
}

/// Close reasons as written in files and traces: why an endpoint reached
/// CLOSED.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum ReasonName {
    /// Closed the normal way: both FINs exchanged and acknowledged (LAST_ACK
    /// acknowledged, or TIME_WAIT ran out).
    NORMAL,
    /// A reset closed the connection after it was synchronized.
    RESET,
    /// A reset answered the endpoint's active open (connection refused).
    REFUSED,
    /// The application called ABORT.
    ABORTED,
    /// The application's CLOSE ended it directly (a listening or SYN_SENT
    /// endpoint, or a pending CLOSE applied on the way back to LISTEN).
    USER_CLOSE,
    /// Retransmissions reached R2 (or R2 for SYN).
    RETRANSMIT_LIMIT,
    /// Data or FIN stayed unacknowledged longer than the user timeout.
    USER_TIMEOUT,
    /// The Linux FIN_WAIT_2 timeout (B-OPT-01) closed an orphaned FIN_WAIT_2.
    FIN_WAIT_2_TIMEOUT,
    /// A SYN arrived in the window of a synchronized connection (RFC 9293
    /// §3.10.7.4).
    SYN_IN_WINDOW,
}

/// A count in an expectation: an integer (exactly), or a string such as
/// `">= 1"`, `"<= 3"` or `"2..=5"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountSpec {
    /// An integer: exactly this many.
    Exactly(u64),
    /// A string: `">= N"`, `"<= N"`, `"A..=B"` (inclusive) or a plain number;
    /// validation parses it.
    Text(String),
}

impl<'de> Deserialize<'de> for CountSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = CountSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a count: an integer, or a string like \">= 1\", \"<= 3\" or \"2..=5\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<CountSpec, E> {
                Ok(CountSpec::Exactly(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<CountSpec, E> {
                Err(E::invalid_value(serde::de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<CountSpec, E> {
                Ok(CountSpec::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// What the run must show; `tcpsim run` and `tcpsim test` check it after the
/// run.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// Behaviour IDs such as `"B-CLOSE-06"`, each of which must have fired at
    /// least once in the run.
    #[serde(default)]
    pub proves: Vec<String>,
    /// Checks on single endpoints.
    #[serde(default)]
    pub endpoints: Vec<EndpointExpectSpec>,
    /// Checks on every endpoint of every connection.
    #[serde(default)]
    pub all_connections: Option<AllExpectSpec>,
    /// The total of segments dropped in the run, all reasons.
    #[serde(default)]
    pub drops: Option<CountSpec>,
    /// Endpoints stuck at the end: their application called CLOSE, yet they are
    /// not CLOSED and nothing (a crash, a vanished or never-closing peer)
    /// explains it. Checked only when the run completed.
    #[serde(default)]
    pub stuck: Option<CountSpec>,
}

/// Checks on the endpoint named `name` in connection `conn` (a listener's name
/// means its endpoint that accepted that connection); every field set must
/// hold.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointExpectSpec {
    /// A listener, connection or peer name.
    pub name: String,
    /// The connection number; default 0. A listener's name with its own number
    /// means its idle listening endpoint.
    #[serde(default)]
    pub conn: u32,
    /// The state at the end of the run (for an endpoint whose host crashed, the
    /// state it vanished in).
    #[serde(default)]
    pub final_state: Option<StateName>,
    /// The reason of its CLOSED; fails if it never closed.
    #[serde(default)]
    pub reason: Option<ReasonName>,
    /// Every state entered, in order, starting with `CLOSED` (the state at
    /// creation).
    #[serde(default)]
    pub path: Option<Vec<StateName>>,
    /// States each entered at least once.
    #[serde(default)]
    pub visits: Vec<StateName>,
    /// States never entered.
    #[serde(default)]
    pub never_visits: Vec<StateName>,
    /// Total time in a state over all visits, to the nanosecond.
    #[serde(default)]
    pub time_in: Vec<TimeInSpec>,
    /// The send times of every segment it sent with exactly given flags,
    /// retransmissions included, injected segments not.
    #[serde(default)]
    pub sent: Vec<SentSpec>,
    /// Segments it sent again: on RETRANSMIT expiry, zero-window probes on
    /// PERSIST expiry, by fast retransmit, or going back after an RTO.
    #[serde(default)]
    pub retransmissions: Option<CountSpec>,
    /// Of the retransmissions, those sent by fast retransmit or NewReno
    /// partial ACKs rather than by the RETRANSMIT timer.
    #[serde(default)]
    pub fast_retransmits: Option<CountSpec>,
    /// Segments it emitted, retransmissions and resets included, injected ones
    /// not.
    #[serde(default)]
    pub segments_sent: Option<CountSpec>,
    /// Payload bytes delivered to its application.
    #[serde(default)]
    pub bytes_delivered: Option<CountSpec>,
    /// Delivered bytes that were not its peer's bytes at that offset (from an
    /// old incarnation, say).
    #[serde(default)]
    pub foreign_bytes: Option<CountSpec>,
}

/// Total time spent in `state`, summed over visits.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeInSpec {
    /// The state whose time is summed.
    pub state: StateName,
    /// The total time in it, in ms (a visit still open at the end counts to the
    /// end).
    pub ms: f64,
}

/// The send times of every segment with exactly these flags.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentSpec {
    /// The exact flag set, as a flags string such as `"FIN|ACK"`.
    pub flags: String,
    /// The send times in ms, in order, retransmissions included.
    pub at_ms: Vec<f64>,
    /// Only retransmissions (`true`) or only first transmissions
    /// (`false`); absent, both.
    #[serde(default)]
    pub retransmit: Option<bool>,
}

/// Predicates over every connection (both its endpoints).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllExpectSpec {
    /// Every endpoint ends in this state.
    #[serde(default)]
    pub final_state: Option<StateName>,
    /// `true`: every connection has two endpoints and each delivered every byte
    /// the other queued.
    #[serde(default)]
    pub all_bytes_delivered: Option<bool>,
    /// `true`: no endpoint delivered a foreign byte.
    #[serde(default)]
    pub no_foreign_bytes: Option<bool>,
    /// `true`: every endpoint was ESTABLISHED at some point.
    #[serde(default)]
    pub established: Option<bool>,
}
