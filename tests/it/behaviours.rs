//! Every behaviour ID of the specification is proven by a test: a unit or
//! scenario test whose doc comment, directly above its `#[test]`, names the
//! ID, or a sim in `sims/` whose `expect.proves` lists it (and the sims
//! test checks that each listed ID actually fired).

use crate::util::{load, root, run, sim_files};
use std::collections::BTreeMap;
use std::path::Path;
use tcpsim::rule::Rule;
use tcpsim::trace::{Discard, TraceKind};

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

/// The specification's 147 behaviour IDs each have a test naming them.
#[test]
fn every_behaviour_id_has_a_test() {
    let proofs = proofs();
    let missing: Vec<String> = Rule::all().filter(|r| !proofs.contains_key(r)).map(|r| r.to_string()).collect();
    assert_eq!(Rule::all().count(), 147);
    assert!(missing.is_empty(), "{} behaviour IDs have no test naming them: {}", missing.len(), missing.join(", "));
    println!("behaviours: {} of 147 IDs proven by named tests or sims", proofs.len());
}

/// The areas documented outside the specification list their IDs in a
/// table, one row each (`| B-CC-01 | ... |`): exactly the IDs `Rule`
/// knows in those areas, in order, so a document cannot lose or invent
/// one.
#[test]
fn area_documents_list_exactly_their_ids() {
    for (doc, areas) in [
        ("docs/rfc7323.md", &["WS", "TS"][..]),
        ("docs/sack.md", &["SACK"]),
        ("docs/cc.md", &["CC"]),
        ("docs/linux.md", &["LNX"]),
    ] {
        let text = std::fs::read_to_string(root().join(doc)).expect("readable document");
        let listed: Vec<Rule> = text
            .lines()
            .filter_map(|line| line.strip_prefix("| "))
            .filter_map(|rest| rest.split(' ').next().and_then(Rule::parse))
            .collect();
        let known: Vec<Rule> = Rule::all().filter(|r| areas.contains(&r.area().name())).collect();
        assert_eq!(listed, known, "{doc}");
    }
}

#[test]
fn ids_are_found_only_directly_above_tests() {
    let text = "/// B-CLOSE-06 here\n#[test]\nfn a() {}\n/// B-CLOSE-07 not a test\nfn b() {}\n";
    assert_eq!(ids_above_tests(text), vec![tcpsim::rule::CLOSE_06]);
    assert_eq!(ids_in("B-APP-01, B-XYZ-01 and B-CLOSE-21."), vec![tcpsim::rule::APP_01, tcpsim::rule::CLOSE_21]);
}

/// B-TS-08: RFC 7323 §3.2: "If a non-<RST> segment is received without a
/// TSopt, a TCP SHOULD silently drop the segment." In paws.ron (both ends
/// use timestamps; the client's first 1000 bytes delivered by 410 ms) a
/// segment forged at 500 ms with the next 100 bytes, ISS+1001, in the
/// window and acknowledging nothing new, but without the option, is
/// dropped: the server delivers only the 1000 genuine bytes, and sends
/// nothing in answer, so nothing between 500 ms and the client's close
/// at 1000 ms.
#[test]
fn a_segment_without_timestamps_on_a_timestamp_connection_is_dropped_silently() {
    let inject = r#"[Inject(at_ms: 500, from: "client", conn: 0, flags: "ACK", seq: 1001, ack: 1, len: 100)]"#;
    let (world, rec) = run(load("sims/rfc7323/paws.ron", &[("faults", inject)]));
    let server = world.endpoints().find(|e| e.name == "server" && e.conn == 0).unwrap();
    assert_eq!(server.tcp.stats().bytes_delivered, 1000);
    let (from, to) = (500_000_000, 1_000_000_000);
    let answers = rec
        .events
        .iter()
        .filter(|e| e.endpoint == "server" && e.conn == 0 && (from..to).contains(&e.t.as_nanos()))
        .filter(|e| matches!(e.kind, TraceKind::Send { .. }))
        .count();
    assert_eq!(answers, 0, "dropped silently");
    let dropped = rec
        .events
        .iter()
        .find(|e| e.endpoint == "server" && e.t.as_nanos() >= from && matches!(e.kind, TraceKind::Deliver { .. }));
    assert!(
        matches!(dropped.map(|e| &e.kind), Some(TraceKind::Deliver { discard: Some(Discard::NoTimestamp), .. })),
        "the trace says why: {dropped:?}"
    );
}

