"""Flask CLI commands: ``db upgrade``, ``content check``, ``line richmenu``; the ``data`` group
whose commands bot/insights (``purge``, ``feedback``) and bot/ops (``backup``, ``restore``) add."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(content_group)
    app.cli.add_command(line_group)
    app.cli.add_command(data_group)


data_group = AppGroup("data", help="データの保持期間・削除・バックアップと復元")
db_group = AppGroup("db", help="データベース")
content_group = AppGroup("content", help="コンテンツ")
line_group = AppGroup("line", help="LINE公式アカウントの設定")


@db_group.command("upgrade", help="スキーマを最新にします（何度実行しても安全）")
def db_upgrade() -> None:
    storage = current_app.extensions["ninbai"].storage
    version = storage.migrate()
    click.echo(f"schema version {version} ({storage.path}, journal_mode={storage.journal_mode()})")


@content_group.command("check", help="content/ の必須キーとLINEの上限を検査します")
def content_check() -> None:
    from bot.content import check_content

    from bot.insights import feedback, privacy

    services = current_app.extensions["ninbai"]
    keys = set(getattr(services.dialog, "content_keys", lambda: set())())
    keys |= feedback.CONTENT_KEYS | privacy.CONTENT_KEYS
    problems = check_content(services.content, keys)
    for p in problems:
        click.echo(f"NG: {p}")
    if problems:
        click.echo(f"{len(problems)} problem(s)")
        sys.exit(1)
    click.echo(f"content OK ({len(keys)} keys used by the dialog)")


@line_group.command("richmenu", help="リッチメニューを作成・画像登録・デフォルト設定します")
@click.option("--save-image", type=click.Path(dir_okay=False), help="画像をファイルにも保存")
def line_richmenu(save_image: str | None) -> None:
    from bot.channels.richmenu import render_image, setup_rich_menu

    services = current_app.extensions["ninbai"]
    image = render_image()
    if save_image:
        with open(save_image, "wb") as fh:
            fh.write(image)
    if services.line is None:
        click.echo("LINE_CHANNEL_SECRET / LINE_CHANNEL_ACCESS_TOKEN が未設定です", err=True)
        sys.exit(2)
    rich_menu_id = setup_rich_menu(services.line.api, services.line.blob, image,
                                   timeout=float(current_app.config["LINE_TIMEOUT"]))
    click.echo(f"rich menu {rich_menu_id} set as default")
