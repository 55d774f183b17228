//! A few SVG primitives shared by the ladder, the state diagram and the
//! sweep plot: escaping, text, lines, arrows, boxes.
//!
//! Hand-written rather than a plotting crate: the pictures are simple, and
//! this way every byte is ours to keep deterministic. Coordinates are
//! printed with one fixed decimal ([`num`]) and computed only with `+ - * /`
//! and `sqrt`, which IEEE 754 rounds exactly, so the same trace gives the
//! same file on every machine. Text widths are estimated for a monospace
//! font ([`text_width`]), which is why labels use one.

use std::fmt::Write as _;

/// The font of labels: monospace, so widths can be estimated exactly.
pub const MONO: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";
/// The font of titles and captions.
pub const SANS: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";

/// Advance of one character of [`MONO`], in ems (DejaVu Sans Mono: 0.602).
const MONO_ADVANCE: f64 = 0.61;

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with one fixed decimal; `-0.0` prints as `0.0`.
pub fn num(x: f64) -> String {
    let x = if x.is_finite() { x } else { 0.0 };
    let s = format!("{x:.1}");
    if s == "-0.0" { "0.0".to_string() } else { s }
}

/// The width of `text` at `size` px in [`MONO`].
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * MONO_ADVANCE
}

/// Horizontal anchoring of text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// The text starts at the point (SVG `text-anchor="start"`).
    Start,
    /// The text is centred on the point.
    Middle,
    /// The text ends at the point.
    End,
}

