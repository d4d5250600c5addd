#!/usr/bin/env bash
# Builds OpenTofu's CLI from its Go module into .tools/bin/tofu-1.10 (ignored), so
# the provider's end-to-end tests run with OpenTofu as well as with Terraform.
#   tests/opentofu/go.mod pins github.com/opentofu/opentofu v1.10.10 (with the one
#   `replace` of OpenTofu's own go.mod: its fork of HCL) and go.sum every module.
# Built as OpenTofu builds its releases (CGO off, -trimpath, version.dev=no, so
# `tofu version` says v1.10.10). Rebuilt only when tests/opentofu changes; about
# 6 minutes on 2 cores the first time, nothing after. Prints the binary's path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/tests/opentofu"
bin="$root/.tools/bin/tofu-1.10"
stamp="$root/.tools/opentofu.sha256"
mkdir -p "$root/.tools/bin"
ldflags="-s -w -X github.com/opentofu/opentofu/version.dev=no"
sum="$( (cat "$src/go.mod" "$src/go.sum"; echo "$ldflags") | sha256sum | cut -d' ' -f1)"
if [ ! -x "$bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  echo "building OpenTofu v1.10.10 from its Go module into $bin (about 6 minutes the first time)" >&2
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath \
    -ldflags "$ldflags" \
    -o "$bin.tmp" github.com/opentofu/opentofu/cmd/tofu)
  mv "$bin.tmp" "$bin"
  echo "$sum" >"$stamp"
fi
echo "$bin"
