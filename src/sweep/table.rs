//! The sweep CSV (interface.md): `#` comment lines, one header row, then
//! one row per run: `run`, `seed`, one column per swept field, the
//! measures of [`MEASURES`], `replay`, and the measures added since
//! ([`TRAILING`]).
//!
//! Every column is defined once, in [`LEADING`], [`MEASURES`] or
//! [`TRAILING`]: its name, how a [`RunRow`] writes it and how it is read
//! back. Adding a measure is one line at the end of [`TRAILING`], e.g.
//! `column!("stuck", stuck, optional)`, besides the field itself in
//! `RunRow` (and its zero in `RunRow::EMPTY`): new columns go last, so a
//! reader that takes the columns by position finds the older ones where
//! they were (interface.md: extend, never break). Rows are read by header
//! name, not by position, so the
//! reader follows the header it is given; every defined column must be
//! there, and the others are the swept fields.
//!
//! Fields are quoted as RFC 4180 requires (the `csv` crate): free text (the
//! swept values as written, the replay command with its `--set` values,
//! the swept field paths) may hold commas, quotes and newlines. Comment
//! lines cannot be quoted, so a newline or carriage return in one is
//! written as `\n` or `\r`.

use super::{RunRow, ms};
use crate::world::Outcome;
use std::io::{self, Write};

/// One column: its header name, how a row writes it, and how it is read
/// back into a row. A reader returns what was expected when the text does
/// not fit.
pub struct Column {
    /// The column's header name (`run`, `seed`, `outcome`, ...).
    pub name: &'static str,
    write: fn(&RunRow, &mut String),
    read: fn(&str, &mut RunRow) -> Result<(), String>,
}

/// Defines a column that stores one `RunRow` field with one of the value
/// formats below (`unsigned`, `optional`, `millis`, `optional_millis`,
/// `outcome`, `digest`).
macro_rules! column {
    ($name:literal, $field:ident, $format:ident) => {
        Column {
            name: $name,
            write: |row, out| $format::write(&row.$field, out),
            read: |text, row| {
                row.$field = $format::read(text)?;
                Ok(())
            },
        }
    };
}

/// The columns before the swept fields.
pub const LEADING: [Column; 2] = [column!("run", run, unsigned), column!("seed", seed, unsigned)];

/// The columns after the swept fields, in order.
pub const MEASURES: &[Column] = &[
    column!("outcome", outcome, outcome),
    column!("connections", connections, unsigned),
    column!("established", established, unsigned),
    column!("all_delivered", all_delivered, unsigned),
    column!("clean_close", clean_close, unsigned),
    column!("gave_up", gave_up, unsigned),
    column!("reset", reset, unsigned),
    column!("expectations_failed", expectations_failed, unsigned),
    column!("establish_ms", establish_ns, optional_millis),
    column!("close_ms", close_ns, optional_millis),
    column!("goodput_bps", goodput_bps, optional),
    column!("bytes_delivered", bytes_delivered, unsigned),
    column!("segments_sent", segments_sent, unsigned),
    column!("retransmissions", retransmissions, unsigned),
    // Derived: retransmissions that were not fast retransmits. Read back,
    // it is only checked against the two columns it comes from.
    Column {
        name: "rto_retransmissions",
        write: |row, out| unsigned::write(&row.retransmissions.saturating_sub(row.fast_retransmits), out),
        read: |text, _| unsigned::read(text).map(drop),
    },
    column!("fast_retransmits", fast_retransmits, unsigned),
    column!("drops", drops, unsigned),
    column!("visited_closing", visited_closing, unsigned),
    column!("visited_time_wait", visited_time_wait, unsigned),
    column!("visited_fin_wait_2", visited_fin_wait_2, unsigned),
    column!("events", events, unsigned),
    column!("end_ms", end_ns, millis),
    column!("digest", digest, digest),
];

/// The column after the measures: the command that replays a failing
/// run, empty for the others. Free text, not part of [`RunRow`].
pub const REPLAY: &str = "replay";

/// The measures added after `replay` was the last column, in the order
/// they were added; a new measure goes at the end.
pub const TRAILING: &[Column] = &[column!("stuck", stuck, optional)];

