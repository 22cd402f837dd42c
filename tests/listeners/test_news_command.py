"""/news over real HTTP: signed slash commands in, response_url posts out."""

from __future__ import annotations

import json
import re
import time

from bot.core.loader import Loader
from tests.fakeslack import block_errors
from tests.helpers import write_article
from tests.listeners.conftest import NOW
from tests.slackhttp import sign


def all_text(response: dict) -> str:
    return json.dumps(response.get("blocks", []), ensure_ascii=False) + response.get("text", "")


def test_search_replies_privately_with_stories_and_buttons(bot):
    reply = bot.command("facial recognition")
    assert reply.status == 200
    (resp,) = bot.wait_responses(1)
    assert resp["response_type"] == "ephemeral"
    assert block_errors(resp["blocks"]) == []
    sections = [b for b in resp["blocks"] if b["type"] == "section" and "accessory" in b]
    assert len(sections) == 5
    for block in sections:
        assert block["accessory"]["action_id"] == "news_share"
        assert block["text"]["text"].startswith("*<https://")
    actions = [b for b in resp["blocks"] if b["type"] == "actions"][0]["elements"]
    assert [a["action_id"] for a in actions] == ["news_subscribe", "news_more"]
    assert actions[0]["value"] == "facial recognition"
    more = json.loads(actions[1]["value"])
    assert {k: more[k] for k in ("q", "o")} == {"q": "facial recognition", "o": 5}
    # the first page's moment, and the five articles shown (More never shows their stories)
    assert more["t"] == int(NOW.timestamp())
    assert more["s"] == [int(b["accessory"]["value"]) for b in sections]


def test_story_shown_once_with_other_outlet(bot):
    bot.command("facebook settle lawsuit")
    (resp,) = bot.wait_responses(1)
    texts = [
        b["text"]["text"] for b in resp["blocks"] if b["type"] == "section" and "accessory" in b
    ]
    facebook = [t for t in texts if "550" in t]
    assert len(facebook) == 1
    assert "_also: " in facebook[0]
    assert ("Forbes" in facebook[0]) and ("New York Times" in facebook[0])


def test_outlet_and_age_line(bot):
    bot.command("watchdog urges caution")
    (resp,) = bot.wait_responses(1)
    first = [b for b in resp["blocks"] if b["type"] == "section" and "accessory" in b][0]
    # the time is Slack's date token (shown in each reader's zone), of an article 8 days old
    date = r"<!date\^\d+\^\{date_short_pretty\} \{time\}\|Jan 2[89], 2020 \d\d:\d\d UTC>"
    assert re.search(rf"\nReuters · {date}\n", first["text"]["text"])


def test_more_button_gives_the_next_page(bot):
    bot.command("facial recognition")
    (first,) = bot.wait_responses(1)
    more = [b for b in first["blocks"] if b["type"] == "actions"][0]["elements"][1]
    assert bot.action("news_more", more["value"]).status == 200
    second = bot.wait_responses(2)[1]
    assert second["replace_original"] is True
    urls_1 = {b["accessory"]["value"] for b in first["blocks"] if "accessory" in b}
    urls_2 = {b["accessory"]["value"] for b in second["blocks"] if "accessory" in b}
    assert urls_2 and not urls_1 & urls_2
    assert "Stories 6–10" in all_text(second)


def test_more_never_shows_a_story_again_when_news_arrived_between_clicks(bot, tmp_path):
    """A fresh article on the query lands between the two clicks: ranked now, the first page's
    last story would slide down into the second page (More carried only an offset)."""
    bot.command("facial recognition")
    (first,) = bot.wait_responses(1)
    shown = {b["accessory"]["value"] for b in first["blocks"] if "accessory" in b}
    news = tmp_path / "late"
    write_article(
        news,
        "late.md",
        "Facial recognition reaches Oslo airport gates",
        "https://late.example/vote",
        when="2020-02-06T08:30:00Z",
        quality=200,
    )
    assert Loader(bot.store, lambda: NOW).load([news]).ok
    more = [b for b in first["blocks"] if b["type"] == "actions"][0]["elements"][1]
    assert bot.action("news_more", more["value"]).status == 200
    second = bot.wait_responses(2)[1]
    stories_1 = {bot.store.article(int(v))["story_id"] for v in shown}
    second_ids = [int(b["accessory"]["value"]) for b in second["blocks"] if "accessory" in b]
    assert second_ids
    assert not {bot.store.article(i)["story_id"] for i in second_ids} & stories_1


def test_a_more_button_without_a_moment_or_shown_articles_still_pages(bot):
    """Buttons posted before More carried them (or with them mangled) page by the offset."""
    for value in (
        {"q": "facial recognition", "o": 5},
        {"q": "facial recognition", "o": 5, "t": "soon", "s": ["x", -1, True, 2**70]},
    ):
        assert bot.action("news_more", json.dumps(value)).status == 200
    pages = bot.wait_responses(2)
    assert all("Stories 6–10" in all_text(p) for p in pages)


def test_empty_text_and_help_and_unknown_subcommand_get_help(bot):
    bot.command("")
    bot.command("help")
    bot.command("subscrib facial recognition")
    r = bot.wait_responses(3)
    assert all("/news subscribe" in all_text(x) for x in r)
    assert "did you mean" in all_text(r[2])


