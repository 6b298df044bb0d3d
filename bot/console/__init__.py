"""The operator console at ``/console`` (Japanese, for staff).

``init_app(app)`` registers the blueprint, the alert hook (``Engine.hooks``)
and the out-of-hours note (``Engine.answer_filters``). Call it after
``bot.auth.init_app(app)``.

Config (``NINBAI_`` environment variables):

* ``ALERT_LINE_USER_IDS`` — LINE user ids of staff to push alerts to (comma-separated)
* ``ALERT_WEBHOOK_URL`` — Slack / Teams incoming webhook URL (``{"text": …}``)
* ``ALERT_WEBHOOK_TIMEOUT`` — seconds (default 5)
* ``PUBLIC_URL`` — e.g. ``https://bot.example.jp``, for links in alerts
* ``BUSINESS_HOURS`` — ``"09:00-18:00"`` (JST; weekdays, no public holidays, not 12/29–1/3)
* ``CONSOLE_POLL_MS`` — the console's polling interval (default 2500)

Follow-ups fall due by the console's clock; an overdue one raises its alert
on the next console poll, or from cron: ``flask --app app console followups``.
"""
from __future__ import annotations

import functools
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from bot.console import contacts
from bot.console.views import bp
from bot.storage import now_iso

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    from bot.console import hours
    from bot.console.alerts import Alerts

    app.config.setdefault("BUSINESS_HOURS", hours.DEFAULT_HOURS)
    app.config.setdefault("CONSOLE_POLL_MS", 2500)
    app.register_blueprint(bp)
    app.cli.add_command(console_cli)
    services = app.extensions["ninbai"]
    alerts = Alerts(
        services.storage,
        services.line,
        line_user_ids=app.config.get("ALERT_LINE_USER_IDS"),
        webhook_url=app.config.get("ALERT_WEBHOOK_URL"),
        public_url=app.config.get("PUBLIC_URL"),
        timeout=float(app.config.get("ALERT_WEBHOOK_TIMEOUT", 5.0)),
    )
    services.extra["alerts"] = alerts
    services.engine.hooks.append(alerts.hook)
    # Overdue follow-ups raise their alert from the event worker too, not only from
    # the console's polls: nobody needs to have the console open.
    services.worker.periodic.append(Every(float(app.config.get("FOLLOWUP_CHECK_SECONDS", 30)),
                                          alerts.raise_overdue))
    business_hours = hours.parse_hours(app.config["BUSINESS_HOURS"])
    clock = app.config.get("CONSOLE_CLOCK") or hours.now_jst
    services.extra["console_clock"] = clock
    services.engine.answer_filters.append(
        hours.make_answer_filter(business_hours, clock, services.storage))
    services.engine.hooks.append(hours.make_lead_hook(business_hours, services.storage, clock))
    services.engine.hooks.append(functools.partial(contacts.hook, storage=services.storage))
    if services.content is not None:
        seed_canned(services.storage, services.content)


class Every:
    """A worker task (its heartbeat, a periodic one) that runs ``fn`` at most every ``seconds``."""

    def __init__(self, seconds: float, fn):
        self.seconds, self.fn, self.last = seconds, fn, 0.0

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self.last >= self.seconds:
            self.last = now
            self.fn()


def seed_canned(storage, content) -> int:
    """The 定型文 shipped in ``content/console.yaml``, written once into a new
    database (admins edit them afterwards; deleting them all does not bring them back)."""
    db = storage.db
    if db.execute("select 1 from meta where key = 'console_canned_seeded'").fetchone():
        return 0
    items = content.get("console.canned", []) or []
    with storage.write() as w:
        if w.execute("select 1 from meta where key = 'console_canned_seeded'").fetchone():
            return 0
        empty = not w.execute("select 1 from canned_replies limit 1").fetchone()
        for position, item in enumerate(items if empty else [], start=1):
            w.execute("insert into canned_replies (title, text, position, updated_at)"
                      " values (?, ?, ?, ?)", [item["title"], item["text"], position * 10, now_iso()])
        w.execute("insert into meta (key, value) values ('console_canned_seeded', ?)", [now_iso()])
    return len(items) if empty else 0


console_cli = AppGroup("console", help="オペレーターコンソール")


@console_cli.command("followups", help="期限を過ぎた連絡の予定を通知します（cronで数分ごとに実行）")
def followups_command() -> None:
    extra = current_app.extensions["ninbai"].extra
    raised = extra["alerts"].raise_overdue(extra["console_clock"]())
    extra["alerts"].join()
    click.echo(f"期限切れの連絡予定: {len(raised)}件を通知しました")
