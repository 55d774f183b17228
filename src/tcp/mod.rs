//! A TCP endpoint as a sans-IO state machine (RFC 9293).
//!
//! Read RFC 9293 §3.3.2 (states), §3.10 (event processing) and RFC 6298
//! (retransmission timer) first; the project's behaviour specification names
//! every rule implemented here with a `B-<AREA>-NN` ID, and every transition
//! carries the ID that fired.
//!
//! The endpoint never reads a clock, draws a random number or touches a
//! scheduler. Callers feed it:
//! - application calls: [`Endpoint::listen`], [`Endpoint::connect`],
//!   [`Endpoint::send`], [`Endpoint::close`], [`Endpoint::abort`],
//!   [`Endpoint::pause_read`], [`Endpoint::resume_read`];
//! - arrivals: [`Endpoint::handle_segment`];
//! - timer expiry: [`Endpoint::handle_timeout`], when
//!   [`Endpoint::poll_timeout`] says so;
//!
//! and after each step (one input plus the application's synchronous
//! reactions) call [`Endpoint::dispatch`], which emits every segment the step
//! owes into the caller's [`Output`]. An ACK owed during the step rides on
//! the first segment emitted, or goes alone.
//!
//! Time arrives as the `now` argument; the initial sequence number, MSL and
//! every option arrive in [`TcpConfig`] or the constructor, and so does the
//! start value of the timestamp clock ([`Endpoint::set_ts_start`]).
//!
//! RFC 7323 options, both off unless configured: Window Scale (§2: the
//! shifts are fixed by the handshake; every non-SYN window is scaled) and
//! Timestamps (§3–§5: TSval from the clock `now` gives, TS.Recent and
//! Last.ACK.sent, RTT samples from TSecr, PAWS). TS.Recent's invalidation
//! after 24 days idle (§5.5) is not modelled: no sim runs that long.
//!
//! SACK, off unless configured (`sack`, see `sack`): SACK-permitted on the
//! SYNs (RFC 2018 §2); the receiver's blocks on every ACK while it holds
//! out-of-order data, with D-SACK (RFC 2018 §4, RFC 2883); and the
//! sender's RFC 6675 loss recovery in place of NewReno's when both sides
//! offered it.
//!
//! Congestion control (`cc`): NewReno's loss recovery (or RFC 6675's) with
//! Reno's window by default, or CUBIC's (RFC 9438, with HyStart) when
//! `congestion_control: cubic`, its state boxed beside the endpoint.

/// The option state `$field` (`rfc7323`, `sack`, `cubic`, `linux`) of
/// endpoint `$ep`, if it has one, as an `Option<&T>`. It borrows only the
/// extension box, so the endpoint's other fields stay free to use.
macro_rules! opt {
    ($ep:expr, $field:ident) => {
        $ep.ext.as_deref().and_then(|e| e.$field.as_deref())
    };
}

/// As [`opt`], mutably: an `Option<&mut T>`.
macro_rules! opt_mut {
    ($ep:expr, $field:ident) => {
        $ep.ext.as_deref_mut().and_then(|e| e.$field.as_deref_mut())
    };
}

mod app;
mod cc;
mod config;
mod input;
mod linux;
mod output;
mod profile;
mod reassembly;
mod rtt;
mod sack;
mod segment;
mod seq;
mod state;
mod timer;
mod transmit;

#[cfg(test)]
mod tests;

pub use cc::{CubicInfo, CubicRegion};
pub use config::{CongestionControl, DEFAULT_PEER_MSS, LINUX_TIME_WAIT, MAX_RECV_BUFFER_SCALED, Profile, TcpConfig};
pub use output::{AppEvent, Call, CallError, Cause, Note, Output, RttSource};
pub use profile::{
    LINUX_ATO_MIN, LINUX_DELACK_MAX, LINUX_MAX_QUICKACKS, LINUX_RTO_MAX, LINUX_RTO_MIN, linux_locked_window_scale,
    linux_profile_lines, linux_retries2_budget, linux_sysctls,
};
pub use sack::{SackBlock, SackBlocks};
pub use segment::{Flags, MAX_WINDOW_SHIFT, Options, PayloadTag, Segment, Timestamps, payload_byte};
pub use seq::SeqNum;
pub use state::{CloseReason, Origin, State};
pub use timer::{Timer, TimerAction};

