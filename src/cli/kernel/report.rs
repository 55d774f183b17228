//! The side-by-side report of a kernel run: one table per endpoint
//! (tcpsim's path | the kernel's path | verdict), what the faults did on
//! both sides, what sock_diag and `connect()` measured, and a legend of
//! the representation differences applied.

use super::apps::EndpointPlan;
use super::{KernelRun, SidePath};
use tcpsim::kernel::path::{Representation, Step, kernel_path, same_path};
use tcpsim::kernel::timing::{self, Kind, Measure, WireSeg};
use tcpsim::model::Model;
use tcpsim::report::count;
use tcpsim::tcp::State;

/// `println!` that never ends the process: once the report's reader has
/// gone (`| head -1`), the rest is lost through `Dest`, which notes it, and
/// the command ends quietly with 0, as every command does (the std macro
/// panics on a failed write).
macro_rules! reportln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(crate::cli::output::Dest::Stdout(std::io::stdout()), $($arg)*);
    }};
}

fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

fn paint(text: &str, ok: bool, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let c = if ok { anstyle::AnsiColor::Green } else { anstyle::AnsiColor::Red };
    let style = anstyle::Style::new().fg_color(Some(c.into())).bold();
    format!("{style}{text}{style:#}")
}

/// Prints the report; returns the exit code: 0 when every path matches,
/// states and entry times, and every timing lies within its tolerance;
/// 1 otherwise.
#[allow(clippy::too_many_arguments)]
pub fn print(
    label: &str,
    model: &Model,
    paths: &[SidePath],
    time_wait_ns: u64,
    segs: &[WireSeg],
    eps: &[EndpointPlan],
    k: &KernelRun,
    cc: &str,
    color: bool,
) -> u8 {
    reportln!("tcpsim kernel {label}: Linux {} in two network namespaces ({} and {})", k.release, k.addr[0], k.addr[1]);
    let profiles: std::collections::BTreeSet<&str> = model.configs.iter().map(|c| c.profile.name()).collect();
    let profiles: Vec<&str> = profiles.into_iter().collect();
    reportln!(
        "tcpsim side: the file under profile {} (linux unless the file or --set chooses one; docs/linux.md)",
        profiles.join(" and ")
    );
    reportln!(
        "not modelled by tcpsim: tail loss probes (TLP) and RACK, on in Linux by default (tcp_early_retrans, \
         tcp_recovery below): a loss the kernel repairs with them shows as a timing difference"
    );
    let delays: Vec<String> = model
        .links
        .iter()
        .map(|l| format!("{} ms / {} ms", ms(l.ab.delay.as_nanos()), ms(l.ba.delay.as_nanos())))
        .collect();
    reportln!("kernel side: congestion control {cc}; link delay {} (relay)", delays.join(", "));
    print_settings(k);
    let hz = k.hz.0;
    let mut used: Vec<Representation> = Vec::new();
    let (mut matched, mut differ) = (0, 0);
    let mut rows: Vec<(u32, String)> = paths.iter().map(|p| (p.conn, p.name.clone())).collect();
    for (i, e) in eps.iter().enumerate() {
        if !k.records[i].changes.is_empty() && !rows.contains(&(e.conn, e.name.clone())) {
            rows.push((e.conn, e.name.clone()));
        }
    }
    for (conn, name) in rows {
        let side: Vec<(State, u64)> =
            paths.iter().find(|p| p.conn == conn && p.name == name).map(|p| p.steps.clone()).unwrap_or_default();
        let kernel: Vec<Step> = eps
            .iter()
            .position(|e| e.conn == conn && e.name == name)
            .map(|i| kernel_path(&k.records[i]))
            .filter(|p| p.len() > 1)
            .unwrap_or_default();
        let states: Vec<State> = side.iter().map(|s| s.0).collect();
        let same_states = same_path(&states, &kernel);
        // Entry times, where the states agree: each within the window of
        // the timers chained up to it (tcpsim::kernel::timing).
        let side_ns: Vec<u64> = side.iter().map(|s| s.1).collect();
        let kernel_ns: Vec<Option<u64>> = kernel.iter().map(|s| s.at_ns).collect();
        let polled = |s: &Step| {
            let read =
                s.via.iter().any(|r| matches!(r, Representation::TimewaitSocket | Representation::OrphanFinWait2));
            if read && s.state == State::Closed { timing::POLL_NS } else { 0 }
        };
        let late_steps: Vec<usize> = if same_states {
            (0..kernel.len())
                .filter(|&i| !timing::entry_within(&side_ns, &kernel_ns, i, polled(&kernel[i]), hz))
                .collect()
        } else {
            Vec::new()
        };
        let ok = same_states && late_steps.is_empty();
        if ok {
            matched += 1
        } else {
            differ += 1
        }
        let verdict = match (same_states, late_steps.is_empty()) {
            (true, true) => "match",
            (true, false) => "differs (entry times outside the tolerance)",
            _ => "differs",
        };
        reportln!();
        reportln!("{name} (connection {conn}): {}", paint(verdict, ok, color));
        reportln!("  {:<14}{:>11}   {:<14}{:>11}   note", "tcpsim", "ms", "kernel", "ms");
        for i in 0..side.len().max(kernel.len()) {
            let (ts, tt) = side.get(i).map(|(s, t)| (s.to_string(), ms(*t))).unwrap_or_default();
            let (ks, kt, note) = kernel
                .get(i)
                .map(|s| {
                    for r in &s.via {
                        if !used.contains(r) {
                            used.push(*r);
                        }
                    }
                    let mut note: Vec<String> = s.via.iter().map(|r| r.name().to_string()).collect();
                    if late_steps.contains(&i) {
                        let (early, late) = timing::entry_tolerance(&side_ns, i, hz);
                        let late = late + polled(s);
                        note.push(format!("time outside -{} +{} ms", early / 1_000_000, late / 1_000_000));
                    }
                    (s.state.to_string(), s.at_ns.map(ms).unwrap_or_else(|| "-".into()), note.join(", "))
                })
                .unwrap_or_default();
            let mark = if states.get(i).map(|s| s.to_string()) == Some(ks.clone()) { " " } else { "≠" };
            let row = format!("  {ts:<14}{tt:>11} {mark} {ks:<14}{kt:>11}   {note}");
            reportln!("{}", row.trim_end());
        }
    }
    reportln!();
    for (label, who, matched, dropped, in_tcpsim) in &k.rules {
        reportln!(
            "{label}: the kernel run dropped {dropped} of the {matched} matching segments from {who} (tcpsim: {in_tcpsim})"
        );
    }
    for (i, e) in eps.iter().enumerate() {
        let rec = &k.records[i];
        // An orphan's timewait socket is read from its TIME_WAIT on.
        if let Some(tw) = rec.time_wait.filter(|t| !t.orphan_fin_wait_2 || t.time_wait_seen_ns.is_some()) {
            let (entry, end) = time_wait_span(rec);
            if let Some(entry) = entry {
                let read_after = tw.first_seen_ns.saturating_sub(entry);
                let armed = read_after + u64::from(tw.expires_ms) * 1_000_000;
                let ended = match end {
                    Some(g) => format!("it was gone {} ms after entry", ms(g.saturating_sub(entry))),
                    None => "it had not ended when the run did".into(),
                };
                reportln!(
                    "TIME_WAIT of {}: {ended} (sock_diag, asked every 100 ms; tcpsim: {} ms); its timer, read {} ms \
                     after entry, was armed for {} ms from entry",
                    e.name,
                    ms(time_wait_ns),
                    ms(read_after),
                    ms(armed),
                );
            }
        }
        let o = &k.outcomes[i];
        if let (Some(start), Some((at, errno, err))) = (o.connect_ns, &o.connect_error) {
            let after = ms(at.saturating_sub(start));
            if *errno == Some(rustix::io::Errno::TIMEDOUT.raw_os_error()) {
                reportln!("SYN give-up of {}: connect() failed with ETIMEDOUT {after} ms after it was called", e.name);
            } else {
                reportln!("{}: connect() failed ({err}) {after} ms after it was called", e.name);
            }
        }
        for n in &o.notes {
            reportln!("{}: {n}", e.name);
        }
        let orphan_timer = model.configs.get(e.config).is_some_and(|c| c.linux_fin_wait_2_timeout.is_some());
        let closes = e.app.script.iter().any(|t| t.action == tcpsim::model::Action::Close)
            || e.app.on_end_of_stream.contains(&tcpsim::model::Reaction::Close)
            || e.app.on_connected.contains(&tcpsim::model::Reaction::Close);
        if orphan_timer && closes && !e.full_close {
            reportln!(
                "{}: CLOSE played as shutdown(SHUT_WR), not close(2): it receives data after closing, \
                 which Linux answers with RST for an orphan; the kernel's FIN_WAIT_2 then has no orphan timeout",
                e.name
            );
        }
    }
    let timings_outside = print_timings(paths, segs, eps, k, color);
    if k.request_sockets_seen > 0 {
        reportln!("request sockets seen by sock_diag: {}", k.request_sockets_seen);
    }
    if k.timed_out {
        reportln!("the kernel run stopped at its deadline (tcpsim's last event + 10 s) with sockets still open");
    }
    if !used.is_empty() {
        reportln!();
        reportln!("Compared modulo Linux's representation of:");
        for r in Representation::ALL.iter().filter(|r| used.contains(r)) {
            reportln!("  {}: {}", r.name(), r.explain());
        }
    }
    reportln!();
    let total = matched + differ;
    let ok = differ == 0 && timings_outside == 0;
    reportln!("{}", paint(&verdict_line(total, matched, differ, timings_outside), ok, color));
    if ok { 0 } else { 1 }
}

