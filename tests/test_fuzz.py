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
