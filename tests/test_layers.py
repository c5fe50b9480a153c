"""app/core runs headless: it must import and answer with Qt unavailable."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

BLOCK_QT_AND_IMPORT_CORE = """
import importlib, pkgutil, sys

class NoQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6"):
            raise ImportError(f"{name} is blocked: app.core must not import Qt")
        return None

sys.meta_path.insert(0, NoQt())
import app.core
names = [m.name for m in pkgutil.walk_packages(app.core.__path__, "app.core.")]
for name in names:
    importlib.import_module(name)
import app.cli
print(len(names))
"""


def test_the_core_and_the_command_line_import_without_qt():
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_QT_AND_IMPORT_CORE], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 15
