#!/usr/bin/env bash
# Reproduces experiments/resnet_depth/ (1 min 45 s on the shared 2-core machine, up to 4 when busy):
# 1. init: ‖∂L/∂W₁‖ at initialisation for plain nets and residual nets with every branch
#    scaling. The gradient at init does not depend on training, but a run that diverges is
#    left out of a table's numbers, so these runs take one step of size 1e-9 and complete;
# 2. training: conf/experiment/resnet_depth.yaml (plain vs residual with zero-initialised
#    branches, without and with batch norm, 2 seeds) plus unscaled residual branches.
set -euo pipefail
# DLRUN_OUTPUTS, DLRUN_RESULTS: where the runs and the result files go (experiments/rerun_all.py)
cd "$(dirname "$0")/../.."
out=${DLRUN_OUTPUTS:-outputs}/resnet_depth
here=${DLRUN_RESULTS:-experiments}/resnet_depth
rm -rf "$out"
mkdir -p "$here"
init=(trainer.max_steps=1 optimizer.lr=1e-9 repeats=1)
dlrun --multirun experiment=resnet_depth "${init[@]}" model.residual=false \
  hydra.sweep.dir="$out/init_plain" "$@"
dlrun --multirun experiment=resnet_depth "${init[@]}" model.residual=true \
  model.branch_scale=zero,sqrt_depth,none hydra.sweep.dir="$out/init_residual" "$@"
dlrun-report "$out/init_plain" "$out/init_residual" --cols model.depth \
  --rows model.residual,model.branch_scale,model.norm --metric grad/first_layer_init \
  --out "$out/init"
dlrun --multirun experiment=resnet_depth hydra.sweep.dir="$out/zero" "$@"
dlrun --multirun experiment=resnet_depth model.residual=true model.branch_scale=none \
  hydra.sweep.dir="$out/unscaled" "$@"
dlrun-report "$out/zero" "$out/unscaled" --rows model.residual,model.branch_scale,model.norm \
  --cols model.depth --metric train/loss,train/acc --out "$out/training"
for part in init training; do
  for ext in csv md png; do cp "$out/$part/comparison.$ext" "$here/$part.$ext"; done
done
# the figures again, with the README's series names (plain, residual zero-init, ...)
python experiments/resnet_depth/plot.py "$here"
