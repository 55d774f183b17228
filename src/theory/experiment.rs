//! The loss-model experiment: one long bulk transfer over a path with
//! random loss on the data direction, measured the way the models of
//! [`super`] define their inputs, so that simulated goodput can be set
//! beside [`super::mathis`] and [`super::padhye`].
//!
//! The setup follows the models' assumptions (Mathis et al. §2, Padhye et
//! al. §2): a fixed round trip of [`RTT`] (two one-way delays, no jitter,
//! no queue: the link is infinitely fast, so no bottleneck binds), a
//! receive window ([`RECV_BUFFER`], scaled by RFC 7323 window scaling)
//! far above any congestion window the loss rates reach, no delayed ACKs
//! (b = 1), `rto_min` 1 s (RFC 6298 (2.4)), and Bernoulli loss on the data
//! direction only, so every ACK arrives. The congestion control and SACK
//! are parameters ([`Setup`]).
//!
//! What is measured ([`Measured`]), all from the run itself:
//! - goodput: bytes delivered to the receiving application ÷ the time
//!   from the first data segment sent to the last byte delivered;
//! - Mathis's p: data segments the link dropped ÷ data segments sent
//!   (retransmissions included);
//! - Padhye's p: loss indications ÷ data segments sent, where an
//!   indication is an entry into fast recovery (three duplicate ACKs,
//!   NewReno or RFC 6675) or a sequence of retransmission timeouts (a
//!   timeout, and the backed-off ones that follow it before SND.UNA
//!   moves, are one indication, as the paper counts a timeout sequence);
//! - the RTT: the mean of the sender's SRTT (RFC 6298), read after every
//!   ACK it receives: what the sender itself measures. With no queue and
//!   no jitter every sample is the path's round trip, so it equals
//!   [`RTT`]; it is measured rather than assumed so that a change to the
//!   path (a rate, jitter) stays honest;
//! - T0: the RTO in force when the first retransmission timeout fired
//!   (the paper's T0, the timeout before any backoff); when no timeout
//!   fired, the RTO at the end of the run (the formula's timeout term is
//!   then negligible anyway);
//! - W_max: the receive window in segments, RECV_BUFFER ÷ MSS.
//!
//! The run stops as soon as the last byte is delivered (the closing
//! handshake is not part of the transfer).

use crate::link::{DropReason, LinkParams};
use crate::model::{Action, App, Builder, Model, Reaction};
use crate::rng::Ppm;
use crate::simulation::Simulation;
use crate::tcp::{AppEvent, CongestionControl, SeqNum, TcpConfig, Timer, TimerAction};
use crate::time::{Duration, Instant};
use crate::trace::{TraceEvent, TraceKind, TraceSink};

/// The path's round trip: twice the link's one-way delay of 50 ms.
pub const RTT: Duration = Duration::from_millis(100);

/// The segment size both ends use (payload bytes).
pub const MSS: u16 = 1460;

/// The receive buffer: 16 MiB, 11 490 segments, far above the peak
/// window of any loss rate the experiment uses (slow start at 0.1 % loss
/// ends near a thousand segments).
pub const RECV_BUFFER: u32 = 16 << 20;

/// The window-scale shift both ends offer (RFC 7323 §2.3): enough for
/// [`RECV_BUFFER`] (65 535 · 2^8 falls just short of 2^24 bytes).
pub const WINDOW_SHIFT: u8 = 9;

/// One run of the experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    /// The sender's congestion control.
    pub congestion_control: CongestionControl,
    /// Whether both ends offer SACK (RFC 2018, RFC 6675 recovery).
    pub sack: bool,
    /// Bernoulli loss probability on the data direction.
    pub loss: Ppm,
    /// The run's seed.
    pub seed: u64,
    /// Bytes the client sends.
    pub bytes: u64,
}

impl Setup {
    /// A run long enough that `losses` data segments are expected to be
    /// lost: `losses / loss` segments of [`MSS`] bytes (at least one).
    pub fn expecting_losses(
        congestion_control: CongestionControl,
        sack: bool,
        loss: Ppm,
        seed: u64,
        losses: u64,
    ) -> Setup {
        let segments = (losses * 1_000_000).div_ceil(u64::from(loss.get().max(1))).max(1);
        Setup { congestion_control, sack, loss, seed, bytes: segments * u64::from(MSS) }
    }

