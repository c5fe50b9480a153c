"""A plan: the parts a request splits into, each with its task and the earlier parts it needs.

The planner model is asked to write one part a line, in a fixed shape::

    1. [summarising] Summarise the feedback.
    2. [writing] Draft a reply e-mail. (after 1)

``parse_plan`` reads that shape leniently (a task it does not know is read by
the rules; a dependency on a later or unknown part is dropped). When the
planner's text holds no usable plan, ``split_request`` cuts the request into
its clauses instead, so a plan never depends on a small model writing well.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from app.core.errors import InvalidInput
from app.core.providers.base import Message
from app.core.routing.tasks import Task, clauses, recognise

MAX_PARTS = 6
MAX_PART_CHARS = 4000  # what one edited part may ask
_LINE = re.compile(
    r"^\s*(?:part\s*)?(\d{1,2})\s*[.):-]\s*(?:\[\s*([a-z]+)\s*\]\s*)?(.+?)\s*(?:\((?:after|needs|depends on)\s+"
    r"([\d,\s and]+)\))?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Part:
    number: int  # 1, 2, ...
    task: Task
    text: str  # what this part asks, as its own message
    depends_on: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"number": self.number, "task": self.task.value, "text": self.text, "depends_on": list(self.depends_on)}


@dataclass(frozen=True)
class Plan:
    parts: tuple[Part, ...]
    source: str  # "planner": the planner model wrote it; "rules": the request was cut into its clauses
    note: str = ""  # why the rules were used, when they were
    request: str = field(default="", compare=False)

    def waves(self) -> list[list[Part]]:
        """The parts in rounds: each round only needs parts of earlier rounds, so a round's parts may run
        side by side."""
        done: set[int] = set()
        left = list(self.parts)
        rounds = []
        while left:
            ready = [part for part in left if set(part.depends_on) <= done]
            if not ready:  # a cycle cannot be parsed, but stay safe: run the rest in order
                ready = left[:1]
            rounds.append(ready)
            done |= {part.number for part in ready}
            left = [part for part in left if part not in ready]
        return rounds


def edited(plan: Plan, number: int, asks: str) -> Plan:
    """The plan with part ``number`` asking ``asks`` instead (the user's edit); its task is read anew by
    the rules, and stays what it was where they recognise none."""
    text = " ".join(asks.split())
    if not text:
        raise InvalidInput(f"Part {number} needs something to ask; the plan was not changed.")
    if len(text) > MAX_PART_CHARS:
        raise InvalidInput(f"Part {number} may ask at most {MAX_PART_CHARS} characters; this asks {len(text)}.")
    recognised = recognise(text).task
    parts = tuple(
        replace(part, text=text, task=part.task if recognised is Task.GENERAL else recognised)
        if part.number == number
        else part
        for part in plan.parts
    )
    return replace(plan, parts=parts, source="edited")


def planner_messages(request: str) -> list[Message]:
    """The planner's instructions, one worked example, and the request."""
    kinds = ", ".join(task.value for task in Task)
    return [
        Message(
            "system",
            "You split a request into at most "
            f"{MAX_PARTS} parts. Write one part a line as: N. [kind] instruction (after M). Kinds: {kinds}. "
            "Write (after M) only when the part needs the result of part M. Write nothing else.",
        ),
        Message("user", "Translate 'good luck' into Spanish and write a short poem that uses it."),
        Message(
            "assistant",
            "1. [translation] Translate 'good luck' into Spanish.\n2. [writing] Write a short poem that uses it. "
            "(after 1)",
        ),
        Message("user", request),
    ]


def _task_of(name: str | None, text: str) -> Task:
    try:
        return Task((name or "").lower())
    except ValueError:
        return recognise(text).task


def parse_plan(text: str, request: str) -> Plan | None:
    """The plan the planner wrote, or None when its text holds fewer than two usable parts."""
    parts: list[Part] = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match or len(parts) == MAX_PARTS:
            continue
        number = len(parts) + 1
        written = int(match.group(1))
        instruction = match.group(3).strip()
        if len(instruction.split()) < 2:
            continue
        needs = tuple(
            sorted(
                {
                    int(n)
                    for n in re.findall(r"\d+", match.group(4) or "")
                    if 0 < int(n) < written and int(n) <= len(parts)
                }
            )
        )
        parts.append(Part(number, _task_of(match.group(2), instruction), instruction, needs))
    if len(parts) < 2:
        return None
    return Plan(tuple(parts), "planner", request=request)


_THEN = re.compile(r"(?:and\s+)?(?:then|afterwards|after that|finally),?\s+", re.IGNORECASE)
_REFERS_BACK = re.compile(r"\b(it|them|that|this|the (result|reply|answer|summary|list|above))\b", re.IGNORECASE)


def split_request(request: str, note: str) -> Plan:
    """The request cut into its clauses, each a part of the task the rules see in it. A clause that refers
    back ("... then translate it") needs the part before it; the others run independently."""
    parts = []
    for n, piece in enumerate(clauses(request)[:MAX_PARTS] or [request], start=1):
        after = _THEN.match(piece)
        text = piece[after.end() :] if after else piece
        needs = (n - 1,) if n > 1 and (after or _REFERS_BACK.search(text)) else ()
        parts.append(Part(n, recognise(text).task, text[:1].upper() + text[1:], needs))
    return Plan(tuple(parts), "rules", note, request=request)


def part_messages(part: Part, request: str, results: Sequence[tuple[Part, str]]) -> str:
    """What a part asks, as a message of its own: the whole request for context, the results it depends on."""
    needed = "".join(f"\n\nResult of part {p.number} ({p.text}):\n{text}" for p, text in results)
    return f"This is one part of a larger request: “{request}”.{needed}\n\nDo only this part: {part.text}"


def synthesis_prompt(request: str, results: Sequence[tuple[Part, str | None, str]]) -> str:
    """The synthesiser's message: each part's result, and plainly which parts have none (and why)."""
    lines = [f"The request was: “{request}”. It was done in parts:"]
    for part, text, problem in results:
        if text is None:
            lines.append(f"\nPart {part.number} ({part.text}): NOT DONE — {problem}")
        else:
            lines.append(f"\nPart {part.number} ({part.text}):\n{text}")
    lines.append(
        "\nJoin the parts into one answer to the request. For a part marked NOT DONE, say plainly that it "
        "could not be covered and why."
    )
    return "\n".join(lines)
