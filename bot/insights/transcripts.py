"""Transcript queries: filters → SQL, keyset pagination, full-text search, one conversation.

Every query is driven by an index: the list walks ``conversations`` by id
(newest first) from a keyset ``before`` id; the search walks the FTS5 trigram
index (3+ characters) newest first, or for 1–2 characters scans messages
newest first with LIKE, stopping at the page size. For marketing, the search runs
the same way on the redacted copy (``messages_redacted`` and its trigram index, see
:mod:`bot.insights.masked`), so personal data cannot be found.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields
from typing import Any

from markupsafe import Markup, escape

from bot.content import labels
from bot.insights.masked import known_personal  # noqa: F401  (used by views and exports)
from bot.insights.redact import EMAIL, NAME, PHONE, redact
from bot.storage import loads
from dialogs.assessment import ALL_STAGES, URGENCIES  # noqa: F401  (the pages' filters: t.URGENCIES)
from dialogs.base import JST
from dialogs.diagnosis.machine import STATE_NAMES

PAGE = 50
CHANNELS = ("line", "web")
# One vocabulary: the ids from dialogs/, their names from content/labels.yaml
STAGES = ALL_STAGES
STAGE_LABELS = labels()["stage"]
URGENCY_LABELS = labels()["urgency"]
STATUS_LABELS = labels()["status"]
DIALOG_STEPS = STATE_NAMES


@dataclass
class Filters:
    date_from: str = ""
    date_to: str = ""
    channel: str = ""
    stage: str = ""
    reached: str = ""
    urgency: str = ""
    lead: str = ""  # yes | no
    handoff: str = ""  # yes | no
    left_at: str = ""  # dialog step where the user left
    idle_hours: int = 24
    q: str = ""

    def args(self, **override: Any) -> dict[str, Any]:
        out = {"from": self.date_from, "to": self.date_to}
        for fl in fields(self):
            if fl.name in ("date_from", "date_to"):
                continue
            value = getattr(self, fl.name)
            if value and not (fl.name == "idle_hours" and value == 24):
                out[fl.name] = value
        out.update({k: v for k, v in override.items()})
        return {k: v for k, v in out.items() if v not in ("", None)}


def utc_bound(day: str | dt.date, plus_days: int = 0) -> str:
    """The UTC ISO instant of 00:00 JST on ``day`` (+ days), comparable to stored timestamps."""
    t = dt.datetime.combine(dt.date.fromisoformat(str(day)) + dt.timedelta(days=plus_days), dt.time(), JST)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def exists_step(step: str) -> str:
    return (f"exists (select 1 from funnel_events fe where fe.conversation_id = c.id"
            f" and fe.step = '{step}' and fe.value = '')")


def conversation_where(f: Filters, now: dt.datetime | None = None) -> tuple[str, list[Any]]:
    """SQL conditions on ``conversations c`` for the filters (without the text search)."""
    # "+": no index on created_at here — the pages walk conversations by id (newest
    # first, rows are created in time order) and stop at a page; an index range on
    # created_at would sort every row of a long period first.
    where = ["+c.created_at >= ?", "+c.created_at < ?"]
    params: list[Any] = [utc_bound(f.date_from), utc_bound(f.date_to, 1)]
    for column, value in (("c.channel", f.channel), ("json_extract(c.summary, '$.stage')", f.stage),
                          ("c.urgency", f.urgency)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if f.lead:
        where.append(exists_step("contact") if f.lead == "yes" else "not " + exists_step("contact"))
    if f.handoff:
        where.append(exists_step("handoff") if f.handoff == "yes" else "not " + exists_step("handoff"))
    if f.reached:
        where.append("exists (select 1 from funnel_events fr where fr.conversation_id = c.id"
                     " and fr.step = ? and fr.value = '')")
        params.append(f.reached)
    if f.left_at:
        now = now or dt.datetime.now(dt.UTC)
        idle = (now - dt.timedelta(hours=f.idle_hours)).isoformat(timespec="milliseconds")
        where.append("c.step = ? and (c.status = 'closed' or coalesce(c.last_user_at, c.updated_at) < ?)")
        params += [f.left_at, idle]
    return " and ".join(where), params


def fts_phrase(q: str) -> str:
    return '"' + q.replace('"', '""') + '"'


def like_pattern(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


LIST_SQL = """
select c.id, c.channel, c.status, c.step, c.urgency, c.lead_score, c.created_at, c.updated_at,
       json_extract(c.summary, '$.stage') as stage, ct.display_name,
       {lead} as is_lead, {handoff} as is_handoff,
       (select m.text from messages m where m.conversation_id = c.id and m.direction = 'in'
          and m.text is not null order by m.id limit 1) as first_text,
       (select r.text from messages_redacted r where r.conversation_id = c.id order by r.id limit 1)
          as first_text_redacted,
       (select count(*) from messages m where m.conversation_id = c.id) as n_messages
