"""The frozen program's entry point: PyInstaller starts from a script, Hearth from ``app.cli``."""

from app.cli import run

raise SystemExit(run())
