"""The conversation history: search, export, import, delete, backups, and repairing a damaged database."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from app.cli.arguments import count, row_id
from app.cli.terminal import json_text
from app.core.errors import HearthError
from app.core.paths import user_paths
from app.core.session import open_session, session_and_store
from app.core.storage import archive, backups, recovery
from app.core.user_files import write_regular


def cmd_search(args: argparse.Namespace) -> int:
    with session_and_store() as (_, store):
        hits = store.search(args.query, limit=args.limit)
    if args.json:
        print(json_text([hit.model_dump() for hit in hits], indent=2))
        return 0
    for hit in hits:
        asked = f" (API: {hit.conversation_api_client})" if hit.conversation_api_client else ""
        print(f"[{hit.conversation_id}/{hit.message_id}] {hit.conversation_title}{asked} · {hit.role}: {hit.snippet}")
    if not hits:
        print("No message matches.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with session_and_store() as (_, store):
        if args.conversation:
            document, left_out = archive.export(store, [args.conversation]), []
        else:
            document, left_out = archive.export_readable(store)
    write_regular(args.out, archive.as_text(document, markdown=args.format == "md").encode("utf-8"))
    print(f"Exported {len(document.conversations)} conversation(s) to {args.out}.")
    for reason in left_out:
        print(f"hearth: left out: {reason}", file=sys.stderr)
    return 1 if left_out else 0


def cmd_import(args: argparse.Namespace) -> int:
    document = archive.read_document(args.file)
    with session_and_store() as (session, store):
        created = archive.import_document(store, document, session.config.settings.privacy)
    print(f"Imported {len(created)} conversation(s): {', '.join(map(str, created))}.")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with session_and_store() as (_, store):
        title = store.conversation(args.conversation).title
        store.delete_conversation(args.conversation)
    print(f"Deleted “{title}” and everything of it.")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    paths = user_paths()
    if args.list:
        return _list_backups(paths.backups)
    if args.restore is not None:
        return _restore(paths.database, paths.backups, Path(args.restore) if args.restore else None)
    session = open_session()
    try:
        kept = max(1, session.config.settings.backups_kept)
        made = backups.backup(session.paths.database, session.paths.backups, kept)
    finally:
        session.close()
    print(f"Backed up to {made.path} and checked it: {made.conversations} conversations, {made.messages} messages.")
    return 0


def _list_backups(folder: Path) -> int:
    for path in backups.copies(folder):
        found = backups.check(path, quick=True)
        if found is None:
            print(f"{backups.read_backup(path).describe()}: passes its check")
        else:
            print(f"{path.name}: fails its check ({found})")
    return 0


def _restore(database: Path, folder: Path, chosen: Path | None) -> int:
    if chosen is None:
        newest = backups.newest_good(folder)
        if newest is None:
            raise HearthError(f"There is no backup in {folder} that passes its check.")
        chosen = newest.path
    moved = recovery.restore(database, chosen)
    print(f"Restored {chosen}. The file it replaced was moved to {moved}; nothing was deleted.")
    return 0


REPAIR_COMMANDS = {
    "restore": "hearth backup --restore",
    "salvage": "hearth repair --salvage",
    "new": "hearth repair --start-new",
}


def cmd_repair(args: argparse.Namespace) -> int:
    database = user_paths().database
    with tempfile.TemporaryDirectory(prefix="hearth-repair-") as scratch:
        problem = recovery.diagnose(database, Path(scratch))
        if problem is None:
            print(f"{database} passes its check; there is nothing to repair.")
            return 0
        choice = "salvage" if args.salvage else "new" if args.start_new else None
        if choice is None:
            print(problem.describe())
            print("Ways back (each first moves the damaged file into a folder beside it; nothing is deleted):")
            for way in recovery.ways(problem):
                print(f"  {REPAIR_COMMANDS[way.kind]:<26} {way.label}: {way.detail}")
            return 1
        print(recovery.take(problem, choice))
    return 0


def add_history_commands(commands: argparse._SubParsersAction) -> None:
    search = commands.add_parser("search", help="full-text search over every message")
    search.add_argument("query")
    search.add_argument("--limit", type=count, default=20)
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=cmd_search)

    export = commands.add_parser("export", help="export conversations as JSON (imports back) or Markdown")
    export.add_argument("out", type=Path)
    export.add_argument("--conversation", type=row_id, help="only this conversation (default: all)")
    export.add_argument("--format", choices=["json", "md"], default="json")
    export.set_defaults(func=cmd_export)

    imported = commands.add_parser("import", help="import a JSON export as new conversations")
    imported.add_argument("file", type=Path)
    imported.set_defaults(func=cmd_import)

    delete = commands.add_parser("delete", help="delete a conversation for good, search index included")
    delete.add_argument("conversation", type=row_id)
    delete.set_defaults(func=cmd_delete)

    backup = commands.add_parser("backup", help="back the database up now (a checked copy), list or restore backups")
    backup.add_argument("--list", action="store_true", help="list the backups and whether each passes its check")
    backup.add_argument(
        "--restore",
        nargs="?",
        const="",
        metavar="FILE",
        help="put a backup in the database's place (default: the newest that passes its check); close Hearth first",
    )
    backup.set_defaults(func=cmd_backup)

    repair = commands.add_parser("repair", help="check the database and, if it is damaged, show or take a way back")
    way = repair.add_mutually_exclusive_group()
    way.add_argument("--salvage", action="store_true", help="keep what can still be read from a damaged database")
    way.add_argument("--start-new", action="store_true", help="move a damaged database aside and start anew")
    repair.set_defaults(func=cmd_repair)
