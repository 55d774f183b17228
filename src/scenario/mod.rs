//! Loading simulation files: bytes → checked [`Model`], or every error with
//! its line, column and field path.
//!
//! This module is the only one that knows the file format (`file`), the
//! only one that derives `Deserialize`, and the only one that writes
//! simulation files (`edit`). Loading runs in four stages: UTF-8
//! check, `--set` overrides spliced into the text (`edit`), RON parsing
//! (syntax and types; stops at the first error), then validation (every
//! invalid value, all reported).

pub mod edit;
pub mod file;
pub mod locate;
mod validate;

pub use crate::model::rules::{MAX_CONNECTIONS, MAX_SEND_BYTES};
pub use validate::{Diagnostic, MillisError, millis, millis_message, validate};

use crate::model::Model;
use locate::{Doc, Pos, Step, format_path, parse_path};

/// One error in a simulation file: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    /// 1-based; 0 when the error is not in the file (a bad `--set`).
    pub line: usize,
    /// 1-based; 0 with `line`.
    pub column: usize,
    /// What is wrong, in the file's words.
    pub message: String,
}

impl LoadError {
    fn at(pos: Pos, message: String) -> LoadError {
        LoadError { line: pos.line, column: pos.column, message }
    }

    fn outside(message: String) -> LoadError {
        LoadError { line: 0, column: 0, message }
    }

    /// `FILE:LINE:COL: error: MESSAGE` (the interface's format).
    pub fn render(&self, file: &str) -> String {
        if self.line == 0 {
            format!("{file}: error: {}", self.message)
        } else {
            format!("{file}:{}:{}: error: {}", self.line, self.column, self.message)
        }
    }
}

/// A `--set FIELD=VALUE` override: `value` is RON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// The field path, such as `links[0].loss` or `tcp.msl_ms`.
    pub path: String,
    /// The value as RON text.
    pub value: String,
}

impl Override {
    /// Parses `FIELD=VALUE`.
    pub fn parse(arg: &str) -> Result<Override, String> {
        let (path, value) = arg.split_once('=').ok_or_else(|| format!("expected FIELD=VALUE, found {arg:?}"))?;
        let steps =
            parse_path(path.trim()).ok_or_else(|| format!("{path:?} is not a field path like `links[0].loss`"))?;
        if steps.is_empty() || value.trim().is_empty() {
            return Err(format!("expected FIELD=VALUE, found {arg:?}"));
        }
        Ok(Override { path: format_path(&steps), value: value.trim().to_string() })
    }
}

impl Override {
    /// The flag as the user would write it, `--set FIELD=VALUE`, for
    /// messages; a command that made the override from another flag
    /// (`sweep --vary`) replaces this text with its own.
    pub fn flag(&self) -> String {
        format!("--set {}={}", self.path, self.value)
    }
}

/// The RON options every file is read with: `Option` fields take a bare
/// value (`msl_ms: 2000`, not `Some(2000)`).
fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME).with_recursion_limit(64)
}

/// The file's text: UTF-8, without a byte-order mark.
pub fn source_text(bytes: &[u8]) -> Result<&str, Vec<LoadError>> {
    let original = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let text = String::from_utf8_lossy(valid);
            let pos = Doc::parse(&text).pos_of(text.len());
            return Err(vec![LoadError::at(
                pos,
                format!("the file is not UTF-8 text (invalid byte 0x{:02x})", bytes[e.valid_up_to()]),
            )]);
        }
    };
    // A UTF-8 byte-order mark carries no meaning here; skip it.
    let original = original.strip_prefix('\u{feff}').unwrap_or(original);
    Ok(original)
}

/// `text` with each `--set` override spliced in, in order.
pub fn with_overrides(original: &str, overrides: &[Override]) -> Result<String, Vec<LoadError>> {
    let mut text = edit::SimText::new(original);
    for o in overrides {
        let steps = parse_path(&o.path).expect("overrides are parsed paths");
        text.set(&steps, &o.value).map_err(|e| vec![LoadError::outside(format!("{}: {e}", o.flag()))])?;
    }
    Ok(text.render())
}

