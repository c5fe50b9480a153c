"""``hearth --self-test``, the check installers run on the frozen program, run here on the source tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.core.llama_backends import choose_cpu_variant, ensure_loaded, os_allows_amx


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
    assert report["database"]["integrity"] == "ok" and report["database"]["messages"] == 2
    assert not Path(report["database"]["path"]).exists(), "the temporary database outlived the self-test"
    assert sorted(p.relative_to(hearth_home) for p in hearth_home.rglob("*")) == before


def test_the_fastest_cpu_module_is_chosen_among_those_this_cpu_can_run():
    scores = {"x64": 1, "sse42": 3, "haswell": 60, "skylakex": 0, "sapphirerapids": 0}
    assert choose_cpu_variant(scores, os_allows_amx=True) == "haswell"
    assert choose_cpu_variant({"x64": 0}, os_allows_amx=True) is None


def test_a_cpu_that_reports_amx_the_system_does_not_enable_gets_the_best_module_without_amx():
    scores = {"x64": 1, "zen4": 2000, "sapphirerapids": 4000}
    assert choose_cpu_variant(scores, os_allows_amx=False) == "zen4"
    assert choose_cpu_variant(scores, os_allows_amx=True) == "sapphirerapids"


def test_amx_counts_as_enabled_only_when_the_kernel_lists_it(tmp_path: Path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n")
    assert os_allows_amx(cpuinfo) is (not sys.platform.startswith("linux"))
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f amx_bf16 amx_tile amx_int8\n")
    assert os_allows_amx(cpuinfo) is True


def test_the_development_build_has_its_cpu_backend_linked_in():
    backends = ensure_loaded()
    assert "CPU" in backends.names
    assert backends.describe().startswith("CPU")
