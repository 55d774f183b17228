//! Loading refuses what cannot be simulated or captured, once per
//! mistake, at the value the user wrote, naming the field, the bound and
//! the value found: a forged segment's size and offsets, a fraction where
//! an integer is expected, settings out of order across inherited `tcp`
//! blocks, a host address no single host can have, and a file that is not
//! RON at all.

use crate::util::{path_str, stderr, stdout, tcpsim};
use std::process::Output;

/// A scenario that runs to the end; `{extra}` is line 7 from column 5,
/// `{listener}` the listener's own fields.
const TEMPLATE: &str = r#"(
    name: "t",
    hosts: [(name: "a"), (name: "b")],
    links: [(between: ("a", "b"), delay_ms: 10)],
    listeners: [(name: "server", host: "b", port: 80{listener})],
    connections: [(name: "client", host: "a", remote_host: "b", remote_port: 80, script: [Connect(at_ms: 0)])],
    {extra}
)
"#;

/// Runs `tcpsim run FILE args`, FILE holding the template with `extra` and
/// `listener` filled in; returns the output and the file's path.
fn run(dir: &tempfile::TempDir, extra: &str, listener: &str, args: &[&str]) -> (Output, String) {
    let path = dir.path().join("t.ron");
    std::fs::write(&path, TEMPLATE.replace("{extra}", extra).replace("{listener}", listener)).expect("write");
    let file = path_str(&path).to_string();
    let mut all = vec!["run", file.as_str()];
    all.extend_from_slice(args);
    (tcpsim(&all), file)
}

/// Exit 2, nothing on stdout, and exactly `lines` on stderr, each
/// prefixed with `FILE:`.
#[track_caller]
fn assert_errors(out: &Output, file: &str, lines: &[&str]) {
    assert_eq!(out.status.code(), Some(2), "stderr:\n{}", stderr(out));
    assert_eq!(stdout(out), "");
    let want: String = lines.iter().map(|l| format!("{file}:{l}\n")).collect();
    assert_eq!(stderr(out), want);
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temp dir")
}

// ------------------------------------------------------------ Inject bounds

/// A forged segment longer than an IPv4 packet can carry, at an offset
/// more than the whole 32-bit sequence space away: both refused at load,
/// each at its value (line 7: the values at columns 75 and 93).
#[test]
fn inject_len_and_seq_beyond_what_a_packet_holds_are_refused() {
    let dir = tempdir();
    let fault =
        r#"faults: [Inject(at_ms: 50, from: "client", flags: "FIN|SYN|RST", seq: -5000000000, len: 4294967295)],"#;
    let (out, file) = run(&dir, fault, "", &[]);
    assert_errors(
        &out,
        &file,
        &[
            "7:75: error: `faults[0].seq`: expected an offset in -4294967295..=4294967295 (sequence numbers are 32 bits; a larger offset would wrap around), found -5000000000",
            "7:93: error: `faults[0].len`: expected at most 65495 bytes (an IPv4 packet holds 65535, less a 20-byte IPv4 and a 20-byte TCP header), found 4294967295",
        ],
    );
}

/// With a Timestamps option the header is 12 bytes longer, and so the
/// largest payload 12 bytes shorter; `ack` has the same range as `seq`.
#[test]
fn inject_len_leaves_room_for_the_timestamps_option() {
    let dir = tempdir();
    let fault =
        r#"faults: [Inject(at_ms: 50, from: "client", flags: "ACK", seq: 1, ack: 4294967296, len: 65484, tsval: 7)],"#;
    let (out, file) = run(&dir, fault, "", &[]);
    assert_errors(
        &out,
        &file,
        &[
            "7:75: error: `faults[0].ack`: expected an offset in -4294967295..=4294967295 (sequence numbers are 32 bits; a larger offset would wrap around), found 4294967296",
            "7:92: error: `faults[0].len`: expected at most 65483 bytes (an IPv4 packet holds 65535, less a 20-byte IPv4 and a 20-byte TCP header and the 12-byte Timestamps option), found 65484",
        ],
    );
}

