"""The versioned schema, as sqlite-utils 4 ``Migrations``.

Each function is one schema version. Never edit an applied migration: add a new one. A
migration is frozen: it imports nothing from ``bot`` (nor from the rest of ``storage``) and calls
no live code, so it does the same to a database migrated today or in a year; what it needs it
carries with it (m005's title keys). The names are recorded in each database's
``_sqlite_migrations`` table: never rename one.
"""

from __future__ import annotations

import re

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("newsbot")

# The columns the full-text index covers, in the order bm25() weights refer to them. m001
# builds the index from them: never edit (a change to the index is a new migration).
FTS_COLUMNS = ("title", "excerpt", "provider", "topics")


@migrations()
def m001_articles(db: Database) -> None:
    # ``id`` is a time key (see storage.store.time_key): rowid order is publication order, so
    # the FTS index can hand back the freshest matches of a common word without ranking all.
    db.table("articles").create(
        {
            "id": int,
            "url": str,  # canonical address: the article's identity
            "web_url": str,  # the address as the file gave it (links point here)
            "title": str,
            "excerpt": str,
            "provider": str,
            "domain": str,
            "published": str,  # ISO 8601, UTC
            "published_ts": int,  # epoch seconds
            "category": str,
            "type": str,
            "quality": int,
            "heat": int,
            "topics": str,  # JSON list
            "images": str,  # JSON list
            "featured_content": str,  # raw HTML: stored, never sent to Slack
            "extra": str,  # JSON mapping of unknown fields
            "parent_id": int,
            "story_id": int,
            "source_file": str,
            "loaded_at": str,
        },
        pk="id",
        not_null={"url", "title"},
    )
    db.table("articles").create_index(["url"], unique=True)
    db.table("articles").create_index(["story_id"])
    db.table("articles").create_index(["parent_id"])
    db.table("url_aliases").create({"alias": str, "article_id": int}, pk="alias")
    db.table("url_aliases").create_index(["article_id"])
    db.table("articles").enable_fts(
        FTS_COLUMNS, fts_version="FTS5", tokenize="porter", create_triggers=True
    )


@migrations()
def m002_subscriptions(db: Database) -> None:
    # A channel's (or, kind 'dm', a user's) standing order for a topic. The channel's digest
    # time is the same for all its topics: subscribing "at" a time moves them all.
    db.table("subscriptions").create(
        {
            "id": int,
            "team_id": str,
            "channel_id": str,
            "kind": str,  # 'channel' or 'dm'
            "topic": str,  # as typed
            "topic_key": str,  # normalised: lower case, single spaces
            "subscribed_by": str,
            "subscribed_at": str,
            "hour": int,
            "minute": int,
            "tz": str,
            "paused_reason": str,
            "paused_at": str,
        },
        pk="id",
        not_null={"team_id", "channel_id", "topic", "topic_key", "hour", "minute", "tz"},
        defaults={"kind": "channel"},
    )
    db.table("subscriptions").create_index(["team_id", "channel_id", "topic_key"], unique=True)


@migrations()
def m003_digests(db: Database) -> None:
    # One row per channel and local date: the morning digest's run. Its unique key is what
    # makes "at most one digest per channel per day" hold across processes; ``claimed_by`` and
    # ``claimed_until`` are a lease, so a run whose process died is taken over later.
    # States: running (claimed, nothing sent yet), posting (a post may have reached Slack),
    # done, empty (nothing new, no post), paused (the channel is gone), failed (gave up for
    # now: a later run of the job may try again), skipped (missed by more than the grace).
    db.table("digest_runs").create(
        {
            "id": int,
            "team_id": str,
            "channel_id": str,
            "local_date": str,  # YYYY-MM-DD in the channel's time zone
            "scheduled_for": str,  # the due instant, ISO 8601 UTC
            "state": str,
            "claimed_by": str,  # host|pid-namespace|pid|token of the process holding the lease
            "claimed_until": str,  # ISO 8601 UTC; the lease is void after it
            "attempts": int,  # claims
            "post_attempts": int,  # chat.postMessage calls made (0: nothing can be in Slack)
            "plan": str,  # JSON [[story_id, article_id, topic_key], ...] of the last post
            "message_ts": str,
            "error": str,
            "created_at": str,
            "updated_at": str,
            "finished_at": str,
        },
        pk="id",
        not_null={"team_id", "channel_id", "local_date", "scheduled_for", "state"},
        defaults={"attempts": 0, "post_attempts": 0},
    )
    db.table("digest_runs").create_index(["team_id", "channel_id", "local_date"], unique=True)
    db.table("digest_runs").create_index(["state"])
    # Which story went to which channel in which digest: never twice.
    db.table("deliveries").create(
        {
            "id": int,
            "team_id": str,
            "channel_id": str,
            "story_id": int,
            "article_id": int,  # the headline shown
            "topic_key": str,
            "run_id": int,
            "delivered_at": str,
        },
        pk="id",
        not_null={"team_id", "channel_id", "story_id", "run_id"},
        foreign_keys=[("run_id", "digest_runs", "id")],
    )
    db.table("deliveries").create_index(["team_id", "channel_id", "story_id"], unique=True)
    db.table("deliveries").create_index(["run_id"])


