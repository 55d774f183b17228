//! `tcpsim sweep` and `tcpsim merge`: many seeded runs over a grid of
//! settings, in parallel, optionally sharded over machines, with a CSV of
//! runs and a summary of outcomes.

use super::output::{Dest, check_distinct};
use super::run::interrupt_flag;
use super::{EXIT_BAD_INPUT, EXIT_EXPECT_FAILED, EXIT_INCOMPLETE, EXIT_OK, MergeArgs, SweepArgs, error};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufWriter, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tcpsim::model::Model;
use tcpsim::rng::Ppm;
use tcpsim::rule::{self, Rule};
use tcpsim::scenario::{self, Override};
use tcpsim::sweep::{self, Axis, PointSummary, RunRow, Totals};

/// Splits `a,b,(c,d),"e,f"` at top-level commas.
fn split_values(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut depth, mut quoted) = (0i32, false);
    for c in list.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' | '[' | '{' if !quoted => depth += 1,
            ')' | ']' | '}' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    out
}

/// Builds the axes from `--loss` and `--vary`.
fn axes(args: &SweepArgs, bytes: &[u8]) -> Result<Vec<Axis>, String> {
    let mut axes = Vec::new();
    if let Some(list) = &args.loss {
        let mut values = Vec::new();
        for v in split_values(list) {
            if Ppm::parse_decimal(&v).is_none() {
                return Err(format!("--loss {v}: expected probabilities in [0, 1] with at most 6 decimals"));
            }
            values.push((v.clone(), scenario::loss_overrides(bytes, &v)));
        }
        axes.push(Axis { column: "loss".into(), values });
    }
    for spec in &args.vary {
        let (field, list) = spec
            .split_once('=')
            .ok_or_else(|| format!("--vary {spec}: expected FIELD=v1,v2,... (e.g. tcp.rfc1337=false,true)"))?;
        let values = split_values(list);
        if values.iter().any(|v| v.is_empty()) {
            return Err(format!("--vary {spec}: empty value"));
        }
        let mut axis = Axis { column: field.trim().to_string(), values: Vec::new() };
        if axis.column == "seed" {
            return Err("--vary seed: sweeps choose the seeds themselves (use --seeds N)".into());
        }
        for v in values {
            let o = Override::parse(&format!("{}={v}", axis.column)).map_err(|m| format!("--vary {spec}: {m}"))?;
            axis.column = o.path.clone();
            axis.values.push((v, vec![o]));
        }
        if axes.iter().any(|a: &Axis| a.column == axis.column) {
            return Err(format!("--vary {}: given twice", axis.column));
        }
        axes.push(axis);
    }
    Ok(axes)
}

/// The lines that identify a sweep; parts of one sweep carry the same.
fn identity(args: &SweepArgs, bytes: &[u8], base_seed: u64, axes: &[Axis], runs: u64) -> Vec<String> {
    let name =
        args.file.file_name().map_or_else(|| args.file.display().to_string(), |n| n.to_string_lossy().into_owned());
    let digest = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes));
    let mut lines = vec![
        format!("# tcpsim {} sweep", tcpsim::report::VERSION),
        format!("# file: {name}  xxh3-128 {digest}"),
        format!("# base seed: {base_seed}  seeds: {}  (run i of every point uses run_seed(base, i))", args.seeds),
    ];
    let axes_desc: Vec<String> = axes
        .iter()
        .map(|a| format!("{}={}", a.column, a.values.iter().map(|v| v.0.as_str()).collect::<Vec<_>>().join(",")))
        .collect();
    lines.push(format!("# axes: {}", if axes_desc.is_empty() { "none".into() } else { axes_desc.join("  ") }));
    if !args.set.is_empty() {
        lines.push(format!("# set: {}", args.set.join("  ")));
    }
    let points = runs / args.seeds.max(1);
    lines.push(format!("# runs: {runs} ({points} points x {} seeds)", args.seeds));
    lines
}

fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let err = || format!("--shard {s}: expected i/n with 0 <= i < n, e.g. 0/4");
    let (i, n) = s.split_once('/').ok_or_else(err)?;
    let (i, n): (u64, u64) = (i.trim().parse().map_err(|_| err())?, n.trim().parse().map_err(|_| err())?);
    if n == 0 || i >= n {
        return Err(err());
    }
    Ok((i, n))
}

