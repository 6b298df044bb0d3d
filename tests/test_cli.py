"""The flask CLI commands, run through Flask's test runner on a real app."""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from bot import create_app
from tests.conftest import app_config


def test_db_upgrade_is_idempotent(runner, app):
    first = runner.invoke(args=["db", "upgrade"])
    second = runner.invoke(args=["db", "upgrade"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "journal_mode=wal" in second.output
    storage = app.extensions["ninbai"].storage
    applied = storage.db.execute("select count(*) from _sqlite_migrations").fetchone()[0]
    assert str(applied) == first.output.split()[2] == second.output.split()[2]


def test_content_check_passes_on_the_real_content(runner):
    result = runner.invoke(args=["content", "check"])
    assert result.exit_code == 0, result.output
    assert "content OK" in result.output


def test_content_check_fails_on_a_broken_copy(tmp_path, fake_line):
    content = tmp_path / "content"
    shutil.copytree(Path(__file__).resolve().parents[1] / "content", content)
    dialog = yaml.safe_load((content / "dialog.yaml").read_text())
    dialog["states"]["arrears"]["buttons"][0]["label"] = "とても長いボタンのラベルで二十文字を超えています"
    del dialog["states"]["notice"]
    (content / "dialog.yaml").write_text(yaml.safe_dump(dialog, allow_unicode=True))
    app = create_app(app_config(tmp_path, fake_line, CONTENT_DIR=str(content), START_WORKER=False))
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "label" in result.output
    assert "dialog.states.notice" in result.output


def test_line_richmenu_creates_uploads_and_sets_default(runner, fake_line, tmp_path):
    image = tmp_path / "menu.png"
    result = runner.invoke(args=["line", "richmenu", "--save-image", str(image)])
    assert result.exit_code == 0, result.output
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    default = fake_line.default_rich_menu
    assert default and fake_line.rich_menus[default]["hasImage"]
    assert fake_line.errors == []
