//! The integration test binary: one binary, one module per concern.
//!
//! - `sims`: every file in `sims/` meets its own `expect` block.
//! - `scenarios`: behaviour pinned across seeds (lossy transfer, ...).
//! - `determinism`: same input, same bytes; different seed, different digest.
//! - `cli`: exit codes, error messages, atomic outputs.
//! - `cross_check`: the endpoint against smoltcp's TCP, exchange by exchange.

mod cli;
mod cross_check;
mod determinism;
mod scenarios;
mod sims;
mod util;
