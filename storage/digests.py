"""Digest runs and deliveries: SQL for "one digest per channel per day". Part of :class:`Store`.

A run is a row per (team, channel, local date), claimed under a lease inside a ``BEGIN
IMMEDIATE`` transaction: SQLite lets one connection at a time hold the write lock, so two
processes on one database cannot both claim a run, and the lease (``claimed_until``) lets a
run whose process died be taken over, either when the lease expires or at once when the
caller can tell the owner is dead (see ``owner_gone``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from storage.subscriptions import SUB_COLUMNS, SUB_ORDER, SubscriptionsMixin

# A finished run is never claimed again: its date has its digest (or had nothing to say, or
# its channel is gone). The others may be claimed again: "waiting" (a transient failure, to be
# tried again at ``retry_at`` within the grace period), "failed" (Slack refused the post: a
# later run of the job may try again), "skipped" (missed, or given up at the grace's end).
TERMINAL_STATES = frozenset({"done", "empty", "paused"})
OPEN_STATES = frozenset({"running", "posting"})
UNSETTLED_STATES = frozenset({"running", "posting", "waiting"})

RUN_COLUMNS = (
    "id, team_id, channel_id, local_date, scheduled_for, state, claimed_by, claimed_until, "
    "attempts, post_attempts, plan, message_ts, error, created_at, updated_at, finished_at, "
    "post_unknown, post_started_at, post_last_at, retry_at, conversation"
)
NOTICE_COLUMNS = (
    "id, team_id, user_id, channel_id, reason, text, created_at, attempts, next_attempt_at, "
    "last_error, sent_at"
)

PlanEntry = tuple[int, int, str]  # (story_id, article_id, topic_key)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


class DigestsMixin(SubscriptionsMixin):
    """Methods of Store (see storage.store) for ``digest_runs``, ``deliveries`` and
    ``notices``; built on :class:`SubscriptionsMixin` (pausing a channel pauses its
    subscriptions)."""

    # -- channels to schedule ----------------------------------------------------------------

    def active_channels(self) -> list[dict[str, Any]]:
        """Every conversation with at least one subscription that is not paused: team_id,
        channel_id, kind, hour, minute, tz, first_subscribed_at."""
        return self._rows(
            "SELECT team_id, channel_id, kind, hour, minute, tz, "
            "min(subscribed_at) AS first_subscribed_at FROM subscriptions "
            "WHERE paused_reason IS NULL GROUP BY team_id, channel_id ORDER BY team_id, channel_id"
        )

    def active_subscriptions(self, team_id: str, channel_id: str) -> list[dict[str, Any]]:
        """The conversation's subscriptions that are not paused, in the order it subscribed
        them: its digest's sections (see ``storage.subscriptions``)."""
        return self._rows(
            f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE team_id = ? AND channel_id = ? "
            f"AND paused_reason IS NULL ORDER BY {SUB_ORDER}",
            (team_id, channel_id),
        )

    def pause_channel_for(
        self,
        team_id: str,
        channel_id: str,
        reason: str,
        now: dt.datetime,
        notice: Callable[[str], str] | None = None,
    ) -> list[str]:
        """Pause a channel's active subscriptions; returns who subscribed the ones paused now
        (empty when they already were: tell them once). ``notice(user)``: the text to send each
        of them, queued in the same transaction (see :meth:`pending_notices`), so a Slack
        outage cannot lose it."""
        with self.immediate():
            users = [
                u["subscribed_by"]
                for u in self._rows(
                    "SELECT DISTINCT subscribed_by FROM subscriptions WHERE team_id = ? AND "
                    "channel_id = ? AND paused_reason IS NULL AND subscribed_by IS NOT NULL "
                    "ORDER BY subscribed_by",
                    (team_id, channel_id),
                )
            ]
            self.pause_channel(team_id, channel_id, reason, now)
            if notice is not None:
                for user in users:
                    self._write(
                        "INSERT INTO notices (team_id, user_id, channel_id, reason, text, "
                        "created_at, attempts) VALUES (?, ?, ?, ?, ?, ?, 0)",
                        (team_id, user, channel_id, reason, notice(user), _iso(now)),
                    )
        return users

    # -- notices -----------------------------------------------------------------------------

    def pending_notices(self, now: dt.datetime, limit: int = 100) -> list[dict[str, Any]]:
        """Notices not sent yet whose next attempt is due, oldest first."""
        return self._rows(
            f"SELECT {NOTICE_COLUMNS} FROM notices WHERE sent_at IS NULL AND "
            "(next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id LIMIT ?",
            (_iso(now), limit),
        )

    def notices(self, team_id: str | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE team_id = ? ", (team_id,)) if team_id else ("", ())
        return self._rows(f"SELECT {NOTICE_COLUMNS} FROM notices {where}ORDER BY id", params)

    def notice_sent(self, notice_id: int, now: dt.datetime) -> None:
        self._write(
            "UPDATE notices SET sent_at = ?, attempts = attempts + 1, last_error = NULL "
            "WHERE id = ?",
            (_iso(now), notice_id),
        )

    def notice_failed(
        self, notice_id: int, now: dt.datetime, error: str, retry_at: dt.datetime | None
    ) -> None:
        """A try failed: try again at ``retry_at`` (None: never; Slack refused for good)."""
        self._write(
            "UPDATE notices SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
            "sent_at = CASE WHEN ? IS NULL THEN 'never' ELSE NULL END WHERE id = ?",
            (
                error[:500],
                _iso(retry_at) if retry_at else None,
                _iso(retry_at) if retry_at else None,
                notice_id,
            ),
        )

    # -- runs --------------------------------------------------------------------------------

    def digest_run(self, team_id: str, channel_id: str, local_date: str) -> dict[str, Any] | None:
        return self._one(
            f"SELECT {RUN_COLUMNS} FROM digest_runs WHERE team_id = ? AND channel_id = ? "
            "AND local_date = ?",
            (team_id, channel_id, local_date),
        )

    def digest_run_by_id(self, run_id: int) -> dict[str, Any] | None:
        return self._one(f"SELECT {RUN_COLUMNS} FROM digest_runs WHERE id = ?", (run_id,))

    def digest_runs(
        self, team_id: str | None = None, channel_id: str | None = None
    ) -> list[dict[str, Any]]:
        where, params = [], []
        if team_id is not None:
            where.append("team_id = ?")
            params.append(team_id)
        if channel_id is not None:
            where.append("channel_id = ?")
            params.append(channel_id)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        return self._rows(
            f"SELECT {RUN_COLUMNS} FROM digest_runs {clause}ORDER BY team_id, channel_id, "
            "local_date",
            params,
        )

    def claim_digest_run(
        self,
        team_id: str,
        channel_id: str,
        local_date: str,
        scheduled_for: dt.datetime,
        *,
        owner: str,
        now: dt.datetime,
        lease: dt.timedelta,
        owner_gone: Callable[[str], bool] = lambda owner: False,
    ) -> dict[str, Any]:
        """Try to become the one process running this channel's digest for ``local_date``.

        Returns ``{"status": ..., "run": row}``, status one of: ``claimed`` (a new run, or a
        failed/skipped one tried again), ``taken_over`` (an open run whose lease expired or
        whose owner is gone: ``run["post_attempts"] > 0`` means a post may be in Slack),
        ``finished`` (the date's run is done, empty or paused: nothing to do), ``busy``
        (another live process holds the lease until ``run["claimed_until"]``). A lease ends
        by time; ``owner_gone`` (a process known dead) may end it sooner, never later.
        """
        until = _iso(now + lease)
        stamp = _iso(now)
        with self.immediate():
            run = self.digest_run(team_id, channel_id, local_date)
            if run is None:
                self._write(
                    "INSERT INTO digest_runs (team_id, channel_id, local_date, scheduled_for, "
                    "state, claimed_by, claimed_until, attempts, post_attempts, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, 'running', ?, ?, 1, 0, ?, ?)",
                    (
                        team_id,
                        channel_id,
                        local_date,
                        _iso(scheduled_for),
                        owner,
                        until,
                        stamp,
                        stamp,
                    ),
                )
                status = "claimed"
            elif run["state"] in TERMINAL_STATES:
                return {"status": "finished", "run": run}
            else:
                if run["state"] in OPEN_STATES:
                    lease_over = (_parse(run["claimed_until"]) or now) <= now
                    holder = run["claimed_by"] or ""
                    if holder == owner or not (lease_over or owner_gone(holder)):
                        # Held by a live process (or by another thread of this one).
                        return {"status": "busy", "run": run}
                    status = "taken_over"
                    state = run["state"]
                else:  # waiting, failed or skipped: try again
                    status = "claimed"
                    state = "posting" if run["post_unknown"] else "running"
                self._write(
                    "UPDATE digest_runs SET state = ?, claimed_by = ?, claimed_until = ?, "
                    "attempts = attempts + 1, retry_at = NULL, updated_at = ? WHERE id = ?",
                    (state, owner, until, stamp, run["id"]),
                )
            fresh = self.digest_run(team_id, channel_id, local_date)
        return {"status": status, "run": fresh}

    def begin_digest_post(
        self,
        run_id: int,
        *,
        owner: str,
        now: dt.datetime,
        lease: dt.timedelta,
        plan: Sequence[PlanEntry],
        conversation: str | None = None,
    ) -> bool:
        """About to call chat.postMessage: the fence. Checks the run is still ours (no other
        process took it over), extends the lease, and records that a post may reach Slack
        (``post_unknown``), when, where, and what it holds. False: not ours any more: do not
        post."""
        stamp = _iso(now)
        with self.immediate():
            changed = self._write(
                "UPDATE digest_runs SET state = 'posting', post_attempts = post_attempts + 1, "
                "post_unknown = 1, post_started_at = coalesce(post_started_at, ?), "
                "post_last_at = ?, conversation = coalesce(?, conversation), plan = ?, "
                "claimed_until = ?, updated_at = ? "
                "WHERE id = ? AND claimed_by = ? AND state IN ('running', 'posting')",
                (
                    stamp,
                    stamp,
                    conversation,
                    json.dumps([list(e) for e in plan]),
                    _iso(now + lease),
                    stamp,
                    run_id,
                    owner,
                ),
            ).rowcount
        return changed == 1

    def post_not_delivered(self, run_id: int, *, owner: str) -> None:
        """The last post attempt is known not to be in Slack (a 429, or an error answer)."""
        self._write(
            "UPDATE digest_runs SET post_unknown = 0 WHERE id = ? AND claimed_by = ?",
            (run_id, owner),
        )

    def renew_digest_run(
        self, run_id: int, *, owner: str, now: dt.datetime, lease: dt.timedelta
    ) -> bool:
        with self.immediate():
            return (
                self._write(
                    "UPDATE digest_runs SET claimed_until = ?, updated_at = ? WHERE id = ? AND "
                    "claimed_by = ? AND state IN ('running', 'posting')",
                    (_iso(now + lease), _iso(now), run_id, owner),
                ).rowcount
                == 1
            )

    def release_digest_run(
        self, run_id: int, *, owner: str, now: dt.datetime, retry_at: dt.datetime, error: str
    ) -> bool:
        """A transient failure: give the run up for now (state ``waiting``, no lease), to be
        tried again at ``retry_at`` by whichever process comes first."""
        stamp = _iso(now)
        with self.immediate():
            return (
                self._write(
                    "UPDATE digest_runs SET state = 'waiting', claimed_until = NULL, retry_at = ?, "
                    "error = ?, updated_at = ? WHERE id = ? AND claimed_by = ? "
                    "AND state IN ('running', 'posting')",
                    (_iso(retry_at), error[:500], stamp, run_id, owner),
                ).rowcount
                == 1
            )

    def unsettled_runs(
        self, team_id: str | None = None, channel_id: str | None = None, before: str | None = None
    ) -> list[dict[str, Any]]:
        """Runs neither finished nor given up (running, posting, waiting), oldest first;
        ``before``: only local dates before it."""
        where = ["state IN ('running', 'posting', 'waiting')"]
        params: list[Any] = []
        for column, value in (("team_id", team_id), ("channel_id", channel_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if before is not None:
            where.append("local_date < ?")
            params.append(before)
        return self._rows(
            f"SELECT {RUN_COLUMNS} FROM digest_runs WHERE {' AND '.join(where)} "
            "ORDER BY local_date, team_id, channel_id",
            params,
        )

    def finish_digest_run(
        self,
        run_id: int,
        *,
        message_ts: str | None,
        now: dt.datetime,
        entries: Iterable[PlanEntry] | None = None,
        owner: str | None = None,
    ) -> bool:
        """The digest is in Slack: record its deliveries and its message in one transaction.
        ``entries`` default to the run's recorded plan (a post found in Slack after a crash).
        ``owner``: only if the run is still held by it (False, nothing recorded, otherwise: a
        process that lost its lease while its post was on the way)."""
        stamp = _iso(now)
        with self.immediate():
            run = self.digest_run_by_id(run_id)
            if run is None:
                raise KeyError(run_id)
            if owner is not None and (
                run["claimed_by"] != owner or run["state"] not in OPEN_STATES
            ):
                return False
            if entries is None:
                entries = [tuple(e) for e in json.loads(run["plan"] or "[]")]
            for story_id, article_id, key in entries:
                self._write(
                    "INSERT OR IGNORE INTO deliveries (team_id, channel_id, story_id, article_id, "
                    "topic_key, run_id, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run["team_id"], run["channel_id"], story_id, article_id, key, run_id, stamp),
                )
                self._deliver_members(
                    run["team_id"], run["channel_id"], story_id, article_id, run_id
                )
            self._write(
                "UPDATE digest_runs SET state = 'done', message_ts = coalesce(?, message_ts), "
                "claimed_until = NULL, retry_at = NULL, post_unknown = 0, error = NULL, "
                "finished_at = ?, updated_at = ? WHERE id = ?",
                (message_ts, stamp, stamp, run_id),
            )
        return True

    def end_digest_run(
        self, run_id: int, *, owner: str, state: str, now: dt.datetime, error: str | None = None
    ) -> bool:
        """Close a run we hold as ``empty``, ``paused``, ``failed`` or ``skipped`` (given up at
        the grace's end), releasing the lease."""
        assert state in ("empty", "paused", "failed", "skipped"), state
        stamp = _iso(now)
        with self.immediate():
            return (
                self._write(
                    "UPDATE digest_runs SET state = ?, error = ?, claimed_until = NULL, "
                    "retry_at = NULL, finished_at = ?, updated_at = ? WHERE id = ? AND claimed_by = ? "
                    "AND state IN ('running', 'posting')",
                    (state, error, stamp, stamp, run_id, owner),
                ).rowcount
                == 1
            )

    def mark_digest_skipped(
        self,
        team_id: str,
        channel_id: str,
        local_date: str,
        scheduled_for: dt.datetime,
        *,
        now: dt.datetime,
        reason: str,
    ) -> bool:
        """Note a digest missed beyond the grace period (unless its date already has a run)."""
        stamp = _iso(now)
        with self.immediate():
            return (
                self._write(
                    "INSERT OR IGNORE INTO digest_runs (team_id, channel_id, local_date, "
                    "scheduled_for, state, error, attempts, post_attempts, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, 'skipped', ?, 0, 0, ?, ?)",
                    (team_id, channel_id, local_date, _iso(scheduled_for), reason, stamp, stamp),
                ).rowcount
                == 1
            )

    # -- deliveries --------------------------------------------------------------------------

    def _deliver_members(
        self, team_id: str, channel_id: str, story_id: int, article_id: int, run_id: int
    ) -> None:
        """Note every article of a delivered story (the one shown and its story's members now):
        a later story holding any of them counts as delivered, whatever its id by then."""
        self._write(
            "INSERT OR IGNORE INTO delivered_articles (team_id, channel_id, article_id, run_id) "
            "SELECT ?, ?, id, ? FROM articles WHERE story_id = ? OR id = ?",
            (team_id, channel_id, run_id, story_id, article_id),
        )

    def delivered_story_ids(
        self, team_id: str, channel_id: str, story_ids: Iterable[int]
    ) -> set[int]:
        """Which of these stories (as they are now) a conversation has already had: any of
        their articles was in a story it was sent, whatever that story's id was then (stories
        merge and split as articles arrive and as grouping is recomputed)."""
        ids = list(dict.fromkeys(story_ids))
        found: set[int] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self._rows(
                "SELECT DISTINCT a.story_id FROM articles a JOIN delivered_articles d "
                "ON d.article_id = a.id AND d.team_id = ? AND d.channel_id = ? "
                f"WHERE a.story_id IN ({marks})",
                [team_id, channel_id, *chunk],
            )
            found.update(r["story_id"] for r in rows)
        return found

    def deliveries(self, team_id: str, channel_id: str) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT team_id, channel_id, story_id, article_id, topic_key, run_id, delivered_at "
            "FROM deliveries WHERE team_id = ? AND channel_id = ? ORDER BY id",
            (team_id, channel_id),
        )

    # -- candidates --------------------------------------------------------------------------