use crate::rule::Rule;
use crate::time::{Duration, Instant};
use reassembly::Reassembly;
use rtt::RttEstimator;
use timer::TimerTable;

/// Counters an endpoint keeps about itself. Segment counts are 32-bit
/// (every endpoint carries these; 4 billion segments is beyond any run).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// Every segment emitted, retransmissions and resets included.
    pub segments_sent: u32,
    /// Segments sent again: by RETRANSMIT expiry (SYN, data, FIN),
    /// zero-window probes (PERSIST; the first probe too, although its
    /// octet is new: like a resend it is never timed), fast retransmit, or
    /// go-back after an RTO.
    pub retransmissions: u32,
    /// Of those, segments sent by fast retransmit or NewReno partial ACKs.
    pub fast_retransmits: u32,
    /// Payload bytes queued by the application.
    pub bytes_queued: u64,
    /// Payload bytes delivered to the application, in order.
    pub bytes_delivered: u64,
    /// Delivered bytes that were not the peer's at that offset.
    pub foreign_bytes: u64,
}

/// The endpoint's flags.
mod bit {
    /// The application called CLOSE; a FIN follows the last queued byte.
    pub const FIN_QUEUED: u16 = 1 << 0;
    /// A SYN or SYN,ACK is owed at the next dispatch.
    pub const SYN_PENDING: u16 = 1 << 1;
    /// An ACK is owed at the end of this step.
    pub const ACK_NOW: u16 = 1 << 2;
    /// CLOSE arrived in SYN_RECEIVED with data queued (B-APP-13).
    pub const CLOSE_PENDING: u16 = 1 << 3;
    /// The application stopped reading.
    pub const READ_PAUSED: u16 = 1 << 4;
    /// The peer's FIN was processed but the application has not read up to
    /// it yet.
    pub const EOF_UNREAD: u16 = 1 << 5;
    /// RETRANSMIT_WARNING was raised for the current segment (B-TMR-08).
    pub const WARNED: u16 = 1 << 6;
    /// The SYN or SYN,ACK was retransmitted (B-TMR-07).
    pub const SYN_RETRANSMITTED: u16 = 1 << 7;
    /// A zero-window probe is outstanding (B-DATA-06).
    pub const PROBING: u16 = 1 << 8;
    /// Fast retransmit (or a NewReno partial ACK) owes a resend.
    pub const FAST_RETRANSMIT_PENDING: u16 = 1 << 9;
    /// One full-sized segment arrived since our last ACK (B-OPT-07).
    pub const FULL_SEGMENT_UNACKED: u16 = 1 << 10;
    /// Both SYNs carried Window Scale: windows are scaled (B-WS-02).
    pub const WS_OK: u16 = 1 << 11;
    /// Both SYNs carried Timestamps: every non-RST segment carries them
    /// (B-TS-01, B-TS-02).
    pub const TS_OK: u16 = 1 << 12;
    /// Both SYNs carried SACK-permitted: ACKs carry blocks and loss
    /// recovery is RFC 6675's (B-SACK-02).
    pub const SACK_OK: u16 = 1 << 13;
    /// The first or second duplicate ACK arrived: limited transmit may
    /// send one new segment at the next dispatch (B-SACK-11).
    pub const LIMITED_TRANSMIT_PENDING: u16 = 1 << 14;
}

/// The endpoint's boolean state: a set of [`bit`] flags in one word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct EndpointFlags(u16);

impl EndpointFlags {
    fn has(self, flag: u16) -> bool {
        self.0 & flag != 0
    }

    fn set(&mut self, flag: u16, on: bool) {
        if on {
            self.0 |= flag;
        } else {
            self.0 &= !flag;
        }
    }
}

/// What one step's input is processed with: the configuration and the
/// current time. [`Endpoint::handle_segment`], [`Endpoint::handle_timeout`]
/// and [`Endpoint::dispatch`] each build one from their arguments and hand
/// it to the helpers they call.
#[derive(Clone, Copy)]
struct StepContext<'a> {
    cfg: &'a TcpConfig,
    now: Instant,
}

/// Bytes the sender assigns sequence numbers to ahead of SND.UNA at most;
/// keeps every comparison far inside the 2^31 wrapping range.
const SEND_AHEAD_MAX: u32 = 1 << 30;

