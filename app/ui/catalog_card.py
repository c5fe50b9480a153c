"""The first-run card: the catalog model that suits this computer best, two alternatives, and "Get it".

It sits below the welcome, while the bundled model answers. What this computer can
run is worked out on a worker thread (llama.cpp's device list, the catalog, the fit
estimates; nothing is read from the network). "Get it" is the only click needed: the
header is read and the fit checked, the file downloaded and checked, and the model
placed on the ladder, which the card then shows.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QStatusBar, QVBoxLayout, QWidget

from app.core.catalog.choice import Offer, Survey, survey
from app.core.catalog.hardware import GB
from app.core.paths import UserPaths
from app.ui import inert
from app.ui.catalog_download import CatalogDownload
from app.ui.worker import GeneratorWorker, call_worker, start


def offer_lines(offer: Offer) -> str:
    """What a user weighs: how it runs here and the download, then what it is good at and its licence."""
    download = f"{offer.facts.file_size / GB:.1f} GB download"
    tasks = list(offer.model.good_at)
    good_at = ", ".join(tasks[:4]) + (f" and {len(tasks) - 4} more" if len(tasks) > 4 else "")
    return f"{offer.fit.describe()} · {download}\nGood at {good_at} · {offer.model.licence} licence"


class CatalogCard(QFrame):
    def __init__(self, paths: UserPaths, endpoint: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("welcomeCard")
        self.setAccessibleName("A stronger model for this computer")
        self.paths = paths
        self.found: Survey | None = None
        self.get_buttons: list[QPushButton] = []
        self._shown: tuple[Offer, ...] = ()
        title = inert.plain_label("A stronger model for this computer", self)
        title.setObjectName("cardTitle")
        self.summary = inert.plain_label("Checking what this computer can run…", self)
        self.summary.setWordWrap(True)
        self.offers = QVBoxLayout()
        self.offers.setSpacing(10)
        self.download = CatalogDownload(paths, endpoint, self)  # the window hears when the model is ready
        self.download.idle.connect(self._enable_buttons)
        self.download.installed.connect(self._on_ready)
        self._clicked: QPushButton | None = None
        note = inert.plain_label(
            "“Get it” downloads the model from Hugging Face; nothing of yours is sent. More models, and a search "
            "of the Hub: Tools → Models → Catalog.",
            self,
        )
        note.setObjectName("hint")
        note.setWordWrap(True)
        column = QVBoxLayout(self)
        column.setContentsMargins(28, 20, 28, 20)
        column.setSpacing(10)
        for widget in (title, self.summary):
            column.addWidget(widget)
        column.addLayout(self.offers)
        column.addWidget(self.download)
        column.addWidget(note)
        self._survey: GeneratorWorker | None = call_worker(lambda: survey(paths))
        self._survey.signals.item.connect(self.show_survey)
        self._survey.signals.failed.connect(self._survey_failed)
        start(self._survey)

    def _survey_failed(self, message: str) -> None:
        self.summary.setText(f"Hearth could not weigh the catalog against this computer: {message}")

    def show_survey(self, found: Survey) -> None:
        self.found = found
        hardware = found.hardware
        gpus = ", ".join(f"{g.description} ({g.total / GB:.0f} GB)" for g in hardware.gpus)
        gpus = gpus or "no GPU llama.cpp can use"
        best = found.recommendation.best
        if best is None:
            self.summary.setText(
                f"This computer ({hardware.ram_total / GB:.0f} GB of RAM, {gpus}) runs the bundled model best; "
                "no catalog model would run at a usable speed here."
            )
            return
        self.summary.setText(f"This computer: {hardware.ram_total / GB:.0f} GB of RAM, {gpus}.")
        self._shown = (best, *found.recommendation.alternatives)
        for offer in self._shown:
            self.offers.addWidget(self._offer_row(offer, recommended=offer is best))

    def _offer_row(self, offer: Offer, recommended: bool) -> QWidget:
        row = QWidget(self)
        name = inert.plain_label(("Recommended: " if recommended else "Or: ") + offer.model.name, row)
        name.setObjectName("offerName" if recommended else "")
        details = inert.plain_label(offer_lines(offer), row)
        details.setObjectName("hint")
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(name)
        text.addWidget(details)
        button = QPushButton("Already here" if offer.downloaded else "Get it", row)
        button.setAccessibleName(f"Get {offer.model.name}")
        button.setEnabled(not offer.downloaded)
        if recommended:
            button.setObjectName("primaryButton")
        button.clicked.connect(lambda: self.get(offer, button))
        self.get_buttons.append(button)
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addLayout(text, 1)
        line.addWidget(button)
        return row

    def get(self, offer: Offer, clicked: QPushButton) -> None:
        assert self.found is not None
        for button in self.get_buttons:
            button.setEnabled(False)
        clicked.setText("Getting…")
        self._clicked = clicked
        self.download.get(offer, self.found.hardware)

    def _on_ready(self, _installed: object) -> None:
        if self._clicked is not None:
            self._clicked.setText("Ready")

    def _enable_buttons(self) -> None:
        for button, offer in zip(self.get_buttons, self._shown, strict=True):
            button.setEnabled(not offer.downloaded)
            button.setText("Already here" if offer.downloaded else "Get it")

    def stop(self) -> None:
        if self._survey is not None:
            self._survey.wait(30)
            self._survey = None
        self.download.stop()


def keep_going(download: CatalogDownload, status_bar: QStatusBar) -> None:
    """The welcome (and the card in it) goes with the first message: a download under way moves to the status bar."""
    if download.busy or download.paused:
        status_bar.addPermanentWidget(download)
