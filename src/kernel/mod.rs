//! `tcpsim kernel`: the library's half of running a scenario on the Linux
//! kernel beside tcpsim. Pure functions only; the namespaces, sockets and
//! tracepoints live in the CLI (`src/cli/kernel/`), which alone does I/O.
//!
//! - [`supported`]: which scenarios the kernel run can play (two hosts,
//!   fixed-delay links, listeners and connections with app scripts,
//!   scripted `Drop` faults, partitions), every other field named with why.
//! - [`tcpsim_side`]: the model tcpsim runs for the comparison.
//! - [`path`]: the kernel's state changes turned into an RFC 9293 state
//!   path, modulo the representation differences it names, and the
//!   comparison with tcpsim's path.

pub mod path;

use crate::link::LinkParams;
use crate::model::{Action, Fault, Model, Reaction, SegmentFaultAction};
use crate::rng::Ppm;
use crate::tcp::CongestionControl;
use crate::time::Duration;

/// A part of a scenario the kernel run cannot play.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// The field path, as in error messages (`links[0].loss`).
    pub field: String,
    /// Why it cannot be played on the kernel.
    pub why: String,
}

/// Every part of `model` the kernel run cannot play; empty when it can
/// play all of it.
pub fn supported(model: &Model) -> Vec<Unsupported> {
    let mut out = Vec::new();
    let mut no = |field: String, why: &str| out.push(Unsupported { field, why: why.to_string() });
    if model.hosts.len() != 2 {
        no("hosts".into(), "the kernel run has exactly two hosts, one network namespace each");
    }
    for (i, link) in model.links.iter().enumerate() {
        for params in [&link.ab, &link.ba] {
            for (field, why) in link_problems(params) {
                no(format!("links[{i}].{field}"), why);
            }
        }
    }
    for (i, l) in model.listeners.iter().enumerate() {
        if l.close_at.is_some() {
            no(format!("listeners[{i}].close_at_ms"), "closing a listening socket is not played on the kernel");
        }
        app_problems(&l.app, &format!("listeners[{i}]"), &mut no);
    }
    for (i, c) in model.connections.iter().enumerate() {
        if c.count != 1 {
            no(format!("connections[{i}].count"), "the kernel run plays one connection per entry");
        }
        app_problems(&c.app, &format!("connections[{i}]"), &mut no);
        if let Some(peer) = &c.peer {
            app_problems(&peer.app, &format!("connections[{i}].peer"), &mut no);
        }
    }
    for (i, f) in model.faults.iter().enumerate() {
        match f {
            Fault::Segment { action: SegmentFaultAction::Drop, .. } | Fault::Partition { .. } => {}
            Fault::Segment { .. } => {
                no(format!("faults[{i}]"), "only Drop is played on the kernel, not Delay or Duplicate")
            }
            Fault::Inject { .. } => no(format!("faults[{i}]"), "forged segments are not played on the kernel"),
            Fault::Crash { .. } => no(format!("faults[{i}]"), "host crashes are not played on the kernel"),
            Fault::Fate { .. } => no(format!("faults[{i}]"), "recorded link decisions are not played on the kernel"),
        }
    }
    for (i, cfg) in model.configs.iter().enumerate() {
        if cfg.congestion_control == CongestionControl::None {
            // Configurations past the first come from an endpoint's own
            // `tcp` block.
            let field = if i == 0 { "tcp.congestion_control" } else { "congestion_control" }.to_string();
            no(field, "the kernel always runs a congestion controller");
        }
    }
    out
}

/// A link direction's elements other than a fixed delay, by field name.
fn link_problems(p: &LinkParams) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let random = "the kernel run plays fixed delays only: randomness cannot be replayed on the kernel";
    if p.jitter != Duration::ZERO {
        out.push(("jitter_ms", random));
    }
    if p.loss != Ppm::ZERO {
        out.push(("loss", "random loss cannot be replayed on the kernel: script the drops with Drop faults"));
    }
    if p.burst.is_some() {
        out.push(("burst", random));
    }
    if p.reorder != Ppm::ZERO {
        out.push(("reorder", random));
    }
    if p.duplicate != Ppm::ZERO {
        out.push(("duplicate", random));
    }
    if p.corrupt != Ppm::ZERO {
        out.push(("corrupt", random));
    }
    if p.rate_bps.is_some() {
        out.push(("rate_bps", "a rate limit is not played on the kernel"));
    }
    if p.queue_bytes.is_some() {
        out.push(("queue_bytes", "a bounded queue is not played on the kernel"));
    }
    if p.lifetime.is_some() {
        out.push(("lifetime_ms", "segment lifetimes are not played on the kernel"));
    }
    out
}

