"""Layered, typed configuration: defaults here, then a YAML file, then ``NEWSBOT_*`` variables,
then command-line options.

The file is ``--config PATH``, else ``$NEWSBOT_CONFIG``, else ``config/newsbot.yaml`` when it
exists. A key ``digest.items_per_topic`` is ``NEWSBOT_DIGEST_ITEMS_PER_TOPIC`` in the
environment. Slack's own variables (``SLACK_BOT_TOKEN`` ...) are read as Slack names them, and
never shown (not in a message, not in ``repr``).

Every key is declared once below, as a field of a frozen dataclass with its default and its
:class:`Rule` (the check, and what it allows in words). Code reads typed attributes:
``config.digest.default_tz``, ``config.search.page_size``. A bad value stops newsbot at start
with one line naming where it came from, the key, the value and what is allowed
(:class:`ConfigError`)::

    NEWSBOT_DIGEST_DEFAULT_TZ: digest.default_tz = 'Mars/Base': a time zone ...

Why written here rather than with a settings library: the keys are a dozen scalars, and the
one-line ``source: key = value: allowed`` error (naming the file or the variable a value came
from) is the point. pydantic-settings would bring pydantic and its compiled core, its
environment source cannot split ``NEWSBOT_DIGEST_DEFAULT_TZ`` into ``digest`` and
``default_tz`` without extra rules, and its multi-line validation errors would still need
rewording into that line; the standard library's frozen dataclasses carry each key's default
and check as plainly.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from bot.core.grammar import CommandError, parse_time
from bot.core.preferences import ITEMS_RANGE
from bot.core.schedule import known_zone
from bot.render.blocks import STORIES_PER_MESSAGE

DEFAULT_FILE = Path("config/newsbot.yaml")


class ConfigError(Exception):
    """A bad setting, said in one line (never including a secret)."""


# -- rules: a check and what it allows, in words ---------------------------------------------


@dataclass(frozen=True)
class Rule:
    allowed: str  # what is allowed, as the error line says it
    parse: Callable[[Any], Any]  # a raw value (YAML scalar or text) -> the typed value; ValueError


def integer(lo: int, hi: int | None = None, why: str = "") -> Rule:
    def parse(raw: Any) -> int:
        if isinstance(raw, bool):
            raise ValueError
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d+\s*", raw):
            value = int(raw)
        else:
            raise ValueError
        if value < lo or (hi is not None and value > hi):
            raise ValueError
        return value

    allowed = (
        f"a whole number from {lo} to {hi}" if hi is not None else f"a whole number, {lo} or more"
    )
    return Rule(allowed + (f" ({why})" if why else ""), parse)


def number(lo: float, hi: float | None = None, *, unit: str, above_lo: bool = False) -> Rule:
    """A finite number in ``lo..hi`` (``above_lo``: greater than ``lo``)."""

    def parse(raw: Any) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ValueError
        value = float(raw)
        if (
            not math.isfinite(value)
            or value < lo
            or (above_lo and value == lo)
            or (hi is not None and value > hi)
        ):
            raise ValueError
        return value

    if not above_lo:
        allowed = f"from {lo:g} to {hi:g}" if hi is not None else f"{lo:g} or more"
    else:
        allowed = f"greater than {lo:g}" + (f" and at most {hi:g}" if hi is not None else "")
    return Rule(f"a number of {unit}, {allowed}", parse)


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | str):
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
    raise ValueError


BOOLEAN = Rule("true or false (also yes/no, on/off, 1/0)", _boolean)

LEVELS = ("AUTO", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# AUTO: WARNING for the terminal commands (their answers alone on stdout), INFO for the bot
# serving Slack (a line per digest and per source polled); see bot.cli.log_level_for.


def _level(raw: Any) -> str:
    if isinstance(raw, str) and raw.strip().upper() in LEVELS:
        return raw.strip().upper()
    raise ValueError


LOG_LEVEL = Rule(f"one of {', '.join(LEVELS)} (any case)", _level)


def _time(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError  # YAML 1.1 reads an unquoted 9:30 as the number 570
    try:
        hour, minute = parse_time(raw)  # the rule /news subscribe ... at applies
    except CommandError:
        raise ValueError from None
    return f"{hour:02d}:{minute:02d}"


TIME = Rule(
    'a time of day, 00:00 to 23:59, such as 08:00 or 7pm (in YAML in quotes: "08:00")', _time
)


def _zone(raw: Any) -> str:
    name = known_zone(raw)
    if name is None:
        raise ValueError
    return name


ZONE = Rule("a time zone the system's zoneinfo knows, such as UTC or Europe/London", _zone)


def _db_path(raw: Any) -> str:
    """A database file path, checked without creating anything: not a folder, and its folder
    exists or can be created (the nearest existing one is a folder we may write in)."""
    if not isinstance(raw, str) or not raw.strip() or "\0" in raw:
        raise ValueError
    if raw == ":memory:":
        return raw
    path = Path(raw)
    try:
        if path.is_dir():
            raise ValueError
        if path.exists():
            return raw
        # The folder must exist: a typo in it would otherwise make a tree of folders and an
        # empty database, and a search of it would answer "no stories" (issue 14).
        folder = path.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise ValueError
    except OSError:
        raise ValueError from None
    return raw


DB_PATH = Rule("a file path (not a folder) in a folder that exists and newsbot may write", _db_path)


def setting(default: Any, rule: Rule) -> Any:
    """A key: its default and its rule (see :data:`KEYS`)."""
    return field(default=default, metadata={"rule": rule})


def section(cls: type) -> Any:
    return field(default_factory=cls, metadata={"section": cls})


# -- the keys --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerConfig:
    port: int = setting(3000, integer(1, 65535))
    # threads doing the work after acks (searches, Slack calls); see bot.app.WORKERS
    workers: int = setting(4, integer(1, 64))


@dataclass(frozen=True)
class SearchConfig:
    page_size: int = setting(5, integer(1, STORIES_PER_MESSAGE, "what one Slack answer holds"))


@dataclass(frozen=True)
class LoaderConfig:
    max_file_bytes: int = setting(2 * 1024 * 1024, integer(1))


@dataclass(frozen=True)
class SubscriptionsConfig:
    admins_only: bool = setting(False, BOOLEAN)


@dataclass(frozen=True)
class DigestConfig:
    default_time: str = setting("08:00", TIME)  # "HH:MM"
    default_tz: str = setting("UTC", ZONE)
    grace_hours: float = setting(2.0, number(0, 24, unit="hours", above_lo=True))
    max_age_hours: float = setting(36.0, number(0, unit="hours", above_lo=True))
    items_per_topic: int = setting(5, integer(*ITEMS_RANGE, "as `/news settings items` allows"))
    post_when_empty: bool = setting(False, BOOLEAN)
    # how long a claimed digest run is held before another process may take it over
    lease_seconds: int = setting(600, integer(1, 86400))
    # the first backoff after a transient Slack failure, and the longest
    retry_base_seconds: float = setting(2.0, number(0, 3600, unit="seconds"))
    retry_cap_seconds: float = setting(300.0, number(0, 86400, unit="seconds"))
    # how long one run keeps retrying in-process before handing the retry to the scheduler
    retry_inline_seconds: float = setting(60.0, number(0, 86400, unit="seconds"))
    # how long after a post whose answer never came its absence from Slack's history is
    # believed (it may still be stored a moment later): more than the Web API client's timeout
    post_settle_seconds: float = setting(15.0, number(0, 3600, unit="seconds"))
    # days of digest history kept (what each conversation was sent, each day's run): older is
    # pruned daily (bot.digests.housekeeping; never less than the window and the grace)
    keep_days: int = setting(14, integer(2, 3650, "days of digest history kept"))


@dataclass(frozen=True)
class SourcesConfig:
    # live sources (bot.feeds): how often a source is polled, unless it asks for less often
    poll_minutes: int = setting(30, integer(1, 7 * 24 * 60))
    # the shortest interval a source may get (a feed's ttl or max-age only lengthens it)
    min_poll_minutes: int = setting(10, integer(1, 24 * 60))
    # a feed's body is cut off (and the fetch failed) past this many bytes
    max_bytes: int = setting(10 * 1024 * 1024, integer(1, 1 << 30))
    # connect and read timeouts of one fetch, and its overall deadline
    timeout_seconds: float = setting(10.0, number(0, 300, unit="seconds", above_lo=True))
    deadline_seconds: float = setting(30.0, number(0, 3600, unit="seconds", above_lo=True))
    # fetch addresses that resolve to private, loopback or link-local ranges
    allow_private: bool = setting(False, BOOLEAN)
    # sources fetched at once
    concurrency: int = setting(4, integer(1, 64))


@dataclass(frozen=True)
class Config:
    db: str = setting("newsbot.db", DB_PATH)
    log_level: str = setting("AUTO", LOG_LEVEL)  # upper case: AUTO or a name logging knows
    server: ServerConfig = section(ServerConfig)
    search: SearchConfig = section(SearchConfig)
    loader: LoaderConfig = section(LoaderConfig)
    subscriptions: SubscriptionsConfig = section(SubscriptionsConfig)
    digest: DigestConfig = section(DigestConfig)
    sources: SourcesConfig = section(SourcesConfig)
    # from the environment only; repr=False: never in a repr, a log or a traceback
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str | None = None
    source: str = "defaults"  # the file read, if any


@dataclass(frozen=True)
class Key:
    name: str  # "digest.default_tz"
    rule: Rule
    default: Any


def _keys(cls: type, prefix: str = "") -> Iterator[Key]:
    for f in fields(cls):
        if "section" in f.metadata:
            yield from _keys(f.metadata["section"], f"{prefix}{f.name}.")
        elif "rule" in f.metadata:
            yield Key(prefix + f.name, f.metadata["rule"], f.default)


KEYS: dict[str, Key] = {k.name: k for k in _keys(Config)}
SECTIONS: dict[str, type] = {
    f.name: f.metadata["section"] for f in fields(Config) if "section" in f.metadata
}


def env_name(key: str) -> str:
    return "NEWSBOT_" + key.upper().replace(".", "_")


# -- loading ---------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print
        return f"<a {type(value).__name__} too long to show>"
    return text if len(text) <= 100 else text[:97] + "..."


def _web_address(text: str) -> bool:
    """An http(s) address with a host: what slack_sdk can call (not a secret: may be shown)."""
    try:
        parts = urllib.parse.urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and text.isprintable()


def bad(source: str, key: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"{source}: {key} = {_shown(value)}: {allowed}")


def _check(key: str, value: Any, source: str) -> Any:
    rule = KEYS[key].rule
    try:
        return rule.parse(value)
    except (TypeError, ValueError, OverflowError):
        raise bad(source, key, value, rule.allowed) from None


def _flatten(data: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _unknown(source: str, key: str, value: Any) -> ConfigError:
    if key in SECTIONS:
        inner = ", ".join(k for k in KEYS if k.startswith(key + "."))
        return bad(source, key, value, f"a section of settings ({inner})")
    close = difflib.get_close_matches(key, KEYS, n=1)
    hint = f"did you mean {close[0]}?" if close else f"the settings are {', '.join(KEYS)}"
    return bad(source, key, value, f"not a setting newsbot knows; {hint}")


def _read_file(file: Path) -> Mapping[Any, Any]:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {file} is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {file} is not valid YAML: {exc}".split("\n")[0]) from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"config file {file} is not a YAML mapping")
    return data


def load_config(
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """The configuration: defaults, then the file, then ``env`` (default ``os.environ``), then
    ``overrides`` (command-line options: ``{"db": ...}`` is ``--db``; None leaves a key be).
    Every value is checked as it is read; ConfigError names the first bad one."""
    env = os.environ if env is None else env
    values = {key: spec.default for key, spec in KEYS.items()}
    file = (
        Path(path) if path else Path(env["NEWSBOT_CONFIG"]) if env.get("NEWSBOT_CONFIG") else None
    )
    if file is None and DEFAULT_FILE.exists():
        file = DEFAULT_FILE
    if file is not None:
        for key, value in _flatten(_read_file(file)).items():
            if key not in KEYS:
                raise _unknown(str(file), key, value)
            values[key] = _check(key, value, str(file))
    for key in KEYS:
        if env.get(env_name(key)) not in (None, ""):
            values[key] = _check(key, env[env_name(key)], env_name(key))
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = _check(key, value, f"--{key}")
    sections = {
        name: cls(**{f.name: values[f"{name}.{f.name}"] for f in fields(cls)})
        for name, cls in SECTIONS.items()
    }
    api_url = env.get("SLACK_API_URL") or None
    if api_url is not None and not _web_address(api_url):
        raise bad(
            "SLACK_API_URL",
            "SLACK_API_URL",
            api_url,
            "an http(s) address such as https://slack.com/api/",
        )
    return Config(
        **{key: value for key, value in values.items() if "." not in key},
        **sections,
        slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        slack_app_token=env.get("SLACK_APP_TOKEN") or None,
        slack_api_url=api_url,
        source=str(file) if file is not None else "defaults",
    )
