//! Field paths and source positions for RON simulation files.
//!
//! `ron` 0.10 reports positions only for syntax errors. Once a file parses, validation errors
//! ("loss must be below 1") need the line and column of an arbitrary field, and
//! `--set FIELD=VALUE` overrides need to edit the text itself so that later error positions still
//! match what the user wrote. This module scans the RON text into a light tree of spans,
//! independent of serde, so it can map a field path to a position, a position back to a path, and
//! splice new values into the text.
//!
//! The scanner is deliberately forgiving: it never fails, never panics and runs in linear time on
//! any input, because it is also used to explain files that `ron` has already rejected.

use std::fmt::Write as _;

/// Nesting deeper than this is skipped over without recursion, which bounds stack use.
const MAX_DEPTH: usize = 256;

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
}

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A named field of a struct: `.loss`.
    Field(String),
    /// A position in a list, from 0: `[1]`.
    Index(usize),
}

/// Parses `links[1].loss`, `tcp.msl_ms`, `hosts[0]`, `expect.endpoints[2].path[0]`.
/// Field names are identifiers (`[A-Za-z_][A-Za-z0-9_]*`). Returns None if malformed.
pub fn parse_path(path: &str) -> Option<Vec<Step>> {
    let b = path.as_bytes();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'[' {
            let end = i + 1 + b[i + 1..].iter().position(|&c| c == b']')?;
            let digits = &path[i + 1..end];
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            steps.push(Step::Index(digits.parse().ok()?));
            i = end + 1;
            continue;
        }
        if !steps.is_empty() {
            if b[i] != b'.' {
                return None;
            }
            i += 1;
        }
        let len = b[i..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
        if len == 0 || b[i].is_ascii_digit() {
            return None;
        }
        steps.push(Step::Field(path[i..i + len].to_string()));
        i += len;
    }
    Some(steps)
}

/// Formats steps back into the same syntax.
pub fn format_path(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Field(name) if out.is_empty() => out.push_str(name),
            Step::Field(name) => {
                out.push('.');
                out.push_str(name);
            }
            Step::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Atom,
    /// `(...)` or `Name(...)`: a struct, tuple, enum variant or unit.
    Group,
    List,
    Map,
    /// `Some(x)`, which paths look through.
    Some,
}

#[derive(Debug)]
struct Node {
    kind: Kind,
    start: usize,
    end: usize,
    /// Byte offset of the opening delimiter, where new fields are inserted.
    open: usize,
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    /// Where the entry begins: its key if it has one, otherwise its value.
    start: usize,
    /// Span of the field name or map key text (string keys without their quotes).
    key: Option<(usize, usize)>,
    value: usize,
}

/// The structure of a RON document, built once.
pub struct Doc<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    nodes: Vec<Node>,
    root: Option<usize>,
}

impl<'a> Doc<'a> {
    /// Scans `text`; malformed input gives a partial tree rather than an error.
    pub fn parse(text: &'a str) -> Doc<'a> {
        let mut p = Parser { b: text.as_bytes(), p: 0, nodes: Vec::new() };
        loop {
            p.skip_trivia();
            if p.at(p.p) != b'#' || p.at(p.p + 1) != b'!' {
                break;
            }
            // Extension headers such as `#![enable(implicit_some)]` contain no `]` of their own.
            p.p = match p.b[p.p..].iter().position(|&c| c == b']') {
                Some(i) => p.p + i + 1,
                None => p.b.len(),
            };
        }
        let root = (p.p < p.b.len()).then(|| p.parse_value(0));
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Doc { text, line_starts, nodes: p.nodes, root }
    }

    /// Where the value at `path` starts; Err(pos of the innermost existing enclosing value's start)
    /// if absent.
    pub fn find(&self, path: &[Step]) -> Result<Pos, Pos> {
        match self.walk(path) {
            Some(Ok(n)) => Ok(self.pos_of(self.nodes[self.unwrap(n)].start)),
            Some(Err((parent, _))) => Err(self.pos_of(self.nodes[parent].start)),
            None => Err(Pos { line: 1, column: 1 }),
        }
    }

    /// The byte span (start, end) of the value at `path`, if present.
    pub fn span(&self, path: &[Step]) -> Option<(usize, usize)> {
        let node = self.value(path)?;
        Some((node.start, node.end))
    }

    /// Path of the deepest value (or field) whose span contains `pos`; empty vec for top level.
    pub fn path_at(&self, pos: Pos) -> Vec<Step> {
        let byte = self.byte_of(pos);
        let mut path = Vec::new();
        let Some(mut n) = self.root else { return path };
        'descend: loop {
            let node = &self.nodes[self.unwrap(n)];
            for (i, entry) in node.entries.iter().enumerate() {
                let value = &self.nodes[entry.value];
                // A value cut off by the end of the file also holds the end-of-file position.
                let cut_off = value.end == self.text.len();
                if byte < entry.start || (byte >= value.end && !cut_off) {
                    continue;
                }
                path.push(match entry.key {
                    Some((s, e)) => Step::Field(self.slice(s, e).to_string()),
                    None => Step::Index(i),
                });
                if byte < value.start {
                    // On the field name or its colon.
                    return path;
                }
                n = entry.value;
                continue 'descend;
            }
            return path;
        }
    }

