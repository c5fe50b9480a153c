"""Plan mode: a planner splits the request, each part runs through the cascade, a synthesiser joins them.

``PlanRun.run`` is a generator like ``Cascade.run``: every attempt of every
step (the planner, each part, the synthesis) is an attempt of the one answer,
with its index in the answer and its step recorded on it, so the recorder
saves each as it ends and a kill keeps what was done. Only the synthesis
streams as the answer's text; the planner's and the parts' text arrives as
``PartDelta``. Parts of one wave (none needs another) run side by side on
threads of their own, each with its own way out through the outgoing gate;
the models' own locks decide what really runs at once. A part whose model
fails, or that the gate keeps here, is said plainly in the synthesis and in the
answer's warning.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace

from app.core.answers import Answer, Attempt, AttemptEnded, AttemptStarted, Event, Finished, TextDelta
from app.core.conversation.teamwork.events import PartDelta, PartDone, PartStarted, PlanEvent, PlanReady
from app.core.conversation.teamwork.plans import Part, Plan, parse_plan, part_messages, split_request, synthesis_prompt
from app.core.conversation.teamwork.steps import Step
from app.core.errors import HearthError
from app.core.privacy.gate import Passage
from app.core.routing.tasks import Task

# One message through the cascade: its text, its task, and the way out it may use.
MessageRunner = Callable[[str, Task, Passage], Iterator[Event]]
PlanEvents = Iterator[Event | PlanEvent]
PLANNER = 0
_DONE = object()


class _Answers:
    """The answer's attempts, in the order they began, whichever step and thread they came from."""

    def __init__(self) -> None:
        self.attempts: list[Attempt | None] = []
        self._slots: dict[tuple[int, int], int] = {}

    def slot(self, number: int, index: int) -> int:
        if (number, index) not in self._slots:
            self._slots[(number, index)] = len(self.attempts)
            self.attempts.append(None)
        return self._slots[(number, index)]

    def put(self, number: int, index: int, attempt: Attempt, step: Step) -> int:
        attempt.step = step.model_dump_json(exclude_none=True)
        at = self.slot(number, index)
        self.attempts[at] = attempt
        return at

    def holds(self, number: int, index: int, attempt: Attempt) -> bool:
        at = self._slots.get((number, index))
        return at is not None and self.attempts[at] is attempt

    def all(self) -> list[Attempt]:
        return [attempt for attempt in self.attempts if attempt is not None]


