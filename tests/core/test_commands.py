"""The /news command language: every subcommand, times, time zones, limits."""

from __future__ import annotations

import re

import pytest

from bot.core.commands import (
    MAX_QUERY_CHARS,
    MAX_TOPIC_CHARS,
    SUBCOMMANDS,
    Command,
    CommandError,
    parse,
    parse_time,
    parse_tz,
)


@pytest.mark.parametrize(
    "text", ["", "   ", "/news", "/news   ", "help", "HELP", "?", "/news help", None]
)
def test_empty_or_help_gives_help(text):
    assert parse(text) == Command("help")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("facial recognition", Command("search", "facial recognition")),
        ("/news facial recognition", Command("search", "facial recognition")),
        ('"power apps" -teams', Command("search", '"power apps" -teams')),
        ("list", Command("list")),
        ("preview", Command("preview")),
        ("subscribe AI", Command("subscribe", "AI")),
        ("subscribe   facial    recognition  ", Command("subscribe", "facial recognition")),
        ("subscribe facial recognition at 08:00", Command("subscribe", "facial recognition", 8, 0)),
        (
            "subscribe ai at 7pm tz Europe/London",
            Command("subscribe", "ai", 19, 0, "Europe/London"),
        ),
        (
            "subscribe ai tz America/New_York at 7:15am",
            Command("subscribe", "ai", 7, 15, "America/New_York"),
        ),
        ("Subscribe AI AT 7PM", Command("subscribe", "AI", 19, 0)),
        # bug fixed: "utc" was meant to be accepted (and written "UTC") but was refused
        ("subscribe ai tz utc", Command("subscribe", "ai", tz="UTC")),
        ("unsubscribe facial recognition", Command("unsubscribe", "facial recognition")),
        ("resume ai", Command("resume", "ai")),
        ("follow power apps at 6:30", Command("follow", "power apps", 6, 30)),
        ("unfollow power apps", Command("unfollow", "power apps")),
        ("mute Reuters", Command("mute", "Reuters")),
        ("unmute reuters.com", Command("unmute", "reuters.com")),
        ("settings", Command("settings", "")),
        ("settings tz Europe/Paris", Command("settings", "tz", value="Europe/Paris")),
        ("/news\u00a0list", Command("list")),
    ],
)
def test_subcommands(text, expected):
    assert parse(text) == expected


def test_every_subcommand_in_the_help_parses():
    examples = {
        "search": "facial recognition",
        "subscribe": "subscribe ai",
        "unsubscribe": "unsubscribe ai",
        "list": "list",
        "preview": "preview",
        "resume": "resume ai",
        "follow": "follow ai",
        "unfollow": "unfollow ai",
        "mute": "mute reuters.com",
        "unmute": "unmute reuters.com",
        "settings": "settings",
        "sources": "sources",
        "source": "source remove 3",
        "help": "help",
    }
    assert set(examples) == {s.name for s in SUBCOMMANDS}
    for name, text in examples.items():
        assert parse(text).name == name


def test_a_misspelt_subcommand_gets_a_hint():
    command = parse("subscirbe ai")
    assert command.name == "help" and "did you mean `subscribe`" in command.hint
    # a search that merely looks like one is a search
    assert parse("subscirbe to the weekly digest of power apps news").name == "search"
    assert parse("lists").hint == "Unknown subcommand “lists”: did you mean `list`?"
    assert parse("lis").name == "search"  # too short to guess


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [
        ("08:00", 8, 0),
        ("8:30", 8, 30),
        ("0:00", 0, 0),
        ("23:59", 23, 59),
        ("7pm", 19, 0),
        ("7 pm", 19, 0),
        ("7:15am", 7, 15),
        ("12am", 0, 0),
        ("12pm", 12, 0),
        ("19", 19, 0),
        ("7PM", 19, 0),
    ],
)
def test_times(text, hour, minute):
    assert parse_time(text) == (hour, minute)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("25:00", "hours 00-23"),
        ("24:00", "hours 00-23"),
        ("7:60", "minutes 00-59"),
        ("13pm", "1 to 12"),
        ("0am", "1 to 12"),
        ("noon", "not a time"),
        ("7.30", "not a time"),
        ("-1:00", "not a time"),
        ("", "not a time"),
    ],
)
def test_bad_times(text, reason):
    with pytest.raises(CommandError, match=reason):
        parse_time(text)


def test_bad_time_in_a_subscription():
    with pytest.raises(CommandError, match="25:00"):
        parse("subscribe ai at 25:00")


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Asia/Kolkata", "UTC"])
def test_known_time_zones(zone):
    assert parse_tz(zone) == zone


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus_Mons",
        "Europe/Londn",
        "europe/london",
        "EST",
        "GMT+5",
        "../../etc/passwd",
        "Europe/London/Extra",
        "x" * 300,
    ],
)
def test_unknown_time_zones_are_rejected(zone):
    with pytest.raises(CommandError, match="not a time zone I know") as caught:
        parse(f"subscribe ai tz {zone}")
    assert len(str(caught.value)) < 300


def test_a_time_zone_hint_is_itself_a_zone_that_works():
    # Bug fixed: "tz EST" was rejected with "Did you mean EST?"
    for zone in ["europe/london", "Europe/Londn", "EST", "PST8PDT", "Zulu", "GMT"]:
        with pytest.raises(CommandError) as caught:
            parse_tz(zone)
        hint = re.search(r"Did you mean (\S+)\?", str(caught.value))
        if hint:
            assert parse_tz(hint.group(1)) == hint.group(1)
    with pytest.raises(CommandError, match="Did you mean Europe/London"):
        parse_tz("europe/london")


