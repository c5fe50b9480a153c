"""Document collections at scale, and how well retrieval finds the right place.

    .venv/bin/python -m bench.docs [--chunks 10000] [--queries 300] [--threads 2] [--skip-quality]
                                   [--embedder minilm|smollm2]

1. Scale, on a generated corpus of ``--chunks`` chunks (text drawn from a Zipf vocabulary):
   - indexing with the same DocumentIndex the app uses (FTS5 + sqlite-vec): time, chunks/s and
     database growth. The vectors for this part are random unit vectors of the embedding
     model's width, so it measures the index; the embedding model's own speed is measured
     separately on real chunks (``embed_chunks_per_s``) and the end-to-end rate follows from both;
   - retrieval latency per query, p50/p95 over ``--queries`` queries, for full text, vector and
     merged (reciprocal rank fusion, with the chunk rows read back, as the app does), the query
     vector given; embedding one question with the real model is timed on its own.
2. Quality, on a real document set: the Python Language Reference as shipped with every CPython
   (``pydoc_data.topics``, 79 topics, licence PSF-2.0), one file per topic, indexed through the
   Library with a real embedding GGUF run by llama.cpp: all-MiniLM-L6-v2 (tests/embedding_model.py
   builds it from the package index; ``--embedder smollm2``: the chat model, mean pooled). 40 questions written
   for it (bench/data/python_reference_questions.jsonl), each labelled with the topics that answer
   it, phrased mostly without the topic's own keyword. recall@5 (a relevant chunk among the first
   five) and MRR (of the first relevant chunk), for full text, vector and merged.

Targets: merged p95 <= 50 ms at 10,000 chunks; merged recall@5 above both single methods.
JSON goes to bench/results/docs.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from app.core.config.schema import LocalModel
from app.core.documents.chunking import TextChunk
from app.core.documents.embedding import Embedder
from app.core.documents.library import Library
from app.core.documents.retrieval import DEPTH, Method, fuse
from app.core.storage.document_index import DocumentIndex
from bench.report import RESULTS, write_report
from bench.store import vocabulary
from tests.conftest import fetch_test_model
from tests.embedding_model import fetch_embedding_model

QUESTIONS = Path(__file__).parent / "data" / "python_reference_questions.jsonl"
CHUNK_WORDS = 180  # about 1,100 characters, the size the chunker makes


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    }


def scale(chunks: int, queries: int, embedder: Embedder, folder: Path) -> dict[str, Any]:
    rng = random.Random(20)
    words, cumulative = vocabulary(rng)
    dimensions = embedder.dimensions
    index = DocumentIndex(folder / "scale.db")
    empty = index.size_bytes()
    index.use_embedder("bench:random", dimensions)
    collection = index.create_collection("bench", local_only=False)
    files = max(1, chunks // 20)
    started = time.perf_counter()
    for number in range(files):
        texts = [" ".join(rng.choices(words, cum_weights=cumulative, k=CHUNK_WORDS)) for _ in range(20)]
        vectors = rng_unit(np.random.default_rng(number), len(texts), dimensions)
        pieces = [TextChunk(text, f"Section {i}", None, None) for i, text in enumerate(texts)]
        index.put_file(
            collection.id, folder / f"file{number}.md", (len(texts), 0.0, f"{number:064x}"), pieces, vectors, 0
        )
    index_s = time.perf_counter() - started
    sample = [" ".join(rng.choices(words, cum_weights=cumulative, k=CHUNK_WORDS)) for _ in range(16)]
    embed_started = time.perf_counter()
    embedder.embed(sample)
    embed_rate = len(sample) / (time.perf_counter() - embed_started)
    question_times = []
    for _ in range(5):
        question_started = time.perf_counter()
        embedder.embed(["how is the lighthouse garden watered in the morning?"])
        question_times.append(time.perf_counter() - question_started)

    latencies: dict[str, list[float]] = {"text": [], "vector": [], "merged": []}
    vector_rng = np.random.default_rng(7)
    for _ in range(queries):
        question = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(3, 8)))
        vector = rng_unit(vector_rng, 1, dimensions)[0]
        for method in ("text", "vector", "merged"):
            began = time.perf_counter()
            text = index.search_text(question, [collection.id], DEPTH) if method != "vector" else []
            near = [i for i, _ in index.search_vectors(vector, [collection.id], DEPTH)] if method != "text" else []
            ranked = fuse([r for r in (text, near) if r])[:8]
            index.chunks([chunk_id for chunk_id, _ in ranked])
            latencies[method].append(time.perf_counter() - began)
    grown = index.size_bytes() - empty
    index.close()
    index_rate = chunks / index_s
    return {
        "chunks": files * 20,
        "dimensions": dimensions,
        "index_s": round(index_s, 2),
        "index_chunks_per_s": round(index_rate, 1),
        "db_growth_mb": round(grown / 1e6, 1),
        "db_bytes_per_chunk": round(grown / (files * 20)),
        "embed_chunks_per_s": round(embed_rate, 2),
        "end_to_end_chunks_per_s": round(1 / (1 / index_rate + 1 / embed_rate), 2),
        "question_embedding": _percentiles(question_times),
        "retrieval": {method: _percentiles(samples) for method, samples in latencies.items()},
    }


def rng_unit(rng: np.random.Generator, rows: int, dimensions: int) -> np.ndarray:
    matrix = rng.standard_normal((rows, dimensions)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def quality(embedder: Embedder, folder: Path, max_topic_chars: int | None) -> dict[str, Any]:
    from pydoc_data.topics import topics

    documents = folder / "python-reference"
    documents.mkdir()
    kept = {name: text for name, text in topics.items() if max_topic_chars is None or len(text) <= max_topic_chars}
    for name, text in kept.items():
        (documents / f"{name}.txt").write_text(text, encoding="utf-8")
    library = Library(folder / "quality.db", embedder)
    library.add("python-reference", [documents])
    started = time.perf_counter()
    list(library.index("python-reference"))
    index_s = time.perf_counter() - started
    [collection] = library.collections()
    labelled = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    labelled = [item for item in labelled if set(item["topics"]) & set(kept)]  # its answer is in the set
    results: dict[str, Any] = {}
    for method in ("text", "vector", "merged"):
        found, reciprocal = 0, 0.0
        for item in labelled:
            hits = library.search(["python-reference"], item["question"], limit=10, method=_method(method))
            ranks = [rank for rank, hit in enumerate(hits, start=1) if Path(hit.chunk.path).stem in item["topics"]]
            found += bool(ranks) and ranks[0] <= 5
            reciprocal += 1 / ranks[0] if ranks else 0.0
        results[method] = {
            "recall_at_5": round(found / len(labelled), 3),
            "mrr": round(reciprocal / len(labelled), 3),
        }
    return {
        "document_set": "Python Language Reference (pydoc_data.topics, CPython's own copy; licence PSF-2.0)",
        "max_topic_chars": max_topic_chars,
        "files": collection.files,
        "chunks": collection.chunks,
        "index_s": round(index_s, 1),
        "questions": len(labelled),
        **results,
    }


def _method(name: str) -> Method:
    assert name in ("text", "vector", "merged")
    return name  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads for the embedding model")
    parser.add_argument("--skip-quality", action="store_true", help="only the scale part (quality embeds ~400 chunks)")
    parser.add_argument(
        "--max-topic-chars", type=int, default=None, help="leave out longer topics (and their questions): a quicker run"
    )
    parser.add_argument("--embedder", choices=("minilm", "smollm2"), default="minilm")
    parser.add_argument("--out", type=Path, default=RESULTS / "docs.json")
    args = parser.parse_args()
    model_file = fetch_test_model()
    if args.embedder == "minilm":
        model_file = fetch_embedding_model(model_file.parent)
    model = LocalModel(provider="llama-cpp", file=str(model_file), threads=args.threads)
    embedder = Embedder(args.embedder, model, lambda: model_file)
    report: dict[str, Any] = {"embedding_model": f"{model_file.name} (mean pooling, {args.threads} threads)"}
    with tempfile.TemporaryDirectory() as folder:
        report["scale"] = scale(args.chunks, args.queries, embedder, Path(folder))
        merged_p95 = report["scale"]["retrieval"]["merged"]["p95_ms"]
        report["targets"] = {"merged_p95_le_50ms": merged_p95 <= 50}
        write_report(report, args.out)  # the scale part stays if the quality part is stopped
        if not args.skip_quality:
            report["quality"] = quality(embedder, Path(folder), args.max_topic_chars)
            q = report["quality"]
            beats = q["merged"]["recall_at_5"] > max(q["text"]["recall_at_5"], q["vector"]["recall_at_5"])
            report["targets"]["merged_recall_above_both"] = beats
    embedder.close()
    write_report(report, args.out)


if __name__ == "__main__":
    main()
