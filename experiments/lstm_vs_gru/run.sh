#!/usr/bin/env bash
# Reproduces experiments/lstm_vs_gru/: LSTM against GRU on the adding problem at T = 200, five
# seeds each, at the recurrent models' defaults (dataset=adding, optimizer=adam_sequence,
# trainer=sequence), then copies the sweep's table, figure and report here.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=outputs/lstm_vs_gru
rm -rf "$out"
dlrun --multirun model=lstm,gru seq_len=200 repeats=5 \
  'report.metrics=[steps,test/loss,train_time_s]' "report.reference='model=lstm'" \
  hydra.sweep.dir="$out" "$@"
cp "$out"/comparison.csv "$out"/comparison.md "$out"/comparison.png "$out"/report.html \
  experiments/lstm_vs_gru/