    /// The TCP configuration of both ends (see the module docs).
    pub fn tcp(&self) -> TcpConfig {
        TcpConfig {
            rto_min: Duration::from_secs(1),
            mss: MSS,
            recv_buffer: RECV_BUFFER,
            window_scale: Some(WINDOW_SHIFT),
            sack: self.sack,
            delayed_ack: None,
            congestion_control: self.congestion_control,
            ..TcpConfig::default()
        }
    }

    /// The scenario: a client on host `a` sends [`Setup::bytes`] to a
    /// server on `b` and closes; the link loses data segments (a → b)
    /// with probability [`Setup::loss`] and never loses an ACK.
    ///
    /// # Panics
    ///
    /// If [`Setup::bytes`] is 0: a send of nothing is not a transfer (the
    /// model's rules refuse it).
    pub fn model(&self) -> Model {
        let link = LinkParams { delay: Duration::from_millis(50), loss: self.loss, ..LinkParams::default() };
        let client = App::default()
            .at(Duration::ZERO, Action::Connect)
            .on_connected([Reaction::Send(self.bytes), Reaction::Close]);
        let mut model = Builder::new("loss-models")
            .description("a bulk transfer with random loss on the data direction")
            .seed(self.seed)
            .tcp(self.tcp())
            .host("a")
            .host("b")
            .link("a", "b", link)
            .listener("server", "b", 80, App::default().on_end_of_stream([Reaction::Close]))
            .connection("client", "a", ("b", 80), client)
            .build()
            .expect("the experiment's model obeys the rules");
        // The builder gives both directions one set of parameters; the
        // models assume every ACK arrives.
        model.links[0].ba.loss = Ppm::ZERO;
        model
    }

    /// Runs the transfer and measures it (panics as [`Setup::model`]
    /// does).
    pub fn run(&self) -> Measured {
        let simulation = Simulation::from_model(self.model()).expect("an edited link is still a valid model");
        let mut world = simulation.into_world();
        let mut counts = Counts::default();
        let mut sender = SenderWatch::default();
        loop {
            counts.step_begins();
            let ended = world.step(&mut counts);
            if let Some(client) = world.endpoint(0, "client") {
                sender.after_step(&counts, client.tcp);
            }
            if ended.is_some() || self.bytes <= counts.bytes_delivered {
                break;
            }
        }
        let client = world.endpoint(0, "client").expect("the client endpoint exists from time zero");
        let rtt = sender.srtt_sum_ns.checked_div(sender.srtt_samples).map_or(RTT, Duration::from_nanos);
        let start = counts.first_data_at.unwrap_or(Instant::ZERO);
        Measured {
            mss_bytes: u32::from(client.tcp.snd_mss()),
            bytes_delivered: counts.bytes_delivered,
            transfer_time: Duration::from_nanos(counts.last_delivery_at.as_nanos().saturating_sub(start.as_nanos())),
            data_segments_sent: counts.data_sent,
            data_segments_dropped: counts.data_dropped,
            fast_recoveries: sender.fast_recoveries,
            timeout_sequences: sender.timeout_sequences,
            timeouts: sender.timeouts,
            rtt,
            t0: sender.t0.unwrap_or(client.tcp.rto()),
            w_max: f64::from(RECV_BUFFER) / f64::from(client.tcp.snd_mss()),
        }
    }
}

/// What one run measured (see the module docs for each definition).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    /// Eff.snd.MSS of the sender, in bytes.
    pub mss_bytes: u32,
    /// Bytes delivered to the receiving application.
    pub bytes_delivered: u64,
    /// From the first data segment sent to the last byte delivered.
    pub transfer_time: Duration,
    /// Data segments the sender emitted, retransmissions included.
    pub data_segments_sent: u64,
    /// Of those, the ones the link lost.
    pub data_segments_dropped: u64,
    /// Entries into fast recovery (NewReno or RFC 6675).
    pub fast_recoveries: u64,
    /// Sequences of retransmission timeouts on data.
    pub timeout_sequences: u64,
    /// Retransmission timeouts on data, backed-off ones included.
    pub timeouts: u64,
    /// The mean SRTT.
    pub rtt: Duration,
    /// The RTO at the first timeout (or at the end, without one).
    pub t0: Duration,
    /// The receive window in segments.
    pub w_max: f64,
}

impl Measured {
    /// Goodput in bytes per second.
    pub fn goodput(&self) -> f64 {
        self.bytes_delivered as f64 / seconds(self.transfer_time)
    }

