//! One way to run a scenario: load it (or take a [`Model`]), run it, and
//! get back what every command reports: how the run ended, the `expect`
//! checks, the digest, the summary and the finished world itself.
//!
//! Every command (`run`, `test`, `sweep`, `explore`, `shrink`) and the
//! determinism check build their worlds here, so what a world keeps beside
//! the run (recorded link decisions, phase times, a perturbation) is
//! chosen in one place: [`Simulation`]'s options. Like the rest of the
//! library it does no I/O: the caller reads the file and hands over its
//! bytes.
//!
//! ```
//! use tcpsim::simulation::Simulation;
//! use tcpsim::trace::NullSink;
//! use tcpsim::world::Outcome;
//!
//! let file = br#"(
//!     name: "hello", seed: 1,
//!     hosts: [(name: "a"), (name: "b")],
//!     links: [(between: ("a", "b"), delay_ms: 5)],
//!     listeners: [(name: "server", host: "b", port: 80, on_end_of_stream: [Close])],
//!     connections: [(name: "client", host: "a", remote_host: "b", remote_port: 80,
//!                    script: [Connect(at_ms: 0)], on_connected: [Send(bytes: 1000), Close])],
//!     expect: (all_connections: (final_state: CLOSED)),
//! )"#;
//! let sim = Simulation::load(file, &[]).expect("a valid scenario");
//! let finished = sim.run(&mut NullSink);
//! // Each check that failed says what was expected and what happened.
//! for check in finished.failed_checks() {
//!     eprintln!("{}", check.describe());
//! }
//! assert!(finished.passed()); // completed, and every check held
//! // Endpoints are found by connection number and name.
//! let conn = 0;
//! let server = finished.world.endpoint(conn, "server").expect("the accepted connection");
//! assert_eq!(server.tcp.stats().bytes_delivered, 1000);
//! println!("digest {}", finished.digest());
//!
//! // A limit ends a run early: the outcome names it, and it has not passed.
//! let mut short = Simulation::load(file, &[]).expect("a valid scenario");
//! short.set("limits.max_events", "3").expect("a valid limit");
//! let stopped = short.run(&mut NullSink);
//! assert_eq!(stopped.outcome, Outcome::EventLimit);
//! assert!(!stopped.passed());
//! ```
//!
//! The sink gets the events only. [`crate::trace::TextWriter`] and
//! [`crate::trace::JsonlWriter`] print them in `tcpsim run`'s formats, but
//! the header, path summary, open endpoints, checks, summary and digest
//! that `tcpsim run` writes around them are the caller's to print (see
//! [`crate::report`], [`Finished::summary`], [`Finished::digest`]).

use crate::expect::{self, Check};
use crate::model::{BuildError, Model, rules};
use crate::report::Summary;
use crate::scenario::{self, LoadError, Override};
use crate::trace::TraceSink;
use crate::world::{Histories, Observe, Outcome, Perturbation, World};
use std::sync::atomic::AtomicBool;

/// What a world keeps beside its run, and how it is built. None of it
/// changes the digest, and only `measure_records` adds to the trace (its
/// records are never in the digest). Each option is set by the
/// [`Simulation`] method of its own name, and says what the world does:
/// `keep_histories`, `keep_phase_times`, `record_fates`, or how it is
/// built: `perturbation`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Which endpoints keep their full history (state path with times,
    /// sends) besides those the `expect` block's checks read, which are
    /// always kept. A caller that reads more (a path
    /// summary of every endpoint, explore's outcomes) asks for more.
    pub keep_histories: Histories,
    /// Keep every random link decision ([`World::recorded_fates`]), for
    /// replay files and shrinking.
    pub record_fates: bool,
    /// Keep when each endpoint's phases began (sweep measures).
    pub keep_phase_times: bool,
    /// Add the measurement records to the trace: `rtt` of every endpoint,
    /// `flight`, `queue`, and `flight` on `congestion` (never in the
    /// digest, nor counted against `max_trace_records`).
    pub measure_records: bool,
    /// Build the world with internal changes that must not matter (the
    /// determinism check's twin run).
    pub perturbation: Option<Perturbation>,
}

/// A scenario ready to run: its model, the file it came from (with the
/// overrides applied) when it came from a file, and the options of the
/// world it runs in.
#[derive(Clone, Debug)]
pub struct Simulation {
    model: Model,
    source: Option<Source>,
    options: Options,
}