/// B-TS-03: RFC 7323 §4.3: only an acceptable segment sets TS.Recent. In
/// paws.ron the server's TS.Recent is 104 after the client's data (clock
/// wrapped at 296 ms, data at 400 ms). At 500 ms a segment forged "from
/// the client", at the next sequence number but acknowledging ISS+100000
/// of the server's, which it never sent (B-ACK-06), carries TSval
/// 2000000000: newer than 104 modulo 2^32. Had it set TS.Recent, the
/// client's FIN at 1000 ms (TSval 704) would be a PAWS discard, as would
/// every retransmission of it, and the connection would never close.
/// It must close normally at both ends, with no PAWS discard.
#[test]
fn a_forged_segment_with_an_unacceptable_ack_does_not_set_ts_recent() {
    let inject =
        r#"[Inject(at_ms: 500, from: "client", conn: 0, flags: "ACK", seq: 1001, ack: 100000, tsval: 2000000000)]"#;
    let (world, rec) = run(load("sims/rfc7323/paws.ron", &[("faults", inject)]));
    for name in ["client", "server"] {
        let e = world.endpoints().find(|e| e.name == name && e.conn == 0).unwrap();
        assert_eq!(e.tcp.close_reason(), Some(tcpsim::tcp::CloseReason::Normal), "{name}");
    }
    let discards = rec.events.iter().filter(|e| matches!(e.kind, TraceKind::Deliver { discard: Some(_), .. }));
    assert_eq!(discards.count(), 0);
}

/// B-SACK-11: RFC 3042 limited transmit turns a loss that leaves only two
/// duplicate ACKs into a fast retransmit instead of an RTO. 6000 bytes in
/// segments of 1000 over a 20 ms link, the initial window 4 segments; the
/// first and fourth are lost, so the second and third bring two duplicate
/// ACKs at 80 ms. Off (the default), nothing more may go: RETRANSMIT
/// expires (B-TMR-04). On, each duplicate sends one new segment (the fifth
/// and sixth, at 80 ms, cwnd unchanged); their duplicate ACKs at 120 ms
/// are the third and fourth, and the third starts fast retransmit
/// (RFC 3042 §2; RFC 5681 §3.2). No RTO.
#[test]
fn limited_transmit_avoids_the_rto_of_a_small_window() {
    const SIM: &str = r#"(
        name: "limited-transmit",
        seed: 1,
        tcp: (msl_ms: 1000, mss_bytes: 1000),
        hosts: [(name: "a"), (name: "b")],
        links: [(between: ("a", "b"), delay_ms: 20)],
        listeners: [(name: "server", host: "b", port: 80, on_end_of_stream: [Close])],
        connections: [
            (name: "client", host: "a", remote_host: "b", remote_port: 80, iss: 1000,
             script: [Connect(at_ms: 0)], on_connected: [Send(bytes: 6000), Close]),
        ],
        faults: [
            Drop(matching: (from: "client", data: true), nth: 1),
            Drop(matching: (from: "client", data: true), nth: 4),
        ],
    )"#;
    let run_with = |on: &str| {
        let set = [tcpsim::scenario::Override { path: "tcp.limited_transmit".into(), value: on.into() }];
        let model = tcpsim::scenario::load(SIM.as_bytes(), &set).expect("the scenario loads");
        run(model)
    };
    let fired = |world: &tcpsim::world::World, rule: Rule| world.coverage()[rule.index()];
    let new_data_at_80 = |rec: &tcpsim::trace::Recorder| {
        rec.events
            .iter()
            .filter(|e| e.endpoint == "client" && e.t.as_nanos() == 80_000_000)
            .filter(|e| matches!(e.kind, TraceKind::Send { seg, .. } if seg.len > 0 && !seg.retransmit))
            .count()
    };
    let (off, off_rec) = run_with("false");
    assert!(fired(&off, tcpsim::rule::TMR_04) > 0, "without limited transmit RETRANSMIT expires");
    assert_eq!((fired(&off, tcpsim::rule::SACK_11), new_data_at_80(&off_rec)), (0, 0));
    let (on, on_rec) = run_with("true");
    assert_eq!(fired(&on, tcpsim::rule::TMR_04), 0, "no RTO");
    assert_eq!(fired(&on, tcpsim::rule::SACK_11), 2);
    assert_eq!(new_data_at_80(&on_rec), 2);
    let client = on.endpoints().find(|e| e.name == "client").expect("the client");
    assert!(client.tcp.stats().fast_retransmits >= 1);
}
