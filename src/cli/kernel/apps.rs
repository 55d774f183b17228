//! The applications of a kernel run: each endpoint's script played with
//! real sockets inside its host's namespace, at the script's times on the
//! shared clock.
//!
//! CLOSE is close(2) where tcpsim models the Linux orphan timeout
//! (B-OPT-01: an orphan's FIN_WAIT_2 ends after `tcp_fin_timeout`) and
//! the endpoint receives no data after it; otherwise `shutdown(SHUT_WR)`:
//! RFC 9293's CLOSE means "no more to send" (§3.10.4) and the endpoint
//! goes on receiving, where Linux resets an orphan that receives data
//! (`full_close` in the run says which).
//! Every socket stays open until the run ends, whatever its script and
//! the peer do: only the script's CLOSE sends a FIN (B-CLOSE-12: CLOSE_WAIT
//! lasts until the application closes).

use super::netns::{Netns, now_ns, sleep_until};
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tcpsim::model::{Action, App, Reaction, Timed};

/// How an endpoint opens.
#[derive(Clone, Debug)]
pub enum Open {
    /// Active OPEN from `local` (port 0: ephemeral) to `remote`.
    Connect {
        /// Where it binds.
        local: SocketAddrV4,
        /// Where it connects.
        remote: SocketAddrV4,
    },
    /// Accepted by listener `listener` from the endpoint `client`.
    Accept {
        /// Index into the run's listeners.
        listener: usize,
        /// The active endpoint it serves (index into the run's endpoints).
        client: usize,
        /// Its script's times count from the accept (a listener's
        /// connection, from its establishment), not from the run's start.
        from_accept: bool,
    },
}

/// One endpoint of the run.
#[derive(Clone, Debug)]
pub struct EndpointPlan {
    /// Its name in the file.
    pub name: String,
    /// Its connection.
    pub conn: u32,
    /// Its host (0 or 1).
    pub host: usize,
    /// How it opens.
    pub open: Open,
    /// What its application does.
    pub app: App,
    /// Its configuration (index into the model's).
    pub config: usize,
    /// CLOSE is close(2) (an orphan, whose FIN_WAIT_2 `tcp_fin_timeout`
    /// ends), not shutdown(SHUT_WR); see `full_close` in the run.
    pub full_close: bool,
}

/// One listening socket of the run.
#[derive(Clone, Debug)]
pub struct ListenerPlan {
    /// Its host (0 or 1).
    pub host: usize,
    /// Address and port.
    pub addr: SocketAddrV4,
    /// `listen(2)` backlog.
    pub backlog: i32,
    /// When it listens, from the run's start.
    pub listen_at_ns: u64,
}

/// What happened to one endpoint's socket.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Local address, once bound or accepted.
    pub local: Option<SocketAddrV4>,
    /// Remote address.
    pub remote: Option<SocketAddrV4>,
    /// When `connect()` was called.
    pub connect_ns: Option<u64>,
    /// When `connect()` failed, its errno and message.
    pub connect_error: Option<(u64, Option<i32>, String)>,
    /// When `accept()` returned it.
    pub accepted_ns: Option<u64>,
    /// Its script and reactions are all played (or cannot be).
    pub done: bool,
    /// Calls that failed, for the report.
    pub notes: Vec<String>,
}

/// The endpoints' outcomes, shared with the run loop and the relay's
/// address table.
pub struct Apps {
    /// Per endpoint, in plan order.
    pub outcomes: Mutex<Vec<Outcome>>,
    /// Raised to end every app thread.
    pub stop: AtomicBool,
}

impl Apps {
    fn update(&self, ep: usize, f: impl FnOnce(&mut Outcome)) {
        f(&mut self.outcomes.lock().expect("outcomes")[ep]);
    }
}

/// Everything an app thread needs.
pub struct Ctx {
    /// The shared outcomes.
    pub apps: Arc<Apps>,
    /// The run's start on the shared clock.
    pub t0_ns: u64,
    /// The congestion controller to set on each socket (`TCP_CONGESTION`)
    /// when the namespace's default cannot be set to it.
    pub socket_cc: Option<String>,
}

/// A TCP socket, with the run's congestion controller when it is set per
/// socket (an accepted socket inherits its listener's).
fn new_socket(ctx: &Ctx) -> std::io::Result<Socket> {
    let s = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    if let Some(cc) = &ctx.socket_cc {
        s.set_tcp_congestion(cc.as_bytes())?;
    }
    Ok(s)
}

