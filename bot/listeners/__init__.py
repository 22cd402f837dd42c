"""Bolt listeners, one folder per Slack surface, each with a ``register(app, deps)``."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import actions, commands, events
from bot.listeners.deps import Deps


def register(app: App, deps: Deps) -> None:
    commands.register(app, deps)
    actions.register(app, deps)
    events.register(app, deps)