/// RFC 7323 state of one endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rfc7323 {
    /// §2.2 Snd.Wind.Shift: the peer's shift, applied to its windows; 0
    /// unless window scaling is in use.
    snd_wscale: u8,
    /// Rcv.Wind.Shift: our shift, applied to the windows we send.
    rcv_wscale: u8,
    /// With window scaling, the right edge of the last window we
    /// advertised (§2.4): never retracted but by rounding.
    rcv_adv: SeqNum,
    /// The timestamp clock's value at time zero.
    ts_start: u32,
    /// TS.Recent (§4.3): the TSval to echo.
    ts_recent: u32,
    /// Last.ACK.sent (§4.3): the ACK field of our last segment.
    last_ack_sent: SeqNum,
}

impl Rfc7323 {
    /// Neither option in use.
    const OFF: Rfc7323 = Rfc7323 {
        snd_wscale: 0,
        rcv_wscale: 0,
        rcv_adv: SeqNum(0),
        ts_start: 0,
        ts_recent: 0,
        last_ack_sent: SeqNum(0),
    };
}

/// The state of the options an endpoint has only when they are
/// configured, each boxed and all of them in one box beside the endpoint:
/// an endpoint with none of them (the `rfc` profile's) carries one empty
/// pointer instead of four, 24 bytes less in every endpoint.
#[derive(Clone, Debug, Default)]
struct Extensions {
    /// Window scaling and timestamps state, when the config turns one on.
    rfc7323: Option<Box<Rfc7323>>,
    /// The SACK receiver's history and sender's scoreboard, when the
    /// config offers SACK.
    sack: Option<Box<sack::SackState>>,
    /// CUBIC's window controller (RFC 9438) and HyStart, with
    /// `congestion_control: cubic` once the connection is synchronized.
    /// Without it the window is Reno's.
    cubic: Option<Box<cc::Cubic>>,
    /// The Linux options' state (`B-LNX-`), when one is configured.
    linux: Option<Box<linux::LinuxState>>,
}

impl Extensions {
    fn is_empty(&self) -> bool {
        self.rfc7323.is_none() && self.sack.is_none() && self.cubic.is_none() && self.linux.is_none()
    }
}

/// One TCP endpoint (a TCB, RFC 9293 §3.3.1).
#[derive(Clone, Debug)]
pub struct Endpoint {
    state: State,
    origin: Origin,
    /// Our sending stream's payload tag.
    stream: u32,
    /// The peer's stream, learned from its SYN.
    peer_stream: u32,
    iss: SeqNum,
    irs: SeqNum,

    // Send sequence space (RFC 9293 §3.3.1 Fig. 3).
    snd_una: SeqNum,
    snd_nxt: SeqNum,
    /// The highest sequence number sent so far, plus one (SND.NXT may go
    /// back after an RTO; ACKs are judged against this).
    snd_max: SeqNum,
    /// Just past the last byte given a sequence number; the FIN, once
    /// queued and the backlog empty, sits at `snd_end`.
    snd_end: SeqNum,
    /// Queued bytes not yet given sequence numbers.
    send_backlog: u64,
    /// SND.WND: SEG.WND shifted by Snd.Wind.Shift (RFC 7323 §2.3).
    snd_wnd: u32,
    snd_wl1: SeqNum,
    snd_wl2: SeqNum,
    max_snd_wnd: u32,
    /// Eff.snd.MSS (RFC 9293 §3.7.1).
    snd_mss: u16,

    // Receive sequence space.
    rcv_nxt: SeqNum,
    /// Out-of-order text, a FIN beyond a gap and unread bytes.
    reassembly: Reassembly,
    /// The options' states (RFC 7323, SACK, CUBIC, Linux), read through
    /// `opt!` and `opt_mut!`; absent unless one is on.
    ext: Option<Box<Extensions>>,

    timers: TimerTable,
    rtt: RttEstimator,
    /// Retransmissions of the earliest unacknowledged segment (or of the
    /// outstanding zero-window probe).
    retries: u32,
    /// Doublings of the probe interval since PERSIST started (B-TMR-14);
    /// kept apart from the RTO so probing never backs the RTO off.
    persist_backoff: u8,
    /// Congestion control state, when on.
    cc: Option<cc::NewReno>,
    /// In-order bytes received and not yet acknowledged (B-OPT-07).
    ack_delayed_bytes: u32,
    /// The largest segment text received: the peer's SMSS as seen from
    /// here, which judges "full-sized" for delayed ACKs (B-OPT-07).
    rcv_mss: u16,

