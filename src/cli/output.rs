//! Output destinations. A regular file is written to a temporary file in
//! the same directory and renamed into place only when the run succeeded,
//! so an existing file is never half-overwritten. Pipes, devices and
//! open descriptors (`-` and `/dev/stdout`, `/dev/fd/N`) are written in
//! place, even when the descriptor leads to a regular file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

pub enum Dest {
    Stdout(io::Stdout),
    /// Standard error itself (descriptor 2, as inherited): a run's trace
    /// when another output takes stdout. Once stdout's reader has gone
    /// (`| head`), nothing more is written: the run was cut short, and its
    /// summary would report the cut as failures.
    Stderr(io::Stderr),
    Temp {
        file: NamedTempFile,
        target: PathBuf,
    },
    Device(File),
}

impl Dest {
    /// Opens the destination for `path` (stdout when `None` or `-`). Fails
    /// before the run starts if the file could not be written: the path
    /// names a directory (one that exists, or any path ending in `/`), its
    /// directory is missing, or no file can be created there. The message
    /// starts with the path as given.
    pub fn open(path: Option<&Path>) -> Result<Dest, String> {
        let Some(given) = path else {
            return Ok(Dest::Stdout(io::stdout()));
        };
        let fail = |problem: String| Err(format!("{}: {problem}", given.display()));
        // `/dev/stdout`, `/dev/fd/N` and the like name an open descriptor,
        // not a file: even when it leads to a regular file (`> trace.txt`),
        // writing goes through it, so `>>` appends and nothing is replaced.
        if let Some(fd) = descriptor(given) {
            // The process's own stdout and stderr, not reopened: a file the
            // shell opened for `2>` without appending shares its offset
            // with every other message, and a socket cannot be reopened.
            match fd {
                1 => return Ok(Dest::Stdout(io::stdout())),
                2 => return Ok(Dest::Stderr(io::stderr())),
                _ => {}
            }
            return match OpenOptions::new().append(true).open(given) {
                Ok(f) => Ok(Dest::Device(f)),
                Err(e) => fail(e.to_string()),
            };
        }
        // Write through a symlink to its target rather than replacing it.
        let resolved = std::fs::canonicalize(given).ok().filter(|_| given.is_symlink());
        let path = resolved.as_deref().unwrap_or(given);
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => return fail("is a directory; expected a file name".into()),
            Ok(m) if !m.is_file() => {
                return match OpenOptions::new().write(true).open(path) {
                    Ok(f) => Ok(Dest::Device(f)),
                    Err(e) => fail(e.to_string()),
                };
            }
            _ => {}
        }
        // `out/`, `out/.` or `out/..` asks for a directory, never a file:
        // the rename at the end would fail after the whole run. Read from
        // the bytes as given, since a parsed path drops a last `.` and
        // would take `out` for the file's name.
        let bytes = given.as_os_str().as_encoded_bytes();
        let last = bytes.rsplit(|&b| std::path::is_separator(b as char)).next().unwrap_or_default();
        if matches!(last, b"" | b"." | b"..") || path.file_name().is_none() {
            let end = match last {
                b"" => "it ends in `/`".to_string(),
                _ => format!("it ends in `{}`", String::from_utf8_lossy(last)),
            };
            return fail(format!("names a directory ({end}); expected a file name"));
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return fail(format!("{} is not a directory", dir.display())),
            Err(_) => return fail(format!("the directory {} does not exist", dir.display())),
        }
        // The new file gets the old one's permissions, or rw-r--r-- (what
        // most umasks give) rather than the temp file's private 0600.
        let mode = std::fs::metadata(path).map(|m| m.permissions()).ok();
        let created = tempfile::Builder::new()
            .prefix(".tcpsim-")
            .suffix(".tmp")
            .permissions(mode.unwrap_or_else(default_permissions))
            .tempfile_in(&dir);
        match created {
            Ok(file) => Ok(Dest::Temp { file, target: path.to_path_buf() }),
            // tempfile's message ends in the temp file's name, which the
            // user never gave: the directory is named instead.
            Err(e) => {
                let text = e.to_string();
                let why = text.rsplit_once(" at path ").map_or(text.as_str(), |(why, _)| why);
                fail(format!("cannot create a file in {}: {why}", dir.display()))
            }
        }
    }

    /// [`Dest::open`] for the output of `flag`: the message starts with
    /// the flag and the path (`--pcap out/: ...`), as every flag's does.
    pub fn open_flag(flag: &str, path: Option<&Path>) -> Result<Dest, String> {
        Dest::open(path).map_err(|e| format!("{flag} {e}"))
    }

    /// Makes the output visible: renames a temp file into place.
    pub fn commit(self) -> io::Result<()> {
        match self {
            Dest::Stdout(mut s) => s.flush(),
            Dest::Stderr(mut s) => s.flush(),
            Dest::Device(mut f) => f.flush(),
            Dest::Temp { mut file, target } => {
                file.as_file_mut().flush()?;
                file.as_file().sync_all()?;
                file.persist(&target).map_err(|e| e.error)?;
                Ok(())
            }
        }
    }

    /// A second handle writing to the same place, for an output written
    /// as the run goes (`--series`); the file still appears only on
    /// [`Dest::commit`].
    pub fn second_writer(&self) -> io::Result<Box<dyn Write>> {
        Ok(match self {
            // Through `Dest`, so a reader gone from stdout is noticed.
            Dest::Stdout(_) => Box::new(Dest::Stdout(io::stdout())),
            Dest::Stderr(_) => Box::new(Dest::Stderr(io::stderr())),
            Dest::Temp { file, .. } => Box::new(file.as_file().try_clone()?),
            Dest::Device(f) => Box::new(f.try_clone()?),
        })
    }

    /// Whether this writes to the terminal.
    pub fn is_terminal(&self) -> bool {
        use std::io::IsTerminal;
        match self {
            Dest::Stdout(s) => s.is_terminal(),
            Dest::Stderr(s) => s.is_terminal(),
            _ => false,
        }
    }
}

