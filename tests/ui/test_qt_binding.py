"""The Qt binding Hearth is installed with must keep Python's reference counts right."""

from __future__ import annotations

import sys

from PySide6.QtGui import QImage, QPainter

from app.ui.main import create_app


def test_calling_qt_methods_does_not_drop_references_to_none():
    create_app()
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(1_000):
        painter.save()
        painter.restore()
    after = sys.getrefcount(None)
    painter.end()
    assert after >= before - 10, "this PySide6 release drops references to None; the window would crash"
