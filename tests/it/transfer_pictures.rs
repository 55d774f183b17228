//! Pictures of a transfer from the command line: `run --svg`, `--tsg` and
//! `--series-plot` with `--from-ms/--to-ms`, `--conn` and `--endpoint`.
//! Expected marks are reasoned from each scenario's script and faults.

use crate::util::{stderr, stdout, tcpsim};
use std::path::Path;
use tcpsim::pictures::svg::check_well_formed;

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// Runs `tcpsim run` with `args` and then `flag PATH`; returns the picture.
#[track_caller]
fn picture(args: &[&str], flag: &str) -> String {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("p.svg");
    let mut all: Vec<&str> = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--quiet", flag, path_str(&file)]);
    let out = tcpsim(&all);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{}\nstderr:\n{}", stdout(&out), stderr(&out));
    let svg = std::fs::read_to_string(&file).expect("the picture was written");
    check_well_formed(&svg).unwrap_or_else(|e| panic!("not well-formed: {e}"));
    svg
}

/// The `data-label`s of the ladder's segment arrows, in order.
fn ladder_labels(svg: &str) -> Vec<&str> {
    svg.match_indices("data-label=\"")
        .map(|(i, m)| {
            let rest = &svg[i + m.len()..];
            &rest[..rest.find('"').expect("closed attribute")]
        })
        .collect()
}

/// lost-final-ack: the client's SYN leaves at 0 ms and the handshake ends
/// at 30 ms; the server's FIN is retransmitted at 1060 ms and the client's
/// second ACK of it leaves at 1070 ms. A ladder from 1000 ms shows those
/// two segments only, numbered relative to the ISNs of the handshake it
/// no longer shows.
#[test]
fn svg_ladder_honours_the_time_window() {
    let svg = picture(&["sims/lost-final-ack.ron", "--from-ms", "1000"], "--svg");
    assert_eq!(ladder_labels(&svg), ["FIN|ACK seq=1 ack=102 retransmit", "ACK seq=102 ack=2"], "{svg}");
    let svg = picture(&["sims/lost-final-ack.ron", "--to-ms", "25"], "--svg");
    assert!(svg.contains("lost-final-ack: connection 0, seed 1, up to 25 ms"));
    // The handshake's segments leave at 0, 10 and 20 ms; the data at 40 ms.
    assert_eq!(ladder_labels(&svg), ["SYN seq=0", "SYN|ACK seq=0 ack=1", "ACK seq=1 ack=1"], "{svg}");
}

/// The `d` attribute of the path of class `class`, if drawn.
fn path_of<'a>(svg: &'a str, class: &str) -> Option<&'a str> {
    let needle = format!("class=\"{class}\" d=\"");
    let rest = &svg[svg.find(&needle)? + needle.len()..];
    Some(&rest[..rest.find('"').expect("closed attribute")])
}

/// How many marks the path of class `class` draws: bars start with `M`,
/// and a cross (a loss) is drawn `l7 7` (a line along a tall merged
/// range adds an `M`, not a cross).
fn marks(svg: &str, class: &str) -> usize {
    let glyph = if class == "tsg-drop" { "l7 7" } else { "M" };
    path_of(svg, class).map_or(0, |d| d.matches(glyph).count())
}

/// rto-backoff, connection 1 (client_c, found by --endpoint alone): the
/// first 1000 bytes leave at 100 ms into a partition that lasts until
/// 15000 ms, so they are lost and retransmitted at 1100, 3100, 7100 (lost
/// too) and 15100 ms; the second 1000 bytes leave at 20000 ms, are dropped
/// by the file's fault and retransmitted at 36000 ms.
#[test]
fn tsg_marks_the_sends_losses_and_retransmissions_inside_the_window() {
    let args = ["sims/rto-backoff.ron", "--endpoint", "client_c"];
    let svg = picture(&args, "--tsg");
    assert!(svg.contains("time-sequence graph of connection 1"), "--endpoint chose the connection");
    assert!(svg.contains("data sent by client_c"));
    assert_eq!(marks(&svg, "tsg-data"), 2);
    assert_eq!(marks(&svg, "tsg-retransmit"), 5);
    assert_eq!(marks(&svg, "tsg-drop"), 5);
    let windowed = [&args[..], &["--from-ms", "2000", "--to-ms", "30000"]].concat();
    let svg = picture(&windowed, "--tsg");
    assert!(svg.contains("2000 ms to 30000 ms"));
    assert_eq!(marks(&svg, "tsg-data"), 1, "the send at 20000 ms");
    assert_eq!(marks(&svg, "tsg-retransmit"), 3, "3100, 7100 and 15100 ms");
    assert_eq!(marks(&svg, "tsg-drop"), 3, "3100 and 7100 ms (partition), 20000 ms (fault)");
    assert!(!svg.contains("class=\"tsg-syn\"><circle"), "the SYN at 0 ms is outside");
    let ladder = picture(&args, "--svg");
    assert!(ladder.contains("rto-backoff: connection 1"), "--endpoint chose the ladder's connection too");
    // The trace filter's kinds do not starve the picture.
    let only_states = [&windowed[..], &["--kinds", "transition"]].concat();
    assert_eq!(picture(&only_states, "--tsg"), svg);
}

