#!/usr/bin/env bash
# Reproduces experiments/rnn_gradients/: the sweep of conf/experiment/rnn_gradients.yaml, then copies its
# comparison table and plot (written by the sweep itself) here.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=outputs/rnn_gradients
rm -rf "$out"
dlrun --multirun experiment=rnn_gradients hydra.sweep.dir="$out" "$@"
cp "$out"/comparison.csv "$out"/comparison.md "$out"/comparison.png experiments/rnn_gradients/
# the same runs, second table: fitted decay rate per step back in time, spectral radius of W
dlrun-report "$out" --rows model --cols seq_len \
  --metric init/grad_rate,end/grad_rate,init/spectral_radius,end/spectral_radius \
  --out experiments/rnn_gradients/rates
python experiments/rnn_gradients/plot_through_time.py "$out" 200
python experiments/rnn_gradients/baseline.py  # test MSE beside the mean predictor: baseline.md
