#!/usr/bin/env bash
# Whole-process time and peak RSS of two tcpsim binaries on one scenario,
# run alternately (A, B, A, B, ...) so that a noisy machine weighs on both
# alike. Prints each binary's median, least and greatest wall time and
# median peak RSS, then B against A: the ratio of the medians and the
# median of the pairs' ratios.
#
#   benches/paired.sh OLD/tcpsim target/release/tcpsim scale/scale-100k.ron 7
#   benches/paired.sh OLD/tcpsim NEW/tcpsim scale/scale-1m.ron 5 --set seed=2
#
# Arguments: binary A, binary B, the scenario, the number of pairs
# (default 5), then extra flags for `tcpsim run` (each run is
# `tcpsim run FILE --quiet --stats FLAGS`). Needs GNU time (/usr/bin/time).
# A baseline binary comes from `git worktree add /tmp/base <commit>` and
# `cargo build --release` there.
set -euo pipefail

[ $# -ge 3 ] || { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
a="$1" b="$2" file="$3"
pairs="${4:-5}"
shift $(($# < 4 ? $# : 4))
[ -x /usr/bin/time ] || { echo "paired.sh: GNU time (/usr/bin/time) is not installed" >&2; exit 2; }
for bin in "$a" "$b"; do [ -x "$bin" ] || { echo "paired.sh: $bin: not an executable" >&2; exit 2; }; done
[ -f "$file" ] || { echo "paired.sh: $file: no such file" >&2; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
run() { # binary, output file, flags: appends "microseconds kilobytes"
    local bin="$1" out="$2" status=0
    shift 2
    local start end
    start="$(date +%s%N)"
    /usr/bin/time -f '%M' -o "$tmp/one" "$bin" run "$file" --quiet --stats "$@" >/dev/null 2>"$tmp/err" || status=$?
    end="$(date +%s%N)"
    if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
        echo "paired.sh: $bin run $file failed (exit $status):" >&2
        tail -n 5 "$tmp/err" >&2
        exit 1
    fi
    echo "$(((end - start) / 1000)) $(tail -n 1 "$tmp/one")" >>"$out"
}
for _ in $(seq "$pairs"); do
    run "$a" "$tmp/a" "$@"
    run "$b" "$tmp/b" "$@"
done
paste -d ' ' "$tmp/a" "$tmp/b" | awk -v a="$a" -v b="$b" '
function median(v, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
{ n++; ta[n] = $1 / 1e6; ra[n] = $2; tb[n] = $3 / 1e6; rb[n] = $4; q[n] = $3 / $1 }
END {
    ma = median(ta, n); mb = median(tb, n)
    printf "A %s: median %.3f s (%.3f to %.3f), peak RSS %.1f MiB\n", a, ma, ta[1], ta[n], median(ra, n) / 1024
    printf "B %s: median %.3f s (%.3f to %.3f), peak RSS %.1f MiB\n", b, mb, tb[1], tb[n], median(rb, n) / 1024
    printf "B/A: time %.3fx (ratio of medians), %.3fx (median of %d pairs); peak RSS %.3fx\n", mb / ma, median(q, n), n, median(rb, n) / median(ra, n)
}'
