"""manifest.yml stays honest: what it declares is what the app handles, and documented."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.core.commands import SUBCOMMANDS
from bot.listeners.actions import HANDLERS
from bot.listeners.commands import COMMANDS
from bot.listeners.events import EVENTS
from bot.render.blocks import ACTIONS
from bot.render.digest_blocks import ACTION_TUNE
from bot.render.home import HOME_ACTIONS

ROOT = Path(__file__).parent.parent
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())
README = (ROOT / "README.md").read_text()


def test_every_manifest_command_has_a_listener_and_help():
    declared = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert declared == set(COMMANDS)
    for command in declared:
        assert any(s.usage.startswith(command) for s in SUBCOMMANDS)
        assert f"`{command}" in README


def test_every_subcommand_is_in_the_readme():
    for sub in SUBCOMMANDS:
        assert sub.usage in README, sub.usage


SLACK_TABLE = "In Slack (and in the shell), the words after `/news`:\n\n"


def command_table() -> str:
    """The README's table of /news subcommands, as SUBCOMMANDS says it is."""
    rows = [f"| `{s.usage}` | {s.help} |" for s in SUBCOMMANDS]
    return "\n".join(["| command | what it does |", "|---|---|", *rows])


def test_the_readmes_command_table_is_the_list_of_subcommands():
    start = README.index(SLACK_TABLE) + len(SLACK_TABLE)
    table = README[start : README.index("\n\n", start)]
    assert table == command_table(), "README.md's table should read:\n" + command_table()


def test_the_manifests_usage_hint_is_made_of_declared_usages_in_their_order():
    (news,) = [c for c in MANIFEST["features"]["slash_commands"] if c["command"] == "/news"]
    usages = [s.usage.removeprefix("/news ") for s in SUBCOMMANDS]
    parts = news["usage_hint"].split(" | ")
    assert all(part in usages for part in parts), (parts, usages)
    assert parts == sorted(parts, key=usages.index)
    # the ways in: a search, a subscription, and the help that lists the rest
    assert {"<words>", "help"} <= set(parts) and any(p.startswith("subscribe ") for p in parts)


def test_requests_go_to_the_bolt_path():
    urls = [c["url"] for c in MANIFEST["features"]["slash_commands"]]
    urls.append(MANIFEST["settings"]["interactivity"]["request_url"])
    events = MANIFEST["settings"].get("event_subscriptions") or {}
    if events:
        urls.append(events["request_url"])
    assert all(u.endswith("/slack/events") for u in urls)


def test_events_declared_match_listeners():
    events = (MANIFEST["settings"].get("event_subscriptions") or {}).get("bot_events", [])
    assert set(events) == set(EVENTS)


def test_every_button_the_renderers_make_has_a_listener():
    assert set(HANDLERS) == set(ACTIONS) | set(HOME_ACTIONS) | {ACTION_TUNE}


def readme_scopes() -> set[str]:
    """The scopes the README's scope table explains (each row: the scopes, then why)."""
    start = README.index("| scope | why |")
    table = README[start : README.index("\n\n", start)]
    rows = table.splitlines()[2:]
    return {
        scope.strip(" `")
        for row in rows
        for scope in row.split("|")[1].split(",")
        if row.split("|")[2].strip()  # every scope has its why
    }


def test_the_readmes_scope_table_is_the_manifests_scopes():
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert readme_scopes() == scopes


def test_the_bot_may_check_and_join_where_it_is_asked_to_post():
    # conversations.info in public channels, private channels and group DMs; joining a public
    # channel (bot.slack.membership)
    assert {"channels:read", "groups:read", "mpim:read", "channels:join"} <= set(
        MANIFEST["oauth_config"]["scopes"]["bot"]
    )