impl Anchor {
    fn name(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// How a piece of text looks.
#[derive(Clone, Copy, Debug)]
pub struct Font {
    /// A CSS font-family list ([`MONO`] or [`SANS`]).
    pub family: &'static str,
    /// The font size in px.
    pub size: f64,
    /// Bold weight.
    pub bold: bool,
    /// Italic style.
    pub italic: bool,
    /// The text colour, as an SVG colour.
    pub fill: &'static str,
}

impl Font {
    /// Monospaced text of `size` px in colour `fill`.
    pub const fn mono(size: f64, fill: &'static str) -> Font {
        Font { family: MONO, size, bold: false, italic: false, fill }
    }

    /// Sans-serif text of `size` px in colour `fill`.
    pub const fn sans(size: f64, fill: &'static str) -> Font {
        Font { family: SANS, size, bold: false, italic: false, fill }
    }

    /// The same font in bold.
    pub const fn bold(self) -> Font {
        Font { bold: true, ..self }
    }

    /// The same font in italics.
    pub const fn italic(self) -> Font {
        Font { italic: true, ..self }
    }
}

/// How a line looks.
#[derive(Clone, Copy, Debug)]
pub struct Stroke {
    /// The line colour, as an SVG colour.
    pub color: &'static str,
    /// The line width in px.
    pub width: f64,
    /// An SVG `stroke-dasharray`, or empty for a solid line.
    pub dash: &'static str,
    /// The line's opacity, from 0 (invisible) to 1 (opaque).
    pub opacity: f64,
}

impl Stroke {
    /// A solid, opaque line.
    pub const fn solid(color: &'static str, width: f64) -> Stroke {
        Stroke { color, width, dash: "", opacity: 1.0 }
    }

    /// A dashed, opaque line with the `stroke-dasharray` `dash`.
    pub const fn dashed(color: &'static str, width: f64, dash: &'static str) -> Stroke {
        Stroke { color, width, dash, opacity: 1.0 }
    }

    fn attrs(&self) -> String {
        let mut s = format!(r#"stroke="{}" stroke-width="{}""#, self.color, num(self.width));
        if !self.dash.is_empty() {
            let _ = write!(s, r#" stroke-dasharray="{}""#, self.dash);
        }
        if self.opacity < 1.0 {
            let _ = write!(s, r#" stroke-opacity="{:.2}""#, self.opacity);
        }
        s
    }
}

/// An SVG document being written.
pub struct Svg {
    buf: String,
    width: f64,
    height: f64,
    /// Colours that have an arrowhead marker defined, by marker id.
    markers: Vec<&'static str>,
    body: String,
}

impl Svg {
    /// An empty document `width` by `height` px.
    pub fn new(width: f64, height: f64) -> Svg {
        Svg { buf: String::new(), width, height, markers: Vec::new(), body: String::new() }
    }

    /// The document's width in px.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// Changes the canvas height (known only once the content is laid out).
    pub fn set_height(&mut self, height: f64) {
        self.height = height;
    }

    /// The finished document.
    pub fn finish(mut self) -> String {
        let _ = writeln!(
            self.buf,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#,
            w = num(self.width),
            h = num(self.height)
        );
        if !self.markers.is_empty() {
            self.buf.push_str("<defs>\n");
            for color in &self.markers {
                // An arrowhead that takes the colour of its line; `orient`
                // turns it along the line, so no angles are computed here.
                let _ = writeln!(
                    self.buf,
                    r#"<marker id="{id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>"#,
                    id = marker_id(color),
                );
            }
            self.buf.push_str("</defs>\n");
        }
        let _ = writeln!(
            self.buf,
            r#"<rect x="0" y="0" width="{}" height="{}" fill="white"/>"#,
            num(self.width),
            num(self.height)
        );
        self.buf.push_str(&self.body);
        self.buf.push_str("</svg>\n");
        self.buf
    }

    /// Adds raw markup (already escaped).
    pub fn raw(&mut self, markup: &str) {
        self.body.push_str(markup);
    }

    /// A comment, for people reading the source (`--` is not allowed in
    /// comments, so it is replaced).
    pub fn comment(&mut self, text: &str) {
        let _ = writeln!(self.body, "<!-- {} -->", escape(text).replace("--", "- -"));
    }

    /// Opens a `<g>` element with the attributes `attrs` (written as given);
    /// close it with [`Svg::close_group`].
    pub fn open_group(&mut self, attrs: &str) {
        let _ = writeln!(self.body, "<g {attrs}>");
    }

    /// Closes the innermost open group.
    pub fn close_group(&mut self) {
        self.body.push_str("</g>\n");
    }

    /// Text at (`x`, `y`), `y` being the baseline, anchored horizontally by
    /// `anchor`.
    pub fn text(&mut self, x: f64, y: f64, anchor: Anchor, font: Font, content: &str) {
        self.text_styled(x, y, anchor, font, content, "");
    }

    /// Text with a white outline painted under it: it stays readable where
    /// lines run through it, without hiding them as a box would.
    pub fn text_halo(&mut self, x: f64, y: f64, anchor: Anchor, font: Font, content: &str) {
        let halo = r#" stroke="white" stroke-width="3.5" stroke-linejoin="round" paint-order="stroke""#;
        self.text_styled(x, y, anchor, font, content, halo);
    }

    fn text_styled(&mut self, x: f64, y: f64, anchor: Anchor, font: Font, content: &str, extra: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{}" y="{}" text-anchor="{}" font-family="{}" font-size="{}"{}{} fill="{}"{extra}>{}</text>"#,
            num(x),
            num(y),
            anchor.name(),
            font.family,
            num(font.size),
            if font.bold { r#" font-weight="bold""# } else { "" },
            if font.italic { r#" font-style="italic""# } else { "" },
            font.fill,
            escape(content)
        );
    }

    /// Text turned to read upwards (an axis label), centred on `(x, y)`.
    pub fn text_vertical(&mut self, x: f64, y: f64, font: Font, content: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{x}" y="{y}" transform="rotate(-90 {x} {y})" text-anchor="middle" font-family="{}" font-size="{}"{} fill="{}">{}</text>"#,
            font.family,
            num(font.size),
            if font.bold { r#" font-weight="bold""# } else { "" },
            font.fill,
            escape(content),
            x = num(x),
            y = num(y),
        );
    }

    /// One line of text in several styles (`<tspan>`s); the first part's
    /// font sets the family and size of the line.
    pub fn text_parts(&mut self, x: f64, y: f64, anchor: Anchor, parts: &[(Font, &str)]) {
        let Some((first, _)) = parts.first() else {
            return;
        };
        let _ = write!(
            self.body,
            r#"<text x="{}" y="{}" text-anchor="{}" font-family="{}" font-size="{}" xml:space="preserve">"#,
            num(x),
            num(y),
            anchor.name(),
            first.family,
            num(first.size),
        );
        for (font, content) in parts {
            let _ = write!(
                self.body,
                r#"<tspan fill="{}" font-size="{}"{}{}>{}</tspan>"#,
                font.fill,
                num(font.size),
                if font.bold { r#" font-weight="bold""# } else { "" },
                if font.italic { r#" font-style="italic""# } else { "" },
                escape(content)
            );
        }
        self.body.push_str("</text>\n");
    }

    /// A filled triangular arrowhead with its tip at `(x, y)`, pointing
    /// away from `(from_x, from_y)`; `size` is its length.
    pub fn arrow_head(&mut self, x: f64, y: f64, from_x: f64, from_y: f64, size: f64, fill: &str) {
        let (dx, dy) = (x - from_x, y - from_y);
        let len = (dx * dx + dy * dy).sqrt();
        if len < 1e-9 {
            return;
        }
        let (ux, uy) = (dx / len, dy / len);
        let (bx, by) = (x - ux * size, y - uy * size);
        let half = size * 0.45;
        self.polygon(&[(x, y), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)], fill, None);
    }

    /// Text with a white box behind it, so it stays readable over lines.
    pub fn text_boxed(&mut self, x: f64, y: f64, anchor: Anchor, font: Font, content: &str) {
        let w = text_width(content, font.size);
        let left = match anchor {
            Anchor::Start => x,
            Anchor::Middle => x - w / 2.0,
            Anchor::End => x - w,
        };
        self.rect(left - 2.0, y - font.size * 0.85, w + 4.0, font.size * 1.1, "white", None, 0.0);
        self.text(x, y, anchor, font, content);
    }

    /// A straight line from (`x1`, `y1`) to (`x2`, `y2`).
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: Stroke) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" {}/>"#,
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            stroke.attrs()
        );
    }

    /// A line with an arrowhead at `(x2, y2)`.
    pub fn arrow(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: Stroke) {
        let id = self.marker(stroke.color);
        let _ = writeln!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" {} marker-end="url(#{id})"/>"#,
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            stroke.attrs()
        );
    }

    /// A polyline through `points`, with an arrowhead at the last one when
    /// `arrow` is set.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: Stroke, arrow: bool) {
        let coordinates: Vec<String> = points.iter().map(|(x, y)| format!("{},{}", num(*x), num(*y))).collect();
        let end = if arrow { format!(r#" marker-end="url(#{})""#, self.marker(stroke.color)) } else { String::new() };
        let _ = writeln!(
            self.body,
            r#"<polyline points="{}" fill="none" stroke-linejoin="round" {}{end}/>"#,
            coordinates.join(" "),
            stroke.attrs()
        );
    }

    /// A rectangle; `stroke` `None` draws no outline.
    #[allow(clippy::too_many_arguments)]
    pub fn rect(&mut self, x: f64, y: f64, width: f64, height: f64, fill: &str, stroke: Option<Stroke>, radius: f64) {
        let outline = stroke.map_or_else(|| r#"stroke="none""#.to_string(), |s| s.attrs());
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" rx="{}" fill="{fill}" {outline}/>"#,
            num(x),
            num(y),
            num(width.max(0.0)),
            num(height.max(0.0)),
            num(radius)
        );
    }

    /// A circle filled with `fill`, outlined by `stroke` if given.
    pub fn circle(&mut self, center_x: f64, center_y: f64, radius: f64, fill: &str, stroke: Option<Stroke>) {
        let outline = stroke.map_or_else(|| r#"stroke="none""#.to_string(), |s| s.attrs());
        let _ = writeln!(
            self.body,
            r#"<circle cx="{}" cy="{}" r="{}" fill="{fill}" {outline}/>"#,
            num(center_x),
            num(center_y),
            num(radius)
        );
    }

    /// A filled polygon.
    pub fn polygon(&mut self, points: &[(f64, f64)], fill: &str, stroke: Option<Stroke>) {
        let coordinates: Vec<String> = points.iter().map(|(x, y)| format!("{},{}", num(*x), num(*y))).collect();
        let outline = stroke.map_or_else(|| r#"stroke="none""#.to_string(), |s| s.attrs());
        let _ = writeln!(self.body, r#"<polygon points="{}" fill="{fill}" {outline}/>"#, coordinates.join(" "));
    }

    /// A cross (×) centred on `(x, y)`: where a segment was lost.
    pub fn cross(&mut self, x: f64, y: f64, half: f64, stroke: Stroke) {
        self.line(x - half, y - half, x + half, y + half, stroke);
        self.line(x - half, y + half, x + half, y - half, stroke);
    }

    fn marker(&mut self, color: &'static str) -> String {
        if !self.markers.contains(&color) {
            self.markers.push(color);
        }
        marker_id(color)
    }
}

fn marker_id(color: &str) -> String {
    let clean: String = color.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    format!("arrow-{clean}")
}

/// Checks that `text` is well-formed enough for our own output: every tag
/// closed in order, attributes quoted, no stray `<` or `&`. Not a general
/// XML parser; tests use it on the pictures this module writes.
pub fn check_well_formed(text: &str) -> Result<(), String> {
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = text;
    let mut roots = 0;
    while let Some(open) = rest.find('<') {
        check_text(&rest[..open])?;
        rest = &rest[open..];
        if let Some(body) = rest.strip_prefix("<!--") {
            let end = body.find("-->").ok_or("unterminated comment")?;
            rest = &body[end + 3..];
            continue;
        }
        if rest.starts_with("<?") {
            let end = rest.find("?>").ok_or("unterminated processing instruction")?;
            rest = &rest[end + 2..];
            continue;
        }
        let end = tag_end(rest).ok_or_else(|| format!("unterminated tag near {:?}", head(rest)))?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name = tag.split_whitespace().next().ok_or("empty tag")?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':' || c == '_') {
            return Err(format!("bad tag name {name:?}"));
        }
        check_attributes(&tag[name.len()..])?;
        if stack.is_empty() {
            roots += 1;
        }
        if !self_closing {
            stack.push(name);
        }
    }
    check_text(rest)?;
    if !stack.is_empty() {
        return Err(format!("unclosed tags: {stack:?}"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(())
}

fn head(s: &str) -> &str {
    let end = s.char_indices().nth(40).map_or(s.len(), |(i, _)| i);
    &s[..end]
}

/// The index of the `>` that ends the tag starting at `s[0]`, skipping
/// quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

fn check_attributes(mut s: &str) -> Result<(), String> {
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(());
        }
        let eq = s.find('=').ok_or_else(|| format!("attribute without value: {:?}", head(s)))?;
        let name = s[..eq].trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!("bad attribute name {name:?}"));
        }
        let value = s[eq + 1..].trim_start();
        let q = value.chars().next().filter(|c| *c == '"' || *c == '\'').ok_or("unquoted attribute")?;
        let close = value[1..].find(q).ok_or("unterminated attribute value")?;
        check_text(&value[1..1 + close])?;
        s = &value[close + 2..];
    }
}

fn check_text(s: &str) -> Result<(), String> {
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        let after = &rest[i + 1..];
        let end = after.find(';').ok_or("unterminated entity")?;
        let entity = &after[..end];
        let known = matches!(entity, "amp" | "lt" | "gt" | "quot" | "apos")
            || entity.strip_prefix('#').is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric()));
        if !known {
            return Err(format!("unknown entity &{entity};"));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape(r#"a<b & "c">'"#), "a&lt;b &amp; &quot;c&quot;&gt;&apos;");
        let mut svg = Svg::new(10.0, 10.0);
        svg.text(1.0, 2.0, Anchor::Start, Font::mono(10.0, "black"), "x < y & z");
        let doc = svg.finish();
        assert!(doc.contains("x &lt; y &amp; z"), "{doc}");
        check_well_formed(&doc).unwrap();
    }

    #[test]
    fn numbers_have_one_fixed_decimal() {
        assert_eq!(num(1.0), "1.0");
        assert_eq!(num(-0.04), "0.0");
        assert_eq!(num(2.25), "2.2");
        assert_eq!(num(f64::NAN), "0.0");
    }

    #[test]
    fn the_checker_finds_broken_documents() {
        assert!(check_well_formed("<a><b/></a>").is_ok());
        assert!(check_well_formed("<a><b></a>").is_err());
        assert!(check_well_formed("<a x=1/>").is_err());
        assert!(check_well_formed("<a>&nope;</a>").is_err());
        assert!(check_well_formed("<a/><b/>").is_err());
        assert!(check_well_formed("<a x=\"1>\"/>").is_ok());
    }

    #[test]
    fn arrows_define_one_marker_per_colour() {
        let mut svg = Svg::new(10.0, 10.0);
        svg.arrow(0.0, 0.0, 5.0, 5.0, Stroke::solid("#123456", 1.0));
        svg.arrow(0.0, 0.0, 5.0, 6.0, Stroke::solid("#123456", 1.0));
        let doc = svg.finish();
        assert_eq!(doc.matches("<marker ").count(), 1);
        check_well_formed(&doc).unwrap();
    }
}
