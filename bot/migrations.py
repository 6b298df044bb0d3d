"""Schema migrations, with sqlite-utils' ``Migrations``: one function each, in file order.

Each function takes a ``sqlite_utils.Database``; ``migrate()`` applies the ones not
recorded yet in ``_sqlite_migrations``, all in one ``BEGIN IMMEDIATE`` transaction (one
savepoint each), so processes starting at once on a new file wait for each other and
running it twice changes nothing.

Databases made before this (a ``meta.schema_version`` number and no
``_sqlite_migrations`` table) are brought over by looking at what their schema holds,
not at the number: from 2026-11-27 the FTS migration was registered before the
insights one, so a number alone does not say which of the two ran.
"""
from __future__ import annotations

import datetime as dt
import logging

import sqlite_utils
from sqlite_utils.migrations import Migrations

logger = logging.getLogger(__name__)

MIGRATIONS = Migrations("ninbai")


@MIGRATIONS()
def m001_core(db: sqlite_utils.Database) -> None:
    """Contacts, conversations, messages (+ trigram FTS), inbox and outbox."""
    db["contacts"].create(
        {
            "id": int,
            "channel": str,  # "line" | "web"
            "external_id": str,  # LINE userId or web visitor id
            "display_name": str,
            "followed": int,
            "blocked": int,
            "source": str,  # JSON: utm_source, utm_campaign, referrer
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"channel", "external_id"},
        defaults={"followed": 0, "blocked": 0},
    )
    db["contacts"].create_index(["channel", "external_id"], unique=True)

    db["conversations"].create(
        {
            "id": int,
            "contact_id": int,
            "channel": str,
            "dialog": str,
            "state": str,
            "data": str,  # JSON session data
            "summary": str,  # JSON case summary (assessment)
            "status": str,  # bot | waiting | operator | closed
            "owner_id": int,  # operator user id while status = operator
            "urgency": str,  # hot | warm | cold
            "lead_score": int,
            "kaisatsu": str,  # ISO date of 開札, for ranking
            "step": str,  # furthest/current dialog step, for funnels
            "unread": int,
            "version": int,
            "created_at": str,
            "updated_at": str,
            "last_user_at": str,
            "closed_at": str,
        },
        pk="id",
        foreign_keys=[("contact_id", "contacts", "id")],
        not_null={"contact_id", "channel", "status"},
        defaults={"status": "bot", "unread": 0, "version": 0, "lead_score": 0},
    )
    db["conversations"].create_index(["contact_id", "status"])
    db["conversations"].create_index(["status", "urgency"])

    db["messages"].create(
        {
            "id": int,
            "conversation_id": int,
            "contact_id": int,
            "direction": str,  # in | out
            "sender": str,  # user | bot | operator | system
            "kind": str,  # text | postback | sticker | image | ... | answer
            "text": str,
            "payload": str,  # JSON: postback data, sticker ids, rendered answer
            "event_id": str,  # LINE webhookEventId (or web event id)
            "operator_id": int,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("conversation_id", "conversations", "id"), ("contact_id", "contacts", "id")],
    )
    db["messages"].create_index(["conversation_id", "id"])
    db["messages"].enable_fts(["text"], tokenize="trigram", create_triggers=True)

    db["inbox"].create(
        {
            "id": int,
            "event_id": str,  # webhookEventId; unique: redeliveries are ignored
            "channel": str,
            "user_key": str,  # channel:external id, for per-user ordering
            "kind": str,
            "body": str,  # the event JSON as received
            "reply_token": str,
            "received_at": float,  # epoch seconds
            "status": str,  # pending | processing | done | failed
            "attempts": int,
            "claimed_by": str,
            "claimed_at": float,
            "processed_at": float,
            "error": str,
        },
        pk="id",
        not_null={"event_id", "channel", "user_key", "status"},
        defaults={"status": "pending", "attempts": 0},
    )
    db["inbox"].create_index(["event_id"], unique=True)
    db["inbox"].create_index(["status", "user_key", "id"])

    db["outbox"].create(
        {
            "id": int,
            "inbox_id": int,
            "conversation_id": int,
            "channel": str,
            "external_id": str,
            "user_key": str,
            "messages": str,  # JSON list of LINE message dicts (or web answer)
            "reply_token": str,
            "received_at": float,  # when the triggering event arrived (token age)
            "retry_key": str,  # X-Line-Retry-Key for pushes (uuid)
            "status": str,  # pending | sending | sent | failed | dropped
            "method": str,  # reply | push (what finally went out)
            "attempts": int,
            "next_attempt_at": float,
            "last_error": str,
            "request_id": str,  # LINE x-line-request-id
            "created_at": float,
            "sent_at": float,
        },
        pk="id",
        not_null={"channel", "external_id", "status"},
        defaults={"status": "pending", "attempts": 0, "next_attempt_at": 0},
    )
    db["outbox"].create_index(["status", "next_attempt_at"])
    db["outbox"].create_index(["user_key", "status", "id"])


