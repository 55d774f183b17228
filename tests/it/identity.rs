//! A trace a reader can follow: every endpoint record names its endpoint
//! by `ep`, every segment record its transmission by `pkt` (and `copy`),
//! and every record has `t_ns` (interface.md, Identity).

use crate::util::{load, root, run, sim_files, stdout, tcpsim};
use serde_json::Value;
use std::collections::BTreeMap;
use tcpsim::pictures::{ladder_svg, ladder_text};

/// The JSONL trace of a file, as parsed records.
#[track_caller]
fn jsonl(file: &str) -> Vec<Value> {
    let out = tcpsim(&["run", file, "--format", "jsonl"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{file}: {:?}", out.status);
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{file}: not JSON ({e}): {l}")))
        .collect()
}

fn sims() -> Vec<String> {
    let files = sim_files();
    assert!(files.len() >= 11, "sims/ lost files: {files:?}");
    files.iter().map(|f| f.strip_prefix(root()).unwrap().to_string_lossy().into_owned()).collect()
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_else(|| panic!("no string {key} in {v}")).to_string()
}

fn int(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("no integer {key} in {v}"))
}

/// One line of the text trace's path summary: `conn`, endpoint name,
/// states visited; the lines are in `ep` order and each says its `ep`.
fn path_summary(file: &str) -> Vec<(u64, String, Vec<String>)> {
    let out = tcpsim(&["run", file]);
    let trace = stdout(&out);
    let lines: Vec<&str> = trace.lines().skip_while(|l| *l != "# paths:").skip(1).collect();
    lines
        .iter()
        .map_while(|l| l.strip_prefix("#   conn "))
        .enumerate()
        .map(|(i, l)| {
            assert!(!l.contains("..."), "{file}: a path summary without the full path: {l}");
            let mut words = l.split_whitespace();
            let conn = words.next().unwrap().parse().unwrap();
            assert_eq!(words.next(), Some("ep"), "{file}: {l}");
            assert_eq!(words.next().unwrap().parse::<usize>().unwrap(), i, "{file}: {l}");
            let name = words.next().unwrap().to_string();
            let states = words.take_while(|w| !w.starts_with('(')).filter(|w| *w != "->").map(str::to_string).collect();
            (conn, name, states)
        })
        .collect()
}

/// Grouped by `ep`, the transitions of every sim give each endpoint's exact
/// path: it starts at CLOSED, each `from` is the previous `to`, and it is
/// the path the text trace's summary shows for that endpoint (listed in
/// `ep` order), under the same name and final connection number.
#[test]
fn transitions_grouped_by_ep_are_each_endpoints_path() {
    for file in sims() {
        let records = jsonl(&file);
        let mut by_ep: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
        for r in records.iter().filter(|r| r["kind"] == "transition") {
            by_ep.entry(int(r, "ep")).or_default().push(r);
        }
        let summary = path_summary(&file);
        assert!(!summary.is_empty(), "{file}: no path summary");
        for (ep, transitions) in &by_ep {
            let mut at = "CLOSED".to_string();
            for t in transitions {
                assert_eq!(text(t, "from"), at, "{file}: ep {ep} jumps: {t}");
                assert_eq!(t["endpoint"], transitions[0]["endpoint"], "{file}: ep {ep} changes its name: {t}");
                at = text(t, "to");
            }
        }
        for (ep, (conn, name, states)) in summary.iter().enumerate() {
            let transitions = by_ep.get(&(ep as u64)).map_or(&[][..], Vec::as_slice);
            let mut path = vec!["CLOSED".to_string()];
            path.extend(transitions.iter().map(|t| text(t, "to")));
            assert_eq!(&path, states, "{file}: ep {ep} ({name}) against the path summary");
            if let Some(last) = transitions.last() {
                assert_eq!(&text(last, "endpoint"), name, "{file}: ep {ep}");
                // An endpoint that fell back to LISTEN is its listener's again.
                if text(last, "to") != "LISTEN" {
                    assert_eq!(int(last, "conn"), *conn, "{file}: ep {ep} ({name}) ends in another connection");
                }
            }
        }
        assert!(by_ep.keys().all(|&ep| (ep as usize) < summary.len()), "{file}: an ep without a summary line");
    }
}

/// Every record about an endpoint names it by `ep`: an integer, or `null`
/// for a host answering for a closed port.
#[test]
fn every_endpoint_record_has_an_ep() {
    for file in sims() {
        for r in jsonl(&file) {
            match r["kind"].as_str().unwrap() {
                "summary" | "host" => {}
                // A check over the whole run names no endpoint.
                "expect" if r["endpoint"].is_null() => assert!(r["ep"].is_null(), "{file}: {r}"),
                "deliver" | "send" | "drop" if r["ep"].is_null() => {
                    assert!(r.get("ep").is_some(), "{file}: no ep: {r}");
                }
                _ => assert!(r["ep"].is_u64(), "{file}: no ep: {r}"),
            }
        }
    }
}

/// Every `deliver` and `drop` names, by `pkt`, a `send` before it with the
/// same connection and the same segment; `pkt` numbers the sends of a run
/// 0, 1, 2, ...; each transmission arrives or is lost at most once as
/// copy 0, and every further arrival is a copy numbered from 1.
#[test]
fn every_delivery_and_drop_names_its_send() {
    let mut copies_seen = 0;
    for file in sims() {
        let mut sends: BTreeMap<u64, Value> = BTreeMap::new();
        let mut ends: BTreeMap<(u64, u64), usize> = BTreeMap::new();
        for r in jsonl(&file) {
            let kind = text(&r, "kind");
            if !matches!(kind.as_str(), "send" | "deliver" | "drop") {
                continue;
            }
            let pkt = int(&r, "pkt");
            if kind == "send" {
                assert_eq!(pkt, sends.len() as u64, "{file}: sends are numbered in order: {r}");
                assert!(r.get("copy").is_none(), "{file}: a send is no copy: {r}");
                sends.insert(pkt, r);
                continue;
            }
            let send = sends.get(&pkt).unwrap_or_else(|| panic!("{file}: {kind} of an unsent pkt: {r}"));
            assert_eq!(r["conn"], send["conn"], "{file}: {kind} under another connection than its send:\n{send}\n{r}");
            for field in ["flags", "seq", "ack", "len", "wnd"] {
                assert_eq!(r[field], send[field], "{file}: {kind} of another segment:\n{send}\n{r}");
            }
            let copy = int(&r, "copy");
            *ends.entry((pkt, copy)).or_default() += 1;
            assert_eq!(ends[&(pkt, copy)], 1, "{file}: pkt {pkt} copy {copy} ends twice");
            if copy > 0 {
                copies_seen += 1;
                assert!(ends.contains_key(&(pkt, copy - 1)) || copy == 1, "{file}: copies are numbered 1, 2: {r}");
            }
        }
    }
    assert!(copies_seen >= 2, "the sims duplicate segments (duplicate-fin.ron), so copies must appear");
}

/// `expect` records and the `summary` carry `t_ns`: the run's end time, no
/// earlier than any record before them.
#[test]
fn expect_and_summary_records_carry_t_ns() {
    let records = jsonl("sims/duplicate-fin.ron");
    let summary = records.last().unwrap();
    assert_eq!(summary["kind"], "summary");
    let end = int(summary, "end_ns");
    assert_eq!(int(summary, "t_ns"), end, "{summary}");
    let expects: Vec<&Value> = records.iter().filter(|r| r["kind"] == "expect").collect();
    assert!(!expects.is_empty());
    for e in expects {
        assert_eq!(int(e, "t_ns"), end, "{e}");
    }
    let mut last = 0;
    for r in &records {
        let t = int(r, "t_ns");
        assert!(last <= t, "time goes back at {r}");
        last = t;
    }
}

/// The client's FIN is duplicated by the link 5 ms after the original, so
/// the server sends the same ACK twice (seq, ack, window all equal), at
/// 110 and 115 ms; the first is held back 20 ms. The first ACK thus
/// arrives at 140 ms, after the second (125 ms): the ladder must show the
/// first as reordered with a 30 ms trip and the second with 10 ms, which
/// it can know only by the `pkt` of each delivery.
const REORDERED_DUPLICATE_ACKS: &str = r#"(
    name: "reordered-duplicate-acks",
    seed: 1,
    tcp: (msl_ms: 1000),
    hosts: [(name: "a"), (name: "b")],
    links: [(between: ("a", "b"), delay_ms: 10)],
    listeners: [(name: "server", host: "b", port: 80, iss: 5000, script: [Close(at_ms: 200)])],
    connections: [
        (name: "client", host: "a", remote_host: "b", remote_port: 80, iss: 1000,
         script: [Connect(at_ms: 0), Close(at_ms: 100)]),
    ],
    faults: [
        Duplicate(matching: (from: "client", flags: "FIN|ACK"), after_ms: 5),
        Delay(matching: (from: "server", flags: "ACK"), by_ms: 20),
    ],
)"#;