/// At the bound, the trace's `len` is the payload the capture holds: the
/// injected packet is a full 65535-byte IPv4 packet, with or without
/// timestamps, and its payload is the `len` the trace shows. (The segment
/// lies beyond the server's window, so the server answers with one ACK; an
/// in-window forgery would be acknowledged, and the client, which never
/// sent those bytes, would answer each such ACK with its own for ever.)
#[test]
fn inject_at_the_bound_is_traced_and_captured_alike() {
    for (tsval, len) in [("", 65495usize), (", tsval: 7", 65483)] {
        let dir = tempdir();
        let pcap = dir.path().join("t.pcap");
        let fault = format!(
            r#"faults: [Inject(at_ms: 50, from: "client", flags: "ACK", seq: 100001, ack: 1, len: {len}{tsval})],"#
        );
        let (out, _) = run(&dir, &fault, "", &["--pcap", path_str(&pcap)]);
        assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
        let trace = stdout(&out);
        let sent = trace.lines().find(|l| l.contains(" send ") && l.ends_with("injected")).expect("an injected send");
        assert!(sent.contains(&format!(" len={len} ")), "{sent}");
        // Classic pcap: a 24-byte file header, then per packet a 16-byte
        // record header whose third word is the captured length.
        let bytes = std::fs::read(&pcap).expect("the capture");
        let mut at = 24;
        let mut lengths = Vec::new();
        while at + 16 <= bytes.len() {
            let n = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
            lengths.push(n);
            at += 16 + n;
        }
        assert_eq!(at, bytes.len(), "whole records");
        assert_eq!(lengths.iter().filter(|&&n| n == 65_535).count(), 1, "one full packet: {lengths:?}");
        let header = 40 + if tsval.is_empty() { 0 } else { 12 };
        assert_eq!(65_535 - header, len);
    }
}

// -------------------------------------------------- a fraction in an integer

