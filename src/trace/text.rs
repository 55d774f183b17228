//! The text trace: one aligned line per event, made for people.
//!
//! Columns: virtual time in milliseconds with microsecond precision,
//! connection, endpoint, event, detail. A segment's detail ends with its
//! transmission number (`pkt=N`, and `copy=N` for a link's copy), so a
//! delivery can be matched to its send by eye. State changes are marked `STATE`
//! (bold on a terminal), losses `DROP`. The caller decides about colour; this
//! writer never looks at the terminal itself.

use super::{PacketId, TraceEvent, TraceKind, TraceSink};
use crate::tcp::{AppEvent, Segment, TimerAction};
use anstyle::{AnsiColor, Effects, Style};
use std::io::{self, Write};

/// A [`TraceSink`] that writes each event as one aligned text line to `out`,
/// optionally with ANSI styles.
pub struct TextWriter<W: Write> {
    out: W,
    endpoint_width: usize,
    color: bool,
    error: Option<io::Error>,
}

impl<W: Write> TextWriter<W> {
    /// `endpoint_width` aligns the endpoint column (the longest name).
    pub fn new(out: W, endpoint_width: usize, color: bool) -> TextWriter<W> {
        TextWriter { out, endpoint_width: endpoint_width.max(8), color, error: None }
    }

    /// The column header line.
    pub fn header_line(&self) -> String {
        format!(
            "# {:>10}  {:>4}  {:<w$}  {:<8}  detail",
            "time_ms",
            "conn",
            "endpoint",
            "event",
            w = self.endpoint_width
        )
    }

    /// Writes a line outside the event stream (header, summary).
    pub fn line(&mut self, text: &str) {
        if self.error.is_none()
            && let Err(e) = writeln!(self.out, "{text}")
        {
            self.error = Some(e);
        }
    }

    /// Flushes and returns the writer, or the first write error.
    pub fn finish(mut self) -> io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn style(&self, style: Style) -> (String, String) {
        if self.color {
            (style.render().to_string(), style.render_reset().to_string())
        } else {
            (String::new(), String::new())
        }
    }

    fn write_event(&mut self, e: &TraceEvent<'_>) -> io::Result<()> {
        let style = match e.kind {
            TraceKind::Transition { .. } => Style::new().effects(Effects::BOLD),
            TraceKind::Send { .. } => Style::new(),
            TraceKind::Deliver { .. } => Style::new().fg_color(Some(AnsiColor::BrightBlack.into())),
            TraceKind::Drop { .. } => Style::new().fg_color(Some(AnsiColor::Red.into())).effects(Effects::BOLD),
            TraceKind::Timer { .. } => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
            TraceKind::App { .. } => Style::new().fg_color(Some(AnsiColor::Magenta.into())),
            TraceKind::Event(_) => Style::new().fg_color(Some(AnsiColor::Green.into())),
            TraceKind::Congestion { .. }
            | TraceKind::Rtt { .. }
            | TraceKind::Flight { .. }
            | TraceKind::Queue { .. } => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
            TraceKind::Host { .. } => Style::new().fg_color(Some(AnsiColor::Red.into())).effects(Effects::BOLD),
        };
        let label = e.kind.label();
        let (on, off) = self.style(style);
        write!(
            self.out,
            "{:>12}  {:>4}  {:<w$}  {on}{:<8}  ",
            e.t.to_string(),
            if e.conn == super::NO_CONN { "-".to_string() } else { e.conn.to_string() },
            e.endpoint,
            label,
            w = self.endpoint_width
        )?;
        match e.kind {
            TraceKind::Transition { from, to, cause, rule, reason } => {
                let arrow = format!("{from} -> {to}");
                write!(self.out, "{arrow:<30}{off}  {cause}  [{rule}]")?;
                if let Some(r) = reason {
                    write!(self.out, "  reason={r}")?;
                }
            }
            TraceKind::Send { seg, injected } => {
                write_segment(&mut self.out, &seg, e.pkt)?;
                write!(self.out, "{off}")?;
                if seg.retransmit {
                    write!(self.out, "  retransmit")?;
                }
                if injected {
                    write!(self.out, "  injected")?;
                }
            }
            TraceKind::Deliver { seg, discard } => {
                write_segment(&mut self.out, &seg, e.pkt)?;
                write!(self.out, "{off}")?;
                if let Some(d) = discard {
                    write!(self.out, "  discard: {}", d.name())?;
                }
            }
            TraceKind::Drop { seg, reason } => {
                write_segment(&mut self.out, &seg, e.pkt)?;
                write!(self.out, "  lost: {reason}{off}")?;
            }
            TraceKind::Timer { timer, action, deadline } => {
                write!(self.out, "{timer} {}", action.name())?;
                if matches!(action, TimerAction::Start | TimerAction::Restart) {
                    write!(self.out, " -> {deadline}")?;
                }
                write!(self.out, "{off}")?;
            }
            TraceKind::App { call, bytes, error } => {
                write!(self.out, "{}", call.name())?;
                if call == crate::tcp::Call::Send {
                    write!(self.out, " {bytes} bytes")?;
                }
                if let Some(err) = error {
                    write!(self.out, ": error {err}")?;
                }
                write!(self.out, "{off}")?;
            }
            TraceKind::Event(ev) => {
                write!(self.out, "{}", ev.name())?;
                match ev {
                    AppEvent::Data { bytes, foreign } => {
                        write!(self.out, " {bytes} bytes")?;
                        if foreign > 0 {
                            write!(self.out, " ({foreign} FOREIGN)")?;
                        }
                    }
                    AppEvent::Closed(r) => write!(self.out, " {r}")?,
                    _ => {}
                }
                write!(self.out, "{off}")?;
            }
            TraceKind::Congestion { cwnd, ssthresh, pipe, cubic, flight } => {
                write!(self.out, "cwnd={cwnd} ssthresh={ssthresh}")?;
                if let Some(pipe) = pipe {
                    write!(self.out, " pipe={pipe}")?;
                }
                if let Some(c) = cubic {
                    write!(self.out, " w_max={} k={} {}", c.w_max, c.k, c.region.name())?;
                }
                if let Some(flight) = flight {
                    write!(self.out, " flight={flight}")?;
                }
                write!(self.out, "{off}")?;
            }
            TraceKind::Rtt { sample, source, srtt, rto, .. } => {
                write!(self.out, "sample={sample} ({}) srtt={srtt} rto={rto}{off}", source.name())?;
            }
            TraceKind::Flight { flight, snd_wnd, rcv_wnd } => {
                write!(self.out, "flight={flight} snd_wnd={snd_wnd} rcv_wnd={rcv_wnd}{off}")?;
            }
            TraceKind::Queue { link, a_to_b, backlog_bytes } => {
                let dir = if a_to_b { "a->b" } else { "b->a" };
                write!(self.out, "link {link} {dir} backlog={backlog_bytes}{off}")?;
            }
            TraceKind::Host { up, endpoints_lost } => {
                if up {
                    write!(self.out, "restart (no connections; listeners listen again){off}")?;
                } else {
                    write!(
                        self.out,
                        "crash: {} without a word{}{off}",
                        match endpoints_lost {
                            1 => "1 endpoint vanishes".to_string(),
                            n => format!("{n} endpoints vanish"),
                        },
                        lost_list(e.lost_eps)
                    )?;
                }
            }
        }
        writeln!(self.out)
    }
}

