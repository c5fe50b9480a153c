"""The test run of llama.cpp's CPU modules, in a process of its own.

app.core.providers.cpu_choice starts this as a child process (``python -m app --test-cpu-modules
REQUEST``; the frozen program runs itself with the same flag). The child

1. loads every CPU module not yet judged and asks it for llama.cpp's own score of this CPU
   (``ggml_backend_score``; 0 means the module's CPUID check failed), then
2. loads the best-scoring one the way llama.cpp does (``ggml_backend_load``) and computes a
   small graph with it, checked against a reference: matrix products of every common weight
   type, for one row (generating a token) and for a batch (reading a prompt), in plain memory
   and in each of the module's repacked weight buffers (AMX, CPU_REPACK), so the kernels a
   model's first answer runs are the ones tested; then row lookups, normalisation, activations,
   soft-max and attention (cpu_kernel_check.py). If the results are wrong, the next-best module is tested.

Before each step it appends one JSON line to the events file named in the request, so that
when a module kills the process (SIGILL, SIGSEGV, ...) the parent knows which module did it
and in which step. Only the standard library is imported, so the child starts fast, frozen too.
"""

from __future__ import annotations

import ctypes
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from app.core.providers.cpu_ggml import Ggml, Unusable
from app.core.providers.cpu_kernel_check import check_module

FLAG = "--test-cpu-modules"


def cpu_modules(folder: Path) -> dict[str, Path]:
    """The CPU modules in ``folder`` by variant name (``haswell`` for libggml-cpu-haswell.so)."""
    prefix, suffix = ("ggml-cpu-", ".dll") if sys.platform == "win32" else ("libggml-cpu-", ".so")
    return {path.name[len(prefix) : -len(suffix)]: path for path in sorted(folder.glob(f"{prefix}*{suffix}"))}


def score(path: Path) -> int:
    """llama.cpp's score of this CPU for one module, from the module itself; the module is unloaded after."""
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as exc:
        raise Unusable(f"it cannot be loaded: {exc}") from exc
    try:
        function = lib.ggml_backend_score
    except AttributeError as exc:
        raise Unusable("it has no ggml_backend_score") from exc
    function.restype = ctypes.c_int
    value = int(function())
    _unload(lib)
    return value


def _unload(lib: ctypes.CDLL) -> None:
    import _ctypes

    close = getattr(_ctypes, "FreeLibrary" if sys.platform == "win32" else "dlclose")
    close(lib._handle)


class _Events:
    def __init__(self, out: TextIO):
        self.out = out

    def __call__(self, **event: object) -> None:
        self.out.write(json.dumps(event) + "\n")
        self.out.flush()  # written before the next step runs: a crash cannot take it back


def run(request: dict[str, Any], emit: Callable[..., None]) -> None:
    """Score the requested modules (all, by default) that have no score yet; test them best first until one runs."""
    folder = Path(request["folder"])
    modules = cpu_modules(folder)
    if "modules" in request:
        modules = {name: path for name, path in modules.items() if name in request["modules"]}
    scores: dict[str, int] = dict(request.get("scores", {}))
    ggml = Ggml(folder)
    emit(event="started")
    for name, path in modules.items():
        if name in scores:
            continue
        emit(event="loading", module=name)
        try:
            scores[name] = score(path)
        except Unusable as exc:
            emit(event="unusable", module=name, detail=str(exc))
            continue
        emit(event="scored", module=name, score=scores[name])
    for name in sorted((n for n in modules if scores.get(n, 0) > 0), key=lambda n: -scores[n]):
        emit(event="testing", module=name)
        started = time.perf_counter()
        try:
            wrong, buffer_types = check_module(ggml, modules[name])
        except Unusable as exc:
            emit(event="unusable", module=name, detail=str(exc))
            continue
        if wrong is None:
            ms = round((time.perf_counter() - started) * 1000, 1)
            emit(event="runs", module=name, ms=ms, buffers=", ".join(buffer_types))
            break
        emit(event="wrong", module=name, detail=wrong)
    emit(event="done")


def main(argv: list[str]) -> int:
    """Entry point of the child: one argument, the request as JSON (folder, events file, modules, scores)."""
    # A module that crashes here is an answer, not an incident: no error dialog, no core dump.
    if sys.platform == "win32":
        ctypes.windll.kernel32.SetErrorMode(0x0001 | 0x0002)  # SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX
    else:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    request = json.loads(argv[0])
    with open(request["events"], "a", encoding="utf-8") as out:
        run(request, _Events(out))
    return 0
