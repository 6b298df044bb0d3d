"""Every SQL detail of ninbai lives here (sqlite-utils on one SQLite file, WAL).

One ``sqlite_utils.Database`` per thread (a connection must not cross threads),
kept for the thread's life. Writes that belong together run in
:meth:`Storage.write`, a ``BEGIN IMMEDIATE`` transaction, so a writer waits for
the lock (busy timeout) instead of failing half-way.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.migrations import migrate
from bot.ops import metrics
from dialogs.answer import stored

logger = logging.getLogger(__name__)

# An event is "ours" while its claim is fresh; a claim older than this is taken
# to belong to a worker that died (another process may pick the event up).
CLAIM_LEASE_SECONDS = 120.0
# After a checkpoint that let the WAL start over, its file is cut back to this.
WAL_SIZE_LIMIT = 64 * 1024 * 1024
# How long a processed event keeps its webhook body (NINBAI_INBOX_KEEP_HOURS), and a sent
# outbox row its delivery record: see Storage.reduce_old_inbox.
INBOX_KEEP_HOURS = 48.0


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _utf8(value: Any) -> Any:
    """A string SQLite can store: lone surrogates (``"\\ud800"`` in JSON) become ``?``."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "replace").decode("utf-8")
    return value


def loads(text: str | None, default: Any = None) -> Any:
    if not text:
        return default
    return json.loads(text)


