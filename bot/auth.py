"""Staff accounts, roles and login for the console (and the insights pages).

* Roles: ``admin`` (everything, user management), ``operator`` (inbox and
  conversations), ``marketing`` (insights only).
* Passwords: werkzeug's ``generate_password_hash`` default (scrypt).
* Sessions: Flask-Login on Flask's signed cookie (HttpOnly, SameSite=Lax). At
  login the session is cleared and rebuilt (no fixation); the stored user id
  carries a fingerprint of the password hash, so a password reset or a
  disabled account ends every open session.
* Login attempts are limited with bot/ratelimit.py (a table every process
  sees): 5 failures for one login or one client address within 15 minutes of
  the first → 429 with ``Retry-After`` until that window ends.

Use in views::

    from bot.auth import role_required, current_user

    @bp.get("/")
    @role_required("marketing", "admin")
    def index(): ...

CLI: ``flask --app app users --help`` (create, list, set-password, set-role, disable, enable).
"""
from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import sys
from typing import Any, Callable
from urllib.parse import urlsplit

import click
from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.cli import AppGroup
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from bot import audit, ratelimit
from bot.storage import now_iso

__all__ = ["role_required", "current_user", "ROLES", "init_app", "bp", "User"]

logger = logging.getLogger(__name__)

ROLES = ("admin", "operator", "marketing")
ROLE_LABELS = {"admin": "管理者", "operator": "オペレーター", "marketing": "マーケティング"}
STAFF = ("operator", "admin")

FAIL_LIMIT = 5
FAIL_WINDOW = 15 * 60.0  # seconds
MIN_PASSWORD = 10
MAX_PASSWORD = 256
TOO_MANY = "ログインの失敗が続いたため、一時的にログインを制限しています。15分ほど時間をおいてからお試しください。"
BAD_LOGIN = "ログインIDまたはパスワードが違います。"

# Checked against when the login does not exist, so both paths take as long.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))

login_manager = LoginManager()
bp = Blueprint("auth", __name__, url_prefix="/console")


# -- the user -------------------------------------------------------------
class User(UserMixin):
    def __init__(self, row: dict[str, Any]):
        self.row = row
        self.id: int = row["id"]
        self.login: str = row["login"]
        self.role: str = row["role"]
        self.name: str = row.get("display_name") or row["login"]

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.row.get("active", 1))

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def get_id(self) -> str:
        return f"{self.id}.{_fingerprint(self.row['password_hash'])}"


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _storage(storage: Any = None) -> Any:
    return storage or current_app.extensions["ninbai"].storage


def get_user(user_id: int, storage: Any = None) -> dict[str, Any] | None:
    return next(_storage(storage).db.query("select * from users where id = ?", [user_id]), None)


def get_user_by_login(login: str, storage: Any = None) -> dict[str, Any] | None:
    return next(_storage(storage).db.query("select * from users where login = ?", [normalize_login(login)]), None)


def list_users(storage: Any = None) -> list[dict[str, Any]]:
    return list(_storage(storage).db.query("select * from users order by active desc, login"))


def display_name(user_id: int | None, storage: Any = None) -> str:
    row = get_user(user_id, storage) if user_id is not None else None
    return (row["display_name"] or row["login"]) if row else "相談員"


# -- account management (CLI and the admin pages) ----------------------------
def normalize_login(login: str) -> str:
    return (login or "").strip().lower()


def check_login_name(login: str) -> str | None:
    if not (2 <= len(login) <= 64) or not all(c.isalnum() or c in "._-@" for c in login) \
            or not login.isascii():
        return "ログインIDは半角英数字と . _ - @ の2〜64文字にしてください"
    return None


