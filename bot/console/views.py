"""Console routes. Pages render templates; ``/console/api/*`` answer JSON.

Every view carries ``@role_required``: operators and admins work
conversations; admins also manage users, canned replies and read the audit
trail; marketing users only get the small landing page here.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
import werkzeug.exceptions
from flask_wtf.csrf import CSRFError

from bot import audit, auth, forms
from bot.auth import STAFF, current_user, role_required
from bot.console import service
from bot.console.service import Conflict, NotFound
from bot.insights.transcripts import utc_bound

logger = logging.getLogger(__name__)

bp = Blueprint("console", __name__, url_prefix="/console")


def _services() -> Any:
    return current_app.extensions["ninbai"]


def _storage() -> Any:
    return _services().storage


def _today() -> dt.date:
    return _services().engine.today()


def _now() -> dt.datetime:
    """The console's clock (``CONSOLE_CLOCK`` in tests): follow-ups fall due by it."""
    return _services().extra["console_clock"]().astimezone(dt.UTC)


def _is_admin() -> bool:
    return current_user.role == "admin"


def _error(message: str, status: int):
    return jsonify({"error": message}), status


@bp.errorhandler(CSRFError)
def csrf_error(exc: CSRFError):
    message = "セッションの有効期限が切れました。画面を再読み込みしてください。"
    if auth.wants_json():
        return _error(message, 400)
    return render_template("console/error.html", title="送信できませんでした", message=message), 400


@bp.errorhandler(service.Invalid)
def invalid(exc: service.Invalid):
    return _error(str(exc), 400)


@bp.errorhandler(Conflict)
def conflict(exc: Conflict):
    return _error(str(exc), 409)


@bp.errorhandler(NotFound)
def not_found(exc: NotFound):
    return werkzeug.exceptions.NotFound()


@bp.app_context_processor
def console_globals() -> dict[str, Any]:
    return {"role_labels": auth.ROLE_LABELS, "status_labels": service.STATUS_LABELS}


# -- landing for marketing ------------------------------------------------------------
@bp.get("/welcome")
@role_required()
def coming():
    return render_template("console/coming.html", title="ようこそ")


# -- inbox ---------------------------------------------------------------------------
def _filters() -> tuple[str, str]:
    """The inbox's status and owner filters (an unknown value: the default)."""
    form = forms.InboxFilterForm(service.STATUS_LABELS, request.args)
    return form.value("status"), form.value("owner")


@bp.get("/")
@role_required(*STAFF)
def inbox():
    status, owner = _filters()
    return render_template(
        "console/inbox.html",
        title="受信箱",
        status=status,
        owner=owner,
        rows=service.inbox(_storage(), current_user.id, status, owner, today=_today(), now=_now()),
        alerts=service.alert_summary(_storage()),
        poll_ms=int(current_app.config.get("CONSOLE_POLL_MS", 2500)),
    )


def _alerts() -> dict[str, Any]:
    """Unseen alerts, after raising those of follow-ups that just went past due."""
    _services().extra["alerts"].raise_overdue(_now())
    return service.alert_summary(_storage())


@bp.get("/api/inbox")
@role_required(*STAFF)
def api_inbox():
    status, owner = _filters()
    storage = _storage()
    alerts = _alerts()
    rows = service.inbox(storage, current_user.id, status, owner, today=_today(), now=_now())
    return jsonify(
        {
            "rows": rows,
            "rows_html": render_template("console/_rows.html", rows=rows),
            "alerts": alerts,
            "me": current_user.id,
        }
    )


# -- search ---------------------------------------------------------------------------
def _search() -> tuple[forms.SearchForm, str, list[dict[str, Any]]]:
    form = forms.SearchForm(request.args)
    q = (form.q.data or "") if form.validate() else ""
    rows = service.search(_storage(), current_user.id, q, today=_today(), now=_now()) if q else []
    if q:
        audit.record("search", "conversation", None,
                     {"kind": service.search_kind(q), "results": len(rows)})
    return form, q, rows


@bp.get("/search")
@role_required(*STAFF)
def search_page():
    form, q, rows = _search()
    return render_template("console/search.html", title="検索", form=form, q=q, rows=rows,
                           alerts=service.alert_summary(_storage()))


@bp.get("/api/search")
@role_required(*STAFF)
def api_search():
    form, q, rows = _search()
    if form.errors:
        return _error(forms.first_error(form), 400)
    return jsonify({"q": q, "rows": rows})


