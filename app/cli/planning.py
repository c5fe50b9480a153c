"""Plan mode on the terminal: the plan, then each part as it runs and ends, on stderr (the answer on stdout)."""

from __future__ import annotations

import sys

from app.core.answers import AttemptStarted
from app.core.conversation.teamwork.events import PartDelta, PartDone, PartStarted, PlanReady
from app.core.conversation.teamwork.plan_run import PLANNER

MADE_BY = {"planner": "the planner model", "rules": "the rules (the request cut into its clauses)", "stored": "you"}


class PlanPrinter:
    """Says what a plan run does; ``show`` returns whether the event was a plan run's own."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet  # --json: nothing but the JSON at the end
        self.planning = False  # a plan run is under way: its attempts are its steps, not escalations
        self.parts = 0  # how many parts the plan has: the step after the last is the synthesis
        self.texts: dict[int, list[str]] = {}  # each step's text, printed whole when it ends (parts run side by side)

    def show(self, event: object) -> bool:
        if isinstance(event, PartStarted):
            self.planning = True
            self._say(f"\n[{self._name(event.number)} → {event.tier}: {event.label}]")
        elif isinstance(event, PlanReady):
            self.planning = True
            plan = event.plan
            self.parts = len(plan.parts)
            lines = [f"\n[plan by {MADE_BY.get(plan.source, plan.source)}: {len(plan.parts)} parts]"]
            if plan.note:
                lines.append(f"  {plan.note}")
            for part in plan.parts:
                after = f" (after {', '.join(map(str, part.depends_on))})" if part.depends_on else ""
                lines.append(f"  {part.number}. [{part.task.value}] {part.text}{after}")
            self._say("\n".join(lines))
        elif isinstance(event, PartDelta):
            self.texts.setdefault(event.number, []).append(event.text)
        elif isinstance(event, PartDone):
            text = "".join(self.texts.pop(event.number, [])).strip()
            name = self._name(event.number)
            self._say((f"\n[{name}]\n{text}" if text else "") + _done(name, event))
        else:
            return self.planning and isinstance(event, AttemptStarted)
        return True

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)

    def _name(self, number: int) -> str:
        if number == PLANNER:
            return "planner"
        return "synthesis" if self.parts and number > self.parts else f"part {number}"


def _done(name: str, event: PartDone) -> str:
    if not event.ok:
        return f"\n[{name} NOT DONE: {event.problem}]"
    answer = event.answer
    assert answer is not None
    confidence = "n/a" if answer.confidence is None else f"{answer.confidence:.2f}"
    cost = sum(attempt.cost for attempt in answer.attempts)
    return (
        f"\n[{name} done · {answer.tier} · {answer.model_id} · confidence {confidence} · "
        f"{answer.latency_ms / 1000:.1f} s · ${cost:.4f}]"
    )
