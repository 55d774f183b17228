//! The `linux` profile: the defaults of Linux 6.18 as one
//! [`TcpConfig`], each value with the kernel source or sysctl it comes
//! from, and the lines the run header prints for it (`docs/linux.md`).
//!
//! Linux behaviours that differ from RFC 9293 and RFC 6298 are named
//! options (`B-LNX-`, `B-OPT-`), each on in this profile and each a field
//! a file may set again; the `rfc` profile ([`TcpConfig::default`]) has
//! them all off.

use super::config::{CongestionControl, Profile, TcpConfig};
use crate::time::Duration;

/// Linux `TCP_RTO_MIN` (include/net/tcp.h): 200 ms.
pub const LINUX_RTO_MIN: Duration = Duration::from_millis(200);
/// Linux `TCP_RTO_MAX` (include/net/tcp.h): 120 s.
pub const LINUX_RTO_MAX: Duration = Duration::from_secs(120);
/// Linux `TCP_DELACK_MAX` (include/net/tcp.h): the longest an ACK waits,
/// 200 ms.
pub const LINUX_DELACK_MAX: Duration = Duration::from_millis(200);
/// Linux `TCP_ATO_MIN` and `TCP_DELACK_MIN` (include/net/tcp.h): 40 ms.
pub const LINUX_ATO_MIN: Duration = Duration::from_millis(40);
/// Linux `TCP_MAX_QUICKACKS` (include/net/tcp.h): at most 16 ACKs at
/// once in quick-ack mode.
pub const LINUX_MAX_QUICKACKS: u8 = 16;

/// Linux's `tcp_retries2` budget (tcp_timer.c, `tcp_model_timeout` as
/// `retransmits_timed_out` calls it): the time `boundary` retransmissions
/// take when the first RTO is `TCP_RTO_MIN` and each doubles up to
/// `TCP_RTO_MAX`: (2^(b+1) − 1) × 200 ms while the doubling stays below
/// 120 s (b ≤ ilog2(120 s / 200 ms) = 9), then 120 s for each one more.
/// For the default 15: 1023 × 200 ms + 6 × 120 s = 924.6 s.
pub fn linux_retries2_budget(boundary: u32) -> Duration {
    let base = LINUX_RTO_MIN.as_nanos();
    let thresh = (LINUX_RTO_MAX.as_nanos() / base).ilog2();
    if boundary <= thresh {
        Duration::from_nanos(((2u64 << boundary) - 1) * base)
    } else {
        let linear = ((2u64 << thresh) - 1) * base;
        let rest = u64::from(boundary - thresh).saturating_mul(LINUX_RTO_MAX.as_nanos());
        Duration::from_nanos(linear.saturating_add(rest))
    }
}

/// The window scale Linux offers for a receive buffer the application
/// sets (`SO_RCVBUF`, which locks it): the window clamp is then that
/// buffer (tcp_output.c `tcp_connect_init`, `tcp_full_space`), and
/// `tcp_select_initial_window` offers
/// `ilog2(min(max(space, tcp_rmem[2]), window_clamp)) - 15`, at least 0
/// and at most 14: 0 below 64 KiB, where an autotuned socket gets 10 from
/// `tcp_rmem[2]`.
pub fn linux_locked_window_scale(recv_buffer: u32) -> u8 {
    (i64::from(recv_buffer.max(1).ilog2()) - 15).clamp(0, 14) as u8
}

