//! The reference worlds of `benches/reference.rs` do the workload the
//! README specifies for them: a lifecycle is 11 events and 12 transitions
//! in the minimal world, 12 transitions through smoltcp.

#[path = "../../benches/reference/minimal.rs"]
mod minimal;
#[path = "../../benches/reference/smoltcp_world.rs"]
mod smoltcp_world;

use minimal::{MinimalWorld, State};
use smoltcp::socket::tcp;

const SECOND: u64 = 1_000_000_000;

#[test]
fn a_minimal_lifecycle_is_11_events_and_12_transitions() {
    let mut world = MinimalWorld::new(1, 7);
    // The client enters TIME_WAIT after 8 link delays (≤ 500 µs each) and
    // two application delays of 500 µs: within 5 ms. So at 60 s every
    // event of the lifecycle but the 2MSL expiry has run.
    world.run(60 * SECOND);
    assert_eq!((world.events, world.transitions), (10, 11));
    assert_eq!(world.states(0), (State::TimeWait, State::Listen));
    // The expiry reopens the pair at once; the second lifecycle is short
    // of its own expiry at 120 s in the same way.
    world.run(120 * SECOND);
    assert_eq!((world.events, world.transitions), (11 + 10, 12 + 11));
}

#[test]
fn a_smoltcp_lifecycle_is_12_transitions() {
    let mut world = smoltcp_world::SmoltcpWorld::new(1, 7);
    // smoltcp's TIME_WAIT is 10 s, entered within a few ms of time zero.
    world.run(10 * SECOND);
    assert_eq!(world.transitions, 11);
    assert_eq!(world.states(0), (tcp::State::TimeWait, tcp::State::Listen));
    world.run(20 * SECOND);
    assert_eq!(world.transitions, 12 + 11);
}
