//! The file's scripted `Drop` faults as rules the kernel run's relay
//! plays on the wire.
//!
//! A filter the wire can see (sender, flags, payload or none) is played
//! as it says: the `nth` .. `nth + times − 1` segments that match it,
//! counted per fault as tcpsim counts them, whatever flags the kernel's
//! segments carry beside those the filter names. A filter that names
//! what the wire cannot see (the sender's state, a retransmission, a
//! connection number) drops, on the kernel, the segments it dropped in
//! tcpsim's run, each as the k-th segment of its sender of the same kind:
//! the same SYN, FIN, RST and ACK bits and payload or none. PSH is left
//! out of the kind: Linux sets it on the last segment of each write
//! (tcp_output.c `tcp_push`, `forced_push`), not on every one, so
//! counting by tcpsim's PSH bit would pick another segment.

use crate::model::{Fault, Filter, Model, SegmentFaultAction};

/// The TCP header's PSH bit, as the low byte of the flags holds it.
pub const PSH: u8 = 0x08;

/// The bits a kind compares: SYN, FIN, RST, ACK (not PSH).
pub const KIND_MASK: u8 = 0x1f & !PSH;

/// One rule of the relay: drops the listed matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropSpec {
    /// How the report names it (`faults[0]`).
    pub label: String,
    /// The endpoints (indices into the run's endpoints) whose segments
    /// count; `None`: every endpoint's.
    pub senders: Option<Vec<usize>>,
    /// The flag bits compared (`0`: none).
    pub mask: u8,
    /// Their values.
    pub flags: u8,
    /// `Some(true)`: only segments with payload; `Some(false)`: none.
    pub data: Option<bool>,
    /// Which matches are dropped (1-based, ascending).
    pub drop: Vec<u32>,
}

impl DropSpec {
    /// Whether a segment `sender` sends with `flags` (the header's low
    /// byte) and payload or none counts for this rule.
    pub fn matches(&self, sender: usize, flags: u8, data: bool) -> bool {
        self.senders.as_ref().is_none_or(|s| s.contains(&sender))
            && flags & self.mask == self.flags
            && self.data.is_none_or(|d| d == data)
    }
}

/// A segment a rule dropped in tcpsim's run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpsimDrop {
    /// Its connection.
    pub conn: u32,
    /// Its sender's name.
    pub name: String,
    /// Its flags (the header's low byte).
    pub flags: u8,
    /// It carried payload.
    pub data: bool,
    /// Its ordinal (1-based) among its sender's segments of the same kind
    /// (flags under [`KIND_MASK`], payload or none).
    pub nth: u32,
}

/// Whether the wire shows everything `filter` asks about.
pub fn visible(filter: &Filter) -> bool {
    filter.state.is_none() && filter.retransmit.is_none() && filter.conn.is_none()
}

