"""The console's service layer: reads and state changes on conversations.

Views stay thin; every rule lives here:

* a conversation's status (bot / waiting / operator / closed) changes only by the
  status machine in :mod:`dialogs.conversation` (:func:`change_status`), written
  with a compare-and-set UPDATE: of two operators taking over at once exactly
  one wins, the other gets :class:`Conflict`;
* operator replies go through the engine as an Answer (a LINE push with a retry
  key, rendered when sent, or a stored message the web chat polls);
* hand back and close change the status the engine reads.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from bot.auth import display_name
from bot.console.contacts import digits, phone_display
from bot.content import labels
from bot.engine import today_jst
from bot.insights.funnel import add_event
from bot.storage import Storage, loads, now_iso
from dialogs import advice, conversation
from dialogs.answer import Answer, restored
from dialogs.assessment import inbox_sort_key
from dialogs.base import JST, WEEKDAYS

logger = logging.getLogger(__name__)

# The names of ids, from content/labels.yaml (one vocabulary for every screen)
STATUS_LABELS = labels()["status"]
URGENCY_LABELS = labels()["urgency"]
KIND_LABELS = labels()["message_kind"]
STAGE_LABELS = labels()["stage"]
NOTICE_LABELS = labels()["notice"]
TIME_LABELS = {**labels()["contact_time"], "anytime": labels()["contact_time"]["any"]}  # anytime: older rows


class Conflict(Exception):
    """A state change lost a race or is not allowed now (HTTP 409)."""


class Invalid(ValueError):
    """What an operator sent cannot be done as sent (HTTP 400)."""


class NotFound(Exception):
    pass


# -- formatting -------------------------------------------------------------------
def parse_ts(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        ts = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)


def ago(value: str | None, now: dt.datetime | None = None) -> str:
    ts = parse_ts(value)
    if ts is None:
        return ""
    now = now or dt.datetime.now(dt.UTC)
    seconds = max(0, int((now - ts).total_seconds()))
    if seconds < 60:
        return "たった今"
    if seconds < 3600:
        return f"{seconds // 60}分前"
    if seconds < 86400:
        return f"{seconds // 3600}時間前"
    return f"{seconds // 86400}日前"


def jst_time(value: str | None, with_date: bool = True) -> str:
    ts = parse_ts(value)
    if ts is None:
        return ""
    t = ts.astimezone(JST)
    if not with_date:
        return t.strftime("%H:%M")
    return f"{t.month}/{t.day}（{WEEKDAYS[t.weekday()]}）{t:%H:%M}"


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def jp_date(value: Any) -> str:
    d = _date(value)
    return f"{d.year}年{d.month}月{d.day}日（{WEEKDAYS[d.weekday()]}）" if d else str(value or "")


def yes_no(value: Any) -> str:
    if value is None:
        return "未確認"
    return "あり" if value else "なし"


def describe_message(row: dict[str, Any]) -> str:
    """A message as staff should read it: stickers and images as what they are."""
    kind, text = row.get("kind") or "text", row.get("text")
    payload = (loads(row.get("payload"), {}) or {}) if kind in ("location", "file", "postback") else {}
    if kind in KIND_LABELS:
        label = KIND_LABELS[kind]
        if kind == "location":
            where = payload.get("address") or payload.get("title")
            return f"{label} {where}" if where else label
        return f"{label} {payload.get('file_name', '')}".strip() if kind == "file" else label
    if kind == "postback":
        return text or f"［ボタン］{payload.get('data', '')}"
    return text or ""


def summarize_answer(payload: dict[str, Any] | None) -> list[dict[str, str]]:
    """A bot answer as parts: texts as they are, cards and tables summarized."""
    parts: list[dict[str, str]] = []
    for m in (payload or {}).get("messages", []):
        t = m.get("type")
        if t == "text":
            parts.append({"type": "text", "text": m.get("text", "")})
        elif t == "card":
            rows = " / ".join(f"{r[0]}: {r[1]}" for r in m.get("rows", []) if len(r) == 2)
            body = m.get("title", "")
            if rows:
                body += f"（{rows}）"
            parts.append({"type": "card", "text": f"［カード］{body}"})
        elif t == "table":
            parts.append({"type": "card", "text": f"［表］{m.get('title', '')}"})
    buttons = [q.get("label", "") for q in (payload or {}).get("quick_replies", [])]
    if buttons:
        parts.append({"type": "buttons", "text": "［ボタン］" + " / ".join(buttons)})
    return parts


def excerpt(text: str, n: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


# -- what the dialog's summary says: read in ONE place ------------------------------
CRISIS_TAG = "危機・要配慮"
CONCERN_TAG = "相談窓口を案内済"  # a message near despair got the hotlines (no alert)
PLAN_MARGIN = dt.timedelta(days=1)  # the planning day is this much before the legal last day
URGENT_DAYS = 7  # days left under this: shown in red


def plan_day(summary: dict[str, Any]) -> tuple[dt.date | None, bool]:
    """The planning day (売却計画の目標日) and whether it is an estimate.

    ``plan_by`` when the summary carries it (top level or in ``time_left``),
    else the legal last day minus :data:`PLAN_MARGIN`, else the start of the
    estimated 開札 range minus the same margin and a day (an estimate).
    """
    tl = summary.get("time_left") or {}
    estimate = bool(tl.get("is_estimate"))
    for value in (summary.get("plan_by"), tl.get("plan_by")):
        if _date(value):
            return _date(value), estimate
    legal = _date(tl.get("legal_last_day") or summary.get("legal_last_day"))
    if legal and not estimate:
        return legal - PLAN_MARGIN, False
    start = _date(tl.get("estimate_from"))
    if start:
        return start - dt.timedelta(days=1) - PLAN_MARGIN, True
    return None, estimate


def facts(conv: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """What a row and the banners show about a case, from its stored summary.

    The only reader of ``conversations.summary`` for the inbox: stage, days
    left to the planning day (computed from the dates, so never stale),
    reasons as short tags, the crisis flag.
    """
    try:
        summary = loads(conv.get("summary"), {}) or {}
    except ValueError:
        summary = {}
    if not isinstance(summary, dict):
        summary = {}
    stage = summary.get("stage")
    day, estimate = plan_day(summary)
    days = (day - today).days if day else None
    if days is None:
        days_label = ""
    elif days < 0:
        days_label = "計画日を過ぎています"
    else:
        days_label = f"計画日まで{'約' if estimate else 'あと'}{days}日"
    crisis = bool(summary.get("crisis"))
    # "開札まで8日" was true the day it was written: the days column says it freshly.
    tags = [r for r in summary.get("reasons") or [] if isinstance(r, str) and not r.startswith("開札まで")]
    if crisis:
        tags.insert(0, CRISIS_TAG)
    elif summary.get("concern"):
        tags.insert(0, CONCERN_TAG)
    return {
        "stage": stage or "",
        "stage_label": STAGE_LABELS.get(stage, "") if stage and stage != "unknown" else "",
        "days": days,
        "days_label": days_label,
        "days_title": f"売却計画の目標日: {jp_date(day)}" + ("（目安）" if estimate else "") if day else "",
        "days_urgent": days is not None and days < URGENT_DAYS,
        "tags": tags[:4],
        "crisis": crisis,
    }


# -- ranking ---------------------------------------------------------------------------
def _fresh_days(summary: dict[str, Any], today: dt.date) -> int | None:
    tl = summary.get("time_left") or {}
    legal = _date(tl.get("legal_last_day") or summary.get("legal_last_day"))
    if legal and not tl.get("is_estimate"):
        return (legal - today).days
    start = _date(tl.get("estimate_from"))
    if start:
        return (start - dt.timedelta(days=1) - today).days
    return tl.get("days_to_legal_last_day")


def sort_key(conv: dict[str, Any], today: dt.date) -> tuple:
    summary = dict(loads(conv.get("summary"), {}) or {})
    if not summary.get("urgency") and conv.get("urgency"):
        summary["urgency"] = conv["urgency"]
    if summary.get("score") is None:
        summary["score"] = summary.get("lead_score") or conv.get("lead_score") or 0
    tl = dict(summary.get("time_left") or {})
    tl["days_to_legal_last_day"] = _fresh_days(summary, today)
    summary["time_left"] = tl
    try:
        key = tuple(inbox_sort_key(summary))
    except Exception:  # a malformed summary must not break the inbox
        logger.exception("inbox_sort_key failed for conversation %s", conv.get("id"))
        key = (9, 9, 0, 0)
    last = parse_ts(conv.get("last_user_at") or conv.get("updated_at"))
    return (0 if summary.get("crisis") else 1,) + key + (-(last.timestamp() if last else 0), -conv["id"])


# -- the inbox ------------------------------------------------------------------------------
SOON = dt.timedelta(hours=1)  # a follow-up due within this is "due soon"
SENDER_PREFIX = {"user": "", "bot": "ボット: ", "operator": "担当: "}


def person_name(contact_name: str | None, data: Any, channel: str) -> str:
    """The name staff call a case by: the name given, else the LINE name."""
    contact = (loads(data, {}) if isinstance(data, str) else data or {}).get("contact") or {}
    return contact.get("name") or contact_name or ("Webの訪問者" if channel == "web" else "LINEユーザー")


def followup_view(due_at: str | None, now: dt.datetime) -> dict[str, Any] | None:
    due = parse_ts(due_at)
    if due is None:
        return None
    state = "overdue" if due <= now else ("soon" if due - now <= SOON else "later")
    label = {"overdue": "連絡期限切れ", "soon": "まもなく連絡", "later": "連絡予定"}[state]
    return {"state": state, "label": f"{label} {jst_time(due_at)}", "due_at": due_at}


def inbox(storage: Storage, me: int, status: str = "open", owner: str = "all",
          limit: int = 300, today: dt.date | None = None,
          ids: list[int] | None = None, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The ranked rows: why (stage, days left, reasons), the homeowner's last words,
    how long they have waited, and the next contact owed (follow-up; due soon or
    overdue as of ``now``, the console's clock)."""
    today = today or today_jst()
    clock_now = now or dt.datetime.now(dt.UTC)
    where: list[str] = []
    params: list[Any] = []
    if ids is not None:
        where.append(f"c.id in ({','.join('?' * len(ids))})" if ids else "0")
        params.extend(ids)
    elif status == "open":  # a contact still owed keeps a closed case in view
        where.append("(c.status != 'closed' or exists (select 1 from followups f"
                     " where f.conversation_id = c.id and f.done_at is null))")
    elif status == "followup":
        where.append("exists (select 1 from followups f where f.conversation_id = c.id"
                     " and f.done_at is null)")
    elif status in STATUS_LABELS:
        where.append("c.status = ?")
        params.append(status)
    if owner == "mine":
        where.append("c.owner_id = ?")
        params.append(me)
    elif owner == "unassigned":
        where.append("c.owner_id is null")
    sql = """
        select c.*, ct.display_name as contact_name, ct.blocked as blocked,
          (select count(*) from alerts a where a.conversation_id = c.id and a.seen_at is null) as new_alerts,
          lm.kind as last_kind, lm.text as last_text, lm.payload as last_payload,
          lm.sender as last_sender, lm.created_at as last_at,
          um.id as user_msg_id, um.kind as user_kind, um.text as user_text, um.payload as user_payload,
          (select max(m.id) from messages m where m.conversation_id = c.id
             and m.sender = 'operator') as operator_msg_id,
          (select min(f.due_at) from followups f where f.conversation_id = c.id
             and f.done_at is null) as next_due
        from conversations c
        join contacts ct on ct.id = c.contact_id
        left join messages lm on lm.id = (
          select max(m.id) from messages m where m.conversation_id = c.id and m.kind != 'follow')
        left join messages um on um.id = (
          select max(m.id) from messages m where m.conversation_id = c.id and m.sender = 'user'
            and m.kind not in ('follow', 'unfollow', 'unknown'))
    """
    if where:
        sql += " where " + " and ".join(where)
    sql += " order by c.id desc limit ?"
    params.append(limit)
    rows = list(storage.db.query(sql, params))
    rows.sort(key=lambda r: sort_key(r, today))
    if status == "followup" and ids is None:  # the contacts owed, soonest due first
        rows.sort(key=lambda r: parse_ts(r["next_due"]) or clock_now)
    names = _names(storage)
    now = dt.datetime.now(dt.UTC)
    out = []
    for r in rows:
        last = {"kind": r["last_kind"], "text": r["last_text"], "payload": r["last_payload"]}
        said = {"kind": r["user_kind"], "text": r["user_text"], "payload": r["user_payload"]}
        f = facts(r, today)
        # waiting for a person: they wrote after the last operator message, and a
        # person is expected (asked for one, or taken over)
        waiting = bool(r["user_msg_id"]) and (r["operator_msg_id"] or 0) < r["user_msg_id"] \
            and r["status"] in ("waiting", "operator")
        out.append(
            {
                **_state(r, names),
                "name": person_name(r["contact_name"], r["data"], r["channel"]),
                "channel_label": labels()["channel"].get(r["channel"], r["channel"]),
                **({"urgency": "crisis", "urgency_label": "危機"} if f["crisis"] else {}),
                "kaisatsu": jp_date(r["kaisatsu"]) if r["kaisatsu"] else "",
                **f,
                "said": excerpt(describe_message(said), 80) if r["user_kind"] else "",
                "excerpt": SENDER_PREFIX.get(r["last_sender"] or "", "")
                + excerpt(describe_message(last)) if r["last_kind"] else "",
                "last_user_at": r["last_user_at"],
                "last_user_ago": ago(r["last_user_at"], now) if r["last_user_at"] else "",
                "last_user_time": jst_time(r["last_user_at"]),
                "waiting": waiting,
                "followup": followup_view(r["next_due"], clock_now),
                "new_alerts": r["new_alerts"],
                "blocked": bool(r["blocked"]),
            }
        )
    return out


