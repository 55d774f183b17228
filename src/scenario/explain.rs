//! RON's first error in a simulation file, explained for the file's
//! readers: the field path (never a Rust type name of the format), the
//! position of the offending token, and a message in the file's words,
//! with a hint for the mistakes people make often.
//!
//! What a field takes is read from the format itself, by splicing a probe
//! value into the text and parsing it again, rather than kept in a second
//! table that could drift from `file`.

use super::locate::{self, Doc, Pos, Step};
use super::{file, ron_options, validate};
use ron::Error as E;

/// (field path, position, message) for the parse error `e` in `text`.
pub(super) fn parse_error(doc: &Doc, text: &str, e: &ron::error::SpannedError) -> (Vec<Step>, Pos, String) {
    let (path, pos, message) = explain(doc, text, e);
    match hint(doc, text, e, &path) {
        Some((path, message)) => (path, pos, message),
        None => (path, pos, message),
    }
}

/// RON's message for `code` in the file's words: lower case, no Rust
/// type names, and "expected X; found Y" where RON says what it found.
pub(super) fn describe(code: &E) -> String {
    match code {
        E::Eof => "unexpected end of file".to_string(),
        E::ExpectedArray => "expected a list `[...]`".to_string(),
        E::ExpectedArrayEnd => "expected `]` closing the list".to_string(),
        E::ExpectedBoolean => "expected `true` or `false`".to_string(),
        E::ExpectedComma => "expected a comma".to_string(),
        E::ExpectedFloat => "expected a number".to_string(),
        E::ExpectedInteger => "expected an integer".to_string(),
        E::ExpectedOption => "expected a value or `None`".to_string(),
        E::ExpectedOptionEnd | E::ExpectedStructLikeEnd => "expected `)`".to_string(),
        E::ExpectedMap => "expected a map `{...}`".to_string(),
        E::ExpectedMapColon => "expected `:`".to_string(),
        E::ExpectedMapEnd => "expected `}` closing the map".to_string(),
        E::ExpectedDifferentStructName { found, .. } => {
            format!("unexpected name `{found}` before `(`: write the struct as `(field: value, ...)`")
        }
        E::ExpectedStructLike | E::ExpectedNamedStructLike(_) | E::ExpectedStructName(_) => {
            "expected a struct `(field: value, ...)`".to_string()
        }
        E::ExpectedUnit => "expected `()`".to_string(),
        E::ExpectedString => "expected a string".to_string(),
        E::ExpectedStringEnd => "expected the closing `\"` of a string".to_string(),
        E::ExpectedIdentifier => "expected a name (a field or a variant)".to_string(),
        E::IntegerOutOfBounds => "the integer is out of range".to_string(),
        E::InvalidIntegerDigit { digit, base } => format!("invalid digit {digit:?} in a base-{base} integer"),
        E::UnexpectedChar(c) => format!("unexpected character {c:?}"),
        E::TrailingCharacters => "unexpected text after the end of the scenario".to_string(),
        E::InvalidValueForType { expected, found } => format!("expected {expected}; found {found}"),
        E::ExpectedDifferentLength { expected, found } => {
            let values = if *found == 1 { "value" } else { "values" };
            format!("expected {expected}; found {found} {values}")
        }
        E::NoSuchEnumVariant { expected, found, .. } => unknown("variant", found, expected),
        E::NoSuchStructField { expected, found, .. } => unknown("field", found, expected),
        E::MissingStructField { field, .. } => format!("missing required field `{field}`"),
        E::DuplicateStructField { field, .. } => format!("the field `{field}` is given twice"),
        E::SuggestRawIdentifier(name) | E::InvalidIdentifier(name) => {
            format!("`{name}` is not a name (names are letters, digits and `_`)")
        }
        E::ExceededRecursionLimit => "values are nested too deeply (more than 64 levels)".to_string(),
        E::Message(message) => custom(message),
        other => custom(&other.to_string()),
    }
}

