"""About Hearth: its version, the licences of what it bundles, and the opt-in update check."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import (
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.core.config.schema import Updates
from app.core.system import updates
from app.ui import inert
from app.ui.worker import run_call

LIBRARIES = (
    "PySide6-Essentials",
    "shiboken6",
    "llama_cpp_python",
    "httpx",
    "pydantic",
    "keyring",
    "sqlite-utils",
    "platformdirs",
    "numpy",
    "markdown-it-py",
    "Pygments",
    "psutil",
    "tomlkit",
)
MODELS = (("SmolLM2-135M-Instruct (Q4_1 GGUF)", "Apache-2.0", "Hugging Face TB; default local model"),)
# Bundled inside the packages above, with their own licences.
EMBEDDED = (
    ("Qt", qVersion(), f"LGPL-3.0-only (shared libraries, through PySide6 {pyside_version})"),
    ("llama.cpp / ggml", "", "MIT (inside llama_cpp_python)"),
    ("Python", platform.python_version(), "PSF-2.0"),
)


def version() -> str:
    try:
        return metadata.version("hearth")
    except metadata.PackageNotFoundError:
        return "development"


def licence_of(distribution: str) -> tuple[str, str]:
    try:
        meta = metadata.metadata(distribution)
    except metadata.PackageNotFoundError:
        return "not installed", ""
    expression = meta.get("License-Expression") or ""
    if not expression:
        classifiers = [c.rsplit(" :: ", 1)[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
        expression = ", ".join(classifiers) or (meta.get("License") or "see its files").splitlines()[0][:40]
    return meta.get("Version") or "", expression


class AboutDialog(QDialog):
    def __init__(self, settings: Updates, data_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings, self.data_dir = settings, data_dir
        self.setWindowTitle("About Hearth")
        self.setAccessibleName("About Hearth")
        self.resize(620, 520)
        header = inert.rich_label(
            inert.markup(
                "<b>Hearth {version}</b><br>A desktop assistant that is private by default. Licensed under Apache-2.0.",
                version=version(),
            ),
            self,
        )
        rows = (
            [(name, *licence_of(name)) for name in LIBRARIES]
            + list(EMBEDDED)
            + [(m, "", f"{lic} · {note}") for m, lic, note in MODELS]
        )
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Component", "Version", "Licence"])
        self.table.setAccessibleName("Bundled components and their licences")
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(inert.tooltip(value))  # long licence expressions are cut at the column's edge
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(self.table, 1)
        layout.addWidget(self._updates())
        layout.addWidget(close)

    def _updates(self) -> QGroupBox:
        box = QGroupBox("Updates", self)
        automatic = "on: once a day at start" if self.settings.check else "off (Tools → Settings turns it on)"
        self.update_state = inert.rich_label("", self)  # its one link, to the release page, is a web address
        self.update_state.setOpenExternalLinks(True)
        self.update_state.setWordWrap(True)
        self.update_state.setAccessibleName("Update status")
        self._show(updates.last_check(self.data_dir, __version__), f"Automatic check: {automatic}.")
        self.check_now = QPushButton("Check &now", self)
        self.check_now.clicked.connect(self.check_for_update)
        what = inert.plain_label(updates.disclosure(self.settings.url, __version__), self)
        what.setWordWrap(True)
        what.setObjectName("hint")
        row = QHBoxLayout()
        row.addWidget(self.update_state, 1)
        row.addWidget(self.check_now)
        layout = QVBoxLayout(box)
        layout.addLayout(row)
        layout.addWidget(what)
        return box

    def _show(self, status: updates.UpdateStatus | None, prefix: str = "") -> None:
        """What the last check found; the release page's address is the server's word, linked only if it is web."""
        if status is None:
            found = inert.markup("{prefix} Not checked yet.", prefix=prefix)
        else:
            when = status.checked_at.astimezone().strftime("%Y-%m-%d %H:%M")
            link = " " + inert.link(status.url, "Release notes and download") if status.newer_available else ""
            found = inert.markup("{prefix} {found}", prefix=prefix, found=status.describe()) + link
            found += inert.markup(" (checked {when})", when=when)
        self.update_state.setText(found.strip())

    def _say(self, message: str) -> None:
        self.update_state.setText(inert.markup("{message}", message=message))

    def check_for_update(self) -> None:
        """Only when the user asks: the same single request the daily check makes."""
        self.check_now.setEnabled(False)
        self._say("Checking…")
        url, folder = self.settings.url, self.data_dir
        self._checker = run_call(lambda: updates.check_and_remember(url, __version__, folder))
        self._checker.signals.item.connect(self._show)
        self._checker.signals.failed.connect(self._say)
        self._checker.signals.done.connect(lambda: self.check_now.setEnabled(True))
