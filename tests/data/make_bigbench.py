"""Build Hearth's labelled sets from BIG-bench tasks in the bigbench 1.0.0 sdist on PyPI.

    python tests/data/make_bigbench.py                 # downloads the sdist with pip (360 MB)
    python tests/data/make_bigbench.py --sdist FILE    # or reads one already downloaded

Four kinds of request, each split into a calibration file (for fitting and
for choosing settings) and a disjoint evaluation file (only ever reported).
Each calibration file is one half of a sample of the same mix as its evaluation
file, followed by more items of the same tasks that neither half holds (a
probe on the model's hidden state learns from every answer it is fitted on):

- facts: short factual questions from ``qa_wikidata``, relations about people,
  works and products only (no country, capital, place or language relation);
- choice: multiple choice from ``general_knowledge``, ``human_organs_senses``,
  ``known_unknowns`` and ``misconceptions``;
- arithmetic: ``arithmetic`` (1-digit and 2-digit addition, subtraction,
  multiplication; 1-digit division);
- instructions: outputs a rule can check, from ``linguistic_mappings`` (plural,
  past tense), ``word_sorting`` (2-5 words), ``tense`` and ``repeat_copy_logic``.

Any item whose prompt mentions geography (countries, capitals, cities, rivers...)
is dropped, so that an independent check of that kind stays a fair test.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
VERSION = "1.0.0"
SEED = 2026
TASKS = "bigbench-1.0.0/bigbench/benchmark_tasks/"
GEOGRAPHY = re.compile(
    r"\b(capital|countr(y|ies)|continent|cit(y|ies)|nation|border|river|mountain|ocean|sea|island|"
    r"province|located|population|planet)\b",
    re.IGNORECASE,
)
# qa_wikidata relation -> question; only relations about people, works and products.
RELATIONS = {
    "The sport played by {} is": "Which sport does {} play?",
    "The genre of {} is": "What is the genre of {}?",
    "The instrument of {} is": "Which instrument does {} play?",
    "The team position of {} is": "What position does {} play?",
    "The voice type of {} is": "What is the voice type of {}?",
    "The record label of {} is": "Which record label was {} signed to?",
    "The developer of {} is": "Which company developed {}?",
    "The publisher of {} is": "Who published {}?",
    "The manufacturer of {} is": "Which company makes {}?",
    "The main subject of {} is": "What is the main subject of {}?",
    "The health specialty of {} is": "Which medical specialty treats {}?",
    "The measured physical quantity of {} is": "What physical quantity does the {} measure?",
    "The original broadcaster of {} is": "Which network first broadcast {}?",
    "The month of the year of {} is": "In which month is {} held?",
    "{} is followed by": "What comes after {}?",
    "The military rank of {} is": "What was the military rank of {}?",
    "The competition class of {} is": "In which weight class did {} compete?",
}
PER_RELATION = 24
# Items per relation or task added to the calibration file, from those the sample left out.
MORE_PER_GROUP = {"facts": 96, "choice": 0, "arithmetic": 52, "instructions": 80}
NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve".split()


def read_tasks(sdist: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    wanted = {f"{TASKS}{name}/task.json": name for name in names}
    found: dict[str, dict[str, Any]] = {}
    with tarfile.open(sdist) as archive:
        for member in archive:
            if member.name in wanted:
                handle = archive.extractfile(member)
                assert handle is not None
                found[wanted[member.name]] = json.load(handle)
    missing = set(names) - set(found)
    if missing:
        raise SystemExit(f"not in {sdist.name}: {', '.join(sorted(missing))}")
    return found


def targets(example: dict[str, Any]) -> list[str]:
    target = example.get("target")
    if target is None:
        return [k for k, v in example["target_scores"].items() if v]
    return target if isinstance(target, list) else [target]


Picked = Iterator[tuple[str, dict[str, Any], bool]]


def _sample(group: str, items: list[Any], k: int, rng: random.Random) -> Picked:
    """``(group, item, True)`` for ``k`` items drawn at random, then ``(group, item, False)`` for the rest."""
    chosen = rng.sample(items, min(k, len(items)))
    picked = {id(item) for item in chosen}
    for item in chosen:
        yield group, item, True
    for item in items:
        if id(item) not in picked:
            yield group, item, False


def facts(tasks: dict[str, dict[str, Any]], rng: random.Random) -> Picked:
    patterns = [(re.compile("^" + re.escape(k).replace(r"\{\}", "(.+)") + "$"), q) for k, q in RELATIONS.items()]
    by_relation: dict[str, list[dict[str, Any]]] = {}
    for index, example in enumerate(tasks["qa_wikidata"]["examples"]):
        for pattern, question in patterns:
            match = pattern.match(example["input"])
            if match:
                item = {
                    "id": f"facts-{index}",
                    "prompt": question.format(match.group(1)),
                    "accept": targets(example),
                    "source": f"BIG-bench qa_wikidata ({question.split(' {}')[0]}) via bigbench {VERSION}",
                }
                by_relation.setdefault(question, []).append(item)
                break
    for question, items in sorted(by_relation.items()):
        yield from _sample(question, items, PER_RELATION, rng)


def _options(correct: str, wrong: list[str], rng: random.Random) -> tuple[dict[str, str], str]:
    picked = [correct, *rng.sample(wrong, min(3, len(wrong)))]
    rng.shuffle(picked)
    letters = "ABCD"[: len(picked)]
    return dict(zip(letters, picked, strict=True)), letters[picked.index(correct)]


def choice(tasks: dict[str, dict[str, Any]], rng: random.Random) -> Picked:
    for task in ("general_knowledge", "human_organs_senses", "known_unknowns", "misconceptions"):
        for index, example in enumerate(tasks[task]["examples"]):
            scores = example["target_scores"]
            right = [k for k, v in scores.items() if v]
            if len(right) != 1:
                continue
            if task == "misconceptions":
                options, answer = {"A": "True", "B": "False"}, "A" if right[0] == "T" else "B"
                question = f"True or false: {example['input']}"
            else:
                options, answer = _options(right[0], [k for k, v in scores.items() if not v], rng)
                question = example["input"]
            listed = "\n".join(f"{letter}. {text}" for letter, text in options.items())
            yield (
                task,
                {
                    "id": f"choice-{task}-{index}",
                    "prompt": f"{question}\n\n{listed}\n\nAnswer with the letter of the correct option.",
                    "checker": "choice",
                    "answer": answer,
                    "options": options,
                    "source": f"BIG-bench {task} via bigbench {VERSION}",
                },
                True,
            )


ARITHMETIC = [
    "1_digit_addition",
    "1_digit_subtraction",
    "1_digit_multiplication",
    "1_digit_division",
    "2_digit_addition",
    "2_digit_subtraction",
    "2_digit_multiplication",
]


def arithmetic(tasks: dict[str, dict[str, Any]], rng: random.Random) -> Picked:
    for task in ARITHMETIC:
        examples = [
            {
                "id": f"arithmetic-{task}-{index}",
                "prompt": example["input"],
                "checker": "number",
                "answer": example["target"],
                "source": f"BIG-bench arithmetic ({task.replace('_', ' ')}) via bigbench {VERSION}",
            }
            for index, example in enumerate(tasks[f"arithmetic/{task}"]["examples"])
        ]
        yield from _sample(task, examples, 52, rng)


def _words_in_order(words: list[str]) -> str:
    return r"\b" + r"\W+".join(re.escape(w) for w in words) + r"\b"


def instructions(tasks: dict[str, dict[str, Any]], rng: random.Random) -> Picked:
    mappings = {
        "plural": ("plural", 'What is the plural of "{}"? Reply with the word only.'),
        "past_tense": ("past tense", 'What is the past tense of "{}"? Reply with the word only.'),
    }
    for name, (label, template) in mappings.items():
        words = [
            {
                "id": f"instructions-{name}-{part}-{i}",
                "prompt": template.format(example["input"]),
                "accept": targets(example),
                "source": f"BIG-bench linguistic_mappings ({label}) via bigbench {VERSION}",
            }
            for part in (f"{name}_json", f"{name}_irregular_json")
            for i, example in enumerate(tasks[f"linguistic_mappings/{part}"]["examples"])
        ]
        yield from _sample(name, words, 90, rng)
    sorting = [
        {
            "id": f"instructions-sort-{index}",
            "prompt": f"Sort these words alphabetically and reply with the sorted words only: {example['input']}",
            "regex": _words_in_order(example["target"].split()),
            "source": f"BIG-bench word_sorting via bigbench {VERSION}",
        }
        for index, example in enumerate(tasks["word_sorting"]["examples"])
        if len(example["input"].split()) <= 5
    ]
    yield from _sample("word_sorting", sorting, 90, rng)
    tense = re.compile(r"^(.+?)\s*Change tense to ([A-Z ]+):?\s*$")
    rewrites = [
        {
            "id": f"instructions-tense-{index}",
            "prompt": f"Rewrite this sentence in the {sentence[2].strip().lower()} tense: {sentence[1]}",
            "regex": _words_in_order(re.findall(r"[\w']+", example["target"])),
            "source": f"BIG-bench tense via bigbench {VERSION}",
        }
        for index, example in enumerate(tasks["tense"]["examples"])
        if (sentence := tense.match(example["input"]))
    ]
    yield from _sample("tense", rewrites, 60, rng)
    for index, example in enumerate(tasks["repeat_copy_logic"]["examples"]):
        yield (
            "repeat_copy_logic",
            {
                "id": f"instructions-repeat-{index}",
                "prompt": example["input"],
                "regex": _words_in_order(re.findall(r"[\w']+", targets(example)[0])),
                "source": f"BIG-bench repeat_copy_logic via bigbench {VERSION}",
            },
            True,
        )


def split(picked: Picked, rng: random.Random, more: int, more_rng: random.Random) -> tuple[list[Any], list[Any]]:
    """Alternate within each group (relation, task) so both halves have the same mix, then add up to
    ``more`` items a group from those not sampled to the calibration half; drop geography and repeats."""
    by_group: dict[str, list[dict[str, Any]]] = {}
    spare: dict[str, list[dict[str, Any]]] = {}
    for group, item, sampled in picked:
        if not GEOGRAPHY.search(item["prompt"]):
            (by_group if sampled else spare).setdefault(group, []).append(item)
    calibrate, evaluate = [], []
    for group in sorted(by_group):
        items = by_group[group]
        rng.shuffle(items)
        calibrate += items[0::2]
        evaluate += items[1::2]
    rng.shuffle(calibrate)  # mixed, so that the first N of a file (--limit N) are a fair sample
    rng.shuffle(evaluate)
    seen = {item["prompt"] for item in calibrate + evaluate}
    extra = []
    for group in sorted(spare):
        fresh = [item for item in spare[group] if item["prompt"] not in seen]
        for item in more_rng.sample(fresh, min(more, len(fresh))):
            if item["prompt"] not in seen:
                seen.add(item["prompt"])
                extra.append(item)
    more_rng.shuffle(extra)
    return calibrate + extra, evaluate


def download() -> Path:
    folder = Path(tempfile.mkdtemp())
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--quiet"]
        + [f"bigbench=={VERSION}", "-d", str(folder)],
        check=True,
    )
    return next(folder.glob(f"bigbench-{VERSION}.tar.gz"))


def write_items(path: Path, items: list[Any]) -> None:
    """One JSON object per line, as Hearth's evaluation reads them."""
    with path.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{path.name}: {len(items)} items")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdist", type=Path, help="bigbench-1.0.0.tar.gz, if already downloaded")
    args = parser.parse_args()
    names = [
        "qa_wikidata",
        "general_knowledge",
        "human_organs_senses",
        "known_unknowns",
        "misconceptions",
        "word_sorting",
        "tense",
        "repeat_copy_logic",
        *(f"arithmetic/{task}" for task in ARITHMETIC),
        *(f"linguistic_mappings/{n}_{kind}json" for n in ("plural", "past_tense") for kind in ("", "irregular_")),
    ]
    tasks = read_tasks(args.sdist or download(), names)
    for kind, build in (
        ("facts", facts),
        ("choice", choice),
        ("arithmetic", arithmetic),
        ("instructions", instructions),
    ):
        rng, more_rng = random.Random(f"{SEED}-{kind}"), random.Random(f"{SEED}-{kind}-more")
        halves = split(build(tasks, rng), rng, MORE_PER_GROUP[kind], more_rng)
        for name, items in zip(("calibrate", "eval"), halves, strict=True):
            write_items(HERE / f"{kind}_{name}.jsonl", items)


if __name__ == "__main__":
    main()
