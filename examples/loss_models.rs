//! Goodput under random loss against the published models: sweeps the
//! data direction's loss from 0.1 % to 5 % over many seeds, for NewReno
//! NewReno with SACK and CUBIC, in the setup of `tcpsim::theory::experiment`
//! (RTT 100 ms without jitter, `rto_min` 1 s, no bottleneck, a receive
//! window above any congestion window, no delayed ACK). Prints a Markdown
//! table (p, goodput, the Mathis and Padhye predictions, their ratios)
//! and, with `--svg PATH`, writes goodput against p with both models.
//!
//! `cargo run --release --example loss_models -- --svg docs/img/loss-models.svg`
//! (`--seeds N`, default 20; each run is long enough to expect 500 losses;
//! `--jobs N` threads, default all; the output does not depend on it).
//!
//! A congestion control is one entry of `VARIANTS`.

use std::sync::atomic::{AtomicBool, AtomicU64};
use tcpsim::parallel::{Pool, jobs, map_ordered};
use tcpsim::pictures::curves::{Curve, Labels, Style, log_log_svg};
use tcpsim::rng::Ppm;
use tcpsim::tcp::CongestionControl;
use tcpsim::theory::experiment::{MSS, Measured, RTT, Setup};
use tcpsim::theory::mathis;

/// The link's loss settings.
const LOSSES: [&str; 8] = ["0.001", "0.002", "0.005", "0.01", "0.02", "0.03", "0.04", "0.05"];

/// The senders compared: (name, congestion control, SACK).
const VARIANTS: [(&str, CongestionControl, bool); 3] = [
    ("NewReno", CongestionControl::NewReno, false),
    ("NewReno + SACK", CongestionControl::NewReno, true),
    ("CUBIC", CongestionControl::Cubic, false),
];

/// Losses each run expects, so that every seed sees hundreds of loss
/// events.
const LOSSES_PER_RUN: u64 = 500;

/// The runs of one (variant, loss) point, summarised.
struct Point {
    /// Mean of Mathis's p (drops ÷ data segments sent).
    p_drops: f64,
    /// Mean of Padhye's p (loss indications ÷ data segments sent).
    p_indications: f64,
    /// Mean goodput, bytes/s.
    goodput: f64,
    /// Mean predictions, bytes/s.
    mathis: f64,
    padhye: f64,
    /// Mean per-run ratios goodput ÷ model.
    mathis_ratio: f64,
    padhye_ratio: f64,
    /// Share of loss indications that were timeout sequences.
    timeout_share: f64,
    /// Fewest loss indications of a run.
    fewest_indications: u64,
}

fn summarise(runs: &[Measured]) -> Point {
    let mean = |f: &dyn Fn(&Measured) -> f64| runs.iter().map(f).sum::<f64>() / runs.len() as f64;
    let indications: u64 = runs.iter().map(Measured::loss_indications).sum();
    let timeouts: u64 = runs.iter().map(|m| m.timeout_sequences).sum();
    Point {
        p_drops: mean(&Measured::loss_rate),
        p_indications: mean(&Measured::loss_indication_rate),
        goodput: mean(&Measured::goodput),
        mathis: mean(&Measured::mathis),
        padhye: mean(&Measured::padhye),
        mathis_ratio: mean(&|m| m.goodput() / m.mathis()),
        padhye_ratio: mean(&|m| m.goodput() / m.padhye()),
        timeout_share: timeouts as f64 / indications.max(1) as f64,
        fewest_indications: runs.iter().map(Measured::loss_indications).min().unwrap_or(0),
    }
}

