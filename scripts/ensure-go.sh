#!/usr/bin/env bash
# Makes Go 1.26 available on a fresh Debian machine and prints the directory
# to put on PATH. Debian bookworm ships Go 1.19, too old to build xcbench and
# too old to switch toolchains itself, so the official toolchain is fetched
# from the Go module proxy (the one registry this project may reach) as the
# golang.org/toolchain module zip.
set -euo pipefail
want=1.26.8
have_ok() {
  command -v "$1" >/dev/null 2>&1 || return 1
  local v
  v=$("$1" env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
  [ "$(printf '%s\n1.26\n' "$v" | sort -V | head -n1)" = "1.26" ]
}
if have_ok go; then dirname "$(command -v go)"; exit 0; fi
dest="${XCBENCH_GO_ROOT:-$HOME/.local/xcbench-go$want}"
if have_ok "$dest/bin/go"; then echo "$dest/bin"; exit 0; fi
need=()
command -v curl >/dev/null 2>&1 || need+=(curl ca-certificates)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2 && $sudo_cmd apt-get install -y -qq "${need[@]}" >&2
fi
proxy="${GOPROXY:-https://proxy.golang.org}"; proxy="${proxy%%,*}"
arch=$(uname -m); case "$arch" in x86_64) arch=amd64;; aarch64) arch=arm64;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetching go$want for linux-$arch from $proxy" >&2
curl -fsSL -o "$tmp/tc.zip" "$proxy/golang.org/toolchain/@v/v0.0.1-go$want.linux-$arch.zip"
unzip -q "$tmp/tc.zip" -d "$tmp/x"
mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$tmp/x/golang.org/toolchain@v0.0.1-go$want.linux-$arch" "$dest"
chmod +x "$dest/bin/"* "$dest/pkg/tool/"*/* 2>/dev/null || true
echo "$dest/bin"
