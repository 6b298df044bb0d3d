"""One rate limiter for every process: a fixed window per key, counted in SQLite.

A row of ``rate_limits`` per key holds the hits of its current window and when
the window ends. Each hit is one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``
statement (atomic on its own: no transaction, no lock of ours), so the web
processes of ``make serve`` share their counts. The window starts at a key's
first hit and lasts ``window`` seconds; a hit after it starts a new one.
Rows of windows that ended are deleted whenever a new window starts (an indexed
range delete, usually of nothing). Used by the web chat (messages per visitor)
and the login page (failures per login and per address).

    allowed, retry_after = ratelimit.hit(db, f"chat:{visitor}", 12, 10.0)
"""
from __future__ import annotations

import math
import time

import sqlite_utils

_HIT = """
insert into rate_limits (key, hits, ends_at) values (:key, 1, :now + :window)
on conflict (key) do update set
  hits = case when ends_at <= :now then 1 else hits + 1 end,
  ends_at = case when ends_at <= :now then :now + :window else ends_at end
returning hits, ends_at
"""


def hit(db: sqlite_utils.Database, key: str, limit: int, window: float,
        now: float | None = None) -> tuple[bool, int]:
    """Count one hit for ``key``: ``(allowed, retry_after)``.

    Allowed while the window holds at most ``limit`` hits; ``retry_after`` is the
    number of whole seconds until the window ends (0 when allowed).
    """
    now = time.time() if now is None else now
    ((hits, ends_at),) = db.execute(_HIT, {"key": key, "now": now, "window": window}).fetchall()
    if hits == 1:  # a new window: forget the windows that ended
        db.execute("delete from rate_limits where ends_at <= ?", [now])
    if hits <= limit:
        return True, 0
    return False, _seconds(ends_at - now)


def peek(db: sqlite_utils.Database, key: str, limit: int, now: float | None = None) -> tuple[bool, int]:
    """Would one more hit be allowed? ``(allowed, retry_after)``, counting nothing."""
    now = time.time() if now is None else now
    row = db.execute("select hits, ends_at from rate_limits where key = ? and ends_at > ?", [key, now]).fetchone()
    if row is None or row[0] < limit:
        return True, 0
    return False, _seconds(row[1] - now)


def reset(db: sqlite_utils.Database, key: str) -> None:
    """Forget ``key``'s window (a successful login clears its failures)."""
    db.execute("delete from rate_limits where key = ?", [key])


def _seconds(delta: float) -> int:
    return max(1, math.ceil(delta))
