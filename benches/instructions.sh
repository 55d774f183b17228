#!/usr/bin/env bash
# Instructions per transition: a cost figure that machine noise does not
# move, beside the wall-clock ones (README, Performance). It does move
# with the compiler: compare figures made with the same rustc.
#
# Builds tcpsim in release mode, runs each scenario under callgrind
# (valgrind's instruction counter; digest on, trace off: `--quiet`) and
# prints the instructions executed, the transitions the run reports and
# their ratio. The whole process is counted: loading the file, building
# the world, the run and the summary.
#
#   benches/instructions.sh                     # scale-1k and scale-100k
#   benches/instructions.sh scale/scale-1k.ron --set tcp.profile=linux
#
# Arguments: scenario files, then (from the first argument that starts
# with `-`) extra flags for `tcpsim run`. Paths are taken from the
# directory it is called from. Needs valgrind. The 10^5 file takes a few
# minutes under callgrind. Set TCPSIM to a built binary to use it instead
# of building one, and CALLGRIND_DIR to keep callgrind's output files
# there (for `callgrind_annotate`); without it they go to a temporary
# directory, removed at the end. A run whose expectations fail (exit 1)
# still counts: only its instructions are wanted.
set -euo pipefail

command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 2; }
here="$(pwd)"
absolute() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$here" "$1" ;; esac; }
files=()
while [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; do
    [ -f "$1" ] || { echo "instructions.sh: $1: no such file" >&2; exit 2; }
    files+=("$(absolute "$1")")
    shift
done
extra=("$@")
cd "$(dirname "$0")/.."
[ ${#files[@]} -gt 0 ] || files=("$PWD/scale/scale-1k.ron" "$PWD/scale/scale-100k.ron")

if [ -n "${TCPSIM:-}" ]; then
    # A path is taken from the caller's directory; a bare name from PATH.
    case "$TCPSIM" in */*) TCPSIM="$(absolute "$TCPSIM")" ;; esac
else
    cargo build --release --quiet
    target="${CARGO_TARGET_DIR:-target}"
    case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
    TCPSIM="$target/release/tcpsim"
fi
if [ -n "${CALLGRIND_DIR:-}" ]; then
    out_dir="$(absolute "$CALLGRIND_DIR")"
    mkdir -p "$out_dir"
else
    out_dir="$(mktemp -d)"
    trap 'rm -rf "$out_dir"' EXIT
fi

printf '%-28s %16s %12s %14s\n' file instructions transitions instr/transition
n=0
for f in "${files[@]}"; do
    n=$((n + 1))
    name="$(basename "$f" .ron)"
    # The number keeps two files of one name apart.
    cg="$out_dir/callgrind.$n.$name.out"
    log="$out_dir/$n.$name.stderr"
    status=0
    valgrind --tool=callgrind --callgrind-out-file="$cg" \
        "$TCPSIM" run "$f" --quiet --stats "${extra[@]}" >/dev/null 2>"$log" || status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
        echo "instructions.sh: $f failed (exit $status):" >&2
        grep -v '^==' "$log" | tail -n 5 >&2
        exit 1
    fi
    instr="$(sed -n 's/^summary: //p' "$cg" | head -n1)"
    transitions="$(sed -n 's/.*stats: .* transitions=\([0-9]*\).*/\1/p' "$log" | head -n1)"
    if [ -z "$instr" ] || [ -z "$transitions" ]; then
        echo "instructions.sh: no count for $f:" >&2
        tail -n 5 "$log" >&2
        exit 1
    fi
    awk -v n="$name" -v i="$instr" -v t="$transitions" 'BEGIN { printf "%-28s %16.0f %12.0f %14.1f\n", n, i, t, i / t }'
done
[ -z "${CALLGRIND_DIR:-}" ] || echo "callgrind output: $out_dir" >&2
