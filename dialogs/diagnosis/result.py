"""The personal result card (stage, dates left, special cases, next step)."""
from __future__ import annotations

from typing import Any


from dialogs.answer import Card
from dialogs.assessment import AUCTION_STAGES, Case, assess
from dialogs.diagnosis.vocabulary import (
    format_date,
)
from dialogs.diagnosis.machine import (
    Turn,
)


class Result:
    """The personal result card (stage, dates left, special cases, next step)."""

    def _show_result(self, turn: Turn) -> None:
        c, today = self.c, turn.today
        if turn.menu_only:
            self._ask(turn)
            return
        a = assess(Case.from_dict(turn.answers), today)
        st = a.stage
        title = c.text(f"knowledge.stages.{st}.title")
        rows: list[tuple[str, str]] = [(c.text("dialog.states.result.rows.stage"), title)]
        paragraphs = [c.text(f"knowledge.stages.{st}.summary")]
        paragraphs += self._deadline_lines(turn, a, rows)
        paragraphs += [c.text(f"knowledge.special_cases.{k}") for k in a.special_cases]
        paragraphs.append(c.text(f"knowledge.stages.{st}.next_step"))
        buttons = self._quick(turn, c.get("dialog.states.result.buttons"))[:4]
        tone = {"hot": "urgent", "warm": "warning"}.get(a.urgency, "info")
        card = Card(alt_text=c.text("dialog.states.result.alt_text", title=title), title=title,
                    subtitle=c.text("dialog.states.result.subtitle", today=format_date(today)),
                    rows=rows, paragraphs=paragraphs, buttons=buttons, tone=tone)  # type: ignore[arg-type]
        turn.answer.say(c.text("dialog.states.result.intro"))
        turn.answer.messages.append(card)
        if a.urgency == "hot":
            turn.answer.say(c.text("dialog.states.result.urgent"))
        turn.data["finished"] = True
        self._ask(turn)

    def _deadline_lines(self, turn: Turn, a: Any, rows: list[tuple[str, str]]) -> list[str]:
        c, today, tl = self.c, turn.today, a.time_left
        fmt = lambda d: format_date(d, today)  # noqa: E731
        row = lambda k, v: rows.append((c.text(f"dialog.states.result.rows.{k}"), v))  # noqa: E731
        if a.stage == "after_kaisatsu":
            return [c.text("knowledge.deadlines.after_kaisatsu")]
        if tl.kaisatsu is not None and tl.legal_last_day is not None:
            row("kaisatsu", fmt(tl.kaisatsu))
            row("legal_last_day", fmt(tl.legal_last_day))
            out = [c.text("knowledge.deadlines.legal_last_day", legal_last_day=fmt(tl.legal_last_day))]
            if tl.plan_by and tl.plan_by >= today:
                out.append(c.text("knowledge.deadlines.plan_by", plan_by=fmt(tl.plan_by)))
            if tl.ideal_by and tl.ideal_by >= today:
                out.append(c.text("knowledge.deadlines.ideal_by", ideal_by=fmt(tl.ideal_by)))
            if tl.days_to_legal_last_day is not None and tl.days_to_legal_last_day >= 0:
                out.append(c.text("knowledge.deadlines.days_left", days=tl.days_to_legal_last_day))
            return out
        if tl.is_estimate and tl.estimate_kind != "arrears" and tl.estimate_from and tl.estimate_to:
            frm, to = fmt(tl.estimate_from), fmt(tl.estimate_to)
            row("estimate", f"{frm}〜{to}")
            return [c.text("knowledge.deadlines.estimate", estimate_from=frm, estimate_to=to)]
        if tl.auction_start_from and tl.auction_start_to:
            frm, to = fmt(tl.auction_start_from), fmt(tl.auction_start_to)
            row("auction_window", f"{frm}〜{to}")
            return [c.text("knowledge.deadlines.auction_window", estimate_from=frm, estimate_to=to)]
        if a.stage in AUCTION_STAGES:
            return [c.text("knowledge.deadlines.no_date")]
        return []

