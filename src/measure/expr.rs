//! The expression language of `sweep --measure NAME=EXPR`: one value of
//! one run, read from its per-endpoint results ([`EndpointResult`]).
//!
//! ```text
//! expr      := aggregate "(" call ")" | call
//! aggregate := "mean" | "min" | "max" | "any" | "all"
//! call      := function "(" endpoint ["," STATE] ")"
//! ```
//!
//! `endpoint` is an endpoint's name in the scenario (a connection's or a
//! listener's `name`); every endpoint of that name that took part in a
//! connection (sent or received a SYN) counts. A listener's spare clones
//! and a restarted host's idle listener never did, and are left out.
//!
//! A name is a *population* when some grid point of the sweep can give it
//! more than one connection: a connection (or its `peer`) whose `count`
//! is above 1, or a listener that connections with a total `count` above
//! 1 aim at (its host and port), at any grid point (`--vary`, `--set`
//! included). The column's type follows from the expression and that
//! rule alone, so it is the same in every row: over a population the
//! aggregate combines the values: `mean` (the default; of booleans, the
//! proportion true, a number in [0, 1]), `min`, `max`, or for booleans
//! `any` and `all`. A boolean function of a single endpoint without an
//! aggregate is `true`/`false` (should the name still match several
//! endpoints, as when a host restarts and accepts again, any true makes
//! it true); `min`/`max` of booleans are `all`/`any`. A categorical value
//! (`state`, `reason`) takes no aggregate: its endpoints' common value,
//! or `mixed` when they differ. A value an endpoint does not have (the
//! duration of one that never closed) is left out; with none left the
//! cell is empty.

use super::conn::EndpointResult;
use crate::tcp::State;
use std::fmt;

/// What a function gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `true` or `false`.
    Bool,
    /// A name: a state or a close reason.
    Category,
    /// A number.
    Number,
}

/// The functions, with what they give and whether they take a state.
const FUNCTIONS: [(&str, Kind, bool, &str); 16] = [
    ("visited", Kind::Bool, true, "whether the endpoint entered STATE"),
    ("state", Kind::Category, false, "its state at the end of the run"),
    ("reason", Kind::Category, false, "why it last reached CLOSED (empty if it did not)"),
    ("duration_ms", Kind::Number, false, "open → CLOSED, in ms"),
    ("transfer_ms", Kind::Number, false, "its peer's first payload byte sent → its last byte received, in ms"),
    ("time_in_ms", Kind::Number, true, "time spent in STATE, in ms"),
    ("goodput_bps", Kind::Number, false, "bytes received × 8 / transfer time, bits per second"),
    ("bytes_sent", Kind::Number, false, "payload bytes sent (first transmissions)"),
    ("bytes_delivered", Kind::Number, false, "payload bytes its application received"),
    ("segments", Kind::Number, false, "segments sent"),
    ("retransmissions", Kind::Number, false, "segments sent again"),
    ("rtos", Kind::Number, false, "RETRANSMIT timer expiries"),
    ("fast_retransmits", Kind::Number, false, "segments sent by fast retransmit or partial ACKs"),
    ("srtt_min_ms", Kind::Number, false, "the smallest SRTT, in ms"),
    ("srtt_mean_ms", Kind::Number, false, "the mean SRTT over estimator updates, in ms"),
    ("srtt_max_ms", Kind::Number, false, "the largest SRTT, in ms"),
];

/// The functions and what each gives, one line each, for help texts.
pub fn function_help() -> Vec<String> {
    FUNCTIONS
        .iter()
        .map(|(name, _, state, help)| {
            let args = if *state { "(ENDPOINT, STATE)" } else { "(ENDPOINT)" };
            format!("{name}{args}: {help}")
        })
        .collect()
}

/// How the values of several endpoints of one name combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    /// The mean (of booleans: the proportion true).
    Mean,
    /// The smallest.
    Min,
    /// The largest.
    Max,
    /// Any true.
    Any,
    /// All true.
    All,
}

/// One parsed measure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Measure {
    /// The column name.
    pub name: String,
    /// The expression as written.
    pub text: String,
    function: usize,
    endpoint: String,
    state: Option<State>,
    aggregate: Option<Aggregate>,
    /// The endpoint name is a population (see the module doc).
    population: bool,
    /// 1-based position of the endpoint name in the text parsed (with
    /// [`parse_measure`], in `NAME=EXPR`).
    pub endpoint_at: usize,
}

/// A bad expression: where (1-based character position in the
/// expression) and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based position of the character where the problem starts.
    pub position: usize,
    /// What was expected, and what was found.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at position {}: {}", self.position, self.message)
    }
}

