"""About Hearth: its version, and the licences of what it bundles."""

from __future__ import annotations

from importlib import metadata

from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

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
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About Hearth")
        self.setAccessibleName("About Hearth")
        self.resize(620, 520)
        header = QLabel(
            f"<b>Hearth {version()}</b><br>A desktop assistant that is private by default. Licensed under Apache-2.0.",
            self,
        )
        rows = [(name, *licence_of(name)) for name in LIBRARIES] + [
            (m, "", f"{lic} · {note}") for m, lic, note in MODELS
        ]
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Component", "Version", "Licence"])
        self.table.setAccessibleName("Bundled components and their licences")
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(self.table, 1)
        layout.addWidget(close)
