//! A run as data. A seeded run's random link decisions, kept by
//! [`World::record_fates`], become a simulation file that replays the run
//! with no randomness left: its links lose their random elements, every
//! initial sequence number is written out, and each decision is a `Fate`
//! fault. `tcpsim run --emit-faults` writes such a file; `tcpsim shrink`
//! removes decisions from it.
//!
//! Files are edited as text, so the user's comments and layout survive.

use crate::model::Model;
use crate::scenario::locate::{Doc, Step, format_path, splice};
use crate::world::{RecordedFate, World};
use std::fmt::Write as _;

/// Random link fields, and the value that turns each off.
const RANDOM_LINK_FIELDS: [(&str, &str); 6] =
    [("jitter_ms", "0"), ("loss", "0"), ("burst", "None"), ("reorder", "0"), ("duplicate", "0"), ("corrupt", "0")];

fn field(path: &[Step], name: &str) -> Vec<Step> {
    let mut p = path.to_vec();
    p.push(Step::Field(name.into()));
    p
}

fn set(text: &mut String, path: &[Step], value: &str) -> Result<(), String> {
    let (edited, _) = splice(text, path, value).map_err(|_| format!("cannot set `{}`", format_path(path)))?;
    *text = edited;
    Ok(())
}

/// Sets field `name` of the struct at `path`: replaced where present,
/// otherwise written right after the struct's `name: "..."` (always safe:
/// no comment can start between a string and its comma).
fn set_after_name(text: &mut String, path: &[Step], name: &str, value: &str) -> Result<(), String> {
    let doc = Doc::parse(text);
    if doc.span(&field(path, name)).is_some() {
        return set(text, &field(path, name), value);
    }
    let (_, end) = doc.span(&field(path, "name")).ok_or_else(|| format!("`{}` has no name", format_path(path)))?;
    text.insert_str(end, &format!(", {name}: {value}"));
    Ok(())
}

/// `text` (a scenario `world` ran, overrides applied) with link randomness
/// off and every endpoint's ISS fixed to what it was in that run, so it
/// runs the same with any seed: written out as `iss` fields, or, where
/// endpoints share one field (a population, a listener that accepted
/// several connections), as the `iss_seed` they were drawn from.
pub fn pin(text: &str, world: &World) -> Result<String, String> {
    let mut out = pin_links(text, world.model())?;
    match iss_fields(world.model(), world) {
        Some(fields) => {
            for (path, iss) in fields {
                set_after_name(&mut out, &path, "iss", &iss.to_string())?;
            }
        }
        // Endpoints that share one `iss` field drew theirs from the run's
        // seed; the file keeps drawing them from it, whatever --seed says.
        None => {
            let seed = world.model().iss_seed.unwrap_or(world.model().seed);
            set_after_name(&mut out, &[], "iss_seed", &seed.to_string())?;
        }
    }
    Ok(out)
}

/// `text` (the file of `model`) with every random link element off.
pub fn pin_links(text: &str, model: &Model) -> Result<String, String> {
    let mut out = text.to_string();
    let links = Step::Field("links".into());
    for i in 0..model.links.len() {
        let link = vec![links.clone(), Step::Index(i)];
        for dir in [None, Some("a_to_b"), Some("b_to_a")] {
            let base = match dir {
                Some(d) => field(&link, d),
                None => link.clone(),
            };
            for (name, off) in RANDOM_LINK_FIELDS {
                if Doc::parse(&out).span(&field(&base, name)).is_some() {
                    set(&mut out, &field(&base, name), off)?;
                }
            }
        }
    }
    Ok(out)
}

/// The `iss` each endpoint had in the run, by the path of the struct that
/// names it; `None` if some struct stands for several endpoints.
fn iss_fields(model: &Model, world: &World) -> Option<Vec<(Vec<Step>, u32)>> {
    if model.connections.iter().any(|c| c.count > 1) {
        return None;
    }
    let total = model.connection_count() as u32;
    // (name, conn, iss) of every endpoint that belongs to a connection.
    let mut seen: Vec<(String, u32, u32)> = Vec::new();
    world.for_each_connection(|conn, eps| {
        if conn < total {
            seen.extend(eps.iter().map(|e| (e.name.to_string(), conn, e.tcp.iss().0)));
        }
    });
    let iss_of = |name: &str, conn: u32| seen.iter().find(|(n, c, _)| n == name && *c == conn).map(|x| x.2);
    let mut out = Vec::new();
    for (i, c) in model.connections.iter().enumerate() {
        let path = vec![Step::Field("connections".into()), Step::Index(i)];
        if let Some(iss) = iss_of(&c.name, i as u32) {
            out.push((path.clone(), iss));
        }
        if let Some(p) = &c.peer
            && let Some(iss) = iss_of(&p.name, i as u32)
        {
            out.push((field(&path, "peer"), iss));
        }
    }
    for (i, l) in model.listeners.iter().enumerate() {
        let accepted: Vec<u32> = seen.iter().filter(|(n, _, _)| *n == l.name).map(|x| x.2).collect();
        match accepted.as_slice() {
            [] => {}
            [iss] => out.push((vec![Step::Field("listeners".into()), Step::Index(i)], *iss)),
            _ => return None,
        }
    }
    Some(out)
}