    /// Mathis's p: data segments dropped ÷ data segments sent.
    pub fn loss_rate(&self) -> f64 {
        self.data_segments_dropped as f64 / self.data_segments_sent as f64
    }

    /// Loss indications: fast-recovery entries plus timeout sequences.
    pub fn loss_indications(&self) -> u64 {
        self.fast_recoveries + self.timeout_sequences
    }

    /// Padhye's p: loss indications ÷ data segments sent.
    pub fn loss_indication_rate(&self) -> f64 {
        self.loss_indications() as f64 / self.data_segments_sent as f64
    }

    /// [`super::mathis`] at this run's MSS, RTT and loss rate (b = 1), in
    /// bytes per second.
    pub fn mathis(&self) -> f64 {
        super::mathis(f64::from(self.mss_bytes), seconds(self.rtt), self.loss_rate(), 1.0)
    }

    /// [`super::padhye`] at this run's loss indication rate, RTT, T0 and
    /// W_max (b = 1), in bytes per second.
    pub fn padhye(&self) -> f64 {
        let p = self.loss_indication_rate();
        f64::from(self.mss_bytes) * super::padhye(p, seconds(self.rtt), seconds(self.t0), self.w_max, 1.0)
    }
}

/// A duration in seconds, for the models' arithmetic.
fn seconds(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e9
}

/// What the trace tells, counted as it passes (nothing is kept).
#[derive(Default)]
struct Counts {
    data_sent: u64,
    data_dropped: u64,
    bytes_delivered: u64,
    first_data_at: Option<Instant>,
    last_delivery_at: Instant,
    /// This step: the sender's RETRANSMIT timer fired.
    timeout_now: bool,
    /// This step: an ACK reached the sender.
    ack_now: bool,
}

impl Counts {
    fn step_begins(&mut self) {
        self.timeout_now = false;
        self.ack_now = false;
    }
}

impl TraceSink for Counts {
    fn record(&mut self, event: &TraceEvent<'_>) {
        match (&event.kind, event.endpoint) {
            (TraceKind::Send { seg, .. }, "client") if 0 < seg.len => {
                self.data_sent += 1;
                self.first_data_at.get_or_insert(event.t);
            }
            (TraceKind::Drop { seg, reason: DropReason::Loss }, "client") if 0 < seg.len => self.data_dropped += 1,
            (TraceKind::Deliver { .. }, "client") => self.ack_now = true,
            (TraceKind::Timer { timer: Timer::Retransmit, action: TimerAction::Fire, .. }, "client") => {
                // A lost SYN's timeout is not part of the transfer.
                self.timeout_now = self.first_data_at.is_some();
            }
            (TraceKind::Event(AppEvent::Data { bytes, .. }), "server") => {
                self.bytes_delivered += u64::from(*bytes);
                self.last_delivery_at = event.t;
            }
            _ => {}
        }
    }
}

/// The sender's state read between steps: recovery entries, timeouts and
/// the RTO and SND.UNA they happened at, SRTT samples.
#[derive(Default)]
struct SenderWatch {
    in_recovery: bool,
    fast_recoveries: u64,
    timeouts: u64,
    timeout_sequences: u64,
    /// SND.UNA when the last timeout fired.
    una_at_timeout: Option<SeqNum>,
    t0: Option<Duration>,
    /// The RTO and SND.UNA after the previous step: what a timeout in this
    /// step fired with.
    rto_before: Duration,
    una_before: Option<SeqNum>,
    srtt_sum_ns: u64,
    srtt_samples: u64,
}

impl SenderWatch {
    fn after_step(&mut self, counts: &Counts, tcp: &crate::tcp::Endpoint) {
        if counts.timeout_now {
            self.timeouts += 1;
            // RFC 6298 (5.5) backs off the timer until an ACK moves
            // SND.UNA: those timeouts continue one sequence.
            if self.una_at_timeout != self.una_before {
                self.timeout_sequences += 1;
            }
            self.una_at_timeout = self.una_before;
            self.t0.get_or_insert(self.rto_before);
        }
        let in_recovery = tcp.in_fast_recovery();
        if in_recovery && !self.in_recovery {
            self.fast_recoveries += 1;
        }
        self.in_recovery = in_recovery;
        if counts.ack_now
            && let Some(srtt) = tcp.srtt()
        {
            self.srtt_sum_ns += srtt.as_nanos();
            self.srtt_samples += 1;
        }
        self.rto_before = tcp.rto();
        self.una_before = Some(tcp.snd_una());
    }
}
