"""This computer's memory for models: RAM, each GPU as llama.cpp sees it, and the CPU module in use.

GPUs are read from llama.cpp's own device list (``ggml_backend_dev_*``), after Hearth
has loaded its backends: one path for CUDA, Vulkan, Metal or whatever backend the
installed llama.cpp has, and the numbers are the ones llama.cpp will allocate against.
RAM comes from psutil (already a dependency; it reads each platform's own API).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import psutil

from app.core.providers.llama_backends import ensure_loaded

GB = 1024**3


class DeviceType(IntEnum):
    """``enum ggml_backend_dev_type``."""

    CPU = 0
    GPU = 1
    IGPU = 2  # a GPU that shares the system's memory
    ACCEL = 3


@dataclass(frozen=True)
class Device:
    name: str  # llama.cpp's name for it, e.g. "CUDA0", "Vulkan0", "CPU"
    description: str  # what the driver calls it, e.g. "NVIDIA GeForce RTX 4070"
    kind: DeviceType
    total: int  # bytes
    free: int

    @property
    def is_gpu(self) -> bool:
        return self.kind in (DeviceType.GPU, DeviceType.IGPU)


@dataclass(frozen=True)
class Hardware:
    ram_total: int
    ram_available: int
    devices: tuple[Device, ...]  # every device llama.cpp lists, CPU included
    computes_on: str  # llama.cpp's backends, with the CPU module chosen for this computer

    @property
    def gpus(self) -> tuple[Device, ...]:
        """Discrete GPUs: their memory is their own (an integrated one shares the RAM counted already)."""
        return tuple(d for d in self.devices if d.kind is DeviceType.GPU)

    @property
    def gpu_free(self) -> int:
        return sum(gpu.free for gpu in self.gpus)

    def lines(self) -> list[str]:
        lines = [f"RAM: {self.ram_total / GB:.1f} GB ({self.ram_available / GB:.1f} GB available)"]
        gpus = [d for d in self.devices if d.is_gpu]
        for gpu in gpus:
            shared = ", shares the RAM" if gpu.kind is DeviceType.IGPU else ""
            lines.append(
                f"GPU {gpu.name}: {gpu.description}, {gpu.total / GB:.1f} GB ({gpu.free / GB:.1f} GB free{shared})"
            )
        if not gpus:
            lines.append("GPU: none that llama.cpp can use in this copy of Hearth (models run on the CPU)")
        lines.append(f"Computes on: {self.computes_on}")
        return lines

    def report(self) -> dict[str, object]:
        return {
            "ram_total": self.ram_total,
            "ram_available": self.ram_available,
            "devices": [
                {
                    "name": d.name,
                    "description": d.description,
                    "type": d.kind.name.lower(),
                    "total": d.total,
                    "free": d.free,
                }
                for d in self.devices
            ],
            "computes_on": self.computes_on,
        }


def _bound(lib: Any) -> Any:
    lib.ggml_backend_dev_count.restype = ctypes.c_size_t
    lib.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
    lib.ggml_backend_dev_get.restype = ctypes.c_void_p
    for name in ("ggml_backend_dev_name", "ggml_backend_dev_description"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
        getattr(lib, name).restype = ctypes.c_char_p
    lib.ggml_backend_dev_type.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_dev_type.restype = ctypes.c_int
    size_p = ctypes.POINTER(ctypes.c_size_t)
    lib.ggml_backend_dev_memory.argtypes = [ctypes.c_void_p, size_p, size_p]
    lib.ggml_backend_dev_memory.restype = None
    return lib


def llama_devices() -> tuple[Device, ...]:
    """Every device in llama.cpp's list, with the memory llama.cpp reports for it."""
    import llama_cpp.llama_cpp as bindings

    ensure_loaded()  # the backends (and so the devices) are registered first
    lib = _bound(bindings._lib)  # libllama's handle: its registry, not a second copy's (see llama_backends)
    devices = []
    for index in range(lib.ggml_backend_dev_count()):
        device = lib.ggml_backend_dev_get(index)
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        lib.ggml_backend_dev_memory(device, ctypes.byref(free), ctypes.byref(total))
        kind = lib.ggml_backend_dev_type(device)
        devices.append(
            Device(
                name=(lib.ggml_backend_dev_name(device) or b"?").decode(errors="replace"),
                description=(lib.ggml_backend_dev_description(device) or b"").decode(errors="replace"),
                kind=DeviceType(kind) if kind in DeviceType._value2member_map_ else DeviceType.ACCEL,
                total=int(total.value),
                free=int(free.value),
            )
        )
    return tuple(devices)


def measure() -> Hardware:
    memory = psutil.virtual_memory()
    return Hardware(int(memory.total), int(memory.available), llama_devices(), ensure_loaded().describe())
