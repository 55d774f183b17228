//! `tcpsim sweep` and `tcpsim merge`: many seeded runs over a grid of
//! settings, in parallel, optionally sharded over machines, with a CSV of
//! runs and a summary of outcomes.

use super::output::{Dest, check_distinct, default_on_stdout, given_on_stdout, is_stdout};
use super::progress::with_progress;
use super::shared::{interrupt_flag, read_file, refuse_loss_overlap, set_overrides, sets_seed};
use super::{EXIT_BAD_INPUT, EXIT_EXPECT_FAILED, EXIT_INCOMPLETE, EXIT_OK, MergeArgs, SweepArgs, error};
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tcpsim::parallel::{self, Pool};
use tcpsim::report::count;
use tcpsim::report::coverage_report;
use tcpsim::rng::Ppm;
use tcpsim::scenario::{self, Override};
use tcpsim::sweep::{self, Axis, PointSummary, RunRow, merge, run, table};

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

/// The `--measure` values, parsed; a bad one names `--measure`, the
/// position in its expression and what was expected.
fn parse_measures(specs: &[String], axes: &[Axis]) -> Result<Vec<tcpsim::measure::expr::Measure>, String> {
    let mut out: Vec<tcpsim::measure::expr::Measure> = Vec::new();
    for spec in specs {
        let m = tcpsim::measure::expr::parse_measure(spec).map_err(|e| format!("--measure {spec}: {e}"))?;
        let taken = table::header(&[]).contains(&m.name.as_str())
            || axes.iter().any(|a| a.column == m.name)
            || out.iter().any(|o| o.name == m.name);
        if taken {
            return Err(format!(
                "--measure {spec}: at position 1: the column `{}` exists already; choose another name",
                m.name
            ));
        }
        out.push(m);
    }
    Ok(out)
}

/// Every `--plot-measure` names a measure of the sweep.
fn check_plot_measures(chosen: &[String], measures: &[String]) -> Result<(), String> {
    match chosen.iter().find(|c| !measures.contains(c)) {
        Some(c) if measures.is_empty() => Err(format!("--plot-measure {c}: the sweep has no --measure columns")),
        Some(c) => Err(format!("--plot-measure {c}: expected one of the measures: {}", measures.join(", "))),
        None => Ok(()),
    }
}

fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    sweep::parse_shard(s).ok_or_else(|| format!("--shard {s}: expected i/n with 0 <= i < n, e.g. 0/4"))
}

