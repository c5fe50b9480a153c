"""The test graph a CPU module computes before Hearth uses it, checked against a reference.

Matrix products of every common weight type, for one row (generating a token) and for a batch
(reading a prompt), in plain memory and in each of the module's repacked weight buffers (AMX,
CPU_REPACK); then row lookups, normalisation, activations, soft-max and attention. Only the
standard library is imported (it runs in the test's child process).
"""

from __future__ import annotations

import ctypes
import math
import operator
import random
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.providers.cpu_ggml import Ggml, InitParams, P, Unusable

# ggml_type values (they are part of the GGUF format, so they do not move).
F32, F16, I32, BF16 = 0, 1, 26, 30
WEIGHT_TYPES = {
    "f32": F32,
    "f16": F16,
    "bf16": BF16,
    "q4_0": 2,
    "q4_1": 3,
    "q5_0": 6,
    "q5_1": 7,
    "q8_0": 8,
    "q2_K": 10,
    "q3_K": 11,
    "q4_K": 12,
    "q5_K": 13,
    "q6_K": 14,
    "iq4_nl": 20,
    "iq4_xs": 23,
}
# How far (root-mean-square, relative) a product may be from the exact one: what quantising the
# weights and the activations costs, with room to spare. A broken kernel is off by ~100%.
TOLERANCE = {"f32": 1e-4, "f16": 0.01, "bf16": 0.02, "q8_0": 0.03, "q2_K": 0.6, "q3_K": 0.35}
QUANTISED_TOLERANCE = 0.2
# The smallest shapes every kernel accepts: AMX wants rows in multiples of 32 and K-quant blocks of 256.
K, ROWS, BATCH = 256, 32, 32
HEAD, KEYS, HEADS, QUERIES = 64, 32, 2, 4


def _floats(count: int, rng: random.Random) -> array[float]:
    return array("f", (rng.uniform(-1.0, 1.0) for _ in range(count)))


def _buffer(values: array[Any]) -> ctypes.Array[ctypes.c_char]:
    return (ctypes.c_char * (len(values) * values.itemsize)).from_buffer(values)


def _relative_error(got: array[float], want: list[float]) -> float:
    if not all(math.isfinite(v) for v in got):
        return math.inf
    error = math.fsum((g - w) ** 2 for g, w in zip(got, want, strict=True))
    return math.sqrt(error / max(math.fsum(w * w for w in want), 1e-30))


def _row_sums_error(got: array[float], width: int) -> float:
    if not all(math.isfinite(v) for v in got):
        return math.inf
    return max(abs(math.fsum(got[i : i + width]) - 1.0) for i in range(0, len(got), width))


def _beyond(got: array[float], bound: float) -> float:
    return 0.0 if all(math.isfinite(v) and abs(v) <= bound for v in got) else math.inf


Check = Callable[["array[float]"], float]


class _Graph:
    """One test graph: its inputs with their data, and each result with how to judge it."""

    def __init__(self, ggml: Ggml, tensors: int):
        self.ggml = ggml
        self.ctx = ggml.init(InitParams(ggml.tensor_overhead() * tensors + ggml.graph_overhead(), None, True))
        self.graph = ggml.new_graph(self.ctx)
        self.inputs: list[tuple[Any, ctypes.Array[ctypes.c_char]]] = []
        self.checks: list[tuple[str, Any, Check, float]] = []
        self.buffer_types: list[str] = []  # where weights were multiplied

    def encoded(self, type_: int, values: array[float], row: int) -> ctypes.Array[ctypes.c_char]:
        """``values`` (rows of ``row`` numbers) in a ggml type, by ggml's own reference quantiser."""
        rows = len(values) // row
        out = ctypes.create_string_buffer(self.ggml.row_size(type_, row) * rows)
        self.ggml.quantize_chunk(type_, _buffer(values), out, 0, rows, row, None)
        return out

    def input(self, type_: int, shape: tuple[int, ...], values: array[Any]) -> Any:
        new = self.ggml.new_tensor_2d if len(shape) == 2 else self.ggml.new_tensor_3d
        tensor = new(self.ctx, type_, *shape)
        self.inputs.append((tensor, _buffer(values) if type_ in (F32, I32) else self.encoded(type_, values, shape[0])))
        return tensor

    def check(self, label: str, node: Any, error: Check, tolerance: float) -> None:
        self.ggml.build_forward_expand(self.graph, node)
        self.checks.append((label, node, error, tolerance))

    def compute(self, backend: Any) -> str | None:
        """None when every result is right, else the first that is not."""
        ggml = self.ggml
        if not ggml.backend_alloc_ctx_tensors(self.ctx, backend):
            raise Unusable("it cannot allocate the test graph")
        for tensor, data in self.inputs:
            ggml.backend_tensor_set(tensor, data, 0, ggml.nbytes(tensor))
        if ggml.backend_graph_compute(backend, self.graph) != 0:
            return "the test graph did not compute"
        for label, node, error, tolerance in self.checks:
            got = array("f", bytes(ggml.nbytes(node)))
            ggml.backend_tensor_get(node, _buffer(got), 0, ggml.nbytes(node))
            off = error(got)
            if not off <= tolerance:
                return f"{label}: {'not a number or out of range' if math.isinf(off) else f'{off:.0%} off'}"
        return None


def _extra_buffer_types(ggml: Ggml, reg: Any, dev: Any) -> list[Any]:
    address = ggml.backend_reg_get_proc_address(reg, b"ggml_backend_dev_get_extra_bufts")
    if not address:
        return []
    types = ctypes.CFUNCTYPE(ctypes.POINTER(P), P)(address)(dev)
    found = []
    while types[len(found)]:
        found.append(types[len(found)])
    return found


