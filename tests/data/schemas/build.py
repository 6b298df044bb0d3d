"""Rebuild the upgrade-test fixtures from the git history (run from the repository root).

    .venv/bin/python tests/data/schemas/build.py

For each commit that introduced a schema version, the ``bot/migrations.py`` of that
commit builds a database, a few rows of a typical conversation go in, and the file is
stored gzipped as ``<label>.db.gz``. ``tests/test_migrations.py`` upgrades each one
with today's migrations.
"""
from __future__ import annotations

import gzip
import importlib.util
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import sqlite_utils

HERE = Path(__file__).resolve().parent
#: label → the commit whose migrations built that schema
VERSIONS = {
    "v2-core-staff": "ae04d57",  # m001_core, m002_staff
    "v3-insights": "f17772c",  # + m003_insights (as version 3)
    "v4-fts-user-messages": "249efa0",  # + m004_fts_user_messages registered before m003_insights
}

ROWS = [
    "insert into contacts (id, channel, external_id, display_name, created_at) "
    "values (1, 'line', 'U00000000000000000000000000000001', 'テスト', '2026-11-27T10:00:00+09:00')",
    "insert into conversations (id, contact_id, channel, state, data, status, created_at, updated_at) "
    "values (1, 1, 'line', 'arrears', '{}', 'bot', '2026-11-27T10:00:00+09:00', '2026-11-27T10:01:00+09:00')",
    "insert into messages (id, conversation_id, contact_id, direction, kind, text, created_at) "
    "values (1, 1, 1, 'in', 'text', '3か月滞納しています', '2026-11-27T10:00:30+09:00')",
    "insert into messages (id, conversation_id, contact_id, direction, kind, text, created_at) "
    "values (2, 1, 1, 'out', 'text', 'お知らせいただきありがとうございます', '2026-11-27T10:00:31+09:00')",
]


def build(label: str, commit: str, out_dir: Path) -> Path:
    source = subprocess.run(["git", "show", f"{commit}:bot/migrations.py"], check=True,
                            capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        module_path = Path(tmp) / f"migrations_{commit}.py"
        module_path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(module_path.stem, module_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        db_path = Path(tmp) / "old.db"
        conn = sqlite3.connect(db_path, isolation_level=None)
        db = sqlite_utils.Database(conn)
        module.migrate(db)
        for sql in ROWS:
            db.execute(sql)
        db.execute("vacuum")
        conn.close()
        target = out_dir / f"{label}.db.gz"
        target.write_bytes(gzip.compress(db_path.read_bytes(), mtime=0))
        return target


if __name__ == "__main__":
    for label, commit in VERSIONS.items():
        path = build(label, commit, HERE)
        print(f"{path.name}: {path.stat().st_size} bytes (from {commit})", file=sys.stderr)
