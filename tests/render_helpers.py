"""Hostile text where Hearth meets it, and real files that tell whether anything touched them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QColor, QImage

from app.core.storage.store import Store

MAGENTA = QColor("#ff00ff")


class FifoWatch:
    """A FIFO that notices whoever opens it to read.

    Reading a FIFO blocks until someone writes, so a window that opened this one
    would hang for ever; a watcher in its own process (a window blocked in Qt may
    hold the GIL) writes a few bytes to whoever opened it, counts it, and lets
    them go, so a test of code that opens it fails instead of hanging.
    """

    def __init__(self, path: Path):
        self.path = path
        self._count = path.with_name(path.name + ".count")
        os.mkfifo(path)
        self._watcher: subprocess.Popen[bytes] | None = None

    @property
    def opened(self) -> int:
        """How many times it was opened so far."""
        return int(self._count.read_text() or 0) if self._count.exists() else 0

    def __enter__(self) -> FifoWatch:
        self._watcher = subprocess.Popen([sys.executable, "-c", _WATCHER, str(self.path), str(self._count)])
        return self

    def __exit__(self, *_: object) -> None:
        assert self._watcher is not None
        self._watcher.terminate()
        self._watcher.wait(10)


_WATCHER = """
import errno, os, sys, time
fifo, count = sys.argv[1], sys.argv[2]
opened = 0
while True:
    try:
        handle = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno != errno.ENXIO:  # ENXIO: nobody has it open for reading
            raise
        time.sleep(0.002)
        continue
    opened += 1
    with open(count, "w") as out:
        out.write(str(opened))
    try:
        os.write(handle, b"not an image")
    except BrokenPipeError:
        pass  # the reader gave up already
    finally:
        os.close(handle)
"""


def magenta_png(path: Path) -> Path:
    """A real photo-sized PNG in one colour nothing in Hearth uses."""
    image = QImage(120, 90, QImage.Format.Format_RGB32)
    image.fill(MAGENTA)
    assert image.save(str(path))
    return path


def shows_magenta(image: QImage) -> bool:
    return any(
        image.pixelColor(x, y) == MAGENTA for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)
    )


def conversation_with(home: Path, answer: str, title: str = "Hostile answers", question: str = "Show me") -> int:
    """A stored conversation in which the model answered ``answer``."""
    store = Store(home / "data" / "hearth.db")
    try:
        conversation = store.create_conversation(title)
        store.add_message(conversation, "user", question)
        store.add_message(conversation, "assistant", answer)
        return conversation
    finally:
        store.close()
