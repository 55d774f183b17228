//! Outputs people look at: packet captures (checked with tshark, when it
//! is installed), SVG ladders and state diagrams, the text ladder, the
//! sweep plot, and the command-line flags that write them.
//!
//! The tshark tests skip with a notice when tshark is missing, unless
//! `TCPSIM_REQUIRE_TSHARK=1` is set (CI sets it), and then fail saying so.

use crate::util::{load, root, run, sim_files, stderr, stdout, tcpsim};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tcpsim::pictures::{ladder_svg, ladder_text, state_diagram_svg, svg::check_well_formed};
use tcpsim::tcp::State;
use tcpsim::trace::TraceKind;

const LOST_FINAL_ACK: &str = "sims/lost-final-ack.ron";
const NORMAL_CLOSE: &str = "sims/normal-close.ron";

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temp dir")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

#[track_caller]
fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "stdout:\n{}\nstderr:\n{}", stdout(out), stderr(out));
}

/// Whether tshark can run; fails the test instead when CI requires it.
fn tshark_available(test: &str) -> bool {
    let found = Command::new("tshark").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        let required = std::env::var("TCPSIM_REQUIRE_TSHARK").is_ok_and(|v| v == "1");
        assert!(!required, "{test}: tshark is not installed, but TCPSIM_REQUIRE_TSHARK=1 requires it");
        // Straight to stderr: the test harness would swallow `eprintln!`
        // of a passing test, and a skip should be seen.
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped: tshark is not installed (set TCPSIM_REQUIRE_TSHARK=1 to make this a failure)"
        );
    }
    found
}

