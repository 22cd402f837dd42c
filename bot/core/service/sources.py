"""Live sources from Slack: ``/news sources`` (every feed and folder newsbot polls, with its
health) and ``/news source add <url> [topic ...]`` / ``/news source remove <id>``.

Sources belong to the workspace, not to a channel: adding or removing one is for workspace
admins only when ``subscriptions.admins_only`` is on, wherever it is typed (a DM too), so the
handler checks that itself and the declaration asks for the user's admin flag first. Whoever
adds a source (``team:user``) is who the poller tells when it fails for a day, goes quiet or
is gone. Slack adds feeds only: a folder is a path on newsbot's server, which only
``newsbot sources add PATH`` there may add.
"""

from __future__ import annotations

import re
import shlex

from bot.core.answers import MessageAnswer, SourceHealth, SourcesAnswer
from bot.core.grammar import MAX_TOPIC_CHARS, Command, CommandError
from bot.core.markup import code
from bot.core.service.base import Area, Context, always, subcommand
from storage.sources import BadAddress, Source, kind_of, normalise_address

ADD, REMOVE = "add", "remove"
MAX_TOPICS = 20  # topics given to one source from Slack
MAX_ADDRESS_CHARS = 2000
EXAMPLE = "`/news source add https://example.com/feed.xml ai` or `/news source remove 3`"
LIST_HINT = "`/news sources` lists them with their ids."
FOLDERS_FROM_CLI = (
    "Folders can be added only on newsbot's server, from the command line: "
    "`newsbot sources add PATH`. Here, add a feed's http(s) address."
)
NOT_ADMIN = "Only workspace admins and owners can add or remove news sources here."
ADMIN_UNKNOWN = (
    "Only workspace admins and owners can add or remove news sources here, and I could not "
    "check with Slack whether you are one. Nothing changed; please try again in a moment."
)
# What looks like a path on a machine, not a web address: "/srv/news", "~/news", "./x", "C:\x"
_PATH = re.compile(r"^(?:[/~.\\]|[A-Za-z]:[\\/]|file:)", re.IGNORECASE)
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})


# -- reading the words -----------------------------------------------------------------------


def source_change(name: str, words: str) -> Command:
    """'add <url> [topic ...]' or 'remove <id>': Command(name, the rest, value=the action).
    A topic of several words is quoted ("machine learning")."""
    action, _, rest = words.partition(" ")
    action, rest = action.lower(), rest.strip()
    if action not in (ADD, REMOVE) or not rest:
        raise CommandError(f"Add or remove which source? e.g. {EXAMPLE}.")
    if action == ADD:
        address_and_topics(rest)  # refused now, before anything is looked up
    return Command(name, rest, value=action)


def sources_or_change(name: str, words: str) -> Command:
    """``/news sources``; ``/news sources add ...`` (the command line's way) is taken as
    ``/news source add ...``. Other words after it are ignored, as ``nothing`` does."""
    action = words.partition(" ")[0].lower()
    if action in (ADD, REMOVE):
        return source_change("source", words)
    return Command(name)


def address_and_topics(words: str) -> tuple[str, list[str]]:
    """The address and the topics of 'add <url> [topic ...]', or CommandError."""
    lexer = shlex.shlex(words.translate(_QUOTES), posix=True)
    lexer.whitespace_split, lexer.escape = True, ""  # a backslash is a character (C:\news)
    try:
        parts = list(lexer)
    except ValueError:
        raise CommandError(
            'A quote is not closed: quote a topic of several words, e.g. "machine learning".'
        ) from None
    if not parts:
        raise CommandError(f"Add which feed? e.g. {EXAMPLE}.")
    address, topics = _unwrapped(parts[0]), [" ".join(t.split()) for t in parts[1:]]
    topics = [t for t in topics if t]
    if len(address) > MAX_ADDRESS_CHARS:
        raise CommandError(f"That address is {len(address):,} characters; the limit is 2,000.")
    if len(topics) > MAX_TOPICS:
        raise CommandError(f"That is {len(topics)} topics; a source takes at most {MAX_TOPICS}.")
    if any(len(t) > MAX_TOPIC_CHARS for t in topics):
        raise CommandError(f"A topic is at most {MAX_TOPIC_CHARS} characters.")
    return address, topics


