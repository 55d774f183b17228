//! `tcpsim diff A B`: where two JSONL traces first differ, with context.
//! For comparing two versions of tcpsim, two settings, or two seeds.
//! Exit 0 when the traces are identical, 1 when they differ, 2 when a file
//! cannot be read or is not a JSONL trace.
//!
//! The identity fields (`ep`, `pkt`, `copy`, and `t_ns` of `expect` and
//! `summary` records) came with digest version 3. When only one of the
//! traces has them (the other was written by an older tcpsim, as its
//! summary's `digest_version` says), they are
//! left out of the comparison, and the report says so, so that every line
//! does not differ for that alone. Two traces of this version compare
//! them like any field: `pkt` numbers sends in order, so it agrees as long
//! as everything before it does.

use super::{DiffArgs, EXIT_BAD_INPUT, EXIT_OK};
use std::fmt::Write as _;
use std::io::Write;

/// Exit code when the traces differ (as diff(1)).
const EXIT_DIFFERENT: u8 = 1;

/// The fields of one JSON object line, as (key, value as compact JSON),
/// in the line's order; `None` if the line is not a JSON object.
fn fields(line: &str) -> Option<Vec<(String, String)>> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).ok()?;
    Some(object.into_iter().map(|(k, v)| (k, v.to_string())).collect())
}

/// `key a -> b` for every field whose value differs or that only one
/// line has.
fn field_changes(a: &str, b: &str) -> String {
    let (Some(fa), Some(fb)) = (fields(a), fields(b)) else {
        return String::new();
    };
    let mut parts = Vec::new();
    for (k, va) in &fa {
        match fb.iter().find(|(kb, _)| kb == k) {
            Some((_, vb)) if vb != va => parts.push(format!("{k} {va} -> {vb}")),
            Some(_) => {}
            None => parts.push(format!("{k} {va} -> (absent)")),
        }
    }
    for (k, vb) in &fb {
        if !fa.iter().any(|(ka, _)| ka == k) {
            parts.push(format!("{k} (absent) -> {vb}"));
        }
    }
    parts.join("; ")
}

fn read_trace(path: &std::path::Path) -> Result<Vec<String>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{}: error: cannot read the file: {e}", path.display()))?;
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    if let Some((i, _)) = lines.iter().enumerate().find(|(_, l)| !l.trim().is_empty() && fields(l).is_none()) {
        return Err(format!(
            "{}:{}:1: error: not a JSONL trace record (write traces with `tcpsim run FILE --format jsonl`)",
            path.display(),
            i + 1
        ));
    }
    Ok(lines)
}

/// The fields an older trace lacks (see the module doc).
const IDENTITY_FIELDS: [&str; 3] = ["ep", "pkt", "copy"];

/// Which encoding wrote a trace, as far as it shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Identity {
    /// Digest version 3 or later: the identity fields are there.
    With,
    /// An older tcpsim: no identity fields.
    Without,
    /// Nothing tells (a cut trace with neither a summary nor an endpoint
    /// or expect record).
    Unknown,
}

/// Whether a trace has the identity fields. The summary's
/// `digest_version` says so (a `--quiet` trace has no endpoint records,
/// so no `ep` would show); without one (a cut trace), any `ep` says yes,
/// and an `expect` or `summary` record without `t_ns` says no.
fn identity(lines: &[String]) -> Identity {
    let value = |f: &[(String, String)], key: &str| f.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    // Only lines that may tell are parsed (a trace can be long).
    let telling = ["\"ep\":", "\"expect\"", "\"summary\""];
    let records = || lines.iter().filter(|l| telling.iter().any(|t| l.contains(t))).filter_map(|l| fields(l));
    let summary = lines
        .iter()
        .rev()
        .filter(|l| l.contains("\"summary\""))
        .filter_map(|l| fields(l))
        .find(|f| value(f, "kind").as_deref() == Some("\"summary\""));
    if let Some(version) = summary.as_deref().and_then(|f| value(f, "digest_version")) {
        let version: u64 = version.parse().unwrap_or(0);
        return if 3 <= version { Identity::With } else { Identity::Without };
    }
    for f in records() {
        if value(&f, "ep").is_some() {
            return Identity::With;
        }
        if matches!(value(&f, "kind").as_deref(), Some("\"expect\"" | "\"summary\"")) {
            return if value(&f, "t_ns").is_some() { Identity::With } else { Identity::Without };
        }
    }
    Identity::Unknown
}

/// `line` without the identity fields, as compact JSON (for comparing).
fn without_identity(line: &str) -> String {
    let Some(f) = fields(line) else { return line.to_string() };
    let kind = f.iter().find(|(k, _)| k == "kind").map(|(_, v)| v.as_str());
    let stamped = matches!(kind, Some("\"expect\"" | "\"summary\""));
    let kept: Vec<String> = f
        .iter()
        .filter(|(k, _)| {
            let left_out = IDENTITY_FIELDS.contains(&k.as_str()) || (stamped && k == "t_ns");
            !left_out
        })
        .map(|(k, v)| format!("{}:{v}", serde_json::Value::from(k.as_str())))
        .collect();
    format!("{{{}}}", kept.join(","))
}

