//! Unit tests for the endpoint, smoltcp-style: one fixture per state built
//! by feeding real inputs, a banner per state, and test names of the form
//! `<state>_<event>_<outcome>`. Each test names the behaviour IDs it proves
//! in its doc comment.

use super::*;
use crate::rule;
use crate::time::{Duration, Instant};

const LOCAL_ISS: u32 = 1000;
const REMOTE_ISS: u32 = 5000;
const LOCAL_STREAM: u32 = 1;
const REMOTE_STREAM: u32 = 2;

/// A segment from the remote peer; the payload tag matches the peer's
/// stream at that sequence number.
fn seg(flags: Flags, seq: u32, ack: u32) -> Segment {
    let syn = flags.syn() as u32;
    Segment {
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        wnd: 65535,
        len: 0,
        mss: if flags.syn() { 1460 } else { 0 },
        opts: Options::NONE,
        sack: SackBlocks::EMPTY,
        payload: PayloadTag { stream: REMOTE_STREAM, offset: seq.wrapping_add(syn).wrapping_sub(REMOTE_ISS + 1) },
        retransmit: false,
    }
}

trait SegmentExt {
    fn len(self, n: u32) -> Segment;
    fn wnd(self, n: u16) -> Segment;
    fn with_ws(self, shift: u8) -> Segment;
    fn with_ts(self, tsval: u32, tsecr: u32) -> Segment;
}

impl SegmentExt for Segment {
    fn with_ws(mut self, shift: u8) -> Segment {
        self.opts = self.opts.with_ws(Some(shift));
        self
    }
    fn with_ts(mut self, tsval: u32, tsecr: u32) -> Segment {
        self.opts = self.opts.with_ts(Some(Timestamps { tsval, tsecr }));
        self
    }
    fn len(mut self, n: u32) -> Segment {
        self.len = n;
        self
    }
    fn wnd(mut self, n: u16) -> Segment {
        self.wnd = n;
        self
    }
}

const SYN: Flags = Flags::SYN;
const ACK: Flags = Flags::ACK;
const FIN_ACK: Flags = Flags::FIN.union(Flags::ACK);
const SYN_ACK: Flags = Flags::SYN.union(Flags::ACK);
const RST: Flags = Flags::RST;
const PSH_ACK: Flags = Flags::PSH.union(Flags::ACK);

/// One endpoint under test, with the remote side played by the test.
struct T {
    cfg: TcpConfig,
    ep: Endpoint,
    now: Instant,
    out: Output,
}

impl T {
    fn new() -> T {
        T::with_cfg(TcpConfig::default())
    }

    fn with_cfg(cfg: TcpConfig) -> T {
        let ep = Endpoint::new(&cfg, SeqNum(LOCAL_ISS), LOCAL_STREAM);
        T { cfg, ep, now: Instant::ZERO, out: Output::default() }
    }

    fn at_ms(&mut self, ms: u64) -> &mut T {
        self.now = Instant::from_nanos(ms * 1_000_000);
        self
    }

    fn finish_step(&mut self) -> Vec<Segment> {
        self.ep.dispatch(&self.cfg, self.now, &mut self.out);
        std::mem::take(&mut self.out.segments)
    }

    /// Feeds a segment, ends the step, returns what the endpoint sent.
    #[track_caller]
    fn recv(&mut self, seg: Segment) -> Vec<Segment> {
        self.out.clear();
        self.ep.handle_segment(&self.cfg, self.now, &seg, &mut self.out);
        self.finish_step()
    }

    /// Runs an application call, ends the step, returns what was sent.
    #[track_caller]
    fn call(&mut self, f: impl FnOnce(&mut Endpoint, &mut Output) -> Result<(), CallError>) -> Vec<Segment> {
        self.out.clear();
        f(&mut self.ep, &mut self.out).expect("call failed");
        self.finish_step()
    }

    #[track_caller]
    fn call_err(&mut self, f: impl FnOnce(&mut Endpoint, &mut Output) -> Result<(), CallError>) -> CallError {
        self.out.clear();
        let state = self.ep.state();
        let err = f(&mut self.ep, &mut self.out).expect_err("call succeeded");
        assert_eq!(self.ep.state(), state, "a failed call changed the state");
        assert!(self.finish_step().is_empty(), "a failed call sent something");
        err
    }

    /// Advances to the next timer deadline, fires it, returns what was sent.
    #[track_caller]
    fn fire_next_timer(&mut self) -> Vec<Segment> {
        let at = self.ep.poll_timeout().expect("no timer armed");
        assert!(self.now <= at, "time went backwards");
        self.now = at;
        self.out.clear();
        self.ep.handle_timeout(&self.cfg, self.now, &mut self.out);
        self.finish_step()
    }

    fn transitions(&self) -> Vec<(State, State, Rule)> {
        self.out.transitions().collect()
    }

    fn events(&self) -> Vec<AppEvent> {
        self.out.events().collect()
    }

    #[track_caller]
    fn assert_rule(&self, rule: Rule) {
        assert!(self.out.rules.contains(&rule), "{rule} did not fire; fired: {:?}", self.out.rules);
    }

    fn state(&self) -> State {
        self.ep.state()
    }
}

#[track_caller]
fn one(segs: Vec<Segment>) -> Segment {
    assert_eq!(segs.len(), 1, "expected exactly one segment, got {segs:?}");
    segs[0]
}

#[track_caller]
fn assert_seg(s: &Segment, flags: Flags, seq: u32, ack: u32) {
    assert_eq!((s.flags, s.seq.0, s.ack.0), (flags, seq, ack), "segment {s:?}");
}

// ---- fixtures: one per state, built from real inputs ----

fn closed() -> T {
    T::new()
}

fn listen() -> T {
    let mut t = T::new();
    assert!(t.call(|ep, out| ep.listen(out)).is_empty());
    t
}

fn syn_received() -> T {
    let mut t = listen();
    let synack = one(t.recv(seg(SYN, REMOTE_ISS, 0)));
    assert_seg(&synack, SYN_ACK, LOCAL_ISS, REMOTE_ISS + 1);
    t
}

fn syn_sent() -> T {
    let mut t = T::new();
    let syn = one(t.call(|ep, out| ep.connect(out)));
    assert_seg(&syn, SYN, LOCAL_ISS, 0);
    t
}

fn established() -> T {
    let mut t = syn_sent();
    t.at_ms(10);
    let ack = one(t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1)));
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert_eq!(t.state(), State::Established);
    t
}

fn fin_wait_1() -> T {
    let mut t = established();
    let fin = one(t.call(|ep, out| ep.close(out)));
    assert_seg(&fin, FIN_ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    t
}

fn fin_wait_2() -> T {
    let mut t = fin_wait_1();
    assert!(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 2)).is_empty());
    assert_eq!(t.state(), State::FinWait2);
    t
}

fn close_wait() -> T {
    let mut t = established();
    let ack = one(t.recv(seg(FIN_ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)));
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 2);
    assert_eq!(t.state(), State::CloseWait);
    t
}

fn last_ack() -> T {
    let mut t = close_wait();
    let fin = one(t.call(|ep, out| ep.close(out)));
    assert_seg(&fin, FIN_ACK, LOCAL_ISS + 1, REMOTE_ISS + 2);
    assert_eq!(t.state(), State::LastAck);
    t
}

fn closing() -> T {
    let mut t = fin_wait_1();
    let ack = one(t.recv(seg(FIN_ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)));
    assert_seg(&ack, ACK, LOCAL_ISS + 2, REMOTE_ISS + 2);
    assert_eq!(t.state(), State::Closing);
    t
}

fn time_wait() -> T {
    let mut t = fin_wait_2();
    t.at_ms(100);
    let ack = one(t.recv(seg(FIN_ACK, REMOTE_ISS + 1, LOCAL_ISS + 2)));
    assert_seg(&ack, ACK, LOCAL_ISS + 2, REMOTE_ISS + 2);
    assert_eq!(t.state(), State::TimeWait);
    t
}

// =========================================================================
// Application calls
// =========================================================================

/// B-APP-01
#[test]
fn closed_listen_enters_listen() {
    let t = listen();
    assert_eq!(t.transitions(), vec![(State::Closed, State::Listen, rule::APP_01)]);
    assert_eq!(t.ep.origin(), Origin::Passive);
}

/// B-APP-02, B-TMR-01
#[test]
fn closed_connect_sends_syn_with_mss_and_arms_retransmit() {
    let t = syn_sent();
    assert_eq!(t.transitions(), vec![(State::Closed, State::SynSent, rule::APP_02)]);
    assert_eq!(t.ep.timer(Timer::Retransmit), Some(Instant::from_nanos(1_000_000_000)));
    assert_eq!(t.ep.snd_nxt(), SeqNum(LOCAL_ISS + 1));
}

/// B-APP-03
#[test]
fn listen_connect_becomes_active_syn_sent() {
    let mut t = listen();
    let syn = one(t.call(|ep, out| ep.connect(out)));
    assert_seg(&syn, SYN, LOCAL_ISS, 0);
    assert_eq!(syn.mss, 1460);
    assert_eq!(t.transitions(), vec![(State::Listen, State::SynSent, rule::APP_03)]);
    assert_eq!(t.ep.origin(), Origin::Active);
}

/// B-APP-04
#[test]
fn open_on_an_existing_connection_is_refused() {
    let mut t = established();
    assert_eq!(t.call_err(|ep, out| ep.listen(out)), CallError::ConnectionExists);
    assert_eq!(t.call_err(|ep, out| ep.connect(out)), CallError::ConnectionExists);
    let mut t = listen();
    assert_eq!(t.call_err(|ep, out| ep.listen(out)), CallError::ConnectionExists);
    t.assert_rule(rule::APP_04);
}

/// B-APP-05
#[test]
fn closed_send_close_abort_fail() {
    let mut t = closed();
    assert_eq!(t.call_err(|ep, out| ep.send(10, out)), CallError::ConnectionDoesNotExist);
    assert_eq!(t.call_err(|ep, out| ep.close(out)), CallError::ConnectionDoesNotExist);
    assert_eq!(t.call_err(|ep, out| ep.abort(out)), CallError::ConnectionDoesNotExist);
    t.assert_rule(rule::APP_05);
}

/// B-APP-06
#[test]
fn listen_send_is_refused() {
    let mut t = listen();
    assert_eq!(t.call_err(|ep, out| ep.send(10, out)), CallError::RemoteUnspecified);
}

/// B-APP-07, B-DATA-01
#[test]
fn syn_sent_send_queues_until_established() {
    let mut t = syn_sent();
    assert!(t.call(|ep, out| ep.send(100, out)).is_empty());
    t.assert_rule(rule::APP_07);
    let segs = t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    let data = one(segs);
    assert_seg(&data, PSH_ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert_eq!(data.len, 100);
}

/// B-APP-08, B-DATA-01
#[test]
fn established_send_segments_by_mss_with_psh_on_the_last() {
    let mut t = established();
    let segs = t.call(|ep, out| ep.send(3000, out));
    t.assert_rule(rule::APP_08);
    let lens: Vec<u32> = segs.iter().map(|s| s.len).collect();
    assert_eq!(lens, vec![1460, 1460, 80]);
    assert_eq!(segs[0].flags, ACK);
    assert_eq!(segs[2].flags, PSH_ACK);
    assert_eq!(segs[1].seq, SeqNum(LOCAL_ISS + 1 + 1460));
    assert_eq!(segs[1].payload.offset, 1460);
}

/// B-APP-08: CLOSE_WAIT may keep sending (B-CLOSE-12).
#[test]
fn close_wait_send_is_transmitted() {
    let mut t = close_wait();
    let s = one(t.call(|ep, out| ep.send(10, out)));
    assert_eq!(s.len, 10);
    assert_eq!(s.ack, SeqNum(REMOTE_ISS + 2));
}

/// B-APP-09
#[test]
fn send_after_close_is_refused() {
    for mut t in [fin_wait_1(), fin_wait_2(), closing(), last_ack(), time_wait()] {
        assert_eq!(t.call_err(|ep, out| ep.send(1, out)), CallError::ConnectionClosing);
        t.assert_rule(rule::APP_09);
    }
}

/// B-APP-10
#[test]
fn listen_close_enters_closed_with_user_close() {
    let mut t = listen();
    t.call(|ep, out| ep.close(out));
    assert_eq!(t.transitions(), vec![(State::Listen, State::Closed, rule::APP_10)]);
    assert_eq!(t.ep.close_reason(), Some(CloseReason::UserClose));
}

/// B-APP-11
#[test]
fn syn_sent_close_enters_closed_and_stops_the_timer() {
    let mut t = syn_sent();
    assert!(t.call(|ep, out| ep.close(out)).is_empty());
    assert_eq!(t.transitions(), vec![(State::SynSent, State::Closed, rule::APP_11)]);
    assert_eq!(t.ep.poll_timeout(), None);
}

/// B-APP-12
#[test]
fn syn_received_close_sends_fin_and_enters_fin_wait_1() {
    let mut t = syn_received();
    let fin = one(t.call(|ep, out| ep.close(out)));
    assert_seg(&fin, FIN_ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert_eq!(t.transitions(), vec![(State::SynReceived, State::FinWait1, rule::APP_12)]);
}

/// B-APP-13, B-APP-07
#[test]
fn syn_received_close_with_data_queued_waits_for_established() {
    let mut t = syn_received();
    t.call(|ep, out| ep.send(10, out));
    assert!(t.call(|ep, out| ep.close(out)).is_empty());
    assert_eq!(t.state(), State::SynReceived);
    t.assert_rule(rule::APP_13);
    let segs = t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1));
    let s = one(segs);
    assert_eq!(s.flags, Flags::FIN | Flags::PSH | Flags::ACK);
    assert_eq!(s.len, 10);
    let path: Vec<State> = t.transitions().iter().map(|t| t.1).collect();
    assert_eq!(path, vec![State::Established, State::FinWait1]);
}

/// B-APP-14
#[test]
fn established_close_puts_fin_on_the_last_data_segment() {
    let mut t = established();
    t.out.clear();
    t.ep.send(100, &mut t.out).unwrap();
    t.ep.close(&mut t.out).unwrap();
    let s = one(t.finish_step());
    assert_eq!(s.flags, Flags::FIN | Flags::PSH | Flags::ACK);
    assert_eq!((s.seq.0, s.len, s.seg_len()), (LOCAL_ISS + 1, 100, 101));
    assert_eq!(t.transitions(), vec![(State::Established, State::FinWait1, rule::APP_14)]);
}

/// B-APP-15
#[test]
fn close_wait_close_enters_last_ack() {
    let t = last_ack();
    assert_eq!(t.transitions(), vec![(State::CloseWait, State::LastAck, rule::APP_15)]);
}

/// B-APP-16
#[test]
fn close_after_fin_is_refused_and_sends_no_second_fin() {
    for mut t in [fin_wait_1(), fin_wait_2(), closing(), last_ack(), time_wait()] {
        assert_eq!(t.call_err(|ep, out| ep.close(out)), CallError::ConnectionClosing);
        t.assert_rule(rule::APP_16);
    }
}

/// B-APP-17
#[test]
fn abort_in_listen_or_syn_sent_sends_nothing() {
    for mut t in [listen(), syn_sent()] {
        assert!(t.call(|ep, out| ep.abort(out)).is_empty());
        t.assert_rule(rule::APP_17);
        assert_eq!(t.ep.close_reason(), Some(CloseReason::Aborted));
    }
}

/// B-APP-18
#[test]
fn abort_when_synchronized_sends_rst_at_snd_nxt() {
    for mut t in [syn_received(), established(), fin_wait_1(), fin_wait_2(), close_wait()] {
        let nxt = t.ep.snd_nxt().0;
        let rst = one(t.call(|ep, out| ep.abort(out)));
        assert_seg(&rst, RST, nxt, 0);
        t.assert_rule(rule::APP_18);
        assert_eq!(t.state(), State::Closed);
        assert!(t.events().contains(&AppEvent::Closed(CloseReason::Aborted)));
    }
}

/// B-APP-19
#[test]
fn abort_in_closing_last_ack_time_wait_sends_nothing() {
    for mut t in [closing(), last_ack(), time_wait()] {
        assert!(t.call(|ep, out| ep.abort(out)).is_empty());
        t.assert_rule(rule::APP_19);
        assert_eq!(t.state(), State::Closed);
    }
}

// =========================================================================
// CLOSED and LISTEN
// =========================================================================

/// B-CLOSED-01
#[test]
fn closed_segment_without_ack_gets_rst_ack() {
    let mut t = closed();
    let rst = one(t.recv(seg(SYN, 700, 0)));
    assert_seg(&rst, Flags::RST | Flags::ACK, 0, 701);
}

/// B-CLOSED-02
#[test]
fn closed_segment_with_ack_gets_rst_at_its_ack() {
    let mut t = closed();
    let rst = one(t.recv(seg(ACK, 700, 42)));
    assert_seg(&rst, RST, 42, 0);
}

/// B-CLOSED-03
#[test]
fn closed_rst_is_not_answered() {
    let mut t = closed();
    assert!(t.recv(seg(RST, 700, 0)).is_empty());
    t.assert_rule(rule::CLOSED_03);
}

/// B-LISTEN-01
#[test]
fn listen_rst_is_ignored() {
    let mut t = listen();
    assert!(t.recv(seg(RST, 1, 0)).is_empty());
    assert_eq!(t.state(), State::Listen);
}

/// B-LISTEN-02
#[test]
fn listen_ack_gets_rst() {
    let mut t = listen();
    let rst = one(t.recv(seg(SYN_ACK, 1, 77)));
    assert_seg(&rst, RST, 77, 0);
    assert_eq!(t.state(), State::Listen);
}

/// B-LISTEN-03
#[test]
fn listen_syn_enters_syn_received_and_sends_syn_ack() {
    let t = syn_received();
    assert_eq!(t.transitions(), vec![(State::Listen, State::SynReceived, rule::LISTEN_03)]);
    assert!(t.ep.timer(Timer::Retransmit).is_some());
    assert_eq!(t.ep.rcv_nxt(), SeqNum(REMOTE_ISS + 1));
}

/// B-LISTEN-04
#[test]
fn listen_other_segment_is_dropped() {
    let mut t = listen();
    assert!(t.recv(seg(Flags::FIN, 1, 0)).is_empty());
    t.assert_rule(rule::LISTEN_04);
}

// =========================================================================
// SYN_SENT
// =========================================================================

/// B-SYNSENT-01
#[test]
fn syn_sent_old_duplicate_syn_ack_gets_rst() {
    let mut t = syn_sent();
    let rst = one(t.recv(seg(SYN_ACK, 9000, 500)));
    assert_seg(&rst, RST, 500, 0);
    assert_eq!(t.state(), State::SynSent);
}

/// B-SYNSENT-02
#[test]
fn syn_sent_rst_with_acceptable_ack_is_refused() {
    let mut t = syn_sent();
    t.recv(seg(Flags::RST | Flags::ACK, 0, LOCAL_ISS + 1));
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.ep.close_reason(), Some(CloseReason::Refused));
    assert_eq!(t.transitions()[0].2, rule::SYNSENT_02);
}

/// B-SYNSENT-03
#[test]
fn syn_sent_rst_without_acceptable_ack_is_dropped() {
    let mut t = syn_sent();
    assert!(t.recv(seg(RST, 0, 0)).is_empty());
    assert!(t.recv(seg(Flags::RST | Flags::ACK, 0, 99)).is_empty());
    assert_eq!(t.state(), State::SynSent);
}

/// B-SYNSENT-04, B-TMR-05
#[test]
fn syn_sent_syn_ack_establishes_and_samples_rtt() {
    let t = established();
    assert_eq!(t.transitions(), vec![(State::SynSent, State::Established, rule::SYNSENT_04)]);
    assert!(t.events().contains(&AppEvent::Connected));
    assert_eq!(t.ep.timer(Timer::Retransmit), None);
    // 10 ms sample: RTO = max(10 + 4*5, rto_min 1 s).
    assert_eq!(t.ep.rto(), Duration::from_secs(1));
}

