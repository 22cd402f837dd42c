"""Configuration: every key declared once with its default and its check; a bad value stops
newsbot at start with one line naming the key, the value and what is allowed."""

from __future__ import annotations

import dataclasses
import random
import re
import sqlite3
import string
from pathlib import Path
from zoneinfo import available_timezones

import pytest

from bot.config import KEYS, Config, ConfigError, env_name, load_config
from bot.core.digest import DigestSettings
from bot.core.service import Settings
from tests.test_cli import newsbot

SECRET = "xoxb-do-not-show-me"
README = Path(__file__).parent.parent / "README.md"
ZONES = available_timezones()


def one_line(message: str) -> str:
    lines = message.strip().splitlines()
    assert len(lines) == 1, message
    return lines[0]


def assert_names(line: str, source: str, key: str, value: object) -> None:
    """``<source>: <key> = <value!r>: <what is allowed>``, the last part said in words."""
    head = f"{source}: {key} = {value!r}: "
    assert line.startswith(head), line
    assert len(line) > len(head) + 10, line
    assert KEYS[key].rule.allowed in line


# -- at start: the command stops with one line, exit 2, no traceback -------------------------


def check_start_failure(proc, source: str, key: str, value: object) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    line = one_line(proc.stderr)
    assert line.startswith("newsbot: "), line
    assert_names(line.removeprefix("newsbot: "), source, key, value)
    assert SECRET not in proc.stderr + proc.stdout


def test_an_unknown_default_zone_stops_newsbot_before_a_subscribe_stores_it(tmp_path):
    db = tmp_path / "x.db"
    proc = newsbot(
        "--db",
        str(db),
        "shell",
        cwd=tmp_path,
        stdin="/news subscribe ai\n",
        env={"NEWSBOT_DIGEST_DEFAULT_TZ": "Mars/Base", "SLACK_BOT_TOKEN": SECRET},
    )
    check_start_failure(proc, "NEWSBOT_DIGEST_DEFAULT_TZ", "digest.default_tz", "Mars/Base")
    assert proc.stderr.strip() in README.read_text()  # the README's example is the real line
    if db.exists():
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM subscriptions").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("yaml_text", "key", "value"),
    [
        ("digest:\n  default_time: '25:99'\n", "digest.default_time", "25:99"),
        ("search:\n  page_size: 0\n", "search.page_size", 0),
        ("log_level: LOUD\n", "log_level", "LOUD"),
        ("digest:\n  default_tz: Mars/Base\n", "digest.default_tz", "Mars/Base"),
    ],
    ids=["default_time", "page_size", "log_level", "default_tz"],
)
def test_a_bad_value_in_the_file_stops_newsbot(tmp_path, yaml_text, key, value):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml_text)
    proc = newsbot(
        "--db", str(tmp_path / "x.db"), "--config", str(config), "search", "ai", cwd=tmp_path
    )
    check_start_failure(proc, str(config), key, value)


@pytest.mark.parametrize(
    "command",
    [
        ["load", "nothing-here"],
        ["search", "ai"],
        ["shell"],
        ["serve", "--port", "0"],
        ["run"],
        ["digest", "--dry-run"],
    ],
)
@pytest.mark.parametrize(
    ("variable", "key", "value"),
    [
        ("NEWSBOT_LOG_LEVEL", "log_level", "LOUD"),
        ("NEWSBOT_SEARCH_PAGE_SIZE", "search.page_size", "0"),
    ],
)
def test_every_command_stops_at_a_bad_value(tmp_path, command, variable, key, value):
    proc = newsbot(
        "--db",
        str(tmp_path / "x.db"),
        *command,
        cwd=tmp_path,
        stdin="",
        env={variable: value, "SLACK_BOT_TOKEN": SECRET, "SLACK_SIGNING_SECRET": "sig-" + SECRET},
    )
    check_start_failure(proc, variable, key, value)


