"""Every message a person sees in a session, swept (issue 14, item 4: "no '1 stories', no raw
codes, no 'dm'"): a scripted session of the /news language in a channel, a DM and the shell,
with subscriptions paused for each reason the runner stores, rendered by both renderers (Block
Kit and the terminal); each answer's words are checked against the slips people met."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from bot.core.loader import Loader
from bot.core.service import Context
from bot.render import blocks as block_render
from bot.render import text as text_render
from tests.conftest import SEED
from tests.core.service.conftest import TEAM, channel, dm

CODES = (
    "not_in_channel",
    "channel_not_found",
    "is_archived",
    "account_inactive",
    "not_due",
    "post_when_empty",  # the setting may be named in code marks, never as the only words
)
SLIPS = [
    (re.compile(r"\b1 (stories|subscriptions|articles|outlets|topics|follows)\b"), "1 + plural"),
    (
        re.compile(r"\b(?:[02-9]|\d\d+) (story|subscription|article|outlet|topic|follow)\b"),
        "n + one",
    ),
    (re.compile(r"(?<![`/\w-])dm(?![`\w-])"), "lower-case 'dm' as a word"),
    (re.compile(r"\bYour dm\b|\bThis Channel\b"), "capitalisation"),
    (re.compile(r"¦"), "a headline's | shown as ¦"),
]
SESSION = [
    "facial recognition",
    "subscribe facial recognition at 08:00",
    "subscribe facebook at 21:10",
    "subscribe facebook",
    "list",
    "preview",
    "resume",
    "resume facebook",
    "unsubscribe facebook",
    "unsubscribe nothing-here",
    "follow facial recognition at 21:10",
    "follow facial recognition",
    "unfollow nothing-here",
    "settings",
    "settings items 1",
    "mute Forbes",
    "mute Forbes",
    "unmute Forbes",
    "help",
    "sources",
    "zzzzqqq",
    "resume nothing-here",
]


def words(rendered: tuple[str, list] | str) -> str:
    if isinstance(rendered, str):
        return rendered
    fallback, blocks = rendered
    return fallback + "\n" + json.dumps(blocks, ensure_ascii=False)


def strip_code(text: str) -> str:
    """What is inside `code marks` is a command or a setting to type, not a sentence."""
    return re.sub(r"`[^`\n]*`", "`…`", text)


def check(text: str, where: str) -> list[str]:
    out = []
    plain = strip_code(text)
    for pattern, name in SLIPS:
        if pattern.search(plain):
            out.append(f"{where}: {name}: {pattern.search(plain).group()!r} in {plain[:300]!r}")
    for code in CODES:
        if re.search(rf"(?<![`\w.]){code}(?![`\w])", plain):
            out.append(f"{where}: raw code {code!r} in {plain[:300]!r}")
    return out


@pytest.mark.parametrize(
    "reason", ["not_in_channel", "channel_not_found", "is_archived", "account_inactive"]
)
def test_a_whole_session_has_no_slip(make_service, fresh_db, clock, reason):
    Loader(fresh_db, clock).load([SEED])
    service = make_service()
    now = clock()
    problems: list[str] = []
    places = {"channel": channel(), "dm": dm(), "shell": Context()}
    for name, ctx in places.items():
        for i, line in enumerate(SESSION):
            if i == 3:  # after the first subscriptions: Slack refused a post here
                key = ctx.channel_key
                fresh_db.pause_channel(ctx.team_id, key, reason, now - dt.timedelta(days=2))
            answer = service.handle_text(line, ctx)
            problems += check(words(block_render.render(answer, now)), f"{name} {line!r} blocks")
            problems += check(words(text_render.render(answer, now)), f"{name} {line!r} text")
    assert not problems, "\n".join(problems)
    assert fresh_db.subscriptions(TEAM, "C1")  # the session did subscribe (the sweep saw them)
