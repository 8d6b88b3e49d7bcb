#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs what the tests need
# (Go 1.26; protoc for the generated-code drift check; the Python plugin
# runtime; chromium for the HTML report's browser check; pdflatex for the
# LaTeX tables' compile check; a single-node Slurm for the cluster test),
# then vets and tests everything. Tests that need ../shared/data skip when
# it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(scripts/ensure-go.sh):$PATH"
# protoc checks the committed generated code (Go and Python); Debian's
# python3-grpcio, python3-protobuf and python3-numpy run the Python example
# plugin through the conformance kit (plugins/python), which then must not skip.
if ! command -v protoc >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import grpc, google.protobuf, numpy' >/dev/null 2>&1; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq protobuf-compiler python3-grpcio python3-protobuf python3-numpy >/dev/null
fi
# Measured on the 2-core development machine (apt-get install, Debian 12):
# texlive-latex-base + texlive-latex-recommended 56 s, chromium 15 s.
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium fonts-dejavu-core"
command -v pdflatex >/dev/null 2>&1 || need="$need texlive-latex-base texlive-latex-recommended"
if [ -n "$need" ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
# A single-node Slurm for the cluster end-to-end test (cmd/xcbench
# TestSlurmEndToEnd), stopped again at exit if this script started it; once
# it is up that test must not skip. If it cannot start, the test skips and
# says why.
slurm_started=""
if ! sinfo -h >/dev/null 2>&1; then
  if scripts/slurm-local.sh start; then
    slurm_started=1
  else
    echo "test.sh: WARNING: no local Slurm; the Slurm end-to-end test will skip" >&2
  fi
fi
trap '[ -n "$slurm_started" ] && scripts/slurm-local.sh stop' EXIT
sinfo -h >/dev/null 2>&1 && export XCBENCH_REQUIRE_SLURM=1
export XCBENCH_REQUIRE_PYTHON=1
export GOMLX_NO_AUTO_INSTALL=1
go vet ./...
go test -count=1 -timeout 15m ./...