/// A loaded simulation's file: its bytes, the overrides applied to them
/// (in order) and the text they make. The model is always this text's.
#[derive(Clone, Debug)]
struct Source {
    bytes: Vec<u8>,
    overrides: Vec<Override>,
    text: String,
}

impl Simulation {
    /// Loads a simulation file's bytes with `overrides` (`--set`) applied;
    /// every error in the file, with its position, on bad input.
    pub fn load(bytes: &[u8], overrides: &[Override]) -> Result<Simulation, Vec<LoadError>> {
        let model = scenario::load(bytes, overrides)?;
        let text = scenario::source_text(bytes).and_then(|t| scenario::with_overrides(t, overrides))?;
        let source = Source { bytes: bytes.to_vec(), overrides: overrides.to_vec(), text };
        Ok(Simulation { model, source: Some(source), options: Options::default() })
    }

    /// A simulation of a model built in Rust or already loaded, once it
    /// obeys the rules every model obeys: those a file and the
    /// [`Builder`](crate::model::Builder) check, and that every index
    /// (host, configuration, connection number) names something. A
    /// model's fields are public, so one edited after it was built is
    /// checked again here rather than trusted; every problem comes back
    /// with the model's field path (`connections[0].host`). The
    /// deviations from an RFC are the writer's to admit and are not
    /// checked again.
    pub fn from_model(model: Model) -> Result<Simulation, Vec<BuildError>> {
        let problems = rules::model(&model);
        if !problems.is_empty() {
            return Err(problems.into_iter().map(|(path, message)| BuildError { path, message }).collect());
        }
        Ok(Simulation { model, source: None, options: Options::default() })
    }

    /// A simulation of a model this crate loaded or built, and changed
    /// only in ways the rules allow (a fault added, randomness turned
    /// off); a model that breaks a rule is a defect here, so it panics
    /// naming every problem.
    pub(crate) fn from_valid_model(model: Model) -> Simulation {
        Simulation::from_model(model).unwrap_or_else(|problems| {
            let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
            panic!("a model that breaks the model rules: {}", shown.join("; "))
        })
    }

    /// The model the world is built from.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Sets the field at `path` (a `--set` path, such as
    /// `limits.max_events`) to `value` (RON text) in the text and the
    /// model alike, as loading the file with this override last would.
    /// Every error on bad input, as [`Simulation::load`] gives them; an
    /// error too for a model built in Rust, which has no text to set a
    /// field in (change the model before [`Simulation::from_model`]).
    pub fn set(&mut self, path: &str, value: &str) -> Result<(), Vec<LoadError>> {
        let outside = |message: String| vec![LoadError { line: 0, column: 0, message }];
        let Some(source) = &self.source else {
            return Err(outside(format!("`{path}`: a model built in Rust has no file text to set it in")));
        };
        let mut overrides = source.overrides.clone();
        overrides.push(Override::parse(&format!("{path}={value}")).map_err(outside)?);
        let loaded = Simulation::load(&source.bytes, &overrides)?;
        (self.model, self.source) = (loaded.model, loaded.source);
        Ok(())
    }

    /// The file's text with the overrides applied (those of
    /// [`Simulation::set`] too); `None` for a model built in Rust.
    pub fn text(&self) -> Option<&str> {
        self.source.as_ref().map(|s| s.text.as_str())
    }

    /// The options the world is built with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// This simulation, keeping the full history of `histories` besides
    /// the endpoints the `expect` block names; the other options stay as
    /// they are.
    pub fn keep_histories(mut self, histories: Histories) -> Simulation {
        self.options.keep_histories = histories;
        self
    }

    /// This simulation, keeping every random link decision of the run
    /// (`true`) or not; the other options stay as they are.
    pub fn record_fates(mut self, on: bool) -> Simulation {
        self.options.record_fates = on;
        self
    }

    /// This simulation, keeping when each endpoint's phases began (`true`)
    /// or not; the other options stay as they are.
    pub fn keep_phase_times(mut self, on: bool) -> Simulation {
        self.options.keep_phase_times = on;
        self
    }

    /// This simulation, adding the measurement records to its trace
    /// (`true`) or not ([`Options::measure_records`]); the other options
    /// stay as they are.
    pub fn measure_records(mut self, on: bool) -> Simulation {
        self.options.measure_records = on;
        self
    }

    /// This simulation, built with `perturbation` (`None`: as usual); the
    /// other options stay as they are.
    pub fn perturbation(mut self, perturbation: Option<Perturbation>) -> Simulation {
        self.options.perturbation = perturbation;
        self
    }