@migrations()
def m004_preferences(db: Database) -> None:
    # Per-user and per-channel settings (absent row: defaults) and muted outlets.
    db.table("user_settings").create(
        {
            "team_id": str,
            "user_id": str,
            "items": int,
            "hour": int,
            "minute": int,
            "skip_weekends": int,
            "tz": str,
            "updated_at": str,
        },
        pk=("team_id", "user_id"),
    )
    db.table("channel_settings").create(
        {
            "team_id": str,
            "channel_id": str,
            "items_per_topic": int,
            "skip_weekends": int,
            "updated_at": str,
        },
        pk=("team_id", "channel_id"),
    )
    # scope 'user' (owner: a user id; their searches and DM digests) or 'channel' (owner: a
    # channel id; its digests). Outlets are kept by web domain, sub-domains included.
    db.table("mutes").create(
        {
            "team_id": str,
            "scope": str,
            "owner_id": str,
            "domain": str,
            "label": str,
            "muted_by": str,
            "muted_at": str,
        },
        pk=("team_id", "scope", "owner_id", "domain"),
    )
    db.table("articles").create_index(["domain"])
    db.execute("CREATE INDEX idx_articles_provider_nocase ON articles (provider COLLATE NOCASE)")


# -- m005's frozen copy of the title-key function ------------------------------------------
# A migration must give every database the same result whenever it runs, so m005 does not call
# the live ``bot.core.stories.title_keys``: when that changes, a database migrated later would
# get other keys than one migrated earlier (and storage would depend on bot). Below is that
# function, and what it calls, exactly as it was when m005 was written (issue 10 froze it):
# never edit it. The loader keeps writing keys with the live function; a change to the keys'
# definition is a new migration that rebuilds the table.

# A frozen copy, kept as compact as it was written.
# fmt: off
_M005_STOP_WORDS = frozenset([
    "a", "an", "the", "and", "or", "but", "nor", "of", "to", "in", "on", "at", "by", "for", "from",
    "with", "without", "into", "onto", "over", "under", "about", "after", "before", "as", "is",
    "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those",
    "their", "his", "her", "our", "your", "my", "we", "you", "they", "he", "she", "i", "me", "us",
    "them", "not", "no", "new", "now", "than", "then", "so", "if", "up", "out", "off", "via", "vs",
    "will", "would", "can", "could", "may", "might", "has", "have", "had", "do", "does", "did",
    "just", "more", "most", "says", "say", "said", "how", "why", "what", "when", "where", "who",
    "which", "while", "amid",
])
# fmt: on
_M005_KEY_WORD = re.compile(r"[^\W\d_]\w{2,}")  # a letter, then two or more word characters
_M005_MAX_KEYS = 4


def _m005_stem(word: str) -> str:
    if word[-1] != "s" or len(word) <= 4:
        return word
    for suffix in ("ies", "es", "s"):
        if len(word) > 4 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _m005_title_keys(title: str) -> list[str]:
    """A headline's longest content words, stemmed (at most ``_M005_MAX_KEYS``)."""
    found = {
        _m005_stem(w) for w in _M005_KEY_WORD.findall(title.lower()) if w not in _M005_STOP_WORDS
    }
    return sorted(found, key=lambda w: (-len(w), w))[:_M005_MAX_KEYS]


