//! tcpsim: a deterministic network simulator for TCP connections.
//!
//! A discrete-event scheduler with a virtual clock drives RFC 9293 TCP
//! endpoints over lossy, reordering links. **The same scenario and seed
//! always give the same trace, byte for byte, and the same digest**: all
//! randomness comes from seeded ChaCha8 streams, time is virtual, events at
//! equal times run in insertion order, and nothing iterates a hash map.
//!
//! The TCP endpoint ([`tcp::Endpoint`]) is sans-IO: it never reads a clock,
//! draws a random number or touches the scheduler. It takes inputs (segments,
//! timeouts, application calls, each with `now`) and returns outputs
//! (segments and trace notes).
//!
//! Codemap:
//! - [`time`]: virtual `Instant` and `Duration` (integer nanoseconds).
//! - [`rng`]: ChaCha8 keys per component and per-flow draw blocks; `Ppm`.
//! - [`scheduler`]: the event queue, ordered by `(time, insertion)`.
//! - [`tcp`]: the endpoint state machine; [`rule`]: behaviour IDs.
//! - [`link`]: the per-direction link model, its verdicts, and `Fate`
//!   (one decision as data).
//! - [`measure`]: per-endpoint results, time series and the `sweep
//!   --measure` expressions, read from a run's trace and world.
//! - [`model`]: the validated scenario, and [`model::Builder`] to write one
//!   in Rust; [`scenario`]: the RON file format, validation and error
//!   positions.
//! - [`world`]: hosts, listeners, demultiplexing, faults and the run loop.
//! - [`simulation`]: the one way to run a scenario: load (or a model) →
//!   run → outcome, checks, digest and summary; every command uses it.
//! - [`trace`]: trace events, text/JSONL writers and the digest;
//!   [`expect`]: checking a run against its `expect` block; [`report`]:
//!   headers, summaries and the behaviour coverage report.
//! - [`sweep`]: many seeded runs, their measures and summaries.
//! - [`parallel`]: the one worker pool, an order-preserving parallel map
//!   (sweeps, `tcpsim test`, explore): output never depends on the thread
//!   count.
//! - [`replay`], [`explore`], [`shrink`]: runs as data: replay files from
//!   recorded link decisions, exhaustive fault exploration, delta
//!   debugging of failing seeds.
//! - [`determinism`]: a run against its perturbed twin, record by record.
//! - [`pcap`], [`pictures`]: packet captures; ladder and state diagrams,
//!   sweep plots; [`html`]: one run as a self-contained HTML page
//!   (`tcpsim report`).
//! - [`theory`]: the published throughput models under random loss
//!   (Mathis et al., Padhye et al.) and the experiment that runs tcpsim
//!   against them.
//! - `kernel` (Linux only): the pure half of `tcpsim kernel`: which
//!   scenarios the kernel can play, the tcpsim side of the comparison, and
//!   the kernel's state changes as an RFC 9293 path.
//!
//! # Example
//!
//! ```
//! use tcpsim::{simulation::Simulation, trace::Recorder, world::Outcome};
//! use tcpsim::tcp::State;
//!
//! let file = r#"(
//!     name: "example", seed: 7,
//!     tcp: (msl_ms: 1000),
//!     hosts: [(name: "a"), (name: "b")],
//!     links: [(between: ("a", "b"), delay_ms: 10, loss: 0.1)],
//!     listeners: [(name: "server", host: "b", port: 80, on_end_of_stream: [Close])],
//!     connections: [(name: "client", host: "a", remote_host: "b", remote_port: 80,
//!                    script: [Connect(at_ms: 0)], on_connected: [Send(bytes: 5000), Close])],
//!     expect: (all_connections: (final_state: CLOSED, all_bytes_delivered: true)),
//! )"#;
//! let sim = Simulation::load(file.as_bytes(), &[]).expect("a valid scenario");
//! let mut trace = Recorder::default();
//! let finished = sim.run(&mut trace);
//! assert_eq!(finished.outcome, Outcome::Completed);
//!
//! let conn = 0; // endpoints are found by connection number and name
//! let client = finished.world.endpoint(conn, "client").unwrap();
//! assert_eq!(client.tcp.state(), State::Closed);
//! assert!(client.log.visited(State::TimeWait));
//! assert!(finished.checks.iter().all(|c| c.ok));
//! println!("digest {}", finished.digest());
//! ```

// Every public item says what it is; `cargo clippy -D warnings` holds it.
#![warn(missing_docs)]

pub mod determinism;
pub mod expect;
pub mod explore;
pub mod html;
#[cfg(target_os = "linux")]
pub mod kernel;
pub mod link;
pub mod measure;
pub mod model;
pub mod parallel;
pub mod pcap;
pub mod pictures;
mod prefetch;
pub mod replay;
pub mod report;
pub mod rng;
pub mod rule;
pub mod scenario;
pub mod scheduler;
pub mod shrink;
pub mod simulation;
pub mod sweep;
pub mod tcp;
pub mod theory;
pub mod time;
pub mod trace;
pub mod world;

/// README.md's Rust examples ("Use it from Rust"), compiled and run as
/// doctests so the README cannot drift from the library.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
