//! The pictures of one connection on the report page, assembled in one
//! place ([`connection_figures`]): the ladder, a time-sequence graph per
//! end that sent data, the series plot of its endpoints, and the RFC 9293
//! state diagram with its own transition counts.

use super::{Connection, Figure};
use crate::measure::series::SeriesRow;
use crate::pictures::{self, Window};
use crate::tcp::State;
use crate::trace::{NO_EP, OwnedEvent, TraceKind};

/// What one connection's pictures are drawn from.
#[derive(Clone, Copy, Debug)]
pub struct ConnRun<'a> {
    /// The connection's number.
    pub conn: u32,
    /// Its events, unfiltered, as a `LadderRecorder` keeps them (the
    /// connection's own, and the segments of another that reached it).
    pub events: &'a [OwnedEvent],
    /// The series rows of the run (every endpoint's; the connection's own
    /// are chosen here).
    pub rows: &'a [SeriesRow],
    /// Every transition of the run as `(ep, from, to)`, in order: the
    /// state diagram counts its endpoints' whole paths, a listener's
    /// endpoint's LISTEN included (entered before it joined the
    /// connection, under the listener's number).
    pub transitions: &'a [(u32, State, State)],
    /// The scenario's name, for the pictures' titles.
    pub scenario: &'a str,
    /// The run's seed, for the pictures' titles.
    pub seed: u64,
}

/// The connection's section: its endpoints and its pictures, with a note
/// for each picture it has nothing to draw for.
pub fn connection_figures(run: &ConnRun<'_>) -> Connection {
    let ConnRun { conn, events, rows, transitions, scenario, seed } = *run;
    let own = || events.iter().filter(move |e| e.conn == conn && e.ep != NO_EP);
    // Endpoints by (ep, name), in the order they first act: the
    // connecting end first.
    let mut endpoints: Vec<(u32, &str)> = Vec::new();
    for e in own() {
        if !endpoints.iter().any(|(ep, _)| *ep == e.ep) {
            endpoints.push((e.ep, &e.endpoint));
        }
    }
    let mut names: Vec<String> = Vec::new();
    for (_, n) in &endpoints {
        if !names.iter().any(|m| m == n) {
            names.push(n.to_string());
        }
    }
    let mut figures = Vec::new();
    let mut notes = Vec::new();
    figures.push(Figure {
        slug: "ladder".into(),
        caption: "Ladder: every segment as an arrow from its sender to its receiver, time flowing down, \
                  with each endpoint's state changes beside its line"
            .into(),
        svg: pictures::ladder_svg(events, conn, &format!("{scenario}: connection {conn}, seed {seed}")),
    });
    // A time-sequence graph per end that sent data, in the order they act.
    let senders: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| own().any(|e| e.endpoint == *n && matches!(e.kind, TraceKind::Send { seg, .. } if seg.len > 0)))
        .collect();
    for (i, name) in senders.iter().enumerate() {
        let mut anchor = format!("tsg-{}", slug(name));
        if figures.iter().any(|f: &Figure| f.slug == anchor) {
            anchor = format!("{anchor}-{i}");
        }
        figures.push(Figure {
            slug: anchor,
            caption: format!(
                "Time-sequence graph of the data {name} sends: sequence number against time; \
                 first transmissions blue, retransmissions red, lost segments crossed; \
                 the ACK line green, the receive window's edge gold"
            ),
            svg: pictures::tsg_svg(
                events,
                conn,
                Some(name),
                Window::ALL,
                &format!("{scenario}: data {name} sends on connection {conn}, seed {seed}"),
            ),
        });
    }
    if senders.is_empty() {
        notes.push("No data segments on this connection, so no time-sequence graph.".into());
    }
    let own_rows: Vec<SeriesRow> =
        rows.iter().filter(|r| endpoints.iter().any(|(ep, _)| *ep == r.ep)).cloned().collect();
    if own_rows.is_empty() {
        notes.push("No measured congestion window or RTT on this connection, so no series plot.".into());
    } else {
        figures.push(Figure {
            slug: "series".into(),
            caption: "Congestion window and RTT: cwnd, ssthresh and bytes in flight (RFC 5681), \
                      SRTT and RTO (RFC 6298), per endpoint, over time"
                .into(),
            svg: pictures::series_plot_svg(
                &own_rows,
                &format!("{scenario}: congestion window and RTT of connection {conn}, seed {seed}"),
            ),
        });
    }
    figures.push(Figure {
        slug: "states".into(),
        caption: "State diagram: the RFC 9293 states, each transition labelled with how often \
                  this connection's endpoints took it"
            .into(),
        svg: pictures::state_diagram_svg(
            &transition_counts(transitions, endpoints.iter().map(|(ep, _)| *ep)),
            &format!("{scenario}: state transitions of connection {conn}, seed {seed}"),
        ),
    });
    Connection { conn, endpoints: names, figures, notes }
}

/// How often the endpoints `eps` took each transition of `transitions`
/// (`(ep, from, to)`), indexed `[from][to]` as the state diagram reads them.
pub fn transition_counts(transitions: &[(u32, State, State)], eps: impl Iterator<Item = u32>) -> [[u64; 11]; 11] {
    let eps: Vec<u32> = eps.collect();
    let mut counts = [[0u64; 11]; 11];
    for &(_, from, to) in transitions.iter().filter(|(ep, _, _)| eps.contains(ep)) {
        counts[from as usize][to as usize] += 1;
    }
    counts
}

/// A name as an anchor's part: letters, digits, `-` and `_` kept, the
/// rest `-` (endpoint names are free text).
fn slug(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' }).collect()
}
