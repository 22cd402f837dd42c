"""What an empty preview or digest says (issue 14, item 4), on a terminal and in Slack: the
window as it is computed, each quiet topic's newest story and its age, whether a post is made
(for the reader, and the setting for the operator), whether a digest was ever sent here, and
on the bundled sample, the command that shows a full digest of it. Never "since the last
digest" before there was one; a skipped weekend says so."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest

from bot.core.answers import PreviewAnswer
from bot.core.digest import Digest, DigestEntry, EmptyFacts, TopicSection, preview_digest
from bot.core.loader import Loader
from bot.render import blocks as block_render
from bot.render import text as text_render
from bot.render.digest_blocks import digest_message
from storage.store import Store
from tests.fakeslack import block_errors

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
OLD = int(dt.datetime(2020, 2, 6, 0, 26, tzinfo=UTC).timestamp())
ENTRY = DigestEntry(
    1, 1.0, {"id": 1, "title": "Solar", "web_url": "https://a.example/1", "provider": "AP"}
)


def facts(**changes) -> EmptyFacts:
    values = {
        "window_start": NOW - dt.timedelta(hours=36),
        "window_end": NOW,
        "window_hours": 36.0,
        "next_due": dt.datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
        "ever_sent": False,
        "post_when_empty": False,
        "newest": {"facial recognition": OLD},
    }
    values.update(changes)
    return EmptyFacts(**values)


def digest(*sections: TopicSection, quiet_day: bool = False, **changes) -> Digest:
    sections = sections or (TopicSection("facial recognition", "facial recognition"),)
    day = dt.date(2026, 11, 27)
    return Digest("T1", "C1", day, NOW, "UTC", list(sections), quiet_day, facts(**changes))


def both(d: Digest) -> tuple[str, str]:
    """The preview on a terminal, and as Slack's blocks (checked against Block Kit)."""
    terminal = text_render.render(PreviewAnswer(d, "this channel"), NOW)
    _, blocks = block_render.render(PreviewAnswer(d, "this channel"), NOW)
    assert block_errors(blocks) == []
    return terminal, str(blocks)


def test_an_empty_preview_says_what_is_true_and_what_to_do():
    for said in both(digest()):
        assert "the stories published in the 36 hours before it" in said
        assert "that were not sent here already" in said
        assert "its newest story is from 6 Feb 2020, 6 years ago" in said
        assert "no post tomorrow at 08:00 UTC" in said
        assert "digest.post_when_empty: false" in said
        assert "No digest has been posted here yet." in said
        assert "since the last digest" not in said
        assert "No other news" not in said and "unless digest.post_when_empty" not in said
    terminal, blocks = both(digest())
    assert "(for a digest now: since Wed 25 Nov 2026 00:00 UTC)" in terminal
    start = int((NOW - dt.timedelta(hours=36)).timestamp())
    assert f"<!date^{start}^" in blocks  # Slack: each reader's own zone


def test_after_a_first_digest_it_does_not_say_none_was_posted():
    for said in both(digest(ever_sent=True)):
        assert "No digest has been posted here yet." not in said


def test_when_empty_digests_are_posted_it_says_so():
    for said in both(digest(post_when_empty=True)):
        assert "An empty digest is posted all the same: tomorrow at 08:00 UTC" in said
        assert "digest.post_when_empty: true" in said


def test_the_day_after_tomorrow_is_named():
    monday = dt.datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    for said in both(digest(next_due=monday)):
        assert "no post on Monday 30 November at 08:00 UTC" in said


@pytest.mark.parametrize(
    ("newest", "said"),
    [
        (None, "No story on *facial recognition* at all yet."),
        (
            int((NOW - dt.timedelta(hours=2)).timestamp()),
            "its stories of that time were sent here already",
        ),
    ],
)
def test_each_quiet_topic_says_why(newest, said):
    for out in both(digest(newest={"facial recognition": newest})):
        assert said in out


def test_a_quiet_topic_beside_a_full_one():
    d = digest(TopicSection("solar", "solar", [ENTRY]), TopicSection("facial recognition", "fr"))
    d.facts.newest = {"fr": OLD}  # type: ignore[union-attr]
    terminal, blocks = both(d)
    for said in (terminal, blocks):
        assert "Nothing new on *facial recognition*: its newest story is from 6 Feb 2020" in said
        assert "No digest has been posted" not in said  # the digest is not empty


def test_a_skipped_weekend_says_skipped_not_nothing_new():
    saturday = Digest(
        "T1", "C1", dt.date(2026, 11, 28), NOW, "UTC", [TopicSection("solar", "solar")], True
    )
    terminal = text_render.digest_text(saturday)
    blocks = str(digest_message(saturday).blocks)
    for said in (terminal, blocks):
        assert "Skipped: no digest on Saturdays here, weekends are skipped" in said
        assert "/news settings weekends send" in said
        assert "Nothing new" not in said and "No other news" not in said


def test_an_empty_digest_posted_anyway_never_says_since_the_last_digest():
    posted = Digest("T1", "C1", dt.date(2026, 11, 27), NOW, "UTC", [TopicSection("wind", "wind")])
    said = str(digest_message(posted).blocks)
    assert "Nothing new on *wind* for this digest." in said
    assert "since the last digest" not in said


@pytest.fixture
def sample(fresh_db: Store) -> Store:
    with resources.as_file(resources.files("bot.sample").joinpath("seed.txt")) as path:
        Loader(fresh_db).load([path])
    fresh_db.subscribe(
        "T1", "C1", "facial recognition", user_id="U1", hour=8, minute=0, tz="UTC", now=NOW
    )
    return fresh_db


def test_the_newcomers_first_preview_on_the_sample(sample: Store):
    """The README's first command's preview: no dead end."""
    d = preview_digest(sample, "T1", "C1", NOW)
    for said in both(d):
        assert "its newest story is from 6 Feb 2020, 6 years ago" in said
        assert "This database holds only newsbot's bundled sample: 23 articles" in said
        assert "from 26 Jan to 6 Feb 2020" in said
        assert "`newsbot shell --at 2020-02-05T08:00`" in said
        assert "`/news preview`" in said
        assert "No other news" not in said and "nothing new: no post unless" not in said


def test_at_the_suggested_morning_the_preview_is_full(sample: Store):
    d = preview_digest(sample, "T1", "C1", dt.datetime(2020, 2, 5, 8, 0, tzinfo=UTC))
    terminal, blocks = both(d)
    assert terminal.count("\n1. ") == 1 and "\n5. " in terminal
    for said in (terminal, blocks):
        assert "newsbot shell --at" not in said and "Nothing new" not in said
