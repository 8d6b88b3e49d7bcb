#!/usr/bin/env bash
# The paired comparisons this report quotes, recomputed from the test
# predictions every finished cell keeps in the run folder (not committed).
# Each writes one JSON record into compare/: metric(A) - metric(B) with a
# paired bootstrap over the 10,730 test documents and a paired t interval
# over the 3 seeds. Usage: reports/results/ngame-debdeps-long/compare.sh RUN_DIR
set -euo pipefail
run=${1:?usage: compare.sh RUN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
# cmp NAME COMPARE_FLAGS...: one record, compare/NAME.json
cmp() { "$here/../../../scripts/compare-record.sh" "$run" "$here/compare/$1.json" "${@:2}"; }
# Both stages of A against B: m1 (the encoder alone) and stage2 (+ docknn).
both() { # name, A selector, B selector
  cmp "m1-$1" --a "$2" --b "$3" --metric P@1
  cmp "stage2-$1" --a "$2" --stage-a stage2 --b "$3" --stage-b stage2 --metric P@1
}
# Samplers at equal batch (512), per loss.
for l in triplet infonce dsoftmax; do
  both "ngame-vs-random-512-$l" "sampler=ngame,batch_size=512,loss=$l" "sampler=random,batch_size=512,loss=$l"
  both "ance-vs-ngame-512-$l" "sampler=ance,batch_size=512,loss=$l" "sampler=ngame,batch_size=512,loss=$l"
done
both "ngame-vs-tasb-512-triplet" "sampler=ngame,batch_size=512,loss=triplet" "sampler=tasb,batch_size=512,loss=triplet"
# The losses against NGAME's triplet, per sampler at 512.
for s in random ngame ance; do
  for l in infonce dsoftmax; do
    both "$s-$l-vs-triplet-512" "sampler=$s,batch_size=512,loss=$l" "sampler=$s,batch_size=512,loss=triplet"
  done
done
# The batch / memory axis (triplet): in-batch samplers at 2048 against ANCE
# at 512, and NGAME against random at 2048.
both "ngame2048-vs-ance512" "sampler=ngame,batch_size=2048,loss=triplet" "sampler=ance,batch_size=512,loss=triplet"
both "random2048-vs-ance512" "sampler=random,batch_size=2048,loss=triplet" "sampler=ance,batch_size=512,loss=triplet"
both "ngame-vs-random-2048" "sampler=ngame,batch_size=2048,loss=triplet" "sampler=random,batch_size=2048,loss=triplet"
# Every pipeline at 512 against the lexical anchor (seed 0: the tf-idf kNN
# cell is deterministic and has one seed).
for s in random ngame ance; do
  for l in triplet infonce dsoftmax; do
    cmp "stage2-$s-512-$l-vs-tfidf" --a "sampler=$s,batch_size=512,loss=$l" --stage-a stage2 --b sampler=none --metric P@1
  done
done
cmp "stage2-tasb-512-triplet-vs-tfidf" --a "sampler=tasb,batch_size=512,loss=triplet" --stage-a stage2 --b sampler=none --metric P@1
