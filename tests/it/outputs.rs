//! No partial outputs, for every kind of file the command line writes:
//! traces, packet captures, pictures, report pages, replay and shrunk files, the CSV,
//! JSON and plots of `sweep` and `merge`, and `explore`'s outcome files.
//!
//! A regular file is written to a `.tcpsim-*.tmp` file beside the target
//! and renamed into place on success; anything else (a pipe, a device,
//! `/dev/stdout`) is written in place and never replaced. When the command
//! fails or is interrupted, no temp file remains and an existing target
//! keeps its bytes. Exit codes: 2 when the path is found bad before the
//! run, 3 when writing fails or the run stops after it started.

#![cfg(target_os = "linux")]

use crate::util::{entries, path_str, root, stderr, stdout, tcpsim};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Stands for the output path in a [`Kind`]'s command line.
const TARGET: &str = "{target}";
/// Stand for the two parts of a sharded sweep (see [`Inputs`]).
const PART0: &str = "{part0}";
const PART1: &str = "{part1}";
/// Stands for a seed whose run of `examples/shrink-demo.ron` fails.
const SEED: &str = "{seed}";

/// The run stops after 5 events: incomplete, exit 3.
const RUN_LIMIT: &[&str] = &["--max-events", "5"];
/// The pcap header's magic number (nanosecond timestamps, little-endian).
const PCAP_MAGIC: &[u8] = &[0x4d, 0x3c, 0xb2, 0xa1];

/// One kind of output file and a command line that writes it.
struct Kind {
    name: &'static str,
    /// The command line, with [`TARGET`] where the output path goes.
    argv: &'static [&'static str],
    /// Bytes every complete file of this kind contains.
    marker: &'static [u8],
    /// Extra arguments that make the command fail once its run started:
    /// a run limit, or a second output that cannot be written.
    late_failures: &'static [&'static [&'static str]],
}

const KINDS: &[Kind] = &[
    Kind {
        name: "run --out (text)",
        argv: &["run", "sims/lost-final-ack.ron", "--out", TARGET],
        marker: b"\ndigest: ",
        late_failures: &[RUN_LIMIT, &["--emit-faults", "/dev/full"]],
    },
    Kind {
        name: "run --out (jsonl)",
        argv: &["run", "sims/lost-final-ack.ron", "--format", "jsonl", "--out", TARGET],
        marker: br#""kind":"summary""#,
        late_failures: &[RUN_LIMIT, &["--svg", "/dev/full"]],
    },
    Kind {
        name: "run --out (ladder)",
        argv: &["run", "sims/lost-final-ack.ron", "--format", "ladder", "--out", TARGET],
        marker: b"\ndigest: ",
        late_failures: &[RUN_LIMIT, &["--pcap", "/dev/full"]],
    },
    Kind {
        name: "run --pcap",
        argv: &["run", "sims/lost-final-ack.ron", "--quiet", "--pcap", TARGET],
        marker: PCAP_MAGIC,
        late_failures: &[RUN_LIMIT, &["--emit-faults", "/dev/full"]],
    },
    Kind {
        name: "run --svg",
        argv: &["run", "sims/lost-final-ack.ron", "--quiet", "--svg", TARGET],
        marker: b"</svg>",
        late_failures: &[RUN_LIMIT, &["--state-diagram", "/dev/full"]],
    },
    Kind {
        name: "run --tsg",
        argv: &["run", "sims/lost-final-ack.ron", "--quiet", "--tsg", TARGET],
        marker: b"</svg>",
        late_failures: &[RUN_LIMIT, &["--series-plot", "/dev/full"]],
    },
    Kind {
        name: "run --series-plot",
        argv: &["run", "sims/lost-final-ack.ron", "--quiet", "--series-plot", TARGET],
        marker: b"</svg>",
        late_failures: &[RUN_LIMIT, &["--tsg", "/dev/full"]],
    },
    Kind {
        name: "run --state-diagram",
        argv: &["run", "sims/lost-final-ack.ron", "--quiet", "--state-diagram", TARGET],
        marker: b"</svg>",
        late_failures: &[RUN_LIMIT, &["--out", "/dev/full"]],
    },
    Kind {
        name: "run --emit-faults",
        argv: &["run", "sims/lossy-transfer.ron", "--quiet", "--emit-faults", TARGET],
        marker: b"written by --emit-faults",
        late_failures: &[RUN_LIMIT, &["--state-diagram", "/dev/full"]],
    },
    Kind {
        name: "report --out",
        argv: &["report", "sims/lost-final-ack.ron", "--out", TARGET],
        marker: b"</html>\n",
        late_failures: &[&["--set", "limits.max_events=5"]],
    },
    Kind {
        name: "sweep --out",
        argv: &["sweep", "sims/lossy-transfer.ron", "--seeds", "3", "--loss", "0,0.1", "--out", TARGET],
        marker: b"\nrun,seed,",
        late_failures: &[&["--json", "/dev/full"], &["--state-diagram", "/dev/full"]],
    },
    Kind {
        name: "sweep --json",
        argv: &["sweep", "sims/lossy-transfer.ron", "--seeds", "3", "--loss", "0,0.1", "--json", TARGET],
        marker: br#""points":"#,
        late_failures: &[&["--plot", "/dev/full"], &["--out", "/dev/full"]],
    },
    Kind {
        name: "sweep --plot",
        argv: &["sweep", "sims/lossy-transfer.ron", "--seeds", "3", "--loss", "0,0.1", "--plot", TARGET],
        marker: b"</svg>",
        late_failures: &[&["--json", "/dev/full"], &["--state-diagram", "/dev/full"]],
    },
    Kind {
        name: "sweep --state-diagram",
        argv: &["sweep", "sims/lossy-transfer.ron", "--seeds", "3", "--loss", "0,0.1", "--state-diagram", TARGET],
        marker: b"</svg>",
        late_failures: &[&["--plot", "/dev/full"], &["--out", "/dev/full"]],
    },
    Kind {
        name: "merge --out",
        argv: &["merge", PART0, PART1, "--out", TARGET],
        marker: b"\nrun,seed,",
        late_failures: &[&["--json", "/dev/full"], &["--plot", "/dev/full"]],
    },
    Kind {
        name: "merge --json",
        argv: &["merge", PART0, PART1, "--json", TARGET],
        marker: br#""points":"#,
        late_failures: &[&["--plot", "/dev/full"], &["--out", "/dev/full"]],
    },
    Kind {
        name: "merge --plot",
        argv: &["merge", PART0, PART1, "--plot", TARGET],
        marker: b"</svg>",
        late_failures: &[&["--json", "/dev/full"], &["--out", "/dev/full"]],
    },
    Kind {
        name: "shrink --out",
        argv: &["shrink", "examples/shrink-demo.ron", "--seed", SEED, "--out", TARGET],
        marker: b"by tcpsim shrink",
        // One output only, and nothing to limit: see the interrupt test.
        late_failures: &[],
    },
];

