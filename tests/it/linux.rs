//! The `profile` setting: `rfc` changes nothing, `linux` brings Linux
//! 6.18's defaults (docs/linux.md), every one of them overridable, in the
//! file's `tcp` block, an endpoint's, or by `--set`.

use crate::util::{load, root};
use tcpsim::report::header_lines;
use tcpsim::tcp::{Profile, TcpConfig};
use tcpsim::time::Duration;

/// `--set tcp.profile=linux` starts the file's `tcp` block from Linux's
/// defaults and keeps the block's own fields over them (normal-close.ron
/// sets `msl_ms: 2000`).
#[test]
fn set_profile_linux_starts_from_linux_defaults_and_keeps_the_files_fields() {
    let model = load("sims/normal-close.ron", &[("tcp.profile", "linux")]);
    let expected = TcpConfig { msl: Duration::from_secs(2), ..TcpConfig::linux() };
    assert_eq!(model.configs, vec![expected]);
    assert_eq!(model.configs[0].time_wait_len(), Duration::from_secs(60), "TCP_TIMEWAIT_LEN, not 2 x MSL");
}

/// `profile: rfc` is the default: the same model as no profile at all.
#[test]
fn profile_rfc_is_the_default() {
    let plain = load("sims/normal-close.ron", &[]);
    let rfc = load("sims/normal-close.ron", &[("tcp.profile", "rfc")]);
    assert_eq!(plain.configs, rfc.configs);
    assert_eq!(plain.configs[0].profile, Profile::Rfc);
}

/// An endpoint's `profile` changes its defaults only; the file's `tcp`
/// fields still apply over them, and its own fields over those.
#[test]
fn an_endpoint_profile_keeps_the_files_fields_and_its_own() {
    let model = load("sims/normal-close.ron", &[("listeners[0].tcp", "(profile: linux, sack: false)")]);
    assert_eq!(model.configs.len(), 2);
    assert_eq!(model.configs[0].profile, Profile::Rfc);
    let server = &model.configs[model.listeners[0].config];
    let expected = TcpConfig { msl: Duration::from_secs(2), sack: false, ..TcpConfig::linux() };
    assert_eq!(server, &expected);
}

/// The header lists every value of the profile with its source, marks
/// what the file changed, and lists the RFC deviations beside them.
#[test]
fn the_header_lists_the_profiles_values_and_the_deviations() {
    let model = load("sims/normal-close.ron", &[("tcp.profile", "linux"), ("tcp.window_scale", "7")]);
    let header = header_lines(&model, "sims/normal-close.ron").join("\n");
    assert!(header.contains("tcp profile linux: window_scale 7: tcp_window_scaling 1"), "{header}");
    assert!(header.contains("(set by the file)"), "{header}");
    assert!(header.contains("tcp profile linux: sack on: tcp_sack 1\n"), "{header}");
    assert!(header.contains("tcp profile linux: congestion_control cubic: tcp_congestion_control cubic"), "{header}");
    assert!(header.contains("tcp profile linux: hystart on:"), "{header}");
    assert!(header.contains("tcp profile linux: initial_window_segments 10: TCP_INIT_CWND 10"), "{header}");
    assert!(!header.contains("not yet applied"), "{header}");
    for id in ["B-LNX-01", "B-LNX-02", "B-LNX-03", "B-LNX-04", "B-LNX-05", "B-LNX-07", "B-OPT-02"] {
        assert!(header.lines().any(|l| l.starts_with("RFC deviation:") && l.contains(id)), "{id}: {header}");
    }
}

/// An unknown profile is an error naming the field and the choices.
#[test]
fn an_unknown_profile_is_an_error() {
    let bytes = std::fs::read(root().join("sims/normal-close.ron")).unwrap();
    let o = tcpsim::scenario::Override { path: "tcp.profile".into(), value: "bsd".into() };
    let errors = tcpsim::scenario::load(&bytes, &[o]).expect_err("bsd is no profile");
    let text = format!("{errors:?}");
    assert!(text.contains("bsd") && text.contains("linux"), "{text}");
}
