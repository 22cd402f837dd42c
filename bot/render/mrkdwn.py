"""Making text safe for Slack: mrkdwn escaping and Block Kit's size limits."""

from __future__ import annotations

import re

from bot.render.text import trim

# Block Kit limits
MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
ACTION_ID = 255
BUTTON_VALUE = 2000
CONTEXT_TEXT = 3000
OPTION_TEXT = 75
OPTION_VALUE = 150


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>``: article text can then never mention ``@channel``, a
    user, or forge a link, whatever it holds."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_trimmed(text: str, limit: int) -> str:
    """Escaped text no longer than ``limit`` characters, cut at a word and never inside an
    ``&amp;``-style entity."""
    out = escape(text)
    if len(out) <= limit:
        return out
    budget = limit
    while budget > 0:
        out = escape(trim(text, budget))
        if len(out) <= limit:
            return out
        budget -= max(1, len(out) - limit)
    return "…"


_URL_SAFE = re.compile(r"[\s<>|]")


def link(url: str, label: str, limit: int) -> str:
    """``<url|label>`` with a label that cannot close the link or add markup, within ``limit``."""
    safe_url = _URL_SAFE.sub(lambda m: f"%{ord(m.group(0)):02X}", url or "")
    room = max(10, limit - len(safe_url) - 3)
    label = escape_trimmed(label, room).replace("|", "¦")
    if len(safe_url) + len(label) + 3 > limit:
        return label
    return f"<{safe_url}|{label}>"


def plain(text: str, limit: int) -> str:
    """plain_text for headers and buttons: no escaping needed, only length."""
    return trim(text, limit) or "…"
