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
        """The same dict as ``dataclasses.asdict(self)`` (a test holds them equal),
        built directly: ``asdict`` deep-copies every field and was a tenth of
        the event process's time per event (cProfile, README "Performance")."""
        return {"messages": [_message_dict(m) for m in self.messages],
                "quick_replies": [_quick_reply_dict(q) for q in self.quick_replies]}

    @classmethod
    def from_dict(cls, d: dict) -> "Answer":
        msgs: list[Message] = []
        for m in d.get("messages", []):
            t = m.get("type")
            if t == "text":
                msgs.append(Text(m["text"]))
            elif t == "card":
                msgs.append(
                    Card(
                        alt_text=m["alt_text"],
                        title=m["title"],
                        subtitle=m.get("subtitle"),
                        rows=[tuple(r) for r in m.get("rows", [])],
                        paragraphs=list(m.get("paragraphs", [])),
                        buttons=[QuickReply(**b) for b in m.get("buttons", [])],
                        tone=m.get("tone", "info"),
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
        return cls(msgs, [QuickReply(**q) for q in d.get("quick_replies", [])])

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
    return {"label": q.label, "data": q.data, "text": q.text, "kind": q.kind, "initial": q.initial,
            "min": q.min, "max": q.max, "uri": q.uri}


def _message_dict(m: Message) -> dict:
    if isinstance(m, Text):
        return {"text": m.text, "type": m.type}
    if isinstance(m, Card):
        return {"alt_text": m.alt_text, "title": m.title, "subtitle": m.subtitle,
                "rows": [tuple(r) for r in m.rows], "paragraphs": list(m.paragraphs),
                "buttons": [_quick_reply_dict(b) for b in m.buttons], "tone": m.tone, "type": m.type}
    if isinstance(m, Table):
        return {"alt_text": m.alt_text, "title": m.title, "columns": list(m.columns),
                "rows": [list(r) for r in m.rows], "note": m.note, "type": m.type}
    return asdict(m)
