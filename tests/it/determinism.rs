//! Same file and seed: byte-identical output. Another seed on a lossy
//! file: another digest. Text and JSONL: the same digest.

use crate::util::{stdout, tcpsim};

fn digest_of_text(out: &str) -> String {
    out.lines().last().unwrap().strip_prefix("digest: ").expect("last line is the digest").to_string()
}

fn digest_of_jsonl(out: &str) -> String {
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["kind"], "summary");
    last["digest"].as_str().unwrap().to_string()
}

#[test]
fn same_seed_twice_gives_identical_bytes() {
    for file in ["sims/lossy-transfer.ron", "sims/lost-final-ack.ron"] {
        let a = tcpsim(&["run", file, "--seed", "9"]);
        let b = tcpsim(&["run", file, "--seed", "9"]);
        assert_eq!(a.status.code(), Some(0));
        assert_eq!(a.stdout, b.stdout, "{file}");
    }
}

#[test]
fn another_seed_gives_another_digest_on_a_lossy_file() {
    let a = digest_of_text(&stdout(&tcpsim(&["run", "sims/lossy-transfer.ron", "--seed", "1"])));
    let b = digest_of_text(&stdout(&tcpsim(&["run", "sims/lossy-transfer.ron", "--seed", "2"])));
    assert_ne!(a, b);
}

#[test]
fn text_and_jsonl_show_the_same_digest() {
    for file in ["sims/lossy-transfer.ron", "sims/normal-close.ron", "sims/syn-retry-give-up.ron"] {
        let text = digest_of_text(&stdout(&tcpsim(&["run", file])));
        let jsonl = digest_of_jsonl(&stdout(&tcpsim(&["run", file, "--format", "jsonl"])));
        let quiet = digest_of_text(&stdout(&tcpsim(&["run", file, "--quiet"])));
        assert_eq!(text, jsonl, "{file}");
        assert_eq!(text, quiet, "{file}");
    }
}

/// Filters change what is shown, never the digest.
#[test]
fn filters_do_not_change_the_digest() {
    let all = digest_of_text(&stdout(&tcpsim(&["run", "sims/lossy-transfer.ron"])));
    let some = digest_of_text(&stdout(&tcpsim(&[
        "run",
        "sims/lossy-transfer.ron",
        "--kinds",
        "transition",
        "--endpoint",
        "client",
    ])));
    assert_eq!(all, some);
}

/// Every JSONL record parses and carries t_ns and kind, in time order.
#[test]
fn jsonl_records_are_well_formed_and_ordered() {
    let out = stdout(&tcpsim(&["run", "sims/lossy-transfer.ron", "--format", "jsonl"]));
    let mut last_t = 0u64;
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let kind = v["kind"].as_str().unwrap();
        if kind == "summary" || kind == "expect" {
            continue;
        }
        let t = v["t_ns"].as_u64().unwrap();
        assert!(last_t <= t, "time went backwards at {line}");
        last_t = t;
    }
}