@MIGRATIONS()
def m002_staff(db: sqlite_utils.Database) -> None:
    """Staff accounts, audit trail, notes, canned replies, alerts, funnel events."""
    db["users"].create(
        {
            "id": int,
            "login": str,
            "password_hash": str,
            "role": str,  # admin | operator | marketing
            "display_name": str,
            "active": int,
            "created_at": str,
            "last_login_at": str,
        },
        pk="id",
        not_null={"login", "password_hash", "role"},
        defaults={"active": 1},
    )
    db["users"].create_index(["login"], unique=True)
    # Failed logins, for rate limiting across processes (key: login or address).
    db["login_failures"].create({"id": int, "key": str, "at": float}, pk="id")
    db["login_failures"].create_index(["key", "at"])
    db["audit"].create(
        {
            "id": int,
            "at": str,
            "user_id": int,
            "login": str,
            "action": str,  # view | takeover | send | handback | close | status | export | ...
            "target_type": str,
            "target_id": str,
            "detail": str,  # JSON
            "ip": str,
        },
        pk="id",
    )
    db["audit"].create_index(["at"])
    db["notes"].create(
        {"id": int, "conversation_id": int, "user_id": int, "text": str, "created_at": str},
        pk="id",
        foreign_keys=[("conversation_id", "conversations", "id")],
    )
    db["notes"].create_index(["conversation_id"])
    db["canned_replies"].create(
        {"id": int, "title": str, "text": str, "position": int, "updated_at": str, "updated_by": int},
        pk="id",
    )
    db["alerts"].create(
        {
            "id": int,
            "conversation_id": int,
            "kind": str,  # hot_lead | wants_human
            "created_at": str,
            "seen_at": str,
            "notified": str,  # JSON: which outgoing notifications went out
        },
        pk="id",
    )
    db["alerts"].create_index(["conversation_id", "kind"])
    # One row per conversation and step reached (and per answer given):
    # anonymous once the conversation is purged (conversation_id set to null).
    db["funnel_events"].create(
        {
            "id": int,
            "conversation_id": int,
            "channel": str,
            "source": str,  # utm_source for the web chat, "line" for LINE
            "campaign": str,
            "step": str,
            "value": str,
            "day": str,  # YYYY-MM-DD (JST)
            "created_at": str,
        },
        pk="id",
    )
    db["funnel_events"].create_index(["conversation_id", "step", "value"], unique=True)
    db["funnel_events"].create_index(["day", "channel"])