def _names(storage: Storage) -> dict[int, str]:
    return {r["id"]: r["display_name"] or r["login"]
            for r in storage.db.query("select id, login, display_name from users")}


def alert_summary(storage: Storage) -> dict[str, Any]:
    """Unseen alerts, newest first, each naming the person (for the banner and
    the desktop notifications)."""
    rows = list(storage.db.query(
        "select a.id, a.conversation_id, a.kind, a.created_at, c.data, c.channel,"
        " ct.display_name as contact_name from alerts a"
        " left join conversations c on c.id = a.conversation_id"
        " left join contacts ct on ct.id = c.contact_id"
        " where a.seen_at is null order by a.id desc limit 50"))
    return {
        "unseen": len(rows),
        "latest_id": rows[0]["id"] if rows else 0,
        "items": [
            {"id": r["id"], "conversation_id": r["conversation_id"], "kind": r["kind"],
             "name": person_name(r["contact_name"], r["data"], r["channel"] or ""),
             "label": labels()["alert"].get(r["kind"], r["kind"]), "ago": ago(r["created_at"])}
            for r in rows[:10]
        ],
    }


def mark_alerts_seen(storage: Storage, conversation_id: int | None = None) -> int:
    one = "" if conversation_id is None else " and conversation_id = ?"
    params = [now_iso()] if conversation_id is None else [now_iso(), conversation_id]
    return storage.db.execute(f"update alerts set seen_at = ? where seen_at is null{one}", params).rowcount