/// Loads a simulation file, applying `overrides` first.
pub fn load(bytes: &[u8], overrides: &[Override]) -> Result<Model, Vec<LoadError>> {
    let original = source_text(bytes)?;
    let original_doc = Doc::parse(original);
    let text = with_overrides(original, overrides)?;
    let doc = Doc::parse(&text);
    let is_overridden = |path: &[Step]| {
        overrides.iter().find(|o| {
            let op = parse_path(&o.path).unwrap_or_default();
            path.starts_with(&op) || op.starts_with(path) && !path.is_empty()
        })
    };
    // Where to report a problem at `path`: its position in the file as the
    // user wrote it, noting when a --set supplied the value.
    let report = |path: &[Step], message: String, fallback: Pos| -> LoadError {
        let pos = match original_doc.find(path) {
            Ok(p) | Err(p) => p,
        };
        let pos = if original_doc.span(path).is_none() && path.is_empty() { fallback } else { pos };
        let field = if path.is_empty() { String::new() } else { format!("`{}`: ", format_path(path)) };
        match is_overridden(path) {
            Some(o) => LoadError::at(pos, format!("{field}{message} (set by {})", o.flag())),
            None => LoadError::at(pos, format!("{field}{message}")),
        }
    };

    let parsed: Result<file::SimFile, ron::error::SpannedError> = ron_options().from_str(&text);
    let sim = match parsed {
        Ok(sim) => sim,
        Err(e) => {
            let (path, pos, message) = explain_parse_error(&doc, &text, &e);
            let (path, message) = match hint(&doc, &text, &e, &path) {
                // A tuple's hint is about the whole tuple, not its first value.
                Some(h) if matches!(e.code, ron::Error::SuggestRawIdentifier(_)) && !path.is_empty() => {
                    (path[..path.len() - 1].to_vec(), h)
                }
                Some(h) => (path, h),
                None => (path, message),
            };
            if overrides.is_empty() || path.is_empty() {
                let field = if path.is_empty() { String::new() } else { format!("`{}`: ", format_path(&path)) };
                return Err(vec![LoadError::at(pos, format!("{field}{message}"))]);
            }
            return Err(vec![report(&path, message, pos)]);
        }
    };
    validate(&sim).map_err(|diags| {
        diags
            .into_iter()
            .map(|d| {
                let path = parse_path(&d.path).unwrap_or_default();
                report(&path, d.message, Pos { line: 1, column: 1 })
            })
            .collect()
    })
}

/// The deepest field path at `pos`; ron often points just past the value
/// it rejects, so the character before is tried too.
fn deepest_path(doc: &Doc, pos: Pos) -> Vec<Step> {
    let here = doc.path_at(pos);
    if pos.column > 1 {
        let before = doc.path_at(Pos { line: pos.line, column: pos.column - 1 });
        if before.len() > here.len() {
            return before;
        }
    }
    here
}

