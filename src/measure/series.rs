//! Time series of chosen endpoints (`run --series FILE.csv`): one row each
//! time one of an endpoint's measured values changes, with all of them as
//! they stand then.
//!
//! Read from the trace's records, the measurement records included:
//! `congestion` (cwnd, ssthresh), `flight` (bytes in flight, send and
//! receive windows), `rtt` (SRTT, RTTVAR, RTO), `timer` (the retransmission
//! timer as armed) and `queue` (the backlog of
//! a rate-limited link direction). An endpoint's outgoing queue is the
//! direction its own segments take; its incoming queue the direction its
//! peer's take (the peer being the other endpoint of its connection).
//!
//! The sink keeps typed rows ([`SeriesRow`]); the CSV ([`csv()`]) and the
//! series plot (`pictures::series_plot`) are both made from them.

use crate::tcp::{Timer, TimerAction};
use crate::time::Instant;
use crate::trace::{Filter, NO_EP, TraceEvent, TraceKind, TraceSink};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The CSV header.
pub const HEADER: &str = "t_ns,conn,ep,endpoint,cwnd_bytes,ssthresh_bytes,flight_bytes,srtt_ns,rttvar_ns,rto_ns,snd_wnd_bytes,rcv_wnd_bytes,queue_out_bytes,queue_in_bytes,rto_timer_ns";

/// The measured values of one endpoint at one time, each `None` until
/// its first record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Values {
    /// The congestion window, in bytes (RFC 5681 cwnd).
    pub cwnd: Option<u32>,
    /// The slow-start threshold, in bytes (RFC 5681 ssthresh).
    pub ssthresh: Option<u32>,
    /// Bytes sent and not acknowledged.
    pub flight: Option<u32>,
    /// The smoothed round-trip time, in ns (RFC 6298 SRTT).
    pub srtt: Option<u64>,
    /// The round-trip time variation, in ns (RFC 6298 RTTVAR).
    pub rttvar: Option<u64>,
    /// The retransmission timeout, in ns (RFC 6298 RTO).
    pub rto: Option<u64>,
    /// SND.WND, the peer's window as this end applies it, in bytes.
    pub snd_wnd: Option<u32>,
    /// The free receive window this end offers, in bytes.
    pub rcv_wnd: Option<u32>,
    /// The backlog of the link direction this end's segments take, in bytes.
    pub queue_out: Option<u64>,
    /// The backlog of the link direction its peer's segments take, in bytes.
    pub queue_in: Option<u64>,
    /// The retransmission timer as last armed (deadline − start), in ns:
    /// the RTO in force, backoff included (RFC 6298 (5.5)), where `rto`
    /// is the estimator's value as of its last sample.
    pub rto_timer: Option<u64>,
}

/// One row of the series: an endpoint's values right after one of them
/// changed (a line of the CSV, [`HEADER`] naming its columns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesRow {
    /// When the change happened.
    pub t: Instant,
    /// The endpoint's connection then.
    pub conn: u32,
    /// The endpoint's index, fixed for its life.
    pub ep: u32,
    /// The endpoint's name.
    pub endpoint: String,
    /// Every value as it stands after the change.
    pub values: Values,
}

impl SeriesRow {
    /// The row as a CSV line (without the newline), in [`HEADER`]'s order;
    /// an unknown value is an empty cell.
    pub fn csv_line(&self) -> String {
        let v = &self.values;
        let o32 = |x: Option<u32>| x.map_or(String::new(), |x| x.to_string());
        let o64 = |x: Option<u64>| x.map_or(String::new(), |x| x.to_string());
        let name = if self.endpoint.contains([',', '"']) {
            format!("\"{}\"", self.endpoint.replace('"', "\"\""))
        } else {
            self.endpoint.clone()
        };
        format!(
            "{},{},{},{name},{},{},{},{},{},{},{},{},{},{},{}",
            self.t.as_nanos(),
            self.conn,
            self.ep,
            o32(v.cwnd),
            o32(v.ssthresh),
            o32(v.flight),
            o64(v.srtt),
            o64(v.rttvar),
            o64(v.rto),
            o32(v.snd_wnd),
            o32(v.rcv_wnd),
            o64(v.queue_out),
            o64(v.queue_in),
            o64(v.rto_timer),
        )
    }
}