/// Set once a write to stdout found its reader gone (`| head -1`).
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether stdout's reader went away: the command then stops quietly and
/// exits 0, as a program killed by SIGPIPE would leave no message (Rust
/// ignores SIGPIPE, so the write fails instead).
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Notes a broken pipe on stdout, passing the result on.
fn watch<T>(result: io::Result<T>) -> io::Result<T> {
    if let Err(e) = &result
        && e.kind() == io::ErrorKind::BrokenPipe
    {
        STDOUT_CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    result
}

impl Write for Dest {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Dest::Stdout(s) => watch(s.write(buf)),
            Dest::Stderr(_) if stdout_closed() => Ok(buf.len()),
            Dest::Stderr(s) => s.write(buf),
            // Through the `File`: `NamedTempFile`'s own errors end in the
            // temp file's name, which the user never gave.
            Dest::Temp { file, .. } => file.as_file_mut().write(buf),
            Dest::Device(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Dest::Stdout(s) => watch(s.flush()),
            Dest::Stderr(s) => s.flush(),
            Dest::Temp { file, .. } => file.as_file_mut().flush(),
            Dest::Device(f) => f.flush(),
        }
    }
}

/// Output paths must differ from the inputs and from each other, or one
/// file would silently replace another. `outputs` are (flag, path) pairs,
/// `inputs` (what it is, path) pairs. Devices are written in place, so
/// they never clash; but two outputs on one descriptor (`/dev/stdout` and
/// `/dev/fd/1`, or `-` and the output that goes to stdout when no `--out`
/// is given: see [`default_on_stdout`]) would interleave their bytes, so
/// they are refused.
pub fn check_distinct(outputs: &[(&str, Option<&Path>)], inputs: &[(&str, &Path)]) -> Result<(), String> {
    let streams: Vec<(&str, &Path, u32)> =
        outputs.iter().filter_map(|&(flag, p)| p.and_then(|p| Some((flag, p, descriptor(p)?)))).collect();
    // A flag shows with its path; an output no flag named, by what it is.
    let shown = |flag: &str, path: &Path| match flag.starts_with('-') {
        true => format!("{flag} {}", path.display()),
        false => flag.to_string(),
    };
    for (i, &(flag, path, fd)) in streams.iter().enumerate() {
        if let Some(&(other, other_path, _)) = streams[..i].iter().find(|s| s.2 == fd) {
            return Err(format!(
                "{} and {}: both write to descriptor {fd}, their bytes would interleave",
                shown(other, other_path),
                shown(flag, path)
            ));
        }
    }
    let outputs: Vec<(&str, &Path)> =
        outputs.iter().filter_map(|&(flag, p)| p.map(|p| (flag, p))).filter(|(_, p)| replaces_file(p)).collect();
    for (i, &(flag, path)) in outputs.iter().enumerate() {
        if let Some((what, _)) = inputs.iter().find(|(_, input)| same_file(path, input)) {
            return Err(format!("{flag} {}: that is {what}", path.display()));
        }
        if let Some((other, _)) = outputs[..i].iter().find(|(_, p)| *p == path || same_file(p, path)) {
            return Err(format!("{other} and {flag} both name {}", path.display()));
        }
    }
    Ok(())
}