/// The header row's names: `run`, `seed`, the swept fields, the measures,
/// `replay`, the trailing measures.
pub fn header(axes: &[String]) -> Vec<&str> {
    header_with(axes, &[])
}

/// As [`header`], then the `--measure` columns: a column after `replay`
/// that is not a defined one is a measure, one before it a swept field.
pub fn header_with<'a>(axes: &'a [String], measures: &'a [String]) -> Vec<&'a str> {
    let mut names: Vec<&str> = LEADING.iter().map(|c| c.name).collect();
    names.extend(axes.iter().map(String::as_str));
    names.extend(MEASURES.iter().map(|c| c.name));
    names.push(REPLAY);
    names.extend(TRAILING.iter().map(|c| c.name));
    names.extend(measures.iter().map(String::as_str));
    names
}

/// Writes a sweep CSV: comments, the header, rows, closing comments.
pub struct Writer<W: Write> {
    /// `None` only after a comment failed to be written.
    csv: Option<csv::Writer<W>>,
    /// One field's text, reused from field to field.
    field: String,
}

impl<W: Write> Writer<W> {
    /// Writes the CSV to `out`.
    pub fn new(out: W) -> Writer<W> {
        Writer { csv: Some(csv_writer(out)), field: String::new() }
    }

    fn csv(&mut self) -> io::Result<&mut csv::Writer<W>> {
        self.csv.as_mut().ok_or_else(|| io::Error::other("an earlier write of the CSV failed"))
    }

    /// Writes `# TEXT` on a line of its own.
    pub fn comment(&mut self, text: &str) -> io::Result<()> {
        // The CSV writer cannot lend its destination, so it hands it back
        // for the line and takes it again: comments are few.
        let csv = self.csv.take().ok_or_else(|| io::Error::other("an earlier write of the CSV failed"))?;
        let mut out = csv.into_inner().map_err(|e| e.into_error())?;
        writeln!(out, "# {}", escape_line_breaks(text))?;
        self.csv = Some(csv_writer(out));
        Ok(())
    }

    /// Writes the header row for these swept fields.
    pub fn header(&mut self, axes: &[String]) -> io::Result<()> {
        Ok(self.csv()?.write_record(header(axes))?)
    }

    /// Writes the header row for these swept fields and measures.
    pub fn header_with(&mut self, axes: &[String], measures: &[String]) -> io::Result<()> {
        Ok(self.csv()?.write_record(header_with(axes, measures))?)
    }

    /// Writes one run: `values` are its swept values as written, `replay`
    /// the command that replays it (empty if it did not fail).
    pub fn row(&mut self, row: &RunRow, values: &[&str], replay: &str) -> io::Result<()> {
        for column in &LEADING {
            self.field(row, column)?;
        }
        for value in values {
            self.csv()?.write_field(value)?;
        }
        for column in MEASURES {
            self.field(row, column)?;
        }
        self.csv()?.write_field(replay)?;
        for column in TRAILING {
            self.field(row, column)?;
        }
        for cell in &row.measures {
            self.csv()?.write_field(cell)?;
        }
        Ok(self.csv()?.write_record(None::<&[u8]>)?)
    }

    fn field(&mut self, row: &RunRow, column: &Column) -> io::Result<()> {
        self.field.clear();
        (column.write)(row, &mut self.field);
        let Writer { csv, field } = self;
        let csv = csv.as_mut().ok_or_else(|| io::Error::other("an earlier write of the CSV failed"))?;
        Ok(csv.write_field(field.as_str())?)
    }

    /// Flushes and hands back the destination.
    pub fn finish(mut self) -> io::Result<W> {
        let csv = self.csv.take().ok_or_else(|| io::Error::other("an earlier write of the CSV failed"))?;
        csv.into_inner().map_err(|e| e.into_error())
    }
}

/// The defaults are what the CSV has always been: `\n` after each row,
/// quotes only where needed (a delimiter, quote or line break inside), a
/// quote doubled inside quotes.
fn csv_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new().from_writer(out)
}

/// A comment's text on one line.
fn escape_line_breaks(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['\n', '\r']) { text.replace('\n', "\\n").replace('\r', "\\r").into() } else { text.into() }
}

