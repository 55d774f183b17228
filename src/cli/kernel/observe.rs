//! What the kernel says about its sockets: the tracepoint
//! `sock:inet_sock_set_state` in a private tracefs instance (exact state
//! changes of full sockets, timestamped on `CLOCK_MONOTONIC`), and
//! sock_diag (`NETLINK_SOCK_DIAG` dumps) for what the tracepoint never
//! shows: timewait sockets with their timers, and request sockets.

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use tcpsim::kernel::path::LinuxState;

/// One state change the tracepoint reported.
#[derive(Clone, Copy, Debug)]
pub struct TraceLine {
    /// `CLOCK_MONOTONIC` nanoseconds (microsecond resolution).
    pub at_ns: u64,
    /// The socket's local address.
    pub local: SocketAddrV4,
    /// Its remote address (0.0.0.0:0 for a listener).
    pub remote: SocketAddrV4,
    /// The state before.
    pub from: LinuxState,
    /// The state after.
    pub to: LinuxState,
}

/// A tracefs mount of this run's own, when none is mounted: unmounted
/// and removed on drop.
struct OwnMount(PathBuf);

impl Drop for OwnMount {
    fn drop(&mut self) {
        let dir = self.0.display().to_string();
        if let Err(e) = super::netns::helper("umount", &[&dir]) {
            stderrln!("tcpsim: warning: {e}");
        }
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// A private tracefs instance with `sock:inet_sock_set_state` on; removed
/// on drop.
pub struct TraceInstance {
    dir: PathBuf,
    pipe: Option<std::fs::File>,
    partial: String,
    // Dropped after the fields above (declaration order), so the
    // instance is gone before its mount.
    _mount: Option<OwnMount>,
}

impl TraceInstance {
    /// Creates `instances/NAME` under the mounted tracefs, or under a
    /// mount of its own (`/run/NAME-tracefs`) when tracefs is not mounted.
    pub fn create(name: &str) -> Result<TraceInstance, String> {
        let mounted = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.join("instances").is_dir());
        let (root, mount) = match mounted {
            Some(root) => (root, None),
            None => {
                let dir = PathBuf::from(format!("/run/{name}-tracefs"));
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("no tracefs: cannot create {}: {e}", dir.display()))?;
                let d = dir.display().to_string();
                if let Err(e) = super::netns::helper("mount", &["-t", "tracefs", "nodev", &d]) {
                    let _ = std::fs::remove_dir(&dir);
                    return Err(format!("no tracefs: {e}"));
                }
                (dir.clone(), Some(OwnMount(dir)))
            }
        };
        let dir = root.join("instances").join(name);
        std::fs::create_dir(&dir).map_err(|e| format!("cannot create the trace instance {}: {e}", dir.display()))?;
        let mut inst = TraceInstance { dir, pipe: None, partial: String::new(), _mount: mount };
        let event = inst.dir.join("events/sock/inet_sock_set_state/enable");
        if !event.exists() {
            return Err("the kernel has no tracepoint sock:inet_sock_set_state".into());
        }
        std::fs::write(inst.dir.join("trace_clock"), "mono").map_err(|e| format!("cannot set trace_clock: {e}"))?;
        std::fs::write(&event, "1").map_err(|e| format!("cannot enable sock:inet_sock_set_state: {e}"))?;
        let pipe = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(inst.dir.join("trace_pipe"))
            .map_err(|e| format!("cannot open trace_pipe: {e}"))?;
        inst.pipe = Some(pipe);
        Ok(inst)
    }

    /// Every complete line available now, parsed; others ignored.
    pub fn poll(&mut self) -> Vec<TraceLine> {
        let mut buf = [0u8; 16384];
        let Some(pipe) = self.pipe.as_mut() else { return Vec::new() };
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            self.partial.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        let mut out = Vec::new();
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            if let Some(t) = parse_line(&line) {
                out.push(t);
            }
        }
        out
    }
}

impl Drop for TraceInstance {
    fn drop(&mut self) {
        self.pipe = None;
        let _ = std::fs::write(self.dir.join("events/sock/inet_sock_set_state/enable"), "0");
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            stderrln!("tcpsim: warning: cannot remove the trace instance {}: {e}", self.dir.display());
        }
    }
}

/// `... 1234.567890: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP
/// sport=80 dport=40000 saddr=198.18.0.2 daddr=198.18.0.1 ... oldstate=TCP_LISTEN
/// newstate=TCP_SYN_RECV`
fn parse_line(line: &str) -> Option<TraceLine> {
    let (head, fields) = line.split_once(": inet_sock_set_state: ")?;
    let stamp = head.rsplit(' ').next()?;
    let (secs, micros) = stamp.split_once('.')?;
    let at_ns = secs.parse::<u64>().ok()? * 1_000_000_000 + micros.parse::<u64>().ok()? * 1_000;
    let get = |key: &str| fields.split_whitespace().find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='));
    if get("protocol") != Some("IPPROTO_TCP") || get("family") != Some("AF_INET") {
        return None;
    }
    let addr = |a: &str, p: &str| Some(SocketAddrV4::new(a.parse::<Ipv4Addr>().ok()?, p.parse().ok()?));
    Some(TraceLine {
        at_ns,
        local: addr(get("saddr")?, get("sport")?)?,
        remote: addr(get("daddr")?, get("dport")?)?,
        from: LinuxState::parse(get("oldstate")?)?,
        to: LinuxState::parse(get("newstate")?)?,
    })
}