/// B-SYNSENT-05
#[test]
fn syn_sent_syn_enters_syn_received_and_resends_as_syn_ack() {
    let mut t = syn_sent();
    let synack = one(t.recv(seg(SYN, REMOTE_ISS, 0)));
    assert_seg(&synack, SYN_ACK, LOCAL_ISS, REMOTE_ISS + 1);
    assert_eq!(t.transitions(), vec![(State::SynSent, State::SynReceived, rule::SYNSENT_05)]);
    assert_eq!(t.ep.origin(), Origin::Active);
}

/// B-SYNSENT-06
#[test]
fn syn_sent_bare_ack_free_segment_is_dropped() {
    let mut t = syn_sent();
    assert!(t.recv(seg(Flags::FIN, 1, 0)).is_empty());
    t.assert_rule(rule::SYNSENT_06);
}

// =========================================================================
// SYN_RECEIVED
// =========================================================================

/// B-ACK-02, B-TMR-02
#[test]
fn syn_received_ack_establishes() {
    let mut t = syn_received();
    assert!(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)).is_empty());
    assert_eq!(t.transitions(), vec![(State::SynReceived, State::Established, rule::ACK_02)]);
    assert_eq!(t.ep.timer(Timer::Retransmit), None);
}

/// B-ACK-03
#[test]
fn syn_received_unacceptable_ack_gets_rst() {
    let mut t = syn_received();
    let rst = one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS)));
    assert_seg(&rst, RST, LOCAL_ISS, 0);
    assert_eq!(t.state(), State::SynReceived);
}

/// B-RST-01
#[test]
fn passive_syn_received_rst_returns_to_listen() {
    let mut t = syn_received();
    assert!(t.recv(seg(RST, REMOTE_ISS + 1, 0)).is_empty());
    assert_eq!(t.transitions(), vec![(State::SynReceived, State::Listen, rule::RST_01)]);
    assert!(t.events().is_empty(), "the application is not told");
    assert_eq!(t.ep.poll_timeout(), None);
}

/// A passive SYN_RECEIVED with data queued whose application has called
/// CLOSE (pending, B-APP-07, B-APP-13).
fn syn_received_close_pending() -> T {
    let mut t = syn_received();
    t.at_ms(20);
    assert!(t.call(|ep, out| ep.send(10, out)).is_empty());
    t.at_ms(25);
    assert!(t.call(|ep, out| ep.close(out)).is_empty());
    t.assert_rule(rule::APP_13);
    assert_eq!(t.state(), State::SynReceived);
    t
}

/// The endpoint is CLOSED for good after its pending CLOSE was applied in
/// LISTEN: no timer, and a new SYN is answered with a reset as in CLOSED
/// (B-CLOSED-01), not with a SYN,ACK.
#[track_caller]
fn assert_closed_for_good(t: &mut T) {
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.ep.close_reason(), Some(CloseReason::UserClose));
    assert_eq!(t.ep.poll_timeout(), None, "no timer may be left");
    assert_eq!(t.ep.unacked_bytes(), 0, "the queued data is flushed");
    let reply = one(t.recv(seg(SYN, REMOTE_ISS + 100, 0)));
    assert_seg(&reply, Flags::RST | ACK, 0, REMOTE_ISS + 101);
    assert_eq!(t.state(), State::Closed);
}

/// B-RST-01, B-APP-13, B-APP-10: an acceptable RST sends a passive
/// SYN_RECEIVED back to LISTEN; the CLOSE its application already made
/// (pending by B-APP-13) is not forgotten but applied there at once, as
/// B-APP-10: CLOSED, reason USER_CLOSE, nothing sent.
#[test]
fn passive_syn_received_rst_with_close_pending_returns_to_listen_then_closes() {
    let mut t = syn_received_close_pending();
    t.at_ms(1010);
    assert!(t.recv(seg(RST, REMOTE_ISS + 1, 0)).is_empty(), "nothing is sent");
    assert_eq!(
        t.transitions(),
        vec![(State::SynReceived, State::Listen, rule::RST_01), (State::Listen, State::Closed, rule::APP_10)]
    );
    t.assert_rule(rule::RST_01);
    t.assert_rule(rule::APP_10);
    assert_eq!(t.events(), vec![AppEvent::Closed(CloseReason::UserClose)]);
    assert_closed_for_good(&mut t);
}

/// B-TMR-09, B-RST-01, B-APP-13, B-APP-10: a passive SYN_RECEIVED that
/// gives up on its SYN,ACK returns to LISTEN as by B-RST-01, and a CLOSE
/// already made (B-APP-13) is applied there at once (B-APP-10).
#[test]
fn passive_syn_received_gives_up_with_close_pending_then_closes() {
    let mut t = syn_received_close_pending();
    let mut sent = Vec::new();
    while t.state() == State::SynReceived {
        sent.extend(t.fire_next_timer());
    }
    assert!(sent.iter().all(|s| s.flags == SYN_ACK), "only SYN,ACKs are resent: {sent:?}");
    assert_eq!(sent.len(), t.cfg.r2_syn.expect("finite by default") as usize);
    assert_eq!(
        t.transitions(),
        vec![(State::SynReceived, State::Listen, rule::TMR_09), (State::Listen, State::Closed, rule::APP_10)]
    );
    t.assert_rule(rule::TMR_09);
    t.assert_rule(rule::APP_10);
    assert_eq!(t.events(), vec![AppEvent::Closed(CloseReason::UserClose)]);
    assert_closed_for_good(&mut t);
}

/// B-SYN-01, B-APP-13, B-APP-10: the third way back to LISTEN, a SYN in
/// the window, keeps a pending CLOSE too (the same `return_to_listen`).
#[test]
fn passive_syn_received_syn_in_window_with_close_pending_then_closes() {
    let mut t = syn_received_close_pending();
    assert!(t.recv(seg(SYN, REMOTE_ISS + 10, 0)).is_empty());
    assert_eq!(
        t.transitions(),
        vec![(State::SynReceived, State::Listen, rule::SYN_01), (State::Listen, State::Closed, rule::APP_10)]
    );
    assert_closed_for_good(&mut t);
}

/// B-RST-01, B-APP-10: the trace tells the deferred CLOSE from a call made
/// now. The LISTEN -> CLOSED transition names the pending close as its
/// cause, since the application made no call at this time (its CLOSE came
/// earlier, B-APP-13).
#[test]
fn passive_syn_received_close_pending_applied_in_listen_names_the_pending_close() {
    let mut t = syn_received_close_pending();
    t.recv(seg(RST, REMOTE_ISS + 1, 0));
    let causes: Vec<String> = t
        .out
        .notes
        .iter()
        .filter_map(|n| match n {
            Note::Transition { cause, .. } => Some(cause.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(causes, vec!["recv RST", "pending close"]);
}

/// B-APP-13, B-APP-09: once a CLOSE is pending in SYN_RECEIVED the
/// application has said it has no more to send (RFC 9293 §3.10.4), so a
/// SEND is refused with CONNECTION_CLOSING as in every state after a CLOSE
/// (§3.10.2): nothing queued, nothing sent, the state unchanged. When the
/// handshake completes only the data queued before the CLOSE goes out,
/// with the FIN on it.
#[test]
fn syn_received_close_pending_send_is_refused() {
    let mut t = syn_received_close_pending();
    assert_eq!(t.call_err(|ep, out| ep.send(5000, out)), CallError::ConnectionClosing);
    t.assert_rule(rule::APP_09);
    assert_eq!(t.ep.unacked_bytes(), 10, "only the 10 bytes queued before the CLOSE");
    let s = one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)));
    assert_eq!(s.flags, Flags::FIN | Flags::PSH | Flags::ACK);
    assert_eq!((s.seq.0, s.len), (LOCAL_ISS + 1, 10));
}

/// B-APP-13, B-APP-16: a second CLOSE while the first is pending in
/// SYN_RECEIVED is refused with CONNECTION_CLOSING (RFC 9293 §3.10.4: the
/// connection is already closing): nothing sent, the state unchanged, and
/// still exactly one FIN once ESTABLISHED.
#[test]
fn syn_received_close_pending_second_close_is_refused() {
    let mut t = syn_received_close_pending();
    assert_eq!(t.call_err(|ep, out| ep.close(out)), CallError::ConnectionClosing);
    t.assert_rule(rule::APP_16);
    let s = one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)));
    assert_eq!(s.flags, Flags::FIN | Flags::PSH | Flags::ACK);
    assert_eq!(t.state(), State::FinWait1);
    assert_eq!(t.call_err(|ep, out| ep.close(out)), CallError::ConnectionClosing);
}

/// B-RST-01: without a pending CLOSE the endpoint stays in LISTEN and a
/// new SYN starts a new handshake.
#[test]
fn passive_syn_received_rst_without_close_keeps_listening() {
    let mut t = syn_received();
    t.call(|ep, out| ep.send(10, out));
    t.recv(seg(RST, REMOTE_ISS + 1, 0));
    assert_eq!(t.state(), State::Listen);
    let synack = one(t.recv(seg(SYN, REMOTE_ISS + 100, 0)));
    assert_seg(&synack, SYN_ACK, LOCAL_ISS, REMOTE_ISS + 101);
}

/// B-RST-02
#[test]
fn active_syn_received_rst_is_refused() {
    let mut t = syn_sent();
    t.recv(seg(SYN, REMOTE_ISS, 0));
    t.recv(seg(RST, REMOTE_ISS + 1, 0));
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.ep.close_reason(), Some(CloseReason::Refused));
}

/// B-SYN-01
#[test]
fn passive_syn_received_syn_in_window_returns_to_listen() {
    let mut t = syn_received();
    assert!(t.recv(seg(SYN, REMOTE_ISS + 10, 0)).is_empty());
    assert_eq!(t.transitions(), vec![(State::SynReceived, State::Listen, rule::SYN_01)]);
}

/// B-ACK-08
#[test]
fn active_syn_received_crossing_syn_ack_establishes() {
    let mut t = syn_sent();
    t.recv(seg(SYN, REMOTE_ISS, 0));
    let ack = one(t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1)));
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert_eq!(t.transitions(), vec![(State::SynReceived, State::Established, rule::ACK_02)]);
    t.assert_rule(rule::ACK_08);
}

/// B-SEQ-01: a retransmitted SYN in SYN_RECEIVED fails the test and is
/// answered by an ACK, not a new SYN,ACK.
#[test]
fn syn_received_retransmitted_syn_is_acknowledged() {
    let mut t = syn_received();
    let ack = one(t.recv(seg(SYN, REMOTE_ISS, 0)));
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    t.assert_rule(rule::SEQ_01);
}

/// B-DATA-05, B-CLOSE-02
#[test]
fn syn_received_text_and_fin_wait_for_established() {
    let mut t = listen();
    let syn = seg(Flags::SYN | Flags::FIN, REMOTE_ISS, 0).len(5);
    one(t.recv(syn));
    assert!(t.events().is_empty());
    let ack = one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)));
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 7);
    assert!(t.events().contains(&AppEvent::Data { bytes: 5, foreign: 0 }));
    let path: Vec<State> = t.transitions().iter().map(|t| t.1).collect();
    assert_eq!(path, vec![State::Established, State::CloseWait]);
}

// =========================================================================
// Sequence test (SYN_RECEIVED and synchronized states)
// =========================================================================

/// B-SEQ-01
#[test]
fn established_out_of_window_segment_is_acknowledged_and_dropped() {
    let mut t = established();
    let ack = one(t.recv(seg(ACK, REMOTE_ISS + 1 + 70_000, LOCAL_ISS + 1).len(10)));
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    t.assert_rule(rule::SEQ_01);
}

/// B-SEQ-02
#[test]
fn established_out_of_window_rst_is_dropped_silently() {
    let mut t = established();
    assert!(t.recv(seg(RST, REMOTE_ISS + 1 + 70_000, 0)).is_empty());
    assert_eq!(t.state(), State::Established);
}

/// B-SEQ-03
#[test]
fn zero_window_still_processes_the_ack_of_a_data_segment() {
    let cfg = TcpConfig { recv_buffer: 100, ..TcpConfig::default() };
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.connect(out));
    t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    t.ep.pause_read();
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(100));
    assert_eq!(t.ep.rcv_wnd(&t.cfg), 0);
    t.call(|ep, out| ep.send(10, out));
    let ack = one(t.recv(seg(ACK, REMOTE_ISS + 101, LOCAL_ISS + 11).len(5)));
    assert_seg(&ack, ACK, LOCAL_ISS + 11, REMOTE_ISS + 101);
    assert_eq!(ack.wnd, 0);
    t.assert_rule(rule::SEQ_03);
    assert_eq!(t.ep.snd_una(), SeqNum(LOCAL_ISS + 11));
}

/// B-SEQ-03, B-TMR-14: at zero window the ACK field of a pure ACK one
/// past RCV.NXT (a prober that counts its probe octet in SND.NXT) is still
/// processed (§3.10.7.4 "special allowance ... to accept valid ACKs").
#[test]
fn zero_window_processes_the_ack_of_an_unacceptable_pure_ack() {
    let cfg = TcpConfig { recv_buffer: 100, ..TcpConfig::default() };
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.connect(out));
    t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    t.ep.pause_read();
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(100));
    assert_eq!(t.ep.rcv_wnd(&t.cfg), 0);
    t.call(|ep, out| ep.send(10, out));
    let ack = one(t.recv(seg(ACK, REMOTE_ISS + 102, LOCAL_ISS + 11)));
    assert_seg(&ack, ACK, LOCAL_ISS + 11, REMOTE_ISS + 101);
    t.assert_rule(rule::SEQ_03);
    assert_eq!(t.ep.snd_una(), SeqNum(LOCAL_ISS + 11));
    assert_eq!(t.ep.timer(Timer::Retransmit), None);
}

/// B-SEQ-02, B-SEQ-03: the allowance covers the ACK field only; a reset
/// at zero window must still sit exactly at RCV.NXT.
#[test]
fn zero_window_drops_a_reset_one_past_rcv_nxt() {
    let cfg = TcpConfig { recv_buffer: 100, ..TcpConfig::default() };
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.connect(out));
    t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    t.ep.pause_read();
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(100));
    assert!(t.recv(seg(RST, REMOTE_ISS + 102, 0)).is_empty());
    assert_eq!(t.state(), State::Established);
}

/// B-SEQ-04
#[test]
fn established_partly_old_segment_is_trimmed() {
    let mut t = established();
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(10));
    let ack = one(t.recv(seg(ACK, REMOTE_ISS + 6, LOCAL_ISS + 1).len(10)));
    assert_eq!(ack.ack, SeqNum(REMOTE_ISS + 16));
    assert!(t.events().contains(&AppEvent::Data { bytes: 5, foreign: 0 }));
    t.assert_rule(rule::SEQ_04);
}

/// B-SEQ-05, B-DATA-03
#[test]
fn reordered_text_is_held_then_delivered_with_one_cumulative_ack() {
    let mut t = established();
    let dup = one(t.recv(seg(ACK, REMOTE_ISS + 11, LOCAL_ISS + 1).len(10)));
    assert_eq!(dup.ack, SeqNum(REMOTE_ISS + 1), "ACK at once for out-of-order text");
    t.assert_rule(rule::SEQ_05);
    assert!(t.events().is_empty());
    let ack = one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(10)));
    assert_eq!(ack.ack, SeqNum(REMOTE_ISS + 21));
    t.assert_rule(rule::DATA_03);
    assert_eq!(t.ep.stats().bytes_delivered, 20);
}

/// B-SEQ-05, B-DATA-03: a FIN that overtakes the last data segment waits.
#[test]
fn fin_ahead_of_a_gap_is_held_until_the_data_arrives() {
    let mut t = established();
    t.recv(seg(FIN_ACK, REMOTE_ISS + 11, LOCAL_ISS + 1));
    assert_eq!(t.state(), State::Established);
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(10));
    assert_eq!(t.state(), State::CloseWait);
    assert_eq!(t.ep.rcv_nxt(), SeqNum(REMOTE_ISS + 12));
    assert!(t.events().contains(&AppEvent::PeerClosed));
}

// =========================================================================
// RST and SYN in synchronized states
// =========================================================================

/// B-RST-03
#[test]
fn rst_in_established_and_half_closed_states_resets() {
    for mut t in [established(), fin_wait_1(), fin_wait_2(), close_wait()] {
        let rcv_nxt = t.ep.rcv_nxt().0;
        assert!(t.recv(seg(RST, rcv_nxt, 0)).is_empty());
        assert_eq!(t.state(), State::Closed);
        assert_eq!(t.ep.close_reason(), Some(CloseReason::Reset));
        t.assert_rule(rule::RST_03);
    }
}

/// B-RST-04
#[test]
fn rst_in_closing_last_ack_time_wait_closes() {
    for mut t in [closing(), last_ack(), time_wait()] {
        let rcv_nxt = t.ep.rcv_nxt().0;
        t.recv(seg(RST, rcv_nxt, 0));
        assert_eq!(t.state(), State::Closed);
        t.assert_rule(rule::RST_04);
    }
}

/// B-RST-05
#[test]
fn rst_carrying_data_resets_and_ignores_the_data() {
    let mut t = established();
    t.recv(seg(RST, REMOTE_ISS + 1, 0).len(10));
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.ep.stats().bytes_delivered, 0);
    t.assert_rule(rule::RST_05);
}

/// B-SYN-02
#[test]
fn syn_in_window_when_synchronized_resets_and_aborts() {
    let mut t = established();
    let rst = one(t.recv(seg(SYN, REMOTE_ISS + 5, 0)));
    assert_seg(&rst, Flags::RST | Flags::ACK, 0, REMOTE_ISS + 6);
    assert_eq!(t.ep.close_reason(), Some(CloseReason::SynInWindow));
}

// =========================================================================
// ACK processing
// =========================================================================

/// B-ACK-01
#[test]
fn established_segment_without_ack_is_dropped() {
    let mut t = established();
    assert!(t.recv(seg(Flags::PSH, REMOTE_ISS + 1, 0).len(5)).is_empty());
    assert_eq!(t.ep.stats().bytes_delivered, 0);
    t.assert_rule(rule::ACK_01);
}

/// B-ACK-04, B-TMR-03, B-TMR-02
#[test]
fn established_new_ack_advances_snd_una_and_restarts_the_timer() {
    let mut t = established();
    t.at_ms(20);
    t.call(|ep, out| ep.send(3000, out));
    t.at_ms(50);
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1461));
    t.assert_rule(rule::ACK_04);
    t.assert_rule(rule::TMR_03);
    assert_eq!(t.ep.snd_una(), SeqNum(LOCAL_ISS + 1461));
    assert_eq!(t.ep.timer(Timer::Retransmit), Some(Instant::from_nanos(1_050_000_000)));
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 3001));
    t.assert_rule(rule::TMR_02);
    assert_eq!(t.ep.timer(Timer::Retransmit), None);
}

/// B-ACK-05
#[test]
fn established_duplicate_ack_is_ignored() {
    let mut t = established();
    t.call(|ep, out| ep.send(10, out));
    assert!(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)).is_empty());
    t.assert_rule(rule::ACK_05);
    assert_eq!(t.ep.snd_una(), SeqNum(LOCAL_ISS + 1));
}

/// B-ACK-06
#[test]
fn ack_of_unsent_data_is_answered_and_dropped() {
    let mut t = established();
    let ack = one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 500).len(3)));
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert_eq!(t.ep.stats().bytes_delivered, 0);
    t.assert_rule(rule::ACK_06);
}

/// B-ACK-07
#[test]
fn window_updates_only_from_newer_segments() {
    let mut t = established();
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(1000));
    assert_eq!(t.ep.snd_wnd(), 1000);
    t.assert_rule(rule::ACK_07);
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(10).wnd(2000));
    assert_eq!(t.ep.snd_wnd(), 2000);
}

// =========================================================================
// Data
// =========================================================================

