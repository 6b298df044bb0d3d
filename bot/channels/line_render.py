"""Answer → LINE messages: the ONE outbound builder for the LINE channel.

``render(answer)`` turns a channel-neutral :class:`dialogs.answer.Answer` into a list
of typed ``linebot.v3.messaging`` message models that respect LINE's limits:

* at most 5 messages per reply/push (consecutive texts are merged first; if it still
  does not fit, the 5th message becomes a plain-text rendition of everything that is
  left, cut with an explicit "…" note only if even that exceeds 5000 units);
* quick replies (≤ 13) are attached to the LAST message only (LINE shows only that one);
* action labels ≤ 20 (truncated with "…" as a safety net), displayText/text ≤ 300;
* text ≤ 5000 UTF-16 code units (long texts are split at paragraph / line / sentence
  boundaries, never inside a surrogate pair or an emoji sequence);
* postback data ≤ 300 (an action with longer data is dropped and logged: cutting it
  would send a meaningless value);
* altText ≤ 400 (LINE allows 1500, 400 is recommended);
* a Flex bubble larger than LINE's 30 KB is sent as text instead.

``render_text(text)`` renders an operator's plain message; ``to_dicts(messages)`` gives
the JSON-ready dicts (``model.to_dict()``) for storage and debugging.
"""

from __future__ import annotations

import functools
import json
import logging
import unicodedata
from typing import Iterable, Union

from linebot.v3.messaging import (
    Action,
    DatetimePickerAction,
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexMessage,
    FlexSeparator,
    FlexText,
    Message,
    MessageAction,
    PostbackAction,
    QuickReply as LineQuickReply,
    QuickReplyItem,
    TextMessage,
    URIAction,
)

from dialogs.answer import Answer, Card, Table, Text
from dialogs.answer import QuickReply as AnswerQuickReply

log = logging.getLogger(__name__)

# ---- LINE limits -----------------------------------------------------------------
MAX_MESSAGES = 5
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_TEXT = 5000
MAX_DATA = 300
MAX_DISPLAY_TEXT = 300
MAX_ACTION_TEXT = 300
MAX_ALT_TEXT = 1500
PREFERRED_ALT_TEXT = 400
MAX_BUBBLE_BYTES = 30_000  # LINE: 30 KB per bubble (JSON)
MAX_CARD_BUTTONS = 4
MAX_URI = 1000

ELLIPSIS = "…"
OMITTED_NOTE = "\n…（文字数の上限のため、以降を省略しました）"
EMPTY_CELL = "-"
NO_MESSAGE_PROMPT = "下のボタンからお選びください。"

# ---- colours (soft, readable; tone → header background / accent) ------------------
TONES = {
    #          header bg   title/accent  button colour
    "info": ("#E3F2F1", "#0F6E66", "#138A80"),  # blue/teal
    "warning": ("#FFF3DC", "#8A5300", "#D98A00"),  # amber
    "urgent": ("#FDE8E8", "#B3261E", "#C62828"),  # red
}
TEXT_COLOUR = "#333333"
LABEL_COLOUR = "#7A7A7A"
NOTE_COLOUR = "#8C8C8C"
TABLE_HEAD_BG = "#F2F4F5"
SEPARATOR_COLOUR = "#E6E6E6"

# ---- UTF-16 helpers ----------------------------------------------------------------


def utf16_len(s: str) -> int:
    """Length as LINE counts it: UTF-16 code units (a non-BMP emoji counts 2)."""
    return len(s.encode("utf-16-le")) // 2