impl TcpConfig {
    /// The defaults of Linux 6.18, each from the kernel source or sysctl
    /// named beside it (Documentation/networking/ip-sysctl.rst,
    /// include/net/tcp.h, net/ipv4/tcp_input.c, tcp_output.c,
    /// tcp_timer.c). Every value is a field a file may set again.
    pub fn linux() -> TcpConfig {
        TcpConfig {
            profile: Profile::Linux,
            // tcp_timeout_init: TCP_TIMEOUT_INIT, 1 s (include/net/tcp.h).
            rto_initial: Duration::from_secs(1),
            // TCP_RTO_MIN 200 ms: the floor on the variance term
            // (tcp_rtt_estimator's mdev_max; B-LNX-01).
            rto_min: LINUX_RTO_MIN,
            // TCP_RTO_MAX 120 s (tcp_rto_max_ms defaults to it).
            rto_max: LINUX_RTO_MAX,
            linux_rto: true,
            // tcp_syn_retries 6 and tcp_syn_linear_timeouts 4
            // (ip-sysctl.rst; tcp_write_timeout, tcp_retransmit_timer):
            // SYNs at 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s, give-up at 131 s.
            r2_syn: Some(6),
            syn_linear_timeouts: 4,
            // tcp_synack_retries 5 (reqsk_timer_handler): SYN,ACKs at 0,
            // 1, 3, 7, 15, 31 s, give-up at 63 s.
            synack_retries: Some(5),
            // tcp_retries2 15 as a time budget, 924.6 s (B-LNX-04).
            r2: Some(15),
            linux_retries2: true,
            // tcp_retries1 3: after it Linux only re-checks the route
            // (tcp_write_timeout); the warning stays at 3.
            r1: 3,
            // TCP_TIMEWAIT_LEN 60 s (B-OPT-02).
            linux_time_wait: true,
            // tcp_fin_timeout 60 s for orphans (B-OPT-01).
            linux_fin_wait_2_timeout: Some(Duration::from_secs(60)),
            // tcp_rfc1337 0.
            rfc1337: false,
            // RFC 5961 (tcp_validate_incoming, tcp_send_challenge_ack),
            // one challenge ACK per 500 ms per socket (tcp_invalid_ratelimit
            // 500; tcp_challenge_ack_limit is INT_MAX since 6.0: no
            // global limit).
            rfc5961: true,
            challenge_ack_interval: Some(Duration::from_millis(500)),
            // TCP_ATO_MIN 40 ms up to TCP_DELACK_MAX 200 ms, quick-ack
            // mode first (tcp_event_data_recv, __tcp_ack_snd_check,
            // tcp_send_delayed_ack; B-LNX-05, B-LNX-06).
            delayed_ack: Some(LINUX_ATO_MIN),
            linux_delayed_ack: true,
            // tcp_window_scaling 1; tcp_select_initial_window offers
            // ilog2(max(tcp_rmem[2], rmem_max)) − 15: tcp_rmem[2] is
            // 32 MiB, so 25 − 15 = 10.
            window_scale: Some(10),
            // tcp_timestamps 1, a 1 ms clock (tcp_clock_ms, TCP_TS_HZ).
            timestamps: true,
            ts_tick: Duration::from_millis(1),
            // tcp_sack 1.
            sack: true,
            // Linux leaves duplicate-ACKed (SACKed) segments out of what
            // is in flight (tcp_packets_in_flight in the Disorder state),
            // so each of the first duplicate ACKs lets one new segment
            // go: RFC 3042's limited transmit.
            limited_transmit: true,
            // A fixed buffer stands in for autotuning (not modelled):
            // tcp_rmem[1], 131072 bytes, the buffer a socket starts with.
            recv_buffer: 131_072,
            // tcp_congestion_control "cubic" (the kernel's default,
            // CONFIG_DEFAULT_TCP_CONG) with tcp_cubic.c's hystart=1
            // (B-CC-10, B-CC-11).
            congestion_control: CongestionControl::Cubic,
            hystart: true,
            // TCP_INIT_CWND 10 (include/net/tcp.h; tcp_init_cwnd): ten
            // segments whatever the MSS (B-CC-01; RFC 6928).
            initial_window_segments: Some(10),
            // tcp_init_transfer: cwnd 1 after more than one SYN or
            // SYN,ACK retransmission unless undone (B-LNX-08);
            // tcp_check_req: a retransmitted SYN gets the SYN,ACK again
            // (inet_rtx_syn_ack; B-LNX-09).
            linux_handshake: true,
            ..TcpConfig::default()
        }
    }
}

