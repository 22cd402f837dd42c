"""The Events API endpoint: Slack's URL check, and events we do not subscribe to."""

from __future__ import annotations

import json

from tests.slackhttp import post, sign


def test_url_verification_answers_the_challenge(bot):
    body = json.dumps({"token": "unused", "challenge": "c-42", "type": "url_verification"})
    reply = post(bot.url, body, {"Content-Type": "application/json", **sign(body)})
    assert reply.status == 200 and "c-42" in reply.body


def test_url_verification_needs_a_signature_too(bot):
    body = json.dumps({"token": "unused", "challenge": "c-42", "type": "url_verification"})
    reply = post(bot.url, body, {"Content-Type": "application/json"})
    assert reply.status == 401


def test_home_opened_on_the_messages_tab_publishes_nothing(bot):
    assert (
        bot.event(
            {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "messages"}
        ).status
        == 200
    )
    bot.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    bot.wait_home("U1", 1)
    assert len(bot.slack.calls_to("views.publish")) == 1
