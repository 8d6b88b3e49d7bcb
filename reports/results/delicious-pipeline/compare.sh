#!/usr/bin/env bash
# The comparisons this report quotes, on the test split, recomputed from the
# test predictions every finished cell keeps (not committed). Each writes
# one JSON record into compare/: a paired bootstrap over the 3,185 test
# documents and, where A has 2+ seeds, a t interval over seeds.
# Usage: reports/results/delicious-pipeline/compare.sh RUN_DIR
set -euo pipefail
run=${1:?usage: compare.sh RUN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
# cmp NAME COMPARE_FLAGS...: one record, compare/NAME.json
cmp() { "$here/../../../scripts/compare-record.sh" "$run" "$here/compare/$1.json" "${@:2}"; }
# The XC repository's kNN on this data set (P@1 64.95, ../shared/data/README.md).
published=64.95
for s in ance random; do
  fused="dataset=delicious,sampler=$s,lexical_weight=1"
  alone="dataset=delicious,sampler=$s,lexical_weight=0"
  cmp "$s-fused-vs-published" --a "$fused" --stage-a stage2 --against $published
  cmp "$s-alone-vs-published" --a "$alone" --stage-a stage2 --against $published
  cmp "$s-fused-vs-alone" --a "$fused" --stage-a stage2 --b "$alone" --stage-b stage2
  for k in 10 25; do
    cmp "$s-fused-vs-tfidf$k" --a "$fused" --stage-a stage2 --b "dataset=delicious,sampler=none,k=$k"
  done
done
cmp "ance-vs-random-fused" --a "dataset=delicious,sampler=ance,lexical_weight=1" --stage-a stage2 --b "dataset=delicious,sampler=random,lexical_weight=1" --stage-b stage2
for k in 10 25; do
  cmp "tfidf$k-vs-published" --a "dataset=delicious,sampler=none,k=$k" --against $published
done
