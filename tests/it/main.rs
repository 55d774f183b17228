//! The integration test binary: one binary, one module per concern.
//!
//! - `sims`: every file in `sims/` meets its own `expect` block.
//! - `browser`: the report page in headless Chromium, every figure drawn
//!   (skipped without chromium unless required).
//! - `behaviours`: every behaviour ID of the specification has a test.
//! - `cc`: CUBIC's window against RFC 9438's formula.
//! - `scenarios`: behaviour pinned across seeds (lossy transfer, ...).
//! - `determinism`: same input, same bytes; different seed, different digest.
//! - `digests`: every shipped simulation keeps its pinned digest.
//! - `examples`: the examples run and show what they say.
//! - `cli`: exit codes, error messages, atomic outputs.
//! - `cli_flags`: flags that would contradict each other or go unheard
//!   (one seed, `--check-determinism`), negative numbers, `-` for stdout.
//! - `load_errors`: what loading refuses, once per mistake, at the value.
//! - `help_examples`: every example in every `--help` works, in order.
//! - `outputs`: no partial outputs, for every kind of file the CLI writes:
//!   whole or untouched on failure and interrupt, pipes written in place.
//! - `sweeps`: thread count and shards never change the bytes; merge checks.
//! - `properties`: random scenarios keep the invariants; random files never
//!   crash the loader.
//! - `cross_check`: the endpoint against smoltcp's TCP, exchange by exchange.
//! - `explore_shrink`: replay files, exhaustive exploration, shrinking.
//! - `identity`: `ep`, `pkt`/`copy` and `t_ns` let a reader follow a trace.
//! - `loss_models`: goodput under random loss against Mathis et al. and
//!   Padhye et al.
//! - `kernel`: the close scenarios run on the Linux kernel match tcpsim's
//!   paths (root; skipped with a notice elsewhere unless required).
//! - `measures`: per-endpoint results, series and `sweep --measure`
//!   checked against the trace; measurement records never change a digest.
//! - `pictures`: captures decoded by tshark, ladders, state diagrams.
//! - `transfer_pictures`: time-sequence graphs, series plots and ladders
//!   of a time window, from the command line.
//! - `rendering`: every kind of picture renders in librsvg; the README's
//!   ladder is what tcpsim draws (skipped without rsvg-convert unless
//!   required).
//! - `report_page`: `tcpsim report` pages for every sim: self-contained,
//!   deterministic, well-formed pictures, the connection limit, bad input.
//! - `reference_worlds`: the benches' reference worlds do the specified
//!   lifecycle.
//! - `readme`: the outputs README.md shows are what the commands print.
//! - `rfc7323`: window scaling and timestamps end to end.
//! - `sack`: SACK negotiation, and RFC 6675 recovery against NewReno.
//! - `linux`: the `profile` setting and the `linux` profile's header.

mod behaviours;
mod browser;
mod cc;
mod cli;
mod cli_flags;
mod cross_check;
mod determinism;
mod digests;
mod examples;
mod explore_shrink;
mod help_examples;
mod identity;
#[cfg(target_os = "linux")]
mod kernel;
mod linux;
mod load_errors;
mod loss_models;
mod measure_review;
mod measures;
mod outputs;
mod pictures;
mod properties;
mod readme;
mod reference_worlds;
mod rendering;
mod report_page;
mod rfc7323;
mod sack;
mod scenarios;
mod sims;
mod sweeps;
mod transfer_pictures;
mod util;
