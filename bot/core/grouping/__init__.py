"""Story grouping that holds on real news: which articles report the same event.

A pure package (no SQLite, Slack or loader): words and numbers of a text (:mod:`.text`), corpus
statistics kept up to date as articles arrive (:mod:`.stats`), the rules that keep two articles
apart (:mod:`.vetoes`) and the evidence that joins them (:mod:`.evidence`), stories formed over a
stream of articles in arrival order (:mod:`.cluster`), and what a story knows of itself: how many
independent outlets report it and which article leads it (:mod:`.prominence`).

``bench/stories_eval.py`` measures it against hand-judged pairs of the azure corpus.
"""

from bot.core.grouping.cluster import Grouper, Story
from bot.core.grouping.model import Item
from bot.core.grouping.stats import CorpusStats

__all__ = ["CorpusStats", "Grouper", "Item", "Story"]
