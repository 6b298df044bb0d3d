"""The diagnosis dialog (任売相談ボット): consent → a few questions → a personal result → a person.

The package: ``vocabulary`` (questions, postbacks, context words), ``machine`` (the
states, ``TRANSITIONS``, the per-message model ``Turn`` and ``MACHINE``), ``routing``
(which trigger an input means; one text handler per state in ``TEXT_HANDLERS``),
``facts`` (reading and storing answers), ``replies`` (what the bot says) and ``result``
(the result card). Read it like python-telegram-bot's conversation examples: the states
are listed once, ``TRANSITIONS`` is the whole routing table, the guards are small methods named
like questions, and ``MACHINE`` is built once at import with ``model=None``.

Per message the engine loads a :class:`~dialogs.base.Session` (state text + JSON data),
calls :meth:`DiagnosisDialog.step` once and saves the session. ``step`` wraps the session
in a :class:`Turn` (the model the shared machine runs on for this one message), decides
which trigger(s) the input means (``routing.Routing._route``) and fires them with
``MACHINE.events[name].trigger(turn)``. The callbacks named in the state config and in
``TRANSITIONS`` write the reply; every word comes from ``content/`` (``dialog.yaml``,
``knowledge.yaml``, ``faq.yaml``, ``legal.yaml``): this module only names keys.

The questions form one chain (``next``). A question that is already answered (free
text often answers several at once) or does not apply (no auction → no court dates)
is passed over silently: after firing, ``step`` fires ``next`` again while the current
state has nothing to ask. The last question loops back to the first while something
is still open (after a correction, say), so nothing is asked twice and nothing is
skipped. The contact details form a second chain ending in ``handoff``.

``session.data`` holds:
    answers   ``Case.to_dict()`` (see dialogs/assessment.py)
    answered  names of the questions answered (``わからない`` counts as an answer)
    consent   the privacy notice was accepted
    misses    inputs not understood in a row
    return_to the question (or ``result``) to come back to after a FAQ/a person
    contact   {name, phone, email, via_line, preferred_time, consented}
    history   the last states visited (bounded)
    court_letter / inspection_date   a court letter not yet identified / a 現況調査 date
    miss_state the state the ``misses`` count for (one re-ask, then わからない and on)
    asked     [question, replies in a row that left it pending]: a question already asked
              twice is never asked a third time, whatever the replies were (facts for other
              questions, a sticker, a care reply): it is recorded as わからない and the dialog goes on
    held      messages with facts sent before consent (read on consent, dropped on decline)
    consent_said a consent written in a message that got the care reply: the next message
              goes on without asking it again (dropped on decline or on reading only)
    crisis    words of despair were written: the summary says so, urgency ``hot``
    offered_phone a number typed outside the contact steps, offered to be saved

Replies are read in the context of the question asked first (dialogs/understanding/context.py), then as
free text (dialogs/understanding/); words of despair, anger and off-topic are
recognised by dialogs/care.py before anything else.
"""
from __future__ import annotations
from dialogs.diagnosis.dialog import DiagnosisDialog
from dialogs.diagnosis.machine import MACHINE, STATE_NAMES, STATES, TRANSITIONS, Turn
from dialogs.diagnosis.vocabulary import (
    ANSWER_POSTBACKS,
    CONTACT_STEPS,
    FAQ_TOPICS,
    QUESTIONS,
    format_date,
)

__all__ = ["STATES", "STATE_NAMES", "TRANSITIONS", "MACHINE", "QUESTIONS", "CONTACT_STEPS", "ANSWER_POSTBACKS",
           "FAQ_TOPICS", "DiagnosisDialog", "Turn", "format_date"]
