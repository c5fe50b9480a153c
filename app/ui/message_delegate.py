"""Paints one message as a bubble: Markdown text, and under an answer its badge and actions.

A message's text is drawn in pieces (app/ui/message_pieces.py), each an
InertDocument laid out once per width and look and kept in a small LRU cache,
so scrolling and streaming re-lay only the piece that changed. Laying out is
spread over turns of the event loop: one call lays out pieces for at most
LAYOUT_BUDGET_S, the bubble shows those, and the view asks again on its next
turn, so a long answer arriving or opening never stalls the window. Links in the
text and the footer are the window's own (app/ui/message_actions.py); a click
on one is reported with ``link_activated`` as a Request, a link the answer
wrote as an OPEN_LINK request with its address.
"""

from __future__ import annotations

import html
import time
from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPalette, QTextOption
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.ui.badge import describe
from app.ui.conversation_model import ITEM_ROLE, MessageItem
from app.ui.inert import OWN_IMAGES, InertDocument
from app.ui.markdown_html import Rendered, render
from app.ui.message_actions import MessageAction, Request, href, parse
from app.ui.message_pieces import Piece, pieces, shown_part
from app.ui.theme import Theme

MARGIN = 16  # between the view's edge and a bubble
PAD = 10  # inside a bubble
GAP = 6  # between text and footer
ROW_GAP = 10
MAX_BUBBLE = 860
CACHE_SIZE = 300
PIECES_KEPT = 600
SIZES_KEPT = 50_000
LAYOUT_BUDGET_S = 0.03


@dataclass
class Drawn:
    """One piece of a message's text, laid out."""

    document: InertDocument
    rendered: Rendered


@dataclass
class Layout:
    body: list[Drawn]
    footer: InertDocument
    code_blocks: list[str]
    bubble: QSize
    complete: bool = True  # every piece is laid out (else the rest follows on the next turns)

    def documents(self, bubble_left: int, top: int) -> list[tuple[InertDocument, Rendered | None, QPoint]]:
        """Each document of the bubble with where it is drawn: the pieces top to bottom, then the footer."""
        placed: list[tuple[InertDocument, Rendered | None, QPoint]] = []
        y = top + PAD
        for drawn in self.body:
            placed.append((drawn.document, drawn.rendered, QPoint(bubble_left + PAD, y)))
            y += round(drawn.document.size().height())
        placed.append((self.footer, None, QPoint(bubble_left + PAD, y + GAP)))
        return placed


