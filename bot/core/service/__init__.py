"""Carrying out a parsed command against the store: the core both Slack and the shell call.

Nothing here knows Slack: who asks and where comes in a :class:`Context` (the Slack listener
fills it from the request, looking up the user's time zone and admin flag when needed), and
every answer is plain data for a renderer.

:class:`NewsService` (``dispatch``) is the one entry point; the work is split by area, one
module each: ``search``, ``subscriptions``, ``follows``, ``preferences`` (mutes and settings)
and ``home``. A ``/news`` subcommand is declared once, on its handler, with
``base.subcommand``; ``bot.core.commands.SUBCOMMANDS`` is the list of them.
"""

from bot.core.service.base import (
    ChangeHook,
    Clock,
    Context,
    Settings,
    checked_zone,
    unknown_slack_zone,
)
from bot.core.service.dispatch import NewsService

__all__ = [
    "ChangeHook",
    "Clock",
    "Context",
    "NewsService",
    "Settings",
    "checked_zone",
    "unknown_slack_zone",
]