/// One line per value of the `linux` profile as `c` has it: the value,
/// where Linux takes it from, and `(set by the file)` where `c` differs
/// from the profile's default. Empty for another profile. The header
/// prints these beside the RFC deviations.
pub fn linux_profile_lines(c: &TcpConfig) -> Vec<String> {
    if c.profile != Profile::Linux {
        return Vec::new();
    }
    let d = TcpConfig::linux();
    let mark = |same: bool| if same { "" } else { " (set by the file)" };
    let onoff = |b: bool| if b { "on" } else { "off" };
    let opt_ms = |x: Option<Duration>| x.map_or("off".to_string(), |x| x.to_string());
    let limit = |x: Option<u32>| x.map_or("infinite".to_string(), |n| n.to_string());
    let mut lines = vec![
        "Linux 6.18 defaults (docs/linux.md); not modelled: tail loss probes (TLP), RACK, receive buffer autotuning"
            .to_string(),
    ];
    let mut add = |what: String, source: &str, same: bool| lines.push(format!("{what}: {source}{}", mark(same)));
    add(
        format!("window_scale {}", c.window_scale.map_or("off".into(), |s| s.to_string())),
        "tcp_window_scaling 1; tcp_select_initial_window: ilog2(tcp_rmem[2] 32 MiB) - 15",
        c.window_scale == d.window_scale,
    );
    add(format!("sack {}", onoff(c.sack)), "tcp_sack 1", c.sack == d.sack);
    add(
        format!("timestamps {} (tick {})", onoff(c.timestamps), c.ts_tick),
        "tcp_timestamps 1, 1 ms clock (TCP_TS_HZ)",
        c.timestamps == d.timestamps && c.ts_tick == d.ts_tick,
    );
    add(
        format!("limited_transmit {}", onoff(c.limited_transmit)),
        "tcp_packets_in_flight leaves duplicate-ACKed segments out",
        c.limited_transmit == d.limited_transmit,
    );
    add(
        format!("recv_buffer {} bytes", c.recv_buffer),
        "tcp_rmem[1]; fixed: receive buffer autotuning not modelled",
        c.recv_buffer == d.recv_buffer,
    );
    add(
        format!("linux_rto {} (rto_min {} on the variance term)", onoff(c.linux_rto), c.rto_min),
        "tcp_rtt_estimator, __tcp_set_rto, TCP_RTO_MIN (B-LNX-01)",
        c.linux_rto == d.linux_rto && c.rto_min == d.rto_min,
    );
    add(format!("rto_initial {}", c.rto_initial), "TCP_TIMEOUT_INIT", c.rto_initial == d.rto_initial);
    add(format!("rto_max {}", c.rto_max), "TCP_RTO_MAX (tcp_rto_max_ms)", c.rto_max == d.rto_max);
    add(
        format!("r2_syn {} + syn_linear_timeouts {}", limit(c.r2_syn), c.syn_linear_timeouts),
        "tcp_syn_retries 6, tcp_syn_linear_timeouts 4: SYNs at 0,1,2,3,4,5,7,11,19,35,67 s, give-up 131 s (B-LNX-02)",
        c.r2_syn == d.r2_syn && c.syn_linear_timeouts == d.syn_linear_timeouts,
    );
    add(
        format!("synack_retries {}", limit(c.synack_retries.or(c.r2_syn))),
        "tcp_synack_retries 5: give-up 63 s (B-LNX-03)",
        c.synack_retries == d.synack_retries,
    );
    let budget = match (c.linux_retries2, c.r2) {
        (true, Some(n)) => format!(", a budget of {}", linux_retries2_budget(n)),
        _ => String::new(),
    };
    add(
        format!("r2 {}{budget}", limit(c.r2)),
        "tcp_retries2 15, a time budget (retransmits_timed_out, tcp_model_timeout; B-LNX-04)",
        c.r2 == d.r2 && c.linux_retries2 == d.linux_retries2,
    );
    add(
        format!("delayed_ack {} (linux_delayed_ack {})", opt_ms(c.delayed_ack), onoff(c.linux_delayed_ack)),
        "TCP_ATO_MIN 40 ms to TCP_DELACK_MAX 200 ms, TCP_MAX_QUICKACKS 16 (B-LNX-05, B-LNX-06)",
        c.delayed_ack == d.delayed_ack && c.linux_delayed_ack == d.linux_delayed_ack,
    );
    add(
        format!("linux_handshake {}", onoff(c.linux_handshake)),
        "tcp_init_transfer: cwnd 1 after 2 SYN retransmissions; tcp_check_req: SYN,ACK again (B-LNX-08, B-LNX-09)",
        c.linux_handshake == d.linux_handshake,
    );
    add(
        format!("time_wait {}", c.time_wait_len()),
        "TCP_TIMEWAIT_LEN (B-OPT-02)",
        c.time_wait_len() == d.time_wait_len(),
    );
    add(
        format!("linux_fin_wait_2_timeout {}", opt_ms(c.linux_fin_wait_2_timeout)),
        "tcp_fin_timeout 60 (B-OPT-01)",
        c.linux_fin_wait_2_timeout == d.linux_fin_wait_2_timeout,
    );
    add(
        format!("rfc5961 {}, challenge_ack_interval {}", onoff(c.rfc5961), opt_ms(c.challenge_ack_interval)),
        "tcp_invalid_ratelimit 500; tcp_challenge_ack_limit INT_MAX since 6.0 (B-OPT-04..06, B-LNX-07)",
        c.rfc5961 == d.rfc5961 && c.challenge_ack_interval == d.challenge_ack_interval,
    );
    add(format!("rfc1337 {}", onoff(c.rfc1337)), "tcp_rfc1337 0", c.rfc1337 == d.rfc1337);
    add(
        format!("congestion_control {}", c.congestion_control.name()),
        "tcp_congestion_control cubic (B-CC-02..09)",
        c.congestion_control == d.congestion_control,
    );
    add(format!("hystart {}", onoff(c.hystart)), "tcp_cubic.c hystart 1 (B-CC-10, B-CC-11)", c.hystart == d.hystart);
    add(
        format!(
            "initial_window_segments {}",
            c.initial_window_segments.map_or("RFC 5681".to_string(), |n| n.to_string())
        ),
        "TCP_INIT_CWND 10 (B-CC-01)",
        c.initial_window_segments == d.initial_window_segments,
    );
    lines
}