    /// Flags, see [`bit`]; one word instead of ten bools.
    bits: EndpointFlags,
    reason: Option<CloseReason>,
    stats: EndpointStats,
}

impl Endpoint {
    /// A new endpoint in CLOSED. `iss` is its initial send sequence number
    /// (chosen by the caller; see the behaviour specification §1), `stream`
    /// tags its payload.
    pub fn new(cfg: &TcpConfig, iss: SeqNum, stream: u32) -> Endpoint {
        Endpoint {
            state: State::Closed,
            origin: Origin::Active,
            stream,
            peer_stream: 0,
            iss,
            irs: SeqNum(0),
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_end: iss.add(1),
            send_backlog: 0,
            snd_wnd: 0,
            snd_wl1: SeqNum(0),
            snd_wl2: iss,
            max_snd_wnd: 0,
            snd_mss: config::DEFAULT_PEER_MSS.min(cfg.mss),
            rcv_nxt: SeqNum(0),
            reassembly: Reassembly::default(),
            ext: {
                let ext = Extensions {
                    rfc7323: (cfg.window_scale.is_some() || cfg.timestamps)
                        .then(|| Box::new(Rfc7323 { ts_start: cfg.ts_start.unwrap_or(0), ..Rfc7323::OFF })),
                    sack: cfg.sack.then(|| Box::new(sack::SackState::new(iss))),
                    cubic: None,
                    linux: linux::LinuxState::wanted(cfg).then(|| Box::new(linux::LinuxState::new())),
                };
                (!ext.is_empty()).then(|| Box::new(ext))
            },
            timers: TimerTable::default(),
            rtt: RttEstimator::new(cfg),
            retries: 0,
            persist_backoff: 0,
            cc: None,
            ack_delayed_bytes: 0,
            rcv_mss: 0,
            bits: EndpointFlags::default(),
            reason: None,
            stats: EndpointStats::default(),
        }
    }

    /// Sets the timestamp clock's value at time zero (RFC 7323 §5.4), for
    /// a config without `ts_start`; the caller draws it, as it does the
    /// ISS.
    pub fn set_ts_start(&mut self, start: u32) {
        if let Some(x) = opt_mut!(self, rfc7323) {
            x.ts_start = start;
        }
    }

    /// The RFC 7323 state, or its values with both options off.
    fn rfc7323(&self) -> &Rfc7323 {
        opt!(self, rfc7323).unwrap_or(&Rfc7323::OFF)
    }

    // ---- getters ----

