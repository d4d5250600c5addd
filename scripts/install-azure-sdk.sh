#!/usr/bin/env bash
# Installs Microsoft's Python SDKs for Azure under .tools/azure-sdk (ignored), for the tests
# that drive the devstack's Azure emulator with Azure's own clients (tests/azure_sdk/).
#   .tools/azure-sdk/bin/python   a venv with the pinned packages below
# Idempotent and offline-safe once installed: a stamp records the pins, and nothing is
# fetched while it matches.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.tools/azure-sdk"
# Every package pinned, transitive ones included, so a run today and a run next year drive
# the emulator with the same code.
pins=(
  azure-identity==1.27.0
  azure-mgmt-compute==39.0.0
  azure-mgmt-msi==7.1.0
  azure-mgmt-authorization==4.0.0
  azure-mgmt-core==1.6.0
  azure-core==1.41.0
  azure-common==1.1.28
  msal==1.39.0
  msal-extensions==1.3.1
  isodate==0.7.2
  requests==2.34.2
  urllib3==2.8.0
  certifi==2026.10.19.post1
  charset-normalizer==3.5.3
  idna==3.20
  cryptography==50.0.2
  cffi==2.1.1
  pycparser==3.12
  PyJWT==2.15.1
  typing_extensions==4.16.0
)
stamp="$venv/.joinery-pins"
want="$(printf '%s\n' "${pins[@]}")"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$venv"
  exit 0
fi
echo "installing Azure SDKs for Python (azure-identity 1.27.0, azure-mgmt-compute 39.0.0, azure-mgmt-msi 7.1.0, azure-mgmt-authorization 4.0.0, msal 1.39.0) into $venv" >&2
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps "${pins[@]}"
"$venv/bin/python" -c 'import azure.identity, azure.mgmt.compute, azure.mgmt.msi, azure.mgmt.authorization, msal'
printf '%s\n' "$want" >"$stamp"
echo "$venv"
