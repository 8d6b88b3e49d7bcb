#!/usr/bin/env bash
# The README's main command: sets up Go if needed, builds xcbench, runs the
# quickstart grid (random vs NGAME vs ANCE-style negatives) and prints the
# comparison table. Extra arguments go to `xcbench run`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(scripts/ensure-go.sh):$PATH"
export GOMLX_NO_AUTO_INSTALL=1
scripts/build.sh >/dev/null
# run prints the comparison table when the grid is done.
bin/xcbench run experiments/quickstart.yaml --out runs/quickstart "$@"
