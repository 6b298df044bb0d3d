"""The staff pages' forms (Flask-WTF): login, users, canned replies, the filters of the console and insights.

Each form checks what it is sent and says what is wrong in Japanese, next to the
field (macro ``field`` in ``templates/console/_form.html``). CSRF: the POST forms check the token
(``csrf_token``, the same field CSRFProtect reads); the GET filter forms have none.
The account rules (login name, password length) stay in bot/auth.py, which the CLI
shares; the validators here call them.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional, ValidationError

from bot import audit, auth
from bot.insights import funnel, transcripts

BAD_DATE = "日付は 2026-12-01 のように入力してください"
BAD_ROLE = "役割を一覧から選んでください"
BAD_HOURS = "無操作の時間は1〜8760の整数にしてください"
BAD_POSITION = "並び順は -9999〜9999 の整数にしてください"


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _login_name(form: FlaskForm, field: StringField) -> None:
    problem = auth.check_login_name(auth.normalize_login(field.data))
    if problem:
        raise ValidationError(problem)


def _password(form: FlaskForm, field: PasswordField) -> None:
    problem = auth.check_password(field.data or "")
    if problem:
        raise ValidationError(problem)


ROLE_CHOICES = {r: auth.ROLE_LABELS[r] for r in auth.ROLES}
MAX_REPLY = MAX_NOTE = MAX_CANNED = 2000  # characters


def _required(cls: type, label: str, max_len: int, empty: str, too_long: str | None = None) -> Any:
    """A text field, stripped, that must be given and at most ``max_len`` characters."""
    return cls(label, filters=[_strip], validators=[DataRequired(empty), Length(max=max_len, message=too_long or empty)])


class Form(FlaskForm):
    """A FlaskForm that reads a JSON body's text and number values as its fields (a true/false
    is a checkbox's value). Lists, objects and a body that is not an object are left out, never
    an error (Flask-WTF's own reading fails on a list value: a 500 instead of the form's answer)."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is _Auto and request.is_json and request.method in ("POST", "PUT", "PATCH", "DELETE"):
                data = request.get_json(silent=True)
                return MultiDict({k: ("y" if v else "") if isinstance(v, bool) else v for k, v in data.items()
                                  if isinstance(v, (str, int))} if isinstance(data, dict) else {})
            return super().wrap_formdata(form, formdata)


def first_error(form: FlaskForm) -> str:
    """The first message of an invalid form (for JSON answers and flash lines)."""
    return next((errors[0] for errors in form.errors.values() if errors), "入力内容が正しくありません")


# -- login and accounts ------------------------------------------------------------------
class LoginForm(Form):
    login = StringField("ログインID", filters=[auth.normalize_login],
                        validators=[DataRequired("ログインIDを入力してください"),
                                    Length(max=64, message="ログインIDは64文字までです")])
    password = PasswordField("パスワード", validators=[DataRequired("パスワードを入力してください"),
                                                   Length(max=auth.MAX_PASSWORD,
                                                          message=f"パスワードは{auth.MAX_PASSWORD}文字までです")])
    next = HiddenField()


class UserCreateForm(Form):
    login = StringField("ログインID", filters=[auth.normalize_login],
                        validators=[DataRequired("ログインIDを入力してください"), _login_name])
    display_name = StringField("表示名", filters=[_strip],
                               validators=[Length(max=40, message="表示名は40文字までです")])
    role = SelectField("役割", choices=ROLE_CHOICES, default="operator", invalid_choice_message=BAD_ROLE)
    password = PasswordField("初期パスワード（10文字以上）",
                             validators=[DataRequired("パスワードを入力してください"), _password])


class UserNameForm(Form):
    display_name = _required(StringField, "表示名", 40, "表示名は1〜40文字にしてください")


class UserRoleForm(Form):
    role = SelectField("役割", choices=ROLE_CHOICES, invalid_choice_message=BAD_ROLE)


class UserPasswordForm(Form):
    password = PasswordField("新しいパスワード", validators=[DataRequired("パスワードを入力してください"), _password])


class ConfirmForm(Form):
    """A button only (disable, enable a user): the CSRF token is all it carries."""


USER_ACTIONS: dict[str, type[FlaskForm]] = {
    "name": UserNameForm,
    "role": UserRoleForm,
    "password": UserPasswordForm,
    "disable": ConfirmForm,
    "enable": ConfirmForm,
}


# -- canned replies ----------------------------------------------------------------------------
class CannedForm(Form):
    title = _required(StringField, "見出し", 40, "見出しは1〜40文字にしてください")
    position = IntegerField("並び順", default=0, invalid_value_message=BAD_POSITION,
                            validators=[Optional(), NumberRange(-9999, 9999, BAD_POSITION)])
    text = _required(TextAreaField, "本文", MAX_CANNED, f"本文は1〜{MAX_CANNED}文字にしてください")


# -- the conversation page (sent as JSON by console.js; errors answered as {"error": ...}) ------
class ReplyForm(Form):
    """An operator's message to the homeowner (sent as JSON by the conversation page)."""

    text = _required(TextAreaField, "メッセージ", MAX_REPLY, "メッセージが空です", f"メッセージは{MAX_REPLY}文字までです")


class StatusForm(Form):
    """Close a case, or open it again."""

    status = StringField("状態", validators=[AnyOf(["closed", "open"], message="status は closed か open です")])


class ProposalForm(Form):
    """Confirm (checked) or dismiss (not) a contact detail the homeowner typed."""

    confirm = BooleanField("確認")


class NoteForm(Form):
    text = _required(TextAreaField, "メモ", MAX_NOTE, "メモが空です", f"メモは{MAX_NOTE}文字までです")


