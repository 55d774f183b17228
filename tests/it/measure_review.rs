//! Measures as a user reviewing them found them: who a name matches, the
//! type of a column, crashed and idle endpoints, unfinished runs, exact
//! times. Expected values come from the scenarios' own timelines.

use crate::util::{stderr, stdout, tcpsim};
use serde_json::Value;

/// CSV rows after the comments, as (header, rows of fields); `replay`
/// cells hold no commas in these runs.
fn csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines().filter(|l| !l.starts_with('#') && l.contains(','));
    let header: Vec<String> = lines.next().expect("a header").split(',').map(str::to_string).collect();
    let rows = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// `ms` with 6 decimals as nanoseconds, exactly.
fn ns(cell: &str) -> u64 {
    let (whole, frac) = cell.split_once('.').unwrap_or_else(|| panic!("6 decimals in `{cell}`"));
    assert_eq!(frac.len(), 6, "6 decimals in `{cell}`");
    whole.parse::<u64>().unwrap() * 1_000_000 + frac.parse::<u64>().unwrap()
}

/// With `backlog: 4` the listener keeps idle clones named `server`; only
/// the endpoint that took the client's SYN is measured: its
/// retransmissions are all the trace's `server` retransmissions, it
/// passed LAST_ACK (a single endpoint: `true`, not a proportion) and it
/// ended CLOSED.
#[test]
fn a_listeners_idle_clones_are_not_measured() {
    let o = tcpsim(&[
        "sweep",
        "sims/lossy-transfer.ron",
        "--seeds",
        "2",
        "--set",
        "listeners[0].backlog=4",
        "--measure",
        "r=retransmissions(server)",
        "--measure",
        "v=visited(server, LAST_ACK)",
        "--measure",
        "s=state(server)",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, rows) = csv(&stdout(&o));
    let (seed, r, v, s) = (col(&header, "seed"), col(&header, "r"), col(&header, "v"), col(&header, "s"));
    for row in rows {
        let o = tcpsim(&[
            "run",
            "sims/lossy-transfer.ron",
            "--seed",
            &row[seed],
            "--set",
            "listeners[0].backlog=4",
            "--format",
            "jsonl",
        ]);
        let rtx = stdout(&o)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|x| x["kind"] == "send" && x["endpoint"] == "server" && x["retransmit"] == true)
            .count();
        assert!(rtx > 0, "seed {} retransmits", row[seed]);
        assert_eq!(row[r], rtx.to_string(), "seed {}", row[seed]);
        assert_eq!((row[v].as_str(), row[s].as_str()), ("true", "CLOSED"));
    }
}

/// host-crash.ron (10 ms each way): the server's SYN arrives at 10 ms,
/// the handshake's ACK at 30 ms, its host crashes at 200 ms. The server
/// that took part spent 200 - 30 = 170 ms ESTABLISHED, its connection
/// lasted 200 - 10 = 190 ms, and it vanished ESTABLISHED; the restarted
/// host's idle listener is not counted. One run: no t-interval.
#[test]
fn a_crashed_endpoint_stops_counting_at_the_crash() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("s.json");
    let o = tcpsim(&[
        "sweep",
        "sims/host-crash.ron",
        "--seeds",
        "1",
        "--measure",
        "s=state(server)",
        "--measure",
        "t=time_in_ms(server, ESTABLISHED)",
        "--measure",
        "d=duration_ms(server)",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, rows) = csv(&stdout(&o));
    let row = &rows[0];
    assert_eq!(
        (row[col(&header, "s")].as_str(), row[col(&header, "t")].as_str(), row[col(&header, "d")].as_str()),
        ("ESTABLISHED", "170", "190")
    );
    assert!(stderr(&o).contains("mean 170  [n/a]"), "{}", stderr(&o));
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let t = &summary["points"][0]["measures"]["t"];
    assert_eq!(t["t95"], Value::Null, "{summary}");
}