    /// The connection state (RFC 9293 §3.3.2).
    pub fn state(&self) -> State {
        self.state
    }
    /// Whether the connection was opened actively or passively.
    pub fn origin(&self) -> Origin {
        self.origin
    }
    /// ISS: our initial send sequence number.
    pub fn iss(&self) -> SeqNum {
        self.iss
    }
    /// IRS: the peer's initial sequence number, from its SYN; 0 before.
    pub fn irs(&self) -> SeqNum {
        self.irs
    }
    /// Our sending stream's payload tag.
    pub fn stream(&self) -> u32 {
        self.stream
    }
    /// SND.UNA: the oldest unacknowledged sequence number.
    pub fn snd_una(&self) -> SeqNum {
        self.snd_una
    }
    /// SND.NXT: the next sequence number to send (it goes back to SND.UNA
    /// after an RTO).
    pub fn snd_nxt(&self) -> SeqNum {
        self.snd_nxt
    }
    /// SND.WND in bytes: the peer's window, scaled by Snd.Wind.Shift (RFC
    /// 7323 §2.3).
    pub fn snd_wnd(&self) -> u32 {
        self.snd_wnd
    }
    /// The window scale shifts in use, (ours, the peer's), once both SYNs
    /// carried the option (RFC 7323 §2.2).
    pub fn window_shifts(&self) -> Option<(u8, u8)> {
        self.bits.has(bit::WS_OK).then_some((self.rfc7323().rcv_wscale, self.rfc7323().snd_wscale))
    }
    /// Whether both SYNs carried the Timestamps option (RFC 7323 §3.2).
    pub fn timestamps_on(&self) -> bool {
        self.bits.has(bit::TS_OK)
    }
    /// Whether both SYNs carried SACK-permitted (RFC 2018 §2).
    pub fn sack_on(&self) -> bool {
        self.bits.has(bit::SACK_OK)
    }
    /// Whether RFC 6675 loss recovery is in progress.
    pub fn in_sack_recovery(&self) -> bool {
        opt!(self, sack).is_some_and(|x| x.scoreboard.in_recovery())
    }
    /// Whether loss recovery started by duplicate ACKs is in progress:
    /// RFC 6582 NewReno fast recovery or RFC 6675 SACK recovery (a
    /// retransmission timeout ends either).
    pub fn in_fast_recovery(&self) -> bool {
        self.cc.is_some_and(|cc| cc.in_recovery()) || self.in_sack_recovery()
    }
    /// TS.Recent (RFC 7323 §4.3).
    pub fn ts_recent(&self) -> u32 {
        self.rfc7323().ts_recent
    }
    /// The timestamp clock at `now` (RFC 7323 §5.4): the start value plus
    /// one per tick.
    pub fn ts_clock(&self, cfg: &TcpConfig, now: crate::time::Instant) -> u32 {
        let ticks = now.as_nanos() / cfg.ts_tick.as_nanos().max(1);
        self.rfc7323().ts_start.wrapping_add(ticks as u32)
    }
    /// Eff.snd.MSS (RFC 9293 §3.7.1) in bytes: the peer's MSS option (536
    /// until its SYN arrives, or when absent), never above our `mss`.
    pub fn snd_mss(&self) -> u16 {
        self.snd_mss
    }
    /// RCV.NXT: the next sequence number expected from the peer.
    pub fn rcv_nxt(&self) -> SeqNum {
        self.rcv_nxt
    }
    /// The current retransmission timeout (RFC 6298), including backoff.
    pub fn rto(&self) -> Duration {
        self.rtt.rto()
    }
    /// Bytes in flight: sent and not yet acknowledged (SND.MAX - SND.UNA,
    /// RFC 5681's FlightSize), for measurement records.
    pub fn flight_size(&self) -> u32 {
        self.snd_max.since(self.snd_una)
    }
    /// The smoothed RTT, once measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.rtt.srtt()
    }
    /// Bytes received out of order and held until the gap fills.
    pub fn held_bytes(&self) -> u32 {
        self.reassembly.held_bytes()
    }
    /// The endpoint's counters.
    pub fn stats(&self) -> &EndpointStats {
        &self.stats
    }
    /// Why the endpoint last reached CLOSED.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.reason
    }
    /// The deadline of `timer`, or `None` when it is stopped.
    pub fn timer(&self, timer: Timer) -> Option<Instant> {
        self.timers.get(timer)
    }
    /// Bytes queued by the application and not yet acknowledged.
    pub fn unacked_bytes(&self) -> u64 {
        let first_data = self.snd_una.max(self.iss.add(1));
        let assigned = if first_data.lt(self.snd_end) { self.snd_end.since(first_data) } else { 0 };
        u64::from(assigned) + self.send_backlog
    }

    /// Free receive buffer, at most the largest window we can advertise:
    /// 65535, or 65535 << Rcv.Wind.Shift with window scaling (RFC 7323
    /// §2.3).
    pub fn rcv_wnd(&self, cfg: &TcpConfig) -> u32 {
        let max = if self.bits.has(bit::WS_OK) { 65535u32 << self.rfc7323().rcv_wscale } else { 65535 };
        cfg.recv_buffer.saturating_sub(self.reassembly.unread().0).min(max)
    }

    /// RCV.WND as the sequence test uses it: the free buffer, and with
    /// window scaling never less than what reaches the right edge already
    /// advertised (B-WS-05, RFC 7323 §2.4), so a segment the peer sent
    /// into a window we offered is never refused because rounding moved
    /// the edge back since.
    fn recv_window(&self, cfg: &TcpConfig) -> u32 {
        let free = self.rcv_wnd(cfg);
        let rcv_adv = self.rfc7323().rcv_adv;
        if self.bits.has(bit::WS_OK) && self.rcv_nxt.lt(rcv_adv) { free.max(rcv_adv.since(self.rcv_nxt)) } else { free }
    }

    /// The largest payload of one segment: Eff.snd.MSS less the option
    /// bytes every data segment carries (B-TS-07, RFC 9293 §3.7.1, RFC
    /// 6691): 12 with timestamps.
    fn max_payload(&self) -> u32 {
        let options = if self.bits.has(bit::TS_OK) { segment::TS_OPTION_BYTES } else { 0 };
        u32::from(self.snd_mss).saturating_sub(options).max(1)
    }

    /// Asks the processor for the memory of this record, ahead of a step
    /// that will read it: a hint that changes no result. The fields are
    /// chosen so that, in the layout the compiler gives the record today,
    /// no two asked-for addresses are more than 64 bytes apart, so every
    /// cache line it spans is asked for; another layout only asks for
    /// fewer lines.
    pub fn prefetch(&self) {
        use crate::prefetch::line;
        line(&self.timers);
        line(&self.rtt);
        line(&self.stats);
        line(&self.cc);
        line(&self.snd_wnd);
        line(&self.bits);
    }

    /// When [`Endpoint::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    // ---- internal helpers shared by the submodules ----

    /// The single writer of `state`: records the transition with its cause
    /// and the behaviour that fired.
    fn set_state(&mut self, to: State, cause: Cause, rule: Rule, out: &mut Output) {
        let from = self.state;
        self.state = to;
        let reason = if to == State::Closed { self.reason } else { None };
        out.notes.push(Note::Transition { from, to, cause, rule, reason });
    }

    fn start_timer(&mut self, timer: Timer, deadline: Instant, out: &mut Output) {
        let was_running = self.timers.set(timer, deadline);
        let action = if was_running { TimerAction::Restart } else { TimerAction::Start };
        out.notes.push(Note::Timer { timer, action, deadline });
    }

    fn stop_timer(&mut self, timer: Timer, out: &mut Output) {
        if let Some(deadline) = self.timers.stop(timer) {
            out.notes.push(Note::Timer { timer, action: TimerAction::Stop, deadline });
        }
    }

    /// Stops every running timer, tracing each in [`Timer::VALUES`] order.
    fn stop_all_timers(&mut self, out: &mut Output) {
        for timer in Timer::VALUES {
            self.stop_timer(timer, out);
        }
    }

    /// Enters CLOSED: timers stop, queues are flushed, the application is
    /// told why.
    fn enter_closed(&mut self, reason: CloseReason, cause: Cause, rule: Rule, out: &mut Output) {
        self.stop_all_timers(out);
        self.reason = Some(reason);
        self.flush_queues();
        self.set_state(State::Closed, cause, rule, out);
        out.notes.push(Note::Event(AppEvent::Closed(reason)));
    }

    /// A passive SYN_RECEIVED goes back to LISTEN (B-RST-01, B-SYN-01,
    /// B-TMR-09): the TCB forgets the half-open connection and the
    /// application is not told.
    ///
    /// A CLOSE the application already made is not forgotten with it, on
    /// any of the three ways back: an acceptable RST (B-RST-01), giving up
    /// on the SYN,ACK (B-TMR-09) or a SYN in the window (B-SYN-01). In
    /// SYN_RECEIVED with data queued that CLOSE waits for ESTABLISHED
    /// (B-APP-13), which will now never come for this connection; RFC 9293
    /// §3.10.4 says a CLOSE in LISTEN deletes the TCB, so it is applied in
    /// LISTEN at once (B-APP-10: CLOSED, reason USER_CLOSE; the cause is
    /// `pending close`, since no call is made now). Otherwise the endpoint
    /// would listen on for an application that closed it, or complete a
    /// later handshake and stay ESTABLISHED, sending neither its data nor a
    /// FIN.
    fn return_to_listen(&mut self, cx: &StepContext, cause: Cause, rule: Rule, out: &mut Output) {
        let close_pending = self.bits.has(bit::CLOSE_PENDING);
        self.stop_all_timers(out);
        self.flush_queues();
        self.rtt = RttEstimator::new(cx.cfg);
        self.snd_una = self.iss;
        self.snd_nxt = self.iss;
        self.snd_max = self.iss;
        self.snd_end = self.iss.add(1);
        self.snd_wnd = 0;
        self.cc = None;
        self.set_cubic(None);
        self.rcv_nxt = SeqNum(0);
        self.irs = SeqNum(0);
        self.rcv_mss = 0;
        if let Some(x) = opt_mut!(self, rfc7323) {
            *x = Rfc7323 { ts_start: x.ts_start, ..Rfc7323::OFF };
        }
        self.bits.set(bit::WS_OK, false);
        self.bits.set(bit::TS_OK, false);
        self.bits.set(bit::SACK_OK, false);
        if let Some(x) = opt_mut!(self, sack) {
            *x = sack::SackState::new(self.iss);
        }
        if let Some(x) = opt_mut!(self, linux) {
            *x = linux::LinuxState::new();
        }
        self.retries = 0;
        self.bits.set(bit::WARNED, false);
        self.bits.set(bit::SYN_RETRANSMITTED, false);
        self.set_state(State::Listen, cause, rule, out);
        if close_pending {
            out.rules.push(crate::rule::APP_10);
            self.enter_closed(CloseReason::UserClose, Cause::PendingClose, crate::rule::APP_10, out);
        }
    }

    fn flush_queues(&mut self) {
        self.reassembly.clear();
        if let Some(x) = opt_mut!(self, sack) {
            x.reporter.clear();
            x.trigger = None;
            x.step_blocks = None;
        }
        self.send_backlog = 0;
        self.snd_end = self.snd_nxt.max(self.snd_una);
        self.bits.set(bit::FIN_QUEUED, false);
        self.bits.set(bit::SYN_PENDING, false);
        self.bits.set(bit::ACK_NOW, false);
        self.bits.set(bit::CLOSE_PENDING, false);
        self.bits.set(bit::PROBING, false);
        self.bits.set(bit::FAST_RETRANSMIT_PENDING, false);
        self.ack_delayed_bytes = 0;
        self.bits.set(bit::FULL_SEGMENT_UNACKED, false);
        self.rtt.stop_timing();
        self.bits.set(bit::EOF_UNREAD, false);
    }

    /// Enters TIME_WAIT: every other timer stops and the 2MSL wait starts
    /// (B-TMR-12).
    fn enter_time_wait(&mut self, cx: &StepContext, cause: Cause, rule: Rule, out: &mut Output) {
        self.stop_all_timers(out);
        self.set_state(State::TimeWait, cause, rule, out);
        out.rules.push(crate::rule::TMR_12);
        if cx.cfg.linux_time_wait {
            // B-OPT-02: Linux's fixed 60 s instead of 2×MSL.
            out.rules.push(crate::rule::OPT_02);
        }
        self.start_timer(Timer::TimeWait, cx.now + cx.cfg.time_wait_len(), out);
    }

    fn enter_established(&mut self, cause: Cause, rule: Rule, out: &mut Output) {
        if self.bits.has(bit::SYN_RETRANSMITTED) {
            // B-TMR-07: RFC 6298 (5.7).
            out.rules.push(crate::rule::TMR_07);
            self.rtt.raise_after_syn_timeout();
        }
        self.set_state(State::Established, cause, rule, out);
        if let Some(cc) = &self.cc {
            let cubic = opt!(self, cubic).map(|c| c.info());
            out.notes.push(Note::Congestion { cwnd: cc.cwnd, ssthresh: cc.ssthresh, pipe: None, cubic });
        }
        out.notes.push(Note::Event(AppEvent::Connected));
    }

    fn enter_fin_wait_2(&mut self, cx: &StepContext, cause: Cause, rule: Rule, out: &mut Output) {
        self.set_state(State::FinWait2, cause, rule, out);
        if cx.cfg.linux_fin_wait_2_timeout.is_none() {
            // B-CLOSE-11: no timer; FIN_WAIT_2 waits for the peer's FIN as
            // long as it takes.
            out.rules.push(crate::rule::CLOSE_11);
        }
        if let Some(timeout) = cx.cfg.linux_fin_wait_2_timeout {
            // B-OPT-01: the Linux orphan timeout, at least 3.5 RTO
            // (`tcp_fin_time()`).
            let floor = Duration::from_nanos(self.rtt.rto().as_nanos().saturating_mul(7) / 2);
            self.start_timer(Timer::FinWait2, cx.now + timeout.max(floor), out);
        }
    }

    /// Our FIN is out since SND.NXT last moved (it occupies `snd_end`).
    fn fin_sent(&self) -> bool {
        self.bits.has(bit::FIN_QUEUED) && self.send_backlog == 0 && self.snd_end.lt(self.snd_nxt)
    }

    /// Our FIN has been sent at least once.
    fn fin_ever_sent(&self) -> bool {
        self.bits.has(bit::FIN_QUEUED) && self.send_backlog == 0 && self.snd_end.lt(self.snd_max)
    }

    /// Everything we sent, our FIN included, is acknowledged ("acks our
    /// FIN": SEG.ACK is past the FIN).
    fn fin_acked(&self) -> bool {
        self.fin_ever_sent() && self.snd_end.lt(self.snd_una)
    }

    /// Learns Eff.snd.MSS from the peer's SYN and sets up congestion
    /// control, whose initial window depends on it (B-CC-01 when
    /// `initial_window_segments` is set).
    fn learn_peer_mss(&mut self, cfg: &TcpConfig, seg: &Segment, out: &mut Output) {
        // RFC 9293 §3.7.1 MUST-15/16: 536 when absent; never above our own.
        let peer = if seg.mss == 0 { config::DEFAULT_PEER_MSS } else { seg.mss };
        self.snd_mss = peer.min(cfg.mss).max(1);
        // RFC 5681 §3.1: ssthresh starts at the largest window the peer
        // can advertise (65535, or more with window scaling).
        let ssthresh = 65535u32 << self.rfc7323().snd_wscale;
        let iw = cc::initial_window(self.max_payload(), cfg.initial_window_segments);
        if cfg.initial_window_segments.is_some() && cfg.congestion_control != CongestionControl::None {
            // B-CC-01: RFC 6928's initial window.
            out.rules.push(crate::rule::CC_01);
        }
        self.cc = match cfg.congestion_control {
            CongestionControl::None => None,
            CongestionControl::NewReno | CongestionControl::Cubic => Some(cc::NewReno::new(iw, self.iss, ssthresh)),
        };
        self.set_cubic(
            (cfg.congestion_control == CongestionControl::Cubic).then(|| Box::new(cc::Cubic::new(cfg.hystart))),
        );
    }

    /// Sets CUBIC's state, making the extension box if this is the first
    /// option state the endpoint has.
    fn set_cubic(&mut self, cubic: Option<Box<cc::Cubic>>) {
        match (&mut self.ext, cubic) {
            (Some(ext), cubic) => ext.cubic = cubic,
            (None, None) => {}
            (None, cubic) => self.ext = Some(Box::new(Extensions { cubic, ..Extensions::default() })),
        }
    }

    /// Congestion window and slow-start threshold, when congestion control
    /// is on.
    pub fn congestion_window(&self) -> Option<(u32, u32)> {
        self.cc.map(|cc| (cc.cwnd, cc.ssthresh))
    }

    /// CUBIC's W_max, K and region, with `congestion_control: cubic`.
    pub fn cubic(&self) -> Option<CubicInfo> {
        opt!(self, cubic).map(|c| c.info())
    }

    /// Hands in-order bytes to the application (or its unread buffer).
    fn deliver(&mut self, len: u32, foreign: bool, out: &mut Output) {
        if len == 0 {
            return;
        }
        self.rcv_nxt = self.rcv_nxt.add(len);
        self.stats.bytes_delivered += u64::from(len);
        let foreign_bytes = if foreign { len } else { 0 };
        self.stats.foreign_bytes += u64::from(foreign_bytes);
        if self.bits.has(bit::READ_PAUSED) {
            self.reassembly.add_unread(len, foreign_bytes);
        } else {
            out.notes.push(Note::Event(AppEvent::Data { bytes: len, foreign: foreign_bytes }));
        }
    }

    /// Tells the application the stream ended, once it has read up to the
    /// FIN.
    fn signal_eof(&mut self, out: &mut Output) {
        if self.bits.has(bit::READ_PAUSED) {
            self.bits.set(bit::EOF_UNREAD, true);
        } else {
            out.notes.push(Note::Event(AppEvent::PeerClosed));
        }
    }
}
