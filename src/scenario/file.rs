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
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub seed: u64,
    /// Draw initial sequence numbers from this seed instead of the run's
    /// (replay files pin them so).
    #[serde(default)]
    pub iss_seed: Option<u64>,
    #[serde(default)]
    pub allow_rfc_violations: bool,
    #[serde(default)]
    pub tcp: TcpSpec,
    pub hosts: Vec<HostSpec>,
    #[serde(default)]
    pub links: Vec<LinkSpec>,
    #[serde(default)]
    pub listeners: Vec<ListenerSpec>,
    #[serde(default)]
    pub connections: Vec<ConnectionSpec>,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub limits: LimitsSpec,
    #[serde(default)]
    pub expect: Option<ExpectSpec>,
}

/// TCP settings; every field is optional so per-endpoint `tcp` blocks
/// override only what they name.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpSpec {
    pub msl_ms: Option<f64>,
    pub time_wait_ms: Option<f64>,
    pub rto_initial_ms: Option<f64>,
    pub rto_min_ms: Option<f64>,
    pub rto_max_ms: Option<f64>,
    pub r1: Option<u32>,
    pub r2: Option<RetryLimit>,
    pub r2_syn: Option<RetryLimit>,
    pub user_timeout_ms: Option<f64>,
    pub mss_bytes: Option<u32>,
    pub recv_buffer_bytes: Option<u32>,
    pub linux_fin_wait_2_timeout_ms: Option<f64>,
    pub linux_time_wait: Option<bool>,
    pub rfc1337: Option<bool>,
    pub rfc5961: Option<bool>,
    pub delayed_ack_ms: Option<f64>,
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
}

/// A retransmission limit: a count, or `"infinite"` (RFC 9293 §3.8.3
/// lets R2 be infinite).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryLimit {
    Count(u32),
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

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CongestionControlName {
    None,
    Newreno,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
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
    pub between: (String, String),
    pub delay_ms: Option<f64>,
    pub jitter_ms: Option<f64>,
    pub distribution: Option<DelayDistributionName>,
    pub rate_bps: Option<u64>,
    pub queue_bytes: Option<u64>,
    pub loss: Option<f64>,
    pub burst: Option<BurstSpec>,
    pub reorder: Option<f64>,
    pub reorder_delay_ms: Option<f64>,
    pub duplicate: Option<f64>,
    pub corrupt: Option<f64>,
    pub lifetime_ms: Option<f64>,
    #[serde(default)]
    pub a_to_b: Option<LinkDirSpec>,
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

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkDirSpec {
    pub delay_ms: Option<f64>,
    pub jitter_ms: Option<f64>,
    pub distribution: Option<DelayDistributionName>,
    pub rate_bps: Option<u64>,
    pub queue_bytes: Option<u64>,
    pub loss: Option<f64>,
    pub burst: Option<BurstSpec>,
    pub reorder: Option<f64>,
    pub reorder_delay_ms: Option<f64>,
    pub duplicate: Option<f64>,
    pub corrupt: Option<f64>,
    pub lifetime_ms: Option<f64>,
}

/// How link delay varies (see `link::DelayDistribution`).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DelayDistributionName {
    Uniform,
    Normal,
    Pareto,
    Paretonormal,
}

/// Gilbert-Elliott burst loss.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurstSpec {
    pub enter_bad: f64,
    pub leave_bad: f64,
    #[serde(default = "one")]
    pub loss_bad: f64,
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
            // Worded as RON words a string where an integer belongs.
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Port, E> {
                Err(E::custom("Expected integer"))
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
    pub name: String,
    pub host: String,
    pub port: Port,
    #[serde(default = "default_backlog")]
    pub backlog: u32,
    #[serde(default)]
    pub listen_at_ms: f64,
    #[serde(default)]
    pub close_at_ms: Option<f64>,
    #[serde(default)]
    pub iss: Option<u32>,
    #[serde(default)]
    pub tcp: TcpSpec,
    /// Timed actions of each accepted connection, from its establishment.
    #[serde(default)]
    pub script: Vec<ActionSpec>,
    #[serde(default)]
    pub on_connected: Vec<ReactionSpec>,
    #[serde(default)]
    pub on_end_of_stream: Vec<ReactionSpec>,
}

