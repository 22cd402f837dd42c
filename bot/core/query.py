"""Parsing what a person types into a search: any text is a valid query.

``parse`` turns it into an AND of groups, each an OR of terms, less the negated terms; its
``fts()`` is an FTS5 expression that cannot be a syntax error: every word is quoted, and only
these operators are understood: ``"a phrase"``, ``OR`` between words, ``-word`` or ``NOT
word`` to exclude, ``word*`` for a prefix. Everything else (brackets, ``NEAR(``, ``:``, emoji)
is punctuation between words. A question's stop words ("how", "to") are not required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY_CHARS = 2000
MAX_TERMS = 32

# Words a question is made of that say nothing of its subject: not required to match, unless
# the query has nothing else. Typed in capitals they are kept ("IT", "WHO").
STOP_WORDS = frozenset(
    """a an the and or of to in on at by for from with into onto about as is are was were be
    been being it its this that these those there here what which who whom whose how why when
    where do does did i me my we our you your he she they them their his her can could should
    would shall any some""".split()  # noqa: SIM905
)
_TOKEN = re.compile(r'"[^"]*"?|\S+')
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Term:
    words: list[str]
    prefix: bool = False
    typed: str = ""  # the token as typed (its case tells "IT" from "it")

    def fts(self) -> str:
        return '"' + " ".join(self.words) + '"' + (" *" if self.prefix else "")

    @property
    def is_stop_word(self) -> bool:
        """A lone everyday word ("how", "to"), not typed in capitals ("IT", "WHO")."""
        return (
            len(self.words) == 1
            and not self.prefix
            and self.words[0] in STOP_WORDS
            and not (self.typed.isupper() and len(self.typed) > 1)
        )

    @property
    def correctable(self) -> bool:
        """One plain word of letters, long enough for a typo to be told from another word."""
        word = self.words[0]
        return len(self.words) == 1 and not self.prefix and len(word) >= 4 and word.isalpha()


@dataclass
class Query:
    """A typed query, parsed: an AND of groups, each an OR of terms, less the negated terms."""

    groups: list[list[Term]]
    negated: list[Term]

    def fts(self) -> str:
        positive = " AND ".join(
            "(" + " OR ".join(t.fts() for t in g) + ")" if len(g) > 1 else g[0].fts()
            for g in self.groups
        )
        return self._less_negated(positive)

    def any_fts(self) -> str:
        """Articles with any of the query's words (still none of the negated ones)."""
        return self._less_negated("(" + " OR ".join(t.fts() for g in self.groups for t in g) + ")")

    def _less_negated(self, positive: str) -> str:
        if self.negated:
            return f"({positive}) NOT (" + " OR ".join(t.fts() for t in self.negated) + ")"
        return positive

    @property
    def stop_words_only(self) -> bool:
        return all(len(g) == 1 and g[0].is_stop_word for g in self.groups)

    def content(self) -> Query:
        """The query less its lone stop words, unless that leaves nothing to search."""
        kept = [g for g in self.groups if not (len(g) == 1 and g[0].is_stop_word)]
        return Query(kept, self.negated) if kept else self


def parse(query: str) -> Query | None:
    """The query's terms, or None when it has no searchable word."""
    groups: list[list[Term]] = []  # AND of ORs
    negated: list[Term] = []
    join_or = negate_next = False
    for token in _TOKEN.findall(query[:MAX_QUERY_CHARS]):
        if token == "OR":
            join_or = bool(groups)
            continue
        if token in ("AND", "NOT"):
            negate_next = token == "NOT"
            continue
        negative = negate_next or (token.startswith("-") and len(token) > 1)
        negate_next = False
        words = _WORD.findall(token)
        if not words:
            continue
        term = Term(
            [w.lower() for w in words],
            prefix=token.rstrip('"').endswith("*") and len(words[-1]) >= 2,
            typed=token,
        )
        if negative:
            negated.append(term)
        elif join_or:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_or = False
        if len(groups) + len(negated) >= MAX_TERMS:
            break
    return Query(groups, negated) if groups else None


def to_fts(query: str) -> str | None:
    """A safe FTS5 expression for a typed query (every word required), or None when it has no
    searchable word. Digests search their topics with it."""
    parsed = parse(query)
    return parsed.fts() if parsed else None