@migrations()
def m005_title_keys(db: Database) -> None:
    # Each article's longest headline words (``_m005_title_keys`` above, a frozen copy of what
    # the loader writes), to find the articles that may report the same story with a B-tree
    # range look-up: the full-text index answered the same question several times slower.
    db.execute(
        "CREATE TABLE title_keys (key TEXT NOT NULL, article_id INTEGER NOT NULL, "
        "PRIMARY KEY (key, article_id)) WITHOUT ROWID"
    )
    rows = db.execute("SELECT id, title FROM articles").fetchall()
    db.conn.executemany(
        "INSERT OR IGNORE INTO title_keys (key, article_id) VALUES (?, ?)",
        ((key, article_id) for article_id, title in rows for key in _m005_title_keys(title)),
    )


@migrations()
def m006_digest_delivery(db: Database) -> None:
    # Exactly once under faults. A run now says whether its last post may be in Slack
    # (``post_unknown``: the answer was lost, or was a 5xx), when posts were tried (the window
    # the history look-up searches), where it posts (a DM's channel), and, in state 'waiting'
    # (a transient failure), when to try again. Frozen: plain SQL, no live code.
    runs = db.table("digest_runs")
    runs.add_column("post_unknown", int, not_null_default=0)
    runs.add_column("post_started_at", str)
    runs.add_column("post_last_at", str)
    runs.add_column("retry_at", str)
    runs.add_column("conversation", str)
    # Runs written before this version that tried a post and did not finish: the outcome of
    # that post is unknown.
    db.execute(
        "UPDATE digest_runs SET post_unknown = 1 WHERE post_attempts > 0 "
        "AND state IN ('running', 'posting', 'failed')"
    )
    # Messages to people that must not be lost to a Slack outage ("your subscription was
    # paused"): kept until sent.
    db.table("notices").create(
        {
            "id": int,
            "team_id": str,
            "user_id": str,
            "channel_id": str,  # what the notice is about
            "reason": str,
            "text": str,
            "created_at": str,
            "attempts": int,
            "next_attempt_at": str,
            "last_error": str,
            "sent_at": str,
        },
        pk="id",
        not_null={"team_id", "user_id", "text", "created_at"},
        defaults={"attempts": 0},
    )
    db.table("notices").create_index(["sent_at", "next_attempt_at"])


@migrations()
def m007_delivered_articles(db: Database) -> None:
    # Stable story identity: every article of a story a conversation was sent, as it was when
    # it was sent. Stories change (a new article joins two; a regroup splits or merges them)
    # and their ids with them; a story is "already delivered" to a conversation when any of
    # its articles is here, whatever its id is now. Frozen: plain SQL, no live code.
    db.table("delivered_articles").create(
        {"team_id": str, "channel_id": str, "article_id": int, "run_id": int},
        pk=("team_id", "channel_id", "article_id"),
        not_null={"team_id", "channel_id", "article_id"},
    )
    # Deliveries made before this version: the article shown and its story's members now.
    db.execute(
        "INSERT OR IGNORE INTO delivered_articles (team_id, channel_id, article_id, run_id) "
        "SELECT team_id, channel_id, article_id, run_id FROM deliveries"
    )
    db.execute(
        "INSERT OR IGNORE INTO delivered_articles (team_id, channel_id, article_id, run_id) "
        "SELECT d.team_id, d.channel_id, a.id, d.run_id FROM deliveries d "
        "JOIN articles a ON a.story_id = d.story_id"
    )