def test_a_follow_takes_no_time_zone():
    with pytest.raises(CommandError, match="leave out `tz`"):
        parse("follow ai tz Europe/London")


@pytest.mark.parametrize("name", ["subscribe", "unsubscribe", "follow", "unfollow"])
def test_a_topic_is_needed(name):
    with pytest.raises(CommandError, match="Which topic") as caught:
        parse(name)
    assert f"/news {name} " in str(caught.value)  # the example is of this subcommand


@pytest.mark.parametrize("name", ["mute", "unmute"])
def test_an_outlet_is_needed(name):
    # Bug fixed: the example given was "/news subscribe facial recognition".
    with pytest.raises(CommandError, match="Which outlet") as caught:
        parse(name)
    assert f"/news {name} " in str(caught.value) and "subscribe" not in str(caught.value)


def test_a_schedule_without_a_topic():
    with pytest.raises(CommandError, match="Which topic"):
        parse("subscribe at 8:00")


def test_long_topics_are_refused():
    assert parse("subscribe " + "x" * MAX_TOPIC_CHARS).text == "x" * MAX_TOPIC_CHARS
    with pytest.raises(CommandError, match=f"the limit is {MAX_TOPIC_CHARS}"):
        parse("subscribe " + "x" * (MAX_TOPIC_CHARS + 1))
    with pytest.raises(CommandError, match="limit"):
        parse("mute " + "reuters " * 100)


def test_long_input_is_refused_politely():
    assert parse("x" * MAX_QUERY_CHARS).name == "search"
    for text in (
        "x" * (MAX_QUERY_CHARS + 1),
        "facial recognition " * 200,
        "subscribe " + "ai " * 1000,
    ):
        with pytest.raises(CommandError) as caught:
            parse(text)
        assert "at most 2,000" in str(caught.value)
        assert len(str(caught.value)) < 200


def test_hostile_text_parses_or_fails_cleanly():
    for text in [
        '"',
        "NEAR(",
        "title:",
        "^",
        "😀",
        "\x00\x1b",
        "subscribe \x00",
        "at at at",
        "subscribe at",
        "subscribe tz",
        "subscribe ai at",
        "settings \x00 \x00",
        "<!channel>",
        "<@U123>",
        "subscribe <!everyone>",
    ]:
        try:
            command = parse(text)
        except CommandError as exc:
            assert str(exc)
        else:
            assert command.name in {s.name for s in SUBCOMMANDS}


def test_command_time_property():
    assert parse("subscribe ai at 7pm").time == "19:00"
    assert parse("subscribe ai").time is None


def test_at_followed_by_a_word_is_part_of_the_topic():
    from bot.core.commands import parse

    command = parse("subscribe machine learning at scale")
    assert (command.text, command.hour) == ("machine learning at scale", None)
    command = parse("subscribe machine learning at scale at 9am")
    assert (command.text, command.hour) == ("machine learning at scale", 9)


def test_at_a_number_that_is_not_a_time_is_part_of_the_topic():
    from bot.core.commands import parse

    assert parse("subscribe interest rates at 5%").text == "interest rates at 5%"
    assert parse("subscribe interest rates at 5% at 7am").hour == 7


# -- the one list, declared on the handlers ----------------------------------------------------------

FIRST_IMPORTS = [
    "bot.core.commands",
    "bot.core.service",
    "bot.core.service.preferences",
    "bot.core.service.home",
    "bot.core.preferences",
    "bot.core.search",
    "bot.core.grammar",
    "bot.config",
    "bot.render.text",
]


@pytest.mark.parametrize("first", FIRST_IMPORTS)
def test_the_list_is_complete_whatever_is_imported_first(first):
    """The declarations live with the handlers in bot.core.service: importing any module
    first, in a fresh interpreter, still gives bot.core.commands the whole list."""
    import subprocess
    import sys

    script = (
        f"import {first}\nfrom bot.core.commands import SUBCOMMANDS\n"
        "print(' '.join(s.name for s in SUBCOMMANDS))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [s.name for s in SUBCOMMANDS]


def test_every_subcommand_has_a_usage_a_help_line_and_a_reader():
    assert len(SUBCOMMANDS) == 14
    for sub in SUBCOMMANDS:
        assert sub.usage.startswith("/news ") and sub.help and callable(sub.read)
        if sub.words:  # the usage starts with the word that names it
            assert sub.usage.split()[1] == sub.name == sub.words[0]


def test_a_subcommand_that_needs_an_argument_says_so_with_its_own_example():
    needs = [s.name for s in SUBCOMMANDS if s.words and _refused(s.name)]
    assert needs == [
        "subscribe",
        "unsubscribe",
        "follow",
        "unfollow",
        "mute",
        "unmute",
        "source",
    ]
    # /news resume alone resumes the whole conversation (a pause stops them all)
    for name in ("list", "preview", "resume", "settings", "sources", "help"):
        assert parse(f"/news {name}").name == name


def _refused(text: str) -> bool:
    try:
        parse(text)
    except CommandError as exc:
        assert f"/news {text} " in str(exc)
        return True
    return False
