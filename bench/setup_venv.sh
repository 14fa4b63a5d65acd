#!/usr/bin/env bash
# Creates bench/.venv with the Python peers (idempotent).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import optbinning, lightgbm, sklearn, pyarrow, pandas, pyod" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi
echo "$venv/bin/python"
