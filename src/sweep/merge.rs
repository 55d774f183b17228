//! `tcpsim merge`: the CSV parts of a sharded sweep back into what the
//! unsharded sweep writes, after checking that they fit together.
//!
//! A part is a sweep CSV ([`super::table`]) whose comments say which
//! sweep it belongs to and which slice of the runs it holds:
//!
//! ```text
//! # base seed: B  seeds: S  (...)      every row's seed is run_seed(B, run % S)
//! # axis: NAME,V0,V1,...               one per swept column, a CSV record
//! # runs: R (P points x S seeds)       R = P x S, P the product of the value counts
//! # shard: I/N  runs A..B              A..B = shard_runs(I, N, R)
//! # digest_version: V                  the same in every part
//! ```
//!
//! Every row's swept values are those of grid point `run / S` (the first
//! axis varying slowest, as [`super::grid`] orders them), so no row can
//! carry a value the sweep did not have. Every identity comment (version,
//! file digest, seeds, axes, settings) is formatted here ([`Identity`])
//! and must be the same in every part; `# coverage:` may follow the rows.
//! Any line that breaks these rules is reported at its line, as bad input;
//! parts that do not belong together (another sweep, a shard missing or
//! given twice) are bad input too.

use super::table::{self, Comment, CsvError, Row, Sheet};
use super::{Axis, PointSummary, RunRow, parse_shard, run_seed, shard_runs, summarize_points_measured};
use crate::rule::{self, Rule};
use std::io::{self, Write};

/// One part as given: its name (as on the command line) and its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Part<'a> {
    /// The part's name, as given on the command line.
    pub label: &'a str,
    /// The part's CSV text.
    pub bytes: &'a [u8],
}

/// Why parts cannot be merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeError {
    /// A line of a part is malformed, or does not fit the other parts.
    At {
        /// The part's name, as given.
        file: String,
        /// The line and what is wrong with it.
        error: CsvError,
    },
    /// The parts as a whole do not make a sweep (a shard is missing).
    Parts(String),
}

impl MergeError {
    fn at(part: &Part<'_>, error: CsvError) -> MergeError {
        MergeError::At { file: part.label.to_string(), error }
    }
}

/// The merged sweep: what the unsharded sweep would have written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merged {
    /// The comments before the header (the shard line left out).
    pub comments: Vec<String>,
    /// The swept fields.
    pub axes: Vec<String>,
    /// The `--measure` columns.
    pub measures: Vec<String>,
    /// The swept values of each grid point, as written.
    pub points: Vec<Vec<String>>,
    /// Every run in run order, each with its grid point.
    pub rows: Vec<RunRow>,
    /// Each row's replay command (empty unless it failed).
    pub replays: Vec<String>,
    /// Behaviour coverage summed over the parts, if they counted it.
    pub coverage: Option<Vec<u64>>,
}

impl Merged {
    /// Writes the CSV.
    pub fn write_csv<W: Write>(&self, out: W) -> io::Result<W> {
        let mut w = table::Writer::new(out);
        for c in &self.comments {
            w.comment(c)?;
        }
        w.header_with(&self.axes, &self.measures)?;
        for (row, replay) in self.rows.iter().zip(&self.replays) {
            let values: Vec<&str> = self.points[row.point].iter().map(String::as_str).collect();
            w.row(row, &values, replay)?;
        }
        if let Some(c) = &self.coverage {
            w.comment(&coverage_comment(c))?;
        }
        w.finish()
    }

    /// The per-point summary, as the unsharded sweep prints it.
    pub fn summaries(&self) -> Vec<PointSummary> {
        // A boolean function's column of numbers holds proportions: the
        // kind comes from the expressions the parts carry.
        let bools: Vec<(String, bool)> = self
            .comments
            .iter()
            .filter_map(|c| c.trim_start_matches('#').trim().strip_prefix("measure: "))
            .filter_map(|spec| crate::measure::expr::parse_measure(spec).ok())
            .map(|m| (m.name.clone(), m.kind() == crate::measure::expr::Kind::Bool))
            .collect();
        let proportions: Vec<bool> = self.measures.iter().map(|n| bools.iter().any(|(b, is)| b == n && *is)).collect();
        summarize_points_measured(&self.axes, &self.points, &self.rows, &self.measures, &proportions)
    }
}

