#!/usr/bin/env bash
# Regenerates the pictures the README shows, from the shipped scenarios:
#
#   lost-final-ack-ladder.svg   ladder diagram of sims/lost-final-ack.ron
#                               (the lost final ACK, the retransmitted FIN,
#                               TIME_WAIT restarting 2MSL)
#   lossy-transfer-tsg.svg      time-sequence graph of the client of
#                               sims/lossy-transfer.ron, seed 4, from 150
#                               to 1950 ms (fast retransmits and an RTO)
#   lossy-transfer-series.svg   cwnd, ssthresh, flight, SRTT and RTO of the
#                               same client in the same window
#   lossy-transfer-states.svg   RFC 9293 state diagram with the transition
#                               counts of 200 runs of sims/lossy-transfer.ron
#                               (loss 0 and 0.2, 100 seeds each)
#   lossy-transfer-sweep.svg    outcome fractions of sims/lossy-transfer.ron
#                               against loss, 100 seeds per point, with 95 %
#                               Wilson intervals
#   near-simultaneous-close-sweep.svg
#                               the README's sweep study: outcome fractions
#                               (CLOSING visited, ...) of
#                               sims/near-simultaneous-close.ron against
#                               loss, 500 seeds per point
#   loss-models.svg             goodput of a bulk transfer against random
#                               loss (NewReno, NewReno + SACK), 20 seeds per
#                               point, beside the Mathis and Padhye models
#                               (examples/loss_models.rs)
#
# Usage: bash docs/img/regenerate.sh   (from anywhere; needs cargo)
#
# It builds the release binary and runs it with fixed seeds (each run the
# seed it names, sweeps seed i from run_seed(1, i)), so the files come out
# byte for byte the same on every machine: a diff after running it means
# the simulator or the pictures changed. With rsvg-convert installed
# (Debian: librsvg2-bin), PNG copies are written to $PNG_DIR if it is set,
# for looking at the result.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --release --quiet
tcpsim="${CARGO_TARGET_DIR:-target}/release/tcpsim"
out=docs/img

"$tcpsim" run sims/lost-final-ack.ron --seed 1 --quiet --svg "$out/lost-final-ack-ladder.svg" >/dev/null
"$tcpsim" run sims/lossy-transfer.ron --seed 4 --quiet --endpoint client --from-ms 150 --to-ms 1950 \
    --tsg "$out/lossy-transfer-tsg.svg" --series-plot "$out/lossy-transfer-series.svg" >/dev/null

# A sweep exits 1 when some run misses an expectation; the pictures are
# still complete then, so only codes above 1 are failures.
sweep() {
    local file=$1 code=0
    shift
    "$tcpsim" sweep "$file" --set seed=1 --out /dev/null "$@" >/dev/null || code=$?
    if [ "$code" -gt 1 ]; then
        echo "regenerate.sh: tcpsim sweep $* failed with exit code $code" >&2
        exit "$code"
    fi
}
sweep sims/lossy-transfer.ron --loss 0,0.2 --seeds 100 --state-diagram "$out/lossy-transfer-states.svg"
sweep sims/lossy-transfer.ron --loss 0,0.02,0.05,0.1,0.15,0.2 --seeds 100 --plot "$out/lossy-transfer-sweep.svg"
sweep sims/near-simultaneous-close.ron --loss 0,0.05,0.1,0.2 --seeds 500 --plot "$out/near-simultaneous-close-sweep.svg"
cargo run --release --quiet --example loss_models -- --svg "$out/loss-models.svg" >/dev/null

if [ -n "${PNG_DIR:-}" ] && command -v rsvg-convert >/dev/null; then
    mkdir -p "$PNG_DIR"
    for svg in "$out"/*.svg; do
        rsvg-convert -o "$PNG_DIR/$(basename "${svg%.svg}").png" "$svg"
    done
fi
echo "wrote $out/lost-final-ack-ladder.svg $out/lossy-transfer-tsg.svg $out/lossy-transfer-series.svg $out/lossy-transfer-states.svg $out/lossy-transfer-sweep.svg $out/near-simultaneous-close-sweep.svg $out/loss-models.svg"
