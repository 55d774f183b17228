//! Human and machine summaries of a run: the header of a text trace (the
//! settings in force), the per-endpoint path summary, the closing
//! summary record, and the behaviour coverage report (of one run or a
//! sweep). Pure formatting; the CLI decides where it goes.

use crate::expect::Check;
use crate::link::LinkParams;
use crate::model::{Model, format_addr};
use crate::rule::{self, Rule};
use crate::tcp::{CongestionControl, TcpConfig};
use crate::trace::DIGEST_VERSION;
use crate::trace::Filter;
use crate::world::{Outcome, World};
use std::fmt::Write as _;

/// tcpsim's version (the crate's), printed in run headers and summaries.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `n` and a noun, plural unless `n` is 1: "1 run", "2 runs", "0 checks".
/// Every count written for people goes through it.
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    match n.into() {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// A table of how often each behaviour fired (`coverage` by
/// `Rule::index`), and those never reached.
pub fn coverage_report(coverage: &[u64]) -> String {
    let mut s = String::from("behaviour coverage (inputs handled per behaviour ID):\n");
    for r in Rule::all().filter(|r| coverage[r.index()] > 0) {
        s.push_str(&format!("  {r:<12} {}\n", coverage[r.index()]));
    }
    let never: Vec<String> = Rule::all().filter(|r| coverage[r.index()] == 0).map(|r| r.to_string()).collect();
    s.push_str(&format!(
        "reached {} of {} IDs; never reached: {}\n",
        rule::COUNT - never.len(),
        rule::COUNT,
        never.join(" ")
    ));
    s
}

/// Header lines for a text trace (without the leading `# `).
pub fn header_lines(model: &Model, file: &str) -> Vec<String> {
    let mut h = vec![format!("tcpsim {VERSION}  scenario {:?}  file {file}  seed {}", model.name, model.seed)];
    if let Some(d) = &model.description {
        h.extend(d.lines().map(|l| format!("about: {l}")));
    }
    for (i, c) in model.configs.iter().enumerate() {
        let label = if i == 0 { "tcp".to_string() } else { format!("tcp #{i}") };
        h.push(format!("{label}: {}", describe_config(c)));
        for line in crate::tcp::linux_profile_lines(c) {
            h.push(format!("{label} profile linux: {line}"));
        }
    }
    let cc = model.configs.iter().map(|c| c.congestion_control).collect::<Vec<_>>();
    if cc.iter().all(|c| *c == CongestionControl::None) {
        h.push("congestion control: none (the sender is limited by SND.WND only)".into());
    }
    for l in &model.links {
        let a = &model.hosts[l.a as usize];
        let b = &model.hosts[l.b as usize];
        if l.ab == l.ba {
            h.push(format!("link {} <-> {}: {}", a.name, b.name, describe_link(&l.ab)));
        } else {
            h.push(format!("link {} -> {}: {}", a.name, b.name, describe_link(&l.ab)));
            h.push(format!("link {} -> {}: {}", b.name, a.name, describe_link(&l.ba)));
        }
    }
    let hosts: Vec<String> = model.hosts.iter().map(|h| format!("{}={}", h.name, format_addr(h.addr))).collect();
    h.push(format!("hosts: {}", hosts.join(" ")));
    h.push(format!(
        "connections: {}  listeners: {}  faults: {}",
        model.connection_count(),
        model.listeners.len(),
        model.faults.len()
    ));
    if model.deviations.is_empty() {
        h.push("RFC deviations: none".into());
    } else {
        for d in &model.deviations {
            h.push(format!("RFC deviation: {d}"));
        }
    }
    h
}

fn opt_ms(d: Option<crate::time::Duration>) -> String {
    d.map_or("off".into(), |d| d.to_string())
}

fn describe_config(c: &TcpConfig) -> String {
    let limit = |r: Option<u32>| r.map_or("infinite".into(), |n| n.to_string());
    let mut s = format!(
        "msl {} (TIME_WAIT {}), rto initial {} min {} max {}, r1 {}, r2 {}, r2_syn {}, mss {}, recv_buffer {}, user_timeout {}",
        c.msl,
        c.time_wait_len(),
        c.rto_initial,
        c.rto_min,
        c.rto_max,
        c.r1,
        limit(c.r2),
        limit(c.r2_syn),
        c.mss,
        c.recv_buffer,
        opt_ms(c.user_timeout)
    );
    let mut opts = Vec::new();
    if let Some(t) = c.linux_fin_wait_2_timeout {
        opts.push(format!("linux_fin_wait_2_timeout {t}"));
    }
    if c.linux_time_wait {
        opts.push("linux_time_wait".into());
    }
    if c.rfc1337 {
        opts.push("rfc1337".into());
    }
    if c.rfc5961 {
        opts.push("rfc5961".into());
    }
    if let Some(d) = c.delayed_ack {
        opts.push(format!("delayed_ack {d}"));
    }
    if let Some(shift) = c.window_scale {
        opts.push(format!("window_scale {shift}"));
    }
    if c.timestamps {
        let start = c.ts_start.map_or("drawn".into(), |s| s.to_string());
        opts.push(format!("timestamps (tick {}, start {start})", c.ts_tick));
    }
    if c.sack {
        opts.push("sack".into());
    }
    if c.limited_transmit {
        opts.push("limited_transmit".into());
    }
    if c.linux_rto {
        opts.push("linux_rto".into());
    }
    if c.syn_linear_timeouts > 0 {
        opts.push(format!("syn_linear_timeouts {}", c.syn_linear_timeouts));
    }
    if let Some(n) = c.synack_retries {
        opts.push(format!("synack_retries {n}"));
    }
    if c.linux_retries2 {
        opts.push("linux_retries2".into());
    }
    if c.linux_delayed_ack {
        opts.push("linux_delayed_ack".into());
    }
    if c.linux_handshake {
        opts.push("linux_handshake".into());
    }
    if let Some(t) = c.challenge_ack_interval {
        opts.push(format!("challenge_ack_interval {t}"));
    }
    opts.push(format!("congestion_control {}", c.congestion_control.name()));
    if c.congestion_control == CongestionControl::Cubic {
        opts.push(format!("hystart {}", if c.hystart { "on" } else { "off" }));
    }
    if let Some(n) = c.initial_window_segments {
        opts.push(format!("initial_window_segments {n}"));
    }
    let _ = write!(s, "; {}", opts.join(", "));
    s
}

fn describe_link(p: &LinkParams) -> String {
    let mut s = format!("delay {}", p.delay);
    if p.jitter.as_nanos() > 0 {
        let _ = write!(s, ", jitter {} ({})", p.jitter, p.distribution.name());
    }
    if let Some(rate) = p.rate_bps {
        let _ = write!(s, ", rate {rate} bit/s");
        if let Some(q) = p.queue_bytes {
            let _ = write!(s, " queue {q} bytes");
        }
    }
    let _ = write!(s, ", loss {}", p.loss);
    if let Some(b) = p.burst {
        let _ = write!(
            s,
            ", burst (enter_bad {} leave_bad {} loss_bad {} loss_good {})",
            b.enter_bad, b.leave_bad, b.loss_bad, b.loss_good
        );
    }
    if p.reorder.get() > 0 {
        let _ = write!(s, ", reorder {} by {}", p.reorder, p.reorder_delay);
    }
    if p.duplicate.get() > 0 {
        let _ = write!(s, ", duplicate {}", p.duplicate);
    }
    if p.corrupt.get() > 0 {
        let _ = write!(s, ", corrupt {}", p.corrupt);
    }
    if let Some(l) = p.lifetime {
        let _ = write!(s, ", lifetime {l}");
    }
    s
}

/// One line per endpoint (at most `max`), in `ep` order: its connection,
/// `ep`, name, state path and why it closed.
pub fn path_lines(world: &World, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let total = world.endpoints().count();
    for ep in world.endpoints().take(max) {
        let path = if ep.log.keeps_history() {
            ep.log.states().iter().map(|s| s.name()).collect::<Vec<_>>().join(" -> ")
        } else {
            format!("... -> {}", ep.tcp.state())
        };
        let mut reason = ep.tcp.close_reason().map(|r| format!("  ({r})")).unwrap_or_default();
        if ep.lost {
            reason.push_str("  (lost in a host crash)");
        }
        lines.push(format!("conn {:>3}  ep {:>3}  {:<10} {path}{reason}", ep.conn, ep.ep, ep.name));
    }
    if total > max {
        lines.push(format!("... and {} more endpoints", total - max));
    }
    lines
}

/// Open endpoints listed at most, before the counts take over.
pub const OPEN_LISTED_MAX: usize = 20;

/// The endpoints a completed run left open (not CLOSED), each with why, at
/// most `max` of them, then one line of counts by state and reason. Empty
/// when every endpoint is CLOSED or the run did not complete.
pub fn open_lines(world: &World, max: usize) -> Vec<String> {
    open_lines_shown(world, max, &Filter::default())
}

/// [`open_lines`] for the endpoints `filter` shows: its connection and
/// endpoint name (`--conn`, `--endpoint`); the counts are of those too.
pub fn open_lines_shown(world: &World, max: usize, filter: &Filter) -> Vec<String> {
    let Some(report) = world.open_endpoints_where(max, &|conn, name| shows_endpoint(filter, conn, name)) else {
        return Vec::new();
    };
    let open = report.open();
    if open == 0 {
        return Vec::new();
    }
    let mut lines = vec![format!("open endpoints: {open} not CLOSED at the end, {} stuck", report.stuck())];
    for e in &report.listed {
        lines.push(format!(
            "  conn {:>3}  ep {:>3}  {:<10} {:<12} {}",
            e.conn,
            e.ep,
            e.name,
            e.state.name(),
            e.reason.describe()
        ));
    }
    if open > report.listed.len() as u64 {
        lines.push(format!("  ... and {} more", open - report.listed.len() as u64));
    }
    let counts: Vec<String> =
        report.counts.iter().map(|((state, reason), n)| format!("{state}/{}={n}", reason.name())).collect();
    lines.push(format!("  by state and reason: {}", counts.join(" ")));
    lines
}

/// Whether `filter` shows records of this endpoint. Kinds and times do not
/// apply: an open endpoint is a fact about the run's end.
fn shows_endpoint(filter: &Filter, conn: u32, name: &str) -> bool {
    filter.conn.is_none_or(|c| c == conn) && filter.endpoint.as_deref().is_none_or(|n| n == name)
}

/// One `open` JSONL record per endpoint a completed run left open and
/// `filter` shows, all of them (scripts want every one), at the run's end
/// time `t_ns`. Written after the trace, so never digested.
pub fn open_json(world: &World, filter: &Filter, t_ns: u64) -> Vec<String> {
    let keep = |conn, name: &str| shows_endpoint(filter, conn, name);
    let Some(report) = world.open_endpoints_where(usize::MAX, &keep) else { return Vec::new() };
    report
        .listed
        .iter()
        .map(|e| {
            format!(
                "{{\"t_ns\":{t_ns},\"kind\":\"open\",\"conn\":{},\"ep\":{},\"endpoint\":{},\"state\":\"{}\",\"reason\":\"{}\"}}",
                e.conn,
                e.ep,
                crate::trace::json_str(&e.name),
                e.state.name(),
                e.reason.name()
            )
        })
        .collect()
}

/// The closing facts of a run.
#[derive(Clone, Debug)]
pub struct Summary {
    /// How the run ended: completed, or the limit that stopped it.
    pub outcome: Outcome,
    /// The trace digest, in hex.
    pub digest: String,
    /// Events the run processed.
    pub events: u64,
    /// State transitions over all endpoints.
    pub transitions: u64,
    /// Connections in the run.
    pub connections: u64,
    /// Segments sent over the run.
    pub segments_sent: u64,
    /// Segments sent again over the run.
    pub retransmissions: u64,
    /// Segments lost, all reasons.
    pub drops: u64,
    /// The run's final virtual time, in ns.
    pub end_ns: u64,
    /// The run's effective seed.
    pub seed: u64,
    /// The scenario's name (the file's `name`).
    pub scenario: String,
    /// Checks of the file's `expect` block that ran.
    pub expectations: usize,
    /// Of those, the ones that failed.
    pub expectations_failed: usize,
    /// Endpoints not CLOSED at the end, and of them the stuck ones; `None`
    /// when the run did not complete (see [`World::open_endpoints`]).
    pub open: Option<u64>,
    /// Of the open endpoints, those stuck (`world::OpenReason::Stuck`); `None`
    /// when the run did not complete.
    pub stuck: Option<u64>,
}

impl Summary {
    /// The summary of `world` after a run that ended with `outcome`, its
    /// expectations checked as `checks`.
    pub fn new(world: &World, outcome: Outcome, checks: &[Check]) -> Summary {
        let s = world.stats();
        let open = world.open_endpoints(0);
        Summary {
            outcome,
            digest: world.digest(),
            events: s.events,
            transitions: s.transitions,
            connections: world.model().connection_count(),
            segments_sent: s.segments_sent,
            retransmissions: s.retransmissions,
            drops: s.total_drops(),
            end_ns: world.now().as_nanos(),
            seed: world.model().seed,
            scenario: world.model().name.clone(),
            expectations: checks.len(),
            expectations_failed: checks.iter().filter(|c| !c.ok).count(),
            open: open.as_ref().map(|r| r.open()),
            stuck: open.as_ref().map(|r| r.stuck()),
        }
    }

    /// The `summary` JSONL record.
    pub fn json(&self) -> String {
        format!(
            "{{\"t_ns\":{},\"kind\":\"summary\",\"digest\":\"{}\",\"digest_version\":{DIGEST_VERSION},\"version\":\"{VERSION}\",\"scenario\":{},\"seed\":{},\"outcome\":\"{}\",\"events\":{},\"transitions\":{},\"connections\":{},\"segments_sent\":{},\"retransmissions\":{},\"drops\":{},\"end_ns\":{},\"expectations\":{},\"expectations_failed\":{},\"open\":{},\"stuck\":{}}}",
            self.end_ns,
            self.digest,
            crate::trace::json_str(&self.scenario),
            self.seed,
            self.outcome.name(),
            self.events,
            self.transitions,
            self.connections,
            self.segments_sent,
            self.retransmissions,
            self.drops,
            self.end_ns,
            self.expectations,
            self.expectations_failed,
            json_count(self.open),
            json_count(self.stuck)
        )
    }

    /// The summary line of a text trace (without `# `).
    pub fn line(&self) -> String {
        format!(
            "summary: outcome={} end_ms={} events={} transitions={} connections={} segments_sent={} retransmissions={} drops={} expectations={} expectations_failed={}",
            self.outcome.name(),
            crate::time::Instant::from_nanos(self.end_ns),
            self.events,
            self.transitions,
            self.connections,
            self.segments_sent,
            self.retransmissions,
            self.drops,
            self.expectations,
            self.expectations_failed
        )
    }
}

/// A count, or `null` when it was not counted.
fn json_count(n: Option<u64>) -> String {
    n.map_or("null".into(), |n| n.to_string())
}

/// An `expect` JSONL record, stamped `t_ns` with the run's end time
/// (expectations are checked on the finished run).
pub fn check_json(c: &Check, t_ns: u64) -> String {
    let (conn, endpoint) = match &c.endpoint {
        Some((conn, name)) => (conn.to_string(), crate::trace::json_str(name)),
        None => ("null".into(), "null".into()),
    };
    let ep = c.ep.map_or("null".into(), |ep| ep.to_string());
    format!(
        "{{\"t_ns\":{t_ns},\"kind\":\"expect\",\"ok\":{},\"conn\":{conn},\"ep\":{ep},\"endpoint\":{endpoint},\"check\":{},\"expected\":{},\"actual\":{}}}",
        c.ok,
        crate::trace::json_str(&c.what),
        crate::trace::json_str(&c.expected),
        crate::trace::json_str(&c.actual)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_singular_for_one() {
        assert_eq!(count(1u64, "run"), "1 run");
        assert_eq!(count(0u64, "check"), "0 checks");
        assert_eq!(count(2u32, "time"), "2 times");
    }
}