fn replay(args: &SweepArgs, axes: &[Axis], point: &[usize], seed: u64) -> String {
    let mut cmd = format!("tcpsim run {} --seed {seed}", args.file.display());
    for s in &args.set {
        cmd.push_str(&format!(" --set '{s}'"));
    }
    for (a, &v) in axes.iter().zip(point) {
        let value = &a.values[v].0;
        if a.column == "loss" && args.loss.is_some() {
            cmd.push_str(&format!(" --loss {value}"));
        } else {
            cmd.push_str(&format!(" --set '{}={value}'", a.column));
        }
    }
    cmd
}

fn coverage_line(coverage: &[u64]) -> String {
    let parts: Vec<String> =
        Rule::all().filter(|r| coverage[r.index()] > 0).map(|r| format!("{r}={}", coverage[r.index()])).collect();
    format!("# coverage: {}", parts.join(" "))
}

/// A table of how often each behaviour fired, and those never reached.
pub fn coverage_report(coverage: &[u64]) -> String {
    let mut s = String::from("behaviour coverage (inputs handled per behaviour ID):\n");
    for r in Rule::all().filter(|r| coverage[r.index()] > 0) {
        s.push_str(&format!("  {r:<12} {}\n", coverage[r.index()]));
    }
    let never: Vec<String> = Rule::all().filter(|r| coverage[r.index()] == 0).map(|r| r.to_string()).collect();
    s.push_str(&format!(
        "reached {} of {} IDs; never reached: {}\n",
        rule::COUNT - never.len(),
        rule::COUNT,
        never.join(" ")
    ));
    s
}

