//! Every kind of picture tcpsim writes renders in librsvg (what the
//! README's images go through on a forge, and what `docs/img/regenerate.sh`
//! uses for PNG copies): `rsvg-convert` exits 0 and writes a PNG that is
//! not blank. And the README's ladder is byte for byte what tcpsim draws
//! now, so a change to the pictures shows up as a diff to review.
//!
//! The rendering test skips with a notice when `rsvg-convert` is missing
//! (Debian: librsvg2-bin), unless `TCPSIM_REQUIRE_RSVG=1` is set (CI sets
//! it), and then fails saying so.

use crate::util::{Image, path_str, root, stderr, tcpsim};
use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use tcpsim::pictures::curves::{Curve, Labels, Style, log_log_svg};

/// Whether `rsvg-convert` runs here; a notice on stderr when it does not,
/// a failure when `TCPSIM_REQUIRE_RSVG=1`.
fn rsvg_available(test: &str) -> bool {
    let found = Command::new("rsvg-convert").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        let required = std::env::var("TCPSIM_REQUIRE_RSVG").is_ok_and(|v| v == "1");
        assert!(!required, "{test}: rsvg-convert is not installed, but TCPSIM_REQUIRE_RSVG=1 requires it");
        // Straight to stderr: the harness swallows a passing test's output.
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped: rsvg-convert is not installed (Debian: librsvg2-bin; set TCPSIM_REQUIRE_RSVG=1 to make this a failure)"
        );
    }
    found
}

#[track_caller]
fn tcpsim_ok(args: &[&str], codes: &[i32]) {
    let out = tcpsim(args);
    assert!(out.status.code().is_some_and(|c| codes.contains(&c)), "tcpsim {args:?}: {}", stderr(&out));
}

/// Writes one picture of each kind into `dir`; returns their names.
fn every_kind(dir: &Path) -> Vec<&'static str> {
    let p = |name: &str| path_str(&dir.join(name)).to_string();
    let (ladder, states) = (p("ladder.svg"), p("state-diagram.svg"));
    tcpsim_ok(&["run", "sims/lost-final-ack.ron", "--quiet", "--svg", &ladder, "--state-diagram", &states], &[0]);
    let (tsg, series) = (p("tsg.svg"), p("series-plot.svg"));
    tcpsim_ok(
        &["run", "sims/lossy-transfer.ron", "--seed", "4", "--quiet", "--tsg", &tsg, "--series-plot", &series],
        &[0],
    );
    let (sweep, measure) = (p("sweep-plot.svg"), p("measure-plot.svg"));
    let sweep_args = ["sweep", "sims/lossy-transfer.ron", "--seeds", "4", "--loss", "0,0.1", "--out", "/dev/null"];
    tcpsim_ok(&[&sweep_args[..], &["--plot", &sweep]].concat(), &[0, 1]);
    tcpsim_ok(
        &[
            &sweep_args[..],
            &["--measure", "goodput=goodput_bps(server)", "--plot", &measure, "--plot-measure", "goodput"],
        ]
        .concat(),
        &[0, 1],
    );
    // The log-log curves are drawn by the loss-model experiment, which takes
    // too long for a test: the same function on a few points.
    let curves = [
        Curve { label: "measured".into(), points: vec![(0.001, 9e6), (0.01, 3e6), (0.05, 9e5)], style: Style::Points },
        Curve { label: "model".into(), points: vec![(0.001, 1e7), (0.05, 1e6)], style: Style::Dashed },
    ];
    let labels = Labels { title: "Goodput against loss", caption: "a test", x: "loss", y: "goodput (bit/s)" };
    std::fs::write(dir.join("log-log.svg"), log_log_svg(labels, &curves)).unwrap();
    vec![
        "ladder.svg",
        "state-diagram.svg",
        "tsg.svg",
        "series-plot.svg",
        "sweep-plot.svg",
        "measure-plot.svg",
        "log-log.svg",
    ]
}

#[test]
fn every_kind_of_picture_renders_in_librsvg() {
    if !rsvg_available("every_kind_of_picture_renders_in_librsvg") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in every_kind(dir.path()) {
        let svg = dir.path().join(name);
        let png = svg.with_extension("png");
        let out = Command::new("rsvg-convert").arg("-o").arg(&png).arg(&svg).output().expect("rsvg-convert runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && err.trim().is_empty(), "{name}: rsvg-convert failed: {err}");
        let image = Image::read(&png);
        assert!(image.width >= 300 && image.height >= 200, "{name}: {}x{} px", image.width, image.height);
        // Something is drawn on the white background: a few percent of
        // the pixels at least (titles, axes, marks).
        let drawn = image.count_unlike((0, 0, image.width, image.height), [255, 255, 255, 255]);
        let total = (image.width * image.height) as usize;
        assert!(drawn * 100 >= total, "{name}: only {drawn} of {total} pixels drawn");
    }
}

/// The reviewed copy in docs/img/ is what tcpsim draws: the ladder of
/// `regenerate.sh`'s first line, byte for byte.
#[test]
fn the_readme_ladder_is_what_tcpsim_draws() {
    let dir = tempfile::tempdir().unwrap();
    let drawn = dir.path().join("ladder.svg");
    tcpsim_ok(&["run", "sims/lost-final-ack.ron", "--seed", "1", "--quiet", "--svg", path_str(&drawn)], &[0]);
    let script = std::fs::read_to_string(root().join("docs/img/regenerate.sh")).unwrap();
    assert!(
        script.contains("run sims/lost-final-ack.ron --seed 1 --quiet --svg \"$out/lost-final-ack-ladder.svg\""),
        "docs/img/regenerate.sh no longer writes the ladder this test compares"
    );
    let reviewed = std::fs::read_to_string(root().join("docs/img/lost-final-ack-ladder.svg")).unwrap();
    let drawn = std::fs::read_to_string(&drawn).unwrap();
    if drawn != reviewed {
        let line = drawn.lines().zip(reviewed.lines()).position(|(a, b)| a != b).map_or(0, |i| i + 1);
        panic!(
            "docs/img/lost-final-ack-ladder.svg differs from what tcpsim draws now (first at line {line}). \
             If the change is intended, run `bash docs/img/regenerate.sh`, look at the pictures \
             (PNG_DIR=/tmp/png writes PNG copies) and commit docs/img/"
        );
    }
}

/// The tallest ladder any shipped sim gives stays within what renderers
/// draw (cairo and librsvg refuse surfaces above 32 767 px): the 1 MB
/// close race's ladder is cut by height, says where, and renders.
#[test]
fn the_longest_ladder_fits_a_renderer() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("ladder.svg");
    tcpsim_ok(&["run", "sims/close-race-1mb.ron", "--quiet", "--svg", path_str(&svg)], &[0]);
    let text = std::fs::read_to_string(&svg).unwrap();
    let height: f64 = text.split("height=\"").nth(1).and_then(|h| h.split('"').next()).unwrap().parse().unwrap();
    assert!(height <= 32_000.0, "{height} px tall");
    assert!(text.contains("cut after"), "the ladder says where it was cut");
    if !rsvg_available("the_longest_ladder_fits_a_renderer") {
        return;
    }
    let png = svg.with_extension("png");
    let out = Command::new("rsvg-convert").arg("-o").arg(&png).arg(&svg).output().expect("rsvg-convert runs");
    assert!(out.status.success(), "rsvg-convert failed: {}", String::from_utf8_lossy(&out.stderr));
}
