//! Behaviour IDs: the rows of the project's TCP behaviour specification
//! (`B-<AREA>-NN`), so every transition and every processed input can say
//! which rule handled it.
//!
//! IDs are stable: never renumbered or reused. A [`Rule`] is two bytes, cheap
//! to attach to every trace record, and maps to a dense index for coverage
//! counters.

use std::fmt;

/// The areas of the specification, in the order the document lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    /// `APP`: application calls (OPEN, SEND, RECEIVE, CLOSE, ABORT; RFC 9293
    /// §3.10.1–§3.10.5).
    App,
    /// `CLOSED`: segments arriving at a CLOSED endpoint (§3.10.7.1).
    Closed,
    /// `LISTEN`: segments arriving at a listening endpoint (§3.10.7.2).
    Listen,
    /// `SYNSENT`: segments arriving in SYN_SENT (§3.10.7.3).
    SynSent,
    /// `SEQ`: the acceptability test in SYN_RECEIVED and the synchronized
    /// states (§3.10.7.4 first).
    Seq,
    /// `RST`: the RST bit in SYN_RECEIVED and the synchronized states
    /// (§3.10.7.4 second).
    Rst,
    /// `SYN`: the SYN bit in SYN_RECEIVED and the synchronized states
    /// (§3.10.7.4 fourth).
    Syn,
    /// `ACK`: the ACK field in SYN_RECEIVED and the synchronized states
    /// (§3.10.7.4 fifth).
    Ack,
    /// `DATA`: segment text, sending and acknowledging data (§3.10.7.4 seventh,
    /// §3.8).
    Data,
    /// `CLOSE`: the close paths, FIN processing and TIME_WAIT (§3.6, §3.10.7.4
    /// eighth).
    Close,
    /// `TMR`: timers and what their expiry does (§3.8, RFC 6298).
    Tmr,
    /// `OPT`: the named deviations, all off by default (B-OPT-01..07).
    Opt,
    /// RFC 7323 §2: Window Scale.
    Ws,
    /// RFC 7323 §3–§5: Timestamps, RTTM and PAWS.
    Ts,
    /// RFC 2018, RFC 2883, RFC 6675: selective acknowledgment and
    /// SACK-based loss recovery.
    Sack,
    /// `CC`: the initial window (RFC 6928), CUBIC (RFC 9438) and HyStart
    /// (`docs/cc.md`).
    Cc,
    /// `LNX`: Linux behaviours that differ from RFC 9293 and RFC 6298,
    /// each a named option the `linux` profile turns on (`docs/linux.md`).
    Lnx,
}

impl Area {
    /// Every area, in specification order.
    pub const VALUES: [Area; 17] = [
        Area::App,
        Area::Closed,
        Area::Listen,
        Area::SynSent,
        Area::Seq,
        Area::Rst,
        Area::Syn,
        Area::Ack,
        Area::Data,
        Area::Close,
        Area::Tmr,
        Area::Opt,
        Area::Ws,
        Area::Ts,
        Area::Sack,
        Area::Cc,
        Area::Lnx,
    ];

    /// The area as written in IDs: `APP`, `SYNSENT`, `TMR`, ...
    pub const fn name(self) -> &'static str {
        match self {
            Area::App => "APP",
            Area::Closed => "CLOSED",
            Area::Listen => "LISTEN",
            Area::SynSent => "SYNSENT",
            Area::Seq => "SEQ",
            Area::Rst => "RST",
            Area::Syn => "SYN",
            Area::Ack => "ACK",
            Area::Data => "DATA",
            Area::Close => "CLOSE",
            Area::Tmr => "TMR",
            Area::Opt => "OPT",
            Area::Ws => "WS",
            Area::Ts => "TS",
            Area::Sack => "SACK",
            Area::Cc => "CC",
            Area::Lnx => "LNX",
        }
    }

    /// How many IDs the specification defines in this area.
    pub const fn count(self) -> u8 {
        match self {
            Area::App => 19,
            Area::Closed => 3,
            Area::Listen => 4,
            Area::SynSent => 6,
            Area::Seq => 5,
            Area::Rst => 5,
            Area::Syn => 2,
            Area::Ack => 8,
            Area::Data => 6,
            Area::Close => 21,
            Area::Tmr => 15,
            Area::Opt => 7,
            Area::Ws => 6,
            Area::Ts => 8,
            Area::Sack => 12,
            Area::Cc => 11,
            Area::Lnx => 9,
        }
    }

    /// Where the area's IDs start in the dense index: read from a table
    /// built at compile time, since coverage counts one rule per step.
    const fn offset(self) -> usize {
        AREA_OFFSETS[self as usize] as usize
    }
}

