//! Shared helpers: running the built `tcpsim` binary and loading sims.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tcpsim::model::Model;
use tcpsim::simulation::Simulation;
use tcpsim::trace::Recorder;
use tcpsim::world::{Histories, Outcome, World};

/// A small passing sim with one connection and an `expect` block.
pub const NORMAL: &str = "sims/normal-close.ron";
/// Breaks NORMAL's `time_in TIME_WAIT: 4000 ms` expectation (2 × 3000 ms).
pub const BREAK_EXPECT: &str = "tcp.msl_ms=3000";

/// The exit code is `code`, and the process did not panic; the message
/// shows both streams.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit status {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
    assert_no_panic(out);
}

/// No panic message and no backtrace, whatever went wrong.
#[track_caller]
pub fn assert_no_panic(out: &Output) {
    let err = stderr(out);
    for word in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        assert!(!err.contains(word), "stderr mentions {word:?}:\n{err}");
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `tcpsim` binary with `args` from the repository root.
pub fn tcpsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcpsim"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("tcpsim runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Loads a file under the repository root, with `--set`-style overrides.
#[track_caller]
pub fn load(path: &str, overrides: &[(&str, &str)]) -> Model {
    let bytes = std::fs::read(root().join(path)).expect("file exists");
    let overrides: Vec<_> = overrides
        .iter()
        .map(|(p, v)| tcpsim::scenario::Override { path: p.to_string(), value: v.to_string() })
        .collect();
    tcpsim::scenario::load(&bytes, &overrides).unwrap_or_else(|e| panic!("{path} does not load: {e:?}"))
}

/// Runs a model to the end, keeping every trace event and every
/// endpoint's history (tests check paths of endpoints no `expect` names).
#[track_caller]
pub fn run(model: Model) -> (World, Recorder) {
    let mut world = Simulation::from_model(model).expect("a valid model").keep_histories(Histories::All).into_world();
    let mut rec = Recorder::default();
    assert_eq!(world.run(&mut rec), Outcome::Completed);
    (world, rec)
}

/// Every `*.ron` file directly under `dir`, sorted.
pub fn ron_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("directory exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    files
}

/// Every simulation file under `sims/`, its subdirectories included (as
/// `tcpsim test sims/` finds them), sorted by path.
pub fn sim_files() -> Vec<PathBuf> {
    let sims = root().join("sims");
    let mut files = ron_files(&sims);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&sims)
        .expect("sims/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        files.extend(ron_files(&dir));
    }
    files
}

/// A path as `&str`, for command-line arguments.
pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// The names of the entries in `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A decoded PNG as 8-bit RGBA, for tests that look at pixels.
pub struct Image {
    pub width: u32,
    pub height: u32,
    /// Row-major RGBA bytes.
    pub rgba: Vec<u8>,
}

impl Image {
    /// Decodes a PNG file (any colour type and depth, expanded to 8-bit RGBA).
    #[track_caller]
    pub fn read(path: &Path) -> Image {
        let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().unwrap_or_else(|e| panic!("{}: not a PNG: {e}", path.display()));
        let mut buf = vec![0; reader.output_buffer_size().expect("a PNG of a sane size")];
        let info = reader.next_frame(&mut buf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        buf.truncate(info.buffer_size());
        let rgba = match info.color_type {
            png::ColorType::Rgba => buf,
            png::ColorType::Rgb => buf.chunks(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
            png::ColorType::GrayscaleAlpha => buf.chunks(2).flat_map(|p| [p[0], p[0], p[0], p[1]]).collect(),
            png::ColorType::Grayscale => buf.iter().flat_map(|&g| [g, g, g, 255]).collect(),
            png::ColorType::Indexed => unreachable!("EXPAND turns a palette into RGB"),
        };
        Image { width: info.width, height: info.height, rgba }
    }

    /// The RGBA value at (x, y).
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = 4 * (y as usize * self.width as usize + x as usize);
        [self.rgba[i], self.rgba[i + 1], self.rgba[i + 2], self.rgba[i + 3]]
    }

    /// How many pixels of the rectangle (clipped to the image) differ from
    /// `background`, transparent ones counting as background.
    pub fn count_unlike(&self, (x, y, w, h): (u32, u32, u32, u32), background: [u8; 4]) -> usize {
        let (x1, y1) = ((x + w).min(self.width), (y + h).min(self.height));
        let mut n = 0;
        for py in y.min(y1)..y1 {
            for px in x.min(x1)..x1 {
                let p = self.pixel(px, py);
                if p[3] != 0 && p[..3] != background[..3] {
                    n += 1;
                }
            }
        }
        n
    }
}