/// The header fields, then which transmission (`pkt=N`) and, for a copy
/// the link made, which copy.
fn write_segment<W: Write>(out: &mut W, s: &Segment, id: Option<PacketId>) -> io::Result<()> {
    write!(out, "{:<12} seq={} ack={} len={} wnd={}", s.flags.to_string(), s.seq, s.ack, s.len, s.wnd)?;
    if let Some(id) = id {
        write!(out, " pkt={}", id.pkt)?;
        if id.copy > 0 {
            write!(out, " copy={}", id.copy)?;
        }
    }
    write_options(out, s)
}

/// RFC 7323 and SACK options after the header fields, each only when
/// present; the MSS shows only beside the SYN options, so traces without
/// those options read as before.
fn write_options<W: Write>(out: &mut W, s: &Segment) -> io::Result<()> {
    if s.opts == crate::tcp::Options::NONE && s.sack.is_empty() {
        return Ok(());
    }
    if s.wnd_shift().is_some() {
        write!(out, " wnd_scaled={}", s.wnd_scaled())?;
    }
    // SACK blocks (RFC 2018 §3) as `left-right`, in wire order.
    for (i, b) in s.sack.as_slice().iter().enumerate() {
        write!(out, "{}{}-{}", if i == 0 { " sack=" } else { "," }, b.left, b.right)?;
    }
    if s.ws().is_none() && s.ts().is_none() && !s.sack_permitted() {
        return Ok(());
    }
    if s.mss != 0 {
        write!(out, " mss={}", s.mss)?;
    }
    if let Some(ws) = s.ws() {
        write!(out, " ws={ws}")?;
        if ws > crate::tcp::MAX_WINDOW_SHIFT {
            write!(out, "(used as {})", crate::tcp::MAX_WINDOW_SHIFT)?;
        }
    }
    if let Some(ts) = s.ts() {
        write!(out, " tsval={} tsecr={}", ts.tsval, ts.tsecr)?;
    }
    if s.sack_permitted() {
        out.write_all(b" sack_ok")?;
    }
    Ok(())
}

impl<W: Write> TraceSink for TextWriter<W> {
    fn record(&mut self, e: &TraceEvent<'_>) {
        if self.error.is_none()
            && let Err(err) = self.write_event(e)
        {
            self.error = Some(err);
        }
    }

    fn failed(&self) -> bool {
        self.error.is_some()
    }
}

/// Lost endpoints listed on a crash line at most; the JSONL record lists
/// them all.
const LOST_LISTED_MAX: usize = 20;

/// `: ep 1, 4, 7` (then `... and N more`), or nothing when none was lost.
fn lost_list(eps: &[u32]) -> String {
    if eps.is_empty() {
        return String::new();
    }
    let listed: Vec<String> = eps.iter().take(LOST_LISTED_MAX).map(u32::to_string).collect();
    let more = eps.len().saturating_sub(LOST_LISTED_MAX);
    let tail = if more > 0 { format!(" ... and {more} more") } else { String::new() };
    format!(": ep {}{tail}", listed.join(", "))
}
