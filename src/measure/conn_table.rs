//! Per-endpoint results as a CSV, a JSON array, or a text table: each
//! column defined once (its name, with its unit last, and its value).

use super::conn::EndpointResult;
use crate::tcp::State;
use crate::trace::json_str;
use std::fmt::Write as _;

/// One cell: a number (written bare in JSON), text, or nothing.
enum Cell {
    Int(u64),
    /// Milliseconds from nanoseconds, six decimals: exactly the ns, so
    /// times in states add up to the duration, and the value is the
    /// sweep's `--measure` cell (which drops trailing zeros).
    Ms(u64),
    Text(String),
    None,
}

impl Cell {
    fn csv(&self) -> String {
        match self {
            Cell::Int(n) => n.to_string(),
            Cell::Ms(ns) => exact_ms(*ns),
            Cell::Text(s) => csv_field(s),
            Cell::None => String::new(),
        }
    }

    fn json(&self) -> String {
        match self {
            Cell::Int(n) => n.to_string(),
            Cell::Ms(ns) => exact_ms(*ns),
            Cell::Text(s) => json_str(s),
            Cell::None => "null".to_string(),
        }
    }

    fn text(&self) -> String {
        match self {
            Cell::None => "-".to_string(),
            Cell::Text(s) => s.clone(),
            c => c.csv(),
        }
    }
}

/// Nanoseconds as milliseconds with six decimals, exactly.
fn exact_ms(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000, ns % 1_000_000)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// The states with a `time_in_*_ms` column: every state but CLOSED.
const TIMED_STATES: [State; 10] = [
    State::Listen,
    State::SynSent,
    State::SynReceived,
    State::Established,
    State::FinWait1,
    State::FinWait2,
    State::CloseWait,
    State::Closing,
    State::LastAck,
    State::TimeWait,
];

type Column = (String, Box<dyn Fn(&EndpointResult) -> Cell>);

/// Every column, in order; `run_outcome` is the run's outcome
/// (`completed`, or the limit that stopped it: the rows are then of a
/// partial run).
fn columns(run_outcome: &'static str) -> Vec<Column> {
    let opt_ms = |d: Option<crate::time::Duration>| d.map_or(Cell::None, |d| Cell::Ms(d.as_nanos()));
    let mut cols: Vec<Column> = vec![
        ("ep".into(), Box::new(|r| Cell::Int(u64::from(r.ep)))),
        ("conn".into(), Box::new(|r| Cell::Int(u64::from(r.conn)))),
        ("endpoint".into(), Box::new(|r| Cell::Text(r.endpoint.clone()))),
        ("state".into(), Box::new(|r| Cell::Text(r.state.to_string()))),
        ("reason".into(), Box::new(|r| r.reason.map_or(Cell::None, |x| Cell::Text(x.to_string())))),
        ("states_visited".into(), Box::new(|r| Cell::Text(visited_list(r)))),
        ("duration_ms".into(), Box::new(move |r| opt_ms(r.duration()))),
        ("transfer_ms".into(), Box::new(move |r| opt_ms(r.transfer()))),
        ("bytes_sent_bytes".into(), Box::new(|r| Cell::Int(r.bytes_sent))),
        ("bytes_delivered_bytes".into(), Box::new(|r| Cell::Int(r.bytes_delivered))),
        ("goodput_bps".into(), Box::new(|r| r.goodput_bps().map_or(Cell::None, Cell::Int))),
        ("segments".into(), Box::new(|r| Cell::Int(r.segments))),
        ("retransmissions".into(), Box::new(|r| Cell::Int(r.retransmissions))),
        ("rtos".into(), Box::new(|r| Cell::Int(r.rtos))),
        ("fast_retransmits".into(), Box::new(|r| Cell::Int(r.fast_retransmits))),
        ("srtt_min_ms".into(), Box::new(move |r| opt_ms(r.srtt_min()))),
        ("srtt_mean_ms".into(), Box::new(|r| r.srtt_mean_ns().map_or(Cell::None, Cell::Ms))),
        ("srtt_max_ms".into(), Box::new(move |r| opt_ms(r.srtt_max()))),
    ];
    for s in TIMED_STATES {
        let name = format!("time_in_{}_ms", s.to_string().to_lowercase());
        cols.push((name, Box::new(move |r: &EndpointResult| Cell::Ms(r.time_in[s as usize].as_nanos()))));
    }
    cols.push(("run_outcome".into(), Box::new(move |_| Cell::Text(run_outcome.to_string()))));
    cols
}

/// The states entered, in the order of [`State`], joined by `|`.
fn visited_list(r: &EndpointResult) -> String {
    let all = [State::Closed].into_iter().chain(TIMED_STATES);
    all.filter(|s| r.visited(*s)).map(|s| s.to_string()).collect::<Vec<_>>().join("|")
}

/// The column names, in order (the CSV header).
pub fn column_names() -> Vec<String> {
    columns("completed").into_iter().map(|(n, _)| n).collect()
}

/// The results as CSV: a header row, then one row per endpoint; the
/// last column says the run's outcome (`completed`, or the limit that
/// stopped it).
pub fn csv(results: &[EndpointResult], run_outcome: &'static str) -> String {
    let cols = columns(run_outcome);
    let mut out = cols.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(",");
    out.push('\n');
    for r in results {
        out.push_str(&cols.iter().map(|(_, f)| f(r).csv()).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// The results as a JSON array of objects, one per endpoint, keys as the
/// CSV's columns (numbers bare, missing values `null`).
pub fn json(results: &[EndpointResult], run_outcome: &'static str) -> String {
    let cols = columns(run_outcome);
    let mut out = String::from("[\n");
    for (i, r) in results.iter().enumerate() {
        out.push_str("  {");
        for (j, (name, f)) in cols.iter().enumerate() {
            let _ = write!(out, "{}{}:{}", if j == 0 { "" } else { "," }, json_str(name), f(r).json());
        }
        out.push_str(if i + 1 < results.len() { "},\n" } else { "}\n" });
    }
    out.push_str("]\n");
    out
}

/// The columns of the text table (the rest are in the CSV and JSON).
const TABLE_COLUMNS: [&str; 14] = [
    "ep",
    "conn",
    "endpoint",
    "state",
    "reason",
    "duration_ms",
    "transfer_ms",
    "bytes_sent_bytes",
    "bytes_delivered_bytes",
    "goodput_bps",
    "retransmissions",
    "rtos",
    "fast_retransmits",
    "srtt_mean_ms",
];

/// The text table's column names, and its cells: one row per endpoint,
/// `-` for a missing value (the report page's table).
pub fn table_cells(results: &[EndpointResult]) -> (Vec<String>, Vec<Vec<String>>) {
    let cols: Vec<Column> =
        columns("completed").into_iter().filter(|(n, _)| TABLE_COLUMNS.contains(&n.as_str())).collect();
    let names = cols.iter().map(|(n, _)| n.clone()).collect();
    let rows = results.iter().map(|r| cols.iter().map(|(_, f)| f(r).text()).collect()).collect();
    (names, rows)
}

/// The results as aligned text lines (no `#` prefix), a header line first:
/// the main columns only.
pub fn table_lines(results: &[EndpointResult]) -> Vec<String> {
    let (names, cells) = table_cells(results);
    let mut rows: Vec<Vec<String>> = vec![names];
    rows.extend(cells);
    let widths: Vec<usize> =
        (0..TABLE_COLUMNS.len()).map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0)).collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                // Names left-aligned, numbers right-aligned.
                .map(|(i, (c, w))| if (2..5).contains(&i) { format!("{c:<w$}") } else { format!("{c:>w$}") })
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}
