//! The kernel's state changes for one endpoint as an RFC 9293 state path,
//! and its comparison with tcpsim's.
//!
//! Linux does not represent every RFC state as a state of the socket the
//! application holds. Each such difference is named once, here, as a
//! [`Representation`]; [`kernel_path`] rewrites what the kernel showed
//! into RFC states modulo exactly these, and marks every step it
//! rewrote with the difference it applied, so a reader sees where the
//! kernel's own record differs in form. Anything else that differs is a
//! difference in behaviour, and [`same_path`] says so.

use crate::tcp::State;

/// A socket state as Linux's tracepoint `sock:inet_sock_set_state` names
/// it (`include/net/tcp_states.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinuxState {
    /// `TCP_ESTABLISHED`
    Established,
    /// `TCP_SYN_SENT`
    SynSent,
    /// `TCP_SYN_RECV`
    SynRecv,
    /// `TCP_FIN_WAIT1`
    FinWait1,
    /// `TCP_FIN_WAIT2`
    FinWait2,
    /// `TCP_TIME_WAIT` (never shown on a full socket: see
    /// [`Representation::TimewaitSocket`])
    TimeWait,
    /// `TCP_CLOSE`
    Close,
    /// `TCP_CLOSE_WAIT`
    CloseWait,
    /// `TCP_LAST_ACK`
    LastAck,
    /// `TCP_LISTEN`
    Listen,
    /// `TCP_CLOSING`
    Closing,
    /// `TCP_NEW_SYN_RECV` (a request socket; see
    /// [`Representation::RequestSocket`])
    NewSynRecv,
}

impl LinuxState {
    /// The state of a tracepoint's `oldstate=`/`newstate=` field.
    pub fn parse(name: &str) -> Option<LinuxState> {
        Some(match name {
            "TCP_ESTABLISHED" => LinuxState::Established,
            "TCP_SYN_SENT" => LinuxState::SynSent,
            "TCP_SYN_RECV" => LinuxState::SynRecv,
            "TCP_FIN_WAIT1" => LinuxState::FinWait1,
            "TCP_FIN_WAIT2" => LinuxState::FinWait2,
            "TCP_TIME_WAIT" => LinuxState::TimeWait,
            "TCP_CLOSE" => LinuxState::Close,
            "TCP_CLOSE_WAIT" => LinuxState::CloseWait,
            "TCP_LAST_ACK" => LinuxState::LastAck,
            "TCP_LISTEN" => LinuxState::Listen,
            "TCP_CLOSING" => LinuxState::Closing,
            "TCP_NEW_SYN_RECV" => LinuxState::NewSynRecv,
            _ => return None,
        })
    }

    /// The RFC 9293 state of the same name.
    pub fn rfc(self) -> State {
        match self {
            LinuxState::Established => State::Established,
            LinuxState::SynSent => State::SynSent,
            LinuxState::SynRecv | LinuxState::NewSynRecv => State::SynReceived,
            LinuxState::FinWait1 => State::FinWait1,
            LinuxState::FinWait2 => State::FinWait2,
            LinuxState::TimeWait => State::TimeWait,
            LinuxState::Close => State::Closed,
            LinuxState::CloseWait => State::CloseWait,
            LinuxState::LastAck => State::LastAck,
            LinuxState::Listen => State::Listen,
            LinuxState::Closing => State::Closing,
        }
    }
}

