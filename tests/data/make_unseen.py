"""Build the sets of kinds of question no shipped fit is made from, only ever reported.

    python tests/data/make_unseen.py                 # downloads periodictable and the bigbench sdist with pip
    python tests/data/make_unseen.py --sdist FILE    # the bigbench sdist already downloaded

Each shipped fit is made from the relations and tasks of the ``*_calibrate.jsonl`` files; a user's
questions are mostly of other kinds. These three are other domains with short answers:

- ``elements_unseen.jsonl``: the chemical elements 1-103 (symbol of a name, name of a symbol,
  name of an atomic number, atomic number of a name), from the element table of
  ``periodictable==2.1.0`` on PyPI (public domain); symbols that are also English words (He, In,
  As...) are left out of the symbol questions, and a symbol counts only written in its case;
- ``stdlib_unseen.jsonl``: which module of Python's standard library provides a function, five
  functions per module whose name no other listed module (and no builtin) has, read from the
  standard library of the Python that runs this script (PSF licence);
- ``categories_unseen.jsonl``: naming what a list has in common, from BIG-bench
  ``auto_categorization`` (Apache-2.0), anything about places dropped; right if the answer names the category
  or its head noun ("instruments" for "musical instruments"), so its labels are lenient.
"""

from __future__ import annotations

import argparse
import builtins
import importlib
import inspect
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from make_bigbench import GEOGRAPHY, read_tasks, targets, write_items
from make_bigbench import download as download_bigbench

HERE = Path(__file__).parent
SEED = 2026
PERIODICTABLE = "2.1.0"
# What make_bigbench's rule misses in these lists: plurals and the names of continents.
PLACES = re.compile(
    r"\b(continents|countries|capitals|cities|states|provinces|rivers|mountains|oceans|seas|islands|europe|asia|"
    r"africa|australia|south america|north america|antarctica)\b",
    re.IGNORECASE,
)
SPELLINGS = {"aluminum": ["aluminium"], "cesium": ["caesium"], "sulfur": ["sulphur"]}
SYMBOL_WORDS = {"He", "Be", "No", "In", "As", "At", "I", "Am", "Ho", "Es", "Pa", "Po", "Re", "Ti", "La", "Te"}
SINGLE_LETTERS = set("UYWBCNOPSVFHK")
MODULES = """math os os.path json random re time sys shutil subprocess itertools functools collections statistics
string textwrap glob hashlib base64 pickle copy csv heapq bisect operator uuid zlib gzip tempfile socket urllib.parse
html difflib fnmatch shlex struct secrets calendar fractions platform getpass pprint inspect contextlib dataclasses
threading asyncio unicodedata webbrowser zipfile tarfile sqlite3 logging locale signal traceback warnings weakref gc
keyword colorsys binascii codecs io datetime pathlib typing enum abc queue select mimetypes smtplib ssl cmath ipaddress
filecmp stat""".split()


def element_table() -> list[tuple[int, str, str]]:
    """(number, name, symbol) of elements 1-103, from periodictable installed into a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--target", folder, f"periodictable=={PERIODICTABLE}"],
            check=True,
        )
        sys.path.insert(0, folder)
        import periodictable  # noqa: PLC0415 - installed just above

        return [(e.number, e.name, e.symbol) for e in periodictable.elements if 0 < e.number <= 103]


def elements() -> list[dict[str, Any]]:
    source = f"periodictable {PERIODICTABLE} (public domain)"
    rows = []
    for number, name, symbol in element_table():
        names = [name, *SPELLINGS.get(name, [])]
        if symbol not in SYMBOL_WORDS | SINGLE_LETTERS:
            rows.append(
                {
                    "id": f"el-sym-{number}",
                    "prompt": f"What is the chemical symbol for {name}?",
                    "regex": rf"(?-i:\b{symbol}\b)",
                    "source": source,
                }
            )
        rows.append(
            {
                "id": f"el-name-{number}",
                "prompt": f"Which chemical element has the symbol {symbol}?",
                "accept": names,
                "source": source,
            }
        )
        rows.append(
            {
                "id": f"el-num-{number}",
                "prompt": f"Which chemical element has atomic number {number}?",
                "accept": names,
                "source": source,
            }
        )
        rows.append(
            {
                "id": f"el-atno-{number}",
                "prompt": f"What is the atomic number of {name}?",
                "checker": "number",
                "answer": str(number),
                "source": source,
            }
        )
    return rows


def stdlib() -> list[dict[str, Any]]:
    owners: dict[str, set[str]] = {}
    for module in MODULES:
        for name, value in vars(importlib.import_module(module)).items():
            if name.startswith("_") or len(name) < 4 or hasattr(builtins, name):
                continue
            if inspect.isfunction(value) or inspect.isbuiltin(value):
                owners.setdefault(name, set()).add(module)
    only = {name: next(iter(found)) for name, found in owners.items() if len(found) == 1}
    rng = random.Random(f"{SEED}-stdlib")
    source = f"the standard library of Python {sys.version_info.major}.{sys.version_info.minor} (PSF licence)"
    rows = []
    for module in MODULES:
        names = sorted(name for name, owner in only.items() if owner == module)
        for name in rng.sample(names, min(5, len(names))):
            rows.append(
                {
                    "id": f"py-{module}-{name}",
                    "prompt": f"In Python's standard library, which module provides the function {name}()?",
                    "accept": [module],
                    "source": source,
                }
            )
    return rows


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if re.search(r"(s|x|ch|sh)es$", word):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def categories(sdist: Path) -> list[dict[str, Any]]:
    task = read_tasks(sdist, ["auto_categorization"])["auto_categorization"]
    rows = []
    for index, example in enumerate(task["examples"]):
        target = targets(example)[0]
        if any(rule.search(text) for rule in (GEOGRAPHY, PLACES) for text in (example["input"], target)):
            continue
        head = target.split()[-1]
        accept = {target, head, _singular(head)}
        accept |= {a.replace("color", "colour") for a in accept}
        rows.append(
            {
                "id": f"cat-{index}",
                "prompt": f'Complete the sentence with a category: "{example["input"]} ..."',
                "accept": sorted(accept),
                "source": "BIG-bench auto_categorization via bigbench 1.0.0",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdist", type=Path, help="bigbench-1.0.0.tar.gz, if already downloaded")
    args = parser.parse_args()
    for name, rows in (
        ("elements", elements()),
        ("stdlib", stdlib()),
        ("categories", categories(args.sdist or download_bigbench())),
    ):
        random.Random(f"{SEED}-{name}").shuffle(rows)  # so that --limit N takes a fair sample
        write_items(HERE / f"{name}_unseen.jsonl", rows)


if __name__ == "__main__":
    main()
