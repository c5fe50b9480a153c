#!/usr/bin/env bash
# Set up Hearth with its test tools and run the whole test suite.
#
# The suite runs inside a network namespace that has only loopback (where `unshare` allows it):
# every server the tests use is started on 127.0.0.1, and anything that tried to reach further
# would fail. Set-up fetches what needs a network first: packages, llama.cpp, the test model.
# The Linux installer build (tests/integration/test_packaging.py) installs packages, so it runs outside.
# tests/core (less the real model's tests) runs a second time with PySide6 made unimportable, as without Qt.
#   scripts/test.sh               everything
#   scripts/test.sh ARGS...       pytest ARGS, offline
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export QT_QPA_PLATFORM=offscreen
.venv/bin/python -m tests.conftest >/dev/null  # the test model, into its cache
PYTHON=.venv/bin/python bash packaging/llama-wheel.sh cpu >/dev/null  # built once (a while), then cached

offline=()
if unshare -rn sh -c 'ip link set lo up' 2>/dev/null; then
  offline=(unshare -rn sh -c 'ip link set lo up && exec "$@"' offline)
else
  echo "unshare cannot make a network namespace here: the suite runs with the network." >&2
fi

set +e
if [ "$#" -gt 0 ]; then
  "${offline[@]}" .venv/bin/python -m pytest "$@"
  status=$?
else
  "${offline[@]}" .venv/bin/python -m pytest --ignore=tests/integration/test_packaging.py
  status=$?
  # The core once more in a Python where PySide6 cannot be imported (tests/without_pyside6): the core
  # and the command line must run on a machine without Qt. The real model's tests and the two property
  # tests (thousands of generated cases through code the other core tests run too) ran above; here
  # they would only double the longest parts of the run.
  no_qt="$PWD/tests/without_pyside6${PYTHONPATH:+:$PYTHONPATH}"
  if PYTHONPATH="$no_qt" .venv/bin/python -c 'import PySide6' 2>/dev/null; then
    echo "PySide6 still imports under tests/without_pyside6: the run without it proves nothing." >&2
    core=1
  else
    PYTHONPATH="$no_qt" "${offline[@]}" .venv/bin/python -m pytest tests/core -m "not model" -q -p no:pytest-qt \
      --ignore=tests/core/test_gate_property.py --ignore=tests/core/test_fuzz_config.py \
      -W "ignore:Unknown config option:pytest.PytestConfigWarning"  # the qt_ settings of pytest-qt
    core=$?
  fi
  if [ "$status" -eq 0 ]; then status=$core; fi
  .venv/bin/python -m pytest tests/integration/test_packaging.py
  packaging=$?
  if [ "$status" -eq 0 ]; then status=$packaging; fi
fi
set -e
if [ "$status" -eq 5 ]; then
  echo "No test ran: that is a failure." >&2
  exit 1
fi
exit "$status"
