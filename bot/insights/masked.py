"""The redacted copy of what users wrote, which marketing reads and searches.

``messages_redacted`` (migration ``m006_redacted_copy``) holds, for every user
message, its text as :func:`bot.insights.redact.redact` leaves it with the
conversation's stored name, phone, e-mail and LINE display name. It is computed
once, when the message is written:

* :func:`hook` — an engine hook: at the end of each event's transaction, the
  conversation's new user messages get their copy; when the dialog has just
  stored a name (or phone, e-mail), the copies that still hold it are written again;
* :func:`catch_up` — messages written another way (or before the migration):
  the user messages above the watermark ``meta.redacted_upto`` without a copy,
  in bounded batches (each marketing page runs one; ``flask --app app insights
  redact-backfill`` does them all);
* :func:`renew_if_rules_changed` — at start: when the redactor's code changed since the
  copies were written (``meta.redactor_rules``, a fingerprint of bot/insights/redact.py),
  every copy is dropped, so the catch-up writes them again by the new rules (meanwhile
  the pages redact on the fly, and search finds less, never more).

Marketing's search and every text filter run on ``messages_redacted_fts``
(trigram, like ``messages_fts`` for the originals): what the pages hide cannot
be found. A message without its copy yet is shown redacted on the fly and is
not found by marketing's search until the catch-up has written it.
"""
from __future__ import annotations

import hashlib
import logging
import pathlib
from typing import Any

from bot.insights import redact as redact_module
from bot.insights.redact import mentions_known, redact
from bot.storage import Storage, loads

logger = logging.getLogger(__name__)

BATCH = 2000
#: What marketing sees of a message the redactor failed on: nothing of it.
HIDDEN = "【非表示】"


def _redact(text: str, known: list[str]) -> str:
    try:
        return redact(text, known)
    except Exception:  # noqa: BLE001 — one odd message must not stop every later copy
        logger.exception("redaction failed; the message is hidden from marketing")
        return HIDDEN


def known_personal(conv: dict[str, Any], display_name: str | None = None) -> list[str]:
    """Strings this conversation's user gave as their name / phone / e-mail (+ LINE display name)."""
    out: list[str] = []
    for blob in (loads(conv.get("data"), {}) or {}, loads(conv.get("summary"), {}) or {}):
        contact = blob.get("contact") or {}
        if isinstance(contact, dict):
            out += [str(contact[k]) for k in ("name", "phone", "email", "kana") if contact.get(k)]
    if display_name:
        out.append(display_name)
    return out


def _known_for(db: Any, conversation_id: int) -> list[str]:
    row = db.execute(
        "select c.data, c.summary, ct.display_name from conversations c join contacts ct on ct.id = c.contact_id"
        " where c.id = ?", [conversation_id]).fetchone()
    return known_personal({"data": row[0], "summary": row[1]}, row[2]) if row else []


def digest(known: list[str]) -> str:
    """A short fingerprint of the known strings a copy was written with."""
    return hashlib.blake2b("\x1f".join(known).encode(), digest_size=8).hexdigest() if known else ""


def store_conversation(storage: Storage, conv: dict[str, Any]) -> int:
    """Write the missing copies of ``conv``'s user messages; when its known strings changed, renew
    the copies that still hold one of them."""
    db = storage.db
    display = db.execute("select display_name from contacts where id = ?", [conv["contact_id"]]).fetchone()
    known = known_personal(conv, display[0] if display else None)
    mark = digest(known)
    rows = db.execute(
        "select m.id, m.text, r.text from messages m left join messages_redacted r on r.id = m.id"
        " where m.conversation_id = ? and m.direction = 'in' and m.text is not null"
        " and (r.id is null or coalesce(r.known, '') != ?) order by m.id",
        [conv["id"], mark],
    ).fetchall()
    if not rows:
        return 0
    todo = [(mid, _redact(text, known)) for mid, text, copy in rows
            if copy is None or (known and mentions_known(copy, known))]
    with storage.write() as w:
        w.conn.executemany(
            "insert into messages_redacted (id, conversation_id, text, known) values (?, ?, ?, ?)"
            " on conflict(id) do update set text = excluded.text, known = excluded.known",
            [(mid, conv["id"], text, mark) for mid, text in todo],
        )
        # the others were checked against these known strings: nothing of them left
        w.conn.executemany("update messages_redacted set known = ? where id = ?",
                           [(mark, mid) for mid, _, copy in rows if copy is not None and mid not in dict(todo)])
    return len(todo)


