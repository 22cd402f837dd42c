"""NewsService's front: every declared subcommand reaches its own handler, ``admins_only``
guards exactly what changes a channel, ``needs_user_info`` follows the declarations, help
hints, and the guards on the declarations themselves."""

from __future__ import annotations

import pytest

from bot.core.answers import (
    HelpAnswer,
    ListAnswer,
    MessageAnswer,
    PreviewAnswer,
    SearchAnswer,
    SettingsAnswer,
    SourcesAnswer,
)
from bot.core.commands import SUBCOMMANDS, Command, parse
from bot.core.grammar import nothing
from bot.core.service import base, dispatch
from bot.core.service.base import Area, subcommand
from tests.core.service.conftest import channel, dm

# Each subcommand, in an order where each leaves what the next needs, with what only its own
# handler answers.
EVERY = [
    (
        "subscribe ai at 7pm tz Europe/London",
        "subscribe",
        MessageAnswer,
        "Subscribed this channel to *ai*",
    ),
    ("list", "list", ListAnswer, None),
    ("preview", "preview", PreviewAnswer, None),
    ("resume ai", "resume", MessageAnswer, "No paused subscription to *ai*"),
    ("unsubscribe ai", "unsubscribe", MessageAnswer, "Unsubscribed this channel from *ai*"),
    ("follow ai", "follow", MessageAnswer, "Following *ai*"),
    ("unfollow ai", "unfollow", MessageAnswer, "No longer following *ai*"),
    ("mute reuters.com", "mute", MessageAnswer, "Muted Reuters (reuters.com)"),
    ("unmute reuters", "unmute", MessageAnswer, "Unmuted Reuters (reuters.com)"),
    ("settings", "settings", SettingsAnswer, None),
    ("source add https://example.com/feed.xml ai", "source", MessageAnswer, "Added source #1"),
    ("sources", "sources", SourcesAnswer, None),
    ("help", "help", HelpAnswer, None),
    ("facial recognition", "search", SearchAnswer, None),
]


def test_every_declared_subcommand_is_carried_out_by_its_own_handler(seeded, service):
    assert sorted(name for _, name, _, _ in EVERY) == sorted(s.name for s in SUBCOMMANDS)
    for text, name, kind, says in EVERY:
        command = parse(text)
        assert command.name == name
        answer = service.handle(command, channel())
        assert isinstance(answer, kind), (text, answer)
        if says:
            assert says in answer.text, (text, answer.text)
    assert service.handle_text("list", channel()).subscriptions == []
    assert service.store.mutes("T1", "user", "U1") == []


def test_a_subscription_answer_is_where_it_was_asked(seeded, service):
    service.handle_text("subscribe ai", channel())
    assert service.handle_text("preview", channel()).where == "this channel"
    assert service.handle_text("preview", channel()).digest is not None
    assert service.handle_text("preview", dm()) == PreviewAnswer(None, "your DM")


def test_a_command_no_subcommand_declares_is_answered_with_the_help(service):
    answer = service.handle(Command("frobnicate", "x"), channel())
    assert answer == HelpAnswer("Unknown command “frobnicate”.")
    assert service.needs_user_info(Command("frobnicate"), channel()) is False


def test_help_and_its_hints(service):
    assert service.handle_text("", channel()) == HelpAnswer(None)
    assert service.handle_text("?", channel()) == HelpAnswer(None)
    assert service.handle_text("help me please", channel()) == HelpAnswer(None)
    hint = service.handle_text("unfolow ai", channel())
    assert hint == HelpAnswer("Unknown subcommand “unfolow”: did you mean `unfollow`?")


def test_what_a_person_cannot_do_is_a_polite_refusal_not_an_exception(seeded, service):
    for text, says in [
        ("mute nowhere in particular", "I don't know an outlet"),
        ("settings items 99", "from 1 to 10"),
        ("settings colour blue", "There is no setting"),
        ("mute reuters.com here", "`here` is for channels"),
        ("subscribe ai tz Europe/Paris", "leave out `tz`"),
        ("subscribe ai at 25:00", "25:00"),
        ("x" * 2001, "at most 2,000"),
    ]:
        answer = service.handle_text(text, dm())
        assert isinstance(answer, MessageAnswer) and not answer.ok, text
        assert says in answer.text, (text, answer.text)


# (what is typed, whether it changes the channel when typed in one)
GUARDED = [
    ("subscribe ai", True),
    ("unsubscribe ai", True),
    ("resume ai", True),
    ("mute reuters.com here", True),
    ("unmute reuters.com here", True),
    ("settings items 3", True),
    ("settings time 7pm", True),
    ("settings", False),
    ("sources", False),
    ("mute reuters.com", False),
    ("unmute reuters.com", False),
    ("list", False),
    ("preview", False),
    ("follow ai", False),
    ("unfollow ai", False),
    ("facial recognition", False),
    ("help", False),
]


# Live sources are the workspace's: admins_only guards them everywhere, a DM too
# (tests/core/service/test_sources.py).
WORKSPACE = ["source add https://example.com/feed.xml", "source remove 1"]


def test_the_guarded_examples_cover_every_subcommand():
    named = {parse(text).name for text, _ in GUARDED} | {parse(t).name for t in WORKSPACE}
    assert named == {s.name for s in SUBCOMMANDS}