/// The sysctls (under `/proc/sys/`, dotted) a Linux kernel would need for
/// `c`'s values, each with the value in the kernel's own units, in the
/// order of docs/linux.md: what `tcpsim kernel` compares with the
/// namespaces' own. `tcp_rmem` is written space-separated (the kernel
/// separates its three numbers by tabs): 4096, the receive buffer, and
/// the maximum that makes `tcp_select_initial_window` offer the window
/// scale (2^(shift + 15)). A value with no kernel equivalent is left out:
/// `congestion_control: none`, an infinite `r2` or `r2_syn`, a window
/// scale of 0 or a buffer the kernel would size otherwise.
pub fn linux_sysctls(c: &TcpConfig) -> Vec<(&'static str, String)> {
    let flag = |b: bool| u8::from(b).to_string();
    let mut out = vec![
        ("net.ipv4.tcp_window_scaling", flag(c.window_scale.is_some())),
        ("net.ipv4.tcp_sack", flag(c.sack)),
        ("net.ipv4.tcp_timestamps", flag(c.timestamps)),
    ];
    if let Some(shift) = c.window_scale.filter(|s| *s > 0) {
        out.push(("net.ipv4.tcp_rmem", format!("4096 {} {}", c.recv_buffer, 1u64 << (u32::from(shift) + 15))));
    }
    out.push(("net.ipv4.tcp_rto_min_us", (c.rto_min.as_nanos() / 1000).to_string()));
    out.push(("net.ipv4.tcp_rto_max_ms", (c.rto_max.as_nanos() / 1_000_000).to_string()));
    if let Some(n) = c.r2_syn {
        out.push(("net.ipv4.tcp_syn_retries", n.to_string()));
    }
    out.push(("net.ipv4.tcp_syn_linear_timeouts", c.syn_linear_timeouts.to_string()));
    if let Some(n) = c.synack_retries.or(c.r2_syn) {
        out.push(("net.ipv4.tcp_synack_retries", n.to_string()));
    }
    out.push(("net.ipv4.tcp_retries1", c.r1.to_string()));
    if let Some(n) = c.r2 {
        out.push(("net.ipv4.tcp_retries2", n.to_string()));
    }
    if let Some(t) = c.linux_fin_wait_2_timeout {
        out.push(("net.ipv4.tcp_fin_timeout", (t.as_nanos() / 1_000_000_000).to_string()));
    }
    out.push(("net.ipv4.tcp_rfc1337", flag(c.rfc1337)));
    if let Some(t) = c.challenge_ack_interval {
        out.push(("net.ipv4.tcp_invalid_ratelimit", (t.as_nanos() / 1_000_000).to_string()));
        // No global limit: INT_MAX, the default since 6.0.
        out.push(("net.ipv4.tcp_challenge_ack_limit", i32::MAX.to_string()));
    }
    match c.congestion_control {
        CongestionControl::NewReno => out.push(("net.ipv4.tcp_congestion_control", "reno".into())),
        CongestionControl::Cubic => out.push(("net.ipv4.tcp_congestion_control", "cubic".into())),
        CongestionControl::None => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tcp_select_initial_window under a locked buffer: 1000 bytes and
    /// 65535 give shift 0 (ilog2 below 15), 131072 = 2^17 gives 2, and
    /// 32 MiB = 2^25 gives 10, as tcp_rmem[2] does for autotuned sockets.
    #[test]
    fn a_locked_buffer_chooses_its_own_window_scale() {
        assert_eq!(linux_locked_window_scale(1000), 0);
        assert_eq!(linux_locked_window_scale(65535), 0);
        assert_eq!(linux_locked_window_scale(131_072), 2);
        assert_eq!(linux_locked_window_scale(1 << 25), 10);
        assert_eq!(linux_locked_window_scale(u32::MAX), 14, "TCP_MAX_WSCALE");
    }

    /// B-LNX-04: tcp_model_timeout by hand: boundary 15 with a 200 ms
    /// base: ilog2(120 s / 200 ms) = ilog2(600) = 9, so (2^10 - 1) x 200 ms
    /// = 204.6 s, plus (15 - 9) x 120 s = 720 s: 924.6 s. Boundary 3 is
    /// linear: (2^4 - 1) x 200 ms = 3 s; boundary 9 is (2^10 - 1) x 200 ms.
    #[test]
    fn the_retries2_budget_is_tcp_model_timeout() {
        assert_eq!(linux_retries2_budget(15), Duration::from_millis(924_600));
        assert_eq!(linux_retries2_budget(3), Duration::from_secs(3));
        assert_eq!(linux_retries2_budget(9), Duration::from_millis(204_600));
        assert_eq!(linux_retries2_budget(10), Duration::from_millis(324_600));
    }

    /// The profile's values are what the kernel defaults give (see the
    /// comments in `TcpConfig::linux`), and every one of them is in the
    /// header's lines, none marked as set by the file.
    #[test]
    fn the_linux_profile_lists_each_value_with_its_source() {
        let c = TcpConfig::linux();
        assert_eq!(c.window_scale, Some(10));
        assert_eq!(c.rto_min, Duration::from_millis(200));
        assert_eq!(c.rto_max, Duration::from_secs(120));
        assert_eq!((c.r2_syn, c.syn_linear_timeouts, c.synack_retries), (Some(6), 4, Some(5)));
        assert_eq!(c.time_wait_len(), Duration::from_secs(60));
        let lines = linux_profile_lines(&c);
        assert!(lines.iter().all(|l| !l.contains("set by the file")), "{lines:#?}");
        assert!(lines.iter().any(|l| l.starts_with("r2 15, a budget of 924600 ms")), "{lines:#?}");
        let changed = TcpConfig { sack: false, ..c };
        assert!(
            linux_profile_lines(&changed)
                .iter()
                .any(|l| l.starts_with("sack off:") && l.ends_with("(set by the file)"))
        );
        assert!(linux_profile_lines(&TcpConfig::default()).is_empty());
    }

    /// The sysctls of the profile are Linux 6.18's defaults (as a 6.18
    /// machine reports them).
    #[test]
    fn the_linux_profile_names_the_kernels_sysctl_values() {
        let sysctls = linux_sysctls(&TcpConfig::linux());
        let get = |name: &str| sysctls.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        assert_eq!(get("net.ipv4.tcp_rmem"), Some("4096 131072 33554432"));
        assert_eq!(get("net.ipv4.tcp_syn_retries"), Some("6"));
        assert_eq!(get("net.ipv4.tcp_syn_linear_timeouts"), Some("4"));
        assert_eq!(get("net.ipv4.tcp_synack_retries"), Some("5"));
        assert_eq!(get("net.ipv4.tcp_retries2"), Some("15"));
        assert_eq!(get("net.ipv4.tcp_fin_timeout"), Some("60"));
        assert_eq!(get("net.ipv4.tcp_invalid_ratelimit"), Some("500"));
        assert_eq!(get("net.ipv4.tcp_rto_min_us"), Some("200000"));
        assert_eq!(get("net.ipv4.tcp_rto_max_ms"), Some("120000"));
        assert_eq!(get("net.ipv4.tcp_congestion_control"), Some("cubic"));
    }
}