class Storage:
    def __init__(self, path: str | os.PathLike, busy_timeout: float = 10.0):
        self.path = str(path)
        self.busy_timeout = busy_timeout
        self.wal_autocheckpoint: int | None = None  # SQLite's default (1,000 pages); 0 under Litestream
        self._local = threading.local()
        # Writers take turns before asking SQLite for its write lock (see _writers_turn).
        self._write_turn = threading.Lock()
        self._turn_fd = -1
        self._turn_pid: int | None = None
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)

    # -- connections -------------------------------------------------------
    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"pragma busy_timeout = {int(self.busy_timeout * 1000)}")
            self._use_wal(conn)
            conn.execute("pragma synchronous = normal")
            if self.wal_autocheckpoint is not None:
                conn.execute(f"pragma wal_autocheckpoint = {self.wal_autocheckpoint}")
            conn.execute(f"pragma journal_size_limit = {WAL_SIZE_LIMIT}")
            conn.execute("pragma foreign_keys = on")
            db = sqlite_utils.Database(conn)
            self._local.db = db
        return db

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Put the database file in WAL mode (once per file; a read after that).

        Switching the journal mode needs the file to itself, and SQLite answers
        "database is locked" at once, without its busy handler, when another
        connection is busy with it. On a fresh file, the processes of
        ``make serve`` all open it at the same moment: the switch is retried
        until ``busy_timeout``.
        """
        if self.path == ":memory:" or conn.execute("pragma journal_mode").fetchone()[0] == "wal":
            return
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                conn.execute("pragma journal_mode = wal")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def close_thread_connection(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def close(self) -> None:
        self.close_thread_connection()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction that takes SQLite's write lock up front (waiting
        for it up to the busy timeout)."""
        db = self.db
        if db.conn.in_transaction:  # nested: join the outer transaction
            yield db
            return
        self._local.after_commit = []
        try:
            with self._writers_turn():
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    if db.conn.in_transaction:
                        db.execute("ROLLBACK")
                    raise
                else:
                    db.execute("COMMIT")
            callbacks = self._local.after_commit
        finally:
            self._local.after_commit = None
        for callback in callbacks:  # committed: what must not happen before (notifications)
            try:
                callback()
            except Exception:
                logger.exception("after-commit callback failed")

    def after_commit(self, callback: Any) -> None:
        """Run ``callback()`` once the current write transaction has committed
        (at once outside one); never if it, or the savepoint around the call,
        rolls back. For side effects outside the database, e.g. an alert sent
        to the staff for an alert row that must exist."""
        pending = getattr(self._local, "after_commit", None)
        if pending is None:
            callback()
        else:
            pending.append(callback)

    @contextlib.contextmanager
    def _writers_turn(self) -> Iterator[None]:
        """This thread's turn among the writers: a lock between the process's threads,
        an flock of "<db>-writelock" between processes.

        Without it a writer that finds SQLite's write lock taken sleeps in SQLite's
        busy handler (1, 2, 5 … 100 ms steps) and the lock sits idle meanwhile; a
        waiter on the flock is woken by the kernel as soon as the holder is done.
        What it buys: README "Performance". The descriptor is opened once per process
        (after a fork, anew); a killed holder releases it.
        """
        with self._write_turn:
            if self.path == ":memory:":
                yield
                return
            if self._turn_pid != os.getpid():
                self._turn_fd = os.open(self.path + "-writelock", os.O_RDWR | os.O_CREAT, 0o600)
                self._turn_pid = os.getpid()
            fcntl.flock(self._turn_fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._turn_fd, fcntl.LOCK_UN)

    def _write_one(self, sql: str, params: list[Any]) -> sqlite3.Cursor:
        """One write statement in a transaction of its own."""
        with self.write() as db:
            return db.execute(sql, params)

    def migrate(self) -> int:
        return migrate(self.db)

    # -- plain SQL on the hot path -------------------------------------------
    # sqlite-utils' table API reads the schema on every insert/update/get (a
    # few sqlite_master / table_info queries each); the per-message path uses
    # plain statements instead. Table and column names come from this module.
    def rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """The rows of one statement as dicts, fetched at once.

        ``sqlite_utils.Database.query`` wraps every statement in a SAVEPOINT
        and its RELEASE: three statements for one, each giving up the GIL and
        waiting for it again — under load the event process's batch thread
        spent more time there than in the query (py-spy, README "Performance").
        """
        cur = self.db.conn.execute(sql, params)
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def _row(self, table: str, row_id: int) -> dict[str, Any] | None:
        cur = self.db.execute(f"select * from {table} where id = ?", [row_id])
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cur.description], row, strict=True))

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        cols = ", ".join(f'"{k}"' for k in row)
        marks = ", ".join("?" for _ in row)
        return self.db.execute(
            f"insert into {table} ({cols}) values ({marks})", list(row.values())
        ).lastrowid

    def _update(self, table: str, row_id: int, fields: dict[str, Any]) -> None:
        sets = ", ".join(f'"{k}" = ?' for k in fields)
        self.db.execute(f"update {table} set {sets} where id = ?", [*fields.values(), row_id])

    def journal_mode(self) -> str:
        return self.db.execute("pragma journal_mode").fetchone()[0]

    # -- inbox -------------------------------------------------------------
    def accept_events(self, events: list[dict[str, Any]]) -> list[int]:
        """Commit received events; returns the ids of the new ones.

        Each dict has event_id, channel, user_key, kind, body (JSON text),
        reply_token, received_at, and optionally status. An event whose
        event_id is already stored (a redelivery) is ignored.
        """
        ids: list[int] = []
        events = [{k: _utf8(v) for k, v in ev.items()} for ev in events]
        with self.write() as db:
            for ev in events:
                cur = db.execute(
                    "insert into inbox (event_id, channel, user_key, kind, body, reply_token,"
                    " received_at, status, attempts) values (?, ?, ?, ?, ?, ?, ?, ?, 0)"
                    " on conflict(event_id) do nothing",
                    [
                        ev["event_id"],
                        ev["channel"],
                        ev["user_key"],
                        ev["kind"],
                        ev["body"],
                        ev.get("reply_token"),
                        ev.get("received_at", time.time()),
                        ev.get("status", "pending"),
                    ],
                )
                if cur.rowcount:
                    ids.append(cur.lastrowid)
        metrics.received(events, ids)
        return ids

    def claim_events(self, worker_id: str, limit: int) -> list[dict[str, Any]]:
        """Claim up to ``limit`` events at once, each the oldest unfinished one of its user.

        A user's events in order, one at a time: an event is claimable only when it
        is its user's oldest unfinished event; users run in parallel. Safe across
        processes: the claim is one UPDATE under SQLite's write lock. (``+i.id``:
        search the pending events by the status index and sort those few; ordering
        by the rowid made SQLite scan the whole inbox once it had statistics.)
        """
        if not self.has_pending_events():
            return []  # a read: idle workers never queue for the write lock
        now = time.time()
        with self.write():
            rows = self.rows(
                """
                update inbox set status = 'processing', claimed_by = :worker,
                    claimed_at = :now, attempts = attempts + 1
                where id in (
                    select i.id from inbox i
                    where i.status = 'pending'
                      and not exists (
                        select 1 from inbox j
                        where j.user_key = i.user_key
                          and j.status in ('pending', 'processing', 'delivering')
                          and j.id < i.id)
                    order by +i.id limit :limit)
                returning *
                """,
                {"worker": worker_id, "now": now, "limit": limit},
            )
        rows.sort(key=lambda r: r["id"])
        return rows

    @contextlib.contextmanager
    def savepoint(self, name: str = "part") -> Iterator[None]:
        """A part of the current write transaction that can fail alone.

        On an exception its writes are undone and the exception goes on; the
        rest of the transaction stays.
        """
        db = self.db
        pending = getattr(self._local, "after_commit", None)
        mark = len(pending) if pending is not None else 0
        db.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            db.execute(f"ROLLBACK TO {name}")
            db.execute(f"RELEASE {name}")
            if pending is not None:
                del pending[mark:]  # the part's callbacks go with its writes
            raise
        db.execute(f"RELEASE {name}")

    def set_event_status(self, event_row_id: int, status: str, error: str | None = None) -> None:
        self._write_one(
            "update inbox set status = ?, processed_at = ?, error = ? where id = ?",
            [status, time.time(), error, event_row_id],
        )

    def finish_delivering(self, event_row_id: int) -> None:
        """An event whose answer went out (or was given up) is done."""
        self.db.execute(
            "update inbox set status = 'done', processed_at = ? where id = ? and status = 'delivering'",
            [time.time(), event_row_id],
        )

    def release_event(self, event_row_id: int, error: str) -> None:
        """Give a claimed event back (it failed for a passing reason)."""
        self._write_one(
            "update inbox set status = 'pending', claimed_by = null, error = ? where id = ?",
            [error, event_row_id],
        )

    def recover_events(self, alive: "callable") -> tuple[int, list[str]]:
        """Re-queue events claimed by workers that died.

        ``alive(claimed_by)`` says whether a claim's worker still runs; a claim
        older than the lease is recovered in any case. Events that were still
        'processing' had their transaction rolled back: they go back to
        'pending'. Events that were 'delivering' (dialog applied, sends
        queued) only need their outbox delivered: returns their user keys.
        """
        now = time.time()
        requeued = 0
        deliver_users: list[str] = []
        with self.write() as db:
            for row in self.rows(
                "select id, status, user_key, claimed_by, claimed_at from inbox"
                " where status in ('processing', 'delivering')"
            ):
                stale = (row["claimed_at"] or 0) < now - CLAIM_LEASE_SECONDS
                if not stale and alive(row["claimed_by"] or ""):
                    continue
                if row["status"] == "processing":
                    db.execute(
                        "update inbox set status = 'pending', claimed_by = null where id = ?",
                        [row["id"]],
                    )
                    requeued += 1
                else:
                    db.execute("update inbox set status = 'done' where id = ?", [row["id"]])
                    # Its sends were cut off mid-flight: retry them now (as a
                    # push with the same retry key, since a reply's fate is unknown).
                    db.execute(
                        "update outbox set status = 'pending', next_attempt_at = 0"
                        " where user_key = ? and status = 'sending'",
                        [row["user_key"]],
                    )
                    deliver_users.append(row["user_key"])
        return requeued, deliver_users

    def inbox_counts(self) -> dict[str, int]:
        return {
            r["status"]: r["n"]
            for r in self.rows("select status, count(*) as n from inbox group by status")
        }

    def has_pending_events(self) -> bool:
        return bool(
            self.db.execute(
                "select 1 from inbox where status = 'pending' limit 1"
            ).fetchone()
        )

    def reduce_old_inbox(self, now: float, keep_hours: float = INBOX_KEEP_HOURS, batch: int = 2000) -> int:
        """Forget what an old processed event no longer needs; returns the inbox rows reduced.

        A webhook's body (the raw LINE event: the text again, the reply token, ids) is
        kept ``keep_hours`` after it arrived, to look into a problem; then a ``done``
        row keeps its ``event_id`` (redeliveries are still recognised), user, kind,
        status and times. A failed event keeps its body. Sent (or dropped) outbox rows
        older than that go: the answer is in ``messages``. In batches, each its own
        transaction; cheap when there is nothing to do (a partial index on the rows
        that still have a body, m009_compact_storage).
        """
        cutoff = now - keep_hours * 3600
        reduced = 0
        while self.db.execute("select 1 from inbox where body is not null and received_at < ? and status = 'done'"
                              " limit 1", [cutoff]).fetchone():
            with self.write() as db:
                reduced += db.execute(
                    "update inbox set body = null, reply_token = null, claimed_by = null, claimed_at = null,"
                    " error = null where id in (select id from inbox where body is not null and received_at < ?"
                    " and status = 'done' limit ?)", [cutoff, batch]).rowcount
        while self.db.execute("select 1 from outbox where status in ('sent', 'dropped') and created_at < ? limit 1",
                              [cutoff]).fetchone():
            with self.write() as db:
                db.execute("delete from outbox where id in (select id from outbox where status in ('sent', 'dropped')"
                           " and created_at < ? limit ?)", [cutoff, batch])
        return reduced

    # -- contacts and conversations ---------------------------------------
    def get_contact(self, channel: str, external_id: str) -> dict[str, Any] | None:
        rows = self.rows(
            "select * from contacts where channel = ? and external_id = ?",
            [channel, external_id],
        )
        return rows[0] if rows else None

    def contact_by_id(self, contact_id: int) -> dict[str, Any]:
        return self._row("contacts", contact_id)

    def ensure_contact(self, channel: str, external_id: str) -> dict[str, Any]:
        contact = self.get_contact(channel, external_id)
        if contact:
            return contact
        ts = now_iso()
        self.db.execute(
            "insert into contacts (channel, external_id, followed, blocked, created_at, updated_at)"
            " values (?, ?, 0, 0, ?, ?) on conflict(channel, external_id) do nothing",
            [channel, external_id, ts, ts],
        )
        return self.get_contact(channel, external_id)

    def update_contact(self, contact_id: int, **fields: Any) -> None:
        fields["updated_at"] = now_iso()
        self._update("contacts", contact_id, fields)

    def current_conversation(self, contact_id: int) -> dict[str, Any] | None:
        """The contact's conversation that is not closed, if any."""
        rows = self.rows(
            "select * from conversations where contact_id = ? and status != 'closed'"
            " order by id desc limit 1",
            [contact_id],
        )
        return rows[0] if rows else None

    def open_conversation(self, contact: dict[str, Any], dialog: str) -> dict[str, Any]:
        """The contact's current conversation, or a new one after a close."""
        current = self.current_conversation(contact["id"])
        if current is not None:
            return current
        ts = now_iso()
        conv_id = self._insert(
            "conversations",
            {
                "contact_id": contact["id"],
                "channel": contact["channel"],
                "dialog": dialog,
                "state": None,
                "data": "{}",
                "summary": "{}",
                "status": "bot",
                "unread": 0,
                "version": 0,
                "lead_score": 0,
                "created_at": ts,
                "updated_at": ts,
            },
        )
        return self._row("conversations", conv_id)

    def update_conversation(self, conv_id: int, **fields: Any) -> None:
        fields["updated_at"] = now_iso()
        self._update("conversations", conv_id, fields)

    def conversation(self, conv_id: int) -> dict[str, Any]:
        return self._row("conversations", conv_id)

    # -- messages ----------------------------------------------------------
    def add_message(
        self,
        conversation_id: int,
        contact_id: int,
        direction: str,
        sender: str,
        kind: str,
        text: str | None,
        payload: Any = None,
        event_id: str | None = None,
        operator_id: int | None = None,
    ) -> int:
        return self._insert(
            "messages",
            {
                "conversation_id": conversation_id,
                "contact_id": contact_id,
                "direction": direction,
                "sender": sender,
                "kind": kind,
                "text": text,
                "payload": dumps(stored(text, payload) if kind == "answer" and text is not None else payload)
                if payload is not None else None,
                "event_id": event_id,
                "operator_id": operator_id,
                "created_at": now_iso(),
            },
        )

    def messages_for_contact(self, contact_id: int, after: int = 0, limit: int = 200) -> list[dict]:
        return self.rows(
            "select * from messages where contact_id = ? and id > ? order by id limit ?",
            [contact_id, after, limit],
        )

    def messages_for_conversation(self, conversation_id: int) -> list[dict]:
        return self.rows(
            "select * from messages where conversation_id = ? order by id", [conversation_id]
        )

    # -- outbox ------------------------------------------------------------
    def enqueue_send(self, **row: Any) -> int:
        row.setdefault("status", "pending")
        row.setdefault("attempts", 0)
        row.setdefault("next_attempt_at", 0)
        row.setdefault("created_at", time.time())
        return self._insert("outbox", row)

    def pending_sends_for(self, user_key: str) -> list[dict[str, Any]]:
        return self.rows(
            "select * from outbox where user_key = ? and status in ('pending', 'sending')"
            " order by id",
            [user_key],
        )

    def users_with_due_sends(self, now: float, limit: int = 100) -> list[str]:
        return [
            r["user_key"]
            for r in self.rows(
                "select user_key, min(next_attempt_at) as due from outbox"
                " where status in ('pending', 'sending') group by user_key"
                " having due <= ? limit ?",
                [now, limit],
            )
        ]

    def claim_send(self, send: dict[str, Any], method: str, lease: float = 60.0) -> bool:
        """Compare-and-set a send to 'sending' by ``method`` (one sender at a time, any process).

        The lease (``next_attempt_at``) keeps the retry thread away from a
        send that is in flight.
        """
        cur = self._write_one(
            "update outbox set status = 'sending', method = ?, attempts = attempts + 1,"
            " next_attempt_at = ? where id = ? and status = ? and attempts = ?",
            [method, time.time() + lease, send["id"], send["status"], send["attempts"]],
        )
        return cur.rowcount == 1

    def update_send(self, send_id: int, **fields: Any) -> None:
        with self.write():
            self._update("outbox", send_id, fields)

    def drop_pending_sends(self, user_key: str, reason: str) -> int:
        cur = self.db.execute(
            "update outbox set status = 'dropped', last_error = ?"
            " where user_key = ? and status in ('pending', 'sending')",
            [reason, user_key],
        )
        return cur.rowcount
