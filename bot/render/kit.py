"""Block Kit's pieces, for the Block Kit renderer (``blocks``, ``digest_blocks``, ``home``):
its size limits, the elements every message is built of (section, context, button), a mrkdwn
link, an article's time as Slack's date token and plain_text, each cut to its limit and
escaped (``bot.render.common``)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot.render.common import escape_trimmed, trim

Blocks = list[dict[str, Any]]

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


def section(text: str, accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    """A mrkdwn section (``text`` already escaped), cut to SECTION_TEXT, with an accessory."""
    block: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": text[:SECTION_TEXT]},
    }
    if accessory:
        block["accessory"] = accessory
    return block


def context(text: str) -> dict[str, Any]:
    """A context block of one mrkdwn element (``text`` already escaped), cut to CONTEXT_TEXT."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:CONTEXT_TEXT]}]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": plain(text, BUTTON_TEXT)},
        "action_id": action_id,
        "value": value,
    }
    if style:
        out["style"] = style
    return out


_URL_SAFE = re.compile(r"[\s<>|]")


def link(url: str, label: str, limit: int) -> str:
    """``<url|label>`` with a label that cannot close the link, within ``limit``.

    A ``|`` in the label stays a ``|`` (a headline such as "Markets | Live" is shown as
    written): Slack reads a link token up to its *first* ``|`` as the address and all that
    follows as the label (its formatting reference, "Linking to URLs"; reading messages: "check
    for a pipe, if present use the text following the pipe as the label"), and the address
    here never holds one (``%7C``). Only ``&``, ``<`` and ``>`` need escaping in a label (the
    same reference), which ``escape_trimmed`` does. (It used to show a look-alike ``¦``, a
    precaution the reference does not call for.)"""
    safe_url = _URL_SAFE.sub(lambda m: f"%{ord(m.group(0)):02X}", url or "")
    room = max(10, limit - len(safe_url) - 3)
    label = escape_trimmed(label, room)
    if len(safe_url) + len(label) + 3 > limit:
        return label
    return f"<{safe_url}|{label}>"


# Month names written out, not strftime's %b, which follows the process's locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NO_DATE = "date unknown"


def utc_text(moment: dt.datetime) -> str:
    """'Nov 26, 2026 08:15 UTC': a date token's fallback, for clients that cannot render it."""
    moment = moment.astimezone(dt.UTC)
    return f"{_MONTHS[moment.month - 1]} {moment.day}, {moment.year} {moment:%H:%M} UTC"


def slack_date(published_ts: int | None) -> str:
    """An article's time as Slack's date token, ``<!date^TS^{date_short_pretty} {time}|...>``:
    each reader sees it in their own zone ("today 9:15 AM", "yesterday", "Nov 26"), however
    long after the post they read it. The fallback after the ``|`` is plain UTC text (letters,
    digits, commas, colons: nothing mrkdwn reads). No time: 'date unknown'. A time Slack's
    token cannot carry (before 1970) is shown as the fallback text alone."""
    if published_ts is None:
        return NO_DATE
    try:
        moment = dt.datetime.fromtimestamp(int(published_ts), dt.UTC)
    except (OverflowError, OSError, ValueError):
        return NO_DATE
    fallback = utc_text(moment)
    if published_ts < 0:
        return fallback
    return f"<!date^{int(published_ts)}^{{date_short_pretty}} {{time}}|{fallback}>"


def plain(text: str, limit: int) -> str:
    """plain_text for headers and buttons: no escaping needed, only length."""
    return trim(text, limit) or "…"
