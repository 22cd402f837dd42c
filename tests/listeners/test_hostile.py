"""Issue 9, the Slack side: whatever a client sends, newsbot answers it without a 500 and
without a traceback; values it never rendered get a polite private answer; and nobody acts on
a channel or a person a forged value names."""

from __future__ import annotations

import io
import json
import logging
import socket
import time
from urllib.parse import urlencode

import pytest

from bot.core.service import Context, NewsService
from bot.shell import run_shell
from tests.listeners.conftest import NOW
from tests.slackhttp import sign

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


# -- defect 6: malformed requests answered 500 with a traceback -----------------------------


def raw_post(bot, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """A request written by hand (urllib refuses a Content-Length of "abc")."""
    host, port = bot.url.split("/")[2].split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            f"POST /slack/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{head}\r\n".encode(
                "latin-1"
            )
            + body
        )
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[-1]


FORM = "application/x-www-form-urlencoded"
UNSIGNED = {
    "non-integer timestamp": (
        b"token=x&command=%2Fnews",
        {"Content-Type": FORM, "X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
    ),
    "JSON that is not an object": (b"[1, 2]", {"Content-Type": "application/json"}),
    "payload= not an object": (b"payload=%5B1%5D", {"Content-Type": FORM}),
    "payload= not JSON": (b"payload=%7Bnope", {"Content-Type": FORM}),
    "not UTF-8": (b"\xff\xfe\x00command=%2Fnews", {"Content-Type": FORM}),
    "Content-Length abc": (b"token=x", {"Content-Type": FORM, "Content-Length": "abc"}),
    "non-ASCII signature": (
        b"token=x",
        {
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=\xe9",
        },
    ),
}


@pytest.mark.parametrize("case", sorted(UNSIGNED))
def test_malformed_unsigned_requests_get_400_or_401_without_a_traceback(bot, case, caplog):
    body, headers = UNSIGNED[case]
    headers = {"Content-Length": str(len(body)), **headers}
    status, answer = raw_post(bot, body, headers)
    assert status in (400, 401), (case, status)
    assert b"Traceback" not in answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def signed_payload(bot, payload: dict, content_type: str = FORM) -> tuple[int, bytes]:
    body = (
        json.dumps(payload) if content_type != FORM else urlencode({"payload": json.dumps(payload)})
    )
    return raw_post(
        bot,
        body.encode(),
        {"Content-Type": content_type, "Content-Length": str(len(body.encode())), **sign(body)},
    )


def test_signed_json_that_is_not_an_object_is_400(bot):
    body = "[1, 2]"
    status, _ = raw_post(
        bot,
        body.encode(),
        {"Content-Type": "application/json", "Content-Length": "6", **sign(body)},
    )
    assert status == 400


@pytest.mark.parametrize(
    "actions",
    [
        None,
        [],
        [None],
        [{"action_id": 7, "value": "x"}],
        [{"value": "x"}],
        [{"action_id": "news_more", "value": 5}],
    ],
)
def test_signed_block_actions_of_the_wrong_shape_are_400(bot, actions, caplog):
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "channel": {"id": "C1"},
        "actions": actions,
    }
    status, answer = signed_payload(bot, payload)
    assert status == 400 and b"Traceback" not in answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_thirty_digit_story_id_is_answered_politely(bot, caplog):
    assert bot.action("news_share", "1" * 30).status == 200
    assert bot.action("digest_tune", json.dumps({"l": 10**29})).status == 200
    first, second = bot.wait_responses(2)
    assert "no longer available" in said(first)
    assert "expired" in said(second)
    assert "Traceback" not in caplog.text and "OverflowError" not in caplog.text


def test_a_deeply_nested_more_value_is_answered_politely(bot, caplog):
    assert bot.action("news_more", "[" * 1500 + "]" * 1500).status == 200
    assert bot.action("digest_tune", '{"l": ' + "[" * 200 + "]" * 200 + "}").status == 200
    first, second = bot.wait_responses(2)
    assert "expired" in said(first) and "expired" in said(second)
    assert "RecursionError" not in caplog.text


def test_app_home_opened_without_a_user_is_ignored(bot, caplog):
    assert bot.event({"type": "app_home_opened", "channel": "D1", "tab": "home"}).status == 200
    assert bot.event({"type": "app_home_opened", "user": ["U1"], "tab": "home"}).status == 400
    bot.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    bot.wait_home("U1", 1)
    assert len(bot.slack.calls_to("views.publish")) == 1
    assert "KeyError" not in caplog.text


