#!/usr/bin/env bash
# Reproduces experiments/rnn_gradients/: the sweep of conf/experiment/rnn_gradients.yaml, then copies its
# comparison table and plot (written by the sweep itself) here.
set -euo pipefail
# DLRUN_OUTPUTS, DLRUN_RESULTS: where the runs and the result files go (experiments/rerun_all.py)
cd "$(dirname "$0")/../.."
out=${DLRUN_OUTPUTS:-outputs}/rnn_gradients
here=${DLRUN_RESULTS:-experiments}/rnn_gradients
rm -rf "$out"
mkdir -p "$here"
dlrun --multirun experiment=rnn_gradients hydra.sweep.dir="$out" "$@"
cp "$out"/comparison.csv "$out"/comparison.md "$out"/comparison.png "$here"/
# the same runs, second table: fitted decay rate per step back in time, spectral radius of W
dlrun-report "$out" --rows model --cols seq_len \
  --metric init/grad_rate,end/grad_rate,init/spectral_radius,end/spectral_radius \
  --out "$here"/rates
python experiments/rnn_gradients/plot_through_time.py "$out" 200 "$here"
python experiments/rnn_gradients/baseline.py "$here"  # test MSE beside the mean predictor: baseline.md
