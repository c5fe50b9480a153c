"""What kind of request a message is, recognised cheaply before any model runs.

Rules first: each task has a few patterns, and the most specific task whose
patterns match wins (``Task`` lists them from the most specific: "write a
Python function" is code, not writing). An attached image makes the request a vision one. A message several of
whose clauses are different tasks ("summarise this, then draft a reply") is
multi-part: plan mode may split it. Where no rule matches, the local model may
be asked to name the task in a few tokens (``classify``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from app.core.config.capabilities import Capability
from app.core.errors import HearthError
from app.core.providers.base import Message, Provider, Sampling


class Task(StrEnum):
    """The kinds of request; GENERAL is a request none of the others fits."""

    VISION = Capability.VISION.value
    TRANSLATION = Capability.TRANSLATION.value
    CODE = Capability.CODE.value
    SUMMARISING = Capability.SUMMARISING.value
    EXTRACTION = Capability.EXTRACTION.value
    WRITING = Capability.WRITING.value
    REASONING = Capability.REASONING.value
    GENERAL = "general"


_LANGUAGES = (
    "english|french|spanish|german|italian|portuguese|dutch|polish|japanese|chinese|korean|arabic|russian|"
    "swahili|swedish|norwegian|danish|finnish|greek|turkish|hindi"
)
_RULES: dict[Task, str] = {
    Task.VISION: r"\b(this|the|attached|my) (image|picture|photo|screenshot|diagram|scan)\b|\bin the (photo|image)\b",
    Task.TRANSLATION: (
        rf"\btranslat\w*|\bhow do you say\b|\bwhat does '[^']+' mean\b|\b(in|into|to|from) ({_LANGUAGES})\b[:?.]|"
        rf"\b(put|render) (this|it|the \w+) (in|into) ({_LANGUAGES})\b|\bis '[^']+' in ({_LANGUAGES})\b|"
        rf"'[^']+' in ({_LANGUAGES})\?"
    ),
    Task.CODE: (
        r"```|\b(python|javascript|typescript|java|rust|golang|c\+\+|sql|bash|powershell|shell|regex|html|css)\b|"
        r"\b(function|compile|stack trace|traceback|exception|bug|refactor|script|query|class|api)\b|"
        r"[{};]\s*$|\b\w+\[\w*'?\w+'?\]|\bfor \(|\bdef \w+\("
    ),
    Task.SUMMARISING: (
        r"\bsumm?ar\w*|\bsum up\b|\btl;?dr\b|\bgist\b|\bkey points\b|\brecap\b|\bcondense\b|\bshorten\b|"
        r"\bboil (this|it) down\b|\bin a nutshell\b"
    ),
    Task.EXTRACTION: (
        r"\bextract\w*|\bpull out\b|\blist (every|all|the)\b|\bfind all\b|\bparse\b|\binto json\b|\bwith fields\b|"
        r"\bget the \w+( list)? out\b|\bmake a table\b|\bwhich \w+ (and \w+ )?appear\b|\bgive me the total\b"
    ),
    Task.WRITING: (
        r"\b(write|draft|compose|rewrite|redraft)\b|\b(e-?mail|letter|note|poem|haiku|story|essay|post|toast|slogan|"
        r"tagline|cover letter|product description|reply)\b"
    ),
    Task.REASONING: (
        r"\bwhy\b|\bprove\b|\bsolve\b|\bhow (many|much)\b|\bcalculate\b|\bstep by step\b|\breason\b|"
        r"\bpros and cons\b|\btrade-?off\b|\bshould i\b|\bis it better\b|\bcompare\b|\bwhen does\b|\bowes?\b|"
        r"\bexplain\b|\bderive\b|\bprobability\b"
    ),
}
_PATTERNS = {task: re.compile(rule, re.IGNORECASE | re.MULTILINE) for task, rule in _RULES.items()}
# Where one request turns into the next: "..., then ...", "..., list ...", "... and draft ...", new lines.
_VERBS = (
    r"(?:write|draft|compose|rewrite|translate|summari[sz]e|sum up|extract|list|explain|give|make|find|reply|create|"
    r"suggest|check|fix|calculate|compare|describe|answer|pull out|turn)\b"
)
_CLAUSES = re.compile(
    rf"(?:\n+|;\s+|\.\s+(?=[A-Z])|,?\s+(?:and\s+)?(?=then\s+)|,\s+(?:and\s+)?(?={_VERBS})|\s+and\s+(?={_VERBS}))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Recognition:
    task: Task
    why: str  # in words: what in the request made it this task
    tasks: tuple[Task, ...] = ()  # the tasks of its clauses, in order, when it has several

    @property
    def multi_part(self) -> bool:
        return len(self.tasks) > 1


def _first_match(text: str) -> tuple[Task, str] | None:
    for task, pattern in _PATTERNS.items():
        match = pattern.search(text)
        if match:
            return task, match.group().strip()
    return None


def clauses(text: str) -> list[str]:
    """The request cut where one instruction ends and the next begins."""
    pieces = [piece.strip(" ,.;:-\t") for piece in _CLAUSES.split(text)]
    return [piece for piece in pieces if len(piece.split()) >= 2]


def recognise(text: str, has_image: bool = False) -> Recognition:
    """The request's task, by the rules alone (cheap: no model runs)."""
    kinds = []
    for clause in clauses(text):
        hit = _first_match(clause)
        if hit and (not kinds or kinds[-1] != hit[0]):
            kinds.append(hit[0])
    several = tuple(kinds) if len(set(kinds)) > 1 else ()
    if has_image:
        return Recognition(Task.VISION, "an image is attached", several)
    hit = _first_match(text)
    if hit is None:
        return Recognition(Task.GENERAL, "no task rule matched")
    return Recognition(hit[0], f"it says “{hit[1][:40]}”", several)


CLASSIFY_TOKENS = 4
_EXAMPLES = (
    ("Write a poem about the sea.", Task.WRITING),
    ("Why is the sky blue?", Task.REASONING),
    ("My JavaScript loop never ends.", Task.CODE),
    ("Say hello in Italian.", Task.TRANSLATION),
    ("Give me the main points of this text: ...", Task.SUMMARISING),
    ("Which names appear in: Ann met Bo.", Task.EXTRACTION),
    ("What is the tallest mountain?", Task.GENERAL),
)


def classify(provider: Provider, text: str) -> Recognition | None:
    """The task as ``provider`` (the local model) names it in a few tokens; None if its answer names none."""
    names = ", ".join(task.value for task in Task)
    messages = [Message("system", f"Name the kind of each request: one of {names}. Reply with one word.")]
    for example, task in _EXAMPLES:
        messages += [Message("user", example), Message("assistant", task.value)]
    messages.append(Message("user", text[:1000]))
    stream = provider.stream(messages, max_tokens=CLASSIFY_TOKENS, sampling=Sampling(temperature=0.0, seed=0))
    try:
        reply = "".join(chunk.text for chunk in stream).strip().lower()
    except HearthError:
        return None
    finally:
        stream.close()
    word = re.match(r"[a-z]+", reply)
    for task in Task:
        if word and len(word.group()) >= 3 and task.value.startswith(word.group()):
            return Recognition(task, f"{provider.model_id} named it “{word.group()}”")
    return None


def recognise_with(provider: Provider | None, text: str, has_image: bool = False) -> Recognition:
    """The rules, and where they find nothing and ``provider`` is given, the model's word for it."""
    found = recognise(text, has_image)
    if found.task is Task.GENERAL and provider is not None:
        return classify(provider, text) or found
    return found


def task_names(tasks: Sequence[Task]) -> str:
    return ", ".join(task.value for task in tasks)
