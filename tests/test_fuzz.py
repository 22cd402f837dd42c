"""A fast subset of the command and HTTP fuzzers (issue 9, item 6); the long campaigns are
``python bench/fuzz_commands.py`` and ``python bench/fuzz_http.py``."""

from __future__ import annotations

from bench import fuzz_commands, fuzz_http


def test_hostile_commands_through_the_shell_and_signed_http():
    tried, failures = fuzz_commands.run(seed=11, count=120)
    assert tried == 240
    assert failures == []


def test_hostile_requests():
    tried, failures = fuzz_http.run(seed=11, count=300)
    assert tried == 300
    assert failures == []


def test_hostile_command_lines():
    """Issue 14: 25 `newsbot` processes with odd tokens, databases, settings and commands
    (the long campaign is ``python bench/fuzz_cli.py``)."""
    from bench import fuzz_cli

    report = fuzz_cli.run(seed=5, count=25)  # fails on the code before issue 14
    assert report.tried == 25
    assert report.failures == [], "\n".join(report.failures)
    assert {"exit 0", "exit 2"} <= set(report.statuses), report.statuses  # both ways were tried
