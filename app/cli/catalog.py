"""``hearth catalog``, ``hearth fetch CATALOG_ID`` and ``hearth models --hardware``: the catalog from a terminal."""

from __future__ import annotations

import argparse

import httpx

from app import __version__
from app.cli.terminal import ProgressPrinter, json_text
from app.core.catalog.choice import offer_for, survey
from app.core.catalog.entries import load_catalog, refresh_catalog
from app.core.catalog.facts import read_facts
from app.core.catalog.hardware import GB, measure
from app.core.catalog.install import get_model, hub_endpoint
from app.core.config.load import load_config
from app.core.errors import HearthError
from app.core.models.fetch import FetchProgress
from app.core.paths import user_paths


def add_catalog_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    catalog = commands.add_parser("catalog", help="local models to download, with whether each fits this computer")
    catalog.add_argument("--json", action="store_true")
    catalog.add_argument(
        "--read-headers",
        action="store_true",
        help="read each file's header from the Hub (its first megabytes) for an exact fit",
    )
    catalog.add_argument("--refresh", action="store_true", help="fetch a newer catalog from [catalog] url now")
    catalog.set_defaults(func=cmd_catalog)


def print_hardware() -> None:
    print("\n".join(measure().lines()))


def cmd_catalog(args: argparse.Namespace) -> int:
    paths = user_paths()
    if args.refresh:
        with httpx.Client(follow_redirects=True, timeout=30) as http:
            refresh_catalog(http, load_config(paths).catalog.url, paths, __version__)
    if args.read_headers:
        progress = ProgressPrinter()
        hardware = measure()
        with httpx.Client(follow_redirects=True, timeout=30) as http:
            for model in load_catalog(paths).models:
                offer = offer_for(model, hardware, paths)
                progress(FetchProgress(f"Reading the header of {model.files[offer.quant]}"))
                read_facts(http, model, offer.quant, paths, hub_endpoint())
    found = survey(paths)
    hardware, choice = found.hardware, found.recommendation
    if args.json:
        print(
            json_text(
                {
                    "catalog_updated": found.catalog_updated,
                    "hardware": hardware.report(),
                    "recommended": choice.best.model.id if choice.best else None,
                    "alternatives": [offer.model.id for offer in choice.alternatives],
                    "models": [offer.report() for offer in found.offers],
                },
                indent=2,
            )
        )
        return 0
    print("\n".join(hardware.lines()))
    print()
    for offer in found.offers:
        size = f"{offer.facts.file_size / GB:.1f} GB" + ("" if offer.facts.exact else "~")
        state = "downloaded" if offer.downloaded else ""
        print(f"{offer.model.id:<22} {offer.quant:<7} {size:>8}  {offer.fit.describe():<48} {state}")
        print(f"{'':<22} {offer.model.licence}; good at {', '.join(offer.model.good_at)}")
    print()
    if choice.best:
        others = ", ".join(offer.model.id for offer in choice.alternatives)
        print(f"Recommended for this computer: {choice.best.model.id}" + (f" (or {others})" if others else ""))
        print(f"Get it with: hearth fetch {choice.best.model.id}")
    else:
        print("No catalog model runs at a usable speed on this computer; the default model stays.")
    print("~: size estimated from the parameter count; --read-headers reads the real one.")
    return 0


def fetch_from_catalog(model_id: str) -> bool:
    """``hearth fetch`` of a catalog id: fit check, download, and the ladder it makes; False if it is no catalog id."""
    paths = user_paths()
    catalog = load_catalog(paths)
    if model_id not in {model.id for model in catalog.models}:
        return False
    model = catalog.get(model_id)
    hardware = measure()
    offer = offer_for(model, hardware, paths)
    installed = get_model(model, offer.quant, paths, hardware, ProgressPrinter())
    print(f"{model_id}: {installed.path}" + (f" (projector {installed.projector.name})" if installed.projector else ""))
    print(installed.fit.describe())
    print("\n".join(installed.placement.lines()))
    return True


def unknown_model(model_id: str) -> HearthError:
    known = ", ".join(model.id for model in load_catalog(user_paths()).models)
    return HearthError(
        f"'{model_id}' is neither a local model in your models.toml nor in the catalog. "
        f"`hearth catalog` lists what can be fetched: {known}."
    )