/// A message from the format's own deserializers (or RON's words for
/// anything else) in the same style: lower case, "; found".
fn custom(message: &str) -> String {
    let message = message.strip_suffix(" instead").unwrap_or(message).replacen(" but found ", "; found ", 1);
    let mut chars = message.chars();
    match chars.next() {
        Some(first) if !message.starts_with("RFC") => first.to_lowercase().chain(chars).collect(),
        _ => message,
    }
}

/// "unknown field `los`, expected one of `loss`, ... (did you mean `loss`?)".
fn unknown(what: &str, found: &str, expected: &[&str]) -> String {
    let list = expected.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ");
    let choices = match expected.len() {
        0 => String::new(),
        1 => format!(", expected {list}"),
        _ => format!(", expected one of {list}"),
    };
    let guess = closest(found, expected).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default();
    format!("unknown {what} `{found}`{choices}{guess}")
}

/// The one name in `names` closest to `found`, if it is close: at most a
/// third of its characters edited (at least one), case and `-`/`_` aside.
fn closest<'a>(found: &str, names: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| -> Vec<char> { s.to_lowercase().replace('-', "_").chars().collect() };
    let found_chars = norm(found);
    let limit = (found_chars.len() / 3).max(1);
    let mut scored: Vec<(usize, &str)> =
        names.iter().map(|n| (edit_distance(&found_chars, &norm(n)), *n)).filter(|(d, _)| *d <= limit).collect();
    scored.sort_by_key(|(d, _)| *d);
    match scored.as_slice() {
        [(d, best), rest @ ..] if rest.first().is_none_or(|(next, _)| next > d) => Some(best),
        _ => None,
    }
}

/// Levenshtein distance; names are short, so the quadratic table is cheap.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
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
fn explain(doc: &Doc, text: &str, e: &ron::error::SpannedError) -> (Vec<Step>, Pos, String) {
    let pos = Pos { line: e.position.line.max(1), column: e.position.col.max(1) };
    if doc.span(&[]).is_none() {
        let msg = "the file is empty; expected a scenario `(name: \"...\", hosts: [...], ...)`";
        return (Vec::new(), Pos { line: 1, column: 1 }, msg.to_string());
    }
    let at = doc.byte_of(pos);
    let at_end = text[at.min(text.len())..].trim().is_empty();
    let path = deepest_path(doc, pos);
    if let Some((start, message)) = fraction_in_integer(doc, text, &path, at, &e.code) {
        return (path, doc.pos_of(start), message);
    }
    match &e.code {
        E::MissingStructField { .. } => {
            let path = doc.path_at(pos);
            let start = doc.find(&path).unwrap_or_else(|p| p);
            (path, start, describe(&e.code))
        }
        E::NoSuchStructField { found, .. } | E::NoSuchEnumVariant { found, .. } => {
            let path = deepest_path(doc, pos);
            let start = text[..at.min(text.len())].rfind(found.as_str()).map_or(pos, |b| doc.pos_of(b));
            (path, start, describe(&e.code))
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
            let Some((start, end)) = doc.span(&path) else { return (path, pos, describe(&e.code)) };
            let token: String = text[start..end].chars().take(40).collect();
            let expected = match &e.code {
                E::IntegerOutOfBounds => match integer_range(text, &path) {
                    Some(range) => valid_range(text, &path, range),
                    None => "a smaller integer".to_string(),
                },
                // These already say what they found.
                E::InvalidValueForType { .. } => {
                    return (path, doc.pos_of(start), describe(&e.code));
                }
                // A custom message (a port's range) says what was expected;
                // the token comes from the text, as written.
                E::Message(message) if !message.contains("found `") => custom(message),
                E::Message(_) => return (path, doc.pos_of(start), describe(&e.code)),
                _ => describe(&e.code),
            };
            (path, doc.pos_of(start), format!("{expected}; found `{token}`"))
        }
        _ => {
            let mut message = describe(&e.code);
            if let Some(format) = other_format(text) {
                message.push_str(&format!(
                    "; this looks like {format}, but simulation files are RON: `(name: \"...\", ...)`"
                ));
            }
            (deepest_path(doc, pos), pos, message)
        }
    }
}

