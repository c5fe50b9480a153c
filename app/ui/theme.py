"""Light and dark looks: one set of colours feeds the style sheet, the palette and the message painter."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from string import Template

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from app.core.paths import bundled
from app.ui.markdown_html import DARK_CODE, LIGHT_CODE, CodeTheme


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    sidebar: str
    selected: str
    text: str
    muted: str
    accent: str
    accent_hover: str
    user_bubble: str
    answer_bubble: str
    border: str
    note: str
    escalated: str
    field: str
    bar_track: str
    bar_fill: str
    link: str

    @property
    def code(self) -> CodeTheme:
        return DARK_CODE if self.name == "dark" else LIGHT_CODE


LIGHT = Theme(
    name="light",
    window="#faf8f5",
    sidebar="#f0ece6",
    selected="#e2d8cc",
    text="#222222",
    muted="#6b6158",
    accent="#c8553d",
    accent_hover="#b1462f",
    user_bubble="#e8eef7",
    answer_bubble="#ffffff",
    border="#e6e0d8",
    note="#8a5a00",
    escalated="#8a3b12",
    field="#ffffff",
    bar_track="#efe9e1",
    bar_fill="#5b8c5a",
    link="#a5402b",
)

DARK = Theme(
    name="dark",
    window="#1f1d1b",
    sidebar="#272421",
    selected="#3d3630",
    text="#ece7e1",
    muted="#a89f95",
    accent="#d8664d",
    accent_hover="#e27a62",
    user_bubble="#2c3440",
    answer_bubble="#2a2725",
    border="#3a3531",
    note="#e0b050",
    escalated="#f0a070",
    field="#2a2725",
    bar_track="#3a3531",
    bar_fill="#7fb27e",
    link="#f08a70",
)


def resolve(choice: str) -> Theme:
    """ "light", "dark", or "system" (the desktop's colour scheme)."""
    if choice == "system":
        dark = QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark
        return DARK if dark else LIGHT
    return DARK if choice == "dark" else LIGHT


def apply(app: QApplication, theme: Theme, font_size: int) -> None:
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, theme.window),
        (QPalette.ColorRole.Base, theme.field),
        (QPalette.ColorRole.AlternateBase, theme.sidebar),
        (QPalette.ColorRole.Text, theme.text),
        (QPalette.ColorRole.WindowText, theme.text),
        (QPalette.ColorRole.ButtonText, theme.text),
        (QPalette.ColorRole.Button, theme.sidebar),
        (QPalette.ColorRole.Highlight, theme.accent),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.PlaceholderText, theme.muted),
        (QPalette.ColorRole.ToolTipBase, theme.field),
        (QPalette.ColorRole.ToolTipText, theme.text),
        (QPalette.ColorRole.Link, theme.link),
    ):
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    font = QFont(app.font())
    font.setPointSize(font_size)
    app.setFont(font)
    template = Template(bundled("resources/style.qss").read_text(encoding="utf-8"))
    app.setStyleSheet(template.substitute(asdict(theme), font_size=font_size, small=max(7, font_size - 2)))
    app.setProperty("hearthTheme", theme.name)


def current(app: QApplication) -> Theme:
    return DARK if app.property("hearthTheme") == "dark" else LIGHT