/// Turns ron's first error into (field path, position, message) for
/// people: positions move to the start of the offending token (ron points
/// just past it), and messages say what was found.
fn explain_parse_error(doc: &Doc, text: &str, e: &ron::error::SpannedError) -> (Vec<Step>, Pos, String) {
    use ron::Error as E;
    let pos = Pos { line: e.position.line.max(1), column: e.position.col.max(1) };
    if doc.span(&[]).is_none() {
        let msg = "the file is empty; expected a scenario `(name: \"...\", hosts: [...], ...)`";
        return (Vec::new(), Pos { line: 1, column: 1 }, msg.to_string());
    }
    let at = doc.byte_of(pos);
    let at_end = text[at.min(text.len())..].trim().is_empty();
    match &e.code {
        E::MissingStructField { field, outer } => {
            let path = doc.path_at(pos);
            let start = doc.find(&path).unwrap_or_else(|p| p);
            let within = outer.as_deref().map(|o| format!(" of `{o}`")).unwrap_or_default();
            (path, start, format!("missing required field `{field}`{within}"))
        }
        E::NoSuchStructField { found, .. } | E::NoSuchEnumVariant { found, .. } => {
            let path = deepest_path(doc, pos);
            let start = text[..at.min(text.len())].rfind(found.as_str()).map_or(pos, |b| doc.pos_of(b));
            (path, start, e.code.to_string())
        }
        _ if at_end || matches!(e.code, E::Eof) => {
            (deepest_path(doc, pos), pos, "unexpected end of file (is a closing bracket missing?)".to_string())
        }
        E::IntegerOutOfBounds
        | E::ExpectedInteger
        | E::ExpectedFloat
        | E::ExpectedString
        | E::ExpectedStringEnd
        | E::ExpectedBoolean
        | E::ExpectedOption
        | E::ExpectedUnit
        | E::InvalidValueForType { .. }
        | E::Message(_) => {
            let path = deepest_path(doc, pos);
            let Some((start, end)) = doc.span(&path) else { return (path, pos, e.code.to_string()) };
            let token: String = text[start..end].chars().take(40).collect();
            let expected = match &e.code {
                E::IntegerOutOfBounds => match integer_range(text, &path) {
                    Some(range) => format!("an integer in {range}"),
                    None => "a smaller integer".to_string(),
                },
                // These already say what they found.
                E::InvalidValueForType { .. } => {
                    return (path, doc.pos_of(start), e.code.to_string());
                }
                // A custom message (a port's range) says what was expected;
                // the token comes from the text, as written.
                E::Message(message) if !message.contains("found `") => message.clone(),
                E::Message(_) => return (path, doc.pos_of(start), e.code.to_string()),
                _ => e.code.to_string(),
            };
            (path, doc.pos_of(start), format!("{expected}; found `{token}`"))
        }
        _ => {
            let trimmed = text.trim_start();
            let mut message = e.code.to_string();
            if trimmed.starts_with('{') || trimmed.starts_with('[') {
                message.push_str("; this looks like JSON, but simulation files are RON: `(name: \"...\", ...)`");
            }
            (deepest_path(doc, pos), pos, message)
        }
    }
}

/// A message for a mistake people make often, in place of RON's: a
/// percentage (`2%`: write 0.02), an integer in exponent notation (`1e6`:
/// write 1000000), a tuple where a struct is expected (`Send(1000000)`:
/// write `Send(bytes: 1000000)`, or the struct's fields when the value
/// alone does not say which field it is). RON's advice on raw identifiers,
/// which such a tuple provokes, never helps in a simulation file.
fn hint(doc: &Doc, text: &str, e: &ron::error::SpannedError, path: &[Step]) -> Option<String> {
    use ron::Error as E;
    let at = doc.byte_of(Pos { line: e.position.line.max(1), column: e.position.col.max(1) }).min(text.len());
    if !text.is_char_boundary(at) {
        return None;
    }
    let number_chars = |c: char| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-');
    // The number-like token around the error position.
    let start = text[..at].rfind(|c: char| !number_chars(c)).map_or(0, |i| i + 1);
    let end = text[at..].find(|c: char| !number_chars(c)).map_or(text.len(), |i| at + i);
    let token = &text[start..end];
    match &e.code {
        _ if text[at..].starts_with('%') && token.parse::<f64>().is_ok() => {
            let fraction = token.parse::<f64>().ok()? / 100.0;
            Some(format!(
                "found `{token}%`: write {fraction} (a probability is a fraction from 0 to 1, not a percentage)"
            ))
        }
        E::InvalidIntegerDigit { .. } | E::ExpectedInteger | E::IntegerOutOfBounds if token.contains(['e', 'E']) => {
            let value = token.parse::<f64>().ok().filter(|v| v.fract() == 0.0 && v.abs() < 1e18)?;
            Some(format!("expected an integer; found `{token}`: write {value:.0} (no exponent notation in integers)"))
        }
        E::SuggestRawIdentifier(_) => tuple_for_struct(text, path),
        _ => None,
    }
}

