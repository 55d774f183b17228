//! Timings compared between tcpsim and the kernel: every resend of the
//! first data segment (and of the first lone FIN) resent, the ACK of a FIN
//! and of the first data segments, the SYN retry schedule and give-up,
//! and TIME_WAIT's length (docs/linux.md: B-LNX-01, B-LNX-02,
//! B-LNX-05/06).
//!
//! Both sides are measured by the same functions from the same record of
//! the wire ([`WireSeg`]): tcpsim's from its trace's send and delivery
//! records, the kernel's from the relay's capture. The kernel's TCP
//! timers are jiffies timers on the timer wheel, which never fires early
//! but may fire late by up to one bucket of the wheel level the timeout
//! falls in (`kernel/time/timer.c`, `calc_index` rounds the expiry up to
//! the level's granularity), plus a jiffy for the length's own rounding;
//! [`timer_slack_ns`] says how much. The tolerance of a timing is that
//! slack, summed over the timers it chains, plus [`OBSERVE_NS`] either
//! way for the relay's and the trace reader's scheduling.

/// What the relay's and the observers' scheduling may shift a measured
/// time by, either way: they run at a real-time priority but share the
/// machine (5 ms).
pub const OBSERVE_NS: u64 = 5_000_000;

/// One segment on the wire as one side saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireSeg {
    /// The sending endpoint's name.
    pub from: String,
    /// The receiving endpoint's name.
    pub to: String,
    /// When it left the sender (ns from the run's start).
    pub sent_ns: u64,
    /// When it was handed to the receiver; `None` when it was lost.
    pub arrived_ns: Option<u64>,
    /// SYN, FIN, RST, PSH, ACK bits as in the TCP header's low byte
    /// (FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16).
    pub flags: u8,
    /// SEG.SEQ.
    pub seq: u32,
    /// SEG.ACK.
    pub ack: u32,
    /// Payload bytes.
    pub len: u32,
}

const FIN: u8 = 1;
const SYN: u8 = 2;
const ACK: u8 = 16;

/// Which timing a [`Measure`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The k-th SYN retransmission's send time after the first SYN
    /// (B-LNX-02).
    SynSend(u32),
    /// From `connect()` (the first SYN) to giving up, ETIMEDOUT
    /// (B-LNX-02).
    SynGiveUp,
    /// From a data segment's first send to its first retransmission: the
    /// RTO (B-LNX-01).
    FirstRetransmit,
    /// The k-th (k >= 2) retransmission of that same segment, from the
    /// one before: the backed-off RTO (RFC 6298 (5.5)), or whatever else
    /// re-armed the timer (the kernel's tail loss probe).
    Resend(u32),
    /// The k-th retransmission of the first FIN sent alone more than
    /// once, from the send before it.
    FinResend(u32),
    /// From a FIN's arrival to the receiver's first segment acknowledging
    /// it (B-LNX-05, B-LNX-06).
    FinAck,
    /// From the k-th data segment's arrival (k <= [`DATA_ACKS`], first
    /// copies only) to the receiver's first segment acknowledging it:
    /// quick or delayed ACK (B-LNX-05).
    DataAck(u32),
    /// From entering TIME_WAIT to its end (RFC 9293 2 MSL; Linux
    /// TCP_TIMEWAIT_LEN 60 s, restarted by a retransmitted FIN): on the
    /// kernel, until sock_diag no longer lists the timewait socket.
    TimeWait,
}

/// One timing of one endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Measure {
    /// The endpoint whose timer it is.
    pub endpoint: String,
    /// Which timing.
    pub kind: Kind,
    /// Its length in ns.
    pub ns: u64,
    /// The lengths of the kernel timers it chains (for the tolerance).
    pub timers: Vec<u64>,
}

