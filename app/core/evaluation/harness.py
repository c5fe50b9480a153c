"""The evaluation harness: run tiers on labelled questions and judge the answers.

Each answer is produced the way the app produces it (a one-tier cascade, so
the same signals and confidence), judged against the item's accepted
answers, regular expression or named checker, and kept with its confidence
for the metrics in ``app.core.confidence.metrics``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from app.core.answers import Attempt, Finished
from app.core.confidence.calibration import Scorer
from app.core.confidence.self_check import stated_number
from app.core.conversation.context import build_context
from app.core.errors import DataError, FileError, GateClosed
from app.core.privacy.gate import Passage
from app.core.providers.base import Message
from app.core.routing.cascade import Cascade, TierPlan
from app.core.user_files import read_regular


class EvalItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    prompt: str
    accept: list[str] | None = None
    regex: str | None = None
    checker: Literal["choice", "number"] | None = None
    answer: str | None = None
    options: dict[str, str] | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _one_way_to_judge(self) -> EvalItem:
        ways = [self.accept is not None, self.regex is not None, self.checker is not None]
        if sum(ways) != 1:
            raise ValueError("give exactly one of 'accept', 'regex' or 'checker'")
        if self.checker is not None and self.answer is None:
            raise ValueError(f"checker '{self.checker}' needs 'answer'")
        if self.checker == "number" and not _is_number(self.answer):
            raise ValueError(f"checker 'number' needs a number as 'answer', not {self.answer!r}")
        if self.regex is not None:
            re.compile(self.regex)
        return self


def _is_number(text: str | None) -> bool:
    try:
        Fraction((text or "").replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return False
    return True


Row = TypeVar("Row", bound=BaseModel)


def load_items(path: Path) -> list[EvalItem]:
    return load_jsonl(path, EvalItem, "contains no questions")


def load_jsonl(path: Path, model: type[Row], nothing: str) -> list[Row]:
    """One ``model`` per non-empty line of a JSON Lines file; a bad line is a DataError naming it."""
    try:
        lines = read_regular(path).decode("utf-8").splitlines()
    except (FileError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot be read ({exc})", file=path) from None
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            items.append(model.model_validate_json(line))
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise DataError(f"{where + ': ' if where else ''}{problem['msg']}", file=path, line=number) from None
        except re.error as exc:
            raise DataError(f"invalid regex ({exc})", file=path, line=number) from None
    if not items:
        raise DataError(nothing, file=path)
    return items


# A standalone option letter; "A" followed by a lower-case word is the article ("A kangaroo").
_LETTER = re.compile(r"(?<![\w'])([A-D])(?![\w'])(?! [a-z])")


def _choice(item: EvalItem, answer: str) -> bool:
    """The first standalone option letter, or else the one option whose text the answer contains."""
    assert item.answer is not None
    letter = _LETTER.search(answer)
    if letter:
        return letter.group(1) == item.answer.upper()
    named = [key for key, text in (item.options or {}).items() if text and text.lower() in answer.lower()]
    return named == [item.answer.upper()]


def _number(item: EvalItem, answer: str) -> bool:
    """The number the answer gives (``self_check.stated_number``: "2 plus 6 is 8" gives 8)."""
    assert item.answer is not None
    stated = stated_number(item.prompt, answer)
    return stated is not None and stated[0] == Fraction(item.answer.replace(",", ""))


CHECKERS: dict[str, Callable[[EvalItem, str], bool]] = {"choice": _choice, "number": _number}


def judge(item: EvalItem, answer: str) -> bool:
    if item.accept is not None:
        return any(re.search(rf"\b{re.escape(ok)}\b", answer, re.IGNORECASE) for ok in item.accept)
    if item.regex is not None:
        return re.search(item.regex, answer, re.IGNORECASE) is not None
    assert item.checker is not None
    return CHECKERS[item.checker](item, answer)


@dataclass(frozen=True)
class ItemResult:
    id: str
    tier: str
    model: str
    answer: str
    correct: bool
    confidence: float | None
    latency_ms: float
    tokens: int
    error: str | None
    signals: dict[str, float | int | str | bool | None]
    # The final hidden state averaged over the answer, for fitting a probe (not written to reports).
    hidden: tuple[float, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        del data["hidden"]
        return data


Progress = Callable[[int, int, str], None]


def answer_item(
    item: EvalItem, tier: TierPlan, scorer: Scorer, system_prompt: str, max_tokens: int, passage: Passage
) -> ItemResult:
    """One question, asked the way the chat asks it: the same context (system prompt, the
    message) and a one-tier cascade, so the same sampling, signals and confidence."""
    question = [Message("user", item.prompt)]
    single = Cascade(
        [TierPlan(tier.name, tier.providers[:1])], scorer=scorer, passage=passage, max_answer_tokens=max_tokens
    )
    attempt = Attempt(tier.name, tier.providers[0].model_id, tier.providers[0].location.value)
    try:
        for event in single.run(lambda provider: build_context(system_prompt, question, provider, max_tokens)):
            if isinstance(event, Finished):
                attempt = event.answer.attempts[-1]
    except GateClosed as exc:  # the outgoing gate kept this question here: it counts as unanswered
        attempt.error = str(exc)
    return ItemResult(
        id=item.id,
        tier=tier.name,
        model=attempt.model_id,
        answer=attempt.text,
        correct=attempt.ok and judge(item, attempt.text),
        confidence=attempt.confidence,
        latency_ms=attempt.latency_ms,
        tokens=attempt.tokens_out,
        error=attempt.error,
        signals=attempt.signals,
        hidden=attempt.hidden,
    )


def run(
    items: Sequence[EvalItem],
    tiers: Sequence[TierPlan],
    scorer: Scorer,
    system_prompt: str,
    max_tokens: int,
    passage: Passage,
    progress: Progress | None = None,
) -> list[ItemResult]:
    """Answer every item on every tier; what leaves this computer goes through ``passage``."""
    results = []
    total = len(items) * len(tiers)
    for tier in tiers:
        for item in items:
            results.append(answer_item(item, tier, scorer, system_prompt, max_tokens, passage))
            if progress is not None:
                progress(len(results), total, f"{tier.name}: {item.id}")
    return results