/// The first `<line>` of an SVG group: (y1, y2).
fn line_ys(group: &str) -> (f64, f64) {
    let attr = |name: &str| -> f64 {
        let start = group.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        group[start..start + group[start..].find('"').unwrap()].parse().unwrap()
    };
    (attr("y1"), attr("y2"))
}

#[test]
fn the_ladder_shows_reordered_identical_acks_with_their_own_delays() {
    let model = tcpsim::scenario::load(REORDERED_DUPLICATE_ACKS.as_bytes(), &[]).expect("valid");
    let (_, rec) = run(model);
    let text = ladder_text(&rec.events, 0, false);
    let ack = |sent: &str| -> &str {
        text.lines()
            .find(|l| l.trim_start().starts_with(sent) && l.contains("ACK seq=1 ack=2"))
            .unwrap_or_else(|| panic!("no ACK sent at {sent}:\n{text}"))
    };
    let first = ack("110.000");
    assert!(first.contains("@140.000") && first.contains("reordered"), "{first}\n{text}");
    let second = ack("115.000");
    assert!(second.contains("@125.000") && !second.contains("reordered"), "{second}\n{text}");
    // The copy of the FIN is drawn from the FIN's send.
    assert!(text.lines().any(|l| l.contains("FIN|ACK seq=1 ack=1 dup") && l.contains("@115.000")), "{text}");

    let svg = ladder_svg(&rec.events, 0, "reordered duplicate ACKs");
    let groups: Vec<&str> = svg
        .match_indices("<g class=\"segment")
        .map(|(i, _)| &svg[i..i + svg[i..].find("</g>").unwrap()])
        .filter(|g| g.contains("data-label=\"ACK seq=1 ack=2"))
        .collect();
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert!(groups[0].contains("reordered") && !groups[1].contains("reordered"), "{groups:?}");
    let (first, second) = (line_ys(groups[0]), line_ys(groups[1]));
    assert!(first.0 < second.0 && second.1 < first.1, "the arrows cross: {first:?} {second:?}");
}