/// What some commands read: the two parts of a sharded sweep for `merge`,
/// and a failing seed for `shrink`.
struct Inputs {
    _dir: tempfile::TempDir,
    parts: [String; 2],
    seed: String,
}

impl Inputs {
    fn new() -> Inputs {
        let dir = tempdir();
        let parts = ["0/2", "1/2"].map(|shard| {
            let path = dir.path().join(format!("part{}.csv", &shard[..1]));
            let path = path_str(&path).to_string();
            let out = tcpsim(&[
                "sweep",
                "sims/lossy-transfer.ron",
                "--seeds",
                "3",
                "--loss",
                "0,0.1",
                "--shard",
                shard,
                "--out",
                &path,
            ]);
            assert_exit(&out, 0, "writing a part");
            path
        });
        Inputs { _dir: dir, parts, seed: failing_seed().to_string() }
    }

    /// The command line writing `kind` to `target`, then `extra`.
    fn argv(&self, kind: &Kind, target: &str, extra: &[&str]) -> Vec<String> {
        kind.argv
            .iter()
            .map(|&a| match a {
                TARGET => target.to_string(),
                PART0 => self.parts[0].clone(),
                PART1 => self.parts[1].clone(),
                SEED => self.seed.clone(),
                a => a.to_string(),
            })
            .chain(extra.iter().map(|a| a.to_string()))
            .collect()
    }

    fn run(&self, kind: &Kind, target: &str, extra: &[&str]) -> Output {
        let argv = self.argv(kind, target, extra);
        tcpsim(&argv.iter().map(String::as_str).collect::<Vec<_>>())
    }
}

/// The first seed whose run of `examples/shrink-demo.ron` fails its
/// expectations (exit 1), so `shrink` has something to do.
fn failing_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        (1..=100)
            .find(|s| {
                tcpsim(&["run", "examples/shrink-demo.ron", "--seed", &s.to_string(), "--quiet"]).status.code()
                    == Some(1)
            })
            .expect("a seed in 1..=100 fails shrink-demo.ron")
    })
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temp dir")
}

fn temp_files(dir: &Path) -> Vec<String> {
    entries(dir).into_iter().filter(|n| n.starts_with(".tcpsim-") && n.ends_with(".tmp")).collect()
}

#[track_caller]
fn assert_no_temp_files(dir: &Path, what: &str) {
    let temps = temp_files(dir);
    assert!(temps.is_empty(), "{what}: temp files left in {}: {temps:?}", dir.display());
}