    /// Number of elements of the list/tuple at `path`, if it is one.
    pub fn len(&self, path: &[Step]) -> Option<usize> {
        let node = self.value(path)?;
        let tuple = node.kind == Kind::Group && node.entries.iter().all(|e| e.key.is_none());
        (node.kind == Kind::List || tuple).then_some(node.entries.len())
    }

    /// Names of the fields present in the struct at `path`, in source order.
    pub fn fields(&self, path: &[Step]) -> Option<Vec<String>> {
        let node = self.value(path)?;
        if node.kind != Kind::Group || !is_struct(node) {
            return None;
        }
        let names = node.entries.iter().filter_map(|e| e.key);
        Some(names.map(|(s, e)| self.slice(s, e).to_string()).collect())
    }

    /// Byte offset -> Pos.
    pub fn pos_of(&self, byte: usize) -> Pos {
        let byte = byte.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= byte).max(1);
        let start = self.line_starts[line - 1];
        let col = self.text[start..].char_indices().take_while(|(i, _)| start + i < byte).count();
        Pos { line, column: col + 1 }
    }

    /// Pos -> byte offset, clamped to the end of the line or text when out of range.
    pub fn byte_of(&self, pos: Pos) -> usize {
        let Some(&start) = self.line_starts.get(pos.line.saturating_sub(1)) else {
            return self.text.len();
        };
        let line = self.text[start..].split('\n').next().unwrap_or("");
        let mut chars = line.char_indices().map(|(i, _)| i);
        start + chars.nth(pos.column.saturating_sub(1)).unwrap_or(line.len())
    }

    fn slice(&self, s: usize, e: usize) -> &'a str {
        self.text.get(s..e).unwrap_or("")
    }

    /// Looks through `Some(...)` wrappers, which paths treat as transparent.
    fn unwrap(&self, mut n: usize) -> usize {
        while self.nodes[n].kind == Kind::Some {
            n = self.nodes[n].entries[0].value;
        }
        n
    }

    /// The node at `path`, looking through a final `Some(...)`.
    fn value(&self, path: &[Step]) -> Option<&Node> {
        Some(&self.nodes[self.unwrap(self.walk(path)?.ok()?)])
    }

    /// Follows `path` to Ok(node), or to Err((parent, i)) when `parent` (already unwrapped from
    /// `Some`) has no child for `path[i]`; None when the document holds no value at all.
    fn walk(&self, path: &[Step]) -> Option<Result<usize, (usize, usize)>> {
        let mut n = self.root?;
        for (i, step) in path.iter().enumerate() {
            let parent = self.unwrap(n);
            match self.child(parent, step) {
                Some(c) => n = c,
                None => return Some(Err((parent, i))),
            }
        }
        Some(Ok(n))
    }

    fn child(&self, n: usize, step: &Step) -> Option<usize> {
        let node = &self.nodes[n];
        let entry = match step {
            Step::Field(name) => {
                node.entries.iter().find(|e| e.key.is_some_and(|(s, e)| self.slice(s, e) == name.as_str()))
            }
            Step::Index(i) if matches!(node.kind, Kind::List | Kind::Group) => {
                node.entries.get(*i).filter(|e| e.key.is_none())
            }
            Step::Index(_) => None,
        };
        entry.map(|e| e.value)
    }
}

