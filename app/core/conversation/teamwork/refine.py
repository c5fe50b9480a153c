"""Draft then refine: the local model drafts, a stronger allowed model improves the draft.

The draft streams as the answer's text at once (the cheap model's speed); the
refiner is then sent the question and the draft (the consent question shows
both, as the gate shows every byte that would leave) and its text replaces the
draft. Where no stronger model may be asked, or the refiner fails, the draft
stays the answer and the answer says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import replace

from app.core.answers import Answer, AttemptEnded, AttemptStarted, Event, Finished, TextDelta
from app.core.conversation.teamwork.steps import Step
from app.core.errors import HearthError
from app.core.routing.cascade import Cascade, ContextFn

DRAFT, REFINE = Step(role="draft"), Step(role="refine")


def refine_prompt(question: str, draft: str) -> str:
    return (
        f"Question:\n{question}\n\nA draft answer:\n{draft}\n\n"
        "Improve the draft into the best answer to the question: correct what is wrong, keep what is right, "
        "complete what is missing. Reply with the improved answer only."
    )


class DraftRefineRun:
    def __init__(self, drafter: Cascade, refiner: Cascade, context: Callable[[str], ContextFn], question: str):
        """``drafter`` is the first tier's first model alone; ``refiner`` every tier (it starts above the first,
        at the first the gate may let this message reach); ``context`` puts a user message in the conversation."""
        self.drafter = drafter
        self.refiner = refiner
        self.context = context
        self.question = question

    def run(self) -> Iterator[Event]:
        started = time.perf_counter()
        draft = yield from self._step(self.drafter.run(self.context(self.question)), DRAFT, 0)
        if draft is None or not draft.complete:
            return  # the draft failed: its Finished was passed on as the answer
        following, why_not = self.refiner.next_allowed(0)
        if following is None:
            yield Finished(replace(draft, reason=f"{draft.reason} Not refined: {why_not}".strip()))
            return
        prompt = refine_prompt(self.question, draft.text)
        offset = len(draft.attempts)
        try:
            refined = yield from self._step(self.refiner.run(self.context(prompt), start_at=following), REFINE, offset)
        except HearthError as exc:
            refined = None
            why_not = str(exc)
        attempts = [*draft.attempts, *(refined.attempts if refined is not None else ())]
        latency = (time.perf_counter() - started) * 1000
        if refined is None or not refined.complete:
            problem = why_not or "the refining model did not answer"
            yield Finished(
                replace(
                    draft, attempts=attempts, latency_ms=latency, warning=f"Not refined: {problem}. This is the draft."
                )
            )
            return
        yield Finished(
            replace(
                refined,
                attempts=attempts,
                latency_ms=latency,
                escalated=True,
                reason=f"Drafted by {draft.model_id} ({draft.tier}), refined by {refined.model_id} ({refined.tier}). "
                + refined.reason,
                tokens_in=draft.tokens_in + refined.tokens_in,
                tokens_out=draft.tokens_out + refined.tokens_out,
            )
        )

    def _step(self, events: Iterator[Event], step: Step, offset: int) -> Generator[Event, None, Answer | None]:
        """One cascade's events, its attempts marked with ``step`` and placed after ``offset``; returns its answer
        (the draft's Finished, when the draft failed, is passed on as the whole answer's)."""
        answer: Answer | None = None
        for event in events:
            if isinstance(event, AttemptStarted | TextDelta):
                yield replace(event, index=event.index + offset)
            elif isinstance(event, AttemptEnded):
                event.attempt.step = step.model_dump_json(exclude_none=True)
                yield AttemptEnded(event.index + offset, event.attempt)
            elif isinstance(event, Finished):
                answer = event.answer
                for attempt in answer.attempts:
                    attempt.step = step.model_dump_json(exclude_none=True)
                if step is DRAFT and not answer.complete:
                    yield event
        return answer