    /// The world at time zero, built with the options; for callers that
    /// step it themselves (the determinism check, `examples/close_paths.rs`).
    /// The one way to a [`World`] outside `world`.
    pub fn into_world(self) -> World {
        // A simulation checks its `expect` block, so it keeps what those
        // checks read, plus what the options ask for.
        let checked = Observe::for_checks(&self.model);
        let observe = Observe {
            keep_histories: self.options.keep_histories.union(checked.keep_histories),
            record_fates: self.options.record_fates,
            keep_phase_times: self.options.keep_phase_times,
            measure_records: self.options.measure_records,
        };
        World::new(self.model, &observe, self.options.perturbation.unwrap_or_default())
    }

    /// Runs to the end (or a limit), every event to `sink`, and checks the
    /// `expect` block.
    pub fn run(self, sink: &mut dyn TraceSink) -> Finished {
        self.run_until(sink, &AtomicBool::new(false))
    }

    /// As [`Simulation::run`], also stopping when `stop` is raised (Ctrl-C,
    /// a worker pool's stop flag).
    pub fn run_until(self, sink: &mut dyn TraceSink, stop: &AtomicBool) -> Finished {
        let mut world = self.into_world();
        let outcome = world.run_until(sink, stop);
        Finished::of(world, outcome)
    }
}

/// A run that has ended: how, what its expectations came to, and the
/// world as it was left (for pictures, captures, replay files, measures).
pub struct Finished {
    /// How the run ended.
    pub outcome: Outcome,
    /// The `expect` block's checks, in file order (empty without one).
    pub checks: Vec<Check>,
    /// The world after the run.
    pub world: World,
}

impl Finished {
    /// A world whose run ended with `outcome`, its `expect` block checked
    /// (for a caller that stepped the world itself).
    pub fn of(world: World, outcome: Outcome) -> Finished {
        let checks = match &world.model().expect {
            Some(e) => expect::check(&world, e),
            None => Vec::new(),
        };
        Finished { outcome, checks, world }
    }

    /// The digest of every trace event (32 hex digits).
    pub fn digest(&self) -> String {
        self.world.digest()
    }

