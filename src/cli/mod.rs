//! Command-line parsing and dispatch. Exit codes follow the interface
//! contract: 0 ok, 1 expectations failed, 2 bad input, 3 incomplete run,
//! 4 nondeterminism.

/// `eprint!` that never ends the process: the std macro panics when a
/// write fails, as it does once stderr's reader has gone (`2>&1 | head`);
/// then the message is lost, and the command still exits with its own
/// code.
macro_rules! stderr {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprintln!` that never ends the process ([`stderr!`]).
macro_rules! stderrln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod diff;
mod explore;
#[cfg(target_os = "linux")]
mod kernel;
mod output;
mod progress;
mod report;
mod run;
mod shared;
mod shrink;
mod sweep;
mod test;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXIT_OK: u8 = 0;
pub const EXIT_EXPECT_FAILED: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;
pub const EXIT_INCOMPLETE: u8 = 3;
pub const EXIT_NONDETERMINISM: u8 = 4;

/// The most runs one sweep (or shard) may have; raise it with --shard.
pub const MAX_SWEEP_RUNS: u64 = 10_000_000;

const RUN_EXAMPLES: &str = "\
Examples:
  tcpsim run sims/simultaneous-close.ron
  tcpsim run sims/lossy-transfer.ron --seed 7 --loss 0.1 --quiet
  tcpsim run sims/normal-close.ron --format jsonl --out trace.jsonl
  tcpsim run sims/lost-fin-closing.ron --set 'tcp.msl_ms=500' --kinds transition,drop
  tcpsim run sims/lost-final-ack.ron --format ladder
  tcpsim run sims/lost-final-ack.ron --quiet --pcap lost.pcap --svg ladder.svg --state-diagram states.svg
  tcpsim run sims/lossy-transfer.ron --seed 4 --quiet --endpoint client --from-ms 150 --to-ms 1950 --tsg tsg.svg --series-plot series.svg
  tcpsim run sims/lossy-transfer.ron --seed 7 --quiet --emit-faults replay.ron
  tcpsim run sims/lossy-transfer.ron --seed 7 --check-determinism
  tcpsim run sims/lossy-transfer.ron --seed 7 --quiet --connections-table --connections results.csv
  tcpsim run sims/lossy-transfer.ron --seed 7 --quiet --series client.csv --endpoint client
  tcpsim run sims/lossy-transfer.ron --seed 7 --format jsonl --measurements --kinds rtt,flight,congestion";

const SWEEP_EXAMPLES: &str = "\
Examples:
  tcpsim sweep sims/lossy-transfer.ron --loss 0,0.01,0.05,0.1 --seeds 200 --out results.csv
  tcpsim sweep sims/near-simultaneous-close.ron --loss 0,0.05,0.2 --seeds 500 --out closing.csv --plot closing.svg
  tcpsim sweep sims/time-wait-assassination.ron --vary 'tcp.rfc1337=false,true' --seeds 50  # exit 1: RFC 1337 stops the assassination the file expects
  tcpsim sweep sims/lossy-transfer.ron --loss 0,0.1 --seeds 1000 --shard 0/4 --out part0.csv
  tcpsim sweep sims/lossy-transfer.ron --loss 0,0.2 --seeds 100 --state-diagram states.svg
  tcpsim sweep sims/close-race-1mb.ron --seeds 50 --measure 'client_closing=visited(client, CLOSING)'
  tcpsim sweep sims/lossy-transfer.ron --loss 0,0.05 --seeds 50 --measure 'goodput=goodput_bps(server)' --measure 'state=state(client)'";

const MERGE_EXAMPLES: &str = "\
Examples:
  tcpsim sweep sims/lossy-transfer.ron --loss 0,0.1 --seeds 200 --shard 0/4 --out part0.csv
  tcpsim sweep sims/lossy-transfer.ron --loss 0,0.1 --seeds 200 --shard 1/4 --out part1.csv
  tcpsim sweep sims/lossy-transfer.ron --loss 0,0.1 --seeds 200 --shard 2/4 --out part2.csv
  tcpsim sweep sims/lossy-transfer.ron --loss 0,0.1 --seeds 200 --shard 3/4 --out part3.csv
  tcpsim merge part0.csv part1.csv part2.csv part3.csv --out results.csv --json summary.json";

const EXPLORE_EXAMPLES: &str = "\
Examples:
  tcpsim explore sims/close-explore.ron --drop-first 8
  tcpsim explore sims/close-explore.ron --drop-first 12 --jobs 2
  tcpsim explore sims/close-explore.ron --drop-first 5 --duplicate 30 --delay 25 --emit-dir outcomes/";

const SHRINK_EXAMPLES: &str = "\
Examples:
  tcpsim shrink examples/shrink-demo.ron --seed 20
  tcpsim shrink sims/lossy-transfer.ron --seed 1 --loss 0.5 --out minimal.ron";

const DIFF_EXAMPLES: &str = "\
Examples:
  tcpsim run sims/lossy-transfer.ron --seed 1 --format jsonl --out a.jsonl
  tcpsim run sims/lossy-transfer.ron --seed 1 --set 'tcp.congestion_control=none' --format jsonl --out b.jsonl
  tcpsim diff a.jsonl b.jsonl  # exit 1: the traces differ";

const REPORT_EXAMPLES: &str = "\
Examples:
  tcpsim report sims/lossy-transfer.ron --seed 4 --out report.html
  tcpsim report sims/bottleneck-queue.ron --max-connections 2 --out queue.html
  tcpsim report sims/bottleneck-queue.ron --conn 2 --out queue-2.html
  tcpsim report sims/time-wait-assassination.ron --set 'tcp.rfc1337=true' --out rfc1337.html  # exit 1: the page shows the expectations RFC 1337 breaks";

const TEST_EXAMPLES: &str = "\
Examples:
  tcpsim test sims/
  tcpsim test sims/normal-close.ron sims/lost-ack.ron";

#[derive(Parser, Debug)]
#[command(
    name = "tcpsim",
    version,
    about = "A deterministic simulator for TCP connections on lossy networks (RFC 9293).",
    long_about = "A deterministic simulator for TCP connections on lossy networks.\n\n\
        Runs simulation files (RON) event by event on a virtual clock: every TCP endpoint \
        follows RFC 9293, every loss comes from a seeded ChaCha stream, and the same file \
        and seed give the same trace and digest on any machine.",
    after_help = "Examples:\n  tcpsim run sims/simultaneous-close.ron\n  tcpsim test sims/\n  tcpsim report sims/lossy-transfer.ron --out report.html\n\nExit codes: 0 ok, 1 expectations failed, 2 bad input, 3 run incomplete, 4 nondeterminism."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one simulation file and print its trace.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// Run simulation files and check their `expect` blocks.
    #[command(after_help = TEST_EXAMPLES)]
    Test(TestArgs),
    /// Run one file over many seeds and a grid of settings; CSV of runs, summary of outcomes.
    #[command(
        after_help = SWEEP_EXAMPLES,
        mut_arg("set", |a| a.help("Override a field for every run")),
        mut_arg("jobs", |a| a.help("Worker threads (default: all cores). The output does not depend on it")),
    )]
    Sweep(SweepArgs),
    /// Combine the shards of a sweep into what an unsharded sweep writes.
    #[command(
        after_help = MERGE_EXAMPLES,
        mut_arg("out", |a| a.help("Write the merged CSV to PATH (default, or `-`: stdout)")),
    )]
    Merge(MergeArgs),
    /// Run every way the network can treat the first K segments; list the distinct outcomes.
    #[command(
        after_help = EXPLORE_EXAMPLES,
        mut_arg("file", |a| a.help("The simulation file (random link elements are turned off)")),
        mut_arg("jobs", |a| a.help("Worker threads (default: all cores). The report does not depend on it")),
        mut_arg("seed", |a| a.help("Override the file's seed (initial sequence numbers)")),
        mut_arg("set", |a| a.help("Override any field by its path (VALUE is RON)")),
    )]
    Explore(ExploreArgs),
    /// Reduce a failing seed to the fewest link decisions that still fail; write them as a file.
    // `--seed` is required here, and `--loss` listed before `--set`.
    #[command(
        after_help = SHRINK_EXAMPLES,
        mut_arg("file", |a| a.help("The simulation file; it needs an `expect` block")),
        mut_arg("seed", |a| a.required(true).help("The seed whose run fails the expectations")),
        mut_arg("loss", |a| a.help("Set the loss probability of every link (as `run --loss`)").display_order(1)),
        mut_arg("set", |a| a.help("Override any field by its path (VALUE is RON)").display_order(2)),
    )]
    Shrink(ShrinkArgs),
    /// Write one run as a self-contained HTML page: settings, endpoint table, expectations, pictures.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// Show where two JSONL traces first differ (exit 0 identical, 1 different).
    #[command(after_help = DIFF_EXAMPLES)]
    Diff(DiffArgs),
    /// Run the file's connections on this machine's Linux kernel; compare state paths with tcpsim's (root).
    #[cfg(target_os = "linux")]
    #[command(after_help = kernel::EXAMPLES)]
    Kernel(kernel::KernelArgs),
}

/// The simulation file and the flags that change what it loads as; the
/// commands' own help texts replace these with `mut_arg`.
#[derive(clap::Args, Debug)]
pub struct SimArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Override the file's seed.
    // Every numeric flag takes `-1` as its value, so the value's own check
    // answers rather than clap's advice to write `-- -1`.
    #[arg(long, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub overrides: SetArg,
}

/// `FILE`: the simulation file, the first argument of every command that
/// runs one.
#[derive(clap::Args, Debug)]
pub struct FileArg {
    /// The simulation file.
    #[arg(id = "file", value_name = "FILE")]
    pub path: PathBuf,
}

/// `--set FIELD=VALUE`: overrides of the file's fields.
#[derive(clap::Args, Debug)]
pub struct SetArg {
    /// Override any field by its path, e.g. `links[0].loss=0.2` (VALUE is RON).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
}

/// `--loss P`: one loss probability for every link.
#[derive(clap::Args, Debug)]
pub struct LossArg {
    /// Set the loss probability of every link (both directions).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub loss: Option<String>,
}

/// `--jobs N`: the worker pool's size.
#[derive(clap::Args, Debug)]
pub struct JobsArg {
    /// Worker threads (default: all cores).
    #[arg(long, short, allow_negative_numbers = true)]
    pub jobs: Option<usize>,
}

/// The outputs of a sweep and of a merge: the CSV, the summary, the plot.
#[derive(clap::Args, Debug)]
pub struct SweepOutputs {
    /// Write the CSV of runs to PATH (default, or `-`: stdout).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Write the summary as JSON to PATH.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Draw outcome fractions against the first swept setting (SVG).
    #[arg(long, value_name = "PATH")]
    pub plot: Option<PathBuf>,
    /// Draw this --measure column in the --plot instead of the outcomes
    /// (repeatable): proportions with intervals, numbers as median and p5-p95.
    #[arg(long, value_name = "NAME", requires = "plot")]
    pub plot_measure: Vec<String>,
}

impl SweepOutputs {
    /// Each output with its flag, for checks and error messages.
    pub fn named(&self) -> [(&'static str, Option<&std::path::Path>); 3] {
        [("--out", self.out.as_deref()), ("--json", self.json.as_deref()), ("--plot", self.plot.as_deref())]
    }
}

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The first trace (`tcpsim run --format jsonl`).
    pub a: PathBuf,
    /// The second trace.
    pub b: PathBuf,
    /// Lines of context before and after the first difference.
    #[arg(long, short = 'C', default_value_t = 3, value_name = "N", allow_negative_numbers = true)]
    pub context: usize,
}

#[derive(clap::Args, Debug)]
pub struct ShrinkArgs {
    // `--seed` is required (see `Command::Shrink`).
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub loss: LossArg,
    /// Write the shrunk file to PATH (default: NAME.seed-N.min.ron here).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ExploreArgs {
    /// Explore the first K segments sent: each passed or dropped (2^K runs).
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub drop_first: u32,
    /// Also let each segment be duplicated, the copy arriving MS later.
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    pub duplicate: Option<f64>,
    /// Also let each segment be delayed by MS, so later ones overtake it.
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    pub delay: Option<f64>,
    /// Refuse plans with more runs than this.
    #[arg(long, value_name = "N", default_value_t = 100_000, allow_negative_numbers = true)]
    pub max_runs: u64,
    #[command(flatten)]
    pub jobs: JobsArg,
    #[command(flatten)]
    pub sim: SimArgs,
    /// Write each outcome's smallest fault set as a simulation file DIR/outcome-N.ron (DIR is created).
    #[arg(long, value_name = "DIR")]
    pub emit_dir: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Seeds per grid point; run i of every point uses the same seed.
    #[arg(long, default_value_t = 100, allow_negative_numbers = true)]
    pub seeds: u64,
    /// Loss probabilities to sweep, set on every link (e.g. 0,0.01,0.05).
    // A list such as `-0.1,0` is no number: any value may start with `-`.
    #[arg(long, value_name = "P,P,...", allow_hyphen_values = true)]
    pub loss: Option<String>,
    /// Sweep a field over values (RON), e.g. links[0].delay_ms=10,50; several make a grid.
    #[arg(long, value_name = "FIELD=V,V,...")]
    pub vary: Vec<String>,
    #[command(flatten)]
    pub overrides: SetArg,
    #[command(flatten)]
    pub jobs: JobsArg,
    #[command(flatten)]
    pub outputs: SweepOutputs,
    /// Draw the RFC 9293 state diagram with the transition counts of all runs (SVG).
    #[arg(long, value_name = "PATH")]
    pub state_diagram: Option<PathBuf>,
    /// Count how often each behaviour ID fired over the whole sweep.
    #[arg(long)]
    pub coverage: bool,
    /// Run only slice i of n (0 <= i < n); combine the parts with `tcpsim merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// A column of one value per run, e.g. closing=visited(client,CLOSING);
    /// repeatable. Functions: visited, state, reason, duration_ms,
    /// transfer_ms, time_in_ms, goodput_bps, bytes_sent, bytes_delivered,
    /// segments, retransmissions, rtos, fast_retransmits, srtt_min_ms,
    /// srtt_mean_ms, srtt_max_ms; over a population: mean (default), min,
    /// max, any, all.
    #[arg(long, value_name = "NAME=EXPR")]
    pub measure: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// The CSV parts written by `tcpsim sweep --shard i/n`.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    #[command(flatten)]
    pub outputs: SweepOutputs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Text,
    /// One JSON object per line.
    Jsonl,
    /// A text ladder diagram per connection, for quick looks.
    Ladder,
}