def test_a_database_path_that_is_a_folder_is_named_as_the_db_option(tmp_path):
    proc = newsbot("--db", str(tmp_path), "search", "ai", cwd=tmp_path)
    check_start_failure(proc, "--db", "db", str(tmp_path))


def test_a_bad_value_and_no_traceback_through_the_console_script(tmp_path):
    proc = newsbot(
        "search", "ai", cwd=tmp_path, script=True, env={"NEWSBOT_DIGEST_DEFAULT_TIME": "25:99"}
    )
    check_start_failure(proc, "NEWSBOT_DIGEST_DEFAULT_TIME", "digest.default_time", "25:99")


# -- many bad values, per key ----------------------------------------------------------------


def junk(rng: random.Random, n: int) -> list[str]:
    """Random printable strings (never a number, a boolean word or a zone)."""
    alphabet = string.ascii_letters + string.punctuation + " "
    out = []
    while len(out) < n:
        word = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 20))).strip()
        if word and not re.fullmatch(r"[\d.+\-eE_ ]*", word) and word not in ZONES:
            out.append(word)
    return out


def bad_ints(rng: random.Random, lo: int, hi: int) -> list[str]:
    values = [lo - 1, hi + 1, lo - 1000, hi + 10**6, -(10**30), 10**30]
    values += [rng.randint(hi + 1, hi * 100 + 10) for _ in range(5)]
    values += [rng.randint(-(10**9), lo - 1) for _ in range(5)]
    return [str(v) for v in values] + [f"{lo}.5", "1e3", "0x10", "nan", "inf", "1,000", "5 6"]


def bad_numbers(rng: random.Random, lo: float, hi: float, *, above_lo: bool) -> list[str]:
    values = [hi + 0.001, hi + 1, hi * 10 + 1, lo - 0.001, lo - 1, -1e300, 1e300]
    values += [rng.uniform(hi + 1e-6, hi * 100 + 10) for _ in range(5)]
    values += [rng.uniform(-1e6, lo - 1e-6) for _ in range(5)]
    if above_lo:
        values.append(lo)
    return [repr(v) for v in values] + ["nan", "NaN", "inf", "-inf", "1,5", "2h", "0x10"]


def bad_zones(rng: random.Random) -> list[str]:
    areas = ["Mars", "Europe", "America", "Moon", "Etc", "Asia", "Atlantis"]
    made = {
        f"{rng.choice(areas)}/{rng.choice(string.ascii_uppercase)}{w}"
        for w in junk(rng, 40)
        if "/" not in w
    }
    return sorted(z for z in made if z not in ZONES) + [
        "Mars/Base",
        "Europe/Londn",
        "Europe/",
        "/etc/localtime",
        "../../etc/passwd",
        "UTC+5",
        "Europe/London ",
        "Europe//London",
        "america/new_york",
        "zone.tab",
        "Moon",
    ]


def bad_times(rng: random.Random) -> list[str]:
    made = [f"{rng.randint(24, 99)}:{rng.randint(0, 59):02d}" for _ in range(8)]
    made += [f"{rng.randint(0, 23):02d}:{rng.randint(60, 99)}" for _ in range(8)]
    return made + [
        "25:99",
        "24:00",
        "12:60",
        "-1:00",
        "8:5",
        "13pm",
        "0am",
        "noon",
        "8h",
        "8.30",
        "08:00:00",
        "T08:00",
    ]


