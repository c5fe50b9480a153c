"""Loading llama.cpp's compute backends in the builds that installers ship.

Installers ship llama.cpp built with ``GGML_BACKEND_DL`` and every x86-64 CPU
variant (``libggml-cpu-sse42.so`` … ``libggml-cpu-zen4.so``): each variant
scores the CPU it runs on and the best one is loaded at run time, so a
ten-year-old CPU still works and a new one gets its fast kernels. GPU backends
(CUDA, Vulkan) are further modules beside them, used when the computer has the
driver. llama.cpp itself only looks next to the program and in the working
directory; Hearth keeps the modules beside libllama (``llama_cpp/lib``) and
loads them from there.

llama.cpp's choice trusts CPUID alone. A CPU can report AMX while the operating
system does not let processes use it (some virtual machines do this); the AMX
variant then dies with "Illegal instruction". Hearth skips AMX variants unless
the OS enables AMX. A development build (one CPU backend linked in) needs none
of this and is left as it is.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import ModelLoadError

# Variants of llama.cpp's GGML_CPU_ALL_VARIANTS that use AMX instructions.
AMX_VARIANTS = frozenset({"sapphirerapids"})
GPU_BACKENDS = ("cuda", "vulkan", "hip", "sycl", "metal")


@dataclass(frozen=True)
class Backends:
    names: tuple[str, ...]  # registered backends, e.g. ("CPU",) or ("CUDA", "CPU")
    cpu_variant: str | None  # the CPU variant chosen at run time; None in a build with one CPU backend

    def describe(self) -> str:
        cpu = f"CPU ({self.cpu_variant})" if self.cpu_variant else "CPU"
        return ", ".join(cpu if name == "CPU" else name for name in self.names)


def module_name(backend: str) -> str:
    """The file name llama.cpp gives a backend module on this platform."""
    return f"ggml-{backend}.dll" if sys.platform == "win32" else f"libggml-{backend}.so"


def choose_cpu_variant(scores: Mapping[str, int], os_allows_amx: bool) -> str | None:
    """The best-scoring variant this CPU and OS can run (a score of 0 means it cannot)."""
    usable = {
        name: score for name, score in scores.items() if score > 0 and (os_allows_amx or name not in AMX_VARIANTS)
    }
    return max(usable, key=lambda name: usable[name]) if usable else None


def os_allows_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Linux lists amx_tile only when the kernel lets processes use AMX; other builds have no AMX variant."""
    if not sys.platform.startswith("linux"):
        return True
    try:
        return any(line.startswith("flags") and " amx_tile" in line for line in cpuinfo.read_text().splitlines())
    except OSError:
        return False


def _cpu_variant_scores(folder: Path) -> dict[str, int]:
    prefix, suffix = module_name("cpu-").split("cpu-")
    scores: dict[str, int] = {}
    for path in sorted(folder.glob(f"{prefix}cpu-*{suffix}")):
        variant = path.name[len(prefix) + len("cpu-") : -len(suffix)]
        try:
            score = ctypes.CDLL(str(path)).ggml_backend_score
        except (OSError, AttributeError):
            continue
        score.restype = ctypes.c_int
        scores[variant] = score()
    return scores


_lock = threading.Lock()
_loaded: Backends | None = None


def ensure_loaded() -> Backends:
    """Register llama.cpp's backends once per process and say which ones run."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _load()
        return _loaded


def _load() -> Backends:
    import llama_cpp
    import llama_cpp.llama_cpp as bindings

    # The registry must be the one libllama links to.  The wheel holds libggml.so and libggml.so.0
    # as two files, and loading both gives two registries; symbols looked up through libllama's
    # handle come from the copy libllama uses.
    lib = bindings._lib
    lib.ggml_backend_reg_count.restype = ctypes.c_size_t
    lib.ggml_backend_reg_get.argtypes = [ctypes.c_size_t]
    lib.ggml_backend_reg_get.restype = ctypes.c_void_p
    lib.ggml_backend_reg_name.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_reg_name.restype = ctypes.c_char_p
    lib.ggml_backend_load.argtypes = [ctypes.c_char_p]
    lib.ggml_backend_load.restype = ctypes.c_void_p

    variant = None
    if lib.ggml_backend_reg_count() == 0:
        folder = Path(llama_cpp.__file__).resolve().parent / "lib"
        for backend in GPU_BACKENDS:  # absent, or no driver: the CPU answers alone
            path = folder / module_name(backend)
            if path.exists():
                lib.ggml_backend_load(str(path).encode())
        variant = choose_cpu_variant(_cpu_variant_scores(folder), os_allows_amx())
        if variant is None or not lib.ggml_backend_load(str(folder / module_name(f"cpu-{variant}")).encode()):
            raise ModelLoadError(
                f"None of llama.cpp's CPU modules in {folder} runs on this computer. Reinstall Hearth."
            )
    names = tuple(
        lib.ggml_backend_reg_name(lib.ggml_backend_reg_get(i)).decode() for i in range(lib.ggml_backend_reg_count())
    )
    return Backends(names, variant)
