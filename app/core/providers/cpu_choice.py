"""Which of llama.cpp's CPU modules Hearth uses: the best-scoring one shown to run on this computer.

The installers ship llama.cpp's GGML_CPU_ALL_VARIANTS build (ggml/src/CMakeLists.txt): one
module per family of x86-64 CPUs -- x64, sse42, sandybridge, ivybridge, piledriver, haswell,
skylakex, cannonlake, cascadelake, icelake, cooperlake, zen4, alderlake, sapphirerapids --
each compiled whole with its family's instruction sets (skylakex with -mavx512f/cd/vl/dq/bw;
sapphirerapids adds AVX512-VBMI, -VNNI, -BF16, AMX-TILE and AMX-INT8). Each module scores the
CPU (ggml-cpu/arch/x86/cpu-feats.cpp) and llama.cpp loads the best. The score reads CPUID
and nothing else -- "FIXME: this does not check for OS support" -- so it can pick a module
this computer cannot run:

* On a Sapphire Rapids CPU the sapphirerapids module wins, and its AMX kernels fault. They run
  as soon as a batch of tokens (the first prompt) meets weights ggml put in its AMX buffer
  (ggml-cpu/amx/mmq.cpp): each thread first loads its tile configuration in
  ``ggml_tile_config_init``, a 64-byte struct on the stack handed to ``_tile_loadconfig``. GCC 12's
  amxtileintrin.h, which built this module, tells the optimiser that intrinsic reads 8 bytes
  (``"m" (*(const void **)config)``), so the stores of every tile's rows and row width are dead
  to it and removed: the shipped module zeroes 64 bytes, sets palette 1 and runs ``ldtilecfg``
  (``objdump -d libggml-cpu-sapphirerapids.so | grep -B4 ldtilecfg`` shows it). All eight tiles
  then have 0 rows of 0 bytes, and the next ``tileloadd``/``tdpbssd`` uses a tile that is not
  configured: an invalid opcode (#UD), which Linux delivers as SIGILL -- "Illegal instruction",
  exit 132, at the first answer right after ``load_backend: loaded CPU backend``.
* AMX also needs the operating system. Linux keeps the 8 KiB tile state disabled (XFD) until
  the process asks for it with arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA); the grant
  is per process, and any tile instruction before it is answered with SIGILL. ggml asks when it
  creates its AMX buffer and does without AMX when refused: when the kernel or hypervisor does
  not offer the state (EINVAL), or when a thread's alternate signal stack is too small for the
  bigger signal frame (ENOSPC). ``amx_tile`` in /proc/cpuinfo says the kernel supports AMX, not
  that this process may use it or that the module uses it right: the flag proves nothing.
* The same blind spot covers AVX and AVX-512: a hypervisor can report them in CPUID while XCR0
  (the state the operating system saves) leaves them out, and then every VEX/EVEX instruction
  of the module -- the compiler puts them anywhere, not only in the kernels -- is #UD.

So Hearth trusts no flag. A module is used only once a child process (app.core.providers.cpu_probe) has
loaded it and computed a graph that takes those code paths, AMX buffer and batches included,
with the right results. When the child dies (a signal, an exit code, a timeout) or a result is
wrong, the next-ranked module is tested; an unusable module costs a child process, never the
app. The verdicts are kept per CPU model, CPUID flags, operating system release and llama.cpp
build in the data folder's cache, so later starts test nothing. Verdicts that may be chance
(a test that ran out of time) are not kept: the next start tests again.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.errors import ModelLoadError
from app.core.nested_text import read_json
from app.core.providers import cpu_probe

TEST_TIMEOUT_S = 60.0
CACHE_FILE = "cpu-modules.json"
CACHED_COMPUTERS = 8  # a portable install may move between computers
# Exit codes Windows gives a process killed by a CPU exception.
WINDOWS_CRASHES = {
    0xC000001D: "an illegal instruction",
    0xC0000096: "a privileged instruction",
    0xC0000005: "an access violation",
    0xC00000FD: "a stack overflow",
    0xC0000409: "a stack buffer overrun",
}


class Outcome(StrEnum):
    RUNS = "runs"
    CANNOT = "cannot run"  # llama.cpp's score is 0
    CRASHED = "crashed"
    TIMED_OUT = "timed out"
    WRONG = "wrong results"
    UNUSABLE = "unusable"  # could not be set up at all (missing library, refused by llama.cpp)
    NOT_NEEDED = "not needed"  # ranked below the one that runs


class ModuleVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    module: str
    score: int | None = None
    outcome: Outcome
    # RUNS: the buffer types its weights were tested in; CRASHED: "SIGILL in a test run"; NOT_NEEDED: the one that runs
    detail: str = ""

    @property
    def reason(self) -> str:
        """Why the module is used or not, for a person."""
        match self.outcome:
            case Outcome.RUNS:
                return f"runs here (score {self.score}; weights tested in {self.detail})"
            case Outcome.CANNOT:
                return "this CPU cannot run it (score 0)"
            case Outcome.CRASHED:
                return f"crashed with {self.detail}"
            case Outcome.TIMED_OUT:
                return f"did not finish {self.detail}"
            case Outcome.WRONG:
                return f"computed wrong results in a test run ({self.detail})"
            case Outcome.UNUSABLE:
                return f"cannot be used: {self.detail}"
            case Outcome.NOT_NEEDED:
                return f"not needed: {self.detail} scores higher and runs"


class CpuChoice(BaseModel):
    """The verdict on every CPU module for one computer, and the module used."""

    model_config = ConfigDict(extra="forbid")

    computer: str = ""  # what the verdicts hold for, for a person
    chosen: str | None
    verdicts: list[ModuleVerdict]  # best score first
    tested_ms: float  # what testing cost when it was done
    from_cache: bool = False  # this start tested nothing

    @property
    def skipped(self) -> list[ModuleVerdict]:
        """Modules ranked above the one used, or that this CPU cannot run: the ones worth explaining."""
        return [v for v in self.verdicts if v.outcome not in (Outcome.RUNS, Outcome.NOT_NEEDED)]

    def lines(self) -> list[str]:
        """What the window says about the choice, one line each."""
        when = "on an earlier start" if self.from_cache else f"just now, in {self.tested_ms:.0f} ms"
        head = f"CPU module {self.chosen}, tested on this computer {when}" if self.chosen else "No CPU module runs"
        lines = [head] + [f"Skipped {v.module}: {v.reason}" for v in self.skipped]
        slower = sum(v.outcome == Outcome.NOT_NEEDED for v in self.verdicts)
        if slower:
            lines.append(f"{slower} slower CPU module{'s' if slower > 1 else ''} not needed")
        return lines

    def report(self) -> dict[str, object]:
        """The choice for ``hearth --self-test``'s JSON report."""
        runs = next((v for v in self.verdicts if v.outcome == Outcome.RUNS), None)
        return {
            "runs": self.chosen,
            "weights_tested_in": runs.detail if runs else None,
            "skipped": {v.module: v.reason for v in self.skipped},
            "not_needed": [v.module for v in self.verdicts if v.outcome == Outcome.NOT_NEEDED],
            "tested_ms": self.tested_ms,
            "from_cache": self.from_cache,
            "computer": self.computer,
        }

    def failure(self) -> str:
        reasons = "; ".join(f"{v.module} {v.reason}" for v in self.verdicts) or "there are none"
        return f"None of llama.cpp's CPU modules runs on this computer ({reasons}). Reinstall Hearth."