/// An endpoint's socket, shared by its script and its reader. Each takes
/// a handle for one call at a time, so taking the socket out of the slot
/// (a CLOSE played as close(2)) closes it as soon as the reader's read
/// returns, which a shutdown(SHUT_RD) makes at once.
#[derive(Clone)]
struct Slot(Arc<Mutex<Option<Arc<Socket>>>>);

impl Slot {
    fn new(sock: Socket) -> Slot {
        Slot(Arc::new(Mutex::new(Some(Arc::new(sock)))))
    }

    /// The socket, unless it was closed.
    fn get(&self) -> Option<Arc<Socket>> {
        self.0.lock().expect("socket slot").clone()
    }

    /// close(2): the last handle goes once the reader lets go.
    fn close(&self) -> std::io::Result<()> {
        let sock = self.0.lock().expect("socket slot").take();
        match sock {
            Some(s) => s.shutdown(Shutdown::Read),
            None => Ok(()),
        }
    }
}

/// Starts every endpoint's and listener's thread inside its namespace.
/// Listeners that listen at time zero are listening when this returns.
pub fn start(
    ctx: &Arc<Ctx>,
    ns: &[Arc<Netns>; 2],
    plans: &Arc<Vec<EndpointPlan>>,
    listeners: &[ListenerPlan],
) -> Result<Vec<std::thread::JoinHandle<()>>, String> {
    let mut handles = Vec::new();
    for (li, l) in listeners.iter().enumerate() {
        let sock = if l.listen_at_ns == 0 {
            Some(ns[l.host].run(|| listen(ctx, l).map_err(|e| format!("listen on {}: {e}", l.addr)))?)
        } else {
            None
        };
        let (ctx, plans, l, netns) = (ctx.clone(), plans.clone(), l.clone(), ns[l.host].clone());
        handles.push(std::thread::spawn(move || {
            // The guard is let go at once: the run loop does not wait for
            // these threads (a connect() may block for minutes), and the
            // namespace is removed when the run's own guard drops.
            let entered = netns.enter();
            drop(netns);
            if entered.is_err() {
                return;
            }
            let sock = match sock {
                Some(s) => s,
                None => {
                    if !sleep_until(ctx.t0_ns + l.listen_at_ns, &ctx.apps.stop) {
                        return;
                    }
                    match listen(&ctx, &l) {
                        Ok(s) => s,
                        Err(_) => return,
                    }
                }
            };
            accept_loop(&ctx, &plans, li, &sock);
        }));
    }
    for (ep, plan) in plans.iter().enumerate() {
        if let Open::Connect { local, remote } = plan.open {
            let (ctx, plans, netns) = (ctx.clone(), plans.clone(), ns[plan.host].clone());
            handles.push(std::thread::spawn(move || {
                let entered = netns.enter();
                drop(netns);
                if entered.is_ok() {
                    active(&ctx, &plans[ep], ep, local, remote);
                }
                ctx.apps.update(ep, |o| o.done = true);
            }));
        }
    }
    Ok(handles)
}

fn listen(ctx: &Ctx, l: &ListenerPlan) -> std::io::Result<Socket> {
    let s = new_socket(ctx)?;
    s.set_reuse_address(true)?;
    s.bind(&l.addr.into())?;
    s.listen(l.backlog)?;
    // accept() honours SO_RCVTIMEO, so the loop sees a stop.
    s.set_read_timeout(Some(std::time::Duration::from_millis(20)))?;
    Ok(s)
}

fn accept_loop(ctx: &Arc<Ctx>, plans: &Arc<Vec<EndpointPlan>>, li: usize, sock: &Socket) {
    while !ctx.apps.stop.load(Ordering::Relaxed) {
        let Ok((conn, peer)) = sock.accept() else { continue };
        let at = now_ns();
        let Some(peer) = peer.as_socket_ipv4() else { continue };
        let clients: Vec<Option<SocketAddrV4>> =
            ctx.apps.outcomes.lock().expect("outcomes").iter().map(|o| o.local).collect();
        let served = plans.iter().position(|p| {
            matches!(p.open, Open::Accept { listener, client, .. } if listener == li && clients[client] == Some(peer))
        });
        let Some(ep) = served else { continue };
        let local = conn.local_addr().ok().and_then(|a| a.as_socket_ipv4());
        ctx.apps.update(ep, |o| {
            o.local = local;
            o.remote = Some(peer);
            o.accepted_ns = Some(at);
        });
        let (ctx, plans) = (ctx.clone(), plans.clone());
        std::thread::spawn(move || {
            let base = if matches!(plans[ep].open, Open::Accept { from_accept: true, .. }) { at } else { ctx.t0_ns };
            play(&ctx, &plans[ep], ep, Slot::new(conn), base, &[], false);
            ctx.apps.update(ep, |o| o.done = true);
        });
    }
}

