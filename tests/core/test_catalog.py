"""The catalog: GGUF headers read over HTTP Range, the fit estimate, the recommendation, and a model joining the ladder.

A local HTTP server with Range support stands in for the Hugging Face Hub and serves the
real SmolLM2-135M and Gemma 3 270M files; llama.cpp's own reading of the same files is
the reference.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import llama_cpp
import psutil
import pytest
from pydantic import ValidationError

import app.core.catalog.fit as fit_module
from app.core.catalog.choice import offer_for, offers, recommend
from app.core.catalog.entries import (
    Catalog,
    CatalogModel,
    load_catalog,
    parse_catalog,
    refresh_catalog,
    shipped_catalog,
)
from app.core.catalog.facts import read_facts
from app.core.catalog.fit import Speed, Verdict, fit
from app.core.catalog.gguf_header import FIRST_READ, NotGguf, read_local_header, read_remote_header
from app.core.catalog.hardware import GB, Device, DeviceType, Hardware, llama_devices, measure
from app.core.catalog.hub_search import gguf_files, search_hub
from app.core.catalog.install import get_model
from app.core.catalog.shape import shape_of
from app.core.config.load import load_config
from app.core.config.schema import Config, HuggingFaceSource
from app.core.errors import FetchError
from app.core.models.files import huggingface_checksum
from app.core.paths import user_paths
from tests.conftest import Files


def _hardware(ram_gb: float, gpu_gb: float = 0.0) -> Hardware:
    gpus = (Device("CUDA0", "a test GPU", DeviceType.GPU, int(gpu_gb * GB), int(gpu_gb * GB)),) if gpu_gb else ()
    cpu = Device("CPU", "a CPU", DeviceType.CPU, int(ram_gb * GB), int(ram_gb * GB))
    return Hardware(int(ram_gb * GB), int(ram_gb * GB), (*gpus, cpu), "CPU")


def _llama_metadata(path: Path) -> dict[str, str]:
    return llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False).metadata


@pytest.mark.model
@pytest.mark.parametrize("which", ["model_file", "gemma_file"])
def test_a_header_read_over_range_requests_says_what_llama_cpp_reads_without_the_whole_file(
    which: str, request: pytest.FixtureRequest, server: str
):
    path: Path = request.getfixturevalue(which)
    body = path.read_bytes()
    Files.files["/org/repo/resolve/main/model.gguf"] = body
    with httpx.Client() as http:
        header = read_remote_header(http, f"{server}/org/repo/resolve/main/model.gguf")
    shape = shape_of(header)
    meta = _llama_metadata(path)
    arch = meta["general.architecture"]
    assert shape.layers == int(meta[f"{arch}.block_count"])
    assert shape.kv_heads == int(meta[f"{arch}.attention.head_count_kv"])
    assert shape.context == int(meta[f"{arch}.context_length"])
    assert shape.embedding == int(meta[f"{arch}.embedding_length"])
    assert header.file_size == len(body)
    ranges = [r for _, r in Files.requests]
    assert all(r is not None and r.startswith("bytes=") for r in ranges)
    fetched = sum(int(r.split("-")[1]) - int(r.removeprefix("bytes=").split("-")[0]) + 1 for r in ranges)
    assert fetched < len(body) / 4, "only the start of the file is read"


def test_a_header_longer_than_the_first_read_is_read_in_more_requests(gemma_file: Path, server: str):
    Files.files["/g.gguf"] = gemma_file.read_bytes()
    with httpx.Client() as http:
        header = read_remote_header(http, f"{server}/g.gguf")
    assert header.header_bytes > FIRST_READ and len(Files.requests) == 2
    assert header.metadata["tokenizer.ggml.tokens"] == 262144  # the vocabulary's length, its strings skipped


def test_a_file_that_is_not_gguf_is_refused_in_words(server: str):
    Files.files["/page.gguf"] = b"<html>Sign in to continue</html>" * 100
    with httpx.Client() as http, pytest.raises(NotGguf, match="does not start with 'GGUF'"):
        read_remote_header(http, f"{server}/page.gguf")


def test_hardware_is_what_llama_cpp_lists_and_the_ram_psutil_reads():
    devices = llama_devices()
    cpu = [d for d in devices if d.kind is DeviceType.CPU]
    assert cpu and abs(cpu[0].total - psutil.virtual_memory().total) < 0.02 * cpu[0].total
    hardware = measure()
    lines = "\n".join(hardware.lines())
    assert "RAM:" in lines and "Computes on: CPU" in lines
    if not hardware.gpus:  # this machine: no GPU backend in llama.cpp
        assert "GPU: none" in lines


def test_the_estimate_is_within_a_few_percent_of_what_llama_cpp_allocates(model_file: Path, gemma_file: Path):
    """llama.cpp's own numbers for these files at n_ctx 2048 (from its load log; bench/fit.py measures them)."""
    allocated_mib = {model_file: 92.10 + 45.00 + 99.38 + 0.19, gemma_file: 235.16 + 12.66 + 36.00 + 514.50 + 1.00}
    for path, mib in allocated_mib.items():
        header = read_local_header(str(path))
        estimate = fit(shape_of(header), path.stat().st_size, _hardware(16), n_ctx=2048).need.total / 2**20
        assert abs(estimate - mib) / mib < 0.05