class _CacheFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    computers: dict[str, CpuChoice] = {}


def choose_cpu_module(
    folder: Path, cache_file: Path, llama_version: str, timeout_s: float = TEST_TIMEOUT_S
) -> CpuChoice:
    """The verdicts for this computer: from the cache, or from test runs in child processes."""
    modules = cpu_probe.cpu_modules(folder)
    key, computer = _identity(modules, llama_version)
    cache = _read_cache(cache_file)
    cached = cache.computers.get(key)
    if cached is not None and cached.chosen in modules:
        return cached.model_copy(update={"from_cache": True})
    choice = try_modules(folder, list(modules), timeout_s).model_copy(update={"computer": computer})
    if choice.chosen is not None and all(v.outcome != Outcome.TIMED_OUT for v in choice.verdicts):
        cache.computers[key] = choice
        cache.computers = dict(list(cache.computers.items())[-CACHED_COMPUTERS:])
        _write_cache(cache_file, cache)
    return choice


def _identity(modules: dict[str, Path], llama_version: str) -> tuple[str, str]:
    """A key for everything a verdict depends on, and a description of it."""
    cpu, flags = _cpu()
    system = f"{platform.system()} {platform.release()}"
    build = sorted((name, path.stat().st_size) for name, path in modules.items())
    key = hashlib.sha256(json.dumps([cpu, flags, system, llama_version, build]).encode()).hexdigest()[:24]
    return key, f"{cpu}, {system}, llama.cpp {llama_version}"


