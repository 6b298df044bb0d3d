"""The console's service layer: reads and state changes on conversations.

Views stay thin; every rule lives here:

* one owner per conversation, enforced by compare-and-set UPDATEs (``where
  status != 'operator'`` / ``where owner_id = ?``): of two operators taking
  over at once exactly one wins, the other gets :class:`Conflict`;
* operator replies go through the engine (LINE push with a retry key, or a
  stored message the web chat polls);
* hand back and close change the status the engine reads.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from bot.auth import display_name
from bot.engine import JST, today_jst
from bot.storage import Storage, loads, now_iso

logger = logging.getLogger(__name__)

STATUS_LABELS = {"bot": "自動応答中", "waiting": "担当者待ち", "operator": "対応中", "closed": "終了"}
URGENCY_LABELS = {"hot": "緊急", "warm": "注意", "cold": "通常"}
CHANNEL_LABELS = {"line": "LINE", "web": "Web"}
KIND_LABELS = {
    "sticker": "［スタンプ］",
    "image": "［画像］",
    "video": "［動画］",
    "audio": "［音声］",
    "file": "［ファイル］",
    "location": "［位置情報］",
    "follow": "［友だち追加］",
    "unfollow": "［ブロック］",
    "unknown": "［不明なイベント］",
}
STAGE_LABELS = {
    "none": "滞納前",
    "dunning": "督促状・催告書",
    "acceleration": "期限の利益喪失",
    "subrogation": "代位弁済",
    "auction_start": "競売開始決定",
    "site_inspection": "現況調査",
    "bid_notice": "期間入札の通知",
    "after_kaisatsu": "開札後",
    "unknown": "不明",
}
NOTICE_LABELS = {
    "dunning": "督促状・催告書",
    "acceleration": "期限の利益喪失通知",
    "subrogation": "代位弁済通知",
    "auction_start": "競売開始決定",
    "site_inspection": "現況調査",
    "bid_notice": "期間入札の通知",
    "none": "届いていない",
    "unknown": "不明",
}
LENDER_LABELS = {"jhf": "住宅金融支援機構（フラット35）", "bank": "銀行（保証会社あり）",
                 "other": "その他", "unknown": "不明"}
DIVORCE_LABELS = {"none": "なし", "in_progress": "協議中", "done": "離婚済み"}
SPECIAL_LABELS = {
    "too_late_after_kaisatsu": "開札後: 任意売却は困難",
    "very_little_time": "残り時間がごくわずか",
    "jhf_refuses_after_filing": "機構: 申立後は任売を断られやすい",
    "acceleration_likely_soon": "期限の利益喪失が近い",
    "before_acceleration": "期限の利益喪失前",
    "co_owners_must_agree": "共有者全員の同意が必要",
    "guarantor_must_agree": "連帯保証人の同意が必要",
    "divorce_and_co_owned": "離婚 + 共有名義",
    "divorce_in_progress": "離婚協議中",
    "divorce_done": "離婚済み",
    "jhf_no_guarantee_company": "機構: 保証会社なし",
    "leaseback_wish": "リースバック希望",
    "credit_record": "信用情報への登録",
}
TIME_LABELS = {"morning": "午前", "afternoon": "午後", "evening": "夕方以降", "anytime": "いつでも"}
WEEKDAYS = "月火水木金土日"
MAX_REPLY = 2000
MAX_NOTE = 2000


class Conflict(Exception):
    """A state change lost a race or is not allowed now (HTTP 409)."""


class NotFound(Exception):
    pass


class Forbidden(Exception):
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


def jp_date(value: Any) -> str:
    if not value:
        return ""
    try:
        d = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{d.year}年{d.month}月{d.day}日（{WEEKDAYS[d.weekday()]}）"


def yes_no(value: Any) -> str:
    if value is None:
        return "未確認"
    return "あり" if value else "なし"


def describe_message(row: dict[str, Any]) -> str:
    """A message as staff should read it: stickers and images as what they are."""
    kind = row.get("kind") or "text"
    text = row.get("text")
    if kind in KIND_LABELS:
        label = KIND_LABELS[kind]
        if kind == "location":
            payload = loads(row.get("payload"), {}) or {}
            where = payload.get("address") or payload.get("title")
            return f"{label} {where}" if where else label
        if kind == "file":
            payload = loads(row.get("payload"), {}) or {}
            return f"{label} {payload.get('file_name', '')}".strip()
        return label
    if kind == "postback":
        return text or f"［ボタン］{(loads(row.get('payload'), {}) or {}).get('data', '')}"
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


# -- ranking ---------------------------------------------------------------------------
def _fresh_days(summary: dict[str, Any], today: dt.date) -> int | None:
    tl = summary.get("time_left") or {}
    legal = tl.get("legal_last_day") or summary.get("legal_last_day")
    try:
        if legal and not tl.get("is_estimate"):
            return (dt.date.fromisoformat(legal) - today).days
        if tl.get("estimate_from"):
            return (dt.date.fromisoformat(tl["estimate_from"]) - dt.timedelta(days=1) - today).days
    except ValueError:
        pass
    return tl.get("days_to_legal_last_day")


def sort_key(conv: dict[str, Any], today: dt.date) -> tuple:
    from dialogs.assessment import inbox_sort_key

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
    return key + (-(last.timestamp() if last else 0), -conv["id"])


# -- the inbox ------------------------------------------------------------------------------
def inbox(storage: Storage, me: int, status: str = "open", owner: str = "all",
          limit: int = 300, today: dt.date | None = None) -> list[dict[str, Any]]:
    today = today or today_jst()
    where, params = [], []
    if status == "open":
        where.append("c.status != 'closed'")
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
          lm.sender as last_sender, lm.created_at as last_at
        from conversations c
        join contacts ct on ct.id = c.contact_id
        left join messages lm on lm.id = (
          select max(m.id) from messages m where m.conversation_id = c.id and m.kind != 'follow')
    """
    if where:
        sql += " where " + " and ".join(where)
    sql += " order by c.id desc limit ?"
    params.append(limit)
    rows = list(storage.db.query(sql, params))
    rows.sort(key=lambda r: sort_key(r, today))
    names = _names(storage)
    now = dt.datetime.now(dt.UTC)
    out = []
    for r in rows:
        data = loads(r["data"], {}) or {}
        contact = data.get("contact") or {}
        last = {"kind": r["last_kind"], "text": r["last_text"], "payload": r["last_payload"]}
        sender = {"user": "", "bot": "ボット: ", "operator": "担当: "}.get(r["last_sender"] or "", "")
        out.append(
            {
                "id": r["id"],
                "name": contact.get("name") or r["contact_name"] or (
                    "Webの訪問者" if r["channel"] == "web" else "LINEユーザー"),
                "channel": r["channel"],
                "channel_label": CHANNEL_LABELS.get(r["channel"], r["channel"]),
                "status": r["status"],
                "status_label": STATUS_LABELS.get(r["status"], r["status"]),
                "owner_id": r["owner_id"],
                "owner": names.get(r["owner_id"]) if r["owner_id"] else None,
                "unread": r["unread"] or 0,
                "urgency": r["urgency"] or "",
                "urgency_label": URGENCY_LABELS.get(r["urgency"] or "", "—"),
                "lead_score": r["lead_score"] or 0,
                "kaisatsu": jp_date(r["kaisatsu"]) if r["kaisatsu"] else "",
                "excerpt": sender + excerpt(describe_message(last)) if r["last_kind"] else "",
                "last_user_at": r["last_user_at"],
                "last_user_ago": ago(r["last_user_at"], now) if r["last_user_at"] else "",
                "last_user_time": jst_time(r["last_user_at"]),
                "new_alerts": r["new_alerts"],
                "blocked": bool(r["blocked"]),
                "version": r["version"],
            }
        )
    return out