@bp.post("/api/alerts/seen")
@role_required(*STAFF)
def api_alerts_seen():
    n = service.mark_alerts_seen(_storage())
    if n:
        audit.record("alerts_seen", "alert", None, {"count": n})
    return jsonify({"ok": True, "seen": n, "alerts": service.alert_summary(_storage())})


# -- one conversation ------------------------------------------------------------------
def _valid(cls: type[forms.Form]) -> Any:
    """The API form as sent (JSON or form fields); invalid: a 400 with its first error."""
    form = cls()
    if not form.validate():
        raise service.Invalid(forms.first_error(form))
    return form


@bp.get("/c/<int:conv_id>")
@role_required(*STAFF)
def conversation(conv_id: int):
    storage = _storage()
    conv = service.get_conversation(storage, conv_id)  # NotFound: 404 (not_found above)
    audit.record("view", "conversation", conv_id)
    service.mark_alerts_seen(storage, conv_id)
    service.mark_read(storage, conv_id, current_user.id)
    contact = storage.contact_by_id(conv["contact_id"])
    return render_template(
        "console/conversation.html",
        title=f"相談 #{conv_id}",
        conv=conv,
        person=service.person_name(contact.get("display_name") if contact else None, conv["data"],
                                   conv["channel"]),
        state=service.conversation_state(storage, conv),
        contact=contact,
        card=_card(conv),
        tasks=_tasks(storage, conv),
        notes=service.notes(storage, conv_id),
        canned=service.canned(storage),
        staff=service.staff(storage),
        alerts=service.alert_summary(storage),
        poll_ms=int(current_app.config.get("CONSOLE_POLL_MS", 2500)),
    )


@bp.get("/api/c/<int:conv_id>")
@role_required(*STAFF)
def api_conversation(conv_id: int):
    storage = _storage()
    conv = service.get_conversation(storage, conv_id)  # NotFound: 404 (not_found above)
    if conv["owner_id"] == current_user.id:
        service.mark_read(storage, conv_id, current_user.id)
    payload: dict[str, Any] = {
        "state": service.conversation_state(storage, conv),
        "messages": service.messages(storage, conv_id, request.args.get("after", 0, type=int)),
        "notes": service.notes(storage, conv_id),
        "me": current_user.id,
        "alerts": _alerts(),
        "tasks_html": render_template("console/_tasks.html", tasks=_tasks(storage, conv), conv=conv),
    }
    known = request.args.get("version")
    if known != str(conv["version"]):
        payload["card_html"] = render_template("console/_card.html", card=_card(conv))
    return jsonify(payload)


def _card(conv: dict[str, Any]) -> dict[str, Any]:
    return service.case_card(_storage(), conv, _today(), _services().content)


def _tasks(storage: Any, conv: dict[str, Any]) -> dict[str, Any]:
    return {"followups": service.followups(storage, conv["id"], _now()),
            "proposals": service.proposals(storage, conv)["open"]}


def _state_response(conv_id: int, **extra: Any):
    storage = _storage()
    conv = service.get_conversation(storage, conv_id)
    return jsonify({"ok": True, "state": service.conversation_state(storage, conv), **extra})


@bp.post("/api/c/<int:conv_id>/takeover")
@role_required(*STAFF)
def api_takeover(conv_id: int):
    service.take_over(_storage(), conv_id, current_user.id)
    audit.record("takeover", "conversation", conv_id)
    service.mark_alerts_seen(_storage(), conv_id)
    return _state_response(conv_id)


@bp.post("/api/c/<int:conv_id>/reply")
@role_required(*STAFF)
def api_reply(conv_id: int):
    text = _valid(forms.ReplyForm).text.data
    msg_id = service.reply(_services(), conv_id, current_user.id, text)
    audit.record("send", "conversation", conv_id, {"message_id": msg_id, "length": len(text)})
    return _state_response(conv_id, message_id=msg_id)


@bp.post("/api/c/<int:conv_id>/handback")
@role_required(*STAFF)
def api_handback(conv_id: int):
    service.hand_back(_services(), conv_id, current_user.id, _is_admin())
    audit.record("handback", "conversation", conv_id)
    return _state_response(conv_id)


