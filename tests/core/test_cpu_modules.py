"""An installed Hearth uses the best llama.cpp CPU module that has been shown to run on this computer.

These tests use the installers' llama.cpp build, with every x86-64 CPU module
(``packaging/llama-wheel.sh cpu``, built once and cached; scripts/test.sh builds it during set-up),
and modules built here with gcc that die the way a module for another CPU dies.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import pytest

from app.core.errors import ModelLoadError
from app.core.providers.cpu_choice import CACHE_FILE, Outcome, choose_cpu_module, try_modules
from app.core.providers.cpu_probe import cpu_modules
from tests.conftest import portable_llama_lib
from tests.fake_cpu_modules import folder_with

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and platform.machine() == "x86_64"),
    reason="the installers' llama.cpp has one module per x86-64 CPU family on Linux",
)
# Modules built without AVX2, which have no repacked weight buffer.
WITHOUT_AVX2 = {"x64", "sse42", "sandybridge", "ivybridge", "piledriver"}


@pytest.fixture(scope="session")
def portable_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return portable_llama_lib(tmp_path_factory.mktemp("portable"))


def verdict(choice, module):
    return next(v for v in choice.verdicts if v.module == module)


def assert_the_best_that_runs_is_chosen(choice) -> None:
    """Verdicts come best score first; every module ranked above the chosen one was skipped for a reason."""
    scores = [v.score if v.score is not None else -1 for v in choice.verdicts]
    assert scores == sorted(scores, reverse=True)
    ranks = [v.module for v in choice.verdicts]
    assert verdict(choice, choice.chosen).outcome == Outcome.RUNS
    for above in choice.verdicts[: ranks.index(choice.chosen)]:
        assert above.outcome in (Outcome.CRASHED, Outcome.TIMED_OUT, Outcome.WRONG, Outcome.UNUSABLE), above


def test_each_module_is_forced_in_a_child_of_its_own_and_those_this_cpu_scores_compute_right(portable_lib: Path):
    modules = cpu_modules(portable_lib)
    assert "x64" in modules and len(modules) > 10
    for module in modules:
        choice = try_modules(portable_lib, [module])  # this test process outlives whatever the module does
        (only,) = choice.verdicts
        if only.score == 0:
            assert only.outcome == Outcome.CANNOT and choice.chosen is None
            assert only.reason == "this CPU cannot run it (score 0)"
        elif only.outcome == Outcome.CRASHED:  # what a module the CPU or the system cannot run does (AMX, say)
            assert only.detail.startswith("SIG") and only.detail.endswith("in a test run"), only.reason
        else:  # the reference check does not reject kernels that work
            assert only.outcome == Outcome.RUNS and choice.chosen == module, only.reason
    assert verdict(try_modules(portable_lib, ["x64"]), "x64").outcome == Outcome.RUNS  # any x86-64 CPU runs it


def test_the_test_run_multiplies_weights_in_the_repacked_buffers_where_the_amx_kernels_are(portable_lib: Path):
    choice = try_modules(portable_lib, list(cpu_modules(portable_lib)))
    assert_the_best_that_runs_is_chosen(choice)
    runs = verdict(choice, choice.chosen)
    buffers = runs.detail.split(", ")
    assert buffers[0] == "CPU"
    if runs.module not in WITHOUT_AVX2:
        assert "CPU_REPACK" in buffers
    if runs.module == "sapphirerapids":  # only once its AMX kernels computed right answers
        assert "AMX" in buffers


def test_a_module_that_dies_with_sigill_is_skipped_the_next_best_runs_and_later_starts_test_nothing(
    portable_lib: Path, tmp_path: Path
):
    folder = folder_with(portable_lib, ["ud2"], tmp_path / "lib")
    cache = tmp_path / "data" / "cache" / CACHE_FILE

    choice = choose_cpu_module(folder, cache, "0.3.36")

    first = choice.verdicts[0]
    assert first.module == "ud2" and first.outcome == Outcome.CRASHED
    assert first.reason == "crashed with SIGILL in a test run"
    assert_the_best_that_runs_is_chosen(choice)
    assert "Skipped ud2: crashed with SIGILL in a test run" in choice.lines()
    assert choice.report()["skipped"]["ud2"] == "crashed with SIGILL in a test run"
    assert not choice.from_cache and choice.tested_ms > 0

    again = choose_cpu_module(folder, cache, "0.3.36")
    assert again.from_cache and again.chosen == choice.chosen and again.verdicts == choice.verdicts
    assert any(line.endswith("on an earlier start") for line in again.lines())


def test_a_module_that_faults_while_being_loaded_does_not_stop_the_others_being_ranked(
    portable_lib: Path, tmp_path: Path
):
    folder = folder_with(portable_lib, ["ud2onload"], tmp_path / "lib")

    choice = try_modules(folder, list(cpu_modules(folder)))

    faulty = verdict(choice, "ud2onload")
    assert faulty.outcome == Outcome.CRASHED and faulty.reason == "crashed with SIGILL while being loaded"
    assert choice.chosen is not None and choice.chosen != "ud2onload"
    assert {v.module for v in choice.verdicts} == set(cpu_modules(folder))  # every other module was still scored


def test_a_module_that_never_finishes_its_test_is_skipped_and_tested_again_on_the_next_start(
    portable_lib: Path, tmp_path: Path
):
    folder = folder_with(portable_lib, ["hang"], tmp_path / "lib")
    cache = tmp_path / CACHE_FILE

    choice = choose_cpu_module(folder, cache, "0.3.36", timeout_s=8)

    stuck = verdict(choice, "hang")
    assert stuck.outcome == Outcome.TIMED_OUT and stuck.reason == "did not finish its test run within 8 s"
    assert choice.chosen not in (None, "hang")
    assert not cache.exists(), "a verdict that may be chance was kept"


def test_verdicts_are_kept_per_llama_build_and_a_damaged_or_edited_cache_means_testing_again(
    portable_lib: Path, tmp_path: Path
):
    cache = tmp_path / CACHE_FILE
    first = choose_cpu_module(portable_lib, cache, "0.3.36")
    assert not first.from_cache and first.computer.endswith("llama.cpp 0.3.36")
    assert choose_cpu_module(portable_lib, cache, "0.3.36").from_cache
    assert not choose_cpu_module(portable_lib, cache, "0.3.37").from_cache  # another llama.cpp: tested again
    assert choose_cpu_module(portable_lib, cache, "0.3.36").from_cache  # the first verdicts are still kept

    cache.write_text(cache.read_text().replace(f'"chosen": "{first.chosen}"', '"chosen": "../../elsewhere"'))
    edited = choose_cpu_module(portable_lib, cache, "0.3.36")
    assert not edited.from_cache and edited.chosen == first.chosen
    cache.write_bytes(b"\x00not json")
    assert choose_cpu_module(portable_lib, cache, "0.3.36").chosen == first.chosen


def test_an_installation_missing_llamas_own_library_says_so_instead_of_blaming_the_modules(
    portable_lib: Path, tmp_path: Path
):
    folder = tmp_path / "lib"
    folder.mkdir()
    for module in cpu_modules(portable_lib).values():
        (folder / module.name).symlink_to(module)

    with pytest.raises(ModelLoadError, match="could not test llama.cpp's CPU modules") as raised:
        choose_cpu_module(folder, tmp_path / CACHE_FILE, "0.3.36")

    assert "libggml" in str(raised.value) and "exit code 1" in str(raised.value)
    assert not (tmp_path / CACHE_FILE).exists()
