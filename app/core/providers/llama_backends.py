"""Loading llama.cpp's compute backends in the builds that installers ship.

Installers ship llama.cpp built with ``GGML_BACKEND_DL`` and every x86-64 CPU
variant (``libggml-cpu-sse42.so`` … ``libggml-cpu-zen4.so``): the best one this
computer runs is loaded at run time, so a ten-year-old CPU still works and a new
one gets its fast kernels. Which one that is, is decided by test runs in child
processes, never by CPU flags (app.core.providers.cpu_choice says why). GPU backends
(CUDA, Vulkan) are further modules beside them, used when the computer has the
driver. llama.cpp itself only looks next to the program and in the working
directory; Hearth keeps the modules beside libllama (``llama_cpp/lib``) and
loads them from there. A development build (one CPU backend linked in) needs
none of this and is left as it is.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import ModelLoadError
from app.core.paths import user_paths
from app.core.providers import cpu_ggml, cpu_probe
from app.core.providers.cpu_choice import CACHE_FILE, CpuChoice, choose_cpu_module

GPU_BACKENDS = ("cuda", "vulkan", "hip", "sycl", "metal")


@dataclass(frozen=True)
class Backends:
    names: tuple[str, ...]  # registered backends, e.g. ("CPU",) or ("CUDA", "CPU")
    cpu: CpuChoice | None  # how the CPU module was chosen; None in a build with one CPU backend linked in

    @property
    def cpu_variant(self) -> str | None:
        return self.cpu.chosen if self.cpu else None

    def describe(self) -> str:
        cpu = f"CPU ({self.cpu_variant})" if self.cpu_variant else "CPU"
        return ", ".join(cpu if name == "CPU" else name for name in self.names)

    def lines(self) -> list[str]:
        """What computes for the local model, and which CPU modules were skipped and why."""
        head = f"llama.cpp computes on {self.describe()}"
        return [head, *self.cpu.lines()] if self.cpu else [f"{head}, built into this copy of Hearth"]


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

    choice = None
    if lib.ggml_backend_reg_count() == 0:
        folder = Path(llama_cpp.__file__).resolve().parent / "lib"
        for backend in GPU_BACKENDS:  # absent, or no driver: the CPU answers alone
            path = folder / cpu_ggml.module_file(folder, f"libggml-{backend}")
            if path.exists():
                lib.ggml_backend_load(str(path).encode())
        choice = choose_cpu_module(folder, user_paths().cache / CACHE_FILE, llama_cpp.__version__)
        if choice.chosen is None:
            raise ModelLoadError(choice.failure())
        chosen = cpu_probe.cpu_modules(folder)[choice.chosen]
        if not lib.ggml_backend_load(str(chosen).encode()):
            raise ModelLoadError(f"llama.cpp did not load {chosen}, which passed its test run. Reinstall Hearth.")
    names = tuple(
        lib.ggml_backend_reg_name(lib.ggml_backend_reg_get(i)).decode() for i in range(lib.ggml_backend_reg_count())
    )
    return Backends(names, choice)
