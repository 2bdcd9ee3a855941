#!/usr/bin/env bash
# Reproduces experiments/backprop_check/: the gradient check of the numpy backprop, copied
# from the run directory (backprop_check.csv, .md, .png) into this folder.
set -euo pipefail
# DLRUN_OUTPUTS, DLRUN_RESULTS: where the runs and the result files go (experiments/rerun_all.py)
cd "$(dirname "$0")/../.."
run=${DLRUN_OUTPUTS:-outputs}/backprop_check
here=${DLRUN_RESULTS:-experiments}/backprop_check
rm -rf "$run"
mkdir -p "$here"
dlrun experiment=backprop_check hydra.run.dir=$run
cp "$run"/backprop_check.{csv,md,png} "$here"/
python -c "import json; print(json.load(open('$run/summary.json'))['backprop_check'])"
