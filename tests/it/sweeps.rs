//! Sweeps: identical bytes for any thread count and shard split, merge
//! checks, replay commands, bad input.

use crate::util::{root, stderr, stdout, tcpsim};
use std::path::Path;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const FILE: &str = "sims/near-simultaneous-close.ron";

fn sweep(dir: &Path, name: &str, extra: &[&str]) -> (String, std::process::Output) {
    let out = dir.join(name);
    let out_s = out.to_str().unwrap().to_string();
    let mut args = vec!["sweep", FILE, "--loss", "0,0.1", "--seeds", "40", "--out", &out_s];
    args.extend_from_slice(extra);
    let o = tcpsim(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    (read(&out), o)
}

/// `--jobs 1` and `--jobs 2` write byte-identical CSVs and summaries.
#[test]
fn thread_count_does_not_change_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (one, o1) = sweep(dir.path(), "j1.csv", &["--jobs", "1", "--coverage"]);
    let (two, o2) = sweep(dir.path(), "j2.csv", &["--jobs", "2", "--coverage"]);
    assert_eq!(one, two);
    assert_eq!(stdout(&o1), stdout(&o2), "the summary table");
    assert!(one.lines().filter(|l| !l.starts_with('#')).count() == 81, "header + 80 runs");
}

/// Shards run as separate processes and merged equal the unsharded sweep,
/// byte for byte, coverage included.
#[test]
fn merged_shards_equal_the_unsharded_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, _) = sweep(dir.path(), "whole.csv", &["--coverage"]);
    let mut parts = Vec::new();
    for i in 0..3 {
        let name = format!("part{i}.csv");
        sweep(dir.path(), &name, &["--coverage", "--shard", &format!("{i}/3")]);
        parts.push(dir.path().join(name).to_str().unwrap().to_string());
    }
    let merged = dir.path().join("merged.csv");
    let mut args = vec!["merge", &parts[2], &parts[0], &parts[1], "--out", merged.to_str().unwrap()];
    let json = dir.path().join("summary.json");
    args.extend_from_slice(&["--json", json.to_str().unwrap()]);
    let o = tcpsim(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(read(&merged), whole);
    let summary: serde_json::Value = serde_json::from_str(&read(&json)).unwrap();
    assert_eq!(summary["points"].as_array().unwrap().len(), 2);
    assert_eq!(summary["points"][0]["runs"], 40);
}

/// Merge refuses parts that do not fit together: a missing shard, a
/// repeated one, or a part from another sweep.
#[test]
fn merge_rejects_parts_that_do_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    sweep(dir.path(), "a0.csv", &["--shard", "0/2"]);
    sweep(dir.path(), "a1.csv", &["--shard", "1/2"]);
    let other = tcpsim(&["sweep", FILE, "--loss", "0,0.2", "--seeds", "40", "--shard", "1/2", "--out", &p("b1.csv")]);
    assert_eq!(other.status.code(), Some(0));
    for (args, why) in [
        (vec![p("a0.csv")], "missing shard"),
        (vec![p("a0.csv"), p("a0.csv")], "given twice"),
        (vec![p("a0.csv"), p("b1.csv")], "different sweeps"),
    ] {
        let out = p("m.csv");
        let mut a: Vec<&str> = vec!["merge"];
        a.extend(args.iter().map(|s| s.as_str()));
        a.extend_from_slice(&["--out", &out]);
        let o = tcpsim(&a);
        assert_eq!(o.status.code(), Some(2), "{why}: {}", stderr(&o));
        assert!(stderr(&o).contains(why), "{why}: {}", stderr(&o));
        assert!(!Path::new(&out).exists(), "{why}: nothing written");
    }
}