/// The CSV of `rows`: [`HEADER`], then one line per row.
pub fn csv(rows: &[SeriesRow]) -> String {
    let mut out = format!("{HEADER}\n");
    for r in rows {
        let _ = writeln!(out, "{}", r.csv_line());
    }
    out
}

#[derive(Clone, Debug)]
struct Tracked {
    ep: u32,
    conn: u32,
    name: String,
    values: Values,
    /// The link direction (link, a_to_b) its own segments take.
    out_dir: Option<(u32, bool)>,
}

/// Rows written as they come (`run --series`): nothing kept in memory.
struct Stream {
    out: std::io::BufWriter<Box<dyn std::io::Write>>,
    /// The first write error; later rows are not written.
    error: Option<std::io::Error>,
}

/// A trace sink that keeps the series' rows in memory, or writes them as
/// they come ([`Series::streaming`]).
pub struct Series {
    /// Chooses endpoints: `endpoint` by name, `conn` by connection
    /// number; the other fields are not read.
    filter: Filter,
    tracked: Vec<Tracked>,
    /// `ep` → index in `tracked`.
    by_ep: BTreeMap<u32, usize>,
    /// Each link direction's latest backlog, (link, a_to_b, bytes).
    backlogs: Vec<(u32, bool, u64)>,
    rows: Vec<SeriesRow>,
    stream: Option<Stream>,
}

impl Series {
    /// A series of the endpoints `filter.endpoint` and `filter.conn`
    /// choose (every endpoint when both are `None`).
    pub fn new(filter: &Filter) -> Series {
        let filter = Filter { endpoint: filter.endpoint.clone(), conn: filter.conn, ..Filter::default() };
        Series {
            filter,
            tracked: Vec::new(),
            by_ep: BTreeMap::new(),
            backlogs: Vec::new(),
            rows: Vec::new(),
            stream: None,
        }
    }

    /// As [`Series::new`], writing the CSV ([`HEADER`], then each row as
    /// it happens) to `out` instead of keeping the rows: memory stays
    /// that of the endpoints tracked, whatever the run's length.
    pub fn streaming(filter: &Filter, out: Box<dyn std::io::Write>) -> Series {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        let error = std::io::Write::write_all(&mut out, format!("{HEADER}\n").as_bytes()).err();
        Series { stream: Some(Stream { out, error }), ..Series::new(filter) }
    }

    /// Ends a streamed CSV: `trailer` (a comment line, without `#` and
    /// newline) if given, then flushes; the first write error, if any.
    pub fn finish_stream(self, trailer: Option<&str>) -> std::io::Result<()> {
        let Some(mut s) = self.stream else { return Ok(()) };
        if let Some(e) = s.error {
            return Err(e);
        }
        if let Some(t) = trailer {
            std::io::Write::write_all(&mut s.out, format!("# {t}\n").as_bytes())?;
        }
        std::io::Write::flush(&mut s.out)
    }

    /// The rows so far, in time order.
    pub fn rows(&self) -> &[SeriesRow] {
        &self.rows
    }

    /// The rows, in time order.
    pub fn into_rows(self) -> Vec<SeriesRow> {
        self.rows
    }

    /// The CSV of the rows so far ([`csv()`]).
    pub fn into_csv(self) -> String {
        csv(&self.rows)
    }

    fn chosen(&self, e: &TraceEvent<'_>) -> bool {
        self.filter.endpoint.as_deref().is_none_or(|n| n == e.endpoint) && self.filter.conn.is_none_or(|c| c == e.conn)
    }

    fn index(&mut self, e: &TraceEvent<'_>) -> usize {
        match self.by_ep.get(&e.ep).copied() {
            Some(i) => {
                self.tracked[i].conn = e.conn;
                i
            }
            None => {
                self.tracked.push(Tracked {
                    ep: e.ep,
                    conn: e.conn,
                    name: e.endpoint.to_string(),
                    values: Values::default(),
                    out_dir: None,
                });
                self.by_ep.insert(e.ep, self.tracked.len() - 1);
                self.tracked.len() - 1
            }
        }
    }

