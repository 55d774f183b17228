//! tcpsim: a deterministic network simulator for TCP connections.
pub mod expect;
pub mod link;
pub mod model;
pub mod report;
pub mod rng;
pub mod rule;
pub mod scenario;
pub mod scheduler;
pub mod tcp;
pub mod time;
pub mod trace;
pub mod world;