/// For a tuple `Name(v, ...)` where the struct `Name(field: v, ...)` is
/// expected (the error's `path` ends inside it): the struct's fields, read
/// from the format itself by splicing in a field no struct has, and the
/// one way to name the values that makes the file parse, if there is
/// exactly one.
fn tuple_for_struct(text: &str, path: &[Step]) -> Option<String> {
    let parent = &path[..path.len().checked_sub(1)?];
    let (start, end) = Doc::parse(text).span(parent)?;
    let written = &text[start..end];
    let open = written.find('(')?;
    let name = written[..open].trim();
    let values: Vec<&str> = written[open + 1..].trim_end().strip_suffix(')')?.split(',').map(str::trim).collect();
    // Whether the file parses with `value` in the tuple's place: `Some`
    // error only when the error is at that value (an error elsewhere in
    // the file says nothing about it).
    let error_at_value = |value: &str| -> Option<Option<ron::Error>> {
        let (probe, (s, e)) = locate::splice(text, parent, value).ok()?;
        Some(match ron_options().from_str::<file::SimFile>(&probe) {
            Ok(_) => None,
            Err(err) => {
                let probe_doc = Doc::parse(&probe);
                let p = probe_doc.byte_of(Pos { line: err.position.line.max(1), column: err.position.col.max(1) });
                (s..=e + 1).contains(&p).then_some(err.code)
            }
        })
    };
    let fields = match error_at_value(&format!("{name}(no_such_field_: 0)")) {
        Some(Some(ron::Error::NoSuchStructField { expected, .. })) => expected,
        _ => return None,
    };
    let named = |names: &[&str]| -> String {
        let pairs: Vec<String> = names.iter().zip(&values).map(|(f, v)| format!("{f}: {v}")).collect();
        format!("{name}({})", pairs.join(", "))
    };
    // Every way to name the values, in order, that parses here.
    let candidates: Vec<String> = if values.len() == 1 {
        fields.iter().map(|f| named(&[f])).collect()
    } else if values.len() == fields.len() {
        vec![named(fields)]
    } else {
        Vec::new()
    };
    let working: Vec<&String> = candidates.iter().filter(|c| error_at_value(c) == Some(None)).collect();
    let list = fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ");
    let what = if name.is_empty() { "a struct".to_string() } else { format!("`{name}` with named fields") };
    match working.as_slice() {
        [one] => Some(format!("expected {what}; found the tuple `{written}`: write {one}")),
        _ => Some(format!(
            "expected {what} ({list}); found the tuple `{written}`: name each value, as in `field: value`"
        )),
    }
}

/// The range of the integer at `path`, for out-of-range messages, read
/// from the field's type in `file` rather than kept in a second table: the
/// text is parsed again with the bounds of each integer type the format
/// uses in the value's place.
fn integer_range(text: &str, path: &[Step]) -> Option<&'static str> {
    // Whether `value` at `path` parses, as far as this value goes: only a
    // range or conversion error at the value says it does not fit. Any
    // other error (a missing field reported just after a struct's last
    // value, a mistake elsewhere in the file) says nothing about it.
    let fits = |value: &str| -> bool {
        let Ok((probe, (start, end))) = locate::splice(text, path, value) else { return false };
        match ron_options().from_str::<file::SimFile>(&probe) {
            Ok(_) => true,
            Err(e) => {
                use ron::error::Error as E;
                let range_error =
                    matches!(e.code, E::IntegerOutOfBounds | E::InvalidValueForType { .. } | E::Message(_));
                let pos = Pos { line: e.position.line.max(1), column: e.position.col.max(1) };
                let at = Doc::parse(&probe).byte_of(pos);
                !(range_error && (start..=end + 1).contains(&at))
            }
        }
    };
    if fits("-1") {
        return fits("-9223372036854775808").then_some("-9223372036854775808..=9223372036854775807");
    }
    let unsigned = [
        ("65535", "65536", "0..=65535"),
        ("4294967295", "4294967296", "0..=4294967295"),
        ("18446744073709551615", "18446744073709551616", "0..=18446744073709551615"),
    ];
    unsigned.into_iter().find(|(max, above, _)| fits(max) && !fits(above)).map(|(_, _, range)| range)
}

/// `--loss P` as overrides: the loss of every link, in both directions
/// (including per-direction blocks that set their own loss).
pub fn loss_overrides(bytes: &[u8], value: &str) -> Vec<Override> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let doc = Doc::parse(text);
    let links = doc.len(&[Step::Field("links".into())]).unwrap_or(0);
    let mut out = Vec::new();
    for i in 0..links {
        out.push(Override { path: format!("links[{i}].loss"), value: value.to_string() });
        for dir in ["a_to_b", "b_to_a"] {
            let p = [Step::Field("links".into()), Step::Index(i), Step::Field(dir.into()), Step::Field("loss".into())];
            if doc.span(&p).is_some() {
                out.push(Override { path: format!("links[{i}].{dir}.loss"), value: value.to_string() });
            }
        }
    }
    out
}
