#!/usr/bin/env bash
# Reproduces experiments/esn_mackey_glass/: the sweep of conf/experiment/esn_mackey_glass.yaml, then copies its
# comparison table and plot (written by the sweep itself) here.
set -euo pipefail
# DLRUN_OUTPUTS, DLRUN_RESULTS: where the runs and the result files go (experiments/rerun_all.py)
cd "$(dirname "$0")/../.."
out=${DLRUN_OUTPUTS:-outputs}/esn_mackey_glass
here=${DLRUN_RESULTS:-experiments}/esn_mackey_glass
rm -rf "$out"
mkdir -p "$here"
dlrun --multirun experiment=esn_mackey_glass hydra.sweep.dir="$out" "$@"
cp "$out"/comparison.csv "$out"/comparison.md "$out"/comparison.png "$here"/