/// B-DATA-02
#[test]
fn established_in_order_text_is_delivered_and_acknowledged() {
    let mut t = established();
    let ack = one(t.recv(seg(PSH_ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(100)));
    assert_eq!(ack.ack, SeqNum(REMOTE_ISS + 101));
    assert_eq!(t.events(), vec![AppEvent::Data { bytes: 100, foreign: 0 }]);
}

/// B-DATA-02: the ACK rides on data sent in the same step.
#[test]
fn ack_rides_on_data_sent_in_the_same_step() {
    let mut t = established();
    t.out.clear();
    t.ep.handle_segment(&t.cfg, t.now, &seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(10), &mut t.out);
    t.ep.send(20, &mut t.out).unwrap();
    let s = one(t.finish_step());
    assert_eq!((s.len, s.ack.0), (20, REMOTE_ISS + 11));
}

/// B-DATA-04
#[test]
fn text_after_the_peer_fin_is_ignored() {
    let mut t = close_wait();
    t.recv(seg(ACK, REMOTE_ISS + 2, LOCAL_ISS + 1).len(10));
    assert_eq!(t.ep.stats().bytes_delivered, 0);
    t.assert_rule(rule::DATA_04);
}

/// B-DATA-06: zero window, data waits; PERSIST probes with one octet and
/// the count restarts while probes are answered.
#[test]
fn zero_window_is_probed_with_one_octet() {
    let mut t = established();
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(0));
    assert!(t.call(|ep, out| ep.send(10, out)).is_empty());
    t.assert_rule(rule::DATA_06);
    for round in 0..12 {
        let probe = one(t.fire_next_timer());
        assert_eq!(probe.len, 1, "round {round}");
        assert_eq!(probe.seq, SeqNum(LOCAL_ISS + 1));
        t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(0));
        assert_eq!(t.state(), State::Established, "never gives up while probes are ACKed");
    }
    let segs = t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(100));
    let s = one(segs);
    assert_eq!((s.seq.0, s.len), (LOCAL_ISS + 1, 10));
}

/// B-DATA-06, B-TMR-14: the first probe carries a NEW octet (RFC 9293
/// §3.8.6.1 "send at least one octet of new data"), so it is not a
/// retransmission (not flagged, not counted); each later probe sends that
/// same octet again and is one. Either way the probe is never timed for
/// RTT (its answer waits on the window, not the path): the RTO is what the
/// handshake's sample gave, 1 s, after the window opens.
#[test]
fn the_first_probe_is_new_data_and_later_probes_are_retransmissions() {
    let mut t = established_facing_a_zero_window(10);
    let first = one(t.fire_next_timer());
    assert_eq!((first.seq.0, first.len, first.retransmit), (LOCAL_ISS + 1, 1, false));
    assert_eq!(t.ep.stats().retransmissions, 0, "a new octet is not a retransmission");
    t.at_ms(1_500);
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(0));
    let second = one(t.fire_next_timer());
    assert_eq!((second.seq.0, second.len, second.retransmit), (LOCAL_ISS + 1, 1, true));
    assert_eq!(t.ep.stats().retransmissions, 1);
    // Answered 4 s after the first probe: timing it would have moved SRTT.
    t.at_ms(5_010);
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 2).wnd(100));
    assert_eq!(t.ep.rto(), Duration::from_secs(1), "a probe is never an RTT sample");
}

/// An established endpoint (RTO 1 s from the 10 ms handshake sample)
/// whose peer has closed its window, with `bytes` queued: PERSIST runs.
fn established_facing_a_zero_window(bytes: u64) -> T {
    let mut t = established();
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(0));
    assert!(t.call(|ep, out| ep.send(bytes, out)).is_empty());
    t
}

/// B-TMR-14, B-DATA-06: probes go on PERSIST, never on RETRANSMIT; the
/// probe interval starts at the RTO and doubles (RFC 9293 §3.8.6.1
/// SHLD-29/30) while the RTO itself stays what the measured RTT gives,
/// so after 20 s of zero window a loss waits one RTO (1 s), not 32 s.
#[test]
fn zero_window_probes_run_on_persist_and_leave_the_rto_alone() {
    let mut t = established_facing_a_zero_window(10);
    t.assert_rule(rule::DATA_06);
    assert_eq!(t.ep.rto(), Duration::from_secs(1));
    assert_eq!(t.ep.timer(Timer::Retransmit), None);
    // Zero window seen at 10 ms: probes at 1.01, 3.01, 7.01 and 15.01 s.
    let mut expected_ms = 10;
    for interval_s in [1, 2, 4, 8] {
        expected_ms += interval_s * 1000;
        let deadline = t.ep.timer(Timer::Persist).expect("PERSIST runs while the window is closed");
        assert_eq!(deadline, Instant::from_nanos(expected_ms * 1_000_000));
        let probe = one(t.fire_next_timer());
        assert_eq!((probe.seq.0, probe.len), (LOCAL_ISS + 1, 1));
        assert_eq!(t.ep.timer(Timer::Retransmit), None, "RETRANSMIT is stopped while probing");
        t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(0));
        assert_eq!(t.ep.rto(), Duration::from_secs(1), "probing never backs off the RTO");
    }
    // 20 s after the window closed it opens; the data goes at once.
    t.at_ms(20_010);
    let data = one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(100)));
    assert_eq!((data.seq.0, data.len), (LOCAL_ISS + 1, 10));
    assert_eq!(t.ep.timer(Timer::Persist), None);
    assert_eq!(t.ep.timer(Timer::Retransmit), Some(Instant::from_nanos(21_010 * 1_000_000)));
    // That segment is lost: the RTO backs off from 1 s (B-TMR-04).
    let resent = one(t.fire_next_timer());
    assert_eq!((resent.seq.0, resent.len), (LOCAL_ISS + 1, 10));
    assert_eq!(t.ep.timer(Timer::Retransmit), Some(Instant::from_nanos(23_010 * 1_000_000)));
}

/// B-APP-18, B-TMR-14: an ABORT while a probe octet is outstanding resets
/// at SND.UNA, the peer's RCV.NXT (the probe octet was discarded at its
/// zero window), so the zero-window peer accepts the reset (§3.10.7.4
/// "special allowance ... RSTs"; MUST-66) rather than dropping one at
/// RCV.NXT+1.
#[test]
fn abort_while_probing_resets_at_snd_una() {
    let mut t = established_facing_a_zero_window(10);
    let probe = one(t.fire_next_timer());
    assert_eq!((probe.seq.0, probe.len), (LOCAL_ISS + 1, 1));
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(0));
    let rst = one(t.call(|ep, out| ep.abort(out)));
    assert_eq!((rst.flags, rst.seq.0), (RST, LOCAL_ISS + 1));
    assert_eq!(t.state(), State::Closed);
}

/// B-DATA-06, B-TMR-11: as long as probes are answered the connection
/// stays open (RFC 1122 §4.2.2.17, RFC 9293 MUST-37), whatever the user
/// timeout: an answered probe stops USER_TIMEOUT, even when the probe
/// interval (up to 60 s) outgrows it. 200 s of answered probes against a
/// 30 s user timeout; then a probe that goes unanswered times out 30 s
/// after it was sent.
#[test]
fn answered_probes_outlive_the_user_timeout() {
    let cfg = TcpConfig { user_timeout: Some(Duration::from_secs(30)), ..TcpConfig::default() };
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.connect(out));
    t.at_ms(10);
    t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).wnd(0));
    assert!(t.call(|ep, out| ep.send(10, out)).is_empty());
    while t.now < Instant::from_nanos(200_000_000_000) {
        t.fire_next_timer();
        assert_eq!(t.state(), State::Established, "closed at {:?}", t.now);
        t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(0));
    }
    let probe = one(t.fire_next_timer());
    assert_eq!(probe.len, 1);
    let sent_at = t.now;
    assert_eq!(t.ep.timer(Timer::UserTimeout), Some(sent_at + Duration::from_secs(30)));
    t.fire_next_timer();
    assert_eq!((t.state(), t.ep.close_reason()), (State::Closed, Some(CloseReason::UserTimeout)));
}

/// B-TMR-08, B-TMR-14: an answered probe starts the retry count again, and
/// with it the r1 warning: r1 (3) unanswered probe resends warn, an
/// answer, and 3 more unanswered resends warn again.
#[test]
fn an_answered_probe_rearms_the_retransmit_warning() {
    let mut t = established_facing_a_zero_window(10);
    let mut warnings = 0;
    // The first probe, then 3 unanswered resends.
    for _ in 0..4 {
        t.fire_next_timer();
        warnings += t.events().iter().filter(|e| **e == AppEvent::RetransmitWarning).count();
    }
    assert_eq!(warnings, 1);
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(0));
    for _ in 0..3 {
        t.fire_next_timer();
        warnings += t.events().iter().filter(|e| **e == AppEvent::RetransmitWarning).count();
    }
    assert_eq!(warnings, 2);
}

/// B-TMR-14: the probe backoff starts again when the window opens.
#[test]
fn probe_backoff_restarts_when_the_window_reopens() {
    let mut t = established_facing_a_zero_window(3000);
    for _ in 0..3 {
        t.fire_next_timer();
        t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(0));
    }
    // The window opens for 1000 bytes, which are sent and acknowledged
    // with the window closed again: probing restarts one RTO later.
    t.at_ms(10_000);
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(1000));
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1001).wnd(0));
    assert_eq!(t.ep.timer(Timer::Retransmit), None);
    assert_eq!(t.ep.timer(Timer::Persist), Some(Instant::from_nanos(11_000 * 1_000_000)));
}

/// B-TMR-14: replies to probes are not duplicate ACKs (RFC 5681 §2 counts
/// ACKs for outstanding data; a probe octet beyond a closed window is not
/// data the receiver could take): three and more replies neither trigger a
/// fast retransmit nor touch ssthresh.
#[test]
fn probe_replies_are_not_duplicate_acks() {
    let mut t = established_facing_a_zero_window(5000);
    let before = t.ep.congestion_window();
    for round in 0..5 {
        t.fire_next_timer();
        let answer = t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(0));
        assert!(answer.is_empty(), "round {round}: {answer:?}");
    }
    assert_eq!(t.ep.stats().fast_retransmits, 0);
    assert_eq!(t.ep.congestion_window(), before);
}

/// B-DATA-06, B-TMR-09: a probe that is never answered gives up after r2
/// retransmissions.
#[test]
fn unanswered_probes_give_up_after_r2() {
    let cfg = TcpConfig { r2: Some(3), ..TcpConfig::default() };
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.connect(out));
    t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).wnd(0));
    t.call(|ep, out| ep.send(10, out));
    for _ in 0..4 {
        assert_eq!(one(t.fire_next_timer()).len, 1);
    }
    assert!(t.fire_next_timer().is_empty());
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.ep.close_reason(), Some(CloseReason::RetransmitLimit));
    t.assert_rule(rule::TMR_09);
}

/// B-CLOSE-12, B-CLOSE-10: half-close: the side that closed still receives.
#[test]
fn fin_wait_2_still_receives_data() {
    let mut t = fin_wait_2();
    let ack = one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 2).len(50)));
    assert_eq!(ack.ack, SeqNum(REMOTE_ISS + 51));
    t.assert_rule(rule::CLOSE_10);
}

// =========================================================================
// Closing
// =========================================================================

/// B-CLOSE-01
#[test]
fn established_fin_enters_close_wait_and_tells_the_app() {
    let t = close_wait();
    assert_eq!(t.transitions(), vec![(State::Established, State::CloseWait, rule::CLOSE_01)]);
    assert!(t.events().contains(&AppEvent::PeerClosed));
}

/// B-CLOSE-03
#[test]
fn fin_wait_1_ack_of_our_fin_enters_fin_wait_2() {
    let t = fin_wait_2();
    assert_eq!(t.transitions(), vec![(State::FinWait1, State::FinWait2, rule::CLOSE_03)]);
    assert_eq!(t.ep.timer(Timer::Retransmit), None);
}

/// B-CLOSE-04
#[test]
fn fin_wait_1_ack_not_covering_our_fin_keeps_waiting() {
    let mut t = established();
    t.out.clear();
    t.ep.send(10, &mut t.out).unwrap();
    t.ep.close(&mut t.out).unwrap();
    t.finish_step();
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 11));
    assert_eq!(t.state(), State::FinWait1);
    t.assert_rule(rule::CLOSE_04);
}

/// B-CLOSE-05
#[test]
fn fin_wait_1_recv_fin_acking_ours_enters_time_wait() {
    let mut t = fin_wait_1();
    let ack = one(t.recv(seg(FIN_ACK, REMOTE_ISS + 1, LOCAL_ISS + 2)));
    assert_seg(&ack, ACK, LOCAL_ISS + 2, REMOTE_ISS + 2);
    assert_eq!(t.transitions(), vec![(State::FinWait1, State::TimeWait, rule::CLOSE_05)]);
}

/// B-CLOSE-06
#[test]
fn fin_wait_1_recv_fin_not_acking_ours_enters_closing() {
    let t = closing();
    assert_eq!(t.transitions(), vec![(State::FinWait1, State::Closing, rule::CLOSE_06)]);
    assert!(t.ep.timer(Timer::Retransmit).is_some(), "our FIN is still in flight");
}

/// B-CLOSE-07, B-TMR-12
#[test]
fn closing_ack_of_our_fin_enters_time_wait() {
    let mut t = closing();
    t.at_ms(50);
    assert!(t.recv(seg(ACK, REMOTE_ISS + 2, LOCAL_ISS + 2)).is_empty());
    assert_eq!(t.transitions(), vec![(State::Closing, State::TimeWait, rule::CLOSE_07)]);
    assert_eq!(t.ep.timer(Timer::Retransmit), None);
    assert_eq!(t.ep.timer(Timer::TimeWait), Some(Instant::from_nanos(50_000_000 + 240_000_000_000)));
}

/// B-CLOSE-08
#[test]
fn closing_other_ack_is_ignored() {
    let mut t = closing();
    t.recv(seg(ACK, REMOTE_ISS + 2, LOCAL_ISS + 1));
    assert_eq!(t.state(), State::Closing);
    t.assert_rule(rule::CLOSE_08);
}

/// B-CLOSE-09
#[test]
fn fin_wait_2_fin_enters_time_wait() {
    let t = time_wait();
    assert_eq!(t.transitions(), vec![(State::FinWait2, State::TimeWait, rule::CLOSE_09)]);
}

/// B-CLOSE-11
#[test]
fn fin_wait_2_waits_forever_by_default() {
    let t = fin_wait_2();
    assert_eq!(t.ep.poll_timeout(), None);
}

/// B-CLOSE-13
#[test]
fn last_ack_ack_of_our_fin_closes_normally() {
    let mut t = last_ack();
    t.recv(seg(ACK, REMOTE_ISS + 2, LOCAL_ISS + 2));
    assert_eq!(t.transitions(), vec![(State::LastAck, State::Closed, rule::CLOSE_13)]);
    assert_eq!(t.ep.close_reason(), Some(CloseReason::Normal));
}

/// B-CLOSE-14
#[test]
fn last_ack_other_ack_is_ignored() {
    let mut t = last_ack();
    t.recv(seg(ACK, REMOTE_ISS + 2, LOCAL_ISS + 1));
    assert_eq!(t.state(), State::LastAck);
    t.assert_rule(rule::CLOSE_14);
}

/// B-CLOSE-15, B-TMR-04
#[test]
fn last_ack_retransmits_its_fin_with_backoff() {
    let mut t = last_ack();
    let fin = one(t.fire_next_timer());
    assert_seg(&fin, FIN_ACK, LOCAL_ISS + 1, REMOTE_ISS + 2);
    assert!(fin.retransmit);
    assert_eq!(t.now, Instant::from_nanos(1_010_000_000));
    t.assert_rule(rule::CLOSE_15);
    t.fire_next_timer();
    assert_eq!(t.now, Instant::from_nanos(3_010_000_000));
}

/// B-CLOSE-16
#[test]
fn fin_wait_1_and_closing_retransmit_the_fin() {
    for mut t in [fin_wait_1(), closing()] {
        let fin = one(t.fire_next_timer());
        assert_eq!(fin.flags, FIN_ACK);
        assert_eq!(fin.seq, SeqNum(LOCAL_ISS + 1));
        t.assert_rule(rule::CLOSE_16);
    }
}

/// B-CLOSE-17
#[test]
fn time_wait_retransmitted_fin_is_acked_and_restarts_2msl() {
    let mut t = time_wait();
    t.at_ms(5_000);
    let ack = one(t.recv(seg(FIN_ACK, REMOTE_ISS + 1, LOCAL_ISS + 2)));
    assert_seg(&ack, ACK, LOCAL_ISS + 2, REMOTE_ISS + 2);
    assert_eq!(t.ep.timer(Timer::TimeWait), Some(Instant::from_nanos(5_000_000_000 + 240_000_000_000)));
    assert!(
        t.out
            .notes
            .iter()
            .any(|n| matches!(n, Note::Timer { timer: Timer::TimeWait, action: TimerAction::Restart, .. }))
    );
}

/// B-CLOSE-18
#[test]
fn time_wait_other_segment_is_acked_without_restart() {
    let mut t = time_wait();
    let before = t.ep.timer(Timer::TimeWait);
    t.at_ms(5_000);
    one(t.recv(seg(ACK, REMOTE_ISS + 100_000, LOCAL_ISS + 2).len(5)));
    t.assert_rule(rule::CLOSE_18);
    assert_eq!(t.ep.timer(Timer::TimeWait), before);
}

/// B-CLOSE-19
#[test]
fn time_wait_expiry_closes_after_exactly_2msl() {
    let mut t = time_wait();
    assert!(t.fire_next_timer().is_empty());
    assert_eq!(t.now, Instant::from_nanos(100_000_000 + 240_000_000_000));
    assert_eq!(t.transitions(), vec![(State::TimeWait, State::Closed, rule::CLOSE_19)]);
    assert_eq!(t.ep.close_reason(), Some(CloseReason::Normal));
}

/// B-CLOSE-20
#[test]
fn close_wait_duplicate_fin_is_only_acknowledged() {
    let mut t = close_wait();
    let ack = one(t.recv(seg(FIN_ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)));
    assert_eq!(ack.ack, SeqNum(REMOTE_ISS + 2));
    assert_eq!(t.state(), State::CloseWait);
}

/// B-CLOSE-21, B-CLOSED-02
#[test]
fn closed_after_time_wait_resets_a_late_fin() {
    let mut t = time_wait();
    t.fire_next_timer();
    let rst = one(t.recv(seg(FIN_ACK, REMOTE_ISS + 1, LOCAL_ISS + 2)));
    assert_seg(&rst, RST, LOCAL_ISS + 2, 0);
}

// =========================================================================
// Timers
// =========================================================================

/// B-TMR-10, B-TMR-09, B-TMR-04
#[test]
fn unanswered_syn_is_resent_on_the_rfc_schedule_then_given_up() {
    let mut t = syn_sent();
    let mut times = vec![];
    while t.state() == State::SynSent {
        let segs = t.fire_next_timer();
        if let Some(s) = segs.first() {
            assert_eq!(s.flags, SYN);
            times.push(t.now.as_nanos() / 1_000_000_000);
        }
    }
    assert_eq!(times, vec![1, 3, 7, 15, 31, 63, 123]);
    assert_eq!(t.now.as_nanos(), 183_000_000_000);
    assert_eq!(t.ep.close_reason(), Some(CloseReason::RetransmitLimit));
    t.assert_rule(rule::TMR_09);
}

/// B-TMR-09: a passive SYN_RECEIVED gives up back to LISTEN.
#[test]
fn passive_syn_received_gives_up_to_listen() {
    let mut t = syn_received();
    while t.state() == State::SynReceived {
        t.fire_next_timer();
    }
    assert_eq!(t.state(), State::Listen);
}

/// B-TMR-08, B-TMR-09
#[test]
fn data_retransmission_warns_at_r1_and_gives_up_after_r2() {
    let mut t = established();
    t.call(|ep, out| ep.send(10, out));
    let mut warnings = 0;
    let mut resends = 0;
    while t.state() == State::Established {
        resends += t.fire_next_timer().len();
        warnings += t.events().iter().filter(|e| **e == AppEvent::RetransmitWarning).count();
    }
    assert_eq!((resends, warnings), (8, 1));
    assert_eq!(t.ep.close_reason(), Some(CloseReason::RetransmitLimit));
}

