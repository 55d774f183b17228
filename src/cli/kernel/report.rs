//! The side-by-side report of a kernel run: one table per endpoint
//! (tcpsim's path | the kernel's path | verdict), what the faults did on
//! both sides, what sock_diag and `connect()` measured, and a legend of
//! the representation differences applied.

use super::apps::EndpointPlan;
use super::{KernelRun, SidePath};
use tcpsim::kernel::path::{Representation, Step, kernel_path, same_path};
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
    println!("kernel settings (first namespace):");
    for (key, v) in &k.sysctls {
        println!("  {key} = {v}");
    }
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
        if let Some(tw) = rec.time_wait {
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
    }
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