/// The same file gives the same `ep`s and `pkt`s, and a load-bearing field
/// path stays as documented: a listener's idle endpoint is under the
/// listener's number (connections + listener index).
#[test]
fn a_listening_endpoint_is_under_its_listeners_number_until_it_takes_a_syn() {
    let records = jsonl("sims/duplicate-fin.ron");
    let server: Vec<&Value> = records.iter().filter(|r| r["endpoint"] == "server" && r["ep"].is_u64()).collect();
    let first_ep = int(server[0], "ep");
    let mine: Vec<&&Value> = server.iter().filter(|r| int(r, "ep") == first_ep).collect();
    // Two connections, one listener: the listener's number is 2.
    assert_eq!(int(mine[0], "conn"), 2, "{}", mine[0]);
    let syn = mine.iter().position(|r| r["kind"] == "deliver").unwrap();
    assert!(mine[..syn].iter().all(|r| int(r, "conn") == 2));
    assert!(mine[syn..].iter().all(|r| int(r, "conn") == 0), "from the SYN on, connection 0");
    assert_eq!(load("sims/duplicate-fin.ron", &[]).connection_count(), 2);
}

/// Two endpoints are both `conn 0 server` when the host crashed under the
/// first and a second connection (still number 0 for the client's script)
/// reaches the restarted listener: the `expect` record names the one it
/// checked by `ep`, the first found in `ep` order (the crashed one, whose
/// path ends in ESTABLISHED), and the text trace says `ep N` too.
#[test]
fn an_expect_record_names_the_endpoint_it_checked_by_ep() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two-servers.ron");
    let sim = std::fs::read_to_string(root().join("sims/host-crash.ron")).unwrap();
    let sim = sim.replace("Send(at_ms: 500, bytes: 100)]", "Send(at_ms: 500, bytes: 100), Connect(at_ms: 600)]");
    assert!(sim.contains("Connect(at_ms: 600)"));
    std::fs::write(&file, sim).unwrap();
    let file = file.to_str().unwrap();
    let records = jsonl(file);
    let servers: BTreeMap<u64, Vec<&Value>> = records
        .iter()
        .filter(|r| r["kind"] == "transition" && r["endpoint"] == "server")
        .fold(BTreeMap::new(), |mut m, r| {
            m.entry(int(r, "ep")).or_default().push(r);
            m
        });
    let crashed = *servers.keys().next().unwrap();
    let in_conn_0: Vec<u64> =
        servers.iter().filter(|(_, ts)| ts.iter().any(|t| int(t, "conn") == 0)).map(|(ep, _)| *ep).collect();
    assert!(in_conn_0.len() >= 2, "two server endpoints in conn 0: {servers:?}");
    let expects: Vec<&Value> = records.iter().filter(|r| r["kind"] == "expect" && r["endpoint"] == "server").collect();
    assert!(!expects.is_empty());
    for e in &expects {
        assert_eq!(e["ep"].as_u64(), Some(crashed), "{e}");
    }
    let text = stdout(&tcpsim(&["run", file]));
    assert!(text.lines().any(|l| l.starts_with("expect ok      server (conn 0, ep 1) final_state")), "{text}");
    assert_eq!(crashed, 1);
}