/// The client connects at 60 s: the server's connection starts when the
/// SYN arrives (60 s + 20 ms + jitter), not when it began listening, and
/// its duration is exactly the sum of its times in the states after
/// LISTEN, every time written in ms with 6 decimals (whole ns).
#[test]
fn a_passive_connection_starts_at_its_syn_and_times_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.csv");
    let o = tcpsim(&[
        "run",
        "sims/lossy-transfer.ron",
        "--set",
        "connections[0].script=[Connect(at_ms: 60000)]",
        "--connections",
        path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, rows) = csv(&std::fs::read_to_string(&path).unwrap());
    let server = rows.iter().find(|r| r[col(&header, "endpoint")] == "server").unwrap();
    let duration = ns(&server[col(&header, "duration_ms")]);
    assert!(duration < 60_000_000_000, "{duration}");
    let after_listen: u64 = header
        .iter()
        .enumerate()
        .filter(|(_, h)| h.starts_with("time_in_") && *h != "time_in_listen_ms")
        .map(|(i, _)| ns(&server[i]))
        .sum();
    assert_eq!(after_listen, duration);
    assert!(ns(&server[col(&header, "time_in_listen_ms")]) >= 60_020_000_000);
}

/// `count` 1 at one grid point and 3 at the other: `client` is a
/// population, so a boolean without aggregate is a proportion (a number
/// in [0, 1]) in every row, never `true`/`false` in some.
#[test]
fn a_columns_type_is_the_same_in_every_row() {
    let o = tcpsim(&[
        "sweep",
        "sims/lossy-transfer.ron",
        "--seeds",
        "2",
        "--vary",
        "connections[0].count=1,3",
        "--measure",
        "c=visited(client, TIME_WAIT)",
        "--measure",
        "a=any(visited(client, TIME_WAIT))",
    ]);
    let (header, rows) = csv(&stdout(&o));
    assert_eq!(rows.len(), 4, "{}", stderr(&o));
    for row in &rows {
        let c: f64 = row[col(&header, "c")].parse().unwrap_or_else(|_| panic!("a number: {row:?}"));
        assert!((0.0..=1.0).contains(&c));
        assert!(["true", "false"].contains(&row[col(&header, "a")].as_str()), "{row:?}");
    }
}

/// 100 ms is not enough for a 1 MB transfer (50 ms RTT): neither end
/// received everything, so no run has a transfer time, and the summary
/// says both runs hit the limit.
#[test]
fn an_unfinished_transfer_has_no_transfer_time() {
    let o = tcpsim(&[
        "sweep",
        "sims/close-race-1mb.ron",
        "--seeds",
        "2",
        "--set",
        "limits.max_time_ms=100",
        "--measure",
        "x=transfer_ms(client)",
        "--measure",
        "g=goodput_bps(server)",
    ]);
    let (header, rows) = csv(&stdout(&o));
    assert_eq!(rows.len(), 2, "{}", stderr(&o));
    for row in &rows {
        assert_eq!(row[col(&header, "outcome")], "time_limit");
        assert_eq!((row[col(&header, "x")].as_str(), row[col(&header, "g")].as_str()), ("", ""));
    }
    assert!(stderr(&o).contains("hit_limit            2 of 2 runs hit a limit"), "{}", stderr(&o));
}

/// A run a limit stops exits 3 and still writes --connections and
/// --series, marked as the partial results they are.
#[test]
fn a_run_a_limit_stops_writes_partial_results_marked() {
    let dir = tempfile::tempdir().unwrap();
    let (conns, series) = (dir.path().join("f.csv"), dir.path().join("s.csv"));
    let o = tcpsim(&[
        "run",
        "sims/close-race-1mb.ron",
        "--quiet",
        "--max-time-ms",
        "3000",
        "--connections",
        conns.to_str().unwrap(),
        "--series",
        series.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let (header, rows) = csv(&std::fs::read_to_string(&conns).unwrap());
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row[col(&header, "run_outcome")], "time_limit");
        assert_eq!(row[col(&header, "transfer_ms")], "", "1 MB does not arrive in 3 s at this loss");
    }
    let text = std::fs::read_to_string(&series).unwrap();
    assert!(text.starts_with("t_ns,"));
    assert_eq!(text.lines().last(), Some("# incomplete run: time_limit"));
}

