//! The JSONL trace: one JSON object per line, fields as in the interface
//! contract. Written by hand with no per-record allocation: every value is
//! a number, a fixed name or an endpoint name (escaped).

use super::{TraceEvent, TraceKind, TraceSink};
use crate::tcp::{AppEvent, Call, Segment, TimerAction};
use std::io::{self, Write};

/// A [`TraceSink`] that writes each event as one JSONL record to `out`.
pub struct JsonlWriter<W: Write> {
    out: W,
    error: Option<io::Error>,
}

impl<W: Write> JsonlWriter<W> {
    /// Writes records to `out`.
    pub fn new(out: W) -> JsonlWriter<W> {
        JsonlWriter { out, error: None }
    }

    /// Writes a preformatted JSON object line (summary, expectations).
    pub fn line(&mut self, json: &str) {
        if self.error.is_none()
            && let Err(e) = writeln!(self.out, "{json}")
        {
            self.error = Some(e);
        }
    }

    /// Flushes and returns `out`, or the first write error of the run.
    pub fn finish(mut self) -> io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn write_event(&mut self, e: &TraceEvent<'_>) -> io::Result<()> {
        let o = &mut self.out;
        write!(o, "{{\"t_ns\":{},\"kind\":\"{}\"", e.t.as_nanos(), e.kind.name())?;
        if e.conn == super::NO_CONN {
            // Host events belong to no connection: they name the host.
            o.write_all(b",\"host\":")?;
        } else if e.ep == super::NO_EP {
            // A host answering for a closed port: no endpoint.
            write!(o, ",\"conn\":{},\"ep\":null,\"endpoint\":", e.conn)?;
        } else {
            write!(o, ",\"conn\":{},\"ep\":{},\"endpoint\":", e.conn, e.ep)?;
        }
        write_str(o, e.endpoint)?;
        match e.kind {
            TraceKind::Transition { from, to, cause, rule, reason } => {
                write!(o, ",\"from\":\"{from}\",\"to\":\"{to}\",\"cause\":\"{cause}\",\"rule\":\"{rule}\"")?;
                if let Some(r) = reason {
                    write!(o, ",\"reason\":\"{r}\"")?;
                }
            }
            TraceKind::Send { seg, injected } => {
                write_segment(o, &seg)?;
                write_packet_id(o, e, false)?;
                write!(o, ",\"retransmit\":{}", seg.retransmit)?;
                if injected {
                    write!(o, ",\"injected\":true")?;
                }
            }
            TraceKind::Deliver { seg } => {
                write_segment(o, &seg)?;
                write_packet_id(o, e, true)?;
            }
            TraceKind::Drop { seg, reason } => {
                write_segment(o, &seg)?;
                write_packet_id(o, e, true)?;
                write!(o, ",\"reason\":\"{reason}\"")?;
            }
            TraceKind::Timer { timer, action, deadline } => {
                write!(o, ",\"timer\":\"{timer}\",\"action\":\"{}\"", action.name())?;
                if matches!(action, TimerAction::Start | TimerAction::Restart) {
                    write!(o, ",\"deadline_ns\":{}", deadline.as_nanos())?;
                }
            }
            TraceKind::App { call, bytes, error } => {
                write!(o, ",\"call\":\"{}\"", call.name())?;
                if call == Call::Send {
                    write!(o, ",\"bytes\":{bytes}")?;
                }
                if let Some(err) = error {
                    write!(o, ",\"error\":\"{err}\"")?;
                }
            }
            TraceKind::Event(ev) => {
                write!(o, ",\"name\":\"{}\"", ev.name())?;
                match ev {
                    AppEvent::Data { bytes, foreign } => {
                        write!(o, ",\"bytes\":{bytes}")?;
                        if foreign > 0 {
                            write!(o, ",\"foreign_bytes\":{foreign}")?;
                        }
                    }
                    AppEvent::Closed(r) => write!(o, ",\"reason\":\"{r}\"")?,
                    _ => {}
                }
            }
            TraceKind::Congestion { cwnd, ssthresh } => {
                write!(o, ",\"cwnd\":{cwnd},\"ssthresh\":{ssthresh}")?;
            }
            TraceKind::Host { up, endpoints_lost } => {
                let event = if up { "restart" } else { "crash" };
                write!(o, ",\"event\":\"{event}\",\"endpoints_lost\":{endpoints_lost},\"eps\":[")?;
                for (i, ep) in e.lost_eps.iter().enumerate() {
                    write!(o, "{}{ep}", if i == 0 { "" } else { "," })?;
                }
                o.write_all(b"]")?;
            }
        }
        o.write_all(b"}\n")
    }
}

fn write_segment<W: Write>(o: &mut W, s: &Segment) -> io::Result<()> {
    write!(o, ",\"flags\":\"{}\",\"seq\":{},\"ack\":{},\"len\":{},\"wnd\":{}", s.flags, s.seq, s.ack, s.len, s.wnd)
}

/// `pkt`, and with `copy` also which copy (deliveries and drops).
fn write_packet_id<W: Write>(o: &mut W, e: &TraceEvent<'_>, copy: bool) -> io::Result<()> {
    let Some(id) = e.pkt else { return Ok(()) };
    write!(o, ",\"pkt\":{}", id.pkt)?;
    if copy {
        write!(o, ",\"copy\":{}", id.copy)?;
    }
    Ok(())
}

/// Writes `s` as a JSON string literal.
pub fn write_str<W: Write>(o: &mut W, s: &str) -> io::Result<()> {
    o.write_all(b"\"")?;
    for c in s.chars() {
        match c {
            '"' => o.write_all(b"\\\"")?,
            '\\' => o.write_all(b"\\\\")?,
            '\n' => o.write_all(b"\\n")?,
            '\r' => o.write_all(b"\\r")?,
            '\t' => o.write_all(b"\\t")?,
            c if (c as u32) < 0x20 => write!(o, "\\u{:04x}", c as u32)?,
            c => {
                let mut buf = [0u8; 4];
                o.write_all(c.encode_utf8(&mut buf).as_bytes())?;
            }
        }
    }
    o.write_all(b"\"")
}

/// `s` as a JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut v = Vec::new();
    write_str(&mut v, s).expect("writing to a Vec cannot fail");
    String::from_utf8(v).expect("escaped JSON is UTF-8")
}

impl<W: Write> TraceSink for JsonlWriter<W> {
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
