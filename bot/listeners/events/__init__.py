"""Events API listeners. ``EVENTS`` is what manifest.yml must subscribe to."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.deps import Deps
from bot.listeners.events.app_home import app_home_opened

EVENTS: tuple[str, ...] = ("app_home_opened",)


def register(app: App, deps: Deps) -> None:
    app.event("app_home_opened")(app_home_opened(deps))
