#!/usr/bin/env bash
# Create .venv and install Hearth into it (with test tools when given "test").
# Safe to run again: it only installs what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Hearth needs Python 3.11 or newer; $("$python" --version 2>&1) was found. Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv ..." >&2
  "$python" -m venv .venv
fi
venv_python="$PWD/.venv/bin/python"

# llama-cpp-python comes as source only; build it once, portable (never -march=native).
wheel=$(PYTHON="$venv_python" bash packaging/llama-wheel.sh)
"$venv_python" -m pip install --quiet --disable-pip-version-check "$wheel"

extras=""
[ "${1:-}" = "test" ] && extras="[test]"
"$venv_python" -m pip install --quiet --disable-pip-version-check -e ".$extras"
