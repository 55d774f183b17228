//! [`Builder`]: a [`Model`] written in Rust instead of a file, a step at
//! a time, with the defaults a file gets from validation (hosts numbered
//! 10.0.0.1, 10.0.0.2, ...; one connection per entry; backlog 1; the
//! RFC's TCP settings; the default limits).
//!
//! The builder resolves names (hosts, links between them) as it goes and
//! reports the first problem from [`Builder::build`]; the values
//! themselves (delays, probabilities, byte counts) are typed, so they
//! cannot be malformed. A model built from the same description as a file
//! equals the model that file loads to
//! (`builder_model_equals_the_loaded_file` in the tests).

use super::{Action, App, Connection, Expect, Host, HostId, Limits, Link, Listener, Model, Reaction, Timed};
use crate::link::LinkParams;
use crate::tcp::TcpConfig;
use crate::time::{Duration, Instant};

/// The first default host address, 10.0.0.1, as in files.
const FIRST_ADDR: u32 = 0x0a00_0001;

/// Builds a [`Model`]; see the module docs.
///
/// ```
/// use tcpsim::link::LinkParams;
/// use tcpsim::model::{Action, App, Builder, Reaction};
/// use tcpsim::time::Duration;
///
/// let model = Builder::new("two hosts")
///     .host("a")
///     .host("b")
///     .link("a", "b", LinkParams { delay: Duration::from_millis(5), ..LinkParams::default() })
///     .listener("server", "b", 80, App::default().on_end_of_stream([Reaction::Close]))
///     .connection(
///         "client",
///         "a",
///         ("b", 80),
///         App::default().at(Duration::ZERO, Action::Connect).on_connected([Reaction::Send(1000), Reaction::Close]),
///     )
///     .build()
///     .expect("names that exist");
/// assert_eq!(model.connection_count(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    model: Model,
    /// The first problem found, reported by [`Builder::build`].
    problem: Option<String>,
}

impl Builder {
    /// An empty scenario called `name`, seed 0, with the RFC's TCP
    /// settings and the default limits.
    pub fn new(name: &str) -> Builder {
        let model = Model {
            name: name.to_string(),
            description: None,
            seed: 0,
            iss_seed: None,
            configs: vec![TcpConfig::default()],
            hosts: Vec::new(),
            links: Vec::new(),
            listeners: Vec::new(),
            connections: Vec::new(),
            faults: Vec::new(),
            limits: Limits::default(),
            expect: None,
            deviations: Vec::new(),
        };
        let problem = name.trim().is_empty().then(|| "expected a non-empty scenario name".to_string());
        Builder { model, problem }
    }

    /// The seed of every random draw (links, initial sequence numbers).
    pub fn seed(mut self, seed: u64) -> Builder {
        self.model.seed = seed;
        self
    }

    /// What the scenario shows, for the run header.
    pub fn description(mut self, text: &str) -> Builder {
        self.model.description = Some(text.to_string());
        self
    }

    /// The TCP settings of every endpoint (a file's top-level `tcp`).
    pub fn tcp(mut self, config: TcpConfig) -> Builder {
        self.model.configs[0] = config;
        self
    }

    /// The limits of the run.
    pub fn limits(mut self, limits: Limits) -> Builder {
        self.model.limits = limits;
        self
    }

    /// A host with the next free address (10.0.0.1 for the first).
    pub fn host(mut self, name: &str) -> Builder {
        if name.trim().is_empty() || name.contains('#') {
            self.problem(format!("host {name:?}: expected a non-empty host name without `#`"));
        } else if self.model.host_by_name(name).is_some() {
            self.problem(format!("duplicate host name {name:?}"));
        }
        let addr = self.model.hosts.iter().map(|h| h.addr + 1).max().unwrap_or(FIRST_ADDR);
        self.model.hosts.push(Host { name: name.to_string(), addr });
        self
    }

    /// A link between hosts `a` and `b` with the same parameters in both
    /// directions.
    pub fn link(mut self, a: &str, b: &str, params: LinkParams) -> Builder {
        if let (Some(ia), Some(ib)) = (self.host_id(a), self.host_id(b)) {
            if ia == ib {
                self.problem(format!("link {a:?}-{b:?}: expected two different hosts"));
            } else if self.linked(ia, ib) {
                self.problem(format!("a link between {a:?} and {b:?} already exists"));
            }
            self.model.links.push(Link { a: ia, b: ib, ab: params, ba: params });
        }
        self
    }

    /// A listener called `name` on `host`:`port`, open from time zero; each
    /// connection it accepts runs `app` (script times count from its
    /// establishment).
    pub fn listener(mut self, name: &str, host: &str, port: u16, app: App) -> Builder {
        if let Some(h) = self.host_id(host) {
            if port == 0 {
                self.problem(format!("listener {name:?}: expected a port in 1..=65535, found 0"));
            }
            self.model.listeners.push(Listener {
                name: name.to_string(),
                host: h,
                port,
                backlog: 1,
                listen_at: Instant::ZERO,
                close_at: None,
                iss: None,
                config: 0,
                app,
            });
        }
        self
    }