/// B-TMR-06: Karn: no RTT sample from a retransmitted segment; the
/// backed-off RTO stays.
#[test]
fn karn_keeps_the_backed_off_rto() {
    let mut t = established();
    t.call(|ep, out| ep.send(10, out));
    t.fire_next_timer();
    assert_eq!(t.ep.rto(), Duration::from_secs(2));
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 11));
    assert_eq!(t.ep.rto(), Duration::from_secs(2));
}

/// B-TMR-15, B-TMR-06: a fast retransmission cancels the RTT sample in
/// flight. SYN at 0 ms, SYN,ACK at 100 ms: SRTT = 100 ms, RTTVAR = 50 ms,
/// RTO = 300 ms (RFC 6298 (2.2)). The first of three segments sent at
/// 100 ms (the timed one) is lost and resent by fast retransmit at 200 ms;
/// the ACK at 300 ms covers the retransmission, so it gives no sample
/// (RFC 6298 §3): SRTT and RTO stay at 100 and 300 ms. Taking the 200 ms
/// "sample" would give RTTVAR 62.5, SRTT 112.5 and RTO 362.5 ms.
#[test]
fn fast_retransmit_cancels_the_rtt_sample() {
    let cfg = TcpConfig { rto_min: Duration::from_millis(1), ..TcpConfig::default() };
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.connect(out));
    t.at_ms(100);
    t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    assert_eq!((t.ep.srtt(), t.ep.rto()), (Some(Duration::from_millis(100)), Duration::from_millis(300)));
    assert_eq!(t.call(|ep, out| ep.send(4380, out)).len(), 3);
    t.at_ms(200);
    for _ in 0..2 {
        assert!(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)).is_empty());
    }
    let resent = one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)));
    assert!(resent.retransmit);
    assert_eq!(resent.seq, SeqNum(LOCAL_ISS + 1));
    t.at_ms(300);
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 4381));
    assert_eq!(t.ep.srtt(), Some(Duration::from_millis(100)));
    assert_eq!(t.ep.rto(), Duration::from_millis(300));
}

/// B-TMR-15: a NewReno partial-ACK retransmission cancels the sample in
/// flight too. Same path as above (SRTT 100 ms, RTO 300 ms); three
/// segments, the first and the third lost. Fast retransmit of the first
/// at 200 ms, then a new segment (the inflated window has room), which is
/// timed. At 300 ms a partial ACK (up to the third) resends the third:
/// that cancels the new segment's sample, so the ACK at 400 ms covering
/// everything gives none (it would have been 200 ms).
#[test]
fn partial_ack_retransmit_cancels_the_rtt_sample() {
    let cfg = TcpConfig { rto_min: Duration::from_millis(1), ..TcpConfig::default() };
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.connect(out));
    t.at_ms(100);
    t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    assert_eq!(t.call(|ep, out| ep.send(4380, out)).len(), 3);
    t.at_ms(200);
    for _ in 0..3 {
        t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1));
    }
    assert_eq!(t.ep.stats().fast_retransmits, 1);
    let new_data = one(t.call(|ep, out| ep.send(1460, out)));
    assert!(!new_data.retransmit);
    t.at_ms(300);
    // Partial ACK: the first two segments arrived, the third did not.
    let resent = t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 2921));
    assert!(resent.iter().any(|s| s.retransmit && s.seq == SeqNum(LOCAL_ISS + 2921)), "{resent:?}");
    t.at_ms(400);
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 5841));
    assert_eq!(t.ep.srtt(), Some(Duration::from_millis(100)));
    assert_eq!(t.ep.rto(), Duration::from_millis(300));
}

/// RFC 6582 §3.2: fast recovery runs from the third duplicate ACK (step
/// 2), through a partial ACK (step 3), to the ACK of everything sent
/// before it began, here with the new segment sent during it (step 3's
/// full acknowledgment); `in_fast_recovery` says so throughout.
#[test]
fn established_fast_recovery_lasts_from_the_third_duplicate_to_the_full_ack() {
    let mut t = T::with_cfg(TcpConfig::default());
    t.call(|ep, out| ep.connect(out));
    t.at_ms(100);
    t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    assert_eq!(t.call(|ep, out| ep.send(4380, out)).len(), 3);
    t.at_ms(200);
    for duplicate in 1..=3 {
        assert!(!t.ep.in_fast_recovery(), "before duplicate {duplicate}");
        t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1));
    }
    assert!(t.ep.in_fast_recovery());
    t.at_ms(300);
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 2921));
    assert!(t.ep.in_fast_recovery(), "a partial ACK keeps recovery going");
    t.at_ms(400);
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 4381));
    assert!(!t.ep.in_fast_recovery(), "the full ACK ends it");
}

/// B-TMR-07
#[test]
fn syn_timeout_raises_the_rto_to_three_seconds() {
    let cfg = TcpConfig {
        rto_initial: Duration::from_millis(200),
        rto_min: Duration::from_millis(200),
        ..TcpConfig::default()
    };
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.connect(out));
    t.fire_next_timer();
    t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    assert_eq!(t.ep.rto(), Duration::from_secs(3));
}

/// B-TMR-11
#[test]
fn user_timeout_closes_when_nothing_is_acknowledged() {
    let cfg = TcpConfig { user_timeout: Some(Duration::from_secs(5)), ..TcpConfig::default() };
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.connect(out));
    t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    t.call(|ep, out| ep.send(10, out));
    while t.state() == State::Established {
        t.fire_next_timer();
    }
    assert_eq!(t.ep.close_reason(), Some(CloseReason::UserTimeout));
    assert_eq!(t.now, Instant::from_nanos(5_000_000_000));
}

// =========================================================================
// Options
// =========================================================================

/// B-OPT-01
#[test]
fn linux_fin_wait_2_timeout_closes_an_orphan() {
    let cfg = TcpConfig { linux_fin_wait_2_timeout: Some(Duration::from_secs(60)), ..TcpConfig::default() };
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.connect(out));
    t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    t.call(|ep, out| ep.close(out));
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 2));
    assert_eq!(t.state(), State::FinWait2);
    t.fire_next_timer();
    assert_eq!(t.ep.close_reason(), Some(CloseReason::FinWait2Timeout));
    assert_eq!(t.now, Instant::from_nanos(60_000_000_000));
}

/// B-OPT-02
#[test]
fn linux_time_wait_lasts_sixty_seconds() {
    let cfg = TcpConfig { linux_time_wait: true, ..TcpConfig::default() };
    assert_eq!(cfg.time_wait_len(), Duration::from_secs(60));
}

/// B-OPT-03
#[test]
fn rfc1337_time_wait_ignores_rst() {
    let mut t = time_wait();
    t.cfg.rfc1337 = true;
    t.recv(seg(RST, REMOTE_ISS + 2, 0));
    assert_eq!(t.state(), State::TimeWait);
    t.assert_rule(rule::OPT_03);
}

/// B-OPT-04
#[test]
fn rfc5961_inexact_rst_gets_a_challenge_ack() {
    let mut t = established();
    t.cfg.rfc5961 = true;
    let ack = one(t.recv(seg(RST, REMOTE_ISS + 10, 0)));
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert_eq!(t.state(), State::Established);
    t.recv(seg(RST, REMOTE_ISS + 1, 0));
    assert_eq!(t.state(), State::Closed);
}

/// B-OPT-05
#[test]
fn rfc5961_syn_gets_a_challenge_ack() {
    let mut t = established();
    t.cfg.rfc5961 = true;
    let ack = one(t.recv(seg(SYN, REMOTE_ISS + 10, 0)));
    assert_eq!(ack.flags, ACK);
    assert_eq!(t.state(), State::Established);
}

/// B-OPT-06
#[test]
fn rfc5961_ack_too_old_is_challenged_and_dropped() {
    let mut t = established();
    t.cfg.rfc5961 = true;
    let ack = one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS.wrapping_sub(100_000)).len(10)));
    assert_eq!(ack.ack, SeqNum(REMOTE_ISS + 1));
    assert_eq!(t.ep.stats().bytes_delivered, 0);
}

// =========================================================================
// Whole exchanges between two endpoints
// =========================================================================

/// Two endpoints and a lossless, zero-delay wire.
struct Pair {
    cfg: TcpConfig,
    a: Endpoint,
    b: Endpoint,
    now: Instant,
    out: Output,
}

impl Pair {
    fn new() -> Pair {
        let cfg = TcpConfig { msl: Duration::from_secs(1), ..TcpConfig::default() };
        let a = Endpoint::new(&cfg, SeqNum(LOCAL_ISS), LOCAL_STREAM);
        let b = Endpoint::new(&cfg, SeqNum(REMOTE_ISS), REMOTE_STREAM);
        Pair { cfg, a, b, now: Instant::ZERO, out: Output::default() }
    }

    /// Delivers segments back and forth until both sides are quiet.
    fn settle(&mut self, mut to_b: Vec<Segment>, mut to_a: Vec<Segment>) {
        for _ in 0..1000 {
            if to_a.is_empty() && to_b.is_empty() {
                return;
            }
            let mut next_to_a = vec![];
            let mut next_to_b = vec![];
            for s in to_b.drain(..) {
                self.out.clear();
                self.b.handle_segment(&self.cfg, self.now, &s, &mut self.out);
                self.b.dispatch(&self.cfg, self.now, &mut self.out);
                next_to_a.append(&mut self.out.segments);
            }
            for s in to_a.drain(..) {
                self.out.clear();
                self.a.handle_segment(&self.cfg, self.now, &s, &mut self.out);
                self.a.dispatch(&self.cfg, self.now, &mut self.out);
                next_to_b.append(&mut self.out.segments);
            }
            to_a = next_to_a;
            to_b = next_to_b;
        }
        panic!("exchange did not settle");
    }

    fn a_call(&mut self, f: impl FnOnce(&mut Endpoint, &mut Output)) -> Vec<Segment> {
        self.out.clear();
        f(&mut self.a, &mut self.out);
        self.a.dispatch(&self.cfg, self.now, &mut self.out);
        std::mem::take(&mut self.out.segments)
    }

    fn b_call(&mut self, f: impl FnOnce(&mut Endpoint, &mut Output)) -> Vec<Segment> {
        self.out.clear();
        f(&mut self.b, &mut self.out);
        self.b.dispatch(&self.cfg, self.now, &mut self.out);
        std::mem::take(&mut self.out.segments)
    }
}

/// B-APP-14, B-CLOSE-03, B-CLOSE-09, B-CLOSE-01, B-APP-15, B-CLOSE-13:
/// the active and passive close paths end to end.
#[test]
fn pair_handshake_transfer_and_four_way_close() {
    let mut p = Pair::new();
    p.b_call(|ep, out| ep.listen(out).unwrap());
    let syn = p.a_call(|ep, out| ep.connect(out).unwrap());
    p.settle(syn, vec![]);
    assert_eq!((p.a.state(), p.b.state()), (State::Established, State::Established));
    let data = p.a_call(|ep, out| ep.send(5000, out).unwrap());
    p.settle(data, vec![]);
    assert_eq!(p.b.stats().bytes_delivered, 5000);
    assert_eq!(p.b.stats().foreign_bytes, 0);
    let fin = p.a_call(|ep, out| ep.close(out).unwrap());
    p.settle(fin, vec![]);
    assert_eq!((p.a.state(), p.b.state()), (State::FinWait2, State::CloseWait));
    let fin = p.b_call(|ep, out| ep.close(out).unwrap());
    p.settle(vec![], fin);
    assert_eq!((p.a.state(), p.b.state()), (State::TimeWait, State::Closed));
}

/// B-TMR-14, B-SEQ-03: bidirectional transfer into a closed window. The
/// prober's pure ACKs for the peer's data sit at the peer's RCV.NXT, the
/// one SEQ a zero-window receiver accepts for a segment without text
/// (Table 5), so the peer sees its data acknowledged and its RETRANSMIT
/// stops; nothing is resent.
#[test]
fn pair_prober_pure_acks_are_accepted_by_a_zero_window_peer() {
    let mut p = Pair::new();
    p.cfg.recv_buffer = 1000;
    p.b_call(|ep, out| ep.listen(out).unwrap());
    let syn = p.a_call(|ep, out| ep.connect(out).unwrap());
    p.settle(syn, vec![]);
    p.b.pause_read();
    let data = p.a_call(|ep, out| ep.send(2000, out).unwrap());
    p.settle(data, vec![]);
    assert_eq!(p.b.rcv_wnd(&p.cfg), 0);
    // A probes; B discards the octet and answers with WND=0.
    p.now = p.a.poll_timeout().expect("A probes the closed window");
    let (cfg, now) = (p.cfg.clone(), p.now);
    let probe = p.a_call(|ep, out| ep.handle_timeout(&cfg, now, out));
    assert_eq!(probe.len(), 1);
    p.settle(probe, vec![]);
    // B sends data; A's ACK of it must pass B's zero-window test.
    let from_b = p.b_call(|ep, out| ep.send(100, out).unwrap());
    let mut acks = vec![];
    for s in from_b {
        acks.append(&mut p.a_call(|ep, out| ep.handle_segment(&cfg, now, &s, out)));
    }
    let ack = one(acks);
    assert_eq!(ack.len, 0);
    assert_eq!(ack.seq, p.b.rcv_nxt(), "the pure ACK sits at the peer's RCV.NXT");
    p.settle(vec![ack], vec![]);
    assert_eq!(p.b.snd_una(), SeqNum(REMOTE_ISS + 101));
    assert_eq!(p.b.timer(Timer::Retransmit), None);
    assert_eq!(p.b.stats().retransmissions, 0);
}

/// B-CLOSE-06, B-CLOSE-07: simultaneous close through CLOSING.
#[test]
fn pair_simultaneous_close_goes_through_closing() {
    let mut p = Pair::new();
    p.b_call(|ep, out| ep.listen(out).unwrap());
    let syn = p.a_call(|ep, out| ep.connect(out).unwrap());
    p.settle(syn, vec![]);
    let fin_a = p.a_call(|ep, out| ep.close(out).unwrap());
    let fin_b = p.b_call(|ep, out| ep.close(out).unwrap());
    p.settle(fin_a, fin_b);
    assert_eq!((p.a.state(), p.b.state()), (State::TimeWait, State::TimeWait));
}

/// B-SYNSENT-05, B-ACK-08: simultaneous open.
#[test]
fn pair_simultaneous_open_establishes_both() {
    let mut p = Pair::new();
    let syn_a = p.a_call(|ep, out| ep.connect(out).unwrap());
    let syn_b = p.b_call(|ep, out| ep.connect(out).unwrap());
    p.settle(syn_a, syn_b);
    assert_eq!((p.a.state(), p.b.state()), (State::Established, State::Established));
}

// =========================================================================
// Delayed ACK (B-OPT-07)
// =========================================================================

fn established_with_delayed_ack() -> T {
    let cfg = TcpConfig { delayed_ack: Some(Duration::from_millis(200)), ..TcpConfig::default() };
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.connect(out));
    t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    t
}

/// B-OPT-07: one in-order segment waits for the delayed-ACK timer.
#[test]
fn delayed_ack_waits_for_its_timer() {
    let mut t = established_with_delayed_ack();
    t.at_ms(100);
    assert!(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(100)).is_empty());
    assert_eq!(t.ep.timer(Timer::DelayedAck), Some(Instant::from_nanos(300_000_000)));
    let ack = one(t.fire_next_timer());
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 101);
}

/// B-OPT-07: the second full-sized segment is acknowledged at once.
#[test]
fn delayed_ack_acks_every_second_full_segment() {
    let mut t = established_with_delayed_ack();
    assert!(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(1460)).is_empty());
    let ack = one(t.recv(seg(ACK, REMOTE_ISS + 1461, LOCAL_ISS + 1).len(1460)));
    assert_eq!(ack.ack, SeqNum(REMOTE_ISS + 2921));
    assert_eq!(t.ep.timer(Timer::DelayedAck), None);
}

/// B-OPT-07: "full-sized" is judged by the segments the peer sends. A
/// peer whose MSS is 536 (our own is 1460) gets its second 536-byte
/// segment acknowledged at once, not after 2×1460 bytes or the timer.
#[test]
fn delayed_ack_judges_full_size_by_the_peers_segments() {
    let mut t = established_with_delayed_ack();
    assert!(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(536)).is_empty());
    let ack = one(t.recv(seg(ACK, REMOTE_ISS + 537, LOCAL_ISS + 1).len(536)));
    assert_eq!(ack.ack, SeqNum(REMOTE_ISS + 1073));
    assert_eq!(t.ep.timer(Timer::DelayedAck), None);
}

/// B-OPT-07: a short segment after a full-sized one is not the second
/// full-sized segment: it waits for the timer (or 2×RMSS bytes).
#[test]
fn delayed_ack_does_not_count_a_short_segment_as_full_sized() {
    let mut t = established_with_delayed_ack();
    assert!(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(536)).is_empty());
    assert!(t.recv(seg(ACK, REMOTE_ISS + 537, LOCAL_ISS + 1).len(100)).is_empty());
    assert!(t.ep.timer(Timer::DelayedAck).is_some());
}

/// B-OPT-07, RFC 5681 §4.2: a segment that fills only part of a gap is
/// acknowledged at once (the sender is in recovery and needs the ACK).
#[test]
fn delayed_ack_acks_a_partial_gap_fill_at_once() {
    let mut t = established_with_delayed_ack();
    // Out of order, two segments ahead: acknowledged at once (B-SEQ-05).
    let dup = one(t.recv(seg(ACK, REMOTE_ISS + 2001, LOCAL_ISS + 1).len(1000)));
    assert_eq!(dup.ack, SeqNum(REMOTE_ISS + 1));
    // The first 1000 bytes of the 2000-byte gap arrive.
    let ack = one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(1000)));
    assert_eq!(ack.ack, SeqNum(REMOTE_ISS + 1001));
    assert_eq!(t.ep.timer(Timer::DelayedAck), None);
}

/// B-OPT-07: a delayed ACK rides on outgoing data; out-of-order text is
/// acknowledged at once.
#[test]
fn delayed_ack_piggybacks_and_out_of_order_is_immediate() {
    let mut t = established_with_delayed_ack();
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(10));
    let data = one(t.call(|ep, out| ep.send(5, out)));
    assert_eq!((data.len, data.ack.0), (5, REMOTE_ISS + 11));
    assert_eq!(t.ep.timer(Timer::DelayedAck), None);
    let dup = one(t.recv(seg(ACK, REMOTE_ISS + 100, LOCAL_ISS + 6).len(10)));
    assert_eq!(dup.ack, SeqNum(REMOTE_ISS + 11));
}

// =========================================================================
// Congestion control (RFC 5681, RFC 6582)
// =========================================================================

/// The third duplicate ACK retransmits the missing segment at once (fast
/// retransmit), before any RTO; the full ACK ends recovery.
#[test]
fn third_duplicate_ack_triggers_fast_retransmit() {
    let mut t = established();
    let first = t.call(|ep, out| ep.send(4380, out));
    assert_eq!(first.len(), 3, "initial window: 3 segments of 1460");
    // The first segment is lost; ACKs for the next two, then more data
    // makes room for duplicates.
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1));
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1));
    let resent = one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)));
    assert!(resent.retransmit);
    assert_eq!((resent.seq.0, resent.len), (LOCAL_ISS + 1, 1460));
    assert_eq!(t.ep.stats().fast_retransmits, 1);
    let (cwnd, ssthresh) = t.ep.congestion_window().unwrap();
    assert_eq!(ssthresh, 2920);
    assert_eq!(cwnd, 2920 + 3 * 1460);
    // The full ACK ends recovery: cwnd = min(ssthresh, max(FlightSize,
    // SMSS) + SMSS) with nothing in flight (RFC 6582 §3.2 step 3).
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 4381));
    assert_eq!(t.ep.congestion_window().unwrap().0, 2920);
}

/// With congestion control off the sender ignores duplicate ACKs and
/// waits for the RETRANSMIT timer.
#[test]
fn without_congestion_control_duplicates_change_nothing() {
    let cfg = TcpConfig { congestion_control: CongestionControl::None, ..TcpConfig::default() };
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.connect(out));
    t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    t.call(|ep, out| ep.send(4380, out));
    for _ in 0..3 {
        assert!(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)).is_empty());
    }
    assert_eq!(t.ep.stats().retransmissions, 0);
}

