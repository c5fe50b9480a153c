#!/usr/bin/env bash
# Set up Hearth with its test tools and run the whole test suite.
# The tests fetch the default model into a shared cache on first run and
# start llama-cpp-python's own OpenAI-compatible server on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export QT_QPA_PLATFORM=offscreen
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "No test ran: that is a failure." >&2
  exit 1
fi
exit "$status"
