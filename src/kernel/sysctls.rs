//! The kernel's settings beside the `linux` profile's: which sysctl each
//! profile value is, what the namespace's kernel has, and which the run
//! sets so that the kernel runs what the file says.
//!
//! The values come from [`crate::tcp::linux_sysctls`] (the profile's and
//! the file's configuration, in the kernel's units). A value the file
//! changes from the profile is written into the namespace; a kernel
//! default that differs from the profile's (another kernel version, a
//! distribution's choice) is marked and left as it is: the run then
//! compares tcpsim's profile with that kernel. A few settings the profile
//! does not model are read too (tail loss probes, RACK, receive buffer
//! autotuning), so the report can say they are on.

use crate::tcp::{Profile, TcpConfig, linux_sysctls};

/// Kernel settings the profile does not model, read to be printed.
pub const NOT_MODELLED: [(&str, &str); 5] = [
    ("net.ipv4.tcp_early_retrans", "tail loss probes (TLP, 3 and 4: on) are not modelled"),
    ("net.ipv4.tcp_recovery", "RACK loss detection (1: on) is not modelled"),
    ("net.ipv4.tcp_moderate_rcvbuf", "receive buffer autotuning is not modelled"),
    ("net.ipv4.tcp_wmem", "the send buffer is not modelled (tcpsim's application never waits for room)"),
    ("net.core.rmem_max", "with tcp_rmem[2], the window scale tcp_select_initial_window offers"),
];

/// One setting: the kernel's value beside the profile's and the file's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysctlRow {
    /// The sysctl, dotted (`net.ipv4.tcp_fin_timeout`).
    pub key: &'static str,
    /// What the namespace's kernel has before the run sets anything
    /// (`None`: this kernel has no such sysctl).
    pub kernel: Option<String>,
    /// The `linux` profile's value (`None`: not modelled).
    pub profile: Option<String>,
    /// The file's value where it changes the profile's (`linux` profile
    /// only).
    pub file: Option<String>,
    /// What the profile does not model, for a setting it does not.
    pub note: Option<&'static str>,
}

impl SysctlRow {
    /// The kernel's default differs from the profile's.
    pub fn differs(&self) -> bool {
        match (&self.kernel, &self.profile) {
            (Some(k), Some(p)) => normal(k) != normal(p),
            (None, Some(_)) => true,
            _ => false,
        }
    }

    /// The value the run writes into the namespace: the file's, where it
    /// changes the profile's and the kernel has that sysctl.
    pub fn to_set(&self) -> Option<&str> {
        let (Some(k), Some(f)) = (&self.kernel, &self.file) else { return None };
        (normal(k) != normal(f)).then_some(f.as_str())
    }
}

/// Whitespace-insensitive (the kernel separates `tcp_rmem`'s numbers by
/// tabs).
fn normal(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The rows for an endpoint configuration `cfg`, with `read` giving the
/// namespace's value of a sysctl (`None` when it has none).
pub fn rows(cfg: &TcpConfig, read: impl Fn(&str) -> Option<String>) -> Vec<SysctlRow> {
    let profile = linux_sysctls(&TcpConfig::linux());
    let mine = if cfg.profile == Profile::Linux { linux_sysctls(cfg) } else { Vec::new() };
    let mut keys: Vec<&'static str> = profile.iter().map(|(k, _)| *k).collect();
    for (k, _) in &mine {
        if !keys.contains(k) {
            keys.push(k);
        }
    }
    let find =
        |list: &[(&'static str, String)], key: &str| list.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone());
    let mut out: Vec<SysctlRow> = keys
        .into_iter()
        .map(|key| {
            let p = find(&profile, key);
            let file = find(&mine, key).filter(|f| p.as_deref().is_none_or(|p| normal(p) != normal(f)));
            SysctlRow { key, kernel: read(key), profile: p, file, note: None }
        })
        .collect();
    for (key, why) in NOT_MODELLED {
        out.push(SysctlRow { key, kernel: read(key), profile: None, file: None, note: Some(why) });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;

    /// Linux 6.18's own values (as a 6.18 machine reports them), with one
    /// changed: `tcp_syn_linear_timeouts` 0, as before 6.15.
    fn kernel(key: &str) -> Option<String> {
        let v = match key {
            "net.ipv4.tcp_rmem" => "4096\t131072\t33554432",
            "net.ipv4.tcp_syn_linear_timeouts" => "0",
            "net.ipv4.tcp_fin_timeout" => "60",
            "net.ipv4.tcp_syn_retries" => "6",
            _ => return None,
        };
        Some(v.to_string())
    }

    /// The file's `linux_fin_wait_2_timeout_ms: 2000` is `tcp_fin_timeout`
    /// 2 (seconds; ip-sysctl.rst), written into the namespace; a kernel
    /// default unlike the profile's is marked, not changed.
    #[test]
    fn the_files_values_are_set_and_other_kernels_marked() {
        let cfg = TcpConfig { linux_fin_wait_2_timeout: Some(Duration::from_secs(2)), ..TcpConfig::linux() };
        let rows = rows(&cfg, kernel);
        let row = |k: &str| rows.iter().find(|r| r.key == k).unwrap_or_else(|| panic!("{k}: {rows:#?}"));
        let fin = row("net.ipv4.tcp_fin_timeout");
        assert_eq!((fin.profile.as_deref(), fin.file.as_deref(), fin.to_set()), (Some("60"), Some("2"), Some("2")));
        let linear = row("net.ipv4.tcp_syn_linear_timeouts");
        assert!(linear.differs() && linear.to_set().is_none(), "{linear:?}");
        let rmem = row("net.ipv4.tcp_rmem");
        assert!(!rmem.differs() && rmem.to_set().is_none(), "tabs and spaces alike: {rmem:?}");
        assert!(!row("net.ipv4.tcp_syn_retries").differs());
        // Every value the profile models is listed (docs/linux.md).
        for key in [
            "net.ipv4.tcp_synack_retries",
            "net.ipv4.tcp_retries2",
            "net.ipv4.tcp_window_scaling",
            "net.ipv4.tcp_sack",
            "net.ipv4.tcp_timestamps",
            "net.ipv4.tcp_rfc1337",
            "net.ipv4.tcp_invalid_ratelimit",
            "net.ipv4.tcp_congestion_control",
            "net.ipv4.tcp_rto_min_us",
            "net.ipv4.tcp_early_retrans",
            "net.ipv4.tcp_recovery",
        ] {
            row(key);
        }
    }

    /// Under `rfc` nothing is written: the kernel keeps its own defaults.
    #[test]
    fn the_rfc_profile_sets_nothing() {
        let rows = rows(&TcpConfig::default(), kernel);
        assert!(rows.iter().all(|r| r.to_set().is_none()), "{rows:#?}");
    }
}
