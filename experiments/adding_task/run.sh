#!/usr/bin/env bash
# Reproduces experiments/adding_task/: the sweep of conf/experiment/adding_task.yaml, then copies its
# comparison table and plot (written by the sweep itself) here.
set -euo pipefail
# DLRUN_OUTPUTS, DLRUN_RESULTS: where the runs and the result files go (experiments/rerun_all.py)
cd "$(dirname "$0")/../.."
out=${DLRUN_OUTPUTS:-outputs}/adding_task
here=${DLRUN_RESULTS:-experiments}/adding_task
rm -rf "$out"
mkdir -p "$here"
dlrun --multirun experiment=adding_task hydra.sweep.dir="$out" "$@"
cp "$out"/comparison.csv "$out"/comparison.md "$out"/comparison.png "$here"/
# the same runs: how far back the trained models' gradients reach
dlrun-report "$out" --rows model --cols seq_len \
  --metric init/grad_rate,end/grad_rate,end/log10_grad_h1 --out "$here"/gradients
# test MSE against T with the mean predictor and the solved threshold: solved.png
python experiments/adding_task/plot.py "$here"