def hook(storage: Storage):
    def redact_conversation(conv: dict, signals: set[str]) -> None:
        store_conversation(storage, conv)

    return redact_conversation


RULES = hashlib.blake2b(pathlib.Path(redact_module.__file__).read_bytes(), digest_size=8).hexdigest()


def renew_if_rules_changed(storage: Storage) -> None:
    """At start: copies written by other (or unknown) rules are dropped, to be written again."""
    row = storage.db.execute("select value from meta where key = 'redactor_rules'").fetchone()
    if row and row[0] == RULES:
        return
    with storage.write() as db:  # copies of other (or unknown) rules: all written again, by these
        if db.execute("select 1 from messages_redacted limit 1").fetchone():
            logger.warning("the redactor changed: every redacted copy is written again")
            db.execute("delete from messages_redacted")
            db.execute("update meta set value = '0' where key = 'redacted_upto'")
        db.execute("insert into meta (key, value) values ('redactor_rules', ?)"
                   " on conflict(key) do update set value = excluded.value", [RULES])


def _watermark(db: Any) -> int:
    row = db.execute("select value from meta where key = 'redacted_upto'").fetchone()
    return int(row[0]) if row else 0


_MISSING = (
    "select m.id, m.conversation_id, m.text from messages m"
    " where m.id > ? and m.direction = 'in' and m.text is not null"
    " and not exists (select 1 from messages_redacted r where r.id = m.id) order by m.id limit ?"
)


def pending(db: Any) -> bool:
    """Whether some user message has no redacted copy yet (cheap: scans above the watermark)."""
    return db.execute(_MISSING, [_watermark(db), 1]).fetchone() is not None


def catch_up(storage: Storage, limit: int = BATCH) -> int:
    """Write up to ``limit`` missing copies (oldest first) and move the watermark; returns how many."""
    if not pending(storage.db):
        top = storage.db.execute("select coalesce(max(id), 0) from messages").fetchone()[0]
        if top - _watermark(storage.db) > 10 * limit:  # the hook did them: keep the next check short
            with storage.write() as db:
                if not pending(db):
                    db.execute("update meta set value = ? where key = 'redacted_upto'", [str(top)])
        return 0
    done = 0
    with storage.write() as db:
        mark = _watermark(db)
        rows = db.execute(_MISSING, [mark, limit]).fetchall()
        known: dict[int, list[str]] = {}
        out = []
        for mid, conv_id, text in rows:
            if conv_id not in known:
                known[conv_id] = _known_for(db, conv_id)
            out.append((mid, conv_id, _redact(text, known[conv_id]), digest(known[conv_id])))
        db.conn.executemany(
            "insert into messages_redacted (id, conversation_id, text, known) values (?, ?, ?, ?)"
            " on conflict(id) do nothing", out)
        done = len(out)
        # every user message up to here has its copy (we hold the write lock)
        top = rows[-1][0] if len(rows) == limit else db.execute("select coalesce(max(id), 0) from messages").fetchone()[0]
        db.execute("update meta set value = ? where key = 'redacted_upto'", [str(max(mark, top))])
    return done


def backfill(storage: Storage, batch: int = BATCH) -> int:
    """Every missing copy, batch by batch (``flask --app app insights redact-backfill``)."""
    total = 0
    while n := catch_up(storage, batch):
        total += n
    return total


def rebuild(storage: Storage) -> int:
    """Drop every copy and write them again (after the redactor changed)."""
    with storage.write() as db:
        db.execute("delete from messages_redacted")
        db.execute("update meta set value = '0' where key = 'redacted_upto'")
    return backfill(storage)
