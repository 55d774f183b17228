//! The ladder as text for a terminal: one line per segment (at its send
//! time, with its arrival time) and per note, the two ends as columns with
//! the wire between them, optionally coloured with ANSI styles.

use super::exchange::{Arrow, Exchange, Note, TransmissionEnd, gap_text};
use crate::time::Instant;
use anstyle::{AnsiColor, Effects, Style};
use std::fmt::Write as _;

/// Width of the wire column between the two bars.
const WIRE_MIN: usize = 44;
const WIRE_MAX: usize = 78;

/// How the arrows number bytes: relative to each end's ISN where it is
/// known (from a SYN, in the events or earlier in the run), absolute for
/// an end whose SYN was never seen.
fn numbering(exchange: &Exchange) -> String {
    let known: Vec<String> =
        exchange.sides.iter().filter_map(|s| s.first_isn.map(|i| format!("{}={i}", s.label()))).collect();
    let unknown: Vec<String> = exchange.sides.iter().filter(|s| s.first_isn.is_none()).map(|s| s.label()).collect();
    match (known.is_empty(), unknown.is_empty()) {
        (true, true) => "seq/ack relative to each end's ISN".to_string(),
        (true, false) => "seq/ack absolute (no SYN seen)".to_string(),
        (false, true) => format!("seq/ack relative to each end's ISN ({})", known.join(" ")),
        (false, false) => format!(
            "seq/ack relative to each end's ISN ({}), absolute for {} (no SYN seen)",
            known.join(" "),
            unknown.join(" and ")
        ),
    }
}

