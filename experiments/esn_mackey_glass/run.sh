#!/usr/bin/env bash
# Reproduces experiments/esn_mackey_glass/: the sweep of conf/experiment/esn_mackey_glass.yaml, then copies its
# comparison table and plot (written by the sweep itself) here.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=outputs/esn_mackey_glass
rm -rf "$out"
dlrun --multirun experiment=esn_mackey_glass hydra.sweep.dir="$out" "$@"
cp "$out"/comparison.csv "$out"/comparison.md "$out"/comparison.png experiments/esn_mackey_glass/
