"""Layered configuration: defaults here, then a YAML file, then ``NEWSBOT_*`` variables.

The file is ``--config PATH``, else ``$NEWSBOT_CONFIG``, else ``config/newsbot.yaml`` when it
exists. A key ``digest.items_per_topic`` is ``NEWSBOT_DIGEST_ITEMS_PER_TOPIC`` in the
environment. Slack's own variables (``SLACK_BOT_TOKEN`` ...) are read as Slack names them.
A bad value stops the program with one line saying which and why (:class:`ConfigError`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULTS: dict[str, Any] = {
    "db": "newsbot.db",
    "log_level": "INFO",
    "server.port": 3000,
    "search.page_size": 5,
    "loader.max_file_bytes": 2 * 1024 * 1024,
    "subscriptions.admins_only": False,
    "digest.default_time": "08:00",
    "digest.default_tz": "UTC",
    "digest.grace_hours": 2.0,
    "digest.max_age_hours": 36.0,
    "digest.items_per_topic": 5,
    "digest.post_when_empty": False,
}
DEFAULT_FILE = Path("config/newsbot.yaml")


class ConfigError(Exception):
    pass


def env_name(key: str) -> str:
    return "NEWSBOT_" + key.upper().replace(".", "_")


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _coerce(key: str, value: Any, source: str) -> Any:
    default = DEFAULTS[key]
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        kind = type(default).__name__
        raise ConfigError(f"{source}: {key} must be a {kind}, not {value!r}") from None


@dataclass(frozen=True)
class Config:
    values: Mapping[str, Any]
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str | None = None
    source: str = "defaults"

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def __repr__(self) -> str:  # never show secrets, even in a traceback
        return f"Config(source={self.source!r}, values={dict(self.values)!r})"


def load_config(
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    env = os.environ if env is None else env
    values = dict(DEFAULTS)
    file = Path(path) if path else Path(env["NEWSBOT_CONFIG"]) if env.get("NEWSBOT_CONFIG") else None
    if file is None and DEFAULT_FILE.exists():
        file = DEFAULT_FILE
    source = "defaults"
    if file is not None:
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {file} is not valid YAML: {exc}".split("\n")[0]) from None
        if not isinstance(data, Mapping):
            raise ConfigError(f"config file {file} is not a YAML mapping")
        for key, value in _flatten(data).items():
            if key not in DEFAULTS:
                raise ConfigError(f"{file}: unknown key {key!r} (known: {', '.join(DEFAULTS)})")
            values[key] = _coerce(key, value, str(file))
        source = str(file)
    for key in DEFAULTS:
        if env.get(env_name(key)) not in (None, ""):
            values[key] = _coerce(key, env[env_name(key)], env_name(key))
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    return Config(
        values=values,
        slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        slack_app_token=env.get("SLACK_APP_TOKEN") or None,
        slack_api_url=env.get("SLACK_API_URL") or None,
        source=source,
    )