#[track_caller]
fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: exit status {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
    for word in ["panicked", "RUST_BACKTRACE"] {
        assert!(!stderr(out).contains(word), "{what}: stderr mentions {word:?}:\n{}", stderr(out));
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

#[track_caller]
fn assert_is_char_device(path: &str) {
    let meta = std::fs::metadata(path).expect("the device exists");
    assert!(meta.file_type().is_char_device(), "{path} is no longer a device");
}

// ------------------------------------------------------------ regular files

/// Each kind of output is written whole at its target (its closing marker
/// is there), and nothing but the target is left in the directory.
#[test]
fn every_output_is_written_whole() {
    let inputs = Inputs::new();
    for kind in KINDS {
        let dir = tempdir();
        let target = dir.path().join("output");
        let out = inputs.run(kind, path_str(&target), &[]);
        assert_exit(&out, 0, kind.name);
        let written = std::fs::read(&target).unwrap_or_else(|e| panic!("{}: no output: {e}", kind.name));
        assert!(
            contains(&written, kind.marker),
            "{}: incomplete output:\n{}",
            kind.name,
            String::from_utf8_lossy(&written)
        );
        assert_eq!(entries(dir.path()), ["output"], "{}", kind.name);
    }
}

/// A directory standing at the target is bad input (exit 2), found before
/// the run: the directory and its contents stay as they were and no temp
/// file is left beside it.
#[test]
fn a_directory_at_the_target_is_bad_input() {
    let inputs = Inputs::new();
    for kind in KINDS {
        let dir = tempdir();
        let target = dir.path().join("output");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), "kept\n").unwrap();
        let out = inputs.run(kind, path_str(&target), &[]);
        assert_exit(&out, 2, kind.name);
        assert!(stderr(&out).contains("is a directory"), "{}: {}", kind.name, stderr(&out));
        assert!(target.is_dir(), "{}", kind.name);
        assert_eq!(entries(&target), ["keep"], "{}", kind.name);
        assert_eq!(std::fs::read_to_string(target.join("keep")).unwrap(), "kept\n", "{}", kind.name);
        assert_eq!(entries(dir.path()), ["output"], "{}", kind.name);
    }
}

/// A target ending in `/` names a directory even when none exists (or
/// when a file stands there): bad input (exit 2) before the run, for every
/// output flag, the message naming the flag and the path; nothing is
/// printed or created. A missing parent directory is told by its name,
/// never the temp file's.
#[test]
fn a_path_naming_a_directory_is_bad_input() {
    let inputs = Inputs::new();
    // The outputs no `Kind` writes, each as a run's.
    let more: &[&[&str]] = &[
        &["run", "sims/lost-final-ack.ron", "--connections", TARGET],
        &["run", "sims/lost-final-ack.ron", "--series", TARGET],
    ];
    let more: Vec<Kind> = more.iter().map(|argv| Kind { name: "run", argv, marker: b"", late_failures: &[] }).collect();
    for kind in KINDS.iter().chain(&more) {
        let flag = kind.argv[kind.argv.iter().position(|&a| a == TARGET).unwrap() - 1];
        let dir = tempdir();
        std::fs::write(dir.path().join("file"), "kept\n").unwrap();
        let missing = dir.path().join("no-such-dir");
        let targets = [
            (format!("{}/", path_str(&missing)), "names a directory"),
            (format!("{}/", path_str(&dir.path().join("file"))), "names a directory"),
            // A last component `.` or `..` names a directory too, although
            // a parsed path drops the `.` and would take `file` as the name.
            (format!("{}/.", path_str(&missing)), "names a directory"),
            (format!("{}/.", path_str(&dir.path().join("file"))), "names a directory"),
            (format!("{}/..", path_str(&missing)), "names a directory"),
            (path_str(&missing.join("output")).to_string(), "does not exist"),
            ("/proc/self/tcpsim-output".to_string(), "cannot create a file in /proc/self: "),
        ];
        for (target, problem) in &targets {
            let what = format!("{} {flag} {target}", kind.argv[0]);
            let out = inputs.run(kind, target, &[]);
            assert_exit(&out, 2, &what);
            let err = stderr(&out);
            assert!(err.contains(&format!("{flag} {target}: ")) && err.contains(problem), "{what}: {err}");
            assert!(!err.contains(".tcpsim-"), "{what}: names the temp file: {err}");
            assert!(out.stdout.is_empty(), "{what}: printed\n{}", stdout(&out));
            assert_eq!(entries(dir.path()), ["file"], "{what}");
        }
    }
}