def _placed(graph: _Graph, dev: Any, buft: Any, type_: int, weights: array[float]) -> Any:
    """The weights in a buffer of type ``buft``, or None where the module would not put them there."""
    ggml = graph.ggml
    ctx = ggml.init(InitParams(ggml.tensor_overhead() * 8, None, True))
    tensor = ggml.new_tensor_2d(ctx, type_, K, ROWS)
    if not ggml.backend_alloc_ctx_tensors_from_buft(ctx, buft):
        return None
    # Asked the way llama.cpp asks before it places a model's weights in a buffer type.
    for batch in (1, BATCH):
        if not ggml.backend_dev_supports_op(dev, ggml.mul_mat(ctx, tensor, ggml.new_tensor_2d(ctx, F32, K, batch))):
            return None
    ggml.backend_tensor_set(tensor, graph.encoded(type_, weights, K), 0, ggml.nbytes(tensor))  # repacked here
    return tensor


def _products(graph: _Graph, dev: Any, buffer_types: list[Any], rng: random.Random) -> None:
    """Every weight type in every buffer type times one row and a batch; rows of the plain ones looked up."""
    ggml = graph.ggml
    weights = _floats(K * ROWS, rng)
    rows = [weights[r * K : (r + 1) * K] for r in range(ROWS)]
    inputs = []
    for batch in (1, BATCH):
        values = _floats(K * batch, rng)
        exact = [math.fsum(map(operator.mul, row, values[b * K : (b + 1) * K])) for b in range(batch) for row in rows]
        inputs.append((f"{batch} row{'s' if batch > 1 else ''}", graph.input(F32, (K, batch), values), exact))
    plain: dict[str, Any] = {}
    for buft in buffer_types:
        where = ggml.backend_buft_name(buft).decode(errors="replace")
        for name, type_ in WEIGHT_TYPES.items():
            tensor = _placed(graph, dev, buft, type_, weights)
            if tensor is None:
                continue
            plain.setdefault(name, tensor)  # the first buffer type is plain memory
            if where not in graph.buffer_types:
                graph.buffer_types.append(where)
            for batch, node, exact in inputs:
                graph.check(
                    f"{name} weights in {where} times {batch}",
                    ggml.mul_mat(graph.ctx, tensor, node),
                    lambda got, exact=exact: _relative_error(got, exact),
                    TOLERANCE.get(name, QUANTISED_TOLERANCE),
                )
    picked = [3, 0, 17]  # a model's embeddings: rows looked up by token id
    ids = graph.input(I32, (len(picked), 1), array("i", picked))
    want = [v for r in picked for v in rows[r]]
    for name in ("f16", "q8_0", "q4_K", "q6_K"):
        graph.check(
            f"{name} row lookup",
            ggml.get_rows(graph.ctx, plain[name], ids),
            lambda got: _relative_error(got, want),
            TOLERANCE.get(name, QUANTISED_TOLERANCE),
        )


def _elementwise(graph: _Graph, rng: random.Random) -> None:
    """Normalisation, activations and soft-max; each soft-max row sums to one."""
    ggml, ctx = graph.ggml, graph.ctx
    x = graph.input(F32, (K, BATCH), _floats(K * BATCH, rng))
    mixed = ggml.add(ctx, ggml.mul(ctx, ggml.rms_norm(ctx, x, 1e-6), x), x)
    graph.check(
        "normalisation, activation and soft-max",
        ggml.soft_max(ctx, ggml.silu(ctx, mixed)),
        lambda got: _row_sums_error(got, K),
        1e-4,
    )


def _attention(graph: _Graph, rng: random.Random) -> None:
    """Attention over half-precision keys and values: each output is an average of values, so within their range."""
    q = graph.input(F32, (HEAD, QUERIES, HEADS), _floats(HEAD * QUERIES * HEADS, rng))
    k = graph.input(F16, (HEAD, KEYS, HEADS), _floats(HEAD * KEYS * HEADS, rng))
    values = _floats(HEAD * KEYS * HEADS, rng)
    v = graph.input(F16, (HEAD, KEYS, HEADS), values)
    bound = max(abs(value) for value in values) * 1.01
    node = graph.ggml.flash_attn_ext(graph.ctx, q, k, v, None, 1.0 / math.sqrt(HEAD), 0.0, 0.0)
    graph.check("attention", node, lambda got: _beyond(got, bound), 0.0)


def check_module(ggml: Ggml, path: Path) -> tuple[str | None, list[str]]:
    """Load one module and compute the test graph with it.

    Returns None when every result is right, else what was wrong; and the buffer types the weights were in.
    """
    reg = ggml.backend_load(str(path).encode())
    if not reg:
        raise Unusable("llama.cpp refused to load it")
    if not ggml.backend_reg_dev_count(reg):
        raise Unusable("it offers no device")
    dev = ggml.backend_reg_dev_get(reg, 0)
    backend = ggml.backend_dev_init(dev, None)
    if not backend:
        raise Unusable("its device does not start")
    rng = random.Random(20240601)
    graph = _Graph(ggml, tensors=512)
    _products(graph, dev, [ggml.backend_dev_buffer_type(dev), *_extra_buffer_types(ggml, reg, dev)], rng)
    _elementwise(graph, rng)
    _attention(graph, rng)
    return graph.compute(backend), graph.buffer_types
