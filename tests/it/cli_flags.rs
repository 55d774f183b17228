//! Flags that must not contradict each other or be silently dropped: one
//! seed per run (`--seed` against `--set seed=`), `--check-determinism`'s
//! exit codes and streams, numeric flags given negative or zero values,
//! and `-` as an output path.

use crate::util::{BREAK_EXPECT, NORMAL, assert_exit, entries, path_str, root, stderr, stdout, tcpsim};
use std::process::{Command, Output};

/// The digest that ends a text trace.
fn digest(out: &Output) -> String {
    let text = stdout(out);
    let line = text.lines().rfind(|l| l.starts_with("digest: ")).unwrap_or_else(|| panic!("no digest in\n{text}"));
    line.trim_start_matches("digest: ").to_string()
}

// ------------------------------------------------------------------ one seed

/// `--seed` and `--set seed=` together would have one silently win: every
/// command with both refuses the pair (exit 2), naming both and saying
/// what to do.
#[test]
fn seed_and_set_seed_together_are_refused() {
    let cases: &[&[&str]] = &[
        &["run", "sims/lossy-transfer.ron", "--seed", "7", "--set", "seed=5"],
        &["run", "sims/lossy-transfer.ron", "--set", " seed = 5 ", "--seed", "7", "--quiet"],
        &["report", "sims/lossy-transfer.ron", "--seed", "7", "--set", "seed=5"],
        &["explore", "sims/close-explore.ron", "--drop-first", "2", "--seed", "7", "--set", "seed=5"],
        &["shrink", "examples/shrink-demo.ron", "--seed", "7", "--set", "seed=5", "--out", "/dev/null"],
    ];
    for argv in cases {
        let out = tcpsim(argv);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(
            err.contains("--seed 7") && err.contains("--set seed=5") && err.contains("give the seed once"),
            "{argv:?}: {err}"
        );
        assert!(stdout(&out).is_empty(), "{argv:?}: nothing runs: {}", stdout(&out));
    }
}

/// `--set seed=N` alone sets the seed as `--seed N` does; when the run
/// fails its expectations, the replay command it prints gives the seed
/// once (as `--seed`) and reproduces the run.
#[test]
fn set_seed_alone_is_the_seed_and_replays() {
    let by_set = tcpsim(&["run", "sims/lossy-transfer.ron", "--set", "seed=5", "--quiet"]);
    let by_flag = tcpsim(&["run", "sims/lossy-transfer.ron", "--seed", "5", "--quiet"]);
    assert_exit(&by_set, 0);
    assert_eq!(digest(&by_set), digest(&by_flag));

    let failing = tcpsim(&["run", NORMAL, "--set", "seed=5", "--set", BREAK_EXPECT, "--quiet"]);
    assert_exit(&failing, 1);
    let err = stderr(&failing);
    let replay = err.lines().find_map(|l| l.strip_prefix("replay: tcpsim ")).unwrap_or_else(|| panic!("{err}"));
    assert_eq!(replay, format!("run {NORMAL} --seed 5 --set '{BREAK_EXPECT}'"));
    let again = tcpsim(&["run", NORMAL, "--seed", "5", "--set", BREAK_EXPECT, "--quiet"]);
    assert_exit(&again, 1);
    assert_eq!(digest(&again), digest(&failing));
}

/// A sweep chooses every run's seed, so `--set seed=` is refused there
/// whatever else is given, pointing to `--seeds`.
#[test]
fn sweep_refuses_set_seed() {
    for set in ["seed=5", "seed = 5"] {
        let out = tcpsim(&["sweep", "examples/shrink-demo.ron", "--seeds", "20", "--set", set]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains("--set seed=5") && err.contains("--seeds"), "{err}");
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    }
}

// ------------------------------------------------------ --check-determinism

/// Once the two runs agree, the run's own result decides the exit code:
/// 1 for a failed expectation (printed, with its replay), 3 for a limit.
#[test]
fn check_determinism_keeps_the_run_exit_codes() {
    let failed = tcpsim(&["run", NORMAL, "--set", BREAK_EXPECT, "--check-determinism"]);
    assert_exit(&failed, 1);
    assert!(stdout(&failed).starts_with("determinism: ok: "), "{}", stdout(&failed));
    let err = stderr(&failed);
    assert!(err.contains(&format!("{NORMAL}: expectation failed: ")), "{err}");
    assert!(err.contains(&format!("replay: tcpsim run {NORMAL} --seed ")), "{err}");
    // The same expectation fails in the plain run.
    let plain = tcpsim(&["run", NORMAL, "--set", BREAK_EXPECT, "--quiet"]);
    assert_exit(&plain, 1);
    let failures = |o: &Output| {
        stderr(o).lines().filter(|l| l.contains("expectation failed")).map(String::from).collect::<Vec<_>>()
    };
    assert_eq!(failures(&failed), failures(&plain));

    let limited = tcpsim(&["run", NORMAL, "--max-events", "10", "--check-determinism"]);
    assert_exit(&limited, 3);
    assert!(stdout(&limited).contains("(outcome event_limit"), "{}", stdout(&limited));
    assert!(
        stderr(&limited).contains("run incomplete") && stderr(&limited).contains("--max-events"),
        "{}",
        stderr(&limited)
    );
}

