"""Faults injected into real runs of Hearth, and what survived: one table.

    .venv/bin/python -m bench.faults [--kills 20] [--only data|rendering]

Each row injects one kind of fault, counts the injections, how many Hearth
survived (the user got a clear message, the program went on or exited cleanly,
and the database passed PRAGMA integrity_check), and how much data was lost
(characters shown to the user that were not in the database afterwards, or
earlier messages gone). The machinery is the test suite's: a misbehaving
service on 127.0.0.1 (tests/fault_server.py), SIGKILL of a streaming
`hearth ask`, a tiny tmpfs that fills up or turns read-only, damaged GGUF files, hostile text
in the window (bench/hostile_rendering.py); and (bench/data_faults.py) hostile imports, rows
against the rules, damaged databases, logs and backups.
JSON goes to bench/results/faults.json.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
from tests.test_crash_safety import kill_mid_answer
from tests.test_faults import MESSAGES, escalating_config, remote_config
from tests.test_local_model import provider_for
from tests.test_storage_faults import run_on_small_disk

from app.core.answers import Finished, TextDelta
from app.core.errors import HearthError, ModelLoadError
from app.core.providers.base import Message
from app.core.providers.llama_cpp import LlamaCppProvider
from app.core.providers.registry import REMOTE_PROVIDERS
from app.core.session import open_session
from app.core.storage.store import Store
from bench.data_faults import data_faults
from bench.hostile_rendering import rendering_rows
from bench.report import RESULTS, write_report
from tests.conftest import (
    REPO,
    config_text,
    fetch_test_model,
    free_port,
    through_gate,
    with_chat_template,
    write_user_config,
)
from tests.fault_server import KINDS, PREFIX_WORDS, base_url, fault_server, faults

Row = dict[str, object]


def row(fault: str, injected: int, survived: int, lost: int, note: str = "") -> Row:
    return {"fault": fault, "injected": injected, "survived": survived, "data_lost": lost, "note": note}


def integrity(database: Path) -> bool:
    with sqlite3.connect(database) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def remote_faults(model: Path, home: Path) -> list[Row]:
    rows = []
    os.environ["HEARTH_KEY_FAULT"] = "sk-bench-fault"
    with fault_server() as server:
        for fault in faults(free_port()):
            survived = lost = 0
            for kind in KINDS:
                # The provider alone: the right error, after exactly the text that arrived.
                provider = REMOTE_PROVIDERS[kind](
                    "remote", remote_config(kind, base_url(server, kind, fault)), httpx.Client(), api_key="sk-bench"
                )
                received = ""
                try:
                    for chunk in through_gate(provider, MESSAGES, max_tokens=48):
                        received += chunk.text
                    clear = False
                except fault.expected:
                    clear = True
                except HearthError:
                    clear = False
                # The whole cascade: what the user watched arrive is what the database keeps.
                write_user_config(home, escalating_config(model, kind, base_url(server, kind, fault)))
                session = open_session()
                shown: dict[int, str] = {}
                answered = False
                try:
                    for event in session.chat.send(None, "What is the capital of France?"):
                        if isinstance(event, TextDelta):
                            shown[event.index] = shown.get(event.index, "") + event.text
                        answered |= isinstance(event, Finished)
                    store = session.open_store()
                    message = store.messages(store.conversations()[0].id)[-1]
                    kept = {a.position: a.text for a in store.attempts(message.id)}
                    store.close()
                finally:
                    session.close()
                missing = sum(
                    len(text) - len(kept.get(i, ""))
                    for i, text in shown.items()
                    if not kept.get(i, "").startswith(text)
                )
                sound = integrity(home / "data" / "hearth.db")
                (home / "data" / "hearth.db").unlink()
                partial_ok = received.startswith("".join(PREFIX_WORDS)) if fault.partial else received == ""
                survived += clear and partial_ok and answered and sound and missing == 0
                lost += missing
            rows.append(
                row(f"remote: {fault.name}", len(KINDS), survived, lost, "OpenAI-compatible, Anthropic, Gemini")
            )
    return rows


def sigkills(model: Path, home: Path, kills: int) -> Row:
    text = config_text(model, max_answer_tokens=2000)
    write_user_config(home, text.replace("threads = 2\n", "threads = 2\nrepeat_penalty = 1.0\n"))
    os.environ["HEARTH_HOME"] = str(home)
    rng = random.Random(7)
    survived = lost = 0
    for _ in range(kills):
        printed = kill_mid_answer("Write an extremely long essay about the history of the world.", rng.uniform(0.2, 3))
        store = Store(home / "data" / "hearth.db")
        answer = store.messages(store.conversations()[0].id)[-1]
        store.close()
        kept = answer.content.startswith(printed)
        lost += 0 if kept else len(printed) - len(os.path.commonprefix([printed, answer.content]))
        survived += kept and integrity(home / "data" / "hearth.db")
    return row("SIGKILL while streaming", kills, survived, lost, "at random moments, 0.2-3 s into the answer")


def storage_faults(model: Path) -> list[Row]:
    rows = []
    cases = {
        "disk full": (
            "dd if=/dev/zero of={disk}/filler bs=64k 2>/dev/null\n"
            f"{sys.executable} -m app ask 'Again'; echo \"rc: $?\"\nrm {{disk}}/filler",
            "is full",
        ),
        "read-only database": (
            f"mount -o remount,ro {{disk}}\n{sys.executable} -m app ask 'Again'; echo \"rc: $?\"",
            "is read-only",
        ),
    }
    for name, (steps, said) in cases.items():
        folder = Path(tempfile.mkdtemp(prefix="hearth-bench-disk-"))
        out = run_on_small_disk(folder, model, steps.format(disk=folder / "disk"))
        ok = "rc: 1" in out and said in out and "Traceback" not in out and "integrity: ok" in out
        lost = 0 if "integrity: ok 2" in out or "integrity: ok 3" in out else 1
        rows.append(row(name, 1, int(ok), lost, "a 3 MB tmpfs in a private mount namespace"))
    return rows


def model_faults(model: Path) -> Row:
    folder = Path(tempfile.mkdtemp(prefix="hearth-bench-gguf-"))
    truncated = folder / "truncated.gguf"
    truncated.write_bytes(model.read_bytes()[: 1 << 20])
    corrupt = folder / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + os.urandom(4096))
    huge = folder / "huge.gguf"
    with huge.open("wb") as handle:
        handle.write(b"GGUF")
        handle.truncate(psutil.virtual_memory().total * 2)  # sparse: no disk space used
    cases: list[Callable[[], LlamaCppProvider]] = [
        lambda: provider_for(truncated),
        lambda: provider_for(corrupt),
        lambda: provider_for(huge),
        lambda: provider_for(with_chat_template(model, folder, "{% not_jinja %}")),
    ]
    survived = 0
    for make in cases:
        try:
            make().load()
        except ModelLoadError:
            survived += 1
    refusing = provider_for(with_chat_template(model, folder, "{{ raise_exception('no system role') }}"))
    answer = "".join(c.text for c in refusing.stream([Message("system", "Hi."), Message("user", "Hi")], max_tokens=8))
    survived += bool(answer.strip()) and refusing.template_note is not None
    return row(
        "damaged or unusable GGUF",
        len(cases) + 1,
        survived,
        0,
        "truncated, corrupt, twice the RAM, broken template: clear errors; a refusing template: ChatML",
    )


def concurrent_copies(model: Path, home: Path, rounds: int = 3) -> Row:
    write_user_config(home, config_text(model, max_answer_tokens=24))
    os.environ["HEARTH_HOME"] = str(home)
    survived = 0
    for round_ in range(rounds):
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "app", "ask", f"Name a colour ({round_}-{n})."],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=REPO,
            )
            for n in range(3)
        ]
        survived += sum(process.wait(300) == 0 for process in processes)
    store = Store(home / "data" / "hearth.db")
    count = len(store.conversations())
    store.close()
    lost = rounds * 3 - count
    ok = integrity(home / "data" / "hearth.db")
    return row("copies of Hearth at once", rounds * 3, survived if ok else 0, lost, "3 processes, one database")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--out", type=Path, default=RESULTS / "faults.json")
    parser.add_argument(
        "--only",
        choices=["data", "rendering"],
        help="only these rows: data = imports, databases, backups; rendering = hostile text in the window",
    )
    args = parser.parse_args()
    model = fetch_test_model()

    def home() -> Path:
        path = Path(tempfile.mkdtemp(prefix="hearth-bench-faults-"))
        os.environ["HEARTH_HOME"] = str(path)
        return path

    rows = []
    if args.only is None:
        rows += remote_faults(model, home())
        rows.append(sigkills(model, home(), args.kills))
        rows += storage_faults(model)
        rows.append(model_faults(model))
        rows.append(concurrent_copies(model, home()))
    if args.only in (None, "rendering"):
        rows += rendering_rows(model)
    if args.only in (None, "data"):
        rows += data_faults(model)
    total = row("total", *(sum(int(r[k]) for r in rows) for k in ("injected", "survived", "data_lost")))
    rows.append(total)
    width = max(len(str(r["fault"])) for r in rows)
    print(f"{'fault':<{width}}  injected  survived  data lost")
    for r in rows:
        print(f"{r['fault']!s:<{width}}  {r['injected']:>8}  {r['survived']:>8}  {r['data_lost']:>9}")
    write_report({"rows": rows}, args.out)


if __name__ == "__main__":
    main()
