"""Saving an answer while it streams: what was passed on is saved, whole, in a few pieces."""

from __future__ import annotations

import gc
from pathlib import Path

from app.core.answers import AttemptEnded, AttemptStarted, TextDelta
from app.core.session import open_session
from tests.answer_server import answer_server, large_answer
from tests.conftest import config_text, write_user_config

DELTAS = 125_000  # 2,000,000 characters, 16 at a time


def test_a_huge_answer_is_passed_on_whole_in_a_few_saved_pieces_and_starts_no_full_collection(
    hearth_home: Path, model_file: Path
):
    """2 MB of code from a self-hosted server in 16-character deltas, after the local model's unsure answer.

    The turn passes it on in a few pieces (one a save), every character in order, and stores all of it. While a
    piece waits to be saved only its text is held, so the deltas never reach the garbage collector's oldest
    generation: no collection of every object in the program (tens of milliseconds holding the GIL, during which
    the window cannot draw) runs while the answer streams."""
    text = large_answer("code", 2_000_000)
    streaming = False
    full_collections: list[dict[str, int]] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2 and streaming:
            full_collections.append(info)

    with answer_server({"big": text}, chunk=16) as server:
        config = config_text(
            model_file,
            privacy="local-and-self-hosted",
            threshold=1.0,
            server_url=f"{server}/big/v1",
            max_answer_tokens=2048,  # the stream's bytes fit the cap on an answer's size (8 KiB a token)
        ).replace("n_ctx = 2048", "n_ctx = 4096")
        write_user_config(hearth_home, config)
        session = open_session()
        gc.callbacks.append(count)
        try:
            pieces: list[str] = []
            for event in session.chat.send(None, "Reply with one word: yes."):
                if isinstance(event, AttemptStarted):
                    streaming = event.index == 1
                elif isinstance(event, AttemptEnded):
                    streaming = False
                elif isinstance(event, TextDelta) and event.index == 1:
                    pieces.append(event.text)
            store = session.open_store()
            stored = store.messages(store.conversations()[0].id)[-1].content
            store.close()
        finally:
            gc.callbacks.remove(count)
            session.close()
    assert "".join(pieces) == text
    assert 1 < len(pieces) < DELTAS // 100
    assert stored == text
    assert full_collections == []
