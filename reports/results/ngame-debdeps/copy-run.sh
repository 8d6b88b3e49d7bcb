#!/usr/bin/env bash
# Copies a finished run folder's records into run/ here: the manifest and,
# per cell, its definition, status and per-epoch records, and the JSON
# sidecars of its kept predictions. Checkpoints, saved refreshes,
# predictions (about 16 MB per cell and stage) and generated data are
# left out. Usage: reports/results/ngame-debdeps/copy-run.sh RUN_DIR
set -euo pipefail
run=${1:?usage: copy-run.sh RUN_DIR}
dst="$(cd "$(dirname "$0")" && pwd)/run"
rm -rf "$dst"
mkdir -p "$dst/cells"
cp "$run/manifest.json" "$dst/"
for d in "$run"/cells/*/; do
  id=$(basename "$d")
  mkdir -p "$dst/cells/$id"
  for f in cell.json status.json epochs.jsonl predictions-m1.txt.json predictions-stage2.txt.json; do
    [ -f "$d/$f" ] && cp "$d/$f" "$dst/cells/$id/"
  done
done
