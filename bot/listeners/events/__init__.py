"""Events API listeners (none yet beyond what Bolt handles itself: url_verification)."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.deps import Deps

EVENTS: tuple[str, ...] = ()


def register(app: App, deps: Deps) -> None:
    return None
