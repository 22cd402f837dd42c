"""Renderers: the core's answers (``bot.core.answers``) and digests (``bot.core.digest``) as
Slack Block Kit or as terminal text, two renderers of the same data.

The modules form layers, each importing only those below it (tests/render/test_imports.py):

- ``common``: what both build on (trim, ages, dates; mrkdwn and terminal escaping; the wording
  of subscriptions and settings). It imports no render module.
- ``kit``: Block Kit's limits and pieces (section, context, button, link, plain_text).
- Block Kit: ``digest_blocks`` (a digest as a message), ``blocks`` (every answer, as a message)
  and ``home`` (the App Home view).
- Terminal: ``text`` (every answer and digest), on ``common`` alone.

The words in an answer may hold the core's two marks (``bot.core.markup``); both outputs show
them as written.
"""
