"""``hearth docs`` from the terminal: add, list, search, remove, with the real embedding model."""

from __future__ import annotations

import json
from pathlib import Path

from app.cli.main import main
from tests.conftest import config_text, write_user_config
from tests.document_files import write_pdf


def test_a_collection_is_added_listed_searched_and_removed(hearth_home: Path, model_file: Path, tmp_path: Path, capsys):
    write_user_config(hearth_home, config_text(model_file).replace("threads = 2", "threads = 1"))
    folder = tmp_path / "club"
    folder.mkdir()
    write_pdf(folder / "minutes.pdf", ["Minutes of March.", "The boathouse key is kept by Jo."])
    (folder / "rules.md").write_text("# Rules\n\n## Boats\n\nBoats are washed after every outing.\n", "utf-8")

    assert main(["docs", "add", "club", str(folder), "--local-only"]) == 0
    added = capsys.readouterr().out
    assert "club: 2 new, 0 changed, 0 moved, 0 deleted, 0 unchanged" in added
    assert "club: 2 files, 4 chunks indexed (local-only: never sent to a remote tier)." in added

    assert main(["docs", "search", "boathouse key", "--in", "club", "--json"]) == 0
    [best, *_] = json.loads(capsys.readouterr().out)
    assert (best["label"], best["collection"]) == ("minutes.pdf, page 2", "club")

    assert main(["docs", "rescan", "club"]) == 0
    assert "0 new, 0 changed, 0 moved, 0 deleted, 2 unchanged" in capsys.readouterr().out

    assert main(["docs", "remove", "club"]) == 0
    capsys.readouterr()
    assert main(["docs", "list"]) == 0
    assert "No document collections yet" in capsys.readouterr().out
    assert main(["docs", "search", "key", "--in", "club"]) == 1
    assert "There is no document collection 'club'" in capsys.readouterr().err
