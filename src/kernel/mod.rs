//! `tcpsim kernel`: the library's half of running a scenario on the Linux
//! kernel beside tcpsim. Pure functions only; the namespaces, sockets and
//! tracepoints live in the CLI (`src/cli/kernel/`), which alone does I/O.
//!
//! - [`supported`]: which scenarios the kernel run can play (two hosts,
//!   fixed-delay links, listeners and connections with app scripts,
//!   scripted `Drop` faults, partitions), every other field named with why.
//! - [`drops`]: the file's `Drop` faults as the rules the relay plays,
//!   matched on what each filter names.
//! - [`path`]: the kernel's state changes turned into an RFC 9293 state
//!   path, modulo the representation differences it names, and the
//!   comparison with tcpsim's path.
//! - [`sysctls`]: the kernel's settings beside the profile's, and the
//!   file's values the run sets in the namespaces.
//! - [`timing`]: the timings measured on both sides (SYN schedule and
//!   give-up, every resend of a segment, the ACK of a FIN and of data, TIME_WAIT)
//!   and the kernel timer wheel's tolerance for them.

pub mod drops;
pub mod path;
pub mod sysctls;
pub mod timing;

use crate::link::LinkParams;
use crate::model::{Action, Fault, Model, Reaction, SegmentFaultAction};
use crate::rng::Ppm;
use crate::tcp::{CongestionControl, Profile, TcpConfig};
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
        // A field of both directions (one `loss` for the link) is named
        // once; one of a single direction at that direction's block.
        let (ab, ba) = (link_problems(&link.ab), link_problems(&link.ba));
        for (field, why) in &ab {
            let both = ba.iter().any(|(f, _)| f == field);
            no(format!("links[{i}].{}{field}", if both { "" } else { "a_to_b." }), why);
        }
        for (field, why) in ba.iter().filter(|(f, _)| !ab.iter().any(|(g, _)| g == f)) {
            no(format!("links[{i}].b_to_a.{field}"), why);
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
        let profile_buffer = match cfg.profile {
            Profile::Rfc => TcpConfig::default().recv_buffer,
            Profile::Linux => TcpConfig::linux().recv_buffer,
        };
        if cfg.recv_buffer != profile_buffer {
            let field = config_field(model, i, "recv_buffer_bytes");
            no(
                field,
                "a receive buffer is not played on the kernel: its buffer and window follow SO_RCVBUF (doubled), \
                 tcp_rmem and rmem_max (tcp_select_initial_window), not the profile's fixed buffer",
            );
        }
        if cfg.congestion_control == CongestionControl::None {
            // Configurations past the first come from an endpoint's own
            // `tcp` block.
            let field = config_field(model, i, "congestion_control");
            no(field, "the kernel always runs a congestion controller");
        }
    }
    out
}

/// The path of `field` in configuration `i`'s `tcp` block: the file's
/// own (`tcp.`, configuration 0) or the first endpoint's that has its own
/// (`listeners[0].tcp.`, `connections[1].peer.tcp.`).
fn config_field(model: &Model, i: usize, field: &str) -> String {
    let listener = model.listeners.iter().position(|l| l.config == i).map(|k| format!("listeners[{k}]."));
    let connection = || {
        model.connections.iter().enumerate().find_map(|(k, c)| {
            if c.config == i {
                Some(format!("connections[{k}]."))
            } else {
                c.peer.as_ref().filter(|p| p.config == i).map(|_| format!("connections[{k}].peer."))
            }
        })
    };
    let owner = if i == 0 { Some(String::new()) } else { listener.or_else(connection) };
    format!("{}tcp.{field}", owner.unwrap_or_default())
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

/// The kernel's congestion control for the tcpsim side's model: `reno`
/// when every endpoint runs NewReno (RFC 5681 + RFC 6582, as Linux's
/// `reno` module does), otherwise `cubic` (the `linux` profile's).
pub fn controller(model: &Model) -> &'static str {
    if model.configs.iter().all(|c| c.congestion_control == CongestionControl::NewReno) { "reno" } else { "cubic" }
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

    /// A receive buffer the file sets is not played: the kernel's buffer
    /// and the window it offers from it follow SO_RCVBUF doubling,
    /// `tcp_rmem` and `rmem_max` (tcp_select_initial_window), not the
    /// profile's fixed buffer, so both paths would differ for that alone.
    #[test]
    fn a_receive_buffer_set_by_the_file_is_named() {
        let text = PLAIN.replace("tcp: (msl_ms: 1000)", "tcp: (msl_ms: 1000, profile: linux, recv_buffer_bytes: 8192)");
        let fields: Vec<String> = supported(&load(&text)).into_iter().map(|u| u.field).collect();
        assert_eq!(fields, ["tcp.recv_buffer_bytes"]);
        let text =
            PLAIN.replace("tcp: (msl_ms: 1000)", "tcp: (msl_ms: 1000, profile: linux, recv_buffer_bytes: 131072)");
        assert_eq!(supported(&load(&text)), vec![], "the profile's own buffer is played");
    }

    /// Loss on one direction only is named at that direction's field.
    #[test]
    fn a_one_way_field_is_named_with_its_direction() {
        let text = PLAIN.replace("delay_ms: 10)", "delay_ms: 10, b_to_a: (loss: 0.02))");
        let fields: Vec<String> = supported(&load(&text)).into_iter().map(|u| u.field).collect();
        assert_eq!(fields, ["links[0].b_to_a.loss"]);
    }

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

    /// A link's `loss` applies to both directions, and is one field: it
    /// is named once, not once per direction.
    #[test]
    fn a_field_of_both_directions_is_named_once() {
        let text = PLAIN.replace("delay_ms: 10", "delay_ms: 10, loss: 0.1");
        let fields: Vec<String> = supported(&load(&text)).into_iter().map(|u| u.field).collect();
        assert_eq!(fields, vec!["links[0].loss".to_string()]);
    }
}
