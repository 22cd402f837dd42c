"""A story's other outlets (``search.other_outlets``): never the shown article's own outlet,
whatever its spelling, so "also: Reuters" never stands under a Reuters story, in search
answers and digests alike."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.digest import DigestEntry
from bot.core.search import other_outlets, same_outlet


def row(n: int, provider: str | None, domain: str = "") -> dict[str, Any]:
    return {"id": n, "provider": provider, "domain": domain}


LEAD = row(1, "Reuters", "reuters.com")


@pytest.mark.parametrize(
    "other",
    [
        row(2, "Reuters", "reuters.com"),
        row(2, "REUTERS", "uk.reuters.com"),
        row(2, "Reuters.", "feeds.example"),
        row(2, " reuters ", ""),
        row(2, "", "reuters.com"),  # no name: its domain
        row(2, None, "www.reuters.com"),
        row(2, "Reuters Wire", "reuters.com"),  # another name, the same domain
        row(2, "", "uk.reuters.com"),  # a label of the domain is the lead's name
    ],
)
def test_the_lead_outlet_in_any_spelling_is_not_another_outlet(other):
    assert same_outlet(LEAD, other) and same_outlet(other, LEAD)
    assert other_outlets([LEAD, other], LEAD) == []


@pytest.mark.parametrize(
    "other",
    [row(2, "Forbes", "forbes.com"), row(2, "", "forbes.com"), row(2, "Reuters UK", "x.example")],
)
def test_other_outlets_are_named(other):
    assert not same_outlet(LEAD, other)
    assert other_outlets([LEAD, other], LEAD) == [other]


def test_each_other_outlet_once_in_members_order():
    members = [
        LEAD,
        row(2, "Forbes", "forbes.com"),
        row(3, "forbes", "forbes.com"),
        row(4, "The New York Times", "nytimes.com"),
        row(5, "Reuters.", "reuters.com"),
    ]
    assert [m["id"] for m in other_outlets(members, LEAD)] == [2, 4]


def test_the_lead_named_by_its_domain_alone_is_still_its_outlet():
    lead = row(1, "", "reuters.com")
    members = [lead, row(2, "Reuters", "feeds.example"), row(3, "AP", "apnews.com")]
    assert [m["id"] for m in other_outlets(members, lead)] == [3]


def test_a_digest_entry_never_names_its_own_outlet():
    entry = DigestEntry(
        1,
        1.0,
        {"id": 1, "provider": "Reuters", "domain": "reuters.com"},
        [row(2, "REUTERS", "reuters.com"), row(3, "Forbes", "forbes.com"), row(4, "", "ft.com")],
    )
    assert entry.outlets == ["Forbes", "ft.com"]
