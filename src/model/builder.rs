//! [`Builder`]: a [`Model`] written in Rust instead of a file, a step at
//! a time, with the defaults a file gets from validation (hosts numbered
//! 10.0.0.1, 10.0.0.2, ...; one connection per entry; backlog 1; the
//! RFC's TCP settings; the default limits).
//!
//! The builder takes names (hosts, the ends of links and connections) as
//! given and resolves them in [`Builder::build`], which checks the model
//! by the rules a file obeys ([`super::rules`]: names, ports, routes, TCP
//! settings and link parameters, applications' sends, limits, the
//! `expect` block's endpoints) and returns every problem, each with the
//! field path a file would have. The TCP settings that deviate from an
//! RFC are refused unless [`Builder::allow_rfc_violations`] is given, as
//! a file's `allow_rfc_violations: true`. Typed values rule out only what
//! their types cannot hold (a negative delay, a probability above one); a
//! zero MSS, a zero duration or a duplicate name is a value like any
//! other, and `build` refuses it as a file's validation does. A model
//! built from the same description as a file equals the model that file
//! loads to (`builder_model_equals_the_loaded_file` in the tests).

use super::{Action, App, Connection, Expect, Host, HostId, Limits, Link, Listener, Model, Reaction, Timed, rules};
use crate::link::LinkParams;
use crate::tcp::TcpConfig;
use crate::time::{Duration, Instant};
use rules::Finding;

/// The first default host address, 10.0.0.1, as in files.
const FIRST_ADDR: u32 = 0x0a00_0001;

/// One problem [`Builder::build`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    /// The field path of the bad value, as a file would have it, such as
    /// `listeners[1].port` or `tcp.mss_bytes`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for BuildError {}

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
    /// The scenario so far, without its hosts, links and endpoints.
    model: Model,
    hosts: Vec<String>,
    /// Links by their ends' names.
    links: Vec<(String, String, LinkParams)>,
    listeners: Vec<ListenerEntry>,
    connections: Vec<ConnectionEntry>,
    /// Deviations from the RFCs are listed in the header instead of
    /// refused (a file's `allow_rfc_violations`).
    allow_rfc_violations: bool,
}

/// A listener as given, its host by name.
#[derive(Clone, Debug)]
struct ListenerEntry {
    name: String,
    host: String,
    port: u16,
    app: App,
}

/// A connection as given, its hosts by name.
#[derive(Clone, Debug)]
struct ConnectionEntry {
    name: String,
    host: String,
    remote: (String, u16),
    app: App,
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
        Builder {
            model,
            hosts: Vec::new(),
            links: Vec::new(),
            listeners: Vec::new(),
            connections: Vec::new(),
            allow_rfc_violations: false,
        }
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

    /// Accepts TCP settings that deviate from an RFC (an RTO maximum below
    /// 60 s, TIME_WAIT below 2×MSL, an ACK delay of 500 ms or more), as a
    /// file's `allow_rfc_violations: true` does: each is listed in the
    /// model's [`deviations`](Model::deviations), with the line a file
    /// gets. Without it, [`Builder::build`] refuses them.
    pub fn allow_rfc_violations(mut self) -> Builder {
        self.allow_rfc_violations = true;
        self
    }

    /// The limits of the run.
    pub fn limits(mut self, limits: Limits) -> Builder {
        self.model.limits = limits;
        self
    }

    /// A host with the next free address (10.0.0.1 for the first).
    pub fn host(mut self, name: &str) -> Builder {
        self.hosts.push(name.to_string());
        self
    }

    /// A link between hosts `a` and `b` with the same parameters in both
    /// directions.
    pub fn link(mut self, a: &str, b: &str, params: LinkParams) -> Builder {
        self.links.push((a.to_string(), b.to_string(), params));
        self
    }

    /// A listener called `name` on `host`:`port`, open from time zero; each
    /// connection it accepts runs `app` (script times count from its
    /// establishment).
    pub fn listener(mut self, name: &str, host: &str, port: u16, app: App) -> Builder {
        self.listeners.push(ListenerEntry { name: name.to_string(), host: host.to_string(), port, app });
        self
    }

