//! The side-by-side report of a kernel run: one table per endpoint
//! (tcpsim's path | the kernel's path | verdict), what the faults did on
//! both sides, what sock_diag and `connect()` measured, and a legend of
//! the representation differences applied.

use super::apps::EndpointPlan;
use super::{KernelRun, SidePath};
use tcpsim::kernel::path::{Representation, Step, kernel_path, same_path};
use tcpsim::kernel::timing::{self, Kind, Measure, WireSeg};
use tcpsim::model::Model;
use tcpsim::tcp::State;

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

/// Prints the report; returns the exit code (0 every path matches, 1 one
/// differs).
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
    println!("tcpsim kernel {label}: Linux {} in two network namespaces ({} and {})", k.release, k.addr[0], k.addr[1]);
    let profiles: std::collections::BTreeSet<&str> = model.configs.iter().map(|c| c.profile.name()).collect();
    let profiles: Vec<&str> = profiles.into_iter().collect();
    println!(
        "tcpsim side: the file under profile {} (linux unless the file or --set chooses one; docs/linux.md)",
        profiles.join(" and ")
    );
    let delays: Vec<String> = model
        .links
        .iter()
        .map(|l| format!("{} ms / {} ms", ms(l.ab.delay.as_nanos()), ms(l.ba.delay.as_nanos())))
        .collect();
    println!("kernel side: congestion control {cc}; link delay {} (relay)", delays.join(", "));
    print_settings(k);
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
        let ok = same_path(&states, &kernel);
        if ok {
            matched += 1
        } else {
            differ += 1
        }
        println!();
        println!("{name} (connection {conn}): {}", paint(if ok { "match" } else { "differs" }, ok, color));
        println!("  {:<14}{:>11}   {:<14}{:>11}   note", "tcpsim", "ms", "kernel", "ms");
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
                    let note: Vec<&str> = s.via.iter().map(|r| r.name()).collect();
                    (s.state.to_string(), s.at_ns.map(ms).unwrap_or_else(|| "-".into()), note.join(", "))
                })
                .unwrap_or_default();
            let mark = if states.get(i).map(|s| s.to_string()) == Some(ks.clone()) { " " } else { "≠" };
            let row = format!("  {ts:<14}{tt:>11} {mark} {ks:<14}{kt:>11}   {note}");
            println!("{}", row.trim_end());
        }
    }
    println!();
    for (label, who, matched, dropped, in_tcpsim) in &k.rules {
        println!(
            "{label}: the kernel run dropped {dropped} of the {matched} matching segments from {who} (tcpsim: {in_tcpsim})"
        );
    }
    for (i, e) in eps.iter().enumerate() {
        let rec = &k.records[i];
        // An orphan's timewait socket times FIN_WAIT_2, not TIME_WAIT.
        if let Some(tw) = rec.time_wait.filter(|t| !t.orphan_fin_wait_2) {
            let entry = kernel_path(rec).iter().find(|s| s.state == State::TimeWait).and_then(|s| s.at_ns);
            if let Some(entry) = entry {
                let read_after = tw.first_seen_ns.saturating_sub(entry);
                let len = read_after + u64::from(tw.expires_ms) * 1_000_000;
                let ended = tw.gone_ns.map(|g| format!("; it ended {} ms after entry", ms(g.saturating_sub(entry))));
                println!(
                    "TIME_WAIT of {}: sock_diag's timer, read {} ms after entry, had {} ms left: {} ms long (tcpsim: {} ms){}",
                    e.name,
                    ms(read_after),
                    tw.expires_ms,
                    ms(len),
                    ms(time_wait_ns),
                    ended.unwrap_or_default()
                );
            }
        }
        let o = &k.outcomes[i];
        if let (Some(start), Some((at, errno, err))) = (o.connect_ns, &o.connect_error) {
            let after = ms(at.saturating_sub(start));
            if *errno == Some(rustix::io::Errno::TIMEDOUT.raw_os_error()) {
                println!("SYN give-up of {}: connect() failed with ETIMEDOUT {after} ms after it was called", e.name);
            } else {
                println!("{}: connect() failed ({err}) {after} ms after it was called", e.name);
            }
        }
        for n in &o.notes {
            println!("{}: {n}", e.name);
        }
        let orphan_timer = model.configs.get(e.config).is_some_and(|c| c.linux_fin_wait_2_timeout.is_some());
        let closes = e.app.script.iter().any(|t| t.action == tcpsim::model::Action::Close)
            || e.app.on_end_of_stream.contains(&tcpsim::model::Reaction::Close)
            || e.app.on_connected.contains(&tcpsim::model::Reaction::Close);
        if orphan_timer && closes && !e.full_close {
            println!(
                "{}: CLOSE played as shutdown(SHUT_WR), not close(2): it receives data after closing, \
                 which Linux answers with RST for an orphan; the kernel's FIN_WAIT_2 then has no orphan timeout",
                e.name
            );
        }
    }
    print_timings(paths, segs, eps, k, color);
    if k.request_sockets_seen > 0 {
        println!("request sockets seen by sock_diag: {}", k.request_sockets_seen);
    }
    if k.timed_out {
        println!("the kernel run stopped at its deadline (tcpsim's last event + 10 s) with sockets still open");
    }
    if !used.is_empty() {
        println!();
        println!("Compared modulo Linux's representation of:");
        for r in Representation::ALL.iter().filter(|r| used.contains(r)) {
            println!("  {}: {}", r.name(), r.explain());
        }
    }
    println!();
    let total = matched + differ;
    let verdict = format!("{total} endpoints: {matched} match, {differ} differ");
    println!("{}", paint(&verdict, differ == 0, color));
    if differ == 0 { 0 } else { 1 }
}

