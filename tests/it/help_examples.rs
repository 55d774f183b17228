//! Every example in every `--help` works: the examples of `tcpsim --help`
//! and of each command's `--help` (the commands as `tcpsim --help` lists
//! them) run in that order, one after another, in one scratch directory,
//! as a new user pasting them would run them. Each must exit 0, or the code
//! its comment documents (`# exit 1: ...`, for a difference or a failure
//! the example shows on purpose), and finish in seconds.
//!
//! An example whose comment says it `needs root` (network namespaces) runs
//! as any other where namespaces can be made; elsewhere it must exit 3 and
//! say on stderr that it needs network namespaces.
//!
//! The scratch directory holds copies of `sims/`, `examples/` and `scale/`,
//! the only parts of the repository an example reads, rather than a
//! `git clone`: a copy takes milliseconds, needs no `git`, tests the
//! working tree as it is (uncommitted edits included), and, being a copy
//! and not a link, keeps an example that writes beside a file from
//! changing the repository.

use crate::util::{root, stderr, stdout, tcpsim};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long one example may take (test profile, a loaded CI machine).
const SECONDS_MAX: u64 = 10;

/// The limit for an example that runs on the kernel: its scenario must
/// not wait out Linux's 60 s TIME_WAIT (a refused connection, say).
const ROOT_SECONDS_MAX: u64 = SECONDS_MAX;

/// The most lines an example may print to the terminal: a bigger output
/// (a sweep's CSV of every run) belongs in a file (`--out`).
const LINES_MAX: usize = 400;

/// One example line of a help text.
#[derive(Debug, PartialEq)]
struct Example {
    /// The line as printed, for messages.
    line: String,
    /// The arguments after `tcpsim`.
    argv: Vec<String>,
    /// The exit code the comment documents, else 0.
    exit: i32,
    /// Whether the comment says the example needs root.
    needs_root: bool,
}

/// The examples of one help text: the `  tcpsim ...` lines after
/// `Examples:`, each with its `# ...` comment read.
fn examples(help: &str) -> Vec<Example> {
    let lines = help.lines().skip_while(|l| *l != "Examples:").skip(1).take_while(|l| l.starts_with("  tcpsim "));
    lines.map(parse).collect()
}

#[track_caller]
fn parse(line: &str) -> Example {
    let (command, comment) = match line.split_once(" # ") {
        Some((c, comment)) => (c, comment.trim()),
        None => (line, ""),
    };
    let argv: Vec<String> = shell_words(command).unwrap_or_else(|| panic!("`{line}` needs more of a shell"));
    assert_quoted(line);
    let argv = argv.into_iter().skip(1).collect();
    let exit = match comment.strip_prefix("exit ") {
        Some(rest) => {
            let code = rest.split(|c: char| !c.is_ascii_digit()).next().unwrap_or_default();
            code.parse().unwrap_or_else(|_| panic!("`{line}`: `# exit N` expected"))
        }
        None => 0,
    };
    assert!(matches!(exit, 0 | 1), "`{line}`: an example shows a success or a found difference/failure");
    Example { line: line.trim().to_string(), argv, exit, needs_root: comment.contains("needs root") }
}

/// Every `--set` and `--vary` value in an example is quoted: unquoted,
/// zsh takes `links[0].delay_ms=20` for a glob and fails.
#[track_caller]
pub fn assert_quoted(line: &str) {
    for flag in ["--set ", "--vary "] {
        for (at, _) in line.match_indices(flag) {
            let value = &line[at + flag.len()..];
            assert!(value.starts_with(['\'', '"']), "`{line}`: quote the {}value", flag);
        }
    }
}

/// Splits a command line as a POSIX shell would for what examples use:
/// blanks separate words, and single or double quotes (no escapes inside)
/// keep a word whole. `None` for anything more (`$`, globs, redirections,
/// pipes, backslashes), which an example must not need.
fn shell_words(command: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, '\\' | '$' | '*' | '?' | '|' | '>' | '<' | ';' | '&' | '`') => return None,
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return None;
    }
    words.extend(word);
    Some(words)
}

#[test]
fn example_lines_split_as_a_shell_splits_them() {
    let words = shell_words("tcpsim sweep f.ron --measure 'a=visited(client, CLOSING)' --x \"b c\"").unwrap();
    assert_eq!(words, ["tcpsim", "sweep", "f.ron", "--measure", "a=visited(client, CLOSING)", "--x", "b c"]);
    assert_eq!(shell_words("tcpsim run f.ron > out"), None);
    assert_eq!(shell_words("tcpsim run 'f.ron"), None);
}

/// The commands `tcpsim --help` lists, `help` left out.
fn commands(help: &str) -> Vec<String> {
    let lines = help.lines().skip_while(|l| *l != "Commands:").skip(1).take_while(|l| l.starts_with("  "));
    lines.filter_map(|l| l.split_whitespace().next()).filter(|c| *c != "help").map(str::to_string).collect()
}