# -- one conversation ---------------------------------------------------------------------------
def get_conversation(storage: Storage, conv_id: int) -> dict[str, Any]:
    rows = list(storage.db.query("select * from conversations where id = ?", [conv_id]))
    if not rows:
        raise NotFound(conv_id)
    return rows[0]


def messages(storage: Storage, conv_id: int, after: int = 0) -> list[dict[str, Any]]:
    names = _names(storage)
    out = []
    for r in storage.db.query(
        "select * from messages where conversation_id = ? and id > ? order by id", [conv_id, after]
    ):
        item: dict[str, Any] = {
            "id": r["id"],
            "sender": r["sender"],
            "kind": r["kind"],
            "time": jst_time(r["created_at"], with_date=False),
            "at": jst_time(r["created_at"]),
        }
        if r["sender"] == "bot" and r["kind"] == "answer":
            item["parts"] = summarize_answer(restored(r["text"] or "", loads(r["payload"], {}) or {}))
            if not item["parts"]:
                item["parts"] = [{"type": "text", "text": r["text"] or ""}]
            item["label"] = "ボット"
        elif r["sender"] == "operator":
            item["parts"] = [{"type": "text", "text": r["text"] or ""}]
            item["label"] = names.get(r["operator_id"], "担当者")
        else:
            text = describe_message(r)
            item["parts"] = [{"type": "media" if r["kind"] in KIND_LABELS else "text", "text": text}]
            item["label"] = "お客さま" if r["sender"] == "user" else r["sender"]
        out.append(item)
    return out


