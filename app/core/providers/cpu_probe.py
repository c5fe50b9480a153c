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
   soft-max and attention. If the results are wrong, the next-best module is tested.

Before each step it appends one JSON line to the events file named in the request, so that
when a module kills the process (SIGILL, SIGSEGV, ...) the parent knows which module did it
and in which step. Only the standard library is imported, so the child starts fast, frozen too.
"""

from __future__ import annotations

import ctypes
import json
import math
import operator
import os
import random
import sys
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

FLAG = "--test-cpu-modules"

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

P = ctypes.c_void_p
I64 = ctypes.c_int64
SIZE = ctypes.c_size_t


class _InitParams(ctypes.Structure):
    _fields_ = [("mem_size", SIZE), ("mem_buffer", P), ("no_alloc", ctypes.c_bool)]


_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
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
    "ggml_init": (P, [_InitParams]),
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


def cpu_modules(folder: Path) -> dict[str, Path]:
    """The CPU modules in ``folder`` by variant name (``haswell`` for libggml-cpu-haswell.so)."""
    prefix, suffix = ("ggml-cpu-", ".dll") if sys.platform == "win32" else ("libggml-cpu-", ".so")
    return {path.name[len(prefix) : -len(suffix)]: path for path in sorted(folder.glob(f"{prefix}*{suffix}"))}


class Ggml:
    """The few functions of ggml the test run calls, typed for ctypes."""

    def __init__(self, folder: Path):
        if sys.platform == "win32":
            os.add_dll_directory(str(folder))
        # Registry first: on Linux the base library it needs is then the one this handle finds.
        self._libs = [ctypes.CDLL(str(module_file(folder, stem))) for stem in ("libggml", "libggml-base")]
        for name, (restype, argtypes) in _SIGNATURES.items():
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
        self.ctx = ggml.init(_InitParams(ggml.tensor_overhead() * tensors + ggml.graph_overhead(), None, True))
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
    ctx = ggml.init(_InitParams(ggml.tensor_overhead() * 8, None, True))
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