pub(super) fn render_text(exchange: &Exchange, conn: u32, color: bool) -> String {
    let style = |s: Style, text: &str| -> String {
        if color { format!("{}{text}{}", s.render(), s.render_reset()) } else { text.to_string() }
    };
    let mut out = String::new();
    let column = |side: usize| usize::from(side != 0);
    let left_name = exchange.sides.first().map_or_else(|| "-".to_string(), |s| s.label());
    let right_name = if exchange.sides.len() > 1 {
        exchange.sides[1..].iter().map(|s| s.label()).collect::<Vec<_>>().join(" / ")
    } else {
        "-".to_string()
    };
    let ends: Vec<String> = exchange.sides.iter().map(|s| format!("{} {}", s.label(), s.address())).collect();
    let _ = writeln!(
        out,
        "# ladder of connection {conn}: {}",
        if ends.is_empty() { "no events".into() } else { ends.join(" | ") }
    );
    let _ = writeln!(out, "# {}; @T = arrival time", numbering(exchange));

    // Lines in time order: each segment at its send, each note at its
    // time; equal times keep trace order.
    enum Line<'a> {
        /// The arrow and its index.
        Arrow(usize, &'a Arrow),
        Note(&'a Note),
    }
    let mut lines: Vec<(Instant, usize, Line<'_>)> = Vec::new();
    for (i, a) in exchange.arrows.iter().enumerate() {
        lines.push((a.start(), a.order, Line::Arrow(i, a)));
    }
    for n in &exchange.notes {
        lines.push((n.t, n.order, Line::Note(n)));
    }
    lines.sort_by_key(|(t, order, _)| (*t, *order));
    let wire = exchange.arrows.iter().map(|a| a.full_label().len() + 10).max().unwrap_or(0).clamp(WIRE_MIN, WIRE_MAX);
    let left_w = exchange
        .notes
        .iter()
        .filter(|n| column(n.side) == 0)
        .map(|n| n.text().len())
        .chain([left_name.len(), 12])
        .chain(exchange.ended_outside.iter().map(|_| AFTER_WINDOW.len()).take(1))
        .max()
        .unwrap_or(12)
        .min(32);
    let _ = writeln!(out, "{:>10}  {:<left_w$} |{:wire$}|  {}", "time_ms", left_name, "", right_name);
    let firsts: Vec<String> = (0..2)
        .map(|c| {
            exchange
                .sides
                .iter()
                .enumerate()
                .filter(|(i, _)| column(*i) == c)
                .find_map(|(_, s)| s.first_state)
                .map_or(String::new(), |s| s.to_string())
        })
        .collect();
    if !firsts[0].is_empty() || !firsts[1].is_empty() {
        let _ = writeln!(out, "{:>10}  {:<left_w$} |{:wire$}|  {}", "", firsts[0], "", firsts[1]);
    }
    let mut prev: Option<Instant> = None;
    for (t, _, line) in &lines {
        if let Some(p) = prev
            && exchange.is_idle_gap(t.saturating_since(p).as_nanos())
        {
            let text = format!("~~ {} idle ~~", gap_text(t.saturating_since(p).as_nanos()));
            let _ = writeln!(out, "{:>10}  {:<left_w$} |{:^wire$}|", "", "", text);
        }
        prev = Some(*t);
        match line {
            Line::Note(n) => {
                let s = if n.is_state() {
                    Style::new().effects(Effects::BOLD)
                } else {
                    Style::new().fg_color(Some(AnsiColor::Cyan.into()))
                };
                let text = n.text();
                if column(n.side) == 0 {
                    let pad = " ".repeat(left_w.saturating_sub(text.len()));
                    let _ = writeln!(out, "{:>10}  {}{pad} |{:wire$}|", t.to_string(), style(s, &text), "");
                } else {
                    let _ = writeln!(out, "{:>10}  {:<left_w$} |{:wire$}|  {}", t.to_string(), "", "", style(s, &text));
                }
            }
            Line::Arrow(i, a) => {
                let ending = if exchange.ended_outside.contains(i) {
                    Ending::Outside
                } else if exchange.has_endings {
                    Ending::InFlight
                } else {
                    Ending::NotShown
                };
                let (body, arrival) = text_arrow(a, column(a.from), column(a.to), wire, ending);
                let s = match a.ending {
                    TransmissionEnd::Lost { .. } => {
                        Style::new().fg_color(Some(AnsiColor::Red.into())).effects(Effects::BOLD)
                    }
                    _ if a.seg.retransmit => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
                    _ if a.duplicate => Style::new().fg_color(Some(AnsiColor::Magenta.into())),
                    _ if a.reordered => Style::new().fg_color(Some(AnsiColor::Green.into())),
                    _ => Style::new(),
                };
                let (left, right) = if column(a.to) == 0 { (arrival, String::new()) } else { (String::new(), arrival) };
                let _ = writeln!(out, "{:>10}  {:>left_w$} |{}|  {}", t.to_string(), left, style(s, &body), right);
            }
        }
    }
    if let Some(t) = exchange.truncated_at {
        let _ = writeln!(out, "# cut after {} segments, at {t} ms", exchange.limit);
    }
    // Empty right columns leave trailing blanks; nobody wants those.
    let mut trimmed = String::with_capacity(out.len());
    for line in out.lines() {
        trimmed.push_str(line.trim_end());
        trimmed.push('\n');
    }
    trimmed
}

/// The arrival note of a segment delivered (or dropped) after the window.
const AFTER_WINDOW: &str = "(after window)";

/// What to say of a transmission whose delivery or drop the events leave
/// out.
#[derive(Clone, Copy)]
enum Ending {
    /// It ended after the time window.
    Outside,
    /// It never ended: in flight when the run stopped.
    InFlight,
    /// The events show no deliveries or drops at all (`--kinds send`).
    NotShown,
}

/// The wire column of one segment, exactly `wire` characters, and its
/// arrival note (`@T`).
fn text_arrow(a: &Arrow, from: usize, to: usize, wire: usize, unended: Ending) -> (String, String) {
    let fill = if a.seg.retransmit { '=' } else { '-' };
    let label = format!(" {} ", a.full_label());
    let arrival = match a.ending {
        TransmissionEnd::Delivered(t) => format!("@{t}"),
        TransmissionEnd::Lost { .. } => String::new(),
        TransmissionEnd::Unknown => match unended {
            Ending::Outside => AFTER_WINDOW.to_string(),
            Ending::InFlight => "(in flight)".to_string(),
            Ending::NotShown => String::new(),
        },
    };
    let lost = matches!(a.ending, TransmissionEnd::Lost { .. });
    let mut body: Vec<char> = Vec::with_capacity(wire);
    if from == to {
        // Both ends in one column (a third end): say who talks to whom.
        let s = format!(" {}", label.trim());
        body.extend(s.chars().take(wire));
    } else if from == 0 {
        body.extend(std::iter::repeat_n(fill, 3));
        body.extend(label.chars());
        if lost {
            // A lost segment stops half way, at an X.
            while body.len() + 1 < wire / 2 {
                body.push(fill);
            }
            body.push('X');
        } else {
            while body.len() + 1 < wire {
                body.push(fill);
            }
            body.push(if a.sent.is_some() { '>' } else { '}' });
        }
    } else {
        let mut tail: Vec<char> = label.chars().collect();
        tail.extend(std::iter::repeat_n(fill, 3));
        let head_len = wire.saturating_sub(tail.len());
        if lost {
            let start = head_len.min(wire / 2);
            body.extend(std::iter::repeat_n(' ', start.saturating_sub(1)));
            body.push('X');
            body.extend(std::iter::repeat_n(fill, head_len.saturating_sub(start)));
        } else {
            body.push(if a.sent.is_some() { '<' } else { '{' });
            body.extend(std::iter::repeat_n(fill, head_len.saturating_sub(1)));
        }
        body.extend(tail);
    }
    body.truncate(wire);
    while body.len() < wire {
        body.push(' ');
    }
    (body.into_iter().collect(), arrival)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pictures::ladder::test_events::handshake;

    #[test]
    fn text_arrows_have_the_wire_width() {
        let exchange = Exchange::build(&handshake(), 0, &crate::pictures::ladder::IsnLog::default());
        for a in &exchange.arrows {
            let (body, _) = text_arrow(a, usize::from(a.from != 0), usize::from(a.to != 0), 50, Ending::InFlight);
            assert_eq!(body.chars().count(), 50, "{body:?}");
        }
        let text = render_text(&exchange, 0, false);
        assert!(text.contains("|--- SYN seq=0 ---"), "{text}");
        assert!(text.contains("@20.000"), "{text}");
    }
}