/// why-time-wait-short.ron: at 1610 ms a copy of the old incarnation's
/// 100 bytes (conn 0, seq 1001, ack 5001) reaches the new incarnation's
/// server (conn 1) on the same 4-tuple. Both ISNs are the old ones (1000
/// and 5000), so relative to conn 1's ends it reads `seq=1 ack=1`. The
/// delivery is recorded under conn 0 (its send's), but it arrived at conn
/// 1's endpoint: conn 1's ladder draws it as an arrival without a send,
/// labelled with its connection, exactly once (the old incarnation's other
/// segments reached conn 0's endpoints, not these).
#[test]
fn a_stray_segment_of_another_connection_shows_where_it_arrives() {
    let (_, rec) = run(load("sims/why-time-wait-short.ron", &[]));
    let text = ladder_text(&rec.events, 1, false);
    let strays: Vec<&str> = text.lines().filter(|l| l.contains("of conn 0")).collect();
    assert_eq!(strays.len(), 1, "{text}");
    let stray = strays[0];
    assert!(stray.trim_start().starts_with("1610.000"), "{stray}");
    assert!(stray.contains("PSH|ACK seq=1 ack=1 len=100 of conn 0"), "{stray}");
    assert!(stray.contains("}|") && stray.ends_with("@1610.000"), "drawn as an arrival without a send: {stray}");

    let svg = ladder_svg(&rec.events, 1, "stray");
    let groups: Vec<&str> = svg
        .match_indices("<g class=\"segment")
        .map(|(i, _)| &svg[i..i + svg[i..].find("</g>").unwrap()])
        .filter(|g| g.contains("of conn 0"))
        .collect();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert!(groups[0].contains("data-label=\"PSH|ACK seq=1 ack=1 len=100 of conn 0\""), "{}", groups[0]);
}

/// The reader of `--conn 1` sees what arrived at conn 1's endpoints: the
/// stray delivery (recorded under conn 0, to the server's `ep`) comes
/// right before the DATA event it causes, in text and JSONL; conn 0's
/// deliveries to its own endpoints stay out.
#[test]
fn the_conn_filter_keeps_what_arrives_at_the_connections_endpoints() {
    let out = tcpsim(&["run", "sims/why-time-wait-short.ron", "--conn", "1"]);
    let trace = stdout(&out);
    let events: Vec<&str> = trace.lines().filter(|l| !l.starts_with('#')).collect();
    let data = events.iter().position(|l| l.contains("DATA 100 bytes (100 FOREIGN)")).expect(&trace);
    let before = events[data - 1];
    assert!(before.starts_with("    1610.000     0  server    deliver   PSH|ACK"), "{before}");
    assert!(before.contains("seq=1001 ack=5001 len=100") && before.ends_with("copy=1"), "{before}");
    let foreign: Vec<&&str> = events.iter().filter(|l| l.get(12..18).is_some_and(|c| c.trim() == "0")).collect();
    assert_eq!(foreign.len(), 1, "{foreign:?}");

    let records: Vec<Value> =
        stdout(&tcpsim(&["run", "sims/why-time-wait-short.ron", "--conn", "1", "--format", "jsonl"]))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .filter(|r: &Value| r["kind"] != "expect" && r["kind"] != "summary")
            .collect();
    let foreign: Vec<&Value> = records.iter().filter(|r| r["conn"] == 0).collect();
    assert_eq!(foreign.len(), 1, "{foreign:?}");
    assert_eq!(foreign[0]["kind"], "deliver");
    assert_eq!(foreign[0]["t_ns"], 1_610_000_000u64);
    let server_ep =
        records.iter().find(|r| r["kind"] == "transition" && r["endpoint"] == "server").unwrap()["ep"].clone();
    assert_eq!(foreign[0]["ep"], server_ep);
}