def _cpu() -> tuple[str, str]:
    """The CPU's model name and a digest of the features the kernel lists for it (Linux), or what Python knows."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return platform.processor() or platform.machine(), ""
    first = text.split("\n\n", 1)[0].splitlines()  # the first CPU
    fields = {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in first)}
    flags = fields.get("flags", "")
    return fields.get("model name", platform.machine()), hashlib.sha256(flags.encode()).hexdigest()[:16]


def _read_cache(path: Path) -> _CacheFile:
    """The cached verdicts; a missing, unreadable or foreign file counts as empty (the modules are tested again)."""
    try:
        return _CacheFile.model_validate_json(path.read_bytes())
    except (OSError, ValueError, ValidationError):
        return _CacheFile()


def _write_cache(path: Path, cache: _CacheFile) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(cache.model_dump_json(indent=1, exclude={"computers": {"__all__": {"from_cache"}}}))
        os.replace(partial, path)
    except OSError:
        pass  # a read-only data folder: the modules are tested again on the next start


def try_modules(folder: Path, modules: list[str], timeout_s: float = TEST_TIMEOUT_S) -> CpuChoice:
    """Test the named modules in child processes, best score first, until one runs."""
    started = time.perf_counter()
    trial = _Trial()
    with tempfile.TemporaryDirectory(prefix="hearth-cpu-test-") as scratch:
        for attempt in range(len(modules) + 1):  # each child that dies settles at least one module
            remaining = [m for m in modules if m not in trial.verdicts]
            events = Path(scratch) / f"events-{attempt}.jsonl"
            request = {
                "folder": str(folder),
                "events": str(events),
                "modules": remaining,
                "scores": {m: s for m, s in trial.scores.items() if m in remaining},
            }
            ending, stderr = _run_child(request, timeout_s)
            pending = trial.read(_read_events(events))
            if pending == "done":
                break
            if pending is None:
                how = {"timeout": "ran out of time", None: "stopped early"}.get(ending, f"ended with {ending}")
                raise ModelLoadError(
                    f"Hearth could not test llama.cpp's CPU modules in {folder}: the test process {how}. "
                    f"{_last_line(stderr)}".strip()
                )
            trial.died(*pending, ending or "an exit without a word", timeout_s)
    return CpuChoice(
        chosen=trial.chosen,
        verdicts=trial.ranked(modules),
        tested_ms=round((time.perf_counter() - started) * 1000, 1),
    )


class _Trial:
    """What the children found out so far."""

    def __init__(self) -> None:
        self.scores: dict[str, int] = {}
        self.verdicts: dict[str, ModuleVerdict] = {}
        self.chosen: str | None = None

    def _settle(self, module: str, outcome: Outcome, detail: str = "") -> None:
        self.verdicts[module] = ModuleVerdict(
            module=module, score=self.scores.get(module), outcome=outcome, detail=detail
        )

    def read(self, events: list[dict[str, Any]]) -> tuple[str, str] | str | None:
        """Take in one child's events; returns "done", the step it died in (loading or testing, module), or None."""
        pending: tuple[str, str] | str | None = None
        for event in events:
            kind, module = event["event"], str(event.get("module", ""))
            pending = (kind, module) if kind in ("loading", "testing") else "done" if kind == "done" else None
            if kind == "scored":
                self.scores[module] = int(event["score"])
            elif kind == "unusable":
                self._settle(module, Outcome.UNUSABLE, str(event["detail"]))
            elif kind == "wrong":
                self._settle(module, Outcome.WRONG, str(event["detail"]))
            elif kind == "runs":
                self.chosen = module
                self._settle(module, Outcome.RUNS, str(event["buffers"]))
        return pending

    def died(self, step: str, module: str, ending: str, timeout_s: float) -> None:
        testing = step == "testing"
        if ending == "timeout":
            self._settle(
                module, Outcome.TIMED_OUT, f"{'its test run' if testing else 'loading'} within {timeout_s:.0f} s"
            )
        else:
            self._settle(module, Outcome.CRASHED, f"{ending} {'in a test run' if testing else 'while being loaded'}")

    def ranked(self, modules: list[str]) -> list[ModuleVerdict]:
        """Every module's verdict, best score first; those never tested are below the chosen one or score 0."""
        for module in modules:
            if module not in self.verdicts and module in self.scores:
                if self.scores[module] == 0:
                    self._settle(module, Outcome.CANNOT)
                else:
                    self._settle(module, Outcome.NOT_NEEDED, self.chosen or "")
        return sorted(self.verdicts.values(), key=lambda v: -(v.score if v.score is not None else -1))


def _child_command(request: dict[str, object]) -> list[str]:
    """This program again with the hidden flag: the frozen program is its own interpreter."""
    program = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "app"]
    return [*program, cpu_probe.FLAG, json.dumps(request)]


def _run_child(request: dict[str, object], timeout_s: float) -> tuple[str | None, str]:
    """Run one child; returns how it ended (None for a clean exit, "timeout", "SIGILL", ...) and its stderr."""
    try:
        done = subprocess.run(
            _child_command(request),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout_s,
            env={**os.environ, "GGML_NO_BACKTRACE": "1"},  # ggml would start gdb on an abort
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
    except subprocess.TimeoutExpired as exc:
        return "timeout", (exc.stderr or b"").decode(errors="replace")
    except OSError as exc:
        raise ModelLoadError(f"Hearth could not start its test of llama.cpp's CPU modules: {exc}") from exc
    return _ending(done.returncode), done.stderr.decode(errors="replace")


def _ending(code: int) -> str | None:
    if code == 0:
        return None
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    unsigned = code & 0xFFFFFFFF
    if unsigned in WINDOWS_CRASHES:
        return f"{WINDOWS_CRASHES[unsigned]} (0x{unsigned:08X})"
    return f"exit code {code}"


def _read_events(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    events = []
    for line in lines:
        try:
            event = read_json(line)
        except ValueError:
            break  # a line cut short by the crash
        if isinstance(event, dict) and isinstance(event.get("event"), str):
            events.append(event)
    return events


def _last_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