def test_the_verdict_follows_the_memory_there_is():
    seven_b = shipped_catalog().get("qwen2.5-7b")
    size = seven_b.approximate_size("Q4_K_M")
    on = {
        "24 GB GPU": fit(seven_b.shape, size, _hardware(32, 24)),
        "4 GB GPU": fit(seven_b.shape, size, _hardware(32, 4)),
        "CPU, 24 GB": fit(seven_b.shape, size, _hardware(24)),
        "CPU, 4 GB": fit(seven_b.shape, size, _hardware(4)),
    }
    assert on["24 GB GPU"].verdict is Verdict.GPU and on["24 GB GPU"].gpu_layers == -1
    assert on["4 GB GPU"].verdict is Verdict.PARTIAL and 0 < on["4 GB GPU"].gpu_layers < seven_b.shape.layers
    assert on["CPU, 24 GB"].verdict is Verdict.CPU and on["CPU, 24 GB"].gpu_layers == 0
    assert on["CPU, 4 GB"].verdict is Verdict.NO and on["CPU, 4 GB"].describe().startswith("Will not fit")
    assert on["24 GB GPU"].speed is Speed.FAST and on["CPU, 24 GB"].speed is not Speed.FAST


def test_the_shipped_catalog_spans_sizes_families_and_licences_with_a_vision_model():
    catalog = shipped_catalog()
    assert 12 <= len(catalog.models) <= 20
    sizes = [model.parameters_b for model in catalog.models]
    assert min(sizes) <= 0.6 and 12 <= max(sizes) <= 15
    assert len({model.family for model in catalog.models}) >= 5
    assert len({model.licence for model in catalog.models}) >= 4
    vision = [model for model in catalog.models if "vision" in model.good_at]
    assert vision and all(model.projector and model.projector.endswith(".gguf") for model in vision)
    names = [name for model in catalog.models for name in [*model.files.values(), model.projector] if name]
    assert len(names) == len(set(names)), "two catalog files would land on one name in the models folder"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m | {"good_at": ["vision"]}, "needs its projector"),
        (lambda m: m | {"good_at": ["poetry"]}, "good_at"),
        (lambda m: m | {"files": {"Q4_K_M": "../../etc/passwd.gguf"}}, "not a file in a repository"),
        (lambda m: m | {"files": {"Q3_Z": "a.gguf"}}, "not a quantisation"),
    ],
)
def test_a_catalog_with_a_mistake_is_refused_naming_it(change, message: str):
    model = shipped_catalog().models[0].model_dump()
    with pytest.raises(ValidationError, match=message):
        Catalog.model_validate({"updated": "2026-01-01", "models": [change(model)]})


