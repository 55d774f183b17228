//! Checking a finished run against the file's `expect` block. Each check
//! yields a [`Check`] with what was expected and what happened, so a
//! failure explains itself.

use crate::model::{CountRange, Expect};
use crate::tcp::State;
use crate::world::World;
use std::fmt::Write as _;

/// The result of one expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// `None` for checks over the whole run.
    pub endpoint: Option<(u32, String)>,
    /// What was checked (`final_state`, `path`, `proves B-CLOSE-06`, ...).
    pub what: String,
    pub expected: String,
    pub actual: String,
    pub ok: bool,
}

impl Check {
    /// One line for people: `ok   client (conn 0) final_state: CLOSED`.
    pub fn describe(&self) -> String {
        let who = match &self.endpoint {
            Some((conn, name)) => format!("{name} (conn {conn}) "),
            None => String::new(),
        };
        if self.ok {
            format!("ok      {who}{}: {}", self.what, self.actual)
        } else {
            format!("FAILED  {who}{}: expected {}, got {}", self.what, self.expected, self.actual)
        }
    }
}

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
            what: format!("proves {rule}"),
            expected: "the behaviour to fire at least once".into(),
            actual: format!("fired {fired} times"),
            ok: fired > 0,
        });
    }
    for x in &expect.endpoints {
        let who = Some((x.conn, x.name.clone()));
        let mut push = |what: &str, expected: String, actual: String, ok: bool| {
            out.push(Check { endpoint: who.clone(), what: what.into(), expected, actual, ok });
        };
        let Some(ep) = world.endpoint(x.conn, &x.name) else {
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
        if let Some(path) = &x.path {
            let actual = log.states();
            push("path", states(path), states(&actual), actual == *path);
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
            push(&format!("time_in {s}"), d.to_string(), actual.to_string(), actual == *d);
        }
        for (flags, at) in &x.sent {
            let actual: Vec<_> = log.sent().iter().filter(|(f, _)| f == flags).map(|(_, t)| *t).collect();
            push(&format!("sent {flags}"), times(at), times(&actual), actual == *at);
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
            what: "drops".into(),
            expected: range.to_string(),
            actual: n.to_string(),
            ok: range.contains(n),
        });
    }
    out
}

/// Predicates over every connection; reports how many connections broke
/// each one and the first few.
fn check_all(world: &World, all: &crate::model::AllExpect, out: &mut Vec<Check>) {
    let total = world.model().connection_count() as usize;
    let mut sides: Vec<Vec<crate::world::EndpointView<'_>>> = (0..total).map(|_| Vec::new()).collect();
    for ep in world.endpoints() {
        if let Some(v) = sides.get_mut(ep.conn as usize) {
            v.push(ep);
        }
    }
    // `bad` holds (connection, what differs); a connection counts once.
    let mut report = |what: &str, expected: String, bad: Vec<(usize, String)>| {
        let mut conns: Vec<usize> = bad.iter().map(|(c, _)| *c).collect();
        conns.dedup();
        let mut actual = if bad.is_empty() {
            format!("all {total} connections")
        } else {
            format!("{} of {total} connections differ", conns.len())
        };
        if !bad.is_empty() {
            let first: Vec<&str> = bad.iter().take(3).map(|(_, s)| s.as_str()).collect();
            let _ = write!(actual, " (first: {})", first.join("; "));
        }
        out.push(Check {
            endpoint: None,
            what: format!("all_connections {what}"),
            expected,
            actual,
            ok: bad.is_empty(),
        });
    };
    if let Some(s) = all.final_state {
        let bad = sides
            .iter()
            .enumerate()
            .flat_map(|(c, eps)| {
                eps.iter()
                    .filter(|e| e.tcp.state() != s)
                    .map(move |e| (c, format!("conn {c} {} in {}", e.name, e.tcp.state())))
            })
            .collect();
        report("final_state", format!("every endpoint {s}"), bad);
    }
    if all.established == Some(true) {
        let bad = sides
            .iter()
            .enumerate()
            .flat_map(|(c, eps)| {
                eps.iter()
                    .filter(|e| !e.log.established())
                    .map(move |e| (c, format!("conn {c} {} never ESTABLISHED", e.name)))
            })
            .collect();
        report("established", "every endpoint ESTABLISHED at some point".into(), bad);
    }
    if all.all_bytes_delivered == Some(true) {
        let mut bad = Vec::new();
        for (c, eps) in sides.iter().enumerate() {
            if eps.len() != 2 {
                bad.push((c, format!("conn {c} has {} endpoints", eps.len())));
                continue;
            }
            for (a, b) in [(&eps[0], &eps[1]), (&eps[1], &eps[0])] {
                let sent = a.tcp.stats().bytes_queued;
                let got = b.tcp.stats().bytes_delivered;
                if sent != got {
                    bad.push((c, format!("conn {c} {} sent {sent}, {} got {got}", a.name, b.name)));
                }
            }
        }
        report("all_bytes_delivered", "every byte queued delivered to the peer".into(), bad);
    }
    if all.no_foreign_bytes == Some(true) {
        let bad = sides
            .iter()
            .enumerate()
            .flat_map(|(c, eps)| {
                eps.iter()
                    .filter(|e| e.tcp.stats().foreign_bytes > 0)
                    .map(move |e| (c, format!("conn {c} {} got {} foreign bytes", e.name, e.tcp.stats().foreign_bytes)))
            })
            .collect();
        report("no_foreign_bytes", "no bytes from another stream".into(), bad);
    }
}