class CallbackForm(Form):
    """When to call back (read as JST by ``service.add_callback``) and a short note."""

    due_at = _required(StringField, "この日時に折り返す", 40, "日時を正しく入力してください")
    note = StringField("メモ", filters=[_strip], validators=[Length(max=200, message="メモは200文字までです")])


class AssignForm(Form):
    """The person in charge: ``me``, a user id, or nobody (empty / ``none``)."""

    user_id = StringField("担当者", filters=[lambda v: "" if v is None else str(v).strip()])

    def validate_user_id(self, field: StringField) -> None:
        if field.data not in ("me", "", "none") and not field.data.isdigit():
            raise ValidationError("担当者が正しくありません")

    def assignee(self, me: int) -> int | None:
        value = self.user_id.data
        if value == "me":
            return me
        return int(value) if value.isdigit() else None


# -- filters (GET, no CSRF) ---------------------------------------------------------------------
class FilterForm(Form):
    class Meta:
        csrf = False

    def bad_fields(self) -> set[str]:
        """Validate; the names of the fields to leave out of the filter."""
        self.validate()
        return set(self.errors)


def _choices(pairs: Any, blank: str = "すべて") -> dict[str, str]:
    return {"": blank, **dict(pairs)}


class SearchForm(FilterForm):
    """The console's search box (in the top bar of every page)."""

    q = SearchField("相談を検索", filters=[_strip], validators=[Length(max=100, message="検索語は100文字までです")])


class InboxFilterForm(FilterForm):
    status = SelectField("状態", default="open", validate_choice=False)
    owner = SelectField("担当", default="all", validate_choice=False,
                        choices={"all": "全員", "mine": "自分", "unassigned": "未割当"})

    def __init__(self, status_labels: dict[str, str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = {"open": "終了以外", "all": "すべて", "followup": "要対応", **status_labels}

    def value(self, name: str) -> str:
        """The field's value, or its default when it is not one of the choices."""
        field = self[name]
        return field.data if field.data in field.choices else field.default


class PeriodForm(FilterForm):
    """From and to (``?from=2026-11-01&to=2026-11-30``), both optional."""

    date_from = DateField("開始日", name="from", validators=[Optional()], invalid_value_message=BAD_DATE)
    date_to = DateField("終了日", name="to", validators=[Optional()], invalid_value_message=BAD_DATE)

    def validate_date_to(self, field: DateField) -> None:
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError("終了日は開始日と同じ日か、それより後にしてください")


class AuditFilterForm(PeriodForm):
    login = StringField("ユーザー（ログインID）", filters=[_strip],
                        validators=[Length(max=64, message="ログインIDは64文字までです")])
    action = SelectField("操作", validate_choice=False,
                         choices=_choices(audit.ACTION_LABELS.items()))
    target_type = SelectField("対象の種類", validate_choice=False,
                              choices=_choices((("conversation", "相談"), ("user", "ユーザー"), ("canned", "定型文"),
                                                ("alert", "通知"), ("export", "エクスポート"))))
    target_id = StringField("対象ID", filters=[_strip],
                            validators=[Length(max=64, message="対象IDは64文字までです")])


# -- insights ----------------------------------------------------------------------------------
class InsightsFilterForm(PeriodForm):
    """The filters of /insights (list, search, exports) and of the funnel (dates, channel)."""

    q = SearchField("ユーザーの発言を検索", filters=[_strip],
                    validators=[Length(max=100, message="検索語は100文字までです")])
    channel = SelectField("チャネル", validate_choice=False, choices=_choices({"line": "LINE", "web": "ウェブチャット"}))
    stage = SelectField("段階（診断）", validate_choice=False,
                        choices=_choices((s, transcripts.STAGE_LABELS[s]) for s in transcripts.STAGES))
    reached = SelectField("到達ステップ", validate_choice=False,
                          choices=_choices((s, funnel.STEP_LABELS[s]) for s in funnel.STEPS))
    urgency = SelectField("緊急度", validate_choice=False,
                          choices=_choices((u, transcripts.URGENCY_LABELS[u]) for u in transcripts.URGENCIES))
    lead = SelectField("リード（連絡先あり）", validate_choice=False, choices=_choices({"yes": "あり", "no": "なし"}))
    handoff = SelectField("担当者へ", validate_choice=False,
                          choices=_choices({"yes": "引き継いだ", "no": "引き継いでいない"}))
    left_at = SelectField("離脱したステップ", validate_choice=False,
                          choices=_choices(((s, s) for s in transcripts.DIALOG_STEPS), "指定なし"))
    idle_hours = IntegerField("無操作（時間）", default=24, invalid_value_message=BAD_HOURS,
                              validators=[Optional(), NumberRange(1, 24 * 365, BAD_HOURS)])

    def filters(self, today: dt.date, days: int = 30) -> transcripts.Filters:
        """The filters to apply: what was valid; for the rest, the defaults (the last ``days`` days)."""
        bad = self.bad_fields()

        def value(name: str) -> Any:
            field = self[name]
            if name in bad or field.data in (None, ""):
                return None
            if isinstance(field, SelectField) and field.data not in field.choices:
                return None
            return field.data

        date_from = value("date_from") or today - dt.timedelta(days=days - 1)
        date_to = value("date_to") or today
        for field, day in ((self.date_from, date_from), (self.date_to, date_to)):
            if not field.raw_data or not field.raw_data[0]:
                field.data = day  # shown in the empty field: the period in force
        return transcripts.Filters(
            date_from=date_from.isoformat(),
            date_to=date_to.isoformat(),
            **{name: value(name) or "" for name in ("channel", "stage", "reached", "urgency", "lead", "handoff",
                                                   "left_at", "q")},
            idle_hours=value("idle_hours") or 24,
        )