@MIGRATIONS()
def m003_fts_user_messages(db: sqlite_utils.Database) -> None:
    """Index only what users wrote for search (marketing searches users' words).

    Indexing the bot's long answers tripled the index and cost the most time of
    each event's write transaction. The triggers now index rows with
    direction 'in' only (and delete only those, as an external-content FTS5
    table requires); the index is rebuilt from the user rows.
    """
    for name in ("messages_ai", "messages_ad", "messages_au"):
        db.execute(f'drop trigger if exists "{name}"')
    db.executescript(
        """
        create trigger messages_ai after insert on messages when new.direction = 'in' begin
          insert into messages_fts (rowid, text) values (new.rowid, new.text);
        end;
        create trigger messages_ad after delete on messages when old.direction = 'in' begin
          insert into messages_fts (messages_fts, rowid, text) values ('delete', old.rowid, old.text);
        end;
        create trigger messages_au after update on messages begin
          insert into messages_fts (messages_fts, rowid, text)
            select 'delete', old.rowid, old.text where old.direction = 'in';
          insert into messages_fts (rowid, text)
            select new.rowid, new.text where new.direction = 'in';
        end;
        """
    )
    db.execute("insert into messages_fts (messages_fts) values ('delete-all')")
    db.execute(
        "insert into messages_fts (rowid, text) select id, text from messages where direction = 'in'"
    )


@MIGRATIONS()
def m004_insights(db: sqlite_utils.Database) -> None:
    """Indexes for the insights pages (lists, filters, funnel) and funnel triggers.

    The triggers record the ``assigned`` and ``closed`` funnel steps whatever
    code changes a conversation's status (the console does not run engine
    hooks). ``day`` is the JST day the conversation started (its cohort).
    """
    db.execute("create index if not exists conversations_created on conversations (created_at)")
    db.execute("create index if not exists conversations_channel_id on conversations (channel, id)")
    db.execute("create index if not exists conversations_updated on conversations (updated_at)")
    db.execute(
        "create index if not exists conversations_stage on conversations"
        " (json_extract(summary, '$.stage'))"
    )
    db.execute("create index if not exists messages_contact on messages (contact_id)")
    db.execute("create index if not exists outbox_conversation on outbox (conversation_id)")
    db.execute("create index if not exists alerts_conversation on alerts (conversation_id)")
    # covering index: the funnel is an index-only scan of a day range
    db.execute(
        "create index if not exists funnel_events_cover on funnel_events"
        " (day, channel, step, value, source, campaign, conversation_id)"
    )
    db.execute("create index if not exists funnel_events_step on funnel_events (step, created_at)")
    # Daily roll-up of funnel_events, kept by triggers: the funnel page sums a few
    # thousand rows instead of scanning every event of the period.
    db.execute(
        """
        create table if not exists funnel_daily (
          day text not null, channel text not null, source text not null, campaign text not null,
          step text not null, value text not null, n integer not null default 0,
          primary key (day, channel, source, campaign, step, value)
        ) without rowid
        """
    )
    db.execute(
        """
        insert into funnel_daily (day, channel, source, campaign, step, value, n)
        select coalesce(day, ''), coalesce(channel, ''), coalesce(source, ''), coalesce(campaign, ''),
               step, coalesce(value, ''), count(*)
        from funnel_events group by 1, 2, 3, 4, 5, 6
        on conflict do update set n = excluded.n
        """
    )
    db.execute(
        """
        create trigger if not exists funnel_daily_insert after insert on funnel_events
        begin
          insert into funnel_daily (day, channel, source, campaign, step, value, n)
          values (coalesce(new.day, ''), coalesce(new.channel, ''), coalesce(new.source, ''),
                  coalesce(new.campaign, ''), new.step, coalesce(new.value, ''), 1)
          on conflict do update set n = n + 1;
        end
        """
    )
    db.execute(
        """
        create trigger if not exists funnel_daily_delete after delete on funnel_events
        begin
          update funnel_daily set n = n - 1
          where day = coalesce(old.day, '') and channel = coalesce(old.channel, '')
            and source = coalesce(old.source, '') and campaign = coalesce(old.campaign, '')
            and step = old.step and value = coalesce(old.value, '');
        end
        """
    )
    for step, condition in (
        ("assigned", "new.status = 'operator' or new.owner_id is not null"),
        ("closed", "new.status = 'closed'"),
    ):
        db.execute(
            f"""
            create trigger if not exists funnel_{step} after update on conversations
            when ({condition})
            begin
              insert or ignore into funnel_events
                (conversation_id, channel, source, campaign, step, value, day, created_at)
              select new.id, new.channel,
                case when new.channel = 'line' then 'line'
                     else coalesce(case when json_valid(ct.source)
                                   then json_extract(ct.source, '$.utm_source') end, '(direct)') end,
                coalesce(case when json_valid(ct.source)
                         then json_extract(ct.source, '$.utm_campaign') end, ''),
                '{step}', '', date(new.created_at, '+9 hours'),
                strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')
              from contacts ct where ct.id = new.contact_id;
            end
            """
        )


