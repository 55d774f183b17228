//! Measures of one run: per-endpoint results ([`conn`], written by
//! [`conn_table`]), time series of chosen endpoints ([`series`]), the
//! expression language of `sweep --measure` ([`expr`]) and the statistics
//! a sweep's summary gives of each measure ([`stats`]).
//!
//! Everything here reads the trace a run emits (with the measurement
//! records: `rtt` of every endpoint, `flight`, `queue`) and the finished
//! world; nothing changes what a run does, and no measurement record is
//! in the digest.

pub mod conn;
pub mod conn_table;
pub mod expr;
pub mod series;
pub mod stats;
