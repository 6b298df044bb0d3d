"""Schema migrations (sqlite-utils ``Migrations``): fresh files, and every earlier schema on main.

The fixtures in tests/data/schemas/ were built by the migrations of the commits that
introduced each schema version (tests/data/schemas/build.py rebuilds them from git).
"""
from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from bot import migrations

FIXTURES = sorted((Path(__file__).parent / "data" / "schemas").glob("*.db.gz"))
IN_FILE_ORDER = ["m001_core", "m002_staff", "m003_fts_user_messages", "m004_insights", "m005_console_followups",
                 "m006_redacted_copy", "m007_status_in_code", "m008_rate_limits", "m009_compact_storage"]


def open_db(path: Path) -> sqlite_utils.Database:
    return sqlite_utils.Database(sqlite3.connect(path, isolation_level=None))


def schema(db: sqlite_utils.Database) -> set[tuple[str, str, str]]:
    """(type, name, SQL with white space folded) of everything but the bookkeeping tables."""
    rows = db.execute("select type, name, sql from sqlite_master where sql is not null").fetchall()
    return {(t, n, " ".join(sql.split())) for t, n, sql in rows
            if not n.startswith("_sqlite_migrations")}


STATUS_TRIGGERS = {"funnel_assigned", "funnel_closed"}


def triggers(db: sqlite_utils.Database) -> set[str]:
    return {r[0] for r in db.execute("select name from sqlite_master where type = 'trigger'")}


def tables_before(fixture: Path) -> set[str]:
    conn = sqlite3.connect(":memory:")
    conn.deserialize(gzip.decompress(fixture.read_bytes()))
    return {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}


def applied(db: sqlite_utils.Database) -> list[str]:
    return [r[0] for r in db.execute("select name from _sqlite_migrations order by id")]


@pytest.fixture
def fresh(tmp_path) -> sqlite_utils.Database:
    db = open_db(tmp_path / "fresh.db")
    migrations.migrate(db)
    return db


def test_the_migrations_run_in_file_order_and_only_once(fresh):
    assert [m.name for m in migrations.MIGRATIONS.pending(sqlite_utils.Database(memory=True))] == IN_FILE_ORDER
    assert applied(fresh) == IN_FILE_ORDER
    assert migrations.migrate(fresh) == len(IN_FILE_ORDER)
    assert applied(fresh) == IN_FILE_ORDER and migrations.pending(fresh) == []


def test_there_is_a_fixture_for_every_earlier_schema_version():
    assert [p.name for p in FIXTURES] == ["v2-core-staff.db.gz", "v3-insights.db.gz", "v4-fts-user-messages.db.gz"]


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name.removesuffix(".db.gz"))
def test_every_earlier_schema_upgrades_to_todays(fixture, tmp_path, fresh):
    path = tmp_path / "old.db"
    path.write_bytes(gzip.decompress(fixture.read_bytes()))
    db = open_db(path)
    assert "_sqlite_migrations" not in db.table_names()
    before = {n: db[n].count for n in ("contacts", "conversations", "messages")}
    had_status_triggers = triggers(db) & STATUS_TRIGGERS

    assert migrations.migrate(db) == len(IN_FILE_ORDER)
    assert sorted(applied(db)) == sorted(IN_FILE_ORDER)
    assert migrations.pending(db) == []
    assert schema(db) == schema(fresh)
    assert {n: db[n].count for n in before} == before
    # search indexes what the user wrote, not the bot's answers (m003_fts_user_messages)
    hits = db.execute("select rowid from messages_fts where messages_fts match ?", ['"滞納して"']).fetchall()
    assert hits == [(1,)]
    assert db.execute("select count(*) from messages_fts where messages_fts match ?",
                      ['"ありがとう"']).fetchone()[0] == 0
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    # no status logic in triggers any more (m007_status_in_code); the insights schema had them
    assert triggers(db) & STATUS_TRIGGERS == set()
    assert had_status_triggers == (STATUS_TRIGGERS if "funnel_daily" in tables_before(fixture) else set())


def test_the_v3_database_gets_the_fts_migration_a_version_number_would_skip(tmp_path):
    """Version 3 meant m003_insights for databases made on 2026-11-27 before the FTS
    change, and m004_fts_user_messages after it: the schema, not the number, decides."""
    (v3,) = [p for p in FIXTURES if p.name.startswith("v3-")]
    path = tmp_path / "v3.db"
    path.write_bytes(gzip.decompress(v3.read_bytes()))
    db = open_db(path)
    assert db.execute("select value from meta where key = 'schema_version'").fetchone()[0] == "3"
    assert migrations.pending(db) == ["m003_fts_user_messages", *IN_FILE_ORDER[4:]]


def test_a_status_change_in_sql_records_no_funnel_step(fresh):
    """m007_status_in_code: the funnel steps come from the status machine, not from triggers."""
    fresh.execute("insert into contacts (channel, external_id) values ('web', 'v1')")
    fresh.execute("insert into conversations (contact_id, channel, status, created_at)"
                  " values (1, 'web', 'bot', '2026-03-02T01:00:00+00:00')")
    fresh.execute("update conversations set status = 'operator', owner_id = 1")
    fresh.execute("update conversations set status = 'closed', owner_id = null")
    assert fresh.execute("select count(*) from funnel_events").fetchone()[0] == 0


def test_a_failing_migration_leaves_nothing_behind(tmp_path, monkeypatch):
    db = open_db(tmp_path / "x.db")

    def broken(db):
        db.execute("create table half_done (id integer)")
        raise RuntimeError("disk full")

    monkeypatch.setattr(migrations.MIGRATIONS._migrations[1], "fn", broken)
    with pytest.raises(RuntimeError):
        migrations.migrate(db)
    assert db.table_names() == []  # m001 was rolled back too: all or nothing
    monkeypatch.undo()
    assert migrations.migrate(db) == len(IN_FILE_ORDER)


def test_m008_replaces_login_failures_with_rate_limits(tmp_path):
    """A database as main made it before m008 (m001–m006 through Migrations) gets the shared limiter's table."""
    db = open_db(tmp_path / "before-m008.db")
    migrations.MIGRATIONS.apply(db, stop_before="m008_rate_limits")
    db.execute("insert into login_failures (key, at) values ('login:op1', 1.0)")
    assert migrations.pending(db) == IN_FILE_ORDER[IN_FILE_ORDER.index("m008_rate_limits"):]
    assert migrations.migrate(db) == len(IN_FILE_ORDER)
    tables = db.table_names()
    assert "rate_limits" in tables and "login_failures" not in tables
    assert db.execute("select sql from sqlite_master where name = 'rate_limits'").fetchone()[0].endswith(
        "without rowid")
    assert [r[1] for r in db.execute("pragma index_list(rate_limits)")].count("rate_limits_ends_at") == 1
