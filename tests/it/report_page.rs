//! `tcpsim report`: a page for every shipped simulation, self-contained
//! and deterministic, with well-formed pictures; the connection limit;
//! bad input, failed expectations and incomplete runs.

use crate::util::{path_str, sim_files, stderr, tcpsim};
use tcpsim::pictures::svg::check_well_formed;

/// The one address a page may name: the SVG namespace, which is a name,
/// not something fetched.
const SVG_NAMESPACE: &str = "http://www.w3.org/2000/svg";

/// Writes the report of `args` (after `report`) to a temp file; returns
/// the exit code, the page (empty when none was written) and stderr.
fn report(args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.html");
    let mut argv = vec!["report"];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["--out", path_str(&page)]);
    let out = tcpsim(&argv);
    let html = std::fs::read_to_string(&page).unwrap_or_default();
    (out.status.code(), html, stderr(&out))
}

/// The inline SVG of each figure, by the figure's id.
pub fn figures(html: &str) -> Vec<(String, &str)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<figure id=\"") {
        rest = &rest[at + 12..];
        let id = rest[..rest.find('"').unwrap()].to_string();
        let start = rest.find("<div class=\"fig\">\n").expect("a figure's frame") + 18;
        let end = rest.find("</div>\n</figure>").expect("the frame's end");
        found.push((id, &rest[start..end]));
        rest = &rest[end..];
    }
    found
}

/// Checks what every page must be: one HTML document, no address but the
/// SVG namespace, every figure a well-formed SVG.
#[track_caller]
fn check_page(html: &str, what: &str) {
    assert!(html.starts_with("<!DOCTYPE html>\n") && html.ends_with("</html>\n"), "{what}: not a whole page");
    let without_ns = html.replace(SVG_NAMESPACE, "");
    for scheme in ["http://", "https://", "//fonts", "<link", "<img", "<iframe", "src=", "@import"] {
        assert!(!without_ns.contains(scheme), "{what}: the page refers to something outside it ({scheme})");
    }
    let figs = figures(html);
    assert!(!figs.is_empty(), "{what}: no figures");
    for (id, svg) in figs {
        assert!(svg.starts_with("<svg ") && svg.contains("viewBox=\""), "{what}: figure {id} is no scalable SVG");
        check_well_formed(svg).unwrap_or_else(|e| panic!("{what}: figure {id}: {e}"));
    }
}

#[test]
fn every_sim_has_a_page() {
    for file in sim_files() {
        let file = file.strip_prefix(crate::util::root()).unwrap().to_string_lossy().into_owned();
        let (code, html, err) = report(&[&file]);
        // Every shipped file meets its expectations (exit 1 would mean the
        // sim itself fails, which `tcpsim test sims/` rules out).
        assert_eq!(code, Some(0), "{file}: {err}");
        check_page(&html, &file);
        for section in
            ["id=\"run\"", "id=\"endpoints\"", "id=\"expectations\"", "id=\"replay\"", "id=\"conn-0-ladder\""]
        {
            assert!(html.contains(section), "{file}: no {section}");
        }
        assert!(html.contains(&format!("tcpsim run {file} --seed ")), "{file}: no replay command");
    }
}

#[test]
fn a_page_has_every_picture_of_a_transfer_and_the_run_s_facts() {
    let (code, html, err) = report(&["sims/lossy-transfer.ron", "--seed", "4"]);
    assert_eq!(code, Some(0), "{err}");
    let ids: Vec<String> = figures(&html).into_iter().map(|(id, _)| id).collect();
    assert_eq!(
        ids,
        ["conn-0-ladder", "conn-0-tsg-client", "conn-0-tsg-server", "conn-0-series", "conn-0-states"],
        "both ends send 100 000 bytes"
    );
    // The run's digest and its replay, as `run` prints them.
    let run = tcpsim(&["run", "sims/lossy-transfer.ron", "--seed", "4", "--quiet"]);
    let digest = crate::util::stdout(&run).lines().find_map(|l| l.strip_prefix("digest: ")).unwrap().to_string();
    assert!(html.contains(&format!("<code>{digest}</code>")));
    assert!(html.contains("<pre>tcpsim run sims/lossy-transfer.ron --seed 4</pre>"));
    // Every expectation, passed, as run reports it.
    let checks = crate::util::stdout(&run).lines().filter(|l| l.starts_with("expect ok")).count();
    assert_eq!(html.matches("<span class=\"badge ok\">pass</span>").count(), checks);
    // The endpoint table: a row per endpoint.
    assert!(html.contains("<td class=\"text\">client</td>") && html.contains("<td class=\"text\">server</td>"));
    assert!(html.contains("<th>bytes_<wbr>sent_<wbr>bytes</th>"));
    // The state diagram counts the listener's endpoint's whole path,
    // LISTEN included: the run's 11 transitions.
    assert!(html.contains("(11 transitions in all)"), "the state diagram misses transitions");
}