def test_a_request_without_a_channel_stores_nothing_for_channel_nobody(bot):
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "response_url": bot.slack.response_url("act900"),
        "actions": [{"action_id": "news_subscribe", "value": "ai", "type": "button"}],
    }
    assert signed_payload(bot, payload)[0] == 200
    payload["actions"] = [{"action_id": "digest_tune", "value": '{"m": "reuters.com"}'}]
    assert signed_payload(bot, payload)[0] == 200
    bot.command("subscribe robots", channel="")
    answers = bot.wait_responses(3)
    assert all("could not tell who asked" in said(a) for a in answers)
    assert bot.store.all_subscriptions() == []
    assert bot.store.mutes("T1", "channel", "") == []


# -- defect 8: every action checks the user may act on what its value names -----------------


def home_click(bot, action_id: str, user: str = "U1", **fields) -> dict:
    before = len([c for c in bot.slack.calls_to("views.publish") if c.params["user_id"] == user])
    assert bot.home_action({"action_id": action_id, **fields}, user=user).status == 200
    return bot.wait_home(user, before + 1)


def notice_of(view: dict) -> str:
    return json.dumps(view["blocks"][1], ensure_ascii=False)


def test_home_unsubscribe_with_a_forged_channel_leaves_others_subscriptions_alone(bot, slack):
    slack.add_user("U2", tz="UTC")
    bot.ask("subscribe robots", channel="C2", user="U2")
    bot.ask("follow gardening", channel="D2", channel_name="directmessage", user="U2")
    bot.ask("subscribe robots", channel="C3", user="U1")
    for forged in (
        {"c": "C2", "t": "robots"},
        {"c": "U2", "t": "gardening"},
        {"c": "U1", "t": "robots"},
        {"c": "", "t": "robots"},
        {"c": "C2"},
    ):
        view = home_click(bot, "home_unsubscribe", value=json.dumps(forged))
        assert "Unsubscribed" not in notice_of(view), forged
    assert [s["topic"] for s in bot.store.subscriptions("T1", "C2")] == ["robots"]
    assert [s["topic"] for s in bot.store.subscriptions("T1", "U2")] == ["gardening"]
    # what the Home tab rendered for U1 still works
    view = home_click(bot, "home_unsubscribe", value=json.dumps({"c": "C3", "t": "robots"}))
    # the Home tab is no channel: the notice names the one it changed, as a link
    assert "Unsubscribed <#C3> from *robots*." in notice_of(view)
    assert bot.store.subscriptions("T1", "C3") == []


def test_home_unsubscribe_needs_an_admin_when_admins_only(tmp_path, slack):
    from tests.slackhttp import start_bot

    bot = start_bot(
        tmp_path, slack, lambda: NOW, extra_env={"NEWSBOT_SUBSCRIPTIONS_ADMINS_ONLY": "true"}
    )
    try:
        bot.store.subscribe("T1", "C4", "robots", user_id="U1", hour=8, minute=0, tz="UTC", now=NOW)
        view = home_click(bot, "home_unsubscribe", value=json.dumps({"c": "C4", "t": "robots"}))
        assert "Only workspace admins" in notice_of(view)
        assert len(bot.store.subscriptions("T1", "C4")) == 1
    finally:
        bot.close()


FORGED_HOME = [
    ("home_unfollow", {"value": "x" * 5000}),
    ("home_items", {"selected_option": {"value": "²"}}),
    ("home_items", {"selected_option": {"value": "1" * 30}}),
    ("home_items", {"selected_option": None}),
    ("home_time", {"selected_time": "99:99"}),
    ("home_weekends", {"value": "maybe"}),
    ("home_unmute", {"value": ""}),
    ("home_page", {"value": "1" * 30}),
    ("home_page", {"value": "-1"}),
]


@pytest.mark.parametrize("action_id,fields", FORGED_HOME)
def test_forged_home_values_change_nothing_and_say_so(bot, action_id, fields, caplog):
    def settings() -> tuple:
        s = bot.store.user_settings("T1", "U1")
        return s["items"], s["hour"], s["minute"], s["skip_weekends"]

    before = settings()
    view = home_click(bot, action_id, **fields)
    assert view["type"] == "home"
    if action_id != "home_page":
        assert "Done" not in notice_of(view)
    assert settings() == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_home_controls_act_only_on_the_clicking_users_own_things(bot, slack):
    slack.add_user("U2", tz="UTC")
    bot.ask("follow gardening", channel="D2", channel_name="directmessage", user="U2")
    bot.ask("mute reuters.com", channel="D2", channel_name="directmessage", user="U2")
    home_click(bot, "home_unfollow", value="gardening")
    home_click(bot, "home_unmute", value="reuters.com")
    assert [s["topic"] for s in bot.store.subscriptions("T1", "U2")] == ["gardening"]
    assert bot.store.muted_domains("T1", "user", "U2") == {"reuters.com"}