/// bottleneck-queue.ron: three connections share the link. The series
/// of connection 0 has a row only at instants when a measurement record
/// of connection 0 itself was written: another connection's segment
/// entering the queue gives it no row.
#[test]
fn series_rows_come_only_from_the_endpoints_own_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.csv");
    let o = tcpsim(&["run", "sims/bottleneck-queue.ron", "--quiet", "--conn", "0", "--series", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = tcpsim(&["run", "sims/bottleneck-queue.ron", "--format", "jsonl", "--measurements"]);
    let own: std::collections::BTreeSet<u64> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["conn"] == 0 && ["congestion", "flight", "rtt", "queue"].contains(&r["kind"].as_str().unwrap()))
        .map(|r| r["t_ns"].as_u64().unwrap())
        .collect();
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert!(rows.len() > 10);
    for row in rows {
        let t: u64 = row.split(',').next().unwrap().parse().unwrap();
        assert!(own.contains(&t), "row at {t} ns has no record of connection 0: {row}");
        assert!(row.split(',').nth(1) == Some("0"), "{row}");
    }
}

/// The measure plot is titled by the scenario's `name`, not its file,
/// and each other swept setting gets its own panel.
#[test]
fn the_measure_plot_has_the_scenario_name_and_a_panel_per_other_setting() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("two.svg");
    let o = tcpsim(&[
        "sweep",
        "sims/lossy-transfer.ron",
        "--seeds",
        "2",
        "--loss",
        "0.02,0.05",
        "--vary",
        "links[0].delay_ms=5,100",
        "--measure",
        "g=goodput_bps(server)",
        "--plot",
        svg.to_str().unwrap(),
        "--plot-measure",
        "g",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("lossy-transfer: measures by loss"), "{text}");
    assert!(text.contains("g  (links[0].delay_ms=5)") && text.contains("g  (links[0].delay_ms=100)"));
}

/// The measures' flags of `run`: an endpoint name that matches nothing is
/// bad input for every output; `--series` is CSV only; the connections
/// table needs a text trace; `--kinds rtt` without `--measurements` says
/// why it may show nothing; `--connections` honours `--endpoint` and
/// `--conn`.
#[test]
fn runs_measure_flags_are_checked_and_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let sim = "sims/normal-close.ron";
    let (y, c) = (p("y.csv"), p("c.csv"));
    for extra in [vec!["--series", y.as_str()], vec!["--connections", c.as_str()], vec![]] {
        let mut args = vec!["run", sim, "--quiet", "--endpoint", "nosuch"];
        args.extend(extra);
        let o = tcpsim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("--endpoint nosuch: no endpoint is named"), "{}", stderr(&o));
    }
    assert!(!dir.path().join("y.csv").exists());
    let o = tcpsim(&["run", sim, "--quiet", "--series", &p("x.json")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--series") && stderr(&o).contains("CSV"), "{}", stderr(&o));
    for format in ["jsonl", "ladder"] {
        let o = tcpsim(&["run", sim, "--format", format, "--connections-table"]);
        assert_eq!(o.status.code(), Some(2), "{format}");
        assert!(stderr(&o).contains(&format!("--connections-table with --format {format}")), "{}", stderr(&o));
    }
    let o = tcpsim(&["run", sim, "--kinds", "rtt"]);
    assert!(o.status.success());
    assert!(stderr(&o).contains("--measurements"), "{}", stderr(&o));
    let o = tcpsim(&["run", sim, "--quiet", "--endpoint", "server", "--connections", &p("s.csv")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, rows) = csv(&std::fs::read_to_string(p("s.csv")).unwrap());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][col(&header, "endpoint")], "server");
}

/// Parts whose expressions differ only in spacing and a state's case are
/// one sweep: merge accepts them.
#[test]
fn merge_compares_measures_by_their_canonical_form() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let part = |shard: &str, m: &str, out: &str| {
        let o =
            tcpsim(&["sweep", "sims/normal-close.ron", "--seeds", "2", "--shard", shard, "--measure", m, "--out", out]);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    part("0/2", "c=visited(client,TIME_WAIT)", &p("a.csv"));
    part("1/2", "c=visited( client, time_wait )", &p("b.csv"));
    let o = tcpsim(&["merge", &p("a.csv"), &p("b.csv")]);
    assert!(o.status.success(), "{}", stderr(&o));
}