/// A target in a directory where no file can be created is bad input
/// (exit 2), found before the run, and creates nothing: a directory that
/// does not exist, `/proc/self` and `/sys` (where even root cannot create
/// files) and, when not root, a directory without write permission.
#[test]
fn an_unwritable_directory_is_bad_input() {
    let inputs = Inputs::new();
    let root_user = is_root();
    for kind in KINDS {
        let dir = tempdir();
        let missing = dir.path().join("no-such-dir");
        let readonly = dir.path().join("read-only");
        std::fs::create_dir(&readonly).unwrap();
        let mut targets = vec![
            (missing.join("output"), missing.clone()),
            ("/proc/self/tcpsim-output".into(), "/proc/self".into()),
            ("/sys/tcpsim-output".into(), "/sys".into()),
        ];
        if !root_user {
            std::fs::set_permissions(&readonly, std::fs::Permissions::from_mode(0o555)).unwrap();
            targets.push((readonly.join("output"), readonly.clone()));
        }
        for (target, parent) in &targets {
            let what = format!("{} to {}", kind.name, target.display());
            let out = inputs.run(kind, path_str(target), &[]);
            assert_exit(&out, 2, &what);
            assert!(stderr(&out).contains(path_str(parent)), "{what}: {}", stderr(&out));
            assert!(!target.exists(), "{what}");
        }
        std::fs::set_permissions(&readonly, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(!missing.exists(), "{}", kind.name);
        assert!(entries(&readonly).is_empty(), "{}: {:?}", kind.name, entries(&readonly));
        if Path::new("/sys").is_dir() {
            let sys_temps = temp_files(Path::new("/sys"));
            assert!(sys_temps.is_empty(), "{}: {sys_temps:?}", kind.name);
        }
    }
}

/// `/dev/full` takes the open but fails the write, which comes after the
/// run started: exit 3, stderr says what failed and why, and the device is
/// still a device (written in place, never replaced).
#[test]
fn a_full_device_fails_after_the_run() {
    let inputs = Inputs::new();
    for kind in KINDS {
        let out = inputs.run(kind, "/dev/full", &[]);
        assert_exit(&out, 3, kind.name);
        let err = stderr(&out);
        assert!(err.contains("failed") && err.contains("No space left on device"), "{}: {err}", kind.name);
        assert_is_char_device("/dev/full");
    }
}

/// When the run stops early (a limit) or another output fails, both after
/// the run started, the command exits 3, an existing file at the target
/// keeps its bytes and no temp file is left.
#[test]
fn an_existing_file_survives_a_late_failure() {
    let inputs = Inputs::new();
    let previous = b"previous bytes\n\x00\xff";
    for kind in KINDS {
        for extra in kind.late_failures {
            let what = format!("{} with {}", kind.name, extra.join(" "));
            let dir = tempdir();
            let target = dir.path().join("output");
            std::fs::write(&target, previous).unwrap();
            let out = inputs.run(kind, path_str(&target), extra);
            assert_exit(&out, 3, &what);
            assert_eq!(std::fs::read(&target).unwrap(), previous, "{what}");
            assert_eq!(entries(dir.path()), ["output"], "{what}");
        }
    }
}

/// Two outputs naming one file, or an output naming an input, would have
/// one silently replace the other: bad input (exit 2), every file as it
/// was.
#[test]
fn outputs_never_name_each_other_or_an_input() {
    let inputs = Inputs::new();
    let dir = tempdir();
    let sim = dir.path().join("sim.ron");
    std::fs::copy(root().join("sims/lossy-transfer.ron"), &sim).unwrap();
    let sim = path_str(&sim);
    let existing = dir.path().join("existing");
    std::fs::write(&existing, "previous\n").unwrap();
    let existing = path_str(&existing);
    let fresh = dir.path().join("fresh");
    let fresh = path_str(&fresh);
    let [p0, p1] = [inputs.parts[0].as_str(), inputs.parts[1].as_str()];
    let part0 = std::fs::read(p0).unwrap();
    let sweep = ["sweep", sim, "--seeds", "2"];
    let cases: Vec<Vec<&str>> = vec![
        vec!["run", sim, "--quiet", "--pcap", fresh, "--svg", fresh],
        vec!["run", sim, "--quiet", "--out", existing, "--state-diagram", existing],
        vec!["run", sim, "--out", sim],
        [&sweep[..], &["--out", fresh, "--json", fresh]].concat(),
        [&sweep[..], &["--json", existing, "--plot", existing]].concat(),
        [&sweep[..], &["--plot", fresh, "--state-diagram", fresh]].concat(),
        [&sweep[..], &["--out", sim]].concat(),
        [&sweep[..], &["--state-diagram", sim]].concat(),
        vec!["merge", p0, p1, "--out", existing, "--json", existing],
        vec!["merge", p0, p1, "--json", fresh, "--plot", fresh],
        vec!["merge", p0, p1, "--out", p0],
        vec!["merge", p0, p1, "--plot", p1],
    ];
    let sim_bytes = std::fs::read(sim).unwrap();
    for argv in &cases {
        let out = tcpsim(argv);
        assert_exit(&out, 2, &argv.join(" "));
        let err = stderr(&out);
        assert!(err.contains("both name") || err.contains("that is"), "{argv:?}: {err}");
    }
    assert_eq!(std::fs::read(sim).unwrap(), sim_bytes);
    assert_eq!(std::fs::read_to_string(existing).unwrap(), "previous\n");
    assert_eq!(std::fs::read(p0).unwrap(), part0);
    assert_eq!(entries(dir.path()), ["existing", "sim.ron"]);
}

// ------------------------------------------------ pipes, devices, /dev/stdout

/// A named pipe at the target is written in place: the reader at its
/// other end gets the whole output, and the pipe is still a pipe.
#[test]
fn a_fifo_is_written_in_place() {
    let inputs = Inputs::new();
    for kind in KINDS {
        let dir = tempdir();
        let fifo = dir.path().join("fifo");
        let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
        assert!(made.success());
        // `cat` reads the pipe while tcpsim writes it; a thread drains cat,
        // so a large output cannot block either of them.
        let mut cat = Reap(Command::new("cat").arg(&fifo).stdout(Stdio::piped()).spawn().expect("cat starts"));
        let mut cat_out = cat.0.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut cat_out, &mut bytes).map(|_| bytes)
        });
        let out = inputs.run(kind, path_str(&fifo), &[]);
        assert_exit(&out, 0, kind.name);
        wait_exit(&mut cat, "cat to see the end of the pipe");
        let got = reader.join().unwrap().unwrap();
        assert!(contains(&got, kind.marker), "{}: the pipe carried:\n{}", kind.name, String::from_utf8_lossy(&got));
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "{}: the pipe was replaced", kind.name);
        assert_eq!(entries(dir.path()), ["fifo"], "{}", kind.name);
    }
}

