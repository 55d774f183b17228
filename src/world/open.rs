//! Endpoints left open when a run completes, and why.
//!
//! A run that completed (no events left; not stopped by a limit or an
//! interrupt) should leave every endpoint CLOSED unless something explains
//! otherwise. The explanations are, in order of precedence:
//! - its host crashed, so the endpoint vanished where it stood;
//! - its application never called CLOSE (a server in LISTEN, or a
//!   connection the application keeps open);
//! - it closed and waits in FIN_WAIT_2 for a FIN that cannot come, because
//!   the peer vanished (B-CLOSE-11 allows this wait: no timer unless
//!   B-OPT-01);
//! - it closed and waits in FIN_WAIT_2 for a peer whose application never
//!   called CLOSE (the peer sits in CLOSE_WAIT): not our endpoint's fault.
//!
//! Anything else is **stuck**: the application called CLOSE, no timer is
//! left and nothing above explains the state. That is a bug (for example a
//! CLOSE forgotten on the way back to LISTEN), unless the run carried
//! injected segments (`Inject` faults): those can forge what no peer sent,
//! such as an ACK of a FIN that was lost, and leave a protocol-legal state
//! that looks stuck. Such an endpoint is classified **injected** instead.
//!
//! Whether the application called CLOSE comes from the world's own record
//! of the calls it made ([`super::EndpointLog::app_closed`]), not from the
//! endpoint's flags, which a defect may have cleared, and not from the
//! file's `expect` block.

use super::World;
use crate::tcp::State;
use std::collections::BTreeMap;

/// Why an endpoint is not CLOSED at the end of a completed run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpenReason {
    /// Its host crashed; it vanished in this state.
    HostCrashed,
    /// Its application never called CLOSE.
    AppNeverClosed,
    /// It closed and waits in FIN_WAIT_2 for a peer that vanished
    /// (B-CLOSE-11).
    PeerVanished,
    /// It closed and waits in FIN_WAIT_2 for a peer whose application never
    /// called CLOSE.
    PeerNeverClosed,
    /// Its application called CLOSE and nothing explains its state.
    Stuck,
    /// Its application called CLOSE and nothing above explains its state,
    /// but the run carried injected segments (`Inject` faults), which can
    /// forge what a peer never sent (an ACK of a FIN that was lost, say):
    /// they may explain it.
    Injected,
}

impl OpenReason {
    /// Every reason, in the order a report lists them.
    pub const VALUES: [OpenReason; 6] = [
        OpenReason::HostCrashed,
        OpenReason::AppNeverClosed,
        OpenReason::PeerVanished,
        OpenReason::PeerNeverClosed,
        OpenReason::Stuck,
        OpenReason::Injected,
    ];

    /// The short name used in summaries (`stuck`, `app_never_closed`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            OpenReason::HostCrashed => "host_crashed",
            OpenReason::AppNeverClosed => "app_never_closed",
            OpenReason::PeerVanished => "peer_vanished",
            OpenReason::PeerNeverClosed => "peer_never_closed",
            OpenReason::Stuck => "stuck",
            OpenReason::Injected => "injected",
        }
    }

    /// One phrase for people.
    pub const fn describe(self) -> &'static str {
        match self {
            OpenReason::HostCrashed => "host crashed: it vanished in this state",
            OpenReason::AppNeverClosed => "application never closed it",
            OpenReason::PeerVanished => "closed; waits for a FIN from a peer that vanished (B-CLOSE-11)",
            OpenReason::PeerNeverClosed => "peer never closed: the peer's application never called CLOSE",
            OpenReason::Stuck => "STUCK: its application called CLOSE and nothing explains this state",
            OpenReason::Injected => "its application called CLOSE; injected segments may explain its state",
        }
    }
}

/// What the classification needs to know about one endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndFacts {
    /// Its state at the end of the run.
    pub state: State,
    /// Its application called CLOSE (or the listener was closed) since it
    /// last opened the endpoint.
    pub app_closed: bool,
    /// Its host crashed.
    pub lost: bool,
}

/// Why `own` is still open, given what is known of its peer (the endpoint
/// at the other end of its 4-tuple; `None` if there is none) and whether
/// the run carried injected segments. `None` when `own` is CLOSED.
pub fn classify(own: EndFacts, peer: Option<EndFacts>, injected: bool) -> Option<OpenReason> {
    let reason = classify_by_endpoints(own, peer)?;
    // An injected segment may have put either end where it is: what
    // looks stuck is then not known to be a bug.
    Some(if reason == OpenReason::Stuck && injected { OpenReason::Injected } else { reason })
}

