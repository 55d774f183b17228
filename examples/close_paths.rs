//! Builds a scenario in Rust (no file) with `model::Builder`, steps it
//! event by event through the `World` that `Simulation::into_world`
//! gives, and prints each state change as it happens and where each
//! endpoint ended: the client's active close (FIN_WAIT_1, then TIME_WAIT,
//! as the server's FIN acknowledges the client's) and the server's passive
//! one (CLOSE_WAIT, LAST_ACK). The library API without the CLI.
//!
//! `cargo run --example close_paths` (`cargo test` runs it too, in
//! `tests/it/examples.rs`).

use std::io::Write;
use tcpsim::link::LinkParams;
use tcpsim::model::{Action, App, Builder, Model, Reaction};
use tcpsim::simulation::Simulation;
use tcpsim::tcp::TcpConfig;
use tcpsim::time::Duration;
use tcpsim::trace::{Recorder, TraceKind};
use tcpsim::world::{Outcome, World};

/// A client that connects at 0 and closes at 100 ms; a server that closes
/// when the client's FIN arrives. MSL 1 s, so TIME_WAIT lasts 2 s.
pub fn model() -> Model {
    let tcp = TcpConfig { msl: Duration::from_secs(1), ..TcpConfig::default() };
    let link = LinkParams { delay: Duration::from_millis(15), ..LinkParams::default() };
    let client = App::default().at(Duration::ZERO, Action::Connect).at(Duration::from_millis(100), Action::Close);
    Builder::new("close-paths")
        .description("an active close built in Rust")
        .seed(42)
        .tcp(tcp)
        .host("a")
        .host("b")
        .link("a", "b", link)
        .listener("server", "b", 80, App::default().on_end_of_stream([Reaction::Close]))
        .connection("client", "a", ("b", 80), client)
        .build()
        .expect("every name is defined")
}

/// Steps the run to its end, writing each state change to `out` as it
/// happens, then each endpoint's final state and the digest; returns how
/// the run ended and the finished world.
pub fn run(out: &mut impl Write) -> std::io::Result<(Outcome, World)> {
    let mut world = Simulation::from_model(model()).expect("a built model obeys the rules").into_world();
    let mut sink = Recorder::default();
    let outcome = loop {
        let ended = world.step(&mut sink);
        for e in sink.events.drain(..) {
            if let TraceKind::Transition { from, to, .. } = e.kind {
                writeln!(out, "{:>10} ms  {:<7} {from} -> {to}", e.t, e.endpoint)?;
            }
        }
        if let Some(outcome) = ended {
            break outcome;
        }
    };
    writeln!(out, "run {}", outcome.name())?;
    for ep in world.endpoints() {
        writeln!(out, "{} ended in {} ({:?})", ep.name, ep.tcp.state(), ep.tcp.close_reason())?;
    }
    writeln!(out, "digest {}", world.digest())?;
    Ok((outcome, world))
}

fn main() -> std::io::Result<()> {
    run(&mut std::io::stdout().lock()).map(|_| ())
}
