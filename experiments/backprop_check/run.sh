#!/usr/bin/env bash
# Reproduces experiments/backprop_check/: the gradient check of the numpy backprop, copied
# from the run directory (backprop_check.csv, .md, .png) into this folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
run=outputs/backprop_check
rm -rf "$run"
dlrun experiment=backprop_check hydra.run.dir=$run
cp "$run"/backprop_check.{csv,md,png} experiments/backprop_check/
python -c "import json; print(json.load(open('$run/summary.json'))['backprop_check'])"