def bad_values(key: str) -> list[str]:
    rng = random.Random(key)
    base = junk(rng, 15)
    numbers = {
        "server.port": bad_ints(rng, 1, 65535),
        "server.workers": bad_ints(rng, 1, 64),
        "search.page_size": bad_ints(rng, 1, 23),
        "loader.max_file_bytes": [v for v in bad_ints(rng, 1, 10**18) if not v.isdigit()],
        "digest.items_per_topic": bad_ints(rng, 1, 10),
        "digest.lease_seconds": bad_ints(rng, 1, 86400),
        "digest.grace_hours": bad_numbers(rng, 0, 24, above_lo=True),
        "digest.max_age_hours": [
            v
            for v in bad_numbers(rng, 0, 1e9, above_lo=True)
            if not re.fullmatch(r"[\d.]+(e\+\d+)?", v)
        ],
        "digest.retry_base_seconds": bad_numbers(rng, 0, 3600, above_lo=False),
        "digest.retry_cap_seconds": bad_numbers(rng, 0, 86400, above_lo=False),
        "digest.retry_inline_seconds": bad_numbers(rng, 0, 86400, above_lo=False),
        "digest.post_settle_seconds": bad_numbers(rng, 0, 3600, above_lo=False),
        "digest.keep_days": bad_ints(rng, 2, 3650),
        "sources.poll_minutes": bad_ints(rng, 1, 7 * 24 * 60),
        "sources.min_poll_minutes": bad_ints(rng, 1, 24 * 60),
        "sources.max_bytes": bad_ints(rng, 1, 1 << 30),
        "sources.timeout_seconds": bad_numbers(rng, 0, 300, above_lo=True),
        "sources.deadline_seconds": bad_numbers(rng, 0, 3600, above_lo=True),
        "sources.concurrency": bad_ints(rng, 1, 64),
    }
    if key in numbers:
        return base + numbers[key]
    if key == "digest.default_tz":
        return bad_zones(rng)
    if key == "digest.default_time":
        return base + bad_times(rng)
    if key == "log_level":
        return base + ["LOUD", "WARN", "FATAL", "NOTSET", "10", "info debug", "INFOO"]
    if key in ("subscriptions.admins_only", "digest.post_when_empty", "sources.allow_private"):
        return [w for w in base if w.lower() not in ("yes", "no", "on", "off", "true", "false")] + [
            "2",
            "-1",
            "maybe",
            "ja",
            "nein",
            "truth",
            "0.0",
            "y",
            "n",
        ]
    if key == "db":
        return []  # see test_bad_database_paths
    raise AssertionError(f"no bad values for {key}: add them")


@pytest.mark.parametrize("key", [k for k in KEYS if k != "db"])
def test_many_bad_values_from_the_environment(key):
    values = bad_values(key)
    assert len(values) >= 15
    for value in values:
        with pytest.raises(ConfigError) as err:
            load_config(env={env_name(key): value, "SLACK_BOT_TOKEN": SECRET})
        line = one_line(str(err.value))
        assert_names(line, env_name(key), key, value)
        assert SECRET not in line


YAML_BAD = {
    int: [True, 1.5, None, [1], "five", 10**40],
    float: [True, None, [1.0], "two", float("nan"), float("inf")],
    str: [5, None, True, [1], 1.5],
    bool: [2, None, [True], "maybe", 0.5],
}


@pytest.mark.parametrize("key", list(KEYS))
def test_bad_yaml_values_of_the_wrong_kind(tmp_path, key):
    import yaml

    kind = type(KEYS[key].default)
    file = tmp_path / "c.yaml"
    for value in YAML_BAD[kind]:
        if key == "loader.max_file_bytes" and value == 10**40:
            continue  # no upper bound
        tree: dict = {}
        *sections, leaf = key.split(".")
        node = tree
        for s in sections:
            node = node.setdefault(s, {})
        node[leaf] = value
        file.write_text(yaml.safe_dump(tree))
        with pytest.raises(ConfigError) as err:
            load_config(path=file, env={})
        assert_names(one_line(str(err.value)), str(file), key, value)


def test_a_sexagesimal_yaml_time_says_to_quote_it(tmp_path):
    file = tmp_path / "c.yaml"
    file.write_text("digest:\n  default_time: 9:30\n")  # YAML 1.1 reads 9:30 as 570
    with pytest.raises(ConfigError) as err:
        load_config(path=file, env={})
    line = one_line(str(err.value))
    assert line.startswith(f"{file}: digest.default_time = 570: ")
    assert "quote" in line