@migrations()
def m008_story_grouping(db: Database) -> None:
    # Story grouping by bot.core.grouping (issue 11), kept in the database. Frozen: plain SQL.
    #
    # The full-text index follows only the columns it covers: an update of any other column (a
    # story id, above all, which a regroup rewrites by the thousand) no longer rewrites the
    # article's index entries.
    db.execute("DROP TRIGGER articles_au")
    db.execute(
        "CREATE TRIGGER articles_au AFTER UPDATE OF title, excerpt, provider, topics "
        "ON articles BEGIN "
        "INSERT INTO articles_fts (articles_fts, rowid, title, excerpt, provider, topics) "
        "VALUES ('delete', old.rowid, old.title, old.excerpt, old.provider, old.topics); "
        "INSERT INTO articles_fts (rowid, title, excerpt, provider, topics) "
        "VALUES (new.rowid, new.title, new.excerpt, new.provider, new.topics); END"
    )
    # A file's main article (1) or only ever a related entry (0): a main article leads a story
    # before a related one. Rows written before knew only their parent.
    db.execute("ALTER TABLE articles ADD COLUMN is_main INTEGER")
    db.execute("UPDATE articles SET is_main = (parent_id IS NULL)")
    db.execute("CREATE INDEX idx_articles_published_ts ON articles (published_ts)")
    db.execute("CREATE INDEX idx_articles_domain_published_ts ON articles (domain, published_ts)")
    # A story of two articles or more: the article that leads it and its outlets (a story
    # without a row is one article). ``id`` is its articles' ``story_id``.
    db.execute(
        "CREATE TABLE stories (id INTEGER PRIMARY KEY, lead_id INTEGER NOT NULL, "
        "articles INTEGER NOT NULL, outlets INTEGER NOT NULL, outlet_names TEXT NOT NULL, "
        "first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL)"
    )
    db.execute("CREATE INDEX idx_stories_last_ts ON stories (last_ts)")
    # The corpus statistics grouping weighs words with (document frequency, and how often a
    # word is written capitalised or in lower case), of the articles grouped so far.
    db.execute(
        "CREATE TABLE grouping_words (word TEXT PRIMARY KEY, df INTEGER NOT NULL, "
        "capitals INTEGER NOT NULL, lower INTEGER NOT NULL) WITHOUT ROWID"
    )
    # One row: the rule the stories were made by (none yet: every story is to be made again),
    # how many articles the statistics count, and the process regrouping now, under a lease.
    db.execute(
        "CREATE TABLE grouping_state (id INTEGER PRIMARY KEY CHECK (id = 1), rule TEXT, "
        "articles INTEGER NOT NULL DEFAULT 0, owner TEXT, owner_until REAL)"
    )
    db.execute("INSERT INTO grouping_state (id, rule, articles) VALUES (1, NULL, 0)")
    # Articles to group again, written by triggers whoever writes the article: a new one; one
    # whose headline, excerpt, outlet or date changed (``regroup`` 1), or only what chooses a
    # story's lead (0). ``counted``: the statistics count the article as it was
    # (``was_title``, ``was_excerpt``); ``touch`` counts changes since the row was written.
    db.execute(
        "CREATE TABLE grouping_pending (article_id INTEGER PRIMARY KEY, "
        "regroup INTEGER NOT NULL, counted INTEGER NOT NULL, was_title TEXT, "
        "was_excerpt TEXT, was_ts INTEGER, touch INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute(
        "CREATE TRIGGER grouping_pending_ai AFTER INSERT ON articles BEGIN "
        "INSERT INTO grouping_pending (article_id, regroup, counted, was_ts) "
        "VALUES (new.id, 1, 0, new.published_ts) "
        "ON CONFLICT (article_id) DO UPDATE SET regroup = 1, touch = touch + 1; END"
    )
    db.execute(
        "CREATE TRIGGER grouping_pending_au_text AFTER UPDATE OF title, excerpt, domain, "
        "published_ts ON articles BEGIN "
        "INSERT INTO grouping_pending (article_id, regroup, counted, was_title, was_excerpt, "
        "was_ts) VALUES (old.id, 1, old.published_ts IS NOT NULL, old.title, old.excerpt, "
        "old.published_ts) "
        "ON CONFLICT (article_id) DO UPDATE SET regroup = 1, touch = touch + 1; END"
    )
    db.execute(
        "CREATE TRIGGER grouping_pending_au_lead AFTER UPDATE OF quality, provider, parent_id, "
        "is_main ON articles BEGIN "
        "INSERT INTO grouping_pending (article_id, regroup, counted, was_title, was_excerpt, "
        "was_ts) VALUES (old.id, 0, old.published_ts IS NOT NULL, old.title, old.excerpt, "
        "old.published_ts) "
        "ON CONFLICT (article_id) DO UPDATE SET touch = touch + 1; END"
    )
    # The old rule's candidate index (m005): nothing reads it any more.
    db.execute("DROP TABLE title_keys")


