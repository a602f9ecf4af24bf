#!/usr/bin/env bash
# Installs the generators' Python dependencies (pinned) into model-import/.venv (git-ignored) and prints its python.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/../.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
echo "$venv/bin/python"
