//! Every behaviour ID of the specification is proven by a test: a unit or
//! scenario test whose doc comment, directly above its `#[test]`, names the
//! ID, or a sim in `sims/` whose `expect.proves` lists it (and the sims
//! test checks that each listed ID actually fired).

use crate::util::{root, sim_files};
use std::collections::BTreeMap;
use std::path::Path;
use tcpsim::rule::Rule;

/// Finds `B-AREA-NN` IDs in a line of text.
fn ids_in(line: &str) -> Vec<Rule> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("B-") {
        let tail = &rest[i..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(tail.len());
        if let Some(rule) = Rule::parse(&tail[..end]) {
            out.push(rule);
        }
        rest = &tail[2..];
    }
    out
}

/// IDs named in the doc comment directly above each `#[test]` in `text`.
fn ids_above_tests(text: &str) -> Vec<Rule> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() != "#[test]" {
            continue;
        }
        let mut j = i;
        while j > 0 && lines[j - 1].trim_start().starts_with("///") {
            j -= 1;
            out.extend(ids_in(lines[j]));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Where each ID is proven: test doc comments and sims' `proves` lists.
fn proofs() -> BTreeMap<Rule, Vec<String>> {
    let mut map: BTreeMap<Rule, Vec<String>> = BTreeMap::new();
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    rust_files(&root().join("tests"), &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable source");
        for id in ids_above_tests(&text) {
            map.entry(id).or_default().push(f.strip_prefix(root()).unwrap().display().to_string());
        }
    }
    for f in sim_files() {
        let rel = f.strip_prefix(root()).unwrap().display().to_string();
        let model = crate::util::load(&rel, &[]);
        for id in model.expect.map(|e| e.proves).unwrap_or_default() {
            map.entry(id).or_default().push(rel.clone());
        }
    }
    map
}

/// The specification's 124 behaviour IDs each have a test naming them.
#[test]
fn every_behaviour_id_has_a_test() {
    let proofs = proofs();
    let missing: Vec<String> = Rule::all().filter(|r| !proofs.contains_key(r)).map(|r| r.to_string()).collect();
    assert_eq!(Rule::all().count(), 124);
    assert!(missing.is_empty(), "{} behaviour IDs have no test naming them: {}", missing.len(), missing.join(", "));
    println!("behaviours: {} of 124 IDs proven by named tests or sims", proofs.len());
}

#[test]
fn ids_are_found_only_directly_above_tests() {
    let text = "/// B-CLOSE-06 here\n#[test]\nfn a() {}\n/// B-CLOSE-07 not a test\nfn b() {}\n";
    assert_eq!(ids_above_tests(text), vec![tcpsim::rule::CLOSE_06]);
    assert_eq!(ids_in("B-APP-01, B-XYZ-01 and B-CLOSE-21."), vec![tcpsim::rule::APP_01, tcpsim::rule::CLOSE_21]);
}
