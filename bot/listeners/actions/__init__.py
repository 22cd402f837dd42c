"""Buttons on newsbot's messages. Every action_id the renderers use has a listener here."""

from __future__ import annotations

import re

from slack_bolt import Ack, App, Respond

from bot.listeners.actions.digest_menu import tune
from bot.listeners.actions.home import on_home_action
from bot.listeners.actions.search_buttons import more, share, subscribe
from bot.listeners.deps import Deps
from bot.render.blocks import ACTION_MORE, ACTION_SHARE, ACTION_SUBSCRIBE, message_blocks
from bot.render.digest_blocks import ACTION_TUNE
from bot.render.home import HOME_ACTIONS

HANDLERS = {
    ACTION_SUBSCRIBE: subscribe,
    ACTION_MORE: more,
    ACTION_SHARE: share,
    ACTION_TUNE: tune,
    **{action_id: on_home_action for action_id in HOME_ACTIONS},
}


def register(app: App, deps: Deps) -> None:
    for action_id, handler in HANDLERS.items():
        app.action(action_id)(handler(deps))

    # A button from an older version of newsbot (or a forged action_id) must not end in
    # "dispatch_failed": it is answered privately where Slack gave a response_url.
    @app.action(re.compile(".*"))
    def unknown_action(ack: Ack, respond: Respond) -> None:
        ack()
        deps.after_ack(
            respond,
            lambda: message_blocks(
                "That button is from an older version of newsbot: search again with /news."
            ),
        )
