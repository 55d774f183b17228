//! What a sweep's summary says of one measure over the runs of a grid
//! point, from the measure's CSV cells (so a merged sweep summarizes
//! exactly as one run whole): booleans as a proportion with its 95 %
//! Wilson interval, names as a proportion per value with Wilson
//! intervals, numbers as the mean with its 95 % Student-t interval, the
//! median (of an even count, the mean of the two middle values), p5 and
//! p95 (nearest rank). With one value the t-interval is undefined
//! (`None`). A column of proportions (a boolean averaged over a
//! population) is summarized as numbers whose interval is clamped to
//! [0, 1]. Empty cells (no value) are left out and counted apart.

use crate::sweep::Fraction;
use std::collections::BTreeMap;

/// The summary of one measure at one grid point.
#[derive(Clone, Debug, PartialEq)]
pub enum MeasureSummary {
    /// Every value was `true` or `false`: the runs that were true.
    Proportion(Fraction),
    /// Names: the runs with each value, in name order.
    Categories(Vec<(String, Fraction)>),
    /// Numbers.
    Numbers(NumberSummary),
    /// No run had a value.
    Empty,
}

/// Statistics of numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NumberSummary {
    /// How many values.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    /// The 95 % Student-t interval of the mean; `None` for one value,
    /// where it is undefined. Clamped to [0, 1] for proportions.
    pub ci95: Option<(f64, f64)>,
    /// The median: the middle value, or the mean of the two middle ones.
    pub median: f64,
    /// The 5th percentile (nearest rank).
    pub p5: f64,
    /// The 95th percentile (nearest rank).
    pub p95: f64,
}

/// The two-sided 95 % quantile of Student's t with `df` degrees of
/// freedom, t(0.975, df): a table to 30, then the Cornish-Fisher
/// expansion about the normal quantile (within 1e-5 from 30 on).
pub fn t975(df: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706204736,
        4.302652730,
        3.182446305,
        2.776445105,
        2.570581836,
        2.446911851,
        2.364624252,
        2.306004135,
        2.262157163,
        2.228138852,
        2.200985160,
        2.178812830,
        2.160368656,
        2.144786688,
        2.131449546,
        2.119905299,
        2.109815578,
        2.100922040,
        2.093024054,
        2.085963447,
        2.079613845,
        2.073873068,
        2.068657610,
        2.063898562,
        2.059538553,
        2.055529439,
        2.051830516,
        2.048407142,
        2.045229642,
        2.042272456,
    ];
    if df == 0 {
        return f64::NAN;
    }
    if df <= 30 {
        return TABLE[(df - 1) as usize];
    }
    let z = 1.959963984540054_f64;
    let n = df as f64;
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * n)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n * n * n)
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], pct: u64) -> f64 {
    let rank = (sorted.len() as u64 * pct).div_ceil(100).max(1);
    sorted[(rank - 1) as usize]
}

/// The median of sorted values: the middle one, or the mean of the two
/// middle ones for an even count.
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 }
}

/// Summarizes one measure's cells (empty cells left out).
pub fn summarize(cells: &[&str]) -> MeasureSummary {
    summarize_as(cells, false)
}

