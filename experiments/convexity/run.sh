#!/usr/bin/env bash
# Reproduces experiments/convexity/: each GLM and an MLP on that GLM's synthetic data, fitted by
# full-batch line search in float64, Hessian spectrum at the fitted and at random weights.
set -euo pipefail
# DLRUN_OUTPUTS, DLRUN_RESULTS: where the runs and the result files go (experiments/rerun_all.py)
cd "$(dirname "$0")/../.."
out=${DLRUN_OUTPUTS:-outputs}/convexity
here=${DLRUN_RESULTS:-experiments}/convexity
rm -rf "$out"
mkdir -p "$here"
for pair in linear:synthetic_regression logistic:synthetic_binary poisson:synthetic_count \
            softmax:synthetic_multiclass; do
  model=${pair%%:*} dataset=${pair##*:}
  dlrun -m experiment=convexity model=$model,mlp dataset=$dataset hydra.sweep.dir=$out/$dataset
done
python experiments/convexity/tabulate.py "$out" "$here"
