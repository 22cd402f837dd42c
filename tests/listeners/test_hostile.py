"""Issue 9, the Slack side: whatever a client sends, newsbot answers it without a 500 and
without a traceback; values it never rendered get a polite private answer; and nobody acts on
a channel or a person a forged value names."""

from __future__ import annotations

import io
import json

import pytest

from bot.core.service import Context, NewsService
from bot.shell import run_shell
from tests.listeners.conftest import NOW

DM = {"channel": "D77", "channel_name": "directmessage", "user": "U1"}
SUPERSCRIPT_DIGITS = ("²", "①", "٣", "5²")


def said(resp: dict) -> str:
    return json.dumps(resp["blocks"], ensure_ascii=False)


# -- defect 5: isdigit() trusted ----------------------------------------------------------


@pytest.mark.parametrize("value", SUPERSCRIPT_DIGITS)
def test_settings_items_with_a_digit_int_refuses_is_answered_in_slack(bot, value):
    answer = said(bot.ask(f"settings items {value}", **DM))
    assert "Items must be a whole number from 1 to 10" in answer
    assert "Sorry" not in answer
    assert bot.store.user_settings("T1", "U1")["items"] == 5


def test_settings_items_with_a_superscript_two_does_not_end_the_shell(bot):
    service = NewsService(bot.store, lambda: NOW)
    out = io.StringIO()
    lines = "".join(f"/news settings items {v}\n" for v in SUPERSCRIPT_DIGITS) + "/news help\n"
    assert run_shell(service, io.StringIO(lines), out) == 0
    assert out.getvalue().count("Items must be a whole number") == len(SUPERSCRIPT_DIGITS)
    assert "/news subscribe" in out.getvalue()  # the shell went on to the next line
    answer = service.handle_text("settings items ²", Context(is_dm=True))
    assert not answer.ok