/// A number where an integer is expected, but written with a fraction or
/// an exponent (`seed: 3.5`): its start, and the message. ron reads the
/// integer's digits, stops at the `.` and names what it wanted next ("expected a
/// comma"), which says neither what the field takes nor what it found. A
/// field that takes any number would have read the whole token, so an
/// error inside a number token (or ron's integer errors at one) means the
/// field takes an integer.
fn fraction_in_integer(doc: &Doc, text: &str, path: &[Step], at: usize, code: &E) -> Option<(usize, String)> {
    let (start, end) = doc.span(path)?;
    let token = text.get(start..end)?;
    let digits = token.trim_start_matches(['-', '+']);
    let numeric = digits.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if !numeric || token.parse::<f64>().is_err() || token.parse::<i128>().is_ok() {
        return None;
    }
    let inside = start < at && at < end;
    let integer_error = matches!(code, E::ExpectedInteger | E::IntegerOutOfBounds | E::InvalidIntegerDigit { .. });
    (inside || integer_error).then(|| (start, format!("expected an integer; found `{token}`")))
}

/// The format a file that is not RON looks like, from its first line
/// that is not blank or a comment: a TOML table header (`[package]`,
/// `[[bin]]`) or `key = value`, or JSON's `{` or `[` (`Cargo.toml` starts
/// with `[` too, so the bracket alone does not say JSON).
fn other_format(text: &str) -> Option<&'static str> {
    let comment = |l: &str| l.starts_with('#') || l.starts_with("//");
    let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !comment(l))?;
    let name = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let table =
        line.strip_prefix('[').and_then(|l| l.trim_start_matches('[').split_once(']')).is_some_and(|(n, _)| name(n));
    let key_value = line.split_once('=').is_some_and(|(k, _)| name(k.trim()));
    if table || key_value {
        Some("TOML")
    } else if line.starts_with('{') || line.starts_with('[') {
        Some("JSON")
    } else {
        None
    }
}

/// A message (and the path it is about) for a mistake people make often,
/// in place of RON's: a percentage (`2%`: write 0.02 where the field is a
/// fraction, else what the field takes), an integer in exponent notation
/// (`1e6`: write 1000000), a field name that is no identifier
/// (`delay-ms`: an unknown field), a tuple where a struct is expected
/// (`Send(1000000)`: write `Send(bytes: 1000000)`, or the struct's fields
/// when the values alone do not say which field each is). RON's advice on
/// raw identifiers, which such mistakes provoke, never helps here.
fn hint(doc: &Doc, text: &str, e: &ron::error::SpannedError, path: &[Step]) -> Option<(Vec<Step>, String)> {
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
        _ if text[end..].starts_with('%') && token.parse::<f64>().is_ok() => {
            Some((path.to_vec(), percentage(text, path, token)?))
        }
        // ron stops inside `1.5e3` at the `.` and names what it wanted next.
        code if token.contains(['e', 'E'])
            && (start < at
                || matches!(code, E::InvalidIntegerDigit { .. } | E::ExpectedInteger | E::IntegerOutOfBounds)) =>
        {
            let value = token.parse::<f64>().ok().filter(|v| v.fract() == 0.0 && v.abs() < 1e18)?;
            let message =
                format!("expected an integer; found `{token}`: write {value:.0} (no exponent notation in integers)");
            Some((path.to_vec(), message))
        }
        E::SuggestRawIdentifier(name) if text[at..].strip_prefix(name.as_str())?.trim_start().starts_with(':') => {
            misspelled_field(text, at, name)
        }
        E::SuggestRawIdentifier(_) | E::ExpectedIdentifier if matches!(path.last(), Some(Step::Index(_))) => {
            let parent = &path[..path.len() - 1];
            Some((parent.to_vec(), tuple_for_struct(text, parent)?))
        }
        _ => None,
    }
}

