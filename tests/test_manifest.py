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
