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
mod explain;
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
    /// Whether the two set the same value, or one a value inside the
    /// other's (`links[0]` and `links[0].loss`).
    pub fn overlaps(&self, other: &Override) -> bool {
        match (parse_path(&self.path), parse_path(&other.path)) {
            (Some(a), Some(b)) => a.starts_with(&b) || b.starts_with(&a),
            _ => false,
        }
    }

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
        text.set(&steps, &o.value).map_err(|e| {
            // `2%` is no RON value at all, but it has the file's hint.
            let hinted = match e {
                edit::EditError::NotAValue(_) => explain::value_error(&text.render(), &steps, &o.value),
                _ => None,
            };
            vec![LoadError::outside(format!("{}: {}", o.flag(), hinted.unwrap_or_else(|| e.to_string())))]
        })?;
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
            let (path, pos, message) = explain::parse_error(&doc, &text, &e);
            // A value from the command line that does not parse is the
            // option's mistake: it is named, and the file has no position.
            if let Some((o, steps)) = override_at(&doc, overrides, &path, pos) {
                let field = if path == steps { String::new() } else { format!("`{}`: ", format_path(&path)) };
                return Err(vec![LoadError::outside(format!("{}: {field}{message}", o.flag()))]);
            }
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

/// The override whose value holds the parse error at `pos` (or at `path`)
/// in the overridden text `doc`, and its path; the last one wins, as it
/// does when two set the same field.
fn override_at<'o>(doc: &Doc, overrides: &'o [Override], path: &[Step], pos: Pos) -> Option<(&'o Override, Vec<Step>)> {
    let byte = doc.byte_of(pos);
    overrides.iter().rev().find_map(|o| {
        let steps = parse_path(&o.path)?;
        let within = doc.span(&steps).is_some_and(|(start, end)| (start..=end).contains(&byte));
        (within || path.starts_with(&steps)).then_some((o, steps))
    })
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