/// The dense index of each area's first ID, by `Area as usize`.
const AREA_OFFSETS: [u8; Area::VALUES.len()] = {
    let mut offsets = [0u8; Area::VALUES.len()];
    let mut sum = 0usize;
    let mut i = 0;
    while i < Area::VALUES.len() {
        offsets[Area::VALUES[i] as usize] = sum as u8;
        sum += Area::VALUES[i].count() as usize;
        i += 1;
    }
    assert!(sum == COUNT);
    offsets
};

/// One behaviour ID, e.g. `B-CLOSE-06`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rule {
    area: Area,
    num: u8,
}

/// Total number of behaviour IDs in the specification.
pub const COUNT: usize = 147;

impl Rule {
    const fn new(area: Area, num: u8) -> Rule {
        assert!(num >= 1 && num <= area.count());
        Rule { area, num }
    }

    /// The specification area the behaviour belongs to.
    pub const fn area(self) -> Area {
        self.area
    }

    /// The behaviour's number within its area, from 1 (the `NN` of
    /// `B-AREA-NN`).
    pub const fn number(self) -> u8 {
        self.num
    }

    /// Dense index in `0..COUNT`, in specification order.
    pub const fn index(self) -> usize {
        self.area.offset() + self.num as usize - 1
    }

    /// Every ID, in specification order.
    pub fn all() -> impl Iterator<Item = Rule> {
        Area::VALUES.into_iter().flat_map(|area| (1..=area.count()).map(move |num| Rule { area, num }))
    }

    /// Parses `B-CLOSE-06`.
    pub fn parse(text: &str) -> Option<Rule> {
        let rest = text.strip_prefix("B-")?;
        let (area_name, num) = rest.rsplit_once('-')?;
        let area = Area::VALUES.into_iter().find(|a| a.name() == area_name)?;
        if num.len() != 2 {
            return None;
        }
        let num: u8 = num.parse().ok()?;
        (num >= 1 && num <= area.count()).then_some(Rule { area, num })
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "B-{}-{:02}", self.area.name(), self.num)
    }
}

macro_rules! rules {
    ($($name:ident = $area:ident $num:literal;)*) => {
        $(
            #[doc = concat!("Behaviour ", stringify!($num), " of area ", stringify!($area), " in the specification (`", stringify!($name), "`).")]
            pub const $name: Rule = Rule::new(Area::$area, $num);
        )*
    };
}

