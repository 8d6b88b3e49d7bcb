#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs what the tests need
# (Go 1.26, protoc for the generated-code drift check), then vets and tests
# everything. Tests that need ../shared/data skip when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(scripts/ensure-go.sh):$PATH"
if ! command -v protoc >/dev/null 2>&1; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq protobuf-compiler >/dev/null
fi
export GOMLX_NO_AUTO_INSTALL=1
go vet ./...
go test -count=1 -timeout 15m ./...
