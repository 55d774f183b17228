//! The `tcpsim` command line. The only code that touches files, stdout,
//! stderr, the wall clock and exit codes.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