/// Bad input at a line of a CSV file (1-based, comment lines counted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvError {
    /// The line, from 1, comment lines counted.
    pub line: u64,
    /// The 1-based character column where the problem starts, where it is
    /// known (a comment compared character by character); 1 for problems
    /// with a whole row or a field of it: the CSV reader gives a record's
    /// position, not its fields'.
    pub column: u64,
    /// What is wrong, for people.
    pub message: String,
}

impl CsvError {
    /// A problem with line `line` as a whole (column 1).
    pub fn at(line: u64, message: impl Into<String>) -> CsvError {
        CsvError { line, column: 1, message: message.into() }
    }

    /// A problem that starts at character `column` (1-based) of `line`.
    pub fn at_column(line: u64, column: u64, message: impl Into<String>) -> CsvError {
        CsvError { line, column, message: message.into() }
    }

    /// `FILE:LINE:COL: error: MESSAGE`, with `file` as the user gave it.
    pub fn render(&self, file: &str) -> String {
        format!("{file}:{}:{}: error: {}", self.line, self.column, self.message)
    }
}

/// A `#` line: where it is and its text after `# `.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// Its line, from 1.
    pub line: u64,
    /// Its text after `# `.
    pub text: String,
}

/// One row read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The line the row starts on.
    pub line: u64,
    /// The run's measures; `point` is 0 (the CSV does not hold it).
    pub run: RunRow,
    /// The swept values, in header order.
    pub values: Vec<String>,
    /// The `replay` column: the command that replays a failing run, or empty.
    pub replay: String,
}

/// A sweep CSV read back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sheet {
    /// Comment lines before the header.
    pub leading: Vec<Comment>,
    /// The header's line, from 1.
    pub header_line: u64,
    /// The swept fields: the header's columns that are not defined ones,
    /// in header order.
    pub axes: Vec<String>,
    /// The `--measure` columns: those after `replay` that are not defined
    /// ones, in header order.
    pub measures: Vec<String>,
    /// The rows, in file order.
    pub rows: Vec<Row>,
    /// Comment lines after the header (between or after the rows).
    pub trailing: Vec<Comment>,
}

/// What a header column holds.
#[derive(Clone, Copy)]
enum Slot {
    Defined(&'static Column),
    Axis(usize),
    Replay,
    Measure(usize),
}

/// Reads a whole sweep CSV. Stops at the first malformed line.
pub fn read(bytes: &[u8]) -> Result<Sheet, CsvError> {
    // A byte-order mark (some editors add one) is not part of the first line.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // The first line is a comment or the header, neither of which can hold
    // a line break: a CR that ends it, without LF, ends every line (old Mac
    // files). The CSV reader would take them for line ends while lines are
    // counted by LF, so every position would be wrong: refuse instead.
    if let Some(end) = bytes.iter().position(|&b| b == b'\r' || b == b'\n')
        && bytes[end] == b'\r'
        && bytes.get(end + 1) != Some(&b'\n')
    {
        return Err(CsvError::at(1, "lines end with CR only (convert to LF or CRLF)"));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).comment(Some(b'#')).from_reader(bytes);
    let mut lines = LineCounter::default();
    let mut sheet = Sheet::default();
    let mut slots: Option<Vec<Slot>> = None;
    let mut record = csv::ByteRecord::new();
    loop {
        // The reader skips comment and blank lines before a record without
        // showing them; they lie between where it stood and the record.
        let from = reader.position().byte() as usize;
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| CsvError::at(lines.line_at(bytes, from), format!("unreadable CSV: {e}")))?;
        let (comments, start) = skipped_lines(bytes, from, &mut lines)?;
        match &slots {
            None => sheet.leading.extend(comments),
            Some(_) => sheet.trailing.extend(comments),
        }
        if !more {
            break;
        }
        let line = lines.line_at(bytes, start);
        let fields = texts(&record).map_err(|k| {
            let column = match slots.as_ref().and_then(|s| s.get(k)) {
                None => format!("header: column {}", k + 1),
                Some(Slot::Defined(c)) => format!("column `{}`", c.name),
                Some(Slot::Axis(a)) => format!("column `{}`", shown(&sheet.axes[*a])),
                Some(Slot::Replay) => format!("column `{REPLAY}`"),
                Some(Slot::Measure(m)) => format!("column `{}`", shown(&sheet.measures[*m])),
            };
            CsvError::at(line, format!("{column}: expected UTF-8 text, found other bytes"))
        })?;
        match &slots {
            None => {
                sheet.header_line = line;
                let (s, axes, measures) = header_slots(&fields, line)?;
                slots = Some(s);
                sheet.axes = axes;
                sheet.measures = measures;
            }
            Some(s) => sheet.rows.push(parse_row(s, sheet.axes.len(), sheet.measures.len(), &fields, line)?),
        }
    }
    if slots.is_none() {
        return Err(CsvError::at(lines.line_at(bytes, bytes.len()), "expected a header row, found none"));
    }
    Ok(sheet)
}

