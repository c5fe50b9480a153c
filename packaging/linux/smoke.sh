#!/usr/bin/env bash
# Run a frozen Hearth's --self-test offscreen, as a stranger would: a clean environment (no
# Python, no virtual environment, no PYTHONPATH), an empty home, and no network needed.
# Prints the self-test's JSON report; exits non-zero unless it passed with the installer's model.
#   smoke.sh PATH/TO/hearth
set -euo pipefail
program="$1"
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
report=$(env -i PATH=/usr/bin:/bin HOME="$home" LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
  timeout 600 "$program" --self-test 2>"$home/stderr") || {
  echo "self-test of $program failed:" >&2
  cat "$home/stderr" >&2
  echo "$report" >&2
  exit 1
}
echo "$report" | tail -n 1
echo "$report" | python3 "$(dirname "$0")/../check_self_test.py"
for own in .local/share/Hearth .config/Hearth; do
  [ ! -e "$home/$own" ] || { echo "the self-test wrote the user's $own" >&2; exit 1; }
done