/// `/dev/stdout` as the target puts the whole output on standard output
/// (here a pipe), as writing to a device does.
#[test]
fn dev_stdout_gives_the_output_on_stdout() {
    let inputs = Inputs::new();
    for kind in KINDS {
        // A sweep's or merge's CSV needs a place of its own when another
        // output takes stdout.
        let other = matches!(kind.argv[0], "sweep" | "merge") && !kind.argv.contains(&"--out");
        let extra: &[&str] = if other { &["--out", "/dev/null"] } else { &[] };
        let out = inputs.run(kind, "/dev/stdout", extra);
        assert_exit(&out, 0, kind.name);
        assert!(contains(&out.stdout, kind.marker), "{}: stdout is\n{}", kind.name, stdout(&out));
    }
    // The trace through /dev/stdout is the trace without --out.
    let plain = tcpsim(&["run", "sims/lost-final-ack.ron"]);
    let through = tcpsim(&["run", "sims/lost-final-ack.ron", "--out", "/dev/stdout"]);
    assert_exit(&through, 0, "run --out /dev/stdout");
    assert_eq!(stdout(&through), stdout(&plain));
}

/// `/dev/stdout` and `/dev/stderr` lead to a regular file when the shell
/// redirects them (`>> log`): the output still goes through the
/// descriptor, appended to the same file, never a new file renamed over
/// it. A sweep's CSV through `--out /dev/stdout` is kept (its summary
/// goes to stderr, as without `--out`).
#[test]
fn dev_stdout_leading_to_a_file_is_written_through() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["run", "sims/lost-final-ack.ron", "--quiet", "--out", "/dev/stdout"], "stdout", "\ndigest: "),
        (&["run", "sims/lost-final-ack.ron", "--out", "/dev/stderr"], "stderr", "\ndigest: "),
        (&["sweep", "sims/lossy-transfer.ron", "--seeds", "2", "--out", "/dev/stdout"], "stdout", "\nrun,seed,"),
        (
            &["sweep", "sims/lossy-transfer.ron", "--seeds", "2", "--out", "/dev/null", "--json", "/dev/stdout"],
            "stdout",
            "\"points\":",
        ),
    ];
    for (argv, stream, marker) in cases {
        let what = argv.join(" ");
        let dir = tempdir();
        let log = dir.path().join("log");
        std::fs::write(&log, "first line\n").unwrap();
        let inode = std::fs::metadata(&log).unwrap().ino();
        let file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tcpsim"));
        cmd.args(*argv).current_dir(root()).env("NO_COLOR", "1");
        let cmd = if *stream == "stdout" {
            cmd.stdout(Stdio::from(file)).stderr(Stdio::null())
        } else {
            cmd.stdout(Stdio::null()).stderr(Stdio::from(file))
        };
        let status = cmd.status().expect("tcpsim runs");
        assert_eq!(status.code(), Some(0), "{what}");
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.starts_with("first line\n"), "{what}: the file was replaced:\n{text}");
        assert!(text.contains(marker), "{what}: {marker:?} missing:\n{text}");
        assert_eq!(std::fs::metadata(&log).unwrap().ino(), inode, "{what}: a new file took the place of the old");
        assert_eq!(entries(dir.path()), ["log"], "{what}");
    }
}

// ---------------------------------------------------------------- interrupts

