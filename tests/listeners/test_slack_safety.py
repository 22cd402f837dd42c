"""Article text can never ping, link or break a message."""

from __future__ import annotations

import json
import re

from bot.core.loader import Loader
from tests.fakeslack import block_errors
from tests.listeners.conftest import NOW

HOSTILE = """---
title: "Alert <!channel> <!here> <@U123> see <https://evil.example|your bank> & more zzyzx"
excerpt: "<!everyone> click <http://evil.example/?a=1&b=2|here> now <@U999|boss> &amp; zzyzx"
publishedDateTime: 2020-02-05T10:00:00Z
webUrl: "https://news.example/a?x=1&y=<2>"
provider:
  name: "Evil <@U1> Times"
  domain: evil.example
topics: [zzyzx]
---
"""

LONG = """---
title: "{title}"
excerpt: "{excerpt}"
publishedDateTime: 2020-02-05T11:00:00Z
webUrl: "https://news.example/long"
provider: {{name: Long Post, domain: long.example}}
---
"""

# Slack's control sequences: <!...>, <@...>, <#...>, <url|label>. None may survive from articles.
CONTROL = re.compile(r"<[!@#]|<https?://")
# ... but the bot's own date token for an article's time (bot.render.kit.slack_date)
DATE = re.compile(r"<!date\^\d+\^\{date_short_pretty\} \{time\}\|[A-Za-z0-9 ,:]+>")


def section_texts(blocks):
    out = []
    for b in blocks:
        if b["type"] == "section":
            out.append(b["text"]["text"])
        if b["type"] == "context":
            out += [e["text"] for e in b["elements"]]
    return out


def test_mentions_and_links_in_articles_are_escaped(bot, tmp_path):
    path = tmp_path / "hostile.md"
    path.write_text(HOSTILE, encoding="utf-8")
    Loader(bot.store, lambda: NOW).load([path])
    bot.command("zzyzx")
    (resp,) = bot.wait_responses(1)
    assert block_errors(resp["blocks"]) == []
    story = [b for b in resp["blocks"] if b["type"] == "section" and "accessory" in b][0]
    text = story["text"]["text"]
    # exactly one real link: the headline's, to the article's own address
    assert len(re.findall(r"<https?://", text)) == 1
    assert text.startswith("*<https://news.example/a?x=1&y=%3C2%3E|")
    body = text.split("|", 1)[1]
    assert not CONTROL.search(DATE.sub("", body)), body
    assert "&lt;!channel&gt;" in body and "&lt;@U123&gt;" in body and "&amp;" in body
    assert not CONTROL.search(resp["text"])


def test_shared_story_is_escaped_too(bot, tmp_path):
    path = tmp_path / "hostile.md"
    path.write_text(HOSTILE, encoding="utf-8")
    Loader(bot.store, lambda: NOW).load([path])
    article = bot.store._rows("SELECT id FROM articles WHERE domain = 'evil.example'")[0]
    bot.action("news_share", str(article["id"]), channel="C5")
    assert bot.slack.wait_for(lambda: bot.slack.posts("C5"))
    (post,) = bot.slack.posts("C5")
    texts = section_texts(post["blocks"])
    assert not CONTROL.search(DATE.sub("", texts[0].split("|", 1)[1]))
    assert not CONTROL.search(post["text"])
    assert texts[-1] == "Shared by <@U1>"


def test_long_headlines_and_excerpts_are_cut_cleanly(bot, tmp_path):
    title = ("Very long headline about the zzlong affair " * 30).strip()
    excerpt = ("An excerpt with ampersands & angles <b> about zzlong. " * 200).strip()
    path = tmp_path / "long.md"
    path.write_text(LONG.format(title=title, excerpt=excerpt), encoding="utf-8")
    Loader(bot.store, lambda: NOW).load([path])
    bot.command("zzlong")
    (resp,) = bot.wait_responses(1)
    assert block_errors(resp["blocks"]) == []
    story = [b for b in resp["blocks"] if b["type"] == "section" and "accessory" in b][0]
    text = story["text"]["text"]
    assert "…" in text
    assert not re.search(r"&[a-z]*…", text)  # never cut inside an entity
    assert len(text) <= 3000
    # the subscribe button label is cut to Slack's 75 characters
    bot.command("zzlong " + "affair headline " * 8)
    r = bot.wait_responses(2)
    buttons = [e for b in r[1]["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons and all(len(e["text"]["text"]) <= 75 for e in buttons)


def test_json_safe_values(bot):
    bot.command('quote " and \\ backslash facial')
    (resp,) = bot.wait_responses(1)
    buttons = [e for b in resp["blocks"] if b["type"] == "actions" for e in b["elements"]]
    more = [e for e in buttons if e["action_id"] == "news_more"]
    if more:
        assert json.loads(more[0]["value"])["q"] == 'quote " and \\ backslash facial'


OUTLET = """---
title: "A zzoutlet story"
excerpt: "The zzoutlet excerpt."
publishedDateTime: 2020-02-05T11:00:00Z
webUrl: "https://news.example/outlet"
provider: {{name: "{name}", domain: long.example}}
---
"""


def test_a_huge_outlet_name_leaves_the_age_and_excerpt_in_place(bot, tmp_path):
    path = tmp_path / "outlet.md"
    path.write_text(OUTLET.format(name="Big & Loud Outlet " * 200), encoding="utf-8")
    Loader(bot.store, lambda: NOW).load([path])
    r = bot.ask("zzoutlet")
    assert block_errors(r["blocks"]) == []
    story = [b for b in r["blocks"] if b["type"] == "section" and "accessory" in b][0]
    title, outlet, excerpt = story["text"]["text"].split("\n")
    assert outlet.startswith("Big &amp; Loud Outlet")
    assert outlet.endswith(
        "… · <!date^1580900400^{date_short_pretty} {time}|Feb 5, 2020 11:00 UTC>"
    )
    assert excerpt == "The zzoutlet excerpt."


def test_topics_with_markup_characters_never_garble_the_message(bot):
    topic = "*bold* _it_ `code ~x"
    r = bot.ask(f"subscribe {topic}")
    assert r["blocks"][0]["text"]["text"] == (
        f"Subscribed this channel to {topic}: a digest every day at 08:00 (Europe/London). "
        f"/news unsubscribe {topic} stops it."
    )
    assert "**" not in r["text"] and "`/news" not in r["text"]
    plain = bot.ask("subscribe plain words")  # an ordinary topic keeps its bold and code
    assert "*plain words*" in plain["text"] and "`/news unsubscribe plain words`" in plain["text"]
    bot.ask(f"follow {topic}")
    bot.event({"type": "app_home_opened", "user": "U1", "channel": "D77", "tab": "home"})
    texts = section_texts(bot.wait_home("U1", 1)["blocks"])
    assert f"• {topic} · 08:00 (Europe/London)" in texts
    assert f"• <#C1> {topic} · 08:00 (Europe/London)" in texts
    r = bot.ask(f"unfollow {topic}")
    assert r["text"] == f"No longer following {topic}. /news follow {topic} undoes it."
