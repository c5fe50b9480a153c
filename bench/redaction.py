"""Redaction recall and precision on labelled sentences, and its speed on long text.

    .venv/bin/python -m bench.redaction

Three labelled sets (tests/data/README.md): ``redaction.jsonl`` (plain forms),
``redaction_tuning.jsonl`` (the variants the detectors were developed on) and
``redaction_heldout.jsonl`` (variants written first and kept apart while tuning:
the number to report). A value counts as found when its kind and its exact
span in the user's text are right; anything else found is a false positive.

Speed: redacting about 1 MB of text dense with personal data, ASCII and mixed
(full-width digits, accents), against the detectors of the previous release
(plain regular expressions, no folding) in the same run.

Targets on the held-out set: recall >= 0.95, precision >= 0.9.
JSON goes to bench/results/redaction.json.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import types
from collections import Counter
from pathlib import Path
from typing import Any

from app.core.privacy import redaction
from bench.report import RESULTS, write_report

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = {
    "plain": DATA / "redaction.jsonl",
    "tuning": DATA / "redaction_tuning.jsonl",
    "held_out": DATA / "redaction_heldout.jsonl",
}
PREVIOUS_RELEASE = "27e869a"


def measure(path: Path) -> dict[str, Any]:
    """Recall and precision over every labelled value of ``path``, with the misses and false alarms."""
    hits, false_alarms, misses = Counter[str](), Counter[str](), Counter[str]()
    wrong: list[str] = []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        text = row["text"]
        found = {(item.kind, text[item.start : item.end]) for item in redaction.find(text)}
        wanted = {(entity["kind"], entity["text"]) for entity in row["entities"]}
        for kind, _ in found & wanted:
            hits[kind] += 1
        for kind, value in found - wanted:
            false_alarms[kind] += 1
            wrong.append(f"{row['id']}: {kind} {value!r} is not personal data")
        for kind, value in wanted - found:
            misses[kind] += 1
            wrong.append(f"{row['id']}: {kind} {value!r} was missed")
    tp, fp, fn = sum(hits.values()), sum(false_alarms.values()), sum(misses.values())
    kinds = sorted(set(hits) | set(misses) | set(false_alarms))
    return {
        "sentences": len(rows),
        "entities": tp + fn,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0,
        "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
        "per_kind": {k: {"found": hits[k], "missed": misses[k], "false_alarms": false_alarms[k]} for k in kinds},
        "wrong": wrong,
    }


def dense_text(rng: random.Random, non_ascii: bool, size: int = 1_000_000) -> str:
    words = (
        "the invoice for Mr Lee is due on 2024-05-01 version 1.2.3 call 0612345678 or +44 20 7946 0958 "
        "mail ann@example.com card 4111 1111 1111 1111 IBAN DE89 3704 0044 0532 0130 00 from 10.0.0.1 "
        "price 1,299.99 order 4711"
    ).split()
    if non_ascii:
        words += ["Jürgen", "straße", "０６１２３４５６７８", "jürgen@müller.de", "4111\u00a01111\u00a01111\u00a01111"]
    pieces, length = [], 0
    while length < size:
        word = rng.choice(words)
        pieces.append(word)
        length += len(word) + 1
    return " ".join(pieces)


def previous_release() -> types.ModuleType | None:
    """The redaction module of the previous release, from git (None outside a checkout)."""
    try:
        source = subprocess.run(
            ["git", "show", f"{PREVIOUS_RELEASE}:app/core/privacy/redaction.py"],
            capture_output=True, text=True, check=True, cwd=DATA.parent.parent,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("previous_redaction")
    sys.modules[module.__name__] = module  # its dataclasses look their module up
    exec(compile(source, "previous_redaction.py", "exec"), module.__dict__)  # noqa: S102 - our own history
    return module


def speed() -> dict[str, Any]:
    rng = random.Random(14)
    previous = previous_release()
    result: dict[str, Any] = {}
    for name, non_ascii in (("ascii_1mb", False), ("mixed_1mb", True)):
        text = dense_text(rng, non_ascii)
        started = time.perf_counter()
        redaction.Redaction().redact(text)
        row = {"seconds": round(time.perf_counter() - started, 3)}
        if previous is not None:
            started = time.perf_counter()
            previous.Redaction().redact(text)
            row["previous_release_seconds"] = round(time.perf_counter() - started, 3)
        result[name] = row
    return result


def main() -> None:
    report = {name: measure(path) for name, path in SETS.items()}
    report["speed"] = speed()
    write_report(report, RESULTS / "redaction.json")


if __name__ == "__main__":
    main()
