//! Writing simulation files: typed edits of a file's text.
//!
//! Every file tcpsim writes or changes goes through [`SimText`]: `--set`,
//! `--loss` and `--vary` overrides, the pinned files of `run --emit-faults`
//! and `shrink`, and the outcome files of `explore`. The edits splice new
//! values into the text (`locate`), so the user's comments and layout
//! survive and later error positions still point at what the user wrote.
//! Values written from runtime types ([`Fault`], durations) are rendered
//! here, next to the reader, so that what is written loads back to the
//! same model.

use super::locate::{Doc, SpliceError, Step, format_path, splice};
use crate::model::{Fault, Filter, SegmentFaultAction};
use crate::time::Duration;
use std::fmt::Write as _;

/// Random link fields, and the value that turns each off.
const RANDOM_LINK_FIELDS: [(&str, &str); 6] =
    [("jitter_ms", "0"), ("loss", "0"), ("burst", "None"), ("reorder", "0"), ("duplicate", "0"), ("corrupt", "0")];

/// Why an edit could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditError {
    /// The file has no value at this path, and it cannot be created (a list
    /// index past the end, a path through a non-struct value).
    NotFound(String),
    /// The new value is not one RON value.
    NotAValue(String),
    /// The file is not a scenario struct that can take the edit.
    Shape(String),
    /// This fault has no file syntax that tcpsim writes.
    Unwritable(String),
}

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EditError::NotFound(path) => write!(f, "the file has no `{path}`"),
            EditError::NotAValue(e) => write!(f, "not a RON value: {e}"),
            EditError::Shape(what) | EditError::Unwritable(what) => f.write_str(what),
        }
    }
}

/// A simulation file's text under edit.
#[derive(Clone, Debug)]
pub struct SimText {
    text: String,
    comment: Vec<String>,
}

impl SimText {
    /// The text of a simulation file, ready for edits.
    pub fn new(text: &str) -> SimText {
        SimText { text: text.to_string(), comment: Vec::new() }
    }

    /// Sets the value at `path` to `value` (RON text): replaced where the
    /// file has it, otherwise inserted into the nearest enclosing struct.
    /// The value must be one RON value on its own, so it cannot break the
    /// file's syntax around it.
    pub fn set(&mut self, path: &[Step], value: &str) -> Result<(), EditError> {
        if let Err(e) = super::ron_options().from_str::<ron::Value>(value) {
            let why = match e.code {
                ron::Error::TrailingCharacters => "text after the value".to_string(),
                code => super::explain::describe(&code),
            };
            return Err(EditError::NotAValue(why));
        }
        // The value is spliced into a line of the file: a trailing `//`
        // comment would swallow what follows it there (a comma, a bracket).
        if super::ron_options().from_str::<ron::Value>(&format!("[{value}]")).is_err() {
            return Err(EditError::NotAValue(
                "a `//` comment in a value would comment out the rest of the file's line".into(),
            ));
        }
        self.splice(path, value)
    }

    /// `set` for values this module rendered itself.
    fn splice(&mut self, path: &[Step], value: &str) -> Result<(), EditError> {
        match splice(&self.text, path, value) {
            Ok((edited, _)) => {
                self.text = edited;
                Ok(())
            }
            Err(SpliceError::NotFound(p)) => Err(EditError::NotFound(p)),
        }
    }

    /// Whether the file has a value at `path`.
    pub fn has(&self, path: &[Step]) -> bool {
        Doc::parse(&self.text).span(path).is_some()
    }

