"""Paints one message as a bubble: Markdown text, and under an answer its badge and actions.

Each message is laid out once per width and look (a small LRU cache), so
scrolling and streaming re-lay only the message that changed. Links in the
text and the footer carry the actions ("action:copy", "copy:2" for a code
block, "version:next"); a click on one is reported with ``link_activated``.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPoint, QPointF, QRect, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.ui.badge import describe
from app.ui.conversation_model import ITEM_ROLE, MessageItem
from app.ui.markdown_html import render
from app.ui.theme import Theme

MARGIN = 16  # between the view's edge and a bubble
PAD = 10  # inside a bubble
GAP = 6  # between text and footer
ROW_GAP = 10
MAX_BUBBLE = 860
CACHE_SIZE = 300
SIZES_KEPT = 50_000


@dataclass
class Layout:
    body: QTextDocument
    footer: QTextDocument
    code_blocks: list[str]
    bubble: QSize

    def body_origin(self, bubble_left: int, top: int) -> QPoint:
        return QPoint(bubble_left + PAD, top + PAD)

    def footer_origin(self, bubble_left: int, top: int) -> QPoint:
        return QPoint(bubble_left + PAD, top + PAD + round(self.body.size().height()) + GAP)


class MessageDelegate(QStyledItemDelegate):
    link_activated = Signal(QPersistentModelIndex, str)

    def __init__(self, view: QAbstractItemView, theme: Theme):
        super().__init__(view)
        self.view = view
        self.theme = theme
        # Laid-out documents are heavy, so only the recently painted ones are kept;
        # sizes are tiny and kept for every row, so a relayout never re-renders.
        self._cache: OrderedDict[tuple[object, ...], Layout] = OrderedDict()
        self._sizes: dict[tuple[object, ...], QSize] = {}
        self._bars: dict[int, QImage] = {}
        self.hovered_row = -1

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._cache.clear()
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
        rendered = render(item.text, self.theme.code) if item.text else None
        body = self._document(rendered.html if rendered else "<p>&nbsp;</p>", font, inner)
        if item.role == "user" and body.idealWidth() < inner:
            body.setTextWidth(body.idealWidth() + 2)
        small = QFont(font)
        small.setPointSizeF(max(7.0, font.pointSizeF() - 2))
        footer = self._document(self._footer_html(item), small, inner)
        widest = max(body.idealWidth(), footer.idealWidth() if item.role == "assistant" else 0)
        text_width = min(inner, max(round(widest) + 2, 40))
        body.setTextWidth(text_width)
        footer.setTextWidth(text_width)
        height = PAD + round(body.size().height()) + GAP + round(footer.size().height()) + PAD
        layout = Layout(body, footer, rendered.code_blocks if rendered else [], QSize(text_width + 2 * PAD, height))
        self._cache[key] = layout
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        if len(self._sizes) > SIZES_KEPT:
            self._sizes.clear()
        self._sizes[key] = layout.bubble
        return layout

    def _document(self, body_html: str, font: QFont, width: int) -> QTextDocument:
        document = QTextDocument()
        document.setDefaultFont(font)
        document.setDocumentMargin(0)
        document.setDefaultStyleSheet(
            f"a {{ color: {self.theme.link}; text-decoration: none; }} p {{ margin-top: 0; margin-bottom: 6px; }}"
        )
        if "bar:" in body_html:
            for value, image in self._bars.items():
                document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"bar:{value}"), image)
        document.setHtml(body_html)
        document.setTextWidth(width)
        return document

    def _footer_html(self, item: MessageItem) -> str:
        theme = self.theme
        lines = []
        if item.note:
            lines.append(f'<span style="color:{theme.note};">{html.escape(item.note)}</span><br>')
        links: list[tuple[str, str]] = []
        if item.versions > 1:
            links += [("version:previous", "‹"), ("", f"{item.version}/{item.versions}"), ("version:next", "›")]
        if item.role == "user":
            links += [("action:edit", "✎ Edit"), ("action:copy", "Copy")]
        elif item.streaming:
            lines.append(f'<span style="color:{theme.muted};">Writing…</span> ')
            links += [("action:stop", "■ Stop")]
        else:
            if item.badge is not None:
                colour = theme.escalated if item.badge.escalated else theme.muted
                lines.append(f'<span style="color:{colour};">{html.escape(describe(item.badge))}</span> ')
                if item.badge.confidence is not None:
                    value = round(item.badge.confidence * 100)
                    self._bar(value)
                    lines.append(f'<img src="bar:{value}" width="44" height="8"> ')
                lines.append("<br>")
            links += [
                ("action:copy", "Copy"),
                ("action:up", "✓ Good"),
                ("action:down", "✗ Wrong"),
                ("action:regenerate", "↻ Regenerate"),
                ("action:stronger", "⬆ Ask a stronger model"),
            ]
            if item.resting:
                links.append(("action:wake", f"↻ Try {', '.join(item.resting)} again"))
        anchors = [
            f'<a href="{href}">{html.escape(label)}</a>' if href else html.escape(label) for href, label in links
        ]
        return "".join(lines) + "&nbsp;&nbsp; ".join(anchors)

    def _bar(self, value: int) -> None:
        if value in self._bars:
            return
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
        self._draw(painter, layout.body, layout.body_origin(bubble.left(), bubble.top()))
        show_footer = item.role == "assistant" or item.versions > 1 or focused or index.row() == self.hovered_row
        if show_footer:
            self._draw(painter, layout.footer, layout.footer_origin(bubble.left(), bubble.top()))
        painter.restore()

    def _draw(self, painter: QPainter, document: QTextDocument, origin: QPoint) -> None:
        painter.save()
        painter.translate(origin)
        context = document.documentLayout().PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, QColor(self.theme.text))
        document.documentLayout().draw(painter, context)
        painter.restore()

    def anchor_at(self, index: QModelIndex | QPersistentModelIndex, row_rect: QRect, point: QPoint) -> str:
        item: MessageItem = index.data(ITEM_ROLE)
        layout = self.layout(item, self.view.viewport().width(), self.view.font())
        bubble = self.bubble_rect(item, layout, row_rect)
        for document, origin in (
            (layout.body, layout.body_origin(bubble.left(), bubble.top())),
            (layout.footer, layout.footer_origin(bubble.left(), bubble.top())),
        ):
            href = document.documentLayout().anchorAt(QPointF(point - origin))
            if href:
                return href
        return ""

    def editorEvent(self, event: QEvent, model, option: QStyleOptionViewItem, index) -> bool:  # noqa: ANN001, N802
        if isinstance(event, QMouseEvent):
            href = self.anchor_at(index, option.rect, event.position().toPoint())
            self.view.viewport().setCursor(Qt.CursorShape.PointingHandCursor if href else Qt.CursorShape.ArrowCursor)
            if event.type() == QEvent.Type.MouseMove and self.hovered_row != index.row():
                self.hovered_row = index.row()
                self.view.viewport().update()
            if href and event.type() == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
                self.link_activated.emit(QPersistentModelIndex(index), href)
                return True
        return super().editorEvent(event, model, option, index)
