//! The report page in a real browser: headless Chromium loads a report of
//! a lossy run with several connections, its script writes where each
//! figure is (`data-box`), and a screenshot of the whole page must show
//! drawn pixels inside every one of those boxes, in each half of each.
//! That is what a person opening the page sees: no figure blank, none
//! broken by the HTML around it.
//!
//! Chromium runs with its own HOME and profile directory inside a temp
//! directory, so it writes nothing elsewhere, and is killed (its whole
//! process group) after [`SECONDS_MAX`]. The test skips with a notice when
//! `chromium` is missing, unless `TCPSIM_REQUIRE_CHROMIUM=1` (CI sets it).

#![cfg(target_os = "linux")]

use crate::util::{Image, path_str, stderr, tcpsim};
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long one Chromium run may take.
const SECONDS_MAX: u64 = 60;

/// The page's width in the browser; the column of the page is narrower,
/// so the figures are laid out as on a laptop screen.
const WIDTH: u32 = 1280;

/// The page's colour inside its column, behind the figures.
const WHITE: [u8; 4] = [255, 255, 255, 255];

fn chromium_available(test: &str) -> bool {
    let found = Command::new("chromium").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        let required = std::env::var("TCPSIM_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
        assert!(!required, "{test}: chromium is not installed, but TCPSIM_REQUIRE_CHROMIUM=1 requires it");
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped: chromium is not installed (set TCPSIM_REQUIRE_CHROMIUM=1 to make this a failure)"
        );
    }
    found
}

/// Runs headless Chromium on `page` with `args` at `WIDTH` x `height`,
/// everything it writes inside `dir`; returns its stdout.
fn chromium(dir: &Path, page: &Path, height: u32, args: &[&str]) -> String {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let (out_path, err_path) = (dir.join("chromium.out"), dir.join("chromium.err"));
    let mut child = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        .args(["--hide-scrollbars", "--no-first-run", "--disable-extensions", "--disable-sync"])
        .arg(format!("--user-data-dir={}", home.join("profile").display()))
        .arg(format!("--window-size={WIDTH},{height}"))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        // Its own process group, so a kill reaches the renderer and the
        // other helper processes too.
        .process_group(0)
        .spawn()
        .expect("chromium starts");
    // Poll rather than time: a step count bounds the wait without a clock.
    for _ in 0..SECONDS_MAX * 1000 / 20 {
        if let Some(status) = child.try_wait().unwrap() {
            let err = String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned();
            assert!(status.success(), "chromium {args:?} failed ({status}):\n{err}");
            return String::from_utf8_lossy(&std::fs::read(&out_path).unwrap()).into_owned();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
    let _ = child.wait();
    panic!("chromium {args:?} took more than {SECONDS_MAX} s");
}

/// The value of each `name="..."` attribute in `dom`, in order.
fn attributes<'a>(dom: &'a str, name: &str) -> Vec<&'a str> {
    let key = format!(" {name}=\"");
    dom.match_indices(&key)
        .map(|(at, _)| {
            let rest = &dom[at + key.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

/// A box `x,y,width,height` as the page's script writes it.
fn parse_box(text: &str) -> (u32, u32, u32, u32) {
    let v: Vec<u32> = text.split(',').map(|n| n.parse().unwrap_or_else(|_| panic!("box {text:?}"))).collect();
    assert_eq!(v.len(), 4, "box {text:?}");
    (v[0], v[1], v[2], v[3])
}

#[test]
fn every_figure_is_drawn_in_a_browser() {
    if !chromium_available("every_figure_is_drawn_in_a_browser") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    // Three transfers through one small queue: tail drops, fast
    // retransmits and timeouts; two connections drawn.
    let out = tcpsim(&["report", "sims/bottleneck-queue.ron", "--max-connections", "2", "--out", path_str(&page)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    let figures = html.matches("<div class=\"fig\">").count();
    assert!(figures >= 2 * 4, "{figures} figures for two connections");

    // Where the figures are, as the page's script found them.
    let dom = chromium(dir.path(), &page, 1000, &["--dump-dom"]);
    let boxes: Vec<(u32, u32, u32, u32)> = attributes(&dom, "data-box").into_iter().map(parse_box).collect();
    assert_eq!(boxes.len(), figures, "the script did not write every figure's box");
    let height: u32 = attributes(&dom, "data-page-height").first().expect("the page's height").parse().unwrap();
    assert!(boxes.iter().all(|b| b.1 + b.3 <= height && b.2 >= 600 && b.3 >= 200), "{boxes:?} in {height} px");

    // The whole page in one screenshot.
    let shot = dir.path().join("report.png");
    chromium(dir.path(), &page, height, &[&format!("--screenshot={}", shot.display())]);
    let image = Image::read(&shot);
    assert_eq!((image.width, image.height), (WIDTH, height));
    // The margin beside the page's column is the page's background: the
    // screenshot shows the page, not a blank surface.
    assert_ne!(image.pixel(4, 4), WHITE, "no page background in the screenshot");
    let mut blank = Vec::new();
    for (i, &(x, y, w, h)) in boxes.iter().enumerate() {
        // Inside the box, 2 px from its edges (rounding), each half holds
        // marks: at least 0.5 % of its pixels are not the background.
        for (half, top) in [("top", y + 2), ("bottom", y + h / 2)] {
            let region = (x + 2, top, w - 4, h / 2 - 2);
            let drawn = image.count_unlike(region, WHITE);
            let area = (region.2 * region.3) as usize;
            if drawn * 200 < area {
                blank.push(format!("figure {i} at {:?}: {half} half ({drawn} of {area} pixels drawn)", (x, y, w, h)));
            }
        }
    }
    if !blank.is_empty() {
        // Keep the page and the screenshot to look at.
        let kept = dir.keep();
        panic!("blank figures:\n  {}\nthe page and its screenshot are in {}", blank.join("\n  "), kept.display());
    }
}