pub fn sweep(args: &SweepArgs) -> u8 {
    let label = args.file.display().to_string();
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{label}: error: cannot read the file: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if args.seeds == 0 {
        error("--seeds 0: expected at least 1");
        return EXIT_BAD_INPUT;
    }
    let axes = match axes(args, &bytes) {
        Ok(a) => a,
        Err(e) => {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    };
    let mut base = Vec::new();
    for s in &args.set {
        match Override::parse(s) {
            Ok(o) => base.push(o),
            Err(m) => {
                error(&format!("--set {s}: {m}"));
                return EXIT_BAD_INPUT;
            }
        }
    }
    let points = sweep::grid(&axes);
    let runs = points.len() as u64 * args.seeds;
    if runs > super::MAX_SWEEP_RUNS {
        error(&format!(
            "{runs} runs: above the limit of {}; use fewer seeds or values, or --shard",
            super::MAX_SWEEP_RUNS
        ));
        return EXIT_BAD_INPUT;
    }
    // Load every grid point's model once; any bad value is bad input.
    let mut models: Vec<Model> = Vec::with_capacity(points.len());
    for p in &points {
        let mut overrides = base.clone();
        for (a, &v) in axes.iter().zip(p) {
            overrides.extend(a.values[v].1.iter().cloned());
        }
        match scenario::load(&bytes, &overrides) {
            Ok(m) => models.push(m),
            Err(errs) => {
                for e in errs {
                    eprintln!("{}", e.render(&label));
                }
                return EXIT_BAD_INPUT;
            }
        }
    }
    let base_seed = models[0].seed;
    let (first, last) = match args.shard.as_deref().map(parse_shard).transpose() {
        Ok(Some((i, n))) => (i * runs / n, (i + 1) * runs / n),
        Ok(None) => (0, runs),
        Err(e) => {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    };
    let outputs = [
        ("--out", args.out.as_deref()),
        ("--json", args.json.as_deref()),
        ("--plot", args.plot.as_deref()),
        ("--state-diagram", args.state_diagram.as_deref()),
    ];
    if let Err(e) = check_distinct(&outputs, &[("the simulation file itself", &args.file)]) {
        error(&e);
        return EXIT_BAD_INPUT;
    }
    // Install the handler before any temp file exists, so an interrupt can
    // never leave one behind.
    let stop = interrupt_flag();
    // Every output is opened (as a temp file) before the runs, so a bad path
    // is bad input, not a lost sweep.
    let Some(dests) = open_outputs(&outputs) else {
        return EXIT_BAD_INPUT;
    };

    let Some((rows, totals)) = execute(args, &models, first, last, &stop) else {
        error(&format!("{label}: sweep interrupted; nothing written"));
        return EXIT_INCOMPLETE;
    };

    // The CSV, in run order.
    let mut csv = identity(args, &bytes, base_seed, &axes, runs);
    if let Some(shard) = &args.shard {
        csv.push(format!("# shard: {shard}  runs {first}..{last}"));
    }
    csv.push(sweep::csv_header(&axes));
    for row in &rows {
        let point = &points[row.point];
        let values: Vec<&str> = axes.iter().zip(point).map(|(a, &v)| a.values[v].0.as_str()).collect();
        let replay = if row.failed() { replay(args, &axes, point, row.seed) } else { String::new() };
        csv.push(sweep::csv_row(row, &values, &replay));
    }
    if args.coverage {
        csv.push(coverage_line(&totals.coverage));
    }
    let summaries = summarize(&axes, &points, &rows, args.seeds);
    let [dest, json_dest, plot_dest, states_dest] = dests;
    let states = states_dest.map(|d| {
        let name = args.file.file_name().map_or_else(|| label.clone(), |n| n.to_string_lossy().into_owned());
        let title = format!("{name}: state transitions over {} runs", rows.len());
        (d, tcpsim::pictures::state_diagram_svg(&totals.transitions, &title))
    });
    finish(
        Output {
            csv,
            dest: dest.expect("the CSV goes to --out or stdout"),
            json_dest,
            plot_dest,
            summaries,
            coverage: args.coverage.then(|| totals.coverage.clone()),
            to_stdout: args.out.is_none(),
            states,
        },
        &rows,
        |r| replay(args, &axes, &points[r.point], r.seed),
        &axes,
        &stop,
    )
}

/// Opens the destinations of `outputs` (--out first: stdout when absent);
/// prints the error and returns `None` if one cannot be written.
fn open_outputs<const N: usize>(outputs: &[(&str, Option<&std::path::Path>); N]) -> Option<[Option<Dest>; N]> {
    let mut dests = Vec::with_capacity(N);
    for (i, &(flag, path)) in outputs.iter().enumerate() {
        let opened = match path {
            // The CSV goes to stdout without --out.
            None if i == 0 => Dest::open(None).map(Some),
            None => Ok(None),
            // As `run`: the trace's errors name the path, the others the flag too.
            Some(p) if i == 0 => Dest::open(Some(p)).map(Some),
            Some(p) => Dest::open(Some(p)).map(Some).map_err(|e| format!("{flag}: {e}")),
        };
        match opened {
            Ok(d) => dests.push(d),
            Err(e) => {
                error(&e);
                return None;
            }
        }
    }
    dests.try_into().ok()
}

/// Runs `first..last` over `jobs` threads; `None` if interrupted.
fn execute(
    args: &SweepArgs,
    models: &[Model],
    first: u64,
    last: u64,
    stop: &AtomicBool,
) -> Option<(Vec<RunRow>, Totals)> {
    let count = (last - first) as usize;
    let slots: Mutex<Vec<Option<RunRow>>> = Mutex::new(vec![None; count]);
    let totals = Mutex::new(Totals::default());
    let next = AtomicUsize::new(0);
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let bar = ProgressBar::new(count as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {per_sec}  ETA {eta}").expect("a valid template"),
    );
    std::thread::scope(|s| {
        for _ in 0..jobs.min(count.max(1)) {
            s.spawn(|| {
                let mut local = Totals::default();
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= count {
                        break;
                    }
                    let run = first + k as u64;
                    let point = (run / args.seeds) as usize;
                    let i = run % args.seeds;
                    let seed = sweep::run_seed(models[point].seed, i);
                    let row = sweep::run_one(&models[point], run, point, seed, &mut local);
                    slots.lock().expect("no worker panics holding the lock")[k] = Some(row);
                    bar.inc(1);
                }
                // Addition commutes, so the total is the same for any
                // number of threads.
                totals.lock().expect("no worker panics holding the lock").add(&local);
            });
        }
    });
    bar.finish_and_clear();
    if stop.load(Ordering::Relaxed) {
        return None;
    }
    let rows = slots.into_inner().expect("workers are done").into_iter().map(|r| r.expect("every run ran")).collect();
    Some((rows, totals.into_inner().expect("workers are done")))
}

fn summarize(axes: &[Axis], points: &[Vec<usize>], rows: &[RunRow], seeds: u64) -> Vec<PointSummary> {
    let _ = seeds;
    points
        .iter()
        .enumerate()
        .filter_map(|(pi, p)| {
            let point_rows: Vec<&RunRow> = rows.iter().filter(|r| r.point == pi).collect();
            if point_rows.is_empty() {
                return None;
            }
            let values = axes.iter().zip(p).map(|(a, &v)| (a.column.clone(), a.values[v].0.clone())).collect();
            Some(sweep::summarize(values, &point_rows))
        })
        .collect()
}

struct Output {
    csv: Vec<String>,
    dest: Dest,
    json_dest: Option<Dest>,
    /// `--plot`: where to draw the outcome fractions.
    plot_dest: Option<Dest>,
    summaries: Vec<PointSummary>,
    coverage: Option<Vec<u64>>,
    /// The CSV goes to stdout, so people's text goes to stderr.
    to_stdout: bool,
    /// `--state-diagram`: where, and the picture of the summed transitions.
    states: Option<(Dest, String)>,
}

/// Writes the CSV, the JSON summary and the pictures, prints the summary
/// and the replay commands of failing runs, and picks the exit code. Every
/// output is written before any is renamed into place, so when one fails
/// (or Ctrl-C comes) every existing file keeps its bytes.
fn finish(out: Output, rows: &[RunRow], replay: impl Fn(&RunRow) -> String, axes: &[Axis], stop: &AtomicBool) -> u8 {
    let Output { csv, dest, json_dest, plot_dest, summaries, coverage, to_stdout, states } = out;
    let mut written: Vec<(&str, Dest)> = Vec::new();
    let mut w = BufWriter::with_capacity(1 << 16, dest);
    let csv_written =
        csv.iter().try_for_each(|line| writeln!(w, "{line}")).and_then(|()| w.into_inner().map_err(|e| e.into_error()));
    match csv_written {
        Ok(d) => written.push(("the CSV", d)),
        Err(e) => {
            error(&format!("writing the CSV failed: {e}"));
            return EXIT_INCOMPLETE;
        }
    }
    let mut pictures = Vec::new();
    if let Some(d) = json_dest {
        let header = vec![("version".to_string(), tcpsim::report::VERSION.to_string())];
        pictures.push(("the JSON summary (--json)", d, format!("{}\n", sweep::summary_json(&summaries, &header))));
    }
    if let Some(d) = plot_dest {
        let svg = tcpsim::plot::sweep_svg(&summaries, axes.first().map(|a| a.column.as_str()).unwrap_or("run"));
        pictures.push(("the plot (--plot)", d, svg));
    }
    if let Some((d, svg)) = states {
        pictures.push(("the state diagram (--state-diagram)", d, svg));
    }
    for (what, mut d, text) in pictures {
        if let Err(e) = d.write_all(text.as_bytes()).and_then(|()| d.flush()) {
            error(&format!("writing {what} failed: {e}"));
            return EXIT_INCOMPLETE;
        }
        written.push((what, d));
    }
    if stop.load(Ordering::SeqCst) {
        error("interrupted; nothing written");
        return EXIT_INCOMPLETE;
    }
    for (what, d) in written {
        if let Err(e) = d.commit() {
            error(&format!("writing {what} failed: {e}"));
            return EXIT_INCOMPLETE;
        }
    }
    let table = sweep::summary_table(&summaries);
    let coverage_text = coverage.as_deref().map(coverage_report).unwrap_or_default();
    if to_stdout {
        eprint!("{table}{coverage_text}");
    } else {
        print!("{table}{coverage_text}");
    }
    let failing: Vec<&RunRow> = rows.iter().filter(|r| r.failed()).collect();
    for r in failing.iter().take(10) {
        eprintln!("run {} failed; replay: {}", r.run, replay(r));
    }
    if failing.len() > 10 {
        eprintln!("... and {} more failing runs (the CSV's `replay` column has each command)", failing.len() - 10);
    }
    if failing.is_empty() { EXIT_OK } else { EXIT_EXPECT_FAILED }
}

/// A parsed part of a sharded sweep.
struct Part {
    identity: Vec<String>,
    shard: (u64, u64),
    range: (u64, u64),
    header: String,
    rows: Vec<String>,
    coverage: Option<Vec<u64>>,
}

fn parse_part(path: &std::path::Path) -> Result<Part, String> {
    let label = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{label}: cannot read: {e}"))?;
    let mut identity = Vec::new();
    let (mut shard, mut range, mut header, mut rows, mut coverage) = (None, None, None, Vec::new(), None);
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# shard: ") {
            let (spec, runs) = rest.split_once("  runs ").ok_or_else(|| format!("{label}: malformed shard line"))?;
            shard = Some(parse_shard(spec).map_err(|e| format!("{label}: {e}"))?);
            let (a, b) = runs.split_once("..").ok_or_else(|| format!("{label}: malformed shard line"))?;
            range = Some((
                a.parse().map_err(|_| format!("{label}: bad run range"))?,
                b.parse().map_err(|_| format!("{label}: bad run range"))?,
            ));
        } else if let Some(rest) = line.strip_prefix("# coverage: ") {
            let mut c = vec![0u64; rule::COUNT];
            for item in rest.split_whitespace() {
                let (id, n) = item.split_once('=').ok_or_else(|| format!("{label}: malformed coverage"))?;
                let r = Rule::parse(id).ok_or_else(|| format!("{label}: unknown behaviour {id}"))?;
                c[r.index()] = n.parse().map_err(|_| format!("{label}: malformed coverage"))?;
            }
            coverage = Some(c);
        } else if line.starts_with('#') {
            if header.is_some() {
                return Err(format!("{label}: comment after the header row"));
            }
            identity.push(line.to_string());
        } else if header.is_none() {
            header = Some(line.to_string());
        } else if !line.is_empty() {
            rows.push(line.to_string());
        }
    }
    let shard = shard.ok_or_else(|| format!("{label}: not a shard of a sweep (no `# shard:` line)"))?;
    Ok(Part {
        identity,
        shard,
        range: range.expect("set with shard"),
        header: header.ok_or_else(|| format!("{label}: no header row"))?,
        rows,
        coverage,
    })
}

