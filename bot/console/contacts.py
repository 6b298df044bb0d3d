"""Contact details a homeowner types in the chat (phone, e-mail, a time to call).

:func:`detect` reads the text (phone and e-mail with the dialog's own readers).
:func:`hook` is an ``Engine.hooks``
function: after each event it looks at the homeowner's newest text messages
and stores what it found as *proposals* (``contact_proposals``); the operator
confirms one with a click on the case card (see ``service.decide_proposal``).
"""
from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from bot.storage import Storage, now_iso
from dialogs.understanding.context import find_email, find_phone

logger = logging.getLogger(__name__)

_TIME = re.compile(
    r"(?:(?:明日|あした|今日|きょう|本日|明後日|あさって|(?:\d{1,2}月)?\d{1,2}日|[月火水木金土日]曜日?)の?\s*)?"
    r"(?:(?:午前|午後|朝|夕方|夜)\s*)?\d{1,2}\s*(?:時|:\d{2})(?:\s*\d{1,2}分|半)?"
    r"(?:\s*(?:以降|から|ごろ|頃|〜|~|以後|まで)(?:\s*\d{1,2}\s*時)?)?"
    r"|(?:平日|土日|週末)?の?(?:午前中?|午後|夕方|夜)(?:以降)?"
)
_HOURS_WORDS = ("電話", "連絡", "都合", "時間", "なら", "以降", "から", "ごろ", "頃", "午前", "午後",
                "夕方", "夜", "平日", "土日")


def digits(text: str) -> str:
    """Only the digits (full-width ones too), +81 written as 0: for comparing phone numbers."""
    d = "".join(ch for ch in unicodedata.normalize("NFKC", text or "") if ch.isdigit())
    if (text or "").strip().startswith(("+81", "＋８１")) and d.startswith("81"):
        d = "0" + d[2:]
    return d


def phone_display(value: str | None) -> str | None:
    """A number as staff dial it: mobile / IP / free-dial numbers grouped (090-1234-5678,
    050-…, 0120-279-338); others (landlines, whose area code length varies) as stored."""
    d = digits(value or "")
    if len(d) == 11 and d[:3] in ("070", "080", "090", "050", "020"):
        return f"{d[:3]}-{d[3:7]}-{d[7:]}"
    if len(d) == 10 and d.startswith(("0120", "0800")):
        return f"{d[:4]}-{d[4:7]}-{d[7:]}"
    return value


def detect(text: str) -> list[tuple[str, str]]:
    """``[(kind, value)]`` found in one message: ``email``, ``phone`` (digits), read by the
    dialog's own readers, and ``time`` (as written)."""
    text = unicodedata.normalize("NFKC", text or "")
    found = [(kind, value) for kind, value in (("email", find_email(text)), ("phone", find_phone(text))) if value]
    if any(w in text for w in _HOURS_WORDS):
        m = next((m for m in _TIME.finditer(text) if m.group(0).strip()), None)
        if m:
            found.append(("time", m.group(0).strip()))
    return found


def scan(storage: Storage, conv_id: int, last: int = 3) -> int:
    """Store proposals from the homeowner's ``last`` text messages; returns how many are new."""
    rows = storage.db.execute(
        "select id, text from messages where conversation_id = ? and sender = 'user'"
        " and kind = 'text' order by id desc limit ?", [conv_id, last]).fetchall()
    found = [(mid, kind, value) for mid, text in rows for kind, value in detect(text or "")]
    if not found:
        return 0
    # a phone number is compared by its digits (older rows kept it as written)
    known = set(storage.db.execute(
        "select kind, coalesce(digits, value) from contact_proposals where conversation_id = ?", [conv_id]))
    found = [f for f in found if (f[1], f[2]) not in known]
    if not found:
        return 0  # nothing new: no write transaction
    new = 0
    with storage.write() as db:
        for mid, kind, value in found:
            cur = db.execute(
                "insert or ignore into contact_proposals"
                " (conversation_id, message_id, kind, value, digits, status, created_at)"
                " values (?, ?, ?, ?, ?, 'proposed', ?)",
                [conv_id, mid, kind, value, value if kind == "phone" else None, now_iso()])
            new += cur.rowcount
    return new


def hook(conv: dict[str, Any], signals: set[str], storage: Storage | None = None) -> None:
    """``Engine.hooks`` entry (bound to the storage by ``bot.console.init_app``)."""
    if storage is None or conv.get("status") == "closed":
        return
    if scan(storage, conv["id"]):
        logger.info("contact details proposed for conversation %s", conv["id"])
