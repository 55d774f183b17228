//! Marks smaller than a pixel, merged: what keeps a picture of a transfer
//! of any size under a few megabytes.
//!
//! A picture is a fixed number of pixel columns wide. Marks that fall in
//! one column (a time span shorter than a pixel) and overlap or touch in
//! y become one mark spanning them ([`merge_ranges`]); a step line keeps,
//! per column, where it enters, its minimum, its maximum and where it
//! leaves ([`step_polyline`]). Each column so holds a bounded number of
//! marks whatever the transfer's length, and every picture counts what it
//! merged for its legend.

/// How many separate ranges one column keeps before it becomes a single
/// range spanning them all.
pub const RANGES_PER_COLUMN: usize = 4;

/// Ranges closer than this (in px) are one mark to the eye.
const TOUCH_PX: f64 = 1.5;

/// A vertical range of pixels in one column: a merged mark.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// The x pixel of the column's first mark.
    pub x: f64,
    /// The smaller y pixel.
    pub y_lo: f64,
    /// The larger y pixel.
    pub y_hi: f64,
    /// How many marks it stands for.
    pub count: usize,
}

/// Merges marks `(x, y1, y2)`, given in x order, into ranges: marks in the
/// same pixel column whose y ranges overlap or touch become one, and a
/// column with more than [`RANGES_PER_COLUMN`] left becomes one range
/// spanning them. Returns the ranges and how many marks were merged away.
pub fn merge_ranges(marks: impl IntoIterator<Item = (f64, f64, f64)>) -> (Vec<Range>, usize) {
    let mut out: Vec<Range> = Vec::new();
    let mut column_start = 0;
    let mut column = None;
    let mut given = 0;
    for (x, y1, y2) in marks {
        given += 1;
        let (y_lo, y_hi) = if y1 <= y2 { (y1, y2) } else { (y2, y1) };
        let col = x.floor() as i64;
        if column != Some(col) {
            column = Some(col);
            column_start = out.len();
            out.push(Range { x, y_lo, y_hi, count: 1 });
            continue;
        }
        let here = &mut out[column_start..];
        if let Some(r) = here.iter_mut().find(|r| y_lo <= r.y_hi + TOUCH_PX && r.y_lo - TOUCH_PX <= y_hi) {
            r.y_lo = r.y_lo.min(y_lo);
            r.y_hi = r.y_hi.max(y_hi);
            r.count += 1;
        } else if here.len() < RANGES_PER_COLUMN {
            let x = here[0].x;
            out.push(Range { x, y_lo, y_hi, count: 1 });
        } else {
            // Too many separate marks in one pixel column: one hull.
            let hull = here.iter().fold(Range { x: here[0].x, y_lo, y_hi, count: 1 }, |h, r| Range {
                x: h.x,
                y_lo: h.y_lo.min(r.y_lo),
                y_hi: h.y_hi.max(r.y_hi),
                count: h.count + r.count,
            });
            out.truncate(column_start);
            out.push(hull);
        }
    }
    let merged = given - out.len();
    (out, merged)
}

/// The polyline of a step function through `changes` (x pixel, y pixel
/// of the new value, in x order), held until `x_end`. Changes within one
/// pixel column are drawn as one vertical stroke from the value before
/// them through their minimum and maximum to the last, so the line's size
/// is bounded by the picture's width. Returns the points and how many
/// changes were merged away.
pub fn step_polyline(changes: &[(f64, f64)], x_end: f64) -> (Vec<(f64, f64)>, usize) {
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut merged = 0;
    let mut i = 0;
    while i < changes.len() {
        let (x, _) = changes[i];
        let col = x.floor() as i64;
        let mut j = i;
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        while j < changes.len() && changes[j].0.floor() as i64 == col {
            lo = lo.min(changes[j].1);
            hi = hi.max(changes[j].1);
            j += 1;
        }
        let last = changes[j - 1].1;
        merged += j - i - 1;
        if let Some(&(_, before)) = points.last() {
            push(&mut points, (x, before));
        }
        if j - i > 1 {
            push(&mut points, (x, lo));
            push(&mut points, (x, hi));
        }
        push(&mut points, (x, last));
        i = j;
    }
    if let Some(&(x, y)) = points.last()
        && x < x_end
    {
        points.push((x_end, y));
    }
    (points, merged)
}

fn push(points: &mut Vec<(f64, f64)>, p: (f64, f64)) {
    if points.last() != Some(&p) {
        points.push(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_marks_in_one_column_become_one() {
        let (r, merged) = merge_ranges([(10.2, 100.0, 90.0), (10.7, 90.0, 80.0), (11.1, 70.0, 60.0)]);
        assert_eq!(merged, 1);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].y_lo, r[0].y_hi, r[0].count), (80.0, 100.0, 2));
        assert_eq!((r[1].y_lo, r[1].y_hi), (60.0, 70.0));
    }

    #[test]
    fn separate_marks_in_one_column_stay_apart_up_to_the_bound() {
        let apart = (0..RANGES_PER_COLUMN).map(|k| (5.0, k as f64 * 10.0, k as f64 * 10.0 + 1.0));
        let (r, _) = merge_ranges(apart);
        assert_eq!(r.len(), RANGES_PER_COLUMN);
        let more = (0..=RANGES_PER_COLUMN).map(|k| (5.0, k as f64 * 10.0, k as f64 * 10.0 + 1.0));
        let (r, merged) = merge_ranges(more);
        assert_eq!(r.len(), 1);
        assert_eq!(merged, RANGES_PER_COLUMN);
        assert_eq!((r[0].y_lo, r[0].y_hi, r[0].count), (0.0, RANGES_PER_COLUMN as f64 * 10.0 + 1.0, 5));
    }

    #[test]
    fn a_million_marks_keep_a_bounded_count() {
        let marks = (0..1_000_000).map(|k| (k as f64 / 1000.0, (k % 300) as f64, (k % 300) as f64 + 0.5));
        let (r, merged) = merge_ranges(marks);
        assert!(r.len() <= 1000 * RANGES_PER_COLUMN, "{}", r.len());
        assert_eq!(r.len() + merged, 1_000_000);
    }

    #[test]
    fn steps_within_a_column_keep_entry_extremes_and_exit() {
        let (p, merged) = step_polyline(&[(1.0, 50.0), (3.1, 40.0), (3.2, 10.0), (3.3, 60.0), (3.4, 30.0)], 9.0);
        assert_eq!(merged, 3);
        assert_eq!(p, vec![(1.0, 50.0), (3.1, 50.0), (3.1, 10.0), (3.1, 60.0), (3.1, 30.0), (9.0, 30.0)]);
        let (p, merged) = step_polyline(&[(1.0, 5.0), (4.0, 7.0)], 4.0);
        assert_eq!(merged, 0);
        assert_eq!(p, vec![(1.0, 5.0), (4.0, 5.0), (4.0, 7.0)]);
    }
}