class MessageDelegate(QStyledItemDelegate):
    link_activated = Signal(QPersistentModelIndex, object)  # Request

    def __init__(self, view: QAbstractItemView, theme: Theme):
        super().__init__(view)
        self.view = view
        self.theme = theme
        # Laid-out documents are heavy, so only the recently painted ones are kept;
        # sizes are tiny and kept for every row, so a relayout never re-renders.
        self._cache: OrderedDict[tuple[object, ...], Layout] = OrderedDict()
        self._pieces: OrderedDict[tuple[object, ...], Drawn] = OrderedDict()
        self._sizes: dict[tuple[object, ...], QSize] = {}
        self._bars: dict[int, QImage] = {}
        self._more = QTimer(self)  # lays out the rest of a message on the next turn of the event loop
        self._more.setSingleShot(True)
        self._more.setInterval(0)
        self._more.timeout.connect(self._lay_out_more)
        self.hovered_row = -1

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._cache.clear()
        self._pieces.clear()
        self._sizes.clear()
        self._bars.clear()

    # Layout
    def _key(self, item: MessageItem, width: int, font: QFont) -> tuple[object, ...]:
        return (item, width, self.theme.name, font.pointSizeF(), font.family())

    def layout(self, item: MessageItem, width: int, font: QFont) -> Layout:
        key = self._key(item, width, font)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        inner = max(120, min(width - 2 * MARGIN, MAX_BUBBLE) - 2 * PAD)
        shown = shown_part(item.text)
        parts = pieces(shown) if shown else [Piece("")]
        # One budget a turn: once the rest is put off to the next turn, more calls in this one lay out nothing new.
        deadline = time.perf_counter() + (0.0 if self._more.isActive() else LAYOUT_BUDGET_S)
        body = self._body(parts, font, inner, deadline)
        small = QFont(font)
        small.setPointSizeF(max(7.0, font.pointSizeF() - 2))
        footer_html, images = self._footer(item, len(shown))
        footer = self._document(footer_html, small, images)
        footer.setTextWidth(inner)
        ideal = max(drawn.document.idealWidth() for drawn in body)
        if item.role == "assistant":
            ideal = max(ideal, footer.idealWidth())
        text_width = min(inner, max(round(ideal) + 2, 40))
        if text_width != inner:  # a short message: its bubble fits its text
            body = self._body(parts, font, text_width, deadline)
            footer.setTextWidth(text_width)
        height = sum(round(drawn.document.size().height()) for drawn in body)
        height = PAD + height + GAP + round(footer.size().height()) + PAD
        blocks = _code_blocks(parts, body)
        layout = Layout(body, footer, blocks, QSize(text_width + 2 * PAD, height), len(body) == len(parts))
        if not layout.complete:
            self._more.start()
            return layout
        self._cache[key] = layout
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        if len(self._sizes) > SIZES_KEPT:
            self._sizes.clear()
        self._sizes[key] = layout.bubble
        return layout

    def _body(self, parts: list[Piece], font: QFont, width: int, deadline: float) -> list[Drawn]:
        """The pieces laid out at ``width``, from the first, as far as ``deadline`` allows (one at least)."""
        drawn: list[Drawn] = []
        first_block = 0
        for piece in parts:
            key = (piece, first_block, width, self.theme.name, font.pointSizeF(), font.family())
            done = self._pieces.get(key)
            if done is None and drawn and time.perf_counter() > deadline:
                break
            if done is None:
                rendered = render(piece.markdown, self.theme.code, first_block, piece.continues_code)
                document = self._document(rendered.html if piece.markdown else "<p>&nbsp;</p>", font)
                document.setTextWidth(width)
                done = self._pieces[key] = Drawn(document, rendered)
                if len(self._pieces) > PIECES_KEPT:
                    self._pieces.popitem(last=False)
            else:
                self._pieces.move_to_end(key)
            drawn.append(done)
            first_block += len(done.rendered.code_blocks) - piece.continues_code
        return drawn

    def _lay_out_more(self) -> None:
        self.view.scheduleDelayedItemsLayout()  # each row asks for its size again: the rest gets laid out
        self.view.viewport().update()

    def _document(self, body_html: str, font: QFont, images: dict[str, QImage] | None = None) -> InertDocument:
        document = InertDocument()
        document.setDefaultFont(font)
        document.setDocumentMargin(0)
        option = document.defaultTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)  # a long word wraps in the bubble
        document.setDefaultTextOption(option)
        document.setDefaultStyleSheet(
            f"a {{ color: {self.theme.link}; text-decoration: none; }} p {{ margin-top: 0; margin-bottom: 6px; }}"
        )
        for name, image in (images or {}).items():
            document.add_image(name, image)
        document.set_markup(body_html)
        return document

    def _footer(self, item: MessageItem, shown: int) -> tuple[str, dict[str, QImage]]:
        """The footer's HTML, and the confidence bar it shows."""
        theme = self.theme
        lines = []
        images: dict[str, QImage] = {}
        if item.note:
            lines.append(f'<span style="color:{theme.note};">{html.escape(item.note)}</span><br>')
        if shown < len(item.text):
            lines.append(
                f'<span style="color:{theme.muted};">Showing the first {shown:,} of {len(item.text):,} characters.'
                f'</span> <a href="{href(MessageAction.SHOW_ALL)}">Show all</a>&nbsp;&nbsp; '
                f'<a href="{href(MessageAction.SAVE)}">Save as…</a><br>'
            )
        links: list[tuple[MessageAction | None, str]] = []
        if item.versions > 1:
            links += [
                (MessageAction.PREVIOUS_VERSION, "‹"),
                (None, f"{item.version}/{item.versions}"),
                (MessageAction.NEXT_VERSION, "›"),
            ]
        if item.role == "user":
            links += [(MessageAction.EDIT, "✎ Edit"), (MessageAction.COPY, "Copy")]
        elif item.streaming:
            lines.append(f'<span style="color:{theme.muted};">Writing…</span> ')
            links += [(MessageAction.STOP, "■ Stop")]
        else:
            if item.badge is not None:
                colour = theme.escalated if item.badge.escalated else theme.muted
                lines.append(f'<span style="color:{colour};">{html.escape(describe(item.badge))}</span> ')
                if item.badge.confidence is not None:
                    value = round(item.badge.confidence * 100)
                    images[f"bar/{value}"] = self._bar(value)
                    lines.append(f'<img src="{OWN_IMAGES}bar/{value}" width="44" height="8"> ')
                lines.append("<br>")
            if item.sources:
                lines.append(self._sources(item))
            links += [
                (MessageAction.COPY, "Copy"),
                (MessageAction.RATE_UP, "✓ Good"),
                (MessageAction.RATE_DOWN, "✗ Wrong"),
                (MessageAction.REGENERATE, "↻ Regenerate"),
                (MessageAction.STRONGER, "⬆ Ask a stronger model"),
                (MessageAction.COMPARE, "⇄ Compare"),
            ]
            if item.resting:
                links.append((MessageAction.WAKE, f"↻ Try {', '.join(item.resting)} again"))
        anchors = [
            f'<a href="{href(action)}">{html.escape(label)}</a>' if action else html.escape(label)
            for action, label in links
        ]
        return "".join(lines) + "&nbsp;&nbsp; ".join(anchors), images

    def _sources(self, item: MessageItem) -> str:
        """The answer's document sources: each a link of the window's own, opening the stored file at its place."""
        chunks = sum(len(source.chunk_ids) for source in item.sources)
        anchors = [
            f'<a href="{href(MessageAction.OPEN_SOURCE, index)}">[{source.number}] {html.escape(source.label)}</a>'
            for index, source in enumerate(item.sources)
        ]
        used = f"{chunks} chunk{'s' if chunks != 1 else ''} from your documents"
        return f'<span style="color:{self.theme.muted};">{used}:</span> ' + "&nbsp;&nbsp; ".join(anchors) + "<br>"

    def _bar(self, value: int) -> QImage:
        if value in self._bars:
            return self._bars[value]
        image = QImage(44 * 2, 8 * 2, QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(2)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(self.theme.bar_track))
        painter.drawRoundedRect(0, 0, 44, 8, 3, 3)
        painter.setBrush(QColor(self.theme.bar_fill))
        painter.drawRoundedRect(0, 0, max(3, 44 * value // 100), 8, 3, 3)
        painter.end()
        self._bars[value] = image
        return image

    def bubble_rect(self, item: MessageItem, layout: Layout, row_rect: QRect) -> QRect:
        left = row_rect.right() - MARGIN - layout.bubble.width() if item.role == "user" else row_rect.left() + MARGIN
        return QRect(QPoint(left, row_rect.top() + ROW_GAP // 2), layout.bubble)

    # Qt's delegate interface
    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        item: MessageItem = index.data(ITEM_ROLE)
        width, font = self.view.viewport().width(), self.view.font()
        bubble = self._sizes.get(self._key(item, width, font)) or self.layout(item, width, font).bubble
        return QSize(width, bubble.height() + ROW_GAP)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        item: MessageItem = index.data(ITEM_ROLE)
        layout = self.layout(item, self.view.viewport().width(), self.view.font())
        bubble = self.bubble_rect(item, layout, option.rect)
        theme = self.theme
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        focused = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setPen(QColor(theme.accent if focused else theme.border))
        painter.setBrush(QColor(theme.user_bubble if item.role == "user" else theme.answer_bubble))
        painter.drawRoundedRect(bubble.adjusted(0, 0, -1, -1), 10, 10)
        show_footer = item.role == "assistant" or item.versions > 1 or focused or index.row() == self.hovered_row
        visible = self.view.viewport().rect()
        for document, rendered, origin in layout.documents(bubble.left(), bubble.top()):
            if rendered is None and not show_footer:
                continue
            if origin.y() < visible.bottom() and origin.y() + document.size().height() > visible.top():
                self._draw(painter, document, origin)
        painter.restore()

    def _draw(self, painter: QPainter, document: InertDocument, origin: QPoint) -> None:
        painter.save()
        painter.translate(origin)
        context = document.documentLayout().PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, QColor(self.theme.text))
        document.documentLayout().draw(painter, context)
        painter.restore()

    def request_at(self, index: QModelIndex | QPersistentModelIndex, row_rect: QRect, point: QPoint) -> Request | None:
        """What a click at ``point`` asks for: one of the window's links, or a link the answer wrote."""
        item: MessageItem = index.data(ITEM_ROLE)
        layout = self.layout(item, self.view.viewport().width(), self.view.font())
        bubble = self.bubble_rect(item, layout, row_rect)
        for document, rendered, origin in layout.documents(bubble.left(), bubble.top()):
            target = parse(document.documentLayout().anchorAt(QPointF(point - origin)))
            if target is None:
                continue
            action, number = target
            if action != MessageAction.OPEN_LINK:
                return Request(action, number)
            if rendered is not None and number < len(rendered.links):
                return Request(action, address=rendered.links[number])
        return None

    def editorEvent(self, event: QEvent, model, option: QStyleOptionViewItem, index) -> bool:  # noqa: ANN001, N802
        if isinstance(event, QMouseEvent):
            request = self.request_at(index, option.rect, event.position().toPoint())
            cursor = Qt.CursorShape.PointingHandCursor if request else Qt.CursorShape.ArrowCursor
            self.view.viewport().setCursor(cursor)
            if event.type() == QEvent.Type.MouseMove and self.hovered_row != index.row():
                self.hovered_row = index.row()
                self.view.viewport().update()
            released = event.type() == QEvent.Type.MouseButtonRelease
            if request and released and event.button() == Qt.MouseButton.LeftButton:
                self.link_activated.emit(QPersistentModelIndex(index), request)
                return True
        return super().editorEvent(event, model, option, index)


def _code_blocks(parts: list[Piece], body: list[Drawn]) -> list[str]:
    """The message's code blocks, whole: a block that goes on in the next piece is joined again."""
    blocks: list[str] = []
    for piece, drawn in zip(parts, body, strict=False):  # a layout not yet complete has fewer pieces
        codes = list(drawn.rendered.code_blocks)
        if piece.continues_code and codes and blocks:
            blocks[-1] += "\n" + codes.pop(0)
        blocks += codes
    return blocks