/// Every connection carries an endpoint (100k-connection runs keep them
/// all): rarely used state is boxed, see `Reassembly` and `TimerTable`.
/// 216 bytes since the delayed ACK judges "full-sized" by the peer's
/// largest segment (`rcv_mss`, B-OPT-07): the record had one spare byte.
/// 224 since RFC 7323: SND.WND and MAX.SND.WND are 32-bit (a scaled
/// window reaches 2^30) and the option state is one boxed pointer. 232
/// since SACK: its receiver history and scoreboard are another boxed
/// pointer, absent unless `sack` is configured. 240 since limited
/// transmit counts octets, not segments (RFC 5681 §3.2 (2)): a u32 in
/// the congestion state where a u8 count was. 248 since CUBIC: its
/// state and HyStart's are a third boxed pointer, absent unless
/// `congestion_control: cubic`. 256 since the Linux options (`B-LNX-`):
/// their state is a fourth boxed pointer, absent unless one is configured.
/// 232 since the four option states share one box (`Extensions`): one
/// pointer, absent unless an option is on.
#[test]
fn endpoint_stays_small() {
    assert!(std::mem::size_of::<Endpoint>() <= 232, "Endpoint grew to {} bytes", std::mem::size_of::<Endpoint>());
}

// =========================================================================
// RFC 7323: window scaling and timestamps
// =========================================================================

fn ws_cfg(shift: u8) -> TcpConfig {
    TcpConfig { window_scale: Some(shift), recv_buffer: 1 << 20, ..TcpConfig::default() }
}

fn ts_cfg() -> TcpConfig {
    TcpConfig { timestamps: true, ts_start: Some(1_000_000), ..TcpConfig::default() }
}

/// ESTABLISHED by an active open in which the peer's SYN,ACK is `synack`.
fn established_with(cfg: TcpConfig, synack: Segment) -> (T, Segment, Segment) {
    let mut t = T::with_cfg(cfg);
    let syn = one(t.call(|ep, out| ep.connect(out)));
    t.at_ms(10);
    let ack = one(t.recv(synack));
    assert_eq!(t.state(), State::Established);
    (t, syn, ack)
}

/// B-WS-01, B-WS-02, B-WS-04: the SYN offers our shift with an unscaled
/// window; when the SYN,ACK offers one too both are in use, and from then
/// on our windows are sent shifted right by ours and the peer's read
/// shifted left by its shift. The SYN,ACK's own window is not scaled.
#[test]
fn syn_sent_window_scale_on_both_sides_scales_later_windows() {
    let (mut t, syn, ack) = established_with(ws_cfg(7), seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ws(5).wnd(1000));
    assert_eq!((syn.ws(), syn.wnd, syn.wnd_shift()), (Some(7), 65535, None));
    t.assert_rule(rule::WS_02);
    assert_eq!(t.ep.window_shifts(), Some((7, 5)));
    assert_eq!(t.ep.snd_wnd(), 1000, "the SYN,ACK's window is never scaled");
    // 1 MiB free: 1048576 >> 7 = 8192.
    assert_eq!((ack.ws(), ack.wnd, ack.wnd_shift(), ack.wnd_scaled()), (None, 8192, Some(7), 1 << 20));
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(1000));
    t.assert_rule(rule::WS_04);
    assert_eq!(t.ep.snd_wnd(), 1000 << 5);
}

/// B-WS-01, B-WS-02: a SYN,ACK without the option leaves both sides
/// unscaled, and a receive buffer beyond 65535 is offered as 65535.
#[test]
fn syn_sent_window_scale_only_on_our_side_is_not_used() {
    let (mut t, _, ack) = established_with(ws_cfg(7), seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    assert_eq!(t.ep.window_shifts(), None);
    assert_eq!((ack.wnd, ack.wnd_shift()), (65535, None));
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(1000));
    assert_eq!(t.ep.snd_wnd(), 1000);
}

/// B-WS-01: a listener answers with the option only when the SYN had it.
#[test]
fn listen_syn_with_and_without_window_scale() {
    let mut t = T::with_cfg(ws_cfg(3));
    t.call(|ep, out| ep.listen(out));
    let synack = one(t.recv(seg(SYN, REMOTE_ISS, 0).with_ws(2)));
    t.assert_rule(rule::WS_01);
    assert_eq!((synack.ws(), synack.wnd, synack.wnd_shift()), (Some(3), 65535, None));

    let mut t = T::with_cfg(ws_cfg(3));
    t.call(|ep, out| ep.listen(out));
    let synack = one(t.recv(seg(SYN, REMOTE_ISS, 0)));
    assert_eq!(synack.ws(), None);
    assert_eq!(t.ep.window_shifts(), None);
}

/// B-WS-03: RFC 7323 §2.3: a shift above 14 is used as 14.
#[test]
fn syn_sent_window_scale_above_14_is_read_as_14() {
    let (mut t, _, _) = established_with(ws_cfg(7), seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ws(15));
    t.assert_rule(rule::WS_03);
    assert_eq!(t.ep.window_shifts(), Some((7, 14)));
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(2));
    assert_eq!(t.ep.snd_wnd(), 2 << 14);
}

/// B-WS-05: RFC 7323 §2.4: with a shift of 7 the window goes in units of
/// 128 bytes, rounded down. After 100 unread bytes the free buffer is
/// 1048476 = 8191 units + 28 bytes: the edge moves back 28 bytes by
/// rounding, no more, and a segment the peer sent up to the old edge
/// (1048576 bytes past the first) is still accepted.
#[test]
fn established_scaled_window_moves_back_only_by_rounding() {
    let (mut t, _, ack) = established_with(ws_cfg(7), seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ws(7));
    assert_eq!(ack.wnd, 8192);
    t.ep.pause_read();
    let reply = one(t.recv(seg(PSH_ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(100)));
    assert_eq!(reply.ack, SeqNum(REMOTE_ISS + 101));
    assert_eq!(reply.wnd, 8191);
    t.assert_rule(rule::WS_05);
    // The last 28 bytes of the old window, out of order: held, not refused.
    let old_edge = REMOTE_ISS + 1 + (1 << 20);
    let late = seg(ACK, old_edge - 28, LOCAL_ISS + 1).len(28);
    let reply = one(t.recv(late));
    t.assert_rule(rule::SEQ_05);
    assert_eq!(t.ep.held_bytes(), 28);
    assert_eq!(reply.ack, SeqNum(REMOTE_ISS + 101));
}

/// B-WS-05: the advertised right edge starts at RCV.NXT whatever the
/// peer's ISS: with one in the upper half of the sequence space the full
/// buffer is still offered (not the largest window the shift allows).
#[test]
fn established_scaled_window_offers_the_buffer_for_any_peer_iss() {
    let peer_iss = 0x9000_0000;
    let mut synack = seg(SYN_ACK, peer_iss, LOCAL_ISS + 1).with_ws(7);
    synack.payload.offset = 0;
    let (_, _, ack) = established_with(ws_cfg(7), synack);
    assert_eq!((ack.ack, ack.wnd, ack.wnd_scaled()), (SeqNum(peer_iss + 1), 8192, 1 << 20));
}

/// B-WS-06: RFC 7323 §2.4: the peer's window, rounded, ends before
/// SND.NXT. The sender keeps what is in flight and sends nothing new until
/// the window passes SND.NXT again.
#[test]
fn established_window_shrunk_by_rounding_stops_new_data() {
    let cfg = TcpConfig { congestion_control: CongestionControl::None, ..ws_cfg(7) };
    let (mut t, _, _) = established_with(cfg, seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ws(7));
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(100)); // 12800 bytes
    // Eight full segments; silly-window avoidance holds the last 1120.
    let sent: u32 = t.call(|ep, out| ep.send(20000, out)).iter().map(|s| s.len).sum();
    assert_eq!(sent, 11680);
    // 1000 bytes acknowledged, window 83 units = 10624: the edge at
    // ISS+1+11624 is 56 bytes behind SND.NXT (ISS+1+11680).
    assert!(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1001).wnd(83)).is_empty());
    t.assert_rule(rule::WS_06);
    assert_eq!(t.ep.snd_nxt(), SeqNum(LOCAL_ISS + 1 + 11680));
    // The window passes SND.NXT again: 100 units from ISS+1001 leave
    // 2120 bytes of room, one full segment.
    let segs = t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1001).wnd(100));
    assert_eq!(segs.iter().map(|s| s.len).collect::<Vec<_>>(), vec![1460]);
}

/// B-WS-04, B-WS-06: the sender reads the peer's window as W << shift and
/// sends exactly that much. Peer shift 3, W = 1095: 1095 << 3 = 8760 bytes
/// = 6 segments of 1460 (unscaled, 1095 would not fill one). The peer
/// acknowledges 1460 with W = 900, 7200 bytes: the right edge ISS+1+8660
/// is 100 bytes behind SND.NXT (ISS+1+8760), so nothing new goes and
/// SND.NXT stays. Then 2920 acknowledged with W = 1095: the edge is at
/// ISS+1+2920+8760, 2920 bytes past SND.NXT: exactly two segments.
#[test]
fn established_peer_scaled_window_limits_sending_to_w_shifted() {
    let cfg = TcpConfig { congestion_control: CongestionControl::None, ..ws_cfg(7) };
    let (mut t, _, _) = established_with(cfg, seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ws(3).wnd(1000));
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).wnd(1095));
    assert_eq!(t.ep.snd_wnd(), 8760);
    let lens: Vec<u32> = t.call(|ep, out| ep.send(20000, out)).iter().map(|s| s.len).collect();
    assert_eq!(lens, vec![1460; 6]);
    assert_eq!(t.ep.snd_nxt(), SeqNum(LOCAL_ISS + 1 + 8760));
    assert!(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1 + 1460).wnd(900)).is_empty());
    t.assert_rule(rule::WS_06);
    assert_eq!((t.ep.snd_wnd(), t.ep.snd_nxt()), (7200, SeqNum(LOCAL_ISS + 1 + 8760)));
    let segs = t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1 + 2920).wnd(1095));
    let sent: Vec<(SeqNum, u32)> = segs.iter().map(|s| (s.seq, s.len)).collect();
    assert_eq!(sent, vec![(SeqNum(LOCAL_ISS + 1 + 8760), 1460), (SeqNum(LOCAL_ISS + 1 + 10220), 1460)]);
}

/// B-TS-01, B-TS-02: the SYN carries TSval (the clock: start + 1 per ms)
/// and TSecr 0; a SYN,ACK with the option turns timestamps on, and every
/// later segment carries TSval and TS.Recent as TSecr. A reset carries
/// none.
#[test]
fn syn_sent_timestamps_on_both_sides_go_on_every_segment() {
    let synack = seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ts(777, 1_000_000);
    let (mut t, syn, ack) = established_with(ts_cfg(), synack);
    assert_eq!(syn.ts(), Some(Timestamps { tsval: 1_000_000, tsecr: 0 }));
    t.assert_rule(rule::TS_01);
    assert!(t.ep.timestamps_on());
    assert_eq!(ack.ts(), Some(Timestamps { tsval: 1_000_010, tsecr: 777 }));
    t.at_ms(25);
    let data = t.call(|ep, out| ep.send(10, out));
    t.assert_rule(rule::TS_02);
    assert_eq!(one(data).ts(), Some(Timestamps { tsval: 1_000_025, tsecr: 777 }));
    let rst = one(t.call(|ep, out| ep.abort(out)));
    assert!(rst.flags.rst());
    assert_eq!(rst.ts(), None);
}

/// B-TS-01: without the option on the SYN,ACK no segment carries it.
#[test]
fn syn_sent_timestamps_only_on_our_side_are_not_used() {
    let (mut t, _, ack) = established_with(ts_cfg(), seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    assert!(!t.ep.timestamps_on());
    assert_eq!(ack.ts(), None);
    assert_eq!(one(t.call(|ep, out| ep.send(10, out))).ts(), None);
}

/// B-TS-01: a listener answers with timestamps only when the SYN had
/// them, echoing the SYN's TSval.
#[test]
fn listen_syn_with_timestamps_is_answered_with_them() {
    let mut t = T::with_cfg(ts_cfg());
    t.call(|ep, out| ep.listen(out));
    t.at_ms(3);
    let synack = one(t.recv(seg(SYN, REMOTE_ISS, 0).with_ts(55, 0)));
    assert_eq!(synack.ts(), Some(Timestamps { tsval: 1_000_003, tsecr: 55 }));

    let mut t = T::with_cfg(ts_cfg());
    t.call(|ep, out| ep.listen(out));
    assert_eq!(one(t.recv(seg(SYN, REMOTE_ISS, 0))).ts(), None);
}

/// B-TS-07: RFC 9293 §3.7.1, RFC 6691: data segments carry Eff.snd.MSS
/// less the 12 option bytes: 1448 of a 1460 MSS.
#[test]
fn established_with_timestamps_sends_mss_less_option_bytes() {
    let cfg = TcpConfig { congestion_control: CongestionControl::None, ..ts_cfg() };
    let (mut t, _, _) = established_with(cfg, seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ts(1, 1_000_000));
    let lens: Vec<u32> = t.call(|ep, out| ep.send(3000, out)).iter().map(|s| s.len).collect();
    assert_eq!(lens, vec![1448, 1448, 104]);
}

/// B-TS-03: RFC 7323 §4.3: TS.Recent takes the TSval of a segment that
/// starts at or before Last.ACK.sent and is not older; a segment beyond a
/// gap does not move it, the one filling the gap does.
#[test]
fn established_ts_recent_follows_last_ack_sent() {
    let (mut t, _, _) = established_with(ts_cfg(), seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ts(100, 1_000_000));
    assert_eq!(t.ep.ts_recent(), 100);
    // Out of order (SEQ beyond Last.ACK.sent = REMOTE_ISS+1): ignored.
    let reply = one(t.recv(seg(ACK, REMOTE_ISS + 101, LOCAL_ISS + 1).len(100).with_ts(300, 1_000_000)));
    assert_eq!(t.ep.ts_recent(), 100);
    assert_eq!(reply.ts().unwrap().tsecr, 100);
    // In order at Last.ACK.sent: taken.
    let reply = one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(100).with_ts(200, 1_000_000)));
    t.assert_rule(rule::TS_03);
    assert_eq!(t.ep.ts_recent(), 200);
    assert_eq!(reply.ts().unwrap().tsecr, 200);
}

/// B-TS-03: RFC 7323 §4.3: TS.Recent takes the TSval of an acceptable
/// segment only. A forged segment in the window whose ACK acknowledges
/// data never sent (ISS+5000 with SND.NXT at ISS+1) fails the ACK step
/// (B-ACK-06) and must leave TS.Recent at 100, not take its huge TSval
/// 2^31 − 1 (100 + 2^31 − 1 is still "newer" modulo 2^32): otherwise
/// every genuine segment after it, TSval 200, would be a PAWS discard.
#[test]
fn established_unacceptable_ack_does_not_move_ts_recent() {
    let (mut t, _, _) = established_with(ts_cfg(), seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ts(100, 1_000_000));
    let forged = seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 5000).with_ts(0x7fff_ffff, 1_000_000);
    let reply = one(t.recv(forged));
    t.assert_rule(rule::ACK_06);
    assert_eq!(t.ep.ts_recent(), 100);
    assert_eq!(reply.ts().unwrap().tsecr, 100);
    let genuine = seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(100).with_ts(200, 1_000_000);
    assert!(!t.ep.paws_rejects(&genuine));
    let reply = one(t.recv(genuine));
    assert_eq!(reply.ack, SeqNum(REMOTE_ISS + 101));
    assert_eq!(t.ep.ts_recent(), 200);
}

/// B-TS-04: RFC 7323 §4: every ACK that advances SND.UNA gives a sample
/// from its TSecr, retransmitted data included (Karn's rule does not
/// apply): a segment sent at 10 ms and resent by the RTO at 1010 ms, whose
/// ACK echoes the resend's TSval at 1060 ms, measures 50 ms.
#[test]
fn established_timestamps_time_every_ack_even_after_a_retransmission() {
    let cfg = TcpConfig { rto_min: Duration::from_millis(200), ..ts_cfg() };
    let (mut t, _, _) = established_with(cfg, seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ts(1, 1_000_000));
    // The SYN,ACK echoed the SYN's TSval (sent at 0, back at 10 ms).
    assert_eq!(t.ep.srtt(), Some(Duration::from_millis(10)));
    let data = one(t.call(|ep, out| ep.send(100, out)));
    assert_eq!(data.ts().unwrap().tsval, 1_000_010);
    let resent = one(t.fire_next_timer());
    assert!(resent.retransmit);
    let echoed = resent.ts().unwrap().tsval;
    t.now = t.now + Duration::from_millis(50);
    t.out.clear();
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 101).with_ts(2, echoed));
    t.assert_rule(rule::TS_04);
    assert!(!t.out.rules.contains(&rule::TMR_06), "Karn's rule is not applied");
    // SRTT = 10 + (50 - 10)/8 = 15 ms (one sample expected per window).
    assert_eq!(t.ep.srtt(), Some(Duration::from_millis(15)));
}

/// B-TS-04: a TSecr of 0 gives no RTT sample (RFC 7323 §3.2: 0 is what
/// TSecr holds when it is not valid; Linux skips it too). Data sent at
/// 10 ms, acknowledged at 60 ms with TSecr 0: taken as an echo, it would
/// measure the whole clock, 1000060 ticks, about 1000 s; instead SRTT
/// stays at the handshake's 10 ms and no `rtt` note is traced.
#[test]
fn established_ack_with_tsecr_zero_gives_no_rtt_sample() {
    let (mut t, _, _) = established_with(ts_cfg(), seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ts(1, 1_000_000));
    assert_eq!(t.ep.srtt(), Some(Duration::from_millis(10)));
    one(t.call(|ep, out| ep.send(100, out)));
    t.at_ms(60);
    t.out.clear();
    t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 101).with_ts(2, 0));
    t.assert_rule(rule::ACK_04);
    assert!(!t.out.rules.contains(&rule::TS_04), "no sample from TSecr 0");
    assert!(!t.out.notes.iter().any(|n| matches!(n, Note::Rtt { .. })));
    assert_eq!(t.ep.srtt(), Some(Duration::from_millis(10)));
    assert_eq!(t.ep.snd_una(), SeqNum(LOCAL_ISS + 101));
}

/// B-TS-05: RFC 7323 §5.3 R1: a segment whose TSval is older than
/// TS.Recent, in the window, is discarded and answered with an ACK; the
/// comparison is modulo 2^32, so with TS.Recent just below 2^32 a TSval
/// that wrapped past zero is newer.
#[test]
fn established_paws_discards_an_old_tsval_modulo_2_32() {
    let near_wrap = u32::MAX - 5;
    let (mut t, _, _) =
        established_with(ts_cfg(), seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ts(near_wrap, 1_000_000));
    let old = seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(100).with_ts(near_wrap - 1000, 1_000_000);
    assert!(t.ep.paws_rejects(&old));
    let reply = one(t.recv(old));
    t.assert_rule(rule::TS_05);
    assert_eq!((reply.flags, reply.ack), (ACK, SeqNum(REMOTE_ISS + 1)));
    assert_eq!(t.ep.stats().bytes_delivered, 0);
    // Wrapped past zero: newer, delivered, and TS.Recent follows.
    let wrapped = seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(100).with_ts(3, 1_000_000);
    assert!(!t.ep.paws_rejects(&wrapped));
    let reply = one(t.recv(wrapped));
    assert_eq!(reply.ack, SeqNum(REMOTE_ISS + 101));
    assert_eq!(t.ep.ts_recent(), 3);
}

