"""Logs that an outsider cannot write into (issue 9, defect 7).

* Every record's message is escaped once it is made: control characters (a newline, a
  carriage return, ANSI escapes, NUL), Unicode line separators and bidirectional overrides are
  shown as ``\\n``, ``\\x1b``, ``\\u202e``, so a value from a request or an article can never start
  a line of its own (a forged ``ERROR`` line) or restyle a terminal. A traceback keeps its lines,
  each indented, so none of them reads as a record of its own either.
* Tokens (``xoxb-``, ``xapp-``…), bearer headers, response URLs and the secrets named with
  :func:`protect` are replaced by ``(redacted)``.
* Bolt logs a request's body on its own (a failed signature at INFO, an unhandled request at
  WARNING): below DEBUG, those records are rewritten without the body, and Bolt's and
  slack_sdk's loggers are set to WARNING (slack_sdk logs request bodies at DEBUG).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_SECRETS_RE = [
    re.compile(r"\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+"),
    re.compile(r"(?i)\bbearer\s+\S+"),
    re.compile(r"https?://hooks\.slack\.com/\S+"),
]
# Bolt's own records that carry a request body, with what is kept of them.
_BOLT_BODY = (
    (re.compile(r"^Invalid request signature detected"), "Invalid request signature detected"),
    (re.compile(r"^Unhandled request"), "Unhandled request (body logged at DEBUG only)"),
    (re.compile(r"^Request body:|^request body:", re.IGNORECASE), None),
)
_QUIET_LOGGERS = ("slack_bolt", "slack_sdk", "newsbot.bolt", "newsbot.socket_mode")

_lock = threading.Lock()
_secrets: set[str] = set()
_installed = False


def escape(text: str) -> str:
    """``text`` with every control, line-separating or direction-changing character escaped."""

    def one(m: re.Match[str]) -> str:
        c = m.group()
        named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c)
        if named:
            return named
        return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"

    return _CONTROL.sub(one, text)


def redact(text: str) -> str:
    for pattern in _SECRETS_RE:
        text = pattern.sub("(redacted)", text)
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "(redacted)")
    return text


def protect(*secrets: str | None) -> None:
    """Never log these values (the signing secret, the tokens), wherever they turn up."""
    with _lock:
        _secrets.update(s for s in secrets if s and len(s) >= 6)


def _safe_exc(record: logging.LogRecord) -> str:
    text = logging.Formatter().formatException(record.exc_info)  # type: ignore[arg-type]
    lines = (escape(line) for line in text.splitlines())
    return redact("\n".join("  | " + line for line in lines))


def _make_safe(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string from a library: keep what can be kept
        message = f"{record.msg!r} {record.args!r}"
    if record.levelno > logging.DEBUG and record.name.startswith(_QUIET_LOGGERS):
        for pattern, kept in _BOLT_BODY:
            if pattern.search(message):
                message = kept or "(a request body, logged at DEBUG only)"
                break
    record.msg = redact(escape(message))
    record.args = None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = _safe_exc(record)
    if record.stack_info:
        record.stack_info = redact(
            "\n".join("  | " + escape(s) for s in record.stack_info.splitlines())
        )
    return record


def install(level: int | None = None) -> None:
    """Make every log record safe from now on (idempotent), and keep Bolt's and slack_sdk's
    loggers at WARNING unless ``level`` (default: the root logger's) is DEBUG."""
    global _installed
    with _lock:
        if not _installed:
            base = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                return _make_safe(base(*args, **kwargs))

            logging.setLogRecordFactory(factory)
            _installed = True
    effective = logging.getLogger().getEffectiveLevel() if level is None else level
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(
            logging.DEBUG if effective <= logging.DEBUG else max(effective, logging.WARNING)
        )


@contextlib.contextmanager
def silenced(*names: str) -> Iterator[None]:
    """These loggers quiet for a moment: a startup call whose failure newsbot says itself, in
    one line (slack_sdk logs each failed attempt of its retries at ERROR first)."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