/// tshark's fields for every packet of `pcap`, one row per packet.
fn tshark_fields(pcap: &Path, filter: Option<&str>, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(pcap).args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"]);
    if let Some(f) = filter {
        cmd.args(["-Y", f]);
    }
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark runs");
    assert!(out.status.success(), "tshark failed on {}: {}", pcap.display(), stderr(&out));
    stdout(&out).lines().map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

/// `segments` sent and delivered in a sim's run, as the capture of each
/// side must hold them.
fn segment_counts(sim: &Path) -> (usize, usize) {
    let rel = sim.strip_prefix(root()).expect("sims are under the root");
    let (_, rec) = run(load(path_str(rel), &[]));
    let count = |f: fn(&TraceKind) -> bool| rec.events.iter().filter(|e| e.route.is_some() && f(&e.kind)).count();
    (count(|k| matches!(k, TraceKind::Send { .. })), count(|k| matches!(k, TraceKind::Deliver { .. })))
}

/// Every sim's capture, from either side, decodes in tshark as TCP with no
/// malformed packet and no expert error. Warnings that describe the
/// scenario (resets, retransmissions, zero windows) are expected.
#[test]
fn every_sim_captures_cleanly_in_tshark() {
    if !tshark_available("every_sim_captures_cleanly_in_tshark") {
        return;
    }
    let dir = tempdir();
    for sim in sim_files() {
        let (sent, delivered) = segment_counts(&sim);
        for (side, expected) in [("sender", sent), ("receiver", delivered)] {
            let name = sim.file_stem().expect("a file name").to_string_lossy().into_owned();
            let pcap = dir.path().join(format!("{name}-{side}.pcap"));
            let out = tcpsim(&["run", path_str(&sim), "--quiet", "--pcap", path_str(&pcap), "--pcap-side", side]);
            assert_exit(&out, 0);
            let rows =
                tshark_fields(&pcap, None, &["frame.number", "tcp.seq_raw", "_ws.expert.severity", "_ws.malformed"]);
            assert_eq!(rows.len(), expected, "{name} ({side}): packets in the capture");
            for row in &rows {
                let field = |i: usize| row.get(i).map_or("", String::as_str);
                assert!(!field(1).is_empty(), "{name} ({side}) frame {} is not decoded as TCP: {row:?}", field(0));
                assert!(field(3).is_empty(), "{name} ({side}) frame {} is malformed: {row:?}", field(0));
                for sev in field(2).split(',').filter(|s| !s.is_empty()) {
                    // Wireshark's PI_ERROR is 0x00800000.
                    let sev: u64 = sev.parse().expect("a numeric severity");
                    assert!(sev < 0x0080_0000, "{name} ({side}) frame {} has an expert error: {row:?}", field(0));
                }
            }
        }
    }
}

fn flags_of(bits: u32) -> String {
    let names = [(0x02, "SYN"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"), (0x10, "ACK")];
    let set: Vec<&str> = names.iter().filter(|(b, _)| bits & b != 0).map(|(_, n)| *n).collect();
    if set.is_empty() { "-".to_string() } else { set.join("|") }
}

/// The capture of normal-close carries exactly the trace's segments: time,
/// addresses, flags, absolute seq/ack, length and window, and the MSS
/// option on SYNs. The trace and the capture come from one run.
#[test]
fn normal_close_capture_matches_its_trace() {
    if !tshark_available("normal_close_capture_matches_its_trace") {
        return;
    }
    let dir = tempdir();
    let (pcap, trace) = (dir.path().join("nc.pcap"), dir.path().join("nc.jsonl"));
    let out = tcpsim(&["run", NORMAL_CLOSE, "--format", "jsonl", "--out", path_str(&trace), "--pcap", path_str(&pcap)]);
    assert_exit(&out, 0);
    let text = std::fs::read_to_string(&trace).expect("the trace was written");
    let sends: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .filter(|v| v["kind"] == "send")
        .collect();
    let rows = tshark_fields(
        &pcap,
        None,
        &[
            "frame.time_epoch",
            "tcp.flags",
            "tcp.seq_raw",
            "tcp.ack_raw",
            "tcp.len",
            "tcp.window_size_value",
            "tcp.options.mss_val",
            "tcp.checksum.status",
            "ip.checksum.status",
        ],
    );
    assert_eq!(rows.len(), sends.len());
    assert!(sends.len() >= 8, "a handshake, data and a four-way close");
    for (row, send) in rows.iter().zip(&sends) {
        let t_ns = send["t_ns"].as_u64().expect("t_ns");
        assert_eq!(row[0], format!("{}.{:09}", t_ns / 1_000_000_000, t_ns % 1_000_000_000), "time of {send}");
        let bits = u32::from_str_radix(row[1].trim_start_matches("0x"), 16).expect("hex flags");
        assert_eq!(flags_of(bits), send["flags"].as_str().expect("flags"), "{send}");
        assert_eq!(row[2], send["seq"].to_string(), "seq of {send}");
        let ack = if bits & 0x10 != 0 { send["ack"].to_string() } else { "0".to_string() };
        assert_eq!(row[3], ack, "ack of {send}");
        assert_eq!(row[4], send["len"].to_string(), "len of {send}");
        assert_eq!(row[5], send["wnd"].to_string(), "window of {send}");
        let syn = bits & 0x02 != 0;
        assert_eq!(!row[6].is_empty(), syn, "the MSS option is on SYNs only: {send}");
    }
    // Checksums: verified by tshark when asked to (status 1 = good, 0 = bad).
    let checked = Command::new("tshark")
        .args(["-n", "-r", path_str(&pcap), "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"])
        .args(["-T", "fields", "-e", "tcp.checksum.status", "-e", "ip.checksum.status"])
        .output()
        .expect("tshark runs");
    for line in stdout(&checked).lines() {
        assert_eq!(line, "1\t1", "a checksum is not good: {line:?} (1 = good, 0 = bad, 2 = unverified)");
    }
}

/// B-WS-01, B-TS-02: RFC 7323 options in a capture are what the trace
/// says, as tshark decodes them: MSS, the window scale shift, TSval and
/// TSecr of every packet, and the window tshark scales with the shift
/// equals the trace's `wnd_scaled`.
#[test]
fn rfc7323_options_in_the_capture_match_the_trace() {
    if !tshark_available("rfc7323_options_in_the_capture_match_the_trace") {
        return;
    }
    let dir = tempdir();
    for (sim, set) in [
        ("sims/rfc7323/paws.ron", "seed=1"),
        // 30 kB instead of 50 MB; the expectations go with the 50 MB.
        ("sims/rfc7323/window-scaling.ron", "connections[0].on_connected=[Send(bytes: 30000), Close]"),
    ] {
        let (pcap, trace) = (dir.path().join("o.pcap"), dir.path().join("o.jsonl"));
        let out = tcpsim(&[
            "run",
            sim,
            "--set",
            set,
            "--set",
            "expect=()",
            "--format",
            "jsonl",
            "--out",
            path_str(&trace),
            "--pcap",
            path_str(&pcap),
        ]);
        assert_exit(&out, 0);
        let text = std::fs::read_to_string(&trace).expect("the trace was written");
        let sends: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
            .filter(|v| v["kind"] == "send")
            .collect();
        let fields = [
            "tcp.options.mss_val",
            "tcp.options.wscale.shift",
            "tcp.options.timestamp.tsval",
            "tcp.options.timestamp.tsecr",
            "tcp.window_size",
        ];
        let rows = tshark_fields(&pcap, None, &fields);
        assert_eq!(rows.len(), sends.len(), "{sim}");
        for (row, send) in rows.iter().zip(&sends) {
            let field = |i: usize| row.get(i).map_or("", String::as_str).to_string();
            let want = |key: &str| send.get(key).map_or(String::new(), |v| v.to_string());
            assert_eq!(field(0), want("mss"), "{sim}: mss of {send}");
            assert_eq!(field(1), want("ws"), "{sim}: ws of {send}");
            assert_eq!(field(2), want("tsval"), "{sim}: tsval of {send}");
            assert_eq!(field(3), want("tsecr"), "{sim}: tsecr of {send}");
            if send.get("wnd_scaled").is_some() {
                assert_eq!(field(4), want("wnd_scaled"), "{sim}: the scaled window of {send}");
            }
        }
    }
}

/// B-SACK-01, B-SACK-03: SACK-permitted and the SACK blocks in a capture
/// are what the trace says, as tshark decodes them (its sequence numbers
/// relative to the client's ISS, 1000 in the sim).
#[test]
fn sack_options_in_the_capture_match_the_trace() {
    if !tshark_available("sack_options_in_the_capture_match_the_trace") {
        return;
    }
    let dir = tempdir();
    let (pcap, trace) = (dir.path().join("o.pcap"), dir.path().join("o.jsonl"));
    let sim = "sims/sack/three-losses.ron";
    let out = tcpsim(&["run", sim, "--format", "jsonl", "--out", path_str(&trace), "--pcap", path_str(&pcap)]);
    assert_exit(&out, 0);
    let text = std::fs::read_to_string(&trace).expect("the trace was written");
    let sends: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .filter(|v| v["kind"] == "send")
        .collect();
    let rows = tshark_fields(&pcap, None, &["tcp.options.sack_perm", "tcp.options.sack_le", "tcp.options.sack_re"]);
    assert_eq!(rows.len(), sends.len());
    let mut with_blocks = 0;
    for (row, send) in rows.iter().zip(&sends) {
        let field = |i: usize| row.get(i).map_or("", String::as_str).to_string();
        assert_eq!(!field(0).is_empty(), send.get("sack_ok").is_some(), "sack_ok of {send}");
        let blocks = send.get("sack").and_then(|b| b.as_array()).cloned().unwrap_or_default();
        let edges = |k: usize| {
            blocks.iter().map(|b| (b[k].as_u64().expect("an edge") - 1000).to_string()).collect::<Vec<_>>().join(",")
        };
        assert_eq!((field(1), field(2)), (edges(0), edges(1)), "blocks of {send}");
        with_blocks += usize::from(!blocks.is_empty());
    }
    assert!(with_blocks >= 3, "the sim's ACKs carry blocks");
}

/// B-SACK-12, RFC 9293 §3.7.1, RFC 6691 §2: no segment in the capture of
/// sims/sack/two-way.ron is oversized. tshark's TCP header length (20 +
/// the options) less 20, plus the payload, never exceeds the MSS each
/// side advertised (1000), and the client's data segments with SACK
/// blocks are among them (a header of 32 bytes or more).
#[test]
fn two_way_sack_capture_has_no_oversized_segment() {
    if !tshark_available("two_way_sack_capture_has_no_oversized_segment") {
        return;
    }
    let dir = tempdir();
    let pcap = dir.path().join("two-way.pcap");
    let out = tcpsim(&["run", "sims/sack/two-way.ron", "--quiet", "--pcap", path_str(&pcap)]);
    assert_exit(&out, 0);
    let rows = tshark_fields(&pcap, None, &["frame.number", "tcp.hdr_len", "tcp.len", "tcp.options.sack_le"]);
    assert!(rows.len() > 40, "the whole run is captured");
    let mut data_with_blocks = 0;
    for row in &rows {
        let num = |i: usize| row[i].parse::<u32>().unwrap_or_else(|_| panic!("a number in {row:?}"));
        let (hdr, len) = (num(1), num(2));
        assert!(hdr - 20 + len <= 1000, "frame {} is oversized: {row:?}", row[0]);
        if len > 0 && !row.get(3).map_or("", String::as_str).is_empty() {
            data_with_blocks += 1;
            assert!(hdr >= 32, "{row:?}");
        }
    }
    assert!(data_with_blocks >= 10, "data segments with SACK blocks: {data_with_blocks}");
}

/// Wireshark's own analysis sees what the sim is about: the server's FIN,
/// sent again after the final ACK was lost, is a retransmission.
#[test]
fn wireshark_flags_the_retransmitted_fin_of_lost_final_ack() {
    if !tshark_available("wireshark_flags_the_retransmitted_fin_of_lost_final_ack") {
        return;
    }
    let dir = tempdir();
    for side in ["sender", "receiver"] {
        let pcap = dir.path().join(format!("lfa-{side}.pcap"));
        let out = tcpsim(&["run", LOST_FINAL_ACK, "--quiet", "--pcap", path_str(&pcap), "--pcap-side", side]);
        assert_exit(&out, 0);
        let rows = tshark_fields(
            &pcap,
            Some("tcp.analysis.retransmission"),
            &["frame.time_epoch", "tcp.flags.fin", "tcp.srcport"],
        );
        let when = if side == "sender" { "1.060000000" } else { "1.070000000" };
        assert_eq!(rows, vec![vec![when.to_string(), "1".to_string(), "80".to_string()]], "{side}");
    }
}

// ---------------------------------------------------------------------------
// SVG pictures.

/// The `<g class="...">` groups of a picture with their attribute text.
fn groups<'a>(svg: &'a str, class: &str) -> Vec<&'a str> {
    let needle = format!(r#"<g class="{class}"#);
    svg.match_indices(&needle).map(|(i, _)| &svg[i..i + svg[i..].find("</g>").expect("closed group")]).collect()
}

fn lost_final_ack_ladder() -> String {
    let (_, rec) = run(load(LOST_FINAL_ACK, &[]));
    ladder_svg(&rec.events, 0, "lost-final-ack")
}

#[test]
fn the_lost_final_ack_ladder_shows_the_loss_the_retransmission_and_the_restart() {
    let svg = lost_final_ack_ladder();
    check_well_formed(&svg).unwrap_or_else(|e| panic!("not well-formed: {e}"));
    // The final ACK ends in a cross: its group has the line and two strokes.
    let lost = groups(&svg, "segment lost");
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert!(lost[0].contains(r#"data-label="ACK seq=102 ack=2 lost: rule""#), "{}", lost[0]);
    assert_eq!(lost[0].matches("<line ").count(), 3, "a line and a cross: {}", lost[0]);
    assert!(!lost[0].contains("marker-end"), "a lost segment has no arrowhead");
    // The server's FIN, retransmitted, styled apart and labelled.
    let rexmit = groups(&svg, "segment retransmit");
    assert_eq!(rexmit.len(), 1);
    assert!(rexmit[0].contains(r#"data-label="FIN|ACK seq=1 ack=102 retransmit""#), "{}", rexmit[0]);
    assert!(rexmit[0].contains("stroke-dasharray"));
    assert!(svg.contains(">FIN|ACK seq=1 ack=102 retransmit</text>"));
    // Timers of interest and the states on each timeline.
    let timers: String = groups(&svg, "note timer").concat();
    for t in ["TIME_WAIT start 4000 ms", "TIME_WAIT restart 4000 ms", "RETRANSMIT fire", "TIME_WAIT fire"] {
        assert!(timers.contains(&format!(">{t}</text>")), "timer note {t:?} missing");
    }
    let states: String = groups(&svg, "note state").concat();
    for s in ["SYN_SENT", "TIME_WAIT", "LAST_ACK", "CLOSE_WAIT", "CLOSED"] {
        assert!(states.contains(&format!(">{s}</text>")), "state {s} missing");
    }
    // The RTO and the rest of TIME_WAIT are cut out and labelled.
    assert!(svg.contains("\u{2026} 990 ms idle \u{2026}"), "the wait for the RTO is compressed");
    assert!(svg.contains("\u{2026} 3990 ms idle \u{2026}"), "the rest of 2MSL is compressed");
    assert!(svg.contains("relative to each end&apos;s ISN"), "the legend explains the numbers");
}

/// sims/sack/three-losses.ron: the client (ISN 1000) sends 5001..13001 at
/// 80 ms, relative 4001..12001, and 7001, 9001 and 11001 (relative 6001,
/// 8001, 10001) are dropped. At 100 ms the server acknowledges relative
/// 6001 three times, each ACK SACKing the segment that just arrived first,
/// then the earlier blocks (RFC 2018 §4): 7001-8001, then 9001-10001 and
/// 7001-8001, then 11001-12001, 9001-10001 and 7001-8001.
#[test]
fn the_ladders_of_three_losses_show_the_sack_blocks() {
    let (_, rec) = run(load("sims/sack/three-losses.ron", &[]));
    let acks = [
        "ACK seq=1 ack=6001 sack 7001-8001",
        "ACK seq=1 ack=6001 sack 9001-10001,7001-8001",
        "ACK seq=1 ack=6001 sack 11001-12001,9001-10001,7001-8001",
    ];
    let text = ladder_text(&rec.events, 0, false);
    assert_lines_in_order(
        &text,
        &[
            "|--- ACK seq=6001 ack=1 len=1000 lost: rule X",
            "|--- ACK seq=8001 ack=1 len=1000 lost: rule X",
            "|--- ACK seq=10001 ack=1 len=1000 lost: rule X",
            &format!(" {} ---|", acks[0]),
            &format!(" {} ---|", acks[1]),
            &format!(" {} ---|", acks[2]),
        ],
    );
    assert!(!text.contains("dsack"), "no segment arrived twice");
    let svg = ladder_svg(&rec.events, 0, "three-losses");
    check_well_formed(&svg).unwrap_or_else(|e| panic!("not well-formed: {e}"));
    for a in acks {
        assert!(svg.contains(&format!(r#"data-label="{a}""#)), "{a}");
        assert!(svg.contains(&format!(">{a}</text>")), "{a}");
    }
    assert!(svg.contains("sack: SACK blocks (RFC 2018)"), "the legend explains the blocks");
    assert!(!lost_final_ack_ladder().contains("sack"), "a ladder without blocks has no such legend line");
}

#[test]
fn every_sim_gives_well_formed_pictures() {
    for sim in sim_files() {
        let rel = sim.strip_prefix(root()).expect("under the root").to_path_buf();
        let (world, rec) = run(load(path_str(&rel), &[]));
        let conns = world.model().connection_count() as u32;
        for conn in 0..conns {
            let svg = ladder_svg(&rec.events, conn, &format!("{} <&> {conn}", rel.display()));
            check_well_formed(&svg).unwrap_or_else(|e| panic!("{} conn {conn}: {e}", rel.display()));
            assert!(!ladder_text(&rec.events, conn, true).is_empty());
        }
        let states = state_diagram_svg(&world.stats().transitions_by, "t");
        check_well_formed(&states).unwrap_or_else(|e| panic!("{}: {e}", rel.display()));
    }
}

#[test]
fn pictures_are_a_function_of_the_trace() {
    assert_eq!(lost_final_ack_ladder(), lost_final_ack_ladder());
    let (_, rec) = run(load("sims/lossy-transfer.ron", &[]));
    assert_eq!(ladder_svg(&rec.events, 0, "x"), ladder_svg(&rec.events.clone(), 0, "x"));
}

/// `(from, to) -> count` of the transition groups of a state diagram.
fn drawn_counts(svg: &str) -> Vec<(String, String, u64)> {
    groups(svg, "transition")
        .iter()
        .map(|g| {
            let attr = |name: &str| {
                let start = g.find(&format!(r#"{name}=""#)).expect("attribute") + name.len() + 2;
                g[start..start + g[start..].find('"').expect("closing quote")].to_string()
            };
            (attr("data-from"), attr("data-to"), attr("data-count").parse().expect("a count"))
        })
        .collect()
}

#[test]
fn the_state_diagram_shows_every_count_of_the_run() {
    let (world, _) = run(load(LOST_FINAL_ACK, &[]));
    let t = world.stats().transitions_by;
    let svg = state_diagram_svg(&t, "lost-final-ack");
    check_well_formed(&svg).unwrap();
    let drawn = drawn_counts(&svg);
    assert!(drawn.len() >= 27, "every RFC transition is drawn, taken or not: {}", drawn.len());
    for (from, to, count) in &drawn {
        let (f, t2) = (State::parse(from).expect("a state"), State::parse(to).expect("a state"));
        assert_eq!(*count, t[f as usize][t2 as usize], "{from} -> {to}");
    }
    // Every transition that happened is on the picture.
    let happened: u64 = t.iter().flatten().sum();
    assert_eq!(drawn.iter().map(|(_, _, c)| c).sum::<u64>(), happened);
    assert!(drawn.contains(&("LAST_ACK".into(), "CLOSED".into(), 1)));
    assert!(drawn.contains(&("FIN_WAIT_1".into(), "TIME_WAIT".into(), 1)));
    // Transitions that never happened are faint and dashed.
    let closing =
        groups(&svg, "transition").into_iter().find(|g| g.contains(r#"data-from="FIN_WAIT_1" data-to="CLOSING""#));
    assert!(closing.expect("FIN_WAIT_1 -> CLOSING is drawn").contains("stroke-dasharray"));
}

// ---------------------------------------------------------------------------
// The text ladder.

/// Asserts that `lines` appear in `text` in this order (each a substring
/// of a later line than the previous one).
#[track_caller]
fn assert_lines_in_order(text: &str, lines: &[&str]) {
    let mut rest = text.lines();
    for want in lines {
        assert!(rest.any(|l| l.contains(want)), "missing, or out of order: {want:?}\n{text}");
    }
}

#[test]
fn the_text_ladder_of_lost_final_ack_reads_like_the_story() {
    let (_, rec) = run(load(LOST_FINAL_ACK, &[]));
    let text = ladder_text(&rec.events, 0, false);
    assert_lines_in_order(
        &text,
        &[
            "# ladder of connection 0: client 10.0.0.1:49152 | server 10.0.0.2:80",
            "time_ms  client",
            "CLOSED",
            "0.000  SYN_SENT",
            "|--- SYN seq=0 ---",
            "|<------------------- SYN|ACK seq=0 ack=1 ---|",
            "50.000  FIN_WAIT_1",
            "|--- FIN|ACK seq=101 ack=1 ---",
            "|  LAST_ACK",
            "70.000  TIME_WAIT ",
            "|--- ACK seq=102 ack=2 lost: rule X",
            "~~ 990 ms idle ~~",
            "|  RETRANSMIT fire",
            "@1070.000 |<====== FIN|ACK seq=1 ack=102 retransmit ===|",
            "1070.000  TIME_WAIT restart 4000 ms",
            "|--- ACK seq=102 ack=2 ---",
            "|  CLOSED",
            "~~ 3990 ms idle ~~",
            "5070.000  CLOSED",
        ],
    );
    assert!(!text.contains('\u{1b}'), "no colour unless asked");
    assert!(ladder_text(&rec.events, 0, true).contains("\u{1b}["), "colour when asked");
    assert!(text.lines().all(|l| l == l.trim_end()), "no trailing blanks");
}

#[test]
fn format_ladder_prints_the_ladder_then_expectations_and_digest() {
    let out = tcpsim(&["run", LOST_FINAL_ACK, "--format", "ladder"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert_lines_in_order(&text, &["# tcpsim ", "# ladder of connection 0", "lost: rule X", "expect ok", "digest: "]);
    assert!(!text.contains("ladder of connection 1"), "an idle listener gets no ladder");
    let text_digest = stdout(&tcpsim(&["run", LOST_FINAL_ACK])).lines().last().map(str::to_string);
    assert_eq!(text.lines().last().map(str::to_string), text_digest, "the same digest as the text trace");
}

#[test]
fn format_ladder_respects_the_filters() {
    let ladder = |extra: &[&str]| {
        let mut args = vec!["run", LOST_FINAL_ACK, "--format", "ladder"];
        args.extend_from_slice(extra);
        let out = tcpsim(&args);
        assert_exit(&out, 0);
        // The ladder only: expectation lines name flags and times too.
        let text = stdout(&out);
        text.split("\nexpect ").next().unwrap_or_default().to_string()
    };
    let later = ladder(&["--from-ms", "1000"]);
    assert!(!later.contains("SYN seq=0") && later.contains("retransmit"), "{later}");
    let early = ladder(&["--to-ms", "30"]);
    assert!(early.contains("SYN seq=0") && !early.contains("FIN|ACK"), "{early}");
    let client = ladder(&["--endpoint", "client"]);
    assert!(client.contains("TIME_WAIT restart") && !client.contains("LAST_ACK"), "{client}");
    let sends = ladder(&["--kinds", "send"]);
    assert!(sends.contains("SYN seq=0") && !sends.contains("SYN_SENT") && !sends.contains("@10.000"), "{sends}");
    let quiet = stdout(&tcpsim(&["run", LOST_FINAL_ACK, "--format", "ladder", "--quiet"]));
    assert!(!quiet.contains("ladder of") && quiet.contains("digest: "), "{quiet}");
    let conn1 = ladder(&["--conn", "1"]);
    assert!(conn1.contains("ladder of connection 1") && !conn1.contains("ladder of connection 0"), "{conn1}");
}

/// A ladder of a window that starts after the handshake still shows
/// sequence numbers relative to each end's ISN, as its header says, and
/// names both ISNs: it learns them from the whole run, not the window.
/// `normal-close.ron` fixes the ISS (client 1000, server 5000); the client
/// sends 1000 bytes, so its FIN is byte 1001 (RFC 9293 §3.4: the SYN takes
/// number ISN, the first data byte ISN+1).
#[test]
fn a_ladder_window_after_the_syns_keeps_relative_numbers() {
    let out = tcpsim(&["run", "sims/normal-close.ron", "--format", "ladder", "--from-ms", "50"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("relative to each end's ISN (client=1000 server=5000)"), "{text}");
    assert!(!text.contains("=-"), "{text}");
    assert!(text.contains("FIN|ACK seq=1001 ack=1 "), "{text}");
    assert!(text.contains("ACK seq=1 ack=1002 "), "{text}");
    assert!(!text.contains("seq=2001") && !text.contains("seq=5001"), "absolute numbers:\n{text}");
    // A window with no segment of a side's still names what it knows.
    let late = stdout(&tcpsim(&["run", "sims/normal-close.ron", "--format", "ladder", "--from-ms", "90"]));
    assert!(!late.contains("=-"), "{late}");
}

/// A window of `normal-close.ron` (fixed link delay 10 ms; the server
/// closes 50 ms after its connection is established at 30 ms, so its FIN
/// leaves at 80 ms and arrives at 90 ms) keeps the columns of the whole
/// run: the client, which connects, on the left, even when the window
/// starts with the server's FIN; a segment delivered after the window is
/// not "in flight"; under `--endpoint` the peer keeps its name; a window
/// without segments says so.
#[test]
fn a_ladder_window_keeps_the_run_s_columns_and_names() {
    let ladder = |extra: &[&str]| {
        let mut args = vec!["run", "sims/normal-close.ron", "--format", "ladder"];
        args.extend_from_slice(extra);
        let out = tcpsim(&args);
        assert_exit(&out, 0);
        stdout(&out).split("\nexpect ").next().unwrap_or_default().to_string()
    };
    let fin = ladder(&["--from-ms", "75", "--to-ms", "85"]);
    assert!(fin.contains("# ladder of connection 0: client 10.0.0.1:49152 | server 10.0.0.2:80"), "{fin}");
    assert!(fin.lines().any(|l| l.trim_start().starts_with("time_ms  client")), "{fin}");
    assert!(fin.contains("FIN|ACK"), "{fin}");
    assert!(!fin.contains("in flight"), "delivered at 90 ms:\n{fin}");
    let client = ladder(&["--from-ms", "85", "--to-ms", "95", "--endpoint", "client"]);
    assert!(client.contains("# ladder of connection 0: client 10.0.0.1:49152 | server 10.0.0.2:80"), "{client}");
    let none = ladder(&["--from-ms", "200", "--to-ms", "300"]);
    assert!(none.contains("no segments between 200 and 300 ms"), "{none}");
    assert!(!none.contains("ladder of connection"), "{none}");
    let none = ladder(&["--from-ms", "200", "--to-ms", "300", "--conn", "0"]);
    assert!(none.contains("no segments between 200 and 300 ms"), "{none}");
}

// ---------------------------------------------------------------------------
// The command line.

#[test]
fn run_writes_all_pictures_and_the_capture_in_one_run() {
    let dir = tempdir();
    let p = |n: &str| dir.path().join(n);
    let out = tcpsim(&[
        "run",
        LOST_FINAL_ACK,
        "--out",
        path_str(&p("trace.txt")),
        "--pcap",
        path_str(&p("c.pcap")),
        "--svg",
        path_str(&p("ladder.svg")),
        "--state-diagram",
        path_str(&p("states.svg")),
    ]);
    assert_exit(&out, 0);
    let ladder = std::fs::read_to_string(p("ladder.svg")).expect("the ladder");
    assert_eq!(ladder, ladder_svg(&run(load(LOST_FINAL_ACK, &[])).1.events, 0, "lost-final-ack: connection 0, seed 1"));
    let states = std::fs::read_to_string(p("states.svg")).expect("the state diagram");
    check_well_formed(&states).unwrap();
    assert!(drawn_counts(&states).contains(&("TIME_WAIT".into(), "CLOSED".into(), 1)));
    let pcap = std::fs::read(p("c.pcap")).expect("the capture");
    assert_eq!(&pcap[..4], &[0x4d, 0x3c, 0xb2, 0xa1], "nanosecond pcap");
    // The trace is unchanged by the extra outputs.
    let plain = stdout(&tcpsim(&["run", LOST_FINAL_ACK]));
    assert_eq!(std::fs::read_to_string(p("trace.txt")).expect("the trace"), plain);
    // Identical runs, identical files.
    let again = tcpsim(&["run", LOST_FINAL_ACK, "--quiet", "--pcap", path_str(&p("c2.pcap"))]);
    assert_exit(&again, 0);
    assert_eq!(std::fs::read(p("c2.pcap")).expect("the capture"), pcap);
}

#[test]
fn svg_draws_the_connection_given_by_conn() {
    let dir = tempdir();
    let svg = dir.path().join("c.svg");
    let out =
        tcpsim(&["run", "sims/rst-in-synchronized-states.ron", "--quiet", "--conn", "2", "--svg", path_str(&svg)]);
    assert_exit(&out, 0);
    let text = std::fs::read_to_string(&svg).expect("written");
    assert!(text.contains("connection 2"), "{}", &text[..300]);
}

/// The names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn bad_output_paths_are_bad_input_and_leave_nothing() {
    let dir = tempdir();
    let missing = dir.path().join("no-such-dir").join("x.svg");
    let ok = dir.path().join("ok.pcap");
    for (flag, extra) in [("--svg", "--pcap"), ("--pcap", "--svg"), ("--state-diagram", "--pcap")] {
        let out = tcpsim(&["run", NORMAL_CLOSE, "--quiet", flag, path_str(&missing), extra, path_str(&ok)]);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(flag), "{flag}: {}", stderr(&out));
        assert_eq!(entries(dir.path()), Vec::<String>::new(), "{flag}: nothing is written");
    }
    let same = dir.path().join("same.svg");
    let out = tcpsim(&["run", NORMAL_CLOSE, "--svg", path_str(&same), "--state-diagram", path_str(&same)]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("both name"), "{}", stderr(&out));
    let out = tcpsim(&["run", NORMAL_CLOSE, "--svg", NORMAL_CLOSE]);
    assert_exit(&out, 2);
    let out = tcpsim(&["run", NORMAL_CLOSE, "--pcap-side", "receiver"]);
    assert_exit(&out, 2);
    assert_eq!(entries(dir.path()), Vec::<String>::new());
}

#[test]
fn a_connection_out_of_range_is_bad_input() {
    let dir = tempdir();
    let svg = dir.path().join("x.svg");
    let out = tcpsim(&["run", NORMAL_CLOSE, "--conn", "99", "--svg", path_str(&svg)]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("--conn 99"), "{}", stderr(&out));
    assert!(!svg.exists());
}

#[test]
fn a_failed_run_or_write_leaves_no_picture() {
    let dir = tempdir();
    let svg = dir.path().join("x.svg");
    let pcap = dir.path().join("x.pcap");
    let out = tcpsim(&[
        "run",
        LOST_FINAL_ACK,
        "--quiet",
        "--max-events",
        "3",
        "--svg",
        path_str(&svg),
        "--pcap",
        path_str(&pcap),
    ]);
    assert_exit(&out, 3);
    assert_eq!(entries(dir.path()), Vec::<String>::new(), "no file, no temp file");
    if Path::new("/dev/full").exists() {
        let out =
            tcpsim(&["run", "sims/lossy-transfer.ron", "--quiet", "--pcap", "/dev/full", "--svg", path_str(&svg)]);
        assert_exit(&out, 3);
        assert!(stderr(&out).contains("--pcap"), "{}", stderr(&out));
        assert_eq!(entries(dir.path()), Vec::<String>::new());
    }
}

#[test]
fn sweep_draws_the_summed_transitions() {
    let dir = tempdir();
    let svg = dir.path().join("s.svg");
    let csv = dir.path().join("s.csv");
    let out = tcpsim(&[
        "sweep",
        NORMAL_CLOSE,
        "--loss",
        "0,0.1",
        "--seeds",
        "5",
        "--jobs",
        "2",
        "--out",
        path_str(&csv),
        "--state-diagram",
        path_str(&svg),
    ]);
    assert!(out.status.code() == Some(0) || out.status.code() == Some(1), "{}", stderr(&out));
    let text = std::fs::read_to_string(&svg).expect("written");
    check_well_formed(&text).unwrap();
    let drawn = drawn_counts(&text);
    // Ten runs, each opening one connection actively and one passively.
    assert!(drawn.contains(&("CLOSED".into(), "SYN_SENT".into(), 10)), "{drawn:?}");
    assert!(drawn.contains(&("CLOSED".into(), "LISTEN".into(), 10)), "{drawn:?}");
    assert!(text.contains("state transitions over 10 runs"));
    // The CSV is the same with or without the picture.
    let csv2 = dir.path().join("s2.csv");
    let plain = tcpsim(&["sweep", NORMAL_CLOSE, "--loss", "0,0.1", "--seeds", "5", "--out", path_str(&csv2)]);
    assert_eq!(plain.status.code(), out.status.code());
    assert_eq!(std::fs::read(&csv).expect("csv"), std::fs::read(&csv2).expect("csv"));
    // A bad path is bad input, before any run.
    let bad: PathBuf = dir.path().join("nope").join("s.svg");
    let out = tcpsim(&["sweep", NORMAL_CLOSE, "--seeds", "2", "--state-diagram", path_str(&bad)]);
    assert_exit(&out, 2);
}

#[test]
fn sweep_plot_is_a_well_formed_picture() {
    let dir = tempdir();
    let plot = dir.path().join("p.svg");
    let out = tcpsim(&[
        "sweep",
        NORMAL_CLOSE,
        "--loss",
        "0,0.05,0.2",
        "--seeds",
        "4",
        "--out",
        path_str(&dir.path().join("p.csv")),
        "--plot",
        path_str(&plot),
    ]);
    assert!(out.status.code() == Some(0) || out.status.code() == Some(1), "{}", stderr(&out));
    let text = std::fs::read_to_string(&plot).expect("written");
    check_well_formed(&text).unwrap();
    for want in ["Sweep outcomes by loss", "fraction of runs", "clean_close", "visited_time_wait", ">0.20</text>"] {
        assert!(text.contains(want), "{want:?} missing");
    }
}
