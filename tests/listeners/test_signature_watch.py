"""A wrong SLACK_SIGNING_SECRET is said on stderr (issue 14: a bad setting is one clear line):
every request Slack sends is then refused 401, and Bolt logs it at INFO only, below the
server's WARNING for its loggers, so the bot looked healthy and heard nothing."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from bot.slack.guard import SignatureWatch
from tests.slackhttp import post, sign


def _body(bot) -> str:
    return urlencode(
        {
            "command": "/news",
            "text": "facial recognition",
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": "U1",
            "response_url": bot.slack.response_url(),
        }
    )


def test_requests_signed_with_another_secret_are_said_once_at_warning(bot, caplog):
    caplog.set_level(logging.WARNING, logger="newsbot.http")
    body = _body(bot)
    for _ in range(30):  # Slack, signing with the app's real secret, which the bot lacks
        assert post(bot.url, body, sign(body, secret="the-apps-real-secret")).status == 401
    said = [r for r in caplog.records if "bad signature" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in said]
    line = said[0].getMessage()
    assert said[0].levelno == logging.WARNING
    assert line.startswith("1 request(s) to /slack/events refused for a bad signature: ")
    assert "SLACK_SIGNING_SECRET is not this app's" in line
    assert "the-apps-real-secret" not in line and "test-signing-secret" not in line
    # a good request is answered as ever
    assert post(bot.url, body, sign(body)).status == 200


def test_the_watch_says_again_after_its_quiet_time_with_the_count(caplog):
    caplog.set_level(logging.WARNING, logger="newsbot.http")
    now = [0.0]
    watch = SignatureWatch(every=600, clock=lambda: now[0])
    for _ in range(5):
        watch.refused()
    now[0] = 599.0
    watch.refused()
    assert len(caplog.records) == 1
    now[0] = 600.0
    watch.refused()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[1].startswith("6 request(s) to /slack/events refused for a bad signature in the")
