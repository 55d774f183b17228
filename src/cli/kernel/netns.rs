//! Network namespaces, the helper commands that configure them, and the
//! clock every part of a kernel run shares.
//!
//! A namespace is created with `ip netns add` and removed when its
//! [`Netns`] guard drops, also on error and after Ctrl-C (the run loop
//! returns, and the guards drop before the process exits). Work inside a
//! namespace runs on a thread that first moves into it (`setns(2)`
//! through rustix): sockets and devices made there belong to the
//! namespace, and stay usable from any thread.

use rustix::thread::{LinkNameSpaceType, move_into_link_name_space};
use std::fs::File;
use std::os::fd::AsFd;
use std::process::Command;

/// Nanoseconds of `CLOCK_MONOTONIC`, the clock of the tracepoint (its
/// instance's `trace_clock` is `mono`), of the relay and of the apps.
pub fn now_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    (t.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(t.tv_nsec as u64)
}

/// Sleeps until `CLOCK_MONOTONIC` reaches `due_ns`, or `stop` is raised;
/// returns false when stopped.
pub fn sleep_until(due_ns: u64, stop: &std::sync::atomic::AtomicBool) -> bool {
    loop {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return false;
        }
        let now = now_ns();
        if now >= due_ns {
            return true;
        }
        // Short slices so a stop is seen within 20 ms.
        let ns = (due_ns - now).min(20_000_000);
        std::thread::sleep(std::time::Duration::from_nanos(ns));
    }
}

/// Runs a helper command; its stderr is the error.
pub fn helper(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `{program}`: {e} (install iproute2)"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("`{program} {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// A network namespace this run created; removed on drop.
pub struct Netns {
    /// Its name under `/run/netns`.
    pub name: String,
    file: File,
}

impl Netns {
    /// `ip netns add NAME`, and the handle `setns` needs.
    pub fn create(name: &str) -> Result<Netns, String> {
        helper("ip", &["netns", "add", name])?;
        match File::open(format!("/run/netns/{name}")) {
            Ok(file) => {
                let ns = Netns { name: name.to_string(), file };
                ns.ip(&["link", "set", "lo", "up"])?;
                Ok(ns)
            }
            Err(e) => {
                let _ = helper("ip", &["netns", "del", name]);
                Err(format!("cannot open /run/netns/{name}: {e}"))
            }
        }
    }

    /// `ip -n NAME ARGS...`
    pub fn ip(&self, args: &[&str]) -> Result<(), String> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        helper("ip", &all).map(|_| ())
    }

    /// Moves the calling thread into this namespace: call it first on a
    /// thread of its own.
    pub fn enter(&self) -> Result<(), String> {
        move_into_link_name_space(self.file.as_fd(), Some(LinkNameSpaceType::Network))
            .map_err(|e| format!("cannot enter network namespace {}: {e}", self.name))
    }

    /// Runs `f` on a thread inside this namespace and returns its result.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> Result<T, String> + Send) -> Result<T, String> {
        std::thread::scope(|s| {
            s.spawn(|| {
                self.enter()?;
                f()
            })
            .join()
            .unwrap_or_else(|_| Err("a thread inside the namespace panicked".to_string()))
        })
    }

    /// Sets a sysctl of this namespace (`/proc/sys` as seen from inside
    /// it) and reads it back.
    pub fn sysctl(&self, key: &str, value: &str) -> Result<String, String> {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        self.run(|| {
            std::fs::write(&path, value).map_err(|e| format!("cannot set {key} to {value}: {e}"))?;
            std::fs::read_to_string(&path).map(|s| s.trim().to_string()).map_err(|e| format!("cannot read {key}: {e}"))
        })
    }

    /// Reads a sysctl of this namespace.
    pub fn read_sysctl(&self, key: &str) -> Result<String, String> {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        self.run(|| std::fs::read_to_string(&path).map(|s| s.trim().to_string()).map_err(|e| format!("{key}: {e}")))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Err(e) = helper("ip", &["netns", "del", &self.name]) {
            stderrln!("tcpsim: warning: {e}");
        }
    }
}