fn app_problems(app: &crate::model::App, at: &str, no: &mut impl FnMut(String, &str)) {
    for (i, t) in app.script.iter().enumerate() {
        if matches!(t.action, Action::Abort | Action::PauseRead | Action::ResumeRead) {
            no(format!("{at}.script[{i}]"), "Abort, PauseRead and ResumeRead are not played on the kernel");
        }
    }
    for (name, list) in [("on_connected", &app.on_connected), ("on_end_of_stream", &app.on_end_of_stream)] {
        for (i, r) in list.iter().enumerate() {
            if matches!(r, Reaction::Abort | Reaction::PauseRead | Reaction::ResumeRead) {
                no(format!("{at}.{name}[{i}]"), "Abort, PauseRead and ResumeRead are not played on the kernel");
            }
        }
    }
}

/// The kernel's `net.ipv4.tcp_congestion_control` for a file: `reno`
/// when the file names `newreno` itself (`explicit_newreno`), otherwise
/// `cubic`, Linux's default, which the `linux` profile will choose.
pub fn controller(explicit_newreno: bool) -> &'static str {
    if explicit_newreno { "reno" } else { "cubic" }
}

/// Linux 6.18's `tcp_fin_timeout` (`net.ipv4.tcp_fin_timeout`, 60 s).
pub const LINUX_FIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Linux's `TCP_RTO_MIN` (200 ms, `include/net/tcp.h`).
pub const LINUX_RTO_MIN: Duration = Duration::from_millis(200);

/// Linux's `TCP_RTO_MAX` (120 s, `include/net/tcp.h`).
pub const LINUX_RTO_MAX: Duration = Duration::from_secs(120);

/// Linux's `tcp_syn_retries` default (6).
pub const LINUX_SYN_RETRIES: u32 = 6;

/// The model tcpsim runs beside the kernel: the file as the `linux`
/// profile would run it.
///
/// Until that profile exists this applies the named Linux options tcpsim
/// already has, in every configuration, and nothing else; the profile
/// will replace this function:
/// - B-OPT-02 `linux_time_wait` (TIME_WAIT 60 s, `TCP_TIMEWAIT_LEN`),
///   unless the file sets an explicit `time_wait_ms`;
/// - B-OPT-01 `linux_fin_wait_2_timeout_ms` = 60 s (`tcp_fin_timeout`),
///   unless the file sets one;
/// - `rto_min_ms` 200 ms and `rto_max_ms` 120 s (`TCP_RTO_MIN`,
///   `TCP_RTO_MAX`), `r2_syn` 6 (`tcp_syn_retries`), where the file keeps
///   the RFC defaults.
///
/// What it cannot apply (no option exists yet): Linux's RTO formula,
/// `tcp_syn_linear_timeouts`, quick-ack and the delayed ACK of a FIN,
/// IW10, CUBIC, window scaling, SACK and timestamps defaults.
pub fn tcpsim_side(model: &Model) -> Model {
    let mut model = model.clone();
    let rfc = crate::tcp::TcpConfig::default();
    for cfg in &mut model.configs {
        if cfg.time_wait.is_none() {
            cfg.linux_time_wait = true;
        }
        if cfg.linux_fin_wait_2_timeout.is_none() {
            cfg.linux_fin_wait_2_timeout = Some(LINUX_FIN_TIMEOUT);
        }
        if cfg.rto_min == rfc.rto_min {
            cfg.rto_min = LINUX_RTO_MIN;
        }
        if cfg.rto_max == rfc.rto_max {
            cfg.rto_max = LINUX_RTO_MAX;
        }
        if cfg.r2_syn == rfc.r2_syn {
            cfg.r2_syn = Some(LINUX_SYN_RETRIES);
        }
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Model {
        crate::scenario::load(text.as_bytes(), &[]).expect("a valid scenario")
    }

    const PLAIN: &str = r#"(name: "k", seed: 1, tcp: (msl_ms: 1000),
        hosts: [(name: "a"), (name: "b")],
        links: [(between: ("a", "b"), delay_ms: 10)],
        listeners: [(name: "server", host: "b", port: 80)],
        connections: [(name: "client", host: "a", remote_host: "b", remote_port: 80,
                       script: [Connect(at_ms: 0), Close(at_ms: 100)])])"#;

    #[test]
    fn a_fixed_delay_scenario_is_supported() {
        assert_eq!(supported(&load(PLAIN)), vec![]);
    }

    #[test]
    fn random_loss_and_jitter_are_named_with_their_field() {
        let text = PLAIN.replace("delay_ms: 10", "delay_ms: 10, loss: 0.1, jitter_ms: 2");
        let fields: Vec<String> = supported(&load(&text)).into_iter().map(|u| u.field).collect();
        assert!(fields.contains(&"links[0].loss".to_string()), "{fields:?}");
        assert!(fields.contains(&"links[0].jitter_ms".to_string()), "{fields:?}");
    }

    #[test]
    fn the_tcpsim_side_has_linux_timers() {
        let side = tcpsim_side(&load(PLAIN));
        let cfg = &side.configs[0];
        assert_eq!(cfg.time_wait_len(), Duration::from_secs(60));
        assert_eq!(cfg.linux_fin_wait_2_timeout, Some(Duration::from_secs(60)));
        assert_eq!(cfg.rto_min, Duration::from_millis(200));
    }
}
