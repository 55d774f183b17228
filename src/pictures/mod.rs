//! Pictures of a run for people: ladder (sequence) diagrams of one
//! connection, as SVG or as text, the time-sequence graph of a transfer,
//! plots of the congestion window and RTT over time, the RFC 9293 state
//! diagram with the transition counts of a run or a sweep, the sweep plot
//! of outcome fractions, and measured and model curves on log-log axes.
//!
//! Every picture is a pure function of trace events or counts: the same
//! run gives the same bytes. Nothing here does I/O; the CLI writes the
//! strings these functions return.
//!
//! - [`ladder`] has `ladder_svg`, `ladder_svg_in` (a [`Window`]) and
//!   `ladder_text`;
//! - [`tsg`] has `tsg_svg`; [`series_plot`] has `series_plot_svg`;
//!   [`merge`] merges marks below a pixel, [`axes`] maps values to pixels;
//! - [`state_diagram`] has `state_diagram_svg`;
//! - [`plot`] has `sweep_svg`; [`measure_plot`] has `measure_svg`;
//! - [`curves`] has `log_log_svg`;
//! - [`svg`] has the SVG primitives they share.

pub mod axes;
pub mod curves;
pub mod ladder;
pub mod measure_plot;
pub mod merge;
pub mod plot;
pub mod series_plot;
pub mod state_diagram;
pub mod svg;
pub mod tsg;
mod window;

pub use ladder::{ladder_svg, ladder_svg_in, ladder_text, ladder_text_with};
pub use series_plot::series_plot_svg;
pub use state_diagram::state_diagram_svg;
pub use tsg::tsg_svg;
pub use window::Window;
