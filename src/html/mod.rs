//! The report page (`tcpsim report`): one run as one self-contained HTML
//! file a person opens in a browser. Not to be confused with
//! [`crate::report`], the text header and summaries of a trace.
//!
//! The page is a pure function of a [`Page`]: the same run gives the same
//! bytes (no dates, no wall clock). It needs nothing outside itself: the
//! style sheet and the one small script are inline, the pictures are
//! inline SVG, and no font, image or script is fetched, so it opens the
//! same offline, from an e-mail or from a CI artifact. Every text is
//! escaped; the SVGs are tcpsim's own, well-formed pictures.
//!
//! - [`figures`] assembles the pictures of one connection
//!   ([`figures::connection_figures`]);
//! - [`page_html`] lays out the page: contents, run header and settings,
//!   endpoint table, expectations, one section per connection, digest
//!   and replay command.

pub mod figures;
mod inline;

use crate::expect::Check;
use crate::pictures::svg::escape;
use inline::{SCRIPT, STYLE};
use std::fmt::Write as _;

/// Everything the page shows, already formatted as text (the caller runs
/// the simulation and chooses what to draw).
#[derive(Clone, Debug, Default)]
pub struct Page {
    /// The scenario's name.
    pub scenario: String,
    /// The run's effective seed.
    pub seed: u64,
    /// The run header and settings (`report::header_lines`), one per line.
    pub header: Vec<String>,
    /// The summary line (`report::Summary::line`).
    pub summary: String,
    /// The endpoint table: column names, then one row of cells per
    /// endpoint (`measure::conn_table::table_cells`).
    pub table: (Vec<String>, Vec<Vec<String>>),
    /// Endpoints the table leaves out (beyond its row limit).
    pub table_left_out: usize,
    /// The `expect` block's results, in file order.
    pub checks: Vec<Check>,
    /// The connections drawn, in order.
    pub connections: Vec<Connection>,
    /// The connections not drawn, if any.
    pub left_out: Option<LeftOut>,
    /// The trace digest, in hex.
    pub digest: String,
    /// The command that replays the run.
    pub replay: String,
}

/// The connections a page leaves out (beyond its limit).
#[derive(Clone, Debug, Default)]
pub struct LeftOut {
    /// The first connection not drawn (the ones before it are).
    pub first: u64,
    /// How many connections the run has.
    pub total: u64,
    /// The command that draws one of them, `N` standing for its number.
    pub command: String,
    /// The flag that raises the limit, with its value now.
    pub limit: String,
}

/// One connection's section.
#[derive(Clone, Debug, Default)]
pub struct Connection {
    /// The connection's number (`conn` in the trace).
    pub conn: u32,
    /// The names of its endpoints, the connecting one first.
    pub endpoints: Vec<String>,
    /// Its pictures, in the order shown.
    pub figures: Vec<Figure>,
    /// Lines said under the pictures (what was not drawn, and why).
    pub notes: Vec<String>,
}

/// One picture with its caption.
#[derive(Clone, Debug, Default)]
pub struct Figure {
    /// A short name unique within its connection (`ladder`, `tsg-client`,
    /// ...): the figure's anchor is `conn-N-SLUG`.
    pub slug: String,
    /// The caption: what the picture shows.
    pub caption: String,
    /// The picture, an SVG document (one `<svg>` root, no XML declaration).
    pub svg: String,
}

impl Connection {
    /// The section's anchor.
    fn anchor(&self) -> String {
        format!("conn-{}", self.conn)
    }

    /// The section's heading: `Connection 0: client ↔ server`.
    fn heading(&self) -> String {
        if self.endpoints.is_empty() {
            format!("Connection {}", self.conn)
        } else {
            format!("Connection {}: {}", self.conn, self.endpoints.join(" \u{2194} "))
        }
    }
}

