#!/usr/bin/env bash
# Writes one `xcbench compare` result as a JSON record for a committed
# report (reports/results/*/compare/), with the settings every report uses:
# 2,000 bootstrap resamples, bootstrap seed 1. The record is written whole
# or not at all. $XCBENCH names the binary (default bin/xcbench).
# Usage: scripts/compare-record.sh RUN_DIR OUT.json COMPARE_FLAGS...
set -euo pipefail
run=${1:?usage: compare-record.sh RUN_DIR OUT.json COMPARE_FLAGS...}
out=${2:?usage: compare-record.sh RUN_DIR OUT.json COMPARE_FLAGS...}
shift 2
mkdir -p "$(dirname "$out")"
trap 'rm -f "$out.tmp"' EXIT # a failed compare leaves no partial record
"${XCBENCH:-bin/xcbench}" compare "$run" --json --iters 2000 --seed 1 "$@" >"$out.tmp"
mv "$out.tmp" "$out"