def test_bad_database_paths(tmp_path):
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    for value in [str(tmp_path), str(afile / "news.db"), str(afile / "a" / "b.db"), "", "  "]:
        with pytest.raises(ConfigError) as err:
            load_config(env={}, overrides={"db": value})
        assert_names(one_line(str(err.value)), "--db", "db", value)
    with pytest.raises(ConfigError) as err:
        load_config(env={"NEWSBOT_DB": str(tmp_path)})
    assert_names(one_line(str(err.value)), "NEWSBOT_DB", "db", str(tmp_path))


def test_a_database_path_is_never_created_at_load(tmp_path):
    path = tmp_path / "news.db"
    assert load_config(env={}, overrides={"db": str(path)}).db == str(path)
    assert not path.exists()


def test_a_database_in_a_folder_that_does_not_exist_stops_newsbot(tmp_path):
    """A typo in the folder once made the folders and an empty database (issue 14)."""
    path = tmp_path / "new" / "deeper" / "news.db"
    with pytest.raises(ConfigError) as err:
        load_config(env={}, overrides={"db": str(path)})
    assert "in a folder that exists" in str(err.value)
    assert not (tmp_path / "new").exists()


def test_unknown_keys_in_the_file_stay_an_error(tmp_path):
    file = tmp_path / "c.yaml"
    file.write_text("digest:\n  default_zone: UTC\n")
    with pytest.raises(ConfigError) as err:
        load_config(path=file, env={})
    line = one_line(str(err.value))
    assert line.startswith(f"{file}: digest.default_zone = 'UTC': ")
    assert "digest.default_tz" in line  # did you mean
    file.write_text("digest: 5\n")
    with pytest.raises(ConfigError) as err:
        load_config(path=file, env={})
    assert one_line(str(err.value)).startswith(f"{file}: digest = 5: ")


# -- good values: typed, layered -------------------------------------------------------------


def test_every_default_passes_its_own_check():
    for key, spec in KEYS.items():
        assert spec.rule.parse(spec.default) == spec.default, key


