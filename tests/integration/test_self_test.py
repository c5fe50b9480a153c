"""``hearth --self-test``, the check installers run on the frozen program, run here on the source tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.core.providers.llama_backends import ensure_loaded


def test_the_self_test_answers_one_prompt_into_a_temporary_database_and_leaves_user_data_alone(
    hearth_home: Path, model_file: Path
):
    models = hearth_home / "data" / "models"
    models.mkdir(parents=True)
    (models / model_file.name).symlink_to(model_file)
    before = sorted(p.relative_to(hearth_home) for p in hearth_home.rglob("*"))

    done = subprocess.run(
        [sys.executable, "-m", "app", "--self-test"],
        env={**os.environ, "HEARTH_HOME": str(hearth_home), "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"] is True
    assert report["platform"] == "offscreen"
    assert 0 < report["launch_to_window_s"] < 60
    assert report["model_came_from"] == "your models folder"
    assert Path(report["model_file"]) == model_file.resolve()
    assert report["tier"] == "local" and report["answer"].strip()
    assert report["llama_backends"].startswith("CPU") and report["cpu_modules"] is None  # one CPU backend linked in
    assert report["database"]["integrity"] == "ok" and report["database"]["messages"] == 2
    assert not Path(report["database"]["path"]).exists(), "the temporary database outlived the self-test"
    assert sorted(p.relative_to(hearth_home) for p in hearth_home.rglob("*")) == before


def test_the_development_build_has_its_cpu_backend_linked_in():
    backends = ensure_loaded()
    assert "CPU" in backends.names
    assert backends.describe().startswith("CPU")
    assert backends.cpu is None  # nothing to choose, so nothing tested
    assert backends.lines() == [f"llama.cpp computes on {backends.describe()}, built into this copy of Hearth"]
