"""The personal result: composed by dialogs/advice.py (three short lines first, each point
that applies behind its own button)."""
from __future__ import annotations

from dialogs import advice
from dialogs.diagnosis.machine import Turn


class Result:
    """The personal result (stage, by when, what to do today; the points behind buttons)."""

    def _show_result(self, turn: Turn) -> None:
        if turn.menu_only:
            self._ask(turn)
            return
        advice.show_result(self.c, turn)
        turn.data["finished"] = True