@bp.post("/api/c/<int:conv_id>/status")
@role_required(*STAFF)
def api_status(conv_id: int):
    if _valid(forms.StatusForm).status.data == "closed":
        service.close(_storage(), conv_id, current_user.id, _is_admin())
        audit.record("close", "conversation", conv_id)
    else:
        service.reopen(_storage(), conv_id)
        audit.record("reopen", "conversation", conv_id)
    return _state_response(conv_id)


@bp.post("/api/c/<int:conv_id>/assign")
@role_required(*STAFF)
def api_assign(conv_id: int):
    assignee = _valid(forms.AssignForm).assignee(current_user.id)
    service.assign(_storage(), conv_id, current_user.id, assignee, _is_admin())
    audit.record("assign", "conversation", conv_id, {"to": assignee})
    return _state_response(conv_id)


@bp.post("/api/c/<int:conv_id>/notes")
@role_required(*STAFF)
def api_note(conv_id: int):
    note_id = service.add_note(_storage(), conv_id, current_user.id, _valid(forms.NoteForm).text.data)
    audit.record("note", "conversation", conv_id, {"note_id": note_id})
    return jsonify({"ok": True, "notes": service.notes(_storage(), conv_id)})


# -- follow-ups and contact details typed in the chat --------------------------------
@bp.post("/api/c/<int:conv_id>/followups")
@role_required(*STAFF)
def api_followup_add(conv_id: int):
    form = _valid(forms.CallbackForm)
    fid = service.add_callback(_storage(), conv_id, current_user.id, form.due_at.data, form.note.data, now=_now())
    audit.record("followup_add", "conversation", conv_id, {"followup_id": fid})
    return _state_response(conv_id, followup_id=fid)


@bp.post("/api/followups/<int:followup_id>/done")
@role_required(*STAFF)
def api_followup_done(followup_id: int):
    row = service.done_followup(_storage(), followup_id, current_user.id)
    audit.record("followup_done", "conversation", row["conversation_id"], {"followup_id": followup_id})
    return _state_response(row["conversation_id"])


@bp.post("/api/c/<int:conv_id>/proposals/<int:proposal_id>")
@role_required(*STAFF)
def api_proposal(conv_id: int, proposal_id: int):
    confirm = _valid(forms.ProposalForm).confirm.data
    row = service.decide_proposal(_storage(), conv_id, proposal_id, current_user.id, confirm)
    # recorded as given in the chat: which message, by whom, when (the value stays in the case)
    audit.record("contact_confirm" if confirm else "contact_dismiss", "conversation", conv_id,
                 {"kind": row["kind"], "source": "chat", "message_id": row["message_id"]})
    conv = service.get_conversation(_storage(), conv_id)
    return _state_response(conv_id, card_html=render_template("console/_card.html", card=_card(conv)))

# -- canned replies (admin) -----------------------------------------------------------
def _canned_page(form: forms.CannedForm | None = None, failed: int | None = None, status: int = 200):
    """The canned replies; ``form`` (invalid) in place of the new one or of item ``failed``."""
    items = service.canned(_storage())
    new = form if form is not None and failed is None else forms.CannedForm(formdata=None)
    edits = {c["id"]: form if failed == c["id"] else forms.CannedForm(formdata=None, data=c) for c in items}
    return render_template("console/canned.html", title="定型文", items=items, new=new, edits=edits), status


@bp.get("/canned")
@role_required("admin")
def canned():
    return _canned_page()


@bp.post("/canned", endpoint="canned_create")
@bp.post("/canned/<int:canned_id>", endpoint="canned_update")
@role_required("admin")
def canned_save(canned_id: int | None = None):
    form = forms.CannedForm()
    if not form.validate():
        return _canned_page(form, canned_id, 400)
    cid = service.save_canned(_storage(), current_user.id, form.title.data, form.text.data, form.position.data,
                              canned_id)
    audit.record("canned_update" if canned_id else "canned_create", "canned", cid)
    flash("定型文を保存しました" if canned_id else "定型文を追加しました", "ok")
    return redirect(url_for("console.canned")), 303


@bp.post("/canned/<int:canned_id>/delete")
@role_required("admin")
def canned_delete(canned_id: int):
    service.delete_canned(_storage(), canned_id)
    audit.record("canned_delete", "canned", canned_id)
    flash("定型文を削除しました", "ok")
    return redirect(url_for("console.canned")), 303


