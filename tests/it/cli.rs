//! The command line as users and scripts see it (interface.md): exit codes,
//! `FILE:LINE:COL: error:` messages, atomic `--out`, `tcpsim test`, JSONL,
//! colour, `--stats`, `--help`, and the bad-input corpus in
//! `tests/bad-input/` (one file per class of mistake, each naming the error
//! it must produce in its leading `// expect:` and `// at:` comments).

use crate::util::{
    BREAK_EXPECT, NORMAL, assert_exit, assert_no_panic, entries, path_str, root, stderr, stdout, tcpsim,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs the binary from the repository root with `env` set and `remove`
/// unset (colour tests need control over `NO_COLOR`).
fn tcpsim_env(args: &[&str], env: &[(&str, &str)], remove: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tcpsim"));
    cmd.args(args).current_dir(root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    for k in remove {
        cmd.env_remove(k);
    }
    cmd.output().expect("tcpsim runs")
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temp dir")
}

/// Writes `bytes` to `dir/name` and returns the path as a string to pass on
/// the command line.
fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write a test file");
    path.to_str().expect("temp paths are UTF-8").to_string()
}

#[track_caller]
fn assert_no_temp_files(dir: &Path) {
    let temps: Vec<String> =
        entries(dir).into_iter().filter(|n| n.starts_with(".tcpsim-") && n.ends_with(".tmp")).collect();
    assert!(temps.is_empty(), "temp files left in {}: {temps:?}", dir.display());
}

/// A valid scenario that runs to the end in a few events; `{tcp}` and
/// `{port}` are replaced to make it invalid.
const TEMPLATE: &str = r#"(
    name: "template",
    tcp: ({tcp}),
    hosts: [(name: "a"), (name: "b")],
    links: [(between: ("a", "b"), delay_ms: 10)],
    listeners: [(name: "server", host: "b", port: {port})],
    connections: [(name: "client", host: "a", remote_host: "b", remote_port: 80, script: [Connect(at_ms: 0)])],
)
"#;

fn scenario(tcp: &str, port: &str) -> String {
    TEMPLATE.replace("{tcp}", tcp).replace("{port}", port)
}

// ---------------------------------------------------------------- exit codes

/// A run whose expectations all hold exits 0 and prints nothing on stderr.
#[test]
fn passing_sim_exits_0() {
    let out = tcpsim(&["run", NORMAL]);
    assert_exit(&out, 0);
    assert_eq!(stderr(&out), "");
    assert!(stdout(&out).lines().any(|l| l.starts_with("expect ok")), "{}", stdout(&out));
}

/// A failed expectation exits 1, names the check on stderr, and prints a
/// replay command with the effective seed and every override.
#[test]
fn failed_expectation_exits_1_with_replay_line() {
    let out = tcpsim(&["run", NORMAL, "--set", BREAK_EXPECT]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("expectation failed"), "{err}");
    assert!(err.contains("time_in TIME_WAIT"), "{err}");
    let replay = err.lines().find(|l| l.starts_with("replay: ")).expect("a replay line");
    assert!(replay.starts_with(&format!("replay: tcpsim run {NORMAL} --seed 1")), "{replay}");
    assert!(replay.contains(BREAK_EXPECT), "{replay}");
    // The failing check is also in the trace, marked.
    assert!(stdout(&out).lines().any(|l| l.starts_with("expect FAILED")), "{}", stdout(&out));
}