/// What comparing two traces found.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Comparison {
    /// Byte for byte the same lines.
    Identical,
    /// The same but for the identity fields one of them lacks (the report
    /// says so).
    Agree(String),
    /// They differ; the report shows where.
    Differ(String),
}

/// Compares two traces. When only one has the identity fields, they are
/// left out of the comparison.
fn compare(a_name: &str, a: &[String], b_name: &str, b: &[String], context: usize) -> Comparison {
    let (identity_a, identity_b) = (identity(a), identity(b));
    let one_sided =
        matches!((identity_a, identity_b), (Identity::With, Identity::Without) | (Identity::Without, Identity::With));
    let mut s = String::new();
    let same = if !one_sided {
        a.iter().zip(b).take_while(|(x, y)| x == y).count()
    } else {
        let (with, without) = if identity_a == Identity::With { (a_name, b_name) } else { (b_name, a_name) };
        let _ = writeln!(
            s,
            "note: {without} has no `ep`, `pkt` or `copy` (written before digest version 3); those fields, and the `t_ns` of expect and summary records, are left out of the comparison with {with}"
        );
        a.iter().zip(b).take_while(|(x, y)| without_identity(x) == without_identity(y)).count()
    };
    if same == a.len() && same == b.len() {
        if one_sided {
            return Comparison::Agree(s + &format!("{a_name} and {b_name} agree on all {same} lines\n"));
        }
        return Comparison::Identical;
    }
    let _ = writeln!(s, "{a_name} and {b_name} agree on {same} lines, then differ at line {}:", same + 1);
    for (i, l) in a.iter().enumerate().take(same).skip(same.saturating_sub(context)) {
        let _ = writeln!(s, "  {:>6}  {l}", i + 1);
    }
    match (a.get(same), b.get(same)) {
        (Some(x), Some(y)) => {
            let _ = writeln!(s, "- {:>6}  {x}", same + 1);
            let _ = writeln!(s, "+ {:>6}  {y}", same + 1);
            let changes = field_changes(x, y);
            if !changes.is_empty() {
                let _ = writeln!(s, "  fields: {changes}");
            }
        }
        (Some(x), None) => {
            let _ = writeln!(s, "- {:>6}  {x}", same + 1);
            let _ = writeln!(s, "+         ({b_name} ends here)");
        }
        (None, Some(y)) => {
            let _ = writeln!(s, "-         ({a_name} ends here)");
            let _ = writeln!(s, "+ {:>6}  {y}", same + 1);
        }
        (None, None) => unreachable!("the traces differ"),
    }
    for (name, lines, sign) in [(a_name, a, '-'), (b_name, b, '+')] {
        let next: Vec<&String> = lines.iter().skip(same + 1).take(context).collect();
        if !next.is_empty() {
            let _ = writeln!(s, "then in {name}:");
            for (k, l) in next.iter().enumerate() {
                let _ = writeln!(s, "{sign} {:>6}  {l}", same + 2 + k);
            }
        }
    }
    Comparison::Differ(s)
}

