"""At start, after a crash: the report that stayed on this computer, offered to the user."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.system import crash_reports
from app.ui import inert


class CrashReportOffer(QMessageBox):
    """Read the report (Show Details…), keep it, delete it, or decide at the next start."""

    def __init__(self, reports: list[Path], parent: QWidget | None = None):
        super().__init__(parent)
        self.reports = reports
        times = "" if len(reports) == 1 else f" ({len(reports)} reports)"
        self.setIcon(QMessageBox.Icon.Information)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWindowTitle("Hearth stopped unexpectedly")
        self.setText(f"Hearth stopped unexpectedly last time{times}. A report was saved on this computer.")
        self.setInformativeText(
            "Nothing was sent anywhere. Read it with Show Details; if you report the problem, "
            "you decide whether to share it. Keys and personal details were removed from it."
        )
        self.setDetailedText(reports[0].read_text(encoding="utf-8", errors="replace"))
        inert.plain_labels(self)
        self.keep = self.addButton("Keep", QMessageBox.ButtonRole.AcceptRole)
        self.delete = self.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        self.open_folder = self.addButton("Open folder", QMessageBox.ButtonRole.ActionRole)
        self.later = self.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.keep)
        self.buttonClicked.connect(self._decide)

    def _decide(self, button: object) -> None:
        if button is self.open_folder:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.reports[0].parent)))
        if button in (self.keep, self.open_folder):
            for report in self.reports:
                crash_reports.mark_seen(report)
        elif button is self.delete:
            for report in self.reports:
                report.unlink(missing_ok=True)


def offer_crash_reports(parent: QWidget, data: Path) -> CrashReportOffer | None:
    reports = crash_reports.pending(data)
    if not reports:
        return None
    offer = CrashReportOffer(reports, parent)
    offer.open()
    return offer