    /// Sets `i`'s values to `new`, writing a row at `t_ns` if they changed.
    fn update(&mut self, i: usize, t_ns: u64, new: Values) {
        let t = &mut self.tracked[i];
        if t.values == new {
            return;
        }
        t.values = new;
        let row =
            SeriesRow { t: Instant::from_nanos(t_ns), conn: t.conn, ep: t.ep, endpoint: t.name.clone(), values: new };
        match &mut self.stream {
            Some(s) if s.error.is_none() => {
                let line = format!("{}\n", row.csv_line());
                if let Err(e) = std::io::Write::write_all(&mut s.out, line.as_bytes()) {
                    s.error = Some(e);
                }
            }
            Some(_) => {}
            None => self.rows.push(row),
        }
    }

    fn backlog(&self, dir: Option<(u32, bool)>) -> Option<u64> {
        let (link, ab) = dir?;
        self.backlogs.iter().find(|b| b.0 == link && b.1 == ab).map(|b| b.2)
    }

    /// Updates the queues of the tracked endpoints of connection `conn`
    /// (the one whose segment the `queue` record is about) from the
    /// backlogs: another connection's segment gives no row, so rows stay
    /// proportional to the endpoint's own traffic.
    fn refresh_queues(&mut self, t_ns: u64, conn: u32) {
        for i in 0..self.tracked.len() {
            let t = &self.tracked[i];
            if t.conn != conn {
                continue;
            }
            let mut v = t.values;
            v.queue_out = self.backlog(t.out_dir).or(v.queue_out);
            v.queue_in = self.backlog(t.out_dir.map(|(l, ab)| (l, !ab))).or(v.queue_in);
            self.update(i, t_ns, v);
        }
    }
}

impl TraceSink for Series {
    fn record(&mut self, e: &TraceEvent<'_>) {
        if e.ep == NO_EP {
            return;
        }
        let t_ns = e.t.as_nanos();
        if let TraceKind::Queue { link, a_to_b, backlog_bytes } = e.kind {
            match self.backlogs.iter_mut().find(|b| b.0 == link && b.1 == a_to_b) {
                Some(b) => b.2 = backlog_bytes,
                None => self.backlogs.push((link, a_to_b, backlog_bytes)),
            }
            if self.chosen(e) {
                let i = self.index(e);
                self.tracked[i].out_dir = Some((link, a_to_b));
            } else {
                // The peer's segments: the reverse of the direction they
                // take is our outgoing one, once we know it.
                for t in self.tracked.iter_mut().filter(|t| t.conn == e.conn && t.out_dir.is_none()) {
                    t.out_dir = Some((link, !a_to_b));
                }
            }
            return self.refresh_queues(t_ns, e.conn);
        }
        if !self.chosen(e) {
            return;
        }
        let mut v = match self.by_ep.get(&e.ep) {
            Some(&i) => self.tracked[i].values,
            None => Values::default(),
        };
        match e.kind {
            TraceKind::Congestion { cwnd, ssthresh, flight, .. } => {
                v.cwnd = Some(cwnd);
                v.ssthresh = Some(ssthresh);
                v.flight = flight.or(v.flight);
            }
            TraceKind::Flight { flight, snd_wnd, rcv_wnd } => {
                v.flight = Some(flight);
                v.snd_wnd = Some(snd_wnd);
                v.rcv_wnd = Some(rcv_wnd);
            }
            TraceKind::Rtt { srtt, rttvar, rto, .. } => {
                v.srtt = Some(srtt.as_nanos());
                v.rttvar = Some(rttvar.as_nanos());
                v.rto = Some(rto.as_nanos());
            }
            TraceKind::Timer {
                timer: Timer::Retransmit,
                action: TimerAction::Start | TimerAction::Restart,
                deadline,
            } => {
                // Armed at `e.t` for the RTO in force: backoff shows here,
                // not in the estimator's `rto` (RFC 6298 (5.5)).
                v.rto_timer = Some(deadline.as_nanos().saturating_sub(t_ns));
            }
            _ => return,
        }
        let i = self.index(e);
        self.update(i, t_ns, v);
    }
}