def test_the_catalog_refresh_is_off_by_default_and_a_newer_valid_one_replaces_the_shipped(
    hearth_home: Path, server: str
):
    assert (
        Config.model_validate(
            {"tiers": [{"name": "l", "models": ["m"]}], "models": {"m": {"provider": "llama-cpp", "file": "m.gguf"}}}
        ).catalog.refresh
        is False
    )
    paths = user_paths()
    shipped = Path("resources/catalog.toml").read_text()
    Files.files["/broken.toml"] = shipped.replace('licence = "MIT"', 'licence = ""').encode()
    Files.files["/newer.toml"] = shipped.replace("updated = 2026-11-20", "updated = 2027-01-02").encode()
    with httpx.Client() as http:
        with pytest.raises(FetchError, match="licence"):
            refresh_catalog(http, f"{server}/broken.toml", paths, "1.0")
        assert load_catalog(paths).updated.isoformat() == "2026-11-20"
        assert refresh_catalog(http, f"{server}/newer.toml", paths, "1.0").updated.isoformat() == "2027-01-02"
    assert Files.headers[-1]["User-Agent"] == "Hearth/1.0"
    assert load_catalog(paths).updated.isoformat() == "2027-01-02"


@pytest.mark.parametrize(
    ("hardware", "expected"),
    [
        (_hardware(24), lambda m: 7 <= m.parameters_b <= 9),  # a 24 GB laptop: a 7-8B model
        (_hardware(4), lambda m: m.parameters_b <= 3.5),  # 4 GB: a 3B model at most
        (_hardware(64, 24), lambda m: m.parameters_b >= 12),  # a 24 GB GPU: the largest
    ],
)
def test_the_recommendation_is_the_strongest_model_that_runs_well_here(hearth_home: Path, hardware, expected):
    choice = recommend(offers(shipped_catalog(), hardware, user_paths()))
    assert choice.best is not None and expected(choice.best.model)
    assert len(choice.alternatives) == 2 and choice.best not in choice.alternatives
    assert all(o.fit.verdict is not Verdict.NO for o in (choice.best, *choice.alternatives))


def _gemma_entry() -> CatalogModel:
    return (
        shipped_catalog()
        .models[0]
        .model_copy(update={"id": "gemma-test", "repo": "org/gemma", "files": {"Q4_K_M": "gemma-3-270m-q4_k_m.gguf"}})
    )


def _serve_on_hub(path: Path, repo: str) -> None:
    body = path.read_bytes()
    Files.files[f"/{repo}/resolve/main/{path.name}"] = body
    tree = [{"path": path.name, "size": len(body), "lfs": {"oid": hashlib.sha256(body).hexdigest()}}]
    Files.files[f"/api/models/{repo}/tree/main"] = json.dumps(tree).encode()


def test_getting_a_catalog_model_checks_its_fit_downloads_it_and_it_answers_first(
    configured_home: Path, gemma_file: Path, server: str
):
    _serve_on_hub(gemma_file, "org/gemma")
    paths = user_paths()
    model = _gemma_entry()
    installed = get_model(model, "Q4_K_M", paths, _hardware(16), lambda _: None, endpoint=server)
    assert Files.requests[0][1] == f"bytes=0-{FIRST_READ - 1}", "the header is read before the download"
    assert installed.path.read_bytes() == gemma_file.read_bytes()
    config = load_config(paths)
    assert config.tiers[0].models == ["gemma-test", "smollm2-135m"]
    saved = config.models["gemma-test"]
    assert saved.sha256 == hashlib.sha256(gemma_file.read_bytes()).hexdigest() and saved.n_ctx == 8192
    assert "now answers first" in installed.placement.why
    assert (
        installed.placement.lines()[1] == "The ladder is now: local [gemma-test, smollm2-135m] → self-hosted [server]"
    )


def test_a_model_that_would_be_slow_here_climbs_after_the_small_one(
    configured_home: Path, gemma_file: Path, server: str, monkeypatch: pytest.MonkeyPatch
):
    _serve_on_hub(gemma_file, "org/gemma")
    monkeypatch.setattr(fit_module, "CPU_BANDWIDTH", 1e9)  # a computer whose memory reads 1 GB/s
    installed = get_model(_gemma_entry(), "Q4_K_M", user_paths(), _hardware(8), lambda _: None, endpoint=server)
    assert installed.fit.speed is Speed.SLOW
    config = load_config(user_paths())
    assert [t.name for t in config.tiers] == ["local", "local-large", "self-hosted"]
    assert config.tiers[0].models == ["smollm2-135m"] and config.tiers[1].slow
    assert "still answers first" in installed.placement.why


