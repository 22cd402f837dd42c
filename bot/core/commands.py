"""The command language: the words after ``/news``, shared by Slack and the local shell.

``parse(text)`` returns a :class:`Command` or raises :class:`CommandError` with a message fit
to show a person. ``SUBCOMMANDS`` is the one list of subcommands, each with its usage and
help (``.name``, ``.usage``, ``.help``): the help text, the README's table and the manifest's
usage hint come from it or are tested against it.

Each subcommand is declared once, on the handler that carries it out, in ``bot.core.service``
(see ``bot.core.service.base.subcommand``), with how its arguments are read (the readers in
``bot.core.grammar``, which also reads times and time zones). Importing this module imports
the service, so the list is always complete.
"""

from __future__ import annotations

from bot.core.grammar import (
    MAX_QUERY_CHARS,
    MAX_TOPIC_CHARS,
    Command,
    CommandError,
    parse_time,
    parse_tz,
)
from bot.core.service.base import Subcommand
from bot.core.service.dispatch import NAMES, SUBCOMMANDS, parse

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_TOPIC_CHARS",
    "NAMES",
    "SUBCOMMANDS",
    "Command",
    "CommandError",
    "Subcommand",
    "parse",
    "parse_time",
    "parse_tz",
]