rules! {
    APP_01 = App 1; APP_02 = App 2; APP_03 = App 3; APP_04 = App 4; APP_05 = App 5;
    APP_06 = App 6; APP_07 = App 7; APP_08 = App 8; APP_09 = App 9; APP_10 = App 10;
    APP_11 = App 11; APP_12 = App 12; APP_13 = App 13; APP_14 = App 14; APP_15 = App 15;
    APP_16 = App 16; APP_17 = App 17; APP_18 = App 18; APP_19 = App 19;
    CLOSED_01 = Closed 1; CLOSED_02 = Closed 2; CLOSED_03 = Closed 3;
    LISTEN_01 = Listen 1; LISTEN_02 = Listen 2; LISTEN_03 = Listen 3; LISTEN_04 = Listen 4;
    SYNSENT_01 = SynSent 1; SYNSENT_02 = SynSent 2; SYNSENT_03 = SynSent 3;
    SYNSENT_04 = SynSent 4; SYNSENT_05 = SynSent 5; SYNSENT_06 = SynSent 6;
    SEQ_01 = Seq 1; SEQ_02 = Seq 2; SEQ_03 = Seq 3; SEQ_04 = Seq 4; SEQ_05 = Seq 5;
    RST_01 = Rst 1; RST_02 = Rst 2; RST_03 = Rst 3; RST_04 = Rst 4; RST_05 = Rst 5;
    SYN_01 = Syn 1; SYN_02 = Syn 2;
    ACK_01 = Ack 1; ACK_02 = Ack 2; ACK_03 = Ack 3; ACK_04 = Ack 4; ACK_05 = Ack 5;
    ACK_06 = Ack 6; ACK_07 = Ack 7; ACK_08 = Ack 8;
    DATA_01 = Data 1; DATA_02 = Data 2; DATA_03 = Data 3; DATA_04 = Data 4; DATA_05 = Data 5;
    DATA_06 = Data 6;
    CLOSE_01 = Close 1; CLOSE_02 = Close 2; CLOSE_03 = Close 3; CLOSE_04 = Close 4;
    CLOSE_05 = Close 5; CLOSE_06 = Close 6; CLOSE_07 = Close 7; CLOSE_08 = Close 8;
    CLOSE_09 = Close 9; CLOSE_10 = Close 10; CLOSE_11 = Close 11; CLOSE_12 = Close 12;
    CLOSE_13 = Close 13; CLOSE_14 = Close 14; CLOSE_15 = Close 15; CLOSE_16 = Close 16;
    CLOSE_17 = Close 17; CLOSE_18 = Close 18; CLOSE_19 = Close 19; CLOSE_20 = Close 20;
    CLOSE_21 = Close 21;
    TMR_01 = Tmr 1; TMR_02 = Tmr 2; TMR_03 = Tmr 3; TMR_04 = Tmr 4; TMR_05 = Tmr 5;
    TMR_06 = Tmr 6; TMR_07 = Tmr 7; TMR_08 = Tmr 8; TMR_09 = Tmr 9; TMR_10 = Tmr 10;
    TMR_11 = Tmr 11; TMR_12 = Tmr 12; TMR_13 = Tmr 13; TMR_14 = Tmr 14; TMR_15 = Tmr 15;
    OPT_01 = Opt 1; OPT_02 = Opt 2; OPT_03 = Opt 3; OPT_04 = Opt 4; OPT_05 = Opt 5;
    OPT_06 = Opt 6; OPT_07 = Opt 7;
    WS_01 = Ws 1; WS_02 = Ws 2; WS_03 = Ws 3; WS_04 = Ws 4; WS_05 = Ws 5; WS_06 = Ws 6;
    TS_01 = Ts 1; TS_02 = Ts 2; TS_03 = Ts 3; TS_04 = Ts 4; TS_05 = Ts 5; TS_06 = Ts 6;
    TS_07 = Ts 7; TS_08 = Ts 8;
    SACK_01 = Sack 1; SACK_02 = Sack 2; SACK_03 = Sack 3; SACK_04 = Sack 4; SACK_05 = Sack 5;
    SACK_06 = Sack 6; SACK_07 = Sack 7; SACK_08 = Sack 8; SACK_09 = Sack 9; SACK_10 = Sack 10;
    SACK_11 = Sack 11; SACK_12 = Sack 12;
    CC_01 = Cc 1; CC_02 = Cc 2; CC_03 = Cc 3; CC_04 = Cc 4; CC_05 = Cc 5; CC_06 = Cc 6;
    CC_07 = Cc 7; CC_08 = Cc 8; CC_09 = Cc 9; CC_10 = Cc 10; CC_11 = Cc 11;
    LNX_01 = Lnx 1; LNX_02 = Lnx 2; LNX_03 = Lnx 3; LNX_04 = Lnx 4; LNX_05 = Lnx 5;
    LNX_06 = Lnx 6; LNX_07 = Lnx 7; LNX_08 = Lnx 8; LNX_09 = Lnx 9;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specification_has_147_ids_with_dense_indexes() {
        let all: Vec<Rule> = Rule::all().collect();
        assert_eq!(all.len(), COUNT);
        for (i, rule) in all.iter().enumerate() {
            assert_eq!(rule.index(), i, "{rule}");
        }
    }

    #[test]
    fn ids_print_and_parse_in_the_specification_spelling() {
        assert_eq!(CLOSE_06.to_string(), "B-CLOSE-06");
        assert_eq!(SYNSENT_05.to_string(), "B-SYNSENT-05");
        assert_eq!(Rule::parse("B-CLOSE-06"), Some(CLOSE_06));
        assert_eq!(Rule::parse("B-CLOSE-22"), None);
        assert_eq!(Rule::parse("B-CLOSE-6"), None);
        assert_eq!(Rule::parse("CLOSE-06"), None);
        assert_eq!(Rule::parse("B-WS-03"), Some(WS_03));
        assert_eq!(TS_05.to_string(), "B-TS-05");
        assert_eq!(Rule::parse("B-CC-11"), Some(CC_11));
        assert_eq!(CC_01.to_string(), "B-CC-01");
    }
}
