"""The channel-neutral answer a dialog step produces.

Channels render it: ``bot/channels/line_render.py`` turns it into LINE messages
(enforcing LINE's limits), the web chat turns it into JSON for the page.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal


@dataclass
class QuickReply:
    """A button under the last message (LINE quick reply / web chat chip).

    kind:
      - "postback": sends ``data`` back silently; ``text`` (if set) is shown as the
        user's bubble (LINE ``displayText``).
      - "message": the user says ``text`` (defaults to the label).
      - "date": LINE datetime picker in date mode; the answer arrives as a postback
        with ``data`` and ``params={"date": "YYYY-MM-DD"}``. ``initial``/``min``/
        ``max`` are ISO dates.
      - "uri": opens ``uri``.
    """

    label: str
    data: str | None = None
    text: str | None = None
    kind: Literal["postback", "message", "date", "uri"] = "postback"
    initial: str | None = None
    min: str | None = None
    max: str | None = None
    uri: str | None = None


@dataclass
class Text:
    text: str
    type: Literal["text"] = "text"


@dataclass
class Card:
    """A card: a Flex bubble on LINE, an HTML card in the web chat.

    ``alt_text`` is what notifications and old clients show: a plain-text summary.
    ``rows`` are (label, value) pairs; ``paragraphs`` plain text; ``buttons`` at most 4.
    """

    alt_text: str
    title: str
    subtitle: str | None = None
    rows: list[tuple[str, str]] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    buttons: list[QuickReply] = field(default_factory=list)
    tone: Literal["info", "warning", "urgent"] = "info"
    type: Literal["card"] = "card"


@dataclass
class Table:
    """A comparison table: a Flex bubble with rows on LINE, an HTML table on the web."""

    alt_text: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str | None = None
    type: Literal["table"] = "table"


Message = Text | Card | Table


@dataclass
class Answer:
    messages: list[Message] = field(default_factory=list)
    quick_replies: list[QuickReply] = field(default_factory=list)

    def say(self, text: str) -> "Answer":
        self.messages.append(Text(text))
        return self

    def extend(self, other: "Answer") -> "Answer":
        """Append another answer's messages; its quick replies replace ours."""
        self.messages.extend(other.messages)
        if other.quick_replies:
            self.quick_replies = list(other.quick_replies)
        return self

    def to_dict(self) -> dict:
        """The answer as compact JSON-ready data: no null, empty or default field, and no
        quick-reply ``text`` equal to its label (renderers show the label when it is unset).

        Built directly, not with ``dataclasses.asdict`` (which deep-copies every field and
        was a tenth of the event process's time per event: cProfile, README "Performance")."""
        d: dict = {"messages": [_message_dict(m) for m in self.messages]}
        if self.quick_replies:
            d["quick_replies"] = [_quick_reply_dict(q) for q in self.quick_replies]
        return d

    @classmethod
    def from_dict(cls, d: dict, text: str | None = None) -> "Answer":
        """Read :meth:`to_dict`'s form, the full form stored before it (every field, nulls
        included), and :func:`stored`'s (``text``: the row's plain text)."""
        if text is not None:
            d = restored(text, d)
        msgs: list[Message] = []
        for m in d.get("messages", []):
            t = m.get("type")
            if t == "text":
                msgs.append(Text(m.get("text", "")))
            elif t == "card":
                msgs.append(
                    Card(
                        alt_text=m["alt_text"],
                        title=m["title"],
                        subtitle=m.get("subtitle"),
                        rows=[tuple(r) for r in m.get("rows") or []],
                        paragraphs=list(m.get("paragraphs") or []),
                        buttons=[_quick_reply(b) for b in m.get("buttons") or []],
                        tone=m.get("tone") or "info",
                    )
                )
            elif t == "table":
                msgs.append(
                    Table(
                        alt_text=m["alt_text"],
                        title=m["title"],
                        columns=list(m["columns"]),
                        rows=[list(r) for r in m["rows"]],
                        note=m.get("note"),
                    )
                )
        return cls(msgs, [_quick_reply(q) for q in d.get("quick_replies") or []])

    def plain_text(self) -> str:
        """All text of the answer, for storage, search and logs of length."""
        parts: list[str] = []
        for m in self.messages:
            if isinstance(m, Text):
                parts.append(m.text)
            else:
                parts.append(m.alt_text)
        return "\n".join(parts)