FORGED_MESSAGE_ACTIONS = [
    ("news_subscribe", "x" * 300, "expired"),
    ("news_subscribe", "", "expired"),
    ("news_more", json.dumps({"q": "ai", "o": -5}), "expired"),
    ("news_more", json.dumps({"q": "ai", "o": 10**30}), "expired"),
    ("news_more", json.dumps({"q": ["ai"], "o": 0}), "expired"),
    ("news_more", json.dumps({"q": "ai", "o": True}), "expired"),
    ("news_share", "-3", "no longer available"),
    ("news_share", "1e3", "no longer available"),
    ("news_share", "9" * 19, "no longer available"),
    ("digest_tune", json.dumps({"m": "a b\nc"}), "expired"),
    ("digest_tune", json.dumps({"l": "1" * 25}), "expired"),
    ("digest_tune", json.dumps({"m": ["x"]}), "expired"),
    ("digest_tune", "null", "expired"),
    ("some_forged_action", "x", "older version"),
]


@pytest.mark.parametrize("action_id,value,expected", FORGED_MESSAGE_ACTIONS)
def test_forged_message_action_values_get_a_polite_private_answer(
    bot, action_id, value, expected, caplog
):
    assert bot.action(action_id, value).status == 200
    (answer,) = bot.wait_responses(1)
    assert expected in said(answer)
    assert bot.store.all_subscriptions() == []
    assert bot.store.mutes("T1", "channel", "C1") == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_forged_channel_mute_needs_an_admin_when_admins_only(tmp_path, slack):
    from tests.slackhttp import start_bot

    bot = start_bot(
        tmp_path, slack, lambda: NOW, extra_env={"NEWSBOT_SUBSCRIPTIONS_ADMINS_ONLY": "true"}
    )
    try:
        bot.action("digest_tune", json.dumps({"m": "reuters.com"}), channel="C4")
        bot.action("news_subscribe", "robots", channel="C4")
        for answer in bot.wait_responses(2):
            assert "Only workspace admins" in said(answer)
        assert bot.store.mutes("T1", "channel", "C4") == []
        assert bot.store.all_subscriptions() == []
    finally:
        bot.close()


# -- defect 7: logs ---------------------------------------------------------------------------


def test_an_unsigned_body_is_never_logged_and_cannot_forge_a_line(bot, caplog):
    caplog.set_level(logging.INFO)
    body = "token=x&text=" + "A" * 200_000 + "%0A2020-01-01 00:00:00,000 ERROR newsbot: forged"
    assert (
        raw_post(
            bot,
            body.encode(),
            {
                "Content-Type": FORM,
                "Content-Length": str(len(body)),
                "X-Slack-Request-Timestamp": str(int(time.time())),
                "X-Slack-Signature": "v0=" + "0" * 64,
            },
        )[0]
        == 401
    )
    assert "AAAAAAAAAA" not in caplog.text and "forged" not in caplog.text
    assert len(caplog.text) < 2000


def test_a_signed_unhandled_request_is_logged_without_its_body(bot, caplog):
    caplog.set_level(logging.INFO)
    bot.event({"type": "reaction_added", "user": "U1", "reaction": "secret-words\nERROR forged"})
    assert "secret-words" not in caplog.text


def test_logged_values_are_escaped_and_secrets_redacted(bot, caplog):
    caplog.set_level(logging.INFO)
    log = logging.getLogger("newsbot.test")
    log.warning("user said %s", "hi\n2020-01-01 ERROR newsbot: forged \x1b[31mred\u202e")
    log.warning("token %s and secret %s", "xoxb-123-456-abc", "test-signing-secret-0123456789")
    try:
        raise ValueError("bad\nERROR forged in an exception")
    except ValueError:
        log.exception("failed")
    lines = caplog.text.splitlines()
    assert not [line for line in lines if line.startswith("ERROR forged")]
    assert not any("\x1b" in line or "\u202e" in line for line in lines)
    assert "xoxb-123" not in caplog.text and "0123456789" not in caplog.text
    assert "hi\\n2020-01-01 ERROR" in caplog.text


@pytest.mark.parametrize("view", [None, "x", [], {"type": None}])
def test_a_signed_unhandled_payload_with_an_odd_view_gets_404_not_500(bot, caplog, view):
    """Found by bench/fuzz_http.py (seed 26): Bolt's own warning for an unhandled request
    reads ``view.get`` and raised on ``"view": null``, answering 500 and logging an ERROR."""
    from urllib.parse import urlencode

    from tests.slackhttp import post, sign

    payload = {"type": "shortcut", "team": {"id": "T1"}, "user": {"id": "U1"}, "view": view}
    body = urlencode({"payload": json.dumps(payload)})
    reply = post(bot.url, body, sign(body))
    assert reply.status in (400, 404)  # a view that is no object is refused before routing
    assert "ERROR" not in caplog.text and "Traceback" not in caplog.text