/// why-time-wait.ron: at 1610 ms a copy of the old connection's data
/// (conn 0) reaches the listener's idle endpoint (the server's second,
/// `ep` 3, listening under the listener's number: 2 connections, so 2).
/// In LISTEN an ACK-bearing segment is answered with <SEQ=SEG.ACK><CTL=RST>
/// (RFC 9293 §3.10.7.2). The `deliver` and the reply's `send` carry the
/// stray segment's connection, 0; `ep` and `endpoint` stay the listening
/// endpoint's, and its own records stay under the listener's number.
/// `--conn 2` shows both segments too: they arrived at and left from its
/// endpoint (as does each SYN a listening endpoint took).
#[test]
fn an_idle_listeners_answer_to_a_stray_carries_the_strays_connection() {
    let records = jsonl("sims/why-time-wait.ron");
    let at = records.iter().position(|r| r["kind"] == "deliver" && int(r, "t_ns") == 1_610_000_000).unwrap();
    let (deliver, reply) = (&records[at], &records[at + 1]);
    assert_eq!(
        (int(deliver, "conn"), int(deliver, "ep"), text(deliver, "endpoint")),
        (0, 3, "server".into()),
        "{deliver}"
    );
    assert_eq!(text(reply, "kind"), "send", "{reply}");
    assert_eq!(text(reply, "flags"), "RST", "{reply}");
    assert_eq!(int(reply, "seq"), int(deliver, "ack"), "<SEQ=SEG.ACK>: {reply}");
    assert_eq!((int(reply, "conn"), int(reply, "ep"), text(reply, "endpoint")), (0, 3, "server".into()), "{reply}");
    let own: Vec<&Value> = records
        .iter()
        .take(at)
        .filter(|r| r["ep"] == 3 && !matches!(r["kind"].as_str(), Some("send" | "deliver" | "drop")))
        .collect();
    assert!(!own.is_empty() && own.iter().all(|r| int(r, "conn") == 2), "{own:?}");
    assert_eq!(text(own.last().unwrap(), "to"), "LISTEN");

    let listener = stdout(&tcpsim(&["run", "sims/why-time-wait.ron", "--conn", "2", "--kinds", "send,deliver"]));
    let segments: Vec<&str> = listener
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("expect") && !l.starts_with("digest"))
        .collect();
    // Each SYN the listener's endpoints took (under its connection), the
    // stray, and the reset.
    assert_eq!(segments.len(), 4, "{listener}");
    assert!(segments[0].contains(" 0  server    deliver   SYN "), "{}", segments[0]);
    assert!(segments[1].contains(" 0  server    deliver   PSH|ACK"), "{}", segments[1]);
    assert!(segments[2].contains(" 0  server    send      RST"), "{}", segments[2]);
    assert!(segments[3].contains(" 1  server    deliver   SYN "), "{}", segments[3]);
}

/// host-crash.ron: host b crashes at 200 ms under the server's endpoint of
/// conn 0, ESTABLISHED, the second endpoint created (`ep` 1; the client
/// is `ep` 0). The crash record names the endpoints it took by `ep`, the
/// ones the path summary marks as lost; the restart loses none.
#[test]
fn a_host_crash_names_the_endpoints_it_took() {
    let records = jsonl("sims/host-crash.ron");
    let hosts: Vec<&Value> = records.iter().filter(|r| r["kind"] == "host").collect();
    assert_eq!(hosts.len(), 2, "{hosts:?}");
    assert_eq!(text(hosts[0], "event"), "crash");
    assert_eq!(hosts[0]["eps"], serde_json::json!([1]), "{}", hosts[0]);
    assert_eq!(int(hosts[0], "endpoints_lost"), 1);
    assert_eq!(hosts[1]["eps"], serde_json::json!([]), "{}", hosts[1]);
    let trace = stdout(&tcpsim(&["run", "sims/host-crash.ron"]));
    let lost: Vec<&str> =
        trace.lines().filter(|l| l.starts_with("#   conn ") && l.contains("lost in a host crash")).collect();
    assert_eq!(lost.len(), 1);
    assert!(lost[0].contains(" ep   1 "), "{}", lost[0]);
    let crash = trace.lines().find(|l| l.contains("HOST") && l.contains("crash")).unwrap();
    assert!(crash.ends_with("crash: 1 endpoint vanishes without a word: ep 1"), "{crash}");
}