/// The comment that names the encoding of the `digest` column
/// ([`crate::trace::DIGEST_VERSION`]): digests of different encodings
/// never agree, even for the same run, and the crate version does not
/// always change with it.
pub fn digest_version_comment(version: u32) -> String {
    format!("digest_version: {version}")
}

/// What identifies a sweep: parts of one sweep carry the same comments.
/// Every identity comment is formatted here, and only here, so the sweep
/// that writes a part and the merge that reads it cannot drift apart.
pub struct Identity<'a> {
    /// The simulation file's name (without its directory) and bytes.
    pub file_name: &'a str,
    /// The simulation file's bytes, identified by their XXH3-128.
    pub file_bytes: &'a [u8],
    /// The scenario's `name`: the merged sweep's plot title.
    pub scenario: &'a str,
    /// The base seed: run i of every point uses `run_seed(base_seed, i)`.
    pub base_seed: u64,
    /// Runs (seeds) per grid point.
    pub seeds: u64,
    /// The swept fields and their values, in sweep order.
    pub axes: &'a [Axis],
    /// The `--set` values as given.
    pub set: &'a [String],
    /// The `--measure` values (`NAME=EXPR`) as given.
    pub measures: &'a [String],
    /// Runs in the whole sweep: grid points × `seeds`.
    pub runs: u64,
}

impl Identity<'_> {
    /// The comments before the header (without `# `), in order; a part
    /// adds [`shard_comment`].
    pub fn comments(&self) -> Vec<String> {
        let digest = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(self.file_bytes));
        let mut lines = vec![
            format!("tcpsim {} sweep", crate::report::VERSION),
            digest_version_comment(crate::trace::DIGEST_VERSION),
            format!("file: {}  xxh3-128 {digest}", self.file_name),
            format!("scenario: {}", self.scenario),
            seeds_comment(self.base_seed, self.seeds),
        ];
        for axis in self.axes {
            let values: Vec<&str> = axis.values.iter().map(|v| v.0.as_str()).collect();
            lines.push(axis_comment(&axis.column, &values));
        }
        if !self.set.is_empty() {
            lines.push(format!("set: {}", self.set.join("  ")));
        }
        for m in self.measures {
            lines.push(format!("measure: {m}"));
        }
        let points = self.runs / self.seeds.max(1);
        lines.push(runs_comment(self.runs, points, self.seeds));
        lines
    }
}

/// The comment that gives the sweep's base seed and seeds per point.
fn seeds_comment(base_seed: u64, seeds: u64) -> String {
    format!("base seed: {base_seed}  seeds: {seeds}  (run i of every point uses run_seed(base, i))")
}

/// The comment that gives the number of runs.
fn runs_comment(runs: u64, points: u64, seeds: u64) -> String {
    let (points, seeds) = (crate::report::count(points, "point"), crate::report::count(seeds, "seed"));
    format!("runs: {runs} ({points} x {seeds})")
}

/// `axis: NAME,VALUE,...`: one swept field and its values in sweep order,
/// as one CSV record (quoted where a field holds a comma, quote or space),
/// so any value reads back exactly. A comment is one line, so a backslash,
/// line feed or carriage return in a field is written `\\`, `\n`, `\r`.
fn axis_comment(name: &str, values: &[&str]) -> String {
    let escape = |field: &str| field.replace('\\', "\\\\").replace('\n', "\\n").replace('\r', "\\r");
    let mut text = String::from("axis: ");
    for (k, field) in std::iter::once(name).chain(values.iter().copied()).map(escape).enumerate() {
        if k > 0 {
            text.push(',');
        }
        // RFC 4180 quoting; a space is quoted too, so that no reader's
        // trimming can touch a value.
        if field.is_empty() || field.contains([',', '"', ' ']) {
            text.push('"');
            text.push_str(&field.replace('"', "\"\""));
            text.push('"');
        } else {
            text.push_str(&field);
        }
    }
    text
}