/// [`classify`] from the two endpoints alone.
fn classify_by_endpoints(own: EndFacts, peer: Option<EndFacts>) -> Option<OpenReason> {
    if own.state == State::Closed {
        return None;
    }
    if own.lost {
        return Some(OpenReason::HostCrashed);
    }
    if !own.app_closed {
        return Some(OpenReason::AppNeverClosed);
    }
    if own.state != State::FinWait2 {
        return Some(OpenReason::Stuck);
    }
    // FIN_WAIT_2: our FIN is acknowledged; we wait for the peer's.
    match peer {
        None => Some(OpenReason::PeerVanished),
        Some(p) if p.lost || p.state == State::Closed => Some(OpenReason::PeerVanished),
        Some(p) if !p.app_closed => Some(OpenReason::PeerNeverClosed),
        // The peer closed too and still sends no FIN: the peer is stuck,
        // and so are we.
        Some(_) => Some(OpenReason::Stuck),
    }
}

/// One endpoint left open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenEndpoint {
    /// Its connection number.
    pub conn: u32,
    /// Its `ep` in the trace.
    pub ep: u32,
    /// Its name in the model.
    pub name: String,
    /// Its state at the end of the run.
    pub state: State,
    /// Why it is open.
    pub reason: OpenReason,
}

/// The endpoints left open by a completed run: the first few listed, all
/// counted by state and reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The first `max_listed` open endpoints, in endpoint creation order.
    pub listed: Vec<OpenEndpoint>,
    /// Open endpoints by (state, reason).
    pub counts: BTreeMap<(State, OpenReason), u64>,
}

impl OpenReport {
    /// Endpoints not CLOSED.
    pub fn open(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Endpoints that are stuck.
    pub fn stuck(&self) -> u64 {
        self.counts.iter().filter(|((_, r), _)| *r == OpenReason::Stuck).map(|(_, n)| n).sum()
    }
}

impl World {
    /// The endpoints left open, if the run completed (`None` while it runs
    /// or when a limit or an interrupt stopped it: endpoints may then be
    /// open for no fault of theirs). Lists at most `max_listed`.
    pub fn open_endpoints(&self, max_listed: usize) -> Option<OpenReport> {
        self.open_endpoints_where(max_listed, &|_, _| true)
    }

    /// [`World::open_endpoints`] over the endpoints `keep(conn, name)`
    /// accepts (what `--conn` and `--endpoint` show).
    pub fn open_endpoints_where(&self, max_listed: usize, keep: &dyn Fn(u32, &str) -> bool) -> Option<OpenReport> {
        if self.outcome != Some(super::Outcome::Completed) {
            return None;
        }
        let mut report = OpenReport::default();
        for i in 0..self.eps.len() {
            let e = &self.eps[i];
            if !keep(e.conn, &self.names[e.name_id as usize]) {
                continue;
            }
            let own = self.facts(i as u32);
            let peer =
                if own.state == State::FinWait2 { self.bound_peer(i as u32).map(|p| self.facts(p)) } else { None };
            let Some(reason) = classify(own, peer, self.injected_segments > 0) else { continue };
            *report.counts.entry((own.state, reason)).or_insert(0) += 1;
            if report.listed.len() < max_listed {
                report.listed.push(OpenEndpoint {
                    conn: e.conn,
                    ep: i as u32,
                    name: self.names[e.name_id as usize].clone(),
                    state: own.state,
                    reason,
                });
            }
        }
        Some(report)
    }

    fn facts(&self, ep: u32) -> EndFacts {
        let e = &self.eps[ep as usize];
        EndFacts { state: e.tcp.state(), app_closed: self.observer.log(ep).app_closed, lost: e.lost() }
    }