impl Measure {
    /// How the report names it.
    pub fn label(&self) -> String {
        match self.kind {
            Kind::SynSend(k) => format!("{}: SYN retransmission {k} (after the first SYN)", self.endpoint),
            Kind::SynGiveUp => format!("{}: SYN give-up (after the first SYN)", self.endpoint),
            Kind::FirstRetransmit => format!("{}: first data retransmission (after the original)", self.endpoint),
            Kind::Resend(k) => format!("{}: data retransmission {k} (after the one before)", self.endpoint),
            Kind::FinResend(k) => format!("{}: FIN retransmission {k} (after the send before)", self.endpoint),
            Kind::FinAck => format!("{}: ACK of the peer's FIN (after its arrival)", self.endpoint),
            Kind::DataAck(k) => format!("{}: ACK of the peer's data segment {k} (after it)", self.endpoint),
            Kind::TimeWait => format!("{}: TIME_WAIT length", self.endpoint),
        }
    }
}

/// The segment-timed measures of one side's wire record: each
/// endpoint's SYN schedule, first data retransmission and the ACK of the
/// first FIN it received.
pub fn measure(segs: &[WireSeg]) -> Vec<Measure> {
    let mut out = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for s in segs {
        if !names.contains(&s.from.as_str()) {
            names.push(&s.from);
        }
    }
    for name in names {
        let mine: Vec<&WireSeg> = segs.iter().filter(|s| s.from == name).collect();
        // SYN schedule: a SYN without ACK is an active open's.
        let syns: Vec<u64> = mine.iter().filter(|s| s.flags & (SYN | ACK) == SYN).map(|s| s.sent_ns).collect();
        for (k, t) in syns.iter().enumerate().skip(1) {
            let timers = syns.windows(2).take(k).map(|w| w[1] - w[0]).collect();
            out.push(Measure { endpoint: name.into(), kind: Kind::SynSend(k as u32), ns: t - syns[0], timers });
        }
        // The first data segment sent again with the same sequence number,
        // and every later send of it: each interval is one timer.
        let data: Vec<&&WireSeg> = mine.iter().filter(|s| s.len > 0).collect();
        if let Some(sends) = first_resent(&data) {
            for (k, w) in sends.windows(2).enumerate() {
                let kind = if k == 0 { Kind::FirstRetransmit } else { Kind::Resend(k as u32 + 1) };
                let ns = w[1] - w[0];
                out.push(Measure { endpoint: name.into(), kind, ns, timers: vec![ns] });
            }
        }
        // The same for a FIN sent alone (no data): its resends' intervals.
        let fins: Vec<&&WireSeg> = mine.iter().filter(|s| s.len == 0 && s.flags & FIN != 0).collect();
        if let Some(sends) = first_resent(&fins) {
            for (k, w) in sends.windows(2).enumerate() {
                let ns = w[1] - w[0];
                out.push(Measure { endpoint: name.into(), kind: Kind::FinResend(k as u32 + 1), ns, timers: vec![ns] });
            }
        }
        // The first data segments that reached this endpoint in order, and
        // the first segment it sent after each acknowledging it. One that
        // arrives beyond a hole is not timed: its ACK waits for the hole,
        // which is the sender's repair, not the receiver's ACK policy.
        // The receiver's first expected byte: one past the peer's SYN.
        let syn = segs.iter().find(|s| s.to == name && s.flags & SYN != 0 && s.arrived_ns.is_some());
        let mut next = syn.map(|s| s.seq.wrapping_add(1));
        let (mut arrived_ranges, mut timed): (Vec<(u32, u32)>, u32) = (Vec::new(), 0);
        let arrivals = segs.iter().filter(|s| s.to == name && s.len > 0).filter_map(|s| s.arrived_ns.map(|a| (s, a)));
        for (data, arrived) in arrivals {
            let end = data.seq.wrapping_add(data.len);
            let first_copy = !arrived_ranges.iter().any(|r| r.0 == data.seq);
            arrived_ranges.push((data.seq, end));
            if next.is_some_and(|n| n != data.seq) {
                continue; // out of order, or a copy of data already taken
            }
            // In order: the receiver's next byte moves past it and past
            // what had arrived beyond it.
            let mut n = end;
            while let Some(r) = arrived_ranges.iter().find(|r| r.0 == n) {
                n = r.1;
            }
            next = Some(n);
            if !first_copy || timed >= DATA_ACKS {
                continue;
            }
            timed += 1;
            let acked = mine
                .iter()
                .find(|s| s.sent_ns >= arrived && s.flags & ACK != 0 && (s.ack.wrapping_sub(end) as i32) >= 0);
            if let Some(a) = acked {
                let (kind, ns) = (Kind::DataAck(timed), a.sent_ns - arrived);
                out.push(Measure { endpoint: name.into(), kind, ns, timers: vec![ns] });
            }
        }
        // The first FIN that reached this endpoint, and the first segment
        // it sent after that acknowledging the FIN.
        let fin = segs.iter().filter(|s| s.to == name && s.flags & FIN != 0).find_map(|s| s.arrived_ns.map(|a| (s, a)));
        if let Some((fin, arrived)) = fin {
            let end = fin.seq.wrapping_add(fin.len).wrapping_add(1);
            let acked = mine
                .iter()
                .find(|s| s.sent_ns >= arrived && s.flags & ACK != 0 && (s.ack.wrapping_sub(end) as i32) >= 0);
            if let Some(a) = acked {
                let ns = a.sent_ns - arrived;
                out.push(Measure { endpoint: name.into(), kind: Kind::FinAck, ns, timers: vec![ns] });
            }
        }
    }
    out
}

