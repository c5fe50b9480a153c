"""CPU modules that cannot run, built with gcc by the tests that need them.

Each exports the two entry points llama.cpp's loader and Hearth's test run look for,
``ggml_backend_score`` (ranked above every real module) and ``ggml_backend_init``, and fails
the way a module built for another CPU would.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

SOURCES = {
    # Executes an illegal instruction (ud2) as llama.cpp initialises it: SIGILL in the test run.
    "ud2": """
        int ggml_backend_score(void) { return 1 << 20; }
        void *ggml_backend_init(void) { __asm__ volatile("ud2"); return 0; }
    """,
    # Executes it while the dynamic loader runs its constructors, before llama.cpp can ask anything.
    "ud2onload": """
        __attribute__((constructor)) static void fault(void) { __asm__ volatile("ud2"); }
        int ggml_backend_score(void) { return 1 << 20; }
        void *ggml_backend_init(void) { return 0; }
    """,
    # Never returns from initialising.
    "hang": """
        #include <unistd.h>
        int ggml_backend_score(void) { return 1 << 20; }
        void *ggml_backend_init(void) { for (;;) pause(); }
    """,
}


def build(name: str, folder: Path) -> Path:
    """``libggml-cpu-NAME.so`` in ``folder``."""
    source = folder / f"{name}.c"
    source.write_text(SOURCES[name])
    library = folder / f"libggml-cpu-{name}.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source)], check=True)
    source.unlink()
    return library


def folder_with(lib: Path, fakes: list[str], folder: Path) -> Path:
    """``folder`` holding llama.cpp's libraries from ``lib`` (linked, not copied) and the named fake modules."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in lib.iterdir():
        (folder / path.name).symlink_to(path)
    for name in fakes:
        build(name, folder)
    return folder