def _names(storage: Storage) -> dict[int, str]:
    return {r["id"]: r["display_name"] or r["login"]
            for r in storage.db.query("select id, login, display_name from users")}


def alert_summary(storage: Storage) -> dict[str, Any]:
    rows = list(storage.db.query(
        "select a.id, a.conversation_id, a.kind, a.created_at from alerts a"
        " where a.seen_at is null order by a.id desc limit 50"))
    return {
        "unseen": len(rows),
        "latest_id": rows[0]["id"] if rows else 0,
        "items": [
            {"id": r["id"], "conversation_id": r["conversation_id"], "kind": r["kind"],
             "label": ALERT_LABELS.get(r["kind"], r["kind"]), "ago": ago(r["created_at"])}
            for r in rows[:10]
        ],
    }


ALERT_LABELS = {"hot_lead": "緊急度の高い相談", "wants_human": "担当者を希望"}


def mark_alerts_seen(storage: Storage, conversation_id: int | None = None) -> int:
    if conversation_id is None:
        cur = storage.db.execute("update alerts set seen_at = ? where seen_at is null", [now_iso()])
    else:
        cur = storage.db.execute(
            "update alerts set seen_at = ? where seen_at is null and conversation_id = ?",
            [now_iso(), conversation_id])
    return cur.rowcount


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
            item["parts"] = summarize_answer(loads(r["payload"], {}))
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
    names = _names(storage)
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


