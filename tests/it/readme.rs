//! The outputs README.md shows are what the commands print: every code
//! block after a `<!-- output: ARGS -->` marker is compared with the
//! stdout of `tcpsim ARGS` (with `output+stderr`, stdout then stderr),
//! run in a scratch directory that sees `sims/`, `examples/` and `scale/`.
//! ARGS may hold 'single-quoted' words, as a shell takes them; a block
//! whose first line is `$ tcpsim ARGS` shows the command, which must be
//! the marker's.
//! The prose a new user follows is checked too: what a fresh machine
//! needs, what `events=` in the summary counts, and which benchmark ID
//! gives which figure.

use crate::util::root;
use std::process::Command;

/// (marker line, with stderr, arguments, the block's text).
fn blocks(readme: &str) -> Vec<(usize, bool, String, String)> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(rest) = l.strip_prefix("<!-- output") else { continue };
        let (with_stderr, rest) = match rest.strip_prefix("+stderr:") {
            Some(r) => (true, r),
            None => (false, rest.strip_prefix(':').expect("`<!-- output: ARGS -->`")),
        };
        let args = rest.trim().strip_suffix("-->").expect("marker ends with -->").trim().to_string();
        assert!(lines[i + 1].starts_with("```"), "README.md:{}: a code block must follow the marker", i + 1);
        let body: Vec<&str> = lines[i + 2..].iter().take_while(|l| !l.starts_with("```")).copied().collect();
        out.push((i + 1, with_stderr, args, body.join("\n")));
    }
    out
}

/// Words as a shell splits them: on spaces, except inside single quotes.
fn shell_words(args: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in args.chars() {
        match c {
            '\'' => (quoted, any) = (!quoted, true),
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

#[test]
fn readme_outputs_are_real() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let blocks = blocks(&readme);
    assert!(blocks.len() >= 4, "README.md has {} output blocks", blocks.len());
    for (line, with_stderr, args, expected) in blocks {
        let dir = tempfile::tempdir().unwrap();
        for d in ["sims", "examples", "scale"] {
            std::os::unix::fs::symlink(root().join(d), dir.path().join(d)).unwrap();
        }
        let shown = format!("$ tcpsim {args}");
        let expected = match expected.split_once('\n') {
            Some((first, rest)) if first.starts_with("$ ") => {
                assert_eq!(first, shown, "README.md:{line}: the command shown is not the marker's");
                rest.to_string()
            }
            _ => expected,
        };
        let o = Command::new(env!("CARGO_BIN_EXE_tcpsim"))
            .args(shell_words(&args))
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let mut actual = String::from_utf8_lossy(&o.stdout).into_owned();
        if with_stderr {
            actual.push_str(&String::from_utf8_lossy(&o.stderr));
        }
        let actual = actual.trim_end();
        if actual != expected {
            let first = actual.lines().zip(expected.lines()).position(|(a, b)| a != b);
            panic!(
                "README.md:{line}: `tcpsim {args}` prints something else (first differing line {:?}).\n--- printed:\n{actual}\n--- README:\n{expected}",
                first.map(|i| i + 1)
            );
        }
    }
}

/// The quick start works on a fresh machine as written: it installs with
/// `--locked`, names the Rust version `Cargo.toml` requires, a C linker,
/// and `tshark` for the capture tests only; the testing section says the
/// first `cargo test` compiles everything again (its own profile).
#[test]
fn readme_says_what_a_fresh_machine_needs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let rust_version = cargo
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .map(|v| v.trim_matches('"'))
        .expect("Cargo.toml has a rust-version");
    let quick = section(&readme, "## Quick start");
    assert!(quick.contains("cargo install --locked --path ."), "{quick}");
    assert!(!readme.lines().any(|l| l.starts_with("cargo install --path")), "every install line is --locked");
    assert!(quick.contains(&format!("Rust {rust_version} or later")), "the rust-version {rust_version}:\n{quick}");
    assert!(quick.contains("C linker") && quick.contains("`tshark` is needed only by the\ncapture tests"), "{quick}");
    let testing = section(&readme, "## Testing");
    assert!(testing.contains("The first `cargo test` compiles everything again"), "{testing}");
    assert!(cargo.contains("[profile.test]") && testing.contains("`[profile.test]`"), "{testing}");
}

/// Where the README first shows a run's summary, it says that `events=`
/// counts scheduler events, not trace lines, with this run's numbers:
/// its `events=` and the lines of its full trace.
#[test]
fn readme_says_events_are_not_trace_lines() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let quick = section(&readme, "## Quick start");
    let events: String = quick
        .split("events=")
        .nth(1)
        .expect("the quick start shows a summary")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_tcpsim"))
        .args(["run", "sims/simultaneous-close.ron"])
        .current_dir(root())
        .output()
        .unwrap();
    let lines = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with(' ')).count();
    let words = quick.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("`events=` counts scheduler events"), "{quick}");
    assert!(words.contains("not trace lines"), "{quick}");
    assert!(words.contains(&format!("this run's {events} events write {lines} lines of full trace")), "{quick}");
}

/// The text of README.md from the heading `heading` to the next `## `.
fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
    let start = readme.find(&format!("\n{heading}\n")).unwrap_or_else(|| panic!("README.md has no {heading}"));
    let rest = &readme[start + 1..];
    let end = rest[heading.len()..].find("\n## ").map_or(rest.len(), |i| i + heading.len());
    &rest[..end]
}