def check_password(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"パスワードは{MIN_PASSWORD}文字以上にしてください"
    if len(password) > MAX_PASSWORD:
        return f"パスワードは{MAX_PASSWORD}文字までです"
    return None


def create_user(login: str, password: str, role: str, name: str | None = None,
                storage: Any = None) -> int:
    """Create an account; raises ``ValueError`` with a Japanese message."""
    login = normalize_login(login)
    problem = check_login_name(login) or check_password(password) or _check_role(role)
    if problem:
        raise ValueError(problem)
    st = _storage(storage)
    if get_user_by_login(login, st):
        raise ValueError(f"ログインID「{login}」はすでに使われています")
    return st.db["users"].insert(
        {
            "login": login,
            "password_hash": generate_password_hash(password),
            "role": role,
            "display_name": (name or "").strip() or login,
            "active": 1,
            "created_at": now_iso(),
        }
    ).last_pk


def set_password(user_id: int, password: str, storage: Any = None) -> None:
    problem = check_password(password)
    if problem:
        raise ValueError(problem)
    _storage(storage).db["users"].update(user_id, {"password_hash": generate_password_hash(password)})


def _check_role(role: str) -> str | None:
    return None if role in ROLES else f"役割は {' / '.join(ROLES)} のいずれかです"


def set_role(user_id: int, role: str, storage: Any = None) -> None:
    """A role (checked by ``forms.UserRoleForm`` and the CLI's choice of ROLES)."""
    _storage(storage).db["users"].update(user_id, {"role": role})


def set_active(user_id: int, active: bool, storage: Any = None) -> None:
    _storage(storage).db["users"].update(user_id, {"active": 1 if active else 0})


def set_display_name(user_id: int, name: str, storage: Any = None) -> None:
    """A display name (checked by ``forms.UserNameForm``)."""
    _storage(storage).db["users"].update(user_id, {"display_name": name})


def active_admin_count(storage: Any = None) -> int:
    return _storage(storage).db.execute(
        "select count(*) from users where role = 'admin' and active = 1"
    ).fetchone()[0]


# -- rate limiting (bot/ratelimit.py: counts shared by every process) ---------------
def _failure_keys(login: str, ip: str | None) -> list[str]:
    keys = [f"login:{normalize_login(login)}"] if login else []
    if ip:
        keys.append(f"login-ip:{ip}")
    return keys


def blocked_for(login: str, ip: str | None, storage: Any = None) -> int:
    """Seconds until this login and address may try again (0: they may now)."""
    db = _storage(storage).db
    return max([ratelimit.peek(db, key, FAIL_LIMIT)[1] for key in _failure_keys(login, ip)], default=0)


def record_failure(login: str, ip: str | None, storage: Any = None) -> None:
    db = _storage(storage).db
    for key in _failure_keys(login, ip):
        ratelimit.hit(db, key, FAIL_LIMIT, FAIL_WINDOW)


def clear_failures(login: str, storage: Any = None) -> None:
    ratelimit.reset(_storage(storage).db, f"login:{normalize_login(login)}")


def authenticate(login: str, password: str, storage: Any = None) -> dict[str, Any] | None:
    row = get_user_by_login(login, storage) if login else None
    if row is None or not row["active"]:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(row["password_hash"], password or ""):
        return None
    return row


# -- request helpers ---------------------------------------------------------
def wants_json() -> bool:
    if "/api/" in request.path or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def is_safe_next(target: str | None) -> bool:
    """Only local absolute paths: ``/console/c/3`` yes; ``//evil``, ``https://…`` no."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _has_route(path: str) -> bool:
    return any(rule.rule == path for rule in current_app.url_map.iter_rules())


def landing_url(user: User) -> str:
    if user.role == "marketing":
        return "/insights/" if _has_route("/insights/") else url_for("console.coming")
    return url_for("console.inbox")


def forbidden(message: str = "このページを開く権限がありません。"):
    if wants_json():
        return jsonify({"error": message}), 403
    return render_template("console/error.html", title="権限がありません", message=message), 403


def unauthorized():
    if wants_json():
        return jsonify({"error": "ログインしてください。"}), 401
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))


def role_required(*roles: str) -> Callable:
    """A view decorator: anonymous → login page (401 JSON for APIs); wrong role → 403.

    ``@role_required()`` with no role lets any signed-in user in.
    """
    allowed = tuple(roles)

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return unauthorized()
            if allowed and current_user.role not in allowed:
                return forbidden()
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed  # for introspection (route × role tests)
        return wrapped

    return decorator


# -- login / logout -----------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
def login():
    from bot.forms import LoginForm  # here: bot.forms imports this module

    form = LoginForm()
    next_url = form.next.data or request.args.get("next", "")
    if not is_safe_next(next_url):
        next_url = ""
    form.next.data = next_url

    def page(error: str | None, status: int, retry_after: int = 0):
        response = current_app.make_response(
            (render_template("console/login.html", title="ログイン", form=form, error=error), status))
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url or landing_url(current_user))
        return page(None, 200)

    valid = form.validate()
    login_name = (form.login.data or "")[:64]
    ip = request.remote_addr
    wait = blocked_for(login_name, ip)
    if wait:
        audit.record("login_blocked", "user", None, {"login": login_name}, login=login_name)
        return page(TOO_MANY, 429, wait)
    if not valid:  # an empty field: said next to it; not a guess, so not counted
        return page(None, 401)
    row = authenticate(login_name, form.password.data)
    if row is None:
        record_failure(login_name, ip)
        audit.record("login_failed", "user", None, {"login": login_name}, login=login_name)
        wait = blocked_for(login_name, ip)
        if wait:
            return page(TOO_MANY, 429, wait)
        return page(BAD_LOGIN, 401)

    # No session fixation: nothing from the anonymous session survives, and
    # the new session carries a fresh random id.
    session.clear()
    user = User(row)
    login_user(user)
    session["sid"] = secrets.token_urlsafe(24)
    session.permanent = False
    clear_failures(login_name)
    _storage().db["users"].update(user.id, {"last_login_at": now_iso()})
    audit.record("login", "user", user.id, user=user)
    return redirect(next_url or landing_url(user))


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        audit.record("logout", "user", current_user.id)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


# -- wiring ---------------------------------------------------------------------
def _load_user(user_id: str) -> User | None:
    try:
        raw_id, fingerprint = user_id.split(".", 1)
        row = get_user(int(raw_id))
    except (ValueError, TypeError):
        return None
    if row is None or not row["active"] or fingerprint != _fingerprint(row["password_hash"]):
        return None
    return User(row)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(unauthorized)
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)
    app.cli.add_command(users_group)


# -- CLI -----------------------------------------------------------------------------
def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("パスワード", hide_input=True, confirmation_prompt="パスワード（確認）")


def _cli_user(login: str) -> dict[str, Any]:
    row = get_user_by_login(login)
    if row is None:
        raise click.ClickException(f"ユーザー「{login}」はいません")
    return row


users_group = AppGroup("users", help="スタッフのアカウント（admin / operator / marketing）")


@users_group.command("create", help="アカウントを作成します")
@click.argument("login")
@click.option("--role", type=click.Choice(ROLES), required=True, help="役割")
@click.option("--name", "name", default=None, help="表示名（例: 山田）")
@click.option("--password-stdin", is_flag=True, help="パスワードを標準入力の1行目から読む")
def users_create(login: str, role: str, name: str | None, password_stdin: bool) -> None:
    password = _read_password(password_stdin)
    try:
        user_id = create_user(login, password, role, name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    audit.record("user_create", "user", user_id, {"login": normalize_login(login), "role": role, "via": "cli"})
    click.echo(f"created {normalize_login(login)} ({role}) id={user_id}")


@users_group.command("list", help="アカウントの一覧")
def users_list() -> None:
    for row in list_users():
        state = "active" if row["active"] else "disabled"
        click.echo(f"{row['id']:>4}  {row['login']:<20} {row['role']:<10} {state:<8} "
                   f"{row['display_name'] or ''}  last_login={row['last_login_at'] or '-'}")


@users_group.command("set-password", help="パスワードを設定し直します（ログイン中のセッションは切れます）")
@click.argument("login")
@click.option("--password-stdin", is_flag=True, help="パスワードを標準入力の1行目から読む")
def users_set_password(login: str, password_stdin: bool) -> None:
    row = _cli_user(login)
    try:
        set_password(row["id"], _read_password(password_stdin))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    audit.record("user_password", "user", row["id"], {"via": "cli"})
    click.echo(f"password set for {row['login']}")


@users_group.command("set-role", help="役割を変更します")
@click.argument("login")
@click.argument("role", type=click.Choice(ROLES))
def users_set_role(login: str, role: str) -> None:
    row = _cli_user(login)
    set_role(row["id"], role)
    audit.record("user_update", "user", row["id"], {"role": role, "via": "cli"})
    click.echo(f"{row['login']} is now {role}")


@users_group.command("disable", help="アカウントを無効にします（ログイン中のセッションも切れます）")
@click.argument("login")
def users_disable(login: str) -> None:
    row = _cli_user(login)
    set_active(row["id"], False)
    audit.record("user_disable", "user", row["id"], {"via": "cli"})
    click.echo(f"disabled {row['login']}")


@users_group.command("enable", help="無効にしたアカウントを戻します")
@click.argument("login")
def users_enable(login: str) -> None:
    row = _cli_user(login)
    set_active(row["id"], True)
    audit.record("user_update", "user", row["id"], {"active": True, "via": "cli"})
    click.echo(f"enabled {row['login']}")