/// In JSONL mode stdout carries only JSON records: the determinism line,
/// which is none, goes to stderr.
#[test]
fn check_determinism_in_jsonl_keeps_stdout_json() {
    let out = tcpsim(&["run", NORMAL, "--format", "jsonl", "--check-determinism"]);
    assert_exit(&out, 0);
    for line in stdout(&out).lines() {
        assert!(line.starts_with('{') && line.ends_with('}'), "not JSON on stdout: {line}");
    }
    assert!(stderr(&out).contains("determinism: ok: "), "{}", stderr(&out));
}

/// `--stats` and `--coverage` report the first of the two runs; flags
/// that only shape a trace (filters, the table) are refused, as the
/// outputs are, since the check writes none.
#[test]
fn check_determinism_honours_or_refuses_every_flag() {
    let out = tcpsim(&["run", NORMAL, "--check-determinism", "--stats", "--coverage"]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    let plain = tcpsim(&["run", NORMAL, "--quiet", "--stats"]);
    let events = |text: &str| {
        let stats = text.lines().find(|l| l.starts_with("stats: ")).unwrap_or_else(|| panic!("no stats in {text}"));
        stats.split(' ').find(|w| w.starts_with("events=")).unwrap().to_string()
    };
    assert_eq!(events(&err), events(&stderr(&plain)));
    assert!(err.contains("behaviour coverage") && err.contains("never reached"), "{err}");

    for extra in [
        &["--kinds", "transition"][..],
        &["--conn", "0"],
        &["--endpoint", "client"],
        &["--from-ms", "1"],
        &["--to-ms", "1"],
        &["--connections-table"],
    ] {
        let argv = [&["run", NORMAL, "--check-determinism"][..], extra].concat();
        let out = tcpsim(&argv);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(extra[0]), "{argv:?}: {}", stderr(&out));
    }
}

// --------------------------------------------------------------- numbers