    /// A connection called `name` from `host` to `remote` (host, port),
    /// run by `app` (give it a `Connect`).
    pub fn connection(mut self, name: &str, host: &str, remote: (&str, u16), app: App) -> Builder {
        if let (Some(h), Some(r)) = (self.host_id(host), self.host_id(remote.0)) {
            if !self.linked(h, r) {
                self.problem(format!("connection {name:?}: no link between {host:?} and {:?}", remote.0));
            }
            if remote.1 == 0 {
                self.problem(format!("connection {name:?}: expected a port in 1..=65535, found 0"));
            }
            self.model.connections.push(Connection {
                name: name.to_string(),
                host: h,
                host_span: 1,
                local_port: None,
                remote_host: r,
                remote_port: remote.1,
                count: 1,
                open_spread: Duration::ZERO,
                iss: None,
                config: 0,
                app,
                peer: None,
            });
        }
        self
    }

    /// What the run must meet (a file's `expect` block).
    pub fn expect(mut self, expect: Expect) -> Builder {
        self.model.expect = Some(expect);
        self
    }

    /// The model, or the first problem found: an unknown or repeated
    /// name, a connection between hosts without a link, port 0.
    pub fn build(self) -> Result<Model, String> {
        if let Some(problem) = self.problem {
            return Err(problem);
        }
        let mut model = self.model;
        if model.hosts.is_empty() {
            return Err("expected at least one host".to_string());
        }
        model.deviations = crate::scenario::deviations_of(0, &model.configs[0]);
        Ok(model)
    }

    fn host_id(&mut self, name: &str) -> Option<HostId> {
        let id = self.model.host_by_name(name);
        if id.is_none() {
            self.problem(format!("unknown host {name:?}"));
        }
        id
    }

    fn linked(&self, a: HostId, b: HostId) -> bool {
        self.model.links.iter().any(|l| (l.a, l.b) == (a, b) || (l.a, l.b) == (b, a))
    }

    fn problem(&mut self, message: String) {
        self.problem.get_or_insert(message);
    }
}

impl App {
    /// This application, also calling `action` at `at` (script order is by
    /// time; equal times keep the order they were added in).
    pub fn at(mut self, at: Duration, action: Action) -> App {
        let after = self.script.partition_point(|t| t.at <= at);
        self.script.insert(after, Timed { at, action });
        self
    }

    /// This application, reacting to the connection's establishment.
    pub fn on_connected(mut self, reactions: impl IntoIterator<Item = Reaction>) -> App {
        self.on_connected.extend(reactions);
        self
    }

    /// This application, reacting to the peer's FIN (end of stream).
    pub fn on_end_of_stream(mut self, reactions: impl IntoIterator<Item = Reaction>) -> App {
        self.on_end_of_stream.extend(reactions);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AllExpect;
    use crate::rng::Ppm;
    use crate::tcp::State;

    /// The builder's model of a scenario equals the model validation
    /// makes of the same scenario written as a file.
    #[test]
    fn builder_model_equals_the_loaded_file() {
        let file = r#"(
            name: "built", seed: 7, description: "a builder's world",
            tcp: (msl_ms: 1000, rto_min_ms: 200),
            hosts: [(name: "a"), (name: "b"), (name: "c")],
            links: [(between: ("a", "b"), delay_ms: 10, loss: 0.1), (between: ("c", "b"))],
            listeners: [(name: "server", host: "b", port: 80, on_end_of_stream: [Close])],
            connections: [
                (name: "client", host: "a", remote_host: "b", remote_port: 80,
                 script: [Send(at_ms: 5, bytes: 100), Connect(at_ms: 0), Close(at_ms: 5)],
                 on_connected: [Send(bytes: 5000)]),
                (name: "other", host: "c", remote_host: "b", remote_port: 80, script: [Connect(at_ms: 1)]),
            ],
            expect: (all_connections: (final_state: CLOSED)),
        )"#;
        let loaded = crate::scenario::load(file.as_bytes(), &[]).expect("a valid file");
        let tcp =
            TcpConfig { msl: Duration::from_millis(1000), rto_min: Duration::from_millis(200), ..TcpConfig::default() };
        let lossy = LinkParams { loss: Ppm::new(100_000).expect("a probability"), ..LinkParams::default() };
        let client = App::default()
            .at(Duration::from_millis(5), Action::Send(100))
            .at(Duration::ZERO, Action::Connect)
            .at(Duration::from_millis(5), Action::Close)
            .on_connected([Reaction::Send(5000)]);
        let built = Builder::new("built")
            .seed(7)
            .description("a builder's world")
            .tcp(tcp)
            .host("a")
            .host("b")
            .host("c")
            .link("a", "b", lossy)
            .link("c", "b", LinkParams::default())
            .listener("server", "b", 80, App::default().on_end_of_stream([Reaction::Close]))
            .connection("client", "a", ("b", 80), client)
            .connection("other", "c", ("b", 80), App::default().at(Duration::from_millis(1), Action::Connect))
            .expect(Expect {
                all_connections: Some(AllExpect { final_state: Some(State::Closed), ..AllExpect::default() }),
                ..Expect::default()
            })
            .build()
            .expect("a valid model");
        assert_eq!(built, loaded);
    }

    #[test]
    fn build_names_the_first_problem() {
        let unknown = Builder::new("x").host("a").link("a", "z", LinkParams::default()).build();
        assert_eq!(unknown, Err("unknown host \"z\"".to_string()));
        let unlinked = Builder::new("x").host("a").host("b").connection("c", "a", ("b", 80), App::default()).build();
        assert_eq!(unlinked, Err("connection \"c\": no link between \"a\" and \"b\"".to_string()));
        assert_eq!(Builder::new("x").build(), Err("expected at least one host".to_string()));
    }
}