/// One connection (or `count` alike), opened actively from `host`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSpec {
    pub name: String,
    pub host: String,
    #[serde(default)]
    pub local_port: Option<Port>,
    pub remote_host: String,
    pub remote_port: Port,
    #[serde(default = "default_count")]
    pub count: u32,
    /// Connection `i` of `count` starts `i * open_spread_ms / count` late.
    #[serde(default)]
    pub open_spread_ms: f64,
    #[serde(default)]
    pub iss: Option<u32>,
    #[serde(default)]
    pub tcp: TcpSpec,
    #[serde(default)]
    pub script: Vec<ActionSpec>,
    #[serde(default)]
    pub on_connected: Vec<ReactionSpec>,
    #[serde(default)]
    pub on_end_of_stream: Vec<ReactionSpec>,
    /// An explicit endpoint at the remote address instead of a listener
    /// (simultaneous open, or a one-off listen).
    #[serde(default)]
    pub peer: Option<PeerSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSpec {
    pub name: String,
    #[serde(default)]
    pub iss: Option<u32>,
    #[serde(default)]
    pub tcp: TcpSpec,
    #[serde(default)]
    pub script: Vec<ActionSpec>,
    #[serde(default)]
    pub on_connected: Vec<ReactionSpec>,
    #[serde(default)]
    pub on_end_of_stream: Vec<ReactionSpec>,
}

/// A timed application call.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ActionSpec {
    Listen { at_ms: f64 },
    Connect { at_ms: f64 },
    Send { at_ms: f64, bytes: u64 },
    Close { at_ms: f64 },
    Abort { at_ms: f64 },
    PauseRead { at_ms: f64 },
    ResumeRead { at_ms: f64 },
}

/// An application reaction, run in the same step as the event.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ReactionSpec {
    Send { bytes: u64 },
    Close,
    Abort,
    PauseRead,
    ResumeRead,
}

/// Scripted faults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FaultSpec {
    /// Drop the `nth` (1-based) segment matching, and the `times - 1`
    /// matching ones after it.
    Drop {
        matching: MatchSpec,
        #[serde(default = "one_u32")]
        nth: u32,
        #[serde(default = "one_u32")]
        times: u32,
    },
    Delay {
        matching: MatchSpec,
        #[serde(default = "one_u32")]
        nth: u32,
        #[serde(default = "one_u32")]
        times: u32,
        by_ms: f64,
    },
    Duplicate {
        matching: MatchSpec,
        #[serde(default = "one_u32")]
        nth: u32,
        #[serde(default = "one_u32")]
        times: u32,
        #[serde(default)]
        after_ms: f64,
    },
    /// A crafted segment from an endpoint to its peer; `seq` counts from
    /// the sender's ISS, `ack` from the receiver's.
    Inject {
        at_ms: f64,
        from: String,
        #[serde(default)]
        conn: u32,
        flags: String,
        #[serde(default)]
        seq: i64,
        #[serde(default)]
        ack: i64,
        #[serde(default)]
        len: u32,
        #[serde(default = "max_wnd")]
        wnd: u16,
        /// A Timestamps option with this TSval (the clock's raw value);
        /// TSecr is what the sender would echo.
        #[serde(default)]
        tsval: Option<u32>,
    },
    /// Nothing passes between the two hosts in `[from_ms, to_ms)`.
    Partition { between: (String, String), from_ms: f64, to_ms: f64 },
    /// The host stops at `at_ms`: its connections vanish without sending
    /// anything, segments to it are lost. At `restart_at_ms` it comes back
    /// with no connections, and its listeners listen again.
    Crash {
        host: String,
        at_ms: f64,
        #[serde(default)]
        restart_at_ms: Option<f64>,
    },
    /// What the link does to the `nth` segment `from` sends on `conn`,
    /// decided here instead of drawn: lost, or delivered after `delay_ms`
    /// of propagation (instead of the link's), with a second copy after
    /// `copy_ms`, or damaged. Written by `tcpsim run --emit-faults` and
    /// `tcpsim shrink`.
    Fate {
        from: String,
        #[serde(default)]
        conn: u32,
        nth: u32,
        #[serde(default)]
        drop: Option<FateDropName>,
        #[serde(default)]
        delay_ms: Option<f64>,
        #[serde(default)]
        copy_ms: Option<f64>,
        #[serde(default)]
        corrupt: bool,
    },
}

