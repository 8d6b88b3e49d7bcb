#!/usr/bin/env bash
# The paired comparisons this report quotes, recomputed from the test
# predictions every finished cell keeps in the run folder (not committed:
# about 16 MB per cell and stage). Each writes one JSON record into
# compare/: metric(A) - metric(B) with a paired bootstrap over the 10,730
# test documents and, where both sides have 2+ seeds, a paired t interval
# over seeds. Usage: reports/results/ngame-debdeps/compare.sh RUN_DIR
set -euo pipefail
run=${1:?usage: compare.sh RUN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
# cmp NAME COMPARE_FLAGS...: one record, compare/NAME.json
cmp() { "$here/../../../scripts/compare-record.sh" "$run" "$here/compare/$1.json" "${@:2}"; }
# Each sampler's pipeline at batch 512 against the lexical anchor (seed 0,
# the one seed the deterministic tf-idf kNN cell has), in P@1 and PSP@1.
for s in random ngame tasb ance; do
  cmp "stage2-$s-512-vs-tfidf" --a sampler=$s,batch_size=512 --stage-a stage2 --b sampler=none --metric P@1
  cmp "psp-stage2-$s-512-vs-tfidf" --a sampler=$s,batch_size=512 --stage-a stage2 --b sampler=none --metric PSP@1
done
# NGAME against random and TAS-B at equal batch size, encoder alone and
# with docknn.
for b in 512 2048; do
  for s in random tasb; do
    cmp "m1-ngame-vs-$s-$b" --a sampler=ngame,batch_size=$b --b sampler=$s,batch_size=$b --metric P@1
    cmp "stage2-ngame-vs-$s-$b" --a sampler=ngame,batch_size=$b --stage-a stage2 --b sampler=$s,batch_size=$b --stage-b stage2 --metric P@1
  done
done
# Equal encoder memory: NGAME at 2048 against ANCE at 512, and ANCE against
# NGAME at the same batch size.
cmp "m1-ngame2048-vs-ance512" --a sampler=ngame,batch_size=2048 --b sampler=ance,batch_size=512 --metric P@1
cmp "stage2-ngame2048-vs-ance512" --a sampler=ngame,batch_size=2048 --stage-a stage2 --b sampler=ance,batch_size=512 --stage-b stage2 --metric P@1
cmp "m1-ance-vs-ngame-512" --a sampler=ance,batch_size=512 --b sampler=ngame,batch_size=512 --metric P@1
cmp "stage2-ance-vs-ngame-512" --a sampler=ance,batch_size=512 --stage-a stage2 --b sampler=ngame,batch_size=512 --stage-b stage2 --metric P@1