def test_defaults_are_typed_attributes():
    config = load_config(env={})
    assert config.db == "newsbot.db" and config.log_level == "AUTO"
    assert config.server.port == 3000
    assert config.search.page_size == 5
    assert config.loader.max_file_bytes == 2 * 1024 * 1024
    assert config.subscriptions.admins_only is False
    d = config.digest
    assert (d.default_time, d.default_tz, d.grace_hours, d.max_age_hours) == (
        "08:00",
        "UTC",
        2.0,
        36.0,
    )
    assert (d.items_per_topic, d.post_when_empty) == (5, False)
    assert (d.lease_seconds, d.retry_base_seconds, d.retry_cap_seconds, d.retry_inline_seconds) == (
        600,
        2.0,
        300.0,
        60.0,
    )
    s = config.sources
    assert (s.poll_minutes, s.min_poll_minutes, s.max_bytes, s.concurrency) == (
        30,
        10,
        10 * 1024 * 1024,
        4,
    )
    assert (s.timeout_seconds, s.deadline_seconds, s.allow_private) == (10.0, 30.0, False)
    assert not hasattr(config, "__getitem__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.digest.default_tz = "Mars/Base"  # type: ignore[misc]


def test_good_values_are_normalised():
    config = load_config(
        env={
            "NEWSBOT_LOG_LEVEL": "debug",
            "NEWSBOT_DIGEST_DEFAULT_TZ": "utc",
            "NEWSBOT_DIGEST_DEFAULT_TIME": "7pm",
            "NEWSBOT_SEARCH_PAGE_SIZE": " 23 ",
            "NEWSBOT_SUBSCRIPTIONS_ADMINS_ONLY": "Yes",
            "NEWSBOT_DIGEST_GRACE_HOURS": "24",
            "NEWSBOT_DIGEST_RETRY_BASE_SECONDS": "0",
            "NEWSBOT_DIGEST_LEASE_SECONDS": "86400",
            "NEWSBOT_SERVER_PORT": "65535",
            "NEWSBOT_SOURCES_ALLOW_PRIVATE": "on",
            "NEWSBOT_SOURCES_MIN_POLL_MINUTES": "1",
            "NEWSBOT_SOURCES_DEADLINE_SECONDS": "2.5",
        }
    )
    assert config.log_level == "DEBUG" and config.digest.default_tz == "UTC"
    assert config.digest.default_time == "19:00" and config.search.page_size == 23
    assert config.subscriptions.admins_only is True and config.digest.grace_hours == 24.0
    assert config.digest.retry_base_seconds == 0.0 and config.digest.lease_seconds == 86400
    assert config.server.port == 65535
    assert config.sources.allow_private is True and config.sources.min_poll_minutes == 1
    assert config.sources.deadline_seconds == 2.5
    zoned = load_config(env={"NEWSBOT_DIGEST_DEFAULT_TZ": "Asia/Kathmandu"})
    assert zoned.digest.default_tz == "Asia/Kathmandu"


def test_layers_defaults_file_environment_options(tmp_path):
    file = tmp_path / "c.yaml"
    file.write_text(
        "db: from-file.db\nsearch:\n  page_size: 7\ndigest:\n  default_tz: Europe/Paris\n"
    )
    config = load_config(
        path=file,
        env={"NEWSBOT_SEARCH_PAGE_SIZE": "9", "NEWSBOT_DB": "env.db"},
        overrides={"db": str(tmp_path / "opt.db")},
    )
    assert config.search.page_size == 9
    assert config.digest.default_tz == "Europe/Paris"
    assert config.db == str(tmp_path / "opt.db")
    assert config.source == str(file)
    via_env = load_config(env={"NEWSBOT_CONFIG": str(file)})
    assert via_env.search.page_size == 7 and via_env.db == "from-file.db"


def test_secrets_stay_out_of_repr():
    config = load_config(
        env={
            "SLACK_BOT_TOKEN": SECRET,
            "SLACK_SIGNING_SECRET": "sig-" + SECRET,
            "SLACK_APP_TOKEN": "xapp-" + SECRET,
        }
    )
    assert config.slack_bot_token == SECRET
    assert SECRET not in repr(config) and SECRET not in str(config)


def test_core_settings_come_from_the_typed_config():
    config = load_config(
        env={
            "NEWSBOT_SUBSCRIPTIONS_ADMINS_ONLY": "true",
            "NEWSBOT_DIGEST_DEFAULT_TIME": "06:30",
            "NEWSBOT_DIGEST_DEFAULT_TZ": "Europe/Oslo",
            "NEWSBOT_SEARCH_PAGE_SIZE": "8",
            "NEWSBOT_DIGEST_ITEMS_PER_TOPIC": "3",
            "NEWSBOT_DIGEST_MAX_AGE_HOURS": "12",
            "NEWSBOT_DIGEST_POST_WHEN_EMPTY": "on",
            "NEWSBOT_DIGEST_GRACE_HOURS": "1.5",
        }
    )
    assert isinstance(config, Config)
    assert Settings.from_config(config) == Settings(
        admins_only=True,
        default_time="06:30",
        default_tz="Europe/Oslo",
        page_size=8,
        items_per_topic=3,
    )
    digest = DigestSettings.from_config(config)
    assert (
        digest.max_age_hours,
        digest.items_per_topic,
        digest.post_when_empty,
        digest.grace_hours,
    ) == (12.0, 3, True, 1.5)


def test_the_readme_documents_every_key():
    readme = README.read_text()
    for key in KEYS:
        assert f"| `{key}` | `{env_name(key)}`" in readme, key
