"""The composer's Documents chip: which collections the next message is answered from."""

from __future__ import annotations

from PySide6.QtWidgets import QMenu, QToolButton, QWidget


class DocumentsChip(QToolButton):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("documentsChip")
        self.setAccessibleName("Answer from document collections")
        self.setToolTip("Answer from your document collections; the answer cites the files it used")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._menu = QMenu(self)
        self.setMenu(self._menu)
        self._chosen: list[str] = []
        self.set_collections([])

    def set_collections(self, names: list[str]) -> None:
        """The collections there are; a chosen one that is gone is no longer chosen."""
        self._chosen = [name for name in self._chosen if name in names]
        self._menu.clear()
        for name in names:
            action = self._menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name in self._chosen)
            action.toggled.connect(lambda checked, n=name: self._toggle(n, checked))
        if not names:
            self._menu.addAction("No collections yet: add a folder under Documents in the sidebar").setEnabled(False)
        self._show()

    def _toggle(self, name: str, checked: bool) -> None:
        if checked and name not in self._chosen:
            self._chosen.append(name)
        elif not checked and name in self._chosen:
            self._chosen.remove(name)
        self._show()

    def chosen(self) -> tuple[str, ...]:
        return tuple(self._chosen)

    def _show(self) -> None:
        self.setText(f"Documents: {', '.join(self._chosen)}" if self._chosen else "Documents: off")