/// The benchmark IDs in `benches/`, as criterion names them
/// (`group/name`), a `format!` name with its placeholders: read from the
/// sources, each `benchmark_group` naming the group of the
/// `bench_function`s after it.
fn bench_ids() -> Vec<String> {
    let mut ids = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(root().join("benches"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut group = String::new();
        for line in text.lines() {
            let quoted = |l: &str| l.split('"').nth(1).map(str::to_string);
            if line.contains("benchmark_group(") {
                group = quoted(line).expect("a literal group name");
            } else if line.contains(".bench_function(") {
                let name = quoted(line).expect("a literal or format! name");
                // A `format!` name keeps its placeholders (`{model}`).
                let id = name;
                ids.push(format!("{group}/{id}"));
            }
        }
    }
    ids
}

/// Every benchmark ID ends with the unit its throughput counts, no
/// workload is measured twice under two names (no two IDs the same once
/// their unit is dropped), and README.md's performance table names each
/// ID, and only real ones, so a reader knows which ID gives which figure.
#[test]
fn bench_ids_name_their_unit_and_the_readme_names_each() {
    let ids = bench_ids();
    assert!(ids.len() >= 7, "{ids:?}");
    let units = ["_events", "_transitions", "_runs", "_records"];
    let mut workloads = Vec::new();
    for id in &ids {
        let unit = units.iter().find(|u| id.ends_with(*u)).unwrap_or_else(|| panic!("`{id}` names no unit"));
        let workload = id.strip_suffix(unit).unwrap().to_string();
        assert!(!workloads.contains(&workload), "`{workload}` is measured twice: {ids:?}");
        workloads.push(workload);
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let performance = section(&readme, "## Performance");
    let cells: Vec<&str> = performance.split('`').skip(1).step_by(2).collect();
    for id in &ids {
        assert!(cells.iter().any(|c| fits(id, c)), "the README's table does not name `{id}`");
    }
    for cell in cells {
        let looks_like_id = cell.contains('/') && !cell.contains(' ') && units.iter().any(|u| cell.ends_with(u));
        assert!(!looks_like_id || ids.iter().any(|id| fits(id, cell)), "the README names `{cell}`, which no bench has");
    }
}

/// Whether `cell` is the ID pattern `id` itself or one of its IDs (each
/// `{placeholder}` standing for a non-empty value).
fn fits(id: &str, cell: &str) -> bool {
    if id == cell {
        return true;
    }
    let parts: Vec<&str> = id.split('{').map(|p| p.split_once('}').map_or(p, |(_, rest)| rest)).collect();
    let mut rest = cell;
    for (i, part) in parts.iter().enumerate() {
        let found = if i == 0 {
            rest.starts_with(part).then_some(0)
        } else {
            rest[1.min(rest.len())..].find(part).map(|j| j + 1)
        };
        let Some(at) = found else { return false };
        rest = &rest[at + part.len()..];
    }
    rest.is_empty()
}

/// The JSONL record table is one table: a row for every record kind, with
/// no paragraph breaking it; the text trace's `event` column lists every
/// label the text trace prints.
#[test]
fn readme_trace_tables_list_every_kind() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let reading = section(&readme, "## Reading the trace");
    let lines: Vec<&str> = reading.lines().collect();
    let start = lines.iter().position(|l| *l == "| kind | fields |").expect("the JSONL table");
    let table: Vec<&str> = lines[start..].iter().take_while(|l| l.starts_with('|')).copied().collect();
    let kinds = tcpsim::trace::TraceKind::NAMES.into_iter().chain(["open", "expect", "summary"]);
    for kind in kinds {
        assert!(
            table.iter().any(|row| row.starts_with(&format!("| `{kind}` |"))),
            "no row for `{kind}`:\n{}",
            table.join("\n")
        );
    }
    let event = lines.iter().find(|l| l.starts_with("| `event` |")).expect("the text trace's event column");
    for (_, label) in tcpsim::trace::TraceKind::TABLE {
        assert!(event.contains(&format!("`{label}`")), "`{label}` missing: {event}");
    }
}

/// What the README says of colour is what tcpsim does: `--color always`
/// wins over `NO_COLOR` (as in ripgrep); and the quick start names what
/// the `kernel` command needs beyond Rust.
#[test]
fn readme_colour_and_kernel_needs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let words = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("an explicit `--color always` wins over `NO_COLOR`"), "the colour sentence");
    let out = Command::new(env!("CARGO_BIN_EXE_tcpsim"))
        .args(["run", "sims/normal-close.ron", "--color", "always"])
        .env("NO_COLOR", "1")
        .current_dir(root())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains('\u{1b}'), "--color always with NO_COLOR set");
    let quick = section(&readme, "## Quick start");
    let quick_words = quick.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(quick_words.contains("`tcpsim kernel`") && quick_words.contains("iproute2"), "{quick}");
}

/// Every `--set` and `--vary` value the README writes is quoted, in code
/// blocks and inline alike, so each command pastes into zsh (which takes
/// `links[0].delay_ms=20` for a glob). A script's `--set $set` and a
/// value inside a quoted shell word are no values to quote.
#[test]
fn readme_quotes_set_and_vary_values() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for (i, line) in readme.lines().enumerate() {
        if line.trim_start().starts_with('\'') {
            continue;
        }
        for flag in ["--set ", "--vary "] {
            for (at, _) in line.match_indices(flag) {
                let value = &line[at + flag.len()..];
                let path_like = value.starts_with(|c: char| c.is_ascii_lowercase()) && value.contains('=');
                assert!(!path_like || value.starts_with(['\'', '"']), "README.md:{}: quote the value: {line}", i + 1);
            }
        }
    }
}