/// The closing line: endpoints compared, how many match and differ, and
/// the timings outside their tolerance when there are any.
fn verdict_line(total: usize, matched: usize, differ: usize, timings_outside: usize) -> String {
    let endpoints = count(total as u64, "endpoint");
    let (matches, differs) =
        (if matched == 1 { "matches" } else { "match" }, if differ == 1 { "differs" } else { "differ" });
    let mut line = format!("{endpoints}: {matched} {matches}, {differ} {differs}");
    if timings_outside > 0 {
        let timings = count(timings_outside as u64, "timing");
        line.push_str(&format!("; {timings} outside the tolerance"));
    }
    line
}

/// The kernel's settings beside the `linux` profile's and the file's
/// (`tcpsim::kernel::sysctls`): the first namespace's, then the second's
/// where the file gives its endpoints other values.
fn print_settings(k: &KernelRun) {
    reportln!(
        "kernel settings: the namespace's value, the linux profile's (≠: this kernel's default differs), \
         and the file's where it changes the profile's (set in the namespace):"
    );
    let show = |v: &Option<String>| {
        v.as_deref().map(|v| v.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_else(|| "absent".into())
    };
    for (h, rows) in k.settings.iter().enumerate() {
        for r in rows {
            if h == 1 && k.settings[0].iter().any(|o| o.key == r.key && o.file == r.file) {
                continue;
            }
            let host = if h == 1 { " (second namespace)" } else { "" };
            let line = match (&r.profile, r.note) {
                (_, Some(why)) => format!("  {:<36}{:<24}  not modelled: {why}", r.key, show(&r.kernel)),
                (Some(p), None) => {
                    let mark = if r.differs() { "≠" } else { " " };
                    let file = match (&r.file, r.to_set()) {
                        (Some(f), Some(_)) => format!("   file {f} (set)"),
                        (Some(f), None) => format!("   file {f}"),
                        (None, _) => String::new(),
                    };
                    format!("  {:<36}{:<24}{mark} profile {p}{file}{host}", r.key, show(&r.kernel))
                }
                (None, None) => format!("  {:<36}{:<24}  file {}{host}", r.key, show(&r.kernel), show(&r.file)),
            };
            reportln!("{}", line.trim_end());
        }
    }
    for (key, v) in &k.sysctls {
        reportln!("  {key}: {v}");
    }
}

/// The give-up and TIME_WAIT measures of tcpsim's side, from its paths:
/// SYN_SENT straight to CLOSED is a give-up (its timers: the SYN
/// intervals and the last wait), and TIME_WAIT lasts until the next step.
fn path_measures(paths: &[SidePath], segs: &[WireSeg]) -> Vec<Measure> {
    let mut out = Vec::new();
    for p in paths {
        for w in p.steps.windows(2) {
            if w[0].0 == State::TimeWait {
                let ns = w[1].1 - w[0].1;
                out.push(Measure { endpoint: p.name.clone(), kind: Kind::TimeWait, ns, timers: vec![] });
            }
            // A reset (connection refused) is no give-up.
            let reset = segs.iter().any(|s| s.to == p.name && s.flags & 0x04 != 0 && s.arrived_ns.is_some());
            if w[0].0 == State::SynSent && w[1].0 == State::Closed && !reset {
                let syns: Vec<u64> =
                    segs.iter().filter(|s| s.from == p.name && s.flags & 0x12 == 0x02).map(|s| s.sent_ns).collect();
                let first = syns.first().copied().unwrap_or(w[0].1);
                let mut timers: Vec<u64> = syns.windows(2).map(|x| x[1] - x[0]).collect();
                timers.push(w[1].1.saturating_sub(syns.last().copied().unwrap_or(first)));
                out.push(Measure { endpoint: p.name.clone(), kind: Kind::SynGiveUp, ns: w[1].1 - first, timers });
            }
        }
    }
    out
}

/// When the kernel's path entered TIME_WAIT, and when it left it (the
/// timewait socket gone).
fn time_wait_span(rec: &tcpsim::kernel::path::KernelRecord) -> (Option<u64>, Option<u64>) {
    let path = kernel_path(rec);
    let Some(i) = path.iter().position(|s| s.state == State::TimeWait) else { return (None, None) };
    (path[i].at_ns, path.get(i + 1).and_then(|s| s.at_ns))
}

/// The kernel's give-up (`connect()` failing with ETIMEDOUT, from the
/// call) and TIME_WAIT (from entry to when sock_diag no longer lists the
/// timewait socket: its actual end, a restart by a retransmitted FIN
/// included).
fn kernel_extra(eps: &[EndpointPlan], k: &KernelRun) -> Vec<Measure> {
    let mut out = Vec::new();
    for (i, e) in eps.iter().enumerate() {
        let rec = &k.records[i];
        if let (Some(entry), Some(end)) = time_wait_span(rec) {
            let ns = end.saturating_sub(entry);
            out.push(Measure { endpoint: e.name.clone(), kind: Kind::TimeWait, ns, timers: vec![] });
        }
        let o = &k.outcomes[i];
        if let (Some(start), Some((at, Some(errno), _))) = (o.connect_ns, &o.connect_error)
            && *errno == rustix::io::Errno::TIMEDOUT.raw_os_error()
        {
            let ns = at.saturating_sub(start);
            out.push(Measure { endpoint: e.name.clone(), kind: Kind::SynGiveUp, ns, timers: vec![] });
        }
    }
    out
}

/// The timings table: tcpsim | kernel | tolerance | verdict. Returns how
/// many are outside their tolerance or measured on one side only: each
/// makes the run's exit code 1.
fn print_timings(paths: &[SidePath], segs: &[WireSeg], eps: &[EndpointPlan], k: &KernelRun, color: bool) -> usize {
    let mut ours = timing::measure(segs);
    ours.extend(path_measures(paths, segs));
    let mut theirs = timing::measure(&k.segs);
    theirs.extend(kernel_extra(eps, k));
    let mut keys: Vec<(String, Kind)> = ours.iter().chain(&theirs).map(|m| (m.endpoint.clone(), m.kind)).collect();
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return 0;
    }
    let (hz, from) = &k.hz;
    reportln!();
    reportln!("timings (ms; the kernel's timers are jiffies on the timer wheel, HZ={hz} from {from}):");
    reportln!("  {:<58}{:>12}{:>12}   {:<18}verdict", "", "tcpsim", "kernel", "tolerance");
    let (mut inside, mut outside) = (0, 0);
    let (mut resends_differ, mut data_acks_differ) = (false, false);
    for (name, kind) in keys {
        let a = ours.iter().find(|m| m.endpoint == name && m.kind == kind);
        let b = theirs.iter().find(|m| m.endpoint == name && m.kind == kind);
        let label = a.or(b).map(|m| m.label()).unwrap_or_default();
        let show = |m: Option<&Measure>| m.map(|m| ms(m.ns)).unwrap_or_else(|| "-".into());
        let (tol, verdict, ok) = match (a, b) {
            (Some(a), Some(b)) => {
                let (early, late) = timing::tolerance(a, *hz);
                let ok = timing::within(a, b.ns, *hz);
                let tol = format!("-{} +{}", early / 1_000_000, late / 1_000_000);
                (tol, if ok { "within" } else { "outside" }, ok)
            }
            (Some(_), None) => (String::new(), "kernel has none", false),
            _ => (String::new(), "tcpsim has none", false),
        };
        if ok {
            inside += 1
        } else {
            outside += 1;
            resends_differ |= matches!(kind, Kind::FirstRetransmit | Kind::Resend(_) | Kind::FinResend(_));
            data_acks_differ |= matches!(kind, Kind::DataAck(_));
        }
        reportln!("  {label:<58}{:>12}{:>12}   {tol:<18}{}", show(a), show(b), paint(verdict, ok, color));
    }
    reportln!(
        "  tolerance: the kernel may fire its timers late by the wheel's granularity for each timer chained \
         (plus 2 jiffies), and the relay may see any time 5 ms off"
    );
    if resends_differ {
        reportln!(
            "  resends: Linux's tail loss probe (RFC 8985 TLP, tcp_send_loss_probe) and RACK resend a tail \
             sooner, and a probe re-arms an un-doubled RTO (tcp_rearm_rto); the linux profile models neither"
        );
    }
    if data_acks_differ {
        reportln!(
            "  data ACKs: Linux's quick-ack budget follows its receive window (tcp_incr_quickack) and reading \
             data may send a window update at once (tcp_cleanup_rbuf); the linux profile quick-acks 16, then delays"
        );
    }
    reportln!("  timings: {inside} within tolerance, {outside} not");
    outside
}

#[cfg(test)]
mod tests {
    use super::verdict_line;

    #[test]
    fn the_verdict_line_agrees_in_number() {
        assert_eq!(verdict_line(1, 1, 0, 0), "1 endpoint: 1 matches, 0 differ");
        assert_eq!(verdict_line(2, 1, 1, 1), "2 endpoints: 1 matches, 1 differs; 1 timing outside the tolerance");
        assert_eq!(verdict_line(4, 4, 0, 2), "4 endpoints: 4 match, 0 differ; 2 timings outside the tolerance");
    }
}
