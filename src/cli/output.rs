//! Output destinations. A regular file is written to a temporary file in
//! the same directory and renamed into place only when the run succeeded,
//! so an existing file is never half-overwritten. Pipes, devices and
//! open descriptors (`/dev/stdout`, `/dev/fd/N`) are written in place, even
//! when the descriptor leads to a regular file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

pub enum Dest {
    Stdout(io::Stdout),
    Temp { file: NamedTempFile, target: PathBuf },
    Device(File),
}

impl Dest {
    /// Opens the destination for `path` (stdout when `None`). Fails before
    /// the run starts if the file could not be written.
    pub fn open(path: Option<&Path>) -> Result<Dest, String> {
        let Some(path) = path else {
            return Ok(Dest::Stdout(io::stdout()));
        };
        // `/dev/stdout`, `/dev/fd/N` and the like name an open descriptor,
        // not a file: even when it leads to a regular file (`> trace.txt`),
        // writing goes through it, so `>>` appends and nothing is replaced.
        if let Some(fd) = descriptor(path) {
            if fd == 1 {
                return Ok(Dest::Stdout(io::stdout()));
            }
            let f = OpenOptions::new().append(true).open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            return Ok(Dest::Device(f));
        }
        // Write through a symlink to its target rather than replacing it.
        let resolved = std::fs::canonicalize(path).ok().filter(|_| path.is_symlink());
        let path = resolved.as_deref().unwrap_or(path);
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => return Err(format!("{}: is a directory", path.display())),
            Ok(m) if !m.is_file() => {
                let f = OpenOptions::new().write(true).open(path).map_err(|e| format!("{}: {e}", path.display()))?;
                return Ok(Dest::Device(f));
            }
            _ => {}
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // The new file gets the old one's permissions, or rw-r--r-- (what
        // most umasks give) rather than the temp file's private 0600.
        let mode = std::fs::metadata(path).map(|m| m.permissions()).ok();
        let file = tempfile::Builder::new()
            .prefix(".tcpsim-")
            .suffix(".tmp")
            .permissions(mode.unwrap_or_else(default_permissions))
            .tempfile_in(&dir)
            .map_err(|e| format!("{}: cannot write in {}: {e}", path.display(), dir.display()))?;
        Ok(Dest::Temp { file, target: path.to_path_buf() })
    }

    /// Makes the output visible: renames a temp file into place.
    pub fn commit(self) -> io::Result<()> {
        match self {
            Dest::Stdout(mut s) => s.flush(),
            Dest::Device(mut f) => f.flush(),
            Dest::Temp { mut file, target } => {
                file.flush()?;
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
            Dest::Stdout(_) => Box::new(io::stdout()),
            Dest::Temp { file, .. } => Box::new(file.as_file().try_clone()?),
            Dest::Device(f) => Box::new(f.try_clone()?),
        })
    }

    /// Whether this writes to the terminal.
    pub fn is_terminal(&self) -> bool {
        use std::io::IsTerminal;
        matches!(self, Dest::Stdout(s) if s.is_terminal())
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
            Dest::Temp { file, .. } => file.write(buf),
            Dest::Device(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Dest::Stdout(s) => watch(s.flush()),
            Dest::Temp { file, .. } => file.flush(),
            Dest::Device(f) => f.flush(),
        }
    }
}

/// Output paths must differ from the inputs and from each other, or one
/// file would silently replace another. `outputs` are (flag, path) pairs,
/// `inputs` (what it is, path) pairs. Devices are written in place, so
/// they never clash; but two outputs on one descriptor (`/dev/stdout` and
/// `/dev/fd/1`) would interleave their bytes, so they are refused.
pub fn check_distinct(outputs: &[(&str, Option<&Path>)], inputs: &[(&str, &Path)]) -> Result<(), String> {
    let streams: Vec<(&str, &Path, u32)> =
        outputs.iter().filter_map(|&(flag, p)| p.and_then(|p| Some((flag, p, descriptor(p)?)))).collect();
    for (i, &(flag, path, fd)) in streams.iter().enumerate() {
        if let Some((other, other_path, _)) = streams[..i].iter().find(|s| s.2 == fd) {
            return Err(format!(
                "{other} {} and {flag} {}: both write to descriptor {fd}, their bytes would interleave",
                other_path.display(),
                path.display()
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

/// Whether an output goes to stdout: no path, or one naming descriptor 1.
pub fn is_stdout(path: Option<&Path>) -> bool {
    path.is_none_or(|p| descriptor(p) == Some(1))
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

/// The descriptor number `path` names (`/dev/stdout` is 1, `/dev/fd/N` and
/// `/proc/self/fd/N` are N), if it names one.
fn descriptor(path: &Path) -> Option<u32> {
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
