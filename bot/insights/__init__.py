"""Marketing insights (/insights): transcripts, search, the funnel, exports, retention.

``init_app(app)`` wires everything in:

* the blueprint ``bp`` (``/insights/``, ``/insights/c/<id>``, ``/insights/funnel``,
  ``/insights/export/<kind>.<fmt>``) for the ``marketing`` and ``admin`` roles —
  personal data is redacted for marketing everywhere (pages, search, exports);
* an engine hook recording the funnel (:mod:`bot.insights.funnel`);
* the homeowner's data-deletion request and the feedback buttons are the
  conversation's own steps (:mod:`dialogs.conversation`, run by the engine);
  their storage side is :func:`bot.insights.privacy.forget_contact` and
  :func:`bot.insights.funnel.add_event`;
* after each console POST, the satisfaction question for conversations just closed;
* an engine hook writing the redacted copy marketing reads and searches
  (:mod:`bot.insights.masked`);
* the CLI: ``flask --app app data purge [--days N]``, ``data feedback`` and
  ``insights redact-backfill [--rebuild]``.
"""
from __future__ import annotations

import functools
import logging

import click
from flask import Blueprint, Flask, current_app, request
from flask.cli import AppGroup

from bot.cli import data_group

logger = logging.getLogger(__name__)

bp = Blueprint("insights", __name__, url_prefix="/insights")


def init_app(app: Flask) -> None:
    from bot.insights import feedback, funnel, masked, privacy, views  # noqa: F401  (views: routes on bp)

    app.config.setdefault("RETENTION_DAYS", privacy.DEFAULT_RETENTION_DAYS)
    app.register_blueprint(bp)
    services = app.extensions["ninbai"]
    engine = services.engine
    storage = services.storage

    engine.hooks.append(functools.partial(funnel.record_conversation, storage))
    masked.renew_if_rules_changed(storage)
    engine.hooks.append(masked.hook(storage))  # the redacted copy marketing reads and searches

    @app.after_request
    def _feedback_after_close(response):
        if (request.method == "POST" and request.path.startswith("/console")
                and response.status_code < 400):
            try:
                if feedback.sweep(engine):
                    services.notify()
            except Exception:  # noqa: BLE001 — never break the console's answer
                logger.exception("feedback sweep failed")
        return response

    app.cli.add_command(insights_group)


@data_group.command("purge", help="保持期間を過ぎた会話（メッセージ・メモ・通知・送信記録）を削除します")
@click.option("--days", type=int, default=None,
              help="この日数より長く動きのない会話を削除（既定: NINBAI_RETENTION_DAYS、365）")
def data_purge(days: int | None) -> None:
    from bot import audit
    from bot.insights.privacy import purge

    days = int(days if days is not None else current_app.config["RETENTION_DAYS"])
    if days < 1:
        raise click.ClickException("--days は1以上にしてください")
    storage = current_app.extensions["ninbai"].storage
    totals = purge(storage, days)
    audit.record("purge", "data", None, {"days": days, **totals}, login="cli", storage=storage)
    click.echo(f"purged (older than {days} days): " + ", ".join(f"{k}={v}" for k, v in totals.items()))


@data_group.command("feedback", help="終了した有人対応の会話に満足度の質問を送ります（未送信のもの）")
def data_feedback() -> None:
    from bot.insights.feedback import sweep

    services = current_app.extensions["ninbai"]
    click.echo(f"feedback questions sent: {sweep(services.engine)}")


insights_group = AppGroup("insights", help="マーケティング用の伏せ字コピー")


@insights_group.command("redact-backfill",
                        help="伏せ字コピーのないメッセージを処理します（--rebuild: すべて作り直し）")
@click.option("--rebuild", is_flag=True, help="伏せ字の規則を変えたあと: すべてのコピーを作り直します")
def redact_backfill(rebuild: bool) -> None:
    import time

    from bot.insights import masked

    storage = current_app.extensions["ninbai"].storage
    t = time.process_time()
    n = masked.rebuild(storage) if rebuild else masked.backfill(storage)
    cpu = time.process_time() - t
    click.echo(f"redacted copies written: {n} ({cpu * 1000 / max(n, 1):.2f} ms CPU each)")
