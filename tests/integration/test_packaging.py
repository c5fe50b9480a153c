"""The Linux installers build from this tree with one command, and the frozen program answers.

This runs packaging/linux/build.sh exactly as a release would: the portable llama.cpp wheel
(built once, then reused), PyInstaller, the archive and the .deb, and the frozen program's
--self-test from a moved copy of the folder and from the unpacked .deb. Then the frozen program
meets a CPU module that dies with SIGILL, ranked above every real one.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fake_cpu_modules import build

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and platform.machine() == "x86_64" and shutil.which("dpkg-deb")),
    reason="the Linux installers build on x86-64 Linux with dpkg-deb",
)


@pytest.fixture(scope="module")
def linux_build() -> Path:
    done = subprocess.run(["bash", "packaging/linux/build.sh"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-4000:]
    return REPO / "build" / "linux"


@pytest.mark.timeout(3600)
def test_the_linux_installers_build_and_the_frozen_program_answers_offline(linux_build: Path):
    out = linux_build
    report = json.loads((out / "report.json").read_text())
    sizes = report["sizes_mb"]
    assert {name.rsplit(".", 1)[-1] for name in sizes} >= {"gz", "deb"}
    assert 0 < sizes["of_which_model"] < sizes["folder"]
    for kind in ("archive", "deb"):
        test = report["self_test"][kind]
        assert test["ok"] and test["model_came_from"] == "the installation"
        assert test["llama_backends"].startswith("CPU (")  # a CPU variant chosen at run time
        assert test["answer"].strip() and test["database"]["integrity"] == "ok"
        cpu = test["cpu_modules"]  # tested now: the self-test starts from an empty home
        assert test["llama_backends"] == f"CPU ({cpu['runs']})" and not cpu["from_cache"] and cpu["tested_ms"] > 0
        assert all(reason for reason in cpu["skipped"].values()) and cpu["weights_tested_in"].startswith("CPU")
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


@pytest.mark.timeout(900)
def test_the_frozen_program_skips_a_cpu_module_that_dies_with_sigill_and_still_answers(linux_build: Path):
    # A linked copy of the folder beside the original (hard links need the same file system).
    copy = linux_build.parent / "sigill-test"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(linux_build / "hearth", copy, symlinks=True, copy_function=os.link)
    try:
        build("ud2", copy / "_internal" / "llama_cpp" / "lib")
        done = subprocess.run(
            ["bash", "packaging/linux/smoke.sh", str(copy / "hearth")], cwd=REPO, capture_output=True, text=True
        )
    finally:
        shutil.rmtree(copy, ignore_errors=True)

    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"] and report["answer"].strip()
    cpu = report["cpu_modules"]
    assert cpu["skipped"]["ud2"] == "crashed with SIGILL in a test run"
    assert cpu["runs"] not in (None, "ud2") and report["llama_backends"] == f"CPU ({cpu['runs']})"
    assert "skipped: ud2 crashed with SIGILL in a test run" in done.stderr