/// Counts lines up to a byte offset, moving forward only.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    newlines: u64,
}

impl LineCounter {
    /// The 1-based line of byte `offset` (at or after the last one asked).
    fn line_at(&mut self, bytes: &[u8], offset: usize) -> u64 {
        let offset = offset.clamp(self.offset, bytes.len());
        self.newlines += bytes[self.offset..offset].iter().filter(|&&b| b == b'\n').count() as u64;
        self.offset = offset;
        self.newlines + 1
    }
}

/// The comment lines from `from` on, skipping blank lines as the CSV
/// reader does (a `#` or a line break where a record could start), and the
/// offset where the next record starts (or the end).
fn skipped_lines(bytes: &[u8], from: usize, lines: &mut LineCounter) -> Result<(Vec<Comment>, usize), CsvError> {
    let mut comments = Vec::new();
    let mut at = from;
    while at < bytes.len() {
        match bytes[at] {
            b'\r' | b'\n' => at += 1,
            b'#' => {
                let end = bytes[at..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |n| at + n);
                let line = lines.line_at(bytes, at);
                let body = &bytes[at + 1..end];
                let body = body.strip_suffix(b"\r").unwrap_or(body);
                let text = std::str::from_utf8(body)
                    .map_err(|_| CsvError::at(line, "comment: expected UTF-8 text, found other bytes"))?;
                comments.push(Comment { line, text: text.strip_prefix(' ').unwrap_or(text).to_string() });
                at = end;
            }
            _ => break,
        }
    }
    Ok((comments, at))
}

/// A record's fields as text, or the index of the first that is not UTF-8.
fn texts(record: &csv::ByteRecord) -> Result<Vec<&str>, usize> {
    record.iter().enumerate().map(|(i, field)| std::str::from_utf8(field).map_err(|_| i)).collect()
}

/// What each header column holds, and the swept fields' names.
type HeaderSlots = (Vec<Slot>, Vec<String>, Vec<String>);

fn header_slots(names: &[&str], line: u64) -> Result<HeaderSlots, CsvError> {
    let defined = || LEADING.iter().chain(MEASURES).chain(TRAILING);
    let mut slots = Vec::with_capacity(names.len());
    let mut axes = Vec::new();
    let mut measures = Vec::new();
    let replay_at = names.iter().position(|n| *n == REPLAY).unwrap_or(names.len());
    for (i, &name) in names.iter().enumerate() {
        if names[..i].contains(&name) {
            return Err(CsvError::at(line, format!("header: column `{}` appears twice", shown(name))));
        }
        if name.is_empty() {
            return Err(CsvError::at(line, format!("header: column {} has no name", i + 1)));
        }
        slots.push(match defined().find(|c| c.name == name) {
            Some(c) => Slot::Defined(c),
            None if name == REPLAY => Slot::Replay,
            None if replay_at < i => {
                measures.push(name.to_string());
                Slot::Measure(measures.len() - 1)
            }
            None => {
                axes.push(name.to_string());
                Slot::Axis(axes.len() - 1)
            }
        });
    }
    let missing: Vec<&str> = defined().map(|c| c.name).chain([REPLAY]).filter(|name| !names.contains(name)).collect();
    if let Some(first) = missing.first() {
        let more = if missing.len() > 1 { format!(" (and {} more)", missing.len() - 1) } else { String::new() };
        return Err(CsvError::at(line, format!("header: expected a column `{first}`, found none{more}")));
    }
    Ok((slots, axes, measures))
}