/// A run's value of a measure.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// A name.
    Category(String),
    /// A number.
    Number(f64),
}

impl Value {
    /// The CSV cell: `true`/`false`, the name, or the number in Rust's
    /// shortest round-trip form (the same on every machine).
    pub fn cell(&self) -> String {
        match self {
            Value::Bool(b) => b.to_string(),
            Value::Category(s) => s.clone(),
            Value::Number(x) => format!("{x}"),
        }
    }
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn skip_space(&mut self) {
        while self.text[self.pos..].starts_with(' ') {
            self.pos += 1;
        }
    }

    fn error(&self, at: usize, message: String) -> ParseError {
        ParseError { position: self.text[..at].chars().count() + 1, message }
    }

    fn found(&self) -> String {
        match self.text[self.pos..].chars().next() {
            Some(c) => format!("found `{c}`"),
            None => "found the end".to_string(),
        }
    }

    /// A name: letters, digits, `_`, `-`, `.`, `[`, `]`.
    fn word(&mut self, what: &str) -> Result<(usize, &'a str), ParseError> {
        self.skip_space();
        let start = self.pos;
        let len = self.text[start..]
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']')))
            .unwrap_or(self.text.len() - start);
        if len == 0 {
            return Err(self.error(start, format!("expected {what}, {}", self.found())));
        }
        self.pos += len;
        let text: &'a str = self.text;
        Ok((start, &text[start..start + len]))
    }

    fn punct(&mut self, c: char, what: &str) -> Result<(), ParseError> {
        self.skip_space();
        if self.text[self.pos..].starts_with(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(self.pos, format!("expected {what}, {}", self.found())))
        }
    }
}

fn function_names() -> String {
    FUNCTIONS.iter().map(|f| f.0).collect::<Vec<_>>().join(", ")
}

/// Parses `NAME=EXPR` (the text of one `--measure`). Positions in errors
/// (and [`Measure::endpoint_at`]) count characters of `NAME=EXPR` as
/// written, from 1: the text an error message shows.
pub fn parse_measure(spec: &str) -> Result<Measure, ParseError> {
    let Some((name, text)) = spec.split_once('=') else {
        return Err(ParseError { position: 1, message: "expected NAME=EXPR, found no `=`".into() });
    };
    let offset = name.chars().count() + 1;
    let name = name.trim();
    let ok_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok_name {
        return Err(ParseError {
            position: 1,
            message: format!("expected a column name of letters, digits and `_` before `=`, found `{name}`"),
        });
    }
    let mut m = parse(text).map_err(|e| ParseError { position: e.position + offset, ..e })?;
    m.name = name.to_string();
    m.endpoint_at += offset;
    Ok(m)
}

/// Parses an expression (see the module doc).
pub fn parse(text: &str) -> Result<Measure, ParseError> {
    let mut lx = Lexer { text, pos: 0 };
    let (at, first) = lx.word("an aggregate (mean, min, max, any, all) or a function")?;
    let aggregate = match first {
        "mean" => Some(Aggregate::Mean),
        "min" => Some(Aggregate::Min),
        "max" => Some(Aggregate::Max),
        "any" => Some(Aggregate::Any),
        "all" => Some(Aggregate::All),
        _ => None,
    };
    let (fat, fname) = if aggregate.is_some() {
        lx.punct('(', "`(` after the aggregate")?;
        lx.word("a function")?
    } else {
        (at, first)
    };
    let Some(function) = FUNCTIONS.iter().position(|f| f.0 == fname) else {
        return Err(lx.error(fat, format!("expected a function ({}), found `{fname}`", function_names())));
    };
    let (_, kind, takes_state, _) = FUNCTIONS[function];
    lx.punct('(', &format!("`(` after `{fname}`"))?;
    let (eat, endpoint) = lx.word("an endpoint name")?;
    let endpoint = endpoint.to_string();
    let endpoint_at = text[..eat].chars().count() + 1;
    let state = if takes_state {
        lx.punct(',', &format!("`,` and a state: {fname}(ENDPOINT, STATE)"))?;
        let (sat, s) = lx.word("a state name (CLOSED, LISTEN, ..., TIME_WAIT)")?;
        // State names are accepted in any case (`closing` is CLOSING).
        match State::parse(&s.to_ascii_uppercase()) {
            Some(State::Closed) if fname == "time_in_ms" => {
                return Err(lx.error(
                    sat,
                    "time_in_ms(E, CLOSED) is not counted (time starts when E leaves CLOSED, and ends when it \
                     gets back there): for how long E was open, use duration_ms(E)"
                        .to_string(),
                ));
            }
            Some(st) => Some(st),
            None => {
                return Err(
                    lx.error(sat, format!("expected a state name (CLOSED, LISTEN, ..., TIME_WAIT), found `{s}`"))
                );
            }
        }
    } else {
        None
    };
    lx.punct(')', &format!("`)` closing `{fname}(`"))?;
    if aggregate.is_some() {
        lx.punct(')', "`)` closing the aggregate")?;
    }
    lx.skip_space();
    if lx.pos < text.len() {
        return Err(lx.error(lx.pos, format!("expected the end of the expression, {}", lx.found())));
    }
    match (kind, aggregate) {
        (Kind::Category, Some(_)) => {
            return Err(lx.error(0, format!("`{fname}` gives a name, which takes no aggregate: write `{fname}(...)`")));
        }
        (Kind::Number, Some(Aggregate::Any | Aggregate::All)) => {
            return Err(
                lx.error(0, format!("`any` and `all` take a boolean (`visited`), and `{fname}` gives a number"))
            );
        }
        _ => {}
    }
    Ok(Measure {
        name: String::new(),
        text: text.trim().to_string(),
        function,
        endpoint,
        state,
        aggregate,
        population: false,
        endpoint_at,
    })
}