/// Why a `Fate` loses its segment (the trace's drop reason).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FateDropName {
    Loss,
    Burst,
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
    pub from: Option<String>,
    pub conn: Option<u32>,
    /// Exact flag set, e.g. `"FIN|ACK"`.
    pub flags: Option<String>,
    pub data: Option<bool>,
    /// The sender's state when it sent the segment.
    pub state: Option<StateName>,
    pub retransmit: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    pub max_events: Option<u64>,
    pub max_time_ms: Option<f64>,
    pub max_connections: Option<u64>,
    pub max_in_flight: Option<u64>,
    pub max_trace_records: Option<u64>,
}

/// State names as written in files and traces.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum StateName {
    CLOSED,
    LISTEN,
    SYN_SENT,
    SYN_RECEIVED,
    ESTABLISHED,
    FIN_WAIT_1,
    FIN_WAIT_2,
    CLOSE_WAIT,
    CLOSING,
    LAST_ACK,
    TIME_WAIT,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum ReasonName {
    NORMAL,
    RESET,
    REFUSED,
    ABORTED,
    USER_CLOSE,
    RETRANSMIT_LIMIT,
    USER_TIMEOUT,
    FIN_WAIT_2_TIMEOUT,
    SYN_IN_WINDOW,
}

/// A count in an expectation: an integer (exactly), or a string such as
/// `">= 1"`, `"<= 3"` or `"2..=5"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountSpec {
    Exactly(u64),
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    #[serde(default)]
    pub proves: Vec<String>,
    #[serde(default)]
    pub endpoints: Vec<EndpointExpectSpec>,
    #[serde(default)]
    pub all_connections: Option<AllExpectSpec>,
    #[serde(default)]
    pub drops: Option<CountSpec>,
    #[serde(default)]
    pub stuck: Option<CountSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointExpectSpec {
    pub name: String,
    #[serde(default)]
    pub conn: u32,
    #[serde(default)]
    pub final_state: Option<StateName>,
    #[serde(default)]
    pub reason: Option<ReasonName>,
    #[serde(default)]
    pub path: Option<Vec<StateName>>,
    #[serde(default)]
    pub visits: Vec<StateName>,
    #[serde(default)]
    pub never_visits: Vec<StateName>,
    #[serde(default)]
    pub time_in: Vec<TimeInSpec>,
    #[serde(default)]
    pub sent: Vec<SentSpec>,
    #[serde(default)]
    pub retransmissions: Option<CountSpec>,
    /// Of the retransmissions, those sent by fast retransmit or NewReno
    /// partial ACKs rather than by the RETRANSMIT timer.
    #[serde(default)]
    pub fast_retransmits: Option<CountSpec>,
    #[serde(default)]
    pub segments_sent: Option<CountSpec>,
    #[serde(default)]
    pub bytes_delivered: Option<CountSpec>,
    #[serde(default)]
    pub foreign_bytes: Option<CountSpec>,
}

/// Total time spent in `state`, summed over visits.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeInSpec {
    pub state: StateName,
    pub ms: f64,
}

/// The send times of every segment with exactly these flags.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentSpec {
    pub flags: String,
    pub at_ms: Vec<f64>,
}

/// Predicates over every connection (both its endpoints).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllExpectSpec {
    #[serde(default)]
    pub final_state: Option<StateName>,
    #[serde(default)]
    pub all_bytes_delivered: Option<bool>,
    #[serde(default)]
    pub no_foreign_bytes: Option<bool>,
    #[serde(default)]
    pub established: Option<bool>,
}
