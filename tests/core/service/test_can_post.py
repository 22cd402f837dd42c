"""Can the bot post here? The service's side of the check (``Context.can_post``, answered by
the Slack layer, stubbed here): subscribe, follow and resume ask first, store nothing when the
answer is no, and say how to fix it; ``/news resume`` alone resumes the whole conversation and
the scheduler follows. The Slack side, over HTTP: tests/listeners/test_membership.py."""

from __future__ import annotations

import pytest

from bot.core.service import Context
from bot.core.service.base import PostCheck
from bot.digests.scheduler import DigestScheduler
from tests.conftest import NOW
from tests.core.service.conftest import channel, dm


class Asked(list):
    """A ``can_post`` stub: answers ``status`` (or raises ``raises``) and records who asked."""

    def __init__(self, status: str = "member", raises: Exception | None = None, name: str = ""):
        super().__init__()
        self.status, self.raises, self.name = status, raises, name

    def __call__(self, ctx: Context) -> PostCheck:
        self.append((ctx.channel_id, ctx.is_dm))
        if self.raises is not None:
            raise self.raises
        return PostCheck(self.status, bot_name=self.name or "newsbot")  # type: ignore[arg-type]


def asking(check: Asked, **kwargs) -> Context:
    ctx = channel(**kwargs)
    ctx.can_post = check
    return ctx


def test_a_channel_the_bot_is_not_in_is_refused_with_how_to_invite_it(service, changes):
    check = Asked("not_member", name="newsie")
    answer = service.handle_text("subscribe facial recognition", asking(check))
    assert not answer.ok
    assert answer.text == (
        "I can't post in this channel yet: invite me with `/invite @newsie`, then "
        "`/news subscribe facial recognition` again. Nothing changed."
    )
    assert service.store.all_subscriptions() == [] and changes == []
    assert check == [("C1", False)]


def test_a_channel_it_joined_is_subscribed_and_the_answer_says_so(service, changes):
    answer = service.handle_text("subscribe ai", asking(Asked("joined")))
    assert answer.ok and answer.text.startswith("Subscribed this channel to *ai*")
    assert "I joined this channel to post its digest there." in answer.text
    assert [s["topic"] for s in service.store.subscriptions("T1", "C1")] == ["ai"]
    assert changes == [("T1", "C1")]


def test_a_member_subscribes_without_a_word_about_it(service):
    answer = service.handle_text("subscribe ai", asking(Asked("member")))
    assert answer.ok and "joined" not in answer.text and "invite" not in answer.text


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("archived", "This channel is archived, so I can't post in it. Nothing changed."),
        (
            "unanswered",
            "Slack did not answer whether I can post in this channel, so nothing changed. "
            "Please try again in a moment.",
        ),
        ("no_permission", "newsbot's Slack app lacks a permission it needs, so nothing changed"),
    ],
)
def test_every_refusal_says_why_in_words_and_stores_nothing(service, changes, status, words):
    answer = service.handle_text("subscribe ai", asking(Asked(status)))
    assert not answer.ok and words in answer.text
    assert service.store.all_subscriptions() == [] and changes == []


def test_a_check_that_raises_is_a_polite_no(service, changes):
    answer = service.handle_text("subscribe ai", asking(Asked(raises=RuntimeError("boom"))))
    assert not answer.ok and answer.text.startswith("Slack did not answer whether I can post")
    assert service.store.all_subscriptions() == [] and changes == []


def test_a_bad_time_is_refused_before_anyone_asks_slack(service):
    check = Asked("member")
    assert not service.handle_text("subscribe ai at 25:00", asking(check)).ok
    assert check == []


def test_the_shell_has_no_check(service):
    assert channel().can_post is None
    assert service.handle_text("subscribe ai", channel()).ok


def test_a_follow_asks_about_the_users_dm_not_the_channel(service):
    check = Asked("member")
    answer = service.handle_text("follow ai", asking(check, user_tz="Europe/Paris"))
    assert answer.ok and check == [("C1", True)]  # is_dm: the DM digest's conversation
    refused = service.handle_text("follow robots", asking(Asked("unanswered")))
    assert not refused.ok
    assert [s["topic"] for s in service.store.subscriptions("T1", "U1")] == ["ai"]