fn replay(args: &SweepArgs, axes: &[Axis], point: &[usize], seed: u64) -> String {
    let mut cmd = format!("tcpsim run {} --seed {seed}", args.file.path.display());
    for s in &args.overrides.set {
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

pub fn sweep(args: &SweepArgs) -> u8 {
    let label = args.file.path.display().to_string();
    let Some(bytes) = read_file(&args.file.path) else {
        return EXIT_BAD_INPUT;
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
    let base = match set_overrides(&args.overrides.set) {
        Ok(base) => base,
        Err(e) => {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    };
    // The sweep derives every run's seed from the file's; a `--set` of it
    // would also win over the seed each replay command gives.
    if let Some(o) = base.iter().find(|o| sets_seed(o)) {
        error(&format!(
            "{}: a sweep chooses each run's seed itself (from the file's `seed`); give the number of seeds with --seeds N",
            o.flag()
        ));
        return EXIT_BAD_INPUT;
    }
    if let (Some(loss), Some(loss_axis)) = (&args.loss, axes.first()) {
        // The `--loss` axis comes first, then one axis per `--vary`.
        let sets = args.overrides.set.iter().zip(&base).map(|(s, o)| (format!("--set {s}"), vec![o.clone()]));
        let varies = args.vary.iter().zip(&axes[1..]).map(|(v, a)| (format!("--vary {v}"), a.values[0].1.clone()));
        let others: Vec<(String, Vec<Override>)> = sets.chain(varies).collect();
        if let Err(e) = refuse_loss_overlap(&format!("--loss {loss}"), &loss_axis.values[0].1, &others) {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    }
    let measures = match parse_measures(&args.measure, &axes) {
        Ok(m) => m,
        Err(e) => {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    };
    let measure_names: Vec<String> = measures.iter().map(|m| m.name.clone()).collect();
    if let Err(e) = check_plot_measures(&args.outputs.plot_measure, &measure_names) {
        error(&e);
        return EXIT_BAD_INPUT;
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
    let models = match run::point_models(&bytes, &base, &axes, &points) {
        Ok(models) => models,
        Err(errs) => {
            for e in errs {
                stderrln!("{}", e.render(&label));
            }
            return EXIT_BAD_INPUT;
        }
    };
    // A measure reads endpoints by name: one the scenario lacks is a typo.
    let model = &models[0];
    let names: Vec<&str> = model.endpoint_names();
    if let Some((spec, m)) = args.measure.iter().zip(&measures).find(|(_, m)| !names.contains(&m.endpoint())) {
        error(&format!(
            "--measure {spec}: at position {}: no endpoint is named `{}` (the scenario's: {})",
            m.endpoint_at,
            m.endpoint(),
            names.join(", ")
        ));
        return EXIT_BAD_INPUT;
    }
    // The column's type is decided once, for every row: a name is a
    // population if any grid point gives it more than one connection.
    let populations = tcpsim::measure::expr::populations(&models);
    let mut measures = measures;
    for m in &mut measures {
        let population = populations.contains(m.endpoint());
        m.set_population(population);
    }
    let base_seed = models[0].seed;
    let shard = match args.shard.as_deref().map(parse_shard).transpose() {
        Ok(shard) => shard,
        Err(e) => {
            error(&e);
            return EXIT_BAD_INPUT;
        }
    };
    let (first, last) = shard.map_or((0, runs), |(i, n)| sweep::shard_runs(i, n, runs));
    let [out, json, plot] = args.outputs.named();
    let outputs = [out, json, plot, ("--state-diagram", args.state_diagram.as_deref())];
    let checked = [default_on_stdout(out.0, out.1, "the CSV (stdout, no --out)"), json, plot, outputs[3]];
    if let Err(e) = check_distinct(&checked, &[("the simulation file itself", &args.file.path)]) {
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

    let done = AtomicU64::new(0);
    let pool = Pool { jobs: parallel::jobs(args.jobs.jobs), stop: &stop, done: &done };
    let executed =
        with_progress(last - first, &done, || run::execute_measured(&models, &measures, args.seeds, first, last, pool));
    let Some((rows, totals)) = executed else {
        error(&format!("{label}: sweep interrupted; nothing written"));
        return EXIT_INCOMPLETE;
    };

    // The CSV, in run order.
    let file_name = args
        .file
        .path
        .file_name()
        .map_or_else(|| args.file.path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let identity = merge::Identity {
        file_name: &file_name,
        file_bytes: &bytes,
        scenario: &models[0].name,
        base_seed,
        seeds: args.seeds,
        axes: &axes,
        set: &args.overrides.set,
        measures: &args.measure,
        runs,
    };
    let mut comments = identity.comments();
    if let Some((i, n)) = shard {
        comments.push(merge::shard_comment(i, n, first, last));
    }
    let columns: Vec<String> = axes.iter().map(|a| a.column.clone()).collect();
    let point_values: Vec<Vec<String>> =
        points.iter().map(|p| axes.iter().zip(p).map(|(a, &v)| a.values[v].0.clone()).collect()).collect();
    let write_csv = |out: &mut dyn Write| -> std::io::Result<()> {
        let mut w = table::Writer::new(out);
        for c in &comments {
            w.comment(c)?;
        }
        w.header_with(&columns, &measure_names)?;
        for row in &rows {
            let values: Vec<&str> = point_values[row.point].iter().map(String::as_str).collect();
            let replay = if row.failed() { replay(args, &axes, &points[row.point], row.seed) } else { String::new() };
            w.row(row, &values, &replay)?;
        }
        if args.coverage {
            w.comment(&merge::coverage_comment(&totals.coverage))?;
        }
        w.finish().map(drop)
    };
    // A boolean function's numbers are proportions (see `summarize_as`).
    let proportions: Vec<bool> = measures.iter().map(|m| m.kind() == tcpsim::measure::expr::Kind::Bool).collect();
    let summaries = sweep::summarize_points_measured(&columns, &point_values, &rows, &measure_names, &proportions);
    let [dest, json_dest, plot_dest, states_dest] = dests;
    let states = states_dest.map(|d| {
        let name = args.file.path.file_name().map_or_else(|| label.clone(), |n| n.to_string_lossy().into_owned());
        let title = format!("{name}: state transitions over {}", count(rows.len() as u64, "run"));
        (d, tcpsim::pictures::state_diagram_svg(&totals.transitions, &title))
    });
    finish(
        SweepReport {
            write_csv: &write_csv,
            dest: dest.expect("the CSV goes to --out or stdout"),
            json_dest,
            plot_dest,
            plot_measures: args.outputs.plot_measure.clone(),
            // The scenario's own name, as the run pictures' titles use.
            title: models[0].name.clone(),
            summaries,
            coverage: args.coverage.then(|| totals.coverage.clone()),
            to_stdout: takes_stdout(&args.outputs, args.state_diagram.as_deref()),
            states,
        },
        &rows,
        |_, r| replay(args, &axes, &points[r.point], r.seed),
        &columns,
        &stop,
    )
}

/// Whether an output goes to stdout (the CSV without `--out`, or any
/// given as `-` or `/dev/stdout`): the summary table then goes to stderr.
fn takes_stdout(outputs: &super::SweepOutputs, state_diagram: Option<&std::path::Path>) -> bool {
    let [out, json, plot] = outputs.named();
    is_stdout(out.1) || given_on_stdout([json.1, plot.1, state_diagram])
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
            Some(p) => Dest::open_flag(flag, Some(p)).map(Some),
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

/// What a finished sweep writes, and where.
struct SweepReport<'a> {
    /// Writes the CSV.
    write_csv: &'a dyn Fn(&mut dyn Write) -> std::io::Result<()>,
    dest: Dest,
    json_dest: Option<Dest>,
    /// `--plot`: where to draw the outcome fractions.
    plot_dest: Option<Dest>,
    /// `--plot-measure`: the measures `--plot` draws instead.
    plot_measures: Vec<String>,
    /// The scenario's name (a merge: the file's name), for the measure
    /// plot's title.
    title: String,
    summaries: Vec<PointSummary>,
    coverage: Option<Vec<u64>>,
    /// An output goes to stdout, so people's text goes to stderr.
    to_stdout: bool,
    /// `--state-diagram`: where, and the picture of the summed transitions.
    states: Option<(Dest, String)>,
}

/// Writes the CSV, the JSON summary and the pictures, prints the summary
/// and the replay commands of failing runs, and picks the exit code. Every
/// output is written before any is renamed into place, so when one fails
/// (or Ctrl-C comes) every existing file keeps its bytes.
fn finish(
    out: SweepReport<'_>,
    rows: &[RunRow],
    replay: impl Fn(usize, &RunRow) -> String,
    axes: &[String],
    stop: &AtomicBool,
) -> u8 {
    let SweepReport {
        write_csv,
        dest,
        json_dest,
        plot_dest,
        plot_measures,
        title,
        summaries,
        coverage,
        to_stdout,
        states,
    } = out;
    let mut written: Vec<(&str, Dest)> = Vec::new();
    let mut w = BufWriter::with_capacity(1 << 16, dest);
    let csv_written = write_csv(&mut w).and_then(|()| w.into_inner().map_err(|e| e.into_error()));
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
        let x_label = axes.first().map(String::as_str).unwrap_or("run");
        let svg = if plot_measures.is_empty() {
            tcpsim::pictures::plot::sweep_svg(&summaries, x_label)
        } else {
            tcpsim::pictures::measure_plot::measure_svg(&summaries, &plot_measures, x_label, &title)
        };
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
        stderr!("{table}{coverage_text}");
    } else {
        // Through `Dest`: a reader gone from stdout (`| head`) is noted, and
        // the command ends quietly with 0, instead of `print!`'s panic.
        let mut out = Dest::Stdout(std::io::stdout());
        let _ = write!(out, "{table}{coverage_text}").and_then(|()| out.flush());
    }
    let failing: Vec<(usize, &RunRow)> = rows.iter().enumerate().filter(|(_, r)| r.failed()).collect();
    for &(k, r) in failing.iter().take(10) {
        stderrln!("run {} failed; replay: {}", r.run, replay(k, r));
    }
    if failing.len() > 10 {
        let more = failing.len() - 10;
        let runs = if more == 1 { "run" } else { "runs" };
        stderrln!("... and {more} more failing {runs} (the CSV's `replay` column has each command)");
    }
    // A run a limit stopped did not complete: the sweep's figures for its
    // grid point are incomplete, so the contract's exit 3 ("a limit stopped
    // it") wins over 1. The CSV's `outcome` column names the limit.
    let stopped = rows.iter().filter(|r| r.outcome != tcpsim::world::Outcome::Completed).count();
    if stopped > 0 {
        let runs = if rows.len() == 1 { "run" } else { "runs" };
        let names: std::collections::BTreeSet<&str> =
            rows.iter().filter(|r| r.outcome != tcpsim::world::Outcome::Completed).map(|r| r.outcome.name()).collect();
        let names: Vec<&str> = names.into_iter().collect();
        error(&format!(
            "{stopped} of {} {runs} stopped by a limit ({}; the CSV's `outcome` column says which); raise it with --set limits.max_events=N (or the limit named, e.g. limits.max_time_ms)",
            rows.len(),
            names.join(", ")
        ));
        return EXIT_INCOMPLETE;
    }
    if failing.is_empty() { EXIT_OK } else { EXIT_EXPECT_FAILED }
}

/// Reads the parts, merges them in the library (every check there), and
/// writes what the unsharded sweep writes.
pub fn merge(args: &MergeArgs) -> u8 {
    let mut texts = Vec::with_capacity(args.parts.len());
    for p in &args.parts {
        let label = p.display().to_string();
        match std::fs::read(p) {
            Ok(bytes) => texts.push((label, bytes)),
            Err(e) => {
                stderrln!("{label}: error: cannot read the file: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    let parts: Vec<merge::Part<'_>> = texts.iter().map(|(label, bytes)| merge::Part { label, bytes }).collect();
    let merged = match merge::merge(&parts) {
        Ok(m) => m,
        Err(merge::MergeError::At { file, error }) => {
            stderrln!("{}", error.render(&file));
            return EXIT_BAD_INPUT;
        }
        Err(merge::MergeError::Parts(message)) => {
            error(&message);
            return EXIT_BAD_INPUT;
        }
    };
    if let Err(e) = check_plot_measures(&args.outputs.plot_measure, &merged.measures) {
        error(&e);
        return EXIT_BAD_INPUT;
    }
    // The scenario's name, as the unsharded sweep's plot title; parts
    // written before sweeps recorded it fall back to the file name.
    let comment = |prefix: &str| merged.comments.iter().find_map(|c| c.strip_prefix(prefix).map(str::to_string));
    let title = comment("scenario: ")
        .or_else(|| comment("file: ").and_then(|f| f.split("  ").next().map(str::to_string)))
        .unwrap_or_else(|| "merged sweep".to_string());
    let outputs = args.outputs.named();
    let [out, json, plot] = outputs;
    let checked = [default_on_stdout(out.0, out.1, "the CSV (stdout, no --out)"), json, plot];
    let inputs: Vec<(&str, &std::path::Path)> = args.parts.iter().map(|p| ("one of the parts", p.as_path())).collect();
    if let Err(e) = check_distinct(&checked, &inputs) {
        error(&e);
        return EXIT_BAD_INPUT;
    }
    let stop = interrupt_flag();
    let Some([dest, json_dest, plot_dest]) = open_outputs(&outputs) else {
        return EXIT_BAD_INPUT;
    };
    let write_csv = |out: &mut dyn Write| merged.write_csv(out).map(drop);
    finish(
        SweepReport {
            write_csv: &write_csv,
            dest: dest.expect("the CSV goes to --out or stdout"),
            json_dest,
            plot_dest,
            plot_measures: args.outputs.plot_measure.clone(),
            title,
            summaries: merged.summaries(),
            coverage: merged.coverage.clone(),
            to_stdout: takes_stdout(&args.outputs, None),
            states: None,
        },
        &merged.rows,
        |k, _| merged.replays[k].clone(),
        &merged.axes,
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
