//! Linear axes for the time-sequence graph and the series plot: values to
//! pixels, round ticks, and the units labels are written in.

use super::plot::nice_ticks;

/// A linear map from values `lo..hi` to pixels `px_lo..px_hi` (`px_hi` may
/// be below `px_lo`, for a y axis growing upwards).
#[derive(Clone, Copy, Debug)]
pub struct Axis {
    /// The value at `px_lo`.
    pub lo: f64,
    /// The value at `px_hi`.
    pub hi: f64,
    /// The pixel of `lo`.
    pub px_lo: f64,
    /// The pixel of `hi`.
    pub px_hi: f64,
}

impl Axis {
    /// An axis over `lo..hi` (widened when empty, so nothing divides by 0).
    pub fn new(lo: f64, hi: f64, px_lo: f64, px_hi: f64) -> Axis {
        let hi = if hi > lo { hi } else { lo + 1.0 };
        Axis { lo, hi, px_lo, px_hi }
    }

    /// The pixel of value `v`.
    pub fn at(&self, v: f64) -> f64 {
        self.px_lo + (v - self.lo) / (self.hi - self.lo) * (self.px_hi - self.px_lo)
    }

    /// The pixel of `v`, kept inside the axis.
    pub fn at_clamped(&self, v: f64) -> f64 {
        self.at(v.clamp(self.lo, self.hi))
    }

    /// Round ticks inside the range: (pixel, label).
    pub fn ticks(&self) -> Vec<(f64, String)> {
        nice_ticks(self.lo, self.hi).into_iter().map(|(v, label)| (self.at(v), label)).collect()
    }
}

/// Nanoseconds as a millisecond label: `250`, `12.5`, `0.125`.
pub fn ms_label(ns: u64) -> String {
    let whole = ns / 1_000_000;
    let frac = ns % 1_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let s = format!("{whole}.{frac:06}");
    s.trim_end_matches('0').to_string()
}

/// The unit a byte axis reaching `max` bytes is labelled in: its size in
/// bytes and its name (bytes up to 20 000, then kB and MB of 1000).
pub fn byte_unit(max: f64) -> (f64, &'static str) {
    if max < 20_000.0 {
        (1.0, "bytes")
    } else if max < 20_000_000.0 {
        (1000.0, "kB")
    } else {
        (1_000_000.0, "MB")
    }
}

/// Notes joined with `; ` into lines no wider than `width` px at `size`
/// px (a note wider than that gets a line of its own).
pub fn note_lines(notes: &[String], size: f64, width: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for n in notes {
        match lines.last_mut() {
            Some(last) if super::svg::text_width(&format!("{last}; {n}"), size) * 0.9 <= width => {
                last.push_str("; ");
                last.push_str(n);
            }
            _ => lines.push(n.clone()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_map_linearly_and_ticks_are_inside() {
        let a = Axis::new(0.0, 100.0, 50.0, 250.0);
        assert_eq!(a.at(50.0), 150.0);
        let y = Axis::new(0.0, 10.0, 300.0, 100.0);
        assert_eq!(y.at(10.0), 100.0);
        assert!(a.ticks().iter().all(|(px, _)| (50.0..=250.0).contains(px)));
        assert_eq!(ms_label(12_500_000), "12.5");
        assert_eq!(ms_label(3_000_000), "3");
        assert_eq!(byte_unit(5000.0).1, "bytes");
        assert_eq!(byte_unit(2e6).1, "kB");
    }
}