/// B-TS-08: RFC 7323 §3.2: with timestamps in use, a non-RST segment
/// without the option is dropped silently: 100 bytes at RCV.NXT are not
/// delivered, nothing is sent, RCV.NXT stays at ISS+1. A reset without
/// the option still goes on (the rule is for non-RST segments).
#[test]
fn established_segment_without_timestamps_is_dropped_silently() {
    let (mut t, _, _) = established_with(ts_cfg(), seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ts(100, 1_000_000));
    let bare = seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(100);
    assert!(t.ep.lacks_timestamp(&bare));
    assert!(t.recv(bare).is_empty());
    t.assert_rule(rule::TS_08);
    assert_eq!((t.ep.stats().bytes_delivered, t.ep.rcv_nxt()), (0, SeqNum(REMOTE_ISS + 1)));
    let rst = seg(RST, REMOTE_ISS + 1, 0);
    assert!(!t.ep.lacks_timestamp(&rst));
    t.recv(rst);
    assert_eq!(t.ep.close_reason(), Some(CloseReason::Reset));
}

/// B-TS-06: RFC 7323 §5.3 R1: PAWS never applies to a reset; an old
/// TSval on an RST at RCV.NXT still resets the connection.
#[test]
fn established_paws_never_applies_to_rst() {
    let (mut t, _, _) = established_with(ts_cfg(), seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ts(5000, 1_000_000));
    let rst = seg(RST, REMOTE_ISS + 1, 0).with_ts(10, 0);
    assert!(!t.ep.paws_rejects(&rst));
    t.recv(rst);
    t.assert_rule(rule::TS_06);
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.ep.close_reason(), Some(CloseReason::Reset));
}

// =========================================================================
// SACK (RFC 2018, RFC 2883, RFC 6675)
// =========================================================================

fn sack_cfg() -> TcpConfig {
    TcpConfig { sack: true, mss: 1000, ..TcpConfig::default() }
}

trait SackExt {
    fn sack_ok(self) -> Segment;
    fn sacking(self, blocks: &[(u32, u32)]) -> Segment;
}

impl SackExt for Segment {
    fn sack_ok(mut self) -> Segment {
        self.opts = self.opts.with_sack_permitted(true);
        self
    }
    fn sacking(mut self, blocks: &[(u32, u32)]) -> Segment {
        for &(left, right) in blocks {
            assert!(self.sack.push(SackBlock::new(SeqNum(left), SeqNum(right))));
        }
        self
    }
}

fn blocks_of(s: &Segment) -> Vec<(u32, u32)> {
    s.sack.as_slice().iter().map(|b| (b.left.0, b.right.0)).collect()
}

/// ESTABLISHED by an active open with SACK negotiated.
fn established_with_sack() -> T {
    let (t, syn, _) = established_with(sack_cfg(), seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).sack_ok());
    assert!(syn.sack_permitted());
    assert!(t.ep.sack_on());
    t
}

/// B-SACK-01, B-SACK-02: SACK-permitted on the SYN when configured; SACK
/// is in use only when the SYN,ACK carries it too. A SYN,ACK carries it
/// only when the SYN did, and the SYN and SYN,ACK options cost 4 bytes
/// alone and none beside timestamps.
#[test]
fn syn_sent_sack_permitted_is_used_only_when_both_syns_carry_it() {
    let (t, syn, ack) = established_with(sack_cfg(), seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    assert!(syn.sack_permitted() && !ack.sack_permitted());
    assert_eq!(syn.option_bytes(), 4 + 4);
    assert!(!t.ep.sack_on(), "the peer did not offer it");

    let t = established_with_sack();
    t.assert_rule(rule::SACK_02);
    assert_eq!(t.ep.snd_mss(), 1000, "SACK takes nothing from the data size");

    // Passive: the SYN,ACK answers the SYN's offer, and only it.
    let mut t = T::with_cfg(sack_cfg());
    t.call(|ep, out| ep.listen(out));
    let synack = one(t.recv(seg(SYN, REMOTE_ISS, 0).sack_ok()));
    assert!(synack.sack_permitted() && t.ep.sack_on());
    t.assert_rule(rule::SACK_01);
    let mut t = T::with_cfg(sack_cfg());
    t.call(|ep, out| ep.listen(out));
    let synack = one(t.recv(seg(SYN, REMOTE_ISS, 0)));
    assert!(!synack.sack_permitted() && !t.ep.sack_on());
    // Beside timestamps SACK-permitted fills their padding.
    let ts = TcpConfig { timestamps: true, ..sack_cfg() };
    let syn = one(T::with_cfg(ts).call(|ep, out| ep.connect(out)));
    assert_eq!(syn.option_bytes(), 4 + 12);
}

/// B-SACK-03: every ACK sent while out-of-order data is held carries the
/// blocks, the one holding the segment that triggered it first (RFC 2018
/// §4); once the gap fills, no block.
#[test]
fn established_out_of_order_data_is_acked_at_once_with_sack_blocks() {
    let mut t = established_with_sack();
    let d = |seq: u32| seg(ACK, seq, LOCAL_ISS + 1).len(500);
    let ack = one(t.recv(d(REMOTE_ISS + 1001)));
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert_eq!(blocks_of(&ack), [(REMOTE_ISS + 1001, REMOTE_ISS + 1501)]);
    t.assert_rule(rule::SACK_03);
    assert_eq!(ack.option_bytes(), 12);
    let ack = one(t.recv(d(REMOTE_ISS + 2001)));
    assert_eq!(blocks_of(&ack), [(REMOTE_ISS + 2001, REMOTE_ISS + 2501), (REMOTE_ISS + 1001, REMOTE_ISS + 1501)]);
    // In-order data that leaves the held ranges alone: they still go.
    let ack = one(t.recv(d(REMOTE_ISS + 1)));
    assert_eq!(ack.ack.0, REMOTE_ISS + 501);
    assert_eq!(blocks_of(&ack), [(REMOTE_ISS + 2001, REMOTE_ISS + 2501), (REMOTE_ISS + 1001, REMOTE_ISS + 1501)]);
    one(t.recv(d(REMOTE_ISS + 501)));
    let ack = one(t.recv(d(REMOTE_ISS + 1501)));
    assert_eq!(ack.ack.0, REMOTE_ISS + 2501);
    assert!(ack.sack.is_empty(), "nothing held: no SACK option");
}

/// B-SACK-04: a duplicate segment is reported in the first block, below
/// RCV.NXT or inside a held range (RFC 2883 §4), and not repeated.
#[test]
fn established_duplicate_segment_is_reported_by_a_dsack_block() {
    let mut t = established_with_sack();
    let d = |seq: u32| seg(ACK, seq, LOCAL_ISS + 1).len(500);
    one(t.recv(d(REMOTE_ISS + 1)));
    let ack = one(t.recv(d(REMOTE_ISS + 1)));
    assert_eq!(blocks_of(&ack), [(REMOTE_ISS + 1, REMOTE_ISS + 501)]);
    t.assert_rule(rule::SACK_04);
    one(t.recv(d(REMOTE_ISS + 1001)));
    let ack = one(t.recv(d(REMOTE_ISS + 1001)));
    assert_eq!(blocks_of(&ack), [(REMOTE_ISS + 1001, REMOTE_ISS + 1501), (REMOTE_ISS + 1001, REMOTE_ISS + 1501)]);
    // The next ACK has no D-SACK any more, only the held ranges.
    let ack = one(t.recv(d(REMOTE_ISS + 2001)));
    assert_eq!(blocks_of(&ack), [(REMOTE_ISS + 2001, REMOTE_ISS + 2501), (REMOTE_ISS + 1001, REMOTE_ISS + 1501)]);
}

/// Ten segments of 1000 in flight from SND.UNA = 1001 (cwnd 10000).
fn sack_sender_with_ten_segments_out() -> T {
    let mut t = established_with_sack();
    t.ep.cc.as_mut().unwrap().cwnd = 10_000;
    let sent = t.call(|ep, out| ep.send(10_000, out));
    assert_eq!(sent.len(), 10);
    t
}

/// B-SACK-05, B-SACK-06, B-SACK-07, B-SACK-08, B-SACK-09: RFC 6675 with
/// the first, third and fifth segments lost: the scoreboard learns each
/// ACK's blocks; the third duplicate enters recovery (cwnd = ssthresh =
/// 5000, the first segment again); as SACKs arrive pipe falls and the
/// other holes go in one round trip; the rescue retransmission follows
/// the partial ACK; the ACK of RecoveryPoint ends recovery. No RTO.
#[test]
fn established_three_losses_are_repaired_by_sack_recovery() {
    let mut t = sack_sender_with_ten_segments_out();
    let base = LOCAL_ISS + 1; // 1001
    let s = |n: u32| base + 1000 * n;
    let dup = |blocks: &[(u32, u32)]| seg(ACK, REMOTE_ISS + 1, base).sacking(blocks);
    assert!(t.recv(dup(&[(s(1), s(2))])).is_empty());
    t.assert_rule(rule::SACK_05);
    assert!(t.recv(dup(&[(s(3), s(4)), (s(1), s(2))])).is_empty());
    let rxt = one(t.recv(dup(&[(s(5), s(6)), (s(3), s(4)), (s(1), s(2))])));
    t.assert_rule(rule::SACK_06);
    assert_eq!((rxt.seq.0, rxt.len, rxt.retransmit), (s(0), 1000, true));
    assert_eq!(t.ep.congestion_window(), Some((5000, 5000)));
    assert!(t.ep.in_sack_recovery());
    // pipe 7000 (not lost: 3000 octets; retransmitted: 1000... see the
    // scoreboard's test): nothing more yet.
    assert!(t.recv(dup(&[(s(5), s(7)), (s(3), s(4)), (s(1), s(2))])).is_empty());
    // s7 SACKed: s2 and s4 are lost, pipe 3000: both go.
    let rxts = t.recv(dup(&[(s(5), s(8)), (s(3), s(4)), (s(1), s(2))]));
    t.assert_rule(rule::SACK_07);
    let seqs: Vec<u32> = rxts.iter().map(|r| r.seq.0).collect();
    assert_eq!(seqs, [s(2), s(4)]);
    // The first repair arrives: a partial ACK; the rescue goes (rule 4).
    let rescue = one(t.recv(seg(ACK, REMOTE_ISS + 1, s(2)).sacking(&[(s(5), s(8)), (s(3), s(4))])));
    t.assert_rule(rule::SACK_08);
    assert_eq!((rescue.seq.0, rescue.len), (s(9), 1000));
    assert!(t.ep.in_sack_recovery());
    // The ACK of RecoveryPoint ends it, cwnd where recovery set it.
    t.recv(seg(ACK, REMOTE_ISS + 1, s(10)));
    t.assert_rule(rule::SACK_09);
    assert!(!t.ep.in_sack_recovery());
    assert_eq!(t.ep.congestion_window(), Some((5000, 5000)));
    assert_eq!(t.ep.stats().retransmissions, 4);
    assert_eq!(t.ep.stats().fast_retransmits, 4);
}

/// B-SACK-10: RETRANSMIT expiring in recovery ends it (RFC 6675 §5.1):
/// the earliest segment goes again, in slow start, and later SACKs start
/// no recovery before SND.UNA reaches the RecoveryPoint the RTO set.
#[test]
fn established_rto_in_sack_recovery_ends_it() {
    let mut t = sack_sender_with_ten_segments_out();
    let base = LOCAL_ISS + 1;
    let s = |n: u32| base + 1000 * n;
    let dup = |blocks: &[(u32, u32)]| seg(ACK, REMOTE_ISS + 1, base).sacking(blocks);
    t.recv(dup(&[(s(5), s(6)), (s(3), s(4)), (s(1), s(2))]));
    assert!(t.ep.in_sack_recovery());
    let rxt = one(t.fire_next_timer());
    t.assert_rule(rule::SACK_10);
    assert_eq!((rxt.seq.0, rxt.retransmit), (s(0), true));
    assert!(!t.ep.in_sack_recovery());
    assert_eq!(t.ep.congestion_window(), Some((1000, 5000)));
    assert!(t.recv(dup(&[(s(7), s(8)), (s(5), s(6)), (s(3), s(4)), (s(1), s(2))])).is_empty());
    assert!(!t.ep.in_sack_recovery());
}

/// RFC 5681 §3.1: "When a TCP sender detects segment loss using the
/// retransmission timer and the given segment has already been
/// retransmitted by way of the retransmission timer at least once, the
/// value of ssthresh is held constant." Recovery (s0, s2, s4 lost of
/// 20 queued, cwnd 10000) sets ssthresh = 5000 and, once s5..s9 are
/// SACKed, sends new data s10 and s11: SND.MAX − SND.UNA = 12000. The
/// first RTO keeps ssthresh at min(5000, 12000 / 2) = 5000 (B-SACK-10);
/// the second RTO of the same segment must hold it at 5000, not take
/// 12000 / 2 = 6000 now that recovery is over.
#[test]
fn established_second_rto_of_a_segment_holds_ssthresh() {
    let mut t = established_with_sack();
    t.ep.cc.as_mut().unwrap().cwnd = 10_000;
    assert_eq!(t.call(|ep, out| ep.send(20_000, out)).len(), 10);
    let base = LOCAL_ISS + 1;
    let s = |n: u32| base + 1000 * n;
    let dup = |blocks: &[(u32, u32)]| seg(ACK, REMOTE_ISS + 1, base).sacking(blocks);
    t.recv(dup(&[(s(1), s(2))]));
    t.recv(dup(&[(s(3), s(4)), (s(1), s(2))]));
    t.recv(dup(&[(s(5), s(6)), (s(3), s(4)), (s(1), s(2))]));
    assert_eq!(t.ep.congestion_window(), Some((5000, 5000)));
    let sent = t.recv(dup(&[(s(5), s(10)), (s(3), s(4)), (s(1), s(2))]));
    assert!(sent.iter().any(|x| x.seq.0 == s(11)), "new data s10, s11 sent in recovery: {sent:?}");
    let rxt = one(t.fire_next_timer());
    assert_eq!((rxt.seq.0, rxt.retransmit), (s(0), true));
    assert_eq!(t.ep.congestion_window(), Some((1000, 5000)));
    let rxt = one(t.fire_next_timer());
    assert_eq!((rxt.seq.0, rxt.retransmit), (s(0), true));
    assert_eq!(t.ep.congestion_window(), Some((1000, 5000)), "ssthresh held on the second RTO");
}

/// B-SACK-07, RFC 6675 §4 NextSeg (2): new data is chosen only if the
/// window lets a segment go. Ten segments out (cwnd 10000) and more
/// queued; the peer's window is 10500, so 500 octets of room, which
/// sender SWS avoidance declines. The first and ninth segments are lost:
/// three duplicates enter recovery (cwnd = ssthresh = 5000, the first
/// resent). Once s1..s8 and s9..s10 are SACKed, s8 is not lost (1000
/// octets SACKed above it), pipe = 1000 (s8) + 1000 (resent) = 2000, and
/// cwnd − pipe = 3000: rule 1 finds nothing, rule 2 cannot send, so rule
/// 3 resends s8, the unSACKed segment below the highest SACK. Then pipe
/// is 3000, rule 3 has nothing left and RescueRxt (s1) is not below
/// HighACK, so nothing more.
#[test]
fn established_sack_recovery_skips_new_data_the_window_refuses() {
    let mut t = established_with_sack();
    t.ep.cc.as_mut().unwrap().cwnd = 10_000;
    assert_eq!(t.call(|ep, out| ep.send(20_000, out)).len(), 10);
    let base = LOCAL_ISS + 1;
    let s = |n: u32| base + 1000 * n;
    let dup = |blocks: &[(u32, u32)]| seg(ACK, REMOTE_ISS + 1, base).wnd(10_500).sacking(blocks);
    assert!(t.recv(dup(&[(s(1), s(2))])).is_empty());
    assert!(t.recv(dup(&[(s(1), s(3))])).is_empty());
    let rxt = one(t.recv(dup(&[(s(1), s(4))])));
    assert_eq!((rxt.seq.0, rxt.retransmit), (s(0), true));
    assert_eq!(t.ep.congestion_window(), Some((5000, 5000)));
    for n in 5..=8 {
        assert!(t.recv(dup(&[(s(1), s(n))])).is_empty(), "SACK up to s{n}: nothing to send");
    }
    let rxt = one(t.recv(dup(&[(s(9), s(10)), (s(1), s(8))])));
    assert_eq!((rxt.seq.0, rxt.len, rxt.retransmit), (s(8), 1000, true));
}

/// B-SACK-04, RFC 2883 §4: a duplicate is reported once, by the first
/// segment of the step that answers it. The peer resends its first 500
/// octets with 500 new ones and an ACK of both our segments: slow start
/// opens cwnd to 3000 and three segments go in that step; only the first
/// carries the D-SACK, and, nothing being held, the others carry no
/// block.
#[test]
fn established_dsack_goes_on_the_first_segment_of_a_step_only() {
    let mut t = established_with_sack();
    t.ep.cc.as_mut().unwrap().cwnd = 2000;
    assert_eq!(t.call(|ep, out| ep.send(6000, out)).len(), 2);
    let base = LOCAL_ISS + 1;
    one(t.recv(seg(ACK, REMOTE_ISS + 1, base).len(500)));
    let sent = t.recv(seg(ACK, REMOTE_ISS + 1, base + 2000).len(1000));
    let blocks: Vec<_> = sent.iter().map(blocks_of).collect();
    assert_eq!(blocks, [vec![(REMOTE_ISS + 1, REMOTE_ISS + 501)], vec![], vec![]]);
}

/// B-SACK-04, B-TS-05: a duplicate that PAWS rejects is acknowledged with
/// a D-SACK too (as Linux's tcp_send_dupack does): it is a duplicate all
/// the same (RFC 2883 §4).
#[test]
fn established_dsack_reports_a_duplicate_paws_rejects() {
    let cfg = TcpConfig { timestamps: true, ts_start: Some(1_000_000), ..sack_cfg() };
    let synack = seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).sack_ok().with_ts(500, 1_000_000);
    let (mut t, _, _) = established_with(cfg, synack);
    let d = |tsval: u32| seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(500).with_ts(tsval, 1_000_000);
    let ack = one(t.recv(d(600)));
    assert!(ack.sack.is_empty());
    let ack = one(t.recv(d(550)));
    t.assert_rule(rule::TS_05);
    assert_eq!(blocks_of(&ack), [(REMOTE_ISS + 1, REMOTE_ISS + 501)]);
}

/// B-ACK-05: with SACK offered but not negotiated, NewReno's fast
/// retransmit works as before: the third duplicate ACK resends SND.UNA.
#[test]
fn established_without_negotiated_sack_keeps_newreno() {
    let (mut t, _, _) = established_with(sack_cfg(), seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    t.ep.cc.as_mut().unwrap().cwnd = 10_000;
    assert_eq!(t.call(|ep, out| ep.send(10_000, out)).len(), 10);
    let dup = || seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1);
    assert!(t.recv(dup()).is_empty());
    assert!(t.recv(dup()).is_empty());
    let rxt = one(t.recv(dup()));
    assert_eq!((rxt.seq.0, rxt.retransmit), (LOCAL_ISS + 1, true));
    assert_eq!(t.ep.congestion_window(), Some((8000, 5000)));
}