/// How many of the first data segments an endpoint receives have their
/// ACK timed: enough to see quick-ack mode end (Linux grants at most
/// `TCP_MAX_QUICKACKS`, 16), few enough for a readable report.
pub const DATA_ACKS: u32 = 20;

/// The send times of the first segment of `segs` that was sent more than
/// once (by sequence number), in order; `None` when none was.
fn first_resent(segs: &[&&WireSeg]) -> Option<Vec<u64>> {
    let (i, _) = segs.iter().enumerate().find(|(i, s)| segs[..*i].iter().any(|o| o.seq == s.seq))?;
    let seq = segs[i].seq;
    Some(segs.iter().filter(|s| s.seq == seq).map(|s| s.sent_ns).collect())
}

/// How late a jiffies timer of `len_ns` may fire at `hz`: one jiffy for
/// rounding the length up to jiffies, one more for the tick that runs it,
/// and the granularity of the wheel level it lands in (level n holds
/// timeouts from 63 x 8^(n-1) jiffies and rounds them up to 8^n jiffies;
/// `LVL_CLK_SHIFT` 3, `LVL_SIZE` 64).
pub fn timer_slack_ns(len_ns: u64, hz: u32) -> u64 {
    let jiffy = 1_000_000_000 / u64::from(hz.max(1));
    // A wait of zero may still be a timer: the ACK of a FIN before any
    // data is scheduled with an ATO of zero and goes at the next tick
    // (B-LNX-06), up to two jiffies late.
    if len_ns == 0 {
        return 2 * jiffy;
    }
    let delta = len_ns.div_ceil(jiffy);
    let mut lvl = 0;
    while lvl < 8 && delta >= 63u64 << (3 * lvl) {
        lvl += 1;
    }
    ((1u64 << (3 * lvl)) + 2) * jiffy
}

