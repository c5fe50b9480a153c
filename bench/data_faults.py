"""The import and database rows of bench/faults.py: hostile imports, stored rows against the rules,
damaged databases and logs, backups of a damaged database or onto a full disk.

Each row counts injections, how many Hearth survived (no crash: a clear message, the program went on, and
what was stored before is sound) and data lost, as the other rows do: messages that were in the database
(or whose bytes were still in its files) and are not readable afterwards, or a good backup gone. Bytes a
fault itself destroyed (the tail of a cut log) are counted in the note, not as lost: nobody can read them.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.test_backups import filled, garble
from tests.test_hostile_imports import exported, hostile
from tests.test_storage_faults import CHECK, run_on_small_disk
from tests.test_wal import FRAME, crashed_writer, garble_frame

from app.core.config.load import load_config
from app.core.errors import DataError, StorageError
from app.core.evaluation import stats
from app.core.paths import user_paths
from app.core.storage import archive, backups, recovery, wal
from app.core.storage.outbound_records import OutboundRecords
from app.core.storage.store import Store
from tests.conftest import REPO, config_text, write_user_config

Row = dict[str, object]

HOSTILE = [
    ("conversation.arm", "C"),
    ("conversation.privacy", "bogus"),
    ("conversation.updated_at", "9999"),
    ("message.role", "wizard"),
    ("message.status", "done"),
    ("message.after_id", 99),
    ("attempt.signals", "not json"),
    ("attempt.confidence", "high"),
    ("attempt.confidence", float("nan")),
    ("attempt.cost", -1e6),
    ("attempt.location", "mars"),
    ("attempt.payload_sha256", "forged"),
]


def row(fault: str, injected: int, survived: int, lost: int, note: str = "") -> Row:
    return {"fault": fault, "injected": injected, "survived": survived, "data_lost": lost, "note": note}


def _messages(database: Path) -> int:
    with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])


def hostile_imports(folder: Path) -> Row:
    """Each kind of hostile value in an otherwise real export: refused whole, the database as it was."""
    database = folder / "hearth.db"
    filled(database, conversations=3)
    before = _messages(database)
    survived = 0
    for change, value in HOSTILE:
        store = Store(database)
        try:
            archive.import_document(store, archive.read_document(hostile(folder, change, value)))
        except DataError as exc:
            survived += change.split(".")[1] in str(exc) and "Nothing was imported" in str(exc)
        finally:
            store.close()
    lost = before - _messages(database)
    return row("import: hostile values", len(HOSTILE), survived, max(lost, 0), "each refused whole, naming the field")


def trusted_imports(folder: Path) -> Row:
    """What a valid file cannot vouch for: its costs, its audit trail, its attachment paths."""
    document = exported(folder)
    secret = folder / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    document["conversations"][0]["messages"][0]["attachments"] = json.dumps([str(secret)])
    path = folder / "trusted.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    store = Store(folder / "trusting.db")
    try:
        (conversation,) = archive.import_document(store, archive.read_document(path))
        question = store.thread(conversation)[0]
        kept = [store.cost_since("") == 0.0, OutboundRecords(store).audit() == [], question.attachments is None]
    finally:
        store.close()
    return row("import: costs, audit rows, attachment paths", 3, sum(kept), 0, "never taken from the file")


def spoiled_rows(home: Path, model: Path) -> Row:
    """Rows stored against the rules (an older bug, a hand edit): each command goes on, naming the row."""
    write_user_config(home, config_text(model))
    database = user_paths().database
    filled(database, conversations=3)
    with sqlite3.connect(database) as db:
        db.execute("UPDATE conversations SET arm = 'C', privacy = 'bogus' WHERE id = 1")
        db.execute("UPDATE messages SET role = 'wizard' WHERE id = 2")
        db.execute(
            "INSERT INTO attempts (message_id, position, tier, model, location, text, created_at, signals, "
            "confidence) VALUES (12, 0, 'local', 'smol', 'local', 'x', '2026-01-01T00:00:00', 'oops', 'high')"
        )
    runs = [["stats"], ["export", str(home / "all.json")], ["versions", "2"], ["delete", "1"], ["audit"]]
    survived = 0
    for command in runs:
        done = subprocess.run([sys.executable, "-m", "app", *command], capture_output=True, text=True, cwd=REPO)
        survived += "Traceback" not in done.stderr and "unexpected error" not in done.stderr
    store = Store(database)
    try:
        readable = sum(len(store.messages(c.id)) for c in store.conversations() if c.id != 1)
        stats.compute(store, load_config(user_paths()))
    finally:
        store.close()
    return row(
        "stored rows against the rules", len(runs), survived, 20 - readable, "stats, export, versions, delete, audit"
    )


def damaged_backups(folder: Path) -> Row:
    """Garbage in the middle of hearth.db, then a week of daily backups: refused, the good copies kept."""
    database = folder / "hearth.db"
    filled(database)
    good = [backups.backup(database, folder / "backups", keep=3).path for _ in range(3)]
    garble(database)
    survived = 0
    for _ in range(7):
        try:
            backups.backup(database, folder / "backups", keep=3)
        except StorageError as exc:
            survived += "so no backup was made" in str(exc) and good[-1].name in str(exc)
    lost = sum(path not in backups.copies(folder / "backups") or backups.check(path) is not None for path in good)
    return row("backup of a damaged database", 7, survived, lost, "refused; the message names a good backup")


def full_disk_backup(model: Path) -> Row:
    folder = Path(tempfile.mkdtemp(prefix="hearth-bench-backup-disk-"))
    out = run_on_small_disk(
        folder,
        model,
        f"""{sys.executable} -m app backup >/dev/null
