"""A Python without PySide6: with this folder on PYTHONPATH, ``import PySide6`` (or shiboken6, its
binding library) fails with ModuleNotFoundError, as on a machine where it was never installed.

scripts/test.sh runs tests/core once more this way, so a Qt import that crept into the core, even one
inside a function, fails there; child processes the tests start inherit PYTHONPATH and are kept without
it too. Cheaper than a second environment without the package.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

ABSENT = frozenset({"PySide6", "shiboken6"})


class Absent(MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] in ABSENT:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


sys.meta_path.insert(0, Absent())
