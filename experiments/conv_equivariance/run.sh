#!/usr/bin/env bash
# Reproduces experiments/conv_equivariance/ (about 10 s): the sweep of
# conf/experiment/conv_equivariance.yaml (its comparison table at a one-pixel shift), then the
# per-shift tables from the runs' equivariance.csv files.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=outputs/conv_equivariance
here=experiments/conv_equivariance
rm -rf "$out"
dlrun --multirun experiment=conv_equivariance hydra.sweep.dir="$out" "$@"
cp "$out"/comparison.csv "$out"/comparison.md "$out"/comparison.png "$here"/
python "$here"/tabulate.py "$out" "$here"