/// A group holds named fields (or nothing) rather than positional values.
fn is_struct(node: &Node) -> bool {
    node.entries.is_empty() || node.entries.iter().any(|e| e.key.is_some())
}

/// Why `splice` could not put a value at a path.
#[derive(Debug, PartialEq, Eq)]
pub enum SpliceError {
    /// a list index past the end, or a path through a non-struct value
    NotFound(String),
}

/// Replaces (or inserts) the value at `path` with `value` (RON text, inserted verbatim).
/// Returns the new text and the byte span of the inserted value text within it.
pub(super) fn splice(text: &str, path: &[Step], value: &str) -> Result<(String, (usize, usize)), SpliceError> {
    let doc = Doc::parse(text);
    let not_found = |upto: usize| SpliceError::NotFound(format_path(&path[..upto.min(path.len())]));
    let (at, insert, rest) = match doc.walk(path) {
        None => return Err(not_found(0)),
        Some(Ok(n)) => {
            // The whole `Some(..)` is replaced, so the new text decides whether it is optional.
            let (s, e) = (doc.nodes[n].start, doc.nodes[n].end);
            let out = format!("{}{value}{}", &text[..s], &text[e..]);
            return Ok((out, (s, s + value.len())));
        }
        Some(Err((parent, at))) => (at, &doc.nodes[parent], &path[at..]),
    };
    // Only a struct can gain a field, and only fields (never list elements) can be created.
    if insert.kind != Kind::Group || !is_struct(insert) {
        return Err(not_found(at + 1));
    }
    let mut names = Vec::new();
    for (i, step) in rest.iter().enumerate() {
        match step {
            Step::Field(name) => names.push(name.as_str()),
            Step::Index(_) => return Err(not_found(at + i + 1)),
        }
    }
    let prefix = names.join(": (") + ": ";
    let pos = insert.open + 1;
    let start = pos + prefix.len();
    let closing = ")".repeat(names.len() - 1);
    let out = format!("{}{prefix}{value}{closing}, {}", &text[..pos], &text[pos..]);
    Ok((out, (start, start + value.len())))
}

struct Parser<'a> {
    b: &'a [u8],
    p: usize,
    nodes: Vec<Node>,
}

