"""Whether a model fits this computer, before it is downloaded: memory needed, a verdict, a speed class.

What llama.cpp allocates for a model (as its load log reports it):

- the weights: about the file's size (the tensors are most of it);
- the KV cache: ``layers × n_ctx × kv_heads × (key_length + value_length) × 2 bytes`` (f16 cells;
  llama-cpp-python keeps a full-size cache for sliding-window layers too);
- the compute buffer: the largest of the logits of one batch (``vocab × n_ubatch × 4``) and the
  attention scores of one batch with their mask (``n_ctx × n_ubatch × (heads + 1) × 4``), plus a
  batch of activations;
  and the output buffer (one row of logits).

Against that: the free memory of the GPUs llama.cpp lists (layers are offloaded while they
fit) and a share of the RAM (the rest stays for the system and the other programs). The
speed class comes from how many bytes each token reads from each device: generating a token
reads every weight once, so memory bandwidth sets the pace. bench/fit.py checks the memory
estimate against what llama.cpp reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.core.catalog.hardware import GB, Hardware
from app.core.catalog.shape import ModelShape

HEARTH_CONTEXT = 8192  # the context a catalog model gets (less when it was trained for less)
UBATCH = 512  # llama.cpp's n_ubatch, as Hearth loads models
KV_CELL_BYTES = 2  # f16
RAM_SHARE = 0.75  # of the RAM a model may take
VRAM_SHARE = 0.9  # of a GPU's free memory a model may take
# Rough memory bandwidths (bytes per second) of ordinary desktops and laptops: they set the pace of generation.
CPU_BANDWIDTH = 30e9
GPU_BANDWIDTH = 300e9
FAST_TOKENS_S = 15.0
USABLE_TOKENS_S = 5.0


class Verdict(StrEnum):
    GPU = "fits on the GPU"
    PARTIAL = "partly on the GPU"
    CPU = "CPU only"
    NO = "will not fit"


class Speed(StrEnum):
    FAST = "fast"  # faster than anyone reads
    USABLE = "usable"  # about reading speed
    SLOW = "slow"  # noticeably slower than reading
    NONE = "-"  # it does not run here


def context_for(shape: ModelShape) -> int:
    """The context Hearth gives this model."""
    return min(HEARTH_CONTEXT, shape.context)


@dataclass(frozen=True)
class Need:
    weights: int
    kv_cache: int
    compute: int

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.compute


def memory_needed(shape: ModelShape, file_size: int, n_ctx: int) -> Need:
    kv = shape.layers * n_ctx * shape.kv_heads * (shape.key_length + shape.value_length) * KV_CELL_BYTES
    logits = shape.vocab * UBATCH * 4
    scores = n_ctx * UBATCH * (shape.heads + 1) * 4  # each head's scores, and the mask
    activations = (shape.embedding + shape.feed_forward) * UBATCH * 4
    return Need(weights=file_size, kv_cache=kv, compute=max(logits, scores) + activations + shape.vocab * 4)


@dataclass(frozen=True)
class Fit:
    verdict: Verdict
    need: Need
    gpu_layers: int  # layers Hearth offloads: -1 all, 0 none
    layers: int
    speed: Speed
    tokens_per_s: float  # the estimate behind the speed class

    def describe(self) -> str:
        size = f"needs {self.need.total / GB:.1f} GB"
        if self.verdict is Verdict.NO:
            return f"Will not fit: {size}, more than this computer can give it"
        where = {
            Verdict.GPU: "fits on the GPU entirely",
            Verdict.PARTIAL: f"partly on the GPU ({self.gpu_layers} of {self.layers} layers)",
            Verdict.CPU: "runs on the CPU",
        }[self.verdict]
        return f"{where[0].upper()}{where[1:]}, {size}, {self.speed.value}"

    def report(self) -> dict[str, object]:
        return {
            "verdict": self.verdict.name.lower(),
            "gpu_layers": self.gpu_layers,
            "need_bytes": self.need.total,
            "weights_bytes": self.need.weights,
            "kv_cache_bytes": self.need.kv_cache,
            "compute_bytes": self.need.compute,
            "speed": self.speed.value,
            "tokens_per_s": round(self.tokens_per_s, 1),
        }


def _speed(tokens_s: float) -> Speed:
    if tokens_s >= FAST_TOKENS_S:
        return Speed.FAST
    return Speed.USABLE if tokens_s >= USABLE_TOKENS_S else Speed.SLOW


def fit(shape: ModelShape, file_size: int, hardware: Hardware, n_ctx: int | None = None) -> Fit:
    need = memory_needed(shape, file_size, n_ctx or context_for(shape))
    gpu = int(hardware.gpu_free * VRAM_SHARE)
    ram = int(hardware.ram_total * RAM_SHARE)
    per_layer = (need.weights + need.kv_cache) / shape.layers
    if gpu and need.total <= gpu:
        return Fit(Verdict.GPU, need, -1, shape.layers, *_pace(need.weights, 0))
    on_gpu = max(0, min(shape.layers - 1, int((gpu - need.compute) // per_layer))) if gpu else 0
    if on_gpu and need.total - on_gpu * per_layer <= ram:
        gpu_bytes = int(need.weights * on_gpu / shape.layers)
        return Fit(Verdict.PARTIAL, need, on_gpu, shape.layers, *_pace(gpu_bytes, need.weights - gpu_bytes))
    if need.total <= ram:
        return Fit(Verdict.CPU, need, 0, shape.layers, *_pace(0, need.weights))
    return Fit(Verdict.NO, need, 0, shape.layers, Speed.NONE, 0.0)


def _pace(gpu_bytes: int, cpu_bytes: int) -> tuple[Speed, float]:
    seconds = gpu_bytes / GPU_BANDWIDTH + cpu_bytes / CPU_BANDWIDTH
    tokens_s = 1 / seconds if seconds else 0.0
    return _speed(tokens_s), tokens_s
