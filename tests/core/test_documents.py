"""Document collections: reading files, keeping headings and pages, incremental rescans, retrieval.

Vectors come from the real SmolLM2 GGUF through llama.cpp's embedding mode (mean pooling).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config.schema import LocalModel
from app.core.documents.embedding import Embedder
from app.core.documents.extract import extract
from app.core.documents.library import Library
from app.core.documents.retrieval import fuse
from app.core.errors import DocumentError, InvalidInput, NotFound
from tests.document_files import write_docx, write_pdf

GUIDE = """# Garden guide

Everything about the garden.

## Watering

```python
# not a heading: a comment inside code
water(plants)
```

Tomatoes need water every morning in July.

## Pests

### Snails

Beer traps keep snails away from the lettuce.
"""


@pytest.fixture(scope="module")
def embedder(embedding_file: Path) -> Iterator[Embedder]:
    model = LocalModel(provider="llama-cpp", file=str(embedding_file), threads=1)
    found = Embedder("minilm", model, lambda: embedding_file)
    yield found
    found.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text(GUIDE, encoding="utf-8")
    write_pdf(docs / "manual.pdf", ["Safety first: unplug the pump.", "The pump filter is cleaned every April."])
    write_docx(docs / "notes.docx", [("Budget", "Seeds cost twelve euros."), ("Tools", "A new spade is needed.")])
    (docs / "page.html").write_text(
        "<html><head><title>Bees</title><script>steal()</script></head>"
        "<body><h1>Bees</h1><p>Lavender draws the bees.</p><h2>Honey</h2><p>Harvest in August.</p></body></html>",
        encoding="utf-8",
    )
    (docs / "pump.py").write_text("def clean_filter():\n    return 'rinse the filter'\n", encoding="utf-8")
    (docs / ".hidden.md").write_text("secret hidden words", encoding="utf-8")
    return docs


@pytest.fixture
def library(tmp_path: Path, embedder: Embedder) -> Library:
    return Library(tmp_path / "documents.db", embedder)


def indexed(library: Library, name: str, *paths: Path) -> list[str]:
    library.add(name, list(paths))
    return [progress.note for progress in library.index(name)]


def test_markdown_sections_carry_their_heading_trail_and_code_comments_are_not_headings(tmp_path: Path):
    path = tmp_path / "guide.md"
    path.write_text(GUIDE, encoding="utf-8")
    sections = extract(path)
    assert [s.heading for s in sections] == [
        "Garden guide",
        "Garden guide › Watering",
        "Garden guide › Pests",
        "Garden guide › Pests › Snails",
    ]
    assert "Tomatoes need water" in sections[1].text and sections[1].line == 5


def test_pdf_pages_docx_headings_and_html_without_scripts(folder: Path):
    pages = extract(folder / "manual.pdf")
    assert [(s.page, "filter" in s.text) for s in pages] == [(1, False), (2, True)]
    docx_sections = extract(folder / "notes.docx")
    assert [(s.heading, s.text.splitlines()[-1]) for s in docx_sections] == [
        ("Budget", "Seeds cost twelve euros."),
        ("Tools", "A new spade is needed."),
    ]
    html = extract(folder / "page.html")
    assert [s.heading for s in html] == ["Bees", "Honey"]
    assert not any("steal" in s.text for s in html)


def test_a_damaged_pdf_is_reported_by_name_and_the_rest_of_the_folder_is_indexed(folder: Path, library: Library):
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a PDF")
    with pytest.raises(DocumentError, match="broken.pdf"):
        extract(folder / "broken.pdf")
    notes = indexed(library, "garden", folder)
    assert any("broken.pdf" in note for note in notes)
    [collection] = library.collections()
    assert collection.files == 6, "five readable documents and the broken one (remembered, so not read again)"
    assert not library.search(["garden"], "hidden secret words", method="text"), "hidden files are left out"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="pipes and links as POSIX makes them")
@pytest.mark.timeout(60)
def test_a_pipe_a_device_or_a_link_leading_out_of_the_folder_is_not_indexed(tmp_path: Path, library: Library):
    elsewhere = tmp_path / "private"
    elsewhere.mkdir()
    (elsewhere / "diary.txt").write_text("my bank password is hunter2", encoding="utf-8")
    docs = tmp_path / "unpacked"
    (docs / "sub").mkdir(parents=True)
    (docs / "sub" / "recipe.txt").write_text("Bake the bread for forty minutes.", encoding="utf-8")
    os.mkfifo(docs / "waits.txt")  # opening it would wait for a writer for ever
    (docs / "endless.txt").symlink_to("/dev/zero")  # reading it never ends
    (docs / "notes.txt").symlink_to(elsewhere / "diary.txt")  # an archive's link to a file elsewhere
    (docs / "same-recipe.txt").symlink_to(docs / "sub" / "recipe.txt")  # a link within the folder is followed
    notes = indexed(library, "unpacked", docs)
    [collection] = library.collections()
    assert collection.files == 2, notes
    assert not library.search(["unpacked"], "bank password hunter2", method="text")
    assert library.search(["unpacked"], "bread forty minutes", method="text")
    with pytest.raises(DocumentError, match="a pipe"):
        extract(docs / "waits.txt")


def test_answers_are_found_by_words_and_by_vectors_and_carry_page_and_heading(folder: Path, library: Library):
    indexed(library, "garden", folder)
    [best, *_] = library.search(["garden"], "When is the pump filter cleaned?")
    assert Path(best.chunk.path).name == "manual.pdf" and best.chunk.page == 2
    assert best.text_rank is not None and best.vector_rank is not None
    [snails, *_] = library.search(["garden"], "How do I keep snails off?")
    assert snails.chunk.heading == "Garden guide › Pests › Snails"
    by_vector = library.search(["garden"], "When is the pump filter cleaned?", method="vector")
    assert by_vector and all(hit.text_rank is None for hit in by_vector)


def test_reciprocal_rank_fusion_prefers_what_both_methods_rank_well():
    merged = fuse([[1, 2, 3], [3, 4, 1]])
    assert [item for item, _ in merged][:2] == [1, 3]
    assert {item for item, _ in merged} == {1, 2, 3, 4}


def test_a_rescan_redoes_only_what_changed_and_follows_moved_files(folder: Path, library: Library):
    indexed(library, "garden", folder)
    before = {hit.chunk.path: hit.chunk.id for hit in library.search(["garden"], "pump filter lavender spade", 20)}

    assert indexed(library, "garden", folder)[0] == "0 new, 0 changed, 0 moved, 0 deleted, 5 unchanged"

    (folder / "notes.docx").rename(folder / "budget.docx")
    (folder / "page.html").unlink()
    guide = folder / "guide.md"
    guide.write_text(GUIDE.replace("every morning in July", "every evening in August"), encoding="utf-8")
    os.utime(guide, (guide.stat().st_atime, guide.stat().st_mtime + 5))
    assert indexed(library, "garden", folder)[0] == "0 new, 1 changed, 1 moved, 1 deleted, 2 unchanged"

    after = {hit.chunk.path: hit.chunk.id for hit in library.search(["garden"], "pump filter lavender spade", 20)}
    assert after[str(folder / "budget.docx")] == before[str(folder / "notes.docx")], "moved: nothing recomputed"
    assert after[str(folder / "manual.pdf")] == before[str(folder / "manual.pdf")]
    assert str(folder / "page.html") not in after
    assert not library.search(["garden"], "lavender bees", method="text")
    [evening] = library.search(["garden"], "evening", method="text")
    assert Path(evening.chunk.path).name == "guide.md"


def test_a_small_best_file_goes_in_whole(folder: Path, library: Library):
    indexed(library, "garden", folder)
    grounding = library.ground(["garden"], "How do I keep snails off the lettuce?")
    assert grounding.found_relevant
    assert {Path(row.path).name for row in grounding.whole_file} == {"guide.md"}
    assert len(grounding.whole_file) == 4


def test_removing_a_collection_deletes_its_text_from_the_index_file(folder: Path, library: Library):
    indexed(library, "garden", folder)
    indexed(library, "other", folder / "pump.py")
    library.remove("garden")
    assert [c.name for c in library.collections()] == ["other"]
    stored = b"".join(p.read_bytes() for p in library.path.parent.glob("documents.db*"))
    assert b"Beer traps" not in stored and b"twelve euros" not in stored
    assert b"rinse the filter" in stored
    assert library.search(["other"], "filter", method="vector")
    with pytest.raises(NotFound, match="no document collection 'garden'"):
        library.search(["garden"], "snails")


def test_bad_names_and_missing_paths_are_refused_before_anything_is_stored(tmp_path: Path, library: Library):
    with pytest.raises(InvalidInput, match="cannot name a collection"):
        library.add("../etc", [tmp_path])
    with pytest.raises(InvalidInput, match="Not found"):
        library.add("garden", [tmp_path / "nowhere"])
    assert library.collections() == []


def test_without_an_embedding_model_search_is_by_words_alone(folder: Path, tmp_path: Path):
    words_only = Library(tmp_path / "words.db", None)
    indexed(words_only, "garden", folder)
    [best, *_] = words_only.search(["garden"], "pump filter")
    assert Path(best.chunk.path).name == "manual.pdf" and best.vector_rank is None