/// A socket sock_diag listed.
#[derive(Clone, Copy, Debug)]
pub struct DiagSocket {
    /// Linux state number (`TCP_TIME_WAIT` = 6, `TCP_SYN_RECV` = 3); a
    /// timewait socket's substate (`TCP_FIN_WAIT2` = 5 for an orphan's
    /// FIN_WAIT_2).
    pub state: u8,
    /// `idiag_timer`: 3 for a timewait socket's timer.
    pub timer: u8,
    /// Local address.
    pub local: SocketAddrV4,
    /// Remote address.
    pub remote: SocketAddrV4,
    /// The pending timer's remaining time (`idiag_expires`), ms.
    pub expires_ms: u32,
}

/// Linux `TCP_SYN_RECV`.
pub const TCP_SYN_RECV: u8 = 3;
/// Linux `TCP_TIME_WAIT`.
pub const TCP_TIME_WAIT: u8 = 6;
/// Linux `TCP_FIN_WAIT2`.
pub const TCP_FIN_WAIT2: u8 = 5;
/// `idiag_timer` of a timewait socket (inet_diag.c
/// `inet_twsk_diag_fill`).
pub const TIMEWAIT_TIMER: u8 = 3;

/// A `NETLINK_SOCK_DIAG` socket of one namespace (made inside it).
pub struct Diag {
    fd: OwnedFd,
    seq: u32,
}

impl Diag {
    /// Opens the socket; call it on a thread inside the namespace.
    pub fn open() -> Result<Diag, String> {
        use rustix::net::{AddressFamily, SocketType, netlink, socket};
        let fd = socket(AddressFamily::NETLINK, SocketType::DGRAM, Some(netlink::SOCK_DIAG))
            .map_err(|e| format!("cannot open a sock_diag socket: {e}"))?;
        Ok(Diag { fd, seq: 0 })
    }

    /// The IPv4 TCP sockets in TIME_WAIT, FIN_WAIT2 and SYN_RECV
    /// (timewait sockets, whose substate the filter and the answer use,
    /// and request sockets).
    pub fn dump(&mut self) -> Result<Vec<DiagSocket>, String> {
        use rustix::net::{RecvFlags, SendFlags, netlink::SocketAddrNetlink, recv, sendto};
        self.seq += 1;
        // struct nlmsghdr + struct inet_diag_req_v2 (include/uapi/linux/inet_diag.h).
        let mut req = Vec::with_capacity(72);
        req.extend_from_slice(&72u32.to_ne_bytes());
        req.extend_from_slice(&20u16.to_ne_bytes()); // SOCK_DIAG_BY_FAMILY
        req.extend_from_slice(&(0x01u16 | 0x300).to_ne_bytes()); // NLM_F_REQUEST | NLM_F_DUMP
        req.extend_from_slice(&self.seq.to_ne_bytes());
        req.extend_from_slice(&0u32.to_ne_bytes());
        req.extend_from_slice(&[2, 6, 0, 0]); // AF_INET, IPPROTO_TCP, no extensions
        let states: u32 = 1 << TCP_TIME_WAIT | 1 << TCP_FIN_WAIT2 | 1 << TCP_SYN_RECV;
        req.extend_from_slice(&states.to_ne_bytes());
        req.extend_from_slice(&[0u8; 48]); // inet_diag_sockid: any
        sendto(&self.fd, &req, SendFlags::empty(), &SocketAddrNetlink::new(0, 0))
            .map_err(|e| format!("sock_diag request: {e}"))?;
        let mut out = Vec::new();
        let mut buf = vec![0u8; 32768];
        // A dump is a few datagrams; bound the loop anyway.
        for _ in 0..1000 {
            let (n, _) =
                recv(&self.fd, &mut buf[..], RecvFlags::empty()).map_err(|e| format!("sock_diag reply: {e}"))?;
            let mut at = 0;
            while at + 16 <= n {
                let len = u32::from_ne_bytes(buf[at..at + 4].try_into().expect("4 bytes")) as usize;
                let kind = u16::from_ne_bytes(buf[at + 4..at + 6].try_into().expect("2 bytes"));
                if len < 16 || at + len > n {
                    return Ok(out);
                }
                match kind {
                    3 => return Ok(out),                                        // NLMSG_DONE
                    2 => return Err("sock_diag answered with an error".into()), // NLMSG_ERROR
                    _ => {
                        if let Some(s) = parse_diag(&buf[at + 16..at + len]) {
                            out.push(s);
                        }
                    }
                }
                at += (len + 3) & !3;
            }
        }
        Ok(out)
    }
}

/// `struct inet_diag_msg`.
fn parse_diag(m: &[u8]) -> Option<DiagSocket> {
    if m.len() < 72 || m[0] != 2 {
        return None;
    }
    let port = |i: usize| u16::from_be_bytes([m[i], m[i + 1]]);
    let ip = |i: usize| Ipv4Addr::new(m[i], m[i + 1], m[i + 2], m[i + 3]);
    Some(DiagSocket {
        state: m[1],
        timer: m[2],
        local: SocketAddrV4::new(ip(8), port(4)),
        remote: SocketAddrV4::new(ip(24), port(6)),
        expires_ms: u32::from_ne_bytes(m[52..56].try_into().ok()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tracepoint_line_parses() {
        let line = "          <idle>-0       [001] ..s2.  4242.000123: inet_sock_set_state: family=AF_INET \
                    protocol=IPPROTO_TCP sport=80 dport=40000 saddr=198.18.0.2 daddr=198.18.0.1 \
                    saddrv6=::ffff:198.18.0.2 daddrv6=::ffff:198.18.0.1 oldstate=TCP_SYN_RECV newstate=TCP_ESTABLISHED\n";
        let t = parse_line(line).expect("parses");
        assert_eq!(t.at_ns, 4_242_000_123_000);
        assert_eq!(t.local, "198.18.0.2:80".parse().unwrap());
        assert_eq!(t.to, LinuxState::Established);
    }
}