    /// A connection called `name` from `host` to `remote` (host, port),
    /// run by `app` (give it a `Connect`).
    pub fn connection(mut self, name: &str, host: &str, remote: (&str, u16), app: App) -> Builder {
        let remote = (remote.0.to_string(), remote.1);
        self.connections.push(ConnectionEntry { name: name.to_string(), host: host.to_string(), remote, app });
        self
    }

    /// What the run must meet (a file's `expect` block).
    pub fn expect(mut self, expect: Expect) -> Builder {
        self.model.expect = Some(expect);
        self
    }

    /// The model, or every problem found, in the order a file lists its
    /// sections: a blank or repeated name, an endpoint named like a host,
    /// an unknown host, a link to itself or twice, link parameters a file
    /// refuses (a rate of 0, a queue below 44 bytes or without a rate,
    /// reordering without a delay, a lifetime of 0), two listeners on one
    /// port, a connection to its own host or without a link, port 0, TCP
    /// settings out of range (a zero duration, a timestamp tick outside
    /// 1 ms..1 s, an MSS, shift or buffer out of range, RTO bounds out of
    /// order, `time_wait` beside `linux_time_wait`), a deviation from an
    /// RFC without [`Builder::allow_rfc_violations`], a send of 0 bytes,
    /// a listener's script that connects, limits of 0, an expectation of
    /// an unknown endpoint.
    pub fn build(self) -> Result<Model, Vec<BuildError>> {
        let Builder { mut model, hosts, links, listeners, connections, allow_rfc_violations } = self;
        let mut errors = Errors(Vec::new());
        errors.check("name", rules::scenario_name(&model.name));
        let mut deviations = Vec::new();
        for (field, finding) in rules::config(&model.configs[0]) {
            let path = format!("tcp.{field}");
            match finding {
                Finding::Wrong(problem) => errors.add(path, problem),
                Finding::Deviation(what) if allow_rfc_violations => deviations.push(rules::allowed(&path, &what)),
                Finding::Deviation(what) => errors.add(path, rules::refused(&what)),
            }
        }
        errors.check("hosts", rules::some_hosts(hosts.len()));
        for (i, name) in hosts.iter().enumerate() {
            errors.check(format!("hosts[{i}].name"), rules::host_name(name));
            let earlier = hosts[..i].iter().map(String::as_str);
            errors.check(format!("hosts[{i}].name"), rules::unique_host_name(name, earlier));
            model.hosts.push(Host { name: name.clone(), addr: FIRST_ADDR + i as u32 });
        }
        // The first host of a name, as in a file.
        let host_id = |errors: &mut Errors, path: String, name: &str| -> Option<HostId> {
            let id = hosts.iter().position(|h| h == name).map(|i| i as HostId);
            if id.is_none() {
                errors.add(path, rules::unknown_host(name, &hosts));
            }
            id
        };
        for (i, (a, b, params)) in links.into_iter().enumerate() {
            let path = format!("links[{i}].between");
            let (ia, ib) = (host_id(&mut errors, path.clone(), &a), host_id(&mut errors, path.clone(), &b));
            for (field, problem) in rules::link(&params) {
                errors.add(format!("links[{i}].{field}"), problem);
            }
            if let (Some(ia), Some(ib)) = (ia, ib) {
                match rules::link_ends(&model.links, ia, ib, (&a, &b)) {
                    Some(problem) => errors.add(path, problem),
                    None => model.links.push(Link { a: ia, b: ib, ab: params, ba: params }),
                }
            }
        }
        let mut endpoints: Vec<String> = Vec::new();
        let mut endpoint_name =
            |errors: &mut Errors, path: String, name: &str| match rules::endpoint_name(name, &endpoints, &hosts) {
                Some(problem) => errors.add(path, problem),
                None => endpoints.push(name.to_string()),
            };
        for (i, l) in listeners.into_iter().enumerate() {
            let p = format!("listeners[{i}]");
            endpoint_name(&mut errors, format!("{p}.name"), &l.name);
            let host = host_id(&mut errors, format!("{p}.host"), &l.host);
            errors.check(format!("{p}.port"), rules::port(l.port));
            if let Some(h) = host {
                errors.check(format!("{p}.port"), rules::listener_place(&model.listeners, h, l.port, &l.host));
            }
            errors.app(&p, &l.app, false);
            model.listeners.push(Listener {
                name: l.name,
                host: host.unwrap_or(0),
                port: l.port,
                backlog: 1,
                listen_at: Instant::ZERO,
                close_at: None,
                iss: None,
                config: 0,
                app: l.app,
            });
        }
        for (i, c) in connections.into_iter().enumerate() {
            let p = format!("connections[{i}]");
            endpoint_name(&mut errors, format!("{p}.name"), &c.name);
            let host = host_id(&mut errors, format!("{p}.host"), &c.host);
            let remote = host_id(&mut errors, format!("{p}.remote_host"), &c.remote.0);
            if let (Some(h), Some(r)) = (host, remote) {
                let route = rules::connection_route(&model.links, h, r, (&c.host, &c.remote.0));
                errors.check(format!("{p}.remote_host"), route);
            }
            errors.check(format!("{p}.remote_port"), rules::port(c.remote.1));
            errors.app(&p, &c.app, true);
            model.connections.push(Connection {
                name: c.name,
                host: host.unwrap_or(0),
                host_span: 1,
                local_port: None,
                remote_host: remote.unwrap_or(0),
                remote_port: c.remote.1,
                count: 1,
                open_spread: Duration::ZERO,
                iss: None,
                config: 0,
                app: c.app,
                peer: None,
            });
        }
        errors.check("connections", rules::connection_total(model.connection_count(), model.limits.max_connections));
        for (field, problem) in rules::limits(&model.limits) {
            errors.add(format!("limits.{field}"), problem);
        }
        if let Some(expect) = &model.expect {
            let total = model.connection_numbers();
            for (i, e) in expect.endpoints.iter().enumerate() {
                let p = format!("expect.endpoints[{i}]");
                errors.check(format!("{p}.name"), rules::unknown_endpoint(&e.name, &endpoints));
                errors.check(format!("{p}.conn"), rules::connection_index(e.conn, total));
            }
        }
        if !errors.0.is_empty() {
            return Err(errors.0);
        }
        // Checked in the order written; run in time order, as a file's.
        let listener_apps = model.listeners.iter_mut().map(|l| &mut l.app);
        for app in listener_apps.chain(model.connections.iter_mut().map(|c| &mut c.app)) {
            app.script.sort_by_key(|t| t.at);
        }
        deviations.extend(rules::deviations_of(0, &model.configs[0]));
        model.deviations = deviations;
        Ok(model)
    }
}

