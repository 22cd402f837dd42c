"""Tokens and secrets never reach a log or a message."""

from __future__ import annotations

import json
import logging

import pytest

from tests.listeners.conftest import NOW
from tests.slackhttp import BOT_TOKEN, SIGNING_SECRET, start_bot


@pytest.fixture
def debug_bot(tmp_path, slack, caplog):
    """A bot started at DEBUG, as NEWSBOT_LOG_LEVEL=DEBUG starts one (the level at start
    decides whether Bolt's and slack_sdk's loggers say more than warnings)."""
    caplog.set_level(logging.DEBUG)
    b = start_bot(tmp_path, slack, lambda: NOW)
    yield b
    b.close()


def test_no_secret_in_logs_or_messages_even_at_debug(debug_bot, caplog):
    bot = debug_bot
    bot.ask("facial recognition")
    bot.ask("subscribe ai")
    bot.action("news_share", str(bot.store._rows("SELECT id FROM articles LIMIT 1")[0]["id"]))
    assert bot.slack.wait_for(lambda: bot.slack.posts("C1"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "facial" in logged or caplog.records  # something was logged at DEBUG
    sent = json.dumps(bot.slack.responses) + json.dumps(bot.slack.posts())
    for secret in (BOT_TOKEN, SIGNING_SECRET):
        assert secret not in logged
        assert secret not in sent
    assert SIGNING_SECRET not in repr(bot.runtime.config)
    assert BOT_TOKEN not in repr(bot.runtime.config)
