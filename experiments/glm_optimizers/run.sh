#!/usr/bin/env bash
# Reproduces experiments/glm_optimizers/ (20 s on the shared 2-core machine): full-batch
# SGD and Armijo line search at step sizes 0.1, 1, 10 and Newton (IRLS) on logistic and Poisson
# regression (conf/experiment/glm_optimizers.yaml: float64, 500 iterations), then the iterations
# each needs to reach loss − loss* < 1e-8, from every run's steps.csv.
set -euo pipefail
# DLRUN_OUTPUTS, DLRUN_RESULTS: where the runs and the result files go (experiments/rerun_all.py)
cd "$(dirname "$0")/../.."
out=${DLRUN_OUTPUTS:-outputs}/glm_optimizers
here=${DLRUN_RESULTS:-experiments}/glm_optimizers
rm -rf "$out"
mkdir -p "$here"
for pair in logistic:synthetic_binary poisson:synthetic_count; do
  model=${pair%%:*} dataset=${pair##*:}
  run() { dlrun --multirun experiment=glm_optimizers model=$model dataset=$dataset "$@"; }
  run optimizer=sgd,line_search optimizer.lr=0.1,1,10 hydra.sweep.dir="$out/$model/gradient"
  run optimizer=newton hydra.sweep.dir="$out/$model/newton"
  # the sweep machinery's table of final loss and training time, both sweeps together
  dlrun-report "$out/$model" --rows optimizer --cols optimizer.lr --metric train/loss,train_time_s \
    --out "$out/$model"
  for ext in csv md; do cp "$out/$model/comparison.$ext" "$here/final_$model.$ext"; done
done
python experiments/glm_optimizers/tabulate.py "$out" "$here"
