"""Logs as JSON lines (issue 15, item 4), still with no personal data."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

from bot.ops.logs import JsonFormatter
from tests.support.server import ROOT


def test_json_lines_from_a_real_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NINBAI_", "LINE_"))}
    env.update(NINBAI_DATABASE=str(tmp_path / "n.db"), NINBAI_SECRET_KEY="x", NINBAI_LOG_FORMAT="json")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert any(r["logger"] == "bot.migrations" and "database migrated" in r["msg"] for r in lines), lines
    assert all({"ts", "level", "logger", "msg", "pid"} <= set(r) for r in lines)


def test_personal_data_is_masked_whatever_logged_it():
    uid = "U" + "0123456789abcdef" * 2
    record = logging.LogRecord("somelib", logging.ERROR, __file__, 1,
                               "failed for %s (mail taro@example.jp, tel 090-1234-5678)", (uid,), None)
    try:
        raise ValueError(f"profile {uid}")
    except ValueError:
        record.exc_info = sys.exc_info()
    out = json.loads(JsonFormatter().format(record))
    text = json.dumps(out, ensure_ascii=False)
    assert uid not in text and "taro@example.jp" not in text and "090-1234-5678" not in text
    assert out["msg"].startswith("failed for U***") and out["level"] == "ERROR"
    assert "ValueError" in out["exc"]
