"""The conversation history: search, export, import, delete, and backups."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.arguments import count, row_id
from app.cli.terminal import json_text
from app.core import archive
from app.core.session import open_session, session_and_store
from app.core.user_files import write_regular


def cmd_search(args: argparse.Namespace) -> int:
    with session_and_store() as (_, store):
        hits = store.search(args.query, limit=args.limit)
    if args.json:
        print(json_text([hit.model_dump() for hit in hits], indent=2))
        return 0
    for hit in hits:
        print(f"[{hit.conversation_id}/{hit.message_id}] {hit.conversation_title} · {hit.role}: {hit.snippet}")
    if not hits:
        print("No message matches.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with session_and_store() as (_, store):
        document = archive.export(store, [args.conversation] if args.conversation else None)
    write_regular(args.out, archive.as_text(document, markdown=args.format == "md").encode("utf-8"))
    print(f"Exported {len(document.conversations)} conversation(s) to {args.out}.")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    document = archive.read_document(args.file)
    with session_and_store() as (_, store):
        created = archive.import_document(store, document)
    print(f"Imported {len(created)} conversation(s): {', '.join(map(str, created))}.")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with session_and_store() as (_, store):
        title = store.conversation(args.conversation).title
        store.delete_conversation(args.conversation)
    print(f"Deleted “{title}” and everything of it.")
    return 0


def cmd_backup(_: argparse.Namespace) -> int:
    session = open_session()
    try:
        path = archive.backup(
            session.paths.database, session.paths.backups, max(1, session.config.settings.backups_kept)
        )
    finally:
        session.close()
    print(f"Backed up to {path}.")
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

    backup = commands.add_parser("backup", help="back the database up now")
    backup.set_defaults(func=cmd_backup)
