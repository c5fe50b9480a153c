"""Which catalog model suits this computer: the best fit, and two alternatives.

For each model the quantisation offered is the first the catalog lists, or a larger one
when that still fits on the GPU entirely. A model is worth recommending when it fits and
runs at least at reading speed; among those the strongest wins: more parameters, and
more kinds of task it is good at (a model good at one thing is a specialist, offered
but not recommended first). The alternatives are the best of another family, and the
best that is fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.catalog.entries import BITS_PER_WEIGHT, Catalog, CatalogModel, load_catalog
from app.core.catalog.facts import Facts, known_facts
from app.core.catalog.fit import Fit, Speed, Verdict, fit
from app.core.catalog.hardware import Hardware, measure
from app.core.paths import UserPaths


@dataclass(frozen=True)
class Offer:
    model: CatalogModel
    quant: str
    facts: Facts
    fit: Fit
    downloaded: bool  # its file is already in the models folder

    @property
    def worth_recommending(self) -> bool:
        return self.fit.verdict is not Verdict.NO and self.fit.speed in (Speed.FAST, Speed.USABLE)

    @property
    def strength(self) -> float:
        return self.model.parameters_b * (1 + 0.1 * len(self.model.good_at))

    def report(self) -> dict[str, object]:
        return {
            "id": self.model.id,
            "name": self.model.name,
            "repo": self.model.repo,
            "file": self.model.files[self.quant],
            "quantisation": self.quant,
            "projector": self.model.projector,
            "licence": self.model.licence,
            "context": self.model.context,
            "good_at": list(self.model.good_at),
            "file_size": self.facts.file_size,
            "from_header": self.facts.exact,
            "downloaded": self.downloaded,
            "fit": self.fit.report(),
            "fit_text": self.fit.describe(),
        }


def offer_for(model: CatalogModel, hardware: Hardware, paths: UserPaths, quant: str | None = None) -> Offer:
    """The model's offer on this computer: ``quant`` if given, else the one that suits it."""
    if quant is None:
        quant = next(iter(model.files))
        roomier = [
            q
            for q in model.files
            if BITS_PER_WEIGHT[q] > BITS_PER_WEIGHT[quant] and _fit_of(model, q, hardware, paths).verdict is Verdict.GPU
        ]
        quant = max(roomier, key=BITS_PER_WEIGHT.__getitem__, default=quant)
    facts = known_facts(model, quant, paths)
    downloaded = (paths.models / model.files[quant]).is_file()
    return Offer(model, quant, facts, fit(facts.shape, facts.file_size, hardware), downloaded)


def _fit_of(model: CatalogModel, quant: str, hardware: Hardware, paths: UserPaths) -> Fit:
    facts = known_facts(model, quant, paths)
    return fit(facts.shape, facts.file_size, hardware)


def offers(catalog: Catalog, hardware: Hardware, paths: UserPaths) -> list[Offer]:
    return [offer_for(model, hardware, paths) for model in catalog.models]


@dataclass(frozen=True)
class Recommendation:
    best: Offer | None  # None: nothing in the catalog runs well here
    alternatives: tuple[Offer, ...]


def recommend(all_offers: list[Offer]) -> Recommendation:
    general = [o for o in all_offers if o.worth_recommending and len(o.model.good_at) >= 3]
    ranked = sorted(general, key=lambda o: o.strength, reverse=True)
    if not ranked:
        return Recommendation(None, ())
    best = ranked[0]
    alternatives: list[Offer] = []
    other_family = next((o for o in ranked if o.model.family != best.model.family), None)
    if other_family:
        alternatives.append(other_family)
    fast = next((o for o in ranked if o.fit.speed is Speed.FAST and o is not best and o not in alternatives), None)
    if fast:
        alternatives.append(fast)
    for offer in ranked[1:]:
        if len(alternatives) >= 2:
            break
        if offer not in alternatives:
            alternatives.append(offer)
    return Recommendation(best, tuple(alternatives[:2]))


@dataclass(frozen=True)
class Survey:
    """This computer, the catalog's offers on it, and the recommendation: what the card and `hearth catalog` show."""

    hardware: Hardware
    offers: list[Offer]
    recommendation: Recommendation
    catalog_updated: str


def survey(paths: UserPaths) -> Survey:
    """Measure this computer and weigh the catalog against it (nothing is read from the network)."""
    catalog = load_catalog(paths)
    hardware = measure()
    found = offers(catalog, hardware, paths)
    return Survey(hardware, found, recommend(found), catalog.updated.isoformat())