/// The problems found so far, in the order found.
struct Errors(Vec<BuildError>);

impl Errors {
    fn add(&mut self, path: String, message: String) {
        self.0.push(BuildError { path, message });
    }

    fn check(&mut self, path: impl Into<String>, problem: Option<String>) {
        if let Some(message) = problem {
            self.add(path.into(), message);
        }
    }

    /// The problems of the application of the endpoint at `path`.
    fn app(&mut self, path: &str, app: &App, may_connect: bool) {
        for (field, message) in rules::app(app, may_connect) {
            self.add(format!("{path}.{field}"), message);
        }
    }
}

impl App {
    /// This application, also calling `action` at `at`. The script keeps
    /// the order the actions were added in, so that [`Builder::build`]
    /// names a problem at `script[i]` by that order, as a file names the
    /// index as written; `build` then orders it by time (equal times keep
    /// the order they were added in), as loading a file does. A model put
    /// together without the builder needs its scripts in time order:
    /// [`Simulation::from_model`](crate::simulation::Simulation::from_model)
    /// refuses one that is not.
    pub fn at(mut self, at: Duration, action: Action) -> App {
        self.script.push(Timed { at, action });
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

    /// Two hosts and a link: what every rejection below adds to.
    fn linked_pair() -> Builder {
        Builder::new("x").host("a").host("b").link("a", "b", LinkParams::default())
    }

    fn serve(b: Builder) -> Builder {
        b.listener("server", "b", 80, App::default())
    }

    /// The problems of `b`, as (path, message).
    fn problems(b: Builder) -> Vec<(String, String)> {
        b.build().expect_err("a rejected model").into_iter().map(|e| (e.path, e.message)).collect()
    }

    fn one(path: &str, message: &str) -> Vec<(String, String)> {
        vec![(path.to_string(), message.to_string())]
    }

    #[test]
    fn unknown_hosts_missing_links_and_no_hosts_are_rejected() {
        let unknown = Builder::new("x").host("a").link("a", "z", LinkParams::default());
        assert_eq!(problems(unknown), one("links[0].between", "unknown host \"z\"; hosts are \"a\""));
        let unlinked = Builder::new("x").host("a").host("b").connection("c", "a", ("b", 80), App::default());
        assert_eq!(
            problems(unlinked),
            one("connections[0].remote_host", "no link between \"a\" and \"b\"; add one to `links`")
        );
        assert_eq!(problems(Builder::new("x")), one("hosts", "expected at least one host"));
    }

    #[test]
    fn duplicate_endpoint_names_are_rejected() {
        let b = serve(linked_pair()).connection("server", "a", ("b", 80), App::default());
        assert_eq!(problems(b), one("connections[0].name", "duplicate endpoint name \"server\""));
    }

    #[test]
    fn an_endpoint_named_like_a_host_is_rejected() {
        let b = linked_pair().listener("b", "b", 80, App::default());
        assert_eq!(problems(b), one("listeners[0].name", "\"b\" is also a host name; give the endpoint another name"));
    }

    #[test]
    fn duplicate_host_names_are_rejected() {
        let b = Builder::new("x").host("a").host("a");
        assert_eq!(problems(b), one("hosts[1].name", "duplicate host name \"a\""));
    }

    #[test]
    fn two_listeners_on_one_port_are_rejected() {
        let b = serve(linked_pair()).listener("other", "b", 80, App::default());
        assert_eq!(problems(b), one("listeners[1].port", "host \"b\" already listens on port 80"));
    }

    #[test]
    fn a_connection_to_its_own_host_is_rejected() {
        let b = serve(linked_pair()).connection("client", "b", ("b", 80), App::default());
        assert_eq!(
            problems(b),
            one("connections[0].remote_host", "expected another host than `host` (connections cross a link)")
        );
    }

    #[test]
    fn tcp_settings_out_of_range_are_rejected() {
        let with = |tcp: TcpConfig| problems(linked_pair().tcp(tcp));
        assert_eq!(
            with(TcpConfig { mss: 0, ..TcpConfig::default() }),
            one("tcp.mss_bytes", "expected an MSS in 1..=65495 bytes, found 0")
        );
        let crossed = TcpConfig {
            rto_min: Duration::from_secs(2),
            rto_max: Duration::from_secs(1),
            rto_initial: Duration::from_secs(1),
            ..TcpConfig::default()
        };
        // An RTO maximum below 60 s needs consent too; given, the order is left.
        assert_eq!(
            problems(linked_pair().tcp(crossed).allow_rfc_violations()),
            one("tcp.rto_max_ms", "expected rto_max_ms >= rto_min_ms (2000 ms)")
        );
        assert_eq!(
            with(TcpConfig { recv_buffer: 0, ..TcpConfig::default() }),
            one("tcp.recv_buffer_bytes", "expected 1..=1073741824 bytes (1 GiB, RFC 7323 §2.3), found 0")
        );
        assert_eq!(
            with(TcpConfig { recv_buffer: 65536, window_scale: None, ..TcpConfig::default() }),
            one(
                "tcp.recv_buffer_bytes",
                "65536 bytes needs window_scale: without it a window cannot exceed 65535 bytes (RFC 9293 §3.1, RFC 7323 §2)"
            )
        );
        let scaled = TcpConfig { recv_buffer: 65536, window_scale: Some(1), ..TcpConfig::default() };
        assert!(linked_pair().tcp(scaled).build().is_ok());
    }

    #[test]
    fn an_expectation_of_an_unknown_endpoint_is_rejected() {
        let expect = Expect {
            endpoints: vec![crate::model::EndpointExpect { name: "nobody".into(), ..Default::default() }],
            ..Expect::default()
        };
        assert_eq!(
            problems(serve(linked_pair()).expect(expect)),
            one("expect.endpoints[0].name", "unknown endpoint \"nobody\"; endpoints are \"server\"")
        );
    }

    #[test]
    fn applications_that_send_nothing_or_a_listener_that_connects_are_rejected() {
        let listener = App::default().at(Duration::ZERO, Action::Connect).on_end_of_stream([Reaction::Send(0)]);
        let client = App::default().at(Duration::ZERO, Action::Send(0));
        let b = linked_pair().listener("server", "b", 80, listener).connection("client", "a", ("b", 80), client);
        let bytes = "expected 1..=1099511627776 bytes, found 0";
        assert_eq!(
            problems(b),
            [
                (
                    "listeners[0].script[0]",
                    "a listener's connections are already open; Listen and Connect do not apply"
                ),
                ("listeners[0].on_end_of_stream[0].bytes", bytes),
                ("connections[0].script[0].bytes", bytes),
            ]
            .map(|(p, m)| (p.to_string(), m.to_string()))
        );
    }

    #[test]
    fn limits_of_zero_or_too_many_connections_are_rejected() {
        let zero = Limits { max_events: 0, ..Limits::default() };
        assert_eq!(problems(linked_pair().limits(zero)), one("limits.max_events", "expected at least 1"));
        let one_connection = Limits { max_connections: 1, ..Limits::default() };
        let b = serve(linked_pair())
            .limits(one_connection)
            .connection("c1", "a", ("b", 80), App::default())
            .connection("c2", "a", ("b", 80), App::default());
        assert_eq!(
            problems(b),
            one(
                "connections",
                "2 connections exceed limits.max_connections (1); raise it in `limits` if the machine has the memory (about 1 KiB per connection)"
            )
        );
    }

    /// A file's verdict on two linked hosts with `tcp` as its `tcp`
    /// block's fields and `link` as the link's, and the builder's on the
    /// same scenario: both refuse, the builder naming at least every
    /// problem the file names (a whole configuration is checked where a
    /// file checks only the fields a block sets), or both accept with the
    /// same model, deviations and all. Returns whether they refused.
    fn same_verdict(tcp: &str, link: &str, allow: bool, config: TcpConfig, params: LinkParams) -> bool {
        let file = format!(
            r#"(name: "x", allow_rfc_violations: {allow}, tcp: ({tcp}),
                hosts: [(name: "a"), (name: "b")], links: [(between: ("a", "b"), {link})])"#
        );
        let loaded = crate::scenario::load(file.as_bytes(), &[])
            .map_err(|errors| errors.into_iter().map(|e| e.message).collect::<Vec<_>>());
        let builder = linked_pair_with(params).tcp(config);
        let built = if allow { builder.allow_rfc_violations() } else { builder }
            .build()
            .map_err(|errors| errors.into_iter().map(|e| format!("`{}`: {}", e.path, e.message)).collect::<Vec<_>>());
        match (loaded, built) {
            (Ok(loaded), Ok(built)) => {
                assert_eq!(built, loaded);
                false
            }
            (Err(file), Err(builder)) => {
                for problem in &file {
                    assert!(builder.contains(problem), "the builder missed {problem:?}: {builder:?}");
                }
                true
            }
            (loaded, built) => panic!("the file gave {loaded:?}, the builder {built:?}"),
        }
    }

