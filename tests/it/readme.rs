//! The outputs README.md shows are what the commands print: every code
//! block after a `<!-- output: ARGS -->` marker is compared with the
//! stdout of `tcpsim ARGS` (with `output+stderr`, stdout then stderr),
//! run in a scratch directory that sees `sims/`, `examples/` and `scale/`.

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
        let o = Command::new(env!("CARGO_BIN_EXE_tcpsim"))
            .args(args.split_whitespace())
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