def conversation_state(storage: Storage, conv: dict[str, Any]) -> dict[str, Any]:
    return _state(conv, _names(storage))


def _state(conv: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    """Status, owner, unread, urgency: what the inbox row and the conversation page both show."""
    return {
        "id": conv["id"],
        "status": conv["status"],
        "status_label": STATUS_LABELS.get(conv["status"], conv["status"]),
        "owner_id": conv["owner_id"],
        "owner": names.get(conv["owner_id"]) if conv["owner_id"] else None,
        "unread": conv["unread"] or 0,
        "version": conv["version"],
        "urgency": conv["urgency"] or "",
        "urgency_label": URGENCY_LABELS.get(conv["urgency"] or "", "—"),
        "lead_score": conv["lead_score"] or 0,
        "channel": conv["channel"],
    }


def case_card(storage: Storage, conv: dict[str, Any], today: dt.date | None = None,
              content: Any = None) -> dict[str, Any]:
    """The case card: what the homeowner was told (the result's three lines, the dates
    ahead, what to check, the points that apply: ``advice.case_lines``), what the dialog
    learned, dates spelled out, contact details."""
    today = today or today_jst()
    summary = loads(conv["summary"], {}) or {}
    data = loads(conv["data"], {}) or {}
    answers = dict(data.get("answers") or {})
    answers.update(summary.get("answers") or {})
    contact = _contact(conv)
    tl = summary.get("time_left") or {}
    contact_row = storage.contact_by_id(conv["contact_id"])

    stage, months, latest = summary.get("stage"), answers.get("arrears_months"), answers.get("latest_notice")
    situation = _given([
        ("段階", stage and STAGE_LABELS.get(stage, stage)),
        ("滞納", None if months is None else "まだ滞納なし" if months == 0 else f"{months}か月"),
        ("届いた書類", "、".join(NOTICE_LABELS.get(n, n) for n in answers.get("notices") or [])),
        ("最新の書類", latest and NOTICE_LABELS.get(latest, latest)),
        ("開始決定日", jp_date(answers.get("start_decision_date"))),
        ("入札期間 開始", jp_date(answers.get("bidding_start"))),
        ("入札期間 終了", jp_date(answers.get("bidding_end"))),
        ("現況調査日", jp_date(summary.get("inspection_date"))),
    ])

    deadlines: list[tuple[str, str]] = []
    kaisatsu = tl.get("kaisatsu") or answers.get("kaisatsu_date") or summary.get("kaisatsu")
    if kaisatsu:
        deadlines.append(("開札日", jp_date(kaisatsu)))
    for key, label in (("legal_last_day", "取り下げの最終期限（一般的な考え方）"), ("plan_by", "決済の計画日"),
                       ("ideal_by", "理想（入札開始前）")):
        if tl.get(key):
            value = jp_date(tl[key])
            if key == "ideal_by" and tl.get("ideal_by_rough"):
                value += "頃"
            deadlines.append((label, value))
    if tl.get("estimate_from") and tl.get("estimate_to"):
        deadlines.append(("開札の目安", f"{jp_date(tl['estimate_from'])}〜{jp_date(tl['estimate_to'])}"))
    if tl.get("auction_start_from") and tl.get("auction_start_to"):
        deadlines.append(("競売開始の目安",
                          f"{jp_date(tl['auction_start_from'])}〜{jp_date(tl['auction_start_to'])}"))
    days = _fresh_days(summary, today)
    if days is not None and tl.get("legal_last_day") and not tl.get("is_estimate"):
        deadlines.append(("最終日まで", f"あと{days}日" if days >= 0 else "過ぎています"))
    f = facts(conv, today)
    if f["days_label"]:
        deadlines.insert(0, ("計画日まで", f["days_label"].removeprefix("計画日まで")
                             if f["days"] is not None and f["days"] >= 0 else "過ぎています"))

    ownership: list[tuple[str, str]] = [
        ("共有名義", yes_no(answers.get("co_owned"))),
        ("連帯保証人", yes_no(answers.get("joint_guarantor"))),
        ("離婚", labels()["divorce"].get(answers.get("divorce"), "未確認")),
        ("借入先", labels()["lender"].get(answers.get("lender"), "未確認")),
        ("住み続けたい", {True: "希望あり（リースバック）", False: "希望なし"}.get(
            answers.get("wants_to_stay"), "未確認")),
    ]

    when = contact.get("preferred_time")
    contact_rows = _given([
        ("お名前", contact.get("name")),
        ("LINE表示名", (contact_row or {}).get("display_name")),
        ("電話", phone_display(contact.get("phone"))),
        ("メール", contact.get("email")),
        ("連絡方法", contact.get("via_line") and "LINEで連絡"),
        ("希望時間帯", when and TIME_LABELS.get(when, when)),
    ])
    for p in proposals(storage, conv)["confirmed"]:
        contact_rows.append((f"{p['kind_label']}（チャットで入力）", p["value"]))
    contact_rows.append(("連絡の同意", "同意済み" if contact.get("consented") else "未同意"))
    if contact_row and contact_row.get("blocked"):
        contact_rows.append(("LINE", "ブロックされています"))

    told = advice.case_lines(advice.case_from(data), today, content) if content is not None and data else []
    return {
        "told": told,
        "situation": situation,
        "deadlines": deadlines,
        "ownership": ownership,
        "contact": contact_rows,
        "score": conv["lead_score"] or 0,
        "urgency": conv["urgency"] or "",
        "urgency_label": URGENCY_LABELS.get(conv["urgency"] or "", "—"),
        "reasons": f["tags"],
        "crisis": f["crisis"],
        "special": [labels()["special_case"].get(s, s) for s in summary.get("special_cases") or []],
        "step": summary.get("step") or conv.get("step") or "",
    }


def _given(rows: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """The (label, value) rows that have a value."""
    return [(label, value) for label, value in rows if value]


def notes(storage: Storage, conv_id: int) -> list[dict[str, Any]]:
    names = _names(storage)
    return [
        {"id": r["id"], "text": r["text"], "by": names.get(r["user_id"], "?"), "at": jst_time(r["created_at"])}
        for r in storage.db.query(
            "select * from notes where conversation_id = ? order by id", [conv_id])
    ]


def add_note(storage: Storage, conv_id: int, user_id: int, text: str) -> int:
    """A note (checked by ``forms.NoteForm``)."""
    get_conversation(storage, conv_id)
    return storage.db["notes"].insert(
        {"conversation_id": conv_id, "user_id": user_id, "text": text, "created_at": now_iso()}
    ).last_pk


def mark_read(storage: Storage, conv_id: int, user_id: int) -> None:
    storage.db.execute(
        "update conversations set unread = 0 where id = ? and unread > 0"
        " and (owner_id = ? or status != 'operator')", [conv_id, user_id])


# -- taking over, replying, handing back ------------------------------------------------------
#: Why the status machine refused (dialogs.conversation.Refused.reason), for the operator.
REFUSALS: dict[Any, str] = {
    ("take_over", "closed"): "この相談は終了しています。再開してから対応してください",
    "closed": "この相談は終了しています",
    "not_taken": "先に「対応する」を押してください（いまは自動応答中です）",
    "changed": "状態が変わりました。画面を再読み込みしてください",
}


def _busy(storage: Storage, conv: dict[str, Any]) -> Conflict:
    return Conflict(f"すでに{display_name(conv['owner_id'], storage)}さんが対応中です")


def change_status(storage: Storage, conv_id: int, trigger: str, user_id: int | None = None,
                  is_admin: bool = False, assignee: int | None = None,
                  check: Any = None) -> dict[str, Any]:
    """Run one trigger of the status machine (:mod:`dialogs.conversation`) and write it.

    The machine decides whether it is allowed and what changes; the UPDATE is a
    compare-and-set on the status and owner it was decided on, inside one write
    transaction: of two operators taking the same case, one wins and the other
    gets :class:`Conflict`. The funnel steps the transition reaches (``assigned``,
    ``closed``) are recorded in the same transaction. ``check(conv)``: a further
    rule run first (may raise). Returns the conversation as written.
    """
    with storage.write() as db:
        conv = get_conversation(storage, conv_id)
        if check is not None:
            check(conv)
        try:
            change = conversation.decide(trigger, conv["status"], conv["owner_id"], actor=user_id,
                                         is_admin=is_admin, assignee=assignee, now=now_iso())
        except conversation.Refused as exc:
            if exc.reason == "busy":
                raise _busy(storage, conv) from None
            if exc.reason == "no_assignee":
                raise Invalid("対応中の相談は担当者を外せません。「ボットに戻す」を使ってください") from None
            raise Conflict(REFUSALS.get((trigger, exc.reason)) or REFUSALS[exc.reason]) from None
        if change.changed:
            sets = ", ".join(f"{k} = ?" for k in change.fields)
            cur = db.execute(
                f"update conversations set {sets}, version = coalesce(version, 0) + 1, updated_at = ?"
                f" where id = ? and status = ? and coalesce(owner_id, 0) = ?",
                [*change.fields.values(), now_iso(), conv_id, conv["status"], conv["owner_id"] or 0],
            )
            if cur.rowcount != 1:
                raise Conflict(REFUSALS["changed"])
            conv = get_conversation(storage, conv_id)
        for step in change.funnel:
            add_event(storage, conv, step)
    return conv


def take_over(storage: Storage, conv_id: int, user_id: int) -> dict[str, Any]:
    """Status → operator, owner → me; one winner. Taking one's own case again changes nothing."""
    return change_status(storage, conv_id, "take_over", user_id)


def reply(services: Any, conv_id: int, user_id: int, text: str) -> int:
    """An operator's message (checked by ``forms.ReplyForm``), handed to the pipeline as an
    Answer (rendered for LINE when sent)."""
    storage = services.storage
    conv = get_conversation(storage, conv_id)
    if conv["status"] != "operator":  # only the operator who owns the conversation replies in it
        raise Conflict(REFUSALS["closed" if conv["status"] == "closed" else "not_taken"])
    if conv["owner_id"] != user_id:
        raise _busy(storage, conv)
    contact = storage.contact_by_id(conv["contact_id"])
    if conv["channel"] == "line":
        if services.line is None:
            raise Conflict("LINEチャネルが設定されていないため送信できません")
        if contact.get("blocked"):
            raise Conflict("この方にはブロックされているため、LINEで送れません")
    msg_id = services.engine.queue_operator_message(conv, Answer().say(text), user_id)
    storage.db.execute("update conversations set unread = 0, updated_at = ? where id = ?",
                       [now_iso(), conv_id])
    if conv["channel"] == "line":
        try:
            services.engine.deliver(f"line:{contact['external_id']}")
        except Exception:  # queued: the worker's retry loop sends it later
            logger.exception("operator message delivery failed; left queued")
    return msg_id


def hand_back(services: Any, conv_id: int, user_id: int, is_admin: bool = False) -> None:
    change_status(services.storage, conv_id, "hand_back", user_id, is_admin)
    services.engine.system_input(conv_id, "handback")


def close(storage: Storage, conv_id: int, user_id: int, is_admin: bool = False) -> None:
    change_status(storage, conv_id, "close", user_id, is_admin)


def reopen(storage: Storage, conv_id: int) -> None:
    def no_newer(conv: dict[str, Any]) -> None:
        if conv["status"] != "closed":
            return
        newer = storage.db.execute(
            "select id from conversations where contact_id = ? and status != 'closed' and id != ?",
            [conv["contact_id"], conv_id]).fetchone()
        if newer:
            raise Conflict(f"この方には新しい相談（#{newer[0]}）があります。そちらで対応してください")

    change_status(storage, conv_id, "reopen", check=no_newer)


def assign(storage: Storage, conv_id: int, user_id: int, assignee: int | None,
           is_admin: bool = False) -> None:
    """Set the person in charge. Owned conversations move only by their owner (or an admin)."""
    get_conversation(storage, conv_id)
    if assignee is not None:
        row = storage.db.execute(
            "select active, role from users where id = ?", [assignee]).fetchone()
        if row is None or not row[0] or row[1] not in ("operator", "admin"):
            raise Invalid("担当にできるのは有効なオペレーターか管理者だけです")
    change_status(storage, conv_id, "assign", user_id, is_admin, assignee=assignee)


def staff(storage: Storage) -> list[dict[str, Any]]:
    return [
        {"id": r["id"], "name": r["display_name"] or r["login"]}
        for r in storage.db.query(
            "select id, login, display_name from users where active = 1"
            " and role in ('operator', 'admin') order by display_name, login")
    ]


# -- canned replies -----------------------------------------------------------------------------
def canned(storage: Storage) -> list[dict[str, Any]]:
    return list(storage.db.query("select * from canned_replies order by position, id"))


def save_canned(storage: Storage, user_id: int, title: str, text: str, position: int | None = None,
                canned_id: int | None = None) -> int:
    """A canned reply, new or edited (checked by ``forms.CannedForm``)."""
    row = {"title": title, "text": text, "updated_at": now_iso(), "updated_by": user_id,
           "position": int(position or 0)}
    if canned_id is None:
        return storage.db["canned_replies"].insert(row).last_pk
    if not storage.db.execute("select 1 from canned_replies where id = ?", [canned_id]).fetchone():
        raise NotFound(canned_id)
    storage.db["canned_replies"].update(canned_id, row)
    return canned_id


def delete_canned(storage: Storage, canned_id: int) -> None:
    storage.db.execute("delete from canned_replies where id = ?", [canned_id])


# -- follow-ups: every promise to contact someone, until an operator marks it done -----------
FOLLOWUP_KINDS = {"promise": "ボットの約束", "callback": "折り返し"}
MAX_AHEAD = dt.timedelta(days=366)


def add_promise(storage: Storage, conv_id: int, due: dt.datetime, note: str) -> int | None:
    """The bot promised a contact by ``due``: one open promise per case (the earliest
    due wins). Called inside the engine's transaction (see ``hours``)."""
    due_at = due.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    row = storage.db.execute(
        "select id, due_at from followups where conversation_id = ? and kind = 'promise'"
        " and done_at is null", [conv_id]).fetchone()
    if row:
        if parse_ts(due_at) < parse_ts(row[1]):
            storage.db.execute("update followups set due_at = ?, alerted_at = null where id = ?",
                               [due_at, row[0]])
        return None
    return storage.db["followups"].insert(
        {"conversation_id": conv_id, "kind": "promise", "due_at": due_at, "note": note,
         "created_at": now_iso()}).last_pk


def parse_local(value: str) -> dt.datetime:
    """``<input type=datetime-local>`` (``2026-12-04T15:00``), read as JST."""
    try:
        t = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise Invalid("日時を正しく入力してください") from None
    return t.replace(tzinfo=JST) if t.tzinfo is None else t


def add_callback(storage: Storage, conv_id: int, user_id: int, when: str, note: str = "",
                 now: dt.datetime | None = None) -> int:
    """An operator's "call back at": a follow-up due at ``when`` (JST)."""
    get_conversation(storage, conv_id)
    due = parse_local(when)
    now = now or dt.datetime.now(dt.UTC)
    if due < now - dt.timedelta(minutes=5):
        raise Invalid("過去の日時は指定できません")
    if due > now + MAX_AHEAD:
        raise Invalid("1年以内の日時を指定してください")
    note = (note or "").strip()[:200]
    return storage.db["followups"].insert(
        {"conversation_id": conv_id, "kind": "callback",
         "due_at": due.astimezone(dt.UTC).isoformat(timespec="milliseconds"),
         "note": note, "created_by": user_id, "created_at": now_iso()}).last_pk


def done_followup(storage: Storage, followup_id: int, user_id: int) -> dict[str, Any]:
    row = storage.db.execute("select conversation_id from followups where id = ?",
                             [followup_id]).fetchone()
    if row is None:
        raise NotFound(followup_id)
    cur = storage.db.execute(
        "update followups set done_at = ?, done_by = ? where id = ? and done_at is null",
        [now_iso(), user_id, followup_id])
    if cur.rowcount != 1:
        raise Conflict("この予定はすでに完了しています")
    return {"conversation_id": row[0]}


def followups(storage: Storage, conv_id: int, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Open follow-ups (soonest first), then the last three done."""
    now = now or dt.datetime.now(dt.UTC)
    names = _names(storage)
    rows = list(storage.db.query(
        "select * from followups where conversation_id = ? and done_at is null order by due_at",
        [conv_id]))
    rows += list(storage.db.query(
        "select * from followups where conversation_id = ? and done_at is not null"
        " order by done_at desc limit 3", [conv_id]))
    out = []
    for r in rows:
        view = followup_view(r["due_at"], now) or {}
        out.append({
            "id": r["id"], "kind": r["kind"], "kind_label": FOLLOWUP_KINDS.get(r["kind"], r["kind"]),
            "due": jst_time(r["due_at"]), "state": "done" if r["done_at"] else view.get("state"),
            "note": r["note"] or "",
            "by": names.get(r["created_by"], "ボット") if r["created_by"] else "ボット",
            "done": bool(r["done_at"]),
            "done_label": f"{names.get(r['done_by'], '?')}・{jst_time(r['done_at'])}" if r["done_at"] else "",
        })
    return out


def overdue_followups(storage: Storage, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Open follow-ups past due whose alert was not raised yet."""
    now = now or dt.datetime.now(dt.UTC)
    return list(storage.db.query(
        "select * from followups where done_at is null and alerted_at is null and due_at <= ?"
        " order by due_at", [now.astimezone(dt.UTC).isoformat(timespec="milliseconds")]))


# -- contact details typed in the chat: proposed, confirmed with one click -------------------
PROPOSAL_KINDS = {"phone": "電話", "email": "メール", "time": "希望の時間"}


def proposals(storage: Storage, conv: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """``{"open": [...], "confirmed": [...]}``; a number the dialog already has is not proposed."""
    contact = _contact(conv)
    known_phone = digits(contact.get("phone") or "")
    known_mail = (contact.get("email") or "").lower()
    out: dict[str, list[dict[str, Any]]] = {"open": [], "confirmed": []}
    for r in storage.db.query(
        "select p.*, m.created_at as said_at from contact_proposals p"
        " left join messages m on m.id = p.message_id"
        " where p.conversation_id = ? and p.status != 'dismissed' order by p.id", [conv["id"]]
    ):
        if r["status"] == "proposed" and (
                (r["kind"] == "phone" and known_phone and r["digits"] == known_phone)
                or (r["kind"] == "email" and r["value"] == known_mail)):
            continue
        out["open" if r["status"] == "proposed" else "confirmed"].append({
            "id": r["id"], "kind": r["kind"], "kind_label": PROPOSAL_KINDS.get(r["kind"], r["kind"]),
            "value": phone_display(r["value"]) if r["kind"] == "phone" else r["value"],
            "said_at": jst_time(r["said_at"]),
        })
    return out


def decide_proposal(storage: Storage, conv_id: int, proposal_id: int, user_id: int,
                    confirm: bool) -> dict[str, Any]:
    row = storage.db.execute(
        "select kind, message_id from contact_proposals where id = ? and conversation_id = ?",
        [proposal_id, conv_id]).fetchone()
    if row is None:
        raise NotFound(proposal_id)
    cur = storage.db.execute(
        "update contact_proposals set status = ?, decided_by = ?, decided_at = ?"
        " where id = ? and status = 'proposed'",
        ["confirmed" if confirm else "dismissed", user_id, now_iso(), proposal_id])
    if cur.rowcount != 1:
        raise Conflict("この連絡先はすでに確認済みです")
    if confirm:  # the case card changed: every open console redraws it
        storage.db.execute("update conversations set version = coalesce(version, 0) + 1 where id = ?",
                           [conv_id])
    return {"kind": row[0], "message_id": row[1]}


def _contact(conv: dict[str, Any]) -> dict[str, Any]:
    contact = dict((loads(conv.get("data"), {}) or {}).get("contact") or {})
    contact.update((loads(conv.get("summary"), {}) or {}).get("contact") or {})
    return contact


# -- search -----------------------------------------------------------------------------
def search_kind(q: str) -> str:
    if "@" in q:
        return "email"
    d = digits(q)
    if len(d) >= 4 and len(d) >= len(q.replace(" ", "").replace("-", "")) * 0.6:
        return "phone"
    return "words"


def search(storage: Storage, me: int, q: str, limit: int = 50, today: dt.date | None = None,
           now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Cases by name, LINE display name, phone (any writing), e-mail or words the
    homeowner wrote (the trigram FTS index on their messages); ranked like the inbox."""
    q = " ".join((q or "").split())[:100]
    if not q:
        return []
    ids: set[int] = set()
    kind = search_kind(q)
    like = f"%{q.lower()}%"
    if kind == "phone":
        d = digits(q)
        ids |= {r[0] for r in storage.db.execute(
            "select conversation_id from contact_proposals where kind = 'phone' and digits like ?",
            [f"%{d}%"])}
        for cid, a, b in storage.db.execute(
            "select id, json_extract(data, '$.contact.phone'), json_extract(summary, '$.contact.phone')"
            " from conversations where coalesce(json_extract(data, '$.contact.phone'),"
            " json_extract(summary, '$.contact.phone')) is not null"):
            if d in digits(str(a or "")) or d in digits(str(b or "")):
                ids.add(cid)
    elif kind == "email":
        ids |= {r[0] for r in storage.db.execute(
            "select conversation_id from contact_proposals where kind = 'email' and value like ?",
            [like])}
        ids |= {r[0] for r in storage.db.execute(
            "select id from conversations where lower(coalesce(json_extract(data, '$.contact.email'),"
            " json_extract(summary, '$.contact.email'), '')) like ?", [like])}
    # names: the name given in the chat, the LINE display name
    ids |= {r[0] for r in storage.db.execute(
        "select c.id from conversations c join contacts ct on ct.id = c.contact_id"
        " where lower(coalesce(ct.display_name, '')) like ?"
        " or lower(coalesce(json_extract(c.data, '$.contact.name'), '')) like ?", [like, like])}
    # words they wrote: the trigram index (3 characters or more), else a plain scan
    if len(q) >= 3:
        phrase = '"' + q.replace('"', '""') + '"'
        ids |= {r[0] for r in storage.db.execute(
            "select m.conversation_id from messages_fts f join messages m on m.id = f.rowid"
            " where messages_fts match ? limit 500", [phrase])}
    else:
        ids |= {r[0] for r in storage.db.execute(
            "select distinct conversation_id from messages where direction = 'in' and text like ?"
            " order by id desc limit 500", [like])}
    if not ids:
        return []
    # rank every match (like the inbox), then show the first ``limit``
    return inbox(storage, me, status="all", ids=sorted(ids), limit=len(ids), today=today, now=now)[:limit]
