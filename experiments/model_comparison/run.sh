#!/usr/bin/env bash
# Reproduces experiments/model_comparison/ (49 s on the shared 2-core machine):
# conf/experiment/model_comparison.yaml (same optimizer, trainer, epochs, batch size, 3 seeds for all)
# for softmax GLM, MLP, CNN, ResNet and LSTM, on digits and on waveforms, one table per data set.
# The LSTM reads digits row by row (seq_digits: the same images and rows of the same split) and
# waveforms as sequences (dataset.sequence=true); the other models see waveforms as (N, T) rows,
# which the CNN and the conv ResNet convolve in 1-D.
set -euo pipefail
# DLRUN_OUTPUTS, DLRUN_RESULTS: where the runs and the result files go (experiments/rerun_all.py)
cd "$(dirname "$0")/../.."
out=${DLRUN_OUTPUTS:-outputs}/model_comparison
here=${DLRUN_RESULTS:-experiments}/model_comparison
rm -rf "$out"
mkdir -p "$here"
run() { dlrun --multirun experiment=model_comparison hydra.sweep.dir="$out/$1" "${@:2}"; }
resnet=(model=resnet model.form=conv model.depth=4 model.width=16)

run digits/flat model=softmax,mlp,cnn dataset=digits
run digits/resnet "${resnet[@]}" dataset=digits
run digits/lstm model=lstm dataset=seq_digits

run waveforms/flat model=softmax,mlp,cnn dataset=waveforms dataset.sequence=false
run waveforms/resnet "${resnet[@]}" dataset=waveforms dataset.sequence=false
run waveforms/lstm model=lstm dataset=waveforms

for data in digits waveforms; do
  dlrun-report "$out/$data" --rows model --cols "" --metric test/acc,n_params,train_time_s \
    --out "$out/$data"
  for ext in csv md png; do cp "$out/$data/comparison.$ext" "$here/$data.$ext"; done
done
