"""``python -m app``, and the frozen program (packaging/launch.py), start here."""

import sys

from app.core.providers import cpu_probe

if sys.argv[1:2] == [cpu_probe.FLAG]:  # a test run of llama.cpp's CPU modules (app.core.providers.cpu_choice)
    raise SystemExit(cpu_probe.main(sys.argv[2:]))

from app.cli import run  # noqa: E402 (the test run above starts without the rest of Hearth)

raise SystemExit(run())
