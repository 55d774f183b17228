//! The examples run: each is compiled into this binary as a module, so
//! `cargo test` runs the code `cargo run --example NAME` runs, and checks
//! what it shows.

#[allow(dead_code, reason = "the example's `main` is for `cargo run --example`")]
#[path = "../../examples/close_paths.rs"]
mod close_paths;

use tcpsim::tcp::{CloseReason, State};
use tcpsim::world::Outcome;

/// `close_paths` runs to completion and prints both close paths: the
/// client's active close and the server's passive one, each ending CLOSED.
#[test]
fn close_paths_shows_the_active_and_the_passive_close() {
    let mut printed = Vec::new();
    let (outcome, world) = close_paths::run(&mut printed).expect("writes to memory");
    assert_eq!(outcome, Outcome::Completed);
    let printed = String::from_utf8(printed).expect("text");
    let changes = |name: &str| -> Vec<String> {
        printed
            .lines()
            .filter(|l| l.contains(" ms  ") && l.split_whitespace().nth(2) == Some(name))
            .map(|l| l.split_whitespace().skip(3).collect::<Vec<_>>().join(" "))
            .collect()
    };
    assert_eq!(
        changes("client"),
        [
            "CLOSED -> SYN_SENT",
            "SYN_SENT -> ESTABLISHED",
            "ESTABLISHED -> FIN_WAIT_1",
            // The server's FIN comes with the ACK of the client's.
            "FIN_WAIT_1 -> TIME_WAIT",
            "TIME_WAIT -> CLOSED"
        ]
    );
    assert_eq!(
        changes("server"),
        [
            "CLOSED -> LISTEN",
            "LISTEN -> SYN_RECEIVED",
            "SYN_RECEIVED -> ESTABLISHED",
            "ESTABLISHED -> CLOSE_WAIT",
            "CLOSE_WAIT -> LAST_ACK",
            "LAST_ACK -> CLOSED"
        ]
    );
    for ep in world.endpoints() {
        assert_eq!((ep.tcp.state(), ep.tcp.close_reason()), (State::Closed, Some(CloseReason::Normal)), "{}", ep.name);
    }
    assert!(printed.ends_with(&format!("digest {}\n", world.digest())), "{printed}");
}