/// Where `--pcap` captures segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PcapSide {
    /// As they leave the sender: lost segments are in the file.
    Sender,
    /// As they reach the receiver: lost segments are gaps.
    Receiver,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub loss: LossArg,
    /// Trace format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the trace to PATH (atomically: a temp file renamed on success;
    /// `-` is stdout). Without it the trace goes to stdout, or to stderr
    /// when another output takes stdout (`--pcap -`).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// No trace: only open endpoints, expectation results and the summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// One line of performance figures on stderr.
    #[arg(long)]
    pub stats: bool,
    /// Show only this connection's events.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub conn: Option<u32>,
    /// Show only this endpoint's events.
    #[arg(long, value_name = "NAME")]
    pub endpoint: Option<String>,
    // The help lists every kind from the one table (`TraceKind::TABLE`).
    #[arg(long, value_delimiter = ',', value_name = "KINDS", help = kinds_help())]
    pub kinds: Option<Vec<String>>,
    /// Show only events at or after this virtual time.
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    pub from_ms: Option<f64>,
    /// Show only events at or before this virtual time.
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    pub to_ms: Option<f64>,
    /// Stop after this many events (exit 3).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_events: Option<u64>,
    /// Stop at this virtual time (exit 3).
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    pub max_time_ms: Option<f64>,
    /// Colour the text trace: auto on a terminal unless NO_COLOR is set;
    /// an explicit `always` wins over NO_COLOR.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Write every segment as an IPv4/TCP packet to a pcap file (Wireshark).
    #[arg(long, value_name = "PATH")]
    pub pcap: Option<PathBuf>,
    /// Capture segments as they are sent (lost ones included) or as they are delivered.
    #[arg(long, value_enum, default_value_t = PcapSide::Sender, requires = "pcap")]
    pub pcap_side: PcapSide,
    /// Draw the ladder (sequence) diagram of connection --conn (default 0,
    /// or the connection of --endpoint) as SVG, inside --from-ms/--to-ms.
    #[arg(long, value_name = "PATH")]
    pub svg: Option<PathBuf>,
    /// Draw the time-sequence graph of the data --endpoint (default: the end
    /// that connects) sends on connection --conn (default 0, or the
    /// connection of --endpoint) as SVG, inside --from-ms/--to-ms.
    #[arg(long, value_name = "PATH")]
    pub tsg: Option<PathBuf>,
    /// Draw cwnd, ssthresh and flight, and SRTT and RTO, over time as SVG:
    /// one pair of panels per endpoint --endpoint and --conn choose (all by
    /// default; the first four drawn), inside --from-ms/--to-ms.
    #[arg(long, value_name = "PATH")]
    pub series_plot: Option<PathBuf>,
    /// Draw the RFC 9293 state diagram with this run's transition counts as SVG.
    #[arg(long, value_name = "PATH")]
    pub state_diagram: Option<PathBuf>,
    /// Write a replay file: this scenario with no link randomness, every ISS
    /// fixed, and the run's random link decisions as `Fate` faults.
    #[arg(long, value_name = "PATH")]
    pub emit_faults: Option<PathBuf>,
    /// After the run, list on stderr how often each behaviour ID handled an
    /// input, and the IDs never reached.
    #[arg(long)]
    pub coverage: bool,
    /// Write one row per endpoint (final state, close reason, times, bytes,
    /// goodput, retransmissions, SRTT, time in each state) to PATH: CSV, or
    /// JSON when PATH ends in .json.
    #[arg(long, value_name = "PATH")]
    pub connections: Option<PathBuf>,
    /// End the text trace with a table of per-endpoint results (the main
    /// columns of --connections).
    #[arg(long)]
    pub connections_table: bool,
    /// Write a time series CSV of the endpoints --endpoint and --conn choose
    /// (all by default): a row per change of cwnd, ssthresh, flight, SRTT,
    /// RTTVAR, RTO, send/receive window or link queue backlog.
    #[arg(long, value_name = "PATH")]
    pub series: Option<PathBuf>,
    /// Add the measurement records to the trace: `rtt` for every endpoint,
    /// `flight`, `queue`, and `flight` on `congestion` (never in the digest).
    #[arg(long)]
    pub measurements: bool,
    /// Run twice, the second time with hasher seeds, slot reuse and heap
    /// addresses changed; exit 4 with the first differing event if the
    /// traces differ, else exit as the run would. Writes no trace.
    #[arg(long, conflicts_with_all = [
        "out", "pcap", "svg", "tsg", "series_plot", "state_diagram", "emit_faults", "connections", "series",
        // Filters and the table shape a trace, and none is written.
        "conn", "endpoint", "kinds", "from_ms", "to_ms", "connections_table",
    ])]
    pub check_determinism: bool,
}