    /// The checks that failed.
    pub fn failed_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }

    /// The run completed and every expectation held.
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Completed && self.checks.iter().all(|c| c.ok)
    }

    /// The summary that ends a trace (text line or JSON record).
    pub fn summary(&self) -> Summary {
        Summary::new(&self.world, self.outcome, &self.checks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, App, Builder, Reaction};
    use crate::trace::{NullSink, Recorder};
    use crate::world::Perturbation;

    fn model() -> Model {
        let client = App::default()
            .at(crate::time::Duration::ZERO, Action::Connect)
            .on_connected([Reaction::Send(3000), Reaction::Close]);
        Builder::new("sim")
            .seed(3)
            .host("a")
            .host("b")
            .link("a", "b", crate::link::LinkParams::default())
            .listener("server", "b", 80, App::default().on_end_of_stream([Reaction::Close]))
            .connection("client", "a", ("b", 80), client)
            .build()
            .expect("a valid model")
    }

    /// What a world keeps beside the run, and how it is built, never
    /// changes the run.
    #[test]
    fn options_do_not_change_the_digest() {
        let plain = Simulation::from_model(model()).expect("a valid model").run(&mut NullSink);
        assert_eq!(plain.outcome, Outcome::Completed);
        let perturbation =
            Some(Perturbation { hash_seed: 5, spare_packet_slots: 3, ballast_bytes: 64, prefetch_always: true });
        let kept = Simulation::from_model(model())
            .expect("a valid model")
            .record_fates(true)
            .keep_phase_times(true)
            .perturbation(perturbation)
            .run(&mut NullSink);
        assert_eq!(kept.digest(), plain.digest());
        assert!(kept.world.endpoints().all(|e| e.times.is_some()));
        assert!(plain.world.endpoints().all(|e| e.times.is_none()));
    }

    /// Each setter changes its own option, on or off, and leaves the
    /// others as they are.
    #[test]
    fn option_setters_compose() {
        let perturbation =
            Some(Perturbation { hash_seed: 1, spare_packet_slots: 2, ballast_bytes: 3, prefetch_always: true });
        let sim = Simulation::from_model(model())
            .expect("a valid model")
            .record_fates(true)
            .keep_phase_times(true)
            .perturbation(perturbation);
        let sim = sim.keep_histories(Histories::All);
        let all = Options {
            keep_histories: Histories::All,
            record_fates: true,
            keep_phase_times: true,
            measure_records: false,
            perturbation,
        };
        assert_eq!(sim.options(), &all);
        let sim = sim.record_fates(false).perturbation(None).keep_histories(Histories::None);
        assert_eq!(sim.options(), &Options { keep_phase_times: true, ..Options::default() });
        assert_eq!(sim.keep_phase_times(false).options(), &Options::default());
    }

    /// A simulation keeps the histories its `expect` block reads, and
    /// every other one only when asked, however few connections it has.
    #[test]
    fn histories_are_kept_for_the_checks_and_when_asked() {
        let file = br#"(
            name: "h", seed: 1,
            hosts: [(name: "a"), (name: "b")],
            links: [(between: ("a", "b"), delay_ms: 5)],
            listeners: [(name: "server", host: "b", port: 80, on_end_of_stream: [Close])],
            connections: [(name: "client", host: "a", remote_host: "b", remote_port: 80,
                           script: [Connect(at_ms: 0)], on_connected: [Close])],
            expect: (endpoints: [(name: "client", path: [CLOSED, SYN_SENT, ESTABLISHED, FIN_WAIT_1,
                                                         TIME_WAIT, CLOSED])]),
        )"#;
        let sim = Simulation::load(file, &[]).expect("a valid file");
        let kept = |f: &Finished| -> Vec<(String, bool)> {
            f.world.endpoints().map(|e| (e.name.to_string(), e.log.keeps_history())).collect()
        };
        let checked = sim.clone().run(&mut NullSink);
        assert!(checked.passed(), "{:?}", checked.checks);
        assert_eq!(kept(&checked), [("client".to_string(), true), ("server".to_string(), false)]);
        let all = sim.keep_histories(Histories::All).run(&mut NullSink);
        assert_eq!(kept(&all), [("client".to_string(), true), ("server".to_string(), true)]);
        assert_eq!(all.digest(), checked.digest());
    }

    /// A simulation keeps exactly the histories its checks read, by
    /// connection and name: none for checks of states visited and
    /// counters; with a `path` check of the server of connection 2 (an
    /// endpoint its listener spawned, whose connection is known only once
    /// it accepts one) and a `sent` check of the client of connection 1,
    /// those two endpoints' and no other's.
    #[test]
    fn histories_are_kept_for_the_endpoints_whose_checks_read_them() {
        let file = |expect: &str| {
            format!(
                r#"(
                name: "h", seed: 1,
                hosts: [(name: "a"), (name: "b")],
                links: [(between: ("a", "b"), delay_ms: 5)],
                listeners: [(name: "server", host: "b", port: 80, backlog: 3, on_end_of_stream: [Close])],
                connections: [(name: "client", host: "a", remote_host: "b", remote_port: 80, count: 3,
                               script: [Connect(at_ms: 0)], on_connected: [Send(bytes: 100), Close])],
                expect: (endpoints: [{expect}]),
            )"#
            )
        };
        let kept = |expect: &str| -> Vec<(u32, String)> {
            let finished = Simulation::load(file(expect).as_bytes(), &[]).expect("a valid file").run(&mut NullSink);
            assert!(finished.passed(), "{:?}", finished.checks);
            finished.world.endpoints().filter(|e| e.log.keeps_history()).map(|e| (e.conn, e.name.to_string())).collect()
        };
        let counts = r#"(name: "client", conn: 1, visits: [ESTABLISHED], bytes_delivered: 0),
                        (name: "server", conn: 2, final_state: CLOSED, bytes_delivered: 100)"#;
        assert_eq!(kept(counts), []);
        let reads = r#"(name: "client", conn: 1, visits: [ESTABLISHED], sent: [(flags: "RST", at_ms: [])]),
                       (name: "server", conn: 2, path: [CLOSED, LISTEN, SYN_RECEIVED, ESTABLISHED, CLOSE_WAIT,
                                                        LAST_ACK, CLOSED]),
                       (name: "server", conn: 0, visits: [CLOSE_WAIT])"#;
        assert_eq!(kept(reads), [(1, "client".to_string()), (2, "server".to_string())]);
    }

    /// The event and trace-record limits stop a run when their counts
    /// reach them, and the run's statistics report the same counts.
    #[test]
    fn limits_stop_on_their_counts_and_the_stats_report_them() {
        use crate::model::Limits;
        let limited = |limits: Limits| {
            let finished = Simulation::from_valid_model(Model { limits, ..model() }).run(&mut NullSink);
            (finished.outcome, finished.world.stats().clone())
        };
        let (outcome, stats) = limited(Limits { max_events: 4, ..Limits::default() });
        assert_eq!((outcome, stats.events), (Outcome::EventLimit, 4));
        let (outcome, stats) = limited(Limits { max_trace_records: 10, ..Limits::default() });
        assert_eq!(outcome, Outcome::TraceLimit);
        // Checked before each event: the step that passed the limit ends.
        assert!(stats.trace_records >= 10, "{stats:?}");
        let mut recorder = Recorder::default();
        let finished = Simulation::from_valid_model(Model {
            limits: Limits { max_trace_records: 10, ..Limits::default() },
            ..model()
        })
        .run(&mut recorder);
        assert_eq!(finished.world.stats().trace_records, recorder.events.len() as u64);
    }

    /// A field set after loading changes the model and the text alike, as
    /// an override given at load time does; a model built in Rust has no
    /// text to set it in.
    #[test]
    fn set_changes_the_model_and_the_text_alike() {
        let file = br#"(name: "f", hosts: [(name: "a")], limits: (max_events: 5000))"#;
        let mut sim = Simulation::load(file, &[]).expect("a valid file");
        sim.set("limits.max_time_ms", "1500.5").expect("a valid value");
        sim.set("limits.max_events", "77").expect("a valid value");
        let at_load = [
            Override { path: "limits.max_time_ms".into(), value: "1500.5".into() },
            Override { path: "limits.max_events".into(), value: "77".into() },
        ];
        let loaded = Simulation::load(file, &at_load).expect("a valid file");
        assert_eq!(sim.model(), loaded.model());
        assert_eq!(sim.text(), loaded.text());
        assert_eq!(sim.model().limits.max_events, 77);
        let reloaded = Simulation::load(sim.text().expect("from a file").as_bytes(), &[]).expect("valid text");
        assert_eq!(reloaded.model(), sim.model());

        let errors = sim.set("limits.max_events", "0").expect_err("at least 1");
        assert!(errors[0].message.contains("expected at least 1"), "{errors:?}");
        assert_eq!(sim.model().limits.max_events, 77, "a rejected value changes nothing");
        let errors = Simulation::from_model(model()).expect("a valid model").set("seed", "2").expect_err("no text");
        assert!(errors[0].message.contains("has no file text"), "{errors:?}");
    }

    /// A loaded file keeps its text with the overrides applied, and runs
    /// with the checks of its `expect` block.
    #[test]
    fn a_loaded_file_keeps_its_overridden_text_and_checks() {
        let file = br#"(name: "f", hosts: [(name: "a")], expect: (drops: 0))"#;
        let seed = Override { path: "seed".into(), value: "9".into() };
        let sim = Simulation::load(file, &[seed]).expect("a valid file");
        assert_eq!(sim.model().seed, 9);
        assert!(sim.text().expect("from a file").contains("seed: 9"));
        let finished = sim.run(&mut Recorder::default());
        assert_eq!(finished.checks.len(), 1);
        assert!(finished.passed());
        assert_eq!(finished.summary().digest, finished.digest());
    }

    /// A model's fields are public: one edited after it was built to name
    /// a host, a configuration or a connection that does not exist is
    /// refused with the paths of what it broke, not run into a panic.
    #[test]
    fn a_model_edited_into_nonsense_is_refused_with_its_paths() {
        let mut edited = model();
        edited.connections[0].host = 9;
        edited.listeners[0].config = 4;
        edited.configs[0].mss = 0;
        edited.faults.push(crate::model::Fault::Crash { host: 7, at: crate::time::Instant::ZERO, restart_at: None });
        let problems = Simulation::from_model(edited).expect_err("an edited model");
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "configs[0].mss_bytes: expected an MSS in 1..=65495 bytes, found 0",
                "listeners[0].config: expected an index below 1 (the configs), found 4",
                "connections[0].host: expected an index below 2 (the hosts), found 9",
                "faults[0].host: expected an index below 2 (the hosts), found 7",
            ]
        );
    }

    /// A script edited out of time order is refused: the world calls
    /// its actions one after another.
    #[test]
    fn a_script_out_of_time_order_is_refused() {
        let mut edited = model();
        let late = crate::model::Timed { at: crate::time::Duration::from_secs(1), action: Action::Close };
        edited.connections[0].app.script.insert(0, late);
        let problems = Simulation::from_model(edited).expect_err("an edited model");
        assert_eq!(problems[0].to_string(), "connections[0].script: expected the script's actions in time order");
    }
}
