//! Measures checked against what the trace says: `sweep --measure`
//! columns against per-seed `run --format jsonl` replays, `--connections`
//! against the segments and deliveries of a lossy transfer, and the
//! measurement records against the pinned digests.

use crate::util::{load, root, stderr, stdout, tcpsim};
use serde_json::Value;
use tcpsim::simulation::Simulation;
use tcpsim::trace::NullSink;

/// The JSONL trace of one run, as values.
fn jsonl(args: &[&str]) -> Vec<Value> {
    let o = tcpsim(args);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o).lines().map(|l| serde_json::from_str(l).expect("a JSON record")).collect()
}

/// CSV rows after the comments, as (header, rows of fields).
fn csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<String> = lines.next().expect("a header").split(',').map(str::to_string).collect();
    let rows = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// The measure column of a sweep says, for each seed, what that seed's
/// own trace says: whether the client entered CLOSING, and the server's
/// retransmissions (its `send` records with `retransmit`).
#[test]
fn sweep_measure_columns_match_per_seed_replays() {
    let o = tcpsim(&[
        "sweep",
        "sims/close-race-1mb.ron",
        "--seeds",
        "4",
        "--measure",
        "client_closing=visited(client, CLOSING)",
        "--measure",
        "server_rtx=retransmissions(server)",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, rows) = csv(&stdout(&o));
    let (seed, closing, rtx) = (col(&header, "seed"), col(&header, "client_closing"), col(&header, "server_rtx"));
    assert_eq!(rows.len(), 4);
    for row in rows {
        let trace = jsonl(&["run", "sims/close-race-1mb.ron", "--seed", &row[seed], "--format", "jsonl"]);
        let client_closing =
            trace.iter().any(|r| r["kind"] == "transition" && r["endpoint"] == "client" && r["to"] == "CLOSING");
        let server_rtx = trace
            .iter()
            .filter(|r| r["kind"] == "send" && r["endpoint"] == "server" && r["retransmit"] == true)
            .count();
        assert_eq!(row[closing], client_closing.to_string(), "seed {}", row[seed]);
        assert_eq!(row[rtx], server_rtx.to_string(), "seed {}", row[seed]);
    }
}

/// `--connections` of a lossy transfer: retransmissions are the `send`
/// records marked `retransmit`, delivered bytes the `DATA` events, and
/// goodput those bytes times 8 over the time from the peer's first
/// payload send to the last delivery.
#[test]
fn connections_goodput_and_retransmissions_match_the_trace() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.csv");
    let file = "sims/lossy-transfer.ron";
    let o = tcpsim(&["run", file, "--seed", "7", "--quiet", "--connections", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, rows) = csv(&std::fs::read_to_string(&out).unwrap());
    let trace = jsonl(&["run", file, "--seed", "7", "--format", "jsonl"]);
    assert_eq!(rows.len(), 2);
    let mut some_retransmitted = false;
    for row in &rows {
        let trace = &trace;
        let of = |who: &'static str, kind: &'static str| {
            trace.iter().filter(move |r| r["kind"] == kind && r["endpoint"] == who)
        };
        let name: &'static str = if row[col(&header, "endpoint")] == "client" { "client" } else { "server" };
        let peer = if name == "client" { "server" } else { "client" };
        let rtx = of(name, "send").filter(|r| r["retransmit"] == true).count();
        some_retransmitted |= rtx > 0;
        assert_eq!(row[col(&header, "retransmissions")], rtx.to_string(), "{name}");
        let data: Vec<&Value> = of(name, "event").filter(|r| r["name"] == "DATA").collect();
        let bytes: u64 = data.iter().map(|r| r["bytes"].as_u64().unwrap()).sum();
        assert_eq!(row[col(&header, "bytes_delivered_bytes")], bytes.to_string(), "{name}");
        let last = data.last().unwrap()["t_ns"].as_u64().unwrap();
        let first =
            of(peer, "send").find(|r| r["len"].as_u64().unwrap() > 0 && r["retransmit"] == false).unwrap()["t_ns"]
                .as_u64()
                .unwrap();
        let goodput = u128::from(bytes) * 8 * 1_000_000_000 / u128::from(last - first);
        assert_eq!(row[col(&header, "goodput_bps")], goodput.to_string(), "{name}");
    }
    assert!(some_retransmitted, "seed 7 of a 5 % loss link retransmits");
}

/// Asking for the measurement records changes no sim's digest: they are
/// never in it (the pins in `digests` hold too).
#[test]
fn measurement_records_leave_every_sim_digest_unchanged() {
    for path in crate::util::sim_files() {
        let file = path.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        let plain = Simulation::from_model(load(&file, &[])).unwrap().run(&mut NullSink).digest();
        let mut recorder = tcpsim::trace::Recorder::default();
        let measured = Simulation::from_model(load(&file, &[])).unwrap().measure_records(true).run(&mut recorder);
        assert_eq!(plain, measured.digest(), "{file}");
    }
}

/// Shards of a sweep with measures merge into the unsharded CSV, byte for
/// byte, and parts with other measures are refused.
#[test]
fn measure_columns_merge_byte_identically() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let m = ["--measure", "c=visited(client, TIME_WAIT)", "--measure", "g=goodput_bps(server)"];
    let sweep = |extra: &[&str], out: &str| {
        let mut args = vec!["sweep", "sims/lossy-transfer.ron", "--seeds", "5", "--out", out];
        args.extend(m);
        args.extend(extra);
        let o = tcpsim(&args);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    sweep(&[], &p("whole.csv"));
    sweep(&["--shard", "0/2"], &p("a.csv"));
    sweep(&["--shard", "1/2"], &p("b.csv"));
    let o = tcpsim(&["merge", &p("b.csv"), &p("a.csv"), "--out", &p("merged.csv")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(p("merged.csv")).unwrap(), std::fs::read(p("whole.csv")).unwrap());
    let o = tcpsim(&["sweep", "sims/lossy-transfer.ron", "--seeds", "5", "--shard", "1/2", "--out", &p("other.csv")]);
    assert!(o.status.success());
    let o = tcpsim(&["merge", &p("a.csv"), &p("other.csv")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// A bad expression is bad input: exit 2, naming `--measure`, the
/// position and what was expected, before any run.
#[test]
fn a_bad_measure_expression_names_the_flag_and_position() {
    let o = tcpsim(&["sweep", "sims/normal-close.ron", "--seeds", "2", "--measure", "m=visited(client CLOSING)"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    // Counted in `m=visited(client CLOSING)` as shown: `C` is the 18th.
    assert!(err.contains("--measure m=visited(client CLOSING): at position 18: expected `,`"), "{err}");
    assert!(stdout(&o).is_empty());
    let o = tcpsim(&["sweep", "sims/normal-close.ron", "--seeds", "2", "--measure", "m=max(state(client))"]);
    assert_eq!(o.status.code(), Some(2));
    let o = tcpsim(&["sweep", "sims/normal-close.ron", "--seeds", "2", "--measure", "m=rtos(clinet)"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--measure m=rtos(clinet): at position 8: no endpoint is named `clinet`"),
        "{}",
        stderr(&o)
    );
    let o = tcpsim(&[
        "sweep",
        "sims/normal-close.ron",
        "--seeds",
        "2",
        "--measure",
        "m=rtos(client)",
        "--measure",
        "m=rtos(server)",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--measure m=rtos(server): at position 1: the column `m` exists"), "{}", stderr(&o));
}

/// `--series` writes one row per change, with the columns documented.
#[test]
fn series_rows_follow_the_measurement_records() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.csv");
    let o = tcpsim(&[
        "run",
        "sims/bottleneck-queue.ron",
        "--quiet",
        "--series",
        out.to_str().unwrap(),
        "--endpoint",
        "client",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let (header, rows) = csv(&text);
    assert_eq!(header.join(","), tcpsim::measure::series::HEADER);
    assert!(rows.len() > 3);
    assert!(rows.iter().all(|r| r[col(&header, "endpoint")] == "client"));
    assert!(rows.iter().any(|r| !r[col(&header, "queue_out_bytes")].is_empty()), "the bottleneck has a queue");
    assert!(rows.iter().any(|r| !r[col(&header, "srtt_ns")].is_empty()));
    let t: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(t.windows(2).all(|w| w[0] <= w[1]), "rows in time order");
}

/// Every series row's flight is the bytes in flight as the step that wrote
/// it left them: after the ACKs it processed AND the segments it sent. For
/// the lossy transfer's client, SND.MAX − SND.UNA is rebuilt from the JSONL
/// trace alone (SND.MAX: the end of the furthest segment sent, SYN and FIN
/// counting one; SND.UNA: the highest ACK delivered to it), and the last
/// row at each time must equal it. Seed 4 has steps where an ACK empties
/// the pipe and the same step refills it (2 × 1460 bytes at 1719.4 ms):
/// the row must not say 0 there.
#[test]
fn series_flight_is_what_each_step_left_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.csv");
    let args = ["run", "sims/lossy-transfer.ron", "--seed", "4", "--endpoint", "client"];
    let o = tcpsim(&[&args[..], &["--quiet", "--series", path.to_str().unwrap()]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, rows) = csv(&std::fs::read_to_string(&path).unwrap());
    let (t_col, flight_col) = (col(&header, "t_ns"), col(&header, "flight_bytes"));
    // The flight the trace implies at the end of each time, in time order.
    let mut implied: Vec<(u64, u32)> = Vec::new();
    let (mut snd_max, mut snd_una): (Option<u32>, Option<u32>) = (None, None);
    for r in jsonl(&[&args[..], &["--format", "jsonl"]].concat()) {
        let (Some(t), Some(kind)) = (r["t_ns"].as_u64(), r["kind"].as_str()) else { continue };
        if r["endpoint"] != "client" {
            continue;
        }
        let flags = r["flags"].as_str().unwrap_or("");
        let seq = r["seq"].as_u64().unwrap_or(0) as u32;
        match kind {
            "send" => {
                let len =
                    r["len"].as_u64().unwrap() as u32 + flags.contains("SYN") as u32 + flags.contains("FIN") as u32;
                let end = seq.wrapping_add(len);
                if snd_max.is_none_or(|m| (end.wrapping_sub(m) as i32) > 0) {
                    snd_max = Some(end);
                }
            }
            "deliver" if flags.contains("ACK") => {
                let ack = r["ack"].as_u64().unwrap() as u32;
                if snd_una.is_none_or(|u| (ack.wrapping_sub(u) as i32) > 0) {
                    snd_una = Some(ack);
                }
            }
            _ => continue,
        }
        if let (Some(m), Some(u)) = (snd_max, snd_una) {
            let flight = if (m.wrapping_sub(u) as i32) > 0 { m.wrapping_sub(u) } else { 0 };
            match implied.last_mut() {
                Some(last) if last.0 == t => last.1 = flight,
                _ => implied.push((t, flight)),
            }
        }
    }
    let flight_at = |t: u64| implied.iter().rev().find(|(at, _)| *at <= t).map(|(_, f)| *f);
    let mut checked = 0;
    for (k, row) in rows.iter().enumerate() {
        let t: u64 = row[t_col].parse().unwrap();
        if rows.get(k + 1).is_some_and(|next| next[t_col] == row[t_col]) || row[flight_col].is_empty() {
            continue; // not the last row at this time
        }
        let Some(expected) = flight_at(t) else { continue };
        assert_eq!(row[flight_col].parse::<u32>().unwrap(), expected, "flight at t_ns {t}");
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} rows checked");
    let at_1719 = rows.iter().rfind(|r| r[t_col] == "1719407343").expect("a row at 1719.4 ms");
    assert_eq!(at_1719[flight_col], "2920");
}

/// `rto_timer_ns` is the retransmission timer as armed, backoff included
/// (RFC 6298 (5.5) doubles it at each expiry, (5.6)'s 60 s cap): for
/// rto-backoff.ron's client_b, whose 1000 bytes at 100 ms go into a
/// partition, 1 s from the SYN on, then 2, 4, 8, 16, 32 and 60 s when
/// RETRANSMIT fires at 1100, 3100, 7100, 15100, 31100 and 63100 ms (the
/// file's own table). `rto_ns` stays the estimator's, 1 s throughout, and
/// the series plot's RTO line reaches 60 s.
#[test]
fn series_rto_timer_shows_the_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let (csv_path, svg_path) = (dir.path().join("s.csv"), dir.path().join("s.svg"));
    let o = tcpsim(&[
        "run",
        "sims/rto-backoff.ron",
        "--endpoint",
        "client_b",
        "--quiet",
        "--series",
        csv_path.to_str().unwrap(),
        "--series-plot",
        svg_path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, rows) = csv(&std::fs::read_to_string(&csv_path).unwrap());
    assert_eq!(header.last().map(String::as_str), Some("rto_timer_ns"), "a column added at the end");
    let (t, timer, rto) = (col(&header, "t_ns"), col(&header, "rto_timer_ns"), col(&header, "rto_ns"));
    let mut changes: Vec<(u64, u64)> = Vec::new();
    for r in &rows {
        let Ok(v) = r[timer].parse::<u64>() else { continue };
        if changes.last().is_none_or(|c| c.1 != v / 1_000_000_000) {
            changes.push((r[t].parse::<u64>().unwrap() / 1_000_000, v / 1_000_000_000));
        }
        assert!(r[rto].is_empty() || r[rto] == "1000000000", "rto_ns is the estimator's: {r:?}");
    }
    let expected = [(0, 1), (1100, 2), (3100, 4), (7100, 8), (15100, 16), (31100, 32), (63100, 60)];
    assert_eq!(changes, expected);
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.contains("60000") || svg.contains("60 000") || svg.contains(">60 s"), "the RTO axis reaches 60 s");
}