def test_a_model_that_will_not_fit_is_refused_before_it_is_downloaded(configured_home: Path, gemma_file: Path, server):
    _serve_on_hub(gemma_file, "org/gemma")
    with pytest.raises(FetchError, match="would not fit.*Nothing was downloaded"):
        get_model(_gemma_entry(), "Q4_K_M", user_paths(), _hardware(0.5), lambda _: None, endpoint=server)
    assert all(r is not None for _, r in Files.requests), "only the header was read"
    assert not (configured_home / "data" / "models" / gemma_file.name).exists()
    assert "gemma-test" not in load_config(user_paths()).models


def test_a_header_read_makes_the_estimate_exact_and_is_remembered(hearth_home: Path, gemma_file: Path, server):
    _serve_on_hub(gemma_file, "org/gemma")
    model, paths = _gemma_entry(), user_paths()
    before = offer_for(model, _hardware(16), paths)
    assert not before.facts.exact
    with httpx.Client() as http:
        read_facts(http, model, "Q4_K_M", paths, server)
    after = offer_for(model, _hardware(16), paths)
    assert after.facts.exact and after.facts.file_size == gemma_file.stat().st_size
    assert after.facts.shape.vocab == 262144


def test_a_broken_catalog_file_names_the_problem():
    with pytest.raises(FetchError, match="not valid TOML"):
        parse_catalog("updated = [", "test")


def test_a_catalog_nested_too_deeply_to_read_is_refused_like_any_broken_one():
    """tomllib reads arrays by recursion: 20,000 of them once raised RecursionError past every handler."""
    with pytest.raises(FetchError, match="not valid TOML: the TOML nests arrays or objects too deeply"):
        parse_catalog("updated = " + "[" * 20_000, "test")


def test_a_hub_file_list_nested_too_deeply_to_read_is_a_fetch_error():
    """The Hub's answer to "which files, with which checksums": a hostile one that nests 20,000 arrays."""
    nested = httpx.MockTransport(lambda request: httpx.Response(200, content=b"[" * 20_000))
    source = HuggingFaceSource(kind="huggingface", repo="someone/model", filename="model.gguf")
    with httpx.Client(transport=nested) as http, pytest.raises(FetchError, match="Could not list the files"):
        huggingface_checksum(http, source)
    with httpx.Client(transport=nested) as http, pytest.raises(FetchError, match="cannot read"):
        search_hub(http, "model")


def test_a_hub_result_whose_name_would_change_the_download_address_is_left_out():
    results = [{"id": "bartowski/Qwen2.5-0.5B-Instruct-GGUF"}, {"id": "../../api/whoami"}, {"id": "a/b?token=1"}]
    files = [{"path": "q4.gguf", "size": 3}, {"path": "../../../x/y/resolve/main/evil.gguf", "size": 1}]
    hub = httpx.MockTransport(lambda r: httpx.Response(200, json=files if "/tree/" in r.url.path else results))
    with httpx.Client(transport=hub) as http:
        assert [model.id for model in search_hub(http, "qwen")] == ["bartowski/Qwen2.5-0.5B-Instruct-GGUF"]
        assert [file.path for file in gguf_files(http, "bartowski/Qwen2.5-0.5B-Instruct-GGUF")] == ["q4.gguf"]
    for repo, revision in (("someone/model", "../../../other/model/resolve/main"), ("someone/..", "main")):
        with pytest.raises(ValueError, match="no repository or revision name"):
            HuggingFaceSource(kind="huggingface", repo=repo, filename="model.gguf", revision=revision)


def test_the_daily_refresh_asks_nothing_until_turned_on_then_once_a_day(hearth_home: Path, server: str):
    from app.core.catalog.entries import refresh_if_due
    from app.core.config.schema import CatalogRefresh

    paths = user_paths()
    newer = Path("resources/catalog.toml").read_text().replace("updated = 2026-11-20", "updated = 2027-02-03")
    Files.files["/catalog.toml"] = newer.encode()
    assert refresh_if_due(paths, CatalogRefresh(), "1.0") is None and Files.requests == []
    on = CatalogRefresh.model_construct(refresh=True, url=f"{server}/catalog.toml")  # the test server speaks http
    assert refresh_if_due(paths, on, "1.0").updated.isoformat() == "2027-02-03"
    assert refresh_if_due(paths, on, "1.0") is None and len(Files.requests) == 1  # not again the same day