/// The limit flags take the values the file's `limits` take: at least one
/// event (`--max-events 0` is bad input, exit 2), and any time from 0 on
/// (`--max-time-ms 0` runs the events at time 0 and stops there with
/// events left: exit 3, as `limits.max_time_ms: 0` does).
#[test]
fn limits_take_the_values_the_file_takes() {
    let out = tcpsim(&["run", NORMAL, "--max-events", "0"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("--max-events 0: expected at least 1"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let flag = tcpsim(&["run", NORMAL, "--max-time-ms", "0"]);
    assert_exit(&flag, 3);
    assert!(stderr(&flag).contains("max_time (0.000 ms)"), "{}", stderr(&flag));
    let file = tcpsim(&["run", NORMAL, "--set", "limits.max_time_ms=0"]);
    assert_exit(&file, 3);
    assert_eq!(stdout(&flag), stdout(&file));
}

/// A negative number is a value of its flag, checked as values are:
/// never clap's advice to write `-- -1`.
#[test]
fn negative_numbers_reach_the_value_checks() {
    let cases: &[(&[&str], &str)] = &[
        (&["run", NORMAL, "--seed", "-1"], "--seed"),
        (&["run", NORMAL, "--max-time-ms", "-5"], "--max-time-ms -5: expected a non-negative number of milliseconds"),
        (&["run", NORMAL, "--max-events", "-5"], "--max-events"),
        (&["run", NORMAL, "--from-ms", "-5"], "--from-ms -5: expected a non-negative number of milliseconds"),
        (&["run", NORMAL, "--conn", "-1"], "--conn"),
        (&["run", NORMAL, "--loss", "-0.1"], "--loss -0.1: expected a probability"),
        (&["sweep", NORMAL, "--loss", "-0.1,0", "--seeds", "2"], "--loss -0.1: expected probabilities"),
        (&["sweep", NORMAL, "--seeds", "-2"], "--seeds"),
        (&["report", NORMAL, "--max-connections", "-1"], "--max-connections"),
        (&["explore", "sims/close-explore.ron", "--drop-first", "2", "--delay", "-5"], "--delay"),
        (&["sweep", NORMAL, "--seeds", "2", "--jobs", "-1"], "--jobs"),
    ];
    for (argv, expected) in cases {
        let out = tcpsim(argv);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(!err.contains("unexpected argument") && !err.contains("use '--"), "{argv:?}: {err}");
        assert!(err.contains(expected), "{argv:?}: {err}");
    }
}

// ------------------------------------------------------------ `-` is stdout

fn tcpsim_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcpsim")).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap()
}

/// `--out -` writes to stdout, as in most command-line tools; no file
/// named `-` appears.
#[test]
fn dash_is_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let sim = root().join("sims/lost-final-ack.ron");
    let sim = path_str(&sim);
    let plain = tcpsim_in(dir.path(), &["run", sim]);
    let dashed = tcpsim_in(dir.path(), &["run", sim, "--out", "-"]);
    assert_exit(&dashed, 0);
    assert_eq!(stdout(&dashed), stdout(&plain));

    // A sweep's CSV on stdout sends the summary table to stderr.
    let sweep = tcpsim_in(dir.path(), &["sweep", sim, "--seeds", "2", "--out", "-"]);
    assert_exit(&sweep, 0);
    assert!(stdout(&sweep).contains("\nrun,seed,"), "{}", stdout(&sweep));
    assert!(!stdout(&sweep).contains("(2 runs)") && stderr(&sweep).contains("(2 runs)"), "{}", stderr(&sweep));

    // Two outputs on stdout would interleave.
    let both = tcpsim_in(dir.path(), &["run", sim, "--out", "-", "--svg", "/dev/stdout"]);
    assert_exit(&both, 2);
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

/// An output given as `-` (or `/dev/stdout`) takes stdout. A run's trace,
/// given no `--out`, then goes to stderr, so stdout carries that output
/// alone (`--quiet --pcap - | tshark -r -`). A sweep's or a merge's CSV is
/// data, not a log: with no `--out` it would share stdout, so that is bad
/// input (exit 2) naming both, found before anything runs or is written.
#[test]
fn an_output_on_stdout_beside_the_default_one() {
    let dir = tempfile::tempdir().unwrap();
    let sim = root().join("sims/lost-final-ack.ron");
    let sim = path_str(&sim);

    let pcap = tcpsim_in(dir.path(), &["run", sim, "--quiet", "--pcap", "-"]);
    assert_exit(&pcap, 0);
    // The magic number of a nanosecond pcap, little-endian, first.
    assert!(pcap.stdout.starts_with(&[0x4d, 0x3c, 0xb2, 0xa1]), "{:?}", &pcap.stdout[..16.min(pcap.stdout.len())]);
    assert!(!pcap.stdout.windows(6).any(|w| w == b"expect"), "trace text on stdout");
    assert!(stderr(&pcap).contains("expect ok") && stderr(&pcap).contains("\ndigest: "), "{}", stderr(&pcap));
    let alone = tcpsim_in(dir.path(), &["run", sim, "--quiet", "--out", "/dev/null", "--pcap", "-"]);
    assert_eq!(pcap.stdout, alone.stdout, "the capture is the one written with the trace elsewhere");
    // A JSONL trace is data: it keeps stdout, and the clash is refused.
    let jsonl = tcpsim_in(dir.path(), &["run", sim, "--format", "jsonl", "--pcap", "-"]);
    assert_exit(&jsonl, 2);
    assert!(
        stderr(&jsonl).contains("the trace (stdout, no --out) and --pcap -: both write to descriptor 1"),
        "{}",
        stderr(&jsonl)
    );
    // Moved to stderr, the trace clashes with an output sent there.
    let err2 = tcpsim_in(dir.path(), &["run", sim, "--pcap", "-", "--svg", "/dev/stderr"]);
    assert_exit(&err2, 2);
    assert!(
        stderr(&err2).contains(
            "the trace (stderr, as stdout is taken; no --out) and --svg /dev/stderr: both write to descriptor 2"
        ),
        "{}",
        stderr(&err2)
    );

    let csv = tcpsim_in(dir.path(), &["run", sim, "--quiet", "--connections", "/dev/stdout"]);
    assert_exit(&csv, 0);
    assert!(stdout(&csv).starts_with("ep,conn,") && !stdout(&csv).contains("expect"), "{}", stdout(&csv));
    assert!(stderr(&csv).contains("expect ok"), "{}", stderr(&csv));

    let part = dir.path().join("part.csv");
    let made = tcpsim_in(dir.path(), &["sweep", sim, "--seeds", "2", "--shard", "0/1", "--out", path_str(&part)]);
    assert_exit(&made, 0);
    let cases: &[(&[&str], &str)] = &[
        (&["sweep", sim, "--seeds", "2", "--json", "-"], "--json -"),
        (&["sweep", sim, "--seeds", "2", "--plot", "/dev/stdout"], "--plot /dev/stdout"),
        (&["merge", path_str(&part), "--plot", "/dev/fd/1"], "--plot /dev/fd/1"),
    ];
    for (argv, flag) in cases {
        let out = tcpsim_in(dir.path(), argv);
        let what = argv.join(" ");
        assert_exit(&out, 2);
        let err = stderr(&out);
        let expected = format!("the CSV (stdout, no --out) and {flag}: both write to descriptor 1");
        assert!(err.contains(&expected), "{what}: {err}");
        assert!(out.stdout.is_empty(), "{what}: printed {}", stdout(&out));
    }
    assert_eq!(entries(dir.path()), ["part.csv"]);
    // Two outputs given on stdout are refused as before, the trace too.
    let both = tcpsim_in(dir.path(), &["run", sim, "--pcap", "-", "--svg", "/dev/stdout"]);
    assert_exit(&both, 2);
    assert!(stderr(&both).contains("--pcap - and --svg /dev/stdout: both write to descriptor 1"), "{}", stderr(&both));
}

/// The trace moved to stderr is written through descriptor 2 itself: with
/// stderr a file the shell truncated (`2> trace.txt`, no append), a later
/// message (the `--stats` line) follows the trace instead of overwriting
/// its first bytes; and once stdout's reader is gone, the run stops
/// quietly, exit 0, with nothing on stderr (no summary of a cut-short run).
#[test]
fn the_trace_on_stderr_is_descriptor_2() {
    let dir = tempfile::tempdir().unwrap();
    let sim = root().join("sims/lossy-transfer.ron");
    let log = dir.path().join("trace.txt");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_tcpsim"))
        .args(["run", path_str(&sim), "--quiet", "--stats", "--pcap", "-"])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    let piped = tcpsim_in(dir.path(), &["run", path_str(&sim), "--quiet", "--out", "/dev/stdout"]);
    assert!(text.starts_with(&stdout(&piped)), "the trace was overwritten:\n{text}");
    assert!(text[stdout(&piped).len()..].starts_with("stats: "), "{text}");

    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let cut = std::process::Command::new(env!("CARGO_BIN_EXE_tcpsim"))
        .args(["run", path_str(&sim), "--quiet", "--pcap", "-"])
        .env("NO_COLOR", "1")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(cut.status.code(), Some(0), "{}", String::from_utf8_lossy(&cut.stderr));
    assert!(cut.stderr.is_empty(), "{}", String::from_utf8_lossy(&cut.stderr));
}

/// Messages on stderr never end the process: with stderr's reader gone
/// (`2>&1 | head`), the `--stats` line and a failed expectation's lines
/// are lost, and the run exits with its own code (0, or 1 for a failed
/// expectation), never a panic's 101. An explicit `--out /dev/stderr` is
/// descriptor 2 itself, as the moved trace is: a later message follows
/// the trace. `--series -` or a sweep's summary table whose reader went
/// away stops quietly, exit 0.
#[test]
fn stderr_and_stdout_readers_that_go_away() {
    let dir = tempfile::tempdir().unwrap();
    let normal = root().join("sims/normal-close.ron");
    let closed_pipe = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        writer
    };
    let run = |args: &[&str], stdout: std::process::Stdio, stderr: std::process::Stdio| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tcpsim"))
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(stdout)
            .stderr(stderr)
            .output()
            .unwrap()
    };
    let out = run(
        &["run", path_str(&normal), "--quiet", "--out", "/dev/null", "--stats"],
        std::process::Stdio::null(),
        closed_pipe().into(),
    );
    assert_eq!(out.status.code(), Some(0));
    let out = run(
        &["run", path_str(&normal), "--quiet", "--out", "/dev/null", "--set", "expect.endpoints[0].bytes_delivered=5"],
        std::process::Stdio::null(),
        closed_pipe().into(),
    );
    assert_eq!(out.status.code(), Some(1));

    let log = dir.path().join("err.txt");
    let out = run(
        &["run", path_str(&normal), "--quiet", "--out", "/dev/stderr", "--stats"],
        std::process::Stdio::null(),
        std::fs::File::create(&log).unwrap().into(),
    );
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    let trace = tcpsim_in(dir.path(), &["run", path_str(&normal), "--quiet"]);
    assert!(text.starts_with(&stdout(&trace)), "the trace was overwritten:\n{text}");
    assert!(text[stdout(&trace).len()..].starts_with("stats: "), "{text}");

    let scale = root().join("scale/scale-1k.ron");
    let out = run(
        &["run", path_str(&scale), "--quiet", "--series", "-", "--endpoint", "client"],
        closed_pipe().into(),
        std::process::Stdio::piped(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));

    // A sweep's summary table on stdout (its CSV in a file), reader gone.
    let csv = dir.path().join("runs.csv");
    let out = run(
        &["sweep", path_str(&normal), "--seeds", "3", "--out", path_str(&csv)],
        closed_pipe().into(),
        std::process::Stdio::piped(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(csv.exists());
}