#[test]
fn the_same_run_gives_the_same_bytes() {
    let (_, a, _) = report(&["sims/bottleneck-queue.ron"]);
    let (_, b, _) = report(&["sims/bottleneck-queue.ron"]);
    assert!(!a.is_empty());
    assert!(a == b, "two reports of one run differ");
    let (_, other, _) = report(&["sims/bottleneck-queue.ron", "--seed", "2"]);
    assert!(a != other, "another seed gives the same page");
}

#[test]
fn beyond_the_limit_a_note_says_how_to_see_a_connection() {
    // bottleneck-queue.ron has 3 connections.
    let (code, html, err) = report(&["sims/bottleneck-queue.ron", "--max-connections", "2"]);
    assert_eq!(code, Some(0), "{err}");
    check_page(&html, "--max-connections 2");
    assert!(html.contains("id=\"conn-0\"") && html.contains("id=\"conn-1\"") && !html.contains("id=\"conn-2\""));
    assert!(html.contains("Connection 2 is not drawn (--max-connections 2)"), "no note");
    assert!(html.contains("<code>tcpsim report sims/bottleneck-queue.ron --conn N --out PAGE.html</code>"));
    // The one asked for, alone, and no note.
    let (code, html, err) = report(&["sims/bottleneck-queue.ron", "--conn", "2"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(html.contains("id=\"conn-2\"") && !html.contains("id=\"conn-0\"") && !html.contains("are not drawn"));
}

#[test]
fn failed_expectations_are_on_the_page_and_exit_1() {
    // RFC 1337 stops the assassination the file expects.
    let (code, html, err) = report(&["sims/time-wait-assassination.ron", "--set", "tcp.rfc1337=true"]);
    assert_eq!(code, Some(1), "{err}");
    check_page(&html, "failed expectations");
    assert!(html.contains("<span class=\"badge failed\">fail</span><code>FAILED"));
    assert!(html.contains("class=\"verdict failed\""));
    assert!(err.contains("expectation failed") && err.contains("replay: tcpsim run sims/time-wait-assassination.ron"));
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ron");
    std::fs::write(&bad, "(\n  name: \"x\",\n  seed: 1,\n  hosts: [(name: \"a\")],\n  links: [(between: (\"a\", \"b\"), loss: 2.0)],\n)\n")
        .unwrap();
    let page = dir.path().join("page.html");
    let cases: [(Vec<&str>, &str); 5] = [
        (vec![path_str(&bad)], "bad.ron:5:39: error: `links[0].loss`: expected a probability"),
        (vec!["sims/lost-final-ack.ron", "--set", "links[0].loss=2"], "links[0].loss"),
        (
            vec!["sims/lost-final-ack.ron", "--conn", "1"],
            "--conn 1: the scenario has one connection, number 0; choose it with --conn 0",
        ),
        (vec!["sims/lost-final-ack.ron", "--max-connections", "0"], "--max-connections 0"),
        (vec!["sims/no-such-file.ron"], "cannot read the file"),
    ];
    for (args, message) in cases {
        let mut argv = vec!["report"];
        argv.extend(args.iter().copied());
        argv.extend(["--out", path_str(&page)]);
        let out = tcpsim(&argv);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"));
        assert!(!page.exists(), "{args:?} wrote a page");
    }
    assert_eq!(crate::util::entries(dir.path()), ["bad.ron"]);
}
