"""The /insights pages (marketing and admin). Marketing sees personal data redacted."""
from __future__ import annotations

import datetime as dt
import logging

from flask import Response, abort, current_app, render_template, request, stream_with_context

from bot import audit, forms
from bot.auth import current_user, role_required
from bot.insights import bp, charts, exports, funnel, masked, transcripts

logger = logging.getLogger(__name__)

ROLES = ("marketing", "admin")


def _redacted() -> bool:
    return getattr(current_user, "role", None) != "admin"


def _storage():
    return current_app.extensions["ninbai"].storage


def _catch_up() -> None:
    """Redacted copies of messages written without the hook (bounded: one batch a page)."""
    try:
        masked.catch_up(_storage())
    except Exception:  # noqa: BLE001 — a page still shows (redacting on the fly); search waits
        logger.exception("redaction catch-up failed")


def _today() -> dt.date:
    return dt.datetime.now(transcripts.JST).date()


@bp.get("/")
@role_required(*ROLES)
def index():
    form = forms.InsightsFilterForm(request.args)
    f = form.filters(_today())
    redacted = _redacted()
    if redacted:
        _catch_up()
    db = _storage().db
    before = request.args.get("before", type=int)  # keyset: the page below this id
    hits, rows, next_before = [], [], None
    if f.q:
        raw = transcripts.search_messages(db, f, before=before, limit=transcripts.PAGE, redacted=redacted)
        for r in raw:
            text = r["text"]  # marketing: already the redacted copy
            if redacted and f.q.lower() not in text.lower():
                continue  # the words searched for were personal data: not shown
            hits.append({**r, "html": transcripts.highlight(text, f.q)})
        if len(raw) == transcripts.PAGE:
            next_before = raw[-1]["id"]
    else:
        rows = transcripts.list_conversations(db, f, before=before, limit=transcripts.PAGE)
        for r in rows:
            r["first_text"] = (r["first_text_redacted"] if redacted and r["first_text_redacted"] is not None
                               else transcripts.display_text(r["first_text"], redacted, [r["display_name"] or ""]))
            r["name"] = transcripts.display_name_for(r["display_name"], redacted)
        if len(rows) == transcripts.PAGE:
            next_before = rows[-1]["id"]
    return render_template(
        "insights/index.html", title="会話の一覧・検索", f=f, form=form, rows=rows, hits=hits, before=before,
        next_before=next_before, redacted=redacted, mode=transcripts.search_mode(f.q) if f.q else None,
        t=transcripts, steps=funnel.STEPS, step_labels=funnel.STEP_LABELS, export_kinds=exports.KINDS,
    )


@bp.get("/c/<int:conv_id>")
@role_required(*ROLES)
def conversation(conv_id: int):
    storage = _storage()
    rows = list(storage.db.query(
        "select c.*, ct.display_name, ct.source as contact_source from conversations c"
        " join contacts ct on ct.id = c.contact_id where c.id = ?", [conv_id]))
    if not rows:
        abort(404)
    conv = rows[0]
    redacted = _redacted()
    known = transcripts.known_personal(conv, conv["display_name"])
    q = (request.args.get("q") or "").strip()[:100]
    copies = dict(storage.db.execute(
        "select id, text from messages_redacted where conversation_id = ?", [conv_id]).fetchall()) if redacted else {}
    messages = []
    for m in storage.messages_for_conversation(conv_id):
        text = copies.get(m["id"]) or transcripts.display_text(m["text"], redacted, known)
        messages.append({**m, "html": transcripts.highlight(text, q if m["direction"] == "in" else "")})
    summary = transcripts.loads(conv["summary"], {}) or {}
    reached = list(storage.db.query(
        "select step, value, created_at from funnel_events where conversation_id = ? order by id", [conv_id]))
    audit.record("view", "conversation", conv_id, {"via": "insights", "redacted": redacted})
    source, campaign = funnel.source_of(conv["channel"], conv["contact_source"])
    return render_template(
        "insights/conversation.html", title=f"会話 #{conv_id}", conv=conv, messages=messages,
        summary=summary, reached=reached, redacted=redacted, t=transcripts,
        name=transcripts.display_name_for(conv["display_name"], redacted),
        contact=transcripts.contact_fields(conv, redacted), source=source, campaign=campaign,
        step_labels=funnel.STEP_LABELS,
    )


@bp.get("/funnel")
@role_required(*ROLES)
def funnel_page():
    form = forms.InsightsFilterForm(request.args)
    f = form.filters(_today(), days=7 * 8)  # by default the last 8 weeks
    fu = funnel.compute(_storage(), f.date_from, f.date_to, f.channel or None)
    chain = [s for s in fu.steps if not s.conditional]
    step_chart = charts.hbar([(s.label, s.count) for s in fu.steps], title="ステップごとの到達数",
                             highlight={i for i, s in enumerate(fu.steps) if s.conditional})
    answer_charts = {
        k: charts.hbar([(label, n) for _, label, n in rows], title=funnel.ANSWER_STEPS[k], width=520,
                       label_width=150, bar_height=16, gap=5)
        for k, rows in fu.answers.items()
    }
    feedback_chart = charts.hbar([(label, n) for _, label, n in fu.feedback], title="満足度", width=520,
                                 label_width=150, bar_height=16, gap=5)
    week_steps = ("first_message", "consent", "result", "contact", "handoff", "assigned")
    sparks = {s: charts.sparkline([w.get(s, 0) for w in fu.weeks], title=funnel.STEP_LABELS[s])
              for s in week_steps}
    return render_template(
        "insights/funnel.html", title="ファネル", f=f, form=form, fu=fu, chain=chain, step_chart=step_chart,
        answer_charts=answer_charts, feedback_chart=feedback_chart, week_steps=week_steps, sparks=sparks,
        step_labels=funnel.STEP_LABELS, answer_labels=funnel.ANSWER_STEPS, redacted=_redacted(),
    )


@bp.get("/export/<kind>.<fmt>")
@role_required(*ROLES)
def export(kind: str, fmt: str):
    if kind not in exports.KINDS or fmt not in exports.FORMATS:
        abort(404)
    f = forms.InsightsFilterForm(request.args).filters(_today())
    redacted = _redacted()
    if redacted:
        _catch_up()
    audit.record("export", "export", f"{kind}.{fmt}",
                 {"kind": kind, "format": fmt, "filters": f.args(), "redacted": redacted})
    path = _storage().path
    stamp = dt.datetime.now(transcripts.JST).strftime("%Y%m%d-%H%M")
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    response = Response(
        stream_with_context(exports.stream(path, kind, fmt, f, redacted)),
        mimetype=mimetype, content_type=f"{mimetype}; charset=utf-8",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="ninbai-{kind}-{stamp}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response