@migrations()
def m009_search_vocabulary(db: Database) -> None:
    # The full-text index's own vocabulary, one row per indexed (stemmed) term with the number
    # of articles holding it: search corrects a word that matches nothing to the nearest term.
    # A virtual table over articles_fts: it stores nothing and is always current.
    db.execute("CREATE VIRTUAL TABLE articles_fts_vocab USING fts5vocab(articles_fts, row)")


@migrations()
def m010_inherited_topics(db: Database) -> None:
    # Topic labels as evidence, not as matches (issue 12, item 3). Frozen: plain SQL.
    #
    # ``topics`` holds an article's own labels (those of the files that name it as their main
    # article, or a related entry's own), and only they are indexed for matching.
    # ``inherited_topics`` (a JSON list) holds what a related entry without labels of its own
    # took from the file listing it: weaker evidence, kept for display, never indexed.
    db.execute("ALTER TABLE articles ADD COLUMN inherited_topics TEXT")
    # The loader before this version gave a related entry its parent's labels and added every
    # mention's labels to an article's, across every file that listed it. A row that was never a
    # file's main article had, in the usual case, only such inherited labels: they move to
    # ``inherited_topics``, and the index forgets them (``articles_au`` follows ``topics``).
    db.execute(
        "UPDATE articles SET inherited_topics = CASE WHEN topics IS NULL OR topics = '' "
        "THEN '[]' ELSE topics END WHERE NOT coalesce(is_main, 0)"
    )
    db.execute(
        "UPDATE articles SET topics = '[]' WHERE NOT coalesce(is_main, 0) AND topics IS NOT '[]'"
    )
    # A main article keeps its labels: the database cannot tell which came from its own files
    # and which from the files that only listed it. Its ``inherited_topics`` stays NULL, which
    # tells the loader so: the first time a file names it as its main article, its labels
    # become that file's (loading the same folders again cleans them).


@migrations()
def m012_search_terms(db: Database) -> None:
    # The index's vocabulary as a plain table (storage.vocabulary says why): (term, articles
    # holding it), as in articles_fts_vocab (m009), where reading a range costs every article
    # of its terms. Frozen: plain SQL.
    db.execute(
        "CREATE TABLE search_terms (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID"
    )
    db.execute("INSERT INTO search_terms (term, docs) SELECT term, doc FROM articles_fts_vocab")
    # Articles written since search_terms took them in, noted by triggers whoever writes them:
    # ``counted``: search_terms counts the article as it was (``was_*``, the indexed columns);
    # a row already there keeps what the table counts.
    db.execute(
        "CREATE TABLE search_terms_pending (article_id INTEGER PRIMARY KEY, "
        "counted INTEGER NOT NULL, was_title TEXT, was_excerpt TEXT, was_provider TEXT, "
        "was_topics TEXT)"
    )
    db.execute(
        "CREATE TRIGGER search_terms_ai AFTER INSERT ON articles BEGIN "
        "INSERT OR IGNORE INTO search_terms_pending (article_id, counted) VALUES (new.id, 0); "
        "END"
    )
    for name, event in (("au", "UPDATE OF title, excerpt, provider, topics"), ("ad", "DELETE")):
        db.execute(
            f"CREATE TRIGGER search_terms_{name} AFTER {event} ON articles BEGIN "
            "INSERT OR IGNORE INTO search_terms_pending (article_id, counted, was_title, "
            "was_excerpt, was_provider, was_topics) "
            "VALUES (old.id, 1, old.title, old.excerpt, old.provider, old.topics); END"
        )


