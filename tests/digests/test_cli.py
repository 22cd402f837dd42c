"""``newsbot digest`` (bot/digests/cli.py) says every outcome in words, never the runner's
codes ("not_due", "empty", "dry_run"); a dry run of a skipped weekend says skipped, an empty
one says why."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
from types import SimpleNamespace

import pytest

from bot.core.digest import Digest, DigestSettings, TopicSection
from bot.digests.cli import cmd_digest, outcome_text
from bot.digests.runner import RunResult
from storage.store import Store
from tests.digests.conftest import TEAM, add_article, subscribe

UTC = dt.UTC
DUE = dt.datetime(2024, 5, 2, 8, 0, tzinfo=UTC)  # a Thursday
# A runner's code alone; a Slack error code may follow its words, "(Slack: not_in_channel)"
CODES = re.compile(
    r"(?<!Slack: )\b(not_due|no_subscriptions|dry_run|not_in_channel|channel_not_found)\b"
    r"|: (posted|adopted|empty|paused|failed|skipped|busy|retry|finished|error)$"
)


def run(store: Store, at: dt.datetime, *, channel: str | None = "C1", token=None, fake=None):
    args = argparse.Namespace(channel=channel, at=at.isoformat(), dry_run=token is None)
    config = SimpleNamespace(
        slack_bot_token=token,
        slack_api_url=fake.base_url if fake else None,
        digest=SimpleNamespace(**DigestSettings().__dict__),
    )
    out, err = io.StringIO(), io.StringIO()
    code = cmd_digest(args, store, lambda: at, config, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_subscribed_after_the_time_says_so_and_when_the_first_digest_is(fresh_db: Store):
    subscribe(fresh_db, "C1", "solar", at=DUE + dt.timedelta(hours=5))
    code, out, _ = run(fresh_db, DUE)
    assert code == 0
    assert out.strip() == (
        "C1, digest of Thu 2 May 2024 (08:00 UTC): no digest for that date: its topics were "
        "subscribed after that time (first on Thu 2 May 2024 13:00 UTC); its first digest is "
        "Fri 3 May 2024 08:00 UTC."
    )
    assert "not_due" not in out


def test_a_dry_run_of_a_skipped_weekend_says_skipped(fresh_db: Store):
    subscribe(fresh_db, "C1", "solar")
    add_article(fresh_db, "Solar on Saturday", dt.datetime(2024, 5, 4, 7, 0, tzinfo=UTC))
    fresh_db.set_channel_settings(TEAM, "C1", DUE, skip_weekends=True)
    _, out, _ = run(fresh_db, dt.datetime(2024, 5, 4, 8, 0, tzinfo=UTC))
    assert "Skipped: no digest on Saturdays here, weekends are skipped" in out
    assert "Nothing new" not in out and "No other news" not in out


def test_an_empty_dry_run_says_why(fresh_db: Store):
    subscribe(fresh_db, "C1", "solar")
    add_article(fresh_db, "Solar long ago", DUE - dt.timedelta(days=10))
    _, out, _ = run(fresh_db, DUE)
    assert "for this one: from Tue 30 Apr 2024 20:00 UTC to Thu 2 May 2024 08:00 UTC" in out
    assert "Nothing new on *solar*: its newest story is from 22 Apr 2024, 10 days ago." in out
    assert "So nothing is posted for this date" in out
    assert "nothing new: no post unless" not in out


def test_nothing_due_in_words(fresh_db: Store):
    subscribe(fresh_db, "C1", "solar")
    _, out, _ = run(fresh_db, DUE + dt.timedelta(hours=5), channel=None)
    assert out.strip().startswith("No digest is due at Thu 2 May 2024 13:00 UTC: none has")
    assert "+00:00" not in out


def test_a_posted_and_then_a_finished_digest_in_words(fresh_db: Store, fake):
    subscribe(fresh_db, "C1", "solar")
    add_article(fresh_db, "Solar farm opens", DUE - dt.timedelta(hours=2))
    code, out, _ = run(fresh_db, DUE + dt.timedelta(minutes=1), token=fake.bot_token, fake=fake)
    assert code == 0 and out.startswith("C1, digest of Thu 2 May 2024 (08:00 UTC): posted")
    _, again, _ = run(fresh_db, DUE + dt.timedelta(minutes=2), token=fake.bot_token, fake=fake)
    assert "already done for that date, not run again" in again


def result(status: str, **values) -> RunResult:
    return RunResult(TEAM, "C1", status, DUE.date(), DUE, **values)


SATURDAY = Digest("T1", "C1", dt.date(2024, 5, 4), DUE, "UTC", [TopicSection("a", "a")], True)
RETRY_AT = DUE + dt.timedelta(minutes=3)


@pytest.mark.parametrize(
    ("outcome", "said"),
    [
        (result("posted", message_ts="1.2"), "posted (message ts 1.2)."),
        (result("adopted", message_ts="1.2"), "already in Slack (message ts 1.2): a post whose"),
        (result("empty"), "nothing new on its topics in the 36 hours before it, so nothing"),
        (result("empty", digest=SATURDAY), "skipped: weekends are skipped here"),
        (result("finished"), "already done for that date, not run again."),
        (result("not_due"), "no digest was due then: its topics were subscribed after"),
        (RunResult(TEAM, "C1", "no_subscriptions"), "C1: nothing is subscribed there any more."),
        (result("paused", error="not_in_channel"), "newsbot is not in the channel (`/invite"),
        (result("skipped", error="missed: due 08:00"), "skipped: missed: due 08:00."),
        (result("busy", retry_at=RETRY_AT), "holds it until Thu 2 May 2024 08:03:00 UTC."),
        (result("busy"), "another newsbot process is making this digest."),
        (result("retry", error="Slack answered 500", retry_at=RETRY_AT), "trying again at Thu"),
        (result("failed", error="channel_not_found"), "Slack knows no such channel"),
        (result("error", error="ValueError: x"), "failed unexpectedly: ValueError: x."),
    ],
)
def test_every_outcome_in_words(fresh_db: Store, outcome: RunResult, said: str):
    line = outcome_text(outcome, fresh_db, DigestSettings())
    assert said in line
    assert not CODES.search(line), line
    if outcome.local_date:
        assert line.startswith("C1, digest of Thu 2 May 2024 (08:00 UTC): ")
