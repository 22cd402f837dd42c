"""A paused subscription in words (``/news list`` in Slack and on a terminal, the Home tab):
every reason the digest runner stores, with its day, never a bare code; the Home tab's Resume
buttons, its follows' real digest time, and a notice naming the channel it changed."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from bot.core.answers import HomeAnswer, ListAnswer, SettingsAnswer
from bot.digests.posting import CHANNEL_GONE
from bot.render.blocks import render
from bot.render.common import pause_words, subscription_line, subscription_mrkdwn
from bot.render.home import HOME_RESUME, MAX_PAUSED_SHOWN, RESUME_DM, home_view, notice_mrkdwn
from bot.render.text import render as render_text
from tests.fakeslack import MAX_BLOCKS_VIEW, block_errors

PAUSED_AT = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
TOKEN = f"<!date^{int(PAUSED_AT.timestamp())}^{{date_short}}|3 Dec 2026>"


def sub(reason: str | None, **extra) -> dict:
    return {
        "topic": "ai",
        "hour": 8,
        "minute": 0,
        "tz": "UTC",
        "kind": "channel",
        "channel_id": "C1",
        "paused_reason": reason,
        "paused_at": PAUSED_AT.isoformat() if reason else None,
        **extra,
    }


def test_removed_from_the_channel_reads_as_the_issue_asks():
    assert pause_words(sub("not_in_channel")) == (
        "paused: newsbot was removed from this channel on 3 Dec 2026; "
        "`/invite @newsbot`, then `/news resume`"
    )


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("channel_not_found", "newsbot could no longer find this channel on 3 Dec 2026"),
        ("is_archived", "this channel was archived on 3 Dec 2026; unarchive it, then"),
        ("account_inactive", "newsbot's Slack account was deactivated on 3 Dec 2026"),
        ("unknown time zone 'Mars/Base'", "its time zone Mars/Base is not one I know"),
        ("ekm_access_denied", "paused after Slack refused a post (ekm_access_denied) on 3 Dec"),
    ],
)
def test_every_reason_is_words_with_its_day_and_what_to_do(reason, words):
    line = pause_words(sub(reason))
    assert words in line and "`/news resume`" in line


def test_every_code_the_runner_pauses_for_has_its_own_words():
    for code in CHANNEL_GONE:
        line = pause_words(sub(code))
        assert code not in line and "refused" not in line, line


def test_a_reason_that_is_no_code_is_not_shown_as_it_is():
    line = pause_words(sub("<!channel> *boom*"))
    assert "<!channel>" not in line and "boom" not in line
    assert line.startswith("paused after Slack refused a post (unknown) on 3 Dec 2026")


def test_a_pause_without_its_day_still_reads_well():
    assert pause_words({**sub("not_in_channel"), "paused_at": None}) == (
        "paused: newsbot was removed from this channel; `/invite @newsbot`, then `/news resume`"
    )


def test_in_a_dm_it_is_your_dm():
    line = pause_words(sub("not_in_channel", kind="dm"))
    assert "from your DM on" in line and " dm " not in line


def test_block_kit_gives_the_day_as_slacks_date_token_the_terminal_a_date():
    paused = sub("not_in_channel")
    mrkdwn = subscription_mrkdwn(paused, 2990)
    assert f"removed from this channel on {TOKEN}; `/invite @newsbot`" in mrkdwn
    assert "on 3 Dec 2026;" in subscription_line(paused) and "<!date" not in subscription_line(
        paused
    )
    listing = ListAnswer([paused], "this channel")
    _, blocks = render(listing, PAUSED_AT)
    assert TOKEN in json.dumps(blocks, ensure_ascii=False)
    text = render_text(listing, PAUSED_AT)
    assert "removed from this channel on 3 Dec 2026" in text and "not_in_channel" not in text


def test_a_hostile_topic_stays_inert_beside_the_date_token():
    mrkdwn = subscription_mrkdwn(sub("is_archived", topic="<!here> <#C9|x>"), 2990)
    assert "<!here>" not in mrkdwn and "<#C9" not in mrkdwn
    assert mrkdwn.count("<") == 1 and TOKEN in mrkdwn


# -- the Home tab ----------------------------------------------------------------------------------


def settings(schedule: str | None = "21:10 (Europe/London)", skip: bool = False) -> SettingsAnswer:
    return SettingsAnswer("your DM", True, 5, skip, schedule, [])


def home(follows=(), channel_subs=(), schedule="21:10 (Europe/London)", skip=False) -> HomeAnswer:
    return HomeAnswer(
        list(follows), len(follows), 0, 1, settings(schedule, skip), list(channel_subs)
    )


def blocks_text(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_the_follows_say_their_real_digest_time_not_each_morning():
    follow = sub(None, kind="dm", hour=21, minute=10, tz="Europe/London")
    text = blocks_text(home_view(home([follow])))
    assert "one DM digest of them every day at 21:10 (Europe/London)" in text
    assert "morning" not in text
    weekdays = blocks_text(home_view(home([follow], skip=True)))
    assert "on weekdays at 21:10 (Europe/London)" in weekdays
    empty = blocks_text(home_view(home(schedule="08:00 (UTC)")))
    assert "*Your follows* (0) — `/news follow &lt;topic&gt;` sends you a DM digest of it" in empty


def test_a_paused_channel_has_resume_and_says_why_since_when():
    view = home_view(home(channel_subs=[sub("not_in_channel")]))
    (resume,) = [
        b for b in view["blocks"] if b.get("accessory", {}).get("action_id") == HOME_RESUME
    ]
    assert resume["text"]["text"] == (
        f"<#C1> is paused: newsbot was removed from it on {TOKEN}; "
        "`/invite @newsbot`, then `/news resume`"
    )
    assert json.loads(resume["accessory"]["value"]) == {"c": "C1"}
    assert "not_in_channel" not in blocks_text(view)
    assert block_errors(view["blocks"], MAX_BLOCKS_VIEW) == []


def test_a_running_channel_has_no_resume():
    view = home_view(home(channel_subs=[sub(None)]))
    assert HOME_RESUME not in blocks_text(view)


def test_a_paused_dm_digest_has_resume():
    follow = sub("account_inactive", kind="dm")
    view = home_view(home([follow]))
    (resume,) = [
        b for b in view["blocks"] if b.get("accessory", {}).get("action_id") == HOME_RESUME
    ]
    assert resume["accessory"]["value"] == RESUME_DM
    assert resume["text"]["text"].startswith("Your DM digest is paused: newsbot's Slack account")


def test_many_paused_channels_fit_the_view():
    subs = [sub("not_in_channel", channel_id=f"C{i:02d}", topic=f"t{i}") for i in range(20)]
    follows = [sub("not_in_channel", kind="dm", topic=f"f{i}") for i in range(20)]
    answer = HomeAnswer(follows, 45, 0, 3, settings(), subs, [sub("is_archived", channel_id="CX")])
    view = home_view(answer, "x" * 3000)
    assert block_errors(view["blocks"], MAX_BLOCKS_VIEW) == []
    buttons = re.findall(HOME_RESUME, blocks_text(view))
    assert len(buttons) == MAX_PAUSED_SHOWN + 1  # the first channels and the DM
    assert "Also paused: <#C05>" in blocks_text(view) and "<#CX>" in blocks_text(view)


def test_a_notice_keeps_the_channel_it_names_a_link_and_nothing_else():
    assert notice_mrkdwn("Unsubscribed <#C3> from *<!here>*.", ("<#C3>",)) == (
        "Unsubscribed <#C3> from *&lt;!here&gt;*."
    )
    assert notice_mrkdwn("Unsubscribed <#C3> from *x*.") == "Unsubscribed &lt;#C3&gt; from *x*."
    # only a channel mention is let through, however it was asked
    assert "<!channel>" not in notice_mrkdwn("hi <!channel>", ("<!channel>",))
