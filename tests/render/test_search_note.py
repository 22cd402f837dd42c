"""The note on what a search searched instead ("Showing results for ...") is shown, escaped,
by both renderers, and an answer without one shows none."""

from __future__ import annotations

import json

from bot.core.answers import SearchAnswer
from bot.core.loader import Loader
from bot.core.search import search
from bot.render import blocks, text
from storage.store import Store
from tests.conftest import NOW, SEED_FILE, FixedClock


def _store(tmp_path) -> Store:
    db = Store(tmp_path / "note.db")
    assert Loader(db, FixedClock()).load([SEED_FILE]).ok
    return db


def test_a_correction_is_said_and_escaped_in_slack_and_on_a_terminal(tmp_path):
    db = _store(tmp_path)
    result = search(db, "<!channel> \x1b recogniton", now=NOW)
    assert result.hits and result.note and result.note.startswith("Showing results for")
    _, kit = blocks.render(SearchAnswer(result), NOW)
    notes = [b for b in kit if b["type"] == "context" and "Showing" in json.dumps(b)]
    assert len(notes) == 1
    shown = notes[0]["elements"][0]["text"]
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown and "recognition" in shown
    printed = text.render(SearchAnswer(result), NOW)
    assert printed.splitlines()[0].startswith("Showing results for")
    assert "\x1b" not in printed and "recognition" in printed.splitlines()[0]
    db.close()


def test_no_note_no_line(tmp_path):
    db = _store(tmp_path)
    result = search(db, "facial recognition", now=NOW)
    assert result.hits and result.note is None
    _, kit = blocks.render(SearchAnswer(result), NOW)
    assert [b["type"] for b in kit][:2] == ["section", "section"]
    assert text.render(SearchAnswer(result), NOW).startswith("1. ")
    db.close()