pub fn merge(args: &MergeArgs) -> u8 {
    let mut parts = Vec::new();
    for p in &args.parts {
        match parse_part(p) {
            Ok(part) => parts.push((p.display().to_string(), part)),
            Err(e) => {
                error(&e);
                return EXIT_BAD_INPUT;
            }
        }
    }
    let (first_label, first) = &parts[0];
    let n = first.shard.1;
    for (label, p) in &parts[1..] {
        if p.identity != first.identity || p.header != first.header {
            error(&format!(
                "{label} and {first_label} come from different sweeps (file, seeds, axes or settings differ)"
            ));
            return EXIT_BAD_INPUT;
        }
        if p.shard.1 != n {
            error(&format!("{label} is shard {}/{}, but {first_label} is one of {n}", p.shard.0, p.shard.1));
            return EXIT_BAD_INPUT;
        }
        if p.coverage.is_some() != first.coverage.is_some() {
            error(&format!("{label} and {first_label} differ in --coverage"));
            return EXIT_BAD_INPUT;
        }
    }
    parts.sort_by_key(|(_, p)| p.shard.0);
    for w in parts.windows(2) {
        if w[0].1.shard.0 == w[1].1.shard.0 {
            error(&format!("shard {}/{n} is given twice ({} and {})", w[0].1.shard.0, w[0].0, w[1].0));
            return EXIT_BAD_INPUT;
        }
    }
    let present: Vec<u64> = parts.iter().map(|(_, p)| p.shard.0).collect();
    let missing: Vec<String> = (0..n).filter(|i| !present.contains(i)).map(|i| format!("{i}/{n}")).collect();
    if !missing.is_empty() {
        error(&format!("missing shard(s): {}", missing.join(", ")));
        return EXIT_BAD_INPUT;
    }
    let mut expected_next = 0;
    for (label, p) in &parts {
        if p.range.0 != expected_next || p.rows.len() as u64 != p.range.1 - p.range.0 {
            error(&format!(
                "{label}: runs {}..{} do not follow run {expected_next}, or rows are missing",
                p.range.0, p.range.1
            ));
            return EXIT_BAD_INPUT;
        }
        expected_next = p.range.1;
    }
    // Rebuild exactly what an unsharded sweep writes.
    let first = &parts[0].1;
    let mut csv = first.identity.clone();
    csv.push(first.header.clone());
    for (_, p) in &parts {
        csv.extend(p.rows.iter().cloned());
    }
    let coverage = first.coverage.as_ref().map(|_| {
        let mut total = vec![0u64; rule::COUNT];
        for (_, p) in &parts {
            for (t, c) in total.iter_mut().zip(p.coverage.as_ref().expect("checked alike")) {
                *t += c;
            }
        }
        total
    });
    if let Some(c) = &coverage {
        csv.push(coverage_line(c));
    }
    let seeds = first
        .identity
        .iter()
        .find_map(|l| {
            l.split("seeds: ").nth(1).and_then(|r| r.split_whitespace().next()).and_then(|s| s.parse::<u64>().ok())
        })
        .unwrap_or(1);
    let header = sweep::csv_split(&first.header);
    let axes_count = header.len().saturating_sub(2 + sweep::CSV_COLUMNS.len());
    let mut rows = Vec::new();
    let mut axes: Vec<Axis> =
        header[2..2 + axes_count].iter().map(|c| Axis { column: c.clone(), values: Vec::new() }).collect();
    let mut points: Vec<Vec<usize>> = Vec::new();
    for line in &csv[first.identity.len() + 1..] {
        if line.starts_with('#') {
            continue;
        }
        let fields = sweep::csv_split(line);
        let run: u64 = fields[0].parse().unwrap_or(0);
        let pi = (run / seeds) as usize;
        if points.len() <= pi {
            let mut p = Vec::new();
            for (k, a) in axes.iter_mut().enumerate() {
                let v = fields[2 + k].clone();
                let idx = a.values.iter().position(|(x, _)| *x == v).unwrap_or_else(|| {
                    a.values.push((v, Vec::new()));
                    a.values.len() - 1
                });
                p.push(idx);
            }
            points.push(p);
        }
        match RunRow::from_csv(&fields, axes_count, pi) {
            Some(r) => rows.push((r, fields.last().cloned().unwrap_or_default())),
            None => {
                error(&format!("malformed row: {line}"));
                return EXIT_BAD_INPUT;
            }
        }
    }
    let run_rows: Vec<RunRow> = rows.iter().map(|(r, _)| r.clone()).collect();
    let summaries = summarize(&axes, &points, &run_rows, seeds);
    let outputs = [("--out", args.out.as_deref()), ("--json", args.json.as_deref()), ("--plot", args.plot.as_deref())];
    let inputs: Vec<(&str, &std::path::Path)> = args.parts.iter().map(|p| ("one of the parts", p.as_path())).collect();
    if let Err(e) = check_distinct(&outputs, &inputs) {
        error(&e);
        return EXIT_BAD_INPUT;
    }
    let stop = interrupt_flag();
    let Some([dest, json_dest, plot_dest]) = open_outputs(&outputs) else {
        return EXIT_BAD_INPUT;
    };
    let replays: Vec<String> = rows.iter().map(|(_, r)| r.clone()).collect();
    finish(
        Output {
            csv,
            dest: dest.expect("the CSV goes to --out or stdout"),
            json_dest,
            plot_dest,
            summaries,
            coverage,
            to_stdout: args.out.is_none(),
            states: None,
        },
        &run_rows,
        |r| replays.get((r.run - run_rows[0].run) as usize).cloned().unwrap_or_default(),
        &axes,
        &stop,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_split_at_top_level_commas_only() {
        assert_eq!(split_values("0,0.01, 0.2"), vec!["0", "0.01", "0.2"]);
        assert_eq!(split_values("(a, b),\"x,y\",[1,2]"), vec!["(a, b)", "\"x,y\"", "[1,2]"]);
    }

    #[test]
    fn shards_parse() {
        assert_eq!(parse_shard("0/4"), Ok((0, 4)));
        assert!(parse_shard("4/4").is_err());
        assert!(parse_shard("x").is_err());
    }
}
