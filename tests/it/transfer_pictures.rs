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
    // The handshake's segments leave at 0, 10 and 20 ms; the data at 40 ms.
    assert_eq!(ladder_labels(&svg), ["SYN seq=0", "SYN|ACK seq=0 ack=1", "ACK seq=1 ack=1"], "{svg}");
}