fn active(ctx: &Arc<Ctx>, plan: &EndpointPlan, ep: usize, local: SocketAddrV4, remote: SocketAddrV4) {
    let Some(i) = plan.app.script.iter().position(|t| t.action == Action::Connect) else { return };
    if !sleep_until(ctx.t0_ns + plan.app.script[i].at.as_nanos(), &ctx.apps.stop) {
        return;
    }
    let sock = match new_socket(ctx).and_then(|s| {
        s.set_reuse_address(true)?;
        s.bind(&local.into())?;
        Ok(s)
    }) {
        Ok(s) => s,
        Err(e) => return ctx.apps.update(ep, |o| o.notes.push(format!("bind {local}: {e}"))),
    };
    let bound = sock.local_addr().ok().and_then(|a| a.as_socket_ipv4());
    let started = now_ns();
    ctx.apps.update(ep, |o| {
        o.local = bound;
        o.remote = Some(remote);
        o.connect_ns = Some(started);
    });
    // A non-blocking connect(): the script goes on while the handshake
    // is under way, so a Send scheduled in SYN_SENT is written at its
    // time. The socket is blocking again for that write, which waits in
    // tcp_sendmsg (sk_stream_wait_connect) with sk_write_pending raised:
    // tcp_rcv_synsent_state_process then saves the handshake's ACK and
    // the data carries it, as RFC 9293's queued SEND does (§3.10.2).
    let pending = sock.set_nonblocking(true).and_then(|()| match sock.connect(&remote.into()) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error()) => Ok(()),
        Err(e) => Err(e),
    });
    if let Err(e) = pending.and_then(|()| sock.set_nonblocking(false)) {
        let at = now_ns();
        return ctx.apps.update(ep, |o| o.connect_error = Some((at, e.raw_os_error(), e.to_string())));
    }
    play(ctx, plan, ep, Slot::new(sock), ctx.t0_ns, &plan.app.script[i + 1..], true);
}

/// Waits until a non-blocking connect() ends; false (and the error
/// recorded, at the time it was seen) when it failed or the run stopped.
fn connected(ctx: &Ctx, ep: usize, slot: &Slot) -> bool {
    use rustix::event::{PollFd, PollFlags, poll};
    let slice = rustix::time::Timespec { tv_sec: 0, tv_nsec: 20_000_000 };
    loop {
        if ctx.apps.stop.load(Ordering::Relaxed) {
            return false;
        }
        // Closed by the script while the handshake was under way.
        let Some(sock) = slot.get() else { return false };
        let mut fds = [PollFd::new(&*sock, PollFlags::OUT)];
        match poll(&mut fds, Some(&slice)) {
            Ok(0) | Err(rustix::io::Errno::INTR) => continue,
            Ok(_) => break,
            Err(e) => {
                let at = now_ns();
                ctx.apps.update(ep, |o| o.connect_error = Some((at, Some(e.raw_os_error()), e.to_string())));
                return false;
            }
        }
    }
    let at = now_ns();
    let Some(sock) = slot.get() else { return false };
    match sock.take_error() {
        Ok(None) => true,
        Ok(Some(e)) | Err(e) => {
            ctx.apps.update(ep, |o| o.connect_error = Some((at, e.raw_os_error(), e.to_string())));
            false
        }
    }
}