pub fn diff(args: &DiffArgs) -> u8 {
    let (a, b) = match (read_trace(&args.a), read_trace(&args.b)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            stderrln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let (a_name, b_name) = (args.a.display().to_string(), args.b.display().to_string());
    let mut out = std::io::stdout().lock();
    match compare(&a_name, &a, &b_name, &b, args.context) {
        Comparison::Identical => {
            let _ = writeln!(out, "{a_name} and {b_name} are identical ({} lines)", a.len());
            EXIT_OK
        }
        // Equal but for the fields one version lacks: not identical, and
        // the report says how they agree.
        Comparison::Agree(report) => {
            let _ = out.write_all(report.as_bytes());
            EXIT_OK
        }
        Comparison::Differ(report) => {
            let _ = out.write_all(report.as_bytes());
            EXIT_DIFFERENT
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEND: &str =
        r#"{"t_ns":0,"kind":"send","conn":0,"endpoint":"a \"x\", y","flags":"SYN","seq":1,"retransmit":false}"#;

    #[test]
    fn flat_objects_split_into_fields() {
        let f = fields(SEND).unwrap();
        let field = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(f[0], field("t_ns", "0"));
        assert_eq!(f[3], field("endpoint", r#""a \"x\", y""#));
        assert_eq!(f.last(), Some(&field("retransmit", "false")));
        assert!(fields("t_ns=0").is_none());
        assert!(fields(r#"{"a":1,}"#).is_none());
        assert_eq!(fields("{}"), Some(vec![]));
    }

    #[test]
    fn the_first_difference_is_shown_with_its_fields() {
        let a: Vec<String> = vec!["{\"n\":1}".into(), SEND.into(), "{\"n\":3}".into()];
        let mut b = a.clone();
        b[1] = SEND.replace("\"seq\":1", "\"seq\":2").replace(",\"retransmit\":false", "");
        let Comparison::Differ(r) = compare("a", &a, "b", &b, 3) else { panic!() };
        assert!(r.starts_with("a and b agree on 1 lines, then differ at line 2:"), "{r}");
        assert!(r.contains("fields: seq 1 -> 2; retransmit false -> (absent)"), "{r}");
        assert!(r.contains("then in a:\n-      3  {\"n\":3}"), "{r}");
        assert_eq!(compare("a", &a, "b", &a, 3), Comparison::Identical);
        let short = &a[..2];
        let Comparison::Differ(r) = compare("a", &a, "b", short, 3) else { panic!() };
        assert!(r.contains("(b ends here)"), "{r}");
    }

    /// A trace of an older version (no `ep`, `pkt`, `copy`, no `t_ns` on
    /// expect and summary) differs from a new one only where its events do.
    #[test]
    fn identity_fields_of_one_side_only_are_left_out() {
        let new: Vec<String> = vec![
            r#"{"t_ns":0,"kind":"send","conn":0,"ep":0,"endpoint":"a","flags":"SYN","pkt":0,"retransmit":false}"#
                .into(),
            r#"{"t_ns":5,"kind":"deliver","conn":0,"ep":1,"endpoint":"b","flags":"SYN","pkt":0,"copy":0}"#.into(),
            r#"{"t_ns":5,"kind":"summary","digest":"x"}"#.into(),
        ];
        let old: Vec<String> = vec![
            r#"{"t_ns":0,"kind":"send","conn":0,"endpoint":"a","flags":"SYN","retransmit":false}"#.into(),
            r#"{"t_ns":5,"kind":"deliver","conn":0,"endpoint":"b","flags":"SYN"}"#.into(),
            r#"{"kind":"summary","digest":"x"}"#.into(),
        ];
        let Comparison::Agree(r) = compare("new", &new, "old", &old, 3) else { panic!() };
        assert!(r.starts_with("note: old has no `ep`"), "{r}");
        assert!(r.contains("new and old agree on all 3 lines"), "{r}");
        let mut moved = old.clone();
        moved[1] = moved[1].replace("\"t_ns\":5", "\"t_ns\":6");
        let Comparison::Differ(r) = compare("new", &new, "old", &moved, 3) else { panic!() };
        assert!(r.contains("agree on 1 lines, then differ at line 2:"), "{r}");
        assert!(r.contains("fields: t_ns 5 -> 6; ep 1 -> (absent); pkt 0 -> (absent); copy 0 -> (absent)"), "{r}");
        // Between two traces that both have them, they count.
        let mut renumbered = new.clone();
        renumbered[1] = renumbered[1].replace("\"pkt\":0", "\"pkt\":1");
        let Comparison::Differ(r) = compare("a", &new, "b", &renumbered, 3) else { panic!() };
        assert!(r.contains("fields: pkt 0 -> 1"), "{r}");
    }

    /// `--quiet` traces hold only expect and summary records, so no `ep`
    /// shows which version wrote them: the summary's `digest_version` does.
    #[test]
    fn quiet_traces_of_two_versions_are_told_apart_by_the_digest_version() {
        let new: Vec<String> = vec![
            r#"{"t_ns":9,"kind":"expect","ok":true,"conn":null,"ep":null,"endpoint":null,"check":"drops"}"#.into(),
            r#"{"t_ns":9,"kind":"summary","digest":"x","digest_version":3}"#.into(),
        ];
        let old: Vec<String> = vec![
            r#"{"kind":"expect","ok":true,"conn":null,"endpoint":null,"check":"drops"}"#.into(),
            r#"{"kind":"summary","digest":"x","digest_version":2}"#.into(),
        ];
        // The expect records agree; the summaries differ in what really
        // changed, not in `t_ns`.
        let Comparison::Differ(r) = compare("new", &new, "old", &old, 3) else { panic!() };
        assert!(r.starts_with("note: old has no `ep`"), "{r}");
        assert!(r.contains("agree on 1 lines, then differ at line 2:"), "{r}");
        assert!(r.contains("digest_version 3 -> 2"), "{r}");
        let mut same_summary = old.clone();
        same_summary[1] = same_summary[1].replace(",\"digest_version\":2", "");
        let new_summary = vec![new[0].clone(), new[1].replace(",\"digest_version\":3", "")];
        let r = compare("new", &new_summary, "old", &same_summary, 3);
        assert!(matches!(&r, Comparison::Agree(s) if s.contains("agree on all 2 lines")), "{r:?}");
        assert_eq!(compare("new", &new, "new", &new, 3), Comparison::Identical);
    }
}
