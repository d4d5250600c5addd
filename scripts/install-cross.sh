#!/usr/bin/env bash
# Installs what `make release` needs to build for other platforms, under .tools/ (ignored):
#   .tools/zig/bin/{python,cargo-zigbuild} and Zig (PyPI `ziglang`, `cargo-zigbuild`),
#   Zig being the C compiler and linker for every target but the host's;
#   Rust's standard library for each target triple given (rustup target add).
#   scripts/install-cross.sh [TRIPLE...]
# Idempotent and offline-safe once installed (a stamp records the pins). Prints the
# directory holding cargo-zigbuild.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.tools/zig"
pins=(ziglang==0.15.2 cargo-zigbuild==0.24.1)
stamp="$venv/.joinery-pins"
want="$(printf '%s\n' "${pins[@]}")"
if [ ! -x "$venv/bin/cargo-zigbuild" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing Zig and cargo-zigbuild (${pins[*]}) into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${pins[@]}"
  printf '%s\n' "$want" >"$stamp"
fi
installed="$(rustup target list --installed)"
for triple in "$@"; do
  if ! grep -qx "$triple" <<<"$installed"; then
    echo "installing Rust's standard library for $triple (rustup target add)" >&2
    rustup target add "$triple" >&2
  fi
done
echo "$venv/bin"
