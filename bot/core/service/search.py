"""Search: ``/news <words>``, its next pages, and "More like this" on a digest entry, each
with the user's muted outlets left out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.core.answers import SearchAnswer, SimilarAnswer
from bot.core.grammar import Command, as_typed
from bot.core.matches import MatchMemo
from bot.core.search import search
from bot.core.service.base import Area, Context, Core, subcommand
from bot.core.similar import similar


class Searches(Area):
    def __init__(self, core: Core) -> None:
        super().__init__(core)
        # the matches earlier searches scored, reused by the next search of the same words
        self.memo = MatchMemo()

    @subcommand(
        "search",
        "/news <words>",
        "the best recent stories on <words>, privately",
        read=as_typed,
        words=(),
    )
    def find(self, command: Command, ctx: Context) -> SearchAnswer:
        return self.search(command.text, ctx)

    def search(
        self,
        query: str,
        ctx: Context,
        offset: int = 0,
        *,
        moment: dt.datetime | None = None,
        shown: Sequence[int] = (),
    ) -> SearchAnswer:
        """A page of ``query``'s stories. The next pages (More) pass the first page's
        ``moment``, so freshness is counted as it was, and the articles ``shown`` so far, so no
        story comes back whatever changed meanwhile."""
        muted = self.store.muted_domains(ctx.team_id, "user", ctx.user_id)
        result = search(
            self.store,
            query,
            limit=self.options.page_size,
            offset=offset,
            now=moment or self.clock(),
            exclude_domains=muted,
            shown=shown,
            memo=self.memo,
        )
        return SearchAnswer(result, ctx.where)

    def similar(self, article_id: int, ctx: Context) -> SimilarAnswer:
        """The stories nearest to an article ("More like this"), the user's mutes applied."""
        muted = self.store.muted_domains(ctx.team_id, "user", ctx.user_id)
        result = similar(
            self.store,
            article_id,
            limit=self.options.page_size,
            now=self.clock(),
            exclude_domains=muted,
        )
        return SimilarAnswer(result.query, result)
