"""The layers of app/: the core runs headless, and the contracts in pyproject.toml hold (and catch a leak)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """The contracts in pyproject.toml, checked against the package under ``root``."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], capture_output=True, text=True, cwd=root, timeout=120, check=False
    )


def test_the_code_keeps_its_layers():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "leak", "contract"),
    [
        ("app/core/answers.py", "import PySide6.QtCore", "Qt only in app.ui: the core never imports it"),
        ("app/core/storage/store.py", "from app.core.routing import cascade", "No package of the core imports one"),
        ("app/core/evaluation/stats.py", "import sqlite3", "SQLite only in app.core.storage"),
        ("app/core/config/schema.py", "import app.ui.theme", "the core knows"),
    ],
)
def test_an_import_across_a_layer_fails_the_check(tmp_path: Path, module: str, leak: str, contract: str):
    shutil.copytree(REPO / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    planted = tmp_path / module
    planted.write_text(planted.read_text() + f"\n{leak}\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    broken = result.stdout[result.stdout.index("Broken contracts") :]
    assert contract in broken
    assert module.removesuffix(".py").replace("/", ".") in broken  # the copy with the leak was checked