@MIGRATIONS()
def m005_console_followups(db: sqlite_utils.Database) -> None:
    """Console: follow-ups (every promise to contact someone, with a due time) and
    contact details a homeowner typed in the chat, proposed to the operator; ``meta``
    (key, value) for one-time settings such as the 定型文 seeded once."""
    db.execute("create table if not exists meta (key text primary key, value text)")
    db["followups"].create(
        {
            "id": int,
            "conversation_id": int,
            "kind": str,  # promise (made by the bot) | callback (set by an operator)
            "due_at": str,  # UTC ISO
            "note": str,
            "created_by": int,  # null: the bot
            "created_at": str,
            "done_at": str,
            "done_by": int,
            "alerted_at": str,  # the overdue alert was raised
        },
        pk="id",
        if_not_exists=True,
    )
    db.execute("create index if not exists followups_open on followups (done_at, due_at)")
    db.execute("create index if not exists followups_conversation on followups (conversation_id)")
    db["contact_proposals"].create(
        {
            "id": int,
            "conversation_id": int,
            "message_id": int,
            "kind": str,  # phone | email | time
            "value": str,
            "digits": str,  # phone: digits only, for search
            "status": str,  # proposed | confirmed | dismissed
            "created_at": str,
            "decided_by": int,
            "decided_at": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db.execute("create unique index if not exists contact_proposals_unique"
               " on contact_proposals (conversation_id, kind, value)")
    db.execute("create index if not exists contact_proposals_message on contact_proposals (message_id)")
    # Personal data goes with what it came from, whoever deletes it (retention purge,
    # a homeowner's deletion request): a proposal with its message; follow-ups and
    # proposals with their conversation, or when its data is emptied (forget_contact).
    db.executescript(
        """
        create trigger if not exists contact_proposals_message_gone after delete on messages begin
          delete from contact_proposals where message_id = old.id;
        end;
        create trigger if not exists console_conversation_gone after delete on conversations begin
          delete from contact_proposals where conversation_id = old.id;
          delete from followups where conversation_id = old.id;
        end;
        create trigger if not exists console_conversation_forgotten after update of data on conversations
        when new.data = '{}' and old.data != '{}' begin
          delete from contact_proposals where conversation_id = new.id;
          delete from followups where conversation_id = new.id;
        end;
        """
    )


@MIGRATIONS()
def m006_redacted_copy(db: sqlite_utils.Database) -> None:
    """A redacted copy of what users wrote, with its own trigram index (issue 12).

    Marketing searches and filters this copy, never the originals: a phone
    number, name or e-mail typed in their search box finds nothing the pages hide.
    ``messages_redacted`` holds one row per user message (``id`` = messages.id),
    written by the insights hook at the end of each event's transaction and by
    the catch-up for rows written elsewhere (``bot/insights/masked.py``). The
    watermark ``meta.redacted_upto`` says up to which messages.id every user
    message has its copy. Deleting a message deletes its copy; changing its text
    drops the copy and lowers the watermark so the catch-up writes it again.
    ``known`` is a digest of the stored name / phone / e-mail / display name the
    copy was written with: when they change, the copies are checked again.
    """
    db.execute(
        "create table if not exists messages_redacted ("
        " id integer primary key, conversation_id integer not null, text text not null, known text)"
    )
    db.execute("create index if not exists messages_redacted_conversation on messages_redacted (conversation_id, id)")
    db.execute(
        "create virtual table if not exists messages_redacted_fts using fts5("
        "text, content='messages_redacted', content_rowid='id', tokenize='trigram')"
    )
    db.executescript(
        """
        create trigger if not exists messages_redacted_ai after insert on messages_redacted begin
          insert into messages_redacted_fts (rowid, text) values (new.id, new.text);
        end;
        create trigger if not exists messages_redacted_ad after delete on messages_redacted begin
          insert into messages_redacted_fts (messages_redacted_fts, rowid, text) values ('delete', old.id, old.text);
        end;
        create trigger if not exists messages_redacted_au after update on messages_redacted begin
          insert into messages_redacted_fts (messages_redacted_fts, rowid, text) values ('delete', old.id, old.text);
          insert into messages_redacted_fts (rowid, text) values (new.id, new.text);
        end;
        create trigger if not exists messages_delete_redacted after delete on messages begin
          delete from messages_redacted where id = old.id;
        end;
        create trigger if not exists messages_update_redacted after update of text, direction on messages begin
          delete from messages_redacted where id = old.id;
          update meta set value = min(cast(value as integer), old.id - 1) where key = 'redacted_upto';
        end;
        """
    )
    db.execute("insert into meta (key, value) values ('redacted_upto', '0') on conflict(key) do nothing")


@MIGRATIONS()
def m007_status_in_code(db: sqlite_utils.Database) -> None:
    """No status logic in triggers: the ``assigned`` and ``closed`` funnel steps are
    recorded by the status machine's transitions (dialogs/conversation.py, written by
    bot/console/service.py ``change_status``), not by triggers on every UPDATE."""
    for step in ("assigned", "closed"):
        db.execute(f"drop trigger if exists funnel_{step}")


@MIGRATIONS()
def m008_rate_limits(db: sqlite_utils.Database) -> None:
    """One rate limiter for every process (bot/ratelimit.py): a row per key and window.

    Replaces ``login_failures`` (one row per failed login, read by the login page
    only); the web chat's limit, until now counted in each process's memory,
    shares this table.
    """
    db.execute(
        "create table if not exists rate_limits ("
        " key text primary key, hits integer not null, ends_at real not null) without rowid"
    )
    db.execute("create index if not exists rate_limits_ends_at on rate_limits (ends_at)")
    db.execute("drop table if exists login_failures")


@MIGRATIONS()
def m009_compact_storage(db: sqlite_utils.Database) -> None:
    """Store each thing once (issue 14): about 43 KB per diagnosis conversation before.

    * A user's message keeps in ``payload`` only what its text does not say (postback
      data, a sticker, a place, a file name, the media's LINE id); the raw LINE event
      (the text again, reply token, ids) stays only in the inbox row, for a while.
    * A bot answer's payload is compact (``Answer.to_dict``: no null or default field)
      and leaves out the words of its text bubbles, which the row's ``text`` holds
      (``dialogs.answer.stored``).
    * A partial index on the inbox rows that still have their webhook body, so the
      periodic ``Storage.reduce_old_inbox`` finds the old ones without a scan.
    * The FTS update trigger fires on a change of ``text`` or ``direction`` only.
    * Two funnel indexes nothing reads since the funnel page sums ``funnel_daily``
      (m004): ``idx_funnel_events_day_channel`` and ``funnel_events_cover``.
    """
    import json

    from dialogs.answer import Answer, stored

    def dumps(value) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def inbound(kind: str, payload: str) -> str | None:
        try:
            old = json.loads(payload)
        except ValueError:
            return payload
        if not isinstance(old, dict):
            return payload
        new = {k: old[k] for k in ("data", "params", "sticker", "location", "file_name", "is_unblocked")
               if old.get(k)}
        if kind in ("sticker", "image", "video", "audio", "file", "location") and old.get("message_id"):
            new["message_id"] = old["message_id"]
        if old.get("mode") == "standby" or kind == "unknown":
            new.update(mode=old.get("mode"), line_type=old.get("line_type"), raw=old.get("raw"))
        return dumps(new) if new else None

    def answer(text: str | None, payload: str) -> str:
        try:
            d = Answer.from_dict(json.loads(payload)).to_dict()
        except (ValueError, KeyError, TypeError, AttributeError):
            return payload
        return dumps(stored(text, d) if text is not None else d)

    # The search index follows a message's words: a change of its payload alone (as below)
    # no longer deletes and re-adds it to messages_fts.
    # (db.execute, not executescript: that would COMMIT the migrations' transaction first)
    db.execute("drop trigger if exists messages_au")
    db.execute(
        """
        create trigger messages_au after update of text, direction on messages begin
          insert into messages_fts (messages_fts, rowid, text)
            select 'delete', old.rowid, old.text where old.direction = 'in';
          insert into messages_fts (rowid, text)
            select new.rowid, new.text where new.direction = 'in';
        end
        """
    )
    db.conn.create_function("m009_inbound", 2, inbound)
    db.conn.create_function("m009_answer", 2, answer)
    db.execute("update messages set payload = m009_inbound(kind, payload)"
               " where direction = 'in' and payload is not null")
    db.execute("update messages set payload = m009_answer(text, payload) where kind = 'answer' and payload is not null")
    # The outbox holds one format, the answer: an operator's message still waiting in the old
    # form (a list of LINE text messages) becomes an answer of the same texts.
    for row in db.execute("select id, messages from outbox where messages like '[%'").fetchall():
        texts = [m.get("text") for m in json.loads(row[1]) if isinstance(m, dict)]
        if texts and all(isinstance(t, str) for t in texts):
            db.execute("update outbox set messages = ? where id = ?",
                       [dumps({"answer": {"messages": [{"type": "text", "text": t} for t in texts]}}), row[0]])
    db.execute("create index if not exists inbox_with_body on inbox (received_at) where body is not null")
    db.execute("drop index if exists idx_funnel_events_day_channel")
    db.execute("drop index if exists funnel_events_cover")


# ---------------------------------------------------------------------------
# Running them
# ---------------------------------------------------------------------------


def _legacy_applied(db: sqlite_utils.Database) -> list[str]:
    """The migrations a database from before ``Migrations`` already has, read off its schema."""
    tables = set(db.table_names())
    if "meta" not in tables or "contacts" not in tables:
        return []
    done = ["m001_core"]
    if "users" in tables:
        done.append("m002_staff")
    trigger = db.execute("select sql from sqlite_master where type = 'trigger' and name = 'messages_ai'").fetchone()
    if trigger and "direction = 'in'" in trigger[0]:
        done.append("m003_fts_user_messages")
    if "funnel_daily" in tables:
        done.append("m004_insights")
    return done


def pending(db: sqlite_utils.Database) -> list[str]:
    """Names of the migrations not applied yet (read-only)."""
    legacy = set() if "_sqlite_migrations" in db.table_names() else set(_legacy_applied(db))
    return [m.name for m in MIGRATIONS.pending(db) if m.name not in legacy]


def current_version(db: sqlite_utils.Database) -> int:
    """How many migrations this database has (the schema version shown to people)."""
    return len(MIGRATIONS.applied(db))


def migrate(db: sqlite_utils.Database) -> int:
    """Apply pending migrations; returns the schema version now in force."""
    if MIGRATIONS.migrations_table in db.table_names() and not MIGRATIONS.pending(db):
        return current_version(db)
    db.execute("BEGIN IMMEDIATE")  # the write lock first: another process may be migrating
    try:
        if "_sqlite_migrations" not in db.table_names():
            legacy = _legacy_applied(db)
            MIGRATIONS.ensure_migrations_table(db)
            now = str(dt.datetime.now(dt.timezone.utc))
            db[MIGRATIONS.migrations_table].insert_all(
                {"migration_set": MIGRATIONS.name, "name": name, "applied_at": now} for name in legacy)
            if legacy:
                logger.info("schema versions from before sqlite-utils Migrations recorded: %s", ", ".join(legacy))
        todo = [m.name for m in MIGRATIONS.pending(db)]
        MIGRATIONS.apply(db)
        db.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    for name in todo:
        logger.info("database migrated: %s", name)
    return current_version(db)