/// A failing row's replay command reproduces that run exactly: same seed,
/// same settings, same digest.
#[test]
fn failing_rows_replay_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.csv");
    // r2 = 1 under 30 % loss: some connections give up, which fails the
    // file's byte-count expectations, so some rows carry a replay.
    let o = tcpsim(&[
        "sweep",
        "sims/lossy-transfer.ron",
        "--loss",
        "0.3",
        "--seeds",
        "20",
        "--set",
        "tcp.r2=1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "some runs fail: {}", stderr(&o));
    let sheet = tcpsim::sweep::table::read(read(&out).as_bytes()).unwrap();
    let row = sheet.rows.iter().find(|r| !r.replay.is_empty()).unwrap();
    let replay = &row.replay;
    assert!(replay.starts_with("tcpsim run sims/lossy-transfer.ron --seed "), "{replay}");
    // Run the replay (split the way a shell would; values here need no quotes).
    let args: Vec<String> = replay.split_whitespace().skip(1).map(|a| a.trim_matches('\'').to_string()).collect();
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let r = tcpsim(&args);
    assert_eq!(r.status.code(), Some(1));
    let last = stdout(&r).lines().last().unwrap().to_string();
    assert_eq!(last, format!("digest: {}", row.run.digest));
}

/// Each row's seed is the documented `run_seed(base, i)`, the same at
/// every grid point (paired comparisons).
#[test]
fn seeds_are_derived_and_shared_across_points() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, _) = sweep(dir.path(), "s.csv", &[]);
    let sheet = tcpsim::sweep::table::read(csv.as_bytes()).unwrap();
    assert_eq!(sheet.rows.len(), 80);
    for (k, r) in sheet.rows.iter().enumerate() {
        let i = (k % 40) as u64;
        assert_eq!(r.run.seed, tcpsim::sweep::run_seed(1, i), "row {k}");
    }
}

/// Bad sweep input exits 2 and writes nothing.
#[test]
fn bad_sweep_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    let o = out.to_str().unwrap();
    for args in [
        vec!["sweep", FILE, "--loss", "0,1.5", "--out", o],
        vec!["sweep", FILE, "--vary", "links[0].nonsense=1,2", "--out", o],
        vec!["sweep", FILE, "--vary", "links[0].delay_ms", "--out", o],
        vec!["sweep", FILE, "--shard", "3/3", "--out", o],
        vec!["sweep", FILE, "--seeds", "0", "--out", o],
    ] {
        let r = tcpsim(&args);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", stderr(&r));
        assert!(stderr(&r).contains("error"), "{args:?}");
        assert!(!out.exists(), "{args:?} wrote output");
    }
    let _ = root();
}

/// Writes the parts of a `--loss 0,0.1 --seeds 4` sweep sharded in `n`
/// (8 runs) into `dir`; returns their paths.
fn loss_parts(dir: &Path, n: u32) -> Vec<String> {
    (0..n)
        .map(|i| {
            let name = dir.join(format!("part{i}.csv")).to_str().unwrap().to_string();
            let shard = format!("{i}/{n}");
            let o = tcpsim(&["sweep", FILE, "--loss", "0,0.1", "--seeds", "4", "--shard", &shard, "--out", &name]);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            name
        })
        .collect()
}

