"""The markup the core may put in an answer's words (``MessageAnswer.text``), defined here once.

Two marks, nothing else: ``*strong*`` for a word the sentence is about (a topic), and
```code``` for a command to copy. They are Slack mrkdwn's syntax and a plain-text convention
alike, so both renderers (``bot.render``) show them as written: Block Kit formats them, and a
terminal's reader takes them for emphasis and a command. A renderer for an output that read
them otherwise would translate exactly these marks, the ones this module makes.

The core builds its words with :func:`strong` and :func:`code`; the renderers use them too (a
topic in bold). Nothing here knows Slack or a terminal.
"""

from __future__ import annotations

MARKUP = "*_~`"  # characters read as formatting (mrkdwn's four; a terminal reader's too)


def strong(text: str) -> str:
    """``*text*``, or ``text`` alone when it holds a markup character (a topic like
    "*a* b_c" inside ``*...*`` would garble the bold and what follows)."""
    return text if any(c in text for c in MARKUP) else f"*{text}*"


def code(text: str) -> str:
    """The text in backticks (a command to copy), or alone when it holds a backtick."""
    return text if "`" in text else f"`{text}`"