impl Measure {
    /// The measure in one canonical spelling, `NAME=EXPR` without
    /// spaces but after commas and with upper-case states: two
    /// `--measure` texts that differ only in spacing or the case of a
    /// state give the same.
    pub fn canonical(&self) -> String {
        let call = match self.state {
            Some(st) => format!("{}({}, {st})", FUNCTIONS[self.function].0, self.endpoint),
            None => format!("{}({})", FUNCTIONS[self.function].0, self.endpoint),
        };
        let expr = match self.aggregate {
            None => call,
            Some(a) => format!("{}({call})", format!("{a:?}").to_lowercase()),
        };
        format!("{}={expr}", self.name)
    }

    /// What the function gives.
    pub fn kind(&self) -> Kind {
        FUNCTIONS[self.function].1
    }

    /// The endpoint name the expression reads.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Says whether the endpoint name is a population ([`populations`]):
    /// it decides the column's type for every row.
    pub fn set_population(&mut self, population: bool) {
        self.population = population;
    }

    /// Whether the column holds proportions: a boolean function averaged
    /// (`mean`, or no aggregate over a population).
    pub fn is_proportion(&self) -> bool {
        self.kind() == Kind::Bool
            && match self.aggregate {
                Some(Aggregate::Mean) => true,
                None => self.population,
                Some(_) => false,
            }
    }

    /// One endpoint's raw value; `None` when it has none.
    fn one(&self, r: &EndpointResult) -> Option<Value> {
        let ms = |d: Option<crate::time::Duration>| d.map(|d| Value::Number(d.as_nanos() as f64 / 1e6));
        let n = |x: u64| Some(Value::Number(x as f64));
        let state = self.state.unwrap_or(State::Closed);
        match FUNCTIONS[self.function].0 {
            "visited" => Some(Value::Bool(r.visited(state))),
            "state" => Some(Value::Category(r.state.to_string())),
            "reason" => r.reason.map(|x| Value::Category(x.to_string())),
            "duration_ms" => ms(r.duration()),
            "transfer_ms" => ms(r.transfer()),
            "time_in_ms" => ms(Some(r.time_in[state as usize])),
            "goodput_bps" => r.goodput_bps().and_then(n),
            "bytes_sent" => n(r.bytes_sent),
            "bytes_delivered" => n(r.bytes_delivered),
            "segments" => n(r.segments),
            "retransmissions" => n(r.retransmissions),
            "rtos" => n(r.rtos),
            "fast_retransmits" => n(r.fast_retransmits),
            "srtt_min_ms" => ms(r.srtt_min()),
            "srtt_mean_ms" => r.srtt_mean_ns().map(|x| Value::Number(x as f64 / 1e6)),
            "srtt_max_ms" => ms(r.srtt_max()),
            _ => unreachable!("every function in FUNCTIONS has an arm"),
        }
    }