def _quick_reply_dict(q: QuickReply) -> dict:
    d = {"label": q.label}
    if q.data is not None:
        d["data"] = q.data
    if q.text is not None and q.text != q.label:
        d["text"] = q.text
    if q.kind != "postback":
        d["kind"] = q.kind
    for key in ("initial", "min", "max", "uri"):
        value = getattr(q, key)
        if value is not None:
            d[key] = value
    return d


def _quick_reply(d: dict) -> QuickReply:
    return QuickReply(label=d["label"], data=d.get("data"), text=d.get("text"), kind=d.get("kind") or "postback",
                      initial=d.get("initial"), min=d.get("min"), max=d.get("max"), uri=d.get("uri"))


def _message_dict(m: Message) -> dict:
    if isinstance(m, Text):
        return {"type": "text", "text": m.text}
    if isinstance(m, Card):
        d: dict = {"type": "card", "alt_text": m.alt_text, "title": m.title}
        if m.subtitle is not None:
            d["subtitle"] = m.subtitle
        if m.rows:
            d["rows"] = [list(r) for r in m.rows]
        if m.paragraphs:
            d["paragraphs"] = list(m.paragraphs)
        if m.buttons:
            d["buttons"] = [_quick_reply_dict(b) for b in m.buttons]
        if m.tone != "info":
            d["tone"] = m.tone
        return d
    if isinstance(m, Table):
        d = {"type": "table", "alt_text": m.alt_text, "title": m.title, "columns": list(m.columns),
             "rows": [list(r) for r in m.rows]}
        if m.note is not None:
            d["note"] = m.note
        return d
    return asdict(m)


# ---------------------------------------------------------------------------
# A stored answer: its plain text once (the messages row's ``text``), the rest in the payload
# ---------------------------------------------------------------------------


def _plain_key(m: dict) -> str:
    """The field of a message dict that :meth:`Answer.plain_text` takes: a bubble's text, a card's alt text."""
    return "text" if m.get("type") == "text" else "alt_text"


def stored(text: str, d: dict) -> dict:
    """``d`` (:meth:`Answer.to_dict`) without what ``text`` (:meth:`Answer.plain_text`) holds:
    a text bubble becomes its length in ``text`` (an int), a card or table its dict with
    ``n``, the length of its ``alt_text``, instead of the ``alt_text``.

    ``text`` is stored in the messages row anyway (search, exports, the console): the
    answer's words are not stored a second time. :func:`restored` puts them back.
    """
    messages = d.get("messages", [])
    if "\n".join(m.get(_plain_key(m), "") for m in messages) != text:  # not its plain text: keep all
        return d
    out: list = []
    for m in messages:
        if m.get("type") == "text":
            out.append(len(m.get("text", "")))
        else:
            m = dict(m)
            m["n"] = len(m.pop("alt_text", ""))
            out.append(m)
    return {**d, "messages": out}


def restored(text: str, d: dict) -> dict:
    """The inverse of :func:`stored` (a dict that has its texts is returned as it is)."""
    messages = d.get("messages", [])
    if not any(isinstance(m, int) or "n" in m for m in messages):
        return d
    out, pos = [], 0
    for m in messages:
        if isinstance(m, int):
            n, m = m, {"type": "text", "text": text[pos:pos + m]}
        elif "n" in m:
            m = dict(m)
            n = m.pop("n")
            m[_plain_key(m)] = text[pos:pos + n]
        else:
            n = len(m.get(_plain_key(m), ""))
        out.append(m)
        pos += n + 1
    return {**d, "messages": out}