dd if=/dev/zero of={folder}/disk/filler bs=4k 2>/dev/null
{sys.executable} -m app backup; echo "rc: $?"
for copy in $HEARTH_HOME/data/backups/*; do echo "copy: $({sys.executable} -c "{CHECK}" $copy)"; done""",
    )
    copies = [line for line in out.splitlines() if line.startswith("copy: ")]
    ok = "rc: 1" in out and "is full, so no backup was made" in out and "Traceback" not in out
    return row(
        "full disk during a backup",
        1,
        int(ok and len(copies) == 1),
        int(copies != ["copy: ok 2"]),
        "no empty newest copy; the earlier one kept",
    )


def unusable_databases(folder: Path) -> Row:
    """A folder, a file that is not SQLite, a damaged one: named, with a way back; nothing deleted."""
    survived = lost = 0
    cases = ("a folder", "not a database", "damaged")
    for case in cases:
        database = folder / case.replace(" ", "-") / "hearth.db"
        database.parent.mkdir()
        if case == "a folder":
            database.mkdir()
        elif case == "not a database":
            database.write_bytes(os.urandom(8192))
        else:
            filled(database)
            garble(database)
        with tempfile.TemporaryDirectory() as scratch:
            problem = recovery.diagnose(database, Path(scratch))
            if problem is None:
                continue
            kinds = [way.kind for way in recovery.ways(problem)]
            readable = problem.salvage.messages if problem.salvage else 0
            recovery.take(problem, "salvage" if "salvage" in kinds else "new")
        now = _messages(database) if database.is_file() else 0
        kept_aside = any(database.parent.glob("set-aside/*/hearth.db"))
        survived += kept_aside and (not database.exists() or backups.check(database) is None)
        lost += readable - now + (not kept_aside)
    return row(
        "database a folder / not SQLite / damaged",
        len(cases),
        survived,
        lost,
        "a clear message, then salvage or a new database; the old file moved aside",
    )


def damaged_logs(folder: Path) -> list[Row]:
    rows = []
    for kind in ("garbled", "cut"):
        database = folder / kind / "hearth.db"
        assert crashed_writer(database).wait(60) == 0
        log = database.with_name("hearth.db-wal")
        if kind == "garbled":
            garble_frame(log, 150)
        else:
            log.write_bytes(log.read_bytes()[: 32 + 150 * FRAME + 1000])
        in_file = wal.scan(log.read_bytes(), 4096)
        assert in_file is not None
        finding = wal.check(database)
        kept = _messages(database)
        told = finding is not None and finding.copy.is_file()
        if kind == "garbled":
            rows.append(row("garbled hearth.db-wal", 1, int(told), 200 - kept, "rebuilt without the damaged frame"))
        else:
            rows.append(
                row(
                    "cut hearth.db-wal",
                    1,
                    int(told),
                    0,
                    f"{200 - kept} of 200 commits were in the cut-off bytes: gone before Hearth ran",
                )
            )
    return rows


def data_faults(model: Path) -> list[Row]:
    def folder() -> Path:
        path = Path(tempfile.mkdtemp(prefix="hearth-bench-data-"))
        os.environ["HEARTH_HOME"] = str(path)
        return path

    rows = [hostile_imports(folder()), trusted_imports(folder()), spoiled_rows(folder(), model)]
    rows += [damaged_backups(folder())]
    if shutil.which("unshare") and subprocess.run(["unshare", "-rm", "true"]).returncode == 0:
        rows.append(full_disk_backup(model))
    rows.append(unusable_databases(folder()))
    rows += damaged_logs(folder())
    return rows