    /// Turns off every random element of the first `links` links, both
    /// directions and per-direction blocks alike (the file counterpart of
    /// `Model::without_link_randomness`).
    pub fn without_link_randomness(&mut self, links: usize) -> Result<(), EditError> {
        for i in 0..links {
            let link = vec![Step::Field("links".into()), Step::Index(i)];
            for dir in [None, Some("a_to_b"), Some("b_to_a")] {
                let base = match dir {
                    Some(d) => field(&link, d),
                    None => link.clone(),
                };
                for (name, off) in RANDOM_LINK_FIELDS {
                    if self.has(&field(&base, name)) {
                        self.splice(&field(&base, name), off)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Fixes the initial sequence number of the endpoint whose struct is at
    /// `endpoint` (a connection, its `peer`, a listener).
    pub fn pin_iss(&mut self, endpoint: &[Step], iss: u32) -> Result<(), EditError> {
        self.set_after_name(endpoint, "iss", &iss.to_string())
    }

    /// Fixes the seed every initial sequence number is drawn from.
    pub fn pin_iss_seed(&mut self, seed: u64) -> Result<(), EditError> {
        self.set_after_name(&[], "iss_seed", &seed.to_string())
    }

    /// Sets field `name` of the struct at `path`: replaced where present,
    /// otherwise written right after the struct's `name: "..."` (always
    /// safe: no comment can start between a string and its comma).
    fn set_after_name(&mut self, path: &[Step], name: &str, value: &str) -> Result<(), EditError> {
        let doc = Doc::parse(&self.text);
        if doc.span(&field(path, name)).is_some() {
            return self.splice(&field(path, name), value);
        }
        let (_, end) = doc
            .span(&field(path, "name"))
            .ok_or_else(|| EditError::Shape(format!("`{}` has no name", format_path(path))))?;
        self.text.insert_str(end, &format!(", {name}: {value}"));
        Ok(())
    }

    /// Appends `fault` to the `faults` list (created if absent).
    pub fn append_fault(&mut self, fault: &Fault) -> Result<(), EditError> {
        self.append_faults(std::slice::from_ref(fault))
    }

    /// Appends `faults`, in order, to the `faults` list (created if absent).
    pub fn append_faults(&mut self, faults: &[Fault]) -> Result<(), EditError> {
        if faults.is_empty() {
            return Ok(());
        }
        let entries = faults.iter().map(fault_text).collect::<Result<Vec<String>, EditError>>()?;
        let doc = Doc::parse(&self.text);
        let list = [Step::Field("faults".into())];
        let shape = |what: &str| EditError::Shape(what.to_string());
        match doc.len(&list) {
            Some(0) => {
                let (start, _) = doc.span(&list).ok_or_else(|| shape("the `faults` list has no position"))?;
                let body: String = entries.iter().map(|e| format!("\n        {e},")).collect();
                self.text.insert_str(start + 1, &format!("{body}\n    "));
            }
            Some(n) => {
                // Right after the last entry: a trailing comma, if the file
                // has one, then follows the new last entry.
                let (_, end) =
                    doc.span(&[list[0].clone(), Step::Index(n - 1)]).ok_or_else(|| shape("a fault has no position"))?;
                let body: String = entries.iter().map(|e| format!(",\n        {e}")).collect();
                self.text.insert_str(end, &body);
            }
            None => {
                let fields = doc.fields(&[]).ok_or_else(|| shape("the file is not a scenario struct"))?;
                let end = fields
                    .iter()
                    .filter_map(|f| doc.span(&[Step::Field(f.clone())]).map(|s| s.1))
                    .max()
                    .ok_or_else(|| shape("the scenario has no fields"))?;
                let body: String = entries.iter().map(|e| format!("\n        {e},")).collect();
                self.text.insert_str(end, &format!(",\n    faults: [{body}\n    ]"));
            }
        }
        Ok(())
    }

    /// Adds `text` as a comment to the head of the file: every line of
    /// it, split at `\n`, `\r\n` or a lone `\r`, so that a name or path
    /// with a line break in it cannot end the comment.
    pub fn comment(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n");
        self.comment.extend(text.split(['\n', '\r']).map(str::to_string));
    }

    /// The edited file.
    pub fn render(&self) -> String {
        let mut out: String = self.comment.iter().map(|l| format!("{}\n", format!("// {l}").trim_end())).collect();
        out.push_str(&self.text);
        out
    }
}

fn field(path: &[Step], name: &str) -> Vec<Step> {
    let mut p = path.to_vec();
    p.push(Step::Field(name.into()));
    p
}

/// Milliseconds that convert back to the same nanoseconds: up to six
/// decimals, trailing zeros dropped.
pub fn exact_ms(d: Duration) -> String {
    let ns = d.as_nanos();
    let (whole, frac) = (ns / 1_000_000, ns % 1_000_000);
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// One fault in file syntax, writing only what differs from the defaults.
/// tcpsim writes the faults it generates: `Fate` decisions, and segment
/// faults that match every segment.
pub fn fault_text(fault: &Fault) -> Result<String, EditError> {
    match fault {
        Fault::Fate { from, conn, nth, fate } => {
            let mut s = format!("Fate(from: {from:?}, ");
            if *conn != 0 {
                let _ = write!(s, "conn: {conn}, ");
            }
            let _ = write!(s, "nth: {nth}");
            if let Some(reason) = fate.drop {
                let _ = write!(s, ", drop: {}", reason.name());
            }
            if let Some(d) = fate.delay {
                let _ = write!(s, ", delay_ms: {}", exact_ms(d));
            }
            if let Some(d) = fate.copy {
                let _ = write!(s, ", copy_ms: {}", exact_ms(d));
            }
            if fate.corrupt {
                s.push_str(", corrupt: true");
            }
            s.push(')');
            Ok(s)
        }
        Fault::Segment { filter, nth, times, action } if *filter == Filter::default() => {
            let times = if *times == 1 { String::new() } else { format!(", times: {times}") };
            Ok(match action {
                SegmentFaultAction::Drop => format!("Drop(matching: (), nth: {nth}{times})"),
                SegmentFaultAction::Duplicate(d) => {
                    format!("Duplicate(matching: (), nth: {nth}{times}, after_ms: {})", exact_ms(*d))
                }
                SegmentFaultAction::Delay(d) => {
                    format!("Delay(matching: (), nth: {nth}{times}, by_ms: {})", exact_ms(*d))
                }
            })
        }
        other => Err(EditError::Unwritable(format!("tcpsim does not write faults like {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::{DropReason, Fate};
    use crate::world::RecordedFate;

    fn fate(from: &str, nth: u32, fate: Fate) -> RecordedFate {
        RecordedFate { from: from.into(), conn: 0, nth, fate }
    }

    fn ms(ns: u64) -> String {
        exact_ms(Duration::from_nanos(ns))
    }

    fn fate_text(f: &RecordedFate) -> String {
        fault_text(&f.to_fault()).unwrap()
    }

    fn with_fates(text: &str, fates: &[RecordedFate], comment: &[String]) -> Result<String, String> {
        crate::replay::with_fates(&SimText::new(text), fates, comment)
    }

    #[test]
    fn milliseconds_round_trip_to_the_nanosecond() {
        assert_eq!(ms(10_000_000), "10");
        assert_eq!(ms(12_345_678), "12.345678");
        assert_eq!(ms(1_500_000), "1.5");
        assert_eq!(ms(7), "0.000007");
        for ns in [1u64, 999_999, 10_000_001, 86_400_000_000_123] {
            let parsed: f64 = ms(ns).parse().unwrap();
            assert_eq!((parsed * 1e6).round() as u64, ns);
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

    /// Every edit, rendered and loaded again, gives the model the same
    /// edit makes in runtime types: on every shipped sim, so comments,
    /// per-direction link blocks and existing fault lists are all met.
    #[test]
    fn rendered_edits_load_back_to_the_same_model() {
        let drop = |nth| Fault::Segment { filter: Filter::default(), nth, times: 1, action: SegmentFaultAction::Drop };
        let faults = |from: &str| {
            [
                RecordedFate {
                    from: from.into(),
                    conn: 0,
                    nth: 1,
                    fate: Fate { drop: Some(DropReason::Loss), ..Fate::default() },
                }
                .to_fault(),
                Fault::Fate {
                    from: from.into(),
                    conn: 0,
                    nth: 2,
                    fate: Fate {
                        delay: Some(Duration::from_nanos(12_345_678)),
                        copy: Some(Duration::from_nanos(1)),
                        corrupt: true,
                        ..Fate::default()
                    },
                },
                drop(3),
                Fault::Segment {
                    filter: Filter::default(),
                    nth: 4,
                    times: 2,
                    action: SegmentFaultAction::Duplicate(Duration::from_nanos(1_500_000)),
                },
                Fault::Segment {
                    filter: Filter::default(),
                    nth: 5,
                    times: 1,
                    action: SegmentFaultAction::Delay(Duration::from_millis(7)),
                },
            ]
        };
        // Every sim, those in subdirectories of sims/ (sims/rfc7323/) too.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sims");
        let mut files = Vec::new();
        for path in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else {
                files.push(path);
            }
        }
        files.sort();
        assert!(files.len() > 10);
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let base = crate::scenario::load(text.as_bytes(), &[]).unwrap();
            let from = base.connections.first().map(|c| c.name.clone()).unwrap_or_default();
            let faults = faults(&from);
            let mut edited = SimText::new(&text);
            edited.without_link_randomness(base.links.len()).unwrap();
            edited.append_faults(&faults).unwrap();
            edited.pin_iss_seed(99).unwrap();
            let iss_path = [Step::Field("connections".into()), Step::Index(0)];
            let pin_first = !base.connections.is_empty() && base.connections[0].count == 1;
            if pin_first {
                edited.pin_iss(&iss_path, 1234).unwrap();
            }
            edited.comment("edited");
            // A header line may come from a user's name or path: a line
            // break inside it must not end the comment.
            edited.comment("a\nname: \"b\",\r)(\r\n");
            let loaded = crate::scenario::load(edited.render().as_bytes(), &[])
                .unwrap_or_else(|e| panic!("{}: {e:?}\n{}", path.display(), edited.render()));

            let mut expected = base.without_link_randomness();
            expected.faults.extend(faults.iter().cloned());
            expected.iss_seed = Some(99);
            if pin_first {
                expected.connections[0].iss = Some(1234);
            }
            assert_eq!(loaded, expected, "{}", path.display());
        }
    }

    /// Every line of a header comment is commented, whichever line break
    /// splits it.
    #[test]
    fn comments_with_line_breaks_stay_comments() {
        let mut edited = SimText::new("(name: \"x\")");
        edited.comment("one\ntwo\rthree\r\nfour");
        assert_eq!(edited.render(), "// one\n// two\n// three\n// four\n(name: \"x\")");
    }

    #[test]
    fn set_takes_one_ron_value_and_keeps_the_rest_of_the_text() {
        let text = "(\n    name: \"x\", // the name\n    seed: 1,\n)\n";
        let mut edited = SimText::new(text);
        edited.set(&[Step::Field("seed".into())], "7").unwrap();
        edited.set(&[Step::Field("tcp".into()), Step::Field("msl_ms".into())], "500").unwrap();
        assert_eq!(edited.render(), "(tcp: (msl_ms: 500), \n    name: \"x\", // the name\n    seed: 7,\n)\n");
        assert!(matches!(edited.set(&[Step::Field("seed".into())], "1, x: 2"), Err(EditError::NotAValue(_))));
        let missing = [Step::Field("links".into()), Step::Index(3), Step::Field("loss".into())];
        assert_eq!(edited.set(&missing, "0.1"), Err(EditError::NotFound("links[3]".into())));
    }

    /// A value ending in a line comment would comment out the rest of the
    /// line it is spliced into (a comma, a closing bracket), so the edit
    /// is refused as a value, not reported later as a broken file.
    #[test]
    fn set_refuses_a_value_whose_line_comment_would_swallow_the_file() {
        let mut edited = SimText::new("(seed: 1, name: \"x\")");
        let seed = [Step::Field("seed".into())];
        let refused = edited.set(&seed, "7 // lucky");
        assert!(matches!(&refused, Err(EditError::NotAValue(why)) if why.contains("//")), "{refused:?}");
        edited.set(&seed, "7 /* lucky */").unwrap();
        assert_eq!(edited.render(), "(seed: 7 /* lucky */, name: \"x\")");
    }
}