/// A way Linux represents RFC states differently from RFC 9293's one
/// connection record per endpoint. Each is named once, here, and
/// [`kernel_path`] compares modulo exactly these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Representation {
    /// A passive open: the listening socket stays LISTEN, and the
    /// SYN_RECEIVED connection is a request socket, which the tracepoint
    /// never shows; the full socket is born when the handshake's ACK
    /// arrives. The endpoint's path begins with the listener's CLOSED →
    /// LISTEN and the request socket's SYN_RECEIVED.
    RequestSocket,
    /// TIME_WAIT: the full socket goes `FIN_WAIT2`/`CLOSING` → `CLOSE` as
    /// a timewait socket of the same 4-tuple takes over (`tcp_time_wait`).
    /// TIME_WAIT is that timewait socket, seen through sock_diag, and its
    /// end (CLOSED) is when sock_diag no longer lists it.
    TimewaitSocket,
    /// An orphan's FIN_WAIT_2 (the application called close(2)) whose
    /// `tcp_fin_timeout` is at most 60 s is a timewait socket in substate
    /// FIN_WAIT2 (tcp_input.c `tcp_rcv_state_process`, then
    /// `tcp_time_wait(sk, TCP_FIN_WAIT2, tmo)`): the full socket goes
    /// `FIN_WAIT2` → `CLOSE` at once. FIN_WAIT_2 lasts until sock_diag no
    /// longer lists that socket (CLOSED: the orphan timeout), or lists it
    /// in substate TIME_WAIT (the peer's FIN arrived:
    /// `tcp_timewait_state_process`).
    OrphanFinWait2,
    /// A FIN|ACK that acknowledges our FIN in FIN_WAIT_1 is processed as
    /// the ACK, then the FIN (`tcp_rcv_state_process`, then `tcp_fin`):
    /// FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT within one segment, where RFC
    /// 9293 §3.10.7.4 goes FIN_WAIT_1 → TIME_WAIT. A FIN_WAIT_2 that no
    /// other arriving segment interrupts is dropped from the path.
    AckThenFin,
}

impl Representation {
    /// Every difference, in the order the docs list them.
    pub const ALL: [Representation; 4] = [
        Representation::RequestSocket,
        Representation::TimewaitSocket,
        Representation::OrphanFinWait2,
        Representation::AckThenFin,
    ];

    /// A short name for the table's notes.
    pub const fn name(self) -> &'static str {
        match self {
            Representation::RequestSocket => "request socket",
            Representation::TimewaitSocket => "timewait socket",
            Representation::AckThenFin => "FIN|ACK as ACK then FIN",
            Representation::OrphanFinWait2 => "orphan's FIN_WAIT_2",
        }
    }

    /// One sentence for the legend under the table.
    pub const fn explain(self) -> &'static str {
        match self {
            Representation::RequestSocket => {
                "the listener stays LISTEN and SYN_RECEIVED is a request socket the tracepoint \
                 does not show (the SYN,ACKs it sends on the wire do: none, no SYN came; no full socket, \
                 it expired back to LISTEN); the full socket is born at the handshake's ACK"
            }
            Representation::TimewaitSocket => {
                "the full socket goes to CLOSE as a timewait socket takes over; TIME_WAIT and \
                 its end are read from sock_diag"
            }
            Representation::OrphanFinWait2 => {
                "an orphan's FIN_WAIT_2 (close(2), tcp_fin_timeout at most 60 s) is a timewait \
                 socket in substate FIN_WAIT2: the full socket goes to CLOSE at once; FIN_WAIT_2's \
                 end is read from sock_diag"
            }
            Representation::AckThenFin => {
                "a FIN|ACK in FIN_WAIT_1 is processed as ACK, then FIN: FIN_WAIT_2 for \
                 microseconds inside one segment, compared as FIN_WAIT_1 -> TIME_WAIT"
            }
        }
    }
}

/// One state change of the endpoint's full socket, from the tracepoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    /// When, in nanoseconds of the run's clock.
    pub at_ns: u64,
    /// The state before.
    pub from: LinuxState,
    /// The state after.
    pub to: LinuxState,
}

/// A timewait socket of the endpoint's 4-tuple, as sock_diag showed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWaitSeen {
    /// When sock_diag first listed it.
    pub first_seen_ns: u64,
    /// Its timer then (`idiag_expires`), in milliseconds.
    pub expires_ms: u32,
    /// When sock_diag first no longer listed it.
    pub gone_ns: Option<u64>,
    /// It began in substate FIN_WAIT2: an orphan's FIN_WAIT_2 (see
    /// [`Representation::OrphanFinWait2`]); `expires_ms` is then the
    /// orphan timeout's.
    pub orphan_fin_wait_2: bool,
    /// When sock_diag first listed it in substate TIME_WAIT, having
    /// listed it in FIN_WAIT2 before (the peer's FIN arrived).
    pub time_wait_seen_ns: Option<u64>,
}