/// As [`summarize`]; `proportion` says the cells are proportions (a
/// boolean averaged), whose interval cannot leave [0, 1].
pub fn summarize_as(cells: &[&str], proportion: bool) -> MeasureSummary {
    let values: Vec<&str> = cells.iter().copied().filter(|c| !c.is_empty()).collect();
    let n = values.len() as u64;
    if n == 0 {
        return MeasureSummary::Empty;
    }
    if values.iter().all(|v| *v == "true" || *v == "false") {
        return MeasureSummary::Proportion(Fraction { k: values.iter().filter(|v| **v == "true").count() as u64, n });
    }
    let numbers: Option<Vec<f64>> = values.iter().map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite())).collect();
    match numbers {
        Some(mut xs) => {
            xs.sort_by(f64::total_cmp);
            let mean = xs.iter().sum::<f64>() / n as f64;
            let ci95 = (n >= 2).then(|| {
                let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
                let half = t975(n - 1) * (var / n as f64).sqrt();
                if proportion { ((mean - half).max(0.0), (mean + half).min(1.0)) } else { (mean - half, mean + half) }
            });
            MeasureSummary::Numbers(NumberSummary {
                n,
                mean,
                ci95,
                median: median(&xs),
                p5: percentile(&xs, 5),
                p95: percentile(&xs, 95),
            })
        }
        None => {
            let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
            for v in &values {
                *counts.entry(v).or_default() += 1;
            }
            MeasureSummary::Categories(counts.into_iter().map(|(v, k)| (v.to_string(), Fraction { k, n })).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// t(0.975) from tables: 2.0423 at 30, 2.0003 at 60, 1.9799 at 120;
    /// the expansion joins the table without a jump.
    #[test]
    fn t_quantiles_match_tables() {
        assert!((t975(30) - 2.042272).abs() < 1e-6);
        assert!((t975(31) - 2.039513).abs() < 1e-5, "{}", t975(31));
        assert!((t975(60) - 2.000298).abs() < 1e-5, "{}", t975(60));
        assert!((t975(120) - 1.979930).abs() < 1e-5, "{}", t975(120));
        assert!((t975(1) - 12.706205).abs() < 1e-6);
    }

    #[test]
    fn cells_are_summarized_by_their_kind() {
        assert_eq!(summarize(&["true", "false", "", "true"]), MeasureSummary::Proportion(Fraction { k: 2, n: 3 }));
        let MeasureSummary::Categories(c) = summarize(&["CLOSED", "TIME_WAIT", "CLOSED"]) else { panic!() };
        assert_eq!(c[0], ("CLOSED".to_string(), Fraction { k: 2, n: 3 }));
        let MeasureSummary::Numbers(s) = summarize(&["1", "2", "3", "4"]) else { panic!() };
        assert_eq!((s.n, s.mean, s.median, s.p5, s.p95), (4, 2.5, 2.5, 1.0, 4.0));
        // sd = sqrt(5/3), t(3) = 3.182446: half-width 3.182446 * sqrt(5/12).
        assert!((s.ci95.unwrap().1 - 2.5 - 3.182446305 * (5.0f64 / 12.0).sqrt()).abs() < 1e-9);
        assert_eq!(summarize(&["", ""]), MeasureSummary::Empty);
    }

    /// One value has no t-interval (n - 1 = 0 degrees of freedom).
    #[test]
    fn one_value_has_no_interval() {
        let MeasureSummary::Numbers(s) = summarize(&["7"]) else { panic!() };
        assert_eq!((s.mean, s.ci95, s.median), (7.0, None, 7.0));
    }

    /// Proportions 0, 0, 0, 0.5: mean 0.125, sd 0.25, t(3) 3.182446,
    /// half-width 3.182446 * 0.25 / 2 = 0.3978: [-0.27, 0.52] unclamped,
    /// [0, 0.52] as a proportion.
    #[test]
    fn a_proportion_interval_stays_in_0_1() {
        let MeasureSummary::Numbers(s) = summarize_as(&["0", "0", "0", "0.5"], true) else { panic!() };
        let (lo, hi) = s.ci95.unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - (0.125 + 3.182446305 * 0.125)).abs() < 1e-9, "{hi}");
        let MeasureSummary::Numbers(s) = summarize_as(&["1", "1", "1", "0.5"], true) else { panic!() };
        assert_eq!(s.ci95.unwrap().1, 1.0);
    }

    /// The median of an even count is the mean of the two middle values.
    #[test]
    fn an_even_median_is_the_mean_of_the_middle_two() {
        let MeasureSummary::Numbers(s) = summarize(&["10", "1", "3", "4"]) else { panic!() };
        assert_eq!(s.median, 3.5);
    }
}