    /// The endpoint that owns the other end of `ep`'s 4-tuple, if any.
    fn bound_peer(&self, ep: u32) -> Option<u32> {
        self.peer_of(ep).filter(|&p| p != ep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(state: State, app_closed: bool) -> EndFacts {
        EndFacts { state, app_closed, lost: false }
    }

    #[track_caller]
    fn check(own: EndFacts, peer: Option<EndFacts>, want: Option<OpenReason>) {
        assert_eq!(classify(own, peer, false), want, "own {own:?}, peer {peer:?}");
    }

    #[test]
    fn closed_endpoints_are_not_open() {
        check(end(State::Closed, true), None, None);
        check(end(State::Closed, false), None, None);
        check(EndFacts { state: State::Closed, app_closed: false, lost: true }, None, None);
    }

    #[test]
    fn a_crashed_host_explains_any_state() {
        for state in [State::Established, State::FinWait2, State::Listen, State::LastAck] {
            check(EndFacts { state, app_closed: true, lost: true }, None, Some(OpenReason::HostCrashed));
        }
    }

    /// A server whose application never closed it listens forever; so
    /// does a connection the application keeps open.
    #[test]
    fn an_application_that_never_closed_explains_any_state() {
        for state in [State::Listen, State::Established, State::CloseWait, State::FinWait2, State::SynReceived] {
            check(end(state, false), None, Some(OpenReason::AppNeverClosed));
        }
    }

    /// B-CLOSE-11: FIN_WAIT_2 has no timer, so a closed endpoint whose peer
    /// is gone waits forever; that is allowed, not stuck.
    #[test]
    fn fin_wait_2_with_a_vanished_peer_is_allowed() {
        check(end(State::FinWait2, true), None, Some(OpenReason::PeerVanished));
        check(end(State::FinWait2, true), Some(end(State::Closed, true)), Some(OpenReason::PeerVanished));
        let crashed = EndFacts { state: State::CloseWait, app_closed: false, lost: true };
        check(end(State::FinWait2, true), Some(crashed), Some(OpenReason::PeerVanished));
    }

    /// The peer sits in CLOSE_WAIT because its application never closed:
    /// our FIN_WAIT_2 is the peer's doing.
    #[test]
    fn fin_wait_2_waiting_for_a_peer_that_never_closed() {
        check(end(State::FinWait2, true), Some(end(State::CloseWait, false)), Some(OpenReason::PeerNeverClosed));
    }

    #[test]
    fn fin_wait_2_with_a_peer_that_closed_but_sends_no_fin_is_stuck() {
        check(end(State::FinWait2, true), Some(end(State::Established, true)), Some(OpenReason::Stuck));
    }

    /// Item 5: a CLOSE forgotten on the way back to LISTEN leaves the
    /// endpoint in LISTEN, or ESTABLISHED after a new handshake.
    #[test]
    fn a_closed_endpoint_anywhere_but_fin_wait_2_is_stuck() {
        for state in [State::Listen, State::Established, State::SynReceived, State::CloseWait, State::LastAck] {
            check(end(state, true), Some(end(State::Closed, true)), Some(OpenReason::Stuck));
            check(end(state, true), None, Some(OpenReason::Stuck));
        }
    }

    /// In a run with injected segments what would be stuck is `injected`;
    /// every other reason stays as it is, and without injection nothing
    /// changes.
    #[test]
    fn injected_segments_explain_only_what_would_be_stuck() {
        let both_closed_in_fin_wait_2 = (end(State::FinWait2, true), Some(end(State::FinWait2, true)));
        let cases = [
            (both_closed_in_fin_wait_2, OpenReason::Stuck),
            ((end(State::Listen, true), None), OpenReason::Stuck),
            ((end(State::FinWait2, true), None), OpenReason::PeerVanished),
            ((end(State::FinWait2, true), Some(end(State::CloseWait, false))), OpenReason::PeerNeverClosed),
            ((end(State::Established, false), None), OpenReason::AppNeverClosed),
        ];
        for ((own, peer), without) in cases {
            assert_eq!(classify(own, peer, false), Some(without));
            let with = if without == OpenReason::Stuck { OpenReason::Injected } else { without };
            assert_eq!(classify(own, peer, true), Some(with), "own {own:?}, peer {peer:?}");
        }
        assert_eq!(classify(end(State::Closed, true), None, true), None);
    }

    #[test]
    fn report_counts_open_and_stuck() {
        let mut r = OpenReport::default();
        r.counts.insert((State::Listen, OpenReason::AppNeverClosed), 3);
        r.counts.insert((State::Established, OpenReason::Stuck), 2);
        r.counts.insert((State::Listen, OpenReason::Stuck), 1);
        assert_eq!((r.open(), r.stuck()), (6, 3));
    }
}