class PlanRun:
    def __init__(
        self,
        request: str,
        *,
        planner: Callable[[], Iterator[Event]] | None,
        answer: MessageRunner,
        passage: Passage,
        side_passage: Callable[[], AbstractContextManager[Passage]],
        parallel: bool = True,
        plan: Plan | None = None,
        synthesise: MessageRunner | None = None,
        kept: dict[int, Answer] | None = None,
    ):
        """``planner`` streams the planner model's plan (None, or a ``plan`` given: no planner runs);
        ``side_passage`` opens a way out for a part that runs on a thread of its own; ``synthesise`` joins the
        parts (default: like any message, through the cascade); ``kept`` holds the results of parts done
        before, which are not run again (re-running one part)."""
        self.request = request
        self.planner = planner
        self.answer = answer
        self.passage = passage
        self.side_passage = side_passage
        self.parallel = parallel
        self.given = plan
        self.synthesise = synthesise or answer
        self.answers = _Answers()
        self._parts: dict[int, Part] = {}
        self.kept = kept or {}

    def run(self) -> PlanEvents:
        started = time.perf_counter()
        plan = self.given or (yield from self._plan())
        self._parts = {part.number: part for part in plan.parts}
        yield PlanReady(plan)
        done: dict[int, PartDone] = {}
        for wave in plan.waves():
            ready = []
            for part in wave:
                blocked = self._blocked(part, done)
                if part.number in self.kept:
                    done[part.number] = PartDone(part.number, self.kept[part.number], None)
                    yield done[part.number]
                elif blocked is None:
                    ready.append(part)
                else:
                    done[part.number] = blocked
                    yield blocked
            if self.parallel and len(ready) > 1:
                yield from self._side_by_side(ready, done)
            else:
                for part in ready:
                    yield from self._here(part, self._prompt(part, done), done)
        final = yield from self._synthesise(plan, done)
        yield Finished(self._answer(plan, done, final, (time.perf_counter() - started) * 1000))

    def _plan(self) -> Generator[Event | PlanEvent, None, Plan]:
        if self.planner is None:
            return split_request(self.request, "No planner model is configured: the request was cut into its clauses.")
        step = Step(role="planner")
        answer: Answer | None = None
        try:
            for event in self.planner():
                yield from self._take(PLANNER, step, event)
                if isinstance(event, Finished):
                    answer = event.answer
        except HearthError as exc:
            yield PartDone(PLANNER, None, str(exc))
            return split_request(self.request, f"The planner could not be asked ({exc}): the request was cut instead.")
        yield _part_done(PLANNER, answer, None)
        plan = parse_plan(answer.text, self.request) if answer is not None and answer.complete else None
        if plan is None:
            return split_request(
                self.request, "The planner's text held no plan of two or more parts: the request was cut instead."
            )
        return plan

    def _take(self, number: int, step: Step, event: Event) -> list[Event | PlanEvent]:
        """One event of one step, as the answer's: indices are the answer's, text of a part is a PartDelta."""
        answers = self.answers
        if isinstance(event, AttemptStarted):
            at = answers.slot(number, event.index)
            return [replace(event, index=at), PartStarted(number, at, event.tier, event.model_id, event.label)]
        if isinstance(event, TextDelta):
            if step.role == "synthesis":
                return [TextDelta(answers.slot(number, event.index), event.text)]
            return [PartDelta(number, event.text)]
        if isinstance(event, AttemptEnded):
            return [AttemptEnded(answers.put(number, event.index, event.attempt, step), event.attempt)]
        out: list[Event | PlanEvent] = []
        for index, attempt in enumerate(event.answer.attempts):  # a resting model's attempt is only in the answer
            ended = answers.holds(number, index, attempt)
            at = answers.put(number, index, attempt, step)
            if not ended:
                out.append(AttemptEnded(at, attempt))
        return out

    @staticmethod
    def _blocked(part: Part, done: dict[int, PartDone]) -> PartDone | None:
        missing = [n for n in part.depends_on if n in done and not done[n].ok]
        if not missing:
            return None
        return PartDone(part.number, None, f"it needs part {', '.join(map(str, missing))}, which was not done")

    def _prompt(self, part: Part, done: dict[int, PartDone]) -> str:
        needed = [(self._parts[n], done[n].answer) for n in part.depends_on if n in done]
        return part_messages(part, self.request, [(p, answer.text) for p, answer in needed if answer is not None])

    def _here(self, part: Part, prompt: str, done: dict[int, PartDone]) -> PlanEvents:
        """One part, on this thread, through this answer's own way out."""
        step = Step.of(part)
        result: Answer | None = None
        problem: str | None = None
        try:
            for event in self.answer(prompt, part.task, self.passage):
                yield from self._take(part.number, step, event)
                if isinstance(event, Finished):
                    result = event.answer
        except HearthError as exc:
            problem = str(exc)
        done[part.number] = _part_done(part.number, result, problem)
        yield done[part.number]

    def _side_by_side(self, parts: Sequence[Part], done: dict[int, PartDone]) -> PlanEvents:
        """Parts that need no other part of this wave, each on a thread with its own way out."""
        inbox: queue.Queue[tuple[int, object]] = queue.Queue()
        stop = threading.Event()

        def work(part: Part, prompt: str) -> None:
            try:
                with self.side_passage() as passage:
                    events = self.answer(prompt, part.task, passage)
                    try:
                        for event in events:
                            inbox.put((part.number, event))
                            if stop.is_set():
                                break
                    finally:
                        close = getattr(events, "close", None)
                        if close is not None:
                            close()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, which decides
                inbox.put((part.number, exc))
            finally:
                inbox.put((part.number, _DONE))

        threads = [
            threading.Thread(target=work, args=(part, self._prompt(part, done)), name=f"plan-part-{part.number}")
            for part in parts
        ]
        steps = {part.number: Step.of(part) for part in parts}
        results: dict[int, Answer] = {}
        problems: dict[int, str] = {}
        unexpected: BaseException | None = None
        try:
            for thread in threads:
                thread.start()
            left = len(threads)
            while left:
                number, item = inbox.get()
                if item is _DONE:
                    left -= 1
                    done[number] = _part_done(number, results.get(number), problems.get(number))
                    yield done[number]
                elif isinstance(item, HearthError):
                    problems[number] = str(item)
                elif isinstance(item, BaseException):
                    unexpected = unexpected or item
                else:
                    event = item  # an event of that part's cascade
                    assert isinstance(event, AttemptStarted | TextDelta | AttemptEnded | Finished)
                    yield from self._take(number, steps[number], event)
                    if isinstance(event, Finished):
                        results[number] = event.answer
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        if unexpected is not None:
            raise unexpected

    def _synthesise(self, plan: Plan, done: dict[int, PartDone]) -> Generator[Event | PlanEvent, None, PartDone]:
        number = len(plan.parts) + 1
        usable = [d for d in done.values() if d.ok]
        if len(plan.parts) == 1 and usable:
            return usable[0]  # nothing to join
        if not usable:
            nothing = PartDone(number, None, "no part was done, so there is nothing to join")
            yield nothing
            return nothing
        results = [
            (
                part,
                done[part.number].answer.text if done[part.number].ok else None,  # type: ignore[union-attr]
                done[part.number].problem or "",
            )
            for part in plan.parts
        ]
        step = Step(role="synthesis")
        answer: Answer | None = None
        problem: str | None = None
        try:
            for event in self.synthesise(synthesis_prompt(self.request, results), Task.WRITING, self.passage):
                yield from self._take(number, step, event)
                if isinstance(event, Finished):
                    answer = event.answer
        except HearthError as exc:
            problem = str(exc)
        joined = _part_done(number, answer, problem)
        yield joined
        return joined

    def _answer(self, plan: Plan, done: dict[int, PartDone], final: PartDone, latency_ms: float) -> Answer:
        attempts = self.answers.all()
        not_done = [
            f"part {part.number} ({part.text}): {done[part.number].problem}"
            for part in plan.parts
            if not done[part.number].ok
        ]
        routed = "; ".join(
            f"part {part.number} ({part.task.value}) by {done[part.number].answer.model_id} "  # type: ignore[union-attr]
            f"at {done[part.number].answer.tier}"  # type: ignore[union-attr]
            for part in plan.parts
            if done[part.number].answer is not None
        )
        made_by = {"planner": "the planner", "rules": "the rules", "edited": "you, edited"}.get(plan.source, "you")
        reason = f"A plan of {len(plan.parts)} part{'s' if len(plan.parts) > 1 else ''} by {made_by}. "
        reason += (plan.note + " ") if plan.note else ""
        reason += (routed + ". ") if routed else ""
        warnings = [f"Not done: {'; '.join(not_done)}."] if not_done else []
        if final.answer is not None and final.ok:
            text, tier, model_id, confidence = final.answer.text, final.answer.tier, final.answer.model_id, None
            confidence = final.answer.confidence
            complete = True
        else:
            joined = [
                f"Part {p.number} — {p.text}\n\n{done[p.number].answer.text}"  # type: ignore[union-attr]
                for p in plan.parts
                if done[p.number].ok
            ]
            text = "\n\n".join(joined)
            tier, model_id, confidence = "plan", (attempts[-1].model_id if attempts else ""), None
            complete = bool(joined)
            warnings.append(f"The parts could not be joined ({final.problem}); they are shown one after another.")
        return Answer(
            text=text,
            tier=tier,
            model_id=model_id,
            confidence=confidence,
            escalated=any(d.answer.escalated for d in done.values() if d.answer is not None),
            reason=reason.strip(),
            latency_ms=latency_ms,
            tokens_in=sum(a.tokens_in for a in attempts),
            tokens_out=sum(a.tokens_out for a in attempts),
            attempts=attempts,
            complete=complete,
            warning=" ".join(warnings) or None,
        )


def _part_done(number: int, answer: Answer | None, problem: str | None) -> PartDone:
    if problem is None and answer is not None and not answer.complete:
        failed = next((a.error for a in reversed(answer.attempts) if a.error), None)
        problem = f"no model answered it ({failed})" if failed else "no model answered it"
    if problem is None and answer is None:
        problem = "it was not run"
    return PartDone(number, answer, problem)
