//! SVG pictures of sweeps (placeholder replaced below).
use crate::sweep::PointSummary;

/// Outcome fractions against the first swept setting, with 95 % Wilson
/// intervals as error bars.
pub fn sweep_svg(points: &[PointSummary], x_label: &str) -> String {
    let _ = (points, x_label);
    String::new()
}
