"""Setting up: which models are configured, fetching them, and API keys."""

from __future__ import annotations

import argparse
import getpass
import sys
import time

from app.cli.terminal import ProgressPrinter
from app.core.config import keys
from app.core.config.load import config_file
from app.core.config.schema import LocalModel
from app.core.errors import HearthError
from app.core.models.fetch import ensure_model_file, installed_model_file
from app.core.paths import user_paths
from app.core.privacy.erase import erase_user_data
from app.core.session import open_session
from app.core.storage.outbound_records import OutboundRecords


def cmd_models(args: argparse.Namespace) -> int:
    paths = user_paths()
    if args.where:
        print(paths.user_config_file)
        return 0
    session = open_session()
    store = session.open_store()
    try:
        records = OutboundRecords(store)
        if args.wake:
            records.wake(list(session.config.models))
        resting = records.rests(time.time())
    finally:
        store.close()
        session.close()
    print(f"Configuration: {config_file(paths)}")
    for tier in session.config.tiers:
        for model_id in tier.models:
            model = session.config.models[model_id]
            if isinstance(model, LocalModel):
                path = installed_model_file(model, paths.models)
                state = "present" if path.exists() else "missing" + (" (fetched on first use)" if model.source else "")
                where = str(path)
            else:
                left = resting.get(model_id, 0.0) - time.time()
                state = model.location.value + (f", resting {left:.0f} s after failures" if left > 0 else "")
                where = model.base_url
            print(f"{tier.name:<12} {model_id:<20} {state:<30} {where}")
    if resting and not args.wake:
        print("Resting models are not asked until their rest ends; `hearth models --wake` asks them again now.")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    session = open_session()
    wanted = args.model or [session.config.tiers[0].models[0]]
    for model_id in wanted:
        model = session.config.models.get(model_id)
        if not isinstance(model, LocalModel):
            raise HearthError(f"'{model_id}' is not a local model in {config_file(session.paths)}.")
        path = ensure_model_file(model, session.paths.models, ProgressPrinter())
        print(f"{model_id}: {path}")
    return 0


def cmd_key(args: argparse.Namespace) -> int:
    if args.action == "set":
        value = getpass.getpass(f"API key '{args.name}': ") if sys.stdin.isatty() else sys.stdin.readline()
        keys.store_key(args.name, value)
        print(f"Stored '{args.name}' in the system keychain.")
    elif args.action == "delete":
        print(f"Deleted '{args.name}'." if keys.delete_key(args.name) else f"There was no key '{args.name}'.")
    else:
        found = keys.where(args.name)
        if not found:
            print(f"No key '{args.name}': " + keys.missing_key_message(args.name).split(": ", 1)[-1])
            return 0
        try:
            keys.api_key(args.name)
        except HearthError as exc:
            print(f"'{args.name}' comes from the {found}, but cannot be used: {exc}")
            return 1
        print(f"'{args.name}' comes from the {found}.")
    return 0


def cmd_erase_data(args: argparse.Namespace) -> int:
    paths = user_paths()
    if not args.yes:
        if not sys.stdin.isatty():
            raise HearthError("Nothing was erased: add --yes to erase without being asked.")
        print(f"This erases every conversation, setting and downloaded model ({paths.data}, {paths.config})")
        print("and Hearth's API keys in the system keychain. It cannot be undone.")
        if input("Type 'erase' to go on: ").strip() != "erase":
            print("Nothing was erased.")
            return 1
    result = erase_user_data(paths)
    print("\n".join(f"Erased {what}" for what in result.erased) or "There was nothing to erase.")
    for what in result.kept:
        print(f"Left {what}.")
    return 0
