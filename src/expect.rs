//! Checking a finished run against the file's `expect` block. Each check
//! yields a [`Check`] with what was expected and what happened, so a
//! failure explains itself.

use crate::model::{CountRange, Expect};
use crate::tcp::State;
use crate::world::{EndpointView, World};
use std::fmt::Write as _;

/// The result of one expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// `None` for checks over the whole run.
    pub endpoint: Option<(u32, String)>,
    /// The `ep` of the endpoint checked; `None` for checks over the whole
    /// run, and when no endpoint had that name and connection.
    pub ep: Option<u32>,
    /// What was checked (`final_state`, `path`, `proves B-CLOSE-06`, ...).
    pub what: String,
    /// What the file asked for, as shown to people.
    pub expected: String,
    /// What the run showed, in the same words.
    pub actual: String,
    /// Whether the run met the expectation.
    pub ok: bool,
}

impl Check {
    /// One line for people: `ok   client (conn 0, ep 0) final_state: CLOSED`.
    pub fn describe(&self) -> String {
        let who = match (&self.endpoint, self.ep) {
            (Some((conn, name)), Some(ep)) => format!("{name} (conn {conn}, ep {ep}) "),
            (Some((conn, name)), None) => format!("{name} (conn {conn}) "),
            (None, _) => String::new(),
        };
        if self.ok {
            format!("ok      {who}{}: {}", self.what, self.actual)
        } else {
            format!("FAILED  {who}{}: expected {}, got {}", self.what, self.expected, self.actual)
        }
    }
}

/// What a check of an endpoint's path, time in a state or sends shows when
/// the world did not keep that endpoint's history (a world built by
/// [`crate::simulation::Simulation`] keeps those its `expect` block reads).
pub const HISTORY_NOT_KEPT: &str = "history not kept for this endpoint";

fn states(path: &[State]) -> String {
    let names: Vec<&str> = path.iter().map(|s| s.name()).collect();
    format!("[{}]", names.join(", "))
}

fn times(ts: &[crate::time::Instant]) -> String {
    let v: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
    format!("[{}] ms", v.join(", "))
}

/// Checks every expectation of `expect` against the finished `world`.
pub fn check(world: &World, expect: &Expect) -> Vec<Check> {
    let mut out = Vec::new();
    let end = world.now();
    for rule in &expect.proves {
        let fired = world.coverage()[rule.index()];
        out.push(Check {
            endpoint: None,
            ep: None,
            what: format!("proves {rule}"),
            expected: "the behaviour to fire at least once".into(),
            actual: format!("fired {}", crate::report::count(fired, "time")),
            ok: fired > 0,
        });
    }
    for x in &expect.endpoints {
        let who = Some((x.conn, x.name.clone()));
        let found = world.endpoint(x.conn, &x.name);
        let ep_id = found.as_ref().map(|e| e.ep);
        let mut push = |what: &str, expected: String, actual: String, ok: bool| {
            out.push(Check { endpoint: who.clone(), ep: ep_id, what: what.into(), expected, actual, ok });
        };
        let Some(ep) = found else {
            push("exists", "an endpoint with this name and connection".into(), "none".into(), false);
            continue;
        };
        let log = ep.log;
        if let Some(s) = x.final_state {
            let actual = ep.tcp.state();
            push("final_state", s.to_string(), actual.to_string(), actual == s);
        }
        if let Some(r) = x.reason {
            let actual = ep.tcp.close_reason();
            push("reason", r.to_string(), actual.map_or("none".into(), |a| a.to_string()), actual == Some(r));
        }
        // The path, the time in a state and the sends come from the
        // endpoint's history: without it they cannot be answered, and an
        // empty history would pass `time_in ... 0` or `sent ... []`.
        let kept = log.keeps_history();
        let answer = |actual: String, ok: bool| if kept { (actual, ok) } else { (HISTORY_NOT_KEPT.to_string(), false) };
        if let Some(path) = &x.path {
            let actual = log.states();
            let (shown, ok) = answer(states(&actual), actual == *path);
            push("path", states(path), shown, ok);
        }
        for s in &x.visits {
            push(
                &format!("visits {s}"),
                "visited".into(),
                if log.visited(*s) { "visited" } else { "never visited" }.into(),
                log.visited(*s),
            );
        }
        for s in &x.never_visits {
            push(
                &format!("never_visits {s}"),
                "never visited".into(),
                if log.visited(*s) { "visited" } else { "never visited" }.into(),
                !log.visited(*s),
            );
        }
        for (s, d) in &x.time_in {
            let actual = log.time_in(*s, end);
            let (shown, ok) = answer(actual.to_string(), actual == *d);
            push(&format!("time_in {s}"), d.to_string(), shown, ok);
        }
        for (flags, retransmit, at) in &x.sent {
            let actual: Vec<_> = log
                .sent()
                .iter()
                .filter(|(f, _, r)| f == flags && retransmit.is_none_or(|want| *r == want))
                .map(|(_, t, _)| *t)
                .collect();
            let (shown, ok) = answer(times(&actual), actual == *at);
            let which = match retransmit {
                None => "",
                Some(true) => " retransmit",
                Some(false) => " first",
            };
            push(&format!("sent {flags}{which}"), times(at), shown, ok);
        }
        let stats = ep.tcp.stats();
        let mut count = |what: &str, want: &Option<CountRange>, n: u64| {
            if let Some(range) = want {
                push(what, range.to_string(), n.to_string(), range.contains(n));
            }
        };
        count("retransmissions", &x.retransmissions, u64::from(stats.retransmissions));
        count("fast_retransmits", &x.fast_retransmits, u64::from(stats.fast_retransmits));
        count("segments_sent", &x.segments_sent, u64::from(stats.segments_sent));
        count("bytes_delivered", &x.bytes_delivered, stats.bytes_delivered);
        count("foreign_bytes", &x.foreign_bytes, stats.foreign_bytes);
    }
    if let Some(all) = &expect.all_connections {
        check_all(world, all, &mut out);
    }
    if let Some(range) = expect.drops {
        let n = world.stats().total_drops();
        out.push(Check {
            endpoint: None,
            ep: None,
            what: "drops".into(),
            expected: range.to_string(),
            actual: n.to_string(),
            ok: range.contains(n),
        });
    }
    if let Some(range) = expect.stuck {
        // Counted only for a completed run: a limit may stop endpoints
        // anywhere.
        let (actual, ok) = match world.open_endpoints(0) {
            Some(r) => (r.stuck().to_string(), range.contains(r.stuck())),
            None => ("not counted (the run did not complete)".into(), false),
        };
        out.push(Check { endpoint: None, ep: None, what: "stuck".into(), expected: range.to_string(), actual, ok });
    }
    out
}

