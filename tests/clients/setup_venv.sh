#!/usr/bin/env bash
# Creates tests/clients/.venv with the stock clients the service tests drive (idempotent):
# Triton's Open Inference Protocol (KServe V2) HTTP client and schemathesis (fuzzes the service
# against its OpenAPI description). Prints the venv's python.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import tritonclient.http, numpy, schemathesis" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
fi
echo "$venv/bin/python"