/// Reads one data row by its header's slots. Every defined column must
/// read back to exactly the text it would be written as, so a merged CSV
/// repeats its parts byte for byte.
fn parse_row(slots: &[Slot], axes: usize, measures: usize, fields: &[&str], line: u64) -> Result<Row, CsvError> {
    if fields.len() != slots.len() {
        return Err(CsvError::at(line, format!("row has {} fields, the header has {}", fields.len(), slots.len())));
    }
    let mut row = Row { line, run: RunRow::EMPTY, values: vec![String::new(); axes], replay: String::new() };
    row.run.measures = vec![String::new(); measures];
    for (slot, &text) in slots.iter().zip(fields) {
        match *slot {
            Slot::Defined(c) => (c.read)(text, &mut row.run).map_err(|expected| {
                CsvError::at(line, format!("column `{}`: {expected}, found `{}`", c.name, shown(text)))
            })?,
            Slot::Axis(k) => row.values[k] = text.to_string(),
            Slot::Replay => row.replay = text.to_string(),
            Slot::Measure(m) => row.run.measures[m] = text.to_string(),
        }
    }
    let mut canonical = String::new();
    for (slot, &text) in slots.iter().zip(fields) {
        if let Slot::Defined(c) = *slot {
            canonical.clear();
            (c.write)(&row.run, &mut canonical);
            if canonical != text {
                return Err(CsvError::at(
                    line,
                    format!(
                        "column `{}`: expected `{canonical}` (as tcpsim writes it), found `{}`",
                        c.name,
                        shown(text)
                    ),
                ));
            }
        }
    }
    Ok(row)
}

/// A field for an error message: line breaks and other controls escaped,
/// long text cut.
pub fn shown(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    let mut out: String = text.chars().take(MAX_CHARS).flat_map(char::escape_debug).collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        out.push_str("...");
    }
    out
}

/// Value formats. Each writes a value and reads it back, or says what it
/// expected.
mod unsigned {
    use std::fmt::Write as _;

    pub fn write(value: &u64, out: &mut String) {
        let _ = write!(out, "{value}");
    }

    pub fn read(text: &str) -> Result<u64, String> {
        text.parse().map_err(|_| "expected an unsigned integer".to_string())
    }
}

/// An unsigned integer, or nothing.
mod optional {
    pub fn write(value: &Option<u64>, out: &mut String) {
        if let Some(v) = value {
            super::unsigned::write(v, out);
        }
    }

    pub fn read(text: &str) -> Result<Option<u64>, String> {
        if text.is_empty() {
            return Ok(None);
        }
        super::unsigned::read(text).map(Some).map_err(|_| "expected an unsigned integer or nothing".to_string())
    }
}

/// Nanoseconds written as milliseconds with three decimals (microseconds
/// kept, nanoseconds cut).
mod millis {
    const EXPECTED: &str = "expected milliseconds with three decimals (e.g. 12.345)";

    pub fn write(ns: &u64, out: &mut String) {
        out.push_str(&super::ms(*ns));
    }

    pub fn read(text: &str) -> Result<u64, String> {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let (whole, decimals) = text.split_once('.').ok_or(EXPECTED)?;
        if !digits(whole) || decimals.len() != 3 || !digits(decimals) {
            return Err(EXPECTED.into());
        }
        let whole: u64 = whole.parse().map_err(|_| EXPECTED)?;
        let micros: u64 = decimals.parse().map_err(|_| EXPECTED)?;
        whole.checked_mul(1_000_000).and_then(|ns| ns.checked_add(micros * 1_000)).ok_or_else(|| EXPECTED.into())
    }
}

/// Milliseconds as in [`millis`], or nothing.
mod optional_millis {
    pub fn write(ns: &Option<u64>, out: &mut String) {
        if let Some(ns) = ns {
            super::millis::write(ns, out);
        }
    }

    pub fn read(text: &str) -> Result<Option<u64>, String> {
        if text.is_empty() {
            return Ok(None);
        }
        super::millis::read(text).map(Some).map_err(|e| format!("{e} or nothing"))
    }
}

/// How the run ended, by [`Outcome::name`].
mod outcome {
    use crate::world::Outcome;

    pub fn write(outcome: &Outcome, out: &mut String) {
        out.push_str(outcome.name());
    }