def test_wrong_time_unknown_zone_and_huge_topic_say_what_is_wrong(bot):
    bot.command("subscribe ai at 25:00")
    bot.command("subscribe ai tz Mars/Olympus")
    bot.command("subscribe " + "x" * 2000)
    r = bot.wait_responses(3)
    assert "not a time of day" in all_text(r[0])
    assert "not a time zone" in all_text(r[1])
    assert "limit is 200" in all_text(r[2]) or "at most" in all_text(r[2])
    assert bot.store.all_subscriptions() == []


def test_hostile_and_huge_command_text_never_fails(bot):
    hostile = [
        '"',
        "NEAR(",
        "AND OR NOT",
        "*",
        "-",
        "title:x",
        "🙂🙂",
        "'; DROP TABLE articles;--",
        "<!channel>",
        "a" * 1999,
        "\x00\x07",
        "facial" + " OR" * 500,
    ]
    for text in hostile:
        assert bot.command(text).status == 200
    r = bot.wait_responses(len(hostile))
    for resp in r:
        assert block_errors(resp["blocks"]) == []
    assert bot.store.count_articles() == 23


def test_ack_is_immediate_and_empty(bot):
    reply = bot.command("facial recognition")
    assert reply.status == 200 and reply.body == ""


def test_signature_missing_wrong_or_stale_gets_401_and_changes_nothing(bot):
    assert bot.command("subscribe ai", headers={}).status == 401
    bad = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=deadbeef"}
    assert bot.command("subscribe ai", headers=bad).status == 401
    from urllib.parse import urlencode

    body = urlencode(
        {
            "command": "/news",
            "text": "subscribe ai",
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": "U1",
            "response_url": bot.slack.response_url(),
        }
    )
    stale = sign(body, timestamp=int(time.time()) - 6 * 60)
    from tests.slackhttp import post

    assert post(bot.url, body, stale).status == 401
    wrong_secret = sign(body, secret="not-the-secret")
    assert post(bot.url, body, wrong_secret).status == 401
    assert bot.store.all_subscriptions() == []
    assert bot.slack.responses == []


def test_healthz(bot):
    import urllib.request

    with urllib.request.urlopen(bot.url.replace("/slack/events", "/healthz")) as resp:
        assert json.loads(resp.read()) == {"ok": True, "articles": 23}


def test_command_text_arrives_html_escaped_as_slack_sends_it(bot):
    # Slack sends "&", "<" and ">" in a slash command's text as entities: what was typed is
    # "U.S. News & World Report", "AT&T <b>" and "a &lt; b" (entities typed as such).
    muted = bot.ask("mute U.S. News &amp; World Report")
    assert "Muted U.S. News &amp; World Report (usnews.com)" in all_text(muted)
    assert bot.store.muted_domains("T1", "user", "U1") == {"usnews.com"}
    bot.ask("subscribe AT&amp;T &lt;b&gt;")
    bot.ask("subscribe a &amp;lt; b")
    assert [s["topic"] for s in bot.store.subscriptions("T1", "C1")] == ["AT&T <b>", "a &lt; b"]
    listing = bot.ask("list")
    assert "AT&amp;T &lt;b&gt;" in all_text(listing) and "a &amp;lt; b" in all_text(listing)


def test_a_large_search_page_size_keeps_the_count_and_the_more_button(tmp_path, slack):
    from bot.core.loader import Loader
    from tests.conftest import POWER_APPS
    from tests.listeners.conftest import NOW
    from tests.slackhttp import start_bot

    # the largest page_size the configuration allows (a larger one stops newsbot at start)
    bot = start_bot(tmp_path, slack, lambda: NOW, extra_env={"NEWSBOT_SEARCH_PAGE_SIZE": "23"})
    try:
        Loader(bot.store, lambda: NOW).load([POWER_APPS])
        first = bot.ask("power apps")
        assert block_errors(first["blocks"]) == []
        stories = [b for b in first["blocks"] if b["type"] == "section" and "accessory" in b]
        assert len(stories) == 23  # what fits in 50 blocks
        assert "Stories 1–23 of " in all_text(first)
        more = [
            e
            for b in first["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == "news_more"
        ]
        assert json.loads(more[0]["value"])["o"] == 23
    finally:
        bot.close()


def test_more_buttons_with_random_moments_and_shown_lists_never_fail(bot):
    """Forged or mangled "t" and "s" (numbers out of range, NaN, nesting, huge lists): every
    click gets a page or the polite expired note, and the bot keeps answering."""
    import random

    rng = random.Random(12)
    junk = [None, True, "x", -1, 0, 2**70, 1.5e308, float("nan"), [], {}, [[1]], "1e3"]
    values = []
    for _ in range(40):
        t = rng.choice(junk + [int(NOW.timestamp()) + rng.randint(-(10**6), 10**6)])
        s = rng.choice(
            [rng.sample(range(1, 10**13), rng.randint(0, 700)), [rng.choice(junk)] * 3, "1,2"]
        )
        values.append(
            json.dumps({"q": "facial recognition", "o": rng.randint(0, 30), "t": t, "s": s})
        )
    for value in values:
        assert bot.action("news_more", value).status == 200
    answers = bot.wait_responses(len(values))
    assert all(
        any(w in all_text(a) for w in ("Stories ", "Story ", "1 story"))
        or "No more stories" in all_text(a)
        or "expired" in all_text(a)
        for a in answers
    )