/// The kernel's settings beside the `linux` profile's and the file's
/// (`tcpsim::kernel::sysctls`): the first namespace's, then the second's
/// where the file gives its endpoints other values.
fn print_settings(k: &KernelRun) {
    println!(
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
            println!("{}", line.trim_end());
        }
    }
    for (key, v) in &k.sysctls {
        println!("  {key}: {v}");
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
            if w[0].0 == State::SynSent && w[1].0 == State::Closed {
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

/// The kernel's give-up (`connect()` failing with ETIMEDOUT, from the
/// call) and TIME_WAIT (sock_diag's timer read right after entry, plus
/// the time to that read).
fn kernel_extra(eps: &[EndpointPlan], k: &KernelRun) -> Vec<Measure> {
    let mut out = Vec::new();
    for (i, e) in eps.iter().enumerate() {
        let rec = &k.records[i];
        // An orphan's timewait socket times FIN_WAIT_2, not TIME_WAIT.
        if let Some(tw) = rec.time_wait.filter(|t| !t.orphan_fin_wait_2) {
            let entry = kernel_path(rec).iter().find(|s| s.state == State::TimeWait).and_then(|s| s.at_ns);
            if let Some(entry) = entry {
                let ns = tw.first_seen_ns.saturating_sub(entry) + u64::from(tw.expires_ms) * 1_000_000;
                out.push(Measure { endpoint: e.name.clone(), kind: Kind::TimeWait, ns, timers: vec![] });
            }
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

/// The timings table: tcpsim | kernel | tolerance | verdict. A timing
/// outside its tolerance is reported, not made an exit code: the
/// tolerance bounds the kernel's timers, not a loaded machine's
/// scheduling of the relay.
fn print_timings(paths: &[SidePath], segs: &[WireSeg], eps: &[EndpointPlan], k: &KernelRun, color: bool) {
    let mut ours = timing::measure(segs);
    ours.extend(path_measures(paths, segs));
    let mut theirs = timing::measure(&k.segs);
    theirs.extend(kernel_extra(eps, k));
    let mut keys: Vec<(String, Kind)> = ours.iter().chain(&theirs).map(|m| (m.endpoint.clone(), m.kind)).collect();
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return;
    }
    let (hz, from) = &k.hz;
    println!();
    println!("timings (ms; the kernel's timers are jiffies on the timer wheel, HZ={hz} from {from}):");
    println!("  {:<58}{:>12}{:>12}   {:<18}verdict", "", "tcpsim", "kernel", "tolerance");
    let (mut inside, mut outside) = (0, 0);
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
            outside += 1
        }
        println!("  {label:<58}{:>12}{:>12}   {tol:<18}{}", show(a), show(b), paint(verdict, ok, color));
    }
    println!(
        "  tolerance: the kernel may fire its timers late by the wheel's granularity for each timer chained \
         (plus 2 jiffies), and the relay may see any time 5 ms off"
    );
    println!("  timings: {inside} within tolerance, {outside} not");
}