/// A number with a fraction where an integer is expected says so, with
/// the value, at the value, wherever the field is; a float field still
/// takes one.
#[test]
fn a_fraction_where_an_integer_is_expected_names_type_and_value() {
    let dir = tempdir();
    let cases = [
        ("seed: 3.5,", "7:11: error: `seed`: expected an integer; found `3.5`"),
        ("seed: -3.5,", "7:11: error: `seed`: expected an integer; found `-3.5`"),
        (
            r#"faults: [Drop(matching: (from: "client"), nth: 2.5)],"#,
            "7:52: error: `faults[0].nth`: expected an integer; found `2.5`",
        ),
        (
            r#"faults: [Inject(at_ms: 5, from: "client", flags: "RST", tsval: 2.5)],"#,
            "7:68: error: `faults[0].tsval`: expected an integer; found `2.5`",
        ),
        (
            "limits: (max_events: 1.5e3),",
            "7:26: error: `limits.max_events`: expected an integer; found `1.5e3`: write 1500 (no exponent notation in integers)",
        ),
    ];
    for (extra, line) in cases {
        let (out, file) = run(&dir, extra, "", &[]);
        assert_errors(&out, &file, &[line]);
    }
    let (out, _) = run(&dir, r#"faults: [Delay(matching: (from: "client"), by_ms: 2.5)],"#, "", &["--quiet"]);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
}

/// The same from the command line: the flag is named.
#[test]
fn a_fraction_from_set_names_the_flag() {
    let dir = tempdir();
    let (out, file) = run(&dir, "", "", &["--set", "seed=3.5"]);
    assert_errors(&out, &file, &[" error: --set seed=3.5: expected an integer; found `3.5`"]);
}

// ------------------------------------------------- one error per mistake

/// A bound broken by the file's `tcp` block is reported once, at the value
/// written, with the other value and where it comes from; the listener
/// and connection, which inherit the block, add nothing.
#[test]
fn a_tcp_setting_out_of_order_is_reported_once_where_written() {
    let dir = tempdir();
    let cases = [
        (
            "tcp: (rto_min_ms: 100000),",
            "7:23: error: `tcp.rto_min_ms`: expected at most rto_max_ms (60000 ms, the default), found 100000 ms",
        ),
        (
            "tcp: (rto_initial_ms: 70000),",
            "7:27: error: `tcp.rto_initial_ms`: expected at most rto_max_ms (60000 ms, the default), found 70000 ms",
        ),
        (
            "tcp: (rto_min_ms: 3000, rto_max_ms: 2000), allow_rfc_violations: true,",
            "7:41: error: `tcp.rto_max_ms`: expected at least rto_min_ms (3000 ms), found 2000 ms",
        ),
        (
            "tcp: (ts_tick_ms: 0),",
            "7:23: error: `tcp.ts_tick_ms`: expected a positive duration in milliseconds, found 0",
        ),
        (
            "tcp: (rto_max_ms: 0),",
            "7:23: error: `tcp.rto_max_ms`: expected a positive duration in milliseconds, found 0",
        ),
        (
            "tcp: (time_wait_ms: 0),",
            "7:25: error: `tcp.time_wait_ms`: expected a positive duration in milliseconds, found 0",
        ),
    ];
    for (extra, line) in cases {
        let (out, file) = run(&dir, extra, "", &[]);
        assert_errors(&out, &file, &[line]);
    }
}

/// An endpoint block that breaks a bound with an inherited value is where
/// the mistake is, and the message says the other value came from `tcp`;
/// a profile whose defaults break it is named at `profile`.
#[test]
fn an_endpoint_block_breaking_an_inherited_bound_is_named() {
    let dir = tempdir();
    let (out, file) =
        run(&dir, "tcp: (rto_initial_ms: 10000), allow_rfc_violations: true,", ", tcp: (rto_max_ms: 5000)", &[]);
    assert_errors(
        &out,
        &file,
        &[
            "5:73: error: `listeners[0].tcp.rto_max_ms`: expected at least rto_initial_ms (10000 ms, from `tcp`), found 5000 ms",
        ],
    );
    let (out, file) = run(&dir, "tcp: (profile: linux, rto_min_ms: 100000),", ", tcp: (profile: rfc)", &[]);
    assert_errors(
        &out,
        &file,
        &[
            "5:70: error: `listeners[0].tcp.profile`: under this profile, rto_min_ms (100000 ms, from `tcp`) is above rto_max_ms (60000 ms, the default)",
        ],
    );
}

/// Rules that are independent of each other each report, at the same
/// value: an RTO maximum below the minimum (or the initial RTO) is out of
/// order and also below RFC 6298's 60 s floor.
#[test]
fn independent_tcp_rules_each_report() {
    let dir = tempdir();
    let floor = "RFC 6298 (2.5) requires an RTO maximum of at least 60 s";
    let consent = "set `allow_rfc_violations: true` to run it anyway";
    let (out, file) = run(&dir, "tcp: (rto_max_ms: 500),", "", &[]);
    assert_errors(
        &out,
        &file,
        &[
            "7:23: error: `tcp.rto_max_ms`: expected at least rto_min_ms (1000 ms, the default), found 500 ms",
            &format!("7:23: error: `tcp.rto_max_ms`: {floor}, found 500 ms; {consent}"),
        ],
    );
    // Below both rto_min_ms and rto_initial_ms, the maximum is too small:
    // one mistake, named against the larger. Line 5: the listener's
    // `rto_max_ms` value is at column 94 (95 with a 4-digit initial RTO).
    let (out, file) = run(&dir, "", ", tcp: (rto_initial_ms: 500, rto_max_ms: 400)", &[]);
    let at = "5:94: error: `listeners[0].tcp.rto_max_ms`";
    assert_errors(
        &out,
        &file,
        &[
            &format!("{at}: expected at least rto_min_ms (1000 ms, the default), found 400 ms"),
            &format!("{at}: {floor}, found 400 ms; {consent}"),
        ],
    );
    let (out, file) = run(&dir, "", ", tcp: (rto_initial_ms: 3000, rto_max_ms: 2000)", &[]);
    let at = "5:95: error: `listeners[0].tcp.rto_max_ms`";
    assert_errors(
        &out,
        &file,
        &[
            &format!("{at}: expected at least rto_initial_ms (3000 ms), found 2000 ms"),
            &format!("{at}: {floor}, found 2000 ms; {consent}"),
        ],
    );
}

// ------------------------------------------------------------- host address

/// A host's address names one host: not the unspecified address, the
/// broadcast address or a multicast group, nor may a group's members run
/// into one.
#[test]
fn host_addresses_are_unicast() {
    let dir = tempdir();
    let allowed = "expected a unicast address (not 0.0.0.0, 255.255.255.255 or multicast 224.0.0.0/4)";
    for addr in ["0.0.0.0", "255.255.255.255", "224.0.0.1", "239.255.255.255"] {
        let path = dir.path().join("h.ron");
        std::fs::write(&path, format!("(\n    name: \"h\",\n    hosts: [(name: \"a\", addr: \"{addr}\")],\n)\n"))
            .unwrap();
        let file = path_str(&path);
        let out = tcpsim(&["run", file]);
        assert_errors(&out, file, &[&format!("3:31: error: `hosts[0].addr`: {allowed}, found {addr}")]);
    }
    let path = dir.path().join("g.ron");
    std::fs::write(&path, "(\n    name: \"g\",\n    hosts: [(name: \"a\", addr: \"223.255.255.254\", count: 3)],\n)\n")
        .unwrap();
    let file = path_str(&path);
    let out = tcpsim(&["run", file]);
    assert_errors(&out, file, &[&format!("3:31: error: `hosts[0].addr`: {allowed}, found 224.0.0.0 (member \"a#2\")")]);
}

/// A refused address is the only error: the host, and every member of a
/// group, is still recorded, so later names resolve to the hosts they name
/// and later defaults do not follow the refused address.
#[test]
fn a_refused_address_misnames_no_other_host() {
    let allowed = "expected a unicast address (not 0.0.0.0, 255.255.255.255 or multicast 224.0.0.0/4)";
    let file = "sims/lossy-transfer.ron";
    let out = tcpsim(&["run", file, "--set", "hosts[0].addr=\"224.1.1.1\""]);
    assert_errors(
        &out,
        file,
        &[&format!(
            "27:13: error: `hosts[0].addr`: {allowed}, found 224.1.1.1 (set by --set hosts[0].addr=\"224.1.1.1\")"
        )],
    );
    let dir = tempdir();
    let cases = [
        (
            r#"hosts: [(name: "z", addr: "0.0.0.0"), (name: "a", count: 3), (name: "b")],
    links: [(between: ("a", "b")), (between: ("z", "b"))],"#,
            format!("3:31: error: `hosts[0].addr`: {allowed}, found 0.0.0.0"),
        ),
        (
            r#"hosts: [(name: "a"), (name: "b", addr: "223.255.255.254", count: 3)],
    faults: [Partition(between: ("a", "b#2"), from_ms: 0, to_ms: 10)],"#,
            format!("3:44: error: `hosts[1].addr`: {allowed}, found 224.0.0.0 (member \"b#2\")"),
        ),
    ];
    for (body, line) in cases {
        let path = dir.path().join("h.ron");
        std::fs::write(&path, format!("(\n    name: \"h\",\n    {body}\n)\n")).unwrap();
        let file = path_str(&path);
        assert_errors(&tcpsim(&["run", file]), file, &[&line]);
    }
}

/// An address the file does not write is named as the default, the one
/// after the highest before it, not as a value the user wrote.
#[test]
fn a_refused_default_address_is_named_the_default() {
    let dir = tempdir();
    let path = dir.path().join("d.ron");
    std::fs::write(
        &path,
        "(\n    name: \"d\",\n    hosts: [(name: \"a\", addr: \"223.255.255.255\"), (name: \"b\")],\n)\n",
    )
    .unwrap();
    let file = path_str(&path);
    assert_errors(
        &tcpsim(&["run", file]),
        file,
        &[
            "3:51: error: `hosts[1].addr`: expected a unicast address (not 0.0.0.0, 255.255.255.255 or multicast 224.0.0.0/4), found 224.0.0.0, the default address (the one after the highest before it, 223.255.255.255)",
        ],
    );
}

// ------------------------------------------------------ not RON at all

/// A TOML file is not taken for JSON; JSON still is.
#[test]
fn toml_is_not_called_json() {
    let dir = tempdir();
    let struct_expected = "1:1: error: expected a struct `(field: value, ...)`";
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "[package]\nname = \"x\"\n").unwrap();
    let file = path_str(&path);
    let out = tcpsim(&["run", file]);
    assert_errors(
        &out,
        file,
        &[&format!("{struct_expected}; this looks like TOML, but simulation files are RON: `(name: \"...\", ...)`")],
    );
    let path = dir.path().join("j.json");
    std::fs::write(&path, "[{\"name\": \"x\"}]\n").unwrap();
    let file = path_str(&path);
    let out = tcpsim(&["run", file]);
    assert_errors(
        &out,
        file,
        &[&format!("{struct_expected}; this looks like JSON, but simulation files are RON: `(name: \"...\", ...)`")],
    );
}