/// Bytes that end a bare word; everything else, including all non-ASCII bytes, belongs to it.
fn is_delim(c: u8) -> bool {
    c.is_ascii_whitespace() || b",:()[]{}\"'/".contains(&c)
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

impl Parser<'_> {
    /// The byte at `i`, or 0 past the end; loops still check the length, so a NUL byte is harmless.
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn push(&mut self, kind: Kind, start: usize, open: usize, entries: Vec<Entry>) -> usize {
        let end = self.p;
        self.nodes.push(Node { kind, start, end, open, entries });
        self.nodes.len() - 1
    }

    fn skip_trivia(&mut self) {
        let len = self.b.len();
        loop {
            match (self.at(self.p), self.at(self.p + 1)) {
                (c, _) if c.is_ascii_whitespace() => self.p += 1,
                (b'/', b'/') => {
                    while self.p < len && self.b[self.p] != b'\n' {
                        self.p += 1;
                    }
                }
                (b'/', b'*') => {
                    // Block comments nest in RON, so `/* a /* b */ c */` is one comment.
                    let mut depth = 0usize;
                    loop {
                        match self.b.get(self.p..self.p + 2) {
                            Some(b"/*") => depth += 1,
                            Some(b"*/") => depth -= 1,
                            Some(_) => {
                                self.p += 1;
                                continue;
                            }
                            None => {
                                self.p = len;
                                break;
                            }
                        }
                        self.p += 2;
                        if depth == 0 {
                            break;
                        }
                    }
                }
                _ => return,
            }
        }
    }

    /// Skips a `"..."` or `'...'` literal starting at the quote.
    fn skip_quoted(&mut self, quote: u8) {
        self.p += 1;
        while self.p < self.b.len() {
            match self.b[self.p] {
                b'\\' => self.p += 2,
                c if c == quote => {
                    self.p += 1;
                    return;
                }
                _ => self.p += 1,
            }
        }
        self.p = self.b.len();
    }

    /// Skips `r"..."` or `r#"..."#` if one starts at `r`; returns false for anything else.
    fn raw_string(&mut self, r: usize) -> bool {
        let mut q = r + 1;
        while self.at(q) == b'#' {
            q += 1;
        }
        if self.at(q) != b'"' {
            return false;
        }
        let hashes = q - r - 1;
        // Each check stops at the first non-`#`, so the scan stays linear overall.
        for i in q + 1..self.b.len() {
            if self.b[i] == b'"' && (1..=hashes).all(|k| self.at(i + k) == b'#') {
                self.p = i + 1 + hashes;
                return true;
            }
        }
        self.p = self.b.len();
        true
    }

    /// Skips one token that is not a container: a string, char, raw string or bare word, and
    /// says whether it was a word. Always consumes at least one byte when not at the end.
    fn scan_token(&mut self) -> bool {
        let (start, c, next) = (self.p, self.at(self.p), self.at(self.p + 1));
        match c {
            b'"' | b'\'' => {
                self.skip_quoted(c);
                return false;
            }
            b'b' if next == b'"' || next == b'\'' => {
                self.p += 1;
                self.skip_quoted(next);
                return false;
            }
            b'b' if next == b'r' && self.raw_string(start + 1) => return false,
            b'r' if self.raw_string(start) => return false,
            b'r' if next == b'#' => self.p += 2,
            _ => {}
        }
        while self.p < self.b.len() && !is_delim(self.b[self.p]) {
            self.p += 1;
        }
        if self.p == start && start < self.b.len() {
            // A stray delimiter becomes a one-byte atom so that callers always make progress.
            self.p += 1;
            return false;
        }
        true
    }

    fn parse_value(&mut self, depth: usize) -> usize {
        let start = self.p;
        if matches!(self.at(start), b'(' | b'[' | b'{') {
            return self.container(start, start, depth, false);
        }
        let word = self.scan_token();
        let word_end = self.p;
        if word && !self.at(start).is_ascii_digit() {
            // `Name(...)`, `Variant(...)` and `Some(...)` are all groups with a leading word.
            self.skip_trivia();
            if self.at(self.p) == b'(' {
                let is_some = &self.b[start..word_end] == b"Some";
                return self.container(start, self.p, depth, is_some);
            }
            self.p = word_end;
        }
        self.push(Kind::Atom, start, start, Vec::new())
    }

    fn container(&mut self, node_start: usize, open: usize, depth: usize, some: bool) -> usize {
        let (mut kind, closer) = match self.b[open] {
            b'(' => (Kind::Group, b')'),
            b'[' => (Kind::List, b']'),
            _ => (Kind::Map, b'}'),
        };
        if depth >= MAX_DEPTH {
            self.p = open;
            self.skip_balanced();
            return self.push(Kind::Atom, node_start, open, Vec::new());
        }
        self.p = open + 1;
        let mut entries = Vec::new();
        loop {
            self.skip_trivia();
            let c = self.at(self.p);
            if self.p >= self.b.len() || matches!(c, b')' | b']' | b'}') {
                // A mismatched closer is left for the enclosing container to deal with.
                self.p += usize::from(c == closer);
                break;
            }
            if c == b',' {
                self.p += 1;
                continue;
            }
            let start = self.p;
            let mut key = if kind == Kind::Group { self.field_name() } else { None };
            let mut value = self.entry_value(depth);
            if kind == Kind::Map {
                self.skip_trivia();
                if self.at(self.p) == b':' {
                    self.p += 1;
                    self.skip_trivia();
                    key = Some(self.key_span(value));
                    value = self.entry_value(depth);
                }
            }
            entries.push(Entry { start, key, value });
        }
        if some && entries.len() == 1 && entries[0].key.is_none() {
            kind = Kind::Some;
        }
        self.push(kind, node_start, open, entries)
    }

    /// Parses the value of an entry, which is empty when a closer or the end comes first.
    fn entry_value(&mut self, depth: usize) -> usize {
        if self.p >= self.b.len() || matches!(self.b[self.p], b')' | b']' | b'}') {
            return self.push(Kind::Atom, self.p, self.p, Vec::new());
        }
        self.parse_value(depth + 1)
    }

    /// Consumes `name:` (or `r#name:`) if the group entry at the cursor is a named field.
    fn field_name(&mut self) -> Option<(usize, usize)> {
        let save = self.p;
        let raw = self.at(save) == b'r' && self.at(save + 1) == b'#';
        let s = save + if raw { 2 } else { 0 };
        let e = s + self.b[s.min(self.b.len())..].iter().take_while(|c| is_ident(**c)).count();
        if e == s || self.b[s].is_ascii_digit() {
            return None;
        }
        self.p = e;
        self.skip_trivia();
        if self.at(self.p) == b':' {
            self.p += 1;
            self.skip_trivia();
            return Some((s, e));
        }
        self.p = save;
        None
    }

    /// The text a map key is addressed by: a string's contents, or the key's source text.
    fn key_span(&self, k: usize) -> (usize, usize) {
        let (s, e) = (self.nodes[k].start, self.nodes[k].end);
        let quoted = e >= s + 2 && self.b[s] == b'"' && self.b[e - 1] == b'"';
        if quoted { (s + 1, e - 1) } else { (s, e) }
    }

    /// Skips a whole bracketed value iteratively, for nesting beyond `MAX_DEPTH`.
    fn skip_balanced(&mut self) {
        let mut depth = 0usize;
        loop {
            self.skip_trivia();
            match self.at(self.p) {
                _ if self.p >= self.b.len() => return,
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {
                    self.scan_token();
                    continue;
                }
            }
            self.p += 1;
            if depth == 0 {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIM: &str = r##"#![enable(implicit_some)]
// A small scenario.
Sim(
    seed: 42,
    tcp: (msl_ms: 500, user_timeout_ms: Some(5), /* nested /* ( " */ ) */ rto: [1, 2]),
    links: [
        Link(from: "a(", to: "b]", loss: 0.1),
        Link(from: r#"x")"#, to: "\"q\"", loss: 1e-3, delay: Fixed(ms: 3)),
    ],
    connections: [(script: [Send(bytes: 10), Close, Wait((ms: 1))])],
    names: { "x": 1, y: 'a', "z": '\'' },
)
"##;

    fn p(s: &str) -> Vec<Step> {
        parse_path(s).unwrap()
    }

    fn pos(line: usize, column: usize) -> Pos {
        Pos { line, column }
    }

    fn at(text: &str, needle: &str) -> Pos {
        Doc::parse(text).pos_of(text.find(needle).unwrap())
    }

    fn value_at(doc: &Doc, path: &str) -> &'static str {
        let (s, e) = doc.span(&p(path)).unwrap();
        SIM.get(s..e).unwrap()
    }

    #[test]
    fn paths_round_trip() {
        for s in "links[1].loss tcp.msl_ms hosts[0] expect.endpoints[2].path[0] [3] ".split(' ') {
            assert_eq!(format_path(&p(s)), s);
        }
        let steps = [Step::Field("a".into()), Step::Index(2), Step::Field("_b1".into())];
        assert_eq!(p("a[2]._b1"), steps);
        for bad in "a. .a a..b 1a a[x] a[] a[-1] a[1 a-b a[1]b a.[0] é".split(' ') {
            assert_eq!(parse_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn finds_nested_values_past_comments_and_strings() {
        let doc = Doc::parse(SIM);
        assert_eq!(doc.find(&p("seed")), Ok(at(SIM, "42")));
        assert_eq!(doc.find(&p("tcp.msl_ms")), Ok(at(SIM, "500")));
        assert_eq!(value_at(&doc, "tcp.rto"), "[1, 2]");
        assert_eq!(value_at(&doc, "tcp.rto[1]"), "2");
        assert_eq!(value_at(&doc, "links[0].to"), "\"b]\"");
        assert_eq!(value_at(&doc, "links[0].loss"), "0.1");
        assert_eq!(value_at(&doc, "links[1].to"), r#""\"q\"""#);
        assert_eq!(value_at(&doc, "links[1].loss"), "1e-3");
        assert_eq!(value_at(&doc, "links[1].delay.ms"), "3");
        assert_eq!(value_at(&doc, "connections[0].script[1]"), "Close");
        assert_eq!(value_at(&doc, "connections[0].script[2][0].ms"), "1");
        assert_eq!(value_at(&doc, "names.x"), "1");
        assert_eq!(value_at(&doc, "names.z"), r"'\''");
        assert_eq!(doc.len(&p("links")), Some(2));
        assert_eq!(doc.len(&p("connections[0].script[2]")), Some(1));
        assert_eq!(doc.len(&p("tcp")), None);
        let fields = doc.fields(&p("links[1]")).unwrap();
        assert_eq!(fields, ["from", "to", "loss", "delay"]);
        assert_eq!(doc.fields(&p("connections[0].script[0]")).unwrap(), ["bytes"]);
        assert_eq!(doc.fields(&p("tcp.rto")), None);
        assert_eq!(value_at(&doc, "links[1].from"), r##"r#"x")"#"##);
        assert_eq!(doc.find(&p("links[1].from")), Ok(pos(8, 20)));
    }

    #[test]
    fn some_is_transparent() {
        let doc = Doc::parse(SIM);
        assert_eq!(value_at(&doc, "tcp.user_timeout_ms"), "5");
        let text = "(a: Some((b: Some([7]))))";
        let doc = Doc::parse(text);
        assert_eq!(doc.find(&p("a.b[0]")), Ok(at(text, "7")));
        assert_eq!(doc.path_at(at(text, "7")), p("a.b[0]"));
        let (out, (s, e)) = splice(SIM, &p("tcp.user_timeout_ms"), "None").unwrap();
        assert!(out.contains("user_timeout_ms: None, /*"));
        assert_eq!(&out[s..e], "None");
    }

    #[test]
    fn missing_fields_report_the_enclosing_value() {
        let doc = Doc::parse(SIM);
        let link0 = at(SIM, "Link(from: \"a");
        assert_eq!(doc.find(&p("links[0].delay")), Err(link0));
        assert_eq!(doc.find(&p("links[5].loss")), Err(at(SIM, "[\n")));
        assert_eq!(doc.find(&p("nope.deeper")), Err(at(SIM, "Sim(")));
        assert_eq!(Doc::parse("  // empty\n").find(&p("a")), Err(pos(1, 1)));
    }

    #[test]
    fn positions_map_back_to_paths() {
        let doc = Doc::parse(SIM);
        assert_eq!(doc.path_at(at(SIM, "0.1")), p("links[0].loss"));
        assert_eq!(doc.path_at(at(SIM, "loss: 1e")), p("links[1].loss"));
        assert_eq!(doc.path_at(at(SIM, "Link(from: r")), p("links[1]"));
        assert_eq!(doc.path_at(at(SIM, "ms: 3")), p("links[1].delay.ms"));
        assert_eq!(doc.path_at(at(SIM, ", to: \"b")), p("links[0]"));
        assert_eq!(doc.path_at(at(SIM, "Sim")), p(""));
        assert_eq!(doc.path_at(pos(99, 1)), p(""));
        // ron reports an unknown field at its name, which should be named in the message.
        let text = "(tcp: (msl_ms: 5,\n   bogus: 1))";
        let doc = Doc::parse(text);
        assert_eq!(doc.path_at(pos(2, 5)), p("tcp.bogus"));
        assert_eq!(doc.path_at(pos(1, 17)), p("tcp"));
        // ron reports a truncated file at its end, inside whatever was left open.
        let doc = Doc::parse("(tcp: (msl_ms: 5, rto: [1,\n");
        assert_eq!(doc.path_at(pos(2, 1)), p("tcp.rto"));
    }

    #[test]
    fn columns_count_characters() {
        let text = "(s: \"héé\", n: 1)";
        let doc = Doc::parse(text);
        assert_eq!(doc.find(&p("n")), Ok(pos(1, 15)));
        assert_eq!(doc.path_at(pos(1, 15)), p("n"));
        assert_eq!(doc.pos_of(text.find('1').unwrap()), pos(1, 15));
    }

    #[test]
    fn splice_replaces_and_inserts() {
        let (out, (s, e)) = splice(SIM, &p("links[1].loss"), "0.5").unwrap();
        assert_eq!(&out[s..e], "0.5");
        assert_eq!(Doc::parse(&out).span(&p("links[1].loss")), Some((s, e)));
        assert!(out.contains("loss: 0.5, delay"));

        let (out, span) = splice(SIM, &p("links[0].delay"), "Fixed(ms: 9)").unwrap();
        assert!(out.contains("Link(delay: Fixed(ms: 9), from: \"a(\""));
        assert_eq!(Doc::parse(&out).span(&p("links[0].delay")), Some(span));

        let text = "(seed: 1, net: ())";
        let (out, span) = splice(text, &p("tcp.timers.msl_ms"), "5").unwrap();
        assert_eq!(out, "(tcp: (timers: (msl_ms: 5)), seed: 1, net: ())");
        assert_eq!(&out[span.0..span.1], "5");
        let out = splice(text, &p("net.a"), "2").unwrap().0;
        assert_eq!(out, "(seed: 1, net: (a: 2, ))");
        assert_eq!(splice(text, &p(""), "()").unwrap().0, "()");
    }

    #[test]
    fn splice_rejects_missing_indices_and_non_structs() {
        let nf = |s: &str| Err(SpliceError::NotFound(s.to_string()));
        assert_eq!(splice(SIM, &p("links[2].loss"), "1"), nf("links[2]"));
        assert_eq!(splice(SIM, &p("seed.x"), "1"), nf("seed.x"));
        assert_eq!(splice(SIM, &p("tcp.rto.x"), "1"), nf("tcp.rto.x"));
        assert_eq!(splice(SIM, &p("new[0].x"), "1"), nf("new[0]"));
        assert_eq!(splice("", &p("a"), "1"), nf(""));
    }

    #[test]
    fn survives_deep_nesting() {
        for open in ["(", "[", "{", "Some(", "a: (", "/*"] {
            let text = open.repeat(100_000);
            let doc = Doc::parse(&text);
            let _ = doc.path_at(pos(1, 90_000));
            let _ = splice(&text, &p("a.b"), "1");
        }
        let text = format!("(a: {}1{})", "[".repeat(1000), "]".repeat(1000));
        assert_eq!(Doc::parse(&text).len(&p("a")), Some(1));
    }

    /// Exercises every entry point; spans must always be valid slices of the text.
    fn poke(text: &str, seed: u64) {
        let doc = Doc::parse(text);
        let paths = ["", "a", "tcp.msl_ms", "links[1].loss", "[0]", "x[0][1].y"];
        for path in paths.map(p) {
            let _ = doc.find(&path);
            let _ = (doc.len(&path), doc.fields(&path));
            if let Some((s, e)) = doc.span(&path) {
                assert!(text.get(s..e).is_some());
            }
            if let Ok((out, (s, e))) = splice(text, &path, "7") {
                assert_eq!(out.get(s..e), Some("7"));
            }
        }
        let _ = doc.path_at(pos(seed as usize % 20, (seed >> 8) as usize % 80));
        let _ = doc.pos_of(seed as usize % (text.len() + 2));
    }

    #[test]
    fn never_panics_on_garbage() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for (i, _) in SIM.char_indices() {
            poke(&SIM[..i], next());
            poke(&SIM[i..], next());
        }
        let pieces = [
            "(", ")", "[", "]", "{", "}", ",", ":", "\"", "'", "\\", "r#\"", "\"#", "#", "/*", "*/", "//", "\n", " ",
            "a", "Some", "b'", "é", "1e-3", "r#x", "br\"", "#![x]", "\0",
        ];
        for _ in 0..3000 {
            let n = next() % 40;
            let text: String = (0..n).map(|_| pieces[(next() % pieces.len() as u64) as usize]).collect();
            poke(&text, next());
            let bytes: Vec<u8> = (0..n * 2).map(|_| next() as u8).collect();
            poke(&String::from_utf8_lossy(&bytes), next());
        }
    }
}
