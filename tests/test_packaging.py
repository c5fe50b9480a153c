"""The Linux installers build from this tree with one command, and the frozen program answers.

This runs packaging/linux/build.sh exactly as a release would: the portable llama.cpp wheel
(built once, then reused), PyInstaller, the archive and the .deb, and the frozen program's
--self-test from a moved copy of the folder and from the unpacked .deb.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and platform.machine() == "x86_64" and shutil.which("dpkg-deb")),
    reason="the Linux installers build on x86-64 Linux with dpkg-deb",
)


@pytest.mark.timeout(3600)
def test_the_linux_installers_build_and_the_frozen_program_answers_offline():
    done = subprocess.run(["bash", "packaging/linux/build.sh"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-4000:]

    out = REPO / "build" / "linux"
    report = json.loads((out / "report.json").read_text())
    sizes = report["sizes_mb"]
    assert {name.rsplit(".", 1)[-1] for name in sizes} >= {"gz", "deb"}
    assert 0 < sizes["of_which_model"] < sizes["folder"]
    for kind in ("archive", "deb"):
        test = report["self_test"][kind]
        assert test["ok"] and test["model_came_from"] == "the installation"
        assert test["llama_backends"].startswith("CPU (")  # a CPU variant chosen at run time
        assert test["answer"].strip() and test["database"]["integrity"] == "ok"
    control = subprocess.run(["dpkg-deb", "--field", str(next(out.glob("*.deb")))], capture_output=True, text=True)
    assert "Package: hearth" in control.stdout and "libc6 (>= 2." in control.stdout
    listing = subprocess.run(["dpkg-deb", "--contents", str(next(out.glob("*.deb")))], capture_output=True, text=True)
    assert "./usr/share/applications/hearth.desktop" in listing.stdout
    assert "./usr/bin/hearth -> /opt/hearth/hearth" in listing.stdout
    modules = sorted(p.name for p in (out / "hearth" / "_internal" / "llama_cpp" / "lib").glob("libggml-cpu-*.so"))
    assert "libggml-cpu-x64.so" in modules and len(modules) > 5
    pyside = out / "hearth" / "_internal" / "PySide6"
    assert sorted(p.name.split(".")[0] for p in pyside.glob("Qt*.abi3.so")) == ["QtCore", "QtGui", "QtWidgets"]
    assert not list((pyside / "Qt").glob("translations/*.qm"))
