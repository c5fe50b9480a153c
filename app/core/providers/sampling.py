"""Which sampling settings a local model uses, by the kind of request.

A short question, a multiple-choice question or a one-line instruction has
one right answer: the model's most likely answer is its best guess, so it is
answered greedily (temperature 0, no repeat penalty: a penalty that stops
"80 + 29 = 109" from repeating "80" and "29" changes the answer). An
open-ended request (write, explain, anything long) keeps the model's
configured temperature and repeat penalty, which keep a small model out of
word loops. The settings per kind were chosen by measurement on the
calibration halves of tests/data (models.toml gives the numbers).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

from app.core.config.schema import LocalModel
from app.core.providers.base import Message, Sampling

# More words than this, and a request is open-ended whatever it asks.
SHORT_MAX_WORDS = 80
_OPEN_ENDED = re.compile(
    r"\b(write|compose|draft|explain|describe|discuss|summari[sz]e|elaborate|brainstorm|outline|"
    r"tell me about|step by step|in detail|why)\b",
    re.IGNORECASE,
)
# Options to choose from ("A. ...", "B) ..."): a multiple-choice question, short whatever it asks.
_OPTION = re.compile(r"^\s*[A-H][.)]\s", re.MULTILINE)


class RequestKind(StrEnum):
    SHORT = "short"  # a question or instruction with one short right answer
    OPEN = "open"  # writing, explaining, planning, or anything long


def request_kind(messages: Sequence[Message]) -> RequestKind:
    text = next((m.content for m in reversed(messages) if m.role == "user"), "")
    if len(_OPTION.findall(text)) >= 2:
        return RequestKind.SHORT
    if len(text.split()) > SHORT_MAX_WORDS or _OPEN_ENDED.search(text) or "```" in text:
        return RequestKind.OPEN
    return RequestKind.SHORT


def choose_sampling(model: LocalModel, messages: Sequence[Message], sampling: Sampling | None) -> tuple[float, float]:
    """(temperature, repeat penalty) for this request; ``sampling`` (an ensemble's draw) overrides both."""
    if request_kind(messages) is RequestKind.SHORT:
        temperature, repeat_penalty = model.short_temperature, model.short_repeat_penalty
    else:
        temperature, repeat_penalty = model.temperature, model.repeat_penalty
    if sampling is not None and sampling.temperature is not None:
        temperature = sampling.temperature
    if sampling is not None and sampling.repeat_penalty is not None:
        repeat_penalty = sampling.repeat_penalty
    return temperature, repeat_penalty