def case_card(storage: Storage, conv: dict[str, Any]) -> dict[str, Any]:
    """The case card: what the dialog learned, dates spelled out, contact details."""
    summary = loads(conv["summary"], {}) or {}
    data = loads(conv["data"], {}) or {}
    answers = dict(data.get("answers") or {})
    answers.update(summary.get("answers") or {})
    contact = dict(data.get("contact") or {})
    contact.update(summary.get("contact") or {})
    tl = summary.get("time_left") or {}
    contact_row = storage.contact_by_id(conv["contact_id"])

    situation: list[tuple[str, str]] = []
    stage = summary.get("stage")
    if stage:
        situation.append(("段階", STAGE_LABELS.get(stage, stage)))
    months = answers.get("arrears_months")
    if months is not None:
        situation.append(("滞納", "まだ滞納なし" if months == 0 else f"{months}か月"))
    notices = answers.get("notices") or []
    if notices:
        situation.append(("届いた書類", "、".join(NOTICE_LABELS.get(n, n) for n in notices)))
    latest = answers.get("latest_notice")
    if latest:
        situation.append(("最新の書類", NOTICE_LABELS.get(latest, latest)))
    for key, label in (("start_decision_date", "開始決定日"), ("bidding_start", "入札期間 開始"),
                       ("bidding_end", "入札期間 終了")):
        if answers.get(key):
            situation.append((label, jp_date(answers[key])))
    if summary.get("inspection_date"):
        situation.append(("現況調査日", jp_date(summary["inspection_date"])))

    deadlines: list[tuple[str, str]] = []
    kaisatsu = tl.get("kaisatsu") or answers.get("kaisatsu_date") or summary.get("kaisatsu")
    if kaisatsu:
        deadlines.append(("開札日", jp_date(kaisatsu)))
    for key, label in (("legal_last_day", "法的な最終日（開札前日）"), ("plan_by", "売却決済の目標"),
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
    days = _fresh_days(summary, today_jst())
    if days is not None and tl.get("legal_last_day") and not tl.get("is_estimate"):
        deadlines.append(("最終日まで", f"あと{days}日" if days >= 0 else "過ぎています"))

    ownership: list[tuple[str, str]] = [
        ("共有名義", yes_no(answers.get("co_owned"))),
        ("連帯保証人", yes_no(answers.get("joint_guarantor"))),
        ("離婚", DIVORCE_LABELS.get(answers.get("divorce"), "未確認")),
        ("借入先", LENDER_LABELS.get(answers.get("lender"), "未確認")),
        ("住み続けたい", {True: "希望あり（リースバック）", False: "希望なし"}.get(
            answers.get("wants_to_stay"), "未確認")),
    ]

    contact_rows: list[tuple[str, str]] = []
    if contact.get("name"):
        contact_rows.append(("お名前", contact["name"]))
    if contact_row and contact_row.get("display_name"):
        contact_rows.append(("LINE表示名", contact_row["display_name"]))
    if contact.get("phone"):
        contact_rows.append(("電話", contact["phone"]))
    if contact.get("email"):
        contact_rows.append(("メール", contact["email"]))
    if contact.get("via_line"):
        contact_rows.append(("連絡方法", "LINEで連絡"))
    if contact.get("preferred_time"):
        contact_rows.append(("希望時間帯", TIME_LABELS.get(contact["preferred_time"], contact["preferred_time"])))
    contact_rows.append(("連絡の同意", "同意済み" if contact.get("consented") else "未同意"))
    if contact_row and contact_row.get("blocked"):
        contact_rows.append(("LINE", "ブロックされています"))

    return {
        "situation": situation,
        "deadlines": deadlines,
        "ownership": ownership,
        "contact": contact_rows,
        "score": conv["lead_score"] or 0,
        "urgency": conv["urgency"] or "",
        "urgency_label": URGENCY_LABELS.get(conv["urgency"] or "", "—"),
        "reasons": list(summary.get("reasons") or []),
        "special": [SPECIAL_LABELS.get(s, s) for s in summary.get("special_cases") or []],
        "step": summary.get("step") or conv.get("step") or "",
    }


def notes(storage: Storage, conv_id: int) -> list[dict[str, Any]]:
    names = _names(storage)
    return [
        {"id": r["id"], "text": r["text"], "by": names.get(r["user_id"], "?"), "at": jst_time(r["created_at"])}
        for r in storage.db.query(
            "select * from notes where conversation_id = ? order by id", [conv_id])
    ]


def add_note(storage: Storage, conv_id: int, user_id: int, text: str) -> int:
    text = (text or "").strip()
    if not text:
        raise ValueError("メモが空です")
    if len(text) > MAX_NOTE:
        raise ValueError(f"メモは{MAX_NOTE}文字までです")
    get_conversation(storage, conv_id)
    return storage.db["notes"].insert(
        {"conversation_id": conv_id, "user_id": user_id, "text": text, "created_at": now_iso()}
    ).last_pk


def mark_read(storage: Storage, conv_id: int, user_id: int) -> None:
    storage.db.execute(
        "update conversations set unread = 0 where id = ? and unread > 0"
        " and (owner_id = ? or status != 'operator')", [conv_id, user_id])


# -- taking over, replying, handing back ------------------------------------------------------
def _busy(storage: Storage, conv: dict[str, Any]) -> Conflict:
    return Conflict(f"すでに{display_name(conv['owner_id'], storage)}さんが対応中です")


def take_over(storage: Storage, conv_id: int, user_id: int) -> dict[str, Any]:
    """Compare-and-set: status → operator, owner → me; one winner."""
    cur = storage.db.execute(
        "update conversations set status = 'operator', owner_id = ?, unread = 0,"
        " version = coalesce(version, 0) + 1, updated_at = ?"
        " where id = ? and status in ('bot', 'waiting')",
        [user_id, now_iso(), conv_id],
    )
    conv = get_conversation(storage, conv_id)
    if cur.rowcount == 1:
        return conv
    if conv["status"] == "operator":
        if conv["owner_id"] == user_id:
            return conv  # already mine (a double click)
        raise _busy(storage, conv)
    if conv["status"] == "closed":
        raise Conflict("この相談は終了しています。再開してから対応してください")
    raise Conflict("対応を開始できませんでした。画面を再読み込みしてください")


def _require_owner(storage: Storage, conv: dict[str, Any], user_id: int, is_admin: bool = False) -> None:
    if conv["status"] != "operator":
        raise Conflict("先に「対応する」を押してください（いまは自動応答中です）"
                       if conv["status"] in ("bot", "waiting") else "この相談は終了しています")
    if conv["owner_id"] != user_id and not is_admin:
        raise _busy(storage, conv)


def reply(services: Any, conv_id: int, user_id: int, text: str) -> int:
    text = (text or "").strip()
    if not text:
        raise ValueError("メッセージが空です")
    if len(text) > MAX_REPLY:
        raise ValueError(f"メッセージは{MAX_REPLY}文字までです")
    storage = services.storage
    conv = get_conversation(storage, conv_id)
    _require_owner(storage, conv, user_id)
    contact = storage.contact_by_id(conv["contact_id"])
    messages_ = None
    if conv["channel"] == "line":
        if services.line is None:
            raise Conflict("LINEチャネルが設定されていないため送信できません")
        if contact.get("blocked"):
            raise Conflict("この方にはブロックされているため、LINEで送れません")
        from bot.channels.line_render import render_text, to_dicts

        messages_ = to_dicts(render_text(text))
    msg_id = services.engine.queue_operator_message(conv, text, user_id, messages_)
    storage.db.execute("update conversations set unread = 0, updated_at = ? where id = ?",
                       [now_iso(), conv_id])
    if conv["channel"] == "line":
        try:
            services.engine.deliver(f"line:{contact['external_id']}")
        except Exception:  # queued: the worker's retry loop sends it later
            logger.exception("operator message delivery failed; left queued")
    return msg_id


def hand_back(services: Any, conv_id: int, user_id: int, is_admin: bool = False) -> None:
    storage = services.storage
    conv = get_conversation(storage, conv_id)
    _require_owner(storage, conv, user_id, is_admin)
    cur = storage.db.execute(
        "update conversations set status = 'bot', owner_id = null, unread = 0,"
        " version = coalesce(version, 0) + 1, updated_at = ?"
        " where id = ? and status = 'operator' and owner_id = ?",
        [now_iso(), conv_id, conv["owner_id"]],
    )
    if cur.rowcount != 1:
        raise Conflict("状態が変わりました。画面を再読み込みしてください")
    services.engine.system_input(conv_id, "handback")


def close(storage: Storage, conv_id: int, user_id: int, is_admin: bool = False) -> None:
    conv = get_conversation(storage, conv_id)
    if conv["status"] == "closed":
        return
    if conv["status"] == "operator" and conv["owner_id"] != user_id and not is_admin:
        raise _busy(storage, conv)
    cur = storage.db.execute(
        "update conversations set status = 'closed', owner_id = null, unread = 0, closed_at = ?,"
        " version = coalesce(version, 0) + 1, updated_at = ? where id = ? and status = ?"
        " and coalesce(owner_id, 0) = ?",
        [now_iso(), now_iso(), conv_id, conv["status"], conv["owner_id"] or 0],
    )
    if cur.rowcount != 1:
        raise Conflict("状態が変わりました。画面を再読み込みしてください")


def reopen(storage: Storage, conv_id: int) -> None:
    with storage.write() as db:
        conv = get_conversation(storage, conv_id)
        if conv["status"] != "closed":
            return
        newer = db.execute(
            "select id from conversations where contact_id = ? and status != 'closed' and id != ?",
            [conv["contact_id"], conv_id]).fetchone()
        if newer:
            raise Conflict(f"この方には新しい相談（#{newer[0]}）があります。そちらで対応してください")
        db.execute(
            "update conversations set status = 'bot', closed_at = null,"
            " version = coalesce(version, 0) + 1, updated_at = ? where id = ? and status = 'closed'",
            [now_iso(), conv_id])


def assign(storage: Storage, conv_id: int, user_id: int, assignee: int | None,
           is_admin: bool = False) -> None:
    """Set the person in charge. Owned conversations move only by their owner (or an admin)."""
    conv = get_conversation(storage, conv_id)
    if assignee is not None:
        row = storage.db.execute(
            "select active, role from users where id = ?", [assignee]).fetchone()
        if row is None or not row[0] or row[1] not in ("operator", "admin"):
            raise ValueError("担当にできるのは有効なオペレーターか管理者だけです")
    if conv["status"] == "closed":
        raise Conflict("この相談は終了しています")
    if conv["status"] == "operator":
        if assignee is None:
            raise ValueError("対応中の相談は担当者を外せません。「ボットに戻す」を使ってください")
        if conv["owner_id"] != user_id and not is_admin:
            raise _busy(storage, conv)
    cur = storage.db.execute(
        "update conversations set owner_id = ?, version = coalesce(version, 0) + 1, updated_at = ?"
        " where id = ? and status = ? and coalesce(owner_id, 0) = ?",
        [assignee, now_iso(), conv_id, conv["status"], conv["owner_id"] or 0],
    )
    if cur.rowcount != 1:
        raise Conflict("状態が変わりました。画面を再読み込みしてください")


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
    title, text = (title or "").strip(), (text or "").strip()
    if not title or len(title) > 40:
        raise ValueError("見出しは1〜40文字にしてください")
    if not text or len(text) > MAX_REPLY:
        raise ValueError(f"本文は1〜{MAX_REPLY}文字にしてください")
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
