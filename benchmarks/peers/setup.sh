#!/usr/bin/env bash
# Build the Mesa peer's virtual environment (benchmarks/peers/.venv) from requirements.txt.
# Separate from the project's .venv, so Mesa never becomes a dependency of socialcredit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
if [ ! -x "$here/.venv/bin/python" ]; then
  "$python" -m venv "$here/.venv"
fi
if ! cmp -s "$here/requirements.txt" "$here/.venv/.installed" 2>/dev/null; then
  "$here/.venv/bin/python" -m pip install -q --upgrade pip
  "$here/.venv/bin/python" -m pip install -q -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$here/.venv/.installed"
fi
"$here/.venv/bin/python" -c "import mesa; print('Mesa', mesa.__version__, 'in', '$here/.venv')"