/// The fields of an [`axis_comment`] after `axis: `: the name and the
/// values, or `None` if the text is not one CSV record of at least two
/// fields with valid escapes.
fn parse_axis_comment(text: &str) -> Option<(String, Vec<String>)> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let mut records = reader.records();
    let record = records.next()?.ok()?;
    if records.next().is_some() || record.len() < 2 {
        return None;
    }
    let mut fields = record.iter().map(unescape);
    let name = fields.next()??;
    Some((name, fields.collect::<Option<Vec<String>>>()?))
}

/// Undoes the escapes of [`axis_comment`].
fn unescape(field: &str) -> Option<String> {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '\\' => match chars.next()? {
                '\\' => '\\',
                'n' => '\n',
                'r' => '\r',
                _ => return None,
            },
            c => c,
        });
    }
    Some(out)
}

/// The comment that says which slice of the runs a part holds: shard
/// `i` of `n`, written canonically whatever `--shard` text gave it (a
/// carriage return from a CRLF script would otherwise end up inside it).
pub fn shard_comment(i: u64, n: u64, first: u64, last: u64) -> String {
    format!("shard: {i}/{n}  runs {first}..{last}")
}

/// The comment that gives how often each behaviour ID fired.
pub fn coverage_comment(coverage: &[u64]) -> String {
    let parts: Vec<String> =
        Rule::all().filter(|r| coverage[r.index()] > 0).map(|r| format!("{r}={}", coverage[r.index()])).collect();
    format!("coverage: {}", parts.join(" "))
}

