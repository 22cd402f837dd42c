"""Independent outlets and the lead article of a story (bot.core.grouping.prominence)."""

from __future__ import annotations

import pytest

from bot.core.grouping.prominence import independent_outlets, lead, voices
from tests.core.grouping.conftest import HOUR, T0, item

RELEASE = (
    "Sepio Systems Hardware Access Control solution now available in the Microsoft "
    "Azure Marketplace"
)
RELEASE_TEXT = (
    "Sepio Systems, a leader in hardware access control (HAC), today announced the "
    "availability of its HAC-1 solution in the Microsoft Azure Marketplace."
)


def test_a_syndicated_release_counts_once() -> None:
    copies = [
        item(RELEASE, RELEASE_TEXT, d)
        for d in ("morningstar.com", "prnewswire.com", "apnews.com", "marketwatch.com")
    ]
    dateline = item(RELEASE, "March 10, 2021 /PRNewswire/ -- " + RELEASE_TEXT, "finanzen.net")
    assert independent_outlets([*copies, dateline]) == 1
    report = item(
        "Sepio brings hardware access control to Azure",
        "The rogue-device company Sepio listed HAC-1 in Azure's store.",
        "zdnet.com",
    )
    assert independent_outlets([*copies, report]) == 2


def test_one_outlet_counts_once() -> None:
    a = item("Microsoft acquires Kinvolk", "Kinvolk joins.", "zdnet.com")
    b = item("Kinvolk: what Microsoft gets", "An analysis of the deal.", "zdnet.com")
    c = item("Microsoft buys Kinvolk", "Berlin startup bought.", "siliconangle.com")
    assert independent_outlets([a, b, c]) == 2
    assert sorted(len(v) for v in voices([a, b, c])) == [1, 2]


def test_lead_prefers_a_main_article_then_quality_then_the_earliest() -> None:
    related = item("A", domain="a.com", quality=90, is_main=False)
    low = item("B", domain="b.com", quality=10)
    high_late = item("C", domain="c.com", quality=50, at=T0 + HOUR)
    high_early = item("D", domain="d.com", quality=50, at=T0)
    unknown = item("E", domain="e.com")
    assert lead([related, low, high_late, high_early, unknown]) == high_early
    assert lead([related, unknown]) == unknown
    assert lead([related]) == related
    with pytest.raises(ValueError):
        lead([])
