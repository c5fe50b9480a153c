"""``hearth providers list|add|verify|models|remove|find``: the Providers page, for scripts and terminals."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from app.core.config import key_list
from app.core.config.presets import preset, presets
from app.core.config.schema import Privacy
from app.core.errors import InvalidInput
from app.core.providers.http_clients import client_for
from app.core.providers.pricing import price_text
from app.core.services import checks, discovery, operations
from app.core.services.connection import Connection
from app.core.services.overview import configured_services, unused_models, unused_warning
from app.core.session import session_and_store
from app.core.storage.store import Store


def add_providers_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("providers", help="add, verify and remove model providers (OpenAI, Ollama, …)")
    actions = parser.add_subparsers(title="actions", required=True)

    listing = actions.add_parser("list", help="the providers Hearth knows, and those set up")
    listing.set_defaults(func=cmd_list)

    add = actions.add_parser("add", help="add a provider's model to a tier (and its key to the keychain)")
    add.add_argument("provider", help="a known provider (`hearth providers list`), e.g. openai, ollama")
    add.add_argument("--name", help="a name of your own (default: the provider's)")
    add.add_argument("--base-url", help="the API's address (default: the provider's)")
    add.add_argument("--location", choices=["self-hosted", "cloud"], help="where it runs (default: the provider's)")
    keyed = add.add_mutually_exclusive_group()
    keyed.add_argument("--key-env", metavar="VAR", help="read the API key from this environment variable")
    keyed.add_argument("--key-stdin", action="store_true", help="read the API key from the first line of stdin")
    add.add_argument("--model", help="the model (default: the provider's suggestion)")
    add.add_argument("--verify", action="store_true", help="verify first; add nothing when it fails")
    add.set_defaults(func=cmd_add)

    verify = actions.add_parser("verify", help="send one tiny request: address, key and credit")
    verify.add_argument("provider", help="a provider set up, or a known one")
    verify.add_argument("--model")
    verify.set_defaults(func=cmd_verify)

    models = actions.add_parser("models", help="the models the provider lists, with prices")
    models.add_argument("provider")
    models.set_defaults(func=cmd_models)

    remove = actions.add_parser("remove", help="remove a provider's models (and its keys)")
    remove.add_argument("provider")
    remove.add_argument("--keep-keys", action="store_true", help="keep its API keys in the keychain")
    remove.set_defaults(func=cmd_remove)

    find = actions.add_parser("find", help="look for model servers on this computer (ports 11434, 1234, 8080, 8000)")
    find.add_argument("--port", type=int, action="append", help="ask this port instead (repeatable)")
    find.set_defaults(func=cmd_find)

    for action in (listing, add, verify, models, remove, find):
        action.add_argument("--json", action="store_true", help="print JSON")
    for action in (add, verify, models):
        action.add_argument("--privacy", type=Privacy, choices=list(Privacy), help="override the privacy policy")


def _print(args: argparse.Namespace, data: Any, lines: list[str]) -> int:
    print(json.dumps(data, indent=2, default=str) if args.json else "\n".join(lines))
    return 0


def _new_keys(args: argparse.Namespace) -> list[str]:
    if args.key_env:
        value = os.environ.get(args.key_env, "")
        if not value.strip():
            raise InvalidInput(f"The environment variable {args.key_env} is not set, or empty.")
        return [value]
    if args.key_stdin:
        return [sys.stdin.readline()]
    return []


def cmd_list(args: argparse.Namespace) -> int:
    with session_and_store() as (session, _):
        config = session.config
    known = [p.model_dump(mode="json") | {"key_variable": p.key_variable} for p in presets()]
    mine = [
        {
            "name": s.name,
            "provider": s.preset.id if s.preset else None,
            "base_url": s.base_url,
            "location": s.location.value,
            "models": s.models,
            "keys": key_list.status(s.key).summary() if s.key else "none needed",
        }
        for s in configured_services(config)
    ]
    lines = ["Known providers:"] + [
        f"  {p.id:<18} {p.name:<30} {p.location.value:<12} {p.base_url or '(your address)'}" for p in presets()
    ]
    lines += ["", "Set up:" if mine else "Set up: none yet (`hearth providers add openai --key-stdin`)."]
    lines += [f"  {s['name']:<18} {s['base_url']}  {len(s['models'])} model(s), {s['keys']}" for s in mine]
    lines += [f"Warning: {unused_warning(m)}" for m in unused_models(config)]
    return _print(args, {"known": known, "configured": mine, "unused": unused_models(config)}, lines)


def _connection(args: argparse.Namespace) -> Connection:
    return Connection.of(
        preset(args.provider),
        name=args.name,
        base_url=args.base_url,
        location=args.location,
        with_key=True if (args.key_env or args.key_stdin) else None,
    )


def cmd_add(args: argparse.Namespace) -> int:
    connection = _connection(args)
    new_keys = [k.strip() for k in _new_keys(args)]
    keys = new_keys + (key_list.api_keys(connection.key) if connection.key else [])
    with session_and_store() as (session, store):
        listed: list = []
        model = args.model
        if args.verify:
            with client_for(connection.location) as client:
                privacy = args.privacy or session.config.settings.privacy
                verified = checks.verify(connection, keys, store, privacy, client, args.model)
            listed, model = verified.models, verified.model
        model = model or (operations.suggested_models(connection) or [""])[0]
        operations.store_keys(connection, new_keys)
        added = operations.add_model(session.paths, connection, model, listed)
    lines = [f"Added {added.model_id} to the tier '{added.tier}' ({price_text(added.price)})."]
    if args.verify:
        lines.insert(0, f"Verified: {connection.base_url} answered with {model}.")
    data = {"model_id": added.model_id, "tier": added.tier, "price": added.price, "verified": args.verify}
    return _print(args, data, lines)


@contextmanager
def _asking(args: argparse.Namespace) -> Iterator[tuple[Connection, list[str], Store, Privacy, httpx.Client]]:
    """What a request to the provider named in ``args`` needs: its connection, keys, a store, the policy, a client."""
    with session_and_store() as (session, store):
        connection = operations.connection_named(session.config, args.provider)
        keys = key_list.api_keys(connection.key) if connection.key else []
        with client_for(connection.location) as client:
            yield connection, keys, store, args.privacy or session.config.settings.privacy, client


def cmd_verify(args: argparse.Namespace) -> int:
    with _asking(args) as asking:
        connection = asking[0]
        verified = checks.verify(*asking, args.model)
    lines = [f"{connection.base_url} works: {verified.model} answered; it lists {len(verified.models)} models."]
    data = {"ok": True, "model": verified.model, "models": len(verified.models)}
    return _print(args, data, lines)


def cmd_models(args: argparse.Namespace) -> int:
    with _asking(args) as asking:
        connection = asking[0]
        listed = checks.fetch_models(*asking)
    prices = {m.id: operations.listed_price(connection, m.id, listed) for m in listed}
    lines = [f"{m.id:<48} {price_text(prices[m.id])}" for m in listed] or ["It lists no model that can chat."]
    data = [{"id": m.id, "context": m.context, "price": prices[m.id]} for m in listed]
    return _print(args, data, lines)


def cmd_remove(args: argparse.Namespace) -> int:
    with session_and_store() as (session, _):
        removed = operations.remove_service(session.paths, args.provider, forget_keys=not args.keep_keys)
    lines = [f"Removed {', '.join(removed)}" + ("" if args.keep_keys else "; its keys are out of the keychain.")]
    return _print(args, {"removed": removed, "keys_kept": args.keep_keys}, lines)


def cmd_find(args: argparse.Namespace) -> int:
    found = discovery.find_servers(args.port)
    lines = [f"{s.preset.name} at {s.base_url}: {', '.join(s.models) or 'no model loaded'}" for s in found]
    data = [{"kind": s.preset.id, "base_url": s.base_url, "models": s.models} for s in found]
    return _print(args, data, lines or ["No model server answers on this computer's usual ports."])
