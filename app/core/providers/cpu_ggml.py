"""The few functions of ggml that the test run of llama.cpp's CPU modules calls, typed for ctypes.

Only the standard library is imported: the child process that runs the test starts fast, frozen too.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path
from typing import Any

P = ctypes.c_void_p
I64 = ctypes.c_int64
SIZE = ctypes.c_size_t


class InitParams(ctypes.Structure):
    _fields_ = [("mem_size", SIZE), ("mem_buffer", P), ("no_alloc", ctypes.c_bool)]


SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "ggml_backend_load": (P, [ctypes.c_char_p]),
    "ggml_backend_reg_dev_count": (SIZE, [P]),
    "ggml_backend_reg_dev_get": (P, [P, SIZE]),
    "ggml_backend_reg_get_proc_address": (P, [P, ctypes.c_char_p]),
    "ggml_backend_dev_init": (P, [P, ctypes.c_char_p]),
    "ggml_backend_dev_buffer_type": (P, [P]),
    "ggml_backend_dev_supports_op": (ctypes.c_bool, [P, P]),
    "ggml_backend_buft_name": (ctypes.c_char_p, [P]),
    "ggml_backend_alloc_ctx_tensors": (P, [P, P]),
    "ggml_backend_alloc_ctx_tensors_from_buft": (P, [P, P]),
    "ggml_backend_tensor_set": (None, [P, P, SIZE, SIZE]),
    "ggml_backend_tensor_get": (None, [P, P, SIZE, SIZE]),
    "ggml_backend_graph_compute": (ctypes.c_int, [P, P]),
    "ggml_init": (P, [InitParams]),
    "ggml_tensor_overhead": (SIZE, []),
    "ggml_graph_overhead": (SIZE, []),
    "ggml_nbytes": (SIZE, [P]),
    "ggml_row_size": (SIZE, [ctypes.c_int, I64]),
    "ggml_quantize_chunk": (SIZE, [ctypes.c_int, P, P, I64, I64, I64, P]),
    "ggml_new_tensor_2d": (P, [P, ctypes.c_int, I64, I64]),
    "ggml_new_tensor_3d": (P, [P, ctypes.c_int, I64, I64, I64]),
    "ggml_mul_mat": (P, [P, P, P]),
    "ggml_get_rows": (P, [P, P, P]),
    "ggml_rms_norm": (P, [P, P, ctypes.c_float]),
    "ggml_mul": (P, [P, P, P]),
    "ggml_add": (P, [P, P, P]),
    "ggml_silu": (P, [P, P]),
    "ggml_soft_max": (P, [P, P]),
    "ggml_flash_attn_ext": (P, [P, P, P, P, P, ctypes.c_float, ctypes.c_float, ctypes.c_float]),
    "ggml_new_graph": (P, [P]),
    "ggml_build_forward_expand": (None, [P, P]),
}


class Unusable(Exception):
    """The module could not even be set up (not a crash): the message says why."""


def module_file(folder: Path, stem: str) -> Path:
    """A library as llama.cpp names it on this platform (the soname's file on Linux, where there is one)."""
    if sys.platform == "win32":
        return folder / f"{stem.removeprefix('lib')}.dll"
    if sys.platform == "darwin":
        return folder / f"{stem}.dylib"
    soname = folder / f"{stem}.so.0"
    return soname if soname.exists() else folder / f"{stem}.so"


class Ggml:
    """The few functions of ggml the test run calls, typed for ctypes."""

    def __init__(self, folder: Path):
        if sys.platform == "win32":
            os.add_dll_directory(str(folder))
        # Registry first: on Linux the base library it needs is then the one this handle finds.
        self._libs = [ctypes.CDLL(str(module_file(folder, stem))) for stem in ("libggml", "libggml-base")]
        for name, (restype, argtypes) in SIGNATURES.items():
            function = self._find(name)
            function.restype, function.argtypes = restype, argtypes
            setattr(self, name.removeprefix("ggml_"), function)

    def _find(self, name: str) -> Any:
        for lib in self._libs:
            try:
                return getattr(lib, name)
            except AttributeError:
                continue
        raise Unusable(f"this llama.cpp has no {name}")

    def __getattr__(self, name: str) -> Any:
        """Only reached for a name __init__ did not set; declared so type checkers accept the functions it sets."""
        raise AttributeError(name)
