//! Builds a scenario in Rust (no file), steps it event by event, and prints
//! each endpoint's path: the library API without the CLI.
//!
//! `cargo run --example close_paths`

use tcpsim::link::LinkParams;
use tcpsim::model::{Action, App, Connection, Host, Limits, Link, Listener, Model, Reaction, Timed};
use tcpsim::tcp::TcpConfig;
use tcpsim::time::{Duration, Instant};
use tcpsim::trace::{NullSink, TraceKind};
use tcpsim::world::{Observe, World};

fn main() {
    let tcp = TcpConfig { msl: Duration::from_secs(1), ..TcpConfig::default() };
    let link = LinkParams { delay: Duration::from_millis(15), ..LinkParams::default() };
    let model = Model {
        name: "close-paths".into(),
        description: Some("an active close built in Rust".into()),
        seed: 42,
        iss_seed: None,
        configs: vec![tcp],
        hosts: vec![Host { name: "a".into(), addr: 0x0a00_0001 }, Host { name: "b".into(), addr: 0x0a00_0002 }],
        links: vec![Link { a: 0, b: 1, ab: link, ba: link }],
        listeners: vec![Listener {
            name: "server".into(),
            host: 1,
            port: 80,
            backlog: 1,
            listen_at: Instant::ZERO,
            close_at: None,
            iss: None,
            config: 0,
            app: App { on_end_of_stream: vec![Reaction::Close], ..App::default() },
        }],
        connections: vec![Connection {
            name: "client".into(),
            host: 0,
            host_span: 1,
            local_port: None,
            remote_host: 1,
            remote_port: 80,
            count: 1,
            open_spread: Duration::ZERO,
            iss: None,
            config: 0,
            app: App {
                script: vec![
                    Timed { at: Duration::ZERO, action: Action::Connect },
                    Timed { at: Duration::from_millis(100), action: Action::Close },
                ],
                ..App::default()
            },
            peer: None,
        }],
        faults: vec![],
        limits: Limits::default(),
        expect: None,
        deviations: vec![],
    };

    let observe = Observe::default();
    let mut world = World::new(model, &observe);
    // Step by step, printing state changes as they happen.
    let mut sink = tcpsim::trace::Recorder::default();
    while world.step(&mut sink).is_none() {
        for e in sink.events.drain(..) {
            if let TraceKind::Transition { from, to, .. } = e.kind {
                println!("{:>10} ms  {:<7} {from} -> {to}", e.t, e.endpoint);
            }
        }
    }
    world.run(&mut NullSink);
    for ep in world.endpoints() {
        println!("{} ended in {} ({:?})", ep.name, ep.tcp.state(), ep.tcp.close_reason());
    }
    println!("digest {}", world.digest());
}