def _unit(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _joins_previous(ch: str) -> bool:
    """True if ``ch`` must stay with the character before it (no cut before it)."""
    o = ord(ch)
    return (
        ch == "\u200d"  # zero width joiner
        or 0xFE00 <= o <= 0xFE0F  # variation selectors
        or 0xE0100 <= o <= 0xE01EF
        or 0x1F3FB <= o <= 0x1F3FF  # skin tone modifiers
        or 0xE0020 <= o <= 0xE007F  # tag characters (flag sequences)
        or unicodedata.combining(ch) != 0
        or ch in "\u3099\u309a"  # combining (semi-)voiced marks
    )


def _fit_prefix(s: str, limit: int) -> int:
    """Largest index i such that s[:i] fits in ``limit`` UTF-16 units and the cut
    at i splits neither a surrogate pair nor an emoji/combining sequence."""
    used = 0
    i = 0
    for ch in s:
        u = _unit(ch)
        if used + u > limit:
            break
        used += u
        i += 1
    if i >= len(s):
        return len(s)
    # do not cut inside a grapheme-ish cluster
    j = i
    while j > 0 and (_joins_previous(s[j]) or s[j - 1] == "\u200d"):
        j -= 1
    return j if j > 0 else i


def truncate(s: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """Cut ``s`` to ``limit`` UTF-16 units, ending with ``ellipsis`` if it was cut."""
    if utf16_len(s) <= limit:
        return s
    room = limit - utf16_len(ellipsis)
    return s[: _fit_prefix(s, max(room, 0))].rstrip() + ellipsis


def split_text(s: str, limit: int = MAX_TEXT) -> list[str]:
    """Split ``s`` into pieces of at most ``limit`` UTF-16 units, preferring to cut
    after a blank line, then a newline, then a Japanese/Latin sentence end."""
    pieces: list[str] = []
    rest = s
    while utf16_len(rest) > limit:
        cut = _fit_prefix(rest, limit)
        head = rest[:cut]
        lo = len(head) // 2  # only accept a "nice" break in the second half
        best = -1
        for sep in ("\n\n", "\n", "。", "！", "？", ". ", "、", " "):
            k = head.rfind(sep)
            if k >= lo:
                best = k + len(sep)
                break
        if best > 0:
            cut = best
        piece = rest[:cut].rstrip("\n")
        if piece.strip():
            pieces.append(piece)
        rest = rest[cut:].lstrip("\n")
    if rest.strip():
        pieces.append(rest)
    return pieces


# ---- actions -----------------------------------------------------------------------


def label_of(label: str) -> str:
    label = (label or "").strip() or "選択"
    if utf16_len(label) > MAX_LABEL:
        log.warning("LINE action label too long, truncated: %r", label)
    return truncate(label, MAX_LABEL)


def action_for(q: AnswerQuickReply) -> Action | None:
    """The LINE action of a quick reply / card button, or None if it cannot be sent
    safely (logged)."""
    label = label_of(q.label)
    kind = q.kind or "postback"
    if kind in ("postback", "date"):
        data = q.data if q.data is not None else ""
        if utf16_len(data) > MAX_DATA:
            log.error("postback data > %d, action dropped: %r", MAX_DATA, data[:80])
            return None
    if kind == "postback" and not q.data:
        # a postback without data cannot be told apart by the engine: let the
        # user "say" the label instead (upstream bug, logged)
        log.warning("postback quick reply %r without data sent as a message action", q.label)
        kind = "message"
    if kind == "postback":
        display = (q.text or q.label or "").strip() or label
        return PostbackAction(label=label, data=q.data, displayText=truncate(display, MAX_DISPLAY_TEXT))
    if kind == "message":
        text = (q.text or q.label or "").strip() or label
        return MessageAction(label=label, text=truncate(text, MAX_ACTION_TEXT))
    if kind == "date":
        kwargs = {}
        for key in ("initial", "min", "max"):
            v = getattr(q, key)
            if v:
                kwargs[key] = v
        return DatetimePickerAction(label=label, data=q.data or "date", mode="date", **kwargs)
    if kind == "uri":
        if not q.uri or len(q.uri) > MAX_URI:
            log.error("uri action without a usable uri, dropped: %r", q)
            return None
        return URIAction(label=label, uri=q.uri)
    log.error("unknown quick reply kind %r, dropped", kind)
    return None


def quick_reply_for(items: Iterable[AnswerQuickReply]) -> LineQuickReply | None:
    actions = [a for a in (action_for(q) for q in items) if a is not None]
    if len(actions) > MAX_QUICK_REPLIES:
        log.warning(
            "%d quick replies, LINE shows at most %d: dropped %s",
            len(actions),
            MAX_QUICK_REPLIES,
            [a.label for a in actions[MAX_QUICK_REPLIES:]],
        )
        actions = actions[:MAX_QUICK_REPLIES]
    if not actions:
        return None
    return LineQuickReply(items=[QuickReplyItem(action=a) for a in actions])


# ---- plain-text renditions (fallbacks) --------------------------------------------


def card_as_text(card: Card) -> str:
    lines = [f"【{card.title}】"]
    if card.subtitle:
        lines.append(card.subtitle)
    for label, value in card.rows:
        lines.append(f"・{label}：{value}")
    for p in card.paragraphs:
        lines.append(p)
    return "\n".join(lines)


def table_as_text(table: Table) -> str:
    lines = [f"【{table.title}】"]
    if table.columns:
        lines.append(" / ".join(table.columns))
    for row in table.rows:
        lines.append("・" + " / ".join(str(c) for c in row))
    if table.note:
        lines.append(table.note)
    return "\n".join(lines)


def _alt(alt_text: str | None, fallback: str) -> str:
    alt = " ".join((alt_text or "").split()) or " ".join(fallback.split()) or "メッセージ"
    return truncate(alt, PREFERRED_ALT_TEXT)


def _t(s: str | None) -> str:
    s = "" if s is None else str(s)
    return s if s.strip() else EMPTY_CELL


# ---- Flex builders -----------------------------------------------------------------


def card_bubble(card: Card) -> FlexBubble:
    bg, accent, button_colour = TONES.get(card.tone, TONES["info"])
    header = FlexBox(
        layout="vertical",
        backgroundColor=bg,
        paddingAll="16px",
        contents=[FlexText(text=_t(card.title), weight="bold", size="lg", color=accent, wrap=True)],
    )
    body: list = []
    if card.subtitle:
        body.append(FlexText(text=card.subtitle, size="sm", color=LABEL_COLOUR, wrap=True))
    if card.rows:
        rows_box = FlexBox(
            layout="vertical",
            spacing="sm",
            margin="md" if body else None,
            contents=[
                FlexBox(
                    layout="baseline",
                    spacing="md",
                    contents=[
                        FlexText(text=_t(label), size="sm", color=LABEL_COLOUR, flex=2, wrap=True),
                        FlexText(text=_t(value), size="sm", color=TEXT_COLOUR, flex=5, wrap=True),
                    ],
                )
                for label, value in card.rows
            ],
        )
        body.append(rows_box)
    if card.paragraphs:
        if body:
            body.append(FlexSeparator(margin="lg", color=SEPARATOR_COLOUR))
        for i, p in enumerate(card.paragraphs):
            body.append(
                FlexText(
                    text=_t(p), size="sm", color=TEXT_COLOUR, wrap=True, margin="md" if (body or i) else None
                )
            )
    if not body:
        body.append(FlexText(text=_t(card.alt_text or card.title), size="sm", color=TEXT_COLOUR, wrap=True))
    bubble = FlexBubble(
        header=header,
        body=FlexBox(layout="vertical", paddingAll="16px", contents=body),
    )
    buttons = []
    if len(card.buttons) > MAX_CARD_BUTTONS:
        log.warning("card %r has %d buttons, keeping %d", card.title, len(card.buttons), MAX_CARD_BUTTONS)
    for b in card.buttons[:MAX_CARD_BUTTONS]:
        action = action_for(b)
        if action is None:
            continue
        first = not buttons
        buttons.append(
            FlexButton(
                action=action,
                style="primary" if first else "secondary",
                color=button_colour if first else None,
                height="sm",
            )
        )
    if buttons:
        bubble.footer = FlexBox(layout="vertical", spacing="sm", paddingAll="12px", contents=buttons)
    return bubble


def table_bubble(table: Table) -> FlexBubble:
    ncols = max([len(table.columns)] + [len(r) for r in table.rows] + [1])

    def cells(values: list[str], *, head: bool, first_bold: bool = True) -> list[FlexText]:
        values = list(values) + [""] * (ncols - len(values))
        out = []
        for i, v in enumerate(values):
            out.append(
                FlexText(
                    text=_t(v),
                    size="xs",
                    wrap=True,
                    flex=1,
                    color=LABEL_COLOUR if head else TEXT_COLOUR,
                    weight="bold" if head or (first_bold and i == 0) else None,
                )
            )
        return out

    contents: list = [
        FlexText(text=_t(table.title), weight="bold", size="md", wrap=True, color=TONES["info"][1])
    ]
    if table.columns:
        contents.append(
            FlexBox(
                layout="horizontal",
                spacing="sm",
                margin="md",
                paddingAll="6px",
                backgroundColor=TABLE_HEAD_BG,
                cornerRadius="4px",
                contents=cells(table.columns, head=True),
            )
        )
    for row in table.rows:
        contents.append(FlexSeparator(margin="sm", color=SEPARATOR_COLOUR))
        contents.append(
            FlexBox(
                layout="horizontal",
                spacing="sm",
                margin="sm",
                paddingStart="6px",
                paddingEnd="6px",
                contents=cells([str(c) for c in row], head=False),
            )
        )
    if table.note:
        contents.append(FlexText(text=table.note, size="xxs", color=NOTE_COLOUR, wrap=True, margin="lg"))
    return FlexBubble(
        size="giga" if ncols >= 3 else "mega",
        body=FlexBox(layout="vertical", paddingAll="16px", contents=contents),
    )


def _bubble_fits(bubble: FlexBubble) -> bool:
    size = len(json.dumps(bubble.to_dict(), ensure_ascii=False).encode("utf-8"))
    return size <= MAX_BUBBLE_BYTES


# ---- the pipeline ------------------------------------------------------------------

# An intermediate item: ("text", str) or ("flex", FlexMessage, plain-text rendition)
_Item = Union[tuple[str, str], tuple[str, FlexMessage, str]]


def _items(answer: Answer) -> list[_Item]:
    items: list[_Item] = []
    for m in answer.messages:
        if isinstance(m, Text):
            if m.text and m.text.strip():
                items.extend(("text", piece) for piece in split_text(m.text))
        elif isinstance(m, (Card, Table)):
            card = isinstance(m, Card)
            plain = card_as_text(m) if card else table_as_text(m)
            bubble = card_bubble(m) if card else table_bubble(m)
            if _bubble_fits(bubble):
                items.append(("flex", FlexMessage(altText=_alt(m.alt_text, plain), contents=bubble), plain))
            else:
                log.warning("%s %r larger than a Flex bubble allows, sent as text", m.type, m.title)
                items.extend(("text", piece) for piece in split_text(plain))
        else:  # pragma: no cover - unknown message kind
            log.error("unknown answer message %r, skipped", type(m))
    return items


def _merge_texts(items: list[_Item]) -> list[_Item]:
    """Merge runs of consecutive texts while the result stays ≤ MAX_TEXT."""
    out: list[_Item] = []
    for it in items:
        if it[0] == "text" and out and out[-1][0] == "text":
            joined = out[-1][1] + "\n\n" + it[1]
            if utf16_len(joined) <= MAX_TEXT:
                out[-1] = ("text", joined)
                continue
        out.append(it)
    return out


def _fold_tail(items: list[_Item]) -> list[_Item]:
    """Keep the first MAX_MESSAGES-1 items; everything after becomes one text."""
    head = items[: MAX_MESSAGES - 1]
    tail = items[MAX_MESSAGES - 1 :]
    if any(it[0] == "flex" for it in tail):
        log.warning("more than %d LINE messages: cards/tables folded into text", MAX_MESSAGES)
    joined = "\n\n".join(it[1] if it[0] == "text" else it[2] for it in tail)
    if utf16_len(joined) > MAX_TEXT:
        log.warning("LINE reply too long: %d UTF-16 units cut", utf16_len(joined) - MAX_TEXT)
        room = MAX_TEXT - utf16_len(OMITTED_NOTE)
        joined = joined[: _fit_prefix(joined, room)].rstrip() + OMITTED_NOTE
    return head + [("text", joined)]


def render(answer: Answer) -> list[Message]:
    """The LINE messages (≤ 5) for ``answer``; quick replies on the last one."""
    items = _items(answer)
    if len(items) > MAX_MESSAGES:
        items = _merge_texts(items)
    if len(items) > MAX_MESSAGES:
        items = _fold_tail(items)

    quick = quick_reply_for(answer.quick_replies)
    if not items and quick is not None:
        items = [("text", NO_MESSAGE_PROMPT)]

    messages: list[Message] = []
    for it in items:
        if it[0] == "text":
            messages.append(TextMessage(text=it[1]))
        else:
            messages.append(it[1])
    if quick is not None and messages:
        messages[-1].quick_reply = quick
    return messages


@functools.lru_cache(maxsize=2048)
def _render_json(answer_json: str) -> tuple[dict, ...]:
    return tuple(m.to_dict() for m in render(Answer.from_dict(json.loads(answer_json))))


def render_for_send(answer: Answer) -> list[dict]:
    """``render(answer)`` as JSON-ready dicts, built once per distinct answer.

    Most answers are the same few questions with the same buttons; building their
    models and dumping them is about half of a send's CPU: 1.3–1.7 ms per send
    with this cache against 2.6–3.2 ms without (README "Performance"). The dicts
    are shared: callers must not change them.
    """
    key = json.dumps(answer.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return list(_render_json(key))


def render_text(text: str) -> list[Message]:
    """An operator's plain message (split if long, ≤ 5 messages, no quick replies)."""
    return render(Answer([Text(text)]))


def to_dicts(messages: Iterable[Message]) -> list[dict]:
    """JSON-ready dicts of the message models (for storage / debugging / the API)."""
    return [m.to_dict() for m in messages]