/// The main output's entry for [`check_distinct`]: `(flag, path)` as
/// given, or, when no path was given and so it goes to stdout, `what` it
/// is (`the trace (stdout, no --out)`) on `-`, so that another output
/// sent to stdout is found to clash with it.
pub fn default_on_stdout<'a>(flag: &'a str, path: Option<&'a Path>, what: &'a str) -> (&'a str, Option<&'a Path>) {
    match path {
        Some(p) => (flag, Some(p)),
        None => (what, Some(Path::new("-"))),
    }
}

/// Whether an output goes to stdout: no path, or one naming descriptor 1.
pub fn is_stdout(path: Option<&Path>) -> bool {
    path.is_none_or(|p| descriptor(p) == Some(1))
}

/// Whether one of the outputs given a path sends it to stdout (`-`,
/// `/dev/stdout`): an output left without one is not counted.
pub fn given_on_stdout<'a>(paths: impl IntoIterator<Item = Option<&'a Path>>) -> bool {
    paths.into_iter().flatten().any(|p| is_stdout(Some(p)))
}

/// Whether writing `path` replaces a regular file (or creates one).
fn replaces_file(path: &Path) -> bool {
    descriptor(path).is_none() && std::fs::metadata(path).map_or(true, |m| m.is_file())
}

/// Whether two paths name the same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The descriptor number `path` names (`-` and `/dev/stdout` are 1,
/// `/dev/fd/N` and `/proc/self/fd/N` are N), if it names one.
fn descriptor(path: &Path) -> Option<u32> {
    // `-` is stdout, as in most command-line tools.
    if path.as_os_str() == "-" {
        return Some(1);
    }
    if !cfg!(unix) {
        return None;
    }
    match path.to_str()? {
        "/dev/stdin" => return Some(0),
        "/dev/stdout" => return Some(1),
        "/dev/stderr" => return Some(2),
        _ => {}
    }
    ["/dev/fd", "/proc/self/fd", "/proc/thread-self/fd"]
        .iter()
        .find_map(|dir| path.strip_prefix(dir).ok())
        .and_then(|n| n.to_str()?.parse().ok())
}

#[cfg(unix)]
fn default_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o644)
}

#[cfg(not(unix))]
fn default_permissions() -> std::fs::Permissions {
    tempfile::tempfile().and_then(|f| f.metadata()).map(|m| m.permissions()).expect("a temp file's permissions")
}

/// Whether to colour output going to `dest`: `--color`, then `NO_COLOR`,
/// then whether it is a terminal.
pub fn use_color(choice: super::ColorChoice, dest: &Dest) -> bool {
    match choice {
        super::ColorChoice::Always => true,
        super::ColorChoice::Never => false,
        super::ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !no_color && dest.is_terminal()
        }
    }
}