/// `--kinds` help: every record kind, with its text trace label.
fn kinds_help() -> String {
    format!(
        "Show only these kinds, by record kind or text label: {} (flight and queue only with --measurements); \
         summary, expect and open records are always shown",
        tcpsim::trace::TraceKind::listing()
    )
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub loss: LossArg,
    /// Write the page to PATH (atomically: a temp file renamed on success;
    /// default, or `-`: stdout).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Draw the pictures of the first N connections; the page says how many
    /// it left out.
    #[arg(long, value_name = "N", default_value_t = 8, allow_negative_numbers = true)]
    pub max_connections: u32,
    /// Draw only connection N.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub conn: Option<u32>,
}

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Files or directories (searched for *.ron).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub jobs: JobsArg,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_INPUT } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Test(args) => test::test(&args),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Merge(args) => sweep::merge(&args),
        Command::Explore(args) => explore::explore(&args),
        Command::Shrink(args) => shrink::shrink(&args),
        Command::Report(args) => report::report(&args),
        Command::Diff(args) => diff::diff(&args),
        #[cfg(target_os = "linux")]
        Command::Kernel(args) => kernel::kernel(&args),
    };
    // The reader of stdout went away (`| head`): not a failure.
    if output::stdout_closed() {
        return ExitCode::from(EXIT_OK);
    }
    ExitCode::from(code)
}

/// A command-line duration in milliseconds, read as files read them
/// ([`tcpsim::scenario::millis`]). Too long and rounding to nothing are
/// told as a file's duration is told; a negative, zero or non-finite
/// value is not a number of milliseconds the flag takes.
pub fn millis(flag: &str, ms: f64, positive: bool) -> Result<tcpsim::time::Duration, String> {
    use tcpsim::scenario::MillisError;
    tcpsim::scenario::millis(ms, positive).map_err(|problem| match problem {
        MillisError::RoundsToZero | MillisError::OutOfRange if ms.is_finite() && ms > 0.0 => {
            format!("{flag}: {}", tcpsim::scenario::millis_message(problem, ms, positive))
        }
        _ => {
            let want = if positive { "a positive" } else { "a non-negative" };
            format!("{flag} {ms}: expected {want} number of milliseconds")
        }
    })
}

/// Prints an error for people on stderr.
pub fn error(message: &str) {
    // Once stdout's reader is gone, what fails next follows from that.
    if output::stdout_closed() {
        return;
    }
    stderrln!("tcpsim: error: {message}");
}