/// The replay line of a failed run names `--seed`, `--loss` and each `--set`,
/// and running it reproduces the run exactly.
#[test]
fn replay_line_reproduces_the_run() {
    let out = tcpsim(&["run", NORMAL, "--seed", "7", "--loss", "0.2", "--set", BREAK_EXPECT]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    let replay = err.lines().find_map(|l| l.strip_prefix("replay: ")).expect("a replay line");
    assert_eq!(replay, format!("tcpsim run {NORMAL} --seed 7 --loss 0.2 --set '{BREAK_EXPECT}'"));
    let again = tcpsim(&["run", NORMAL, "--seed", "7", "--loss", "0.2", "--set", BREAK_EXPECT]);
    assert_eq!(out.stdout, again.stdout);
}

/// Every kind of bad input exits 2 with an `error:` line, no panic, and an
/// empty stdout: nothing was simulated.
#[test]
fn bad_input_exits_2() {
    let cases: &[&[&str]] = &[
        &["run", "tests/bad-input/syntax-missing-comma.ron"],
        &["run", NORMAL, "--set", "tcp.msl_ms=0"],
        &["run", NORMAL, "--bogus"],
        &["run", NORMAL, "--set", "no-equals-sign"],
        &["run", NORMAL, "--set", "nosuch.field=1"],
        &["run", NORMAL, "--set", "links[99].loss=0.1"],
        &["run", NORMAL, "--set", "links[-1].loss=0.1"],
        &["run", NORMAL, "--set", "tcp.msl_ms=abc"],
        &["run", NORMAL, "--loss", "2"],
        &["run", NORMAL, "--loss", "abc"],
        &["run", NORMAL, "--loss", "0.1234567"],
        &["run", NORMAL, "--conn", "2"],
        &["run", NORMAL, "--seed", "abc"],
        &["run", NORMAL, "--seed", "-1"],
        &["run", NORMAL, "--format", "xml"],
        &["run", NORMAL, "--kinds", "transition,bogus"],
        &["run", NORMAL, "--max-time-ms", "NaN"],
        &["run", NORMAL, "--from-ms", "inf"],
        &["run", "sims/no-such-file.ron"],
        &["run", "sims"],
        &["run"],
        &["bogus-command"],
    ];
    for args in cases {
        let out = tcpsim(args);
        assert_eq!(out.status.code(), Some(2), "tcpsim {args:?}:\n{}", stderr(&out));
        assert_no_panic(&out);
        assert!(stderr(&out).contains("error"), "tcpsim {args:?}: no error on stderr");
        assert_eq!(stdout(&out), "", "tcpsim {args:?} wrote to stdout");
    }
}

/// With no command, the usage goes to stderr and the exit is 2.
#[test]
fn no_command_prints_usage() {
    let out = tcpsim(&[]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("Usage: tcpsim <COMMAND>"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

/// `--conn` accepts exactly the connection and idle-listener indexes the
/// scenario has: index 1 (the idle listener of NORMAL) is fine, 2 is not.
#[test]
fn conn_range_is_checked() {
    assert_exit(&tcpsim(&["run", NORMAL, "--conn", "1", "--quiet"]), 0);
    let out = tcpsim(&["run", NORMAL, "--conn", "2"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("--conn 2"), "{}", stderr(&out));
}

/// Hitting `--max-events` or `--max-time-ms` exits 3 and says which limit.
#[test]
fn limits_exit_3() {
    let out = tcpsim(&["run", NORMAL, "--max-events", "5"]);
    assert_exit(&out, 3);
    assert!(stderr(&out).contains("max_events (5)"), "{}", stderr(&out));
    let out = tcpsim(&["run", NORMAL, "--max-time-ms", "1"]);
    assert_exit(&out, 3);
    assert!(stderr(&out).contains("max_time"), "{}", stderr(&out));
    assert_no_panic(&out);
}

/// A limit set in the file itself stops the run the same way.
#[test]
fn file_limits_exit_3() {
    let out = tcpsim(&["run", NORMAL, "--set", "limits=(max_events: 3)"]);
    assert_exit(&out, 3);
    assert!(stderr(&out).contains("max_events (3)"), "{}", stderr(&out));
}

// ---------------------------------------------------------------- error text

/// The error prefix carries FILE exactly as given (relative, with `./` and
/// `..`, or absolute), then the line and column of the value.
#[test]
fn error_names_the_file_as_given() {
    let abs = root().join("tests/bad-input/duration-zero.ron");
    for given in
        ["tests/bad-input/duration-zero.ron", "./tests/bad-input/../bad-input/duration-zero.ron", path_str(&abs)]
    {
        let out = tcpsim(&["run", given]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        let want =
            format!("{given}:6:19: error: `tcp.msl_ms`: expected a positive duration in milliseconds, found 0\n");
        assert_eq!(err, want);
    }
}

/// Every validation error of a file is reported, one line each, in the
/// `FILE:LINE:COL: error: `field`: ...` format, with expected and found.
#[test]
fn all_validation_errors_are_reported() {
    let dir = tempdir();
    let file = write(dir.path(), "three.ron", scenario("msl_ms: 0, rto_initial_ms: -5", "0"));
    let out = tcpsim(&["run", &file]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    let want = [
        (3, 19, "`tcp.msl_ms`: expected a positive duration in milliseconds, found 0"),
        (3, 38, "`tcp.rto_initial_ms`: expected a positive duration in milliseconds, found -5"),
        (6, 51, "`listeners[0].port`: expected a port in 1..=65535, found 0"),
    ];
    for (line, (l, c, msg)) in lines.iter().zip(want) {
        assert_eq!(*line, format!("{file}:{l}:{c}: error: {msg}"));
    }
}

/// An error in a value given by `--set` points at the field in the file and
/// says the value came from `--set`.
#[test]
fn set_errors_name_the_override() {
    let out = tcpsim(&["run", NORMAL, "--set", "tcp.msl_ms=-3"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.starts_with(&format!("{NORMAL}:12:19: error: `tcp.msl_ms`: ")), "{err}");
    assert!(err.contains("found -3"), "{err}");
    assert!(err.contains("(set by --set tcp.msl_ms=-3)"), "{err}");
}

/// An error in a value `sweep --vary` sets names `--vary` and the value
/// (the flag the user wrote), never a `--set` they did not write; one
/// `--loss` gives names `--loss`.
#[test]
fn vary_errors_name_the_vary() {
    let cases: &[(&[&str], &str)] = &[
        (&["--vary", "tcp.msl_ms=1000,-3"], "(set by --vary tcp.msl_ms=-3)"),
        (&["--vary", "tcp.rfc1337=maybe"], "--vary tcp.rfc1337=maybe: expected `true` or `false`"),
        (&["--vary", "links[5].loss=0.1"], "--vary links[5].loss=0.1: the file has no `links[5]`"),
        (&["--vary", "tcp.msl_ms=("], "--vary tcp.msl_ms=(: not a RON value"),
        (&["--set", "tcp.msl_ms=1000", "--vary", "links[0].delay_ms=5,-1"], "(set by --vary links[0].delay_ms=-1)"),
    ];
    for (args, expected) in cases {
        let mut argv = vec!["sweep", NORMAL, "--seeds", "2"];
        argv.extend_from_slice(args);
        let out = tcpsim(&argv);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains(expected), "{argv:?}: {err}");
        assert!(!err.contains("--set"), "{argv:?}: {err}");
    }
}

/// A `--set` or `--vary` value that does not parse is the option's
/// mistake, not the file's: the error names the option and its value, has
/// no line or column, and gets the file's hints (`2%`, `1e6`, a tuple).
#[test]
fn unparsable_command_line_values_name_the_option() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["run", NORMAL, "--set", "links[0].loss=2%"], "--set links[0].loss=2%: ", "write 0.02"),
        (&["run", NORMAL, "--set", "tcp.msl_ms=2%"], "--set tcp.msl_ms=2%: ", "expected a number; found `2%`"),
        (
            &["run", NORMAL, "--set", "connections[0].script[1].bytes=1e6"],
            "--set connections[0].script[1].bytes=1e6: ",
            "write 1000000",
        ),
        (&["run", NORMAL, "--set", "tcp.msl_ms=abc"], "--set tcp.msl_ms=abc: ", "expected a number; found `abc`"),
        (
            &["run", NORMAL, "--set", "hosts[0]=(\"a\", \"10.0.0.1\")"],
            "--set hosts[0]=(\"a\", \"10.0.0.1\"): ",
            "write (name: \"a\", addr: \"10.0.0.1\")",
        ),
        (&["run", NORMAL, "--set", "tcp.msl_ms=1 2"], "--set tcp.msl_ms=1 2: not a RON value", "text after the value"),
        (&["sweep", NORMAL, "--seeds", "2", "--vary", "links[0].loss=2%"], "--vary links[0].loss=2%: ", "write 0.02"),
        (
            &["sweep", NORMAL, "--seeds", "2", "--vary", "links[0].loss=0.1,abc"],
            "--vary links[0].loss=abc: ",
            "expected a number; found `abc`",
        ),
    ];
    for (args, flag, hint) in cases {
        let out = tcpsim(args);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.starts_with(&format!("{NORMAL}: error: {flag}")), "{args:?}: {err}");
        assert!(err.contains(hint), "{args:?}: {err}");
        for word in ["set by", "Non-whitespace", "Expected"] {
            assert!(!err.contains(word), "{args:?}: {err}");
        }
    }
}

/// `--loss` sets every link's loss; a `--vary` or `--set` of one link's
/// loss would silently win over it (or lose to it), so the pair is
/// refused, naming both.
#[test]
fn loss_and_a_loss_field_together_are_refused() {
    let cases: &[&[&str]] = &[
        &["sweep", NORMAL, "--seeds", "2", "--loss", "0.1", "--vary", "links[0].loss=0.05,0.2"],
        &["sweep", NORMAL, "--seeds", "2", "--vary", "links[0].loss=0.05", "--loss", "0,0.1"],
        &["sweep", NORMAL, "--seeds", "2", "--loss", "0.1", "--vary", "links[0]=(between: (\"a\", \"b\"))"],
        &["run", NORMAL, "--loss", "0.1", "--set", "links[0].loss=0.2"],
        &["sweep", NORMAL, "--seeds", "2", "--loss", "0.1", "--set", "links[0].loss=0.2"],
    ];
    for args in cases {
        let out = tcpsim(args);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains("--loss"), "{args:?}: {err}");
        let other = if args.contains(&"--vary") { "--vary links[0]" } else { "--set links[0].loss=0.2" };
        assert!(err.contains(other), "{args:?}: {err}");
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    // Fields other than a loss go together with `--loss`.
    let out = tcpsim(&["sweep", NORMAL, "--seeds", "1", "--loss", "0", "--vary", "links[0].delay_ms=5,10"]);
    assert_exit(&out, 0);
}

/// A syntax error stops at the first: two mistakes, one message.
#[test]
fn syntax_error_stops_at_the_first() {
    let dir = tempdir();
    let file = write(dir.path(), "two.ron", "(\n    name: \"x\"\n    hosts: [(name: \"a\"]\n)\n");
    let out = tcpsim(&["run", &file]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(&format!("{file}:3:5: error: ")), "{err}");
}

// ------------------------------------------------------------ bad-input corpus

/// A bad-input case: the file and the error it must produce.
struct Case {
    /// The path as given on the command line.
    path: String,
    /// Substrings of the error line, all required.
    expects: Vec<String>,
    /// `LINE:COL` of the error, when it has one.
    at: Option<String>,
    /// Substrings the error must not contain.
    nots: Vec<String>,
}

/// Reads the leading `// expect: ...`, `// not: ...` and `// at: LINE:COL`
/// comments.
fn case_of(path: String, text: &str) -> Case {
    let mut case = Case { path, expects: Vec::new(), at: None, nots: Vec::new() };
    for line in text.lines().take_while(|l| l.starts_with("//")) {
        let line = line.trim_start_matches('/').trim();
        if let Some(e) = line.strip_prefix("expect:") {
            case.expects.push(e.trim().to_string());
        } else if let Some(at) = line.strip_prefix("at:") {
            case.at = Some(at.trim().to_string());
        } else if let Some(not) = line.strip_prefix("not:") {
            case.nots.push(not.trim().to_string());
        }
    }
    case
}

/// Runs one case; returns what is wrong with the program's answer.
fn check_case(case: &Case) -> Vec<String> {
    let mut problems = Vec::new();
    let p = &case.path;
    if case.expects.is_empty() {
        problems.push(format!("{p}: the case has no `// expect:` line"));
        return problems;
    }
    let out = tcpsim(&["run", p]);
    let err = stderr(&out);
    if out.status.code() != Some(2) {
        problems.push(format!("{p}: exit {:?}, expected 2; stderr:\n{err}", out.status.code()));
    }
    if !stdout(&out).is_empty() {
        problems.push(format!("{p}: stdout is not empty"));
    }
    // RON's advice on raw identifiers (`r#2000`) never fits a simulation
    // file; the format's Rust type names and RON's own capitalised
    // messages mean nothing to its readers.
    let raw = [
        "SimFile",
        "Spec`",
        "Name`",
        "RetryLimit",
        "`Port`",
        ": Expected",
        ": Unexpected",
        ": Invalid",
        ": Integer is",
        ": Non-whitespace",
        ": Found",
        " instead",
    ];
    for word in ["panicked", "RUST_BACKTRACE", "raw identifier", "r#"].iter().chain(&raw) {
        if err.contains(word) {
            problems.push(format!("{p}: stderr mentions {word:?}:\n{err}"));
        }
    }
    for not in &case.nots {
        if err.contains(not.as_str()) {
            problems.push(format!("{p}: stderr mentions {not:?}:\n{err}"));
        }
    }
    // The expected text must be on an error line for this file, at the
    // expected position when one is given.
    let prefix = match &case.at {
        Some(at) => format!("{p}:{at}: error: "),
        None => format!("{p}:"),
    };
    let line = err.lines().find(|l| l.starts_with(&prefix) && l.contains(" error: ") && l.contains(&case.expects[0]));
    match line {
        None => problems.push(format!(
            "{p}: no error line starting with {prefix:?} and containing {:?}; stderr:\n{err}",
            case.expects[0]
        )),
        Some(line) => {
            for e in &case.expects[1..] {
                if !line.contains(e.as_str()) {
                    problems.push(format!("{p}: the error line lacks {e:?}: {line}"));
                }
            }
        }
    }
    problems
}

fn corpus_files() -> Vec<PathBuf> {
    crate::util::ron_files(&root().join("tests/bad-input"))
}

/// Every file in `tests/bad-input/` exits 2 with the error its header
/// names, at the position its header names.
#[test]
fn bad_input_corpus() {
    let files = corpus_files();
    assert!(files.len() >= 35, "the corpus lost files: {files:?}");
    let mut problems = Vec::new();
    for file in files {
        let rel = file.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).expect("corpus files are UTF-8");
        let case = case_of(rel.clone(), &text);
        if !text.starts_with("// expect: ") {
            problems.push(format!("{rel}: the first line is not `// expect: ...`"));
        }
        problems.extend(check_case(&case));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Inputs that cannot carry a header comment (empty, not UTF-8, pure JSON,
/// absurdly deep) are generated in a temp dir and checked the same way.
#[test]
fn bad_input_generated() {
    let dir = tempdir();
    let deep = format!(
        "(name: \"deep\", hosts: [(name: \"a\")], description: {}{})\n",
        "([".repeat(50_000),
        "])".repeat(50_000)
    );
    let cases: [(&str, Vec<u8>, &str, Option<&str>); 6] = [
        ("empty.ron", b"".to_vec(), "the file is empty", Some("1:1")),
        ("whitespace.ron", b"  \n\t\n   \n".to_vec(), "the file is empty", None),
        (
            "latin1.ron",
            b"(\n    name: \"caf\xe9\",\n    hosts: [(name: \"a\")],\n)\n".to_vec(),
            "the file is not UTF-8 text (invalid byte 0xe9)",
            Some("2:15"),
        ),
        (
            "binary.ron",
            vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d],
            "the file is not UTF-8 text (invalid byte 0x89)",
            Some("1:1"),
        ),
        (
            "pure.json",
            br#"{"name": "json", "hosts": [{"name": "a"}]}"#.to_vec(),
            "this looks like JSON, but simulation files are RON",
            Some("1:1"),
        ),
        ("deep.ron", deep.into_bytes(), "`description`: expected a string", Some("1:51")),
    ];
    let mut problems = Vec::new();
    for (name, bytes, expect, at) in cases {
        let case = Case {
            path: write(dir.path(), name, bytes),
            expects: vec![expect.to_string()],
            at: at.map(str::to_string),
            nots: Vec::new(),
        };
        problems.extend(check_case(&case));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// `tcpsim test` on the corpus reports every file as bad input and exits 2.
#[test]
fn test_command_on_corpus_fails_every_file() {
    let n = corpus_files().len();
    let out = tcpsim(&["test", "tests/bad-input/"]);
    assert_exit(&out, 2);
    assert_no_panic(&out);
    let text = stdout(&out);
    assert_eq!(text.lines().filter(|l| l.ends_with("(bad input)")).count(), n, "{text}");
    assert_eq!(text.lines().last(), Some(format!("0 passed, {n} failed").as_str()));
}

// -------------------------------------------------------------------- --out

/// On success `--out` holds the full trace, byte for byte what stdout
/// would show, ending with the digest; nothing is left beside it.
#[test]
fn out_holds_the_full_trace() {
    let dir = tempdir();
    let target = dir.path().join("trace.txt");
    let out = tcpsim(&["run", NORMAL, "--out", path_str(&target)]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "");
    let written = std::fs::read_to_string(&target).expect("the trace file exists");
    assert!(written.lines().last().unwrap().starts_with("digest: "), "{written}");
    assert_eq!(written, stdout(&tcpsim(&["run", NORMAL])));
    assert_eq!(entries(dir.path()), ["trace.txt"]);
}

/// A run that finished with failed expectations still writes its trace.
#[test]
fn out_is_written_when_expectations_fail() {
    let dir = tempdir();
    let target = dir.path().join("trace.jsonl");
    let out = tcpsim(&["run", NORMAL, "--set", BREAK_EXPECT, "--format", "jsonl", "--out", path_str(&target)]);
    assert_exit(&out, 1);
    let written = std::fs::read_to_string(&target).expect("the trace file exists");
    assert!(written.lines().last().unwrap().contains(r#""kind":"summary""#), "{written}");
    assert_eq!(entries(dir.path()), ["trace.jsonl"]);
}

/// On bad input (exit 2) no output file is created and an existing one is
/// left as it was.
#[test]
fn out_untouched_on_bad_input() {
    let dir = tempdir();
    let existing = write(dir.path(), "existing.txt", "previous contents\n");
    let fresh = dir.path().join("fresh.txt");
    let bad: &[&[&str]] = &[
        &["run", "tests/bad-input/syntax-missing-comma.ron"],
        &["run", NORMAL, "--set", "tcp.msl_ms=0"],
        &["run", NORMAL, "--conn", "9"],
        &["run", NORMAL, "--kinds", "bogus"],
    ];
    for args in bad {
        for target in [existing.as_str(), path_str(&fresh)] {
            let mut argv = args.to_vec();
            argv.extend(["--out", target]);
            let out = tcpsim(&argv);
            assert_eq!(out.status.code(), Some(2), "tcpsim {argv:?}");
        }
    }
    assert!(!fresh.exists());
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "previous contents\n");
    assert_eq!(entries(dir.path()), ["existing.txt"]);
}

/// When a limit stops the run (exit 3) an existing target keeps its bytes
/// and no temp file remains.
#[test]
fn out_untouched_on_limit() {
    let dir = tempdir();
    let target = write(dir.path(), "trace.txt", "previous contents\n");
    for limit in [["--max-events", "5"], ["--max-time-ms", "1"]] {
        let out = tcpsim(&["run", NORMAL, "--out", &target, limit[0], limit[1]]);
        assert_exit(&out, 3);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "previous contents\n");
        assert_no_temp_files(dir.path());
    }
    let fresh = dir.path().join("fresh.txt");
    assert_exit(&tcpsim(&["run", NORMAL, "--out", path_str(&fresh), "--max-events", "5"]), 3);
    assert!(!fresh.exists());
    assert_eq!(entries(dir.path()), ["trace.txt"]);
}

/// `--out` into a directory that does not exist, or naming a directory,
/// is bad input (exit 2) and creates nothing.
#[test]
fn out_to_missing_or_directory_is_bad_input() {
    let dir = tempdir();
    let missing = dir.path().join("no-such-dir").join("trace.txt");
    let out = tcpsim(&["run", NORMAL, "--out", path_str(&missing)]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("no-such-dir"), "{}", stderr(&out));
    let out = tcpsim(&["run", NORMAL, "--out", path_str(dir.path())]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

/// `--out /dev/full` fails while writing: exit 3, and the device is still
/// a device (not replaced by a file); `--out /dev/null` works.
#[cfg(target_os = "linux")]
#[test]
fn out_to_devices() {
    use std::os::unix::fs::FileTypeExt;
    let out = tcpsim(&["run", NORMAL, "--out", "/dev/full"]);
    assert_exit(&out, 3);
    assert!(stderr(&out).contains("writing the trace failed"), "{}", stderr(&out));
    assert_no_panic(&out);
    assert!(std::fs::metadata("/dev/full").unwrap().file_type().is_char_device());
    let out = tcpsim(&["run", NORMAL, "--out", "/dev/null"]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "");
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
}

/// SIGTERM during a run exits 3, removes the temp file and leaves an
/// existing target untouched.
#[cfg(unix)]
#[test]
fn out_untouched_on_interrupt() {
    use std::time::Duration;
    /// Kills the child if the test fails before it exits.
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    /// Polls `done` every 10 ms, at most 1000 times (10 s).
    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        for _ in 0..1000 {
            if done() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("timed out waiting for {what}");
    }
    let dir = tempdir();
    // One connection sending a terabyte: runs far longer than the test.
    let sim = write(
        dir.path(),
        "endless.ron",
        scenario("", "80").replace(
            "script: [Connect(at_ms: 0)]",
            "script: [Connect(at_ms: 0), Send(at_ms: 1, bytes: 1099511627776)]",
        ),
    );
    let target = write(dir.path(), "trace.txt", "previous contents\n");
    let mut child = Reap(
        Command::new(env!("CARGO_BIN_EXE_tcpsim"))
            .args(["run", &sim, "--quiet", "--out", &target])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tcpsim starts"),
    );
    // The temp file appears once the output is open; the signal handler is
    // installed right after it.
    wait_for("the temp file", || entries(dir.path()).iter().any(|n| n.starts_with(".tcpsim-")));
    std::thread::sleep(Duration::from_millis(200));
    let killed = Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let mut status = None;
    wait_for("tcpsim to stop after SIGTERM", || {
        status = child.0.try_wait().unwrap();
        status.is_some()
    });
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.unwrap().code(), Some(3), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "previous contents\n");
    assert_no_temp_files(dir.path());
}

// -------------------------------------------------------------- tcpsim test

/// `tcpsim test sims/` passes every file: one PASS line each, then
/// `N passed, 0 failed`.
#[test]
fn test_command_passes_sims() {
    let n = crate::util::sim_files().len();
    let out = tcpsim(&["test", "sims/"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert_eq!(text.lines().filter(|l| l.starts_with("PASS  ")).count(), n, "{text}");
    assert_eq!(text.lines().last(), Some(format!("{n} passed, 0 failed").as_str()));
}

/// `tcpsim test` reports files in the order given whatever the number of
/// worker threads: `--jobs 1` and `--jobs 3` print the same bytes.
#[test]
fn test_command_output_does_not_depend_on_jobs() {
    let one = tcpsim(&["test", "sims/", "tests/bad-input/duration-zero.ron", "--jobs", "1"]);
    let three = tcpsim(&["test", "sims/", "tests/bad-input/duration-zero.ron", "--jobs", "3"]);
    assert_exit(&one, 2);
    assert_exit(&three, 2);
    assert_eq!(stdout(&one), stdout(&three));
    assert_eq!(one.stderr, three.stderr);
}

/// A malformed file among good ones is reported with its
/// `FILE:LINE:COL: error:` message, the others still run, and the exit is 2.
#[test]
fn test_command_reports_bad_input_and_goes_on() {
    let dir = tempdir();
    std::fs::copy(root().join(NORMAL), dir.path().join("a-good.ron")).unwrap();
    let bad = write(dir.path(), "b-bad.ron", "(\n    name: \"x\"\n    hosts: [(name: \"a\")],\n)\n");
    std::fs::copy(root().join("sims/lost-ack.ron"), dir.path().join("c-good.ron")).unwrap();
    let out = tcpsim(&["test", path_str(dir.path())]);
    assert_exit(&out, 2);
    assert_no_panic(&out);
    let text = stdout(&out);
    assert_eq!(text.lines().filter(|l| l.starts_with("PASS  ")).count(), 2, "{text}");
    assert!(text.contains(&format!("FAIL  {bad}")), "{text}");
    assert!(text.contains(&format!("{bad}:3:5: error: ")), "{text}");
    assert_eq!(text.lines().last(), Some("2 passed, 1 failed"));
}

/// A file whose expectations fail (but which is valid) makes `tcpsim test`
/// exit 1 with a FAIL line and a replay command.
#[test]
fn test_command_exits_1_on_failed_expectation() {
    let dir = tempdir();
    std::fs::copy(root().join(NORMAL), dir.path().join("a-good.ron")).unwrap();
    let text = std::fs::read_to_string(root().join(NORMAL)).unwrap();
    let failing = write(dir.path(), "b-failing.ron", text.replace("ms: 4000", "ms: 4001"));
    let out = tcpsim(&["test", path_str(dir.path())]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(text.contains(&format!("FAIL  {failing}\n")), "{text}");
    assert!(text.contains("time_in TIME_WAIT: expected 4001 ms, got 4000 ms"), "{text}");
    assert!(text.contains(&format!("replay: tcpsim run {failing} --seed 1")), "{text}");
    assert_eq!(text.lines().last(), Some("1 passed, 1 failed"));
}

/// Bad input outranks failed expectations: a bad file and a failing file
/// together exit 2; a missing path is bad input too.
#[test]
fn test_command_bad_input_wins() {
    let dir = tempdir();
    let text = std::fs::read_to_string(root().join(NORMAL)).unwrap();
    let failing = write(dir.path(), "failing.ron", text.replace("ms: 4000", "ms: 4001"));
    let out = tcpsim(&["test", &failing, "tests/bad-input/duration-zero.ron"]);
    assert_exit(&out, 2);
    assert_eq!(stdout(&out).lines().last(), Some("0 passed, 2 failed"));
    let out = tcpsim(&["test", "sims/normal-close.ron", "sims/no-such-file.ron"]);
    assert_exit(&out, 2);
    assert!(stdout(&out).contains("sims/no-such-file.ron: error: "), "{}", stdout(&out));
}

/// `tcpsim test` walks directory symlinks but not around a cycle
/// (`loop/sub/up -> ..`), and runs each file once, under the first path
/// the sorted walk meets it by; links to a file or to a directory outside
/// the cycle are followed.
#[test]
fn test_command_runs_each_file_once_and_leaves_cycles() {
    use std::os::unix::fs::symlink;
    let dir = tempdir();
    let (root_dir, outside) = (dir.path().join("loop"), dir.path().join("outside"));
    std::fs::create_dir_all(root_dir.join("sub")).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::copy(root().join(NORMAL), root_dir.join("normal-close.ron")).unwrap();
    std::fs::copy(root().join("sims/lost-ack.ron"), outside.join("lost-ack.ron")).unwrap();
    std::fs::copy(root().join("sims/half-close.ron"), outside.join("half-close.ron")).unwrap();
    symlink("..", root_dir.join("sub/up")).unwrap();
    symlink("../../outside", root_dir.join("sub/other")).unwrap();
    symlink("../outside/half-close.ron", root_dir.join("linked.ron")).unwrap();
    symlink("../normal-close.ron", root_dir.join("sub/alias.ron")).unwrap();
    // half-close.ron is met first as loop/linked.ron, normal-close.ron
    // before its alias.
    let expected = ["loop/linked.ron", "loop/normal-close.ron", "loop/sub/other/lost-ack.ron"];
    // The loop twice, and a file of it again: still each file once.
    for args in [&["test", "loop"][..], &["test", "loop", "loop/sub/up/", "loop/sub/alias.ron"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_tcpsim")).args(args).current_dir(dir.path()).output().unwrap();
        assert_exit(&out, 0);
        let text = stdout(&out);
        let files: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("PASS  ")?.split("  ").next()).collect();
        assert_eq!(files, expected, "{args:?}:\n{text}");
        assert_eq!(text.lines().last(), Some("3 passed, 0 failed"));
    }
}

/// A file stopped by one of its limits did not finish: its FAIL line says
/// which limit and gives the command that replays it, and the exit is 3,
/// which wins over 1 (as for `sweep`) and loses to bad input's 2.
#[test]
fn test_command_incomplete_run_exits_3_with_replay_line() {
    let dir = tempdir();
    let text = std::fs::read_to_string(root().join(NORMAL)).unwrap();
    assert!(text.contains("    seed: 1,\n"));
    let limited = write(
        dir.path(),
        "limited.ron",
        text.replace("    seed: 1,\n", "    seed: 1,\n    limits: (max_events: 5),\n"),
    );
    let failing = write(dir.path(), "failing.ron", text.replace("ms: 4000", "ms: 4001"));

    let out = tcpsim(&["test", &limited]);
    assert_exit(&out, 3);
    let report = stdout(&out);
    let replay = format!("tcpsim run {limited} --seed 1");
    assert!(
        report.contains(&format!("FAIL  {limited}\n        run incomplete: event_limit\n        replay: {replay}\n")),
        "{report}"
    );
    assert_eq!(report.lines().last(), Some("0 passed, 1 failed"));
    // The replay command stops at the same limit.
    let argv: Vec<&str> = replay.split(' ').skip(1).chain(["--quiet"]).collect();
    let replayed = tcpsim(&argv);
    assert_exit(&replayed, 3);
    assert!(stderr(&replayed).contains("max_events (5)"), "{}", stderr(&replayed));

    let out = tcpsim(&["test", &failing, &limited, NORMAL]);
    assert_exit(&out, 3);
    assert_eq!(stdout(&out).lines().last(), Some("1 passed, 2 failed"));
    let out = tcpsim(&["test", &limited, "tests/bad-input/duration-zero.ron"]);
    assert_exit(&out, 2);
}

// -------------------------------------------------------------------- jsonl

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

/// In jsonl mode every stdout line is a JSON object with a `kind`;
/// expectation results are `expect` records; the last is the summary with
/// the contract's fields.
#[test]
fn jsonl_stdout_is_only_json() {
    let out = tcpsim(&["run", NORMAL, "--format", "jsonl"]);
    assert_exit(&out, 0);
    let records = json_lines(&stdout(&out));
    for r in &records {
        assert!(r.is_object() && r["kind"].is_string(), "{r}");
    }
    let expects: Vec<_> = records.iter().filter(|r| r["kind"] == "expect").collect();
    assert_eq!(expects.len() as u64, records.last().unwrap()["expectations"].as_u64().unwrap());
    assert!(!expects.is_empty());
    assert!(expects.iter().all(|r| r["ok"] == true));
    let summary = records.last().unwrap();
    assert_eq!(summary["kind"], "summary");
    let digest = summary["digest"].as_str().expect("digest is a string");
    assert!(!digest.is_empty() && digest.chars().all(|c| c.is_ascii_hexdigit()), "{digest}");
    assert_eq!(summary["version"], env!("CARGO_PKG_VERSION"));
    for field in ["digest_version", "events", "transitions", "connections", "expectations_failed"] {
        assert!(summary[field].is_u64(), "summary.{field} is not an integer: {summary}");
    }
    assert_eq!(summary["connections"], 1);
    assert_eq!(summary["expectations_failed"], 0);
    assert_eq!(records.iter().filter(|r| r["kind"] == "summary").count(), 1);
}

/// With failed expectations, jsonl stdout stays pure JSON (failures are
/// `"ok": false` records) and the human messages go to stderr.
#[test]
fn jsonl_failures_stay_json() {
    let out = tcpsim(&["run", NORMAL, "--format", "jsonl", "--set", BREAK_EXPECT]);
    assert_exit(&out, 1);
    let records = json_lines(&stdout(&out));
    let failed: Vec<_> = records.iter().filter(|r| r["kind"] == "expect" && r["ok"] == false).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(records.last().unwrap()["expectations_failed"], 1);
    assert!(stderr(&out).contains("expectation failed"), "{}", stderr(&out));
}

/// `--quiet` in jsonl prints only the expectation results and the summary.
#[test]
fn jsonl_quiet_prints_expectations_and_summary() {
    let out = tcpsim(&["run", NORMAL, "--format", "jsonl", "--quiet"]);
    assert_exit(&out, 0);
    let records = json_lines(&stdout(&out));
    let (last, rest) = records.split_last().unwrap();
    assert_eq!(last["kind"], "summary");
    assert_eq!(rest.len() as u64, last["expectations"].as_u64().unwrap());
    assert!(rest.iter().all(|r| r["kind"] == "expect"), "{rest:?}");
}

// ------------------------------------------------------- open endpoints

/// A completed run lists every endpoint not CLOSED with why, even with
/// `--quiet`, before the expectations, summary and digest. In
/// fin-wait-2-timeout.ron the servers' applications never close (CLOSE_WAIT)
/// and conn 0's client, with no FIN_WAIT_2 timer (B-CLOSE-11), waits for
/// them: "peer never closed", not stuck. Conns 1 and 2 time out to CLOSED.
#[test]
fn quiet_run_lists_open_endpoints_with_reasons() {
    let out = tcpsim(&["run", "sims/fin-wait-2-timeout.ron", "--quiet"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let open: Vec<&str> = text.lines().filter(|l| l.starts_with("# open") || l.starts_with("#   ")).collect();
    assert_eq!(
        open,
        vec![
            "# open endpoints: 4 not CLOSED at the end, 0 stuck",
            "#   conn   0  ep   0  client     FIN_WAIT_2   peer never closed: the peer's application never called CLOSE",
            "#   conn   0  ep   3  server     CLOSE_WAIT   application never closed it",
            "#   conn   1  ep   4  server     CLOSE_WAIT   application never closed it",
            "#   conn   2  ep   5  server     CLOSE_WAIT   application never closed it",
            "#   by state and reason: FIN_WAIT_2/peer_never_closed=1 CLOSE_WAIT/app_never_closed=3",
        ]
    );
    let first_expect = text.lines().position(|l| l.starts_with("expect ")).unwrap();
    let heading = text.lines().position(|l| l.starts_with("# open endpoints")).unwrap();
    assert!(heading < first_expect, "{text}");
    assert!(text.lines().last().unwrap().starts_with("digest: "));
}

/// A run whose connections never close says so at its end in every
/// format, `--quiet` included: in the text and ladder traces as the open
/// endpoints' lines, in JSONL as `open` records on stdout and one line for
/// people on stderr (stdout carries only JSON).
#[test]
fn a_run_that_never_closes_says_so_in_every_format() {
    let dir = tempdir();
    let file = write(dir.path(), "open.ron", scenario("", "80"));
    for format in ["text", "ladder", "jsonl"] {
        for quiet in [true, false] {
            let mut args = vec!["run", &file, "--format", format];
            if quiet {
                args.push("--quiet");
            }
            let out = tcpsim(&args);
            assert_exit(&out, 0);
            let (text, err) = (stdout(&out), stderr(&out));
            let note = "open endpoints: 2 not CLOSED at the end, 0 stuck";
            if format == "jsonl" {
                assert!(err.contains(note), "{args:?}: stderr {err}");
                assert_eq!(json_lines(&text).iter().filter(|r| r["kind"] == "open").count(), 2, "{args:?}");
            } else {
                assert!(text.contains(&format!("# {note}")), "{args:?}: {text}");
            }
        }
    }
}

/// At most 20 open endpoints are listed, then how many more, then the
/// counts by state and reason. 25 clients close on connecting and wait in
/// FIN_WAIT_2 for servers whose application never closes (CLOSE_WAIT); the
/// listener (backlog 30) keeps one endpoint listening: 51 open, none stuck.
#[test]
fn open_endpoint_list_is_capped_then_counted() {
    let dir = tempdir();
    let file = dir.path().join("many.ron");
    std::fs::write(
        &file,
        r#"(
        name: "many-open", seed: 1,
        hosts: [(name: "c"), (name: "s")],
        links: [(between: ("c", "s"), delay_ms: 2)],
        listeners: [(name: "server", host: "s", port: 80, backlog: 30)],
        connections: [(name: "client", host: "c", remote_host: "s", remote_port: 80, count: 25,
                       script: [Connect(at_ms: 0)], on_connected: [Close])],
    )"#,
    )
    .unwrap();
    let out = tcpsim(&["run", file.to_str().unwrap(), "--quiet"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.starts_with("# open endpoints: 51 not CLOSED at the end, 0 stuck\n"), "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("#   conn ")).count(), 20, "{text}");
    assert!(text.contains("\n#   ... and 31 more\n"), "{text}");
    let counts = "#   by state and reason: LISTEN/app_never_closed=1 FIN_WAIT_2/peer_never_closed=25 CLOSE_WAIT/app_never_closed=25";
    assert!(text.lines().any(|l| l == counts), "{text}");
}

/// The JSONL summary counts open and stuck endpoints; a peer that vanished
/// (B-CLOSE-11: FIN_WAIT_2 after the peer was reset) and a crashed host are
/// explained, so nothing is stuck.
#[test]
fn jsonl_summary_counts_open_and_stuck_endpoints() {
    for (sim, open) in [("sims/rst-in-synchronized-states.ron", 4), ("sims/host-crash.ron", 2), (NORMAL, 0)] {
        let out = tcpsim(&["run", sim, "--format", "jsonl", "--quiet"]);
        assert_exit(&out, 0);
        let records = json_lines(&stdout(&out));
        let summary = records.last().unwrap();
        assert_eq!((summary["open"].as_u64(), summary["stuck"].as_u64()), (Some(open), Some(0)), "{sim}");
    }
}

/// JSONL lists every open endpoint for scripts, one `open` record each
/// (no cap, unlike the text list), after the trace and before the `expect`
/// records, at the run's end time. Each names the endpoint as the trace
/// does: its `ep` is the one whose transitions end in that `state`. The
/// records are not digested: the digest is the text run's.
#[test]
fn jsonl_has_one_open_record_per_open_endpoint() {
    let out = tcpsim(&["run", "sims/fin-wait-2-timeout.ron", "--format", "jsonl"]);
    assert_exit(&out, 0);
    let records = json_lines(&stdout(&out));
    let summary = records.last().unwrap();
    let first_open = records.iter().position(|r| r["kind"] == "open").unwrap();
    let first_expect = records.iter().position(|r| r["kind"] == "expect").unwrap();
    assert_eq!(first_expect, first_open + 4, "four open records, right before the expect records");
    let open = &records[first_open..first_expect];
    let shown: Vec<(u64, &str, &str, &str)> = open
        .iter()
        .map(|r| {
            assert_eq!(r["t_ns"], summary["end_ns"], "{r}");
            let fields: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(fields, ["t_ns", "kind", "conn", "ep", "endpoint", "state", "reason"], "{r}");
            // The endpoint's last transition, found by its `ep`, ends in
            // the state the record gives.
            let last = records.iter().rfind(|t| t["kind"] == "transition" && t["ep"] == r["ep"]).unwrap();
            assert_eq!((&last["to"], &last["endpoint"], &last["conn"]), (&r["state"], &r["endpoint"], &r["conn"]));
            (
                r["conn"].as_u64().unwrap(),
                r["endpoint"].as_str().unwrap(),
                r["state"].as_str().unwrap(),
                r["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (0, "client", "FIN_WAIT_2", "peer_never_closed"),
            (0, "server", "CLOSE_WAIT", "app_never_closed"),
            (1, "server", "CLOSE_WAIT", "app_never_closed"),
            (2, "server", "CLOSE_WAIT", "app_never_closed"),
        ]
    );
    assert_eq!(summary["open"], 4);
    let text = tcpsim(&["run", "sims/fin-wait-2-timeout.ron", "--quiet"]);
    let digest = stdout(&text).lines().last().unwrap().strip_prefix("digest: ").unwrap().to_string();
    assert_eq!(summary["digest"], digest.as_str());
}

/// `--conn` and `--endpoint` choose which open endpoints are listed, in
/// text and in JSONL, as they choose the trace records; the summary still
/// counts the whole run.
#[test]
fn filters_choose_the_open_endpoints_shown() {
    let sim = "sims/fin-wait-2-timeout.ron";
    let out = tcpsim(&["run", sim, "--quiet", "--endpoint", "server"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let open: Vec<&str> = text.lines().filter(|l| l.starts_with("# open") || l.starts_with("#   ")).collect();
    assert_eq!(
        open,
        vec![
            "# open endpoints: 3 not CLOSED at the end, 0 stuck",
            "#   conn   0  ep   3  server     CLOSE_WAIT   application never closed it",
            "#   conn   1  ep   4  server     CLOSE_WAIT   application never closed it",
            "#   conn   2  ep   5  server     CLOSE_WAIT   application never closed it",
            "#   by state and reason: CLOSE_WAIT/app_never_closed=3",
        ]
    );
    let out = tcpsim(&["run", sim, "--format", "jsonl", "--conn", "0"]);
    assert_exit(&out, 0);
    let records = json_lines(&stdout(&out));
    let open: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r["kind"] == "open")
        .map(|r| (r["endpoint"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    assert_eq!(open, [("client", "FIN_WAIT_2"), ("server", "CLOSE_WAIT")]);
    assert_eq!(records.last().unwrap()["open"], 4, "the summary counts the whole run");
    let out = tcpsim(&["run", sim, "--quiet", "--conn", "1", "--endpoint", "client"]);
    assert!(!stdout(&out).contains("open endpoints"), "{}", stdout(&out));
}

/// A run stopped by a limit counts nothing and lists nothing: endpoints
/// may be open only because the run was cut short.
#[test]
fn open_endpoints_are_not_judged_when_a_limit_stops_the_run() {
    let out = tcpsim(&["run", NORMAL, "--quiet", "--set", "limits=(max_events: 3)"]);
    assert_exit(&out, 3);
    assert!(!stdout(&out).contains("open endpoints"), "{}", stdout(&out));
    let out = tcpsim(&["run", NORMAL, "--format", "jsonl", "--quiet", "--set", "limits=(max_events: 3)"]);
    let summary = json_lines(&stdout(&out)).pop().unwrap();
    assert!(summary["open"].is_null() && summary["stuck"].is_null(), "{summary}");
}

/// A failed expectation on a population (`count: N`) says which
/// connection and endpoint broke it and what it found: here two clients
/// connect to a port nobody listens on, are refused (RFC 9293 §3.10.7.3:
/// a RST acknowledging the SYN), and have no peer endpoint at all.
#[test]
fn population_failures_name_the_connection_endpoint_and_finding() {
    let dir = tempdir();
    let file = write(
        dir.path(),
        "refused.ron",
        r#"(
    name: "refused",
    hosts: [(name: "a"), (name: "b")],
    links: [(between: ("a", "b"), delay_ms: 10)],
    connections: [(name: "client", host: "a", remote_host: "b", remote_port: 81, count: 2,
                   script: [Connect(at_ms: 0)], on_connected: [Send(bytes: 100)])],
    expect: (all_connections: (all_bytes_delivered: true, established: true)),
)
"#,
    );
    let out = tcpsim(&["run", &file, "--quiet"]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    let line =
        |what: &str| text.lines().find(|l| l.contains(what)).unwrap_or_else(|| panic!("{what}: {text}")).to_string();
    let delivered = line("all_bytes_delivered");
    assert!(delivered.contains("2 of 2 connections differ"), "{delivered}");
    assert!(delivered.contains("conn 0 client (ep 0): no peer endpoint, client in CLOSED (REFUSED)"), "{delivered}");
    assert!(!delivered.contains("has 1 endpoints"), "{delivered}");
    let established = line("all_connections established");
    assert!(established.contains("conn 0 client (ep 0) never ESTABLISHED"), "{established}");
}

// ----------------------------------------------------------- help, version
/// Counts for people are singular for one: "fired 1 time", "1 check",
/// "1 run", never "1 times", "1 checks", "1 runs".
#[test]
fn counts_of_one_are_singular() {
    let dir = tempdir();
    let one_check = write(
        dir.path(),
        "one.ron",
        scenario("", "80").replace(")],\n)", ")],\n    expect: (proves: [\"B-APP-01\"]),\n)"),
    );
    let mut printed = String::new();
    for args in [
        &["run", NORMAL][..],
        &["test", &one_check],
        &["explore", "sims/close-explore.ron", "--drop-first", "1", "--jobs", "1"],
        &["sweep", NORMAL, "--seeds", "1"],
        &["run", "sims/host-crash.ron", "--kinds", "host"],
    ] {
        let out = tcpsim(args);
        printed.push_str(&stdout(&out));
        printed.push_str(&stderr(&out));
    }
    assert!(
        printed.contains("fired 1 time\n") && printed.contains("(1 check,") && printed.contains("(1 run)"),
        "{printed}"
    );
    assert!(printed.contains("1 job)"), "{printed}");
    // `host-crash.ron`'s crash takes the one endpoint on host b.
    assert!(printed.contains("crash: 1 endpoint vanishes"), "{printed}");
    assert!(printed.contains("# runs: 1 (1 point x 1 seed)"), "{printed}");
    assert!(printed.contains("the first segment, each"), "{printed}");
    for plural in [
        " 1 times",
        " 1 checks",
        " 1 runs",
        " 1 jobs",
        " 1 distinct outcomes",
        " 1 endpoints",
        " 1 points",
        " 1 seeds",
        " 1 segments",
        " 0 kept",
    ] {
        assert!(!printed.contains(plural), "`{plural}` in:\n{printed}");
    }
}

/// Files whose traces hold every kind of trace record between them
/// (`host` from the crash, `rtt` from timestamps, `drop` from the loss).
const EVERY_KIND: [&str; 3] = ["sims/host-crash.ron", "sims/lossy-transfer.ron", "sims/rfc7323/timestamps.ron"];

/// The trace record kinds the JSONL traces of [`EVERY_KIND`] hold, and the
/// labels their text traces print (the fourth column of an event line).
fn kinds_and_labels() -> (std::collections::BTreeSet<String>, std::collections::BTreeSet<String>) {
    let (mut kinds, mut labels) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
    for file in EVERY_KIND {
        for record in json_lines(&stdout(&tcpsim(&["run", file, "--format", "jsonl"]))) {
            let kind = record["kind"].as_str().unwrap().to_string();
            // Records about the run as a whole, not trace events.
            if !["expect", "open", "summary"].contains(&kind.as_str()) {
                kinds.insert(kind);
            }
        }
        for line in stdout(&tcpsim(&["run", file])).lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.first().is_some_and(|t| t.contains('.') && t.parse::<f64>().is_ok()) {
                labels.insert(words[3].to_string());
            }
        }
    }
    (kinds, labels)
}

/// `run --help` lists every kind of record the trace has (`host` and
/// `rtt` included), and `--kinds` takes each of them.
#[test]
fn run_help_lists_every_kind() {
    let (kinds, _) = kinds_and_labels();
    assert_eq!(kinds.len(), 10, "{kinds:?}");
    let help = stdout(&tcpsim(&["run", "--help"]));
    let text = help.split("--kinds").nth(1).unwrap().split("\n      --").next().unwrap().to_string();
    for kind in &kinds {
        assert!(text.contains(&format!(" {kind}")), "`run --help` does not list `{kind}` under --kinds:\n{text}");
        assert_exit(&tcpsim(&["run", NORMAL, "--quiet", "--kinds", kind]), 0);
    }
}

/// `--kinds` takes the labels the text trace prints (`STATE`, `DROP`,
/// `cwnd`, ...) as the record kinds they label, in any case: filtering by
/// a label shows exactly the lines that carry it.
#[test]
fn kinds_takes_the_text_labels() {
    let (_, labels) = kinds_and_labels();
    assert!(labels.len() >= 10, "{labels:?}");
    for label in &labels {
        for word in [label.clone(), label.to_lowercase()] {
            let out = tcpsim(&["run", "sims/host-crash.ron", "--kinds", &word]);
            assert_exit(&out, 0);
            let all = stdout(&tcpsim(&["run", "sims/host-crash.ron"]));
            let out = stdout(&out);
            let shown: Vec<&str> = out.lines().filter(|l| l.starts_with(' ')).collect();
            let expected: Vec<&str> =
                all.lines().filter(|l| l.starts_with(' ') && l.split_whitespace().nth(3) == Some(label)).collect();
            assert_eq!(shown, expected, "--kinds {word}");
        }
    }
    let by_label = tcpsim(&["run", "sims/lossy-transfer.ron", "--kinds", "STATE,cwnd,DROP"]);
    let by_kind = tcpsim(&["run", "sims/lossy-transfer.ron", "--kinds", "transition,congestion,drop"]);
    assert_exit(&by_label, 0);
    assert_eq!(stdout(&by_label), stdout(&by_kind));
}

/// `--kinds` words are trimmed (`'state, cwnd'` as a shell passes it);
/// an unknown one is quoted in the error; `summary`, `expect` and `open`
/// are always shown, so naming them is accepted and changes nothing, as
/// `run --help` says.
#[test]
fn kinds_are_trimmed_and_the_always_shown_kinds_accepted() {
    let spaced = tcpsim(&["run", "sims/lossy-transfer.ron", "--kinds", "STATE, cwnd , DROP"]);
    let tight = tcpsim(&["run", "sims/lossy-transfer.ron", "--kinds", "transition,congestion,drop"]);
    assert_exit(&spaced, 0);
    assert_eq!(stdout(&spaced), stdout(&tight));
    let out = tcpsim(&["run", NORMAL, "--kinds", "transition, bogus"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("--kinds: unknown kind `bogus`; expected some of transition"), "{}", stderr(&out));
    let with = tcpsim(&["run", NORMAL, "--kinds", "transition,summary,expect,open"]);
    assert_exit(&with, 0);
    assert_eq!(stdout(&with), stdout(&tcpsim(&["run", NORMAL, "--kinds", "transition"])));
    let jsonl = tcpsim(&["run", NORMAL, "--format", "jsonl", "--kinds", "summary"]);
    assert_exit(&jsonl, 0);
    let kinds: Vec<String> =
        json_lines(&stdout(&jsonl)).iter().map(|r| r["kind"].as_str().unwrap().to_string()).collect();
    assert!(
        kinds.iter().all(|k| k == "expect" || k == "summary") && kinds.last().map(String::as_str) == Some("summary"),
        "{kinds:?}"
    );
    let help = stdout(&tcpsim(&["run", "--help"]));
    assert!(help.contains("summary, expect and open records are always shown"), "{help}");
}

/// A window that ends before it starts is bad input, naming both flags.
#[test]
fn from_ms_after_to_ms_is_refused() {
    for format in ["text", "jsonl", "ladder"] {
        let out = tcpsim(&["run", NORMAL, "--format", format, "--from-ms", "90", "--to-ms", "50"]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains("--from-ms 90") && err.contains("--to-ms 50"), "{err}");
        assert!(stdout(&out).is_empty(), "{format}");
    }
    assert_exit(&tcpsim(&["run", NORMAL, "--from-ms", "50", "--to-ms", "50"]), 0);
}

/// `--version` prints the crate's version and exits 0.
#[test]
fn version() {
    for flag in ["--version", "-V"] {
        let out = tcpsim(&[flag]);
        assert_exit(&out, 0);
        assert_eq!(stdout(&out), format!("tcpsim {}\n", env!("CARGO_PKG_VERSION")));
    }
}

// ------------------------------------------------------------------- colour

const ESC: &str = "\x1b[";

/// With `NO_COLOR` or with stdout piped (auto), stdout has no ANSI escape;
/// `--color always` adds them to the text trace but never to JSONL.
#[test]
fn colour() {
    let plain = tcpsim_env(&["run", NORMAL], &[("NO_COLOR", "1")], &[]);
    assert_exit(&plain, 0);
    assert!(!stdout(&plain).contains(ESC));
    let piped = tcpsim_env(&["run", NORMAL], &[("TERM", "xterm-256color")], &["NO_COLOR"]);
    assert!(!stdout(&piped).contains(ESC));
    assert_eq!(plain.stdout, piped.stdout);
    let always = tcpsim_env(&["run", NORMAL, "--color", "always"], &[], &["NO_COLOR"]);
    assert_exit(&always, 0);
    assert!(stdout(&always).contains(ESC));
    let never = tcpsim_env(&["run", NORMAL, "--color", "never"], &[], &["NO_COLOR"]);
    assert_eq!(never.stdout, plain.stdout);
    let json = tcpsim_env(&["run", NORMAL, "--color", "always", "--format", "jsonl"], &[], &["NO_COLOR"]);
    assert!(!stdout(&json).contains(ESC));
    json_lines(&stdout(&json));
}

/// Error messages carry no escapes when piped.
#[test]
fn errors_have_no_colour_when_piped() {
    let out = tcpsim_env(&["run", "tests/bad-input/duration-zero.ron"], &[], &["NO_COLOR"]);
    assert_exit(&out, 2);
    assert!(!stderr(&out).contains(ESC), "{}", stderr(&out));
}

// -------------------------------------------------------------------- stats

/// `--stats` adds exactly one line to stderr with every figure as an
/// integer, and nothing of it reaches stdout or the digest.
#[test]
fn stats_line() {
    for format in ["text", "jsonl"] {
        let out = tcpsim(&["run", NORMAL, "--stats", "--format", format]);
        assert_exit(&out, 0);
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        let line = err.lines().next().unwrap();
        assert!(line.starts_with("stats: connections="), "{line}");
        let figures: Vec<(&str, u64)> = line["stats: ".len()..]
            .split(' ')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("{kv:?} in {line}"));
                (k, v.parse().unwrap_or_else(|_| panic!("{k}={v} is not an integer")))
            })
            .collect();
        let keys: Vec<&str> = figures.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            ["connections", "events", "transitions", "wall_ms", "events_per_s", "transitions_per_s", "peak_rss_mib"]
        );
        let without = tcpsim(&["run", NORMAL, "--format", format]);
        assert_eq!(out.stdout, without.stdout, "--stats changed stdout");
        if format == "jsonl" {
            // The counts agree with the run's own summary.
            let summary = json_lines(&stdout(&out)).pop().unwrap();
            for (k, v) in &figures[..3] {
                assert_eq!(summary[*k].as_u64(), Some(*v), "{k} in {line} vs {summary}");
            }
        }
    }
}

/// `--stats` with `--quiet` still prints its line on stderr only.
#[test]
fn stats_with_quiet() {
    let out = tcpsim(&["run", NORMAL, "--stats", "--quiet"]);
    assert_exit(&out, 0);
    assert!(stderr(&out).starts_with("stats: connections=1 "), "{}", stderr(&out));
    assert!(!stdout(&out).contains("stats:") && !stdout(&out).contains("wall_ms"));
}

// ------------------------------------------------------- known bugs (ignored)

/// Two connections with the same name, or a peer named like another
/// connection, are bad input: expectations could not tell them apart.
#[test]

fn duplicate_connection_names_are_bad_input() {
    let dir = tempdir();
    let two = scenario("", "80").replace(
        "connections: [",
        "connections: [(name: \"client\", host: \"a\", remote_host: \"b\", remote_port: 80),\n        ",
    );
    let file = write(dir.path(), "two.ron", two);
    let out = tcpsim(&["run", &file, "--quiet"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("duplicate endpoint name \"client\""), "{}", stderr(&out));
    let peer = r#"(
    name: "peer-dup",
    hosts: [(name: "a"), (name: "b")],
    links: [(between: ("a", "b"))],
    connections: [
        (name: "c1", host: "a", remote_host: "b", remote_port: 80, local_port: 5000, peer: (name: "p")),
        (name: "p", host: "a", remote_host: "b", remote_port: 81),
    ],
)"#;
    let file = write(dir.path(), "peer.ron", peer);
    let out = tcpsim(&["run", &file, "--quiet"]);
    assert_exit(&out, 2);
}

/// One invalid link value gives one error line, not one per direction.
#[test]
fn one_invalid_link_value_is_reported_once() {
    for file in ["probability-above-one", "probability-below-zero", "duration-negative"] {
        let out = tcpsim(&["run", &format!("tests/bad-input/{file}.ron")]);
        assert_exit(&out, 2);
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    }
}

/// A bad link-level value is reported even when one direction overrides
/// it: the other direction still uses it.
#[test]

fn bad_shared_link_value_is_reported_when_one_direction_overrides_it() {
    let dir = tempdir();
    let file = write(
        dir.path(),
        "l.ron",
        "(\n    name: \"x\",\n    hosts: [(name: \"a\"), (name: \"b\")],\n    \
         links: [(between: (\"a\", \"b\"), loss: 2, a_to_b: (loss: 0.1))],\n)\n",
    );
    let out = tcpsim(&["run", &file, "--quiet"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).starts_with(&format!("{file}:4:41: error: `links[0].loss`: ")), "{}", stderr(&out));
}

/// An integer out of its type's range says what was expected and found.
#[test]

fn out_of_range_integer_says_expected_and_found() {
    let out = tcpsim(&["run", "tests/bad-input/port-out-of-range.ron"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("70000") && err.contains("65535"), "{err}");
}

/// Errors found by the RON parser point at the start of the offending value,
/// like validation errors do.
#[test]

fn parse_errors_point_at_the_value() {
    // `    listeners: [(name: "server", host: "b", port: 70000)],`: the value
    // starts in column 51 of line 8; the error says 56.
    let out = tcpsim(&["run", "tests/bad-input/port-out-of-range.ron"]);
    assert!(stderr(&out).starts_with("tests/bad-input/port-out-of-range.ron:8:51: "), "{}", stderr(&out));
}

/// A required field that is missing is reported without naming another
/// field that is present.
#[test]

fn missing_field_names_the_right_path() {
    let dir = tempdir();
    let file = write(
        dir.path(),
        "m.ron",
        "(\n    name: \"x\",\n    hosts: [(name: \"a\")],\n    links: [(delay_ms: 1)],\n)\n",
    );
    let out = tcpsim(&["run", &file]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("`between`") && !err.contains("`links[0].delay_ms`"), "{err}");
}

/// A file cut off in the middle of a list says it ended early.
#[test]

fn truncated_file_says_end_of_file() {
    let dir = tempdir();
    let file = write(dir.path(), "t.ron", "(\n    name: \"x\",\n    hosts: [(name: \"a\"), (name: \"b\")\n");
    let out = tcpsim(&["run", &file]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("end of file"), "{}", stderr(&out));
}

/// A file of only comments is as empty as an empty file and says so.
#[test]

fn comment_only_file_is_reported_as_empty() {
    let out = tcpsim(&["run", "tests/bad-input/only-comments.ron"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("the file is empty"), "{}", stderr(&out));
}

/// A positive duration that rounds to 0 ns is not positive.
#[test]

fn positive_duration_rounding_to_zero_is_bad_input() {
    let out = tcpsim(&["run", NORMAL, "--set", "tcp.msl_ms=1e-9"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("`tcp.msl_ms`"), "{}", stderr(&out));
}

/// `--max-events 0` is bad input, as `limits.max_events: 0` is in a file.
#[test]

fn max_events_zero_is_bad_input() {
    assert_exit(&tcpsim(&["run", "tests/bad-input/limits-zero-events.ron"]), 2);
    let out = tcpsim(&["run", NORMAL, "--max-events", "0"]);
    assert_exit(&out, 2);
}

/// `tcpsim test` writes a bad file's `FILE:LINE:COL: error:` line to
/// stderr, where the contract puts errors.
#[test]

fn test_command_errors_on_stderr() {
    let out = tcpsim(&["test", "tests/bad-input/duration-zero.ron"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).lines().any(|l| l.starts_with("tests/bad-input/duration-zero.ron:6:19: error: ")),
        "{}",
        stderr(&out)
    );
}

/// A closed stdout (`tcpsim test sims/ | head -1`) ends the command without
/// a panic.
#[test]

fn test_command_survives_closed_stdout() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpsim"))
        .args(["test", "sims/"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before any output
    let out = child.wait_with_output().unwrap();
    assert_no_panic(&out);
    // As README says: not a failed write, so quietly 0.
    assert_exit(&out, 0);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

/// A report that cannot be written (stdout is `/dev/full`) is a failed
/// write: exit 3 with a message, for `test` and `explore` alike.
#[test]
fn test_and_explore_say_when_their_report_cannot_be_written() {
    for args in [&["test", NORMAL][..], &["explore", "sims/close-explore.ron", "--drop-first", "2"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_tcpsim"))
            .args(args)
            .current_dir(root())
            .stdout(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_exit(&out, 3);
        let err = stderr(&out);
        assert!(err.contains("error: writing the report failed: No space left on device"), "{args:?}: {err}");
    }
}

/// A reader that stops early (`tcpsim run f.ron | head -1`) is not an
/// error: tcpsim stops quietly and exits 0, as `cat` and `grep` do
/// (their SIGPIPE leaves no message either).
#[test]
fn a_reader_that_stops_early_gets_no_error() {
    use std::io::{BufRead, BufReader};
    let cases: &[&[&str]] = &[
        &["run", "sims/lossy-transfer.ron"],
        &["run", "sims/lossy-transfer.ron", "--format", "jsonl"],
        &["sweep", NORMAL, "--seeds", "3000", "--jobs", "1"],
    ];
    for args in cases {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tcpsim"))
            .args(*args)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        assert!(!first.is_empty(), "{args:?}");
        // The reader (and the pipe) is gone now: `head -1` exits.
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).is_empty(), "{args:?}: {}", stderr(&out));
    }
}

/// A trace written with `--out` gets the permissions of any new file
/// (umask applied), not the 0600 of the temp file it was renamed from.
#[cfg(unix)]
#[test]

fn out_file_has_normal_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let reference = write(dir.path(), "reference.txt", "");
    let target = dir.path().join("trace.txt");
    assert_exit(&tcpsim(&["run", NORMAL, "--out", path_str(&target)]), 0);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(format!("{:o}", mode(&target)), format!("{:o}", mode(Path::new(&reference))));
}

/// `--check-determinism` runs the file twice, perturbed, and reports the
/// records compared and the digest, which is the plain run's.
#[test]
fn check_determinism_agrees_with_the_plain_run() {
    let o = tcpsim(&["run", "sims/lossy-transfer.ron", "--seed", "5", "--check-determinism"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let line = stdout(&o);
    assert!(line.starts_with("determinism: ok: ") && line.contains("trace records identical"), "{line}");
    let plain = tcpsim(&["run", "sims/lossy-transfer.ron", "--seed", "5", "--quiet"]);
    let digest = stdout(&plain).lines().last().unwrap().trim_start_matches("digest: ").to_string();
    assert!(line.contains(&format!("digest {digest})")), "{line} vs {digest}");
    let o = tcpsim(&["run", "sims/normal-close.ron", "--check-determinism", "--out", "x.txt"]);
    assert_eq!(o.status.code(), Some(2), "writes no trace, so --out is refused");
}

/// `tcpsim diff`: 0 for identical traces, 1 with the first differing line
/// and its changed fields, 2 for a file that is not a JSONL trace.
#[test]
fn diff_shows_the_first_divergence() {
    let dir = tempfile::tempdir().unwrap();
    let trace = |name: &str, extra: &[&str]| {
        let path = dir.path().join(name);
        let mut args = vec!["run", "sims/lost-final-ack.ron", "--format", "jsonl", "--out", path.to_str().unwrap()];
        args.extend_from_slice(extra);
        assert_eq!(tcpsim(&args).status.code(), Some(0));
        path.to_str().unwrap().to_string()
    };
    let (a, a2, b) = (trace("a.jsonl", &[]), trace("a2.jsonl", &[]), trace("b.jsonl", &["--seed", "2"]));
    let same = tcpsim(&["diff", &a, &a2]);
    assert_eq!(same.status.code(), Some(0));
    assert!(stdout(&same).contains("are identical"));
    let differ = tcpsim(&["diff", &a, &b, "-C", "2"]);
    assert_eq!(differ.status.code(), Some(1));
    let report = stdout(&differ);
    assert!(report.contains("then differ at line") && report.contains("fields: "), "{report}");
    assert_eq!(report.lines().filter(|l| l.starts_with("- ")).count(), 3, "the line and 2 after:\n{report}");
    let bad = tcpsim(&["diff", &a, "sims/normal-close.ron"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("not a JSONL trace record"), "{}", stderr(&bad));
}

/// `run --coverage` lists on stderr the behaviour IDs the run exercised,
/// with counts, and the ones it never reached; stdout is unchanged.
#[test]
fn run_coverage_lists_the_ids_of_one_run() {
    let plain = tcpsim(&["run", "sims/lost-final-ack.ron", "--quiet"]);
    let o = tcpsim(&["run", "sims/lost-final-ack.ron", "--quiet", "--coverage"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), stdout(&plain));
    let report = stderr(&o);
    // The retransmitted FIN is re-acknowledged from TIME_WAIT (B-CLOSE-17).
    assert!(report.contains("  B-CLOSE-17 1\n"), "{report}");
    assert!(report.contains(" of 147 IDs; never reached: "), "{report}");
}

/// A millisecond flag that is positive but rounds to nothing, or too long
/// to count in nanoseconds, says so in the words a file's duration uses,
/// not "expected a positive number".
#[test]
fn millisecond_flags_say_why_a_positive_value_is_refused() {
    let out = tcpsim(&["run", NORMAL, "--from-ms", "1e300"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("--from-ms: expected at most 1e10 ms, found 1e300"), "{}", stderr(&out));
    let out = tcpsim(&["explore", NORMAL, "--drop-first", "2", "--delay", "0.0000001"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("rounds to 0 ns"), "{}", stderr(&out));
    let out = tcpsim(&["run", NORMAL, "--from-ms=-1"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("--from-ms -1: expected a non-negative number of milliseconds"), "{}", stderr(&out));
}
