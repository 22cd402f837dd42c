"""Slash commands. ``COMMANDS`` is what manifest.yml must declare."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.commands.news import handle_news
from bot.listeners.deps import Deps

COMMANDS = ("/news",)


def register(app: App, deps: Deps) -> None:
    app.command("/news")(handle_news(deps))