# -- users (admin) -----------------------------------------------------------------------
def _users_page(form: Any = None, failed: tuple[int | None, str] | None = None, status: int = 200):
    """The users page; ``form`` (invalid) shown in place of the form ``failed`` = (user id, action)."""
    def bound(user_id: int | None, action: str, cls: type, **data: Any) -> Any:
        return form if failed == (user_id, action) else cls(formdata=None, data=data)

    users = auth.list_users()
    rows = [{**u, "name_form": bound(u["id"], "name", forms.UserNameForm, display_name=u["display_name"] or ""),
             "role_form": bound(u["id"], "role", forms.UserRoleForm, role=u["role"]),
             "password_form": bound(u["id"], "password", forms.UserPasswordForm)} for u in users]
    return render_template("console/users.html", title="ユーザー管理", users=rows,
                           create=bound(None, "create", forms.UserCreateForm)), status


@bp.get("/users")
@role_required("admin")
def users():
    return _users_page()


@bp.post("/users")
@role_required("admin")
def users_create():
    form = forms.UserCreateForm()
    if form.validate():
        try:
            user_id = auth.create_user(form.login.data, form.password.data, form.role.data, form.display_name.data)
        except ValueError as exc:  # the login is taken
            form.login.errors.append(str(exc))
        else:
            audit.record("user_create", "user", user_id, {"login": form.login.data, "role": form.role.data})
            flash("ユーザーを作成しました", "ok")
            return redirect(url_for("console.users")), 303
    return _users_page(form, (None, "create"), 400)


@bp.post("/users/<int:user_id>")
@role_required("admin")
def users_update(user_id: int):
    row = auth.get_user(user_id)
    if row is None:
        abort(404)
    action = request.form.get("action", "")
    if action not in forms.USER_ACTIONS:
        flash("操作が正しくありません", "error")
        return redirect(url_for("console.users")), 303
    form = forms.USER_ACTIONS[action]()
    if not form.validate():
        return _users_page(form, (user_id, action), 400)
    storage = _storage()
    try:
        if action == "role":
            role = form.role.data
            if row["role"] == "admin" and role != "admin" and row["active"] \
                    and auth.active_admin_count(storage) <= 1:
                raise ValueError("最後の管理者の役割は変更できません")
            auth.set_role(user_id, role)
            audit.record("user_update", "user", user_id, {"role": role})
            flash(f"{row['login']} の役割を変更しました", "ok")
        elif action == "name":
            auth.set_display_name(user_id, form.display_name.data)
            audit.record("user_update", "user", user_id, {"display_name": True})
            flash(f"{row['login']} の表示名を変更しました", "ok")
        elif action == "password":
            auth.set_password(user_id, form.password.data)
            audit.record("user_password", "user", user_id)
            flash(f"{row['login']} のパスワードを再設定しました（ログイン中の画面は切れます）", "ok")
        elif action == "disable":
            if user_id == current_user.id:
                raise ValueError("自分自身は無効にできません")
            auth.set_active(user_id, False)
            audit.record("user_disable", "user", user_id)
            flash(f"{row['login']} を無効にしました", "ok")
        else:  # enable
            auth.set_active(user_id, True)
            audit.record("user_update", "user", user_id, {"active": True})
            flash(f"{row['login']} を有効にしました", "ok")
    except ValueError as exc:
        flash(str(exc), "error")
    return redirect(url_for("console.users")), 303


# -- audit trail (admin) ------------------------------------------------------------------
@bp.get("/audit")
@role_required("admin")
def audit_log():
    args = request.args
    form = forms.AuditFilterForm(args)
    bad = form.bad_fields()  # said next to the field; that filter is left out

    def value(name: str) -> Any:
        return None if name in bad else form[name].data or None

    def day(name: str, plus_days: int = 0) -> str | None:
        return utc_bound(value(name), plus_days) if value(name) else None

    rows = audit.query(
        _storage(),
        login=value("login"),
        action=value("action"),
        target_type=value("target_type"),
        target_id=value("target_id"),
        date_from=day("date_from"),
        date_to=day("date_to", 1),
        before_id=args.get("before", type=int),
        limit=200,
    )
    items = [
        {**r, "when": service.jst_time(r["at"]),
         "action_label": audit.ACTION_LABELS.get(r["action"], r["action"])}
        for r in rows
    ]
    next_args = {k: v for k, v in args.items() if k != "before" and v}
    return render_template(
        "console/audit.html", title="監査ログ", items=items, form=form,
        more=url_for("console.audit_log", **next_args, before=rows[-1]["id"]) if len(rows) == 200 else None,
    )