/// The whole page.
pub fn page_html(page: &Page) -> String {
    let mut out = String::with_capacity(
        page.connections.iter().flat_map(|c| &c.figures).map(|f| f.svg.len()).sum::<usize>() + 16_384,
    );
    let title = format!("{}, seed {}", page.scenario, page.seed);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>tcpsim report: {}</title>", escape(&title));
    let _ = write!(out, "<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n");
    let _ = writeln!(out, "<h1>{}</h1>", escape(&title));
    let failed = page.checks.iter().filter(|c| !c.ok).count();
    let verdict = match (page.checks.len(), failed) {
        (0, _) => ("ok", "The run completed; the file has no expectations.".to_string()),
        (n, 0) => ("ok", format!("The run completed and met all {n} expectations.")),
        (n, f) => ("failed", format!("The run completed and failed {f} of {n} expectations.")),
    };
    let _ = writeln!(out, "<p class=\"verdict {}\">{}</p>", verdict.0, escape(&verdict.1));
    contents(&mut out, page);
    section(&mut out, "run", "Run and settings");
    pre(&mut out, &page.header.join("\n"));
    pre(&mut out, &page.summary);
    section(&mut out, "endpoints", "Endpoints");
    table(&mut out, page);
    section(&mut out, "expectations", "Expectations");
    checks(&mut out, &page.checks);
    if let Some(left) = &page.left_out {
        left_out(&mut out, left);
    }
    for c in &page.connections {
        connection(&mut out, c);
    }
    section(&mut out, "replay", "Digest and replay");
    let _ = writeln!(out, "<p>Trace digest: <code>{}</code></p>", escape(&page.digest));
    out.push_str("<p>The same file, seed and overrides give this digest again; this command replays the run:</p>\n");
    pre(&mut out, &page.replay);
    let _ = write!(out, "</main>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

/// The note on the connections not drawn: how many, and how to see one.
fn left_out(out: &mut String, left: &LeftOut) {
    let n = left.total - left.first;
    let which = if n == 1 {
        format!("Connection {} is not drawn", left.first)
    } else {
        format!("Connections {} to {} ({n} of {}) are not drawn", left.first, left.total - 1, left.total)
    };
    let _ = writeln!(
        out,
        "<p class=\"note\">{} ({}). Draw one with <code>{}</code>, or raise the limit.</p>",
        escape(&which),
        escape(&left.limit),
        escape(&left.command)
    );
}

/// The table of contents, with an entry per section and per figure.
fn contents(out: &mut String, page: &Page) {
    out.push_str("<nav>\n<h2>Contents</h2>\n<ol>\n");
    for (id, name) in [("run", "Run and settings"), ("endpoints", "Endpoints"), ("expectations", "Expectations")] {
        let _ = writeln!(out, "<li><a href=\"#{id}\">{name}</a></li>");
    }
    for c in &page.connections {
        let _ = writeln!(out, "<li><a href=\"#{}\">{}</a>\n<ol>", c.anchor(), escape(&c.heading()));
        for f in &c.figures {
            let _ = writeln!(out, "<li><a href=\"#{}-{}\">{}</a></li>", c.anchor(), f.slug, escape(f.caption_title()));
        }
        out.push_str("</ol></li>\n");
    }
    out.push_str("<li><a href=\"#replay\">Digest and replay</a></li>\n</ol>\n</nav>\n");
}

impl Figure {
    /// The caption's first sentence (its title, for the contents).
    fn caption_title(&self) -> &str {
        self.caption.split_once(": ").map_or(&self.caption, |(t, _)| t)
    }
}

fn section(out: &mut String, id: &str, heading: &str) {
    let _ = writeln!(out, "<h2 id=\"{id}\">{}</h2>", escape(heading));
}

fn pre(out: &mut String, text: &str) {
    let _ = writeln!(out, "<pre>{}</pre>", escape(text));
}

/// The endpoint table; names and states left-aligned, numbers right.
fn table(out: &mut String, page: &Page) {
    let (names, rows) = &page.table;
    if rows.is_empty() {
        out.push_str("<p>No endpoints.</p>\n");
        return;
    }
    let text = |name: &str| matches!(name, "endpoint" | "state" | "reason");
    out.push_str("<div class=\"table-wrap\"><table>\n<thead><tr>");
    for n in names {
        let class = if text(n) { " class=\"text\"" } else { "" };
        // A break opportunity after each `_`, so long names wrap and the
        // table fits the column.
        let _ = write!(out, "<th{class}>{}</th>", escape(n).replace('_', "_<wbr>"));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (n, cell) in names.iter().zip(row) {
            let class = if text(n) { " class=\"text\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n");
    if page.table_left_out > 0 {
        let _ = writeln!(
            out,
            "<p class=\"note\">{} more endpoints are not listed; <code>{} --quiet --connections results.csv</code> lists every one.</p>",
            page.table_left_out,
            escape(&page.replay)
        );
    }
}

/// Each check, pass or fail, as `run` prints it.
fn checks(out: &mut String, checks: &[Check]) {
    if checks.is_empty() {
        out.push_str("<p>The file has no <code>expect</code> block.</p>\n");
        return;
    }
    out.push_str("<ul class=\"checks\">\n");
    for c in checks {
        let (class, word) = if c.ok { ("ok", "pass") } else { ("failed", "fail") };
        let _ = writeln!(
            out,
            "<li class=\"{class}\"><span class=\"badge {class}\">{word}</span><code>{}</code></li>",
            escape(&c.describe())
        );
    }
    out.push_str("</ul>\n");
}

/// One connection's section: its figures, then its notes.
fn connection(out: &mut String, c: &Connection) {
    let anchor = c.anchor();
    let _ = writeln!(out, "<section id=\"{anchor}\">");
    let _ = writeln!(out, "<h2>{}</h2>", escape(&c.heading()));
    for f in &c.figures {
        let id = format!("{anchor}-{}", f.slug);
        let _ = writeln!(out, "<figure id=\"{id}\">");
        let caption = match f.caption.split_once(": ") {
            Some((t, rest)) => format!("<b>{}</b>: {}", escape(t), escape(rest)),
            None => format!("<b>{}</b>", escape(&f.caption)),
        };
        let _ = writeln!(out, "<figcaption>{caption}</figcaption>");
        let _ = writeln!(out, "<div class=\"fig\">");
        out.push_str(&scoped_ids(&f.svg, &id));
        out.push_str("</div>\n</figure>\n");
    }
    for n in &c.notes {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(n));
    }
    out.push_str("</section>\n");
}

/// `svg` with its element ids (the arrowheads' markers) prefixed by
/// `scope`, so the pictures of one page never share an id (HTML ids are
/// unique per document, and a reference resolves to the first one).
fn scoped_ids(svg: &str, scope: &str) -> String {
    svg.replace(" id=\"", &format!(" id=\"{scope}-")).replace("url(#", &format!("url(#{scope}-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Page {
        Page {
            scenario: "a <u> & \"c\"".into(),
            seed: 7,
            header: vec!["tcpsim 0.1.0  scenario \"x<y\"".into()],
            summary: "summary: outcome=completed".into(),
            table: (vec!["ep".into(), "endpoint".into()], vec![vec!["0".into(), "cl<i>ent".into()]]),
            checks: vec![Check {
                endpoint: Some((0, "client".into())),
                ep: Some(0),
                what: "final_state".into(),
                expected: "CLOSED".into(),
                actual: "TIME_WAIT & <more>".into(),
                ok: false,
            }],
            connections: vec![Connection {
                conn: 0,
                endpoints: vec!["client".into(), "server".into()],
                figures: vec![Figure {
                    slug: "ladder".into(),
                    caption: "Ladder: every segment".into(),
                    svg: "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><defs><marker id=\"arrow-red\"/></defs><line marker-end=\"url(#arrow-red)\"/></svg>\n".into(),
                }],
                notes: vec!["no data <sent>".into()],
            }],
            left_out: Some(LeftOut {
                first: 1,
                total: 4,
                command: "tcpsim report <f> --conn N".into(),
                limit: "--max-connections 1".into(),
            }),
            digest: "00ff".into(),
            replay: "tcpsim run 'a b.ron' --seed 7".into(),
            ..Page::default()
        }
    }

    #[test]
    fn every_text_is_escaped() {
        let html = page_html(&page());
        for raw in ["<u>", "x<y", "cl<i>ent", "& <more>", "<sent>", "<f>"] {
            assert!(!html.contains(raw), "{raw} is not escaped");
        }
        assert!(html.contains("a &lt;u&gt; &amp; &quot;c&quot;, seed 7"));
        assert!(html.contains("TIME_WAIT &amp; &lt;more&gt;"));
    }

    #[test]
    fn ids_are_scoped_per_figure_and_sections_are_in_the_contents() {
        let html = page_html(&page());
        assert!(html.contains("id=\"conn-0-ladder-arrow-red\""));
        assert!(html.contains("url(#conn-0-ladder-arrow-red)"));
        for anchor in ["run", "endpoints", "expectations", "conn-0", "conn-0-ladder", "replay"] {
            assert!(html.contains(&format!("href=\"#{anchor}\"")), "contents lack {anchor}");
            assert!(html.contains(&format!("id=\"{anchor}\"")), "no element {anchor}");
        }
    }

    #[test]
    fn the_page_is_self_contained() {
        let html = page_html(&page());
        for external in ["<link", "src=", "@import", "url(http", "https://"] {
            assert!(!html.contains(external), "{external}");
        }
        assert!(html.contains("class=\"verdict failed\""));
    }

    #[test]
    fn the_note_on_connections_left_out_counts_them() {
        let mut p = page();
        let html = page_html(&p);
        assert!(html.contains("Connections 1 to 3 (3 of 4) are not drawn (--max-connections 1). Draw one with <code>tcpsim report &lt;f&gt; --conn N</code>"));
        p.left_out = Some(LeftOut { first: 3, ..p.left_out.unwrap() });
        assert!(page_html(&p).contains("Connection 3 is not drawn (--max-connections 1)."));
    }
}
