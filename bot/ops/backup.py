"""Backups that restore: an online, consistent, compressed copy of the database.

* :func:`backup` copies the live database with SQLite's backup API from one
  read transaction (WAL: the bot keeps answering and writing meanwhile; the
  copy is the database as of the moment that transaction began), checks the
  copy (``PRAGMA integrity_check``), gzips it to ``ninbai-<UTC time>.db.gz``
  (written under a temporary name, renamed when complete) and keeps the
  newest ``keep`` files.
* :func:`restore` refuses to replace a database that is in use, checks the
  backup's integrity before anything is replaced, moves the old file aside
  (``<db>.replaced-<time>``), removes its stale ``-wal``/``-shm`` (a leftover
  WAL applied to another file corrupts it) and puts the copy in place.

"In use" is decided the way SQLite itself decides it: every connection to a
WAL database holds a shared lock on one byte of the ``-shm`` file (the
"DMS" byte, offset 128) as long as it is open, in any process, whoever runs
it; a connection that finds it can take that byte exclusively knows it is
the only one. :func:`in_use` tries exactly that (and lets go at once). A
killed process's locks vanish with it, so a crashed server does not block a
restore.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import gzip
import os
import re
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

NAME = re.compile(r"^ninbai-(\d{8}T\d{6}\d{3}Z)\.db\.gz$")
SHM_DMS_BYTE = 128  # SQLite's unix VFS: UNIX_SHM_BASE (120) + SQLITE_SHM_NLOCK (8)


class RestoreRefused(Exception):
    pass


def _stamp(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"


def integrity(path: str | os.PathLike) -> str:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        rows = conn.execute("pragma integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows)


def backup(db_path: str | os.PathLike, out_dir: str | os.PathLike, keep: int = 14) -> Path:
    """Copy ``db_path`` (live) into ``out_dir`` as a gzip file named by time; keep the newest ``keep``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"ninbai-{_stamp()}.db.gz"
    with tempfile.TemporaryDirectory(dir=out, prefix=".backup-") as tmp:
        copy = Path(tmp) / "copy.db"
        src = sqlite3.connect(db_path, timeout=30)  # timeout: SQLite's busy timeout
        dst = sqlite3.connect(copy)
        try:
            # pages=-1: every page in one step, inside one read transaction of the
            # source: a consistent snapshot, never blocking the bot's writers (WAL).
            src.backup(dst, pages=-1)
            dst.execute("pragma journal_mode = delete")  # one self-contained file
        finally:
            dst.close()
            src.close()
        result = integrity(copy)
        if result != "ok":
            raise RuntimeError(f"the copy failed its integrity check: {result[:200]}")
        partial = Path(tmp) / (target.name + ".part")
        with open(copy, "rb") as fin, gzip.open(partial, "wb", compresslevel=6) as fout:
            shutil.copyfileobj(fin, fout, 1024 * 1024)
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, target)
    prune(out, keep)
    return target


def backups(out_dir: str | os.PathLike) -> list[Path]:
    """The backups in ``out_dir``, oldest first."""
    out = Path(out_dir)
    if not out.is_dir():
        return []
    return sorted(p for p in out.iterdir() if NAME.match(p.name))


def prune(out_dir: str | os.PathLike, keep: int) -> list[Path]:
    keep = max(1, int(keep))
    old = backups(out_dir)[:-keep]
    for p in old:
        p.unlink(missing_ok=True)
    return old


def in_use(db_path: str | os.PathLike) -> bool:
    """Whether some connection (any process) has the WAL database open: see the module's doc."""
    shm = Path(str(db_path) + "-shm")
    try:
        fd = os.open(shm, os.O_RDWR)
    except FileNotFoundError:
        return False  # no WAL index: no WAL connection
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, SHM_DMS_BYTE)
        except OSError:
            return True
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, SHM_DMS_BYTE)
        return False
    finally:
        os.close(fd)


def restore(backup_file: str | os.PathLike, db_path: str | os.PathLike) -> dict:
    """Put ``backup_file`` (``.db.gz`` or a plain ``.db``) in place of ``db_path``."""
    started = time.perf_counter()
    db = Path(db_path)
    if in_use(db):
        raise RestoreRefused(f"{db} is in use by a running process: stop the service first")
    db.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=db.parent, prefix=".restore-", suffix=".db")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fout:
            opener = gzip.open if str(backup_file).endswith(".gz") else open
            with opener(backup_file, "rb") as fin:
                shutil.copyfileobj(fin, fout, 1024 * 1024)
            fout.flush()
            os.fsync(fout.fileno())
        try:
            result = integrity(tmp)
        except sqlite3.DatabaseError as exc:  # not a database at all (truncated, another file)
            result = str(exc)
        if result != "ok":
            raise RestoreRefused(f"the backup failed its integrity check: {result[:200]}")
        if in_use(db):  # checked again right before the switch
            raise RestoreRefused(f"{db} is in use by a running process: stop the service first")
        moved = None
        if db.exists():
            # The restored file keeps the old one's owner and mode (a restore run as
            # root must not leave a file the service cannot write); a new one stays 0600.
            old = db.stat()
            os.chmod(tmp, old.st_mode & 0o777)
            try:
                os.chown(tmp, old.st_uid, old.st_gid)
            except PermissionError:
                pass
            moved = db.with_name(f"{db.name}.replaced-{_stamp()}")
            os.replace(db, moved)
        for suffix in ("-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        os.replace(tmp, db)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return {"database": str(db), "replaced": str(moved) if moved else None,
            "integrity": "ok", "seconds": round(time.perf_counter() - started, 3)}