# -- the DM's words ------------------------------------------------------------------------------


def test_your_dm_was_already_subscribed_reads_as_words(service):
    service.handle_text("subscribe ai", dm())
    again = service.handle_text("subscribe ai", dm())
    assert again.text.startswith("Your DM was already subscribed to *ai*")
    assert "dm " not in again.text


def test_your_dm_is_not_subscribed_reads_as_words(service):
    answer = service.handle_text("unsubscribe ai", dm())
    assert answer.text.startswith("Your DM is not subscribed to *ai*.")


def test_a_named_channel_starts_a_sentence_as_it_is(service):
    service.store.subscribe("T1", "C7", "ai", user_id="U1", hour=8, minute=0, tz="UTC", now=NOW)
    named = channel(channel_id="C7", named="<#C7>")
    assert service.handle_text("unsubscribe ai", named).text == "Unsubscribed <#C7> from *ai*."
    assert service.handle_text("unsubscribe ai", named).text.startswith("<#C7> is not subscribed")


# -- /news resume ----------------------------------------------------------------------------------


def paused_channel(store, *topics: str, channel_id: str = "C1") -> None:
    for topic in topics:
        store.subscribe("T1", channel_id, topic, user_id="U1", hour=8, minute=0, tz="UTC", now=NOW)
    store.pause_channel("T1", channel_id, "not_in_channel", NOW)


def test_resume_alone_resumes_every_paused_subscription_of_the_channel(service, changes):
    paused_channel(service.store, "ai", "robots", "drones")
    answer = service.handle_text("resume", channel())
    assert answer.ok
    assert answer.text == "Resumed this channel: *ai*, *robots*, *drones*."
    assert [s["paused_reason"] for s in service.store.subscriptions("T1", "C1")] == [None] * 3
    assert changes == [("T1", "C1")]


def test_resume_of_one_topic_says_what_is_still_paused(service, changes):
    paused_channel(service.store, "ai", "robots")
    answer = service.handle_text("resume AI", channel())
    assert answer.text == (
        "Resumed *AI* in this channel. Still paused: *robots*; `/news resume` resumes them all."
    )
    paused = {s["topic"]: s["paused_reason"] for s in service.store.subscriptions("T1", "C1")}
    assert paused == {"ai": None, "robots": "not_in_channel"}


def test_resume_with_nothing_paused_says_so(service, changes):
    service.store.subscribe("T1", "C1", "ai", user_id="U1", hour=8, minute=0, tz="UTC", now=NOW)
    answer = service.handle_text("resume", channel())
    assert not answer.ok and answer.text.startswith("No paused subscription in this channel.")
    assert changes == []


def test_resume_where_the_bot_still_cannot_post_resumes_nothing(service, changes):
    paused_channel(service.store, "ai")
    answer = service.handle_text("resume", asking(Asked("not_member")))
    assert not answer.ok
    assert answer.text == (
        "I can't post in this channel yet: invite me with `/invite @newsbot`, then "
        "`/news resume` again. Nothing changed."
    )
    assert service.store.subscriptions("T1", "C1")[0]["paused_reason"] == "not_in_channel"
    assert changes == []


def test_resume_in_a_dm_resumes_the_users_follows(service):
    for topic in ("ai", "robots"):
        service.store.subscribe(
            "T1", "U1", topic, user_id="U1", hour=8, minute=0, tz="UTC", now=NOW, kind="dm"
        )
    service.store.pause_channel("T1", "U1", "account_inactive", NOW)
    assert service.handle_text("resume", dm()).text == "Resumed your DM: *ai*, *robots*."


def test_after_resume_the_scheduler_has_the_channels_job_again(fresh_db, clock, make_service):
    from tests.digests.conftest import make_runner

    paused_channel(fresh_db, "ai", "robots")
    digests = DigestScheduler(make_runner(fresh_db, None, clock))
    try:
        digests.build(catch_up=False)
        digests.start(paused=True)
        assert digests.scheduler.get_job("digest:T1:C1") is None
        service = make_service()
        service.on_change.append(digests.sync_channel)
        assert service.handle_text("resume", channel()).ok
        assert digests.scheduler.get_job("digest:T1:C1") is not None
    finally:
        digests.shutdown()