    /// The run's value: the endpoints named, combined by the aggregate;
    /// `None` when none of them has a value.
    pub fn eval(&self, results: &[EndpointResult]) -> Option<Value> {
        let values: Vec<Value> =
            results.iter().filter(|r| r.endpoint == self.endpoint && r.took_part).filter_map(|r| self.one(r)).collect();
        if values.is_empty() {
            return None;
        }
        match self.kind() {
            Kind::Category => {
                let first = values[0].clone();
                Some(if values.iter().all(|v| *v == first) { first } else { Value::Category("mixed".into()) })
            }
            Kind::Bool => {
                let bools: Vec<bool> = values.iter().map(|v| matches!(v, Value::Bool(true))).collect();
                Some(match self.aggregate {
                    _ if self.is_proportion() => {
                        Value::Number(bools.iter().filter(|b| **b).count() as f64 / bools.len() as f64)
                    }
                    None | Some(Aggregate::Any | Aggregate::Max | Aggregate::Mean) => {
                        Value::Bool(bools.iter().any(|b| *b))
                    }
                    Some(Aggregate::All | Aggregate::Min) => Value::Bool(bools.iter().all(|b| *b)),
                })
            }
            Kind::Number => {
                let xs: Vec<f64> =
                    values.iter().filter_map(|v| if let Value::Number(x) = v { Some(*x) } else { None }).collect();
                Some(Value::Number(match self.aggregate {
                    Some(Aggregate::Min) => xs.iter().copied().fold(f64::INFINITY, f64::min),
                    Some(Aggregate::Max) => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    _ => xs.iter().sum::<f64>() / xs.len() as f64,
                }))
            }
        }
    }
}

/// The endpoint names that are populations over these models (one per
/// grid point; see the module doc): a connection or peer whose `count` is
/// above 1, or a listener that connections with a total `count` above 1
/// aim at, in any of them.
pub fn populations(models: &[crate::model::Model]) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for m in models {
        for c in m.connections.iter().filter(|c| c.count > 1) {
            out.insert(c.name.clone());
            out.extend(c.peer.iter().map(|p| p.name.clone()));
        }
        for l in &m.listeners {
            let aimed: u64 = m
                .connections
                .iter()
                .filter(|c| c.remote_host == l.host && c.remote_port == l.port)
                .map(|c| u64::from(c.count))
                .sum();
            if aimed > 1 {
                out.insert(l.name.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_call_and_an_aggregate() {
        let m = parse_measure("closing=visited(client, CLOSING)").unwrap();
        assert_eq!(
            (m.name.as_str(), m.endpoint(), m.state, m.aggregate),
            ("closing", "client", Some(State::Closing), None)
        );
        let m = parse(" max( srtt_max_ms(server) ) ").unwrap();
        assert_eq!(m.aggregate, Some(Aggregate::Max));
        assert_eq!(m.kind(), Kind::Number);
    }

    #[test]
    fn errors_name_the_position_and_what_was_expected() {
        let e = parse("visited(client CLOSING)").unwrap_err();
        assert_eq!(e.position, 16, "{e}");
        assert!(e.message.contains("expected `,`"), "{e}");
        let e = parse("visted(client)").unwrap_err();
        assert_eq!(e.position, 1);
        assert!(e.message.contains("expected a function"), "{e}");
        let e = parse("visited(client, CLOSNG)").unwrap_err();
        assert_eq!(e.position, 17);
        let e = parse("any(rtos(client))").unwrap_err();
        assert!(e.message.contains("boolean"), "{e}");
        let e = parse("state(client) x").unwrap_err();
        assert_eq!(e.position, 15);
        assert!(e.message.contains("expected the end"), "{e}");
        assert!(parse_measure("visited(client, CLOSING)").is_err());
    }

    /// State names in any case; spacing and case do not change the
    /// canonical form; CLOSED has no time in it.
    #[test]
    fn states_in_any_case_and_canonical_forms() {
        let a = parse_measure("c=visited(client, closing)").unwrap();
        let b = parse_measure("c= visited( client ,CLOSING ) ").unwrap();
        assert_eq!(a.canonical(), "c=visited(client, CLOSING)");
        assert_eq!(a.canonical(), b.canonical());
        assert_eq!(parse_measure("m=max( rtos(x))").unwrap().canonical(), "m=max(rtos(x))");
        let e = parse("time_in_ms(client, CLOSED)").unwrap_err();
        assert_eq!(e.position, 20);
        assert!(e.message.contains("duration_ms"), "{e}");
    }

    /// In `NAME=EXPR` positions count from the N of NAME: what the error
    /// message shows. `x=` puts the expression 2 characters later.
    #[test]
    fn measure_positions_count_from_the_name() {
        let e = parse_measure("x=visited(client CLOSING)").unwrap_err();
        assert_eq!(e.position, 18, "{e}");
        let m = parse_measure("abc=rtos( nobody)").unwrap();
        assert_eq!(m.endpoint_at, 11);
    }
}