/// What the kernel showed for one endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelRecord {
    /// Opened passively (accepted from a listener).
    pub passive: bool,
    /// When the listening socket went CLOSE → LISTEN, for a passive open.
    pub listen_ns: Option<u64>,
    /// The full socket's changes, in order.
    pub changes: Vec<Change>,
    /// The timewait socket of its 4-tuple, if any.
    pub time_wait: Option<TimeWaitSeen>,
    /// When segments were handed to the endpoint's host, in order.
    pub arrivals: Vec<u64>,
    /// When the endpoint's host sent a SYN,ACK for it (the relay's
    /// capture): a passive open's request socket answering a SYN.
    pub synacks_sent: Vec<u64>,
}

/// One step of a kernel path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The RFC 9293 state.
    pub state: State,
    /// When it was entered, if the kernel says.
    pub at_ns: Option<u64>,
    /// The representation differences applied to get it.
    pub via: Vec<Representation>,
}

impl Step {
    fn new(state: State, at_ns: Option<u64>, via: &[Representation]) -> Step {
        Step { state, at_ns, via: via.to_vec() }
    }
}

/// The RFC 9293 path of what the kernel showed, modulo the
/// [`Representation`] differences (each step marked with those applied).
pub fn kernel_path(rec: &KernelRecord) -> Vec<Step> {
    let mut steps = vec![Step::new(State::Closed, None, &[])];
    if rec.passive {
        steps.push(Step::new(State::Listen, rec.listen_ns, &[Representation::RequestSocket]));
        // The tracepoint never shows the request socket: the SYN,ACKs it
        // sent do. None sent and no full socket: no SYN ever came.
        if rec.synacks_sent.is_empty() && rec.changes.is_empty() {
            return steps;
        }
        steps.push(Step::new(State::SynReceived, None, &[Representation::RequestSocket]));
        if rec.changes.is_empty() {
            // SYN,ACKs but no full socket: the handshake never completed
            // and the request socket expired (reqsk_timer_handler),
            // leaving the listener in LISTEN.
            steps.push(Step::new(State::Listen, None, &[Representation::RequestSocket]));
            return steps;
        }
    }
    let push = |steps: &mut Vec<Step>, step: Step| {
        // The child socket's own birth (LISTEN → SYN_RECV) repeats the
        // request socket's state; a real path never repeats a state.
        if steps.last().map(|s| s.state) != Some(step.state) {
            steps.push(step);
        }
    };
    let handover = |c: &Change| {
        c.to == LinuxState::Close
            && matches!(c.from, LinuxState::FinWait2 | LinuxState::Closing)
            && rec.time_wait.is_some()
    };
    let orphan = rec.time_wait.is_some_and(|t| t.orphan_fin_wait_2);
    let into_time_wait = |c: &Change| handover(c) && !orphan;
    let mut skipped_fin_wait_2 = false;
    for (i, c) in rec.changes.iter().enumerate() {
        if c.to == LinuxState::FinWait2
            && c.from == LinuxState::FinWait1
            && let Some(next) = rec.changes.get(i + 1)
        {
            let interrupted = rec.arrivals.iter().any(|&a| c.at_ns < a && a <= next.at_ns);
            if into_time_wait(next) && !interrupted {
                skipped_fin_wait_2 = true;
                continue;
            }
        }
        if handover(c) && orphan {
            let tw = rec.time_wait.expect("checked by handover");
            let via = [Representation::OrphanFinWait2];
            if let Some(last) = steps.last_mut().filter(|s| s.state == State::FinWait2) {
                last.via.push(Representation::OrphanFinWait2);
            }
            if let Some(seen) = tw.time_wait_seen_ns {
                // The peer's FIN: the last segment that reached the host
                // before sock_diag showed TIME_WAIT.
                let at = rec.arrivals.iter().copied().filter(|&a| c.at_ns <= a && a <= seen).max().unwrap_or(seen);
                push(&mut steps, Step::new(State::TimeWait, Some(at), &via));
            }
            if let Some(gone) = tw.gone_ns {
                push(&mut steps, Step::new(State::Closed, Some(gone), &via));
            }
            continue;
        }
        if into_time_wait(c) {
            let tw = rec.time_wait.expect("checked by into_time_wait");
            let mut via = vec![Representation::TimewaitSocket];
            if skipped_fin_wait_2 {
                via.push(Representation::AckThenFin);
            }
            push(&mut steps, Step { state: State::TimeWait, at_ns: Some(c.at_ns), via });
            if let Some(gone) = tw.gone_ns {
                push(&mut steps, Step::new(State::Closed, Some(gone), &[Representation::TimewaitSocket]));
            }
            continue;
        }
        push(&mut steps, Step::new(c.to.rfc(), Some(c.at_ns), &[]));
    }
    steps
}