/// Connections that broke one predicate: how many, and the first few.
#[derive(Default)]
struct Breaches {
    count: u64,
    first: Vec<String>,
}

impl Breaches {
    fn add(&mut self, what: impl FnOnce() -> String) {
        self.count += 1;
        if self.first.len() < 3 {
            self.first.push(what());
        }
    }
}

/// Predicates over every connection, in one pass (populations can be
/// millions); reports how many connections broke each and the first few.
fn check_all(world: &World, all: &crate::model::AllExpect, out: &mut Vec<Check>) {
    let total = world.model().connection_count();
    let (mut state, mut established, mut delivered, mut foreign) =
        (Breaches::default(), Breaches::default(), Breaches::default(), Breaches::default());
    world.for_each_connection(|c, eps| {
        if let Some(s) = all.final_state
            && let Some(e) = eps.iter().find(|e| e.tcp.state() != s)
        {
            state.add(|| format!("conn {c} {} (ep {}) in {}", e.name, e.ep, e.tcp.state()));
        }
        if all.established == Some(true)
            && let Some(e) = eps.iter().find(|e| !e.log.established())
        {
            established.add(|| format!("conn {c} {} (ep {}) never ESTABLISHED", e.name, e.ep));
        }
        if all.all_bytes_delivered == Some(true) {
            if eps.len() != 2 {
                delivered.add(|| without_a_peer(c, eps));
            } else if let Some((a, b)) = [(&eps[0], &eps[1]), (&eps[1], &eps[0])]
                .into_iter()
                .find(|(a, b)| a.tcp.stats().bytes_queued != b.tcp.stats().bytes_delivered)
            {
                delivered.add(|| {
                    let (sent, got) = (a.tcp.stats().bytes_queued, b.tcp.stats().bytes_delivered);
                    format!("conn {c} {} (ep {}) sent {sent}, {} (ep {}) got {got}", a.name, a.ep, b.name, b.ep)
                });
            }
        }
        if all.no_foreign_bytes == Some(true)
            && let Some(e) = eps.iter().find(|e| e.tcp.stats().foreign_bytes > 0)
        {
            foreign
                .add(|| format!("conn {c} {} (ep {}) got {} foreign bytes", e.name, e.ep, e.tcp.stats().foreign_bytes));
        }
    });
    let mut report = |what: &str, expected: &str, b: Breaches| {
        let connections = crate::report::count(total, "connection");
        let mut actual = match b.count {
            0 => format!("all {connections}"),
            1 => format!("1 of {connections} differs"),
            n => format!("{n} of {connections} differ"),
        };
        if b.count > 0 {
            let _ = write!(actual, " (first: {})", b.first.join("; "));
        }
        out.push(Check {
            endpoint: None,
            ep: None,
            what: format!("all_connections {what}"),
            expected: expected.to_string(),
            actual,
            ok: b.count == 0,
        });
    };
    if let Some(s) = all.final_state {
        report("final_state", &format!("every endpoint {s}"), state);
    }
    if all.established == Some(true) {
        report("established", "every endpoint ESTABLISHED at some point", established);
    }
    if all.all_bytes_delivered == Some(true) {
        report("all_bytes_delivered", "every byte queued delivered to the peer", delivered);
    }
    if all.no_foreign_bytes == Some(true) {
        report("no_foreign_bytes", "no bytes from another stream", foreign);
    }
}