/// A SACK connection's graph has the peer's SACK blocks.
#[test]
fn tsg_of_a_sack_transfer_shows_sack_blocks() {
    let svg = picture(&["sims/sack/three-losses.ron"], "--tsg");
    assert!(marks(&svg, "tsg-sack") >= 3, "{svg}");
    assert_eq!(marks(&svg, "tsg-retransmit"), 3);
    let plain = picture(&["sims/fast-retransmit.ron"], "--tsg");
    assert_eq!(marks(&plain, "tsg-sack"), 0);
}

/// The x tick labels of a picture (the `text` elements under the axis).
fn has_label(svg: &str, label: &str) -> bool {
    svg.contains(&format!(">{label}</text>"))
}

#[test]
fn series_plot_honours_the_endpoint_and_the_window() {
    let svg = picture(&["sims/rto-backoff.ron", "--endpoint", "client_c"], "--series-plot");
    assert_eq!(svg.matches("class=\"series-cwnd\"").count(), 1, "one endpoint");
    assert!(svg.contains("client_c (connection 1"));
    let args = ["sims/rto-backoff.ron", "--endpoint", "client_c", "--from-ms", "2000", "--to-ms", "30000"];
    let svg = picture(&args, "--series-plot");
    // The time axis spans the window: 5000 to 30000 in steps of 5000.
    assert!(has_label(&svg, "5000") && has_label(&svg, "25000") && has_label(&svg, "30000"), "{svg}");
    assert!(!has_label(&svg, "35000") && !has_label(&svg, "40000"));
    let all = picture(&["sims/lossy-transfer.ron"], "--series-plot");
    assert!(all.contains("client (connection 0") && all.contains("server (connection 0"));
}

/// A scenario sending `bytes` over a fast, lossy, reordering link with
/// SACK: many segments, and the longest ladder labels.
fn bulk_file(dir: &Path, bytes: u64) -> std::path::PathBuf {
    let text = format!(
        r#"(
    name: "bulk",
    seed: 1,
    tcp: (msl_ms: 100, window_scale: 7, recv_buffer_bytes: 4000000, sack: true, timestamps: true),
    hosts: [(name: "a"), (name: "b")],
    links: [(between: ("a", "b"), delay_ms: 5, loss: 0.02, reorder: 0.05, reorder_delay_ms: 3, duplicate: 0.01)],
    listeners: [(name: "server", host: "b", port: 80, on_end_of_stream: [Close])],
    connections: [
        (name: "client", host: "a", remote_host: "b", remote_port: 80,
         script: [Connect(at_ms: 0)], on_connected: [Send(bytes: {bytes}), Close]),
    ],
)
"#
    );
    let path = dir.join("bulk.ron");
    std::fs::write(&path, text).expect("written");
    path
}

/// A multi-megabyte transfer gives pictures far under 5 MB: the graph and
/// the plot merge what falls within a pixel (and say so), the ladder stops
/// at its arrow budget. The README's figures: for 20 MB, the graph and
/// the plot under 200 KB each.
#[test]
fn pictures_of_a_big_transfer_stay_under_five_megabytes() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let sim = bulk_file(dir.path(), 20_000_000);
    for (flag, bound) in [("--tsg", 200_000), ("--series-plot", 200_000), ("--svg", 5_000_000)] {
        let svg = picture(&[path_str(&sim)], flag);
        assert!(svg.len() < bound, "{flag}: {} bytes", svg.len());
        if flag != "--svg" {
            assert!(svg.contains("marks merged below one pixel"), "{flag}");
        }
    }
}

/// A window cuts arrows at its edges, and the legend says what those cut
/// arrows are. lost-final-ack's SYN,ACK leaves at 10 ms and arrives at
/// 20 ms; the handshake ACK leaves at 20 ms and arrives at 30 ms. From 15
/// to 25 ms the first is seen arriving only (sent before the window), the
/// second leaving only (arrives after it). The whole run has neither.
#[test]
fn svg_ladder_legend_explains_arrows_cut_by_the_window() {
    let (before, after) = ("sent before the window", "arrives after the window");
    let svg = picture(&["sims/lost-final-ack.ron", "--from-ms", "15", "--to-ms", "25"], "--svg");
    assert!(svg.contains(before) && svg.contains(after), "{svg}");
    let svg = picture(&["sims/lost-final-ack.ron"], "--svg");
    assert!(!svg.contains(before) && !svg.contains(after));
}