/// B-SACK-11: RFC 3042 §2 without SACK. cwnd 4 segments (IW with SMSS
/// 1000), 4 in flight, the first lost. Duplicate ACK 1: FlightSize 4000 +
/// 1000 <= cwnd + 2 SMSS = 6000, so one new segment (s4); duplicate ACK 2:
/// 6000 <= 6000, one more (s5); cwnd stays 4000. Duplicate ACK 3: fast
/// retransmit of s0; FlightSize 6000 less the 2000 limited transmit sent
/// (RFC 5681 §3.2 (2)): ssthresh = 4000 / 2 = 2000, cwnd = 2000 + 3 SMSS
/// = 5000 < 6000 in flight, no room for new data.
#[test]
fn established_limited_transmit_sends_on_the_first_two_duplicate_acks() {
    let cfg = TcpConfig { limited_transmit: true, mss: 1000, ..TcpConfig::default() };
    let (mut t, _, _) = established_with(cfg, seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    assert_eq!(t.ep.congestion_window().map(|(cwnd, _)| cwnd), Some(4000));
    let s = |n: u32| LOCAL_ISS + 1 + 1000 * n;
    assert_eq!(t.call(|ep, out| ep.send(8000, out)).len(), 4);
    let dup = || seg(ACK, REMOTE_ISS + 1, s(0));
    for n in [4, 5] {
        let new = one(t.recv(dup()));
        t.assert_rule(rule::SACK_11);
        assert_eq!((new.seq.0, new.len, new.retransmit), (s(n), 1000, false));
        assert_eq!(t.ep.congestion_window().map(|(cwnd, _)| cwnd), Some(4000), "cwnd unchanged");
    }
    let rxt = one(t.recv(dup()));
    assert_eq!((rxt.seq.0, rxt.retransmit), (s(0), true));
    assert_eq!(t.ep.congestion_window(), Some((5000, 2000)));
}

/// B-SACK-11: RFC 6675 §5 step (3), the same start with SACK. Duplicate
/// ACK 1 SACKs s1: pipe (HighRxt = HighACK) = s0, s2, s3 = 3000, cwnd -
/// pipe = 1000: s4 goes, pipe 4000 stops it. Duplicate ACK 2 SACKs s1-s2:
/// pipe = s0, s3, s4 = 3000: s5. Duplicate ACK 3 SACKs s1-s3 (3000 octets
/// above s0, so IsLost(s0) too): recovery, FlightSize 6000 less the 2000
/// limited transmit sent (RFC 6675 §5 (4.2) with RFC 5681 §3.2 (2)):
/// cwnd = ssthresh = 2000, s0 again; pipe = s4, s5 + s0 retransmitted =
/// 3000: nothing more.
#[test]
fn established_limited_transmit_with_sack_sends_as_pipe_allows() {
    let cfg = TcpConfig { limited_transmit: true, ..sack_cfg() };
    let (mut t, _, _) = established_with(cfg, seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).sack_ok());
    assert!(t.ep.sack_on());
    let s = |n: u32| LOCAL_ISS + 1 + 1000 * n;
    assert_eq!(t.call(|ep, out| ep.send(8000, out)).len(), 4);
    let dup = |upto: u32| seg(ACK, REMOTE_ISS + 1, s(0)).sacking(&[(s(1), s(upto))]);
    for (upto, n) in [(2, 4), (3, 5)] {
        let new = one(t.recv(dup(upto)));
        t.assert_rule(rule::SACK_11);
        assert_eq!((new.seq.0, new.len, new.retransmit), (s(n), 1000, false));
        assert_eq!(t.ep.congestion_window().map(|(cwnd, _)| cwnd), Some(4000), "cwnd unchanged");
    }
    let rxt = one(t.recv(dup(4)));
    t.assert_rule(rule::SACK_06);
    assert_eq!((rxt.seq.0, rxt.retransmit), (s(0), true));
    assert_eq!(t.ep.congestion_window(), Some((2000, 2000)));
}

/// B-ACK-05: limited transmit is off by default: the first two duplicate
/// ACKs send nothing.
#[test]
fn established_without_limited_transmit_duplicate_acks_send_nothing() {
    let (mut t, _, _) =
        established_with(TcpConfig { mss: 1000, ..TcpConfig::default() }, seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    assert_eq!(t.call(|ep, out| ep.send(8000, out)).len(), 4);
    let dup = || seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1);
    assert!(t.recv(dup()).is_empty());
    assert!(t.recv(dup()).is_empty());
}

/// B-SACK-03: beside timestamps only 3 blocks fit (RFC 2018 §3: 12 + 28 =
/// 40 option bytes); the oldest reported range waits.
#[test]
fn established_with_timestamps_sends_at_most_three_sack_blocks() {
    let cfg = TcpConfig { timestamps: true, ts_start: Some(1_000_000), ..sack_cfg() };
    let synack = seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).sack_ok().with_ts(500, 1_000_000);
    let (mut t, _, _) = established_with(cfg, synack);
    assert!(t.ep.sack_on() && t.ep.timestamps_on());
    let mut last = Segment::default();
    for n in 1..=4 {
        let data = seg(ACK, REMOTE_ISS + 1 + 1000 * n, LOCAL_ISS + 1).len(500).with_ts(500 + n, 1_000_000);
        last = one(t.recv(data));
    }
    let held = |n: u32| (REMOTE_ISS + 1 + 1000 * n, REMOTE_ISS + 501 + 1000 * n);
    assert_eq!(blocks_of(&last), [held(4), held(3), held(2)]);
    assert_eq!(last.option_bytes(), 40);
}

/// B-SACK-12, RFC 9293 §3.7.1 and RFC 6691 §2: the MSS option counts no
/// TCP options, so a data segment carrying SACK blocks carries that much
/// less data. SMSS 1000, no timestamps. Our first two segments are out
/// (cwnd 2000); the peer's octets R+1001..R+1501 arrive out of order and
/// are held. The peer then sends them again (a duplicate) with an ACK of
/// both our segments: slow start makes cwnd 3000, and the step sends:
/// the first segment with a D-SACK and the held range (4 + 2·8 = 20
/// option bytes): 1000 − 20 = 980 octets; the next ones with the held
/// range alone (4 + 8 = 12): 988 and 988. That is 2956 of the 3000 cwnd
/// allows; the 44 left are declined by sender SWS avoidance. Every
/// segment's options + data stay within the peer's MSS of 1000.
#[test]
fn established_data_segment_carrying_sack_blocks_is_shortened_for_them() {
    let mut t = established_with_sack();
    t.ep.cc.as_mut().unwrap().cwnd = 2000;
    let first = t.call(|ep, out| ep.send(6000, out));
    assert_eq!(first.iter().map(|s| s.len).collect::<Vec<_>>(), [1000, 1000]);
    let base = LOCAL_ISS + 1;
    let held = || seg(ACK, REMOTE_ISS + 1001, base).len(500);
    let ack = one(t.recv(held()));
    assert_eq!(blocks_of(&ack), [(REMOTE_ISS + 1001, REMOTE_ISS + 1501)]);
    let sent = t.recv(seg(ACK, REMOTE_ISS + 1001, base + 2000).len(500));
    t.assert_rule(rule::SACK_12);
    let sizes: Vec<(u32, u32, usize)> = sent.iter().map(|s| (s.seq.0, s.len, s.sack.len())).collect();
    assert_eq!(sizes, [(base + 2000, 980, 2), (base + 2980, 988, 1), (base + 3968, 988, 1)]);
    for s in &sent {
        assert!(s.option_bytes() + s.len <= 1000, "{s:?}");
    }
}

/// B-SACK-12: a retransmission carrying SACK blocks resends the same
/// octets as before, in two segments. Ten segments of 1000 out (cwnd
/// 10000), sent before the peer's octets R+1001..R+1501 arrive out of
/// order and are held. Three duplicate ACKs SACK s1, s1..s2, s1..s3:
/// recovery (RFC 6675 §5 (4.3)) resends s0, 1000 octets, but every
/// segment now carries the held range (12 option bytes): s0 goes as 988
/// octets and then the other 12, back to back, both retransmissions.
#[test]
fn established_retransmission_carrying_sack_blocks_is_split() {
    let mut t = sack_sender_with_ten_segments_out();
    let base = LOCAL_ISS + 1;
    let s = |n: u32| base + 1000 * n;
    one(t.recv(seg(ACK, REMOTE_ISS + 1001, base).len(500)));
    let dup = |upto: u32| seg(ACK, REMOTE_ISS + 1, base).sacking(&[(s(1), s(upto))]);
    assert!(t.recv(dup(2)).is_empty());
    assert!(t.recv(dup(3)).is_empty());
    let rxt = t.recv(dup(4));
    t.assert_rule(rule::SACK_06);
    let sizes: Vec<(u32, u32, bool, usize)> =
        rxt.iter().map(|x| (x.seq.0, x.len, x.retransmit, x.sack.len())).collect();
    assert_eq!(sizes, [(s(0), 988, true, 1), (s(0) + 988, 12, true, 1)]);
    for x in &rxt {
        assert!(x.option_bytes() + x.len <= 1000, "{x:?}");
    }
}

/// B-SACK-11, RFC 3042 §2: "the sender can only send two segments beyond
/// the congestion window", and RFC 5681 §3.2 (2) leaves only those out
/// of FlightSize. Without SACK: 4 segments out, 8000 queued, and cwnd
/// then 6000 (room for two more). Duplicate ACK 1: cwnd allows s4 and
/// s5 as ordinary data; limited transmit then adds s6 (FlightSize 7000 ≤
/// cwnd + 2 SMSS = 8000), 1000 octets beyond cwnd. Duplicate ACK 2: cwnd
/// allows nothing; limited transmit sends s7 (8000 ≤ 8000), 2000 octets
/// beyond cwnd in all. Duplicate ACK 3: fast retransmit of s0; ssthresh
/// = (8000 − 2000) / 2 = 3000, cwnd = 3000 + 3 SMSS = 6000.
#[test]
fn established_limited_transmit_comes_after_what_cwnd_allows() {
    let cfg = TcpConfig { limited_transmit: true, mss: 1000, ..TcpConfig::default() };
    let (mut t, _, _) = established_with(cfg, seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    let s = |n: u32| LOCAL_ISS + 1 + 1000 * n;
    assert_eq!(t.call(|ep, out| ep.send(8000, out)).len(), 4);
    t.ep.cc.as_mut().unwrap().cwnd = 6000;
    let dup = || seg(ACK, REMOTE_ISS + 1, s(0));
    let sent: Vec<u32> = t.recv(dup()).iter().map(|x| x.seq.0).collect();
    assert_eq!(sent, [s(4), s(5), s(6)]);
    t.assert_rule(rule::SACK_11);
    let sent: Vec<u32> = t.recv(dup()).iter().map(|x| x.seq.0).collect();
    assert_eq!(sent, [s(7)]);
    let rxt = one(t.recv(dup()));
    assert_eq!((rxt.seq.0, rxt.retransmit), (s(0), true));
    assert_eq!(t.ep.congestion_window(), Some((6000, 3000)));
}

/// B-SACK-11 with SACK (RFC 6675 §5 (3), (4.2); RFC 5681 §3.2 (2)): 4
/// segments out, 10000 queued, cwnd then 6000. Duplicate ACK 1 SACKs s1:
/// cwnd allows s4 and s5 as ordinary data (FlightSize 6000); then pipe
/// (HighRxt = HighACK) = s0, s2..s5 = 5000 and cwnd − pipe = 1000, so
/// limited transmit sends s6: 1000 octets beyond cwnd. Duplicate ACK 2
/// SACKs s1..s2: pipe = s0, s3..s6 = 5000: s7, 2000 beyond in all.
/// Duplicate ACK 3 SACKs s1..s3 (3000 octets above s0: IsLost(s0)):
/// recovery, FlightSize 8000 less 2000: cwnd = ssthresh = 3000, and s0
/// again.
#[test]
fn established_limited_transmit_with_sack_counts_only_octets_beyond_cwnd() {
    let cfg = TcpConfig { limited_transmit: true, ..sack_cfg() };
    let (mut t, _, _) = established_with(cfg, seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).sack_ok());
    let s = |n: u32| LOCAL_ISS + 1 + 1000 * n;
    assert_eq!(t.call(|ep, out| ep.send(10_000, out)).len(), 4);
    t.ep.cc.as_mut().unwrap().cwnd = 6000;
    let dup = |upto: u32| seg(ACK, REMOTE_ISS + 1, s(0)).sacking(&[(s(1), s(upto))]);
    let sent: Vec<u32> = t.recv(dup(2)).iter().map(|x| x.seq.0).collect();
    assert_eq!(sent, [s(4), s(5), s(6)]);
    let sent: Vec<u32> = t.recv(dup(3)).iter().map(|x| x.seq.0).collect();
    assert_eq!(sent, [s(7)]);
    let rxt = one(t.recv(dup(4)));
    t.assert_rule(rule::SACK_06);
    assert_eq!((rxt.seq.0, rxt.retransmit), (s(0), true));
    assert_eq!(t.ep.congestion_window(), Some((3000, 3000)));
}

/// B-SACK-11, RFC 5681 §3.2 (2): limited transmit's data is left out of
/// FlightSize, and a bare FIN carries none. Ten segments out (cwnd
/// 10000) and the FIN queued behind them. Duplicate ACK 1: limited
/// transmit sends the FIN alone (FlightSize 10001 ≤ cwnd + 2 SMSS).
/// Duplicate ACK 3: FlightSize 10001, nothing to leave out: ssthresh =
/// 10001 / 2 = 5000, cwnd = 5000 + 3 SMSS = 8000.
#[test]
fn established_limited_transmit_of_a_bare_fin_counts_no_data() {
    let cfg = TcpConfig { limited_transmit: true, mss: 1000, ..TcpConfig::default() };
    let (mut t, _, _) = established_with(cfg, seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1));
    t.ep.cc.as_mut().unwrap().cwnd = 10_000;
    let s = |n: u32| LOCAL_ISS + 1 + 1000 * n;
    assert_eq!(t.call(|ep, out| ep.send(10_000, out)).len(), 10);
    assert!(t.call(|ep, out| ep.close(out)).is_empty(), "cwnd is full");
    let dup = || seg(ACK, REMOTE_ISS + 1, s(0));
    let fin = one(t.recv(dup()));
    t.assert_rule(rule::SACK_11);
    assert_eq!((fin.seq.0, fin.len, fin.flags.fin()), (s(10), 0, true));
    assert!(t.recv(dup()).is_empty());
    let rxt = one(t.recv(dup()));
    assert_eq!((rxt.seq.0, rxt.retransmit), (s(0), true));
    assert_eq!(t.ep.congestion_window(), Some((8000, 5000)));
}

/// B-SACK-07, B-SACK-08: RFC 6675 §4 NextSeg (4) resends the segment
/// holding the highest outstanding unSACKed octet when nothing else may
/// go; new data sent by rule (2) in the same step is not yet a loss to
/// rescue. Ten segments out (cwnd 10000), the FIN queued behind them (no
/// room). Duplicate ACKs SACK s1..s2, s1..s3, s1..s4: recovery (3000
/// octets above s0), cwnd = ssthresh = 5000, s0 again; HighRxt =
/// RescueRxt = s1. The ACK of s0 (SEG.ACK = s4, HighACK now past
/// RescueRxt) SACKs s5..s10: pipe = 0 (s4 lost, nothing else
/// outstanding), so rule (1) resends s4 (HighRxt = s5, pipe 1000), rule
/// (2) sends the FIN (pipe 1001), and then nothing: the FIN just sent is
/// not rescued in the same step.
#[test]
fn established_sack_recovery_does_not_rescue_the_fin_it_just_sent() {
    let mut t = sack_sender_with_ten_segments_out();
    let base = LOCAL_ISS + 1;
    let s = |n: u32| base + 1000 * n;
    assert!(t.call(|ep, out| ep.close(out)).is_empty(), "cwnd is full");
    let dup = |upto: u32| seg(ACK, REMOTE_ISS + 1, base).sacking(&[(s(1), s(upto))]);
    assert!(t.recv(dup(2)).is_empty());
    assert!(t.recv(dup(3)).is_empty());
    let rxt = one(t.recv(dup(4)));
    assert_eq!((rxt.seq.0, rxt.retransmit), (s(0), true));
    assert_eq!(t.ep.congestion_window(), Some((5000, 5000)));
    let sent = t.recv(seg(ACK, REMOTE_ISS + 1, s(4)).sacking(&[(s(5), s(10))]));
    let seqs: Vec<(u32, u32, bool, bool)> =
        sent.iter().map(|x| (x.seq.0, x.len, x.flags.fin(), x.retransmit)).collect();
    assert_eq!(seqs, [(s(4), 1000, false, true), (s(10), 0, true, false)]);
    assert!(t.ep.in_sack_recovery());
}

// =========================================================================
// Linux options (B-LNX-, docs/linux.md)
// =========================================================================

/// An endpoint with `cfg` through an active open answered at 10 ms.
fn linux_established(cfg: TcpConfig) -> T {
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.connect(out));
    t.at_ms(10);
    one(t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1)));
    assert_eq!(t.state(), State::Established);
    t
}

/// Fires timers until the endpoint closes; returns the times (ms) of the
/// segments sent on the way and of the close.
fn times_until_closed(t: &mut T) -> (Vec<u64>, u64) {
    let mut sent = Vec::new();
    while t.state() != State::Closed && t.state() != State::Listen {
        let segs = t.fire_next_timer();
        sent.extend(segs.iter().map(|_| t.now.as_nanos() / 1_000_000));
    }
    (sent, t.now.as_nanos() / 1_000_000)
}

/// B-LNX-02: tcp_syn_retries 6 with tcp_syn_linear_timeouts 4 (Linux's
/// tcp_retransmit_timer backs off only once icsk_backoff exceeds 4, and
/// tcp_write_timeout allows 6 + 4 retransmissions): SYNs at 0, then 1, 2,
/// 3, 4, 5 s (four retransmissions at the initial 1 s RTO, the fifth
/// after it), 7, 11, 19, 35, 67 s, and the give-up 64 s after the last,
/// at 131 s.
#[test]
fn syn_sent_linux_linear_timeouts_give_the_kernels_schedule() {
    let cfg = TcpConfig {
        r2_syn: Some(6),
        syn_linear_timeouts: 4,
        rto_max: Duration::from_secs(120),
        ..TcpConfig::default()
    };
    let mut t = T::with_cfg(cfg);
    one(t.call(|ep, out| ep.connect(out)));
    let (sent, closed) = times_until_closed(&mut t);
    let secs: Vec<u64> = sent.iter().map(|ms| ms / 1000).collect();
    assert_eq!(secs, vec![1, 2, 3, 4, 5, 7, 11, 19, 35, 67]);
    assert_eq!(closed, 131_000);
    assert_eq!(t.ep.close_reason(), Some(CloseReason::RetransmitLimit));
}

/// B-LNX-03: tcp_synack_retries 5 (reqsk_timer_handler): a passive open
/// resends its SYN,ACK at 1, 3, 7, 15, 31 s and gives up at 63 s, back to
/// LISTEN, where r2_syn (7) would wait until 183 s.
#[test]
fn syn_received_linux_synack_retries_give_up_at_63_s() {
    let cfg = TcpConfig { synack_retries: Some(5), ..TcpConfig::default() };
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.listen(out));
    one(t.recv(seg(SYN, REMOTE_ISS, 0)));
    let (sent, closed) = times_until_closed(&mut t);
    assert_eq!(sent, vec![1000, 3000, 7000, 15000, 31000]);
    assert_eq!(closed, 63_000);
    assert_eq!(t.state(), State::Listen);
    t.assert_rule(rule::LNX_03);
}

/// B-LNX-04: tcp_retries2 15 is a budget of 924.6 s from the first
/// retransmission, checked when the timer expires. Data sent at 10 ms
/// with an RTO of 1 s (rto_min 1 s) is resent at 1.01, 3.01, 7.01, 15.01,
/// 31.01, 63.01, 127.01 s (the RTO reaches 120 s), then every 120 s:
/// 247.01 ... 847.01 (the 13th). At 967.01 s, 966 s have passed since
/// the first: the budget is spent after 13 retransmissions, not 15.
#[test]
fn established_linux_retries2_is_a_time_budget_not_a_count() {
    let cfg =
        TcpConfig { r2: Some(15), linux_retries2: true, rto_max: Duration::from_secs(120), ..TcpConfig::default() };
    let mut t = linux_established(cfg);
    t.call(|ep, out| ep.send(100, out));
    let (sent, closed) = times_until_closed(&mut t);
    assert_eq!(sent.len(), 13, "{sent:?}");
    assert_eq!((sent[0], sent[6], sent[12]), (1010, 127_010, 847_010));
    assert_eq!(closed, 967_010);
    assert_eq!(t.ep.close_reason(), Some(CloseReason::RetransmitLimit));
    t.assert_rule(rule::LNX_04);
}