/// Kills the child if the test fails before it exits.
struct Reap(std::process::Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls every 10 ms until `done` holds, for at most 20 s (generous: CI
/// machines are slow and busy).
#[track_caller]
fn poll(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

/// Waits (at most 20 s) for the child to exit.
#[track_caller]
fn wait_exit(child: &mut Reap, what: &str) -> ExitStatus {
    let mut status = None;
    poll(what, || {
        status = child.0.try_wait().expect("try_wait");
        status.is_some()
    });
    status.expect("the child exited")
}

/// Starts tcpsim with `argv` from the repository root, waits until a temp
/// file appears in `dir` (with `temp_file`; else 300 ms), sends `signal`
/// (`INT` or `TERM`) and returns the exit status and stderr.
fn interrupt(argv: &[&str], dir: &Path, temp_file: bool, signal: &str) -> (ExitStatus, String) {
    let mut child = Reap(
        Command::new(env!("CARGO_BIN_EXE_tcpsim"))
            .args(argv)
            .current_dir(root())
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tcpsim starts"),
    );
    if temp_file {
        // The signal handler is installed before the first temp file is
        // created, so once one exists the signal is caught.
        poll("the temp file", || {
            assert!(child.0.try_wait().unwrap().is_none(), "{argv:?} ended before its temp file appeared");
            !temp_files(dir).is_empty()
        });
    } else {
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(child.0.try_wait().unwrap().is_none(), "{argv:?} ended before the signal");
    let pid = child.0.id().to_string();
    let sent = Command::new("kill").args([&format!("-{signal}"), pid.as_str()]).status().expect("kill runs");
    assert!(sent.success());
    let status = wait_exit(&mut child, &format!("tcpsim to stop after SIG{signal}"));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut err).unwrap();
    (status, err)
}

/// Writes `previous NAME` into each file of `names` in `dir`.
fn existing_files(dir: &Path, names: &[&str]) {
    for name in names {
        std::fs::write(dir.join(name), format!("previous {name}\n")).unwrap();
    }
}

#[track_caller]
fn assert_files_untouched(dir: &Path, names: &[&str], what: &str) {
    for name in names {
        let now = std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(now, format!("previous {name}\n"), "{what}: {name} changed");
    }
    assert_no_temp_files(dir, what);
}

/// One connection sending a terabyte: runs far longer than any test.
const ENDLESS: &str = r#"(
    name: "endless",
    hosts: [(name: "a"), (name: "b")],
    links: [(between: ("a", "b"), delay_ms: 10)],
    listeners: [(name: "server", host: "b", port: 80)],
    connections: [(name: "client", host: "a", remote_host: "b", remote_port: 80,
                   script: [Connect(at_ms: 0), Send(at_ms: 1, bytes: 1099511627776)])],
)
"#;

/// SIGINT or SIGTERM during a run stops it with exit 3 ("interrupted"):
/// the trace, ladder, state diagram and replay file already standing at
/// their targets keep their bytes, and no temp file is left. (The packet
/// capture is left out: it would grow by hundreds of MB a second here;
/// it is dropped on the same path as the others when a run stops early.)
#[test]
fn an_interrupted_run_leaves_its_outputs_untouched() {
    for signal in ["INT", "TERM"] {
        let dir = tempdir();
        let sim = dir.path().join("endless.ron");
        std::fs::write(&sim, ENDLESS).unwrap();
        let names = ["trace.txt", "ladder.svg", "states.svg", "replay.ron"];
        existing_files(dir.path(), &names);
        let at = |n: &str| path_str(&dir.path().join(n)).to_string();
        let (trace, ladder, states, replay) = (at(names[0]), at(names[1]), at(names[2]), at(names[3]));
        let argv = [
            "run",
            path_str(&sim),
            "--quiet",
            "--out",
            &trace,
            // The listener's idle endpoint: its ladder stays small.
            "--conn",
            "1",
            "--svg",
            &ladder,
            "--state-diagram",
            &states,
            "--emit-faults",
            &replay,
        ];
        let (status, err) = interrupt(&argv, dir.path(), true, signal);
        assert_eq!(status.code(), Some(3), "SIG{signal}: {status:?}\n{err}");
        assert!(err.contains("interrupted"), "SIG{signal}: {err}");
        assert_files_untouched(dir.path(), &names, &format!("run, SIG{signal}"));
    }
}

/// SIGINT or SIGTERM during a long sweep stops it with exit 3
/// ("interrupted; nothing written"): its CSV, JSON summary, plot and state
/// diagram already standing at their targets keep their bytes, and no
/// temp file is left.
#[test]
fn an_interrupted_sweep_leaves_its_outputs_untouched() {
    for signal in ["INT", "TERM"] {
        let dir = tempdir();
        let names = ["runs.csv", "summary.json", "plot.svg", "states.svg"];
        existing_files(dir.path(), &names);
        let at = |n: &str| path_str(&dir.path().join(n)).to_string();
        let (csv, json, plot, states) = (at(names[0]), at(names[1]), at(names[2]), at(names[3]));
        let argv = [
            "sweep",
            "sims/lossy-transfer.ron",
            "--seeds",
            "200000",
            "--loss",
            "0,0.1",
            "--out",
            &csv,
            "--json",
            &json,
            "--plot",
            &plot,
            "--state-diagram",
            &states,
        ];
        let (status, err) = interrupt(&argv, dir.path(), true, signal);
        assert_eq!(status.code(), Some(3), "SIG{signal}: {status:?}\n{err}");
        assert!(err.contains("interrupted"), "SIG{signal}: {err}");
        assert_files_untouched(dir.path(), &names, &format!("sweep, SIG{signal}"));
    }
}

/// A 4 MB transfer over a lossy link, with few retransmissions allowed:
/// with seed 15 one side gives up and the expectation fails after about
/// 5000 link decisions, so shrinking it takes over a second.
const LONG_SHRINK: &str = r#"(
    name: "long-shrink",
    tcp: (msl_ms: 2000, r2: 2),
    hosts: [(name: "a"), (name: "b")],
    links: [(between: ("a", "b"), delay_ms: 10, jitter_ms: 4, loss: 0.05)],
    listeners: [(name: "server", host: "b", port: 80, on_end_of_stream: [Close])],
    connections: [(name: "client", host: "a", remote_host: "b", remote_port: 80,
                   script: [Connect(at_ms: 0), Send(at_ms: 100, bytes: 4000000), Close(at_ms: 100)])],
    expect: (all_connections: (final_state: CLOSED)),
)
"#;

/// SIGINT or SIGTERM during a long shrink stops it with exit 3: the file
/// already at `--out` keeps its bytes and no temp file is left.
#[test]
fn an_interrupted_shrink_leaves_its_output_untouched() {
    for signal in ["INT", "TERM"] {
        let dir = tempdir();
        let sim = dir.path().join("long-shrink.ron");
        std::fs::write(&sim, LONG_SHRINK).unwrap();
        let sim = path_str(&sim);
        assert_exit(&tcpsim(&["run", sim, "--seed", "15", "--quiet"]), 1, "seed 15 fails long-shrink.ron");
        existing_files(dir.path(), &["min.ron"]);
        let out = dir.path().join("min.ron");
        let argv = ["shrink", sim, "--seed", "15", "--out", path_str(&out)];
        let (status, err) = interrupt(&argv, dir.path(), true, signal);
        assert_eq!(status.code(), Some(3), "SIG{signal}: {status:?}\n{err}");
        assert_files_untouched(dir.path(), &["min.ron"], &format!("shrink, SIG{signal}"));
    }
}

// ------------------------------------------------------------------ explore

/// `explore --emit-dir` writes whole outcome files and nothing else; an
/// `--emit-dir` that is a file, or inside one, is bad input (exit 2);
/// an outcome file that is a link to `/dev/full` fails the write (exit 3)
/// and the device stays a device.
#[test]
fn explore_writes_whole_outcome_files() {
    let explore = |dir: &str| tcpsim(&["explore", "sims/close-explore.ron", "--drop-first", "4", "--emit-dir", dir]);
    let dir = tempdir();
    let out = explore(path_str(dir.path()));
    assert_exit(&out, 0, "explore");
    let names = entries(dir.path());
    assert!(!names.is_empty());
    for (i, name) in names.iter().enumerate() {
        assert_eq!(name, &format!("outcome-{}.ron", i + 1));
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(text.starts_with(&format!("// Outcome {} of `tcpsim explore", i + 1)), "{name}:\n{text}");
        assert!(text.trim_end().ends_with(')'), "{name} is cut short:\n{text}");
    }

    let dir = tempdir();
    std::fs::write(dir.path().join("file"), "kept\n").unwrap();
    for bad in [dir.path().join("file"), dir.path().join("file/sub")] {
        let out = explore(path_str(&bad));
        assert_exit(&out, 2, &format!("explore --emit-dir {}", bad.display()));
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("file")).unwrap(), "kept\n");
    assert_eq!(entries(dir.path()), ["file"]);

    let dir = tempdir();
    std::os::unix::fs::symlink("/dev/full", dir.path().join("outcome-1.ron")).unwrap();
    let out = explore(path_str(dir.path()));
    assert_exit(&out, 3, "explore with outcome-1.ron -> /dev/full");
    assert!(stderr(&out).contains("No space left on device"), "{}", stderr(&out));
    assert_is_char_device("/dev/full");
    assert_no_temp_files(dir.path(), "explore to /dev/full");
}

