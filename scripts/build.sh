#!/usr/bin/env bash
# Builds bin/xcbench stamped with the commit it is built from and whether
# the tree had uncommitted changes (core/buildinfo): these machines build
# with -buildvcs=false, so Go's own VCS stamp is absent. Extra arguments go
# to `go build` (e.g. -tags xla). Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
commit=unknown dirty=
if git rev-parse --git-dir >/dev/null 2>&1; then
  commit=$(git rev-parse HEAD)
  if [ -n "$(git status --porcelain --untracked-files=no)" ]; then dirty=true; else dirty=false; fi
fi
pkg=github.com/xcbench/xcbench/core/buildinfo
mkdir -p bin
go build -ldflags "-X $pkg.commit=$commit -X $pkg.dirty=$dirty" "$@" -o bin/xcbench ./cmd/xcbench
echo bin/xcbench