/// A part whose data row lost its last fields is bad input: merge names
/// the file and the row's line (comment lines counted), says how many
/// fields it has against the header's, exits 2 and writes nothing. It
/// used to panic (index out of bounds) when the sweep had an axis.
#[test]
fn merge_reports_a_short_row_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let parts = loss_parts(dir.path(), 2);
    let text = read(Path::new(&parts[1]));
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header = lines.iter().position(|l| l.starts_with("run,")).unwrap();
    let header_fields = lines[header].split(',').count();
    // The first row of the part (the first of grid point loss=0.1) keeps
    // only `run` and `seed`.
    let short = header + 1;
    lines[short] = lines[short].split(',').take(2).collect::<Vec<_>>().join(",");
    std::fs::write(&parts[1], lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("merged.csv");
    let o = tcpsim(&["merge", &parts[0], &parts[1], "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let expected = format!("{}:{}:1: error: row has 2 fields, the header has {header_fields}\n", parts[1], short + 1);
    assert_eq!(stderr(&o), expected);
    assert!(!out.exists(), "nothing written");
    // An existing output keeps its bytes.
    std::fs::write(&out, "old\n").unwrap();
    let json = dir.path().join("summary.json");
    let o = tcpsim(&["merge", &parts[0], &parts[1], "--out", out.to_str().unwrap(), "--json", json.to_str().unwrap()]);
    assert_eq!((o.status.code(), stderr(&o)), (Some(2), expected));
    assert_eq!(read(&out), "old\n");
    assert!(!json.exists());
}

/// Free text with commas, quotes and line breaks, in a `--set` value (kept
/// in the replay commands) and in swept values, is quoted in the CSV and
/// read back exactly; the comment lines stay one line each; merged shards
/// still equal the unsharded sweep byte for byte.
#[test]
fn quoted_free_text_round_trips_through_shards_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let set = "description=\"x,\ny \\\"q\\\"\"";
    let vary = "name=\"a,b\",\"c\nd\"";
    // r2 = 1 under 30 % loss: connections give up, the expectations fail,
    // so rows carry replay commands.
    let sweep = |out: &str, shard: Option<&str>| {
        let mut args = vec!["sweep", "sims/lossy-transfer.ron", "--loss", "0.3", "--seeds", "3"];
        args.extend_from_slice(&["--set", "tcp.r2=1", "--set", set, "--vary", vary, "--out", out]);
        if let Some(s) = shard {
            args.extend_from_slice(&["--shard", s]);
        }
        let o = tcpsim(&args);
        assert_eq!(o.status.code(), Some(1), "some runs fail: {}", stderr(&o));
    };
    sweep(&p("whole.csv"), None);
    let parts: Vec<String> = (0..3).map(|i| p(&format!("part{i}.csv"))).collect();
    for (i, part) in parts.iter().enumerate() {
        sweep(part, Some(&format!("{i}/3")));
    }
    let o = tcpsim(&["merge", &parts[1], &parts[2], &parts[0], "--out", &p("merged.csv")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let whole = read(Path::new(&p("whole.csv")));
    assert_eq!(read(Path::new(&p("merged.csv"))), whole);

    let sheet = tcpsim::sweep::table::read(whole.as_bytes()).unwrap();
    let comments: Vec<&str> = sheet.leading.iter().map(|c| c.text.as_str()).collect();
    assert!(comments.contains(&"set: tcp.r2=1  description=\"x,\\ny \\\"q\\\"\""), "{comments:?}");
    assert_eq!(sheet.axes, ["loss", "name"]);
    let names: Vec<&str> = sheet.rows.iter().map(|r| r.values[1].as_str()).collect();
    assert_eq!(names, ["\"a,b\"", "\"a,b\"", "\"a,b\"", "\"c\nd\"", "\"c\nd\"", "\"c\nd\""]);
    let failing = sheet.rows.iter().find(|r| r.run.failed()).unwrap();
    assert!(failing.replay.contains(&format!(" --set '{set}' ")), "{}", failing.replay);
    assert!(failing.replay.ends_with(&format!(" --set 'name={}'", failing.values[1])), "{}", failing.replay);
}

/// A sweep CSV says which digest encoding its `digest` column uses (the
/// crate version alone does not: it stayed 0.1.0 when the encoding went
/// from 2 to 3), and merge refuses parts whose encodings differ, or a part
/// that does not say, at the line concerned, as bad input.
#[test]
fn merge_checks_the_digest_version_of_every_part() {
    let dir = tempfile::tempdir().unwrap();
    let parts = loss_parts(dir.path(), 2);
    let text = read(Path::new(&parts[1]));
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("# digest_version: ")).expect(&text);
    assert_eq!(lines[at], format!("# digest_version: {}", tcpsim::trace::DIGEST_VERSION));
    assert!(lines[..at].iter().all(|l| l.starts_with('#')), "a comment before the header: {text}");
    let out = dir.path().join("merged.csv");
    let merge = |second: &str| tcpsim(&["merge", &parts[0], second, "--out", out.to_str().unwrap()]);

    let older = dir.path().join("older.csv");
    std::fs::write(&older, text.replace(lines[at], "# digest_version: 2")).unwrap();
    let o = merge(older.to_str().unwrap());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let prefix = format!("{}:{}:1: error: ", older.display(), at + 1);
    assert!(stderr(&o).starts_with(&prefix) && stderr(&o).contains("digest_version 2"), "{}", stderr(&o));
    assert!(!out.exists());

    let unsaid = dir.path().join("unsaid.csv");
    let mut kept: Vec<&str> = lines.clone();
    kept.remove(at);
    std::fs::write(&unsaid, kept.join("\n") + "\n").unwrap();
    let o = merge(unsaid.to_str().unwrap());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let header = kept.iter().position(|l| l.starts_with("run,")).unwrap();
    let prefix = format!("{}:{}:1: error: ", unsaid.display(), header + 1);
    assert!(stderr(&o).starts_with(&prefix) && stderr(&o).contains("digest_version"), "{}", stderr(&o));
    assert!(!out.exists());
}

/// Two shards of `--loss 0,0.1 --seeds 4`, each holding one whole grid
/// point, written to `dir`.
fn two_point_shards(dir: &Path) -> [String; 2] {
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    let parts = [p("h0.csv"), p("h1.csv")];
    for (i, part) in parts.iter().enumerate() {
        let shard = format!("{i}/2");
        let o = tcpsim(&["sweep", FILE, "--loss", "0,0.1", "--seeds", "4", "--shard", &shard, "--out", part]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    parts
}

/// A swept value the sweep never had (0.7), or another point's value (0),
/// in a shard that holds a whole grid point is bad input at its first row:
/// every row's values must be those of grid point `run / seeds`.
#[test]
fn merge_rejects_swept_values_that_are_not_the_rows_grid_point() {
    let dir = tempfile::tempdir().unwrap();
    let [h0, h1] = two_point_shards(dir.path());
    let text = read(Path::new(&h1));
    for wrong in ["0.7", "0"] {
        let damaged = dir.path().join(format!("h1-{wrong}.csv"));
        let mut first_row = None;
        let lines: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(k, l)| match l.split_once(",0.1,") {
                Some((lead, rest)) if !l.starts_with('#') => {
                    first_row.get_or_insert(k + 1);
                    format!("{lead},{wrong},{rest}")
                }
                _ => l.to_string(),
            })
            .collect();
        std::fs::write(&damaged, lines.join("\n") + "\n").unwrap();
        let o = tcpsim(&["merge", &h0, damaged.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "loss={wrong}: {}", stdout(&o));
        let expected = format!("{}:{}:", damaged.display(), first_row.unwrap());
        assert!(stderr(&o).starts_with(&expected), "{expected}: {}", stderr(&o));
        assert!(stderr(&o).contains("column `loss`: expected `0.1`"), "{}", stderr(&o));
        assert!(stdout(&o).is_empty(), "nothing written: {}", stdout(&o));
    }
}

/// `--shard` as a CRLF-edited job script passes it (`1/2\r`, or with
/// spaces): the part names the shard canonically and merges.
#[test]
fn shard_spec_with_whitespace_or_cr_writes_a_mergeable_part() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let (whole, _) = sweep(dir.path(), "whole.csv", &[]);
    for (name, shard) in [("a.csv", "0/2\r"), ("b.csv", " 1 / 2 ")] {
        let o = tcpsim(&["sweep", FILE, "--loss", "0,0.1", "--seeds", "40", "--shard", shard, "--out", &p(name)]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    assert!(read(Path::new(&p("a.csv"))).contains("\n# shard: 0/2  runs 0..40\n"));
    assert!(read(Path::new(&p("b.csv"))).contains("\n# shard: 1/2  runs 40..80\n"));
    let o = tcpsim(&["merge", &p("a.csv"), &p("b.csv"), "--out", &p("merged.csv")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(read(Path::new(&p("merged.csv"))), whole);
}

/// An `--out` that is stdout behaves like no `--out`: stdout carries only
/// the CSV, the summary goes to stderr. Two outputs on one descriptor are
/// refused before running, naming both flags.
#[test]
fn out_to_stdout_keeps_the_summary_off_stdout_and_outputs_cannot_share_it() {
    let base = ["sweep", FILE, "--loss", "0,0.1", "--seeds", "2"];
    let plain = tcpsim(&base);
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    for out in ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"] {
        let o = tcpsim(&[&base[..], &["--out", out]].concat());
        assert_eq!(o.status.code(), Some(0), "--out {out}: {}", stderr(&o));
        assert_eq!(stdout(&o), stdout(&plain), "--out {out}: only the CSV on stdout");
        assert!(stderr(&o).contains("loss=0.1"), "--out {out}: the summary on stderr: {}", stderr(&o));
    }
    let o = tcpsim(&[&base[..], &["--out", "/dev/stdout", "--json", "/dev/fd/1"]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("--out") && stderr(&o).contains("--json"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

/// `bytes` with its first data row (the first line starting with a digit)
/// changed by `edit`, and that row's line number.
fn edit_first_row(bytes: &[u8], edit: impl Fn(&[u8]) -> Vec<u8>) -> (Vec<u8>, usize) {
    let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    let k = lines.iter().position(|l| l.first().is_some_and(u8::is_ascii_digit)).unwrap();
    lines[k] = edit(&lines[k]);
    (lines.join(&b'\n'), k + 1)
}

/// Merges `parts`; the exit code, stdout and stderr.
fn merge(parts: &[&str]) -> (Option<i32>, String, String) {
    let o = tcpsim(&[&["merge"][..], parts].concat());
    (o.status.code(), stdout(&o), stderr(&o))
}

/// A comment that differs past its 60th character is shown around the
/// first difference, at its column; an extra comment is reported as only
/// in its file; another version is a different sweep, at the version line.
#[test]
fn merge_shows_where_two_sweeps_differ() {
    let dir = tempfile::tempdir().unwrap();
    let [h0, h1] = two_point_shards(dir.path());
    let text = read(Path::new(&h1));
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name).to_str().unwrap().to_string();
        std::fs::write(&path, text).unwrap();
        path
    };
    // The file digest's last hex digit: column 2 + 76 of `# file: ...`,
    // the third line (after the version and digest_version lines).
    let file_line = text.lines().nth(2).unwrap();
    assert!(file_line.starts_with("# file: ") && file_line.len() == 78, "{file_line}");
    let last = file_line.chars().last().unwrap();
    let other = if last == '0' { '1' } else { '0' };
    let changed = format!("{}{other}", &file_line[..77]);
    let digest = write("digest.csv", &text.replacen(file_line, &changed, 1));
    let (code, out, err) = merge(&[&h0, &digest]);
    assert_eq!(code, Some(2), "{out}");
    assert!(err.starts_with(&format!("{digest}:3:78: error: ")), "{err}");
    assert!(err.contains(&format!("{other}`")) && err.contains(&format!("{last}`")), "both ends shown: {err}");

    let extra = write("extra.csv", &text.replacen("# runs:", "# set: tcp.r2=1\n# runs:", 1));
    let (code, _, err) = merge(&[&h0, &extra]);
    assert_eq!(code, Some(2));
    // version, digest_version, file, scenario, seeds, axis: line 7.
    assert!(err.starts_with(&format!("{extra}:7:1: error: ")), "the line after the axis line: {err}");
    assert!(err.contains(&format!("`# set: tcp.r2=1` only in {extra}")), "{err}");
    let (code, _, err) = merge(&[&extra, &h0]);
    assert_eq!(code, Some(2));
    assert!(err.contains(&format!("`# set: tcp.r2=1` only in {extra}")), "{err}");

    let version = text.lines().next().unwrap();
    let older = write("older.csv", &text.replacen(version, "# tcpsim 0.0.1 sweep", 1));
    let (code, _, err) = merge(&[&h0, &older]);
    assert_eq!(code, Some(2));
    assert!(err.starts_with(&format!("{older}:1:")) && err.contains("different sweeps"), "{err}");
}

/// Parts with CRLF line endings or a byte-order mark merge as the
/// originals do; bare CR line endings are named as such.
#[test]
fn merge_reads_crlf_and_bom_parts_and_names_cr_only_endings() {
    let dir = tempfile::tempdir().unwrap();
    let [h0, h1] = two_point_shards(dir.path());
    let (code, plain, err) = merge(&[&h0, &h1]);
    assert_eq!(code, Some(0), "{err}");
    let bytes = std::fs::read(&h1).unwrap();
    let crlf = String::from_utf8(bytes.clone()).unwrap().replace('\n', "\r\n");
    let bom = [b"\xEF\xBB\xBF".as_slice(), &bytes].concat();
    for (name, content) in [("crlf.csv", crlf.into_bytes()), ("bom.csv", bom)] {
        let path = dir.path().join(name).to_str().unwrap().to_string();
        std::fs::write(&path, content).unwrap();
        let (code, out, err) = merge(&[&h0, &path]);
        assert_eq!((code, out), (Some(0), plain.clone()), "{name}: {err}");
    }
    let cr = dir.path().join("cr.csv").to_str().unwrap().to_string();
    std::fs::write(&cr, String::from_utf8(bytes).unwrap().replace('\n', "\r")).unwrap();
    let (code, _, err) = merge(&[&h0, &cr]);
    assert_eq!(code, Some(2));
    assert_eq!(err, format!("{cr}:1:1: error: lines end with CR only (convert to LF or CRLF)\n"));
}

/// An unsharded CSV, parts that differ in `--coverage`, an `--out` that
/// is one of the parts, a non-UTF-8 swept value, and a replay command on a
/// run that did not fail are bad input, each said plainly.
#[test]
fn merge_names_what_is_wrong_with_a_part() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let [h0, h1] = two_point_shards(dir.path());

    let whole = p("whole.csv");
    let o = tcpsim(&["sweep", FILE, "--loss", "0,0.1", "--seeds", "4", "--out", &whole]);
    assert_eq!(o.status.code(), Some(0));
    let header_line = read(Path::new(&whole)).lines().position(|l| l.starts_with("run,")).unwrap() + 1;
    let (code, _, err) = merge(&[&whole]);
    assert_eq!(code, Some(2));
    assert_eq!(
        err,
        format!(
            "{whole}:{header_line}:1: error: expected a `# shard: I/N  runs A..B` comment before the header \
             (parts are written by `sweep --shard`), found none\n"
        )
    );

    let counted = p("counted.csv");
    let o =
        tcpsim(&["sweep", FILE, "--loss", "0,0.1", "--seeds", "4", "--shard", "1/2", "--coverage", "--out", &counted]);
    assert_eq!(o.status.code(), Some(0));
    let (code, _, err) = merge(&[&h0, &counted]);
    assert_eq!(code, Some(2));
    assert!(err.contains("differ in --coverage"), "{err}");

    let before = std::fs::read(&h1).unwrap();
    let o = tcpsim(&["merge", &h0, &h1, "--out", &h1]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(&format!("--out {h1}: that is one of the parts")), "{}", stderr(&o));
    assert_eq!(std::fs::read(&h1).unwrap(), before, "the part is kept");

    let (bytes, line) = edit_first_row(&before, |row| {
        let text = String::from_utf8(row.to_vec()).unwrap();
        let (lead, rest) = text.split_once(",0.1,").unwrap();
        [lead.as_bytes(), b",0.\xff,", rest.as_bytes()].concat()
    });
    let utf8 = p("utf8.csv");
    std::fs::write(&utf8, bytes).unwrap();
    let (code, _, err) = merge(&[&h0, &utf8]);
    assert_eq!(code, Some(2));
    assert!(err.starts_with(&format!("{utf8}:{line}:")), "{err}");
    assert!(err.contains("column `loss`: expected UTF-8 text"), "{err}");

    // The replay column comes before `stuck`, the last one.
    let (bytes, line) = edit_first_row(&before, |row| {
        let at = row.iter().rposition(|&b| b == b',').unwrap();
        [&row[..at], b"tcpsim run x", &row[at..]].concat()
    });
    let replay = p("replay.csv");
    std::fs::write(&replay, bytes).unwrap();
    let (code, _, err) = merge(&[&h0, &replay]);
    assert_eq!(code, Some(2));
    assert!(err.starts_with(&format!("{replay}:{line}:1: error: column `replay`")), "{err}");
}

/// A run that a limit stops did not complete, and the contract's exit 3
/// covers "a limit stopped it" (interface.md): the sweep still writes its
/// CSV (the `outcome` column names the limit), says how many runs a limit
/// stopped, and exits 3, also when those runs' expectations failed too.
/// Merging those parts gives the same exit code.
#[test]
fn runs_stopped_by_a_limit_make_the_sweep_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("limited.csv");
    let out_s = out.to_str().unwrap();
    // 50 events cannot carry lossy-transfer's data and close: every run stops.
    let o = tcpsim(&[
        "sweep",
        "sims/lossy-transfer.ron",
        "--seeds",
        "3",
        "--set",
        "limits.max_events=50",
        "--shard",
        "0/1",
        "--out",
        out_s,
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("3 of 3 runs stopped by a limit"), "{}", stderr(&o));
    let csv = read(&out);
    assert_eq!(csv.lines().filter(|l| l.contains("event_limit")).count(), 3, "{csv}");
    let (code, _, err) = merge(&[out_s]);
    assert_eq!(code, Some(3), "{err}");
}

/// A measure plot from merged shards is byte-identical to the unsharded
/// sweep's: its title is the scenario's name (recorded in every part's
/// `# scenario:` comment), not the file name.
#[test]
fn merged_measure_plot_equals_the_unsharded_one() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let common = ["--loss", "0,0.1", "--seeds", "4", "--measure", "r=retransmissions(client)"];
    let sweep = |extra: &[&str]| {
        let o = tcpsim(&[&["sweep", FILE][..], &common[..], extra].concat());
        assert!(o.status.success(), "{}", stderr(&o));
    };
    sweep(&["--out", &p("all.csv"), "--plot", &p("all.svg"), "--plot-measure", "r"]);
    sweep(&["--shard", "0/2", "--out", &p("a.csv")]);
    sweep(&["--shard", "1/2", "--out", &p("b.csv")]);
    let (code, _, err) =
        merge(&[&p("a.csv"), &p("b.csv"), "--out", &p("m.csv"), "--plot", &p("m.svg"), "--plot-measure", "r"]);
    assert_eq!(code, Some(0), "{err}");
    let (all, merged) = (read(&dir.path().join("all.svg")), read(&dir.path().join("m.svg")));
    let name = tcpsim::scenario::load(read(&root().join(FILE)).as_bytes(), &[]).map(|m| m.name).unwrap();
    assert!(all.contains(&name), "the plot's title is the scenario's name {name:?}");
    assert_eq!(merged, all);
    assert_eq!(read(&dir.path().join("m.csv")), read(&dir.path().join("all.csv")));
}
