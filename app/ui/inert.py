"""Text from a model, a file or a setting, shown so that nothing in it is loaded, followed or run.

Qt guesses: a QLabel, a tooltip or a message box whose text merely looks like
HTML renders it, and rendering HTML loads every image it names, from the UI
thread: a local photo, ``../..``, ``//host/share`` (on Windows an SMB request
that hands over the user's login hash), ``/dev/zero`` (memory runs out), a FIFO
(it never returns). So Hearth never lets Qt guess:

- labels and message boxes show plain text (``plain_label``, ``message_box``);
  the few with Hearth's own markup escape every value they show (``markup``);
- tooltips are escaped and wrapped, so Qt reads them as rich text that has no
  tags but the wrapper (``tooltip``);
- the documents that draw answers are ``InertDocument``s: the only images in
  them are those Hearth painted and registered under ``qrc:/hearth/``.
"""

from __future__ import annotations

import html
import unicodedata

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QImage, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from app.core.web_links import web_link

OWN_IMAGES = "qrc:/hearth/"  # a Qt resource path: Qt looks it up in memory, never on a disk or a network
_TOOLTIP = '<p style="white-space:pre-wrap">{}</p>'


class InertDocument(QTextDocument):
    """A text document that loads nothing: its images are the ones added with ``add_image``.

    Two guards, because Qt has two ways in. An image whose resource is not found
    is opened by Qt's image handler as a file path (and at a device pixel ratio
    above 1 it first looks for ``name@2x`` files), before and besides
    ``loadResource``; so ``set_markup`` removes every image that is not
    Hearth's own before anything is laid out. Whatever else asks for a resource
    (a style sheet, a background) gets ``loadResource``'s empty answer.
    """

    def add_image(self, name: str, image: QImage) -> str:
        """Register an image Hearth painted; returns the ``src`` to use for it."""
        src = OWN_IMAGES + name
        self.addResource(QTextDocument.ResourceType.ImageResource, QUrl(src), image)
        return src

    def set_markup(self, markup_html: str) -> None:
        self.setHtml(markup_html)
        if "<img" in markup_html:
            self._drop_foreign_images()

    def loadResource(self, kind: int, _url: QUrl) -> object:  # noqa: N802 (Qt naming)
        # Never None: an empty answer makes Qt's image handler open the name as a file itself.
        if kind == QTextDocument.ResourceType.ImageResource:
            return QImage(1, 1, QImage.Format.Format_ARGB32_Premultiplied)
        return ""

    def _drop_foreign_images(self) -> None:
        foreign = []
        block = self.begin()
        while block.isValid():
            fragments = block.begin()
            while not fragments.atEnd():
                fragment = fragments.fragment()
                image = fragment.charFormat()
                if image.isImageFormat() and not image.toImageFormat().name().startswith(OWN_IMAGES):
                    foreign.append((fragment.position(), fragment.length()))
                fragments += 1
            block = block.next()
        for position, length in reversed(foreign):
            cursor = QTextCursor(self)
            cursor.setPosition(position)
            cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
            cursor.insertText("[image]", QTextCharFormat())


def markup(template: str, **values: object) -> str:
    """Hearth's own rich text with each value escaped, as text between tags: ``markup("<b>{n}</b> answers", n=9)``."""
    return template.format(**{name: html.escape(str(value), quote=False) for name, value in values.items()})


def one_line(value: str, limit: int = 160) -> str:
    """A name or an address from a setting, on one line and at most ``limit`` characters.

    Control and format characters (line breaks, bidirectional overrides that
    would make the rest of a sentence read backwards) are dropped, so the value
    cannot rearrange or push away the text around it. A long value keeps its
    start and its end (where an address names its host and its path).
    """
    visible = "".join(ch for ch in value if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf"))
    kept = " ".join(visible.split())
    if len(kept) <= limit:
        return kept
    half = (limit - 1) // 2
    return kept[:half] + "…" + kept[-half:]


def link(address: str, text: str) -> str:
    """A link in Hearth's own rich text: to a web address only; any other address leaves the text alone."""
    if web_link(address) is not None:  # only web addresses are ever opened, and only once the user saw them
        return f'<a href="{html.escape(address.strip())}">{html.escape(text)}</a>'
    return html.escape(text)


def tooltip(text: str) -> str:
    """``text`` as a tooltip shows it: every character as it is, line breaks kept."""
    return _TOOLTIP.format(html.escape(text, quote=False)) if text else ""


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def rich_label(markup_html: str, parent: QWidget | None = None) -> QLabel:
    """A label with Hearth's own markup (built with ``markup`` and ``link``)."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setText(markup_html)
    return label


def plain_labels(widget: QWidget) -> None:
    """Every label inside ``widget`` that Qt made (a message box's, a form's row) shows plain text, not a guess."""
    for label in widget.findChildren(QLabel):
        if label.textFormat() == Qt.TextFormat.AutoText:
            label.setTextFormat(Qt.TextFormat.PlainText)


def message_box(
    parent: QWidget | None,
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    informative: str = "",
    buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok,
) -> QMessageBox:
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if informative:
        box.setInformativeText(informative)
    plain_labels(box)
    return box


def warn(parent: QWidget | None, title: str, text: str) -> None:
    message_box(parent, QMessageBox.Icon.Warning, title, text).exec()


def inform(parent: QWidget | None, title: str, text: str) -> None:
    message_box(parent, QMessageBox.Icon.Information, title, text).exec()


def confirm(parent: QWidget | None, title: str, text: str, informative: str = "") -> bool:
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    box = message_box(parent, QMessageBox.Icon.Question, title, text, informative, buttons)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def menu_text(text: str) -> str:
    """A menu entry shows ``text`` as it is: a lone ``&`` would turn the next letter into a shortcut."""
    return text.replace("&", "&&")
