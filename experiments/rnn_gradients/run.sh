#!/usr/bin/env bash
# Reproduces experiments/rnn_gradients/: the sweep of conf/experiment/rnn_gradients.yaml, then copies its
# comparison table and plot (written by the sweep itself) here.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=outputs/rnn_gradients
rm -rf "$out"
dlrun --multirun experiment=rnn_gradients hydra.sweep.dir="$out" "$@"
cp "$out"/comparison.csv "$out"/comparison.md "$out"/comparison.png experiments/rnn_gradients/
