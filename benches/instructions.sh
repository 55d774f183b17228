#!/usr/bin/env bash
# Instructions per transition: a cost figure that machine noise does not
# move, beside the wall-clock ones (README, Performance).
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
# Arguments: scenario files, then (after the first argument that starts
# with `--`) extra flags for `tcpsim run`. Needs valgrind. The 10^5 file
# takes a few minutes under callgrind. Set TCPSIM to use a built binary
# instead of building one; callgrind's output files go to a temporary
# directory (OUT_DIR to keep them, for `callgrind_annotate`).
set -euo pipefail

cd "$(dirname "$0")/.."
files=()
while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do
    files+=("$1")
    shift
done
[ ${#files[@]} -gt 0 ] || files=(scale/scale-1k.ron scale/scale-100k.ron)
extra=("$@")

if [ -z "${TCPSIM:-}" ]; then
    cargo build --release --quiet
    TCPSIM="${CARGO_TARGET_DIR:-target}/release/tcpsim"
fi
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 2; }
out_dir="${OUT_DIR:-$(mktemp -d)}"
mkdir -p "$out_dir"

printf '%-28s %16s %12s %14s\n' file instructions transitions instr/transition
for f in "${files[@]}"; do
    name="$(basename "$f" .ron)"
    cg="$out_dir/callgrind.$name.out"
    log="$out_dir/$name.stderr"
    valgrind --tool=callgrind --callgrind-out-file="$cg" \
        "$TCPSIM" run "$f" --quiet --stats "${extra[@]}" >/dev/null 2>"$log" || {
        echo "instructions.sh: $f failed; see $log" >&2
        exit 1
    }
    instr="$(sed -n 's/^summary: //p' "$cg" | head -n1)"
    transitions="$(sed -n 's/.*stats: .* transitions=\([0-9]*\).*/\1/p' "$log" | head -n1)"
    if [ -z "$instr" ] || [ -z "$transitions" ]; then
        echo "instructions.sh: no count for $f; see $log" >&2
        exit 1
    fi
    awk -v n="$name" -v i="$instr" -v t="$transitions" 'BEGIN { printf "%-28s %16.0f %12.0f %14.1f\n", n, i, t, i / t }'
done
echo "callgrind output: $out_dir" >&2
