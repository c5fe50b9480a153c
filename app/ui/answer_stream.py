"""One answer at a time: sending a message, re-asking, and the events that fill the answer's row as it streams."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from app.core.answers import AttemptEnded, AttemptStarted, Finished, TextDelta
from app.core.conversation.chat import UserMessageSaved
from app.core.conversation.saved import TurnSaved, ending_saved
from app.core.documents.answering import Cited
from app.core.errors import NoStrongerModel
from app.core.privacy.gate import ConsentRequest, Decision
from app.ui.chat_view import copy_text
from app.ui.compare_dialog import CompareDialog
from app.ui.composer import Draft
from app.ui.conversation_model import MessageItem
from app.ui.documents_panel import open_source
from app.ui.message_actions import MessageAction, Request
from app.ui.stronger_offer import offer_stronger_model
from app.ui.window_life import stop_all, while_open
from app.ui.worker import GeneratorWorker, start

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


class AnswerStream(QObject):
    """The answer being written: which row it fills, what the user sent, and whether it reached the store."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self._window = window
        self.life = window.life
        self._worker: GeneratorWorker | None = None
        self._row: int | None = None  # the answer being written
        self._user_row: int | None = None  # the message it answers, when it was just sent
        self._draft: Draft | None = None  # given back to the composer if the message is refused
        self._failure: str | None = None  # why the request failed after the answer was stored
        self._saved = False  # the message being sent reached the store
        self._fresh = False
        self._turn: TurnSaved | None = None  # the finished turn as stored, from the worker

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def _say(self, message: str, timeout_ms: int) -> None:
        self._window.statusBar().showMessage(message, timeout_ms)

    def send(self, draft: Draft) -> None:
        if self.busy:
            return
        chat, conversations = self._window.chat, self._window.conversations
        if draft.replaces is not None:
            edited = chat.conversation.row_of(draft.replaces)
            if edited is not None:
                chat.conversation.truncate(edited)
        shown = draft.text + (
            f"\n\n*Attached: {', '.join(p.name for p in draft.attachments)}*" if draft.attachments else ""
        )
        user_row = chat.add(MessageItem("user", shown))
        row = chat.add(MessageItem("assistant", "", streaming=True))
        conversation_id = conversations.conversation_id
        privacy = self._window.composer.chosen_privacy() if conversation_id is None else None
        self._draft = draft
        service = self._window.session.chat

        def run() -> Iterator[object]:
            yield from service.send(
                conversation_id,
                draft.text,
                privacy=privacy,
                quick=draft.quick,
                attachments=draft.attachments,
                replaces=draft.replaces,
                documents=draft.documents,
                plan=draft.plan,
            )

        self._window.plan_panel.reset()
        self._user_row = user_row
        self._stream_into(row, run, saved=False)

    def _stream_into(self, row: int, make: Callable[[], Iterator[object]], saved: bool) -> None:
        """Run a core generator on a worker; its events fill the answer at ``row``."""
        self._row = row
        self._saved = saved
        self._fresh = True  # the old answer stays until the new one starts
        self._window.composer.set_busy(True)
        self._window.plan_panel.set_running(True)
        answer_id = self._window.chat.conversation.item(row).message_id  # None: a new answer names itself
        self._turn = None
        session = self._window.session
        worker = GeneratorWorker(lambda: ending_saved(make(), session.open_store, session.chat.rests, answer_id))
        worker.signals.item.connect(self._on_event)
        worker.signals.failed.connect(self._on_failed)
        worker.signals.done.connect(self._on_done)
        self._worker = start(worker)

    def act(self, row: int, request: Request) -> None:
        """What a link, a menu entry or a key under a message asked for."""
        window, session = self._window, self._window.session
        item = window.chat.conversation.item(row)
        action = request.action
        if action == MessageAction.COPY:
            copy_text(item.text)
            self._say("Copied the message.", 3_000)
        elif action == MessageAction.COPY_CODE:
            blocks = window.chat.code_blocks(row)
            if request.number < len(blocks):
                copy_text(blocks[request.number])
                self._say("Copied the code.", 3_000)
        elif action == MessageAction.STOP:
            self.stop()
        elif action == MessageAction.OPEN_SOURCE and request.number < len(item.sources):
            open_source(window, item.sources[request.number])
        elif item.message_id is None or self.busy:
            self._say("Wait for the answer to finish first.", 4_000)
        elif action in (MessageAction.RATE_UP, MessageAction.RATE_DOWN):
            session.learner.rate(window.store, item.message_id, good=action == MessageAction.RATE_UP)
            self._say("Thanks: your rating is saved on this computer.", 5_000)
        elif action == MessageAction.REGENERATE:
            self._again(row, session.chat.regenerate)
        elif action == MessageAction.STRONGER:
            self.ask_stronger(row)
        elif action == MessageAction.COMPARE:
            if CompareDialog(session, window.store, item.message_id, window).exec():
                window.conversations.show_again()
        elif action == MessageAction.WAKE:
            session.chat.rests.wake(list(item.resting))
            self.ask_stronger(row)
        elif action == MessageAction.EDIT:
            window.composer.start_edit(item.message_id, item.text)
        elif action in (MessageAction.PREVIOUS_VERSION, MessageAction.NEXT_VERSION):
            window.conversations.switch_version(item.message_id, 1 if action == MessageAction.NEXT_VERSION else -1)

    def ask_stronger(self, row: int) -> None:
        """Ask a stronger model, or say why there is none and offer the way to add or allow one."""
        message_id = self._window.chat.conversation.item(row).message_id
        assert message_id is not None
        try:
            self._window.session.chat.stronger(message_id)
        except NoStrongerModel as problem:
            tab = offer_stronger_model(self._window, problem)
            if tab is not None:
                self._window.open_settings_at(tab)
            return
        self._again(row, self._window.session.chat.reask)

    def _again(self, row: int, ask: Callable[[int], Iterator[object]]) -> None:
        """Regenerate the answer, or ask a stronger model, streaming into the same row."""
        message_id = self._window.chat.conversation.item(row).message_id
        assert message_id is not None
        self._window.chat.conversation.update(row, streaming=True, note="")
        self._user_row = None
        self._stream_into(row, lambda: ask(message_id), saved=True)

    def rerun_part(self, answer_id: int, number: int, asks: str | None = None) -> None:
        """Run one part of a plan answer again (asking ``asks`` where the user edited it); the answer is
        joined anew in its own row."""
        row = self._window.chat.conversation.row_of(answer_id)
        if row is None or self.busy:
            return
        self._window.chat.conversation.update(row, streaming=True, note=f"Running part {number} again…")
        self._user_row = None
        modes = self._window.session.chat.modes
        self._stream_into(row, lambda: modes.rerun_part(answer_id, number, asks=asks), saved=True)

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.abort()

    def finish(self) -> None:
        """Stop the answer under way and wait for its worker (the window closes or the session changes)."""
        stop_all(self._worker)

    @while_open
    def _on_event(self, event: object) -> None:
        row, chat = self._row, self._window.chat
        model = chat.conversation
        assert row is not None
        self._window.plan_panel.take(event)
        if isinstance(event, UserMessageSaved):
            self._saved = True
            if self._user_row is not None:
                model.update(self._user_row, message_id=event.message_id)
            model.update(row, message_id=event.answer_id)
            self._window.conversations.started(event.conversation_id)
        elif isinstance(event, AttemptStarted):
            chat.flush()
            note = "" if self._fresh else f"Asking {event.tier} ({event.label})…"
            self._fresh = False
            model.update(row, text="", note=note, badge=None, streaming=True)
        elif isinstance(event, TextDelta):
            chat.append_text(row, event.text)
        elif isinstance(event, AttemptEnded) and event.attempt.error:
            chat.flush()
            model.update(row, note=event.attempt.error)
        elif isinstance(event, Finished):
            chat.flush()
            model.update(row, text=event.answer.text)
        elif isinstance(event, TurnSaved):
            self._turn = event
        elif isinstance(event, Cited):
            model.update(row, sources=tuple(event.sources), **({"note": event.note} if event.note else {}))

    @while_open
    def _on_failed(self, message: str) -> None:
        chat = self._window.chat
        chat.flush()
        if not self._saved and self._draft is not None and self._user_row is not None:
            # Refused before anything was stored: the message goes back to the composer.
            chat.conversation.truncate(self._user_row)
            self._window.composer.restore(self._draft, message)
        elif self._row is not None:
            self._failure = message
            chat.conversation.update(self._row, note=message, streaming=False)
        self._say(message, 10_000)

    @while_open
    def _on_done(self) -> None:
        window = self._window
        window.chat.flush()
        window.plan_panel.set_running(False)
        row = self._row
        model = window.chat.conversation
        turn = self._turn
        if row is not None and row < model.rowCount() and turn is not None:
            model.show_stored(row, turn.answer)  # as it will reopen: badge, cost, versions, note
            model.update(row, resting=tuple(turn.resting))  # offers "try again"
            if self._user_row is not None and turn.question is not None:  # its text with attachments, versions
                model.show_stored(self._user_row, turn.question)
        elif row is not None and row < model.rowCount() and model.item(row).message_id is not None:
            model.reload_row(window.store, row)  # it failed midway: what of it was stored
            message_id = model.item(row).message_id
            assert message_id is not None
            model.update(row, resting=tuple(window.session.chat.rests.resting(message_id)))
            if self._failure:  # a failure of the whole request is not in the store
                model.update(row, note=self._failure)
            if self._user_row is not None:
                model.reload_row(window.store, self._user_row)
        self._worker = None
        self._turn = None
        self._row = self._user_row = None
        self._draft = self._failure = None
        window.composer.set_busy(False)
        window.conversations.refresh_sidebar()
        window.conversations.show_privacy()  # "Never …" in a consent question narrows it
        window.model.note_template()

    # What a consent answer means was decided in the core; the window says it
    def consent_decided(self, decision: Decision, request: ConsentRequest) -> None:
        said = {
            Decision.ALWAYS: f"This conversation now sends to {request.model_id} at {request.host} without asking; "
            "any other destination is still asked about.",
            Decision.NEVER: f"This conversation no longer sends anything to {request.location.value} models.",
        }
        if decision in said:
            self._say(said[decision], 10_000)