/// The file's hint for a `--set` value that is no RON value at all: only
/// a percentage (`2%`) has one.
pub(super) fn value_error(text: &str, path: &[Step], value: &str) -> Option<String> {
    let number = value.trim().strip_suffix('%')?.trim_end();
    number.parse::<f64>().ok()?;
    percentage(text, path, number)
}

/// Whether the file parses with `value` in place of the value at `path`:
/// `Some(None)` when no error is at that value (an error elsewhere in the
/// file says nothing about it), `Some(Some(error))` when one is, `None`
/// when the value cannot be spliced in.
fn error_at_value(text: &str, path: &[Step], value: &str) -> Option<Option<E>> {
    let (probe, (s, e)) = locate::splice(text, path, value).ok()?;
    Some(match ron_options().from_str::<file::SimFile>(&probe) {
        Ok(_) => None,
        Err(err) => {
            let p = Doc::parse(&probe).byte_of(Pos { line: err.position.line.max(1), column: err.position.col.max(1) });
            (s..=e + 1).contains(&p).then_some(err.code)
        }
    })
}

/// `N%` at `path`: write the fraction where the field is a probability,
/// else say what the field takes.
fn percentage(text: &str, path: &[Step], token: &str) -> Option<String> {
    let fits = |value: &str| error_at_value(text, path, value) == Some(None);
    let found = format!("found `{token}%`");
    if fits("0.5") {
        // A probability: the number itself, above 1, is refused as one.
        if refusal(text, path, "2").is_some_and(|m| m.contains("probability")) {
            let fraction = token.parse::<f64>().ok()? / 100.0;
            return Some(format!(
                "{found}: write {fraction} (a probability is a fraction from 0 to 1, not a percentage)"
            ));
        }
        return Some(format!("expected a number; {found}"));
    }
    let takes = [("1", "an integer"), ("true", "`true` or `false`"), ("\"x\"", "a string")];
    Some(match takes.iter().find(|(value, _)| fits(value)) {
        Some((_, what)) => format!("expected {what}; {found}"),
        None => format!("{found}: `%` is not part of any value in a simulation file"),
    })
}

/// A field name that is not an identifier (`delay-ms: 10`): the unknown
/// field, with the fields the struct has, read by parsing the file again
/// with a field name no struct has in its place.
fn misspelled_field(text: &str, at: usize, name: &str) -> Option<(Vec<Step>, String)> {
    const PROBE: &str = "no_such_field_";
    let probe = format!("{}{PROBE}{}", &text[..at], &text[at + name.len()..]);
    let expected = match ron_options().from_str::<file::SimFile>(&probe) {
        Err(err) => match err.code {
            E::NoSuchStructField { expected, found, .. } if found == PROBE => expected,
            _ => return None,
        },
        Ok(_) => return None,
    };
    let probe_doc = Doc::parse(&probe);
    let mut path = probe_doc.path_at(probe_doc.pos_of(at));
    if path.last() != Some(&Step::Field(PROBE.to_string())) {
        return None;
    }
    *path.last_mut()? = Step::Field(name.to_string());
    Some((path, unknown("field", name, expected)))
}

