"""The ``hearth`` command: the window by default, or headless subcommands."""

from app.cli.main import main, run

__all__ = ["main", "run"]