/// Plays the reactions to the connection and the script from `base_ns`
/// (the run's start for an active open, the accept for a passive one),
/// while a reader thread reads everything and plays the end-of-stream
/// reactions. With `connecting` (an active open under way) the reader
/// first waits for the handshake, and plays the reactions to the
/// connection once it is done; it reads nothing if connect() fails.
fn play(
    ctx: &Arc<Ctx>,
    plan: &EndpointPlan,
    ep: usize,
    slot: Slot,
    base_ns: u64,
    after_connect: &[Timed],
    connecting: bool,
) {
    let script: Vec<Timed> = if matches!(plan.open, Open::Accept { .. }) {
        plan.app.script.iter().filter(|t| t.action != Action::Listen).copied().collect()
    } else {
        after_connect.to_vec()
    };
    if let Some(sock) = slot.get() {
        let _ = sock.set_read_timeout(Some(std::time::Duration::from_millis(20)));
    }
    let full = plan.full_close;
    let reader = {
        let (ctx, slot, app) = (ctx.clone(), slot.clone(), plan.app.clone());
        std::thread::spawn(move || {
            if connecting {
                if !connected(&ctx, ep, &slot) {
                    return;
                }
                for r in &app.on_connected {
                    react(&ctx, ep, &slot, *r, full);
                }
            }
            let mut buf = vec![0u8; 65536];
            while !ctx.apps.stop.load(Ordering::Relaxed) {
                // No handle is kept between reads: a close(2) by the
                // script takes effect when this one returns.
                let Some(sock) = slot.get() else { return };
                let got = (&*sock).read(&mut buf);
                drop(sock);
                match got {
                    // The script's close(2) woke the read: no end of stream.
                    Ok(0) if slot.get().is_none() => return,
                    Ok(0) => {
                        for r in &app.on_end_of_stream {
                            react(&ctx, ep, &slot, *r, full);
                        }
                        return;
                    }
                    Ok(_) => {}
                    Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                    Err(_) => return,
                }
            }
        })
    };
    if !connecting {
        for r in &plan.app.on_connected {
            react(ctx, ep, &slot, *r, full);
        }
    }
    let mut last_was_send = false;
    for t in &script {
        let due = base_ns + t.at.as_nanos();
        if !sleep_until(due, &ctx.apps.stop) {
            break;
        }
        // A call made late moves every state it causes: say so, and why
        // when the call before was a send (a blocking write waits for the
        // kernel's send buffer, tcp_wmem, which tcpsim does not model).
        let late = now_ns().saturating_sub(due);
        if late > tcpsim::kernel::timing::OBSERVE_NS {
            let (due_ms, late_ms) = (due.saturating_sub(ctx.t0_ns) as f64 / 1e6, late as f64 / 1e6);
            let why = if last_was_send {
                "the send before it blocked on the kernel's send buffer (tcp_wmem, not modelled)"
            } else {
                "the call before it took that long"
            };
            let call = format!("{:?}", t.action);
            ctx.apps.update(ep, |o| {
                o.notes.push(format!("late call: {call} due at {due_ms:.3} ms was made {late_ms:.3} ms late: {why}"))
            });
        }
        last_was_send = matches!(t.action, Action::Send(_));
        match t.action {
            Action::Send(n) => react(ctx, ep, &slot, Reaction::Send(n), full),
            Action::Close => react(ctx, ep, &slot, Reaction::Close, full),
            other => ctx.apps.update(ep, |o| o.notes.push(format!("{other:?} is not played"))),
        }
    }
    let _ = reader.join();
    // The socket stays open until the run ends unless the script closed
    // it: dropping the last handle would close(2) it, and send a FIN the
    // script never asked for.
    ctx.apps.update(ep, |o| o.done = true);
    while !ctx.apps.stop.load(Ordering::Relaxed) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(slot);
}

/// Plays one call: CLOSE is close(2) with `full`, else shutdown(SHUT_WR).
fn react(ctx: &Ctx, ep: usize, slot: &Slot, r: Reaction, full: bool) {
    let Some(sock) = slot.get() else {
        return ctx.apps.update(ep, |o| o.notes.push(format!("{r:?}: the socket is closed")));
    };
    let result = match r {
        Reaction::Send(n) => send(&sock, n),
        Reaction::Close if full => {
            drop(sock);
            slot.close()
        }
        Reaction::Close => sock.shutdown(Shutdown::Write),
        other => Err(std::io::Error::other(format!("{other:?} is not played"))),
    };
    if let Err(e) = result {
        ctx.apps.update(ep, |o| o.notes.push(format!("{r:?}: {e}")));
    }
}

fn send(mut sock: &Socket, mut n: u64) -> std::io::Result<()> {
    let chunk = [0u8; 16384];
    while n > 0 {
        let k = n.min(chunk.len() as u64) as usize;
        match sock.write(&chunk[..k]) {
            Ok(w) => n -= w as u64,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
