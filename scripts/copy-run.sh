#!/usr/bin/env bash
# Copies a finished run folder's records into REPORT_DIR/run for a
# committed report (reports/results/*): the manifest and, per cell, its
# definition, status and per-epoch records, and the JSON sidecars of its
# kept predictions. Checkpoints, saved refreshes, predictions (megabytes
# per cell and stage) and generated data are left out.
# Usage: scripts/copy-run.sh RUN_DIR REPORT_DIR
set -euo pipefail
run=${1:?usage: copy-run.sh RUN_DIR REPORT_DIR}
report=${2:?usage: copy-run.sh RUN_DIR REPORT_DIR}
[ -f "$run/manifest.json" ] || { echo "copy-run.sh: $run/manifest.json: no run folder there" >&2; exit 2; }
dst="$(cd "$report" && pwd)/run"
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