from conversations c join contacts ct on ct.id = c.contact_id
where {where} {keyset}
order by c.id desc limit ?
"""


def list_conversations(db: Any, f: Filters, before: int | None = None, limit: int = PAGE) -> list[dict]:
    where, params = conversation_where(f)
    sql = LIST_SQL.format(lead=exists_step("contact"), handoff=exists_step("handoff"), where=where,
                          keyset="and c.id < ?" if before else "")
    return list(db.query(sql, [*params, *([before] if before else []), limit]))


# What a search returns; marketing searches the redacted copy (bot/insights/masked.py).
SEARCH_SQL = """
select m.id, m.conversation_id, {text} as text, m.created_at, c.channel, c.status, c.step,
       json_extract(c.summary, '$.stage') as stage, c.urgency, ct.display_name,
       c.summary as summary, c.data as data
from {source} join conversations c on c.id = m.conversation_id join contacts ct on ct.id = c.contact_id
where {match} and {where} {keyset}
order by {order} desc limit ?
"""
#: (redacted, full-text) → the text shown, the tables searched, the match, the order
SEARCHES = {
    (False, True): ("m.text", "messages_fts f join messages m on m.id = f.rowid",
                    "messages_fts match ? and m.direction = 'in'", "f.rowid"),
    (False, False): ("m.text", "messages m", "m.direction = 'in' and m.text like ? escape '\\'", "m.id"),
    (True, True): ("r.text", "messages_redacted_fts f join messages_redacted r on r.id = f.rowid"
                   " join messages m on m.id = r.id", "messages_redacted_fts match ?", "f.rowid"),
    (True, False): ("r.text", "messages_redacted r join messages m on m.id = r.id",
                    "r.text like ? escape '\\'", "r.id"),
}


def search_mode(q: str) -> str:
    return "fts" if len(q) >= 3 else "like"


def search_messages(db: Any, f: Filters, before: int | None = None, limit: int = PAGE,
                    redacted: bool = False) -> list[dict]:
    """What users wrote, newest first, within the filtered conversations.

    ``redacted`` (marketing): searched in, and returned from, the redacted copy.
    """
    where, params = conversation_where(f)
    keyset = ("and r.id < ?" if redacted else "and m.id < ?") if before else ""
    fts = search_mode(f.q) == "fts"
    text, source, match, order = SEARCHES[redacted, fts]
    sql = SEARCH_SQL.format(text=text, source=source, match=match, order=order, where=where, keyset=keyset)
    first = fts_phrase(f.q) if fts else like_pattern(f.q)
    return list(db.query(sql, [first, *params, *([before] if before else []), limit]))


def highlight(text: str, q: str) -> Markup:
    """Escape first, then wrap each (case-insensitive) match of ``q`` in <mark>."""
    if not text:
        return Markup("")
    if not q:
        return escape(text)
    parts = re.split(f"({re.escape(q)})", text, flags=re.IGNORECASE)
    return Markup("").join(Markup("<mark>{}</mark>").format(p) if i % 2 else escape(p) for i, p in enumerate(parts))


def display_text(text: str | None, redacted: bool, known: list[str]) -> str:
    if text is None:
        return ""
    return redact(text, known) if redacted else text


def display_name_for(name: str | None, redacted: bool) -> str:
    if not name:
        return ""
    return NAME if redacted else name


def contact_fields(conv: dict[str, Any], redacted: bool) -> list[tuple[str, str]]:
    """(label, value) of the contact details left in the dialog."""
    data = loads(conv.get("data"), {}) or {}
    summary = loads(conv.get("summary"), {}) or {}
    c = {**(summary.get("contact") or {}), **(data.get("contact") or {})}
    rows = []
    for key, label, mask in (("name", "お名前", NAME), ("phone", "電話番号", PHONE), ("email", "メール", EMAIL)):
        if c.get(key):
            rows.append((label, mask if redacted else str(c[key])))
    if c.get("via_line"):
        rows.append(("連絡方法", "LINEで"))
    if c.get("preferred_time"):
        rows.append(("希望の時間帯", labels()["contact_time"].get(c["preferred_time"], str(c["preferred_time"]))))
    return rows


def jst(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        t = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(JST).strftime("%Y-%m-%d %H:%M")