    fn linked_pair_with(params: LinkParams) -> Builder {
        Builder::new("x").host("a").host("b").link("a", "b", params)
    }

    /// The file's verdict and the builder's on a TCP setting, `field: ms`
    /// in the file and `set` on the builder's configuration.
    fn same_tcp_verdict(field: &str, ms: u64, allow: bool, set: SetDuration) -> bool {
        let mut config = TcpConfig::default();
        set(&mut config, Duration::from_millis(ms));
        same_verdict(&format!("{field}: {ms}"), "delay_ms: 1", allow, config, one_ms_link())
    }

    /// Sets one duration of a configuration.
    type SetDuration = fn(&mut TcpConfig, Duration);

    fn one_ms_link() -> LinkParams {
        LinkParams { delay: Duration::from_millis(1), ..LinkParams::default() }
    }

    #[test]
    fn every_duration_is_positive_in_a_built_model_as_in_a_file() {
        let zero: [(&str, SetDuration); 8] = [
            ("msl_ms", |c, d| c.msl = d),
            ("rto_initial_ms", |c, d| c.rto_initial = d),
            ("rto_min_ms", |c, d| c.rto_min = d),
            ("rto_max_ms", |c, d| c.rto_max = d),
            ("time_wait_ms", |c, d| c.time_wait = Some(d)),
            ("user_timeout_ms", |c, d| c.user_timeout = Some(d)),
            ("delayed_ack_ms", |c, d| c.delayed_ack = Some(d)),
            ("linux_fin_wait_2_timeout_ms", |c, d| c.linux_fin_wait_2_timeout = Some(d)),
        ];
        for (field, set) in zero {
            assert!(same_tcp_verdict(field, 0, true, set), "{field}: 0 accepted");
        }
        let config = TcpConfig { msl: Duration::ZERO, ..TcpConfig::default() };
        assert_eq!(
            problems(linked_pair().tcp(config)),
            one("tcp.msl_ms", "expected a positive duration in milliseconds, found 0")
        );
    }

