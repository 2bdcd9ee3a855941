#!/usr/bin/env bash
# Reproduces experiments/conv_equivariance/ (about 10 s): the sweep of
# conf/experiment/conv_equivariance.yaml (its comparison table at a one-pixel shift), then the
# per-shift tables from the runs' equivariance.csv files.
set -euo pipefail
# DLRUN_OUTPUTS, DLRUN_RESULTS: where the runs and the result files go (experiments/rerun_all.py)
cd "$(dirname "$0")/../.."
out=${DLRUN_OUTPUTS:-outputs}/conv_equivariance
here=${DLRUN_RESULTS:-experiments}/conv_equivariance
rm -rf "$out"
mkdir -p "$here"
dlrun --multirun experiment=conv_equivariance hydra.sweep.dir="$out" "$@"
cp "$out"/comparison.csv "$out"/comparison.md "$out"/comparison.png "$here"/
python experiments/conv_equivariance/tabulate.py "$out" "$here"