/// Milliseconds that convert back to the same nanoseconds: up to six
/// decimals, trailing zeros dropped.
pub fn exact_ms(ns: u64) -> String {
    let (whole, frac) = (ns / 1_000_000, ns % 1_000_000);
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// One decision as a `Fate` fault in file syntax.
pub fn fate_text(f: &RecordedFate) -> String {
    let mut s = format!("Fate(from: {:?}, ", f.from);
    if f.conn != 0 {
        let _ = write!(s, "conn: {}, ", f.conn);
    }
    let _ = write!(s, "nth: {}", f.nth);
    if let Some(reason) = f.fate.drop {
        let _ = write!(s, ", drop: {}", reason.name());
    }
    if let Some(d) = f.fate.delay {
        let _ = write!(s, ", delay_ms: {}", exact_ms(d.as_nanos()));
    }
    if let Some(d) = f.fate.copy {
        let _ = write!(s, ", copy_ms: {}", exact_ms(d.as_nanos()));
    }
    if f.fate.corrupt {
        s.push_str(", corrupt: true");
    }
    s.push(')');
    s
}

/// `text` with `fates` appended to its `faults` list (created if absent)
/// and `comment` lines at the top.
pub fn with_fates(text: &str, fates: &[RecordedFate], comment: &[String]) -> Result<String, String> {
    let entries: Vec<String> = fates.iter().map(fate_text).collect();
    with_faults(text, &entries, comment)
}

/// `text` with `entries` (faults in file syntax) appended to its `faults`
/// list (created if absent) and `comment` lines at the top.
pub fn with_faults(text: &str, entries: &[String], comment: &[String]) -> Result<String, String> {
    let doc = Doc::parse(text);
    let faults = [Step::Field("faults".into())];
    let mut out = text.to_string();
    if !entries.is_empty() {
        match doc.len(&faults) {
            Some(0) => {
                let (start, _) = doc.span(&faults).ok_or("the `faults` list has no position")?;
                let body: String = entries.iter().map(|e| format!("\n        {e},")).collect();
                out.insert_str(start + 1, &format!("{body}\n    "));
            }
            Some(n) => {
                // Right after the last entry: a trailing comma, if the file
                // has one, then follows the new last entry.
                let (_, end) = doc.span(&[faults[0].clone(), Step::Index(n - 1)]).ok_or("a fault has no position")?;
                let body: String = entries.iter().map(|e| format!(",\n        {e}")).collect();
                out.insert_str(end, &body);
            }
            None => {
                let fields = doc.fields(&[]).ok_or("the file is not a scenario struct")?;
                let end = fields
                    .iter()
                    .filter_map(|f| doc.span(&[Step::Field(f.clone())]).map(|s| s.1))
                    .max()
                    .ok_or("the scenario has no fields")?;
                let body: String = entries.iter().map(|e| format!("\n        {e},")).collect();
                out.insert_str(end, &format!(",\n    faults: [{body}\n    ]"));
            }
        }
    }
    let header: String = comment.iter().map(|l| format!("// {l}\n")).collect();
    Ok(header + &out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::{DropReason, Fate};
    use crate::time::Duration;

    fn fate(from: &str, nth: u32, fate: Fate) -> RecordedFate {
        RecordedFate { from: from.into(), conn: 0, nth, fate }
    }

    #[test]
    fn milliseconds_round_trip_to_the_nanosecond() {
        assert_eq!(exact_ms(10_000_000), "10");
        assert_eq!(exact_ms(12_345_678), "12.345678");
        assert_eq!(exact_ms(1_500_000), "1.5");
        assert_eq!(exact_ms(7), "0.000007");
        for ns in [1u64, 999_999, 10_000_001, 86_400_000_000_123] {
            let ms: f64 = exact_ms(ns).parse().unwrap();
            assert_eq!((ms * 1e6).round() as u64, ns);
        }
    }

    #[test]
    fn fates_print_only_what_they_change() {
        let lost = fate("client", 3, Fate { drop: Some(DropReason::Loss), ..Fate::default() });
        assert_eq!(fate_text(&lost), r#"Fate(from: "client", nth: 3, drop: loss)"#);
        let late = RecordedFate {
            conn: 2,
            ..fate(
                "server",
                1,
                Fate {
                    delay: Some(Duration::from_nanos(12_500_000)),
                    copy: Some(Duration::from_millis(20)),
                    ..Fate::default()
                },
            )
        };
        assert_eq!(fate_text(&late), r#"Fate(from: "server", conn: 2, nth: 1, delay_ms: 12.5, copy_ms: 20)"#);
    }

    #[test]
    fn fates_join_an_existing_list_or_start_one() {
        let lost = [fate("c", 1, Fate { drop: Some(DropReason::Loss), ..Fate::default() })];
        let none = "(\n    name: \"x\",\n    hosts: [], // end\n)\n";
        let out = with_fates(none, &lost, &["note".into()]).unwrap();
        assert_eq!(
            out,
            "// note\n(\n    name: \"x\",\n    hosts: [],\n    faults: [\n        Fate(from: \"c\", nth: 1, drop: loss),\n    ], // end\n)\n"
        );
        let empty = "(name: \"x\", faults: [])";
        assert!(
            with_fates(empty, &lost, &[])
                .unwrap()
                .contains("faults: [\n        Fate(from: \"c\", nth: 1, drop: loss),\n    ]")
        );
        let some = "(name: \"x\", faults: [Drop(matching: ()), // first\n])";
        let out = with_fates(some, &lost, &[]).unwrap();
        assert_eq!(
            out,
            "(name: \"x\", faults: [Drop(matching: ()),\n        Fate(from: \"c\", nth: 1, drop: loss), // first\n])"
        );
        let ok: Result<ron::Value, _> = ron::from_str(&out);
        assert!(ok.is_ok(), "{out}");
    }
}