    #[test]
    fn a_timestamp_tick_is_1_ms_to_1_s_in_a_built_model_as_in_a_file() {
        let tick = |c: &mut TcpConfig, d: Duration| c.ts_tick = d;
        assert!(same_tcp_verdict("ts_tick_ms", 2000, false, tick));
        assert!(!same_tcp_verdict("ts_tick_ms", 1000, false, tick));
        let half = TcpConfig { ts_tick: Duration::from_micros(500), ..TcpConfig::default() };
        assert!(same_verdict("ts_tick_ms: 0.5", "delay_ms: 1", false, half, one_ms_link()));
        assert_eq!(
            problems(linked_pair().tcp(TcpConfig { ts_tick: Duration::from_secs(2), ..TcpConfig::default() })),
            one("tcp.ts_tick_ms", "expected at most 1000 ms (RFC 7323 §5.4: 1 ms to 1 s), found 2000")
        );
    }

    #[test]
    fn rfc_deviations_need_consent_in_a_built_model_as_in_a_file() {
        let consent: [(&str, u64, SetDuration); 3] = [
            ("rto_max_ms", 30_000, |c, d| c.rto_max = d),
            ("time_wait_ms", 1000, |c, d| c.time_wait = Some(d)),
            ("delayed_ack_ms", 500, |c, d| c.delayed_ack = Some(d)),
        ];
        for (field, ms, set) in consent {
            assert!(same_tcp_verdict(field, ms, false, set), "{field}: {ms} without consent");
            assert!(!same_tcp_verdict(field, ms, true, set), "{field}: {ms} with consent");
        }
        let short = TcpConfig { rto_max: Duration::from_secs(30), ..TcpConfig::default() };
        assert_eq!(
            problems(linked_pair().tcp(short.clone())),
            one(
                "tcp.rto_max_ms",
                "RFC 6298 (2.5) requires an RTO maximum of at least 60 s, found 30000 ms; set `allow_rfc_violations: true` to run it anyway"
            )
        );
        let allowed = linked_pair().tcp(short).allow_rfc_violations().build().expect("consent given");
        assert_eq!(
            allowed.deviations,
            [
                "tcp.rto_max_ms: RFC 6298 (2.5) requires an RTO maximum of at least 60 s, found 30000 ms (allow_rfc_violations)"
            ]
        );
        // linux_time_wait fixes TIME_WAIT: no consent makes both right.
        let both =
            TcpConfig { linux_time_wait: true, time_wait: Some(Duration::from_secs(240)), ..TcpConfig::default() };
        for allow in [false, true] {
            let tcp = "linux_time_wait: true, time_wait_ms: 240000";
            assert!(same_verdict(tcp, "delay_ms: 1", allow, both.clone(), one_ms_link()));
        }
    }

