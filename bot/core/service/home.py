"""The App Home tab: a page of the user's follows, their settings, the channel subscriptions
they made, and the health of the first live sources. It has no ``/news`` subcommand:
``app_home_opened`` draws it."""

from __future__ import annotations

from bot.core.answers import HomeAnswer
from bot.core.service.base import Area, Context, Core
from bot.core.service.follows import Follows, as_dm
from bot.core.service.preferences import Preferences
from bot.core.service.sources import Sources

HOME_PAGE = 20  # follows per page of the Home tab
HOME_CHANNEL_SUBS = 20  # channel subscriptions shown in full; the rest are counted
HOME_SOURCES = 10  # live sources whose health is shown; the rest are counted (/news sources)


class Home(Area):
    def __init__(
        self, core: Core, follows: Follows, preferences: Preferences, sources: Sources
    ) -> None:
        super().__init__(core)
        self.follows = follows
        self.preferences = preferences
        self.sources = sources

    def home(self, ctx: Context, page: int = 0) -> HomeAnswer:
        dm = as_dm(ctx)
        self.follows.refresh_user_zone(dm)
        follows = self.store.subscriptions_by(ctx.team_id, ctx.user_id, kind="dm")
        pages = max(1, -(-len(follows) // HOME_PAGE))
        page = min(max(0, page), pages - 1)
        shown = follows[page * HOME_PAGE : (page + 1) * HOME_PAGE]
        channel_subs = self.store.subscriptions_by(ctx.team_id, ctx.user_id, kind="channel")
        sources = self.sources.health()
        return HomeAnswer(
            shown,
            len(follows),
            page,
            pages,
            self.preferences.settings_answer(dm),
            channel_subs[:HOME_CHANNEL_SUBS],
            channel_subs[HOME_CHANNEL_SUBS:],
            sources[:HOME_SOURCES],
            max(0, len(sources) - HOME_SOURCES),
        )
