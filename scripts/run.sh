#!/usr/bin/env bash
# Set up Hearth, fetch the default model (once, with progress), and open the window.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/hearth fetch
exec .venv/bin/hearth "$@"