@migrations()
def m013_sources(db: Database) -> None:
    # Live sources (issue 13): feeds polled over HTTP and watched folders. Frozen: plain SQL.
    #
    # One row per address, however many channels care about it: a feed's URL (scheme and host
    # in lower case, no fragment) or a folder's absolute resolved path. ``state``: 'active'
    # (polled), 'paused' (kept, not polled), 'gone' (410: kept, not polled). Times are ISO 8601
    # UTC to the second, so text order is time order (due_sources reads next_poll_at so).
    # Validators (etag, last_modified, body_hash) are stored only after a successful parse.
    # ``moved_to``/``moved_count``: a permanent redirect seen on consecutive fetches, until it
    # replaces the address. ``notified_*_at``: when whoever added it was told it fails, or that
    # it went quiet (one DM per episode, not one per poll).
    db.execute(
        "CREATE TABLE sources (id INTEGER PRIMARY KEY, "
        "kind TEXT NOT NULL CHECK (kind IN ('feed', 'folder')), "
        "address TEXT NOT NULL UNIQUE, title TEXT, topics TEXT NOT NULL DEFAULT '[]', "
        "added_by TEXT NOT NULL, added_at TEXT NOT NULL, "
        "state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'gone')), "
        "etag TEXT, last_modified TEXT, body_hash TEXT, "
        "interval_seconds INTEGER NOT NULL, next_poll_at TEXT, "
        "consecutive_failures INTEGER NOT NULL DEFAULT 0, last_success_at TEXT, "
        "last_error TEXT, last_error_at TEXT, failing_since TEXT, last_new_item_at TEXT, "
        "moved_to TEXT, moved_count INTEGER NOT NULL DEFAULT 0, "
        "notified_failing_at TEXT, notified_quiet_at TEXT)"
    )
    db.execute("CREATE INDEX idx_sources_due ON sources (state, next_poll_at)")
    # Which source brought which article, and when it first did: an article may come from
    # several sources (the same link in two feeds, a feed and a folder), so a table rather than
    # a column on articles. "Items in the last 7 days" counts rows by first_seen.
    db.execute(
        "CREATE TABLE source_items (source_id INTEGER NOT NULL "
        "REFERENCES sources (id) ON DELETE CASCADE, article_id INTEGER NOT NULL "
        "REFERENCES articles (id) ON DELETE CASCADE, first_seen TEXT NOT NULL, "
        "PRIMARY KEY (source_id, article_id)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX idx_source_items_seen ON source_items (source_id, first_seen)")
    db.execute("CREATE INDEX idx_source_items_article ON source_items (article_id)")
    # A folder source's files as its last scan left them: a file whose size and mtime are the
    # same is not read again; ``mtime_ns`` NULL: read it next time (written too recently to
    # trust, see bot.feeds.folders). ``hash`` of the content; ``articles`` it holds; ``error``
    # why the loader refused it (a bad file stays bad until it changes).
    db.execute(
        "CREATE TABLE source_files (source_id INTEGER NOT NULL "
        "REFERENCES sources (id) ON DELETE CASCADE, path TEXT NOT NULL, "
        "size INTEGER NOT NULL, mtime_ns INTEGER, hash TEXT NOT NULL, "
        "articles INTEGER NOT NULL DEFAULT 0, error TEXT, seen_at TEXT NOT NULL, "
        "PRIMARY KEY (source_id, path)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX idx_source_files_hash ON source_files (source_id, hash)")


@migrations()
def m014_housekeeping(db: Database) -> None:
    # Bounded growth (issue 15): old digest history is pruned run by run (see
    # storage.housekeeping), which finds a run's delivered articles by run id.
    db.execute("CREATE INDEX idx_delivered_articles_run ON delivered_articles (run_id)")


@migrations()
def m015_ranking_version(db: Database) -> None:
    # A number that grows whenever what ranking reads of an article or a story changes, in any
    # process (issue 15): a ranking may keep the scored matches of a topic between digests and
    # searches while it has not moved (bot.core.matches). Row triggers, as SQLite has no others;
    # an update that rewrites a row with the same values leaves it alone (a feed polled again).
    db.execute(
        "CREATE TABLE ranking_version (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)"
    )
    db.execute("INSERT INTO ranking_version (id, n) VALUES (1, 0)")
    bump = "BEGIN UPDATE ranking_version SET n = n + 1 WHERE id = 1; END"
    articles = (
        "title", "excerpt", "provider", "topics", "story_id", "published_ts", "quality",
        "domain", "is_main",
    )  # fmt: skip
    stories = ("lead_id", "outlets")
    for table, columns in (("articles", articles), ("stories", stories)):
        changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in columns)
        db.execute(f"CREATE TRIGGER ranking_version_{table}_ai AFTER INSERT ON {table} {bump}")
        db.execute(f"CREATE TRIGGER ranking_version_{table}_ad AFTER DELETE ON {table} {bump}")
        db.execute(
            f"CREATE TRIGGER ranking_version_{table}_au AFTER UPDATE ON {table} "
            f"WHEN {changed} {bump}"
        )