/// For a tuple `Name(v, ...)` or `(v, ...)` at `parent` where the struct
/// `Name(field: v, ...)` is expected: the struct's fields, read from the
/// format itself by splicing in a field no struct has, and the one way to
/// name the values in order that makes the file parse, if there is
/// exactly one (for a single value, any field may be meant).
fn tuple_for_struct(text: &str, parent: &[Step]) -> Option<String> {
    let (start, end) = Doc::parse(text).span(parent)?;
    let written = &text[start..end];
    let open = written.find('(')?;
    let name = written[..open].trim();
    let values: Vec<&str> = written[open + 1..].trim_end().strip_suffix(')')?.split(',').map(str::trim).collect();
    let fields = match error_at_value(text, parent, &format!("{name}(no_such_field_: 0)")) {
        Some(Some(E::NoSuchStructField { expected, .. })) => expected,
        _ => return None,
    };
    let named = |names: &[&str]| -> String {
        let pairs: Vec<String> = names.iter().zip(&values).map(|(f, v)| format!("{f}: {v}")).collect();
        format!("{name}({})", pairs.join(", "))
    };
    // Every way to name the values, in order, that parses here.
    let candidates: Vec<String> = if values.len() == 1 {
        fields.iter().map(|f| named(&[f])).collect()
    } else if values.len() <= fields.len() {
        vec![named(&fields[..values.len()])]
    } else {
        Vec::new()
    };
    let working: Vec<&String> = candidates.iter().filter(|c| error_at_value(text, parent, c) == Some(None)).collect();
    let list = fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ");
    let what = if name.is_empty() { "a struct".to_string() } else { format!("`{name}` with named fields") };
    // A long tuple is cut: the message is about its shape.
    let shown: String = match written.char_indices().nth(60) {
        Some((cut, _)) => format!("{} ...", &written[..cut]),
        None => written.to_string(),
    };
    match working.as_slice() {
        [one] => Some(format!("expected {what} ({list}); found the tuple `{shown}`: write {one}")),
        _ => {
            Some(format!("expected {what} ({list}); found the tuple `{shown}`: name each value, as in `field: value`"))
        }
    }
}

/// Validation's message for `value` at `path`, if it refuses it there
/// (and the file with it parses).
fn refusal(text: &str, path: &[Step], value: &str) -> Option<String> {
    let (probe, _) = locate::splice(text, path, value).ok()?;
    let sim = ron_options().from_str::<file::SimFile>(&probe).ok()?;
    let field = locate::format_path(path);
    validate(&sim).err()?.into_iter().find(|d| d.path == field).map(|d| d.message)
}

/// What an out-of-range integer at `path` should be: its type's `range`
/// (`0..=4294967295`), narrowed to what validation accepts, so the message
/// never offers a value that is refused next (a `count` of 0).
fn valid_range(text: &str, path: &[Step], range: &str) -> String {
    let Some(("0", max)) = range.split_once("..=") else { return format!("an integer in {range}") };
    if refusal(text, path, "0").is_none() {
        return format!("an integer in {range}");
    }
    match refusal(text, path, max) {
        // Validation's own bounds ("expected 1..=65536 hosts, found 4294967295").
        Some(m) if m.contains("..=") => m.split(", found").next().unwrap_or(&m).to_string(),
        _ => format!("an integer in 1..={max}"),
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
        !matches!(
            error_at_value(text, path, value),
            None | Some(Some(E::IntegerOutOfBounds | E::InvalidValueForType { .. } | E::Message(_)))
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names_one_near_field() {
        assert_eq!(closest("los", &["loss", "delay_ms"]), Some("loss"));
        assert_eq!(closest("delay-ms", &["loss", "delay_ms"]), Some("delay_ms"));
        assert_eq!(closest("xyz", &["loss", "delay_ms"]), None);
        // Two equally near names: no guess.
        assert_eq!(closest("ab", &["a", "b"]), None);
    }

    #[test]
    fn other_formats_are_named_by_their_first_line() {
        assert_eq!(other_format("[package]\nname = \"x\"\n"), Some("TOML"));
        assert_eq!(other_format("# a comment\n\n[[bin]]\n"), Some("TOML"));
        assert_eq!(other_format("name = \"x\"\n"), Some("TOML"));
        assert_eq!(other_format("[{\"name\": \"x\"}]"), Some("JSON"));
        assert_eq!(other_format("// JSONC\n{\"name\": 1}"), Some("JSON"));
        assert_eq!(other_format("(name: \"x\", seed: )"), None);
    }

    #[test]
    fn custom_messages_read_like_the_others() {
        assert_eq!(
            custom("Expected a count but found the string \"x\" instead"),
            "expected a count; found the string \"x\""
        );
        assert_eq!(custom("RFC 6298 requires"), "RFC 6298 requires");
    }
}