/// The relay's rules for `model`'s Drop faults. `endpoints` are the
/// run's endpoints as (connection, name); `drops` the segments tcpsim's
/// run dropped by rule, for the filters the wire cannot see.
pub fn drop_specs(model: &Model, endpoints: &[(u32, String)], drops: &[TcpsimDrop]) -> Vec<DropSpec> {
    let mut specs = Vec::new();
    let mut used = vec![false; drops.len()];
    for (i, f) in model.faults.iter().enumerate() {
        let Fault::Segment { filter, nth, times, action: SegmentFaultAction::Drop } = f else { continue };
        let label = format!("faults[{i}]");
        if visible(filter) {
            let senders = filter
                .from
                .as_ref()
                .map(|from| endpoints.iter().enumerate().filter(|(_, (_, n))| n == from).map(|(k, _)| k).collect());
            specs.push(DropSpec {
                label,
                senders,
                mask: if filter.flags.is_some() { 0x1f } else { 0 },
                flags: filter.flags.map_or(0, |f| f.bits()),
                data: filter.data,
                drop: (*nth..nth.saturating_add(*times)).collect(),
            });
            continue;
        }
        for (k, d) in drops.iter().enumerate() {
            let fits = !used[k]
                && filter.from.as_ref().is_none_or(|f| *f == d.name)
                && filter.conn.is_none_or(|c| c == d.conn)
                && filter.flags.is_none_or(|f| f.bits() == d.flags)
                && filter.data.is_none_or(|x| x == d.data);
            let Some(ep) = endpoints.iter().position(|(c, n)| *c == d.conn && *n == d.name) else { continue };
            if fits {
                used[k] = true;
                specs.push(DropSpec {
                    label: label.clone(),
                    senders: Some(vec![ep]),
                    mask: KIND_MASK,
                    flags: d.flags & KIND_MASK,
                    data: Some(d.data),
                    drop: vec![d.nth],
                });
            }
        }
    }
    specs
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACK: u8 = 0x10;

    fn load(faults: &str) -> Model {
        let text = format!(
            r#"(name: "k", seed: 1, tcp: (profile: linux),
            hosts: [(name: "a"), (name: "b")],
            links: [(between: ("a", "b"), delay_ms: 10)],
            listeners: [(name: "server", host: "b", port: 80)],
            connections: [(name: "client", host: "a", remote_host: "b", remote_port: 80,
                           script: [Connect(at_ms: 0), Send(at_ms: 100, bytes: 4000), Close(at_ms: 1000)])],
            faults: [{faults}])"#
        );
        crate::scenario::load(text.as_bytes(), &[]).expect("a valid scenario")
    }

    fn eps() -> Vec<(u32, String)> {
        vec![(0, "client".into()), (0, "server".into())]
    }

    /// `Drop(matching: (from: "client", data: true), times: 3)` drops the
    /// client's first three data segments whatever their flags: Linux's
    /// 4000-byte write goes as ACK, PSH|ACK, PSH|ACK (tcp_push marks the
    /// last segment of the write; `forced_push` one past half the peer's
    /// largest window), and all three count.
    #[test]
    fn a_filter_without_flags_counts_every_segment_it_names() {
        // tcpsim's own drops, with its own flags (PSH on each data
        // segment): not what the rule replays.
        let drops: Vec<TcpsimDrop> = (1..=3)
            .map(|n| TcpsimDrop { conn: 0, name: "client".into(), flags: PSH | ACK, data: true, nth: n })
            .collect();
        let specs = drop_specs(&load(r#"Drop(matching: (from: "client", data: true), times: 3)"#), &eps(), &drops);
        assert_eq!(specs.len(), 1, "{specs:?}");
        let s = &specs[0];
        assert_eq!(s.drop, vec![1, 2, 3]);
        for flags in [ACK, PSH | ACK, PSH | ACK] {
            assert!(s.matches(0, flags, true));
        }
        assert!(!s.matches(0, ACK, false), "a bare ACK is not a data segment");
        assert!(!s.matches(1, PSH | ACK, true), "the server's segments do not count");
    }

    /// A filter with flags matches exactly those flags, as in tcpsim.
    #[test]
    fn a_filter_with_flags_matches_them_exactly() {
        let specs = drop_specs(&load(r#"Drop(matching: (from: "client", flags: "FIN|ACK"), nth: 2)"#), &eps(), &[]);
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].drop, vec![2]);
        assert!(specs[0].matches(0, 0x11, false));
        assert!(!specs[0].matches(0, 0x19, false), "FIN|PSH|ACK is not FIN|ACK");
    }

    /// A filter on the sender's state drops what tcpsim dropped, as the
    /// k-th segment of its kind, PSH left out: tcpsim's PSH|ACK is the
    /// kernel's ACK or PSH|ACK alike.
    #[test]
    fn a_derived_rule_ignores_psh() {
        let drops = vec![TcpsimDrop { conn: 0, name: "client".into(), flags: PSH | ACK, data: true, nth: 2 }];
        let specs =
            drop_specs(&load(r#"Drop(matching: (from: "client", state: ESTABLISHED, data: true))"#), &eps(), &drops);
        assert_eq!(specs.len(), 1, "{specs:?}");
        assert_eq!(specs[0].drop, vec![2]);
        assert!(specs[0].matches(0, ACK, true));
        assert!(specs[0].matches(0, PSH | ACK, true));
        assert!(!specs[0].matches(0, ACK, false));
    }
}
