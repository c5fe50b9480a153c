"""Saving an answer while it streams: what anyone was shown is in the database first.

Text is passed on only once it is saved (at most every ``SAVE_EVERY_S``, so the
disk is not hit per token), and each attempt is recorded as it ends, so a crash
loses nothing anyone saw. An attempt cut short by Stop (or a crash) is recorded
as interrupted with the text it had. A re-ask keeps the earlier answer unless
the new one completes. The models resting after repeated failures are read
before the answer and recorded after it, so every run of Hearth shares them.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator

from app.core.answers import Answer, Attempt, AttemptEnded, AttemptStarted, Event, Finished, TextDelta
from app.core.config.schema import Config
from app.core.providers.pricing import Pricing
from app.core.routing.retry import Cooldowns
from app.core.storage.outbound_records import OutboundRecords
from app.core.storage.store import Store

# Streamed text is saved, then shown, at most this often: what was shown survives a crash.
SAVE_EVERY_S = 0.1
# What an attempt recorded while it streamed says until it ends (for ever, if Hearth was killed).
INTERRUPTED = "Interrupted before it finished."


class AnswerRecorder:
    def __init__(self, config: Config, pricing: Pricing, cooldowns: Cooldowns):
        self.config = config
        self.pricing = pricing
        self.cooldowns = cooldowns

    def save_while_streaming(
        self,
        store: Store,
        answer_id: int,
        events: Iterator[Event],
        trigger: str,
        keep_partial: bool = True,
        shows: bool = True,
    ) -> Generator[Event, None, Answer | None]:
        """Forward the events, saving first. Returns the final answer (None if stopped early).

        ``keep_partial=False`` (a re-ask): the message keeps its earlier answer while the new one
        streams; the new attempt holds the new text until the answer is complete. ``shows=False``
        (Compare): the new answer is recorded as an attempt only, and the message keeps its own.
        """
        records = OutboundRecords(store)
        self.cooldowns.merge(records.rests(time.time()))
        shown: list[str] = []  # the current attempt's text
        # The text received, not yet saved, so not yet passed on: strings only, which the garbage
        # collector does not track. Holding the deltas themselves (tens of thousands a second from a
        # fast server) for SAVE_EVERY_S carried them into its oldest generation, which then ran a full
        # collection of every object in the process every second or two, holding the GIL 50-100 ms.
        held: list[str] = []
        held_index = 0  # the attempt they belong to
        first = len(store.attempts(answer_id))  # a re-ask adds to the attempts already there
        recorded: dict[int, str] = {}  # index -> the reason it was recorded with
        streaming: AttemptStarted | None = None
        answer: Answer | None = None
        saved_at = 0.0  # the first words are saved and shown at once; then at most every SAVE_EVERY_S

        def interrupted() -> None:
            if streaming is not None and streaming.index not in recorded:
                location = self.config.models[streaming.model_id].location.value
                partial = Attempt(streaming.tier, streaming.model_id, location, "".join(shown), error=INTERRUPTED)
                store.put_attempt(answer_id, first + streaming.index, self._described(partial), trigger)

        def release() -> Iterator[TextDelta]:
            nonlocal saved_at
            if held:
                if keep_partial:
                    store.update_message(answer_id, "".join(shown), "incomplete")
                else:
                    interrupted()
                saved_at = time.monotonic()
                yield TextDelta(held_index, "".join(held))
                held.clear()

        def record(index: int, attempt: Attempt) -> None:
            if index not in recorded:
                store.put_attempt(answer_id, first + index, self._described(attempt), trigger)
                recorded[index] = attempt.reason

        try:
            for event in events:
                if isinstance(event, TextDelta):
                    shown.append(event.text)
                    if not held:
                        held_index = event.index
                    held.append(event.text)
                    if time.monotonic() - saved_at >= SAVE_EVERY_S:
                        yield from release()
                    continue
                yield from release()
                if isinstance(event, AttemptStarted):
                    shown = []
                    streaming = event
                elif isinstance(event, AttemptEnded):
                    record(event.index, event.attempt)
                elif isinstance(event, Finished):
                    answer = event.answer
                    for index, attempt in enumerate(answer.attempts):
                        record(index, attempt)
                    changed = {
                        first + index: attempt.reason
                        for index, attempt in enumerate(answer.attempts)
                        if recorded[index] != attempt.reason
                    }
                    store.set_attempt_reasons(answer_id, changed)
                    if shows and (keep_partial or answer.complete):
                        status = "complete" if answer.complete else "failed"
                        store.update_message(answer_id, answer.text, status, answer.warning)
                yield event
            yield from release()
        finally:
            # Closing the cascade now releases the model it may hold, even while an error
            # (whose traceback keeps this frame alive) is still on its way up.
            close = getattr(events, "close", None)
            if close is not None:
                close()
            if answer is None:
                interrupted()
                if keep_partial and shown:  # a stronger model stopped before its first word: the earlier text stays
                    store.update_message(answer_id, "".join(shown), "incomplete")
            records.rest(self.cooldowns.resting())
        return answer

    def _described(self, attempt: Attempt) -> Attempt:
        """What is recorded with each attempt: its cost and the kind of provider."""
        attempt.cost = self.pricing.cost(attempt.model_id, attempt.tokens_in, attempt.tokens_out)
        model = self.config.models.get(attempt.model_id)
        attempt.provider = model.provider if model else ""
        return attempt
