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
            TraceKind::Deliver { seg, discard } => {
                write_segment(o, &seg)?;
                write_packet_id(o, e, true)?;
                if let Some(d) = discard {
                    write!(o, ",\"discard\":\"{}\"", d.name())?;
                }
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
            TraceKind::Congestion { cwnd, ssthresh, pipe, cubic, flight } => {
                write!(o, ",\"cwnd\":{cwnd},\"ssthresh\":{ssthresh}")?;
                if let Some(pipe) = pipe {
                    write!(o, ",\"pipe\":{pipe}")?;
                }
                if let Some(c) = cubic {
                    let (w_max, k, region) = (c.w_max, c.k.as_nanos(), c.region.name());
                    write!(o, ",\"w_max\":{w_max},\"k_ns\":{k},\"region\":\"{region}\"")?;
                }
                if let Some(flight) = flight {
                    write!(o, ",\"flight\":{flight}")?;
                }
            }
            TraceKind::Rtt { sample, source, srtt, rttvar, rto, .. } => {
                write!(
                    o,
                    ",\"source\":\"{}\",\"sample_ns\":{},\"srtt_ns\":{},\"rttvar_ns\":{},\"rto_ns\":{}",
                    source.name(),
                    sample.as_nanos(),
                    srtt.as_nanos(),
                    rttvar.as_nanos(),
                    rto.as_nanos()
                )?;
            }
            TraceKind::Flight { flight, snd_wnd, rcv_wnd } => {
                write!(o, ",\"flight\":{flight},\"snd_wnd\":{snd_wnd},\"rcv_wnd\":{rcv_wnd}")?;
            }
            TraceKind::Queue { link, a_to_b, backlog_bytes } => {
                let dir = if a_to_b { "a_to_b" } else { "b_to_a" };
                write!(o, ",\"link\":{link},\"dir\":\"{dir}\",\"backlog_bytes\":{backlog_bytes}")?;
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
    write!(o, ",\"flags\":\"{}\",\"seq\":{},\"ack\":{},\"len\":{},\"wnd\":{}", s.flags, s.seq, s.ack, s.len, s.wnd)?;
    write_options(o, s)
}

/// The option fields, each only when the segment has it: `wnd_scaled`
/// (the window the sender meant, once it scales), `mss`, `ws` (and
/// `ws_used` when above 14, RFC 7323 §2.3), `tsval`, `tsecr`, `sack_ok`
/// (SACK-permitted, RFC 2018 §2) and `sack` (the blocks, `[[left,
/// right], ...]`, RFC 2018 §3).
fn write_options<W: Write>(o: &mut W, s: &Segment) -> io::Result<()> {
    if s.opts == crate::tcp::Options::NONE && s.sack.is_empty() {
        return Ok(());
    }
    if s.wnd_shift().is_some() {
        write!(o, ",\"wnd_scaled\":{}", s.wnd_scaled())?;
    }
    write_sack_blocks(o, s)?;
    if s.ws().is_none() && s.ts().is_none() && !s.sack_permitted() {
        // The MSS alone stays out, as before RFC 7323 options existed:
        // every existing trace keeps its records.
        return Ok(());
    }
    if s.mss != 0 {
        write!(o, ",\"mss\":{}", s.mss)?;
    }
    if let Some(ws) = s.ws() {
        write!(o, ",\"ws\":{ws}")?;
        if ws > crate::tcp::MAX_WINDOW_SHIFT {
            write!(o, ",\"ws_used\":{}", crate::tcp::MAX_WINDOW_SHIFT)?;
        }
    }
    if let Some(ts) = s.ts() {
        write!(o, ",\"tsval\":{},\"tsecr\":{}", ts.tsval, ts.tsecr)?;
    }
    if s.sack_permitted() {
        o.write_all(b",\"sack_ok\":true")?;
    }
    Ok(())
}

/// `"sack":[[left,right],...]` when the segment carries SACK blocks.
fn write_sack_blocks<W: Write>(o: &mut W, s: &Segment) -> io::Result<()> {
    if s.sack.is_empty() {
        return Ok(());
    }
    o.write_all(b",\"sack\":[")?;
    for (i, b) in s.sack.as_slice().iter().enumerate() {
        write!(o, "{}[{},{}]", if i == 0 { "" } else { "," }, b.left, b.right)?;
    }
    o.write_all(b"]")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::{Flags, Options, Timestamps};

    fn json(seg: &Segment) -> String {
        let mut out = Vec::new();
        write_segment(&mut out, seg).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// B-WS-03: a shift above 14 is shown as sent, with what the receiver
    /// uses beside it; options appear only when present, the MSS beside
    /// them; `wnd_scaled` once the sender scales.
    #[test]
    fn options_are_written_only_when_present() {
        let syn = Segment { flags: Flags::SYN, wnd: 65535, mss: 1460, ..Segment::default() };
        assert_eq!(json(&syn), r#","flags":"SYN","seq":0,"ack":0,"len":0,"wnd":65535"#);
        let syn = Segment { opts: Options::NONE.with_ws(Some(15)), ..syn };
        assert!(json(&syn).ends_with(r#""wnd":65535,"mss":1460,"ws":15,"ws_used":14"#), "{}", json(&syn));
        let ts = Timestamps { tsval: 7, tsecr: 9 };
        let ack = Segment {
            flags: Flags::ACK,
            wnd: 100,
            opts: Options::NONE.with_ts(Some(ts)).with_wnd_shift(Some(7)),
            ..Segment::default()
        };
        assert!(json(&ack).ends_with(r#""wnd":100,"wnd_scaled":12800,"tsval":7,"tsecr":9"#), "{}", json(&ack));
    }
}
