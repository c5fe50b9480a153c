"""``hearth docs``: document collections from the terminal (add, list, remove, search)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.cli.terminal import json_text
from app.core.config.load import load_config
from app.core.documents.library import Library
from app.core.documents.setup import EmbeddingSetup
from app.core.documents.sources import Source
from app.core.paths import user_paths


def _setup() -> EmbeddingSetup:
    paths = user_paths()
    config = load_config(paths)
    paths.ensure()
    return EmbeddingSetup(config, paths)


def _library() -> Library:
    setup = _setup()
    return Library(setup.paths.documents, setup.embedder())


def _without_vectors() -> str | None:
    """What to say when documents are searched by their words alone, and how to change it."""
    setup = _setup()
    missing = setup.missing()
    if missing is not None and setup.fetchable:
        missing += f" `hearth fetch {setup.model_id}` installs it."
    return missing


def cmd_docs_add(args: argparse.Namespace) -> int:
    library = _library()
    collection = library.add(args.name, args.paths, local_only=args.local_only)
    return _index(library, collection.name)


def cmd_docs_rescan(args: argparse.Namespace) -> int:
    return _index(_library(), args.name)


def _index(library: Library, name: str) -> int:
    """Index what changed in the collection, a line per file; then what it holds."""
    if library.embedder is None and (missing := _without_vectors()):
        print(missing)
    for progress in library.index(name):
        if progress.path is None:
            print(f"{name}: {progress.note}")
        else:
            note = f" — {progress.note}" if progress.note else ""
            print(f"[{progress.done}/{progress.total}] {progress.path}{note}")
    done = next(c for c in library.collections() if c.name == name)
    where = " (local-only: never sent to a remote tier)" if done.local_only else ""
    print(f"{done.name}: {done.files} files, {done.chunks} chunks indexed{where}.")
    return 0


def cmd_docs_list(args: argparse.Namespace) -> int:
    collections = _library().collections()
    if args.json:
        print(json_text([collection.model_dump() for collection in collections], indent=2))
        return 0
    for collection in collections:
        where = " · local-only" if collection.local_only else ""
        print(f"{collection.name}: {collection.files} files, {collection.chunks} chunks{where}")
    if not collections:
        print("No document collections yet: `hearth docs add NAME FOLDER` makes one.")
    return 0


def cmd_docs_remove(args: argparse.Namespace) -> int:
    _library().remove(args.name)
    print(f"Removed {args.name}: its text, vectors and index rows are deleted (your files are not touched).")
    return 0


def cmd_docs_search(args: argparse.Namespace) -> int:
    hits = _library().search(args.names, args.query, limit=args.limit, method=args.method)
    rows: list[dict[str, Any]] = []
    for hit in hits:
        source = Source.of(len(rows) + 1, [hit.chunk])
        rows.append({**source.model_dump(), "label": source.label, "score": hit.score, "text": hit.chunk.text})
    if args.json:
        print(json_text(rows, indent=2))
        return 0
    for row in rows:
        snippet = " ".join(row["text"].split())[:160]
        print(f"[{row['number']}] {row['label']} ({row['collection']}, {row['path']})\n    {snippet}")
    if not rows:
        print("Nothing in those collections matches.", file=sys.stderr)
    return 0


def add_docs_commands(commands: Any) -> None:
    docs = commands.add_parser("docs", help="your own documents: collections to ask questions over")
    actions = docs.add_subparsers(title="actions", required=True)

    add = actions.add_parser("add", help="add files or folders to a collection (made if new) and index them")
    add.add_argument("name")
    add.add_argument("paths", nargs="+", type=Path)
    add.add_argument("--local-only", action="store_true", help="never send its text to a remote tier")
    add.set_defaults(func=cmd_docs_add)

    rescan = actions.add_parser("rescan", help="index what changed, moved or was deleted in a collection's folders")
    rescan.add_argument("name")
    rescan.set_defaults(func=cmd_docs_rescan)

    listing = actions.add_parser("list", help="the collections, their files and chunks")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_docs_list)

    remove = actions.add_parser("remove", help="delete a collection's index (the files stay)")
    remove.add_argument("name")
    remove.set_defaults(func=cmd_docs_remove)

    search = actions.add_parser("search", help="the chunks that best match a query")
    search.add_argument("query")
    search.add_argument("--in", dest="names", action="append", required=True, help="a collection (repeatable)")
    search.add_argument("--limit", type=int, default=5)
    search.add_argument("--method", choices=["merged", "text", "vector"], default="merged")
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=cmd_docs_search)