/// `explore --emit-dir` into a directory that holds an earlier run's
/// outcome files leaves only this run's: every `outcome-N.ron` it did not
/// write is removed; other files stay.
#[test]
fn explore_emit_dir_removes_earlier_outcome_files_only() {
    let dir = tempdir();
    for name in ["outcome-2.ron", "outcome-17.ron", "outcome-x.ron", "notes.txt", "outcome-3.ron.bak"] {
        std::fs::write(dir.path().join(name), "earlier\n").unwrap();
    }
    // One segment, passed or dropped: both runs end in one outcome.
    let out = tcpsim(&["explore", "sims/close-explore.ron", "--drop-first", "1", "--emit-dir", path_str(dir.path())]);
    assert_exit(&out, 0, "explore");
    assert!(stdout(&out).contains("outcome 1 of 1"), "{}", stdout(&out));
    assert_eq!(entries(dir.path()), ["notes.txt", "outcome-1.ron", "outcome-3.ron.bak", "outcome-x.ron"]);
}

/// The bytes of every file in `dir`, by name: what an explore that
/// refuses its `--emit-dir` must leave as it was.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    entries(dir).into_iter().map(|n| (n.clone(), std::fs::read(dir.join(&n)).unwrap_or_default())).collect()
}

/// `explore --emit-dir` writes or removes every `outcome-N.ron` in its
/// directory, so one that is the input file (reached by any path, through
/// a symlink, or as a symlink there that would be written through or
/// removed) is refused before any run: exit 2, no report, the directory
/// as it was. Other files in the directory may be the input.
#[test]
fn explore_refuses_an_emit_dir_that_holds_its_input() {
    let dir = tempdir();
    let o9 = dir.path().join("o9");
    let first = tcpsim(&["explore", "sims/close-explore.ron", "--drop-first", "8", "--emit-dir", path_str(&o9)]);
    assert_exit(&first, 0, "explore --drop-first 8");
    assert!(entries(&o9).contains(&"outcome-10.ron".to_string()), "{:?}", entries(&o9));
    let elsewhere = dir.path().join("elsewhere.ron");
    std::fs::copy(root().join("sims/close-explore.ron"), &elsewhere).unwrap();
    std::os::unix::fs::symlink("o9/outcome-10.ron", dir.path().join("link.ron")).unwrap();
    std::os::unix::fs::symlink("o9", dir.path().join("o9-link")).unwrap();
    // Written through if this run has 20 outcomes, removed otherwise.
    std::os::unix::fs::symlink("../elsewhere.ron", o9.join("outcome-20.ron")).unwrap();
    let before = snapshot(&o9);
    let cases: [(&str, &str); 7] = [
        ("o9/outcome-10.ron", "o9"),
        ("o9/../o9/outcome-10.ron", "./o9/"),
        ("link.ron", "o9"),
        ("o9/outcome-10.ron", "o9-link"),
        ("o9/outcome-1.ron", "o9"),
        ("elsewhere.ron", "o9"),
        ("o9/outcome-20.ron", "o9"),
    ];
    for (input, emit_dir) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_tcpsim"))
            .args(["explore", input, "--drop-first", "1", "--emit-dir", emit_dir])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let what = format!("explore {input} --emit-dir {emit_dir}");
        assert_exit(&out, 2, &what);
        assert!(stdout(&out).is_empty(), "{what}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains(&format!("--emit-dir {emit_dir}: ")), "{what}: {err}");
        assert!(err.contains("the simulation file itself"), "{what}: {err}");
        assert_eq!(snapshot(&o9), before, "{what}");
    }
    assert_eq!(std::fs::read(&elsewhere).unwrap(), std::fs::read(root().join("sims/close-explore.ron")).unwrap());

    // An input among the other files of the directory is not touched.
    std::fs::remove_file(o9.join("outcome-20.ron")).unwrap();
    std::fs::copy(root().join("sims/close-explore.ron"), o9.join("input.ron")).unwrap();
    let out = tcpsim(&["explore", path_str(&o9.join("input.ron")), "--drop-first", "1", "--emit-dir", path_str(&o9)]);
    assert_exit(&out, 0, "explore o9/input.ron --emit-dir o9");
    assert_eq!(entries(&o9), ["input.ron", "outcome-1.ron"]);
}