@pytest.mark.parametrize(("text", "guarded"), GUARDED)
def test_admins_only_refuses_exactly_what_changes_a_channel(
    seeded, fresh_db, make_service, text, guarded
):
    service = make_service(admins_only=True)
    command = parse(text)
    before = (
        fresh_db.all_subscriptions(),
        fresh_db.channel_settings("T1", "C1"),
        fresh_db.mutes("T1", "channel", "C1"),
    )
    refused = service.handle(command, channel(is_admin=False))
    unknown = service.handle(command, channel(is_admin=None))  # the look-up failed
    if guarded:
        assert service.needs_user_info(command, channel()) is True  # to know who is an admin
        assert refused == MessageAnswer(dispatch.NOT_ADMIN, ok=False)
        assert unknown == MessageAnswer(dispatch.ADMIN_UNKNOWN, ok=False)
        assert "could not check with Slack" in unknown.text and "Nothing changed" in unknown.text
        assert before == (
            fresh_db.all_subscriptions(),
            fresh_db.channel_settings("T1", "C1"),
            fresh_db.mutes("T1", "channel", "C1"),
        )
    else:
        assert not refused_text(refused) and not refused_text(unknown)
    # an admin, and anyone in their own DM, is never refused
    for ctx in (channel(is_admin=True), dm(is_admin=False)):
        assert not refused_text(service.handle(command, ctx)), (text, ctx)


def refused_text(answer) -> bool:
    return "Only workspace admins" in getattr(answer, "text", "")


def test_without_admins_only_nobody_is_refused_or_looked_up_for_it(seeded, service):
    for text, _ in GUARDED:
        assert not refused_text(service.handle_text(text, channel(is_admin=False))), text


@pytest.mark.parametrize(
    ("text", "needs"),
    [
        ("follow ai", True),
        ("settings", True),
        ("settings items 3", True),
        ("subscribe ai", True),
        ("subscribe ai tz Europe/Paris", False),
        ("subscribe ai at 9am", True),
        ("unsubscribe ai", False),
        ("resume ai", False),
        ("mute reuters.com here", False),
        ("list", False),
        ("facial recognition", False),
    ],
)
def test_who_must_be_looked_up_first(service, text, needs):
    """A follow and settings live in the user's own zone; a subscription without ``tz`` takes
    the subscriber's; nothing else needs the user unless admins_only guards it."""
    assert service.needs_user_info(parse(text), channel()) is needs


def test_the_hook_hears_each_change_where_it_happened(service, changes):
    service.handle_text("subscribe ai at 9am", channel(channel_id="C9"))
    service.handle_text("follow ai", dm(user="U5", user_tz="Europe/Paris"))
    service.handle_text("list", channel(channel_id="C9"))
    assert changes == [("T1", "C9"), ("T1", "U5")]
    hook_added_later = []
    service.on_change.append(lambda team, key: hook_added_later.append(key))
    service.handle_text("unsubscribe ai", channel(channel_id="C9"))
    assert hook_added_later == ["C9"]


# -- the declarations' own guards ----------------------------------------------------------------


def test_subcommands_are_listed_in_the_order_of_the_areas_and_their_handlers():
    assert [s.name for s in SUBCOMMANDS] == [
        "search",
        "subscribe",
        "unsubscribe",
        "list",
        "preview",
        "resume",
        "follow",
        "unfollow",
        "mute",
        "unmute",
        "settings",
        "sources",
        "source",
        "help",
    ]
    assert dispatch.SEARCH.name == "search" and dispatch.BY_WORD["?"].name == "help"
    assert "search" not in dispatch.NAMES and "help" in dispatch.NAMES


def test_a_name_or_word_declared_twice_is_refused():
    class Again(Area):
        @subcommand("list", "/news list", "again", read=nothing)
        def again(self, command, ctx):
            return HelpAnswer()

    with pytest.raises(RuntimeError, match="declared twice"):
        dispatch._gather((*dispatch.AREAS, Again))

    class Other(Area):
        @subcommand("lookup", "/news lookup", "a second way in", read=nothing, words=("?",))
        def lookup(self, command, ctx):
            return HelpAnswer()

    with pytest.raises(RuntimeError, match="declared twice"):
        dispatch._gather((*dispatch.AREAS, Other))


def test_exactly_one_subcommand_takes_any_other_text():
    class Second(Area):
        @subcommand("find", "/news find", "a second search", read=nothing, words=())
        def find(self, command, ctx):
            return HelpAnswer()

    with pytest.raises(RuntimeError, match="exactly one"):
        dispatch._gather((*dispatch.AREAS, Second))
    assert dispatch._gather(dispatch.AREAS) == SUBCOMMANDS


def test_a_subcommand_declared_outside_an_area_is_refused():
    @subcommand("stray", "/news stray", "never runs", read=nothing)
    def stray(area, command, ctx):
        return HelpAnswer()

    try:
        assert base.undeclared() == ["stray"]
        with pytest.raises(RuntimeError, match="outside an Area"):
            dispatch._gather(dispatch.AREAS)
    finally:
        base._DECLARED.pop(stray)
    assert base.undeclared() == []


def test_an_areas_handler_stays_an_ordinary_method(seeded, service):
    answer = service.subscriptions.list_subscriptions(Command("list"), channel())
    assert answer == ListAnswer([], "this channel")
    assert [s.name for s in type(service.preferences).subcommands] == ["mute", "unmute", "settings"]
    assert type(service.homes).subcommands == ()