    #[test]
    fn link_rules_hold_for_a_built_model_as_for_a_file() {
        let d = one_ms_link();
        let tcp = TcpConfig::default();
        let reorder = Ppm::new(100_000).expect("a probability");
        let cases = [
            ("rate_bps: 0", LinkParams { rate_bps: Some(0), ..d }),
            (
                "rate_bps: 1000000, queue_bytes: 43",
                LinkParams { rate_bps: Some(1_000_000), queue_bytes: Some(43), ..d },
            ),
            ("queue_bytes: 1000", LinkParams { queue_bytes: Some(1000), ..d }),
            ("reorder: 0.1", LinkParams { reorder, ..d }),
            ("lifetime_ms: 0", LinkParams { lifetime: Some(Duration::ZERO), ..d }),
        ];
        for (link, params) in cases {
            assert!(same_verdict("", &format!("delay_ms: 1, {link}"), false, tcp.clone(), params), "{link} accepted");
        }
        let fine = LinkParams { rate_bps: Some(1_000_000), queue_bytes: Some(44), ..d };
        assert!(!same_verdict("", "delay_ms: 1, rate_bps: 1000000, queue_bytes: 44", false, tcp, fine));
        assert_eq!(
            problems(linked_pair_with(LinkParams { queue_bytes: Some(1000), ..d })),
            one("links[0].queue_bytes", "a queue needs a rate_bps (without a rate, nothing ever waits)")
        );
    }