/// B-LNX-04: with an RTO of exactly 200 ms (rto_min 200 ms, a 10 ms
/// sample) the resends come at 0.21, 0.61, ... 204.61 s (10th: the RTO
/// reaches 120 s), then 324.61 ... 924.61 s (16th). At 924.61 s only
/// 924.4 s have passed since the first (0.21 s), under the budget, so a
/// 16th retransmission goes; the give-up is at 1044.61 s. A count of 15
/// would have stopped at 924.61 s.
#[test]
fn established_linux_retries2_budget_counts_from_the_first_retransmission() {
    let cfg = TcpConfig {
        r2: Some(15),
        linux_retries2: true,
        rto_min: Duration::from_millis(200),
        rto_max: Duration::from_secs(120),
        ..TcpConfig::default()
    };
    let mut t = linux_established(cfg);
    t.call(|ep, out| ep.send(100, out));
    let (sent, closed) = times_until_closed(&mut t);
    assert_eq!(sent.len(), 16, "{sent:?}");
    assert_eq!((sent[0], sent[9], sent[15]), (210, 204_610, 924_610));
    assert_eq!(closed, 1_044_610);
}

fn established_with_linux_delayed_ack() -> T {
    let cfg = TcpConfig { delayed_ack: Some(LINUX_ATO_MIN), linux_delayed_ack: true, ..TcpConfig::default() };
    linux_established(cfg)
}

/// B-LNX-05: the first data starts quick-ack mode with min(65535 / (2 ×
/// 100), 16) = 16 quick ACKs (tcp_incr_quickack): sixteen 100-byte
/// segments 100 ms apart are each acknowledged at once. The 17th waits
/// the ATO, 40 ms (TCP_ATO_MIN: leaving quick-ack mode deflated it), for
/// the delayed-ACK timer.
#[test]
fn established_linux_quick_acks_then_delays() {
    let mut t = established_with_linux_delayed_ack();
    for i in 0..16u32 {
        t.at_ms(100 + 100 * u64::from(i));
        let ack = one(t.recv(seg(ACK, REMOTE_ISS + 1 + 100 * i, LOCAL_ISS + 1).len(100)));
        assert_eq!(ack.ack, SeqNum(REMOTE_ISS + 101 + 100 * i));
    }
    t.at_ms(1700);
    assert!(t.recv(seg(ACK, REMOTE_ISS + 1601, LOCAL_ISS + 1).len(100)).is_empty());
    assert_eq!(t.ep.timer(Timer::DelayedAck), Some(Instant::from_nanos(1_740_000_000)));
    let ack = one(t.fire_next_timer());
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 1701);
    t.assert_rule(rule::LNX_05);
}

/// B-LNX-06: tcp_fin in ESTABLISHED enters interactive mode, so the FIN's
/// ACK is not a quick ACK: after 100 bytes at 20 ms (acknowledged at
/// once, ATO 40 ms), the FIN at 50 ms is acknowledged by the delayed-ACK
/// timer at 90 ms, or by our FIN if the application closes first.
#[test]
fn established_linux_fin_ack_waits_the_ato() {
    let mut t = established_with_linux_delayed_ack();
    t.at_ms(20);
    one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(100)));
    t.at_ms(50);
    assert!(t.recv(seg(FIN_ACK, REMOTE_ISS + 101, LOCAL_ISS + 1)).is_empty());
    assert_eq!(t.state(), State::CloseWait);
    t.assert_rule(rule::LNX_06);
    assert_eq!(t.ep.timer(Timer::DelayedAck), Some(Instant::from_nanos(90_000_000)));
    t.at_ms(60);
    let fin = one(t.call(|ep, out| ep.close(out)));
    assert_seg(&fin, FIN_ACK, LOCAL_ISS + 1, REMOTE_ISS + 102);
    assert_eq!(t.ep.timer(Timer::DelayedAck), None);
}

/// B-LNX-06: before any data the ATO is still zero, so Linux's delayed-ACK
/// timer for a FIN fires at the next jiffy: the ACK goes at once.
#[test]
fn established_linux_fin_without_data_is_acknowledged_at_once() {
    let mut t = established_with_linux_delayed_ack();
    t.at_ms(50);
    let ack = one(t.recv(seg(FIN_ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)));
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 2);
    t.assert_rule(rule::LNX_06);
}

/// B-LNX-07: tcp_invalid_ratelimit 500 ms: an inexact RST at 100 ms gets
/// a challenge ACK; another at 400 ms gets none (300 ms later); one at
/// 700 ms does (600 ms after the last challenge ACK).
#[test]
fn established_linux_challenge_acks_are_rate_limited() {
    let cfg =
        TcpConfig { rfc5961: true, challenge_ack_interval: Some(Duration::from_millis(500)), ..TcpConfig::default() };
    let mut t = linux_established(cfg);
    t.at_ms(100);
    one(t.recv(seg(RST, REMOTE_ISS + 10, 0)));
    t.at_ms(400);
    assert!(t.recv(seg(RST, REMOTE_ISS + 10, 0)).is_empty());
    t.assert_rule(rule::LNX_07);
    t.at_ms(700);
    let ack = one(t.recv(seg(RST, REMOTE_ISS + 10, 0)));
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert_eq!(t.state(), State::Established);
}

/// The handshake as Linux runs it, with Reno's window and IW10.
fn linux_handshake_cfg() -> TcpConfig {
    TcpConfig {
        linux_handshake: true,
        congestion_control: CongestionControl::NewReno,
        initial_window_segments: Some(10),
        challenge_ack_interval: Some(Duration::from_millis(500)),
        ..TcpConfig::default()
    }
}

/// B-LNX-08: tcp_init_transfer: "we only reset cwnd when more than 1
/// SYN/SYN-ACK retransmission has occurred" (tp->total_retrans > 1): the
/// SYN resent twice (1 s and 3 s with the RFC 6298 backoff), the SYN,ACK
/// at 3.01 s makes the window one segment (1460 bytes), where one
/// retransmission keeps the initial window, 10 segments (RFC 6928: 14600
/// bytes).
#[test]
fn syn_sent_linux_two_syn_retransmissions_start_cwnd_at_one_segment() {
    let mut t = T::with_cfg(linux_handshake_cfg());
    t.call(|ep, out| ep.connect(out));
    one(t.fire_next_timer());
    one(t.fire_next_timer());
    t.at_ms(3010);
    one(t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1)));
    assert_eq!(t.state(), State::Established);
    t.assert_rule(rule::LNX_08);
    assert_eq!(t.ep.congestion_window().map(|c| c.0), Some(1460));

    let mut t = T::with_cfg(linux_handshake_cfg());
    t.call(|ep, out| ep.connect(out));
    one(t.fire_next_timer());
    t.at_ms(1010);
    one(t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1)));
    assert_eq!(t.ep.congestion_window().map(|c| c.0), Some(14600));
    // The rfc profile keeps the initial window after two.
    let mut t = T::with_cfg(TcpConfig { linux_handshake: false, ..linux_handshake_cfg() });
    t.call(|ep, out| ep.connect(out));
    one(t.fire_next_timer());
    one(t.fire_next_timer());
    t.at_ms(3010);
    one(t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1)));
    assert_eq!(t.ep.congestion_window().map(|c| c.0), Some(14600));
}

/// B-LNX-08: tcp_try_undo_spurious_syn: a SYN,ACK whose TSecr is the
/// first SYN's TSval (sent at 0 ms: TSval = ts_start) shows the first SYN
/// got through; the two retransmissions were spurious and the initial
/// window stays: 10 segments of 1448 bytes (1460 less the 12 of the
/// Timestamps option), 14480 bytes (RFC 6928).
#[test]
fn syn_sent_linux_spurious_syn_retransmissions_keep_the_initial_window() {
    let cfg = TcpConfig { timestamps: true, ts_start: Some(7000), ..linux_handshake_cfg() };
    let mut t = T::with_cfg(cfg);
    t.call(|ep, out| ep.connect(out));
    one(t.fire_next_timer());
    one(t.fire_next_timer());
    t.at_ms(3010);
    one(t.recv(seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).with_ts(500, 7000)));
    assert_eq!(t.state(), State::Established);
    assert_eq!(t.ep.congestion_window().map(|c| c.0), Some(14480));
}

/// B-LNX-09: tcp_check_req: a passive SYN_RECEIVED answers the peer's
/// retransmitted SYN with the SYN,ACK again (inet_rtx_syn_ack), not with
/// RFC 9293's ACK, and restarts its timer with the current RTO (1 s);
/// another within tcp_invalid_ratelimit (500 ms) gets nothing. The two
/// SYN-triggered SYN,ACKs count as retransmissions: at the ACK the
/// window is one segment (B-LNX-08).
#[test]
fn syn_received_linux_retransmitted_syn_gets_the_syn_ack_again() {
    let mut t = T::with_cfg(linux_handshake_cfg());
    t.call(|ep, out| ep.listen(out));
    assert_seg(&one(t.recv(seg(SYN, REMOTE_ISS, 0))), SYN_ACK, LOCAL_ISS, REMOTE_ISS + 1);
    t.at_ms(300);
    let again = one(t.recv(seg(SYN, REMOTE_ISS, 0)));
    assert_seg(&again, SYN_ACK, LOCAL_ISS, REMOTE_ISS + 1);
    assert!(again.retransmit);
    t.assert_rule(rule::LNX_09);
    assert_eq!(t.ep.poll_timeout(), Some(Instant::from_nanos(1_300_000_000)));
    t.at_ms(600);
    assert!(t.recv(seg(SYN, REMOTE_ISS, 0)).is_empty(), "within 500 ms of the last answer");
    t.at_ms(900);
    one(t.recv(seg(SYN, REMOTE_ISS, 0)));
    t.at_ms(910);
    assert!(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)).is_empty());
    assert_eq!(t.state(), State::Established);
    assert_eq!(t.ep.congestion_window().map(|c| c.0), Some(1460));
}

/// B-LNX-01: under `linux_rto` the endpoint's RTO is Linux's: the SYN
/// timed at 10 ms gives SRTT 10 ms, mdev_us 20000, rttvar max(20000,
/// 200000): RTO 210 ms, where RFC 6298 with rto_min 200 ms gives
/// max(10 + 4 × 5, 200) = 200 ms. Data sent at 10 ms is resent at 220 ms.
#[test]
fn established_linux_rto_after_the_handshake_sample() {
    let cfg = TcpConfig {
        linux_rto: true,
        rto_min: Duration::from_millis(200),
        rto_max: Duration::from_secs(120),
        ..TcpConfig::default()
    };
    let mut t = linux_established(cfg);
    assert_eq!(t.ep.rto(), Duration::from_millis(210));
    t.call(|ep, out| ep.send(100, out));
    assert_eq!(t.ep.timer(Timer::Retransmit), Some(Instant::from_nanos(220_000_000)));
    t.assert_rule(rule::TMR_01);
}

/// B-SACK-03, RFC 2018 §4: a bare FIN held beyond a hole is data beyond
/// the cumulative ACK (it occupies one sequence number): its ACK carries
/// the block holding it, `[FIN, FIN + 1)`, first. Here data 1..501 arrived,
/// 501..1001 is lost, and the FIN comes at 1001: ACK 501, block
/// 1001-1002. A later segment in the hole keeps reporting it.
#[test]
fn established_bare_fin_held_out_of_order_is_sacked() {
    let mut t = established_with_sack();
    one(t.recv(seg(ACK, REMOTE_ISS + 1, LOCAL_ISS + 1).len(500)));
    let ack = one(t.recv(seg(FIN_ACK, REMOTE_ISS + 1001, LOCAL_ISS + 1)));
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 501);
    assert_eq!(blocks_of(&ack), [(REMOTE_ISS + 1001, REMOTE_ISS + 1002)]);
    t.assert_rule(rule::SACK_03);
    // 701..801 lands in the hole: its block first, then the FIN's.
    let ack = one(t.recv(seg(ACK, REMOTE_ISS + 701, LOCAL_ISS + 1).len(100)));
    assert_eq!(blocks_of(&ack), [(REMOTE_ISS + 701, REMOTE_ISS + 801), (REMOTE_ISS + 1001, REMOTE_ISS + 1002)]);
    // The data right before the FIN joins it into one block.
    let ack = one(t.recv(seg(ACK, REMOTE_ISS + 901, LOCAL_ISS + 1).len(100)));
    assert_eq!(blocks_of(&ack), [(REMOTE_ISS + 901, REMOTE_ISS + 1002), (REMOTE_ISS + 701, REMOTE_ISS + 801)]);
}

/// B-SACK-04, RFC 2883 §4: a duplicate bare FIN is a duplicate segment
/// like any other: the FIN at 1 was received (RCV.NXT = 2), so its copy
/// is D-SACKed as `[1, 2)`; a held FIN received twice is D-SACKed
/// followed by the block holding it (RFC 2883 §4 (3)).
#[test]
fn established_duplicate_bare_fin_is_dsacked() {
    let mut t = established_with_sack();
    one(t.recv(seg(FIN_ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)));
    assert_eq!(t.ep.state(), State::CloseWait);
    let ack = one(t.recv(seg(FIN_ACK, REMOTE_ISS + 1, LOCAL_ISS + 1)));
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 2);
    assert_eq!(blocks_of(&ack), [(REMOTE_ISS + 1, REMOTE_ISS + 2)]);
    t.assert_rule(rule::SACK_04);

    let mut t = established_with_sack();
    one(t.recv(seg(FIN_ACK, REMOTE_ISS + 501, LOCAL_ISS + 1)));
    let ack = one(t.recv(seg(FIN_ACK, REMOTE_ISS + 501, LOCAL_ISS + 1)));
    assert_seg(&ack, ACK, LOCAL_ISS + 1, REMOTE_ISS + 1);
    assert_eq!(blocks_of(&ack), [(REMOTE_ISS + 501, REMOTE_ISS + 502), (REMOTE_ISS + 501, REMOTE_ISS + 502)]);
}

/// B-SACK-05: the sender's scoreboard takes a block covering its FIN's
/// sequence number (SND.MAX counts the FIN). 3000 octets and a FIN out;
/// the peer got the last 1000 and the FIN: ACK 1, SACK 2001-3002.
#[test]
fn established_sack_block_covering_our_fin_is_recorded() {
    let mut t = established_with_sack();
    t.ep.cc.as_mut().unwrap().cwnd = 10_000;
    assert_eq!(t.call(|ep, out| ep.send(3000, out)).len(), 3);
    t.call(|ep, out| ep.close(out));
    let base = LOCAL_ISS + 1;
    assert!(t.recv(seg(ACK, REMOTE_ISS + 1, base).sacking(&[(base + 2000, base + 3001)])).is_empty());
    let board = &opt!(t.ep, sack).unwrap().scoreboard;
    assert_eq!(board.sacked().map(|b| (b.left.0, b.right.0)).collect::<Vec<_>>(), [(base + 2000, base + 3001)]);
    assert_eq!(board.sacked_bytes(), 1001);
}

/// B-SACK-03, B-SACK-04, RFC 2018 §4 ("as many ... as fit"): after a
/// step's first segment carried the D-SACK, its later segments have the
/// D-SACK's slot free again. Four ranges are held (1001, 1201, 1401 and
/// 1601, 100 octets each); a copy of 1001..1101 arrives with an ACK of our
/// two segments, so more data goes in that step. The first segment
/// carries the D-SACK, the range holding it, and the two most recent
/// others (4 blocks without timestamps); the later ones carry all four
/// held ranges: 1001-1101 (the triggering segment's), then 1601, 1401 and
/// 1201, most recent first.
#[test]
fn established_later_segments_of_a_dsack_step_carry_as_many_blocks_as_fit() {
    let mut t = established_with_sack();
    t.ep.cc.as_mut().unwrap().cwnd = 2000;
    assert_eq!(t.call(|ep, out| ep.send(8000, out)).len(), 2);
    let base = LOCAL_ISS + 1;
    let r = |n: u32| REMOTE_ISS + n;
    for n in [1001, 1201, 1401, 1601] {
        one(t.recv(seg(ACK, r(n), base).len(100)));
    }
    let sent = t.recv(seg(ACK, r(1001), base + 2000).len(100));
    assert!(sent.len() >= 2, "slow start sends more than one segment");
    assert_eq!(blocks_of(&sent[0]), [(r(1001), r(1101)), (r(1001), r(1101)), (r(1601), r(1701)), (r(1401), r(1501))]);
    for later in &sent[1..] {
        assert_eq!(blocks_of(later), [(r(1001), r(1101)), (r(1601), r(1701)), (r(1401), r(1501)), (r(1201), r(1301))]);
    }
}

/// B-SACK-07, RFC 9293 §3.8.6 (a sender must not send beyond SND.UNA +
/// SND.WND) and RFC 6675 §5 (C.1): a retransmission NextSeg picks is sent
/// only if it starts inside the peer's window; one at SND.UNA always goes
/// (as Linux's tcp_retransmit_skb). Ten segments out, the first and sixth
/// lost, the peer's window shrunk to 3000: recovery resends s0 (at
/// SND.UNA); once s6..s10 are SACKed, s5 is lost (4000 octets SACKed above
/// it) but starts at SND.UNA + 5000, beyond the right edge: nothing goes.
/// When the window opens to 6000 it goes.
#[test]
fn established_sack_recovery_retransmits_nothing_beyond_the_window() {
    let mut t = sack_sender_with_ten_segments_out();
    let base = LOCAL_ISS + 1;
    let s = |n: u32| base + 1000 * n;
    let dup = |wnd: u16, blocks: &[(u32, u32)]| seg(ACK, REMOTE_ISS + 1, base).wnd(wnd).sacking(blocks);
    assert!(t.recv(dup(3000, &[(s(1), s(2))])).is_empty());
    assert!(t.recv(dup(3000, &[(s(1), s(3))])).is_empty());
    let rxt = one(t.recv(dup(3000, &[(s(1), s(4))])));
    assert_eq!((rxt.seq.0, rxt.retransmit), (s(0), true), "at SND.UNA: sent whatever the window");
    assert!(t.recv(dup(3000, &[(s(6), s(10)), (s(1), s(5))])).is_empty(), "s5 lies beyond SND.UNA + 3000");
    let rxt = one(t.recv(dup(6000, &[(s(6), s(10)), (s(1), s(5))])));
    assert_eq!((rxt.seq.0, rxt.retransmit), (s(5), true));
}

/// B-SACK-11, RFC 5681 §3.2 (2): the octets limited transmit sent that
/// are still outstanding stay out of the FlightSize that sets ssthresh,
/// also when the ACK that starts recovery moves SND.UNA a little (RFC
/// 6675 §2: it is a duplicate because it SACKs new data). Four segments
/// out, cwnd 6000, s0 lost. Duplicate 1 (SACK s1..s2): s4, s5 as cwnd
/// allows, s6 by limited transmit; duplicate 2 (s1..s3): s7 by limited
/// transmit: 2000 octets, s6..s8. Then ACK s0 + 500 SACKing s1..s4 (s3
/// new; 3000 octets SACKed above SND.UNA, so IsLost(SND.UNA)): recovery.
/// FlightSize = s8 − (s0 + 500) = 7500, of which s6..s8 (2000) are
/// limited transmit's, still outstanding: ssthresh = cwnd = 5500 / 2 =
/// 2750.
#[test]
fn established_limited_transmit_octets_still_out_stay_out_of_flight_size() {
    let cfg = TcpConfig { limited_transmit: true, ..sack_cfg() };
    let (mut t, _, _) = established_with(cfg, seg(SYN_ACK, REMOTE_ISS, LOCAL_ISS + 1).sack_ok());
    let s = |n: u32| LOCAL_ISS + 1 + 1000 * n;
    assert_eq!(t.call(|ep, out| ep.send(10_000, out)).len(), 4);
    t.ep.cc.as_mut().unwrap().cwnd = 6000;
    let dup = |ack: u32, upto: u32| seg(ACK, REMOTE_ISS + 1, ack).sacking(&[(s(1), s(upto))]);
    let sent: Vec<u32> = t.recv(dup(s(0), 2)).iter().map(|x| x.seq.0).collect();
    assert_eq!(sent, [s(4), s(5), s(6)]);
    let sent: Vec<u32> = t.recv(dup(s(0), 3)).iter().map(|x| x.seq.0).collect();
    assert_eq!(sent, [s(7)]);
    let sent = t.recv(dup(s(0) + 500, 4));
    t.assert_rule(rule::SACK_06);
    assert_eq!((sent[0].seq.0, sent[0].retransmit), (s(0) + 500, true));
    assert_eq!(t.ep.congestion_window(), Some((2750, 2750)));
}