/// The window the kernel's value may lie in around tcpsim's: from
/// [`OBSERVE_NS`] early to the chained timers' slack plus
/// [`OBSERVE_NS`] late. Returns (early, late) in ns.
pub fn tolerance(m: &Measure, hz: u32) -> (u64, u64) {
    if m.kind == Kind::TimeWait {
        // The kernel's TIME_WAIT ends when sock_diag no longer lists its
        // timewait socket: the timer wheel's slack for the 60 s timer
        // (inet_twsk_schedule), and the poll's period, late.
        let jiffy = 1_000_000_000 / u64::from(hz.max(1));
        return (OBSERVE_NS + 2 * jiffy, timer_slack_ns(m.ns, hz) + POLL_NS + OBSERVE_NS);
    }
    let mut slack: u64 = m.timers.iter().map(|&t| timer_slack_ns(t, hz)).sum();
    if matches!(m.kind, Kind::FirstRetransmit | Kind::Resend(_) | Kind::FinResend(_)) {
        // The RTO is SRTT + 200 ms, and the kernel's SRTT is the round
        // trip through the relay, which its scheduling may lengthen.
        slack += OBSERVE_NS;
    }
    (OBSERVE_NS, slack + OBSERVE_NS)
}

/// Whether `kernel_ns` lies in the tolerance window around tcpsim's
/// measure `m`.
pub fn within(m: &Measure, kernel_ns: u64, hz: u32) -> bool {
    let (early, late) = tolerance(m, hz);
    kernel_ns + early >= m.ns && kernel_ns <= m.ns + late
}

/// How much later than its event a state read from sock_diag may be
/// seen: the run asks sock_diag every 100 ms while a timewait socket
/// lives.
pub const POLL_NS: u64 = 100_000_000;

/// The window (early, late) around tcpsim's entry time of step `i` of a
/// path (`tcpsim_ns[i]`, from the run's start) in which the kernel's may
/// lie: [`OBSERVE_NS`] either way for each of the two clocks read, and,
/// late, the timer wheel's slack for every interval of tcpsim's path up
/// to that step ([`timer_slack_ns`]; each may be a timer).
pub fn entry_tolerance(tcpsim_ns: &[u64], i: usize, hz: u32) -> (u64, u64) {
    let slack: u64 = (1..=i.min(tcpsim_ns.len().saturating_sub(1)))
        .map(|j| timer_slack_ns(tcpsim_ns[j].saturating_sub(tcpsim_ns[j - 1]), hz))
        .sum();
    (2 * OBSERVE_NS, slack + 2 * OBSERVE_NS)
}