    /// A problem in a script is named by the index the action was added
    /// at, as a file names the index it was written at, though the model
    /// runs the script in time order.
    #[test]
    fn a_script_problem_names_the_action_as_added() {
        let late_send =
            App::default().at(Duration::from_millis(5), Action::Send(0)).at(Duration::ZERO, Action::Connect);
        let b = serve(linked_pair()).connection("client", "a", ("b", 80), late_send);
        assert_eq!(problems(b), one("connections[0].script[0].bytes", "expected 1..=1099511627776 bytes, found 0"));
        let file = r#"(name: "x", hosts: [(name: "a"), (name: "b")], links: [(between: ("a", "b"))],
            listeners: [(name: "server", host: "b", port: 80)],
            connections: [(name: "client", host: "a", remote_host: "b", remote_port: 80,
                           script: [Send(at_ms: 5, bytes: 0), Connect(at_ms: 0)])])"#;
        let errors = crate::scenario::load(file.as_bytes(), &[]).expect_err("a send of nothing");
        assert_eq!(errors[0].message, "`connections[0].script[0].bytes`: expected 1..=1099511627776 bytes, found 0");
        let in_order = App::default().at(Duration::from_millis(5), Action::Close).at(Duration::ZERO, Action::Connect);
        let built = serve(linked_pair()).connection("client", "a", ("b", 80), in_order).build().expect("valid");
        let actions: Vec<Action> = built.connections[0].app.script.iter().map(|t| t.action).collect();
        assert_eq!(actions, [Action::Connect, Action::Close]);
    }

    /// Every problem comes back, in file order, not just the first.
    #[test]
    fn build_returns_every_problem_with_its_path() {
        let b = Builder::new(" ").host("a").host("a#1").link("a", "a", LinkParams::default()).listener(
            "a",
            "a",
            0,
            App::default(),
        );
        let errors = b.build().expect_err("a rejected model");
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "name: expected a non-empty scenario name",
                "hosts[1].name: expected a non-empty host name without `#`",
                "links[0].between: expected two different hosts",
                "listeners[0].name: \"a\" is also a host name; give the endpoint another name",
                "listeners[0].port: expected a port in 1..=65535, found 0",
            ]
        );
    }
}