/// Whether this machine lets a process make a network namespace (root,
/// or the capability): `unshare --net`, as the commands that need one do.
fn namespaces_allowed() -> bool {
    Command::new("unshare")
        .args(["--net", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Copies the directory `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs one example in `dir`; returns its exit code, stdout and stderr,
/// or fails the test when it takes longer than [`SECONDS_MAX`]. Its
/// output goes to files in `logs`, so a long trace never fills a pipe.
fn run_example(example: &Example, dir: &Path, logs: &Path, seconds_max: u64) -> (Option<i32>, String, String) {
    let (out_path, err_path) = (logs.join("stdout"), logs.join("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpsim"))
        .args(&example.argv)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    // Poll rather than time: a step count bounds the wait without a clock.
    let step = Duration::from_millis(20);
    for _ in 0..seconds_max * 1000 / 20 {
        if let Some(status) = child.try_wait().unwrap() {
            let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
            return (status.code(), read(&out_path), read(&err_path));
        }
        std::thread::sleep(step);
    }
    let _ = child.kill();
    panic!("example `{}` takes more than {seconds_max} s", example.line);
}

#[cfg(unix)]
#[test]
fn every_help_example_works_in_order() {
    let dir = tempfile::tempdir().unwrap();
    for d in ["sims", "examples", "scale"] {
        copy_dir(&root().join(d), &dir.path().join(d));
    }
    let logs = tempfile::tempdir().unwrap();
    let namespaces = namespaces_allowed();
    let mut rooted = Vec::new();
    let top = tcpsim(&["--help"]);
    assert_eq!(top.status.code(), Some(0), "{}", stderr(&top));
    let top = stdout(&top);
    let mut helps = vec![("tcpsim --help".to_string(), top.clone())];
    for command in commands(&top) {
        let out = tcpsim(&[&command, "--help"]);
        assert_eq!(out.status.code(), Some(0), "tcpsim {command} --help: {}", stderr(&out));
        helps.push((format!("tcpsim {command} --help"), stdout(&out)));
    }
    assert!(helps.len() >= 8, "{top}");
    for (which, help) in helps {
        let examples = examples(&help);
        assert!(!examples.is_empty(), "`{which}` has no examples:\n{help}");
        for example in examples {
            if example.needs_root && namespaces {
                rooted.push((which.clone(), example));
                continue;
            }
            let (code, out, err) = run_example(&example, dir.path(), logs.path(), SECONDS_MAX);
            if example.needs_root {
                assert_eq!(code, Some(3), "`{}` without namespaces: {err}", example.line);
                assert!(err.contains("network namespace"), "`{}` must say why it cannot run: {err}", example.line);
                continue;
            }
            assert_eq!(code, Some(example.exit), "`{}` (from `{which}`): {err}", example.line);
            let lines = out.lines().count();
            assert!(lines <= LINES_MAX, "`{}` prints {lines} lines to the terminal", example.line);
            // An example shows what the command does, not that it had
            // nothing to do.
            assert!(!out.contains("nothing to shrink"), "`{}` shrinks nothing: {out}", example.line);
        }
    }
    // Examples that run on the kernel wait out its TIME_WAIT (60 s): they
    // run together, each within ROOT_SECONDS_MAX.
    std::thread::scope(|scope| {
        let runs: Vec<_> = rooted
            .iter()
            .map(|(which, example)| {
                let dir = dir.path();
                scope.spawn(move || {
                    let logs = tempfile::tempdir().unwrap();
                    let (code, _, err) = run_example(example, dir, logs.path(), ROOT_SECONDS_MAX);
                    assert_eq!(code, Some(example.exit), "`{}` (from `{which}`): {err}", example.line);
                })
            })
            .collect();
        for run in runs {
            run.join().expect("a kernel example failed");
        }
    });
}

/// The example lines are read as documented: the command, then an
/// optional `# exit N` or `# needs root` comment.
#[test]
fn example_comments_are_read() {
    let help = "Usage\n\nExamples:\n  tcpsim diff a b  # exit 1: they differ\n  tcpsim kernel x  # needs root\n  tcpsim run f\n\nExit codes";
    assert_eq!(
        examples(help),
        [
            Example {
                line: "tcpsim diff a b  # exit 1: they differ".into(),
                argv: vec!["diff".into(), "a".into(), "b".into()],
                exit: 1,
                needs_root: false
            },
            Example {
                line: "tcpsim kernel x  # needs root".into(),
                argv: vec!["kernel".into(), "x".into()],
                exit: 0,
                needs_root: true
            },
            Example { line: "tcpsim run f".into(), argv: vec!["run".into(), "f".into()], exit: 0, needs_root: false },
        ]
    );
}