/// Merges the parts (in any order) into one sweep.
pub fn merge(parts: &[Part<'_>]) -> Result<Merged, MergeError> {
    let mut read = Vec::with_capacity(parts.len());
    for part in parts {
        let sheet = table::read(part.bytes).map_err(|e| MergeError::at(part, e))?;
        read.push((*part, describe(sheet).map_err(|e| MergeError::at(part, e))?));
    }
    let Some((first_part, first)) = read.first() else {
        return Err(MergeError::Parts("no parts given".into()));
    };
    for (part, info) in &read[1..] {
        fits(info, part.label, first, first_part.label).map_err(|e| MergeError::at(part, e))?;
    }
    read.sort_by_key(|(_, info)| info.shard.0);
    for pair in read.windows(2) {
        let ((a, _), (b, info)) = (&pair[0], &pair[1]);
        if pair[0].1.shard.0 == info.shard.0 {
            let message =
                format!("shard {}/{} is given twice ({} and {})", info.shard.0, info.shard.1, a.label, b.label);
            return Err(MergeError::at(b, CsvError::at(info.shard_line, message)));
        }
    }
    let n = read[0].1.shard.1;
    let present: Vec<u64> = read.iter().map(|(_, info)| info.shard.0).collect();
    // The first few missing shards are named, the rest counted (a part of
    // 1000 given alone must not print 999 names).
    let missing: Vec<String> =
        (0..n).filter(|i| !present.contains(i)).take(MISSING_NAMED).map(|i| format!("{i}/{n}")).collect();
    if !missing.is_empty() {
        let absent = n - present.len() as u64;
        let named = missing.len() as u64;
        let more = if absent > named { format!(" and {} more", absent - named) } else { String::new() };
        return Err(MergeError::Parts(format!("missing shard(s): {}{more}", missing.join(", "))));
    }
    Ok(join(read))
}

/// How many missing shards an error names before it counts the rest.
const MISSING_NAMED: usize = 10;

/// What a part's comments say, and its rows.
struct PartInfo {
    sheet: Sheet,
    /// Comments before the header, the shard line left out.
    identity: Vec<Comment>,
    /// `(i, n)` and the line saying so.
    shard: (u64, u64),
    shard_line: u64,
    /// The runs `first..last` the part holds.
    runs: (u64, u64),
    base_seed: u64,
    seeds: u64,
    /// The encoding of the `digest` column, and the line saying so.
    digest_version: (u64, u64),
    /// The `# axis:` lines: each swept field with its values, in sweep order.
    grid: Vec<(String, Vec<String>)>,
    /// The number of grid points (the product of the axes' value counts).
    points: u64,
    coverage: Option<Vec<u64>>,
}

/// The beginnings of the comments before a part's header, in the order
/// sweep writes them.
const COMMENT_ORDER: [&str; 10] = [
    "tcpsim ",
    "digest_version: ",
    "file: ",
    "scenario: ",
    "base seed: ",
    "axis: ",
    "set: ",
    "measure: ",
    "runs: ",
    "shard: ",
];

/// Reads what a part's comments say and checks its rows against it.
fn describe(mut sheet: Sheet) -> Result<PartInfo, CsvError> {
    let header_line = sheet.header_line;
    let (mut shard, mut seeds, mut runs, mut digest_version) = (None, None, None, None);
    let mut identity = Vec::new();
    let mut grid: Vec<(String, Vec<String>)> = Vec::new();
    // The comments come in the order sweep writes them (Identity::comments,
    // then the shard line), so a part whose lines were moved is refused
    // rather than merged into comments the unsharded sweep never wrote.
    let mut last_kind: Option<(usize, &str)> = None;
    for c in std::mem::take(&mut sheet.leading) {
        if let Some(kind) = COMMENT_ORDER.iter().position(|k| c.text.starts_with(k)) {
            if let Some((_, last_name)) = last_kind.filter(|(last, _)| *last > kind) {
                let message = format!(
                    "expected `# {}` before `# {}` (the order sweep writes them), found it after",
                    COMMENT_ORDER[kind].trim_end_matches([':', ' ']),
                    last_name.trim_end_matches([':', ' '])
                );
                return Err(CsvError::at(c.line, message));
            }
            last_kind = Some((kind, COMMENT_ORDER[kind]));
        }
        if let Some(rest) = c.text.strip_prefix("shard: ") {
            once(&shard, &c, "shard")?;
            shard =
                Some((parse_shard_comment(rest).ok_or_else(|| expected(&c, "# shard: I/N  runs A..B", ""))?, c.line));
            continue;
        }
        if let Some(rest) = c.text.strip_prefix("base seed: ") {
            once(&seeds, &c, "base seed")?;
            seeds = Some((
                parse_seeds_comment(rest).ok_or_else(|| expected(&c, "# base seed: B  seeds: S", " with S >= 1"))?,
                c.line,
            ));
        } else if let Some(rest) = c.text.strip_prefix("digest_version: ") {
            once(&digest_version, &c, "digest_version")?;
            digest_version = Some((rest.parse::<u64>().map_err(|_| expected(&c, "# digest_version: N", ""))?, c.line));
        } else if let Some(rest) = c.text.strip_prefix("axis: ") {
            let axis = parse_axis_comment(rest)
                .ok_or_else(|| expected(&c, "# axis: NAME,VALUE,...", " (CSV quoted, at least one value)"))?;
            if grid.iter().any(|(name, _)| *name == axis.0) {
                let message = format!("a second `# axis:` line for `{}`", table::shown(&axis.0));
                return Err(CsvError::at(c.line, message));
            }
            grid.push(axis);
        } else if c.text.starts_with("axes: ") {
            // Before `# axis:`, one line held every axis, its values joined
            // by commas and spaces: a value holding either cannot be read
            // back, so such a part's values cannot be checked.
            return Err(CsvError::at(
                c.line,
                "found `# axes:`, written by an older tcpsim: its swept values cannot be read back \
                 exactly; run this shard again with this version (it writes one `# axis:` line per field)",
            ));
        } else if let Some(rest) = c.text.strip_prefix("runs: ") {
            once(&runs, &c, "runs")?;
            runs = Some((
                parse_runs_comment(rest)
                    .ok_or_else(|| expected(&c, "# runs: R (P points x S seeds)", " with R = P x S"))?,
                c.line,
            ));
        }
        identity.push(c);
    }
    let missing =
        |what: &str| CsvError::at(header_line, format!("expected a `{what}` comment before the header, found none"));
    let ((shard, runs_given), shard_line) = shard.ok_or_else(|| {
        CsvError::at(
            header_line,
            "expected a `# shard: I/N  runs A..B` comment before the header (parts are written by \
             `sweep --shard`), found none",
        )
    })?;
    let ((base_seed, seeds), _) = seeds.ok_or_else(|| missing("# base seed: B  seeds: S"))?;
    let ((total, seeds_again), runs_line) = runs.ok_or_else(|| missing("# runs: R (P points x S seeds)"))?;
    // Parts written before the CSV named its digest encoding cannot say
    // whether their digests compare with the others'.
    let digest_version = digest_version.ok_or_else(|| {
        missing(
            "# digest_version: N` (written by tcpsim since sweeps name their digest encoding; sweep this part again",
        )
    })?;
    if seeds_again != seeds {
        return Err(CsvError::at(
            runs_line,
            format!("expected {seeds} seeds per point (as the base seed line says), found {seeds_again}"),
        ));
    }
    let names: Vec<&String> = grid.iter().map(|(name, _)| name).collect();
    if names.iter().copied().ne(&sheet.axes) {
        let listed: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
        let message = format!(
            "header: expected the swept fields of the `# axis:` lines (`{}`), found `{}`",
            table::shown(&listed.join(", ")),
            table::shown(&sheet.axes.join(", "))
        );
        return Err(CsvError::at(header_line, message));
    }
    let points = grid.iter().try_fold(1u64, |product, (_, values)| product.checked_mul(values.len() as u64));
    let Some(points) = points.filter(|p| p.checked_mul(seeds) == Some(total)) else {
        let counts: Vec<String> = grid.iter().map(|(_, values)| values.len().to_string()).collect();
        let product = if counts.is_empty() { "1 (no axis)".to_string() } else { counts.join(" x ") };
        return Err(CsvError::at(
            runs_line,
            format!("expected {total} runs = {product} points x {seeds} seeds (the `# axis:` lines), found otherwise"),
        ));
    };
    let slice = shard_runs(shard.0, shard.1, total);
    if runs_given != slice {
        let (i, n) = shard;
        return Err(CsvError::at(
            shard_line,
            format!(
                "shard {i}/{n} of {total} runs holds runs {}..{}, found runs {}..{}",
                slice.0, slice.1, runs_given.0, runs_given.1
            ),
        ));
    }
    let mut coverage = None;
    for c in std::mem::take(&mut sheet.trailing) {
        let Some(rest) = c.text.strip_prefix("coverage: ") else {
            return Err(CsvError::at(
                c.line,
                format!("expected only `# coverage:` after the header, found `# {}`", table::shown(&c.text)),
            ));
        };
        if coverage.is_some() {
            return Err(CsvError::at(c.line, "a second `# coverage:` line"));
        }
        coverage = Some(parse_coverage(rest).map_err(|m| CsvError::at(c.line, format!("coverage: {m}")))?);
    }
    let info = PartInfo {
        sheet,
        identity,
        shard,
        shard_line,
        runs: runs_given,
        base_seed,
        seeds,
        digest_version,
        grid,
        points,
        coverage,
    };
    check_rows(&info)?;
    Ok(info)
}

/// A comment that may appear once.
fn once<T>(seen: &Option<(T, u64)>, c: &Comment, what: &str) -> Result<(), CsvError> {
    match seen {
        Some((_, line)) => Err(CsvError::at(c.line, format!("a second `# {what}:` line (the first is line {line})"))),
        None => Ok(()),
    }
}

fn expected(c: &Comment, form: &str, condition: &str) -> CsvError {
    CsvError::at(c.line, format!("expected `{form}`{condition}, found `# {}`", table::shown(&c.text)))
}

/// `I/N  runs A..B`.
fn parse_shard_comment(text: &str) -> Option<((u64, u64), (u64, u64))> {
    let (spec, runs) = text.split_once("  runs ")?;
    let (first, last) = runs.split_once("..")?;
    let runs = (first.parse().ok()?, last.parse().ok()?);
    Some((parse_shard(spec)?, runs))
}

/// `B  seeds: S  (...)`, S at least 1.
fn parse_seeds_comment(text: &str) -> Option<(u64, u64)> {
    let (base, rest) = text.split_once("  seeds: ")?;
    let seeds: u64 = rest.split(' ').next()?.parse().ok()?;
    Some((base.parse().ok()?, seeds)).filter(|_| seeds > 0)
}

/// `R (P points x S seeds)`, R = P x S: gives (R, S).
fn parse_runs_comment(text: &str) -> Option<(u64, u64)> {
    let (runs, rest) = text.split_once(" (")?;
    // One point or seed is singular.
    let (points, rest) = rest.split_once(" points x ").or_else(|| rest.split_once(" point x "))?;
    let seeds = rest.strip_suffix(" seeds)").or_else(|| rest.strip_suffix(" seed)"))?;
    let (runs, points, seeds): (u64, u64, u64) = (runs.parse().ok()?, points.parse().ok()?, seeds.parse().ok()?);
    (points.checked_mul(seeds) == Some(runs)).then_some((runs, seeds))
}

/// `ID=N ID=N ...`, each ID at most once.
fn parse_coverage(text: &str) -> Result<Vec<u64>, String> {
    let mut counts = vec![0u64; rule::COUNT];
    let mut seen = [false; rule::COUNT];
    for item in text.split_whitespace() {
        let shown = table::shown(item);
        let (id, n) =
            item.split_once('=').ok_or_else(|| format!("expected ID=COUNT (e.g. B-CLOSE-06=12), found `{shown}`"))?;
        let rule = Rule::parse(id).ok_or_else(|| format!("expected a behaviour ID, found `{}`", table::shown(id)))?;
        if std::mem::replace(&mut seen[rule.index()], true) {
            return Err(format!("{rule} appears twice"));
        }
        counts[rule.index()] =
            n.parse().map_err(|_| format!("expected ID=COUNT (e.g. B-CLOSE-06=12), found `{shown}`"))?;
    }
    Ok(counts)
}

/// The rows are the part's runs, in order, each with its derived seed.
fn check_rows(info: &PartInfo) -> Result<(), CsvError> {
    let (first, last) = info.runs;
    for (k, row) in info.sheet.rows.iter().enumerate() {
        let run = first + k as u64;
        if run >= last {
            return Err(CsvError::at(
                row.line,
                format!("expected no more rows (the part holds runs {first}..{last}), found run {}", row.run.run),
            ));
        }
        if row.run.run != run {
            return Err(CsvError::at(
                row.line,
                format!(
                    "column `run`: expected {run} (the part's runs follow one another from {first}), found `{}`",
                    row.run.run
                ),
            ));
        }
        let seed = run_seed(info.base_seed, run % info.seeds);
        if row.run.seed != seed {
            return Err(CsvError::at(
                row.line,
                format!(
                    "column `seed`: expected {seed} (run_seed(base seed, {})), found `{}`",
                    run % info.seeds,
                    row.run.seed
                ),
            ));
        }
        // The replay column holds a command exactly when the run failed.
        if row.replay.is_empty() == row.run.failed() {
            let message = if row.run.failed() {
                "column `replay`: expected the command that replays this failed run, found nothing".to_string()
            } else {
                format!(
                    "column `replay`: expected nothing (the run did not fail), found `{}`",
                    table::shown(&row.replay)
                )
            };
            return Err(CsvError::at(row.line, message));
        }
        let point = run / info.seeds;
        for (k, (name, value)) in grid_point(&info.grid, point).into_iter().enumerate() {
            if row.values[k] != *value {
                return Err(CsvError::at(
                    row.line,
                    format!(
                        "column `{}`: expected `{}` (run {run} is of grid point {point}, as the `# axis:` lines \
                         give it), found `{}`",
                        table::shown(name),
                        table::shown(value),
                        table::shown(&row.values[k])
                    ),
                ));
            }
        }
    }
    let count = info.sheet.rows.len() as u64;
    if count < last - first {
        return Err(CsvError::at(
            info.shard_line,
            format!("expected {} rows (runs {first}..{last}), found {count}", last - first),
        ));
    }
    Ok(())
}

/// Each identity comment with its key: the text before its first `:` (the
/// first word if it has none, as the version line), numbered when it
/// repeats (`axis` 0, 1, ...).
fn keyed(comments: &[Comment]) -> Vec<((&str, usize), &Comment)> {
    let mut out: Vec<((&str, usize), &Comment)> = Vec::with_capacity(comments.len());
    for c in comments {
        let name = c.text.split_once(':').map_or_else(|| c.text.split(' ').next().unwrap_or(""), |(k, _)| k);
        let repeat = out.iter().filter(|((k, _), _)| *k == name).count();
        out.push(((name, repeat), c));
    }
    out
}

/// Whether two `measure:` comments name the same measure, spelt
/// differently (spacing, the case of a state): their canonical forms
/// agree.
fn same_measure(a: &str, b: &str) -> bool {
    let canonical = |t: &str| {
        t.strip_prefix("measure: ")
            .and_then(|spec| crate::measure::expr::parse_measure(spec).ok())
            .map(|m| m.canonical())
    };
    matches!((canonical(a), canonical(b)), (Some(x), Some(y)) if x == y)
}

/// The index (in characters) of the first character where `a` and `b`
/// differ, or the shorter one's length.
fn first_difference(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// Characters shown before a difference, for context.
const CONTEXT_BEFORE: usize = 20;

/// The text around character `at`, as [`table::shown`] shows it, with
/// `...` where it was cut.
fn window(text: &str, at: usize) -> String {
    let start = at.saturating_sub(CONTEXT_BEFORE);
    let rest: String = text.chars().skip(start).collect();
    let cut = if start > 0 { "..." } else { "" };
    format!("{cut}{}", table::shown(&rest))
}

/// The swept values of grid point `point`: the grid is every combination
/// of the axes' values, the first axis varying slowest (as
/// [`super::grid`] orders it). Each value comes with its field's name.
fn grid_point(grid: &[(String, Vec<String>)], mut point: u64) -> Vec<(&String, &String)> {
    let mut values = Vec::with_capacity(grid.len());
    for (name, axis) in grid.iter().rev() {
        let count = axis.len() as u64;
        values.push((name, &axis[(point % count) as usize]));
        point /= count;
    }
    values.reverse();
    values
}

/// Whether a part belongs to the same sweep as the first one. Comments
/// are paired by key (`file`, `set`, the n-th `axis`, ...), so an extra or
/// absent one is named as such rather than shifting the others.
fn fits(info: &PartInfo, label: &str, first: &PartInfo, first_label: &str) -> Result<(), CsvError> {
    let differ = |line: u64, column: u64, what: String| {
        CsvError::at_column(
            line,
            column,
            format!(
                "this part and {first_label} come from different sweeps (file, seeds, axes or settings differ): {what}"
            ),
        )
    };
    let ((here, line), (there, _)) = (info.digest_version, first.digest_version);
    if here != there {
        return Err(CsvError::at(
            line,
            format!(
                "digest_version {here} here, {there} in {first_label}: the `digest` columns use different encodings and cannot be compared (sweep every part with the same tcpsim)"
            ),
        ));
    }
    let theirs = keyed(&first.identity);
    let ours = keyed(&info.identity);
    for (key, c) in &ours {
        match theirs.iter().find(|(k, _)| k == key) {
            Some((_, other)) if other.text == c.text || same_measure(&c.text, &other.text) => {}
            Some((_, other)) => {
                let at = first_difference(&c.text, &other.text);
                let (here, there) = (window(&c.text, at), window(&other.text, at));
                // The line is `# ` and the text: the text's character `at`
                // (0-based) is the line's column `at + 3`.
                return Err(differ(c.line, at as u64 + 3, format!("`{here}` here, `{there}` in {first_label}")));
            }
            None => return Err(differ(c.line, 1, format!("`# {}` only in {label}", table::shown(&c.text)))),
        }
    }
    if let Some((_, other)) = theirs.iter().find(|(k, _)| !ours.iter().any(|(key, _)| key == k)) {
        let message = format!("`# {}` only in {first_label}", table::shown(&other.text));
        return Err(differ(info.sheet.header_line, 1, message));
    }
    if info.sheet.measures != first.sheet.measures {
        let (here, there) = (info.sheet.measures.join(", "), first.sheet.measures.join(", "));
        return Err(differ(
            info.sheet.header_line,
            1,
            format!("measures `{}` here, `{}` in {first_label}", table::shown(&here), table::shown(&there)),
        ));
    }
    if info.sheet.axes != first.sheet.axes {
        let (here, there) = (info.sheet.axes.join(", "), first.sheet.axes.join(", "));
        return Err(differ(
            info.sheet.header_line,
            1,
            format!("swept `{}` here, `{}` in {first_label}", table::shown(&here), table::shown(&there)),
        ));
    }
    if info.shard.1 != first.shard.1 {
        let (i, n) = info.shard;
        return Err(CsvError::at(
            info.shard_line,
            format!("shard {i}/{n}, but {first_label} is one of {}", first.shard.1),
        ));
    }
    if info.coverage.is_some() != first.coverage.is_some() {
        let line = info.sheet.rows.last().map_or(info.sheet.header_line, |r| r.line);
        return Err(CsvError::at(
            line,
            format!("this part and {first_label} differ in --coverage (a `# coverage:` line in one only)"),
        ));
    }
    Ok(())
}

/// Joins checked parts, sorted by shard, into one sweep: the rows in run
/// order (checked), each row's grid point found from its run, the points'
/// values from the `# axis:` lines (every row was checked against them).
fn join(parts: Vec<(Part<'_>, PartInfo)>) -> Merged {
    let first = &parts[0].1;
    let comments = first.identity.iter().map(|c| c.text.clone()).collect();
    let axes = first.sheet.axes.clone();
    let measures = first.sheet.measures.clone();
    let seeds = first.seeds;
    let points = (0..first.points)
        .map(|p| grid_point(&first.grid, p).into_iter().map(|(_, value)| value.clone()).collect())
        .collect();
    let mut coverage = first.coverage.as_ref().map(|_| vec![0u64; rule::COUNT]);
    let (mut rows, mut replays) = (Vec::new(), Vec::new());
    for (_, info) in parts {
        if let (Some(total), Some(c)) = (&mut coverage, &info.coverage) {
            for (t, n) in total.iter_mut().zip(c) {
                *t = t.saturating_add(*n);
            }
        }
        for Row { run: mut row, replay, .. } in info.sheet.rows {
            row.point = (row.run / seeds) as usize;
            rows.push(row);
            replays.push(replay);
        }
    }
    Merged { comments, axes, measures, points, rows, replays, coverage }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any value (commas, quotes, spaces, line breaks, backslashes) reads
    /// back exactly from its `# axis:` line, which stays one line.
    #[test]
    fn axis_comments_read_back_exactly() {
        let values = ["0", "a,b", "\"q\"", " x ", "c\nd\r", "x\\ny", ""];
        let text = axis_comment("name", &values);
        assert!(!text.contains(['\n', '\r']), "{text}");
        let (name, back) = parse_axis_comment(text.strip_prefix("axis: ").unwrap()).unwrap();
        assert_eq!(name, "name");
        assert_eq!(back, values);
        assert_eq!(parse_axis_comment("loss"), None, "no values");
        assert_eq!(parse_axis_comment("loss,a\\q"), None, "an unknown escape");
    }

    /// The grid orders points with the first axis varying slowest.
    #[test]
    fn grid_points_vary_the_last_axis_fastest() {
        let grid = vec![
            ("a".to_string(), vec!["0".to_string(), "1".to_string()]),
            ("b".to_string(), vec!["x".to_string(), "y".to_string(), "z".to_string()]),
        ];
        let values = |p| grid_point(&grid, p).into_iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>();
        assert_eq!(values(0), ["0", "x"]);
        assert_eq!(values(2), ["0", "z"]);
        assert_eq!(values(4), ["1", "y"]);
    }
}
