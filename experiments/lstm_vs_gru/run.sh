#!/usr/bin/env bash
# Reproduces experiments/lstm_vs_gru/: the sweep of conf/experiment/lstm_vs_gru.yaml (LSTM against
# GRU on the adding problem at T = 200, five seeds each), then copies its comparison table, plot
# and report (written by the sweep itself) here, and each seed's steps as seeds.csv.
set -euo pipefail
# DLRUN_OUTPUTS, DLRUN_RESULTS: where the runs and the result files go (experiments/rerun_all.py)
cd "$(dirname "$0")/../.."
out=${DLRUN_OUTPUTS:-outputs}/lstm_vs_gru
here=${DLRUN_RESULTS:-experiments}/lstm_vs_gru
rm -rf "$out"
mkdir -p "$here"
dlrun --multirun experiment=lstm_vs_gru hydra.sweep.dir="$out" "$@"
cp "$out"/comparison.csv "$out"/comparison.md "$out"/comparison.png "$out"/report.html "$here"/
# the same runs, one row per seed: steps to solve and the longest plateau (seeds.csv)
python experiments/lstm_vs_gru/seeds.py "$out" "$here"