/// Whether the kernel entered step `i` in time: its entry lies in
/// [`entry_tolerance`]'s window around tcpsim's, or its interval from the
/// last earlier step the kernel timed lies in that interval's window (a
/// step caused by the script at a fixed time follows a late timer's step
/// at the right time, not late). `extra_late_ns` widens the late side for
/// a state read by polling ([`POLL_NS`]). A step the kernel did not time
/// passes.
pub fn entry_within(tcpsim_ns: &[u64], kernel_ns: &[Option<u64>], i: usize, extra_late_ns: u64, hz: u32) -> bool {
    let (Some(&t), Some(&Some(k))) = (tcpsim_ns.get(i), kernel_ns.get(i)) else { return true };
    let (early, late) = entry_tolerance(tcpsim_ns, i, hz);
    let inside = |k: i128, t: i128, early: u64, late: u64| {
        k + i128::from(early) >= t && k <= t + i128::from(late) + i128::from(extra_late_ns)
    };
    if inside(i128::from(k), i128::from(t), early, late) {
        return true;
    }
    (0..i).rev().find_map(|j| kernel_ns[j].map(|kj| (j, kj))).is_some_and(|(j, kj)| {
        let dt = t.saturating_sub(tcpsim_ns[j]);
        let dk = i128::from(k) - i128::from(kj);
        inside(dk, i128::from(dt), 2 * OBSERVE_NS, timer_slack_ns(dt, hz) + 2 * OBSERVE_NS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn seg(
        from: &str,
        to: &str,
        sent_ms: u64,
        arrived_ms: Option<u64>,
        flags: u8,
        seq: u32,
        ack: u32,
        len: u32,
    ) -> WireSeg {
        WireSeg {
            from: from.into(),
            to: to.into(),
            sent_ns: sent_ms * 1_000_000,
            arrived_ns: arrived_ms.map(|a| a * 1_000_000),
            flags,
            seq,
            ack,
            len,
        }
    }

    #[test]
    fn syn_schedule_retransmission_and_fin_ack_are_measured() {
        let segs = vec![
            seg("c", "s", 0, None, SYN, 99, 0, 0),
            seg("c", "s", 1000, Some(1010), SYN, 99, 0, 0),
            seg("s", "c", 1010, Some(1020), SYN | ACK, 499, 100, 0),
            seg("c", "s", 1100, None, ACK | 8, 100, 500, 10),
            seg("c", "s", 1320, Some(1330), ACK | 8, 100, 500, 10),
            seg("c", "s", 1400, Some(1410), FIN | ACK, 110, 500, 0),
            // Acknowledges only the data, not the FIN.
            seg("s", "c", 1405, Some(1415), ACK, 500, 110, 0),
            seg("s", "c", 1450, Some(1460), ACK, 500, 111, 0),
        ];
        let m = measure(&segs);
        let find = |k: Kind| m.iter().find(|x| x.kind == k).map(|x| (x.endpoint.as_str(), x.ns / 1_000_000));
        assert_eq!(find(Kind::SynSend(1)), Some(("c", 1000)));
        assert_eq!(find(Kind::FirstRetransmit), Some(("c", 220)));
        assert_eq!(find(Kind::FinAck), Some(("s", 40)));
        // The data (seq 100, 10 bytes) arrived at 1330 ms, first acknowledged
        // (ACK 110) at 1405 ms; the lost first copy never arrived.
        assert_eq!(find(Kind::DataAck(1)), Some(("s", 75)));
        assert_eq!(find(Kind::DataAck(2)), None);
    }

    /// A segment that arrives beyond a hole is not timed (its ACK waits
    /// for the repair); the repair is, and the receiver's next byte then
    /// moves past what had arrived beyond the hole, so in-order data after
    /// it is timed again.
    #[test]
    fn data_acks_are_timed_for_in_order_arrivals_only() {
        let segs = vec![
            seg("c", "s", 0, Some(10), SYN, 99, 0, 0),
            seg("c", "s", 100, None, ACK, 100, 500, 10),
            seg("c", "s", 101, Some(111), ACK, 110, 500, 10),
            seg("s", "c", 111, Some(121), ACK, 500, 100, 0),
            seg("c", "s", 320, Some(330), ACK, 100, 500, 10),
            seg("s", "c", 330, Some(340), ACK, 500, 120, 0),
            seg("c", "s", 400, Some(410), ACK, 120, 500, 10),
            seg("s", "c", 450, Some(460), ACK, 500, 130, 0),
        ];
        let m = measure(&segs);
        let acks: Vec<(Kind, u64)> =
            m.iter().filter(|x| matches!(x.kind, Kind::DataAck(_))).map(|x| (x.kind, x.ns / 1_000_000)).collect();
        assert_eq!(acks, [(Kind::DataAck(1), 0), (Kind::DataAck(2), 40)]);
    }

    /// Every resend of the first retransmitted segment is timed from the
    /// send before it (a partition: 1000 bytes at 200 ms, resent at 420,
    /// 860, 1740 and 3500 ms: 220, 440, 880, 1760 ms), and a FIN sent
    /// alone three times gives two FIN resends.
    #[test]
    fn every_resend_of_the_first_retransmitted_segment_is_timed() {
        let mut segs: Vec<WireSeg> =
            [200, 420, 860, 1740, 3500].iter().map(|&t| seg("c", "s", t, None, ACK | 8, 100, 500, 1000)).collect();
        // A later segment resent once is not timed: only the first one.
        segs.push(seg("c", "s", 3600, None, ACK, 1100, 500, 10));
        segs.push(seg("c", "s", 3900, None, ACK, 1100, 500, 10));
        for t in [4000, 4220, 4660] {
            segs.push(seg("c", "s", t, None, FIN | ACK, 1110, 500, 0));
        }
        let m = measure(&segs);
        let ms = |k: Kind| m.iter().find(|x| x.kind == k).map(|x| x.ns / 1_000_000);
        assert_eq!(ms(Kind::FirstRetransmit), Some(220));
        assert_eq!([2, 3, 4].map(|k| ms(Kind::Resend(k))), [Some(440), Some(880), Some(1760)]);
        assert_eq!(ms(Kind::Resend(5)), None);
        assert_eq!([1, 2, 3].map(|k| ms(Kind::FinResend(k))), [Some(220), Some(440), None]);
    }

    const MS: u64 = 1_000_000;

    /// The review's synack2.ron: tcpsim's client is ESTABLISHED at 3200 ms
    /// (two SYN,ACKs dropped), the kernel's at 200 ms (nothing dropped):
    /// three seconds early is outside any window. A step 30 ms late after
    /// two SYN timers (sd2: 2049.8 for 2020) is inside: two timers of
    /// 1 s at HZ=250 may each be 40 ms late.
    #[test]
    fn entry_times_are_judged_against_the_timers_chained() {
        let tcpsim = [0, 0, 3200 * MS];
        assert!(!entry_within(&tcpsim, &[None, Some(MS / 10), Some(200 * MS)], 2, 0, 250));
        let tcpsim = [0, 0, 2020 * MS];
        assert!(entry_within(&tcpsim, &[None, Some(MS / 10), Some(2049 * MS)], 2, 0, 250));
        // FIN_WAIT_2 at 2422.9 ms for tcpsim's 1500 (the review's dr150,
        // a tail loss probe tcpsim does not send): far outside.
        let tcpsim = [0, 0, 300 * MS, 1000 * MS, 1500 * MS];
        let kernel = [None, Some(MS / 10), Some(300 * MS), Some(1000 * MS), Some(2423 * MS)];
        assert!(!entry_within(&tcpsim, &kernel, 4, 0, 250));
    }

    /// A step the script causes at a fixed time (CLOSE at 3500 ms) after
    /// a step the kernel reached 30 ms late is on time: judged by its
    /// absolute time, not by its interval from the late step.
    #[test]
    fn a_scripted_step_after_a_late_one_is_on_time() {
        let tcpsim = [0, 0, 2020 * MS, 3040 * MS, 3500 * MS];
        let kernel = [None, Some(MS / 10), Some(2050 * MS), Some(3070 * MS), Some(3500 * MS)];
        assert!(entry_within(&tcpsim, &kernel, 3, 0, 250));
        assert!(entry_within(&tcpsim, &kernel, 4, 0, 250));
    }

    /// TIME_WAIT's end is seen when the timewait socket is gone: 60 s at
    /// HZ=250 is 15000 jiffies, level 3 of the wheel (4032 to 32255
    /// jiffies, 512-jiffy buckets): up to (512 + 2) x 4 ms late, plus the
    /// 100 ms poll and 5 ms for the observer; early only by the observer
    /// and two jiffies.
    #[test]
    fn time_wait_is_judged_by_its_end() {
        let m = Measure { endpoint: "c".into(), kind: Kind::TimeWait, ns: 60_000 * MS, timers: vec![] };
        assert_eq!(tolerance(&m, 250), (13 * MS, 2_056 * MS + 105 * MS));
    }

    #[test]
    fn the_wheel_slack_grows_with_the_level() {
        // HZ=250: 4 ms jiffies. 40 ms = 10 jiffies: level 0, 1 jiffy.
        assert_eq!(timer_slack_ns(40_000_000, 250), 12_000_000);
        // 1 s = 250 jiffies: level 1 (63..504), 8 jiffies.
        assert_eq!(timer_slack_ns(1_000_000_000, 250), 40_000_000);
        // 4 s = 1000 jiffies: level 2 (504..4032), 64 jiffies.
        assert_eq!(timer_slack_ns(4_000_000_000, 250), 264_000_000);
        // An ACK "at once" may wait for the next tick.
        assert_eq!(timer_slack_ns(0, 250), 8_000_000);
    }
}