/// Whether the kernel's path is tcpsim's.
pub fn same_path(tcpsim: &[State], kernel: &[Step]) -> bool {
    tcpsim.len() == kernel.len() && tcpsim.iter().zip(kernel).all(|(a, b)| *a == b.state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use LinuxState::*;
    use State as S;

    fn ch(at_ns: u64, from: LinuxState, to: LinuxState) -> Change {
        Change { at_ns, from, to }
    }

    fn states(steps: &[Step]) -> Vec<State> {
        steps.iter().map(|s| s.state).collect()
    }

    const MS: u64 = 1_000_000;

    fn active_close(arrivals: Vec<u64>) -> KernelRecord {
        KernelRecord {
            passive: false,
            listen_ns: None,
            changes: vec![
                ch(0, Close, SynSent),
                ch(20 * MS, SynSent, Established),
                ch(100 * MS, Established, FinWait1),
                ch(125 * MS, FinWait1, FinWait2),
                ch(125 * MS + 80_000, FinWait2, Close),
            ],
            time_wait: Some(TimeWaitSeen {
                first_seen_ns: 126 * MS,
                expires_ms: 59_990,
                gone_ns: Some(60_200 * MS),
                orphan_fin_wait_2: false,
                time_wait_seen_ns: None,
            }),
            arrivals,
            synacks_sent: vec![],
        }
    }

    /// The FIN|ACK of lost-ack.ron: one arrival, then FIN_WAIT_2 for
    /// 80 µs: the RFC's FIN_WAIT_1 → TIME_WAIT.
    #[test]
    fn a_fin_ack_in_fin_wait_1_goes_to_time_wait() {
        let path = kernel_path(&active_close(vec![20 * MS, 125 * MS - 30_000]));
        let want = [S::Closed, S::SynSent, S::Established, S::FinWait1, S::TimeWait, S::Closed];
        assert_eq!(states(&path), want);
        assert_eq!(path[4].via, vec![Representation::TimewaitSocket, Representation::AckThenFin]);
        assert!(same_path(&want, &path));
    }

    /// A FIN that arrives in a later segment than the ACK: FIN_WAIT_2 is
    /// a state of its own.
    #[test]
    fn an_ack_then_a_separate_fin_keeps_fin_wait_2() {
        let path = kernel_path(&active_close(vec![125 * MS - 30_000, 125 * MS + 40_000]));
        let want = [S::Closed, S::SynSent, S::Established, S::FinWait1, S::FinWait2, S::TimeWait, S::Closed];
        assert_eq!(states(&path), want);
    }

    /// Without a timewait socket, CLOSE is CLOSED (and TIME_WAIT missing
    /// is a difference, not a representation).
    #[test]
    fn no_timewait_socket_means_closed() {
        let mut rec = active_close(vec![]);
        rec.time_wait = None;
        let path = kernel_path(&rec);
        assert_eq!(path.last().map(|s| s.state), Some(S::Closed));
        assert!(!path.iter().any(|s| s.state == S::TimeWait));
    }

    /// An orphan (close(2)) whose FIN_WAIT_2 times out with
    /// `tcp_fin_timeout` 2 s: the ACK of its FIN at 120 ms hands the full
    /// socket over to a timewait socket in substate FIN_WAIT2 at once
    /// (`tcp_time_wait(sk, TCP_FIN_WAIT2, tmo)`), which lives until the
    /// timeout: FIN_WAIT_2 from 120 ms, CLOSED when sock_diag no longer
    /// lists it, as RFC 9293's FIN_WAIT_2 plus Linux's orphan timeout
    /// (B-OPT-01).
    #[test]
    fn an_orphans_fin_wait_2_lasts_until_its_timewait_socket_ends() {
        let rec = KernelRecord {
            passive: false,
            listen_ns: None,
            changes: vec![
                ch(0, Close, SynSent),
                ch(20 * MS, SynSent, Established),
                ch(100 * MS, Established, FinWait1),
                ch(120 * MS, FinWait1, FinWait2),
                ch(120 * MS + 20_000, FinWait2, Close),
            ],
            time_wait: Some(TimeWaitSeen {
                first_seen_ns: 125 * MS,
                expires_ms: 1_995,
                gone_ns: Some(2_150 * MS),
                orphan_fin_wait_2: true,
                time_wait_seen_ns: None,
            }),
            arrivals: vec![20 * MS, 120 * MS - 10_000],
            synacks_sent: vec![],
        };
        let path = kernel_path(&rec);
        let want = [S::Closed, S::SynSent, S::Established, S::FinWait1, S::FinWait2, S::Closed];
        assert_eq!(states(&path), want);
        assert_eq!(path[4].at_ns, Some(120 * MS));
        assert_eq!(path[4].via, vec![Representation::OrphanFinWait2]);
        assert_eq!(path[5].at_ns, Some(2_150 * MS));
    }

    /// A passive open begins at the listener and the request socket.
    #[test]
    fn a_passive_open_starts_at_the_listener() {
        let rec = KernelRecord {
            passive: true,
            listen_ns: Some(0),
            changes: vec![
                ch(30 * MS, Listen, SynRecv),
                ch(30 * MS, SynRecv, Established),
                ch(110 * MS, Established, CloseWait),
                ch(115 * MS, CloseWait, LastAck),
                ch(125 * MS, LastAck, Close),
            ],
            time_wait: None,
            arrivals: vec![],
            synacks_sent: vec![],
        };
        let want = [S::Closed, S::Listen, S::SynReceived, S::Established, S::CloseWait, S::LastAck, S::Closed];
        let path = kernel_path(&rec);
        assert_eq!(states(&path), want);
        assert_eq!(path[2].via, vec![Representation::RequestSocket]);
    }

    /// The request socket is seen on the wire: a listener that sent no
    /// SYN,ACK never had one (CLOSED, LISTEN); one that sent SYN,ACKs but
    /// whose full socket was never born had a request socket that expired
    /// back to LISTEN (tcp_synack_retries; reqsk_timer_handler).
    #[test]
    fn the_request_socket_is_read_from_the_synacks_sent() {
        let never = KernelRecord { passive: true, listen_ns: Some(0), ..KernelRecord::default() };
        assert_eq!(states(&kernel_path(&never)), [S::Closed, S::Listen]);
        let expired = KernelRecord { synacks_sent: vec![10 * MS, 1010 * MS], ..never.clone() };
        let path = kernel_path(&expired);
        assert_eq!(states(&path), [S::Closed, S::Listen, S::SynReceived, S::Listen]);
        assert_eq!(path[3].via, vec![Representation::RequestSocket]);
    }

    #[test]
    fn tracepoint_names_parse() {
        assert_eq!(LinuxState::parse("TCP_FIN_WAIT1"), Some(FinWait1));
        assert_eq!(LinuxState::parse("TCP_NEW_SYN_RECV").map(LinuxState::rfc), Some(S::SynReceived));
        assert_eq!(LinuxState::parse("FIN_WAIT1"), None);
    }
}
