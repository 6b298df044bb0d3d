"""Streamed exports: conversations, messages and leads as CSV (UTF-8 with BOM) or JSONL.

A generator walks a cursor on its own read-only connection in batches
(``fetchmany``), so memory stays flat whatever the size; Flask streams it with
``stream_with_context``. Personal data is redacted for the marketing role.
"""
from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

from bot.insights.funnel import source_of
from bot.insights.redact import EMAIL, NAME, PHONE, redact
from bot.insights.transcripts import SEARCHES, Filters, conversation_where, exists_step, fts_phrase, known_personal
from bot.insights.transcripts import like_pattern, search_mode
from bot.storage import loads

KINDS = ("conversations", "messages", "leads")
FORMATS = ("csv", "jsonl")
BATCH = 1000
BOM = "\ufeff"

COLUMNS = {
    "conversations": ["id", "channel", "created_at", "updated_at", "status", "step", "stage", "urgency",
                      "lead_score", "lead", "handoff", "source", "campaign", "display_name",
                      "arrears_months", "latest_notice", "co_owned", "divorce", "lender"],
    "messages": ["id", "conversation_id", "created_at", "direction", "sender", "kind", "text"],
    "leads": ["conversation_id", "channel", "created_at", "stage", "urgency", "lead_score", "name", "phone",
              "email", "via_line", "preferred_time", "source", "campaign"],
}


def _text_filter(f: Filters, redacted: bool) -> tuple[str, list[Any]]:
    """Conversations with a user message matching the search (exports honour it too).

    ``redacted`` (marketing): matched against the redacted copy (bot/insights/masked.py).
    """
    if not f.q:
        return "", []
    fts = search_mode(f.q) == "fts"
    _text, source, match, _order = SEARCHES[redacted, fts]
    return (f" and c.id in (select m.conversation_id from {source} where {match})",
            [fts_phrase(f.q) if fts else like_pattern(f.q)])


def _message_match(q: str, redacted: bool) -> tuple[str, str]:
    """SQL keeping only the user messages that match ``q`` (like the search page), and
    its parameter: for marketing in the redacted copy, else in what users wrote."""
    ids, text, fts = ("r.id", "r.text", "messages_redacted_fts") if redacted else ("m.id", "m.text", "messages_fts")
    scope = "" if redacted else " and m.direction = 'in'"
    if search_mode(q) == "fts":
        return f"{scope} and {ids} in (select rowid from {fts} where {fts} match ?)", fts_phrase(q)
    return f"{scope} and {text} like ? escape '\\'", like_pattern(q)


def _sql(kind: str, f: Filters, redacted: bool = False) -> tuple[str, list[Any]]:
    where, params = conversation_where(f)
    extra, extra_params = _text_filter(f, redacted)
    where += extra
    params += extra_params
    lead, handoff = exists_step("contact"), exists_step("handoff")
    if kind == "messages":
        text_cond = ""
        if f.q:
            text_cond, param = _message_match(f.q, redacted)
            params.append(param)
        return (
            "select m.id, m.conversation_id, m.created_at, m.direction, m.sender, m.kind, m.text,"
            " c.data as c_data, c.summary as c_summary, ct.display_name as c_name, r.text as r_text"
            " from conversations c join contacts ct on ct.id = c.contact_id"
            " join messages m on m.conversation_id = c.id left join messages_redacted r on r.id = m.id"
            f" where {where}{text_cond} order by c.id, m.id",
            params,
        )
    sql = (
        "select c.id, c.channel, c.created_at, c.updated_at, c.status, c.step, c.urgency, c.lead_score,"
        f" json_extract(c.summary, '$.stage') as stage, {lead} as lead, {handoff} as handoff,"
        " ct.source as contact_source, ct.display_name, c.data, c.summary"
        " from conversations c join contacts ct on ct.id = c.contact_id"
        f" where {where}{' and ' + lead if kind == 'leads' else ''} order by c.id"
    )
    return sql, params


def rows(db_path: str, kind: str, f: Filters, redacted: bool) -> Iterator[dict[str, Any]]:
    """The export's rows as dicts, read in batches on a dedicated read-only connection."""
    sql, params = _sql(kind, f, redacted)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    try:
        cur = conn.execute(sql, params)
        cache: dict[str, Any] = {}  # messages come grouped by conversation: its personal strings once
        while batch := cur.fetchmany(BATCH):
            for row in batch:
                yield _shape(kind, dict(row), redacted, cache)
    finally:
        conn.close()


def _shape(kind: str, r: dict[str, Any], redacted: bool, cache: dict[str, Any]) -> dict[str, Any]:
    if kind == "messages":
        text = r["text"]
        if redacted and r["r_text"] is not None:
            text = r["r_text"]  # the stored copy: what the pages show and marketing's search reads
        elif redacted and text:
            if cache.get("conv") != r["conversation_id"]:
                cache["conv"] = r["conversation_id"]
                cache["known"] = tuple(known_personal({"data": r["c_data"], "summary": r["c_summary"]},
                                                      r["c_name"]))
            text = redact(text, cache["known"])
        return {k: (text if k == "text" else r[k]) for k in COLUMNS["messages"]}
    data = loads(r["data"], {}) or {}
    summary = loads(r["summary"], {}) or {}
    source, campaign = source_of(r["channel"], r["contact_source"])
    if kind == "leads":
        c = {**(summary.get("contact") or {}), **(data.get("contact") or {})}

        def pd(key: str, label: str) -> str:
            value = c.get(key)
            return (label if redacted else str(value)) if value else ""

        return {
            "conversation_id": r["id"], "channel": r["channel"], "created_at": r["created_at"],
            "stage": r["stage"], "urgency": r["urgency"], "lead_score": r["lead_score"],
            "name": pd("name", NAME), "phone": pd("phone", PHONE), "email": pd("email", EMAIL),
            "via_line": bool(c.get("via_line")), "preferred_time": c.get("preferred_time") or "",
            "source": source, "campaign": campaign,
        }
    answers = data.get("answers") or summary.get("answers") or {}
    return {
        "id": r["id"], "channel": r["channel"], "created_at": r["created_at"], "updated_at": r["updated_at"],
        "status": r["status"], "step": r["step"], "stage": r["stage"], "urgency": r["urgency"],
        "lead_score": r["lead_score"], "lead": bool(r["lead"]), "handoff": bool(r["handoff"]),
        "source": source, "campaign": campaign,
        "display_name": (NAME if redacted else r["display_name"]) if r["display_name"] else "",
        "arrears_months": answers.get("arrears_months"), "latest_notice": answers.get("latest_notice"),
        "co_owned": answers.get("co_owned"), "divorce": answers.get("divorce"), "lender": answers.get("lender"),
    }


def stream(db_path: str, kind: str, fmt: str, f: Filters, redacted: bool) -> Iterator[str]:
    """The export as text chunks (one per batch of rows)."""
    columns = COLUMNS[kind]
    buf = io.StringIO()
    if fmt == "csv":
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\r\n", extrasaction="ignore")
        buf.write(BOM)
        writer.writeheader()
    n = 0
    for row in rows(db_path, kind, f, redacted):
        if fmt == "csv":
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        else:
            buf.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
            buf.write("\n")
        n += 1
        if n % BATCH == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