def _unwrapped(address: str) -> str:
    """An address as Slack may send it, ``<https://x/feed>`` or ``<https://x/feed|x/feed>``,
    without Slack's brackets and label."""
    if address.startswith("<") and address.endswith(">"):
        return address[1:-1].partition("|")[0]
    return address


def source_id(text: str) -> int:
    """'3' or '#3' -> 3, or CommandError."""
    word = text.strip().lstrip("#")
    if not (word.isascii() and word.isdigit() and len(word) <= 18):
        raise CommandError(f"“{text[:40]}” is not a source id: {LIST_HINT}")
    return int(word)


# -- the area --------------------------------------------------------------------------------


class Sources(Area):
    @subcommand(
        "sources",
        "/news sources",
        "every news source (feeds, folders) and its health",
        read=sources_or_change,
    )
    def list_sources(self, command: Command, ctx: Context) -> SourcesAnswer:
        return SourcesAnswer(self.health())

    @subcommand(
        "source",
        "/news source add <url> [topic ...]",
        "add a news feed for everyone; `/news source remove <id>` removes one",
        read=source_change,
        # the workspace's, not a channel's: the handler applies admins_only everywhere
        needs_user_info=always,
    )
    def change_source(self, command: Command, ctx: Context) -> MessageAnswer:
        if self.options.admins_only and not ctx.is_admin:
            # a failed look-up (None) says so, not "you are no admin"
            return MessageAnswer(ADMIN_UNKNOWN if ctx.is_admin is None else NOT_ADMIN, ok=False)
        if command.value == ADD:
            return self.add(command.text, ctx)
        return self.remove(command.text)

    # -- what the handlers do ------------------------------------------------------------------

    def health(self) -> list[SourceHealth]:
        """Every source, first added first, with its items of the last 7 days."""
        counts = self.store.recent_item_counts(self.clock())
        return [SourceHealth(s, counts.get(s.id, 0)) for s in self.store.sources()]

    def add(self, words: str, ctx: Context) -> MessageAnswer:
        address, topics = address_and_topics(words)
        if kind_of(address) == "folder":
            if _PATH.match(address):
                raise CommandError(FOLDERS_FROM_CLI)
            raise CommandError(
                f"“{address[:100]}” is not an http(s) address: write it in full, e.g. "
                f"`https://{address[:100]}`."
            )
        try:
            normal = normalise_address("feed", address)
        except BadAddress as exc:
            raise CommandError(f"{str(exc)[:300]}. {FOLDERS_FROM_CLI}") from None
        source, created = self.store.add_source(
            "feed",
            normal,
            topics,
            f"{ctx.team_id}:{ctx.user_id}",
            self.clock(),
            self.options.source_interval,
        )
        if not created:
            return MessageAnswer(
                f"Already a source: {describe(source)}. {code('/news sources')} shows its health.",
                ok=False,
            )
        every = self.options.source_interval // 60
        return MessageAnswer(
            f"Added {describe(source)}. I will fetch it shortly, then every "
            f"{every} minutes or so, and tell you in a DM if it keeps failing. "
            f"{code(f'/news source remove {source.id}')} removes it."
        )

    def remove(self, words: str) -> MessageAnswer:
        number = source_id(words)
        source = self.store.source(number)
        if source is None or not self.store.remove_source(source.id):
            return MessageAnswer(f"There is no source #{number}. {LIST_HINT}", ok=False)
        return MessageAnswer(f"Removed {describe(source)}. The articles it brought stay.")


def describe(source: Source) -> str:
    """'source #3, https://example.com/feed (topics: ai, ml)', in code marks: an address or a
    topic from outside can hold no markup or mention that the renderer's escaping misses."""
    topics = ", ".join(source.topics).replace("`", "'")
    shown = code(source.address.replace("`", "%60"))
    about = f" (topics: {code(topics)})" if topics else ""
    return f"source #{source.id}, {shown}{about}"