    pub fn read(text: &str) -> Result<Outcome, String> {
        super::OUTCOMES.iter().copied().find(|o| o.name() == text).ok_or_else(|| {
            let names: Vec<&str> = super::OUTCOMES.iter().map(|o| o.name()).collect();
            format!("expected an outcome ({})", names.join(", "))
        })
    }
}

/// The run's trace digest in hexadecimal.
mod digest {
    pub fn write(digest: &str, out: &mut String) {
        out.push_str(digest);
    }

    pub fn read(text: &str) -> Result<String, String> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("expected a hexadecimal digest".into());
        }
        Ok(text.to_string())
    }
}

/// Every [`Outcome`], to read names back. `world` keeps no list of them;
/// `outcome_position` matches exhaustively, so a new variant does not
/// compile until it is listed here too.
const OUTCOMES: [Outcome; 7] = [
    Outcome::Completed,
    Outcome::EventLimit,
    Outcome::TimeLimit,
    Outcome::OutputFailed,
    Outcome::Interrupted,
    Outcome::InFlightLimit,
    Outcome::TraceLimit,
];

#[cfg(test)]
const fn outcome_position(outcome: Outcome) -> usize {
    match outcome {
        Outcome::Completed => 0,
        Outcome::EventLimit => 1,
        Outcome::TimeLimit => 2,
        Outcome::OutputFailed => 3,
        Outcome::Interrupted => 4,
        Outcome::InFlightLimit => 5,
        Outcome::TraceLimit => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RunRow {
        RunRow {
            run: 7,
            seed: 99,
            outcome: Outcome::Completed,
            connections: 2,
            established: 2,
            all_delivered: 1,
            clean_close: 1,
            reset: 1,
            stuck: Some(1),
            visited_closing: 1,
            visited_time_wait: 2,
            establish_ns: Some(20_000_000),
            goodput_bps: Some(1234),
            bytes_delivered: 5000,
            segments_sent: 30,
            retransmissions: 3,
            fast_retransmits: 1,
            drops: 2,
            events: 80,
            end_ns: 4_090_000_000,
            digest: "ab".into(),
            ..RunRow::EMPTY
        }
    }

    fn write(comments: &[&str], axes: &[String], rows: &[(RunRow, Vec<&str>, &str)]) -> String {
        let mut w = Writer::new(Vec::new());
        for c in comments {
            w.comment(c).unwrap();
        }
        w.header(axes).unwrap();
        for (row, values, replay) in rows {
            w.row(row, values, replay).unwrap();
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn every_outcome_is_listed_once() {
        for (i, o) in OUTCOMES.iter().enumerate() {
            assert_eq!(outcome_position(*o), i);
            assert_eq!(outcome::read(o.name()), Ok(*o));
        }
    }

    /// Free text with commas, quotes and line breaks in a swept field's
    /// name, its values and the replay command reads back as written.
    #[test]
    fn quoted_fields_round_trip() {
        let axes = vec!["loss".to_string(), "description".to_string()];
        let replay = "tcpsim run x.ron --seed 99 --set 'name=\"a,\nb \"\"q\"'\r\n";
        let rows = [(sample(), vec!["0.05", "\"x,y\"\n# not a comment\r\n"], replay)];
        let text = write(&["tcpsim sweep", "set: a\nb"], &axes, &rows);
        assert!(text.starts_with("# tcpsim sweep\n# set: a\\nb\nrun,seed,loss,description,outcome,"), "{text}");
        let sheet = read(text.as_bytes()).unwrap();
        assert_eq!(sheet.axes, axes);
        assert_eq!(sheet.leading.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), ["tcpsim sweep", "set: a\\nb"]);
        assert_eq!(sheet.header_line, 3);
        assert_eq!(sheet.rows.len(), 1);
        let row = &sheet.rows[0];
        assert_eq!((row.line, &row.run, row.replay.as_str()), (4, &sample(), replay));
        assert_eq!(row.values, ["0.05", "\"x,y\"\n# not a comment\r\n"]);
        // Written again, the same bytes.
        let values: Vec<&str> = row.values.iter().map(String::as_str).collect();
        assert_eq!(write(&["tcpsim sweep", "set: a\\nb"], &axes, &[(row.run.clone(), values, replay)]), text);
    }

    /// Fields that need no quotes get none: the bytes of existing sweeps.
    #[test]
    fn plain_rows_are_written_as_before() {
        let text = write(&[], &["loss".to_string()], &[(sample(), vec!["0.1"], "")]);
        let row = text.lines().nth(1).unwrap();
        // The columns before `stuck` was added, byte for byte, then `stuck`.
        let before_stuck = "7,99,0.1,completed,2,2,1,1,0,1,0,20.000,,1234,5000,30,3,2,1,2,1,2,0,80,4090.000,ab,";
        assert_eq!(row, format!("{before_stuck},1"));
        let names = text.lines().next().unwrap();
        assert!(names.ends_with(",digest,replay,stuck"), "{names}");
    }

    #[track_caller]
    fn check_error(text: &str, line: u64, message: &str) {
        assert_eq!(read(text.as_bytes()), Err(CsvError::at(line, message)));
    }

    #[test]
    fn malformed_rows_name_their_line_and_what_was_expected() {
        let good = write(&["a", "b"], &["loss".to_string()], &[(sample(), vec!["0.1"], "")]);
        let (head, row) = good.split_at(good.rfind("7,99").unwrap());
        let with = |row: &str| format!("{head}{row}");
        let columns = header(&["loss".to_string()]).len();
        check_error(&with("7,99,0.1\n"), 4, &format!("row has 3 fields, the header has {columns}"));
        check_error(
            &with(&row.replacen("7,99", "x,99", 1)),
            4,
            "column `run`: expected an unsigned integer, found `x`",
        );
        check_error(
            &with(&row.replacen("7,99", "7,-1", 1)),
            4,
            "column `seed`: expected an unsigned integer, found `-1`",
        );
        check_error(
            &with(&row.replacen("completed", "done", 1)),
            4,
            "column `outcome`: expected an outcome (completed, event_limit, time_limit, output_failed, interrupted, \
             in_flight_limit, trace_limit), found `done`",
        );
        check_error(
            &with(&row.replacen("20.000", "20.5", 1)),
            4,
            "column `establish_ms`: expected milliseconds with three decimals (e.g. 12.345) or nothing, found `20.5`",
        );
        check_error(
            &with(&row.replacen("7,99", "07,99", 1)),
            4,
            "column `run`: expected `7` (as tcpsim writes it), found `07`",
        );
        check_error(
            &with(&row.replacen(",3,2,1,", ",3,5,1,", 1)),
            4,
            "column `rto_retransmissions`: expected `2` (as tcpsim writes it), found `5`",
        );
        check_error(
            &with(&row.replacen(",ab,", ",a\u{1}z,", 1)),
            4,
            "column `digest`: expected a hexadecimal digest, found `a\\u{1}z`",
        );
        // A quoted row spanning lines is reported at its first line.
        check_error(&format!("{head}\"7\n\",99\n"), 4, &format!("row has 2 fields, the header has {columns}"));
        check_error("# only a comment\n", 2, "expected a header row, found none");
        check_error("run,seed,run\n", 1, "header: column `run` appears twice");
        let more = MEASURES.len() + TRAILING.len(); // the other measures, `replay`
        check_error(
            "run,seed,loss\n",
            1,
            &format!("header: expected a column `outcome`, found none (and {more} more)"),
        );
        assert_eq!(read(b"# \xff\n").unwrap_err(), CsvError::at(1, "comment: expected UTF-8 text, found other bytes"));
    }

    #[test]
    fn comments_are_kept_with_their_lines() {
        let text = "# one\r\n\n#two\nrun,seed,outcome\n";
        let err = read(text.as_bytes()).unwrap_err();
        assert_eq!(err.line, 4, "the header is on line 4: {err:?}");
        let good = write(&["x"], &[], &[(sample(), vec![], "")]) + "\n# coverage: B-X=1\n";
        let sheet = read(good.as_bytes()).unwrap();
        assert_eq!(sheet.trailing, [Comment { line: 5, text: "coverage: B-X=1".into() }]);
        assert_eq!(sheet.rows[0].line, 3);
        let with_mark = [b"\xEF\xBB\xBF".as_slice(), good.as_bytes()].concat();
        assert_eq!(read(&with_mark), Ok(sheet));
    }
}