/// A missing `--emit-dir` is created, its missing parents too, as
/// `explore --help` shows (`--emit-dir outcomes/`).
#[test]
fn explore_creates_its_directory() {
    let dir = tempdir();
    let out = tcpsim(&[
        "explore",
        "sims/close-explore.ron",
        "--drop-first",
        "4",
        "--emit-dir",
        path_str(&dir.path().join("new/outcomes/")),
    ]);
    assert_exit(&out, 0, "explore --emit-dir new/outcomes/");
    assert_eq!(entries(&dir.path().join("new/outcomes"))[0], "outcome-1.ron");
}

/// An `--emit-dir` where no file can be created is bad input (exit 2),
/// found before the runs, as for every other output.
#[test]
fn explore_checks_its_directory_before_the_run() {
    let dir = tempdir();
    let readonly = dir.path().join("read-only");
    std::fs::create_dir(&readonly).unwrap();
    // A missing directory whose parent takes no file cannot be created.
    let mut dirs =
        vec![Path::new("/proc/self").to_path_buf(), Path::new("/sys").to_path_buf(), "/proc/self/new".into()];
    if !is_root() {
        std::fs::set_permissions(&readonly, std::fs::Permissions::from_mode(0o555)).unwrap();
        dirs.push(readonly.clone());
        dirs.push(readonly.join("new"));
    }
    for d in &dirs {
        let out = tcpsim(&["explore", "sims/close-explore.ron", "--drop-first", "4", "--emit-dir", path_str(d)]);
        assert_exit(&out, 2, &format!("explore --emit-dir {}", d.display()));
    }
    std::fs::set_permissions(&readonly, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(entries(&readonly).is_empty());
}

/// When one outcome file cannot be written (a directory stands at
/// `outcome-2.ron`), the command exits 3 and the outcome files already
/// there keep their bytes: no outcome is renamed into place before all
/// are written.
#[test]
fn explore_keeps_existing_outcomes_when_a_later_one_fails() {
    let dir = tempdir();
    existing_files(dir.path(), &["outcome-1.ron"]);
    std::fs::create_dir(dir.path().join("outcome-2.ron")).unwrap();
    let out = tcpsim(&["explore", "sims/close-explore.ron", "--drop-first", "4", "--emit-dir", path_str(dir.path())]);
    assert_exit(&out, 3, "explore with a directory at outcome-2.ron");
    assert_files_untouched(dir.path(), &["outcome-1.ron"], "explore");
    assert_eq!(entries(dir.path()), ["outcome-1.ron", "outcome-2.ron"]);
}

/// SIGINT or SIGTERM while exploring stops it with exit 3 ("explore
/// interrupted"), writing no outcome file: the ones standing keep their
/// bytes.
#[test]
fn an_interrupted_explore_writes_nothing() {
    for signal in ["INT", "TERM"] {
        let dir = tempdir();
        existing_files(dir.path(), &["outcome-1.ron"]);
        // 2^20 runs: several seconds.
        let argv = [
            "explore",
            "sims/close-explore.ron",
            "--drop-first",
            "20",
            "--max-runs",
            "2000000",
            "--emit-dir",
            path_str(dir.path()),
        ];
        let (status, err) = interrupt(&argv, dir.path(), false, signal);
        assert_eq!(status.code(), Some(3), "SIG{signal}: {status:?}\n{err}");
        assert!(err.contains("interrupted"), "SIG{signal}: {err}");
        assert_files_untouched(dir.path(), &["outcome-1.ron"], &format!("explore, SIG{signal}"));
        assert_eq!(entries(dir.path()), ["outcome-1.ron"]);
    }
}