struct Args {
    seeds: u64,
    svg: Option<String>,
    jobs: Option<usize>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { seeds: 20, svg: None, jobs: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--seeds" => args.seeds = value()?.parse().map_err(|e| format!("--seeds: {e}"))?,
            "--jobs" => args.jobs = Some(value()?.parse().map_err(|e| format!("--jobs: {e}"))?),
            "--svg" => args.svg = Some(value()?),
            _ => return Err(format!("unknown argument {flag} (--seeds N, --jobs N, --svg PATH)")),
        }
    }
    if args.seeds == 0 {
        return Err("--seeds must be at least 1".into());
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("loss_models: {e}");
            std::process::exit(2);
        }
    };
    let setups: Vec<Setup> = VARIANTS
        .iter()
        .flat_map(|&(_, cc, sack)| {
            LOSSES.iter().map(move |loss| (cc, sack, Ppm::parse_decimal(loss).expect("a probability")))
        })
        .flat_map(|(cc, sack, loss)| {
            (1..=args.seeds).map(move |seed| Setup::expecting_losses(cc, sack, loss, seed, LOSSES_PER_RUN))
        })
        .collect();
    let (stop, done) = (AtomicBool::new(false), AtomicU64::new(0));
    let pool = Pool { jobs: jobs(args.jobs), stop: &stop, done: &done };
    let (runs, _) = map_ordered(setups.len(), pool, || (), |_, i| setups[i].run()).expect("nothing stops the pool");
    let points: Vec<Point> = runs.chunks(args.seeds as usize).map(summarise).collect();

    println!(
        "| sender | loss | p (drops) | p (indications) | timeouts | goodput kB/s | Mathis kB/s | ratio | Padhye kB/s | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (i, point) in points.iter().enumerate() {
        let name = VARIANTS[i / LOSSES.len()].0;
        let loss = LOSSES[i % LOSSES.len()];
        println!(
            "| {name} | {loss} | {:.4} | {:.4} | {:.0} % | {:.1} | {:.1} | {:.2} | {:.1} | {:.2} |",
            point.p_drops,
            point.p_indications,
            100.0 * point.timeout_share,
            point.goodput / 1e3,
            point.mathis / 1e3,
            point.mathis_ratio,
            point.padhye / 1e3,
            point.padhye_ratio,
        );
    }
    let fewest = points.iter().map(|p| p.fewest_indications).min().unwrap_or(0);
    println!();
    println!("{} seeds per point; every run saw at least {fewest} loss indications.", args.seeds);

    if let Some(path) = args.svg {
        let svg = plot(&points, args.seeds);
        if let Err(e) = std::fs::write(&path, svg) {
            eprintln!("loss_models: cannot write {path}: {e}");
            std::process::exit(1);
        }
        println!("wrote {path}");
    }
}

/// Goodput against the drop rate: each sender's points, Mathis's formula
/// as a curve of the drop rate, and Padhye's model at each NewReno point's
/// own inputs (its loss indication rate, RTT and T0), placed at that
/// point's drop rate.
fn plot(points: &[Point], seeds: u64) -> String {
    let mut curves: Vec<Curve> = VARIANTS
        .iter()
        .enumerate()
        .map(|(v, (name, _, _))| Curve {
            label: format!("{name} (simulated)"),
            points: points[v * LOSSES.len()..(v + 1) * LOSSES.len()]
                .iter()
                .map(|p| (p.p_drops, p.goodput / 1e3))
                .collect(),
            style: Style::Points,
        })
        .collect();
    let rtt_s = RTT.as_nanos() as f64 / 1e9;
    let grid = (0..=40).map(|i| 0.001 * 50f64.powf(f64::from(i) / 40.0));
    curves.push(Curve {
        label: "Mathis et al. 1997".into(),
        points: grid.map(|p| (p, mathis(f64::from(MSS), rtt_s, p, 1.0) / 1e3)).collect(),
        style: Style::Solid,
    });
    curves.push(Curve {
        label: "Padhye et al. 1998".into(),
        points: points[..LOSSES.len()].iter().map(|p| (p.p_drops, p.padhye / 1e3)).collect(),
        style: Style::Dashed,
    });
    let caption = format!(
        "RTT 100 ms, rto_min 1 s, MSS 1460, loss on data only; {seeds} seeds a point. Padhye at NewReno's inputs."
    );
    let labels = Labels {
        title: "Goodput under random loss against the models",
        caption: &caption,
        x: "p: data segments lost ÷ sent",
        y: "goodput, kB/s",
    };
    log_log_svg(labels, &curves)
}