/// What a connection without exactly two ends has instead: its one end
/// and that end's state (a refused or unanswered open never gets a peer),
/// or every end it has.
fn without_a_peer(c: u32, eps: &[EndpointView<'_>]) -> String {
    let state = |e: &EndpointView<'_>| match e.tcp.close_reason() {
        Some(r) => format!("{} in {} ({r})", e.name, e.tcp.state()),
        None => format!("{} in {}", e.name, e.tcp.state()),
    };
    match eps {
        [] => format!("conn {c}: no endpoint"),
        [e] => format!("conn {c} {} (ep {}): no peer endpoint, {}", e.name, e.ep, state(e)),
        _ => {
            let all: Vec<String> = eps.iter().map(|e| format!("{} (ep {})", e.name, e.ep)).collect();
            format!("conn {c}: {} endpoints, {}", eps.len(), all.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulation::Simulation;
    use crate::trace::NullSink;

    /// A client that opens and closes, with expectations on its history
    /// that hold: a path, no time in SYN_RECEIVED, no RST sent.
    const FILE: &[u8] = br#"(
        name: "history", seed: 1,
        hosts: [(name: "a"), (name: "b")],
        links: [(between: ("a", "b"), delay_ms: 5)],
        listeners: [(name: "server", host: "b", port: 80, on_end_of_stream: [Close])],
        connections: [(name: "client", host: "a", remote_host: "b", remote_port: 80,
                       script: [Connect(at_ms: 0)], on_connected: [Close])],
        expect: (endpoints: [(name: "client",
                              path: [CLOSED, SYN_SENT, ESTABLISHED, FIN_WAIT_1, TIME_WAIT, CLOSED],
                              time_in: [(state: SYN_RECEIVED, ms: 0)],
                              sent: [(flags: "RST", at_ms: [])])]),
    )"#;

    /// The file's checks against a run of it, with its `expect` block
    /// (`with_expect`: a simulation keeps the histories its checks read)
    /// or without (nothing is kept).
    fn checks(with_expect: bool) -> Vec<Check> {
        let mut model = crate::scenario::load(FILE, &[]).expect("a valid file");
        let expect = model.expect.clone().expect("an expect block");
        if !with_expect {
            model.expect = None;
        }
        let mut world = Simulation::from_valid_model(model).into_world();
        world.run(&mut NullSink);
        check(&world, &expect)
    }

    #[test]
    fn history_checks_hold_when_the_history_is_kept() {
        for c in checks(true) {
            assert!(c.ok, "{}", c.describe());
        }
    }

    /// Without the endpoint's history, a check of its path, time in a
    /// state or sends cannot be answered: it fails and says why, rather
    /// than comparing against an empty history (which would pass the
    /// `time_in` and `sent` expectations here).
    #[test]
    fn history_checks_fail_when_the_history_was_not_kept() {
        let checks = checks(false);
        let history: Vec<&Check> = checks.iter().filter(|c| c.what != "exists").collect();
        let whats: Vec<&str> = history.iter().map(|c| c.what.as_str()).collect();
        assert_eq!(whats, ["path", "time_in SYN_RECEIVED", "sent RST"]);
        for c in history {
            assert!(!c.ok, "{}", c.describe());
            assert_eq!(c.actual, HISTORY_NOT_KEPT, "{}", c.describe());
        }
    }
}
